mock_provider "aws" {
  alias  = "primary"
  source = "../../modules/member_region/tests/mocks"

  mock_data "aws_region" {
    defaults = {
      name = "us-west-2"
    }
  }
  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "111111111111"
    }
  }
}

mock_provider "aws" {
  alias  = "secondary"
  source = "../../modules/member_region/tests/mocks"

  mock_data "aws_region" {
    defaults = {
      name = "eu-west-2"
    }
  }
  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "111111111111"
    }
  }
}

variables {
  account_id               = "111111111111"
  assume_role_arn          = "arn:aws:iam::111111111111:role/fleetpatch-deploy"
  security_account_id      = "333333333333"
  central_sync_bucket_name = "sec-virginia-ssm-data-sync"
  central_kms_key_arn      = "arn:aws:kms:us-east-1:333333333333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  role_check_zip_path      = "../../modules/member_region/tests/fixtures/ssm_role_check.zip"
}

run "two_regions_of_the_seed" {
  command = plan

  assert {
    condition     = output.name_prefixes == { "us-west-2" = "ss-oregon", "eu-west-2" = "ss-london" }
    error_message = "the two Regions are named ss-oregon and ss-london"
  }
  assert {
    condition     = keys(output.regions) == ["eu-west-2", "us-west-2"]
    error_message = "member_region runs once in each Region, through its own provider"
  }
  assert {
    condition     = alltrue([for r in values(output.regions) : keys(r.patch_groups) == ["appa", "linux", "windows"]])
    error_message = "an unset patch_groups gives both Regions the seed's groups"
  }
  assert {
    condition     = alltrue([for r in values(output.regions) : r.forward_rule_arn != null && r.aggregate_authorization_arn != null])
    error_message = "both Regions forward NON_COMPLIANT changes and authorize the security account's aggregator"
  }
  assert {
    condition     = module.primary.config_delivery_bucket_name == null && module.secondary.config_delivery_bucket_name == null
    error_message = "no configuration recorder unless config_recorder_regions names the Region"
  }
}

run "recorder_in_one_region_without_central_links" {
  command = plan

  variables {
    config_recorder_regions     = ["eu-west-2"]
    authorize_config_aggregator = false
    forward_compliance_events   = false
    patch_groups = {
      web = {
        operating_system = "UBUNTU"
        approval_rules   = [{ approve_after_days = 0, severities = ["Required"] }]
      }
    }
  }

  assert {
    condition     = module.primary.config_delivery_bucket_name == null && module.secondary.config_delivery_bucket_name != null
    error_message = "the recorder is created only in the Regions of config_recorder_regions"
  }
  assert {
    condition     = alltrue([for r in values(output.regions) : r.forward_rule_arn == null && r.aggregate_authorization_arn == null])
    error_message = "the links to the security account can be switched off"
  }
  assert {
    condition     = alltrue([for r in values(output.regions) : keys(r.patch_groups) == ["web"]])
    error_message = "patch_groups applies to both Regions"
  }
}

# CI: assume_role_arn unset (null), the provider assumes no role: the job's OIDC role (plan or
# apply role) is the account's role. The plan must still be valid.
run "ci_assumes_no_role" {
  command = plan

  variables {
    assume_role_arn = null
  }
}

run "rejects_short_account_id" {
  command = plan
  variables {
    account_id = "11111111111"
  }
  expect_failures = [var.account_id]
}

run "rejects_role_name_instead_of_arn" {
  command = plan
  variables {
    assume_role_arn = "fleetpatch-deploy"
  }
  expect_failures = [var.assume_role_arn]
}

run "rejects_role_in_another_account" {
  command = plan
  variables {
    assume_role_arn = "arn:aws:iam::999999999999:role/fleetpatch-deploy"
  }
  expect_failures = [var.assume_role_arn]
}

run "rejects_short_external_id" {
  command = plan
  variables {
    assume_role_external_id = "x"
  }
  expect_failures = [var.assume_role_external_id]
}

run "rejects_bad_account_short_name" {
  command = plan
  variables {
    account_short_name = "Shared"
  }
  expect_failures = [var.account_short_name]
}

run "rejects_bad_region_short_name" {
  command = plan
  variables {
    region_short_names = { "us-west-2" = "Ore-gon" }
  }
  expect_failures = [var.region_short_names]
}

run "rejects_reserved_tag_key" {
  command = plan
  variables {
    tags = { "aws:owner" = "me" }
  }
  expect_failures = [var.tags]
}

run "rejects_bad_patch_group_tag_key" {
  command = plan
  variables {
    patch_group_tag_key = "patch-group"
  }
  expect_failures = [var.patch_group_tag_key]
}

run "rejects_too_frequent_inventory" {
  command = plan
  variables {
    inventory_schedule_expression = "rate(5 minutes)"
  }
  expect_failures = [var.inventory_schedule_expression]
}

run "rejects_bad_scan_schedule" {
  command = plan
  variables {
    scan_schedule_expression = "weekly"
  }
  expect_failures = [var.scan_schedule_expression]
}

run "rejects_bad_patch_schedule" {
  command = plan
  variables {
    patch_schedule_expression = "cron(0 3 * * SAT)"
  }
  expect_failures = [var.patch_schedule_expression]
}

