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
  tags                         = { Environment = "test" }
}

run "seed_region_composes_every_module" {
  command = plan

  assert {
    condition     = keys(output.log_bucket_arns) == ["inventory", "patch-baseline-logs"] && output.patch_baseline_bucket != null && output.inventory_bucket != null
    error_message = "the Region gets both log buckets: patch-baseline logs and inventory"
  }
  assert {
    condition     = keys(output.patch_groups) == ["appa", "linux", "windows"]
    error_message = "the default patch groups are the seed's Linux, Windows and AppA groups"
  }
  assert {
    condition     = output.patch_groups["windows"].operating_system == "WINDOWS" && output.patch_groups["linux"].operating_system == "AMAZON_LINUX_2023"
    error_message = "each default patch group gets a baseline for its operating system"
  }
  assert {
    condition     = keys(output.scan_schedule_rule_arns) == keys(output.patch_groups) && keys(output.patch_schedules) == keys(output.patch_groups)
    error_message = "every patch group gets a scan schedule and a patch run schedule"
  }
  assert {
    condition     = alltrue([for s in values(output.patch_schedules) : s == "rate(14 days)"])
    error_message = "patch runs default to every 14 days"
  }
  assert {
    condition     = output.scan_document_name == "ss-oregon-PatchScan" && output.patch_document_name == "ss-oregon-PatchRun"
    error_message = "the scan and patch-run Automation documents are registered with the Region's prefix"
  }
  assert {
    condition     = output.resource_data_sync_name == "ss-oregon-inventory-sync"
    error_message = "the Region has a Resource Data Sync to the central bucket"
  }
  assert {
    condition     = keys(output.config_rule_names) == ["association", "patch"]
    error_message = "both the patch and the association compliance Config rules are deployed"
  }
  assert {
    condition     = output.config_delivery_bucket_name == null
    error_message = "no delivery channel is created unless create_config_recorder is true"
  }
}

run "role_check_and_managed_node_log_upload" {
  command = plan

  assert {
    condition     = output.role_check_function_name == "ss-oregon-role-check" && output.ssm_instance_profile_name == "ss-oregon-ssm-instance"
    error_message = "the Region runs the role-check Lambda with its SSM instance profile"
  }
  assert {
    condition     = aws_iam_role_policy_attachment.managed_node_logs[0].role == "ss-oregon-ssm-instance"
    error_message = "the role of the profile the role check associates may upload command output to the log buckets"
  }
  assert {
    condition     = one([for st in data.aws_iam_policy_document.managed_node_logs.statement : st if st.sid == "UploadCommandOutput"]).actions == toset(["s3:PutObject"]) && one([for st in data.aws_iam_policy_document.managed_node_logs.statement : st if st.sid == "UploadCommandOutput"]).resources == toset([for arn in values(output.log_bucket_arns) : "${arn}/*"])
    error_message = "managed nodes may only put objects into the two log buckets (no KMS grant without a customer key)"
  }
  assert {
    condition     = one([for st in data.aws_iam_policy_document.managed_node_logs.statement : st if st.sid == "NeverTheConfigHistory"]).effect == "Deny" && one([for st in data.aws_iam_policy_document.managed_node_logs.statement : st if st.sid == "NeverTheConfigHistory"]).resources == toset(flatten([for arn in values(output.log_bucket_arns) : ["${arn}/AWSLogs/*", "${arn}/*/AWSLogs/*"]]))
    error_message = "managed nodes are denied the Config history keys (AWSLogs/) of every log bucket, the Config delivery bucket included"
  }
  assert {
    condition     = aws_iam_policy.managed_node_logs.name == "ss-oregon-managed-node-logs"
    error_message = "the log upload policy is named with the Region's prefix"
  }
  assert {
    condition     = output.managed_node_log_policy_arn == "arn:aws:iam::111111111111:policy/ss-oregon-managed-node-logs"
    error_message = "the policy ARN output is spelled out from the partition, account and name (known at plan)"
  }
}

run "customer_log_key_is_granted_to_managed_nodes" {
  command = plan

  variables {
    log_kms_key_arn = "arn:aws:kms:us-west-2:111111111111:key/22222222-3333-4444-5555-666666666666"
  }

  assert {
    condition     = anytrue([for st in data.aws_iam_policy_document.managed_node_logs.statement : st.resources == toset(["arn:aws:kms:us-west-2:111111111111:key/22222222-3333-4444-5555-666666666666"]) && st.actions == toset(["kms:GenerateDataKey", "kms:Decrypt"])])
    error_message = "with a customer key, managed nodes may encrypt their uploads with it (and only it)"
  }
}

