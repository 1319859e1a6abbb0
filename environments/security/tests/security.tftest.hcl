mock_provider "aws" {
  source = "../../modules/member_region/tests/mocks"

  mock_data "aws_region" {
    defaults = {
      name = "us-east-1"
    }
  }
  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "333333333333"
    }
  }
}

variables {
  account_id          = "333333333333"
  assume_role_arn     = "arn:aws:iam::333333333333:role/fleetpatch-deploy"
  member_account_ids  = ["111111111111", "222222222222"]
  role_check_zip_path = "../../modules/member_region/tests/fixtures/ssm_role_check.zip"
}

run "central_account_with_hybrid_nodes" {
  command = plan

  # The activations' registration counts (computed) must be known at plan for the
  # hybrid_activation capacity check: mock them at plan time.
  override_resource {
    target          = module.hybrid_activation[0].aws_ssm_activation.this
    override_during = plan
    values = {
      registration_count = 0
    }
  }

  variables {
    hybrid_activation_enabled             = true
    hybrid_activation_registration_limits = { azure-linux = 300 }
    ssm_tag_sync = {
      tenant_id                      = "72f988bf-86f1-41af-91ab-2d7cd011db47"
      managed_identity_principal_ids = ["0b4e7e66-1b7c-4d5e-9f35-2a6c9d0e1f23"]
    }
  }

  assert {
    condition     = keys(module.hybrid_activation[0].expiration_dates) == ["azure-linux", "azure-windows"]
    error_message = "one rotating activation per hybrid patch group"
  }
  assert {
    condition     = nonsensitive(module.hybrid_activation[0].activations["azure-linux"].tags["PatchGroup"]) == "azure-linux"
    error_message = "each activation carries its patch group tag (applied to the registering nodes)"
  }
  assert {
    condition     = nonsensitive(module.hybrid_activation[0].activations["azure-linux"].registration_limit) == 300 && nonsensitive(module.hybrid_activation[0].activations["azure-windows"].registration_limit) == 100
    error_message = "a per-group registration limit applies to that group only; the others keep hybrid_activation_registration_limit"
  }
  assert {
    condition     = nonsensitive(module.hybrid_activation[0].activations["azure-windows"].tags["fleetpatch:source"]) == "azure"
    error_message = "the Azure groups' activations carry the marker the tag sync role requires"
  }
  assert {
    condition     = jsondecode(module.ssm_tag_sync_role[0].role_policy_json).Statement[2].Resource == ["arn:aws:ssm:us-east-1:333333333333:managed-instance/*"] && jsondecode(module.ssm_tag_sync_role[0].role_policy_json).Statement[2].Condition.StringEquals["aws:ResourceTag/fleetpatch:source"] == "azure"
    error_message = "the role tags only marked nodes in the home Region"
  }
  assert {
    condition     = output.ssm_tag_sync.region == "us-east-1" && output.ssm_tag_sync.tag_key == "PatchGroup" && output.ssm_tag_sync.audience == "api://AzureADTokenExchange"
    error_message = "the tag sync role is created for the patch group key, in the home Region, with the default audience"
  }
  assert {
    condition     = module.ssm_tag_sync_role[0].issuer_url == "https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/"
    error_message = "the tenant's issuer is trusted"
  }

  assert {
    condition     = output.name_prefix == "sec-virginia"
    error_message = "the seed's security prefix is sec-virginia"
  }
  assert {
    condition     = output.central_event_bus_arn == "arn:aws:events:us-east-1:333333333333:event-bus/default"
    error_message = "members forward to this account's default bus in the home Region"
  }
  assert {
    condition     = output.member_environment_inputs.security_account_id == "333333333333" && output.member_environment_inputs.central_sync_bucket_region == "us-east-1"
    error_message = "the inputs the member environments need are given in one output"
  }
  assert {
    condition     = keys(output.hybrid_region.patch_groups) == ["azure-linux", "azure-windows"]
    error_message = "the hybrid nodes' Region gets the patch groups environments/azure tags its VMs with"
  }
  assert {
    condition     = output.hybrid_node_role_name == "sec-virginia-ssm-hybrid-node"
    error_message = "the hybrid activation is created when an expiration date is given"
  }
  assert {
    condition     = module.hybrid_region[0].managed_node_log_policy_arn == "arn:aws:iam::333333333333:policy/sec-virginia-managed-node-logs"
    error_message = "the hybrid service role gets the log upload policy of the hybrid nodes' Region"
  }
}

