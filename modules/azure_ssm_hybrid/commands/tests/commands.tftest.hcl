variables {
  aws_region        = "eu-west-2"
  linux_signing_key = "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmDMEZtestkeyFAKE\n=abcd\n-----END PGP PUBLIC KEY BLOCK-----\n"
}

run "linux_script_verifies_the_installer_before_it_runs" {
  command = plan

  assert {
    condition     = strcontains(output.linux_script, "/latest/linux_$${arch}/ssm-setup-cli.sig\"") && strcontains(output.linux_script, "mDMEZtestkeyFAKE")
    error_message = "the signature is downloaded and the configured key is embedded"
  }
  assert {
    condition     = length(split("VALIDSIG", output.linux_script)) == 2 && length(split("-register", split("VALIDSIG", output.linux_script)[0])) == 1 && length(split("chmod 0755", split("VALIDSIG", output.linux_script)[0])) == 1
    error_message = "gpg's VALIDSIG is required before the installer is made executable and run"
  }
  assert {
    condition     = strcontains(output.linux_script, "GNUPGHOME=\"$tmp/gnupg\"")
    error_message = "a keyring of the script's own: no other key counts"
  }
}

run "without_a_signing_key_the_linux_script_never_downloads" {
  command = plan

  variables {
    linux_signing_key = null
  }

  assert {
    condition     = !strcontains(output.linux_script, "curl") && !strcontains(output.linux_script, "-register") && endswith(output.linux_script, "exit 1")
    error_message = "no key: the script refuses before any download and never runs an unverified installer"
  }
}

run "windows_script_requires_a_valid_aws_authenticode_signature" {
  command = plan

  assert {
    condition     = strcontains(output.windows_script, "$sig = Get-AuthenticodeSignature -FilePath $cli") && strcontains(output.windows_script, "$sig.Status -ne 'Valid'") && strcontains(output.windows_script, "[regex]::Escape('Amazon Web Services, Inc.')")
    error_message = "Get-AuthenticodeSignature must report Valid and the AWS signer"
  }
  assert {
    condition     = length(split("& $cli -register", split("Get-AuthenticodeSignature", output.windows_script)[0])) == 1
    error_message = "the signature is checked before the installer runs"
  }
}

run "rejects_a_signing_key_that_is_not_an_armored_public_key" {
  command = plan
  variables {
    linux_signing_key = "-----BEGIN PGP PRIVATE KEY BLOCK-----\nx\n-----END PGP PRIVATE KEY BLOCK-----"
  }
  expect_failures = [var.linux_signing_key]
}

run "rejects_a_signer_organization_with_regex_or_quote_characters" {
  command = plan
  variables {
    windows_signer_organization = "Amazon' ; evil"
  }
  expect_failures = [var.windows_signer_organization]
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
