output "association_id" {
  description = "ID of the AWS-GatherSoftwareInventory association."
  value       = aws_ssm_association.inventory.association_id
}

output "association_name" {
  description = "Name of the AWS-GatherSoftwareInventory association."
  value       = aws_ssm_association.inventory.association_name
}

output "association_arn" {
  description = "ARN of the AWS-GatherSoftwareInventory association."
  value       = aws_ssm_association.inventory.arn
}

output "sync_name" {
  description = "Name of the Resource Data Sync to the central bucket."
  value       = aws_ssm_resource_data_sync.central.name
}
