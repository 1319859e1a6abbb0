mock_provider "aws" {
  # Computed attributes (the role ARN in the EventBridge input) get their mock values at plan.
  override_during = plan

  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }
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
  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::111111111111:role/ss-oregon-patch-run-automation"
    }
  }
}

variables {
  name_prefix           = "ss-oregon"
  patch_groups          = ["Linux", "Windows", "AppA"]
  output_s3_bucket_name = "ss-oregon-patch-baseline-logs"
  tags                  = { Environment = "test" }
}

run "registers_the_document_and_a_schedule_per_patch_group" {
  command = plan

  assert {
    condition     = aws_ssm_document.patch_run.name == "ss-oregon-PatchRun" && aws_ssm_document.patch_run.document_type == "Automation" && aws_ssm_document.patch_run.document_format == "YAML"
    error_message = "the patch run is registered as a YAML Automation document"
  }
  assert {
    condition     = aws_ssm_document.patch_run.content == file("${path.module}/../../ssm_documents/generated/patch_run.yaml")
    error_message = "the document content is the generated patch_run.yaml"
  }
  assert {
    condition     = yamldecode(aws_ssm_document.patch_run.content).schemaVersion == "0.3"
    error_message = "the content is an Automation document (schemaVersion 0.3)"
  }
  assert {
    condition     = length(aws_cloudwatch_event_rule.patch_run) == 3 && alltrue([for r in aws_cloudwatch_event_rule.patch_run : r.schedule_expression == "rate(14 days)" && r.state == "ENABLED"])
    error_message = "one enabled rule per patch group, every 14 days by default"
  }
  assert {
    condition     = aws_cloudwatch_event_rule.patch_run["AppA"].name == "ss-oregon-patch-AppA"
    error_message = "rules are named <prefix>-patch-<group>"
  }
  assert {
    condition     = aws_cloudwatch_event_target.patch_run["Linux"].arn == "arn:aws:ssm:us-west-2:111111111111:automation-definition/ss-oregon-PatchRun:$DEFAULT"
    error_message = "the target is the default version of the Automation document"
  }
  assert {
    condition     = aws_ssm_document.patch_run.tags["Environment"] == "test" && aws_iam_role.automation.tags["Environment"] == "test" && aws_cloudwatch_event_rule.patch_run["Linux"].tags["Environment"] == "test"
    error_message = "tags are applied"
  }
}

run "target_input_carries_the_automation_parameters" {
  command = plan

  assert {
    condition     = jsondecode(aws_cloudwatch_event_target.patch_run["Windows"].input).PatchGroup == ["Windows"]
    error_message = "each schedule patches its own patch group"
  }
  assert {
    condition     = jsondecode(aws_cloudwatch_event_target.patch_run["Windows"].input).PatchGroupTagKey == ["PatchGroup"]
    error_message = "the tag key defaults to PatchGroup"
  }
  assert {
    condition     = jsondecode(aws_cloudwatch_event_target.patch_run["Windows"].input).Operation == ["Install"] && jsondecode(aws_cloudwatch_event_target.patch_run["Windows"].input).RebootOption == ["RebootIfNeeded"]
    error_message = "Install with RebootIfNeeded by default"
  }
  assert {
    condition     = jsondecode(aws_cloudwatch_event_target.patch_run["Windows"].input).MaxConcurrency == ["10%"] && jsondecode(aws_cloudwatch_event_target.patch_run["Windows"].input).MaxErrors == ["10%"]
    error_message = "rate control defaults to 10% / 10%"
  }
  assert {
    condition     = jsondecode(aws_cloudwatch_event_target.patch_run["Windows"].input).OutputS3BucketName == ["ss-oregon-patch-baseline-logs"] && jsondecode(aws_cloudwatch_event_target.patch_run["Windows"].input).OutputS3KeyPrefix == ["patch-run/Windows"]
    error_message = "output goes to the patch-baseline bucket under <prefix>/<group>"
  }
  assert {
    condition     = jsondecode(aws_cloudwatch_event_target.patch_run["Windows"].input).OnlineTimeoutSeconds == ["480"]
    error_message = "the online timeout is passed as a string list"
  }
  assert {
    condition     = jsondecode(aws_cloudwatch_event_target.patch_run["Windows"].input).MetricsNamespace == ["fleetpatch"]
    error_message = "the run publishes SkippedInstances into the namespace its role may write and its alarm reads"
  }
  assert {
    condition     = !contains(keys(jsondecode(aws_cloudwatch_event_target.patch_run["Windows"].input)), "BaselineOverride") && !contains(keys(jsondecode(aws_cloudwatch_event_target.patch_run["Windows"].input)), "InstallOverrideList")
    error_message = "unset overrides are not passed (the document defaults apply)"
  }
  assert {
    condition = alltrue([
      for k in keys(jsondecode(aws_cloudwatch_event_target.patch_run["Windows"].input)) :
      contains(keys(yamldecode(aws_ssm_document.patch_run.content).parameters), k)
    ])
    error_message = "every input key is a parameter of the document"
  }
}

