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
      account_id = "222222222222"
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
      account_id = "222222222222"
    }
  }
}

variables {
  account_id               = "222222222222"
  assume_role_arn          = "arn:aws:iam::222222222222:role/fleetpatch-deploy"
  security_account_id      = "333333333333"
  central_sync_bucket_name = "sec-virginia-ssm-data-sync"
  central_kms_key_arn      = "arn:aws:kms:us-east-1:333333333333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  role_check_zip_path      = "../../modules/member_region/tests/fixtures/ssm_role_check.zip"
}

run "two_regions_of_the_seed" {
  command = plan

  assert {
    condition     = output.name_prefixes == { "us-west-2" = "tc-oregon", "eu-west-2" = "tc-london" }
    error_message = "the two Regions are named tc-oregon and tc-london"
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

# CI: assume_role_arn unset (null), the provider assumes no role: the job's OIDC role (plan or
# apply role) is the account's role. The plan must still be valid.
run "ci_assumes_no_role" {
  command = plan

  variables {
    assume_role_arn = null
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

# The settings added for large and shared estates reach both Regions' member_region.
run "log_bucket_name_suffix_reaches_both_regions" {
  command = plan

  variables {
    log_bucket_name_suffix                 = "account-region"
    role_check_sweep_schedule              = "cron(0 3 ? * SUN *)"
    role_check_modifiable_role_path_prefix = "/fleet/"
    role_check_modifiable_role_tag         = { key = "PatchManaged", value = "true" }
  }

  # The sweep schedule and the modify scope are forwarded unchanged (their validation is
  # member_region's: tests/unit/test_member_region_wiring.py); their effect on the role check's
  # rule, environment and IAM policy is asserted in modules/role_check/tests.
  assert {
    condition     = module.primary.inventory_bucket == "tc-oregon-inventory-222222222222-us-west-2" && module.secondary.inventory_bucket == "tc-london-inventory-222222222222-eu-west-2"
    error_message = "log_bucket_name_suffix names each Region's log buckets with the account id and Region code"
  }
}

# The validation runs (one expect_failures run per validation block) live in
# environments/shared-services/tests: the two root modules share every validation, and
# tests/unit/test_member_environments_in_sync.py fails when their .tf files drift apart.