run "rejects_bad_reboot_option" {
  command = plan
  variables {
    patch_reboot_option = "RebootAlways"
  }
  expect_failures = [var.patch_reboot_option]
}

run "rejects_bad_max_concurrency" {
  command = plan
  variables {
    patch_max_concurrency = "0%"
  }
  expect_failures = [var.patch_max_concurrency]
}

run "rejects_bad_max_errors" {
  command = plan
  variables {
    patch_max_errors = "-1"
  }
  expect_failures = [var.patch_max_errors]
}

run "rejects_fractional_log_expiration" {
  command = plan
  variables {
    log_expiration_days = 1.5
  }
  expect_failures = [var.log_expiration_days]
}

run "rejects_non_zip_package" {
  command = plan
  variables {
    role_check_zip_path = "build/ssm_role_check.tar.gz"
  }
  expect_failures = [var.role_check_zip_path]
}

run "rejects_bad_patch_group_name" {
  command = plan
  variables {
    patch_groups = { "Linux Servers" = { operating_system = "AMAZON_LINUX_2023", approval_rules = [{ approve_after_days = 7 }] } }
  }
  expect_failures = [var.patch_groups]
}

run "rejects_bad_operating_system" {
  command = plan
  variables {
    patch_groups = { linux = { operating_system = "DEBIAN", approval_rules = [{ approve_after_days = 7 }] } }
  }
  expect_failures = [var.patch_groups]
}

run "rejects_bad_schedule_override" {
  command = plan
  variables {
    patch_schedule_overrides = { mainframe = "weekly" }
  }
  expect_failures = [var.patch_schedule_overrides]
}

run "rejects_bad_primary_region" {
  command = plan
  variables {
    primary_region = "Oregon"
  }
  expect_failures = [var.primary_region]
}

run "rejects_secondary_equal_to_primary" {
  command = plan
  variables {
    secondary_region = "us-west-2"
  }
  expect_failures = [var.secondary_region]
}

run "rejects_bad_security_account_id" {
  command = plan
  variables {
    security_account_id = "33333333333a"
  }
  expect_failures = [var.security_account_id]
}

run "rejects_bad_sync_bucket" {
  command = plan
  variables {
    central_sync_bucket_name = "s3://sec-virginia-ssm-data-sync"
  }
  expect_failures = [var.central_sync_bucket_name]
}

run "rejects_bad_sync_bucket_region" {
  command = plan
  variables {
    central_sync_bucket_region = "virginia"
  }
  expect_failures = [var.central_sync_bucket_region]
}

run "rejects_bad_sync_prefix" {
  command = plan
  variables {
    central_sync_prefix = "/inventory"
  }
  expect_failures = [var.central_sync_prefix]
}

run "rejects_bad_central_kms_key" {
  command = plan
  variables {
    central_kms_key_arn = "alias/sync"
  }
  expect_failures = [var.central_kms_key_arn]
}

run "rejects_null_central_kms_key" {
  command = plan
  variables {
    central_kms_key_arn = null
  }
  expect_failures = [var.central_kms_key_arn]
}

run "rejects_log_key_of_another_region" {
  command = plan
  variables {
    log_kms_key_arns = { "us-west-2" = "arn:aws:kms:eu-west-2:111111111111:key/abc" }
  }
  expect_failures = [var.log_kms_key_arns]
}

run "rejects_bad_access_log_bucket" {
  command = plan
  variables {
    log_access_log_buckets = { "us-west-2" = "Access Logs" }
  }
  expect_failures = [var.log_access_log_buckets]
}

run "rejects_ebs_key_of_another_region" {
  command = plan
  variables {
    ebs_kms_key_arns = { "eu-west-2" = ["arn:aws:kms:us-west-2:111111111111:key/abc"] }
  }
  expect_failures = [var.ebs_kms_key_arns]
}

run "rejects_recorder_outside_the_regions" {
  command = plan
  variables {
    config_recorder_regions = ["us-east-1"]
  }
  expect_failures = [var.config_recorder_regions]
}

run "rejects_online_timeout_above_570" {
  command = plan
  variables {
    patch_online_timeout_seconds = 571
  }
  expect_failures = [var.patch_online_timeout_seconds]
}

run "rejects_bad_role_check_sweep_schedule" {
  command = plan
  variables {
    role_check_sweep_schedule = "rate(1 hours)"
  }
  expect_failures = [var.role_check_sweep_schedule]
}

run "rejects_role_path_prefix_without_trailing_slash" {
  command = plan
  variables {
    role_check_modifiable_role_path_prefix = "/fleet"
  }
  expect_failures = [var.role_check_modifiable_role_path_prefix]
}

run "rejects_reserved_modifiable_role_tag_key" {
  command = plan
  variables {
    role_check_modifiable_role_tag = { key = "aws:cloudformation:stack-name" }
  }
  expect_failures = [var.role_check_modifiable_role_tag]
}

run "rejects_bad_modifiable_role_tag_value" {
  command = plan
  variables {
    role_check_modifiable_role_tag = { key = "PatchManaged", value = "yes!" }
  }
  expect_failures = [var.role_check_modifiable_role_tag]
}

run "rejects_unknown_log_bucket_name_suffix" {
  command = plan
  variables {
    log_bucket_name_suffix = "uuid"
  }
  expect_failures = [var.log_bucket_name_suffix]
}