run "automation_role_is_least_privilege" {
  command = plan

  assert {
    condition     = alltrue(flatten([for s in jsondecode(aws_iam_role_policy.automation.policy).Statement : [for a in flatten([s.Action]) : a != "*" && !endswith(a, ":*")]]))
    error_message = "no wildcard action"
  }
  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.automation.policy).Statement : s if s.Sid == "StartStopClaimedInstances"]).Condition.StringEquals["aws:ResourceTag/PatchGroup"] == ["Linux", "Windows", "AppA"]
    error_message = "start/stop is limited to instances of the managed patch groups"
  }
  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.automation.policy).Statement : s if s.Sid == "StartStopClaimedInstances"]).Condition.Null["aws:ResourceTag/fleetpatch:started-by"] == "false"
    error_message = "start/stop needs the run's marker tag on the instance"
  }
  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.automation.policy).Statement : s if s.Sid == "TagClaimedInstances"]).Condition["ForAllValues:StringEquals"]["aws:TagKeys"] == ["fleetpatch:started-by", "fleetpatch:patch-run"]
    error_message = "the role can only write the two marker tags"
  }

  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.automation.policy).Statement : s if s.Sid == "StartStopClaimedInstances"]).Condition.Null["aws:ResourceTag/aws:autoscaling:groupName"] == "true"
    error_message = "the role can never start or stop an Auto Scaling group member"
  }

  assert {
    condition     = length([for s in jsondecode(aws_iam_role_policy.automation.policy).Statement : s if contains(["NotifyFailedRuns", "EncryptNotifications", "CheckOverrideObjects"], s.Sid)]) == 0
    error_message = "no SNS, KMS or S3 permission unless a topic or override objects are given"
  }
  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.automation.policy).Statement : s if s.Sid == "TagClaimedInstances"]).Condition.Null["aws:TagKeys"] == "false"
    error_message = "a tag request must name its keys (DeleteTags without Tags deletes every tag)"
  }
  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.automation.policy).Statement : s if s.Sid == "ListResourceGroupMembers"]).Resource == "arn:aws:resource-groups:us-west-2:111111111111:group/*" && one([for s in jsondecode(aws_iam_role_policy.automation.policy).Statement : s if s.Sid == "ResolveTagBasedGroups"]).Action == ["tag:GetResources"]
    error_message = "ResourceGroupName targets need ListGroupResources and tag:GetResources"
  }
  assert {
    condition     = contains(one([for s in jsondecode(aws_iam_role_policy.automation.policy).Statement : s if s.Sid == "RunPatchAndAgentUpdateDocuments"]).Resource, "arn:aws:ssm:us-west-2::document/AWS-RunPatchBaseline") && contains(one([for s in jsondecode(aws_iam_role_policy.automation.policy).Statement : s if s.Sid == "RunPatchAndAgentUpdateDocuments"]).Resource, "arn:aws:ssm:us-west-2::document/AWS-UpdateSSMAgent")
    error_message = "SendCommand is limited to the two AWS documents (and instances)"
  }
  assert {
    condition     = length([for s in jsondecode(aws_iam_role_policy.automation.policy).Statement : s if s.Sid == "StartInstancesWithEncryptedVolumes"]) == 0
    error_message = "no KMS permission unless keys are given"
  }
  assert {
    condition     = jsondecode(aws_iam_role.automation.assume_role_policy).Statement[0].Condition.StringEquals["aws:SourceAccount"] == "111111111111"
    error_message = "only SSM Automation of this account can assume the role"
  }
}

run "events_role_starts_only_this_document_and_passes_only_the_automation_role" {
  command = plan

  assert {
    condition     = jsondecode(aws_iam_role_policy.events.policy).Statement[0].Resource == ["arn:aws:ssm:us-west-2:111111111111:automation-definition/ss-oregon-PatchRun:$DEFAULT"]
    error_message = "EventBridge may start only this automation definition"
  }
  assert {
    condition     = jsondecode(aws_iam_role_policy.events.policy).Statement[1].Action == ["iam:PassRole"] && jsondecode(aws_iam_role_policy.events.policy).Statement[1].Condition.StringEquals["iam:PassedToService"] == "ssm.amazonaws.com"
    error_message = "PassRole only to SSM"
  }
}

