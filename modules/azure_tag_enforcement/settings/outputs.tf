output "run_settings" {
  description = "The FLEETPATCH_* settings both runners read (Function app settings, Automation variable)."
  value = {
    FLEETPATCH_SUBSCRIPTIONS      = join(",", var.target_subscription_ids)
    FLEETPATCH_REQUIRED_TAGS      = local.required_tags_json
    FLEETPATCH_DRY_RUN            = tostring(var.dry_run)
    FLEETPATCH_MAX_CONCURRENCY    = tostring(var.max_concurrency)
    FLEETPATCH_EXPORT_ACCOUNT_URL = trimsuffix(var.export_account_url, "/")
    FLEETPATCH_EXPORT_CONTAINER   = var.export_container
    FLEETPATCH_EXPORT_PREFIX      = "vm-tags"
  }
}

output "timer_schedule" {
  description = "NCRONTAB schedule of the Function's timer trigger (second minute hour day month weekday)."
  value       = "0 ${tonumber(local.hour_minute[1])} ${tonumber(local.hour_minute[0])} * * *"
}

output "automation_schedule_start" {
  description = "RFC 3339 first run of the Automation schedule."
  value       = coalesce(var.automation_schedule_start, "${formatdate("YYYY-MM-DD", timeadd(plantimestamp(), "24h"))}T${var.daily_run_time_utc}:00Z")
}

output "target_roles" {
  description = "Role assignments on the target subscriptions, \"<subscription>\" (lowercase) -> { subscription_id }: one custom role per runner identity and subscription that may read VMs and read/write tags, nothing else (not Reader + Tag Contributor, which read every resource and manage deployments)."
  value = {
    for s in var.target_subscription_ids : lower(s) => { subscription_id = s }
  }
}

output "target_role_actions" {
  description = "The actions of the custom role the runner gets on each target subscription: list the VMs with their power state (Virtual Machines - List All, statusOnly), read and merge their tags (Tags - Get/Update At Scope)."
  value = [
    "Microsoft.Compute/virtualMachines/read",
    "Microsoft.Compute/virtualMachines/instanceView/read",
    "Microsoft.Resources/tags/read",
    "Microsoft.Resources/tags/write",
  ]
}
