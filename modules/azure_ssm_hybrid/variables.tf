variable "virtual_machines" {
  type = map(object({
    id          = string
    os_type     = string
    location    = string
    patch_group = string
  }))
  description = "Azure VMs that get the SSM agent, key -> { id = VM resource id, os_type = \"Linux\" or \"Windows\", location = the VM's Azure region (the run command's), patch_group = key of activations }. Each registers with its patch group's activation and becomes an SSM managed node (mi-...) carrying that patch group tag."

  validation {
    condition     = alltrue([for _, vm in var.virtual_machines : can(regex("(?i)^/subscriptions/[0-9a-f-]{36}/resourceGroups/[^/]+/providers/Microsoft\\.Compute/virtualMachines/[^/]+$", vm.id))])
    error_message = "each virtual_machines id must be a VM resource id: /subscriptions/<guid>/resourceGroups/<rg>/providers/Microsoft.Compute/virtualMachines/<name>."
  }

  validation {
    condition     = alltrue([for _, vm in var.virtual_machines : contains(["Linux", "Windows"], vm.os_type)])
    error_message = "each virtual_machines os_type must be \"Linux\" or \"Windows\"."
  }

  validation {
    condition     = alltrue([for _, vm in var.virtual_machines : can(regex("^[a-z][a-z0-9]+$", vm.location))])
    error_message = "each virtual_machines location must be an Azure region name in lowercase without spaces, e.g. \"westeurope\"."
  }

  validation {
    condition     = alltrue([for _, vm in var.virtual_machines : contains(keys(var.activations), vm.patch_group)])
    error_message = "each virtual_machines patch_group must be a key of activations (a patch group with a hybrid activation)."
  }
}

variable "activations" {
  type = map(object({
    id   = string
    code = string
  }))
  description = "Hybrid activation per patch group (modules/hybrid_activation outputs activations[*].id and activation_codes), patch group -> { id, code }. Passed to the VMs in the run commands' protected (encrypted) parameters only."
  sensitive   = true

  validation {
    condition     = length(var.activations) > 0 && alltrue([for _, a in var.activations : can(regex("^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$", a.id))])
    error_message = "activations must hold at least one patch group, each id an SSM activation id (a lowercase UUID)."
  }

  validation {
    condition     = alltrue([for _, a in var.activations : length(a.code) >= 20 && length(a.code) <= 250 && can(regex("^[A-Za-z0-9+/=]+$", a.code))])
    error_message = "each activation code must be 20-250 characters of letters, digits, + / = (an SSM activation code)."
  }
}

variable "aws_region" {
  type        = string
  description = "AWS region of the hybrid activations, where the nodes register: the security environment's home_region (e.g. us-east-1); ssm-setup-cli registers only with an activation of this Region."

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

variable "linux_signing_key" {
  type        = string
  description = "ASCII-armored OpenPGP public key of the SSM Agent, as AWS publishes it on \"Verifying the signature of SSM Agent\" (https://docs.aws.amazon.com/systems-manager/latest/userguide/verify-agent-signature.html; AWS rotates it before expiry). The Linux script runs ssm-setup-cli only after gpg verifies its .sig against this key. Required when any VM runs Linux."
  default     = null

  validation {
    condition     = var.linux_signing_key == null || can(regex("^\\s*-----BEGIN PGP PUBLIC KEY BLOCK-----\\r?\\n[\\s\\S]+\\n-----END PGP PUBLIC KEY BLOCK-----\\s*$", coalesce(var.linux_signing_key, "x")))
    error_message = "linux_signing_key must be an ASCII-armored OpenPGP public key block (-----BEGIN PGP PUBLIC KEY BLOCK----- ... -----END PGP PUBLIC KEY BLOCK-----), or null."
  }
}

variable "windows_signer_organization" {
  type        = string
  description = "Organization (O=) the Authenticode signer of ssm-setup-cli.exe must name; the Windows script runs it only when Get-AuthenticodeSignature reports Valid with that signer."
  default     = "Amazon Web Services, Inc."

  validation {
    condition     = can(regex("^[A-Za-z0-9 .,&()-]{2,128}$", var.windows_signer_organization))
    error_message = "windows_signer_organization must be 2-128 letters, digits, spaces and .,&()- characters (an X.500 organization name)."
  }
}

variable "run_command_name" {
  type        = string
  description = "Name of the managed Run Command on each VM (a VM can hold several; this one is fleetpatch's)."
  default     = "fleetpatch-ssm-agent"

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$", var.run_command_name))
    error_message = "run_command_name must be 1-63 letters, digits, '.', '_' or '-', starting with a letter or digit."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every taggable resource (the run commands)."
  default     = {}

  validation {
    # Azure tags: names up to 512 characters (not <>%&\\?/), values up to 256.
    condition     = alltrue([for k, v in var.tags : length(k) >= 1 && length(k) <= 512 && !can(regex("[<>%&\\\\?/]", k)) && length(v) <= 256])
    error_message = "tags names must be 1-512 characters without < > % & \\ ? /, values at most 256 characters."
  }
}