run "overrides_scan_no_reboot_counts_and_disabled" {
  command = plan

  variables {
    schedule_expression    = "cron(0 3 ? * SUN *)"
    schedule_overrides     = { AppA = "cron(0 5 ? * SAT *)" }
    enabled                = false
    operation              = "Scan"
    reboot_option          = "NoReboot"
    max_concurrency        = "5"
    max_errors             = "0"
    online_timeout_seconds = 300
    patch_group_tag_key    = "Patch Group"
    ebs_kms_key_arns       = ["arn:aws:kms:us-west-2:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"]
    baseline_override      = "s3://ss-oregon-config/baselines/appa.json"
    install_override_list  = "https://example.com/patches.yaml"
  }

  assert {
    condition     = jsondecode(aws_cloudwatch_event_target.patch_run["AppA"].input).BaselineOverride == ["s3://ss-oregon-config/baselines/appa.json"] && jsondecode(aws_cloudwatch_event_target.patch_run["AppA"].input).InstallOverrideList == ["https://example.com/patches.yaml"]
    error_message = "the overrides are passed when set"
  }

  assert {
    condition     = aws_cloudwatch_event_rule.patch_run["Linux"].schedule_expression == "cron(0 3 ? * SUN *)" && aws_cloudwatch_event_rule.patch_run["AppA"].schedule_expression == "cron(0 5 ? * SAT *)"
    error_message = "the override replaces the default schedule of its group only"
  }
  assert {
    condition     = alltrue([for r in aws_cloudwatch_event_rule.patch_run : r.state == "DISABLED"])
    error_message = "enabled = false disables every schedule"
  }
  assert {
    condition     = jsondecode(aws_cloudwatch_event_target.patch_run["AppA"].input).Operation == ["Scan"] && jsondecode(aws_cloudwatch_event_target.patch_run["AppA"].input).RebootOption == ["NoReboot"]
    error_message = "operation and reboot option are passed"
  }
  assert {
    condition     = jsondecode(aws_cloudwatch_event_target.patch_run["AppA"].input).MaxConcurrency == ["5"] && jsondecode(aws_cloudwatch_event_target.patch_run["AppA"].input).MaxErrors == ["0"]
    error_message = "counts are accepted as rate control"
  }
  assert {
    condition     = jsondecode(aws_cloudwatch_event_target.patch_run["AppA"].input).PatchGroupTagKey == ["Patch Group"]
    error_message = "the classic tag key with a space is passed through"
  }
  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.automation.policy).Statement : s if s.Sid == "StartStopClaimedInstances"]).Condition.StringEquals["aws:ResourceTag/Patch Group"] == ["Linux", "Windows", "AppA"]
    error_message = "the IAM tag condition follows the tag key"
  }
  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.automation.policy).Statement : s if s.Sid == "StartInstancesWithEncryptedVolumes"]).Resource == ["arn:aws:kms:us-west-2:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"]
    error_message = "kms:CreateGrant only on the given EBS keys"
  }
}

run "rejects_bad_name_prefix" {
  command = plan
  variables {
    name_prefix = "aws-fleet"
  }
  expect_failures = [var.name_prefix]
}

run "rejects_duplicate_patch_groups" {
  command = plan
  variables {
    patch_groups = ["Linux", "Linux"]
  }
  expect_failures = [var.patch_groups]
}

run "rejects_aws_tag_key" {
  command = plan
  variables {
    patch_group_tag_key = "aws:PatchGroup"
  }
  expect_failures = [var.patch_group_tag_key]
}

run "rejects_bad_rate_expression" {
  command = plan
  variables {
    schedule_expression = "rate(14 day)"
  }
  expect_failures = [var.schedule_expression]
}

run "rejects_override_of_unknown_group" {
  command = plan
  variables {
    schedule_overrides = { Solaris = "rate(7 days)" }
  }
  expect_failures = [var.schedule_overrides]
}

run "rejects_unknown_operation" {
  command = plan
  variables {
    operation = "Patch"
  }
  expect_failures = [var.operation]
}

run "rejects_unknown_reboot_option" {
  command = plan
  variables {
    reboot_option = "RebootAlways"
  }
  expect_failures = [var.reboot_option]
}

run "rejects_bad_max_concurrency" {
  command = plan
  variables {
    max_concurrency = "0"
  }
  expect_failures = [var.max_concurrency]
}

run "rejects_bad_max_errors" {
  command = plan
  variables {
    max_errors = "101%"
  }
  expect_failures = [var.max_errors]
}

run "rejects_online_timeout_over_the_script_limit" {
  command = plan
  variables {
    online_timeout_seconds = 600
  }
  expect_failures = [var.online_timeout_seconds]
}

run "rejects_bad_bucket_name" {
  command = plan
  variables {
    output_s3_bucket_name = "Patch_Logs"
  }
  expect_failures = [var.output_s3_bucket_name]
}

