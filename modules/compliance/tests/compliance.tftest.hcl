mock_provider "aws" {
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
      account_id = "111111111111"
    }
  }
  mock_data "aws_region" {
    defaults = {
      name = "us-west-2"
    }
  }
  mock_resource "aws_iam_role" {
    override_during = plan
    defaults = {
      arn = "arn:aws:iam::111111111111:role/ss-oregon-compliance-remediation"
    }
  }
  mock_resource "aws_kms_key" {
    override_during = plan
    defaults = {
      arn    = "arn:aws:kms:us-west-2:111111111111:key/00000000-0000-0000-0000-000000000000"
      key_id = "00000000-0000-0000-0000-000000000000"
    }
  }
  mock_resource "aws_sns_topic" {
    override_during = plan
    defaults = {
      arn = "arn:aws:sns:us-west-2:111111111111:ss-oregon-compliance-alerts"
    }
  }
  mock_resource "aws_cloudwatch_event_rule" {
    override_during = plan
    defaults = {
      arn = "arn:aws:events:us-west-2:111111111111:rule/ss-oregon-config-non-compliant"
    }
  }
  mock_resource "aws_ssm_document" {
    override_during = plan
    defaults = {
      default_version = "1"
    }
  }
}

variables {
  name_prefix = "ss-oregon"
  tags        = { Environment = "test" }
}

