# Plan-time check: the weekly scan and a patch group's patch run both run AWS-RunPatchBaseline,
# and on a node already running one AWS fails the second (Patch Manager troubleshooting, exit
# codes 155 / 152). This module owns both schedules, so it refuses a scan schedule and a patch
# schedule of one patch group whose windows can overlap.
#
# A window starts at a fire time and lasts the document's maximum run time (every step's
# timeout times its attempts; the patch run's from patch_automation's output, which adds the
# two-minute onCancel limit). Decidable at plan time: cron(...) expressions whose minute and
# hour fields are integers or comma lists of integers and whose day-of-week field is ?, * or a
# list of days / day ranges (SUN-SAT or 1-7, with #n or L). A day-of-month expression (dow ?)
# is treated as "any day of the week" (the 1st can be a Sunday), and the month and year fields
# are ignored (treated as every month): the check can refuse two schedules that only differ by
# month, never accept two that can meet. Not decidable: rate(...) (it counts from the rule's
# creation time), minute/hour ranges or steps (*/15, 2-4): such pairs are not refused (the plan
# lists them in terraform_data.schedule_check), and at run time the collision is left to the
# patch run and remediation. Disabled schedules (scan_enabled / patch_enabled false) are not
# checked.

locals {
  week_minutes = 7 * 1440
  dow_numbers  = { SUN = 1, MON = 2, TUE = 3, WED = 4, THU = 5, FRI = 6, SAT = 7 }

  scan_document = yamldecode(file("${path.module}/../../ssm_documents/generated/patch_scan.yaml"))
  scan_window_minutes = ceil(sum(concat([0], [
    for s in local.scan_document.mainSteps : (s.action == "aws:branch" && !can(s.timeoutSeconds) ? 0 : try(tonumber(s.timeoutSeconds), 86400)) * try(tonumber(s.maxAttempts), 1)
  ])) / 60)
  patch_window_minutes = ceil(module.patch_automation.patch_run_max_run_seconds / 60)

  checked_schedules = merge(
    { scan = var.scan_schedule_expression },
    { for g in local.patch_group : "patch:${g}" => lookup(var.patch_schedule_overrides, g, var.patch_schedule_expression) },
  )

  # cron fields [minute, hour, day-of-month, month, day-of-week, year], or null for rate(...).
  cron_fields = {
    for k, e in local.checked_schedules : k => (
      can(regex("^cron\\(\\S+ \\S+ \\S+ \\S+ \\S+ \\S+\\)$", e)) ? split(" ", trimsuffix(trimprefix(e, "cron("), ")")) : null
    )
  }

  # Minutes of the week (0 = Sunday 00:00 UTC) a schedule can fire at; null when undecidable.
  fire_minutes = {
    for k, f in local.cron_fields : k => try(
      f == null ? null : (
        can(regex("^[0-9]+(,[0-9]+)*$", f[0])) && can(regex("^[0-9]+(,[0-9]+)*$", f[1])) ? distinct(flatten([
          for day in distinct(flatten([
            for item in(contains(["?", "*"], f[4]) ? ["1-7"] : split(",", f[4])) : [
              for m in [regex("^([0-9A-Za-z]+)(?:-([0-9A-Za-z]+))?(?:#[1-5]|L)?$", item)] : range(
                try(tonumber(m[0]), local.dow_numbers[upper(m[0])]),
                (m[1] == null || m[1] == "" ? try(tonumber(m[0]), local.dow_numbers[upper(m[0])]) : try(tonumber(m[1]), local.dow_numbers[upper(m[1])])) + 1,
              )
            ]
            ])) : [
            for hour in split(",", f[1]) : [
              for minute in split(",", f[0]) : (day - 1) * 1440 + tonumber(hour) * 60 + tonumber(minute)
            ]
          ]
        ])) : null
      ),
      null,
    )
  }

  schedules_to_check = var.scan_enabled && var.patch_enabled ? local.patch_group : []

  # Patch groups whose patch window and the scan window can overlap.
  schedule_overlaps = [
    for g in local.schedules_to_check : g
    if local.fire_minutes["scan"] != null && local.fire_minutes["patch:${g}"] != null && anytrue(flatten([
      for p in coalesce(local.fire_minutes["patch:${g}"], []) : [
        for s in coalesce(local.fire_minutes["scan"], []) : (
          (s - p + local.week_minutes) % local.week_minutes < local.patch_window_minutes ||
          (p - s + local.week_minutes) % local.week_minutes < local.scan_window_minutes
        )
      ]
    ]))
  ]
  schedules_unchecked = [
    for g in local.schedules_to_check : g
    if local.fire_minutes["scan"] == null || local.fire_minutes["patch:${g}"] == null
  ]
}

resource "terraform_data" "schedule_check" {
  # Shown in the plan: the windows compared, and the groups whose schedules could not be
  # checked (a check block would warn on every plan of the rate() defaults, and terraform test
  # fails on check warnings).
  input = {
    scan_window_minutes      = local.scan_window_minutes
    patch_window_minutes     = local.patch_window_minutes
    groups_checked           = [for g in local.schedules_to_check : g if !contains(local.schedules_unchecked, g)]
    groups_not_decidable_yet = local.schedules_unchecked
  }

  lifecycle {
    precondition {
      condition     = length(local.schedule_overlaps) == 0
      error_message = "The scan (${var.scan_schedule_expression}, runs up to ${local.scan_window_minutes} min) and the patch run of ${join(", ", local.schedule_overlaps)} (${join(", ", [for g in local.schedule_overlaps : lookup(var.patch_schedule_overrides, g, var.patch_schedule_expression)])}, up to ${local.patch_window_minutes} min) can run AWS-RunPatchBaseline on the same nodes at the same time; AWS fails the second. Move one of them (patch_schedule_overrides or scan_schedule_expression)."
    }
  }
}
