output "central" {
  description = "The security account's central pieces: account id, home Region, Resource Data Sync bucket and prefix, KMS key, Glue database and tables, Athena workgroup, Config aggregator, central compliance topic."
  value = {
    account_id            = var.security_account_id
    region                = var.home_region
    name_prefix           = local.security_name_prefix
    sync_bucket_name      = module.central_reporting.sync_bucket_name
    sync_prefix           = module.central_reporting.sync_prefix
    kms_key_arn           = module.central_reporting.kms_key_arn
    glue_database_name    = module.central_reporting.glue_database_name
    glue_table_names      = module.central_reporting.glue_table_names
    athena_workgroup_name = module.central_reporting.athena_workgroup_name
    config_aggregator_arn = module.central_reporting.config_aggregator_arn
    compliance_topic_arn  = module.central_reporting.compliance_topic_arn
    central_event_bus_arn = local.central_event_bus_arn
  }
}

output "regions" {
  description = "Every account and Region running modules/member_region, keyed \"<account>/<region>\" (security/<home region> for the hybrid managed nodes): account id, Region, name prefix, log buckets, patch groups, inventory association, Resource Data Sync, scan and patch documents, patch schedules, Config rules, compliance topic, role-check function, SSM instance profile."
  value = {
    for key, item in {
      "security/${var.home_region}"             = { account_id = var.security_account_id, region = try(module.hybrid_region[0], null) }
      "shared-services/${var.primary_region}"   = { account_id = var.shared_services_account_id, region = module.shared_services_primary }
      "shared-services/${var.secondary_region}" = { account_id = var.shared_services_account_id, region = module.shared_services_secondary }
      "application/${var.primary_region}"       = { account_id = var.application_account_id, region = module.application_primary }
      "application/${var.secondary_region}"     = { account_id = var.application_account_id, region = module.application_secondary }
      } : key => {
      account_id               = item.account_id
      region                   = item.region.region
      name_prefix              = item.region.name_prefix
      patch_baseline_bucket    = item.region.patch_baseline_bucket
      inventory_bucket         = item.region.inventory_bucket
      patch_groups             = item.region.patch_groups
      patch_group_tag_key      = item.region.patch_group_tag_key
      inventory_association_id = item.region.inventory_association_id
      resource_data_sync_name  = item.region.resource_data_sync_name
      scan_document_name       = item.region.scan_document_name
      patch_document_name      = item.region.patch_document_name
      patch_schedules          = item.region.patch_schedules
      config_rule_names        = item.region.config_rule_names
      compliance_topic_arn     = item.region.compliance_topic_arn
      role_check_function_name = item.region.role_check_function_name
      ssm_instance_profile     = item.region.ssm_instance_profile_name
      scan_rule_arns           = item.region.scan_schedule_rule_arns
      patch_rule_arns          = item.region.patch_schedule_rule_arns
      role_check_rule_arns     = item.region.role_check_rule_arns
      managed_node_log_policy  = item.region.managed_node_log_policy_arn
      config_delivery_bucket   = item.region.config_delivery_bucket_name
    } if item.region != null
  }
}

output "hybrid_activations" {
  description = "Hybrid activation per patch group, { <group> = { id, code } } (codes are registration secrets; the demo registers its Azure VMs with them), or {} without activations."
  value = try({
    for g, a in module.hybrid_activation[0].activations : g => {
      id   = a.id
      code = module.hybrid_activation[0].activation_codes[g]
    }
  }, {})
  sensitive = true
}

output "ssm_tag_sync" {
  description = "The Azure tag job's reconciler settings (environments/azure ssm_tag_sync: role_arn, region, tag_key, audience), or null without ssm_tag_sync."
  value = var.ssm_tag_sync == null ? null : {
    role_arn = module.ssm_tag_sync_role[0].role_arn
    region   = var.home_region
    tag_key  = module.ssm_tag_sync_role[0].tag_key
    audience = module.ssm_tag_sync_role[0].audience
  }
}
