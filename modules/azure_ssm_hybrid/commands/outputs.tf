output "linux_script" {
  description = "POSIX shell script for a Linux VM's managed Run Command: installs the SSM agent and registers the node with ACTIVATION_ID / ACTIVATION_CODE from its protected parameters (no secret in the script)."
  value       = local.linux_script
}

output "windows_script" {
  description = "PowerShell script for a Windows VM's managed Run Command: TLS 1.2, installs the SSM agent and registers the node with the -ActivationId / -ActivationCode protected parameters (no secret in the script)."
  value       = local.windows_script
}

output "linux_parameter_names" {
  description = "Names of the protected parameters the Linux script reads (environment variables): { id, code }."
  value       = { id = "ACTIVATION_ID", code = "ACTIVATION_CODE" }
}

output "windows_parameter_names" {
  description = "Names of the protected parameters the Windows script takes (script parameters): { id, code }."
  value       = { id = "ActivationId", code = "ActivationCode" }
}

output "registration_files" {
  description = "Where each script looks for the SSM agent's registration record (the agent's vault, JSON with instanceID): { linux = absolute path, windows = path under %ProgramData% }. A registered node makes the script exit 0 without using the activation."
  value       = { linux = local.linux_registration_file, windows = local.windows_registration_file }
}
