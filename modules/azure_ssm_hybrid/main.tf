module "commands" {
  source = "./commands"

  activation_id         = var.activation_id
  activation_code       = var.activation_code
  aws_region            = var.aws_region
  ssm_download_base_url = var.ssm_download_base_url
}

locals {
  linux_vms   = { for k, vm in var.virtual_machines : k => vm if vm.os_type == "Linux" }
  windows_vms = { for k, vm in var.virtual_machines : k => vm if vm.os_type == "Windows" }
}

resource "azurerm_virtual_machine_extension" "linux" {
  for_each = local.linux_vms

  name                       = var.extension_name
  virtual_machine_id         = each.value.id
  publisher                  = "Microsoft.Azure.Extensions"
  type                       = "CustomScript"
  type_handler_version       = "2.1"
  auto_upgrade_minor_version = true

  # The activation code is a secret: only in protected settings, which Azure encrypts to the VM;
  # `script` is written to a file by the extension, so the code is on no process command line.
  protected_settings = jsonencode({
    script = module.commands.linux_script_base64
  })

  tags = var.tags
}

resource "azurerm_virtual_machine_extension" "windows" {
  for_each = local.windows_vms

  name                       = var.extension_name
  virtual_machine_id         = each.value.id
  publisher                  = "Microsoft.Compute"
  type                       = "CustomScriptExtension"
  type_handler_version       = "1.10"
  auto_upgrade_minor_version = true

  protected_settings = jsonencode({
    commandToExecute = module.commands.windows_command
  })

  tags = var.tags
}
