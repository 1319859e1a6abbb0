data "aws_partition" "current" {}
data "aws_caller_identity" "current" {}
data "aws_region" "current" {}

locals {
  partition          = data.aws_partition.current.partition
  account_id         = data.aws_caller_identity.current.account_id
  region             = data.aws_region.current.name
  function_name      = "${var.name_prefix}-role-check"
  ssm_role_name      = "${var.name_prefix}-ssm-instance"
  managed_policy_arn = "arn:${local.partition}:iam::aws:policy/${var.managed_policy_name}"

  # node_policy = "fleetpatch": a customer managed policy with exactly the SSM core actions the
  # function checks for (modules/ssm_node_core), instead of AmazonSSMManagedInstanceCore, which also grants
  # ssm:GetParameter(s) on every parameter of the account (and the AWS managed Parameter Store
  # key decrypts for every principal of the account). The ARN is built (path "/"), so it is known
  # at plan for the IAM conditions below.
  node_core_policy_name = "${var.name_prefix}-ssm-node-core"
  node_core_policy_arn  = "${local.iam_arn}:policy/${local.node_core_policy_name}"
  # The policy the function attaches to roles lacking the SSM core actions, and this module's SSM role carries.
  node_policy_arn = var.node_policy == "fleetpatch" ? local.node_core_policy_arn : local.managed_policy_arn
  # The policies the function may attach: the node policy and, when given, the node log policy.
  attachable_policy_arns = concat([local.node_policy_arn], var.node_log_policy_arn == null ? [] : [var.node_log_policy_arn])
  log_group_name         = "/aws/lambda/${local.function_name}"
  service_name           = "ssm-role-check"
  iam_arn                = "arn:${local.partition}:iam::${local.account_id}"

  # Every failure metric the function emits (lambda_src/ssm_role_check/handler.py): one per
  # outcome of summary.FAILED_OUTCOMES (Instances<Outcome>), events it refused, and sweeps that
  # stopped at their deadline without a continuation. ConfigErrors is left to the errors alarm
  # (the function raises with it). tests/unit/role_check/test_alarm_metrics.py checks this list
  # against the Python source; the alarm takes at most 10 metrics.
  failure_metric_names = [
    "InstancesBlockedByDeny",
    "InstancesBlockedByBoundary",
    "InstancesAccessDenied",
    "InstancesFailed",
    "InvalidEvents",
    "SweepContinuationsFailed",
    "SweepContinuationsRefused",
  ]
}

# --- the SSM role and instance profile the function associates -----------------------------------

data "aws_iam_policy_document" "ec2_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "ssm_instance" {
  name               = local.ssm_role_name
  description        = "Role of the instance profile fleetpatch associates with EC2 instances that have none, so they become SSM managed nodes."
  assume_role_policy = data.aws_iam_policy_document.ec2_assume.json
  tags               = var.tags
}

module "node_core" {
  source = "../ssm_node_core"
}

resource "aws_iam_policy" "node_core" {
  #checkov:skip=CKV_AWS_290:The SSM core actions of a managed node, exactly the role check's REQUIRED_ACTIONS (a subset of AmazonSSMManagedInstanceCore, which grants them on * too): the ec2messages/ssmmessages channels, GetDeployablePatchSnapshotForInstance and PutComplianceItems take no resource-level permissions, and the node acts on itself only through the SSM service.
  #checkov:skip=CKV_AWS_355:Same policy as AmazonSSMManagedInstanceCore's core statement, narrowed to the actions fleetpatch needs; per-action resource scoping (instance/managed-instance/document ARNs) is not verifiable offline against AWS and a wrong scope would cut nodes off SSM.
  count       = var.node_policy == "fleetpatch" ? 1 : 0
  name        = local.node_core_policy_name
  description = "The SSM core actions of a fleetpatch managed node (register, command channels, associations, patching, inventory), attached instead of AmazonSSMManagedInstanceCore."
  policy      = module.node_core.policy_json
  tags        = var.tags
}

resource "aws_iam_role_policy_attachment" "ssm_instance" {
  role       = aws_iam_role.ssm_instance.name
  policy_arn = local.node_policy_arn
  # The built ARN (known at plan, IAM identifiers: arn:<partition>:iam::<account>:policy/<name>
  # for path "/") names the policy above: attach it once it exists.
  depends_on = [aws_iam_policy.node_core]
}

resource "aws_iam_instance_profile" "ssm" {
  name = local.ssm_role_name
  role = aws_iam_role.ssm_instance.name
  tags = var.tags
}

