mock_provider "aws" {
  # Mocked ARNs are known at plan time, so the plan runs can assert the policies built from them.
  override_during = plan

  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }
  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }
  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "999999999999"
    }
  }
  mock_data "aws_region" {
    defaults = {
      name = "us-east-1"
    }
  }
  mock_resource "aws_s3_bucket" {
    defaults = {
      arn = "arn:aws:s3:::mock-bucket"
    }
  }
  mock_resource "aws_kms_key" {
    defaults = {
      arn    = "arn:aws:kms:us-east-1:999999999999:key/11111111-2222-3333-4444-555555555555"
      key_id = "11111111-2222-3333-4444-555555555555"
    }
  }
  mock_resource "aws_sns_topic" {
    defaults = {
      arn = "arn:aws:sns:us-east-1:999999999999:sec-virginia-fleet-compliance"
    }
  }
  mock_resource "aws_cloudwatch_event_rule" {
    defaults = {
      arn = "arn:aws:events:us-east-1:999999999999:rule/sec-virginia-member-non-compliant"
    }
  }
  mock_resource "aws_config_configuration_aggregator" {
    defaults = {
      arn = "arn:aws:config:us-east-1:999999999999:config-aggregator/config-aggregator-abcdefgh"
    }
  }
}

variables {
  name_prefix        = "sec-virginia"
  member_account_ids = ["111111111111", "222222222222"]
  member_regions     = ["us-west-2", "eu-west-2"]
  tags               = { Environment = "security" }
}