run "role_check_can_be_left_out" {
  command = plan

  variables {
    role_check_enabled      = false
    role_check_package_path = null
  }

  assert {
    condition     = output.role_check_function_name == null && length(aws_iam_role_policy_attachment.managed_node_logs) == 0
    error_message = "role_check_enabled = false deploys no Lambda and needs no zip"
  }
}

run "forwards_non_compliant_to_the_central_bus" {
  command = plan

  assert {
    condition     = aws_cloudwatch_event_target.forward_non_compliant[0].arn == "arn:aws:events:us-east-1:333333333333:event-bus/default"
    error_message = "the forward rule targets the security account's event bus"
  }
  assert {
    condition     = aws_cloudwatch_event_target.forward_non_compliant[0].role_arn == aws_iam_role.forward[0].arn
    error_message = "the forward target puts events with its own role (required cross-Region)"
  }
  assert {
    condition     = jsondecode(aws_cloudwatch_event_rule.forward_non_compliant[0].event_pattern).detail.newEvaluationResult.complianceType == ["NON_COMPLIANT"]
    error_message = "only changes to NON_COMPLIANT are forwarded"
  }
  assert {
    condition     = toset(jsondecode(aws_cloudwatch_event_rule.forward_non_compliant[0].event_pattern).detail.configRuleName) == toset(values(output.config_rule_names))
    error_message = "only the fleetpatch Config rules of this Region are forwarded"
  }
  assert {
    condition     = one(data.aws_iam_policy_document.forward[0].statement).actions == toset(["events:PutEvents"]) && one(data.aws_iam_policy_document.forward[0].statement).resources == toset(["arn:aws:events:us-east-1:333333333333:event-bus/default"])
    error_message = "the forward role may only put events on the central bus"
  }
  assert {
    condition     = aws_iam_role.forward[0].name == "ss-oregon-forward-non-compliant"
    error_message = "the forward role name carries the Region's prefix (IAM names are global)"
  }
  assert {
    condition     = aws_config_aggregate_authorization.central[0].account_id == "333333333333" && aws_config_aggregate_authorization.central[0].region == "us-east-1"
    error_message = "the security account's aggregator is authorized for this Region"
  }
  assert {
    condition     = aws_config_aggregate_authorization.central[0].tags["Environment"] == "test" && aws_cloudwatch_event_rule.forward_non_compliant[0].tags["Environment"] == "test"
    error_message = "tags are applied"
  }
}

run "standalone_region_without_central_links" {
  command = plan

  variables {
    central_event_bus_arn        = null
    config_aggregator_account_id = null
    config_aggregator_region     = null
  }

  assert {
    condition     = length(aws_cloudwatch_event_rule.forward_non_compliant) == 0 && length(aws_iam_role.forward) == 0 && output.forward_rule_arn == null
    error_message = "nothing is forwarded without central_event_bus_arn"
  }
  assert {
    condition     = length(aws_config_aggregate_authorization.central) == 0 && output.aggregate_authorization_arn == null
    error_message = "no aggregate authorization without config_aggregator_account_id"
  }
}

run "custom_groups_overrides_and_recorder" {
  command = plan

  variables {
    name_prefix = "tc-london"
    patch_groups = {
      web = {
        operating_system = "UBUNTU"
        approval_rules   = [{ approve_after_days = 0, severities = ["Required", "Important"] }]
      }
      db = {
        operating_system = "REDHAT_ENTERPRISE_LINUX"
        approval_rules   = [{ approve_until_date = "2026-12-31", severities = ["Critical"] }]
      }
    }
    patch_schedule_overrides = { db = "cron(0 3 ? * SAT *)" }
    create_config_recorder   = true
  }

  assert {
    condition     = keys(output.patch_groups) == ["db", "web"]
    error_message = "patch_groups replaces the seed groups"
  }
  assert {
    condition     = output.patch_schedules == { db = "cron(0 3 ? * SAT *)", web = "rate(14 days)" }
    error_message = "a schedule override applies to its patch group only"
  }
  assert {
    condition     = output.config_delivery_bucket_name == output.patch_baseline_bucket
    error_message = "the created recorder delivers to the Region's patch-baseline log bucket by default"
  }
}

