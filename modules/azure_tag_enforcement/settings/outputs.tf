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
  description = "Role assignments on the target subscriptions, \"<subscription>/<role>\" -> { subscription_id, role }: Reader lists the VMs, Tag Contributor may change tags (and only tags)."
  value = {
    for pair in setproduct(var.target_subscription_ids, ["Reader", "Tag Contributor"]) :
    "${lower(pair[0])}/${pair[1]}" => { subscription_id = pair[0], role = pair[1] }
  }
}