run "defaults_encrypt_block_public_access_and_scope_the_sync_policy" {
  command = plan

  assert {
    condition     = aws_s3_bucket.this["sync"].bucket == "sec-virginia-ssm-data-sync" && aws_s3_bucket.this["results"].bucket == "sec-virginia-athena-results"
    error_message = "the sync and Athena results buckets are <prefix>-ssm-data-sync and <prefix>-athena-results"
  }
  assert {
    condition     = alltrue([for r in aws_s3_bucket_server_side_encryption_configuration.this : one(one(r.rule).apply_server_side_encryption_by_default).sse_algorithm == "aws:kms" && one(one(r.rule).apply_server_side_encryption_by_default).kms_master_key_id == "arn:aws:kms:us-east-1:999999999999:key/11111111-2222-3333-4444-555555555555" && one(r.rule).bucket_key_enabled])
    error_message = "both buckets use SSE-KMS with the created key and S3 Bucket Keys"
  }
  assert {
    condition     = length(aws_kms_key.reporting) == 1 && aws_kms_key.reporting[0].enable_key_rotation
    error_message = "a customer managed key with rotation is created when none is given"
  }
  assert {
    condition     = alltrue([for r in aws_s3_bucket_public_access_block.this : r.block_public_acls && r.block_public_policy && r.ignore_public_acls && r.restrict_public_buckets]) && length(aws_s3_bucket_public_access_block.this) == 2
    error_message = "all four public access blocks are on for both buckets"
  }
  assert {
    condition     = alltrue([for r in aws_s3_bucket_versioning.this : one(r.versioning_configuration).status == "Enabled"])
    error_message = "versioning is enabled"
  }
  assert {
    condition     = alltrue([for r in aws_s3_bucket_ownership_controls.this : one(r.rule).object_ownership == "BucketOwnerEnforced"])
    error_message = "ACLs are disabled (BucketOwnerEnforced)"
  }
  assert {
    condition     = one([for s in jsondecode(aws_s3_bucket_policy.sync.policy).Statement : s if s.Sid == "SSMBucketPermissionsCheck"]).Action == "s3:GetBucketAcl"
    error_message = "SSM may read the bucket ACL"
  }
  assert {
    condition = anytrue([
      for s in jsondecode(aws_s3_bucket_policy.sync.policy).Statement :
      try(s.Sid == "SSMBucketDelivery" && s.Effect == "Allow" && s.Action == "s3:PutObject" && s.Principal == { Service = "ssm.amazonaws.com" } &&
        s.Resource == "arn:aws:s3:::sec-virginia-ssm-data-sync/inventory/$${aws:SourceAccount}/*" &&
        s.Condition.StringEquals == { "s3:x-amz-acl" = "bucket-owner-full-control" } &&
      s.Condition.ArnLike == { "aws:SourceArn" = "arn:aws:ssm:*:$${aws:SourceAccount}:resource-data-sync/*" }, false)
    ])
    error_message = "each member account's sync may only PutObject under its own top-level folder <prefix>/<account id>/ (the aws:SourceAccount policy variable right after the fixed prefix), with bucket-owner-full-control and an aws:SourceArn of that account"
  }
  assert {
    condition     = anytrue([for s in jsondecode(aws_s3_bucket_policy.sync.policy).Statement : try(s.Sid == "SSMBucketDeliveryTagging" && s.Action == "s3:PutObjectTagging" && s.Resource == "arn:aws:s3:::sec-virginia-ssm-data-sync/inventory/$${aws:SourceAccount}/*" && s.Condition == { ArnLike = { "aws:SourceArn" = "arn:aws:ssm:*:$${aws:SourceAccount}:resource-data-sync/*" } }, false)])
    error_message = "SSM may tag the objects it writes, in its own account's folder only, for a sync of that account (aws:SourceArn)"
  }
  assert {
    # Issue 16: a "*" anywhere before the account id spans slashes, so a sync whose Prefix
    # embeds ".../accountid=<another account>/..." would match; the id must follow the fixed
    # prefix directly in every statement that lets ssm.amazonaws.com write objects.
    condition = alltrue([
      for s in jsondecode(aws_s3_bucket_policy.sync.policy).Statement :
      startswith(s.Resource, "arn:aws:s3:::sec-virginia-ssm-data-sync/inventory/$${aws:SourceAccount}/") && length(split("*", s.Resource)) == 2 && endswith(s.Resource, "/*")
      if s.Effect == "Allow" && contains(["s3:PutObject", "s3:PutObjectTagging"], s.Action)
    ])
    error_message = "every Allow of s3:PutObject / s3:PutObjectTagging is <bucket>/<prefix>/$${aws:SourceAccount}/* with no wildcard before the account id"
  }
  assert {
    condition = anytrue([
      for s in jsondecode(aws_s3_bucket_policy.sync.policy).Statement :
      try(s.Sid == "DenySSMForOtherAccounts" && s.Effect == "Deny" && s.Principal == { Service = "ssm.amazonaws.com" } &&
        toset(s.Action) == toset(["s3:GetBucketAcl", "s3:PutObject", "s3:PutObjectTagging"]) &&
      s.Condition == { StringNotEquals = { "aws:SourceAccount" = ["111111111111", "222222222222", "999999999999"] } }, false)
    ])
    error_message = "ssm.amazonaws.com acting for any account but the members and this (central) account is denied (the one list of account ids)"
  }
  assert {
    condition     = anytrue([for s in jsondecode(aws_s3_bucket_policy.sync.policy).Statement : try(s.Sid == "DenyInsecureTransport" && s.Effect == "Deny" && s.Condition == { Bool = { "aws:SecureTransport" = "false" } }, false)])
    error_message = "the sync bucket policy denies requests without TLS"
  }
  assert {
    condition = anytrue([
      for s in jsondecode(aws_kms_key.reporting[0].policy).Statement :
      try(s.Sid == "ResourceDataSyncOfMemberAccounts" && s.Principal == { Service = "ssm.amazonaws.com" } && s.Action == "kms:GenerateDataKey" &&
        s.Condition.StringEquals == { "aws:SourceAccount" = ["111111111111", "222222222222", "999999999999"] } &&
      s.Condition.ArnLike == { "aws:SourceArn" = "arn:aws:ssm:*:*:resource-data-sync/*" }, false)
    ])
    error_message = "the key policy lets ssm.amazonaws.com use the key for the member accounts' syncs only"
  }
  assert {
    condition     = length(aws_glue_catalog_table.this) == 6 && toset(keys(aws_glue_catalog_table.this)) == toset(["aws_instanceinformation", "aws_patchsummary", "aws_complianceitem", "aws_compliancesummary", "aws_application", "aws_tag"])
    error_message = "one Glue table per Resource Data Sync type"
  }
  assert {
    condition     = aws_glue_catalog_table.this["aws_tag"].parameters["projection.enabled"] == "true" && aws_glue_catalog_table.this["aws_tag"].parameters["projection.accountid.values"] == "111111111111,222222222222" && aws_glue_catalog_table.this["aws_tag"].parameters["projection.region.values"] == "us-west-2,eu-west-2"
    error_message = "partition projection enumerates the member accounts and Regions"
  }
  assert {
    condition     = aws_glue_catalog_table.this["aws_instanceinformation"].parameters["storage.location.template"] == "s3://sec-virginia-ssm-data-sync/inventory/$${accountid}/AWS:InstanceInformation/accountid=$${accountid}/region=$${region}/resourcetype=$${resourcetype}/"
    error_message = "the location template follows the Resource Data Sync layout under the prefix"
  }
  assert {
    condition = alltrue([
      for t in aws_glue_catalog_table.this :
      startswith(t.parameters["storage.location.template"], "s3://sec-virginia-ssm-data-sync/inventory/$${accountid}/AWS:") && length(split("$${accountid}", t.parameters["storage.location.template"])) == 3
    ])
    error_message = "every table reads partition accountid=X only under X's own top-level folder (the one only X's sync may write): $${accountid} twice in the template"
  }
  assert {
    condition     = one(aws_glue_catalog_table.this["aws_instanceinformation"].storage_descriptor).ser_de_info[0].parameters["mapping.noderesourcetype"] == "resourcetype" && one(aws_glue_catalog_table.this["aws_instanceinformation"].storage_descriptor).ser_de_info[0].serialization_library == "org.openx.data.jsonserde.JsonSerDe"
    error_message = "the JSON SerDe maps the ResourceType key away from the resourcetype partition key"
  }
  assert {
    condition     = length(aws_athena_named_query.this) == 6 && aws_athena_named_query.this["noncompliant_nodes"].query == file("${path.module}/queries/noncompliant_nodes.sql") && aws_athena_named_query.this["stale_nodes"].name == "sec-virginia-stale_nodes"
    error_message = "every queries/*.sql file is an Athena named query with the file's SQL"
  }
  assert {
    condition     = startswith(aws_athena_named_query.this["application_versions"].description, "Managed nodes that are not terminated with an application installed")
    error_message = "the named query description comes from the file's -- description: header"
  }
  assert {
    condition     = one(aws_athena_workgroup.this.configuration).enforce_workgroup_configuration && one(one(one(aws_athena_workgroup.this.configuration).result_configuration).encryption_configuration).encryption_option == "SSE_KMS"
    error_message = "the workgroup enforces SSE_KMS-encrypted results"
  }
  assert {
    condition     = one(aws_config_configuration_aggregator.this[0].account_aggregation_source).account_ids == tolist(["111111111111", "222222222222"]) && one(aws_config_configuration_aggregator.this[0].account_aggregation_source).regions == tolist(["us-west-2", "eu-west-2"]) && length(aws_config_configuration_aggregator.this[0].organization_aggregation_source) == 0
    error_message = "the Config aggregator covers the member accounts and Regions"
  }
  assert {
    condition     = aws_sns_topic.compliance.kms_master_key_id == "arn:aws:kms:us-east-1:999999999999:key/11111111-2222-3333-4444-555555555555"
    error_message = "the central topic is KMS-encrypted"
  }
  assert {
    condition = length(aws_cloudwatch_event_bus_policy.members) == 1 && aws_cloudwatch_event_bus_policy.members[0].event_bus_name == "default" && jsondecode(aws_cloudwatch_event_bus_policy.members[0].policy).Statement == [{
      Sid       = "fleetpatch-sec-virginia-members"
      Effect    = "Allow"
      Principal = "*"
      Action    = "events:PutEvents"
      Resource  = "arn:aws:events:us-east-1:999999999999:event-bus/default"
      Condition = { StringEquals = { "aws:PrincipalAccount" = ["111111111111", "222222222222"] }, ArnLike = { "aws:PrincipalArn" = ["arn:aws:iam::*:role/*-forward-non-compliant"] } }
    }] && length(aws_cloudwatch_event_target.member_non_compliant) == 1
    error_message = "one bus policy statement lets only the member accounts' forwarder roles forward NON_COMPLIANT events to the central topic"
  }
  assert {
    condition     = aws_s3_bucket.this["sync"].tags["Environment"] == "security" && aws_sns_topic.compliance.tags["Environment"] == "security" && aws_athena_workgroup.this.tags["Environment"] == "security"
    error_message = "tags are applied"
  }
  assert {
    condition     = length(aws_s3_bucket_logging.this) == 0
    error_message = "access logging is off unless a target bucket is given"
  }
}