run "null_patch_groups_gives_the_seed_groups" {
  command = plan

  variables {
    patch_groups = null
  }

  assert {
    condition     = keys(output.patch_groups) == ["appa", "linux", "windows"]
    error_message = "null patch_groups (an environment that leaves it unset) gives the seed groups"
  }
}

run "rejects_bad_name_prefix" {
  command = plan
  variables {
    name_prefix = "aws-oregon"
  }
  expect_failures = [var.name_prefix]
}

run "rejects_bad_patch_group_name" {
  command = plan
  variables {
    patch_groups = {
      "Linux Servers" = {
        operating_system = "AMAZON_LINUX_2023"
        approval_rules   = [{ approve_after_days = 7 }]
      }
    }
  }
  expect_failures = [var.patch_groups]
}

run "rejects_bad_operating_system" {
  command = plan
  variables {
    patch_groups = {
      linux = {
        operating_system = "DEBIAN_LINUX"
        approval_rules   = [{ approve_after_days = 7 }]
      }
    }
  }
  expect_failures = [var.patch_groups]
}

run "rejects_bad_patch_group_tag_key" {
  command = plan
  variables {
    patch_group_tag_key = "patch-group"
  }
  expect_failures = [var.patch_group_tag_key]
}

run "rejects_log_kms_alias" {
  command = plan
  variables {
    log_kms_key_arn = "arn:aws:kms:us-west-2:111111111111:alias/logs"
  }
  expect_failures = [var.log_kms_key_arn]
}

run "rejects_negative_log_expiration" {
  command = plan
  variables {
    log_expiration_days = -1
  }
  expect_failures = [var.log_expiration_days]
}

run "rejects_bad_access_log_bucket" {
  command = plan
  variables {
    log_access_log_bucket = "Access_Logs"
  }
  expect_failures = [var.log_access_log_bucket]
}

