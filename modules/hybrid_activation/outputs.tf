output "activation_id" {
  description = "ID of the hybrid activation; give it with the code to `amazon-ssm-agent -register` on each Azure or on-premises node."
  value       = aws_ssm_activation.this.id
  sensitive   = true
}

output "activation_code" {
  description = "Activation code of the hybrid activation (a registration secret: keep it out of logs and repositories)."
  value       = aws_ssm_activation.this.activation_code
  sensitive   = true
}

output "expiration_date" {
  description = "RFC3339 timestamp after which no more nodes can register with the activation."
  value       = aws_ssm_activation.this.expiration_date
}

output "registration_limit" {
  description = "Maximum number of managed nodes that can register with the activation."
  value       = aws_ssm_activation.this.registration_limit
}

output "role_name" {
  description = "Name of the service role the hybrid managed nodes assume."
  value       = aws_iam_role.hybrid.name
}

output "role_arn" {
  description = "ARN of the service role the hybrid managed nodes assume."
  value       = aws_iam_role.hybrid.arn
}
