data "aws_partition" "current" {}
data "aws_caller_identity" "current" {}
data "aws_region" "current" {}

locals {
  partition  = data.aws_partition.current.partition
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name

  # The two AWS Config managed rules, the Config resource type each evaluates, and the Command
  # document its remediation runs on the non-compliant managed node.
  all_rules = {
    patch = {
      identifier     = "EC2_MANAGEDINSTANCE_PATCH_COMPLIANCE_STATUS_CHECK"
      resource_type  = "AWS::SSM::PatchCompliance"
      command        = "AWS-RunPatchBaseline"
      rule_name      = "${var.name_prefix}-ec2-managedinstance-patch-compliance"
      document_name  = "${var.name_prefix}-Remediate-RunPatchBaseline"
      description    = "Patch compliance of every managed node (AWS-RunPatchBaseline results) is COMPLIANT."
      command_params = { Operation = ["{{ Operation }}"], RebootOption = ["{{ RebootOption }}"] }
    }
    association = {
      identifier     = "EC2_MANAGEDINSTANCE_ASSOCIATION_COMPLIANCE_STATUS_CHECK"
      resource_type  = "AWS::SSM::AssociationCompliance"
      command        = "AWS-RefreshAssociation"
      rule_name      = "${var.name_prefix}-ec2-managedinstance-association-compliance"
      document_name  = "${var.name_prefix}-Remediate-RefreshAssociation"
      description    = "State Manager association compliance of every managed node is COMPLIANT."
      command_params = {}
    }
  }
  # The rules asked for, and of those the ones AWS Config offers in this Region: a managed rule
  # is not available in every Region (each rule's page, "AWS Region"; see
  # var.rule_unavailable_regions). Unavailable rules are skipped here (output skipped_rules).
  selected_rules = { for k, r in local.all_rules : k => r if contains(var.rules, k) }
  rules          = { for k, r in local.selected_rules : k => r if !contains(lookup(var.rule_unavailable_regions, k, []), local.region) }
  skipped_rules  = sort([for k in keys(local.selected_rules) : k if !contains(keys(local.rules), k)])

  sns_kms_key_arn = var.sns_kms_key_arn != null ? var.sns_kms_key_arn : aws_kms_key.sns[0].arn
  alarm_source_arns = [
    for p in var.alarm_name_prefixes : "arn:${local.partition}:cloudwatch:${local.region}:${local.account_id}:alarm:${p}*"
  ]

  # Parameters of the remediation Automation documents besides the node and the role.
  extra_parameters = {
    patch = {
      Operation    = { type = "String", default = var.patch_operation, allowedValues = ["Scan", "Install"], description = "AWS-RunPatchBaseline operation: Scan reports missing patches, Install installs them." }
      RebootOption = { type = "String", default = var.reboot_option, allowedValues = ["RebootIfNeeded", "NoReboot"], description = "AWS-RunPatchBaseline reboot option." }
    }
    association = {}
  }

  output_location = var.command_output_bucket_name == null ? {} : {
    OutputS3BucketName = var.command_output_bucket_name
    OutputS3KeyPrefix  = var.command_output_key_prefix
  }

  # The patch rule's remediation document is generated (ssm_documents/src/remediate_patch.yaml
  # + scripts/remediation_check.py: it skips nodes a patch run or a running AWS-RunPatchBaseline
  # holds); the module sets its parameter defaults, command timeout and output location.
  patch_remediation_source = yamldecode(file("${path.module}/../../ssm_documents/generated/remediate_patch.yaml"))
  patch_remediation_document = merge(local.patch_remediation_source, {
    parameters = merge(local.patch_remediation_source.parameters, {
      for name, spec in local.extra_parameters.patch : name => merge(local.patch_remediation_source.parameters[name], { default = spec.default })
    })
    mainSteps = [
      for step in local.patch_remediation_source.mainSteps : merge(step, try(local.patch_remediation_step_overrides[step.name], {}))
    ]
  })
  patch_remediation_step_overrides = {
    for step in local.patch_remediation_source.mainSteps : step.name => {
      timeoutSeconds = var.command_timeout_seconds
      inputs         = merge(step.inputs, local.output_location)
    } if step.action == "aws:runCommand"
  }
}

