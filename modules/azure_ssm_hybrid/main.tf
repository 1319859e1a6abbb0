locals {
  base_url = coalesce(var.ssm_download_base_url, "https://amazon-ssm-${var.aws_region}.s3.${var.aws_region}.amazonaws.com")

  # ssm-setup-cli (AWS's installer for hybrid nodes) installs the agent, checks its signature and
  # registers the node with the activation. Re-running it on a registered node is harmless.
  linux_command = join(" && ", [
    "set -eu",
    "arch=$(uname -m | sed -e 's/x86_64/amd64/' -e 's/aarch64/arm64/')",
    "tmp=$(mktemp -d)",
    "curl -fsSL --retry 5 -o \"$tmp/ssm-setup-cli\" \"${local.base_url}/latest/linux_$${arch}/ssm-setup-cli\"",
    "chmod 0755 \"$tmp/ssm-setup-cli\"",
    "\"$tmp/ssm-setup-cli\" -register -activation-code \"${var.activation_code}\" -activation-id \"${var.activation_id}\" -region \"${var.aws_region}\"",
    "rm -rf \"$tmp\"",
  ])

  windows_command = join("; ", [
    "$ErrorActionPreference = 'Stop'",
    "$dir = Join-Path $env:TEMP 'ssm'",
    "New-Item -ItemType Directory -Force -Path $dir | Out-Null",
    "Invoke-WebRequest -UseBasicParsing -Uri '${local.base_url}/latest/windows_amd64/ssm-setup-cli.exe' -OutFile (Join-Path $dir 'ssm-setup-cli.exe')",
    "& (Join-Path $dir 'ssm-setup-cli.exe') -register -activation-code '${var.activation_code}' -activation-id '${var.activation_id}' -region '${var.aws_region}'",
    "if ($LASTEXITCODE -ne 0) { exit $LASTEXITCODE }",
    "Remove-Item -Recurse -Force $dir",
  ])

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

  # The activation code is a secret: only in protected settings, which Azure encrypts to the VM.
  protected_settings = jsonencode({
    commandToExecute = "bash -c '${replace(local.linux_command, "'", "'\\''")}'"
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
    commandToExecute = "powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand ${textencodebase64(local.windows_command, "UTF-16LE")}"
  })

  tags = var.tags
}