# --- the function's own role (least privilege) -------------------------------------------------

data "aws_iam_policy_document" "lambda_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "function" {
  name               = "${local.function_name}-fn"
  description        = "Execution role of the fleetpatch role-check Lambda."
  assume_role_policy = data.aws_iam_policy_document.lambda_assume.json
  tags               = var.tags
}

data "aws_iam_policy_document" "function" {
  statement {
    sid = "ReadInstances"
    # Describe* calls support no resource-level permissions.
    actions   = ["ec2:DescribeInstances", "ec2:DescribeIamInstanceProfileAssociations"]
    resources = ["*"]
  }

  statement {
    sid       = "AssociateOnlyTheSsmProfile"
    actions   = ["ec2:AssociateIamInstanceProfile"]
    resources = ["arn:${local.partition}:ec2:${local.region}:${local.account_id}:instance/*"]
    condition {
      test     = "ArnEquals"
      variable = "ec2:NewInstanceProfile"
      values   = [aws_iam_instance_profile.ssm.arn]
    }
    dynamic "condition" {
      for_each = var.opt_out_tag_key == null ? [] : [var.opt_out_tag_key]
      content {
        # Opted-out instances cannot be changed even by a faulty function.
        test     = "Null"
        variable = "aws:ResourceTag/${condition.value}"
        values   = ["true"]
      }
    }
  }

  statement {
    sid       = "PassOnlyTheSsmRoleToEc2"
    actions   = ["iam:PassRole"]
    resources = [aws_iam_role.ssm_instance.arn]
    condition {
      test     = "StringEquals"
      variable = "iam:PassedToService"
      values   = ["ec2.amazonaws.com"]
    }
  }

  statement {
    sid       = "ReadInstanceProfiles"
    actions   = ["iam:GetInstanceProfile", "iam:ListInstanceProfiles"]
    resources = ["${local.iam_arn}:instance-profile/*"]
  }

  # Only this module's own SSM profile may get its role back: another profile without a role was
  # emptied on purpose (e.g. an incident responder's quarantine) and is left alone.
  statement {
    sid       = "RefillOnlyTheSsmProfile"
    actions   = ["iam:AddRoleToInstanceProfile"]
    resources = ["${local.iam_arn}:instance-profile/${local.ssm_role_name}"]
  }

  statement {
    sid = "ReadRolePolicies"
    # GetRole: the role's path, tags and permissions boundary (whose document the next
    # statement lets the function read: boundaries are managed policies).
    actions   = ["iam:ListAttachedRolePolicies", "iam:ListRolePolicies", "iam:GetRolePolicy", "iam:GetRole"]
    resources = ["${local.iam_arn}:role/*"]
  }

  statement {
    sid     = "ReadAttachedPolicyDocuments"
    actions = ["iam:GetPolicy", "iam:GetPolicyVersion"]
    resources = distinct(concat(
      ["${local.iam_arn}:policy/*", "arn:${local.partition}:iam::aws:policy/*"],
      var.node_log_policy_arn == null ? [] : [var.node_log_policy_arn],
    ))
  }

  statement {
    # Only to the roles it may modify (modifiable_role_path_prefix, modifiable_role_tag): the
    # limit holds here even if the function's own check were wrong. A role ARN carries its
    # path (arn:...:role/<path><name>, IAM identifiers); aws:ResourceTag/<key> is the role's
    # tag (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_iam-tags.html).
    sid       = "AttachOnlyTheSsmManagedPolicy"
    actions   = ["iam:AttachRolePolicy"]
    resources = ["${local.iam_arn}:role${var.modifiable_role_path_prefix}*"]
    condition {
      test     = "ArnEquals"
      variable = "iam:PolicyARN"
      values   = local.attachable_policy_arns
    }
    dynamic "condition" {
      for_each = var.modifiable_role_tag == null ? [] : [var.modifiable_role_tag]
      content {
        test     = condition.value.value == null ? "Null" : "StringEquals"
        variable = "aws:ResourceTag/${condition.value.key}"
        values   = [condition.value.value == null ? "false" : condition.value.value]
      }
    }
  }

  statement {
    # The module's own SSM role is always modifiable (e.g. the node log policy), whatever the limit.
    sid       = "AttachToTheSsmRole"
    actions   = ["iam:AttachRolePolicy"]
    resources = [aws_iam_role.ssm_instance.arn]
    condition {
      test     = "ArnEquals"
      variable = "iam:PolicyARN"
      values   = local.attachable_policy_arns
    }
  }

  statement {
    # The sweep's continuation: an asynchronous Invoke of this function (unqualified, or the
    # version/alias it was invoked as). The ARN is built, not read from the function (cycle).
    sid     = "ContinueTheSweep"
    actions = ["lambda:InvokeFunction"]
    resources = [
      "arn:${local.partition}:lambda:${local.region}:${local.account_id}:function:${local.function_name}",
      "arn:${local.partition}:lambda:${local.region}:${local.account_id}:function:${local.function_name}:*",
    ]
  }

  statement {
    sid       = "WriteOwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.function.arn}:*"]
  }

  statement {
    sid = "XRayTracing"
    # X-Ray trace submission supports no resource-level permissions.
    actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
    resources = ["*"]
  }

  statement {
    sid       = "DeadLetter"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.dlq.arn]
  }

  dynamic "statement" {
    for_each = var.dlq_kms_key_arn == null ? [] : [var.dlq_kms_key_arn]
    content {
      sid       = "EncryptDeadLetters"
      actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
      resources = [statement.value]
    }
  }
}

