output "document_name" {
  description = "Name of the scan Automation document (<prefix>-PatchScan)."
  value       = aws_ssm_document.scan.name
}

output "document_arn" {
  description = "ARN of the scan Automation document."
  value       = aws_ssm_document.scan.arn
}

output "automation_definition_arn" {
  description = "ARN EventBridge (or anyone) uses to start the default version of the scan."
  value       = local.automation_definition_arn
}

output "automation_role_arn" {
  description = "ARN of the role SSM Automation assumes for the scan (pass it as AutomationAssumeRole when starting a scan by hand)."
  value       = aws_iam_role.automation.arn
}

output "events_role_arn" {
  description = "ARN of the role EventBridge assumes to start the scan."
  value       = aws_iam_role.events.arn
}

output "schedule_rule_arns" {
  description = "Map of patch group to the ARN of the EventBridge rule that starts its scan."
  value       = { for g, r in aws_cloudwatch_event_rule.scan : g => r.arn }
}
