output "actions" {
  description = "The SSM core actions of a managed node (the role check's REQUIRED_ACTIONS), sorted."
  value       = local.actions
}

output "policy_json" {
  description = "IAM policy document (JSON) with one Allow statement of those actions on *, for an instance role or a hybrid service role."
  value = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid      = "SsmManagedNodeCore"
      Effect   = "Allow"
      Action   = local.actions
      Resource = "*"
    }]
  })
}
