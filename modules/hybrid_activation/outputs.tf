output "activations" {
  description = "Activation per patch group (\"default\" without patch_groups): { id, expiration_date, registration_limit, tags }. Give id and code (activation_codes) to modules/azure_ssm_hybrid's activations."
  value = {
    for g, a in aws_ssm_activation.this : g => {
      id                 = a.id
      expiration_date    = a.expiration_date
      registration_limit = a.registration_limit
      tags               = a.tags
    }
  }
  sensitive = true
}

output "activation_codes" {
  description = "Activation code per patch group (registration secrets: keep them out of logs and repositories)."
  value       = { for g, a in aws_ssm_activation.this : g => a.activation_code }
  sensitive   = true
}

output "expiration_dates" {
  description = "RFC3339 expiry of each patch group's activation: no registration with it after that."
  value       = { for g, a in aws_ssm_activation.this : g => a.expiration_date }
}

output "activation_id" {
  description = "ID of the single activation when there is exactly one (no or one patch group), else null; use activations for several."
  value       = length(aws_ssm_activation.this) == 1 ? one(values(aws_ssm_activation.this)).id : null
  sensitive   = true
}

output "activation_code" {
  description = "Code of the single activation when there is exactly one, else null; use activation_codes for several."
  value       = length(aws_ssm_activation.this) == 1 ? one(values(aws_ssm_activation.this)).activation_code : null
  sensitive   = true
}

output "expiration_date" {
  description = "Expiry of the single activation when there is exactly one, else null."
  value       = length(aws_ssm_activation.this) == 1 ? one(values(aws_ssm_activation.this)).expiration_date : null
}

output "registration_limit" {
  description = "Registration limit of the single activation when there is exactly one, else null."
  value       = length(aws_ssm_activation.this) == 1 ? one(values(aws_ssm_activation.this)).registration_limit : null
}

output "rotation_period" {
  description = "Current rotation period (whole days since 1970-01-01 UTC divided by rotate_after_days), or null with a fixed expiration_date."
  value       = local.rotating ? local.rotation_period : null
}

output "role_name" {
  description = "Name of the service role the hybrid managed nodes assume."
  value       = aws_iam_role.hybrid.name
}

output "role_arn" {
  description = "ARN of the service role the hybrid managed nodes assume."
  value       = aws_iam_role.hybrid.arn
}
