variable "name_prefix" {
  type        = string
  description = "Prefix of every resource name, e.g. \"security\" gives security-azure-tag-enforcement. Letters, digits and hyphens, 1-32 characters."

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9-]{0,31}$", var.name_prefix))
    error_message = "name_prefix must be 1-32 letters, digits and hyphens, starting with a letter or digit."
  }
}

variable "function_url" {
  type        = string
  description = "HTTPS URL of the Azure Function's HTTP trigger that queues a tag enforcement run (modules/azure_tag_enforcement output trigger_url)."

  validation {
    condition     = can(regex("^https://[A-Za-z0-9.-]+(:[0-9]+)?(/[A-Za-z0-9._~!$&'()*+,;=:@%/-]*)?$", var.function_url))
    error_message = "function_url must be an https URL without query string, e.g. https://app.azurewebsites.net/api/enforce-tags."
  }
}

variable "function_key" {
  type        = string
  description = "Function key of the HTTP trigger (modules/azure_tag_enforcement output trigger_function_key). Kept by the EventBridge connection in Secrets Manager and sent as the x-functions-key header."
  sensitive   = true

  validation {
    condition     = length(var.function_key) >= 16 && length(var.function_key) <= 512
    error_message = "function_key must be 16-512 characters."
  }
}

variable "schedule_expression" {
  type        = string
  description = "When EventBridge starts a run: a cron() or rate() expression in UTC. Default every day at 05:00 UTC."
  default     = "cron(0 5 * * ? *)"

  validation {
    condition     = can(regex("^(cron\\(([^ ]+ ){5}[^ ]+\\)|rate\\([1-9][0-9]* (minute|minutes|hour|hours|day|days)\\))$", var.schedule_expression))
    error_message = "schedule_expression must be cron(<6 fields>) or rate(<n> <minutes|hours|days>)."
  }
}

variable "dry_run" {
  type        = bool
  description = "Ask the Function for dry runs (report only, no tag change). The Function's own dry_run setting cannot be overridden from here."
  default     = false
}

variable "enabled" {
  type        = bool
  description = "Whether the schedule rule is enabled."
  default     = true
}

variable "invocation_rate_limit_per_second" {
  type        = number
  description = "Most requests per second EventBridge sends to the Function (1-300)."
  default     = 1

  validation {
    condition     = var.invocation_rate_limit_per_second >= 1 && var.invocation_rate_limit_per_second <= 300 && floor(var.invocation_rate_limit_per_second) == var.invocation_rate_limit_per_second
    error_message = "invocation_rate_limit_per_second must be a whole number from 1 to 300."
  }
}

variable "maximum_retry_attempts" {
  type        = number
  description = "Times EventBridge retries a failed call before the event goes to the dead-letter queue (0-185)."
  default     = 4

  validation {
    condition     = var.maximum_retry_attempts >= 0 && var.maximum_retry_attempts <= 185 && floor(var.maximum_retry_attempts) == var.maximum_retry_attempts
    error_message = "maximum_retry_attempts must be a whole number from 0 to 185."
  }
}

variable "maximum_event_age_seconds" {
  type        = number
  description = "Seconds EventBridge keeps retrying an event before it goes to the dead-letter queue (60-86400)."
  default     = 3600

  validation {
    condition     = var.maximum_event_age_seconds >= 60 && var.maximum_event_age_seconds <= 86400 && floor(var.maximum_event_age_seconds) == var.maximum_event_age_seconds
    error_message = "maximum_event_age_seconds must be a whole number from 60 to 86400."
  }
}

variable "kms_key_arn" {
  type        = string
  description = "ARN of a customer managed KMS key for the connection's secret and the dead-letter queue; null uses the AWS managed keys (Secrets Manager's and SQS-managed SSE)."
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>) or null."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every taggable resource."
  default     = {}
}