run "given_key_organization_aggregator_no_prefix_no_events" {
  command = plan

  variables {
    kms_key_arn                      = "arn:aws:kms:us-east-1:999999999999:key/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
    sync_prefix                      = ""
    aggregator_mode                  = "organization"
    aggregator_all_regions           = true
    organization_aggregator_role_arn = "arn:aws:iam::999999999999:role/config-org-aggregator"
    accept_member_compliance_events  = false
    access_log_bucket                = "sec-virginia-access-logs"
  }

  assert {
    condition     = length(aws_kms_key.reporting) == 0 && aws_sns_topic.compliance.kms_master_key_id == "arn:aws:kms:us-east-1:999999999999:key/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
    error_message = "a given key is used and no key is created"
  }
  assert {
    condition     = anytrue([for s in jsondecode(aws_s3_bucket_policy.sync.policy).Statement : try(s.Sid == "SSMBucketDelivery" && s.Resource == "arn:aws:s3:::sec-virginia-ssm-data-sync/$${aws:SourceAccount}/*", false)])
    error_message = "without a prefix the sync writes at the bucket root"
  }
  assert {
    condition     = aws_glue_catalog_table.this["aws_tag"].parameters["storage.location.template"] == "s3://sec-virginia-ssm-data-sync/$${accountid}/AWS:Tag/accountid=$${accountid}/region=$${region}/resourcetype=$${resourcetype}/"
    error_message = "without a prefix each account's folder is at the bucket root"
  }
  assert {
    condition     = one(aws_config_configuration_aggregator.this[0].organization_aggregation_source).role_arn == "arn:aws:iam::999999999999:role/config-org-aggregator" && one(aws_config_configuration_aggregator.this[0].organization_aggregation_source).all_regions
    error_message = "the organization aggregator uses the given role and every Region"
  }
  assert {
    condition     = length(aws_cloudwatch_event_bus_policy.members) == 0 && length(aws_cloudwatch_event_rule.member_non_compliant) == 0 && output.policy_sizes.kms_key.size == 0
    error_message = "no event bus permission or rule when member events are not accepted"
  }
  assert {
    condition     = aws_s3_bucket_logging.this["sync"].target_bucket == "sec-virginia-access-logs"
    error_message = "access logs go to the given bucket"
  }
}