run "rules_notifications_and_manual_remediation_by_default" {
  command = plan

  assert {
    condition = (
      one(aws_config_config_rule.this["patch"].source).source_identifier == "EC2_MANAGEDINSTANCE_PATCH_COMPLIANCE_STATUS_CHECK" &&
      one(aws_config_config_rule.this["association"].source).source_identifier == "EC2_MANAGEDINSTANCE_ASSOCIATION_COMPLIANCE_STATUS_CHECK" &&
      one(aws_config_config_rule.this["patch"].source).owner == "AWS"
    )
    error_message = "both AWS managed compliance rules are present"
  }
  assert {
    condition     = one(aws_config_config_rule.this["association"].scope).compliance_resource_types == toset(["AWS::SSM::AssociationCompliance"])
    error_message = "the association rule evaluates AWS::SSM::AssociationCompliance"
  }
  assert {
    condition     = length(aws_config_configuration_recorder.this) == 0 && length(aws_config_delivery_channel.this) == 0 && length(aws_iam_role.config) == 0 && output.recorder_name == null && output.delivery_kms_key_policy_statements == "[]"
    error_message = "no recorder is created unless asked: the existing one is used"
  }
  assert {
    condition = jsondecode(aws_cloudwatch_event_rule.non_compliant.event_pattern) == {
      source        = ["aws.config"]
      "detail-type" = ["Config Rules Compliance Change"]
      detail = {
        messageType         = ["ComplianceChangeNotification"]
        configRuleName      = ["ss-oregon-ec2-managedinstance-association-compliance", "ss-oregon-ec2-managedinstance-patch-compliance"]
        newEvaluationResult = { complianceType = ["NON_COMPLIANT"] }
      }
    }
    error_message = "the EventBridge rule matches NON_COMPLIANT changes of these two rules only"
  }
  assert {
    condition     = aws_sns_topic.alerts.kms_master_key_id == "arn:aws:kms:us-west-2:111111111111:key/00000000-0000-0000-0000-000000000000"
    error_message = "the SNS topic is encrypted with the module's KMS key"
  }
  assert {
    condition     = aws_kms_key.sns[0].enable_key_rotation && aws_kms_alias.sns[0].name == "alias/ss-oregon-compliance-alerts"
    error_message = "the created key rotates and has an alias"
  }
  assert {
    condition     = aws_cloudwatch_event_target.sns.arn == "arn:aws:sns:us-west-2:111111111111:ss-oregon-compliance-alerts"
    error_message = "the EventBridge rule publishes to the topic"
  }
  assert {
    condition = anytrue([
      for s in data.aws_iam_policy_document.topic.statement :
      s.effect == "Allow" && s.actions == toset(["sns:Publish"]) && one(s.principals).identifiers == toset(["events.amazonaws.com"]) &&
      one(s.condition).variable == "aws:SourceArn" && one(s.condition).values == tolist(["arn:aws:events:us-west-2:111111111111:rule/ss-oregon-config-non-compliant"])
    ])
    error_message = "the topic policy lets only this EventBridge rule publish (aws:SourceArn)"
  }
  assert {
    condition     = alltrue([for r in aws_config_remediation_configuration.this : r.automatic == false])
    error_message = "automatic remediation is off by default"
  }
  assert {
    condition     = aws_config_remediation_configuration.this["patch"].target_type == "SSM_DOCUMENT" && aws_config_remediation_configuration.this["patch"].target_id == "ss-oregon-Remediate-RunPatchBaseline"
    error_message = "the patch rule is remediated by the module's Automation document"
  }
  assert {
    condition = (
      { for p in aws_config_remediation_configuration.this["patch"].parameter : p.name => coalesce(p.static_value, p.resource_value) } ==
      { AutomationAssumeRole = "arn:aws:iam::111111111111:role/ss-oregon-compliance-remediation", ResourceId = "RESOURCE_ID", Operation = "Install", RebootOption = "NoReboot" }
    )
    error_message = "the patch remediation passes the role, the resource ID and Operation/RebootOption"
  }
  assert {
    condition     = [for p in aws_config_remediation_configuration.this["association"].parameter : p.name] == ["AutomationAssumeRole", "ResourceId"]
    error_message = "the association remediation passes the role and the resource ID"
  }
  assert {
    condition = (
      yamldecode(aws_ssm_document.remediation["patch"].content).mainSteps[4].action == "aws:runCommand" &&
      yamldecode(aws_ssm_document.remediation["patch"].content).mainSteps[4].inputs.DocumentName == "AWS-RunPatchBaseline" &&
      yamldecode(aws_ssm_document.remediation["patch"].content).mainSteps[4].timeoutSeconds == 7200 &&
      yamldecode(aws_ssm_document.remediation["association"].content).mainSteps[1].inputs.DocumentName == "AWS-RefreshAssociation" &&
      aws_ssm_document.remediation["patch"].document_type == "Automation"
    )
    error_message = "the Automation documents run AWS-RunPatchBaseline / AWS-RefreshAssociation with aws:runCommand"
  }
  assert {
    condition     = !contains(keys(yamldecode(aws_ssm_document.remediation["patch"].content).mainSteps[4].inputs), "OutputS3BucketName")
    error_message = "no command output bucket unless given"
  }
  assert {
    condition = (
      [for s in yamldecode(aws_ssm_document.remediation["patch"].content).mainSteps : s.name] == ["ResolveManagedNodeId", "CheckNodeIsFree", "SkipOrPatch", "NodeHeldSkipped", "RunAWSRunPatchBaseline"] &&
      yamldecode(aws_ssm_document.remediation["patch"].content).mainSteps[2].inputs.Choices[0].NextStep == "NodeHeldSkipped"
    )
    error_message = "the patch remediation checks that no patch run or AWS-RunPatchBaseline holds the node before it runs one"
  }
  assert {
    condition     = one(one(aws_config_remediation_configuration.this["patch"].execution_controls).ssm_controls).concurrent_execution_rate_percentage == 10
    error_message = "remediation rate control is set"
  }
  assert {
    condition     = !contains(flatten([for s in data.aws_iam_policy_document.remediation.statement : tolist(s.actions)]), "*") && contains(data.aws_iam_policy_document.remediation.statement[0].resources, "arn:aws:ssm:us-west-2::document/AWS-RunPatchBaseline")
    error_message = "the remediation role may send only the two remediation commands"
  }
  assert {
    condition     = anytrue([for c in data.aws_iam_policy_document.automation_trust.statement[0].condition : c.variable == "aws:SourceArn" && c.values == tolist(["arn:aws:ssm:us-west-2:111111111111:automation-execution/*"])])
    error_message = "the Automation role trust is scoped to this account's Automation executions"
  }
  assert {
    condition     = aws_config_config_rule.this["patch"].tags["Environment"] == "test" && aws_sns_topic.alerts.tags["Environment"] == "test"
    error_message = "tags are applied"
  }
}

