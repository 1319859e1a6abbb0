# The shared services and application accounts, two Regions each (environments/shared-services
# and environments/application: modules/member_region per Region through that Region's provider).
# Their security-account inputs are the values environments/security outputs in
# member_environment_inputs, wired here directly.

locals {
  central_sync_bucket_name   = module.central_reporting.sync_bucket_name
  central_sync_bucket_region = var.home_region
  central_kms_key_arn        = module.central_reporting.kms_key_arn

  member_central_event_bus_arn = local.forward_compliance_events ? local.central_event_bus_arn : null
  aggregator_account_id        = local.authorize_config_aggregator ? var.security_account_id : null
  aggregator_region            = local.authorize_config_aggregator ? var.home_region : null
}

module "shared_services_naming" {
  source = "../../modules/naming"

  account_short_name = local.shared_services_short_name
  regions            = [var.primary_region, var.secondary_region]
  region_short_names = local.region_short_names
}

module "shared_services_primary" {
  source = "../../modules/member_region"
  providers = {
    aws = aws.shared_services_primary
  }

  name_prefix                            = module.shared_services_naming.name_prefixes[var.primary_region]
  patch_groups                           = null
  patch_group_tag_key                    = local.patch_group_tag_key
  log_kms_key_arn                        = null
  log_expiration_days                    = local.log_expiration_days
  log_access_log_bucket                  = null
  inventory_schedule_expression          = local.inventory_schedule_expression
  central_sync_bucket_name               = local.central_sync_bucket_name
  central_sync_bucket_region             = local.central_sync_bucket_region
  central_sync_prefix                    = local.sync_prefix
  central_kms_key_arn                    = local.central_kms_key_arn
  scan_schedule_expression               = local.scan_schedule_expression
  scan_enabled                           = local.scan_enabled
  patch_schedule_expression              = local.patch_schedule_expression
  patch_schedule_overrides               = local.patch_schedule_overrides
  patch_enabled                          = local.patch_enabled
  patch_reboot_option                    = local.patch_reboot_option
  patch_max_concurrency                  = local.patch_max_concurrency
  patch_max_errors                       = local.patch_max_errors
  patch_online_timeout_seconds           = var.patch_online_timeout_seconds
  ebs_kms_key_arns                       = []
  role_check_package_path                = local.role_check_zip_path
  role_check_dry_run                     = local.role_check_dry_run
  log_bucket_name_suffix                 = local.log_bucket_name_suffix
  role_check_sweep_schedule              = local.role_check_sweep_schedule
  role_check_modifiable_role_path_prefix = local.role_check_modifiable_role_path_prefix
  role_check_modifiable_role_tag         = local.role_check_modifiable_role_tag
  create_config_recorder                 = contains(local.config_recorder_regions, var.primary_region)
  automatic_remediation                  = local.automatic_remediation
  config_aggregator_account_id           = local.aggregator_account_id
  config_aggregator_region               = local.aggregator_region
  central_event_bus_arn                  = local.member_central_event_bus_arn
}

module "shared_services_secondary" {
  source = "../../modules/member_region"
  providers = {
    aws = aws.shared_services_secondary
  }

  name_prefix                            = module.shared_services_naming.name_prefixes[var.secondary_region]
  patch_groups                           = null
  patch_group_tag_key                    = local.patch_group_tag_key
  log_kms_key_arn                        = null
  log_expiration_days                    = local.log_expiration_days
  log_access_log_bucket                  = null
  inventory_schedule_expression          = local.inventory_schedule_expression
  central_sync_bucket_name               = local.central_sync_bucket_name
  central_sync_bucket_region             = local.central_sync_bucket_region
  central_sync_prefix                    = local.sync_prefix
  central_kms_key_arn                    = local.central_kms_key_arn
  scan_schedule_expression               = local.scan_schedule_expression
  scan_enabled                           = local.scan_enabled
  patch_schedule_expression              = local.patch_schedule_expression
  patch_schedule_overrides               = local.patch_schedule_overrides
  patch_enabled                          = local.patch_enabled
  patch_reboot_option                    = local.patch_reboot_option
  patch_max_concurrency                  = local.patch_max_concurrency
  patch_max_errors                       = local.patch_max_errors
  patch_online_timeout_seconds           = var.patch_online_timeout_seconds
  ebs_kms_key_arns                       = []
  role_check_package_path                = local.role_check_zip_path
  role_check_dry_run                     = local.role_check_dry_run
  log_bucket_name_suffix                 = local.log_bucket_name_suffix
  role_check_sweep_schedule              = local.role_check_sweep_schedule
  role_check_modifiable_role_path_prefix = local.role_check_modifiable_role_path_prefix
  role_check_modifiable_role_tag         = local.role_check_modifiable_role_tag
  create_config_recorder                 = contains(local.config_recorder_regions, var.secondary_region)
  automatic_remediation                  = local.automatic_remediation
  config_aggregator_account_id           = local.aggregator_account_id
  config_aggregator_region               = local.aggregator_region
  central_event_bus_arn                  = local.member_central_event_bus_arn
}

