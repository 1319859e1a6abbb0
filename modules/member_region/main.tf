# Everything one member account (shared services, application) runs in one Region, composed from
# the single-concern modules. An environment instantiates this once per Region, each time with
# that Region's aws provider.

data "aws_partition" "current" {}
data "aws_caller_identity" "current" {}
data "aws_region" "current" {}

locals {
  partition   = data.aws_partition.current.partition
  account_id  = data.aws_caller_identity.current.account_id
  region      = data.aws_region.current.name
  patch_group = sort(keys(var.patch_groups))

  # Config history and snapshots go to the Region's patch-baseline log bucket unless another
  # bucket is given; the delivery channel exists only with create_config_recorder.
  config_delivery_bucket_name = var.create_config_recorder ? coalesce(var.config_delivery_bucket_name, module.log_buckets.patch_baseline_bucket) : null
  # The delivery channel encrypts with the delivery bucket's customer managed key (s3KmsKeyArn):
  # log_kms_key_arn for the patch-baseline log bucket, config_delivery_kms_key_arn for another.
  config_delivery_kms_key_arn = var.create_config_recorder ? (var.config_delivery_bucket_name == null ? var.log_kms_key_arn : var.config_delivery_kms_key_arn) : null

  # The AWS-managed Powertools v3 layer is published by one account per partition; other
  # partitions (GovCloud) need role_check_powertools_layer_arn.
  powertools_layer_accounts = { aws = "017000801446", aws-cn = "498634801083" }
  # null in another partition: role_check then rejects the missing layer ARN with its message.
  powertools_layer_arn = var.role_check_powertools_layer_arn != null ? var.role_check_powertools_layer_arn : (
    contains(keys(local.powertools_layer_accounts), local.partition)
    ? "arn:${local.partition}:lambda:${local.region}:${lookup(local.powertools_layer_accounts, local.partition, "")}:layer:AWSLambdaPowertoolsPythonV3-python311-x86_64:${var.role_check_powertools_layer_version}"
    : null
  )

  forward_compliance_events = var.central_event_bus_arn != null
  authorize_aggregator      = var.config_aggregator_account_id != null

  # This account's sync writes under its own top-level folder of the central bucket: the bucket
  # policy admits ssm.amazonaws.com only under <prefix>/<aws:SourceAccount>/ and the Glue tables
  # read partition accountid=X only under <prefix>/X/ (modules/central_reporting README "Who can
  # write where").
  central_sync_key_prefix = var.central_sync_prefix == "" ? local.account_id : "${var.central_sync_prefix}/${local.account_id}"
}

module "log_buckets" {
  source = "../log_buckets"

  name_prefix        = var.name_prefix
  kms_key_arn        = var.log_kms_key_arn
  bucket_name_suffix = var.log_bucket_name_suffix
  expiration_days    = var.log_expiration_days
  access_log_bucket  = var.log_access_log_bucket
  force_destroy      = var.force_destroy
  tags               = var.tags
}

module "patch_baselines" {
  source = "../patch_baselines"

  name_prefix         = var.name_prefix
  patch_groups        = var.patch_groups
  patch_group_tag_key = var.patch_group_tag_key
  tags                = var.tags
}

module "inventory" {
  source = "../inventory"

  name_prefix         = var.name_prefix
  schedule_expression = var.inventory_schedule_expression
  output_bucket_name  = module.log_buckets.inventory_bucket
  # <central_sync_prefix>/<this account id> ("" for the bucket root: <this account id>).
  sync_bucket_name   = var.central_sync_bucket_name
  sync_bucket_region = var.central_sync_bucket_region
  sync_prefix        = local.central_sync_key_prefix
  sync_kms_key_arn   = var.central_kms_key_arn
  tags               = var.tags
}

module "scan" {
  source = "../scan"

  name_prefix           = var.name_prefix
  patch_groups          = local.patch_group
  patch_group_tag_key   = var.patch_group_tag_key
  schedule_expression   = var.scan_schedule_expression
  enabled               = var.scan_enabled
  output_s3_bucket_name = module.log_buckets.patch_baseline_bucket
  tags                  = var.tags

