output "extension_ids" {
  description = "Map of VM key -> id of the VM extension that installs and registers the SSM agent."
  value = merge(
    { for k, e in azurerm_virtual_machine_extension.linux : k => e.id },
    { for k, e in azurerm_virtual_machine_extension.windows : k => e.id },
  )
}

output "registered_vm_keys" {
  description = "Keys of the VMs given the SSM agent, by OS type ({ Linux = [...], Windows = [...] })."
  value = {
    Linux   = sort(keys(local.linux_vms))
    Windows = sort(keys(local.windows_vms))
  }
}
