variable "name_prefix" {
  type        = string
  description = "Prefix of every bucket name, e.g. \"ss-oregon\" gives ss-oregon-patch-baseline-logs. Lowercase letters, digits and hyphens; 3-40 characters."

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3-40 characters of lowercase letters, digits and hyphens, starting and ending with a letter or digit."
  }
}

variable "buckets" {
  type        = set(string)
  description = "Which log buckets to create: \"patch-baseline-logs\" (AWS-RunPatchBaseline output) and/or \"inventory\" (AWS-GatherSoftwareInventory output)."
  default     = ["patch-baseline-logs", "inventory"]

  validation {
    condition     = length(var.buckets) > 0 && alltrue([for b in var.buckets : contains(["patch-baseline-logs", "inventory"], b)])
    error_message = "buckets must be a non-empty subset of [\"patch-baseline-logs\", \"inventory\"]."
  }
}

variable "bucket_name_suffix" {
  type        = string
  description = "What follows <name_prefix>-<purpose> in each bucket name. S3 bucket names are unique across every account of the partition: a name another account holds fails CreateBucket with BucketAlreadyExists. \"none\" (default) keeps today's names; \"account\" appends -<account id> and \"account-region\" appends -<account id>-<Region code>, which no other account's fleetpatch produces (recommended for new deployments). Changing it on an existing deployment renames, i.e. replaces, the buckets: their objects are not moved. The final name must stay within 63 characters (checked at plan)."
  default     = "none"
  nullable    = false

  validation {
    condition     = contains(["none", "account", "account-region"], var.bucket_name_suffix)
    error_message = "bucket_name_suffix must be \"none\", \"account\" or \"account-region\"."
  }
}

variable "kms_key_arn" {
  type        = string
  description = "ARN of a customer managed KMS key for SSE-KMS. null uses the AWS managed key aws/s3 (SSE-KMS) or, with sse_algorithm = \"AES256\", S3-managed keys."
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:(key|alias)/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key or alias ARN (arn:<partition>:kms:<region>:<account>:key/<id>) or null."
  }
}

variable "sse_algorithm" {
  type        = string
  description = "Server-side encryption: \"aws:kms\" (SSE-KMS, with kms_key_arn or the AWS managed key) or \"AES256\" (S3-managed keys)."
  default     = "aws:kms"

  validation {
    condition     = contains(["aws:kms", "AES256"], var.sse_algorithm)
    error_message = "sse_algorithm must be \"aws:kms\" or \"AES256\"."
  }
}

variable "expiration_days" {
  type        = number
  description = "Days after which current log objects expire (0 keeps them forever)."
  default     = 365

  validation {
    condition     = var.expiration_days >= 0 && floor(var.expiration_days) == var.expiration_days
    error_message = "expiration_days must be a whole number >= 0 (0 disables expiry)."
  }
}

variable "noncurrent_expiration_days" {
  type        = number
  description = "Days after which noncurrent (overwritten or deleted) versions are removed."
  default     = 90

  validation {
    condition     = var.noncurrent_expiration_days >= 1 && floor(var.noncurrent_expiration_days) == var.noncurrent_expiration_days
    error_message = "noncurrent_expiration_days must be a whole number >= 1."
  }
}

variable "transition_days" {
  type        = number
  description = "Days after which log objects move to transition_storage_class (0 disables the transition)."
  default     = 30

  validation {
    condition     = var.transition_days >= 0 && floor(var.transition_days) == var.transition_days
    error_message = "transition_days must be a whole number >= 0 (0 disables the transition)."
  }
}

variable "transition_storage_class" {
  type        = string
  description = "Storage class the log objects move to after transition_days."
  default     = "STANDARD_IA"

  validation {
    condition     = contains(["STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "GLACIER_IR", "GLACIER", "DEEP_ARCHIVE"], var.transition_storage_class)
    error_message = "transition_storage_class must be one of STANDARD_IA, ONEZONE_IA, INTELLIGENT_TIERING, GLACIER_IR, GLACIER, DEEP_ARCHIVE."
  }
}

variable "access_log_bucket" {
  type        = string
  description = "Name of an existing bucket that receives S3 server access logs of the log buckets; null disables access logging."
  default     = null

  validation {
    condition     = var.access_log_bucket == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.access_log_bucket))
    error_message = "access_log_bucket must be a valid S3 bucket name (3-63 lowercase letters, digits, dots, hyphens) or null."
  }
}

variable "force_destroy" {
  type        = bool
  description = "Allow terraform destroy to delete non-empty buckets. Keep false outside test environments."
  default     = false
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every taggable resource."
  default     = {}
}
