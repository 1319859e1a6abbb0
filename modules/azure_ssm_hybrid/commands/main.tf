# Provider-free, so that `terraform test` can check the rendered scripts here.
#
# The scripts hold no secret: the activation id and code reach them as Managed Run Command
# protected parameters (encrypted by Azure, never returned by the API). On Linux a parameter is
# exported to the script as an environment variable of its name; on Windows it is a named script
# parameter (Azure, "Run scripts in your Linux/Windows VM by using managed Run Commands").
#
# ssm-setup-cli (AWS's hybrid installer) downloads the agent, checks its signature, installs and
# registers it; flags per its source (aws/amazon-ssm-agent agent/setupcli/setupcli.go): -register,
# -activation-code, -activation-id, -region, -override, -version, -manifest-url, -downgrade,
# -skip-signature-validation. Without -override an already registered agent is NOT registered
# again (the node keeps its mi- id; setupcli.go registerOnPrem).
#
# Idempotent before any download: a managed Run Command runs its script again whenever the
# resource is updated (tags, source), with the protected parameters it was created with, whose
# activation may have expired or been deleted by rotation since. So each script first looks for
# the agent's own registration record and exits 0 without downloading anything or using the
# activation when the node is registered. The agent keeps it in its file vault:
# <DefaultDataStorePath>/Vault/Store/RegistrationKey, JSON {"instanceID":"mi-...","region":...}
# (aws/amazon-ssm-agent agent/managedInstances/vault/fsvault/fsvault.go,
# agent/managedInstances/registration/instance_info.go, agent/appconfig/constants_*.go:
# DefaultDataStorePath /var/lib/amazon/ssm/ on Linux, %ProgramData%\Amazon\SSM\InstanceData\ on
# Windows). ssm-setup-cli reads the same record to decide "already registered".
locals {
  base_url = coalesce(var.ssm_download_base_url, "https://amazon-ssm-${var.aws_region}.s3.${var.aws_region}.amazonaws.com")

  linux_registration_file   = "/var/lib/amazon/ssm/Vault/Store/RegistrationKey"
  windows_registration_file = "Amazon\\SSM\\InstanceData\\Vault\\Store\\RegistrationKey"

  linux_script = join("\n", concat([
    "#!/bin/sh",
    "set -eu",
    "reg='${local.linux_registration_file}'",
    "if [ -s \"$reg\" ] && mi=$(grep -Eo '\"instanceID\" *: *\"mi-[0-9a-f]{17}\"' \"$reg\" | grep -Eo 'mi-[0-9a-f]{17}'); then",
    "  echo \"fleetpatch: SSM agent already registered as $mi; activation not used, nothing changed\"",
    "  exit 0",
    "fi",
    ": \"$${ACTIVATION_ID:?protected parameter ACTIVATION_ID missing}\"",
    ": \"$${ACTIVATION_CODE:?protected parameter ACTIVATION_CODE missing}\"",
    # AWS publishes linux_amd64 and linux_arm64 builds of ssm-setup-cli.
    "case \"$(uname -m)\" in",
    "  x86_64|amd64) arch=amd64 ;;",
    "  aarch64|arm64) arch=arm64 ;;",
    "  *) echo \"fleetpatch: unsupported architecture $(uname -m)\" >&2; exit 1 ;;",
    "esac",
    "tmp=$(mktemp -d)",
    "trap 'rm -rf \"$tmp\"' EXIT",
    ], var.linux_signing_key == null ? [
    "echo 'fleetpatch: no SSM Agent signing key (linux_signing_key): ssm-setup-cli would run unverified, so it is not downloaded' >&2",
    "exit 1",
    ] : [
    "command -v gpg >/dev/null 2>&1 || { echo 'fleetpatch: gpg is needed to verify ssm-setup-cli before it runs' >&2; exit 1; }",
    "curl -fsSL --proto '=https' --tlsv1.2 --retry 5 -o \"$tmp/ssm-setup-cli\" \"${local.base_url}/latest/linux_$${arch}/ssm-setup-cli\"",
    "curl -fsSL --proto '=https' --tlsv1.2 --retry 5 -o \"$tmp/ssm-setup-cli.sig\" \"${local.base_url}/latest/linux_$${arch}/ssm-setup-cli.sig\"",
    # A keyring of its own holding only the SSM Agent key: no key of the VM's user counts.
    "GNUPGHOME=\"$tmp/gnupg\"; export GNUPGHOME; mkdir -m 700 \"$GNUPGHOME\"",
    "cat > \"$tmp/ssm-agent.asc\" <<'FLEETPATCH_SIGNING_KEY'",
    trimspace(coalesce(var.linux_signing_key, "-")),
    "FLEETPATCH_SIGNING_KEY",
    "gpg --batch --quiet --import \"$tmp/ssm-agent.asc\"",
    "gpg --batch --status-fd 1 --verify \"$tmp/ssm-setup-cli.sig\" \"$tmp/ssm-setup-cli\" > \"$tmp/verify.status\" 2>&1 || true",
    "grep -q '^\\[GNUPG:\\] VALIDSIG ' \"$tmp/verify.status\" || { echo 'fleetpatch: ssm-setup-cli does not carry a valid signature of the SSM Agent key: not run' >&2; cat \"$tmp/verify.status\" >&2; exit 1; }",
    "chmod 0755 \"$tmp/ssm-setup-cli\"",
    "\"$tmp/ssm-setup-cli\" -register -activation-code \"$ACTIVATION_CODE\" -activation-id \"$ACTIVATION_ID\" -region \"${var.aws_region}\"",
  ]))

  windows_script = join("\n", [
    "param(",
    "  [Parameter(Mandatory = $true)][string]$ActivationId,",
    "  [Parameter(Mandatory = $true)][string]$ActivationCode",
    ")",
    "$ErrorActionPreference = 'Stop'",
    "$reg = Join-Path $env:ProgramData '${local.windows_registration_file}'",
    "if ((Test-Path -LiteralPath $reg) -and ((Get-Content -Raw -LiteralPath $reg) -match '\"instanceID\"\\s*:\\s*\"(mi-[0-9a-f]{17})\"')) {",
    "  Write-Output \"fleetpatch: SSM agent already registered as $($Matches[1]); activation not used, nothing changed\"",
    "  exit 0",
    "}",
    # Windows PowerShell 5.1 on older Windows Server offers TLS 1.0/1.1 first; S3 requires TLS 1.2.
    "[Net.ServicePointManager]::SecurityProtocol = [Net.ServicePointManager]::SecurityProtocol -bor [Net.SecurityProtocolType]::Tls12",
    # A 32-bit host on 64-bit Windows reports x86 with the real architecture in PROCESSOR_ARCHITEW6432.
    "$cpu = if ($env:PROCESSOR_ARCHITEW6432) { $env:PROCESSOR_ARCHITEW6432 } else { $env:PROCESSOR_ARCHITECTURE }",
    # AWS publishes ssm-setup-cli for Windows as windows_amd64 only (SSM Agent supports 64-bit x86 Windows Server).
    "if ($cpu -ne 'AMD64') { throw \"fleetpatch: SSM Agent has no Windows build for architecture $cpu\" }",
    "$dir = Join-Path $env:TEMP 'fleetpatch-ssm'",
    "New-Item -ItemType Directory -Force -Path $dir | Out-Null",
    "$cli = Join-Path $dir 'ssm-setup-cli.exe'",
    "try {",
    "  Invoke-WebRequest -UseBasicParsing -Uri '${local.base_url}/latest/windows_amd64/ssm-setup-cli.exe' -OutFile $cli",
    # Authenticode: Valid means the signature matches the file and chains to a trusted root; the
    # signer must be AWS (windows_signer_organization).
    "  $sig = Get-AuthenticodeSignature -FilePath $cli",
    "  $signer = if ($sig.SignerCertificate) { $sig.SignerCertificate.Subject } else { '' }",
    "  if ($sig.Status -ne 'Valid' -or $signer -notmatch ('(^|,\\s*)O=\"?' + [regex]::Escape('${var.windows_signer_organization}') + '\"?(,|$)')) {",
    "    throw \"fleetpatch: ssm-setup-cli.exe Authenticode signature is $($sig.Status) (signer '$signer'): not run\"",
    "  }",
    "  & $cli -register -activation-code $ActivationCode -activation-id $ActivationId -region '${var.aws_region}'",
    "  $code = $LASTEXITCODE",
    "} finally {",
    "  Remove-Item -Recurse -Force $dir -ErrorAction SilentlyContinue",
    "}",
    "exit $code",
  ])
}
