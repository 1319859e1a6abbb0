# --- the patch janitor ------------------------------------------------------------------------
# An Automation document (ssm_documents/src/patch_janitor.yaml + scripts/patch_janitor.py) on an
# EventBridge schedule: it finds instances of the patch groups that still carry a patch run's
# marker `fleetpatch:started-by = <execution id>`, looks the execution up, and when it no longer
# runs stops the instance (if that run started it and it is still running) and removes the
# marker. An Automation document rather than a Lambda: no deployment package or layer to ship
# per Region and partition (so it can default on with no new input), it runs on the same
# engine, trust and tag contract as the patch run it cleans up after, and its executions sit in
# the same SSM history. See the README, "Patch janitor".

locals {
  janitor_document_name = "${var.name_prefix}-PatchJanitor"
  janitor_rule_name     = "${var.name_prefix}-patch-janitor"
  janitor_definition    = "arn:${local.partition}:ssm:${local.region}:${local.account}:automation-definition/${local.janitor_document_name}:$DEFAULT"
  janitor_count         = var.janitor_enabled ? 1 : 0

  # The patch run's maximum run time: every step's timeoutSeconds times its maxAttempts (a
  # timeout given as "{{ Parameter }}" counts that parameter's default; an aws:branch step
  # without one counts 0 s, any other step without one 86400 s), plus the two minutes AWS lets an onCancel path run
  # (https://docs.aws.amazon.com/systems-manager/latest/userguide/automation-actions.html).
  patch_run_document   = yamldecode(local.document_content)
  patch_run_parameters = try(local.patch_run_document.parameters, {})
  patch_run_step_seconds = [
    for s in local.patch_run_document.mainSteps : s.action == "aws:branch" && !can(s.timeoutSeconds) ? 0 : try(
      tonumber(s.timeoutSeconds),
      tonumber(local.patch_run_parameters[regex("^\\{\\{\\s*([A-Za-z0-9_]+)\\s*\\}\\}$", s.timeoutSeconds)[0]].default),
      86400,
    ) * try(tonumber(s.maxAttempts), 1)
  ]
  patch_run_max_run_seconds    = sum(concat([120], local.patch_run_step_seconds))
  janitor_grace_period_seconds = coalesce(var.janitor_grace_period_seconds, local.patch_run_max_run_seconds)

  # Only instances of the managed patch groups carrying the marker (StopInstances and
  # DeleteTags are authorized per instance with its tags).
  janitor_instance_condition = {
    StringEquals = { "aws:ResourceTag/${var.patch_group_tag_key}" = var.patch_groups }
    Null         = { "aws:ResourceTag/${local.marker_tag}" = "false" }
  }
}

resource "aws_ssm_document" "janitor" {
  count = local.janitor_count

  name            = local.janitor_document_name
  document_type   = "Automation"
  document_format = "YAML"
  content         = file("${path.module}/../../ssm_documents/generated/patch_janitor.yaml")
  tags            = var.tags

  lifecycle {
    precondition {
      condition     = local.janitor_grace_period_seconds >= local.patch_run_max_run_seconds
      error_message = "janitor_grace_period_seconds (${local.janitor_grace_period_seconds}) is shorter than the patch run's maximum run time (${local.patch_run_max_run_seconds} s): the janitor could stop instances of a run that is still working. Leave it null or raise it."
    }
  }
}

resource "aws_iam_role" "janitor" {
  count = local.janitor_count

  name                 = "${var.name_prefix}-patch-janitor"
  description          = "Assumed by SSM Automation to run ${local.janitor_document_name}."
  max_session_duration = 3600
  tags                 = var.tags

  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "SsmAutomationOfThisAccount"
      Effect    = "Allow"
      Principal = { Service = "ssm.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = {
        StringEquals = { "aws:SourceAccount" = local.account }
        ArnLike      = { "aws:SourceArn" = "arn:${local.partition}:ssm:${local.region}:${local.account}:automation-execution/*" }
      }
    }]
  })
}

