data "aws_partition" "current" {}
data "aws_caller_identity" "current" {}
data "aws_region" "current" {}

locals {
  partition  = data.aws_partition.current.partition
  account_id = data.aws_caller_identity.current.account_id
  role_name  = "${var.name_prefix}-ssm-tag-sync"

  # Issuer (iss claim) of Entra ID access tokens; IAM names the provider by the issuer URL, and its
  # condition keys by the URL without "https://" (IAM User Guide, "Available keys for OIDC
  # federation": <provider-url>:aud, <provider-url>:sub).
  # v1 tokens: https://sts.windows.net/<tenant>/ ; v2 tokens: https://login.microsoftonline.com/<tenant>/v2.0
  # (Microsoft identity platform, "Access tokens": the iss claim per token version).
  issuer_url = var.token_version == "v1" ? "https://sts.windows.net/${lower(var.tenant_id)}/" : "https://login.microsoftonline.com/${lower(var.tenant_id)}/v2.0"
  issuer_key = trimprefix(local.issuer_url, "https://")

  # The ARN IAM gives the provider: arn:<partition>:iam::<account>:oidc-provider/<url without https://>.
  # Written here (not taken from the resource) so the policies can be rendered and tested at plan.
  oidc_provider_arn = "arn:${local.partition}:iam::${local.account_id}:oidc-provider/${local.issuer_key}"

  # Only the Regions the reconciler works in (default: the provider's), never ssm:*.
  regions               = var.regions == null ? [data.aws_region.current.name] : var.regions
  managed_instance_arns = [for r in local.regions : "arn:${local.partition}:ssm:${r}:${local.account_id}:managed-instance/*"]

  # Only nodes that registered through an Azure activation: those activations carry the marker
  # tag (modules/hybrid_activation patch_groups[*].tags), and SSM applies an activation's tags to
  # every node that registers with it (CreateActivation, Tags). managed-instance supports the
  # aws:ResourceTag/${TagKey} condition key (Service Authorization Reference, "Actions, resources,
  # and condition keys for AWS Systems Manager", resource type managed-instance:
  # https://docs.aws.amazon.com/service-authorization/latest/reference/list_awssystemsmanager.html).
  # On-premises nodes of other activations (no marker) cannot be read or tagged.
  source_condition = { StringEquals = { "aws:ResourceTag/${var.source_tag.key}" = var.source_tag.value } }

  # Trust: only tokens from this tenant's issuer, for this audience, whose subject is one of the
  # given managed identities (their object ids, lower-case as Entra writes them).
  trust_policy = {
    Version = "2012-10-17"
    Statement = [{
      Sid       = "EntraManagedIdentityWebIdentity"
      Effect    = "Allow"
      Action    = "sts:AssumeRoleWithWebIdentity"
      Principal = { Federated = local.oidc_provider_arn }
      Condition = {
        StringEquals = {
          "${local.issuer_key}:aud" = var.audience
          "${local.issuer_key}:sub" = sort([for id in var.managed_identity_principal_ids : lower(id)])
        }
      }
    }]
  }

  # What the reconciler may do, and nothing else (Service Authorization Reference, "Actions,
  # resources, and condition keys for AWS Systems Manager": DescribeInstanceInformation supports no
  # resource-level permissions; ListTagsForResource / AddTagsToResource take the managed-instance
  # resource type and the aws:TagKeys condition key).
  # ForAllValues alone is also true when a request carries no tag keys at all; the Null check makes
  # AddTagsToResource require tag keys (IAM User Guide, "Single-valued vs. multivalued context keys").
  # No RemoveTagsFromResource: the reconciler overwrites a drifted value, it never removes the key.
  role_policy = {
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "ListManagedNodes"
        Effect   = "Allow"
        Action   = "ssm:DescribeInstanceInformation"
        Resource = "*"
      },
      {
        Sid       = "ReadManagedInstanceTags"
        Effect    = "Allow"
        Action    = "ssm:ListTagsForResource"
        Resource  = local.managed_instance_arns
        Condition = local.source_condition
      },
      {
        Sid      = "SetTheOneTagKeyOnManagedInstances"
        Effect   = "Allow"
        Action   = "ssm:AddTagsToResource"
        Resource = local.managed_instance_arns
        Condition = {
          "ForAllValues:StringEquals" = { "aws:TagKeys" = [var.tag_key] }
          Null                        = { "aws:TagKeys" = "false" }
          StringEquals                = local.source_condition.StringEquals
        }
      },
    ]
  }
}

# IAM OIDC identity provider for the tenant's token issuer. No thumbprint_list: IAM no longer
# needs thumbprints for providers whose keys are served behind a certificate from a trusted root CA
# (login.microsoftonline.com / sts.windows.net are), and the aws provider (5.x) makes the argument
# optional (IAM User Guide, "Create an OpenID Connect (OIDC) identity provider in IAM").
resource "aws_iam_openid_connect_provider" "entra" {
  url            = local.issuer_url
  client_id_list = [var.audience]
  tags           = var.tags
}

resource "aws_iam_role" "tag_sync" {
  name                 = local.role_name
  path                 = var.role_path
  description          = "fleetpatch reconciler: mirrors the ${var.tag_key} Azure tag onto SSM managed instances (mi-), assumed with Entra managed identity tokens."
  assume_role_policy   = jsonencode(local.trust_policy)
  max_session_duration = var.max_session_duration
  permissions_boundary = var.permissions_boundary_arn
  tags                 = var.tags

  # The provider must exist before a token can be exchanged; the trust policy names it by ARN.
  depends_on = [aws_iam_openid_connect_provider.entra]
}

resource "aws_iam_role_policy" "tag_sync" {
  name   = "ssm-managed-instance-tag-${substr(sha256(var.tag_key), 0, 8)}"
  role   = aws_iam_role.tag_sync.id
  policy = jsonencode(local.role_policy)
}
