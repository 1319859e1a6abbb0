variable "name_prefix" {
  type        = string
  description = "Prefix of every name (Automation document <prefix>-PatchRun, IAM roles, EventBridge rules <prefix>-patch-<group>). Lowercase letters, digits and hyphens; 3-24 characters; not starting with aws, amazon or amzn."

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{1,22}[a-z0-9]$", var.name_prefix)) && !can(regex("^(aws|amazon|amzn)", var.name_prefix))
    error_message = "name_prefix must be 3-24 lowercase letters, digits and hyphens, start and end with a letter or digit, and not start with aws, amazon or amzn (reserved SSM document prefixes)."
  }
}

variable "patch_groups" {
  type        = list(string)
  description = "Patch groups to patch, each on its own EventBridge schedule (values of the patch_group_tag_key tag, e.g. the seed's Linux, Windows, AppA groups). 1-32 letters, digits, dots, underscores and hyphens each."

  validation {
    condition     = length(var.patch_groups) > 0 && length(var.patch_groups) == length(distinct(var.patch_groups)) && alltrue([for g in var.patch_groups : can(regex("^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$", g))])
    error_message = "patch_groups must be a non-empty list of distinct names of 1-32 letters, digits, dots, underscores and hyphens (starting with a letter or digit)."
  }
}

variable "patch_group_tag_key" {
  type        = string
  description = "Tag key holding the patch group on instances. Default PatchGroup; the classic key \"Patch Group\" (with a space) works only when instance metadata tags are off."
  default     = "PatchGroup"

  validation {
    condition     = can(regex("^[A-Za-z0-9 _.:/=+@-]{1,128}$", var.patch_group_tag_key)) && !startswith(lower(var.patch_group_tag_key), "aws:")
    error_message = "patch_group_tag_key must be 1-128 letters, digits, spaces and _ . : / = + @ - and must not start with aws:."
  }
}

variable "schedule_expression" {
  type        = string
  description = "EventBridge schedule of every patch group's run: rate(N days|hours|minutes) or a 6-field cron(...) in UTC. Default every 14 days; use cron for a fixed maintenance window."
  default     = "rate(14 days)"

  validation {
    condition     = can(regex("^(rate\\((1 (minute|hour|day)|[1-9][0-9]* (minutes|hours|days))\\)|cron\\(\\S+ \\S+ \\S+ \\S+ \\S+ \\S+\\))$", var.schedule_expression)) && !can(regex("^rate\\(1 (minutes|hours|days)\\)$", var.schedule_expression))
    error_message = "schedule_expression must be rate(<n> <unit>) (1 minute|hour|day, or n > 1 with minutes|hours|days) or cron(<min> <hour> <day-of-month> <month> <day-of-week> <year>)."
  }
}

variable "schedule_overrides" {
  type        = map(string)
  description = "Per patch group schedule replacing schedule_expression, e.g. { AppA = \"cron(0 3 ? * SAT *)\" } to stagger groups. Keys must be in patch_groups; values rate(...) or cron(...)."
  default     = {}

  validation {
    condition     = alltrue([for g, e in var.schedule_overrides : contains(var.patch_groups, g) && can(regex("^(rate\\((1 (minute|hour|day)|[1-9][0-9]* (minutes|hours|days))\\)|cron\\(\\S+ \\S+ \\S+ \\S+ \\S+ \\S+\\))$", e))])
    error_message = "schedule_overrides keys must be patch groups listed in patch_groups and values rate(<n> <unit>) or 6-field cron(...) expressions."
  }
}

variable "enabled" {
  type        = bool
  description = "Whether the EventBridge schedules are ENABLED (true) or DISABLED (false, e.g. during a change freeze). The document and roles exist either way."
  default     = true
}

variable "operation" {
  type        = string
  description = "AWS-RunPatchBaseline operation of the scheduled runs: Install (default) or Scan."
  default     = "Install"

  validation {
    condition     = contains(["Install", "Scan"], var.operation)
    error_message = "operation must be \"Install\" or \"Scan\"."
  }
}

variable "reboot_option" {
  type        = string
  description = "RebootIfNeeded (reboot a node after installing patches) or NoReboot (never reboot; the node reports compliance with a pending reboot)."
  default     = "RebootIfNeeded"

  validation {
    condition     = contains(["RebootIfNeeded", "NoReboot"], var.reboot_option)
    error_message = "reboot_option must be \"RebootIfNeeded\" or \"NoReboot\"."
  }
}

variable "max_concurrency" {
  type        = string
  description = "Rate control: nodes patched at the same time, a count (1-9999) or a percentage (1%-100%)."
  default     = "10%"

  validation {
    condition     = can(regex("^([1-9][0-9]{0,6}|[1-9][0-9]?%|100%)$", var.max_concurrency))
    error_message = "max_concurrency must be a count from 1 to 9999999 without leading zeros (e.g. \"10\") or a percentage from 1% to 100% (e.g. \"10%\")."
  }
}

variable "max_errors" {
  type        = string
  description = "Rate control: failed nodes after which no more nodes are patched, a count (0-9999; 0 stops at the first error) or a percentage (0%-100%)."
  default     = "10%"

  validation {
    condition     = can(regex("^([1-9][0-9]{0,6}|0|[1-9][0-9]?%|[0-9]%|100%)$", var.max_errors))
    error_message = "max_errors must be a count from 0 to 9999999 without leading zeros (e.g. \"2\") or a percentage from 0% to 100% without leading zeros (e.g. \"10%\"), as SendCommand accepts."
  }
}

