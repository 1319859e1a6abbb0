module "commands" {
  source = "./commands"

  aws_region                  = var.aws_region
  ssm_download_base_url       = var.ssm_download_base_url
  linux_signing_key           = var.linux_signing_key
  windows_signer_organization = var.windows_signer_organization
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
    # A rotated activation (new id/code) must not update every run command: an update runs the
    # script again, on every VM at each rotation (and fails on a deallocated VM). Only new VMs
    # (and replaced run commands) get the current activation. tags and source are NOT ignored:
    # their changes are rare and deliberate, and the re-run is harmless because the script exits
    # 0 on a registered node before it downloads anything or uses the (possibly expired or
    # deleted) activation from state (commands/main.tf). README: "Re-runs and rotation".
    ignore_changes = [protected_parameter]

    # The Linux script runs ssm-setup-cli only after gpg verified it against linux_signing_key;
    # without a key it would refuse on the VM, so say so at plan instead.
    precondition {
      condition     = local.windows[each.key] || var.linux_signing_key != null
      error_message = "VM ${each.key} runs Linux: set linux_signing_key to the SSM Agent public key AWS publishes on \"Verifying the signature of SSM Agent\" (https://docs.aws.amazon.com/systems-manager/latest/userguide/verify-agent-signature.html); the install script never runs an unverified installer."
    }
  }
}

# The install's outcome is in the run command's instance view (exit code, error message): a
# failed registration (expired or deleted activation, registration limit reached) is reported
# here as a warning at every plan, with the VM's key.
check "ssm_agent_registration" {
  assert {
    condition = alltrue([
      for k, r in azurerm_virtual_machine_run_command.ssm_agent : try(r.instance_view[0].exit_code == 0, true)
    ])
    error_message = "SSM agent install/registration failed on: ${join(", ", [for k, r in azurerm_virtual_machine_run_command.ssm_agent : "${k} (exit ${try(r.instance_view[0].exit_code, "?")}: ${try(r.instance_view[0].error_message, "")})" if !try(r.instance_view[0].exit_code == 0, true)])}. See the README (registration limit, expired activation): fix the activation, then terraform apply -replace on that VM's run command."
  }
}