resource "aws_iam_role_policy" "janitor" {
  count = local.janitor_count

  name = "patch-janitor"
  role = aws_iam_role.janitor[0].id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        # DescribeInstances supports no resource-level permissions.
        Sid      = "FindMarkedInstances"
        Effect   = "Allow"
        Action   = ["ec2:DescribeInstances"]
        Resource = "*"
      },
      {
        # The marker's value is the execution id.
        Sid      = "LookUpPatchRunExecutions"
        Effect   = "Allow"
        Action   = ["ssm:GetAutomationExecution"]
        Resource = "arn:${local.partition}:ssm:${local.region}:${local.account}:automation-execution/*"
      },
      {
        # Only instances of the managed patch groups that still carry a run's marker, never an
        # Auto Scaling group member (the group would replace it). Which marker is dead is the
        # script's decision; IAM cannot see an execution's status.
        Sid      = "StopMarkedInstances"
        Effect   = "Allow"
        Action   = ["ec2:StopInstances"]
        Resource = local.instance_arns
        Condition = {
          StringEquals = local.janitor_instance_condition.StringEquals
          Null = merge(local.janitor_instance_condition.Null, {
            "aws:ResourceTag/aws:autoscaling:groupName" = "true"
          })
        }
      },
      {
        # Only the marker key, named in the request: DeleteTags without Tags deletes every
        # user tag and ForAllValues is true for a request without tag keys, so Null requires
        # them (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html).
        Sid      = "RemoveOnlyTheMarker"
        Effect   = "Allow"
        Action   = ["ec2:DeleteTags"]
        Resource = local.instance_arns
        Condition = {
          StringEquals                = local.janitor_instance_condition.StringEquals
          "ForAllValues:StringEquals" = { "aws:TagKeys" = [local.marker_tag] }
          Null = merge(local.janitor_instance_condition.Null, {
            "aws:TagKeys" = "false"
          })
        }
      },
      {
        # The patch-set tag fleetpatch:patch-run of a run that no longer runs: only that key,
        # named in the request, on instances of the managed patch groups that carry it.
        Sid      = "RemoveOnlyThePatchSetTag"
        Effect   = "Allow"
        Action   = ["ec2:DeleteTags"]
        Resource = local.instance_arns
        Condition = {
          StringEquals                = local.janitor_instance_condition.StringEquals
          "ForAllValues:StringEquals" = { "aws:TagKeys" = [local.patch_tag] }
          Null = {
            "aws:ResourceTag/${local.patch_tag}" = "false"
            "aws:TagKeys"                        = "false"
          }
        }
      },
      {
        # Hybrid nodes carry the patch-set tag too. DescribeInstanceInformation supports no
        # resource-level permissions.
        Sid      = "FindPatchSetTaggedHybridNodes"
        Effect   = "Allow"
        Action   = ["ssm:DescribeInstanceInformation"]
        Resource = "*"
      },
      {
        Sid      = "ReadHybridNodeTags"
        Effect   = "Allow"
        Action   = ["ssm:ListTagsForResource"]
        Resource = "arn:${local.partition}:ssm:${local.region}:${local.account}:managed-instance/*"
      },
      {
        Sid      = "RemoveOnlyTheHybridPatchSetTag"
        Effect   = "Allow"
        Action   = ["ssm:RemoveTagsFromResource"]
        Resource = "arn:${local.partition}:ssm:${local.region}:${local.account}:managed-instance/*"
        Condition = {
          StringEquals                = local.janitor_instance_condition.StringEquals
          "ForAllValues:StringEquals" = { "aws:TagKeys" = [local.patch_tag] }
          Null                        = { "aws:TagKeys" = "false" }
        }
      },
      {
        # PutMetricData supports no resource-level permissions; the namespace condition keeps
        # it to the module's namespace.
        Sid       = "PublishJanitorMetrics"
        Effect    = "Allow"
        Action    = ["cloudwatch:PutMetricData"]
        Resource  = "*"
        Condition = { StringEquals = { "cloudwatch:namespace" = var.janitor_metrics_namespace } }
      },
    ]
  })
}

resource "aws_iam_role" "janitor_events" {
  count = local.janitor_count

  name                 = "${var.name_prefix}-patch-janitor-events"
  description          = "Assumed by EventBridge to start ${local.janitor_document_name} on schedule."
  max_session_duration = 3600
  tags                 = var.tags

  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "TheJanitorScheduleOfThisAccount"
      Effect    = "Allow"
      Principal = { Service = "events.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = {
        StringEquals = { "aws:SourceAccount" = local.account }
        ArnEquals    = { "aws:SourceArn" = "arn:${local.partition}:events:${local.region}:${local.account}:rule/${local.janitor_rule_name}" }
      }
    }]
  })
}

