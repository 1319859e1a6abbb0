# The security (central) account of the seed's topology, in its home Region:
# - central_reporting: the central Resource Data Sync bucket, Glue + Athena over it, the AWS
#   Config aggregator over the member accounts and Regions, the central SNS topic receiving the
#   members' NON_COMPLIANT changes through this account's default event bus;
# - hybrid_activation: one SSM hybrid activation per hybrid patch group (tagged with it, rotated)
#   for Azure and on-premises managed nodes (mi-);
# - ssm_tag_sync_role (ssm_tag_sync): the OIDC provider + role the Azure tag job assumes to
#   mirror the patch group tag onto the Azure nodes;
# - member_region (patch_hybrid_nodes): those hybrid managed nodes register here, so this Region
#   gets the same patch baselines, inventory, scan, patch runs and Config rules as a member Region.

data "aws_partition" "current" {}

module "naming" {
  source = "../../modules/naming"

  account_short_name = var.account_short_name
  regions            = [var.home_region]
  region_short_names = var.region_short_names
}

locals {
  name_prefix = module.naming.name_prefixes[var.home_region]
  tags = merge(
    { Project = "fleetpatch", Environment = "security", ManagedBy = "terraform" },
    var.tags,
  )

  # The hybrid nodes' Region synchronises its own inventory to the central bucket: this account
  # is then one of the accounts the bucket policy lets write.
  member_account_ids = var.patch_hybrid_nodes ? distinct(concat(var.member_account_ids, [var.account_id])) : var.member_account_ids
  member_regions     = var.patch_hybrid_nodes ? distinct(concat(var.member_regions, [var.home_region])) : var.member_regions

  # Member accounts forward their NON_COMPLIANT changes to this bus (central_reporting's rule
  # publishes them to the central topic).
  central_event_bus_arn = "arn:${data.aws_partition.current.partition}:events:${var.home_region}:${var.account_id}:event-bus/default"

  role_check_zip_path = coalesce(var.role_check_zip_path, "${path.root}/../../build/ssm_role_check.zip")
}

module "central_reporting" {
  source = "../../modules/central_reporting"

  name_prefix                      = local.name_prefix
  member_account_ids               = local.member_account_ids
  member_regions                   = local.member_regions
  sync_prefix                      = var.sync_prefix
  kms_key_arn                      = var.kms_key_arn
  aggregator_mode                  = var.aggregator_mode
  organization_aggregator_role_arn = var.organization_aggregator_role_arn
  access_log_bucket                = var.access_log_bucket
  organization_id                  = var.organization_id
  bucket_name_suffix               = var.bucket_name_suffix
}

module "hybrid_activation" {
  source = "../../modules/hybrid_activation"
  count  = var.hybrid_activation_enabled || var.hybrid_activation_expiration_date != null ? 1 : 0

  name_prefix = local.name_prefix
  # One activation per hybrid patch group, tagged with it: the nodes registering with it join the
  # group (CreateActivation applies the activation's tags to them). null expiration_date: rotation.
  # The Azure groups' activations also carry the marker tag (local.azure_source_tag) that the tag
  # sync role requires on a node before it may read or tag it (modules/ssm_tag_sync_role).
  patch_groups = var.patch_hybrid_nodes ? {
    for g in keys(coalesce(var.hybrid_patch_groups, {})) : g => {
      registration_limit = lookup(var.hybrid_activation_registration_limits, g, var.hybrid_activation_registration_limit)
      tags               = contains(local.azure_patch_groups, g) ? { (local.azure_source_tag.key) = local.azure_source_tag.value } : {}
    }
  } : {}
  patch_group_tag_key = var.patch_group_tag_key
  expiration_date     = var.hybrid_activation_expiration_date
  registration_limit  = var.hybrid_activation_registration_limit
  # The hybrid nodes upload their scan, patch and inventory output to this Region's log buckets
  # (member_region's policy; its ARN output is known at plan, as the module's for_each needs).
  additional_policy_arns = var.patch_hybrid_nodes ? [module.hybrid_region[0].managed_node_log_policy_arn] : []
}

# The role the Azure tag job's managed identity assumes (AssumeRoleWithWebIdentity) to mirror the
# patch group tag onto the hybrid nodes; see modules/ssm_tag_sync_role/README.md.
module "ssm_tag_sync_role" {
  source = "../../modules/ssm_tag_sync_role"
  count  = var.ssm_tag_sync == null ? 0 : 1

  name_prefix                    = local.name_prefix
  tenant_id                      = var.ssm_tag_sync.tenant_id
  managed_identity_principal_ids = var.ssm_tag_sync.managed_identity_principal_ids
  token_version                  = var.ssm_tag_sync.token_version
  audience                       = var.ssm_tag_sync.audience
  tag_key                        = coalesce(var.ssm_tag_sync.tag_key, var.patch_group_tag_key)
  # The hybrid nodes register in home_region (the activations' Region): the only Region tagged.
  regions    = [var.home_region]
  source_tag = local.azure_source_tag
}

locals {
  # Marker on the Azure VMs' activations, and so on their nodes (CreateActivation applies an
  # activation's tags to the registering nodes); the tag sync role's aws:ResourceTag condition.
  azure_source_tag = { key = "fleetpatch:source", value = "azure" }
  # Which hybrid patch groups are Azure VMs: azure_patch_groups, default every hybrid group.
  azure_patch_groups = var.azure_patch_groups == null ? keys(coalesce(var.hybrid_patch_groups, {})) : var.azure_patch_groups
}

module "hybrid_region" {
  source = "../../modules/member_region"
  count  = var.patch_hybrid_nodes ? 1 : 0

  name_prefix                   = local.name_prefix
  patch_groups                  = var.hybrid_patch_groups
  patch_group_tag_key           = var.patch_group_tag_key
  log_expiration_days           = var.log_expiration_days
  log_access_log_bucket         = var.access_log_bucket
  inventory_schedule_expression = var.inventory_schedule_expression
  central_sync_bucket_name      = module.central_reporting.sync_bucket_name
  central_sync_bucket_region    = var.home_region
  central_sync_prefix           = var.sync_prefix
  central_kms_key_arn           = module.central_reporting.kms_key_arn
  scan_schedule_expression      = var.scan_schedule_expression
  scan_enabled                  = var.scan_enabled
  patch_schedule_expression     = var.patch_schedule_expression
  patch_schedule_overrides      = var.patch_schedule_overrides
  patch_enabled                 = var.patch_enabled
  patch_reboot_option           = var.patch_reboot_option
  patch_max_concurrency         = var.patch_max_concurrency
  patch_max_errors              = var.patch_max_errors
  patch_online_timeout_seconds  = var.patch_online_timeout_seconds
  automatic_remediation         = var.automatic_remediation
  # Only what hybrid nodes need: no role-check Lambda (it can change instance profiles and roles)
  # unless role_check_enabled asks for one.
  role_check_enabled                     = var.role_check_enabled
  role_check_package_path                = var.role_check_enabled ? local.role_check_zip_path : null
  role_check_dry_run                     = var.role_check_dry_run
  log_bucket_name_suffix                 = var.bucket_name_suffix
  role_check_sweep_schedule              = var.role_check_sweep_schedule
  role_check_modifiable_role_path_prefix = var.role_check_modifiable_role_path_prefix
  role_check_modifiable_role_tag         = var.role_check_modifiable_role_tag
  # Same account and Region as the aggregator and the central bus: nothing to authorize or
  # forward (central_reporting's rule already sees this account's Config events).
  config_aggregator_account_id = null
  central_event_bus_arn        = null
}
