variable "endpoint" {
  type        = string
  description = "URL of the embedded AWS emulator every provider talks to, e.g. \"http://127.0.0.1:4566\" (`make demo` starts it and passes its URL)."

  validation {
    condition     = can(regex("^http://(127\\.0\\.0\\.1|localhost):[0-9]{2,5}$", var.endpoint))
    error_message = "endpoint must be the emulator's loopback URL, http://127.0.0.1:<port> or http://localhost:<port>: this environment never talks to AWS."
  }
}

variable "security_account_id" {
  type        = string
  description = "Emulated account id (12 digits) of the security (central) account."
  default     = "333333333333"

  validation {
    condition     = can(regex("^[0-9]{12}$", var.security_account_id))
    error_message = "security_account_id must be a 12-digit account id, e.g. \"333333333333\"."
  }
}

variable "shared_services_account_id" {
  type        = string
  description = "Emulated account id (12 digits) of the shared services account."
  default     = "111111111111"

  validation {
    condition     = can(regex("^[0-9]{12}$", var.shared_services_account_id))
    error_message = "shared_services_account_id must be a 12-digit account id, e.g. \"111111111111\"."
  }
}

variable "application_account_id" {
  type        = string
  description = "Emulated account id (12 digits) of the application account."
  default     = "222222222222"

  validation {
    condition     = can(regex("^[0-9]{12}$", var.application_account_id))
    error_message = "application_account_id must be a 12-digit account id, e.g. \"222222222222\"."
  }
}

variable "deploy_role_name" {
  type        = string
  description = "Name of the role Terraform assumes in every emulated account (the real environments' assume_role_arn points at such a role)."
  default     = "fleetpatch-deploy"

  validation {
    condition     = can(regex("^[A-Za-z0-9+=,.@_-]{1,64}$", var.deploy_role_name))
    error_message = "deploy_role_name must be an IAM role name: 1-64 letters, digits and +=,.@_- characters."
  }
}

variable "home_region" {
  type        = string
  description = "The security account's home Region (environments/security home_region)."
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.home_region))
    error_message = "home_region must be an AWS Region code such as \"us-east-1\"."
  }
}

variable "primary_region" {
  type        = string
  description = "First Region of the shared services and application accounts (their primary_region)."
  default     = "us-west-2"

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.primary_region))
    error_message = "primary_region must be an AWS Region code such as \"us-west-2\"."
  }
}

variable "secondary_region" {
  type        = string
  description = "Second Region of the shared services and application accounts (their secondary_region); must differ from primary_region."
  default     = "eu-west-2"

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.secondary_region))
    error_message = "secondary_region must be an AWS Region code such as \"eu-west-2\"."
  }

  validation {
    condition     = var.secondary_region != var.primary_region
    error_message = "secondary_region must differ from primary_region."
  }
}

variable "hybrid_activation_expiration_date" {
  type        = string
  description = "RFC3339 time the security account's hybrid activation expires, at most 30 days ahead (`make demo` passes one week from its start); null creates no activation here (environments/security instead creates rotating activations with `hybrid_activation_enabled`)."
  default     = null

  validation {
    condition     = var.hybrid_activation_expiration_date == null || can(formatdate("YYYY-MM-DD", var.hybrid_activation_expiration_date))
    error_message = "hybrid_activation_expiration_date must be an RFC3339 timestamp such as \"2026-12-24T00:00:00Z\", or null."
  }
}

variable "role_check_zip_path" {
  type        = string
  description = "Path of the role-check Lambda package built by `make package`; null uses build/ssm_role_check.zip like the real environments."
  default     = null

  validation {
    condition     = var.role_check_zip_path == null || can(regex("\\.zip$", var.role_check_zip_path))
    error_message = "role_check_zip_path must be the path of a .zip file, or null."
  }
}

variable "patch_online_timeout_seconds" {
  type        = number
  description = "The demo passes a short value. Seconds (30-570) the patch run waits for the instances it started to run and report Online to SSM before it patches without them."
  default     = 480

  validation {
    condition     = var.patch_online_timeout_seconds >= 30 && var.patch_online_timeout_seconds <= 570 && floor(var.patch_online_timeout_seconds) == var.patch_online_timeout_seconds
    error_message = "patch_online_timeout_seconds must be a whole number from 30 to 570 (an aws:executeScript step runs at most 600 seconds)."
  }
}

variable "ssm_tag_sync" {
  type = object({
    tenant_id                      = string
    managed_identity_principal_ids = list(string)
    tag_key                        = optional(string)
    audience                       = optional(string, "api://AzureADTokenExchange")
    token_version                  = optional(string, "v1")
  })
  description = "Trust for the Azure tag job's SSM tag reconciler (environments/security ssm_tag_sync): Entra tenant id and the object ids of the managed identities whose tokens may assume the role; `make demo` passes its fake tenant and identity. null (default) creates no OIDC provider or role."
  default     = null

  validation {
    condition = var.ssm_tag_sync == null || try(
      can(regex("^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$", var.ssm_tag_sync.tenant_id)) &&
      length(var.ssm_tag_sync.managed_identity_principal_ids) > 0 &&
      alltrue([for id in var.ssm_tag_sync.managed_identity_principal_ids : can(regex("^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$", id))]),
      false
    )
    error_message = "ssm_tag_sync needs tenant_id and at least one managed_identity_principal_ids, all GUIDs."
  }
}
