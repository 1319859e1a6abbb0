output "region_short_names" {
  description = "Map of each Region code in regions to its short name, e.g. { \"us-west-2\" = \"oregon\" }."
  value       = local.region_short_names
}

output "name_prefixes" {
  description = "Map of each Region code in regions to its name prefix <account_short_name>-<region short name>, e.g. { \"us-west-2\" = \"ss-oregon\" }: at most 8 + 1 + 15 = 24 lowercase letters, digits and hyphens, so valid for every fleetpatch module (scan and patch_automation allow 24)."
  value       = local.name_prefixes

  precondition {
    condition     = length(distinct(values(local.name_prefixes))) == length(local.name_prefixes)
    error_message = "Two Regions got the same name prefix: give them distinct region_short_names."
  }
}