resource "aws_iam_role_policy" "janitor_events" {
  count = local.janitor_count

  name = "start-patch-janitor"
  role = aws_iam_role.janitor_events[0].id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "StartTheJanitor"
        Effect   = "Allow"
        Action   = ["ssm:StartAutomationExecution"]
        Resource = [local.janitor_definition]
      },
      {
        Sid       = "PassTheJanitorRole"
        Effect    = "Allow"
        Action    = ["iam:PassRole"]
        Resource  = [aws_iam_role.janitor[0].arn]
        Condition = { StringEquals = { "iam:PassedToService" = "ssm.amazonaws.com" } }
      },
    ]
  })
}

resource "aws_cloudwatch_event_rule" "janitor" {
  count = local.janitor_count

  name                = local.janitor_rule_name
  description         = "Starts ${local.janitor_document_name}: cleans up markers of patch runs that no longer run."
  schedule_expression = var.janitor_schedule_expression
  state               = "ENABLED"
  tags                = var.tags
}

resource "aws_cloudwatch_event_target" "janitor" {
  count = local.janitor_count

  rule      = aws_cloudwatch_event_rule.janitor[0].name
  target_id = "patch-janitor"
  arn       = local.janitor_definition
  role_arn  = aws_iam_role.janitor_events[0].arn

  input = jsonencode({
    AutomationAssumeRole = [aws_iam_role.janitor[0].arn]
    PatchRunDocumentName = [local.document_name]
    PatchGroupTagKey     = [var.patch_group_tag_key]
    PatchGroups          = var.patch_groups
    GracePeriodSeconds   = [tostring(local.janitor_grace_period_seconds)]
    MetricsNamespace     = [var.janitor_metrics_namespace]
    DryRun               = [tostring(var.janitor_dry_run)]
  })

  depends_on = [aws_ssm_document.janitor, aws_iam_role_policy.janitor_events]
}

# --- metrics and alarms -------------------------------------------------------------------------

# The patch run publishes SkippedInstances (instances it did not start or patch because another
# execution's marker claims them) to the same namespace; its role may write only there.
resource "aws_iam_role_policy" "automation_metrics" {
  name = "patch-run-metrics"
  role = aws_iam_role.automation.id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "PublishPatchRunMetrics"
      Effect    = "Allow"
      Action    = ["cloudwatch:PutMetricData"]
      Resource  = "*"
      Condition = { StringEquals = { "cloudwatch:namespace" = var.janitor_metrics_namespace } }
    }]
  })
}

locals {
  janitor_alarms = var.janitor_enabled ? {
    errors = {
      metric      = "CleanupErrors"
      statistic   = "Sum"
      description = "The patch janitor could not look up, stop or untag some marked instances (see CleanUpMarkers.SummaryJson of its last execution); their markers are kept and retried."
    }
    orphans = {
      metric      = "OrphanedMarkers"
      statistic   = "Maximum"
      description = "A patch run left markers behind (its stop step did not finish: cancelled past the two-minute onCancel limit, failed, or the execution died); the janitor stopped and untagged what it started."
    }
  } : {}
}

resource "aws_cloudwatch_metric_alarm" "janitor" {
  for_each = local.janitor_alarms

  alarm_name          = "${local.janitor_rule_name}-${each.key}"
  alarm_description   = each.value.description
  namespace           = var.janitor_metrics_namespace
  metric_name         = each.value.metric
  dimensions          = { DocumentName = local.document_name }
  statistic           = each.value.statistic
  period              = 3600
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.janitor_alarm_actions
  ok_actions          = var.janitor_alarm_actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "skipped_instances" {
  for_each = toset(var.patch_groups)

  alarm_name          = "${var.name_prefix}-patch-${each.key}-skipped"
  alarm_description   = "A patch run of ${each.key} skipped instances another execution's marker claims (they were not started or patched); a marker left by a dead run is removed by the janitor within its schedule."
  namespace           = var.janitor_metrics_namespace
  metric_name         = "SkippedInstances"
  dimensions          = { DocumentName = local.document_name, PatchGroup = each.key }
  statistic           = "Maximum"
  period              = 3600
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.janitor_alarm_actions
  ok_actions          = var.janitor_alarm_actions
  tags                = var.tags
}