################################################################################
# Optional configuration recorder + delivery channel (one recorder per region).
################################################################################

data "aws_iam_policy_document" "config_trust" {
  statement {
    sid     = "ConfigAssumes"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["config.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_iam_role" "config" {
  count = var.create_recorder ? 1 : 0

  name               = "${var.name_prefix}-config-recorder"
  description        = "Role of the AWS Config configuration recorder and delivery channel (fleetpatch compliance)."
  assume_role_policy = data.aws_iam_policy_document.config_trust.json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "config" {
  count = var.create_recorder ? 1 : 0

  role       = aws_iam_role.config[0].name
  policy_arn = "arn:${local.partition}:iam::aws:policy/service-role/AWS_ConfigRole"
}

data "aws_iam_policy_document" "config_delivery" {
  count = var.create_recorder ? 1 : 0

  statement {
    sid       = "CheckBucketAcl"
    effect    = "Allow"
    actions   = ["s3:GetBucketAcl"]
    resources = ["arn:${local.partition}:s3:::${var.delivery_bucket_name}"]
  }
  statement {
    sid       = "DeliverConfigHistoryAndSnapshots"
    effect    = "Allow"
    actions   = ["s3:PutObject"]
    resources = ["arn:${local.partition}:s3:::${var.delivery_bucket_name}/${var.delivery_s3_key_prefix}/AWSLogs/${local.account_id}/Config/*"]
    condition {
      test     = "StringEquals"
      variable = "s3:x-amz-acl"
      values   = ["bucket-owner-full-control"]
    }
  }
  dynamic "statement" {
    for_each = var.delivery_kms_key_arn == null ? [] : [var.delivery_kms_key_arn]
    content {
      sid       = "EncryptDeliveredObjects"
      effect    = "Allow"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = [statement.value]
    }
  }
}

resource "aws_iam_role_policy" "config_delivery" {
  count = var.create_recorder ? 1 : 0

  name   = "config-delivery"
  role   = aws_iam_role.config[0].id
  policy = data.aws_iam_policy_document.config_delivery[0].json
}

resource "aws_config_configuration_recorder" "this" {
  #checkov:skip=CKV2_AWS_48:Recording every resource type is an input (record_all_supported); by default this optional recorder records only the SSM types the compliance rules evaluate, so Config item costs stay proportional. Accounts with an organisation-wide recorder keep create_recorder = false.
  count = var.create_recorder ? 1 : 0

  name     = var.recorder_name
  role_arn = aws_iam_role.config[0].arn

  recording_group {
    all_supported                 = var.record_all_supported
    include_global_resource_types = false
    resource_types                = var.record_all_supported ? null : var.recorded_resource_types

    dynamic "recording_strategy" {
      for_each = var.record_all_supported ? [] : [1]
      content {
        use_only = "INCLUSION_BY_RESOURCE_TYPES"
      }
    }
  }
}

# The delivery key's policy is the key owner's: what it must allow, as key policy statements
# (output delivery_kms_key_policy_statements), from "Permissions for the KMS Key for the AWS
# Config Delivery Channel" (https://docs.aws.amazon.com/config/latest/developerguide/s3-kms-key-policy.html):
# the recorder role delivers (kms:Decrypt, kms:GenerateDataKey; the role's own policy above grants
# the same, enough where the key policy delegates to IAM), and when delivery as the role fails
# AWS Config retries as the config.amazonaws.com service principal, which the key policy must
# allow, limited to this account with AWS:SourceAccount.
locals {
  delivery_kms_key_policy_statements = var.create_recorder && var.delivery_kms_key_arn != null ? jsonencode([
    {
      Sid       = "AWSConfigRecorderRoleDelivers${local.account_id}"
      Effect    = "Allow"
      Principal = { AWS = aws_iam_role.config[0].arn }
      Action    = ["kms:Decrypt", "kms:GenerateDataKey"]
      Resource  = "*"
    },
    {
      Sid       = "AWSConfigServiceDelivers${local.account_id}"
      Effect    = "Allow"
      Principal = { Service = "config.amazonaws.com" }
      Action    = ["kms:Decrypt", "kms:GenerateDataKey"]
      Resource  = "*"
      Condition = { StringEquals = { "AWS:SourceAccount" = local.account_id } }
    },
  ]) : "[]"
}

resource "aws_config_delivery_channel" "this" {
  count = var.create_recorder ? 1 : 0

  name           = var.recorder_name
  s3_bucket_name = var.delivery_bucket_name
  s3_key_prefix  = var.delivery_s3_key_prefix
  s3_kms_key_arn = var.delivery_kms_key_arn

  snapshot_delivery_properties {
    delivery_frequency = var.delivery_frequency
  }

  depends_on = [aws_config_configuration_recorder.this, aws_iam_role_policy.config_delivery]
}

resource "aws_config_configuration_recorder_status" "this" {
  #checkov:skip=CKV2_AWS_45:Same as CKV2_AWS_48 on the recorder: recording all supported types is the record_all_supported input, off by default for this optional SSM-compliance recorder.
  count = var.create_recorder ? 1 : 0

  name       = aws_config_configuration_recorder.this[0].name
  is_enabled = true

  depends_on = [aws_config_delivery_channel.this]
}

################################################################################
# Config managed rules for patch and association compliance.
################################################################################

resource "aws_config_config_rule" "this" {
  for_each = local.rules

  name        = each.value.rule_name
  description = each.value.description

  source {
    owner             = "AWS"
    source_identifier = each.value.identifier
  }

  scope {
    compliance_resource_types = [each.value.resource_type]
  }

  tags = var.tags

  # With create_recorder = false the region's existing recorder is used and this is a no-op.
  depends_on = [aws_config_configuration_recorder_status.this]
}

################################################################################
# NON_COMPLIANT notifications: EventBridge rule -> KMS-encrypted SNS topic.
################################################################################

resource "aws_cloudwatch_event_rule" "non_compliant" {
  name        = "${var.name_prefix}-config-non-compliant"
  description = "A managed node turned NON_COMPLIANT for a fleetpatch patch or association compliance rule."

  event_pattern = jsonencode({
    source        = ["aws.config"]
    "detail-type" = ["Config Rules Compliance Change"]
    detail = {
      messageType = ["ComplianceChangeNotification"]
      # The names of every selected rule, skipped ones included (they never match here), so the
      # pattern never has an empty list where this Region offers neither rule.
      configRuleName      = [for r in local.selected_rules : r.rule_name]
      newEvaluationResult = { complianceType = ["NON_COMPLIANT"] }
    }
  })

  tags = var.tags
}

data "aws_iam_policy_document" "sns_key" {
  count = var.sns_kms_key_arn == null ? 1 : 0

  # In a key policy, Resource "*" means this key. The first statement is the AWS default key
  # policy written out action by action: it delegates the key to IAM policies of this account.
  statement {
    sid    = "AccountAdministersKeyThroughIam"
    effect = "Allow"
    actions = [
      "kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*",
      "kms:Revoke*", "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:TagResource", "kms:UntagResource",
      "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion", "kms:RotateKeyOnDemand",
      "kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*",
    ]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account_id}:root"]
    }
  }
  statement {
    sid       = "EventBridgePublishesToEncryptedTopic"
    effect    = "Allow"
    actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
    resources = ["*"]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_cloudwatch_event_rule.non_compliant.arn]
    }
  }
  # CloudWatch alarms publishing to an encrypted topic need the key
  # (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services).
  dynamic "statement" {
    for_each = length(local.alarm_source_arns) > 0 ? [1] : []
    content {
      sid       = "CloudWatchAlarmsPublishToEncryptedTopic"
      effect    = "Allow"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey*"]
      resources = ["*"]
      principals {
        type        = "Service"
        identifiers = ["cloudwatch.amazonaws.com"]
      }
      condition {
        test     = "StringEquals"
        variable = "aws:SourceAccount"
        values   = [local.account_id]
      }
      condition {
        test     = "ArnLike"
        variable = "aws:SourceArn"
        values   = local.alarm_source_arns
      }
    }
  }
}