  # No depends_on on patch_baselines: it would defer this module's data sources to apply time
  # whenever a baseline changes (noisy plans). Nothing runs at apply; the first scheduled scan
  # finds the patch groups registered.
}

module "patch_automation" {
  source = "../patch_automation"

  name_prefix            = var.name_prefix
  patch_groups           = local.patch_group
  patch_group_tag_key    = var.patch_group_tag_key
  schedule_expression    = var.patch_schedule_expression
  schedule_overrides     = var.patch_schedule_overrides
  enabled                = var.patch_enabled
  reboot_option          = var.patch_reboot_option
  max_concurrency        = var.patch_max_concurrency
  max_errors             = var.patch_max_errors
  online_timeout_seconds = var.patch_online_timeout_seconds
  # One message per failed or partially failed run, to this Region's compliance topic (its key
  # policy delegates to IAM: the role's kms statement is enough).
  notification_topic_arn   = module.compliance.topic_arn
  notification_kms_key_arn = module.compliance.topic_kms_key_arn
  ebs_kms_key_arns         = var.ebs_kms_key_arns
  output_s3_bucket_name    = module.log_buckets.patch_baseline_bucket
  # The janitor's and the skipped-instances alarms (all named "<name_prefix>-patch-...").
  janitor_alarm_actions = var.patch_alarm_actions == null ? [module.compliance.topic_arn] : var.patch_alarm_actions
  tags                  = var.tags
}

module "role_check" {
  source = "../role_check"
  count  = var.role_check_enabled ? 1 : 0

  name_prefix          = var.name_prefix
  package_path         = var.role_check_package_path
  powertools_layer_arn = local.powertools_layer_arn
  sweep_schedule       = var.role_check_sweep_schedule
  dry_run              = var.role_check_dry_run
  alarm_actions        = var.role_check_alarm_actions
  # The roles the function may modify (validated in role_check, enforced in its IAM policy too).
  modifiable_role_path_prefix = var.role_check_modifiable_role_path_prefix
  modifiable_role_tag         = var.role_check_modifiable_role_tag
  # Least privilege by default: the module's node core policy, not AmazonSSMManagedInstanceCore.
  node_policy = var.role_check_node_policy
  # Attached with the node policy to the instance roles the function fixes (neither has
  # s3:PutObject, so their command output would not reach the log buckets).
  node_log_policy_arn = aws_iam_policy.managed_node_logs.arn
  tags                = var.tags
}

# The managed nodes upload AWS-RunPatchBaseline and AWS-GatherSoftwareInventory output to the log
# buckets with their instance profile: the role of the profile role_check associates gets this
# policy here, and the role check attaches it to every instance role it fixes (or that reaches SSM
# without it); attach it (output managed_node_log_policy_arn) to roles it does not check
# (e.g. a hybrid activation's service role).
data "aws_iam_policy_document" "managed_node_logs" {
  statement {
    sid       = "UploadCommandOutput"
    effect    = "Allow"
    actions   = ["s3:PutObject"]
    resources = [for arn in values(module.log_buckets.bucket_arns) : "${arn}/*"]
  }

  # AWS Config delivers the configuration history and snapshots to the patch-baseline log bucket
  # (config_delivery_bucket_name unset) under <prefix>/AWSLogs/<account>/Config/: a managed node,
  # which may write its command output to that bucket, must never write there (it could forge
  # or overwrite the compliance record). Command output keys never contain AWSLogs.
  statement {
    sid       = "NeverTheConfigHistory"
    effect    = "Deny"
    actions   = ["s3:PutObject"]
    resources = flatten([for arn in values(module.log_buckets.bucket_arns) : ["${arn}/AWSLogs/*", "${arn}/*/AWSLogs/*"]])
  }

  dynamic "statement" {
    for_each = var.log_kms_key_arn == null ? [] : [var.log_kms_key_arn]
    content {
      sid       = "EncryptCommandOutput"
      effect    = "Allow"
      actions   = ["kms:GenerateDataKey", "kms:Decrypt"]
      resources = [statement.value]
    }
  }
}

