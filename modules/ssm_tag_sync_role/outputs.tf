output "role_arn" {
  description = "ARN of the role the reconciler assumes with AssumeRoleWithWebIdentity (ssm_tag_sync.role_arn of environments/azure)."
  value       = aws_iam_role.tag_sync.arn
}

output "role_name" {
  description = "Name of the role."
  value       = aws_iam_role.tag_sync.name
}

output "oidc_provider_arn" {
  description = "ARN of the IAM OIDC identity provider for the tenant's token issuer."
  value       = aws_iam_openid_connect_provider.entra.arn
}

output "issuer_url" {
  description = "Issuer URL the provider trusts (the iss claim the managed identity's tokens must carry)."
  value       = local.issuer_url
}

output "audience" {
  description = "Audience the managed identity must request its token for (ssm_tag_sync.audience of environments/azure)."
  value       = var.audience
}

output "tag_key" {
  description = "The one SSM tag key the role may set."
  value       = var.tag_key
}

output "role_policy_json" {
  description = "The role's permissions policy (JSON), for review and for the emulator."
  value       = jsonencode(local.role_policy)
}

output "trust_policy_json" {
  description = "The role's trust policy (JSON)."
  value       = jsonencode(local.trust_policy)
}
