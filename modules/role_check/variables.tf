variable "name_prefix" {
  type        = string
  description = "Prefix of every name (function, roles, instance profile, queue, rules, alarms), e.g. \"ss-oregon\" gives ss-oregon-role-check. Lowercase letters, digits and hyphens; 3-32 characters."

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{1,30}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3-32 characters of lowercase letters, digits and hyphens, starting and ending with a letter or digit."
  }
}

variable "package_path" {
  type        = string
  description = "Path of the deployment zip built by `make package` (build/ssm_role_check.zip): only the ssm_role_check package; boto3 comes from the runtime and Powertools from powertools_layer_arn."

  validation {
    condition     = endswith(var.package_path, ".zip") && fileexists(var.package_path)
    error_message = "package_path must name an existing .zip file; run `make package` to build build/ssm_role_check.zip."
  }
}

variable "runtime" {
  type        = string
  description = "Lambda Python runtime of the function: \"python3.11\" or \"python3.12\"."
  default     = "python3.11"

  validation {
    condition     = contains(["python3.11", "python3.12"], var.runtime)
    error_message = "runtime must be \"python3.11\" or \"python3.12\"."
  }
}

variable "architecture" {
  type        = string
  description = "Instruction set of the function: \"x86_64\" or \"arm64\" (the Powertools layer must match)."
  default     = "x86_64"

  validation {
    condition     = contains(["x86_64", "arm64"], var.architecture)
    error_message = "architecture must be \"x86_64\" or \"arm64\"."
  }
}

variable "powertools_layer_arn" {
  type        = string
  description = "Version ARN of the AWS-managed Powertools for AWS Lambda (Python) v3 layer for the Region, runtime and architecture, e.g. arn:aws:lambda:us-west-2:017000801446:layer:AWSLambdaPowertoolsPythonV3-python311-x86_64:7."

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:lambda:[a-z]{2}(-[a-z]+)+-[0-9]:[0-9]{12}:layer:[A-Za-z0-9_-]{1,140}:[0-9]+$", var.powertools_layer_arn))
    error_message = "powertools_layer_arn must be a Lambda layer version ARN: arn:<partition>:lambda:<region>:<account>:layer:<name>:<version>."
  }
  validation {
    condition     = !can(regex("python3[0-9]+", var.powertools_layer_arn)) || (strcontains(var.powertools_layer_arn, replace(var.runtime, ".", "")) && strcontains(var.powertools_layer_arn, var.architecture))
    error_message = "powertools_layer_arn names a runtime or architecture other than the function's: use the layer built for var.runtime and var.architecture (e.g. ...-python311-x86_64)."
  }
}

variable "sweep_schedule" {
  type        = string
  description = "EventBridge schedule expression of the sweep over every instance of the Region: rate(<n> minutes|hours|days) or cron(<6 fields>)."
  default     = "rate(12 hours)"

  validation {
    condition     = can(regex("^rate\\((1 (minute|hour|day)|([2-9]|[1-9][0-9]+) (minutes|hours|days))\\)$", var.sweep_schedule)) || can(regex("^cron\\(\\S+( \\S+){5}\\)$", var.sweep_schedule))
    error_message = "sweep_schedule must be rate(<n> <unit>) with unit minute(s)/hour(s)/day(s) (singular only for 1), or cron(<minutes> <hours> <day-of-month> <month> <day-of-week> <year>)."
  }
}

variable "sweep_enabled" {
  type        = bool
  description = "Whether the scheduled sweep rule is enabled (the state-change rule always is)."
  default     = true
}

variable "managed_policy_name" {
  type        = string
  description = "AWS managed policy attached to instance roles that lack SSM permissions (and to the SSM role this module creates), optionally with its path."
  default     = "AmazonSSMManagedInstanceCore"

  validation {
    condition     = can(regex("^([A-Za-z0-9+=,.@_-]+/)*[A-Za-z0-9+=,.@_-]{1,128}$", var.managed_policy_name)) && !startswith(var.managed_policy_name, "arn:")
    error_message = "managed_policy_name must be the name (with optional path, e.g. service-role/AmazonEC2RoleforSSM) of an AWS managed policy, not an ARN."
  }
}

variable "node_log_policy_arn" {
  type        = string
  description = "ARN of the customer managed policy letting managed nodes upload command output to the log buckets (member_region's managed_node_log_policy_arn). The function attaches it, with managed_policy_name, to every role it fixes and alone to roles that reach SSM without it (NODE_LOG_POLICY_ARN); AmazonSSMManagedInstanceCore has no s3:PutObject. This module does not attach it to its own SSM role: attach it there yourself (member_region does), else the function does when it next checks an instance using that role. null: only managed_policy_name is checked and attached."
  default     = null

  validation {
    # AWS ARN format for IAM policies: arn:<partition>:iam::<account>:policy/<path><name>
    # (path "/" or "/<segments>/" of printable ASCII, name 1-128 of letters, digits and +=,.@_-).
    condition     = var.node_log_policy_arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:policy/([!-.0-~]+/)*[A-Za-z0-9+=,.@_-]{1,128}$", coalesce(var.node_log_policy_arn, "x")))
    error_message = "node_log_policy_arn must be null or a customer managed policy ARN, arn:<partition>:iam::<12-digit account>:policy/<path><name> (an AWS managed policy, arn:aws:iam::aws:policy/..., is not one)."
  }
}

