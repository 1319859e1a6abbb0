variable "virtual_machines" {
  type = map(object({
    id      = string
    os_type = string
  }))
  description = "Azure VMs that get the SSM agent, key -> { id = VM resource id, os_type = \"Linux\" or \"Windows\" }. Each registers with the hybrid activation and becomes an SSM managed node (mi-...)."

  validation {
    condition     = alltrue([for _, vm in var.virtual_machines : can(regex("(?i)^/subscriptions/[0-9a-f-]{36}/resourceGroups/[^/]+/providers/Microsoft\\.Compute/virtualMachines/[^/]+$", vm.id))])
    error_message = "each virtual_machines id must be a VM resource id: /subscriptions/<guid>/resourceGroups/<rg>/providers/Microsoft.Compute/virtualMachines/<name>."
  }

  validation {
    condition     = alltrue([for _, vm in var.virtual_machines : contains(["Linux", "Windows"], vm.os_type)])
    error_message = "each virtual_machines os_type must be \"Linux\" or \"Windows\"."
  }
}

variable "activation_id" {
  type        = string
  description = "Id of the SSM hybrid activation (modules/hybrid_activation output activation_id)."
  sensitive   = true

  validation {
    condition     = can(regex("^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$", var.activation_id))
    error_message = "activation_id must be an SSM activation id (a lowercase UUID)."
  }
}

variable "activation_code" {
  type        = string
  description = "Code of the SSM hybrid activation (modules/hybrid_activation output activation_code). Passed to the VMs in the extensions' protected (encrypted) settings only."
  sensitive   = true

  validation {
    condition     = length(var.activation_code) >= 20 && length(var.activation_code) <= 250 && can(regex("^[A-Za-z0-9+/=]+$", var.activation_code))
    error_message = "activation_code must be 20-250 characters of letters, digits, + / = (an SSM activation code)."
  }
}

variable "aws_region" {
  type        = string
  description = "AWS region of the hybrid activation, where the nodes register (e.g. us-west-2)."

  validation {
    condition     = can(regex("^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]$", var.aws_region))
    error_message = "aws_region must be an AWS region code such as us-west-2."
  }
}

variable "ssm_download_base_url" {
  type        = string
  description = "Base URL of the SSM agent installers (ssm-setup-cli); null uses https://amazon-ssm-<region>.s3.<region>.amazonaws.com (commercial regions). Set it for other partitions or a mirror."
  default     = null

  validation {
    condition     = var.ssm_download_base_url == null || startswith(coalesce(var.ssm_download_base_url, "x"), "https://")
    error_message = "ssm_download_base_url must be an https URL or null."
  }
}

variable "extension_name" {
  type        = string
  description = "Name of the VM extension (one per VM; a VM can hold one CustomScript extension)."
  default     = "fleetpatch-ssm-hybrid"

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$", var.extension_name))
    error_message = "extension_name must be 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every taggable resource."
  default     = {}
}