resource "aws_kms_key" "sns" {
  count = var.sns_kms_key_arn == null ? 1 : 0

  description             = "Encrypts the fleetpatch compliance notification topic ${var.name_prefix}-compliance-alerts."
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_key_deletion_window_days
  policy                  = data.aws_iam_policy_document.sns_key[0].json
  tags                    = var.tags
}

resource "aws_kms_alias" "sns" {
  count = var.sns_kms_key_arn == null ? 1 : 0

  name          = "alias/${var.name_prefix}-compliance-alerts"
  target_key_id = aws_kms_key.sns[0].key_id
}

resource "aws_sns_topic" "alerts" {
  name              = "${var.name_prefix}-compliance-alerts"
  kms_master_key_id = local.sns_kms_key_arn
  tags              = var.tags
}

data "aws_iam_policy_document" "topic" {
  statement {
    sid       = "EventBridgeRulePublishes"
    effect    = "Allow"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.alerts.arn]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_cloudwatch_event_rule.non_compliant.arn]
    }
  }
  dynamic "statement" {
    for_each = length(local.alarm_source_arns) > 0 ? [1] : []
    content {
      sid       = "CloudWatchAlarmsPublish"
      effect    = "Allow"
      actions   = ["sns:Publish"]
      resources = [aws_sns_topic.alerts.arn]
      principals {
        type        = "Service"
        identifiers = ["cloudwatch.amazonaws.com"]
      }
      condition {
        test     = "StringEquals"
        variable = "aws:SourceAccount"
        values   = [local.account_id]
      }
      condition {
        test     = "ArnLike"
        variable = "aws:SourceArn"
        values   = local.alarm_source_arns
      }
    }
  }
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.alerts.arn]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_sns_topic_policy" "alerts" {
  arn    = aws_sns_topic.alerts.arn
  policy = data.aws_iam_policy_document.topic.json
}

