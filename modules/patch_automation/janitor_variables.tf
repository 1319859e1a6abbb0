# Inputs of the patch janitor (janitor.tf).

variable "janitor_enabled" {
  type        = bool
  description = "Deploy the patch janitor: an Automation document on an EventBridge schedule that stops instances a dead patch run started and left running, and removes markers (fleetpatch:started-by) of executions that no longer run. Independent of enabled (a change freeze does not stop the clean-up)."
  default     = true
}

variable "janitor_schedule_expression" {
  type        = string
  description = "EventBridge schedule of the janitor: rate(N minutes|hours|days) of at least 10 minutes (one run takes up to 10 minutes, aws:executeScript's limit) or a 6-field cron(...) in UTC. Default every hour."
  default     = "rate(1 hour)"

  validation {
    condition = (
      can(regex("^cron\\(\\S+ \\S+ \\S+ \\S+ \\S+ \\S+\\)$", var.janitor_schedule_expression)) ||
      (
        can(regex("^rate\\((1 (hour|day)|[1-9][0-9]* (minutes|hours|days))\\)$", var.janitor_schedule_expression)) &&
        !can(regex("^rate\\(1 (minutes|hours|days)\\)$", var.janitor_schedule_expression)) &&
        (!strcontains(var.janitor_schedule_expression, "minutes") || try(tonumber(regex("[0-9]+", var.janitor_schedule_expression)) >= 10, false))
      )
    )
    error_message = "janitor_schedule_expression must be rate(<n> minutes) with n >= 10, rate(1 hour|day), rate(<n> hours|days) with n > 1, or cron(<min> <hour> <day-of-month> <month> <day-of-week> <year>)."
  }
}

variable "janitor_grace_period_seconds" {
  type        = number
  description = "Seconds a patch run may run before the janitor treats its markers as left behind even though the execution is not terminal. null (default) uses the patch run's maximum run time (every step's timeout times its attempts, plus the two-minute onCancel limit); a value below that is refused. At most 30 days (AWS keeps Automation executions that long)."
  default     = null

  validation {
    condition     = var.janitor_grace_period_seconds == null || try(var.janitor_grace_period_seconds >= 600 && var.janitor_grace_period_seconds <= 2592000 && floor(var.janitor_grace_period_seconds) == var.janitor_grace_period_seconds, false)
    error_message = "janitor_grace_period_seconds must be null or a whole number of seconds from 600 to 2592000 (30 days, AWS's Automation execution history)."
  }
}

variable "janitor_dry_run" {
  type        = bool
  description = "The janitor only reports (step output and metrics) what it would stop and untag."
  default     = false
}

variable "janitor_metrics_namespace" {
  type        = string
  description = "CloudWatch namespace of the janitor's metrics and of the patch run's SkippedInstances metric (dimension DocumentName, plus PatchGroup for SkippedInstances)."
  default     = "fleetpatch"

  validation {
    condition     = can(regex("^[A-Za-z0-9._/#-][A-Za-z0-9._/#:-]{0,254}$", var.janitor_metrics_namespace)) && !startswith(var.janitor_metrics_namespace, "AWS/")
    error_message = "janitor_metrics_namespace must be 1-255 characters of letters, digits and ._/#:-, must not start with : (CloudWatch refuses it) nor with AWS/."
  }
}

variable "janitor_alarm_actions" {
  type        = list(string)
  description = "ARNs (e.g. the member region's compliance SNS topic) notified when a janitor or skipped-instances alarm changes state."
  default     = []

  validation {
    condition     = alltrue([for a in var.janitor_alarm_actions : can(regex("^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:[0-9]{0,12}:.+$", a))])
    error_message = "janitor_alarm_actions must be ARNs (e.g. arn:aws:sns:us-west-2:111111111111:compliance)."
  }
}