run "recorder_given_key_and_automatic_remediation" {
  command = plan

  variables {
    rules                      = ["patch"]
    create_recorder            = true
    delivery_bucket_name       = "ss-oregon-config"
    delivery_kms_key_arn       = "arn:aws:kms:us-west-2:111111111111:key/11111111-1111-1111-1111-111111111111"
    sns_kms_key_arn            = "arn:aws:kms:us-west-2:111111111111:key/22222222-2222-2222-2222-222222222222"
    automatic_remediation      = true
    maximum_automatic_attempts = 2
    retry_attempt_seconds      = 600
    patch_operation            = "Scan"
    command_output_bucket_name = "ss-oregon-patch-baseline-logs"
  }

  assert {
    condition     = aws_config_configuration_recorder.this[0].name == "default" && one(aws_config_configuration_recorder.this[0].recording_group).all_supported == false
    error_message = "a recorder of the SSM resource types is created"
  }
  assert {
    condition     = contains(one(aws_config_configuration_recorder.this[0].recording_group).resource_types, "AWS::SSM::PatchCompliance")
    error_message = "the recorder records patch compliance"
  }
  assert {
    condition     = aws_config_delivery_channel.this[0].s3_bucket_name == "ss-oregon-config" && aws_config_configuration_recorder_status.this[0].is_enabled
    error_message = "the delivery channel uses the bucket and the recorder is started"
  }
  assert {
    condition     = aws_config_delivery_channel.this[0].s3_kms_key_arn == "arn:aws:kms:us-west-2:111111111111:key/11111111-1111-1111-1111-111111111111"
    error_message = "the delivery channel encrypts with the given delivery key (s3KmsKeyArn)"
  }
  assert {
    condition = jsondecode(output.delivery_kms_key_policy_statements) == [
      {
        Sid       = "AWSConfigRecorderRoleDelivers111111111111"
        Effect    = "Allow"
        Principal = { AWS = "arn:aws:iam::111111111111:role/ss-oregon-compliance-remediation" }
        Action    = ["kms:Decrypt", "kms:GenerateDataKey"]
        Resource  = "*"
      },
      {
        Sid       = "AWSConfigServiceDelivers111111111111"
        Effect    = "Allow"
        Principal = { Service = "config.amazonaws.com" }
        Action    = ["kms:Decrypt", "kms:GenerateDataKey"]
        Resource  = "*"
        Condition = { StringEquals = { "AWS:SourceAccount" = "111111111111" } }
      },
    ]
    error_message = "the delivery key needs the recorder role and config.amazonaws.com limited to this account (AWS:SourceAccount)"
  }
  assert {
    condition     = aws_iam_role_policy_attachment.config[0].policy_arn == "arn:aws:iam::aws:policy/service-role/AWS_ConfigRole"
    error_message = "the recorder role gets AWS_ConfigRole through a partition-aware ARN"
  }
  assert {
    condition     = length(aws_kms_key.sns) == 0 && aws_sns_topic.alerts.kms_master_key_id == "arn:aws:kms:us-west-2:111111111111:key/22222222-2222-2222-2222-222222222222"
    error_message = "a given key is used and none is created"
  }
  assert {
    condition     = keys(aws_config_config_rule.this) == ["patch"] && keys(aws_config_remediation_configuration.this) == ["patch"]
    error_message = "only the selected rule is deployed"
  }
  assert {
    condition = (
      aws_config_remediation_configuration.this["patch"].automatic == true &&
      aws_config_remediation_configuration.this["patch"].maximum_automatic_attempts == 2 &&
      aws_config_remediation_configuration.this["patch"].retry_attempt_seconds == 600
    )
    error_message = "automatic remediation and its retries are set when asked"
  }
  assert {
    condition     = yamldecode(aws_ssm_document.remediation["patch"].content).parameters.Operation.default == "Scan" && yamldecode(aws_ssm_document.remediation["patch"].content).mainSteps[4].inputs.OutputS3BucketName == "ss-oregon-patch-baseline-logs"
    error_message = "the patch operation and output bucket reach the document"
  }
}