variable "opt_out_tag_key" {
  type        = string
  description = "Instances carrying this tag key (any value) are reported and left alone, and the function's role is not allowed to associate a profile with them. null disables the opt-out."
  default     = "fleetpatch:role-check-opt-out"

  validation {
    condition     = var.opt_out_tag_key == null || (can(regex("^[\\w.:/=+@ -]{1,128}$", coalesce(var.opt_out_tag_key, "x"))) && !startswith(lower(coalesce(var.opt_out_tag_key, "x")), "aws:"))
    error_message = "opt_out_tag_key must be null or a tag key of 1-128 letters, digits, spaces and _.:/=+-@ not starting with aws:."
  }
}

variable "dry_run" {
  type        = bool
  description = "Dry-run mode: the function reports what it would change and changes nothing (DRY_RUN)."
  default     = false
}

variable "reserved_concurrency" {
  type        = number
  description = "Reserved concurrent executions of the function (1-1000). The check is safe under concurrency; this caps the IAM/EC2 API rate it can cause."
  default     = 2

  validation {
    condition     = var.reserved_concurrency >= 1 && var.reserved_concurrency <= 1000 && floor(var.reserved_concurrency) == var.reserved_concurrency
    error_message = "reserved_concurrency must be a whole number from 1 to 1000."
  }
}

variable "timeout_seconds" {
  type        = number
  description = "Function timeout in seconds (30-900); a sweep makes one call per instance without a profile."
  default     = 300

  validation {
    condition     = var.timeout_seconds >= 30 && var.timeout_seconds <= 900 && floor(var.timeout_seconds) == var.timeout_seconds
    error_message = "timeout_seconds must be a whole number from 30 to 900."
  }
}

variable "memory_size" {
  type        = number
  description = "Function memory in MB (128-10240)."
  default     = 256

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240 && floor(var.memory_size) == var.memory_size
    error_message = "memory_size must be a whole number of MB from 128 to 10240."
  }
}

variable "maximum_retry_attempts" {
  type        = number
  description = "Retries of a failed asynchronous invocation (0-2) before the event goes to the dead-letter queue."
  default     = 2

  validation {
    condition     = contains([0, 1, 2], var.maximum_retry_attempts)
    error_message = "maximum_retry_attempts must be 0, 1 or 2."
  }
}

variable "log_level" {
  type        = string
  description = "Powertools log level of the function: DEBUG, INFO, WARNING or ERROR."
  default     = "INFO"

  validation {
    condition     = contains(["DEBUG", "INFO", "WARNING", "ERROR"], var.log_level)
    error_message = "log_level must be one of DEBUG, INFO, WARNING, ERROR."
  }
}

variable "metrics_namespace" {
  type        = string
  description = "CloudWatch namespace of the function's EMF metrics (POWERTOOLS_METRICS_NAMESPACE)."
  default     = "fleetpatch"

  validation {
    condition     = can(regex("^[A-Za-z0-9._/#-][A-Za-z0-9._/#:-]{0,254}$", var.metrics_namespace)) && !startswith(var.metrics_namespace, "AWS/")
    error_message = "metrics_namespace must be 1-255 characters of letters, digits and ._/#:-, must not start with : (CloudWatch refuses it) nor with AWS/."
  }
}

variable "log_retention_days" {
  type        = number
  description = "Retention of the function's CloudWatch log group, in days (a value CloudWatch Logs accepts)."
  default     = 365

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be one of 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653."
  }
}

variable "log_kms_key_arn" {
  type        = string
  description = "ARN of a KMS key encrypting the log group (its key policy must allow CloudWatch Logs); null uses CloudWatch Logs' own encryption."
  default     = null

  validation {
    condition     = var.log_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", coalesce(var.log_kms_key_arn, "x")))
    error_message = "log_kms_key_arn must be a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>) or null."
  }
}

variable "dlq_kms_key_arn" {
  type        = string
  description = "ARN of a KMS key encrypting the dead-letter queue; null uses SQS-managed encryption (SSE-SQS)."
  default     = null

  validation {
    condition     = var.dlq_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", coalesce(var.dlq_kms_key_arn, "x")))
    error_message = "dlq_kms_key_arn must be a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>) or null."
  }
}

variable "alarm_actions" {
  type        = list(string)
  description = "SNS topic ARNs notified when an alarm (function errors, failed instances, dead-lettered events) fires or recovers."
  default     = []

  validation {
    condition     = alltrue([for a in var.alarm_actions : can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}(\\.fifo)?$", a))])
    error_message = "alarm_actions must be SNS topic ARNs (arn:<partition>:sns:<region>:<account>:<topic>)."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every taggable resource."
  default     = {}
}
