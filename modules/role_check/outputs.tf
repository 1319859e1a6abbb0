output "function_name" {
  description = "Name of the role-check Lambda function."
  value       = aws_lambda_function.this.function_name
}

output "function_arn" {
  description = "ARN of the role-check Lambda function (invoke it with {\"instance_ids\": [...]} to check given instances)."
  value       = aws_lambda_function.this.arn
}

output "function_role_arn" {
  description = "ARN of the function's execution role."
  value       = aws_iam_role.function.arn
}

output "ssm_instance_profile_name" {
  description = "Name of the SSM instance profile associated with instances that have none."
  value       = aws_iam_instance_profile.ssm.name
}

output "ssm_instance_profile_arn" {
  description = "ARN of the SSM instance profile."
  value       = aws_iam_instance_profile.ssm.arn
}

output "ssm_role_name" {
  description = "Name of the SSM instance role (in the SSM instance profile; also added to profiles that have no role)."
  value       = aws_iam_role.ssm_instance.name
}

output "ssm_role_arn" {
  description = "ARN of the SSM instance role."
  value       = aws_iam_role.ssm_instance.arn
}

output "dead_letter_queue_arn" {
  description = "ARN of the SQS dead-letter queue of failed asynchronous invocations."
  value       = aws_sqs_queue.dlq.arn
}

output "log_group_name" {
  description = "Name of the function's CloudWatch log group (one JSON summary per invocation)."
  value       = aws_cloudwatch_log_group.function.name
}

output "state_change_rule_arn" {
  description = "ARN of the EventBridge rule on EC2 Instance State-change Notification (pending, running)."
  value       = aws_cloudwatch_event_rule.state_change.arn
}

output "sweep_rule_arn" {
  description = "ARN of the EventBridge schedule rule of the sweep."
  value       = aws_cloudwatch_event_rule.sweep.arn
}

output "alarm_arns" {
  description = "Map of alarm purpose (errors, failed_instances, dead_letters) to CloudWatch alarm ARN."
  value = {
    errors           = aws_cloudwatch_metric_alarm.errors.arn
    failed_instances = aws_cloudwatch_metric_alarm.failed_instances.arn
    dead_letters     = aws_cloudwatch_metric_alarm.dead_letters.arn
  }
}