run "own_account_needs_no_event_permission" {
  command = plan

  variables {
    member_account_ids = ["111111111111", "999999999999"]
  }

  assert {
    condition     = jsondecode(aws_cloudwatch_event_bus_policy.members[0].policy).Statement[0].Condition == { StringEquals = { "aws:PrincipalAccount" = ["111111111111"] }, ArnLike = { "aws:PrincipalArn" = ["arn:aws:iam::*:role/*-forward-non-compliant"] } }
    error_message = "only other accounts are listed in this account's default event bus policy"
  }
  assert {
    condition     = !can(jsondecode(aws_cloudwatch_event_rule.member_non_compliant[0].event_pattern).account)
    error_message = "the rule matches Config events of every account the bus admits, this one included (it is a member)"
  }
  assert {
    condition = anytrue([
      for s in jsondecode(aws_s3_bucket_policy.sync.policy).Statement :
      try(s.Sid == "DenySSMForOtherAccounts" && s.Condition == { StringNotEquals = { "aws:SourceAccount" = ["111111111111", "999999999999"] } }, false)
    ])
    error_message = "this account, listed as a member, is named once in the sync bucket policy"
  }
}

# Issue 15: the policies that name accounts stay under AWS's limits at 200 accounts (and 1,000 for
# the S3 and KMS ones); organization_id makes them constant. Sizes: `terraform test -verbose`
# prints output.policy_sizes.
run "policy_sizes_at_200_accounts" {
  command = plan

  variables {
    member_account_ids = [for i in range(200) : format("%012d", 100000000000 + i)]
  }

  assert {
    condition     = length(aws_s3_bucket_policy.sync.policy) == output.policy_sizes.sync_bucket.size && output.policy_sizes.sync_bucket.size < 20480 / 2
    error_message = "the sync bucket policy for 200 accounts is ${output.policy_sizes.sync_bucket.size} bytes: it must stay well under S3's 20 KB"
  }
  assert {
    condition     = length(aws_cloudwatch_event_bus_policy.members[0].policy) == output.policy_sizes.event_bus.size && output.policy_sizes.event_bus.size < 10240 / 2
    error_message = "the event bus policy for 200 accounts is ${output.policy_sizes.event_bus.size} characters: it must stay well under EventBridge's 10,240"
  }
  assert {
    condition     = length(aws_kms_key.reporting[0].policy) == output.policy_sizes.kms_key.size && output.policy_sizes.kms_key.size < 32768 / 4
    error_message = "the key policy for 200 accounts is ${output.policy_sizes.kms_key.size} bytes: it must stay well under KMS's 32 KB"
  }
  assert {
    condition     = jsondecode(aws_cloudwatch_event_rule.member_non_compliant[0].event_pattern).account == [{ "anything-but" = ["999999999999"] }] && length(aws_cloudwatch_event_rule.member_non_compliant[0].event_pattern) < 4096
    error_message = "the rule's pattern does not list the accounts (4,096 characters at most); it leaves out this account's own events"
  }
  assert {
    condition     = length(jsondecode(aws_s3_bucket_policy.sync.policy).Statement) == 5 && length(jsondecode(aws_cloudwatch_event_bus_policy.members[0].policy).Statement) == 1
    error_message = "the number of statements does not grow with the accounts"
  }
}

