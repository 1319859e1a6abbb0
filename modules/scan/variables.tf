variable "name_prefix" {
  type        = string
  description = "Prefix of every name (Automation document <prefix>-PatchScan, IAM roles, EventBridge rules <prefix>-scan-<group>). Lowercase letters, digits and hyphens; 3-24 characters; not starting with aws, amazon or amzn."

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{1,22}[a-z0-9]$", var.name_prefix)) && !can(regex("^(aws|amazon|amzn)", var.name_prefix))
    error_message = "name_prefix must be 3-24 lowercase letters, digits and hyphens, start and end with a letter or digit, and not start with aws, amazon or amzn (reserved SSM document prefixes)."
  }
}

variable "patch_groups" {
  type        = list(string)
  description = "Patch groups to scan, each on its own EventBridge schedule (values of the patch_group_tag_key tag). 1-32 letters, digits, dots, underscores and hyphens each."

  validation {
    condition     = length(var.patch_groups) > 0 && length(var.patch_groups) == length(distinct(var.patch_groups)) && alltrue([for g in var.patch_groups : can(regex("^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$", g))])
    error_message = "patch_groups must be a non-empty list of distinct names of 1-32 letters, digits, dots, underscores and hyphens (starting with a letter or digit)."
  }
}

variable "patch_group_tag_key" {
  type        = string
  description = "Tag key holding the patch group on managed nodes. Default PatchGroup; the classic key \"Patch Group\" (with a space) works only when instance metadata tags are off."
  default     = "PatchGroup"

  validation {
    condition     = can(regex("^[A-Za-z0-9 _.:/=+@-]{1,128}$", var.patch_group_tag_key)) && !startswith(lower(var.patch_group_tag_key), "aws:")
    error_message = "patch_group_tag_key must be 1-128 letters, digits, spaces and _ . : / = + @ - and must not start with aws:."
  }
}

variable "schedule_expression" {
  type        = string
  description = "EventBridge schedule of the scan of every patch group: a 6-field cron(...) in UTC or rate(N days|hours|minutes). Default weekly, Sunday 04:00 UTC."
  default     = "cron(0 4 ? * SUN *)"

  validation {
    condition     = can(regex("^(rate\\((1 (minute|hour|day)|[1-9][0-9]* (minutes|hours|days))\\)|cron\\(\\S+ \\S+ \\S+ \\S+ \\S+ \\S+\\))$", var.schedule_expression)) && !can(regex("^rate\\(1 (minutes|hours|days)\\)$", var.schedule_expression))
    error_message = "schedule_expression must be rate(<n> <unit>) (1 minute|hour|day, or n > 1 with minutes|hours|days) or cron(<min> <hour> <day-of-month> <month> <day-of-week> <year>)."
  }
}

variable "enabled" {
  type        = bool
  description = "Whether the EventBridge schedules are ENABLED (true) or DISABLED (false). The document and roles exist either way."
  default     = true
}

variable "max_concurrency" {
  type        = string
  description = "Rate control: nodes scanned at the same time, a count (1-9999) or a percentage (1%-100%)."
  default     = "25%"

  validation {
    condition     = can(regex("^([1-9][0-9]{0,6}|[1-9][0-9]?%|100%)$", var.max_concurrency))
    error_message = "max_concurrency must be a count from 1 to 9999999 without leading zeros (e.g. \"10\") or a percentage from 1% to 100% (e.g. \"25%\")."
  }
}

variable "max_errors" {
  type        = string
  description = "Rate control: failed nodes after which no more nodes are scanned, a count (0-9999) or a percentage (0%-100%). Default 100%: offline nodes (stopped instances) count as errors in Run Command, and a scan changes nothing, so it scans every online node; the scan's summary step fails the execution for failures on online nodes."
  default     = "100%"

  validation {
    condition     = can(regex("^([1-9][0-9]{0,6}|0|[1-9][0-9]?%|[0-9]%|100%)$", var.max_errors))
    error_message = "max_errors must be a count from 0 to 9999 (e.g. \"5\") or a percentage from 0% to 100% (e.g. \"25%\")."
  }
}

variable "output_s3_bucket_name" {
  type        = string
  description = "Patch-baseline log bucket (log_buckets output patch_baseline_bucket) receiving the scan output. The nodes upload it with their instance profile, which needs s3:PutObject on it."

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.output_s3_bucket_name))
    error_message = "output_s3_bucket_name must be a valid S3 bucket name (3-63 lowercase letters, digits, dots and hyphens)."
  }
}

variable "output_s3_key_prefix" {
  type        = string
  description = "Key prefix of the scan output; each scan writes under <prefix>/<patch group>/<execution id>/."
  default     = "patch-scan"

  validation {
    condition     = can(regex("^[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*$", var.output_s3_key_prefix)) && length(var.output_s3_key_prefix) <= 400
    error_message = "output_s3_key_prefix must be up to 400 characters of letters, digits and !_.*'()- separated by single slashes, without a leading or trailing slash."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every taggable resource."
  default     = {}
}