variable "online_timeout_seconds" {
  type        = number
  description = "Seconds (30-570) the run waits for the instances it started to run and report Online to SSM; one not Online by then is stopped again, untagged and reported (the others are patched)."
  default     = 480

  validation {
    condition     = var.online_timeout_seconds >= 30 && var.online_timeout_seconds <= 570 && floor(var.online_timeout_seconds) == var.online_timeout_seconds
    error_message = "online_timeout_seconds must be a whole number from 30 to 570 (an aws:executeScript step runs at most 600 seconds)."
  }
}

variable "output_s3_bucket_name" {
  type        = string
  description = "Patch-baseline log bucket (log_buckets output patch_baseline_bucket) receiving the AWS-RunPatchBaseline output. The nodes upload it with their instance profile, which needs s3:PutObject on it."

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.output_s3_bucket_name))
    error_message = "output_s3_bucket_name must be a valid S3 bucket name (3-63 lowercase letters, digits, dots and hyphens)."
  }
}

variable "output_s3_key_prefix" {
  type        = string
  description = "Key prefix of the command output; each run writes under <prefix>/<patch group>/<execution id>/."
  default     = "patch-run"

  validation {
    condition     = can(regex("^[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*$", var.output_s3_key_prefix)) && length(var.output_s3_key_prefix) <= 400
    error_message = "output_s3_key_prefix must be up to 400 characters of letters, digits and !_.*'()- separated by single slashes, without a leading or trailing slash."
  }
}

variable "baseline_override" {
  type        = string
  description = "Optional s3:// or https:// URL of a patch baseline JSON used instead of the registered patch baseline; empty uses the patch group's baseline."
  default     = ""

  validation {
    condition     = var.baseline_override == "" || can(regex("^(s3|https)://\\S+$", var.baseline_override))
    error_message = "baseline_override must be empty or an s3:// or https:// URL."
  }
}

variable "install_override_list" {
  type        = string
  description = "Optional s3:// or https:// URL of a YAML list of patches to install instead of the baseline's (Install only); empty installs what the baseline approves."
  default     = ""

  validation {
    condition     = var.install_override_list == "" || can(regex("^(s3|https)://\\S+$", var.install_override_list))
    error_message = "install_override_list must be empty or an s3:// or https:// URL."
  }
}

variable "patch_timeout_seconds" {
  type        = number
  description = "Seconds (600-43200) during which a run may start AWS-RunPatchBaseline on nodes (Run Command TimeoutSeconds of PatchNodes). Nodes not started by then end DeliveryTimedOut and are reported; nodes already patching finish (AWS-RunPatchBaseline's execution timeout is 7200 s). Size it as ceil(nodes / max_concurrency) waves x the longest patch time."
  default     = 14400

  validation {
    condition     = var.patch_timeout_seconds >= 600 && var.patch_timeout_seconds <= 43200 && floor(var.patch_timeout_seconds) == var.patch_timeout_seconds
    error_message = "patch_timeout_seconds must be a whole number from 600 to 43200."
  }
}

variable "opt_out_tag_key" {
  type        = string
  description = "Instances carrying this tag key (any value) are neither started nor patched by the run, and are reported as opted out. Empty disables the opt-out."
  default     = "fleetpatch:patch-opt-out"

  validation {
    condition     = var.opt_out_tag_key == "" || (can(regex("^[\\w .:/=+@-]{1,128}$", var.opt_out_tag_key)) && !startswith(lower(var.opt_out_tag_key), "aws:"))
    error_message = "opt_out_tag_key must be empty or a tag key of 1-128 letters, digits, spaces and _.:/=+-@ not starting with aws:."
  }
}

variable "notification_topic_arn" {
  type        = string
  description = "SNS topic (the member region's compliance topic) receiving one message per failed or partially failed run, naming each failed node and its cause. The Automation role gets sns:Publish on it; the topic policy must not deny it. null: no notification."
  default     = null

  validation {
    condition     = var.notification_topic_arn == null || can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}$", var.notification_topic_arn))
    error_message = "notification_topic_arn must be null or an SNS topic ARN."
  }
}

variable "notification_kms_key_arn" {
  type        = string
  description = "Customer managed KMS key encrypting notification_topic_arn, if any: the Automation role gets kms:GenerateDataKey and kms:Decrypt on it through SNS; the key policy must allow the role (or delegate to IAM). null for an unencrypted topic or alias/aws/sns."
  default     = null

  validation {
    condition     = var.notification_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.notification_kms_key_arn))
    error_message = "notification_kms_key_arn must be null or a KMS key ARN."
  }
}

variable "override_s3_buckets" {
  type        = list(string)
  description = "Buckets holding BaselineOverride / InstallOverrideList objects of runs started by hand: the Automation role may s3:GetObject (HeadObject) their objects so the run can refuse a URL naming no object before it starts anything. The objects of baseline_override and install_override_list are allowed without listing their buckets."
  default     = []

  validation {
    condition     = alltrue([for b in var.override_s3_buckets : can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", b))])
    error_message = "override_s3_buckets must be S3 bucket names."
  }
}

variable "ebs_kms_key_arns" {
  type        = list(string)
  description = "KMS keys encrypting the EBS volumes of the patched instances (customer managed keys only). Starting such an instance needs kms:CreateGrant on its key; the Automation role gets it for these keys, for EC2 only."
  default     = []

  validation {
    condition     = alltrue([for k in var.ebs_kms_key_arns : can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", k))])
    error_message = "ebs_kms_key_arns must be KMS key ARNs (arn:<partition>:kms:<region>:<account>:key/<id>)."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every taggable resource."
  default     = {}
}
