data "aws_partition" "current" {}
data "aws_caller_identity" "current" {}
data "aws_region" "current" {}

locals {
  partition  = data.aws_partition.current.partition
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name
  role_name  = "${var.name_prefix}-ssm-hybrid-node"
}

# Trust policy of the service role the hybrid (mi-) managed nodes assume. Only Systems Manager of
# this account and region may assume it (confused-deputy protection).
data "aws_iam_policy_document" "trust" {
  statement {
    sid     = "SsmAssumesForHybridNodes"
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
      values   = ["arn:${local.partition}:ssm:${local.region}:${local.account_id}:*"]
    }
  }
}

resource "aws_iam_role" "hybrid" {
  name                 = local.role_name
  path                 = var.role_path
  description          = "Service role of the fleetpatch hybrid activation (Azure and on-premises managed nodes)."
  assume_role_policy   = data.aws_iam_policy_document.trust.json
  permissions_boundary = var.permissions_boundary_arn
  tags                 = var.tags
}

# Least privilege by default (node_policy = "fleetpatch"): an inline policy with exactly the SSM
# core actions a fleetpatch managed node uses (modules/ssm_node_core, the role check's
# REQUIRED_ACTIONS), instead of AmazonSSMManagedInstanceCore, which also grants
# ssm:GetParameter(s) on every parameter of the account.
module "node_core" {
  source = "../ssm_node_core"
}

resource "aws_iam_role_policy" "node_core" {
  #checkov:skip=CKV_AWS_290:The SSM core actions of a managed node, exactly the role check's REQUIRED_ACTIONS (a subset of AmazonSSMManagedInstanceCore, which grants them on * too): the ec2messages/ssmmessages channels, GetDeployablePatchSnapshotForInstance and PutComplianceItems take no resource-level permissions, and the node acts on itself only through the SSM service.
  #checkov:skip=CKV_AWS_355:Same policy as AmazonSSMManagedInstanceCore's core statement, narrowed to the actions fleetpatch needs; per-action resource scoping (instance/managed-instance/document ARNs) is not verifiable offline against AWS and a wrong scope would cut nodes off SSM.
  count  = var.node_policy == "fleetpatch" ? 1 : 0
  name   = "ssm-node-core"
  role   = aws_iam_role.hybrid.name
  policy = module.node_core.policy_json
}

# node_policy = "aws_managed": the AWS managed policy (an existing state's unindexed attachment
# becomes core[0] on its own; with the default it is detached in favour of the inline policy).
resource "aws_iam_role_policy_attachment" "core" {
  count      = var.node_policy == "aws_managed" ? 1 : 0
  role       = aws_iam_role.hybrid.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"
}

resource "aws_iam_role_policy_attachment" "additional" {
  for_each = toset(var.additional_policy_arns)

  role       = aws_iam_role.hybrid.name
  policy_arn = each.value
}

locals {
  # One activation per patch group, tagged with the group: CreateActivation documents that "tags
  # assigned to the activation are automatically applied to the on-premises servers or VMs" that
  # register with it, so a node joins its patch group at registration
  # (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_CreateActivation.html,
  # Tags). Without patch_groups: the single untagged activation of earlier versions ("default").
  groups = length(var.patch_groups) > 0 ? {
    for g, cfg in var.patch_groups : g => {
      registration_limit = cfg.registration_limit
      description        = coalesce(cfg.description, "fleetpatch: hybrid managed nodes of patch group ${g}")
      tags               = merge(var.tags, cfg.tags, { (var.patch_group_tag_key) = g })
    }
    } : {
    default = {
      registration_limit = var.registration_limit
      description        = var.description
      tags               = var.tags
    }
  }

  # Rotation (expiration_date = null). An activation accepts registrations for at most 30 days
  # (CreateActivation, ExpirationDate: "You can specify a date up to 30 days in advance"), so a
  # fixed date in the configuration is a time bomb for VMs created later. Instead each activation
  # expires validity_days after it was created, and is replaced at the first plan/apply of a new
  # rotation period (rotate_after_days long, counted in whole days since 1970-01-01 UTC): applied
  # at least once per period, a fresh activation with >= validity_days - 2 * rotate_after_days days
  # left always exists. Replacing an activation does not deregister the nodes that used it
  # (DeleteActivation: "Deleting an activation doesn't de-register managed nodes").
  rotating = var.expiration_date == null
  now      = plantimestamp()
  # Days since the epoch (civil-from-days, proleptic Gregorian), from the plan's UTC date.
  y_              = tonumber(formatdate("YYYY", local.now)) - (tonumber(formatdate("M", local.now)) <= 2 ? 1 : 0)
  era_            = floor(local.y_ / 400)
  yoe_            = local.y_ - local.era_ * 400
  mp_             = (tonumber(formatdate("M", local.now)) + 9) % 12
  doy_            = floor((153 * local.mp_ + 2) / 5) + tonumber(formatdate("D", local.now)) - 1
  doe_            = local.yoe_ * 365 + floor(local.yoe_ / 4) - floor(local.yoe_ / 100) + local.doy_
  epoch_day       = local.era_ * 146097 + local.doe_ - 719468
  rotation_period = floor(local.epoch_day / var.rotate_after_days)
}

