mock_provider "aws" {
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
      arn = "arn:aws:iam::111111111111:role/ss-oregon-patch-janitor"
    }
  }
}

variables {
  name_prefix           = "ss-oregon"
  patch_groups          = ["Linux", "Windows", "AppA"]
  output_s3_bucket_name = "ss-oregon-patch-baseline-logs"
  tags                  = { Environment = "test" }
}

run "the_janitor_is_on_by_default_every_hour" {
  command = plan

  assert {
    condition     = aws_ssm_document.janitor[0].name == "ss-oregon-PatchJanitor" && aws_ssm_document.janitor[0].document_type == "Automation" && aws_ssm_document.janitor[0].content == file("${path.module}/../../ssm_documents/generated/patch_janitor.yaml")
    error_message = "the janitor is the generated patch_janitor.yaml, registered as an Automation document"
  }
  assert {
    condition     = aws_cloudwatch_event_rule.janitor[0].schedule_expression == "rate(1 hour)" && aws_cloudwatch_event_rule.janitor[0].state == "ENABLED" && aws_cloudwatch_event_rule.janitor[0].name == "ss-oregon-patch-janitor"
    error_message = "the janitor runs every hour by default"
  }
  assert {
    condition     = aws_cloudwatch_event_target.janitor[0].arn == "arn:aws:ssm:us-west-2:111111111111:automation-definition/ss-oregon-PatchJanitor:$DEFAULT"
    error_message = "the schedule starts the janitor's default version"
  }
  assert {
    condition     = jsondecode(aws_cloudwatch_event_target.janitor[0].input).PatchRunDocumentName == ["ss-oregon-PatchRun"] && jsondecode(aws_cloudwatch_event_target.janitor[0].input).PatchGroups == ["Linux", "Windows", "AppA"] && jsondecode(aws_cloudwatch_event_target.janitor[0].input).DryRun == ["false"]
    error_message = "the janitor looks at this module's patch groups and document"
  }
  assert {
    condition     = jsondecode(aws_cloudwatch_event_target.janitor[0].input).GracePeriodSeconds == [tostring(output.patch_run_max_run_seconds)] && output.janitor_grace_period_seconds == output.patch_run_max_run_seconds
    error_message = "the default grace period is the patch run's maximum run time"
  }
  assert {
    # PatchNodes alone may run 4 hours or more; the sum also counts the onCancel limit.
    condition     = output.patch_run_max_run_seconds > 14400 + 120 && output.patch_run_max_run_seconds <= 30 * 86400
    error_message = "the patch run's maximum run time is the sum of its step timeouts and within AWS's 30-day execution history"
  }
  assert {
    condition     = length(aws_cloudwatch_metric_alarm.janitor) == 2 && length(aws_cloudwatch_metric_alarm.skipped_instances) == 3 && aws_cloudwatch_metric_alarm.skipped_instances["AppA"].dimensions["PatchGroup"] == "AppA" && aws_cloudwatch_metric_alarm.skipped_instances["AppA"].dimensions["DocumentName"] == "ss-oregon-PatchRun"
    error_message = "errors and orphans alarms for the janitor, one skipped-instances alarm per patch group"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.janitor["errors"].metric_name == "CleanupErrors" && aws_cloudwatch_metric_alarm.janitor["errors"].treat_missing_data == "notBreaching" && aws_cloudwatch_metric_alarm.janitor["orphans"].namespace == "fleetpatch"
    error_message = "the alarms watch the janitor's metrics in the module's namespace"
  }
}