module "application_naming" {
  source = "../../modules/naming"

  account_short_name = local.application_short_name
  regions            = [var.primary_region, var.secondary_region]
  region_short_names = local.region_short_names
}

module "application_primary" {
  source = "../../modules/member_region"
  providers = {
    aws = aws.application_primary
  }

  name_prefix                            = module.application_naming.name_prefixes[var.primary_region]
  patch_groups                           = null
  patch_group_tag_key                    = local.patch_group_tag_key
  log_kms_key_arn                        = null
  log_expiration_days                    = local.log_expiration_days
  log_access_log_bucket                  = null
  inventory_schedule_expression          = local.inventory_schedule_expression
  central_sync_bucket_name               = local.central_sync_bucket_name
  central_sync_bucket_region             = local.central_sync_bucket_region
  central_sync_prefix                    = local.sync_prefix
  central_kms_key_arn                    = local.central_kms_key_arn
  scan_schedule_expression               = local.scan_schedule_expression
  scan_enabled                           = local.scan_enabled
  patch_schedule_expression              = local.patch_schedule_expression
  patch_schedule_overrides               = local.patch_schedule_overrides
  patch_enabled                          = local.patch_enabled
  patch_reboot_option                    = local.patch_reboot_option
  patch_max_concurrency                  = local.patch_max_concurrency
  patch_max_errors                       = local.patch_max_errors
  patch_online_timeout_seconds           = var.patch_online_timeout_seconds
  ebs_kms_key_arns                       = []
  role_check_package_path                = local.role_check_zip_path
  role_check_dry_run                     = local.role_check_dry_run
  log_bucket_name_suffix                 = local.log_bucket_name_suffix
  role_check_sweep_schedule              = local.role_check_sweep_schedule
  role_check_modifiable_role_path_prefix = local.role_check_modifiable_role_path_prefix
  role_check_modifiable_role_tag         = local.role_check_modifiable_role_tag
  create_config_recorder                 = contains(local.config_recorder_regions, var.primary_region)
  automatic_remediation                  = local.automatic_remediation
  config_aggregator_account_id           = local.aggregator_account_id
  config_aggregator_region               = local.aggregator_region
  central_event_bus_arn                  = local.member_central_event_bus_arn
}

module "application_secondary" {
  source = "../../modules/member_region"
  providers = {
    aws = aws.application_secondary
  }

  name_prefix                            = module.application_naming.name_prefixes[var.secondary_region]
  patch_groups                           = null
  patch_group_tag_key                    = local.patch_group_tag_key
  log_kms_key_arn                        = null
  log_expiration_days                    = local.log_expiration_days
  log_access_log_bucket                  = null
  inventory_schedule_expression          = local.inventory_schedule_expression
  central_sync_bucket_name               = local.central_sync_bucket_name
  central_sync_bucket_region             = local.central_sync_bucket_region
  central_sync_prefix                    = local.sync_prefix
  central_kms_key_arn                    = local.central_kms_key_arn
  scan_schedule_expression               = local.scan_schedule_expression
  scan_enabled                           = local.scan_enabled
  patch_schedule_expression              = local.patch_schedule_expression
  patch_schedule_overrides               = local.patch_schedule_overrides
  patch_enabled                          = local.patch_enabled
  patch_reboot_option                    = local.patch_reboot_option
  patch_max_concurrency                  = local.patch_max_concurrency
  patch_max_errors                       = local.patch_max_errors
  patch_online_timeout_seconds           = var.patch_online_timeout_seconds
  ebs_kms_key_arns                       = []
  role_check_package_path                = local.role_check_zip_path
  role_check_dry_run                     = local.role_check_dry_run
  log_bucket_name_suffix                 = local.log_bucket_name_suffix
  role_check_sweep_schedule              = local.role_check_sweep_schedule
  role_check_modifiable_role_path_prefix = local.role_check_modifiable_role_path_prefix
  role_check_modifiable_role_tag         = local.role_check_modifiable_role_tag
  create_config_recorder                 = contains(local.config_recorder_regions, var.secondary_region)
  automatic_remediation                  = local.automatic_remediation
  config_aggregator_account_id           = local.aggregator_account_id
  config_aggregator_region               = local.aggregator_region
  central_event_bus_arn                  = local.member_central_event_bus_arn
}
