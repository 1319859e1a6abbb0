output "run_command_ids" {
  description = "Map of VM key -> id of the managed Run Command that installs and registers the SSM agent."
  value       = { for k, r in azurerm_virtual_machine_run_command.ssm_agent : k => r.id }
}

output "registered_vm_keys" {
  description = "Keys of the VMs given the SSM agent, by OS type ({ Linux = [...], Windows = [...] })."
  value = {
    Linux   = sort([for k, vm in var.virtual_machines : k if vm.os_type == "Linux"])
    Windows = sort([for k, vm in var.virtual_machines : k if vm.os_type == "Windows"])
  }
}

output "vm_patch_groups" {
  description = "Map of VM key -> patch group whose activation (and so whose tag) the VM registers with."
  value       = { for k, vm in var.virtual_machines : k => vm.patch_group }
}
