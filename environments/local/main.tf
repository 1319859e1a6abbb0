# The seed's whole topology in one root module, on the embedded AWS emulator:
# - the security account in its home Region (as environments/security): central_reporting,
#   hybrid_activation, and member_region for the hybrid managed nodes;
# - the shared services and application accounts in two Regions each (as
#   environments/shared-services and environments/application): member_region per Region.
# The module calls and their inputs are those of the real environments with those environments'
# default values (tests/unit/emulator/test_local_environment.py keeps them in step); only the
# provider blocks (providers.tf) differ.

# --- inputs: the real environments' defaults ----------------------------------------------------
locals {
  role_check_zip_path = coalesce(var.role_check_zip_path, "${path.root}/../../build/ssm_role_check.zip")

  # Shared by environments/security, shared-services and application.
  sync_prefix                   = "inventory"
  patch_group_tag_key           = "PatchGroup"
  inventory_schedule_expression = "rate(30 minutes)"
  scan_schedule_expression      = "cron(0 4 ? * SUN *)"
  scan_enabled                  = true
  patch_schedule_expression     = "rate(14 days)"
  patch_schedule_overrides      = {}
  patch_enabled                 = true
  patch_reboot_option           = "RebootIfNeeded"
  patch_max_concurrency         = "10%"
  patch_max_errors              = "10%"
  automatic_remediation         = false
  log_expiration_days           = 365
  role_check_dry_run            = false
  region_short_names            = {}
  # The defaults of the real environments' large-estate settings (issue 15).
  log_bucket_name_suffix                 = "none"
  role_check_sweep_schedule              = "rate(12 hours)"
  role_check_modifiable_role_path_prefix = "/"
  role_check_modifiable_role_tag         = null

  # environments/security
  security_short_name                  = "sec"
  aggregator_mode                      = "accounts"
  hybrid_activation_registration_limit = 100
  patch_hybrid_nodes                   = true
  organization_id                      = null
  bucket_name_suffix                   = "none"
  hybrid_role_check_enabled            = false
  # Marker of the Azure VMs' activations/nodes (modules/ssm_tag_sync_role source_tag's default).
  azure_source_tag = { key = "fleetpatch:source", value = "azure" }
  hybrid_patch_groups = {
    azure-linux = {
      operating_system = "UBUNTU"
      description      = "Azure and on-premises Linux managed nodes (mi-)"
      # Ubuntu takes no approval delay (PatchRule): 0 approves matching patches at once.
      approval_rules = [{
        approve_after_days = 0
        compliance_level   = "HIGH"
        severities         = ["Required", "Important"]
      }]
    }
    azure-windows = {
      operating_system = "WINDOWS"
      description      = "Azure and on-premises Windows managed nodes (mi-)"
      approval_rules = [{
        approve_after_days = 7
        compliance_level   = "CRITICAL"
        classifications    = ["CriticalUpdates", "SecurityUpdates"]
        severities         = ["Critical", "Important"]
        patch_set          = "OS"
      }]
    }
  }

  # environments/shared-services and application
  shared_services_short_name  = "ss"
  application_short_name      = "tc"
  authorize_config_aggregator = true
  forward_compliance_events   = true
  config_recorder_regions     = []

  security_tags        = { Project = "fleetpatch", Environment = "security", ManagedBy = "terraform" }
  shared_services_tags = { Project = "fleetpatch", Environment = "shared-services", ManagedBy = "terraform" }
  application_tags     = { Project = "fleetpatch", Environment = "application", ManagedBy = "terraform" }
}

# --- security account, home Region (environments/security/main.tf) --------------------------------
module "security_naming" {
  source = "../../modules/naming"

  account_short_name = local.security_short_name
  regions            = [var.home_region]
  region_short_names = local.region_short_names
}

locals {
  security_name_prefix = module.security_naming.name_prefixes[var.home_region]
  member_account_ids   = [var.shared_services_account_id, var.application_account_id]
  member_regions       = [var.primary_region, var.secondary_region]

  central_member_account_ids = local.patch_hybrid_nodes ? distinct(concat(local.member_account_ids, [var.security_account_id])) : local.member_account_ids
  central_member_regions     = local.patch_hybrid_nodes ? distinct(concat(local.member_regions, [var.home_region])) : local.member_regions

  central_event_bus_arn = "arn:${local.partition}:events:${var.home_region}:${var.security_account_id}:event-bus/default"
}

module "central_reporting" {
  source = "../../modules/central_reporting"
  providers = {
    aws = aws.security
  }

  name_prefix                      = local.security_name_prefix
  member_account_ids               = local.central_member_account_ids
  member_regions                   = local.central_member_regions
  sync_prefix                      = local.sync_prefix
  kms_key_arn                      = null
  aggregator_mode                  = local.aggregator_mode
  organization_aggregator_role_arn = null
  access_log_bucket                = null
  organization_id                  = local.organization_id
  bucket_name_suffix               = local.bucket_name_suffix
}

