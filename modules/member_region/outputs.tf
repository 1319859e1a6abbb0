output "name_prefix" {
  description = "Prefix of every name in this account and Region."
  value       = var.name_prefix
}

output "region" {
  description = "Region this composition runs in (the aws provider's Region)."
  value       = local.region
}

output "patch_baseline_bucket" {
  description = "Name of the patch-baseline log bucket (AWS-RunPatchBaseline scan, patch run and remediation output)."
  value       = module.log_buckets.patch_baseline_bucket
}

output "inventory_bucket" {
  description = "Name of the inventory log bucket (AWS-GatherSoftwareInventory output)."
  value       = module.log_buckets.inventory_bucket
}

output "log_bucket_arns" {
  description = "Map of log bucket purpose (\"patch-baseline-logs\", \"inventory\") to bucket ARN: grant the managed nodes' instance profile s3:PutObject on <arn>/*."
  value       = module.log_buckets.bucket_arns
}

output "patch_groups" {
  description = "Map of patch group name to { baseline_id, operating_system, resource_group_arn }."
  value       = module.patch_baselines.patch_groups
}

output "patch_group_tag_key" {
  description = "Tag key that puts a managed node into a patch group."
  value       = module.patch_baselines.patch_group_tag_key
}

output "inventory_association_id" {
  description = "ID of the AWS-GatherSoftwareInventory association."
  value       = module.inventory.association_id
}

output "central_sync_key_prefix" {
  description = "Key prefix this account's Resource Data Sync writes under in the central bucket: <central_sync_prefix>/<account id> (the account id alone for the bucket root)."
  value       = local.central_sync_key_prefix
}

output "resource_data_sync_name" {
  description = "Name of the Resource Data Sync to the central bucket."
  value       = module.inventory.sync_name
}

output "scan_document_name" {
  description = "Name of the scan Automation document."
  value       = module.scan.document_name
}

output "scan_schedule_rule_arns" {
  description = "Map of patch group to the ARN of the EventBridge rule that starts its weekly scan."
  value       = module.scan.schedule_rule_arns
}

output "patch_document_name" {
  description = "Name of the patch-run Automation document."
  value       = module.patch_automation.document_name
}

output "patch_automation_role_arn" {
  description = "ARN of the Automation assume role of the patch run (AutomationAssumeRole when starting a run by hand)."
  value       = module.patch_automation.automation_role_arn
}

output "patch_schedules" {
  description = "Map of patch group to the schedule expression of its patch run."
  value       = module.patch_automation.schedules
}

output "config_rule_names" {
  description = "Map of rule (\"patch\", \"association\") to the name of its AWS Config rule."
  value       = module.compliance.config_rule_names
}

output "compliance_topic_arn" {
  description = "ARN of this Region's KMS-encrypted SNS topic receiving NON_COMPLIANT changes."
  value       = module.compliance.topic_arn
}

output "forward_rule_arn" {
  description = "ARN of the EventBridge rule forwarding NON_COMPLIANT changes to the security account's event bus, or null when central_event_bus_arn is null."
  value       = try(aws_cloudwatch_event_rule.forward_non_compliant[0].arn, null)
}

output "aggregate_authorization_arn" {
  description = "ARN of the AWS Config aggregate authorization for the security account, or null when config_aggregator_account_id is null."
  value       = try(aws_config_aggregate_authorization.central[0].arn, null)
}

output "config_delivery_bucket_name" {
  description = "Bucket of the AWS Config delivery channel created here, or null when create_config_recorder is false."
  value       = local.config_delivery_bucket_name
}

output "role_check_function_name" {
  description = "Name of the role-check Lambda function, or null when role_check_enabled is false."
  value       = try(module.role_check[0].function_name, null)
}

output "ssm_instance_profile_name" {
  description = "Name of the SSM instance profile the role check associates with instances that have none (null without the role check)."
  value       = try(module.role_check[0].ssm_instance_profile_name, null)
}

output "managed_node_log_policy_arn" {
  description = "ARN of the IAM policy letting managed nodes upload command output to the log buckets; attached to the role-check SSM role, attach it to your own instance roles (or a hybrid activation's service role) too. Spelled out from the policy's name so it is known at plan time (usable in for_each)."
  value       = "arn:${local.partition}:iam::${local.account_id}:policy${aws_iam_policy.managed_node_logs.path}${aws_iam_policy.managed_node_logs.name}"
}

output "patch_schedule_rule_arns" {
  description = "Map of patch group to the ARN of the EventBridge rule that starts its patch run."
  value       = module.patch_automation.schedule_rule_arns
}

output "role_check_rule_arns" {
  description = "ARNs of the EventBridge rules that invoke the role check: state_change (EC2 instance state changes) and sweep (the scheduled sweep); null without the role check."
  value = try({
    state_change = module.role_check[0].state_change_rule_arn
    sweep        = module.role_check[0].sweep_rule_arn
  }, null)
}

output "config_delivery_kms_key_policy_statements" {
  description = "JSON list of the key policy statements the Config delivery key (log_kms_key_arn or config_delivery_kms_key_arn) needs for AWS Config to deliver with it (the recorder role; config.amazonaws.com with AWS:SourceAccount): add them to that key's policy. \"[]\" without a created recorder or a customer managed delivery key."
  value       = module.compliance.delivery_kms_key_policy_statements
}

output "config_delivery_kms_key_arn" {
  description = "KMS key the created Config delivery channel encrypts with (log_kms_key_arn for the log bucket, config_delivery_kms_key_arn for another bucket), or null."
  value       = module.compliance.delivery_kms_key_arn
}
