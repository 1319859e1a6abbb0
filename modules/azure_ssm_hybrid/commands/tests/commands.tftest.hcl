variables {
  aws_region = "eu-west-2"
}

run "linux_script_downloads_for_the_architecture_and_registers_from_parameters" {
  command = plan

  assert {
    condition     = strcontains(output.linux_script, "https://amazon-ssm-eu-west-2.s3.eu-west-2.amazonaws.com/latest/linux_$${arch}/ssm-setup-cli")
    error_message = "the installer comes from the activation region's bucket, for the VM's architecture"
  }
  assert {
    condition     = strcontains(output.linux_script, "aarch64|arm64) arch=arm64") && strcontains(output.linux_script, "x86_64|amd64) arch=amd64")
    error_message = "amd64 and arm64 are mapped to AWS's build names"
  }
  assert {
    condition     = strcontains(output.linux_script, "-register -activation-code \"$ACTIVATION_CODE\" -activation-id \"$ACTIVATION_ID\" -region \"eu-west-2\"") && !strcontains(output.linux_script, "-override")
    error_message = "the node registers with the protected parameters, never overriding an existing registration"
  }
  assert {
    condition     = startswith(output.linux_script, "#!/bin/sh\nset -eu\n") && strcontains(output.linux_script, "--tlsv1.2")
    error_message = "the script stops at the first failure and downloads over TLS 1.2+"
  }
}

run "windows_script_forces_tls12_checks_the_architecture_and_passes_the_exit_code_on" {
  command = plan

  assert {
    condition     = strcontains(output.windows_script, "[Net.ServicePointManager]::SecurityProtocol = [Net.ServicePointManager]::SecurityProtocol -bor [Net.SecurityProtocolType]::Tls12")
    error_message = "TLS 1.2 is forced before the download"
  }
  assert {
    condition     = strcontains(output.windows_script, "$env:PROCESSOR_ARCHITEW6432") && strcontains(output.windows_script, "if ($cpu -ne 'AMD64') { throw")
    error_message = "the real CPU architecture is checked (AWS builds windows_amd64 only)"
  }
  assert {
    condition     = strcontains(output.windows_script, "-Uri 'https://amazon-ssm-eu-west-2.s3.eu-west-2.amazonaws.com/latest/windows_amd64/ssm-setup-cli.exe'")
    error_message = "the Windows installer comes from the activation region's bucket"
  }
  assert {
    condition     = strcontains(output.windows_script, "& $cli -register -activation-code $ActivationCode -activation-id $ActivationId -region 'eu-west-2'") && startswith(output.windows_script, "param(")
    error_message = "the Windows node registers with the script's protected parameters"
  }
  assert {
    condition     = endswith(output.windows_script, "exit $code")
    error_message = "the installer's exit code is the run command's"
  }
}

run "registered_nodes_exit_before_any_download_or_activation_use" {
  command = plan

  assert {
    condition     = can(regex("^#!/bin/sh\nset -eu\nreg='/var/lib/amazon/ssm/Vault/Store/RegistrationKey'\nif \\[ -s \"\\$reg\" \\] && mi=[^\n]*mi-\\[0-9a-f\\]\\{17\\}[^\n]*\n[^\n]*\n  exit 0\nfi\n: \"\\$\\{ACTIVATION_ID", output.linux_script))
    error_message = "the Linux script exits 0 on the agent's registration record before it needs the activation or downloads"
  }
  assert {
    condition     = strcontains(output.windows_script, "$reg = Join-Path $env:ProgramData 'Amazon\\SSM\\InstanceData\\Vault\\Store\\RegistrationKey'") && length(split("exit 0", output.windows_script)) == 2 && length(split("Invoke-WebRequest", split("exit 0", output.windows_script)[0])) == 1
    error_message = "the Windows script exits 0 on the registration record, before the download"
  }
  assert {
    condition     = output.registration_files.linux == "/var/lib/amazon/ssm/Vault/Store/RegistrationKey"
    error_message = "the agent's vault record (DefaultDataStorePath/Vault/Store/RegistrationKey)"
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

run "rejects_bad_region" {
  command = plan
  variables {
    aws_region = "mars-1"
  }
  expect_failures = [var.aws_region]
}

run "rejects_plain_http_mirror" {
  command = plan
  variables {
    ssm_download_base_url = "http://mirror"
  }
  expect_failures = [var.ssm_download_base_url]
}