resource "aws_iam_role_policy" "function" {
  name   = "role-check"
  role   = aws_iam_role.function.id
  policy = data.aws_iam_policy_document.function.json
}

# --- logs, dead letters, the function --------------------------------------------------------

resource "aws_cloudwatch_log_group" "function" {
  #checkov:skip=CKV_AWS_158:KMS encryption is an input (log_kms_key_arn); the default keeps CloudWatch Logs' own encryption at rest because a customer key needs a key policy this module does not own.
  name              = local.log_group_name
  retention_in_days = var.log_retention_days
  kms_key_id        = var.log_kms_key_arn
  tags              = var.tags
}

resource "aws_sqs_queue" "dlq" {
  name                              = "${local.function_name}-dlq"
  message_retention_seconds         = 1209600
  sqs_managed_sse_enabled           = var.dlq_kms_key_arn == null ? true : null
  kms_master_key_id                 = var.dlq_kms_key_arn
  kms_data_key_reuse_period_seconds = var.dlq_kms_key_arn == null ? null : 300
  tags                              = var.tags
}

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_117:The function calls only the regional EC2 and IAM control-plane APIs and reaches no private resource; attaching it to a VPC would add NAT or endpoint dependencies for no isolation gain.
  #checkov:skip=CKV_AWS_272:Code signing needs an AWS Signer profile the platform team owns; the zip is built deterministically by `make package` and pinned by source_code_hash.
  #checkov:skip=CKV_AWS_173:The environment holds only resource names and flags (no secrets); Lambda encrypts it at rest with the AWS managed key.
  function_name                  = local.function_name
  description                    = "fleetpatch role check: every EC2 instance gets an instance profile whose role can reach SSM (never replaces or detaches)."
  role                           = aws_iam_role.function.arn
  filename                       = var.package_path
  source_code_hash               = filebase64sha256(var.package_path)
  handler                        = "ssm_role_check.handler.lambda_handler"
  runtime                        = var.runtime
  architectures                  = [var.architecture]
  layers                         = [var.powertools_layer_arn]
  timeout                        = var.timeout_seconds
  memory_size                    = var.memory_size
  reserved_concurrent_executions = var.reserved_concurrency

  environment {
    variables = {
      SSM_INSTANCE_PROFILE_NAME     = aws_iam_instance_profile.ssm.name
      SSM_ROLE_NAME                 = aws_iam_role.ssm_instance.name
      SSM_MANAGED_POLICY_NAME       = var.node_policy == "aws_managed" ? var.managed_policy_name : ""
      SSM_NODE_POLICY_ARN           = var.node_policy == "fleetpatch" ? local.node_core_policy_arn : ""
      NODE_LOG_POLICY_ARN           = var.node_log_policy_arn == null ? "" : var.node_log_policy_arn
      OPT_OUT_TAG_KEY               = var.opt_out_tag_key == null ? "" : var.opt_out_tag_key
      DRY_RUN                       = tostring(var.dry_run)
      MODIFIABLE_ROLE_PATH_PREFIX   = var.modifiable_role_path_prefix
      MODIFIABLE_ROLE_TAG_KEY       = var.modifiable_role_tag == null ? "" : var.modifiable_role_tag.key
      MODIFIABLE_ROLE_TAG_VALUE     = var.modifiable_role_tag == null ? "" : (var.modifiable_role_tag.value == null ? "" : var.modifiable_role_tag.value)
      SWEEP_MAX_GENERATIONS         = tostring(var.sweep_max_generations)
      SWEEP_DEADLINE_MARGIN_SECONDS = tostring(var.sweep_deadline_margin_seconds)
      POWERTOOLS_SERVICE_NAME       = local.service_name
      POWERTOOLS_METRICS_NAMESPACE  = var.metrics_namespace
      POWERTOOLS_LOG_LEVEL          = var.log_level
    }
  }

  tracing_config {
    mode = "Active"
  }

  dead_letter_config {
    target_arn = aws_sqs_queue.dlq.arn
  }

  logging_config {
    log_format = "JSON"
    log_group  = aws_cloudwatch_log_group.function.name
  }

  tags = var.tags

  depends_on = [aws_iam_role_policy.function]
}