run "recorder_of_all_supported_types" {
  command = plan

  variables {
    create_recorder      = true
    record_all_supported = true
    delivery_bucket_name = "ss-oregon-config"
  }

  assert {
    condition     = one(aws_config_configuration_recorder.this[0].recording_group).all_supported == true && length(one(aws_config_configuration_recorder.this[0].recording_group).recording_strategy) == 0
    error_message = "record_all_supported records every supported type"
  }
  assert {
    condition     = aws_config_delivery_channel.this[0].s3_kms_key_arn == null && output.delivery_kms_key_policy_statements == "[]"
    error_message = "without a delivery key the channel uses the bucket's default encryption and asks nothing of a key policy"
  }
}

run "rejects_bad_name_prefix" {
  command = plan
  variables {
    name_prefix = "SS_Oregon"
  }
  expect_failures = [var.name_prefix]
}

run "rejects_unknown_rule" {
  command = plan
  variables {
    rules = ["patch", "inventory"]
  }
  expect_failures = [var.rules]
}

run "rejects_bad_recorder_name" {
  command = plan
  variables {
    recorder_name = "my recorder"
  }
  expect_failures = [var.recorder_name]
}

run "rejects_recorded_types_without_patch_compliance" {
  command = plan
  variables {
    recorded_resource_types = ["AWS::EC2::Instance"]
  }
  expect_failures = [var.recorded_resource_types]
}

run "rejects_recorder_without_delivery_bucket" {
  command = plan
  variables {
    create_recorder = true
  }
  expect_failures = [var.delivery_bucket_name]
}

run "rejects_bad_delivery_prefix" {
  command = plan
  variables {
    delivery_s3_key_prefix = "config/AWSLogs"
  }
  expect_failures = [var.delivery_s3_key_prefix]
}

run "rejects_bad_delivery_kms_key" {
  command = plan
  variables {
    delivery_kms_key_arn = "alias/aws/s3"
  }
  expect_failures = [var.delivery_kms_key_arn]
}

run "rejects_bad_delivery_frequency" {
  command = plan
  variables {
    delivery_frequency = "Daily"
  }
  expect_failures = [var.delivery_frequency]
}

run "rejects_aws_managed_sns_key_alias" {
  command = plan
  variables {
    sns_kms_key_arn = "alias/aws/sns"
  }
  expect_failures = [var.sns_kms_key_arn]
}

run "rejects_short_key_deletion_window" {
  command = plan
  variables {
    kms_key_deletion_window_days = 3
  }
  expect_failures = [var.kms_key_deletion_window_days]
}

run "rejects_too_many_automatic_attempts" {
  command = plan
  variables {
    maximum_automatic_attempts = 26
  }
  expect_failures = [var.maximum_automatic_attempts]
}

run "rejects_zero_retry_seconds" {
  command = plan
  variables {
    retry_attempt_seconds = 0
  }
  expect_failures = [var.retry_attempt_seconds]
}

run "rejects_concurrency_above_100" {
  command = plan
  variables {
    remediation_concurrency_percentage = 101
  }
  expect_failures = [var.remediation_concurrency_percentage]
}

run "rejects_zero_error_percentage" {
  command = plan
  variables {
    remediation_error_percentage = 0
  }
  expect_failures = [var.remediation_error_percentage]
}

run "rejects_unknown_patch_operation" {
  command = plan
  variables {
    patch_operation = "InstallAndReboot"
  }
  expect_failures = [var.patch_operation]
}

run "rejects_unknown_reboot_option" {
  command = plan
  variables {
    reboot_option = "RebootAlways"
  }
  expect_failures = [var.reboot_option]
}

run "rejects_short_command_timeout" {
  command = plan
  variables {
    command_timeout_seconds = 30
  }
  expect_failures = [var.command_timeout_seconds]
}

