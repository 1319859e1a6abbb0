output "document_name" {
  description = "Name of the patch-run Automation document (<prefix>-PatchRun)."
  value       = aws_ssm_document.patch_run.name
}

output "document_arn" {
  description = "ARN of the patch-run Automation document."
  value       = aws_ssm_document.patch_run.arn
}

output "automation_definition_arn" {
  description = "ARN EventBridge (or anyone) uses to start the default version of the patch run."
  value       = local.automation_definition_arn
}

output "automation_role_arn" {
  description = "ARN of the least-privilege role SSM Automation assumes for the patch run (pass it as AutomationAssumeRole when starting a run by hand)."
  value       = aws_iam_role.automation.arn
}

output "events_role_arn" {
  description = "ARN of the role EventBridge assumes to start the patch run."
  value       = aws_iam_role.events.arn
}

output "schedule_rule_arns" {
  description = "Map of patch group to the ARN of the EventBridge rule that starts its patch run."
  value       = { for g, r in aws_cloudwatch_event_rule.patch_run : g => r.arn }
}

output "schedules" {
  description = "Map of patch group to its schedule expression."
  value       = local.schedules
}