module "hybrid_activation" {
  source = "../../modules/hybrid_activation"
  count  = var.hybrid_activation_expiration_date == null ? 0 : 1
  providers = {
    aws = aws.security
  }

  name_prefix = local.security_name_prefix
  # One activation per hybrid patch group, tagged with it (as environments/security); here every
  # hybrid group is the demo's Azure VMs', so each activation also carries ssm_tag_sync_role's
  # marker tag (applied to the nodes at registration): the role may tag only marked nodes.
  patch_groups = local.patch_hybrid_nodes ? {
    for g in keys(local.hybrid_patch_groups) : g => {
      registration_limit = local.hybrid_activation_registration_limit
      tags               = { (local.azure_source_tag.key) = local.azure_source_tag.value }
    }
  } : {}
  patch_group_tag_key    = local.patch_group_tag_key
  expiration_date        = var.hybrid_activation_expiration_date
  registration_limit     = local.hybrid_activation_registration_limit
  additional_policy_arns = local.patch_hybrid_nodes ? ["arn:${local.partition}:iam::${var.security_account_id}:policy${aws_iam_policy.hybrid_node_logs[0].path}${aws_iam_policy.hybrid_node_logs[0].name}"] : []
}

# The role the Azure tag job's reconciler assumes with its managed identity's token (as
# environments/security); `make demo` passes the demo's fake Entra tenant and identity.
module "ssm_tag_sync_role" {
  source = "../../modules/ssm_tag_sync_role"
  count  = var.ssm_tag_sync == null ? 0 : 1
  providers = {
    aws = aws.security
  }

  name_prefix                    = local.security_name_prefix
  tenant_id                      = var.ssm_tag_sync.tenant_id
  managed_identity_principal_ids = var.ssm_tag_sync.managed_identity_principal_ids
  token_version                  = var.ssm_tag_sync.token_version
  audience                       = var.ssm_tag_sync.audience
  tag_key                        = coalesce(var.ssm_tag_sync.tag_key, local.patch_group_tag_key)
  # The activations (and so the Azure nodes) are in the security provider's Region.
  regions    = [var.home_region]
  source_tag = local.azure_source_tag
}

module "hybrid_region" {
  source = "../../modules/member_region"
  count  = local.patch_hybrid_nodes ? 1 : 0
  providers = {
    aws = aws.security
  }

  name_prefix                            = local.security_name_prefix
  patch_groups                           = local.hybrid_patch_groups
  patch_group_tag_key                    = local.patch_group_tag_key
  log_expiration_days                    = local.log_expiration_days
  log_access_log_bucket                  = null
  inventory_schedule_expression          = local.inventory_schedule_expression
  central_sync_bucket_name               = module.central_reporting.sync_bucket_name
  central_sync_bucket_region             = var.home_region
  central_sync_prefix                    = local.sync_prefix
  central_kms_key_arn                    = module.central_reporting.kms_key_arn
  scan_schedule_expression               = local.scan_schedule_expression
  scan_enabled                           = local.scan_enabled
  patch_schedule_expression              = local.patch_schedule_expression
  patch_schedule_overrides               = local.patch_schedule_overrides
  patch_enabled                          = local.patch_enabled
  patch_reboot_option                    = local.patch_reboot_option
  patch_max_concurrency                  = local.patch_max_concurrency
  patch_max_errors                       = local.patch_max_errors
  patch_online_timeout_seconds           = var.patch_online_timeout_seconds
  automatic_remediation                  = local.automatic_remediation
  role_check_enabled                     = local.hybrid_role_check_enabled
  role_check_package_path                = local.hybrid_role_check_enabled ? local.role_check_zip_path : null
  role_check_dry_run                     = local.role_check_dry_run
  log_bucket_name_suffix                 = local.bucket_name_suffix
  role_check_sweep_schedule              = local.role_check_sweep_schedule
  role_check_modifiable_role_path_prefix = local.role_check_modifiable_role_path_prefix
  role_check_modifiable_role_tag         = local.role_check_modifiable_role_tag
  config_aggregator_account_id           = null
  central_event_bus_arn                  = null
}

data "aws_iam_policy_document" "hybrid_node_logs" {
  count    = local.patch_hybrid_nodes ? 1 : 0
  provider = aws.security

  statement {
    sid       = "UploadCommandOutput"
    effect    = "Allow"
    actions   = ["s3:PutObject"]
    resources = [for arn in values(module.hybrid_region[0].log_bucket_arns) : "${arn}/*"]
  }
}

resource "aws_iam_policy" "hybrid_node_logs" {
  count    = local.patch_hybrid_nodes ? 1 : 0
  provider = aws.security

  name        = "${local.security_name_prefix}-hybrid-node-logs"
  path        = "/"
  description = "Lets the hybrid managed nodes upload AWS-RunPatchBaseline and inventory output to the ${local.security_name_prefix} log buckets."
  policy      = data.aws_iam_policy_document.hybrid_node_logs[0].json
}