resource "aws_cloudwatch_event_target" "sns" {
  rule      = aws_cloudwatch_event_rule.non_compliant.name
  target_id = "compliance-alerts-sns"
  arn       = aws_sns_topic.alerts.arn

  depends_on = [aws_sns_topic_policy.alerts]
}

################################################################################
# Remediation: Config starts an Automation document that runs the Command document.
################################################################################

resource "aws_ssm_document" "remediation" {
  for_each = local.rules

  name            = each.value.document_name
  document_type   = "Automation"
  document_format = "YAML"
  tags            = var.tags

  content = each.key == "patch" ? yamlencode(local.patch_remediation_document) : yamlencode({
    schemaVersion = "0.3"
    description   = "fleetpatch: AWS Config remediation of ${each.value.identifier}. Runs ${each.value.command} on the non-compliant managed node (AWS Config remediation targets must be Automation documents; ${each.value.command} is a Command document)."
    assumeRole    = "{{ AutomationAssumeRole }}"
    parameters = merge({
      AutomationAssumeRole = {
        type           = "String"
        description    = "ARN of the role Automation assumes (passed by AWS Config)."
        allowedPattern = "^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$"
      }
      ResourceId = {
        type           = "String"
        description    = "Resource ID of the Config evaluation (AWS::SSM::ManagedInstanceInventory/<node id>) or a managed node ID (i-... or mi-...)."
        allowedPattern = "^(AWS::SSM::ManagedInstanceInventory/)?(i-[0-9a-f]{8,17}|mi-[0-9a-f]{17})$"
      }
    }, local.extra_parameters[each.key])
    mainSteps = [
      {
        name           = "ResolveManagedNodeId"
        action         = "aws:executeScript"
        timeoutSeconds = 60
        inputs = {
          Runtime      = "python3.11"
          Handler      = "handler"
          InputPayload = { ResourceId = "{{ ResourceId }}" }
          Script       = "def handler(events, context):\n    \"\"\"Return {'NodeId': 'i-...' or 'mi-...'} from a Config resource ID.\"\"\"\n    return {\"NodeId\": events[\"ResourceId\"].rsplit(\"/\", 1)[-1]}\n"
        }
        outputs = [{ Name = "NodeId", Selector = "$.Payload.NodeId", Type = "String" }]
      },
      {
        name           = "Run${replace(each.value.command, "-", "")}"
        action         = "aws:runCommand"
        timeoutSeconds = var.command_timeout_seconds
        isEnd          = true
        inputs = merge(
          {
            DocumentName = each.value.command
            InstanceIds  = ["{{ ResolveManagedNodeId.NodeId }}"]
          },
          length(each.value.command_params) > 0 ? { Parameters = each.value.command_params } : {},
          local.output_location,
        )
      },
    ]
  })
}

