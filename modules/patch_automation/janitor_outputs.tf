output "janitor_document_name" {
  description = "Name of the patch janitor Automation document (<prefix>-PatchJanitor); null when janitor_enabled is false."
  value       = one(aws_ssm_document.janitor[*].name)
}

output "janitor_role_arn" {
  description = "ARN of the role SSM Automation assumes for the janitor (StopInstances and DeleteTags of the marker only on marked instances of the patch groups); null when disabled."
  value       = one(aws_iam_role.janitor[*].arn)
}

output "janitor_rule_arn" {
  description = "ARN of the EventBridge rule that starts the janitor on janitor_schedule_expression; null when disabled."
  value       = one(aws_cloudwatch_event_rule.janitor[*].arn)
}

output "janitor_grace_period_seconds" {
  description = "Seconds a non-terminal patch run keeps its markers before the janitor treats them as left behind (janitor_grace_period_seconds or the patch run's maximum run time)."
  value       = local.janitor_grace_period_seconds
}

output "patch_run_max_run_seconds" {
  description = "The patch run's maximum run time in seconds, from its document: every step's timeout times its attempts plus the two-minute onCancel limit (member_region's schedule check uses it)."
  value       = local.patch_run_max_run_seconds
}

output "metrics_namespace" {
  description = "CloudWatch namespace of the janitor metrics and the patch run's SkippedInstances metric."
  value       = var.janitor_metrics_namespace
}

output "alarm_arns" {
  description = "Map of alarm name to ARN: the janitor's errors and orphans alarms and one skipped-instances alarm per patch group."
  value = merge(
    { for k, a in aws_cloudwatch_metric_alarm.janitor : a.alarm_name => a.arn },
    { for k, a in aws_cloudwatch_metric_alarm.skipped_instances : a.alarm_name => a.arn },
  )
}