run "rejects_too_frequent_inventory" {
  command = plan
  variables {
    inventory_schedule_expression = "rate(10 minutes)"
  }
  expect_failures = [var.inventory_schedule_expression]
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

run "the_sync_writes_under_this_accounts_own_folder" {
  command = plan

  assert {
    condition     = output.central_sync_key_prefix == "inventory/111111111111"
    error_message = "the sync's Prefix is <central_sync_prefix>/<this account id>, the only folder the central bucket policy lets this account write"
  }
}

run "the_sync_writes_under_the_account_folder_at_the_bucket_root" {
  command = plan
  variables {
    central_sync_prefix = ""
  }

  assert {
    condition     = output.central_sync_key_prefix == "111111111111"
    error_message = "without a central prefix the sync's Prefix is the account id"
  }
}

run "rejects_a_sync_prefix_without_room_for_the_account_id" {
  command = plan
  variables {
    central_sync_prefix = join("/", concat([for i in range(61) : "abc"], ["a"])) # 245 characters
  }
  expect_failures = [var.central_sync_prefix]
}

run "rejects_bad_sync_prefix" {
  command = plan
  variables {
    central_sync_prefix = "/inventory/"
  }
  expect_failures = [var.central_sync_prefix]
}

run "rejects_bad_central_kms_key" {
  command = plan
  variables {
    central_kms_key_arn = "arn:aws:kms:us-east-1:333333333333:alias/sync"
  }
  expect_failures = [var.central_kms_key_arn]
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

run "rejects_override_of_unknown_group" {
  command = plan
  variables {
    patch_schedule_overrides = { mainframe = "cron(0 3 ? * SAT *)" }
  }
  expect_failures = [var.patch_schedule_overrides]
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
    patch_max_concurrency = "0"
  }
  expect_failures = [var.patch_max_concurrency]
}

run "rejects_bad_max_errors" {
  command = plan
  variables {
    patch_max_errors = "101%"
  }
  expect_failures = [var.patch_max_errors]
}

run "rejects_online_timeout_below_30" {
  command = plan
  variables {
    patch_online_timeout_seconds = 29
  }
  expect_failures = [var.patch_online_timeout_seconds]
}

run "rejects_online_timeout_fraction" {
  command = plan
  variables {
    patch_online_timeout_seconds = 60.5
  }
  expect_failures = [var.patch_online_timeout_seconds]
}

run "rejects_bad_ebs_kms_key" {
  command = plan
  variables {
    ebs_kms_key_arns = ["my-ebs-key"]
  }
  expect_failures = [var.ebs_kms_key_arns]
}

run "rejects_bad_config_delivery_bucket" {
  command = plan
  variables {
    config_delivery_bucket_name = "Config Bucket"
  }
  expect_failures = [var.config_delivery_bucket_name]
}

run "rejects_bad_aggregator_account" {
  command = plan
  variables {
    config_aggregator_account_id = "33333333"
  }
  expect_failures = [var.config_aggregator_account_id]
}

run "rejects_aggregator_without_region" {
  command = plan
  variables {
    config_aggregator_region = null
  }
  expect_failures = [var.config_aggregator_region]
}

run "rejects_bad_event_bus_arn" {
  command = plan
  variables {
    central_event_bus_arn = "arn:aws:sns:us-east-1:333333333333:fleet-compliance"
  }
  expect_failures = [var.central_event_bus_arn]
}

run "rejects_role_check_without_package" {
  command = plan
  variables {
    role_check_package_path = null
  }
  expect_failures = [var.role_check_package_path]
}

run "rejects_bad_powertools_layer_version" {
  command = plan
  variables {
    role_check_powertools_layer_version = 0
  }
  expect_failures = [var.role_check_powertools_layer_version]
}

run "rejects_bad_powertools_layer_arn" {
  command = plan
  variables {
    role_check_powertools_layer_arn = "AWSLambdaPowertoolsPythonV3-python311-x86_64:27"
  }
  expect_failures = [var.role_check_powertools_layer_arn]
}

run "rejects_bad_sweep_schedule" {
  command = plan
  variables {
    role_check_sweep_schedule = "rate(1 hours)"
  }
  expect_failures = [var.role_check_sweep_schedule]
}

run "rejects_bad_alarm_action" {
  command = plan
  variables {
    role_check_alarm_actions = ["arn:aws:sqs:us-west-2:111111111111:alarms"]
  }
  expect_failures = [var.role_check_alarm_actions]
}

run "config_delivery_to_the_log_bucket_uses_the_customer_log_key" {
  command = plan

  variables {
    create_config_recorder = true
    log_kms_key_arn        = "arn:aws:kms:us-west-2:111111111111:key/22222222-3333-4444-5555-666666666666"
  }

  assert {
    condition     = output.config_delivery_kms_key_arn == "arn:aws:kms:us-west-2:111111111111:key/22222222-3333-4444-5555-666666666666"
    error_message = "the delivery channel to the log bucket encrypts with the bucket's customer managed key"
  }
  assert {
    condition     = anytrue([for st in jsondecode(output.config_delivery_kms_key_policy_statements) : try(st.Principal.Service, "") == "config.amazonaws.com" && try(st.Condition.StringEquals["AWS:SourceAccount"], "") == "111111111111"])
    error_message = "the statements the log key's policy needs for AWS Config are output"
  }
}

run "config_delivery_to_another_bucket_uses_its_key" {
  command = plan

  variables {
    create_config_recorder      = true
    log_kms_key_arn             = "arn:aws:kms:us-west-2:111111111111:key/22222222-3333-4444-5555-666666666666"
    config_delivery_bucket_name = "org-config-history"
    config_delivery_kms_key_arn = "arn:aws:kms:us-west-2:444444444444:key/99999999-3333-4444-5555-666666666666"
  }

  assert {
    condition     = output.config_delivery_kms_key_arn == "arn:aws:kms:us-west-2:444444444444:key/99999999-3333-4444-5555-666666666666"
    error_message = "a given delivery bucket's key, not the log key, encrypts the delivered objects"
  }
}

run "rejects_a_null_central_kms_key" {
  command = plan

  variables {
    central_kms_key_arn = null
  }

  expect_failures = [var.central_kms_key_arn]
}

run "log_bucket_name_suffix_adds_the_account_id" {
  command = plan

  variables {
    log_bucket_name_suffix = "account"
  }

  assert {
    condition     = output.patch_baseline_bucket == "ss-oregon-patch-baseline-logs-111111111111" && output.inventory_bucket == "ss-oregon-inventory-111111111111"
    error_message = "log_bucket_name_suffix reaches the log bucket names"
  }
}
