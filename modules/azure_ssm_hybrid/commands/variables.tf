variable "activation_id" {
  type        = string
  description = "Id of the SSM hybrid activation."
  sensitive   = true
}

variable "activation_code" {
  type        = string
  description = "Code of the SSM hybrid activation."
  sensitive   = true
}

variable "aws_region" {
  type        = string
  description = "AWS region of the hybrid activation."
}

variable "ssm_download_base_url" {
  type        = string
  description = "Base URL of the SSM agent installers; null uses the region's amazon-ssm-<region> bucket."
  default     = null
}
