# The role check's modify limit (issue 15, section 4) passes through member_region: role_check
# renders it into the function's environment and IAM policy (asserted in role_check's tests).
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

run "modify_limit_is_accepted_and_passed_on" {
  command = plan
  variables {
    role_check_modifiable_role_path_prefix = "/apps/"
    role_check_modifiable_role_tag         = { key = "fleetpatch:managed", value = "true" }
  }
  assert {
    condition     = output.role_check_function_name == "ss-oregon-role-check"
    error_message = "the role check is planned with the limit"
  }
}

run "rejects_bad_modify_path_prefix" {
  command = plan
  variables {
    role_check_modifiable_role_path_prefix = "apps"
  }
  expect_failures = [var.role_check_modifiable_role_path_prefix]
}

run "rejects_reserved_modify_tag_key" {
  command = plan
  variables {
    role_check_modifiable_role_tag = { key = "aws:x" }
  }
  expect_failures = [var.role_check_modifiable_role_tag]
}
