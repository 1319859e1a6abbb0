# The application account of the seed's topology: modules/member_region in two Regions (the seed's
# Oregon and London by default), each through its own aliased aws provider. Each Region gets its
# log buckets, patch baselines and groups with Resource Groups, the inventory association with its
# Resource Data Sync to the security account's central bucket, the weekly scan, the patch runs,
# the role-check Lambda, the Config rules, and the links to the security account.

data "aws_partition" "current" {
  provider = aws.primary
}

module "naming" {
  source = "../../modules/naming"

  account_short_name = var.account_short_name
  regions            = [var.primary_region, var.secondary_region]
  region_short_names = var.region_short_names
}

locals {
  tags = merge(
    { Project = "fleetpatch", Environment = "application", ManagedBy = "terraform" },
    var.tags,
  )

  central_event_bus_arn = var.forward_compliance_events ? "arn:${data.aws_partition.current.partition}:events:${var.central_sync_bucket_region}:${var.security_account_id}:event-bus/default" : null
  aggregator_account_id = var.authorize_config_aggregator ? var.security_account_id : null
  aggregator_region     = var.authorize_config_aggregator ? var.central_sync_bucket_region : null

  role_check_zip_path = coalesce(var.role_check_zip_path, "${path.root}/../../build/ssm_role_check.zip")
}

module "primary" {
  source = "../../modules/member_region"
  providers = {
    aws = aws.primary
  }

  name_prefix                            = module.naming.name_prefixes[var.primary_region]
  patch_groups                           = var.patch_groups
  patch_group_tag_key                    = var.patch_group_tag_key
  log_kms_key_arn                        = lookup(var.log_kms_key_arns, var.primary_region, null)
  log_expiration_days                    = var.log_expiration_days
  log_access_log_bucket                  = lookup(var.log_access_log_buckets, var.primary_region, null)
  inventory_schedule_expression          = var.inventory_schedule_expression
  central_sync_bucket_name               = var.central_sync_bucket_name
  central_sync_bucket_region             = var.central_sync_bucket_region
  central_sync_prefix                    = var.central_sync_prefix
  central_kms_key_arn                    = var.central_kms_key_arn
  scan_schedule_expression               = var.scan_schedule_expression
  scan_enabled                           = var.scan_enabled
  patch_schedule_expression              = var.patch_schedule_expression
  patch_schedule_overrides               = var.patch_schedule_overrides
  patch_enabled                          = var.patch_enabled
  patch_reboot_option                    = var.patch_reboot_option
  patch_max_concurrency                  = var.patch_max_concurrency
  patch_max_errors                       = var.patch_max_errors
  patch_online_timeout_seconds           = var.patch_online_timeout_seconds
  ebs_kms_key_arns                       = lookup(var.ebs_kms_key_arns, var.primary_region, [])
  role_check_package_path                = local.role_check_zip_path
  role_check_dry_run                     = var.role_check_dry_run
  log_bucket_name_suffix                 = var.log_bucket_name_suffix
  role_check_sweep_schedule              = var.role_check_sweep_schedule
  role_check_modifiable_role_path_prefix = var.role_check_modifiable_role_path_prefix
  role_check_modifiable_role_tag         = var.role_check_modifiable_role_tag
  create_config_recorder                 = contains(var.config_recorder_regions, var.primary_region)
  automatic_remediation                  = var.automatic_remediation
  config_aggregator_account_id           = local.aggregator_account_id
  config_aggregator_region               = local.aggregator_region
  central_event_bus_arn                  = local.central_event_bus_arn
}

module "secondary" {
  source = "../../modules/member_region"
  providers = {
    aws = aws.secondary
  }

  name_prefix                            = module.naming.name_prefixes[var.secondary_region]
  patch_groups                           = var.patch_groups
  patch_group_tag_key                    = var.patch_group_tag_key
  log_kms_key_arn                        = lookup(var.log_kms_key_arns, var.secondary_region, null)
  log_expiration_days                    = var.log_expiration_days
  log_access_log_bucket                  = lookup(var.log_access_log_buckets, var.secondary_region, null)
  inventory_schedule_expression          = var.inventory_schedule_expression
  central_sync_bucket_name               = var.central_sync_bucket_name
  central_sync_bucket_region             = var.central_sync_bucket_region
  central_sync_prefix                    = var.central_sync_prefix
  central_kms_key_arn                    = var.central_kms_key_arn
  scan_schedule_expression               = var.scan_schedule_expression
  scan_enabled                           = var.scan_enabled
  patch_schedule_expression              = var.patch_schedule_expression
  patch_schedule_overrides               = var.patch_schedule_overrides
  patch_enabled                          = var.patch_enabled
  patch_reboot_option                    = var.patch_reboot_option
  patch_max_concurrency                  = var.patch_max_concurrency
  patch_max_errors                       = var.patch_max_errors
  patch_online_timeout_seconds           = var.patch_online_timeout_seconds
  ebs_kms_key_arns                       = lookup(var.ebs_kms_key_arns, var.secondary_region, [])
  role_check_package_path                = local.role_check_zip_path
  role_check_dry_run                     = var.role_check_dry_run
  log_bucket_name_suffix                 = var.log_bucket_name_suffix
  role_check_sweep_schedule              = var.role_check_sweep_schedule
  role_check_modifiable_role_path_prefix = var.role_check_modifiable_role_path_prefix
  role_check_modifiable_role_tag         = var.role_check_modifiable_role_tag
  create_config_recorder                 = contains(var.config_recorder_regions, var.secondary_region)
  automatic_remediation                  = var.automatic_remediation
  config_aggregator_account_id           = local.aggregator_account_id
  config_aggregator_region               = local.aggregator_region
  central_event_bus_arn                  = local.central_event_bus_arn
}
