output "sync_bucket_name" {
  description = "Name of the central Resource Data Sync bucket: the member accounts' inventory module sync_bucket_name."
  value       = aws_s3_bucket.this["sync"].bucket # the name (known at plan; id is the same after apply)
}

output "sync_bucket_arn" {
  description = "ARN of the central Resource Data Sync bucket."
  value       = aws_s3_bucket.this["sync"].arn
}

output "sync_bucket_region" {
  description = "Region of the central bucket (this account's home Region): the inventory module's sync_bucket_region."
  value       = local.region
}

output "sync_prefix" {
  description = "S3 prefix the Resource Data Syncs must use (\"\" for none); `make report SOURCE=s3://<sync_bucket_name>/<sync_prefix>` reads the same data locally."
  value       = var.sync_prefix
}

output "kms_key_arn" {
  description = "ARN of the KMS key of the sync bucket, Athena results and topic: the inventory module's sync_kms_key_arn."
  value       = local.kms_key_arn
}

output "athena_results_bucket_name" {
  description = "Name of the bucket holding Athena query results (SSE-KMS, expiring)."
  value       = aws_s3_bucket.this["results"].bucket
}

output "glue_database_name" {
  description = "Glue database holding one table per Resource Data Sync type."
  value       = aws_glue_catalog_database.this.name
}

output "glue_table_names" {
  description = "Map of Resource Data Sync type (e.g. AWS:InstanceInformation) to Glue table name (e.g. aws_instanceinformation)."
  value       = { for name, t in aws_glue_catalog_table.this : local.tables[name].type_name => t.name }
}

output "athena_workgroup_name" {
  description = "Athena workgroup to run the named queries in (results encrypted with SSE_KMS, settings enforced)."
  value       = aws_athena_workgroup.this.name
}

output "named_query_ids" {
  description = "Map of query name (file stem in queries/) to Athena named query id."
  value       = { for name, q in aws_athena_named_query.this : name => q.id }
}

output "config_aggregator_arn" {
  description = "ARN of the AWS Config aggregator, or null when aggregator_mode = \"none\"."
  value       = try(aws_config_configuration_aggregator.this[0].arn, null)
}

output "compliance_topic_arn" {
  description = "ARN of the central, KMS-encrypted SNS topic for NON_COMPLIANT changes; subscribe operators to it."
  value       = aws_sns_topic.compliance.arn
}

output "member_events_rule_arn" {
  description = "ARN of the EventBridge rule publishing member accounts' NON_COMPLIANT changes to the topic, or null when accept_member_compliance_events is false."
  value       = try(aws_cloudwatch_event_rule.member_non_compliant[0].arn, null)
}

output "policy_sizes" {
  description = "Rendered size (characters of the JSON sent to AWS) and documented limit of each policy that names member accounts: sync_bucket (S3, 20 KB), event_bus (EventBridge, 10,240 characters; 0 when no bus policy), kms_key (32 KB; 0 when kms_key_arn is given)."
  value = {
    sync_bucket = { size = length(local.sync_bucket_policy), limit = local.policy_limits.sync_bucket }
    event_bus   = { size = local.event_bus_policy_enabled ? length(local.event_bus_policy) : 0, limit = local.policy_limits.event_bus }
    kms_key     = { size = var.kms_key_arn == null ? length(local.key_policy) : 0, limit = local.policy_limits.kms_key }
  }
}