run "policy_sizes_at_1000_accounts" {
  command = plan

  variables {
    member_account_ids = [for i in range(1000) : format("%012d", 100000000000 + i)]
  }

  assert {
    condition     = output.policy_sizes.sync_bucket.size < 20480 && output.policy_sizes.kms_key.size < 32768
    error_message = "at 1,000 accounts the sync bucket policy (${output.policy_sizes.sync_bucket.size} bytes) and key policy (${output.policy_sizes.kms_key.size}) stay under their limits"
  }
  # 1,000 account ids do not fit EventBridge's 10,240 characters: plan says so (organization_id).
  expect_failures = [aws_cloudwatch_event_bus_policy.members]
}

run "organization_id_makes_the_policies_constant" {
  command = plan

  variables {
    member_account_ids = [for i in range(1000) : format("%012d", 100000000000 + i)]
    organization_id    = "o-a1b2c3d4e5"
  }

  assert {
    condition = anytrue([
      for s in jsondecode(aws_s3_bucket_policy.sync.policy).Statement :
      try(s.Sid == "DenySSMForOtherAccounts" && s.Condition == { StringNotEquals = { "aws:SourceOrgID" = ["o-a1b2c3d4e5"] } }, false)
    ]) && anytrue([for s in jsondecode(aws_s3_bucket_policy.sync.policy).Statement : try(s.Sid == "SSMBucketDelivery" && s.Resource == "arn:aws:s3:::sec-virginia-ssm-data-sync/inventory/$${aws:SourceAccount}/*", false)])
    error_message = "with organization_id, ssm.amazonaws.com is limited to the organization (aws:SourceOrgID), each account still to its own folder"
  }
  assert {
    condition     = jsondecode(aws_cloudwatch_event_bus_policy.members[0].policy).Statement[0].Condition == { StringEquals = { "aws:PrincipalOrgID" = ["o-a1b2c3d4e5"] }, ArnLike = { "aws:PrincipalArn" = ["arn:aws:iam::*:role/*-forward-non-compliant"] } }
    error_message = "with organization_id the event bus admits the organization (aws:PrincipalOrgID)"
  }
  assert {
    condition     = anytrue([for s in jsondecode(aws_kms_key.reporting[0].policy).Statement : try(s.Sid == "ResourceDataSyncOfMemberAccounts" && s.Condition.StringEquals == { "aws:SourceOrgID" = ["o-a1b2c3d4e5"] }, false)])
    error_message = "with organization_id the key admits the organization's syncs (aws:SourceOrgID)"
  }
  assert {
    condition     = output.policy_sizes.sync_bucket.size < 2048 && output.policy_sizes.event_bus.size < 512 && output.policy_sizes.kms_key.size < 2048
    error_message = "with organization_id the policies do not grow with the accounts"
  }
}

