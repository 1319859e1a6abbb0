variables {
  activation_id   = "0b4e7e66-1b7c-4d5e-9f35-2a6c9d0e1f23"
  activation_code = "AbCdEfGhIjKlMnOpQrSt+/=="
  aws_region      = "eu-west-2"
}

run "linux_script_downloads_from_the_region_and_registers" {
  command = plan

  assert {
    condition     = strcontains(output.linux_script, "https://amazon-ssm-eu-west-2.s3.eu-west-2.amazonaws.com/latest/linux_$${arch}/ssm-setup-cli")
    error_message = "the installer comes from the activation region's bucket, for the VM's architecture"
  }
  assert {
    condition     = strcontains(output.linux_script, "-register -activation-code \"AbCdEfGhIjKlMnOpQrSt+/==\" -activation-id \"0b4e7e66-1b7c-4d5e-9f35-2a6c9d0e1f23\" -region \"eu-west-2\"")
    error_message = "the node registers with the activation"
  }
  assert {
    condition     = startswith(output.linux_script, "set -eu\n")
    error_message = "the script stops at the first failure"
  }
  assert {
    condition     = base64decode(output.linux_script_base64) == output.linux_script
    error_message = "the extension gets the script base64-encoded"
  }
}

run "windows_script_registers_and_passes_the_exit_code_on" {
  command = plan

  assert {
    condition     = strcontains(output.windows_script, "-Uri 'https://amazon-ssm-eu-west-2.s3.eu-west-2.amazonaws.com/latest/windows_amd64/ssm-setup-cli.exe'")
    error_message = "the Windows installer comes from the activation region's bucket"
  }
  assert {
    condition     = strcontains(output.windows_script, "-activation-code 'AbCdEfGhIjKlMnOpQrSt+/==' -activation-id '0b4e7e66-1b7c-4d5e-9f35-2a6c9d0e1f23' -region 'eu-west-2'")
    error_message = "the Windows node registers with the activation"
  }
  assert {
    condition     = endswith(output.windows_script, "exit $code") && startswith(output.windows_command, "powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand ")
    error_message = "the installer's exit code is the extension's"
  }
}

run "a_mirror_replaces_the_aws_bucket" {
  command = plan

  variables {
    ssm_download_base_url = "https://mirror.example.com/ssm"
  }

  assert {
    condition     = strcontains(output.linux_script, "https://mirror.example.com/ssm/latest/") && strcontains(output.windows_script, "https://mirror.example.com/ssm/latest/windows_amd64/")
    error_message = "ssm_download_base_url is used for both OS types"
  }
}
