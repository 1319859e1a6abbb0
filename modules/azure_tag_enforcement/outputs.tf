output "resource_group_name" {
  description = "Name of the resource group holding the tag enforcement resources."
  value       = azurerm_resource_group.this.name
}

output "storage_account_name" {
  description = "Name of the storage account of the tag export (and the Functions host storage)."
  value       = azurerm_storage_account.this.name
}

output "export_container_url" {
  description = "URL of the blob container of the tag export: vm-tags/days/<YYYY-MM-DD>.*, vm-tags/runs/<stamp>-<run id>.* and vm-tags/latest.jsonl|.csv."
  value       = "${azurerm_storage_account.this.primary_blob_endpoint}${azurerm_storage_container.export.name}"
}

output "runner_principal_id" {
  description = "Object id of the runner's managed identity (the custom VM tag writer role on each target subscription)."
  value       = local.runner_principal_id
}

output "function_app_name" {
  description = "Name of the Function App, or null when runner = \"automation\"."
  value       = try(azurerm_function_app_flex_consumption.this[0].name, null)
}

output "trigger_url" {
  description = "HTTPS URL of the HTTP trigger that queues a run (POST, function key in x-functions-key), or null when runner = \"automation\"."
  value       = try("https://${azurerm_function_app_flex_consumption.this[0].default_hostname}/api/enforce-tags", null)
}

output "trigger_function_key" {
  description = "Default function key of the Function App, for the AWS cross-cloud trigger's EventBridge connection; null when runner = \"automation\"."
  value       = try(data.azurerm_function_app_host_keys.this[0].default_function_key, null)
  sensitive   = true
}

output "automation_account_name" {
  description = "Name of the Automation Account, or null when runner = \"function\"."
  value       = try(azurerm_automation_account.this[0].name, null)
}

output "scheduler" {
  description = "What starts the daily run: \"timer\" (the Function's timer), \"cross_cloud\" (the AWS EventBridge schedule calling trigger_url; the timer is disabled) or \"automation\" (the runbook's schedule)."
  value       = local.use_automation ? "automation" : var.scheduler
}

output "log_analytics_workspace_id" {
  description = "Log Analytics workspace receiving the run logs (Application Insights or the runbook's job logs) and the blob access logs."
  value       = local.workspace_id
}

output "application_insights_name" {
  description = "Name of the Application Insights resource receiving the Function's logs (the run summary), or null when runner = \"automation\"."
  value       = try(azurerm_application_insights.this[0].name, null)
}
