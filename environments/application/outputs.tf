output "name_prefixes" {
  description = "Map of Region code to the name prefix of everything in that Region, e.g. { \"us-west-2\" = \"tc-oregon\" }."
  value       = module.naming.name_prefixes
}

output "regions" {
  description = "Per Region (keyed by Region code): log buckets, patch groups, inventory association and Resource Data Sync, scan and patch-run documents, patch schedules, Config rules, compliance topic and the links to the security account."
  value = {
    for m in [module.primary, module.secondary] : m.region => {
      name_prefix                 = m.name_prefix
      patch_baseline_bucket       = m.patch_baseline_bucket
      inventory_bucket            = m.inventory_bucket
      patch_groups                = m.patch_groups
      inventory_association_id    = m.inventory_association_id
      resource_data_sync_name     = m.resource_data_sync_name
      scan_document_name          = m.scan_document_name
      patch_document_name         = m.patch_document_name
      patch_automation_role_arn   = m.patch_automation_role_arn
      patch_schedules             = m.patch_schedules
      config_rule_names           = m.config_rule_names
      compliance_topic_arn        = m.compliance_topic_arn
      forward_rule_arn            = m.forward_rule_arn
      aggregate_authorization_arn = m.aggregate_authorization_arn
    }
  }
}

output "patch_group_tag_key" {
  description = "Tag key that puts a managed node into a patch group (tag your instances with it)."
  value       = module.primary.patch_group_tag_key
}