run "extra_event_bus_statements_are_kept" {
  command = plan

  variables {
    event_bus_policy_statements = [{
      Sid       = "OtherTool"
      Effect    = "Allow"
      Principal = { AWS = "arn:aws:iam::333333333333:root" }
      Action    = "events:PutEvents"
      Resource  = "arn:aws:events:us-east-1:999999999999:event-bus/default"
    }]
  }

  assert {
    condition     = [for s in jsondecode(aws_cloudwatch_event_bus_policy.members[0].policy).Statement : s.Sid] == ["fleetpatch-sec-virginia-members", "OtherTool"]
    error_message = "statements other tools need on the default bus are written with the members' one"
  }
}

run "rejects_bad_organization_id" {
  command = plan
  variables {
    organization_id = "r-abcd"
  }
  expect_failures = [var.organization_id]
}

run "no_aggregator" {
  command = plan

  variables {
    aggregator_mode = "none"
  }

  assert {
    condition     = length(aws_config_configuration_aggregator.this) == 0 && output.config_aggregator_arn == null
    error_message = "aggregator_mode = none creates no aggregator"
  }
}

run "rejects_bad_name_prefix" {
  command = plan
  variables {
    name_prefix = "Sec_Virginia"
  }
  expect_failures = [var.name_prefix]
}

run "rejects_bad_account_id" {
  command = plan
  variables {
    member_account_ids = ["111111111111", "2222"]
  }
  expect_failures = [var.member_account_ids]
}

run "rejects_repeated_account_id" {
  command = plan
  variables {
    member_account_ids = ["111111111111", "111111111111"]
  }
  expect_failures = [var.member_account_ids]
}

run "rejects_bad_region" {
  command = plan
  variables {
    member_regions = ["us-west-2", "Oregon"]
  }
  expect_failures = [var.member_regions]
}

run "rejects_bad_sync_prefix" {
  command = plan
  variables {
    sync_prefix = "/inventory/"
  }
  expect_failures = [var.sync_prefix]
}

run "rejects_a_sync_prefix_too_long_for_the_account_folder" {
  command = plan
  variables {
    sync_prefix = join("/", concat([for i in range(61) : "abc"], ["a"])) # 245 characters
  }
  expect_failures = [var.sync_prefix]
}

run "accepts_a_243_character_sync_prefix" {
  command = plan
  variables {
    sync_prefix = join("/", [for i in range(61) : "abc"]) # 243 characters
  }
  assert {
    condition     = length(var.sync_prefix) == 243
    error_message = "a prefix that leaves room for /<account id> within 256 characters is accepted"
  }
}

run "rejects_kms_alias" {
  command = plan
  variables {
    kms_key_arn = "arn:aws:kms:us-east-1:999999999999:alias/reporting"
  }
  expect_failures = [var.kms_key_arn]
}

run "rejects_short_deletion_window" {
  command = plan
  variables {
    kms_key_deletion_window_days = 3
  }
  expect_failures = [var.kms_key_deletion_window_days]
}

