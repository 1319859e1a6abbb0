output "name_prefix" {
  description = "Prefix of every name in this account's home Region, e.g. \"sec-virginia\"."
  value       = local.name_prefix
}

output "sync_bucket_name" {
  description = "Central Resource Data Sync bucket: central_sync_bucket_name of the member environments."
  value       = module.central_reporting.sync_bucket_name
}

output "sync_bucket_region" {
  description = "Region of the central bucket: central_sync_bucket_region of the member environments."
  value       = module.central_reporting.sync_bucket_region
}

output "sync_prefix" {
  description = "Key prefix of the Resource Data Syncs: central_sync_prefix of the member environments."
  value       = module.central_reporting.sync_prefix
}

output "kms_key_arn" {
  description = "KMS key of the central bucket, Athena results and topic: central_kms_key_arn of the member environments."
  value       = module.central_reporting.kms_key_arn
}

output "central_event_bus_arn" {
  description = "This account's default event bus in home_region, receiving the member accounts' forwarded NON_COMPLIANT changes."
  value       = local.central_event_bus_arn
}

output "member_environment_inputs" {
  description = "The security-account values environments/shared-services and environments/application take, ready to copy into their terraform.tfvars."
  value = {
    security_account_id        = var.account_id
    central_sync_bucket_name   = module.central_reporting.sync_bucket_name
    central_sync_bucket_region = module.central_reporting.sync_bucket_region
    central_sync_prefix        = module.central_reporting.sync_prefix
    central_kms_key_arn        = module.central_reporting.kms_key_arn
  }
}

output "athena_workgroup_name" {
  description = "Athena workgroup to run the compliance queries in."
  value       = module.central_reporting.athena_workgroup_name
}

output "glue_database_name" {
  description = "Glue database with one table per Resource Data Sync type."
  value       = module.central_reporting.glue_database_name
}

output "config_aggregator_arn" {
  description = "ARN of the AWS Config aggregator, or null when aggregator_mode = \"none\"."
  value       = module.central_reporting.config_aggregator_arn
}

output "compliance_topic_arn" {
  description = "Central SNS topic of NON_COMPLIANT changes from every account: subscribe operators to it."
  value       = module.central_reporting.compliance_topic_arn
}

output "hybrid_activation_ids" {
  description = "Hybrid activation id per patch group (environments/azure hybrid_activations[*].id), or {} without activations."
  value       = try({ for g, a in module.hybrid_activation[0].activations : g => a.id }, {})
  sensitive   = true
}

output "hybrid_activation_codes" {
  description = "Hybrid activation code per patch group (environments/azure hybrid_activations[*].code; registration secrets), or {} without activations."
  value       = try(module.hybrid_activation[0].activation_codes, {})
  sensitive   = true
}

output "hybrid_activation_expiration_dates" {
  description = "When each patch group's hybrid activation stops accepting registrations ({} without activations)."
  value       = try(module.hybrid_activation[0].expiration_dates, {})
}

output "ssm_tag_sync" {
  description = "environments/azure's ssm_tag_sync input (role_arn, region, tag_key, audience), or null without ssm_tag_sync."
  value = var.ssm_tag_sync == null ? null : {
    role_arn = module.ssm_tag_sync_role[0].role_arn
    region   = var.home_region
    tag_key  = module.ssm_tag_sync_role[0].tag_key
    audience = module.ssm_tag_sync_role[0].audience
  }
}

output "hybrid_node_role_name" {
  description = "Service role the hybrid managed nodes assume, or null without an activation."
  value       = try(module.hybrid_activation[0].role_name, null)
}

output "hybrid_region" {
  description = "What patch_hybrid_nodes deploys for the hybrid managed nodes (log buckets, patch groups, Config rules), or null when it is false."
  value = var.patch_hybrid_nodes ? {
    patch_baseline_bucket = module.hybrid_region[0].patch_baseline_bucket
    inventory_bucket      = module.hybrid_region[0].inventory_bucket
    patch_groups          = module.hybrid_region[0].patch_groups
    config_rule_names     = module.hybrid_region[0].config_rule_names
  } : null
}

output "policy_sizes" {
  description = "Rendered size (characters) and documented limit of each central policy that names member accounts: sync_bucket (S3, 20 KB), event_bus (EventBridge, 10,240), kms_key (32 KB; 0 with kms_key_arn). With organization_id they stay the same size at any number of member accounts (modules/central_reporting README \"Policy sizes\")."
  value       = module.central_reporting.policy_sizes
}
