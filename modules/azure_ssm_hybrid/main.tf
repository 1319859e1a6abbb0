module "commands" {
  source = "./commands"

  aws_region            = var.aws_region
  ssm_download_base_url = var.ssm_download_base_url
}

locals {
  windows = { for k, vm in var.virtual_machines : k => vm.os_type == "Windows" }
}

# Managed Run Command (Microsoft.Compute/virtualMachines/runCommands), not the CustomScript
# extension: a VM holds at most one CustomScript extension and most already have one, while a VM
# can hold several managed run commands (Azure, "Run scripts in your VM by using managed Run
# Commands"). Schema: azurerm 4.81.0 azurerm_virtual_machine_run_command (checked offline with
# `make azurerm-check`).
resource "azurerm_virtual_machine_run_command" "ssm_agent" {
  for_each = var.virtual_machines

  name               = var.run_command_name
  location           = each.value.location
  virtual_machine_id = each.value.id

  source {
    script = local.windows[each.key] ? module.commands.windows_script : module.commands.linux_script
  }

  # The activation of the VM's patch group: its tags (the patch group) are applied to the node at
  # registration. Only in protected parameters, which Azure encrypts and never returns.
  protected_parameter {
    name  = local.windows[each.key] ? module.commands.windows_parameter_names.id : module.commands.linux_parameter_names.id
    value = var.activations[each.value.patch_group].id
  }
  protected_parameter {
    name  = local.windows[each.key] ? module.commands.windows_parameter_names.code : module.commands.linux_parameter_names.code
    value = var.activations[each.value.patch_group].code
  }

  tags = var.tags

  lifecycle {
    # A rotated activation (new id/code) must not re-run the install on VMs already registered:
    # only new VMs get the current activation. (ssm-setup-cli would keep the registration anyway.)
    ignore_changes = [protected_parameter]
  }
}