resource "aws_lambda_function_event_invoke_config" "this" {
  function_name                = aws_lambda_function.this.function_name
  maximum_retry_attempts       = var.maximum_retry_attempts
  maximum_event_age_in_seconds = 3600
}

# --- triggers ---------------------------------------------------------------------------------

resource "aws_cloudwatch_event_rule" "state_change" {
  name        = "${local.function_name}-state-change"
  description = "EC2 instances entering pending or running: check their instance profile and role."
  event_pattern = jsonencode({
    source        = ["aws.ec2"]
    "detail-type" = ["EC2 Instance State-change Notification"]
    detail        = { state = ["pending", "running"] }
  })
  tags = var.tags
}

resource "aws_cloudwatch_event_target" "state_change" {
  rule      = aws_cloudwatch_event_rule.state_change.name
  target_id = "role-check"
  arn       = aws_lambda_function.this.arn
}

resource "aws_lambda_permission" "state_change" {
  statement_id   = "AllowStateChangeRule"
  action         = "lambda:InvokeFunction"
  function_name  = aws_lambda_function.this.function_name
  principal      = "events.amazonaws.com"
  source_arn     = aws_cloudwatch_event_rule.state_change.arn
  source_account = local.account_id
}

resource "aws_cloudwatch_event_rule" "sweep" {
  name                = "${local.function_name}-sweep"
  description         = "Scheduled sweep: check every instance of the Region."
  schedule_expression = var.sweep_schedule
  state               = var.sweep_enabled ? "ENABLED" : "DISABLED"
  tags                = var.tags
}

resource "aws_cloudwatch_event_target" "sweep" {
  rule      = aws_cloudwatch_event_rule.sweep.name
  target_id = "role-check"
  arn       = aws_lambda_function.this.arn
}

resource "aws_lambda_permission" "sweep" {
  statement_id   = "AllowSweepRule"
  action         = "lambda:InvokeFunction"
  function_name  = aws_lambda_function.this.function_name
  principal      = "events.amazonaws.com"
  source_arn     = aws_cloudwatch_event_rule.sweep.arn
  source_account = local.account_id
}

# --- alarms -----------------------------------------------------------------------------------

resource "aws_cloudwatch_metric_alarm" "errors" {
  alarm_name          = "${local.function_name}-errors"
  alarm_description   = "The role-check Lambda failed (bad configuration, or it could not list instances)."
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = aws_lambda_function.this.function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
  tags                = var.tags
}

resource "aws_cloudwatch_metric_alarm" "failed_instances" {
  alarm_name        = "${local.function_name}-failed-instances"
  alarm_description = "The role check could not fix some instances or could not finish (${join(", ", local.failure_metric_names)}); see the summary in the log."
  # One metric math alarm over every failure metric the function emits: SUM of the metrics, each
  # missing point filled with 0 (the outcome metrics come with every run, the event and sweep
  # ones only when they happen). An alarm on a metric math expression references at most 10
  # metrics (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarm-limits.html);
  # FILL and SUM: https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
  tags                = var.tags

  metric_query {
    id          = "failures"
    expression  = "SUM(FILL(METRICS(), 0))"
    label       = "Role-check failures"
    return_data = true
  }

  dynamic "metric_query" {
    for_each = local.failure_metric_names
    content {
      id = "m${metric_query.key}"
      metric {
        namespace   = var.metrics_namespace
        metric_name = metric_query.value
        dimensions  = { service = local.service_name }
        stat        = "Sum"
        period      = 3600
      }
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "dead_letters" {
  alarm_name          = "${local.function_name}-dead-letters"
  alarm_description   = "Events the role check could not process after its retries are waiting in the dead-letter queue."
  namespace           = "AWS/SQS"
  metric_name         = "ApproximateNumberOfMessagesVisible"
  dimensions          = { QueueName = aws_sqs_queue.dlq.name }
  statistic           = "Maximum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
  tags                = var.tags
}