run "the_janitor_role_is_tag_conditioned" {
  command = plan

  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.janitor[0].policy).Statement : s if s.Sid == "StopMarkedInstances"]).Condition.Null == { "aws:ResourceTag/fleetpatch:started-by" = "false", "aws:ResourceTag/aws:autoscaling:groupName" = "true" }
    error_message = "the janitor stops only marked instances, never Auto Scaling group members"
  }
  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.janitor[0].policy).Statement : s if s.Sid == "StopMarkedInstances"]).Condition.StringEquals == { "aws:ResourceTag/PatchGroup" = ["Linux", "Windows", "AppA"] }
    error_message = "the janitor stops only instances of the managed patch groups"
  }
  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.janitor[0].policy).Statement : s if s.Sid == "RemoveOnlyTheMarker"]).Action == ["ec2:DeleteTags"] && one([for s in jsondecode(aws_iam_role_policy.janitor[0].policy).Statement : s if s.Sid == "RemoveOnlyTheMarker"]).Condition["ForAllValues:StringEquals"] == { "aws:TagKeys" = ["fleetpatch:started-by"] } && one([for s in jsondecode(aws_iam_role_policy.janitor[0].policy).Statement : s if s.Sid == "RemoveOnlyTheMarker"]).Condition.Null["aws:TagKeys"] == "false"
    error_message = "DeleteTags only of the marker key, and only when the request names its keys (Null aws:TagKeys)"
  }
  assert {
    condition     = !anytrue([for s in jsondecode(aws_iam_role_policy.janitor[0].policy).Statement : contains(flatten([s.Action]), "ec2:CreateTags") || contains(flatten([s.Action]), "ec2:StartInstances")])
    error_message = "the janitor never tags or starts anything"
  }
  assert {
    condition     = one([for s in jsondecode(aws_iam_role_policy.janitor[0].policy).Statement : s if s.Sid == "PublishJanitorMetrics"]).Condition.StringEquals["cloudwatch:namespace"] == "fleetpatch" && jsondecode(aws_iam_role_policy.automation_metrics.policy).Statement[0].Condition.StringEquals["cloudwatch:namespace"] == "fleetpatch"
    error_message = "PutMetricData only into the module's namespace"
  }
  assert {
    condition     = jsondecode(aws_iam_role.janitor_events[0].assume_role_policy).Statement[0].Condition.ArnEquals["aws:SourceArn"] == "arn:aws:events:us-west-2:111111111111:rule/ss-oregon-patch-janitor"
    error_message = "only the janitor's own rule can assume its EventBridge role"
  }
}

run "the_janitor_can_be_left_out" {
  command = plan

  variables {
    janitor_enabled = false
  }

  assert {
    condition     = length(aws_ssm_document.janitor) == 0 && length(aws_cloudwatch_event_rule.janitor) == 0 && length(aws_cloudwatch_metric_alarm.janitor) == 0 && output.janitor_document_name == null
    error_message = "janitor_enabled = false deploys no janitor"
  }
}

run "a_longer_grace_period_and_dry_run_reach_the_janitor" {
  command = plan

  variables {
    janitor_grace_period_seconds = 2592000
    janitor_dry_run              = true
    janitor_schedule_expression  = "cron(15 * * * ? *)"
    janitor_alarm_actions        = ["arn:aws:sns:us-west-2:111111111111:compliance"]
  }

  assert {
    condition     = jsondecode(aws_cloudwatch_event_target.janitor[0].input).GracePeriodSeconds == ["2592000"] && jsondecode(aws_cloudwatch_event_target.janitor[0].input).DryRun == ["true"]
    error_message = "the grace period and dry-run flag are passed to the janitor"
  }
  assert {
    condition     = aws_cloudwatch_event_rule.janitor[0].schedule_expression == "cron(15 * * * ? *)" && aws_cloudwatch_metric_alarm.janitor["errors"].alarm_actions == toset(["arn:aws:sns:us-west-2:111111111111:compliance"])
    error_message = "the schedule and alarm actions are the inputs"
  }
}

run "a_grace_period_shorter_than_the_run_is_refused" {
  command = plan
  variables {
    janitor_grace_period_seconds = 3600
  }
  expect_failures = [aws_ssm_document.janitor]
}

run "rejects_a_janitor_schedule_under_ten_minutes" {
  command = plan
  variables {
    janitor_schedule_expression = "rate(5 minutes)"
  }
  expect_failures = [var.janitor_schedule_expression]
}

run "rejects_a_malformed_janitor_schedule" {
  command = plan
  variables {
    janitor_schedule_expression = "rate(1 hours)"
  }
  expect_failures = [var.janitor_schedule_expression]
}

run "rejects_a_grace_period_beyond_the_execution_history" {
  command = plan
  variables {
    janitor_grace_period_seconds = 2592001
  }
  expect_failures = [var.janitor_grace_period_seconds]
}

run "rejects_a_fractional_grace_period" {
  command = plan
  variables {
    janitor_grace_period_seconds = 7200.5
  }
  expect_failures = [var.janitor_grace_period_seconds]
}

run "rejects_an_aws_metrics_namespace" {
  command = plan
  variables {
    janitor_metrics_namespace = "AWS/EC2"
  }
  expect_failures = [var.janitor_metrics_namespace]
}

run "rejects_alarm_actions_that_are_not_arns" {
  command = plan
  variables {
    janitor_alarm_actions = ["compliance-topic"]
  }
  expect_failures = [var.janitor_alarm_actions]
}
