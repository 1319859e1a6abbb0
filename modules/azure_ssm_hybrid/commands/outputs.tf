output "linux_script" {
  description = "POSIX shell script that installs the SSM agent and registers the node (holds the activation code)."
  value       = local.linux_script
  sensitive   = true
}

output "linux_script_base64" {
  description = "The Linux script base64-encoded, for the CustomScript extension's protected `script` setting (run by /bin/sh; never on a command line)."
  value       = base64encode(local.linux_script)
  sensitive   = true
}

output "windows_script" {
  description = "PowerShell script that installs the SSM agent and registers the node (holds the activation code)."
  value       = local.windows_script
  sensitive   = true
}

output "windows_command" {
  description = "commandToExecute for the Windows CustomScriptExtension: the script as a PowerShell -EncodedCommand (UTF-16LE base64)."
  value       = "powershell.exe -NoProfile -NonInteractive -ExecutionPolicy Bypass -EncodedCommand ${textencodebase64(local.windows_script, "UTF-16LE")}"
  sensitive   = true
}