resource "aws_iam_policy" "managed_node_logs" {
  name        = "${var.name_prefix}-managed-node-logs"
  path        = "/"
  description = "Lets managed nodes upload patch and inventory command output to the ${var.name_prefix} log buckets."
  policy      = data.aws_iam_policy_document.managed_node_logs.json
  tags        = var.tags
}

resource "aws_iam_role_policy_attachment" "managed_node_logs" {
  count = var.role_check_enabled ? 1 : 0

  role       = module.role_check[0].ssm_role_name
  policy_arn = aws_iam_policy.managed_node_logs.arn
}

module "compliance" {
  source = "../compliance"

  name_prefix                = var.name_prefix
  create_recorder            = var.create_config_recorder
  delivery_bucket_name       = local.config_delivery_bucket_name
  delivery_kms_key_arn       = local.config_delivery_kms_key_arn
  automatic_remediation      = var.automatic_remediation
  command_output_bucket_name = module.log_buckets.patch_baseline_bucket
  # The patch alarms notify this topic unless patch_alarm_actions says otherwise.
  alarm_name_prefixes = var.patch_alarm_actions == null ? ["${var.name_prefix}-patch-"] : []
  tags                = var.tags
}

################################################################################
# Links to the security account: Config aggregator authorization and forwarding of
# NON_COMPLIANT changes to the central event bus (its rule publishes to the central topic).
################################################################################

resource "aws_config_aggregate_authorization" "central" {
  count = local.authorize_aggregator ? 1 : 0

  account_id = var.config_aggregator_account_id
  region     = var.config_aggregator_region
  tags       = var.tags
}

resource "aws_cloudwatch_event_rule" "forward_non_compliant" {
  count = local.forward_compliance_events ? 1 : 0

  name        = "${var.name_prefix}-forward-non-compliant"
  description = "Forward fleetpatch AWS Config NON_COMPLIANT changes of this Region to the security account's event bus."

  event_pattern = jsonencode({
    source        = ["aws.config"]
    "detail-type" = ["Config Rules Compliance Change"]
    detail = {
      messageType         = ["ComplianceChangeNotification"]
      configRuleName      = module.compliance.notified_rule_names
      newEvaluationResult = { complianceType = ["NON_COMPLIANT"] }
    }
  })

  tags = var.tags
}

data "aws_iam_policy_document" "forward_trust" {
  count = local.forward_compliance_events ? 1 : 0

  statement {
    sid     = "EventBridgeRuleOfThisAccount"
    effect  = "Allow"
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = ["arn:${local.partition}:events:${local.region}:${local.account_id}:rule/${var.name_prefix}-forward-non-compliant"]
    }
  }
}

resource "aws_iam_role" "forward" {
  count = local.forward_compliance_events ? 1 : 0

  name                 = "${var.name_prefix}-forward-non-compliant"
  description          = "Assumed by EventBridge to put this Region's NON_COMPLIANT changes on the security account's event bus."
  assume_role_policy   = data.aws_iam_policy_document.forward_trust[0].json
  max_session_duration = 3600
  tags                 = var.tags
}

data "aws_iam_policy_document" "forward" {
  count = local.forward_compliance_events ? 1 : 0

  statement {
    sid       = "PutEventsOnCentralBus"
    effect    = "Allow"
    actions   = ["events:PutEvents"]
    resources = [var.central_event_bus_arn]
  }
}

resource "aws_iam_role_policy" "forward" {
  count = local.forward_compliance_events ? 1 : 0

  name   = "put-events-central-bus"
  role   = aws_iam_role.forward[0].id
  policy = data.aws_iam_policy_document.forward[0].json
}

resource "aws_cloudwatch_event_target" "forward_non_compliant" {
  count = local.forward_compliance_events ? 1 : 0

  rule      = aws_cloudwatch_event_rule.forward_non_compliant[0].name
  target_id = "central-event-bus"
  arn       = var.central_event_bus_arn
  role_arn  = aws_iam_role.forward[0].arn
}
