variable "endpoint" {
  type        = string
  description = "URL of the embedded AWS emulator, e.g. http://127.0.0.1:5000."
}

variable "region" {
  type        = string
  description = "Region the resources are created in."
  default     = "us-west-2"
}

variable "account_id" {
  type        = string
  description = "12-digit account the provider assumes a role into."
  default     = "210987654321"
}

variable "lambda_zip" {
  type        = string
  description = "Path of a Lambda deployment package (a zip with handler.py)."
}
