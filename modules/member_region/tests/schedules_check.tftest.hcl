mock_provider "aws" {
  source = "./tests/mocks"
}

variables {
  name_prefix                  = "ss-oregon"
  central_sync_bucket_name     = "sec-virginia-ssm-data-sync"
  central_sync_bucket_region   = "us-east-1"
  central_kms_key_arn          = "arn:aws:kms:us-east-1:333333333333:key/11111111-2222-3333-4444-555555555555"
  central_event_bus_arn        = "arn:aws:events:us-east-1:333333333333:event-bus/default"
  config_aggregator_account_id = "333333333333"
  config_aggregator_region     = "us-east-1"
  role_check_package_path      = "tests/fixtures/ssm_role_check.zip"
}

run "rate_schedules_cannot_be_checked_and_pass" {
  command = plan

  assert {
    condition     = length(local.schedule_overlaps) == 0 && toset(local.schedules_unchecked) == toset(["appa", "linux", "windows"])
    error_message = "rate(14 days) cannot be checked at plan time: not refused, listed as unchecked"
  }
  assert {
    condition     = length(local.fire_minutes["scan"]) == 1 && local.fire_minutes["scan"][0] == 4 * 60 && local.scan_window_minutes == 125
    error_message = "the default scan fires Sunday 04:00 UTC and runs up to its step timeouts (7200 s scan + 300 s summary)"
  }
}

run "separate_windows_pass" {
  command = plan

  variables {
    patch_schedule_expression = "cron(0 3 ? * SAT *)"
    patch_schedule_overrides  = { appa = "cron(30 1,13 ? * MON-WED *)" }
  }

  assert {
    condition     = length(local.schedule_overlaps) == 0 && length(local.schedules_unchecked) == 0
    error_message = "Saturday 03:00 and Monday-Wednesday 01:30/13:30 patch runs end before the Sunday 04:00 scan"
  }
  assert {
    condition     = local.patch_window_minutes < 24 * 60 && local.patch_window_minutes > 4 * 60
    error_message = "the patch window is the patch run's maximum run time (branch steps take no time)"
  }
  assert {
    condition     = length(local.fire_minutes["patch:appa"]) == 6 && contains(local.fire_minutes["patch:appa"], 1440 + 90)
    error_message = "day ranges and hour lists expand to every fire time of the week"
  }
}

run "a_patch_run_still_running_at_the_scan_is_refused" {
  command = plan
  variables {
    patch_schedule_overrides = { appa = "cron(0 2 ? * SUN *)" }
  }
  expect_failures = [terraform_data.schedule_check]
}

run "a_scan_starting_during_a_patch_run_of_the_previous_day_is_refused" {
  command = plan
  variables {
    scan_schedule_expression  = "cron(0 4 * * ? *)"
    patch_schedule_expression = "cron(0 20 ? * FRI *)"
  }
  expect_failures = [terraform_data.schedule_check]
}

run "a_day_of_month_patch_run_can_fall_on_the_scan_day" {
  command = plan
  variables {
    patch_schedule_expression = "cron(0 3 1 * ? *)"
  }
  expect_failures = [terraform_data.schedule_check]
}

run "a_disabled_scan_is_not_checked" {
  command = plan

  variables {
    scan_enabled              = false
    patch_schedule_expression = "cron(0 4 ? * SUN *)"
  }

  assert {
    condition     = length(local.schedule_overlaps) == 0
    error_message = "a disabled scan never runs, so it cannot collide"
  }
}
