output "export_container_url" {
  description = "Blob container with the VM tag export (vm-tags/days/<YYYY-MM-DD>.*, vm-tags/runs/*, vm-tags/latest.jsonl and latest.csv); reading it needs Storage Blob Data Reader."
  value       = module.tag_enforcement.export_container_url
}

output "trigger_url" {
  description = "HTTP trigger of the Function App, or null with runner = \"automation\"."
  value       = module.tag_enforcement.trigger_url
}

output "runner_principal_id" {
  description = "Object id of the runner's managed identity."
  value       = module.tag_enforcement.runner_principal_id
}

output "hybrid_run_command_ids" {
  description = "VM key -> id of the managed Run Command that registered it with SSM (empty when hybrid_vms is empty)."
  value       = try(module.ssm_hybrid[0].run_command_ids, {})
}

output "cross_cloud_rule_arn" {
  description = "ARN of the EventBridge rule starting the Azure run, or null when not created."
  value       = try(module.cross_cloud_trigger[0].rule_arn, null)
}

output "resource_group_name" {
  description = "Resource group of the tag enforcement resources (for az commands, e.g. az functionapp keys list)."
  value       = module.tag_enforcement.resource_group_name
}

output "function_app_name" {
  description = "Name of the Function App (az functionapp keys list -g <resource_group_name> -n <function_app_name> reads its function key), or null with runner = \"automation\"."
  value       = module.tag_enforcement.function_app_name
}