data "aws_iam_policy_document" "automation_trust" {
  statement {
    sid     = "AutomationAssumes"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ssm.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
    condition {
      test     = "ArnLike"
      variable = "aws:SourceArn"
      values   = ["arn:${local.partition}:ssm:${local.region}:${local.account_id}:automation-execution/*"]
    }
  }
}

resource "aws_iam_role" "remediation" {
  name               = "${var.name_prefix}-compliance-remediation"
  description        = "Automation assume role of the fleetpatch Config remediation: runs ${join(" / ", [for r in local.rules : r.command])} on managed nodes of this region."
  assume_role_policy = data.aws_iam_policy_document.automation_trust.json
  tags               = var.tags
}

data "aws_iam_policy_document" "remediation" {
  statement {
    sid     = "SendOnlyTheRemediationCommands"
    effect  = "Allow"
    actions = ["ssm:SendCommand"]
    resources = concat(
      [for r in local.rules : "arn:${local.partition}:ssm:${local.region}::document/${r.command}"],
      [
        "arn:${local.partition}:ec2:${local.region}:${local.account_id}:instance/*",
        "arn:${local.partition}:ssm:${local.region}:${local.account_id}:managed-instance/*",
      ],
    )
  }
  statement {
    # These read-only calls do not support resource-level permissions. DescribeInstances and
    # ListCommandInvocations also tell the patch remediation whether a patch run or a running
    # AWS-RunPatchBaseline holds the node (CheckNodeIsFree).
    sid       = "FollowCommandProgress"
    effect    = "Allow"
    actions   = ["ssm:ListCommands", "ssm:ListCommandInvocations", "ssm:GetCommandInvocation", "ssm:DescribeInstanceInformation", "ec2:DescribeInstances"]
    resources = ["*"]
  }
  statement {
    # The patch-run tags of a hybrid node (CheckNodeIsFree).
    sid       = "ReadHybridNodeTags"
    effect    = "Allow"
    actions   = ["ssm:ListTagsForResource"]
    resources = ["arn:${local.partition}:ssm:${local.region}:${local.account_id}:managed-instance/*"]
  }
}

resource "aws_iam_role_policy" "remediation" {
  name   = "run-remediation-commands"
  role   = aws_iam_role.remediation.id
  policy = data.aws_iam_policy_document.remediation.json
}

resource "aws_config_remediation_configuration" "this" {
  for_each = local.rules

  config_rule_name = aws_config_config_rule.this[each.key].name
  resource_type    = each.value.resource_type
  target_type      = "SSM_DOCUMENT"
  target_id        = aws_ssm_document.remediation[each.key].name
  target_version   = aws_ssm_document.remediation[each.key].default_version

  # The provider reads parameters back sorted by name: declare them in name order, or every
  # plan shows a diff.
  parameter {
    name         = "AutomationAssumeRole"
    static_value = aws_iam_role.remediation.arn
  }
  dynamic "parameter" {
    for_each = each.key == "patch" ? { Operation = var.patch_operation, RebootOption = var.reboot_option } : {}
    content {
      name         = parameter.key
      static_value = parameter.value
    }
  }
  parameter {
    name           = "ResourceId"
    resource_value = "RESOURCE_ID"
  }

  automatic                  = var.automatic_remediation
  maximum_automatic_attempts = var.maximum_automatic_attempts
  retry_attempt_seconds      = var.retry_attempt_seconds

  execution_controls {
    ssm_controls {
      concurrent_execution_rate_percentage = var.remediation_concurrency_percentage
      error_percentage                     = var.remediation_error_percentage
    }
  }

  depends_on = [aws_iam_role_policy.remediation]
}
