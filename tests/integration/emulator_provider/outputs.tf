output "account_id" {
  description = "Account the resources were created in (the assumed role's account)."
  value       = local.account_id
}

output "association_id" {
  description = "ID of the scan association."
  value       = aws_ssm_association.scan.association_id
}

output "baseline_id" {
  description = "ID of the patch baseline."
  value       = aws_ssm_patch_baseline.this.id
}

output "activation_id" {
  description = "ID of the hybrid activation."
  value       = aws_ssm_activation.this.id
}
