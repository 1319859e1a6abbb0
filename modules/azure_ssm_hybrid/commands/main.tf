# Provider-free, so that `terraform test` can check the rendered commands here.
locals {
  base_url = coalesce(var.ssm_download_base_url, "https://amazon-ssm-${var.aws_region}.s3.${var.aws_region}.amazonaws.com")

  # ssm-setup-cli (AWS's installer for hybrid nodes) installs the agent, checks its signature and
  # registers the node with the activation.
  linux_script = join("\n", [
    "set -eu",
    "arch=$(uname -m | sed -e 's/x86_64/amd64/' -e 's/aarch64/arm64/')",
    "tmp=$(mktemp -d)",
    "trap 'rm -rf \"$tmp\"' EXIT",
    "curl -fsSL --retry 5 -o \"$tmp/ssm-setup-cli\" \"${local.base_url}/latest/linux_$${arch}/ssm-setup-cli\"",
    "chmod 0755 \"$tmp/ssm-setup-cli\"",
    "\"$tmp/ssm-setup-cli\" -register -activation-code \"${var.activation_code}\" -activation-id \"${var.activation_id}\" -region \"${var.aws_region}\"",
  ])

  windows_script = join("\n", [
    "$ErrorActionPreference = 'Stop'",
    "$dir = Join-Path $env:TEMP 'fleetpatch-ssm'",
    "New-Item -ItemType Directory -Force -Path $dir | Out-Null",
    "$cli = Join-Path $dir 'ssm-setup-cli.exe'",
    "Invoke-WebRequest -UseBasicParsing -Uri '${local.base_url}/latest/windows_amd64/ssm-setup-cli.exe' -OutFile $cli",
    "& $cli -register -activation-code '${var.activation_code}' -activation-id '${var.activation_id}' -region '${var.aws_region}'",
    "$code = $LASTEXITCODE",
    "Remove-Item -Recurse -Force $dir",
    "exit $code",
  ])
}
