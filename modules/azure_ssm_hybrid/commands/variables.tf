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
