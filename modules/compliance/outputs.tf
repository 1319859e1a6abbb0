output "config_rule_names" {
  description = "Map of rule (\"patch\", \"association\") to the name of its AWS Config rule."
  value       = { for k, r in aws_config_config_rule.this : k => r.name }
}

output "config_rule_arns" {
  description = "Map of rule (\"patch\", \"association\") to the ARN of its AWS Config rule."
  value       = { for k, r in aws_config_config_rule.this : k => r.arn }
}

output "topic_arn" {
  description = "ARN of the KMS-encrypted SNS topic that receives NON_COMPLIANT changes; subscribe operators or the central topic to it."
  value       = aws_sns_topic.alerts.arn
}

output "topic_kms_key_arn" {
  description = "ARN of the KMS key encrypting the topic (created or given); subscribers such as SQS queues need kms:Decrypt on it."
  value       = local.sns_kms_key_arn
}

output "event_rule_arn" {
  description = "ARN of the EventBridge rule matching Config Rules Compliance Change to NON_COMPLIANT."
  value       = aws_cloudwatch_event_rule.non_compliant.arn
}

output "remediation_document_names" {
  description = "Map of rule to the name of its remediation Automation document."
  value       = { for k, d in aws_ssm_document.remediation : k => d.name }
}

output "remediation_role_arn" {
  description = "ARN of the Automation assume role the remediations run with."
  value       = aws_iam_role.remediation.arn
}

output "recorder_name" {
  description = "Name of the configuration recorder created by this module, or null when the existing recorder is used."
  value       = try(aws_config_configuration_recorder.this[0].name, null)
}

output "recorder_role_arn" {
  description = "ARN of the configuration recorder role created by this module, or null."
  value       = try(aws_iam_role.config[0].arn, null)
}

output "skipped_rules" {
  description = "Rules asked for (var.rules) that AWS Config does not offer in this Region (var.rule_unavailable_regions) and that were therefore not created here."
  value       = local.skipped_rules
}

output "notified_rule_names" {
  description = "Names of the Config rules whose NON_COMPLIANT changes the EventBridge rule matches: every selected rule, skipped ones included (never empty, so an event pattern built from it stays valid)."
  value       = [for r in local.selected_rules : r.rule_name]
}

output "delivery_kms_key_policy_statements" {
  description = "JSON list of the key policy statements the delivery key (delivery_kms_key_arn) needs so AWS Config can deliver with it: the recorder role, and config.amazonaws.com with AWS:SourceAccount = this account (Config retries as the service principal when delivery as the role fails; https://docs.aws.amazon.com/config/latest/developerguide/s3-kms-key-policy.html). The module does not own that key: add them to its policy. \"[]\" without a created recorder or a delivery key."
  value       = local.delivery_kms_key_policy_statements
}

output "delivery_kms_key_arn" {
  description = "KMS key the created delivery channel encrypts delivered objects with (s3KmsKeyArn), or null (no recorder created, or the bucket's default encryption)."
  value       = try(aws_config_delivery_channel.this[0].s3_kms_key_arn, null)
}