run "rejects_key_prefix_with_leading_slash" {
  command = plan
  variables {
    output_s3_key_prefix = "/patch-run"
  }
  expect_failures = [var.output_s3_key_prefix]
}

run "rejects_baseline_override_that_is_not_a_url" {
  command = plan
  variables {
    baseline_override = "my-baseline.json"
  }
  expect_failures = [var.baseline_override]
}

run "rejects_install_override_list_that_is_not_a_url" {
  command = plan
  variables {
    install_override_list = "ftp://host/list.yaml"
  }
  expect_failures = [var.install_override_list]
}

run "rejects_bad_kms_key_arn" {
  command = plan
  variables {
    ebs_kms_key_arns = ["alias/aws/ebs"]
  }
  expect_failures = [var.ebs_kms_key_arns]
}

run "notification_topic_and_override_objects_get_scoped_permissions" {
  command = plan

  variables {
    notification_topic_arn   = "arn:aws:sns:us-west-2:111111111111:ss-oregon-compliance"
    notification_kms_key_arn = "arn:aws:kms:us-west-2:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    install_override_list    = "s3://ss-oregon-overrides/install.yaml"
    override_s3_buckets      = ["ss-oregon-hand-overrides"]
    patch_timeout_seconds    = 7200
  }

  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.automation.policy).Statement : s if s.Sid == "NotifyFailedRuns"]).Resource == ["arn:aws:sns:us-west-2:111111111111:ss-oregon-compliance"]
    error_message = "sns:Publish on the compliance topic only"
  }

  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.automation.policy).Statement : s if s.Sid == "EncryptNotifications"]).Condition.StringEquals["kms:ViaService"] == "sns.us-west-2.amazonaws.com"
    error_message = "the topic key is used through SNS only"
  }

  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.automation.policy).Statement : s if s.Sid == "CheckOverrideObjects"]).Resource == ["arn:aws:s3:::ss-oregon-overrides/install.yaml", "arn:aws:s3:::ss-oregon-hand-overrides/*"]
    error_message = "HeadObject only on the override objects"
  }

  assert {
    condition     = jsondecode(aws_cloudwatch_event_target.patch_run["Linux"].input).NotificationTopicArn == ["arn:aws:sns:us-west-2:111111111111:ss-oregon-compliance"] && jsondecode(aws_cloudwatch_event_target.patch_run["Linux"].input).PatchTimeoutSeconds == ["7200"]
    error_message = "the schedule passes the topic and the patch timeout"
  }
}

run "rejects_a_patch_timeout_out_of_range" {
  command = plan

  variables {
    patch_timeout_seconds = 50000
  }

  expect_failures = [var.patch_timeout_seconds]
}

# SendCommand's own MaxConcurrency / MaxErrors patterns: no leading zeros (the run would start
# instances and fail at PatchNodes).
run "rejects_max_errors_with_a_leading_zero" {
  command = plan
  variables {
    max_errors = "05%"
  }
  expect_failures = [var.max_errors]
}

run "rejects_max_errors_count_with_leading_zeros" {
  command = plan
  variables {
    max_errors = "007"
  }
  expect_failures = [var.max_errors]
}

run "accepts_a_seven_digit_max_concurrency" {
  command = plan
  variables {
    max_concurrency = "1000000"
    max_errors      = "0"
  }
}

# The events role trusts only this module's patch-run rules (aws:SourceArn), not any rule of the
# account, and not the janitor's rule (which has its own role).
run "events_role_trusts_only_the_patch_run_rules" {
  command = plan

  assert {
    condition = jsondecode(aws_iam_role.events.assume_role_policy).Statement[0].Condition == {
      StringEquals = { "aws:SourceAccount" = "111111111111" }
      ArnEquals = { "aws:SourceArn" = [
        "arn:aws:events:us-west-2:111111111111:rule/ss-oregon-patch-AppA",
        "arn:aws:events:us-west-2:111111111111:rule/ss-oregon-patch-Linux",
        "arn:aws:events:us-west-2:111111111111:rule/ss-oregon-patch-Windows",
      ] }
    }
    error_message = "the events role's trust names exactly the patch-run rules of this module"
  }
  assert {
    condition     = alltrue([for g, r in aws_cloudwatch_event_rule.patch_run : contains(jsondecode(aws_iam_role.events.assume_role_policy).Statement[0].Condition.ArnEquals["aws:SourceArn"], "arn:aws:events:us-west-2:111111111111:rule/${r.name}")])
    error_message = "every patch-run rule is trusted (its name matches the ARN the trust policy names)"
  }
}

run "rejects_a_trust_policy_over_the_iam_quota" {
  command = plan

  variables {
    patch_groups = [for i in range(40) : "patch-group-number-${i}"]
  }

  expect_failures = [aws_iam_role.events]
}
