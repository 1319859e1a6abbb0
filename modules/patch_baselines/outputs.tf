output "baseline_ids" {
  description = "Map of patch group name to the ID of its patch baseline (pb-...)."
  value       = { for g, b in aws_ssm_patch_baseline.this : g => b.id }
}

output "baseline_arns" {
  description = "Map of patch group name to the ARN of its patch baseline."
  value       = { for g, b in aws_ssm_patch_baseline.this : g => b.arn }
}

output "patch_group_names" {
  description = "Names of the registered patch groups (the tag values managed nodes carry), sorted."
  value       = sort([for g in aws_ssm_patch_group.this : g.patch_group])
}

output "patch_groups" {
  description = "Map of patch group name to { baseline_id, operating_system, resource_group_arn (null without resource groups) }."
  value = {
    for g, b in aws_ssm_patch_baseline.this : g => {
      baseline_id        = aws_ssm_patch_group.this[g].baseline_id
      operating_system   = b.operating_system
      resource_group_arn = try(aws_resourcegroups_group.this[g].arn, null)
    }
  }
}

output "resource_group_arns" {
  description = "Map of patch group name to the ARN of its tag-based Resource Group (empty when create_resource_groups = false)."
  value       = { for g, r in aws_resourcegroups_group.this : g => r.arn }
}

output "resource_group_names" {
  description = "Map of patch group name to the name of its tag-based Resource Group (empty when create_resource_groups = false)."
  value       = { for g, r in aws_resourcegroups_group.this : g => r.name }
}

output "patch_group_tag_key" {
  description = "Tag key that puts a managed node into a patch group (\"PatchGroup\" or \"Patch Group\")."
  value       = var.patch_group_tag_key
}
