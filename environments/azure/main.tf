locals {
  targets = length(var.target_subscription_ids) > 0 ? var.target_subscription_ids : [var.subscription_id]
  # One scheduler a day: the Function's timer (default) or the AWS EventBridge schedule.
  trigger = var.runner == "function" && var.scheduler == "cross_cloud"
  # The content-hashed Function zip `make package` names in build/packages.json.
  function_package = var.runner != "function" ? null : coalesce(var.function_package_path, try(
    "${dirname(var.package_manifest_path)}/${jsondecode(file(var.package_manifest_path)).azure_function_app.path}", null
  ))
}

module "tag_enforcement" {
  source = "../../modules/azure_tag_enforcement"

  name_prefix             = var.name_prefix
  location                = var.location
  target_subscription_ids = local.targets
  required_tags           = var.required_tags
  runner                  = var.runner
  daily_run_time_utc      = var.daily_run_time_utc
  dry_run                 = var.dry_run
  function_package_path   = local.function_package
  runbook_package_path    = var.runner == "automation" ? var.runbook_package_path : null
  scheduler               = var.scheduler
  ssm_tag_sync            = var.ssm_tag_sync
  tags                    = var.tags
}

# Each VM registers with its patch group's activation (security environment outputs
# hybrid_activation_ids / hybrid_activation_codes), so its mi- node carries the patch group tag.
module "ssm_hybrid" {
  source = "../../modules/azure_ssm_hybrid"
  count  = length(var.hybrid_vms) > 0 ? 1 : 0

  virtual_machines  = var.hybrid_vms
  activations       = var.hybrid_activations
  aws_region        = var.aws_region
  linux_signing_key = var.ssm_agent_signing_key
  tags              = var.tags
}

module "cross_cloud_trigger" {
  source = "../../modules/cross_cloud_trigger"
  count  = local.trigger ? 1 : 0

  name_prefix         = var.name_prefix
  function_url        = module.tag_enforcement.trigger_url
  function_key        = module.tag_enforcement.trigger_function_key
  schedule_expression = var.cross_cloud_schedule_expression
  dry_run             = var.dry_run
  tags                = var.tags
}
