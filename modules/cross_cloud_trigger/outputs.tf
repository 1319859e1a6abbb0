output "rule_arn" {
  description = "ARN of the EventBridge schedule rule that starts the Azure tag enforcement."
  value       = aws_cloudwatch_event_rule.schedule.arn
}

output "api_destination_arn" {
  description = "ARN of the API destination pointing at the Function's HTTP trigger."
  value       = aws_cloudwatch_event_api_destination.function.arn
}

output "connection_arn" {
  description = "ARN of the EventBridge connection holding the function key."
  value       = aws_cloudwatch_event_connection.function.arn
}

output "connection_secret_arn" {
  description = "ARN of the Secrets Manager secret in which EventBridge keeps the function key."
  value       = aws_cloudwatch_event_connection.function.secret_arn
}

output "dead_letter_queue_arn" {
  description = "ARN of the SQS dead-letter queue of runs EventBridge could not start (alarm on its depth)."
  value       = aws_sqs_queue.dlq.arn
}

output "role_arn" {
  description = "ARN of the role EventBridge assumes to call the API destination."
  value       = aws_iam_role.invoke.arn
}
