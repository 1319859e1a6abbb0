variable "aws_region" {
  type        = string
  description = "AWS region of the hybrid activations, where the nodes register (e.g. us-west-2)."

  validation {
    condition     = can(regex("^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]$", var.aws_region))
    error_message = "aws_region must be an AWS region code such as us-west-2."
  }
}

variable "ssm_download_base_url" {
  type        = string
  description = "Base URL of the SSM agent installers (ssm-setup-cli); null uses https://amazon-ssm-<region>.s3.<region>.amazonaws.com."
  default     = null

  validation {
    condition     = var.ssm_download_base_url == null || can(regex("^https://[^\\s'\"]+$", coalesce(var.ssm_download_base_url, "x")))
    error_message = "ssm_download_base_url must be an https URL without spaces or quotes, or null."
  }
}

variable "linux_signing_key" {
  type        = string
  description = "ASCII-armored OpenPGP public key of the SSM Agent (the one AWS publishes on \"Verifying the signature of SSM Agent\", https://docs.aws.amazon.com/systems-manager/latest/userguide/verify-agent-signature.html; AWS rotates it). The Linux script verifies ssm-setup-cli against its published .sig with gpg before running it. null: the Linux script refuses to run (it never runs an unverified installer)."
  default     = null

  validation {
    condition     = var.linux_signing_key == null || can(regex("^\\s*-----BEGIN PGP PUBLIC KEY BLOCK-----\\r?\\n[\\s\\S]+\\n-----END PGP PUBLIC KEY BLOCK-----\\s*$", coalesce(var.linux_signing_key, "x")))
    error_message = "linux_signing_key must be an ASCII-armored OpenPGP public key block (-----BEGIN PGP PUBLIC KEY BLOCK----- ... -----END PGP PUBLIC KEY BLOCK-----), or null."
  }
}

variable "windows_signer_organization" {
  type        = string
  description = "Organization (O=) the Authenticode signer certificate of ssm-setup-cli.exe must name; the Windows script runs it only when Get-AuthenticodeSignature reports Valid (a chain to a trusted root) and that signer."
  default     = "Amazon Web Services, Inc."

  validation {
    condition     = can(regex("^[A-Za-z0-9 .,&()-]{2,128}$", var.windows_signer_organization))
    error_message = "windows_signer_organization must be 2-128 letters, digits, spaces and .,&()- characters (an X.500 organization name)."
  }
}