run "central_account_only" {
  command = plan

  variables {
    patch_hybrid_nodes = false
  }

  assert {
    condition     = output.hybrid_region == null && length(module.hybrid_region) == 0
    error_message = "patch_hybrid_nodes = false deploys no member_region"
  }
  assert {
    condition     = length(module.hybrid_activation) == 0 && output.hybrid_node_role_name == null && length(module.ssm_tag_sync_role) == 0 && output.ssm_tag_sync == null
    error_message = "no activation unless enabled, no tag sync role without ssm_tag_sync"
  }
}

# CI: assume_role_arn unset (null), the provider assumes no role: the job's OIDC role (plan or
# apply role) is the account's role. The plan must still be valid.
run "ci_assumes_no_role" {
  command = plan

  variables {
    assume_role_arn    = null
    patch_hybrid_nodes = false
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
    hybrid_patch_groups = { "Linux Servers" = { operating_system = "AMAZON_LINUX_2023", approval_rules = [{ approve_after_days = 7 }] } }
  }
  expect_failures = [var.hybrid_patch_groups]
}

run "rejects_bad_operating_system" {
  command = plan
  variables {
    hybrid_patch_groups = { linux = { operating_system = "DEBIAN", approval_rules = [{ approve_after_days = 7 }] } }
  }
  expect_failures = [var.hybrid_patch_groups]
}

run "rejects_bad_schedule_override" {
  command = plan
  variables {
    patch_schedule_overrides = { mainframe = "weekly" }
  }
  expect_failures = [var.patch_schedule_overrides]
}

run "rejects_bad_home_region" {
  command = plan
  variables {
    home_region = "N. Virginia"
  }
  expect_failures = [var.home_region]
}

run "rejects_repeated_member_account" {
  command = plan
  variables {
    member_account_ids = ["111111111111", "111111111111"]
  }
  expect_failures = [var.member_account_ids]
}

run "rejects_bad_member_region" {
  command = plan
  variables {
    member_regions = ["us-west-2", "London"]
  }
  expect_failures = [var.member_regions]
}

run "rejects_bad_sync_prefix" {
  command = plan
  variables {
    sync_prefix = "inventory/"
  }
  expect_failures = [var.sync_prefix]
}

run "rejects_kms_alias" {
  command = plan
  variables {
    kms_key_arn = "arn:aws:kms:us-east-1:333333333333:alias/reporting"
  }
  expect_failures = [var.kms_key_arn]
}

run "rejects_bad_aggregator_mode" {
  command = plan
  variables {
    aggregator_mode = "org"
  }
  expect_failures = [var.aggregator_mode]
}

run "rejects_org_role_without_org_mode" {
  command = plan
  variables {
    organization_aggregator_role_arn = "arn:aws:iam::333333333333:role/config-org"
  }
  expect_failures = [var.organization_aggregator_role_arn]
}

run "rejects_bad_access_log_bucket" {
  command = plan
  variables {
    access_log_bucket = "Access Logs"
  }
  expect_failures = [var.access_log_bucket]
}

run "rejects_bad_expiration_date" {
  command = plan
  variables {
    hybrid_activation_expiration_date = "next month"
  }
  expect_failures = [var.hybrid_activation_expiration_date]
}

run "rejects_too_many_registrations" {
  command = plan
  variables {
    hybrid_activation_registration_limit = 1001
  }
  expect_failures = [var.hybrid_activation_registration_limit]
}

run "rejects_per_group_limit_of_unknown_group" {
  command = plan
  variables {
    hybrid_activation_registration_limits = { appa = 10 }
  }
  expect_failures = [var.hybrid_activation_registration_limits]
}

run "rejects_per_group_limit_above_1000" {
  command = plan
  variables {
    hybrid_activation_registration_limits = { azure-linux = 1001 }
  }
  expect_failures = [var.hybrid_activation_registration_limits]
}

