variable "name_prefix" {
  type        = string
  description = "Prefix of the service role name (<prefix>-ssm-hybrid-node). Lowercase letters, digits and hyphens; 3-40 characters."

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3-40 characters of lowercase letters, digits and hyphens, starting and ending with a letter or digit."
  }
}

variable "registration_limit" {
  type        = number
  description = "Maximum number of managed nodes (mi-) that can register with this hybrid activation (1-1000)."
  default     = 100

  validation {
    condition     = var.registration_limit >= 1 && var.registration_limit <= 1000 && floor(var.registration_limit) == var.registration_limit
    error_message = "registration_limit must be a whole number from 1 to 1000."
  }
}

variable "expiration_date" {
  type        = string
  description = "When the hybrid activation expires, as an RFC3339 timestamp (e.g. \"2026-12-24T00:00:00Z\"); at most 30 days after the plan. A past date is accepted so plans keep working once the activation has expired (registered nodes keep working); set a new date to replace the activation."

  validation {
    condition     = can(formatdate("YYYY-MM-DD", var.expiration_date))
    error_message = "expiration_date must be an RFC3339 timestamp such as \"2026-12-24T00:00:00Z\"."
  }

  validation {
    # try(): a malformed timestamp is reported by the format check above, not twice.
    condition     = try(timecmp(var.expiration_date, timeadd(plantimestamp(), "720h")) <= 0, true)
    error_message = "expiration_date must be at most 30 days (720h) after the plan: SSM rejects activations that expire later."
  }
}

variable "default_instance_name" {
  type        = string
  description = "Default name of the managed nodes registered with this activation (shown in Fleet Manager until changed)."
  default     = "fleetpatch-hybrid-node"

  validation {
    condition     = can(regex("^[A-Za-z0-9_.-]{1,256}$", var.default_instance_name))
    error_message = "default_instance_name must be 1-256 letters, digits, underscores, dots or hyphens."
  }
}

variable "description" {
  type        = string
  description = "Description of the hybrid activation (at most 256 characters)."
  default     = "fleetpatch: Azure and on-premises managed nodes"

  validation {
    condition     = length(var.description) <= 256
    error_message = "description must be at most 256 characters."
  }
}

variable "role_path" {
  type        = string
  description = "IAM path of the service role, e.g. \"/\" or \"/fleetpatch/\"."
  default     = "/"

  validation {
    condition     = can(regex("^/([A-Za-z0-9+=,.@_-]+/)*$", var.role_path))
    error_message = "role_path must start and end with \"/\" and contain only letters, digits and +=,.@_- between slashes."
  }
}

variable "permissions_boundary_arn" {
  type        = string
  description = "ARN of an IAM managed policy used as permissions boundary of the service role; null sets none."
  default     = null

  validation {
    condition     = var.permissions_boundary_arn == null || can(regex("^arn:aws[a-z-]*:iam::([0-9]{12}|aws):policy/.+$", var.permissions_boundary_arn))
    error_message = "permissions_boundary_arn must be an IAM policy ARN (arn:<partition>:iam::<account>:policy/<name>) or null."
  }
}

variable "additional_policy_arns" {
  type        = list(string)
  description = "Further IAM managed policy ARNs attached to the service role, e.g. one allowing s3:PutObject to the patch-baseline log bucket. AmazonSSMManagedInstanceCore is always attached."
  default     = []

  validation {
    condition     = alltrue([for a in var.additional_policy_arns : can(regex("^arn:aws[a-z-]*:iam::([0-9]{12}|aws):policy/.+$", a))])
    error_message = "additional_policy_arns must be IAM policy ARNs (arn:<partition>:iam::<account or aws>:policy/<name>)."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every taggable resource (the service role and the activation). Tag the registered managed nodes themselves (e.g. with their patch group) after registration."
  default     = {}
}
