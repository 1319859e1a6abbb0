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

resource "aws_iam_role_policy_attachment" "core" {
  role       = aws_iam_role.hybrid.name
  policy_arn = "arn:${local.partition}:iam::aws:policy/AmazonSSMManagedInstanceCore"
}

resource "aws_iam_role_policy_attachment" "additional" {
  for_each = toset(var.additional_policy_arns)

  role       = aws_iam_role.hybrid.name
  policy_arn = each.value
}

resource "aws_ssm_activation" "this" {
  name        = var.default_instance_name
  description = var.description
  # CreateActivation takes the role as <path without leading slash><name>, e.g. "fleetpatch/<name>".
  iam_role           = "${trimprefix(aws_iam_role.hybrid.path, "/")}${aws_iam_role.hybrid.name}"
  registration_limit = var.registration_limit
  expiration_date    = var.expiration_date
  tags               = var.tags

  # The role must carry its permissions before the first node registers with the activation.
  depends_on = [aws_iam_role_policy_attachment.core]
}