run "rejects_bad_command_output_bucket" {
  command = plan
  variables {
    command_output_bucket_name = "Patch_Logs"
  }
  expect_failures = [var.command_output_bucket_name]
}

run "rejects_bad_command_output_prefix" {
  command = plan
  variables {
    command_output_key_prefix = "/remediation/"
  }
  expect_failures = [var.command_output_key_prefix]
}

run "alarms_may_publish_only_when_named" {
  command = plan

  assert {
    condition     = length([for s in data.aws_iam_policy_document.topic.statement : s if s.sid == "CloudWatchAlarmsPublish"]) == 0 && length([for s in data.aws_iam_policy_document.sns_key[0].statement : s if s.sid == "CloudWatchAlarmsPublishToEncryptedTopic"]) == 0
    error_message = "no alarm may publish by default"
  }
}

run "named_alarms_publish_to_the_encrypted_topic" {
  command = plan

  variables {
    alarm_name_prefixes = ["ss-oregon-patch-"]
  }

  assert {
    condition = (
      contains([for c in one([for s in data.aws_iam_policy_document.topic.statement : s if s.sid == "CloudWatchAlarmsPublish"]).condition : "${c.test} ${c.variable} ${join(",", c.values)}"], "ArnLike aws:SourceArn arn:aws:cloudwatch:us-west-2:111111111111:alarm:ss-oregon-patch-*") &&
      contains([for c in one([for s in data.aws_iam_policy_document.topic.statement : s if s.sid == "CloudWatchAlarmsPublish"]).condition : "${c.test} ${c.variable} ${join(",", c.values)}"], "StringEquals aws:SourceAccount 111111111111")
    )
    error_message = "only this account's alarms named ss-oregon-patch-* may publish"
  }
  assert {
    condition     = one([for s in data.aws_iam_policy_document.sns_key[0].statement : s if s.sid == "CloudWatchAlarmsPublishToEncryptedTopic"]).actions == toset(["kms:Decrypt", "kms:GenerateDataKey*"])
    error_message = "CloudWatch may use the topic key for those alarms"
  }
}

run "rejects_a_wildcard_alarm_prefix" {
  command = plan

  variables {
    alarm_name_prefixes = ["ss-*"]
  }

  expect_failures = [var.alarm_name_prefixes]
}

run "rules_aws_config_does_not_offer_in_the_region_are_skipped" {
  command = plan

  # Jakarta: the patch rule is offered, the association rule is not.
  override_data {
    target = data.aws_region.current
    values = { name = "ap-southeast-3" }
  }

  assert {
    condition     = toset(keys(aws_config_config_rule.this)) == toset(["patch"]) && toset(output.skipped_rules) == toset(["association"])
    error_message = "the association rule is skipped where AWS Config does not offer it; the patch rule stays"
  }
  assert {
    condition     = toset(keys(aws_ssm_document.remediation)) == toset(["patch"])
    error_message = "no remediation document for a skipped rule"
  }
  assert {
    condition     = length(jsondecode(aws_cloudwatch_event_rule.non_compliant.event_pattern).detail.configRuleName) == 2
    error_message = "the event pattern keeps both names (never an empty list)"
  }
}

run "region_offering_neither_rule_plans_without_rules" {
  command = plan

  # Osaka offers neither rule.
  override_data {
    target = data.aws_region.current
    values = { name = "ap-northeast-3" }
  }

  assert {
    condition     = length(aws_config_config_rule.this) == 0 && toset(output.skipped_rules) == toset(["association", "patch"]) && length(output.notified_rule_names) == 2
    error_message = "both rules are skipped in Osaka and the event pattern stays valid"
  }
}

run "rejects_unknown_rule_in_unavailable_regions" {
  command = plan
  variables {
    rule_unavailable_regions = { inventory = ["ap-northeast-3"] }
  }
  expect_failures = [var.rule_unavailable_regions]
}

run "rejects_bad_region_in_unavailable_regions" {
  command = plan
  variables {
    rule_unavailable_regions = { patch = ["Osaka"] }
  }
  expect_failures = [var.rule_unavailable_regions]
}