run "rejects_zero_noncurrent_expiration" {
  command = plan
  variables {
    noncurrent_version_expiration_days = 0
  }
  expect_failures = [var.noncurrent_version_expiration_days]
}

run "rejects_zero_results_expiration" {
  command = plan
  variables {
    athena_results_expiration_days = 0
  }
  expect_failures = [var.athena_results_expiration_days]
}

run "rejects_tiny_scan_cutoff" {
  command = plan
  variables {
    athena_bytes_scanned_cutoff = 1024
  }
  expect_failures = [var.athena_bytes_scanned_cutoff]
}

run "rejects_bad_aggregator_mode" {
  command = plan
  variables {
    aggregator_mode = "org"
  }
  expect_failures = [var.aggregator_mode]
}

run "rejects_organization_mode_without_role" {
  command = plan
  variables {
    aggregator_mode = "organization"
  }
  expect_failures = [var.organization_aggregator_role_arn]
}

run "rejects_role_without_organization_mode" {
  command = plan
  variables {
    organization_aggregator_role_arn = "arn:aws:iam::999999999999:role/config-org-aggregator"
  }
  expect_failures = [var.organization_aggregator_role_arn]
}

run "rejects_bad_access_log_bucket" {
  command = plan
  variables {
    access_log_bucket = "Not A Bucket"
  }
  expect_failures = [var.access_log_bucket]
}

# S3 bucket names are global: the account id (and Region) suffix makes them this account's, and
# the sync policy and outputs follow the final name.
run "bucket_name_suffix_adds_the_account_id_and_region" {
  command = plan

  variables {
    bucket_name_suffix = "account-region"
  }

  assert {
    condition     = aws_s3_bucket.this["sync"].bucket == "sec-virginia-ssm-data-sync-999999999999-us-east-1" && aws_s3_bucket.this["results"].bucket == "sec-virginia-athena-results-999999999999-us-east-1"
    error_message = "bucket_name_suffix = \"account-region\" appends -<account id>-<Region code> to both buckets"
  }
  assert {
    condition     = strcontains(aws_s3_bucket_policy.sync.policy, "arn:aws:s3:::sec-virginia-ssm-data-sync-999999999999-us-east-1/")
    error_message = "the sync bucket policy names the suffixed bucket"
  }
}

run "rejects_a_final_bucket_name_over_63_characters" {
  command = plan

  variables {
    # 27 + "-athena-results" 15 + "-999999999999-us-east-1" 23 = 65 > 63; "-ssm-data-sync" 14: 64.
    name_prefix        = "sec-virginia-production-xyz"
    bucket_name_suffix = "account-region"
  }

  expect_failures = [aws_s3_bucket.this["sync"], aws_s3_bucket.this["results"]]
}

run "rejects_an_unknown_bucket_name_suffix" {
  command = plan

  variables {
    bucket_name_suffix = "random"
  }

  expect_failures = [var.bucket_name_suffix]
}

run "forwarder_role_names_reach_the_bus_statement" {
  command = plan

  variables {
    member_forwarder_role_names = ["fleetpatch-*-forward-non-compliant", "siem-forwarder"]
  }

  assert {
    condition     = jsondecode(aws_cloudwatch_event_bus_policy.members[0].policy).Statement[0].Condition.ArnLike == { "aws:PrincipalArn" = ["arn:aws:iam::*:role/fleetpatch-*-forward-non-compliant", "arn:aws:iam::*:role/siem-forwarder"] }
    error_message = "each forwarder role name becomes one aws:PrincipalArn pattern"
  }
}

run "rejects_a_forwarder_pattern_admitting_every_principal" {
  command = plan
  variables {
    member_forwarder_role_names = ["*"]
  }
  expect_failures = [var.member_forwarder_role_names]
}

run "rejects_a_forwarder_name_iam_refuses" {
  command = plan
  variables {
    member_forwarder_role_names = ["role/with/slash"]
  }
  expect_failures = [var.member_forwarder_role_names]
}
