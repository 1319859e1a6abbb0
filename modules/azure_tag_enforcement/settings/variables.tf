variable "target_subscription_ids" {
  type        = list(string)
  description = "Subscriptions to enforce (validated by the parent module)."
}

variable "required_tags" {
  type = map(object({
    value                    = optional(string)
    from                     = optional(string)
    values                   = optional(map(string))
    resource_group_overrides = optional(map(map(string)), {})
  }))
  description = "Required tag rules (validated by the parent module)."
}

variable "dry_run" {
  type        = bool
  description = "Whether runs only report."
}

variable "max_concurrency" {
  type        = number
  description = "Tag merges in flight at once."
}

variable "export_account_url" {
  type        = string
  description = "Blob endpoint of the export storage account (trailing slash allowed)."
}

variable "export_container" {
  type        = string
  description = "Container of the export."
}

variable "daily_run_time_utc" {
  type        = string
  description = "HH:MM UTC of the daily run."
}

variable "automation_schedule_start" {
  type        = string
  description = "RFC 3339 first run of the Automation schedule, or null for the day after the plan."
  default     = null
}