run "rejects_online_timeout_above_570" {
  command = plan
  variables {
    patch_online_timeout_seconds = 571
  }
  expect_failures = [var.patch_online_timeout_seconds]
}

run "rejects_ssm_tag_sync_with_bad_tenant" {
  command = plan
  variables {
    ssm_tag_sync = {
      tenant_id                      = "contoso.onmicrosoft.com"
      managed_identity_principal_ids = ["0b4e7e66-1b7c-4d5e-9f35-2a6c9d0e1f23"]
    }
  }
  expect_failures = [var.ssm_tag_sync]
}

run "rejects_ssm_tag_sync_tag_key_that_is_no_patch_group_key" {
  command = plan
  variables {
    ssm_tag_sync = {
      tenant_id                      = "72f988bf-86f1-41af-91ab-2d7cd011db47"
      managed_identity_principal_ids = ["0b4e7e66-1b7c-4d5e-9f35-2a6c9d0e1f23"]
      tag_key                        = "Owner"
    }
  }
  expect_failures = [var.ssm_tag_sync]
}

# Large estates: the organization condition keeps the central policies one size at any number of
# member accounts, and the account-id suffix keeps every bucket name this account's.
run "organization_id_and_bucket_name_suffix_reach_the_central_buckets" {
  command = plan

  variables {
    organization_id    = "o-a1b2c3d4e5"
    bucket_name_suffix = "account"
    patch_hybrid_nodes = true
  }

  assert {
    condition     = module.central_reporting.sync_bucket_name == "sec-virginia-ssm-data-sync-333333333333" && module.central_reporting.athena_results_bucket_name == "sec-virginia-athena-results-333333333333"
    error_message = "bucket_name_suffix names the central sync bucket with the account id"
  }
  assert {
    condition     = module.hybrid_region[0].inventory_bucket == "sec-virginia-inventory-333333333333"
    error_message = "bucket_name_suffix names the hybrid Region's log buckets too"
  }
}

# organization_id reaches central_reporting: with it, 200 member accounts render the same
# policies as the two of the first run (listing 200 accounts would add about 3 KB to each).
run "organization_id_keeps_the_policies_one_size_at_200_accounts" {
  command = plan

  variables {
    organization_id    = "o-a1b2c3d4e5"
    bucket_name_suffix = "account"
    member_account_ids = [for i in range(200) : format("%012d", 100000000000 + i)]
  }

  assert {
    condition     = output.policy_sizes == run.organization_id_and_bucket_name_suffix_reach_the_central_buckets.policy_sizes
    error_message = "with organization_id the central policies do not grow with member_account_ids"
  }
  assert {
    condition     = alltrue([for p in values(output.policy_sizes) : p.size < p.limit])
    error_message = "every central policy stays under its limit"
  }
}

run "rejects_bad_organization_id" {
  command = plan
  variables {
    organization_id = "o-ABC"
  }
  expect_failures = [var.organization_id]
}

run "rejects_unknown_bucket_name_suffix" {
  command = plan
  variables {
    bucket_name_suffix = "uuid"
  }
  expect_failures = [var.bucket_name_suffix]
}

run "rejects_bad_security_sweep_schedule" {
  command = plan
  variables {
    role_check_sweep_schedule = "cron(0 3 * * SUN *)"
  }
  expect_failures = [var.role_check_sweep_schedule]
}

# The hybrid nodes' Region runs only what hybrid nodes need: no role-check Lambda (which can
# associate instance profiles and attach policies) unless asked for.
run "hybrid_region_has_no_role_check_by_default" {
  command = plan

  assert {
    condition     = module.hybrid_region[0].role_check_function_name == null && module.hybrid_region[0].role_check_rule_arns == null
    error_message = "no role-check Lambda in the security account unless role_check_enabled"
  }
}

run "role_check_on_request" {
  command = plan

  variables {
    role_check_enabled = true
  }

  assert {
    condition     = module.hybrid_region[0].role_check_function_name != null
    error_message = "role_check_enabled = true deploys the role check in the hybrid Region"
  }
}