# Changes once per rotation period; every activation's expiry is replaced with it.
resource "terraform_data" "rotation" {
  count = local.rotating ? 1 : 0

  input = local.rotation_period
}

# The expiry of each activation, fixed when it is created (ignore_changes keeps plantimestamp()
# from changing it at every plan) and renewed only when the rotation period changes.
resource "terraform_data" "expiry" {
  for_each = local.rotating ? local.groups : {}

  input = timeadd(local.now, "${var.validity_days * 24}h")

  lifecycle {
    ignore_changes       = [input]
    replace_triggered_by = [terraform_data.rotation]
  }
}

locals {
  expiration_dates = { for g in keys(local.groups) : g => local.rotating ? terraform_data.expiry[g].input : var.expiration_date }
}

moved {
  from = aws_ssm_activation.this
  to   = aws_ssm_activation.this["default"]
}

resource "aws_ssm_activation" "this" {
  for_each = local.groups

  name        = var.default_instance_name
  description = each.value.description
  # CreateActivation takes the role as <path without leading slash><name>, e.g. "fleetpatch/<name>".
  iam_role           = "${trimprefix(aws_iam_role.hybrid.path, "/")}${aws_iam_role.hybrid.name}"
  registration_limit = each.value.registration_limit
  # input (not output): known at plan even when the expiry is replaced, so the check below and the
  # plan show the new date.
  expiration_date = local.rotating ? terraform_data.expiry[each.key].input : var.expiration_date
  tags            = each.value.tags

  # The role must carry its permissions before the first node registers with the activation.
  depends_on = [aws_iam_role_policy.node_core, aws_iam_role_policy_attachment.core]
}

# Plan-time warning (a check block fails as a warning, never blocks the plan): an activation that
# expires within warn_before_expiry_days, or whose registrations reached warn_registration_percent
# of its limit. registration_count and expiration_date are read from the refreshed state, so
# `terraform plan` (e.g. a scheduled CI drift plan) is the alarm. Systems Manager publishes no
# CloudWatch metric or event for activation expiry or registration counts.
check "hybrid_activation_capacity" {
  assert {
    condition = alltrue([
      for g in keys(local.groups) :
      try(timecmp(local.expiration_dates[g], timeadd(plantimestamp(), "${var.warn_before_expiry_days * 24}h")) > 0, true)
    ])
    error_message = "A hybrid activation expires within ${var.warn_before_expiry_days} days (${join(", ", [for g, d in local.expiration_dates : "${g}: ${d}"])}): VMs created after that cannot register. Apply (rotation renews it) or set a new expiration_date."
  }

  assert {
    condition = alltrue([
      for g, a in aws_ssm_activation.this :
      try(a.registration_count * 100 < a.registration_limit * var.warn_registration_percent, true)
    ])
    error_message = "A hybrid activation reached ${var.warn_registration_percent}% of its registration limit (${join(", ", [for g, a in aws_ssm_activation.this : "${g}: ${try(a.registration_count, "?")}/${a.registration_limit}"])}): raise its registration_limit (replaces the activation) before new VMs fail to register."
  }
}
