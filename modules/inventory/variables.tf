variable "name_prefix" {
  type        = string
  description = "Prefix of the association and Resource Data Sync names, e.g. \"ss-oregon\". Include the region when one account syncs several regions to the same bucket. Lowercase letters, digits and hyphens; 3-40 characters."

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$", var.name_prefix))
    error_message = "name_prefix must be 3-40 characters of lowercase letters, digits and hyphens, starting and ending with a letter or digit."
  }
}

variable "schedule_expression" {
  type        = string
  description = "When AWS-GatherSoftwareInventory runs on every managed node: a State Manager rate expression of at least 30 minutes (\"rate(30 minutes)\", \"rate(12 hours)\", \"rate(1 day)\") or a cron expression with five fields and an optional year (\"cron(0 2 ? * SUN *)\"). With a cron expression the association only runs at its cron interval, never at apply time."
  default     = "rate(30 minutes)"

  # Same grammar as tests/policy/features/schedule_expressions.feature, plus the State Manager
  # minimum of 30 minutes.
  validation {
    condition = (
      can(regex("^cron\\([0-9,*/-]+ [0-9,*/-]+ [0-9,*/?LW-]+ [0-9A-Za-z,*/-]+ [0-9A-Za-z,*/?L#-]+( [0-9,*/-]+)?\\)$", var.schedule_expression)) ||
      (
        can(regex("^rate\\((1 (minute|hour|day)|([2-9]|[1-9][0-9]+) (minutes|hours|days))\\)$", var.schedule_expression)) &&
        (!strcontains(var.schedule_expression, "minute") || try(tonumber(regex("[0-9]+", var.schedule_expression)) >= 30, false))
      )
    )
    error_message = "schedule_expression must be \"rate(<n> minutes|hours|days)\" (singular unit for 1, at least 30 minutes) or \"cron(<minutes> <hours> <day-of-month> <month> <day-of-week> [<year>])\" such as \"cron(0 2 ? * SUN *)\"."
  }
}

variable "output_bucket_name" {
  type        = string
  description = "Name of the inventory log bucket of this account and region (the log_buckets module's inventory_bucket) that receives the association's command output."

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.output_bucket_name))
    error_message = "output_bucket_name must be a valid S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)."
  }
}

variable "output_key_prefix" {
  type        = string
  description = "Key prefix of the association's command output in output_bucket_name (no leading or trailing slash)."
  default     = "inventory"

  validation {
    condition     = can(regex("^[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*$", var.output_key_prefix)) && length(var.output_key_prefix) <= 500
    error_message = "output_key_prefix must be 1-500 characters of letters, digits and !_.*'()- separated by single slashes, without a leading or trailing slash."
  }
}

variable "output_bucket_region" {
  type        = string
  description = "Region of output_bucket_name; null means the provider's region."
  default     = null

  validation {
    condition     = var.output_bucket_region == null || can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.output_bucket_region))
    error_message = "output_bucket_region must be an AWS region code such as \"us-west-2\", or null."
  }
}

variable "inventory_parameters" {
  type        = map(string)
  description = "Parameters of AWS-GatherSoftwareInventory: which inventory types to collect (applications, awsComponents, billingInfo, customInventory, instanceDetailedInformation, networkConfig, services, windowsRoles, windowsUpdates), each \"Enabled\" or \"Disabled\"."
  default = {
    applications                = "Enabled"
    awsComponents               = "Enabled"
    billingInfo                 = "Enabled"
    customInventory             = "Enabled"
    instanceDetailedInformation = "Enabled"
    networkConfig               = "Enabled"
    services                    = "Enabled"
    windowsRoles                = "Enabled"
    windowsUpdates              = "Enabled"
  }

  validation {
    condition = alltrue([
      for k, v in var.inventory_parameters :
      contains(["applications", "awsComponents", "billingInfo", "customInventory", "instanceDetailedInformation", "networkConfig", "services", "windowsRoles", "windowsUpdates"], k) && contains(["Enabled", "Disabled"], v)
    ])
    error_message = "inventory_parameters keys must be among applications, awsComponents, billingInfo, customInventory, instanceDetailedInformation, networkConfig, services, windowsRoles, windowsUpdates, with values \"Enabled\" or \"Disabled\"."
  }
}

variable "compliance_severity" {
  type        = string
  description = "Severity of the association's compliance status when it fails on a managed node: CRITICAL, HIGH, MEDIUM, LOW or UNSPECIFIED."
  default     = "MEDIUM"

  validation {
    condition     = contains(["CRITICAL", "HIGH", "MEDIUM", "LOW", "UNSPECIFIED"], var.compliance_severity)
    error_message = "compliance_severity must be one of CRITICAL, HIGH, MEDIUM, LOW, UNSPECIFIED."
  }
}

variable "max_concurrency" {
  type        = string
  description = "Rate control: how many managed nodes run the inventory at once, a count (\"50\") or a percentage (\"10%\")."
  default     = "10%"

  validation {
    condition     = can(regex("^([1-9][0-9]{0,6}|[1-9][0-9]?%|100%)$", var.max_concurrency))
    error_message = "max_concurrency must be a whole number from 1 (e.g. \"50\") or a percentage from 1% to 100% (e.g. \"10%\")."
  }
}

variable "max_errors" {
  type        = string
  description = "Rate control: after how many failed managed nodes SSM stops sending the inventory to more nodes, a count (\"0\" stops at the first error) or a percentage (\"10%\")."
  default     = "10%"

  validation {
    condition     = can(regex("^([1-9][0-9]{0,6}|0|[1-9][0-9]?%|[0-9]%|100%)$", var.max_errors))
    error_message = "max_errors must be a whole number from 0 (e.g. \"5\") or a percentage from 0% to 100% (e.g. \"10%\")."
  }
}

variable "sync_bucket_name" {
  type        = string
  description = "Name of the central Resource Data Sync bucket in the security account (the central_reporting module's bucket)."

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.sync_bucket_name))
    error_message = "sync_bucket_name must be a valid S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)."
  }
}

variable "sync_bucket_region" {
  type        = string
  description = "Region of the central Resource Data Sync bucket, e.g. \"us-west-2\"."

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.sync_bucket_region))
    error_message = "sync_bucket_region must be an AWS region code such as \"us-west-2\"."
  }
}

variable "sync_prefix" {
  type        = string
  description = "Key prefix of the synchronised inventory in the central bucket (SSM appends AWS:<type>/accountid=/region=/resourcetype=/...); null writes at the bucket root."
  default     = "inventory"

  validation {
    condition     = var.sync_prefix == null || (can(regex("^[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*$", var.sync_prefix)) && length(coalesce(var.sync_prefix, "x")) <= 256)
    error_message = "sync_prefix must be 1-256 characters of letters, digits and !_.*'()- separated by single slashes (no leading or trailing slash), or null."
  }
}

variable "sync_kms_key_arn" {
  type        = string
  description = "ARN of the customer managed KMS key (in the bucket's region) the central bucket uses; SSM encrypts the synchronised objects with it. null when the bucket uses S3-managed or AWS managed keys."
  default     = null

  validation {
    condition     = var.sync_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.sync_kms_key_arn))
    error_message = "sync_kms_key_arn must be a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>) or null."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every taggable resource (the association; Resource Data Syncs take no tags)."
  default     = {}
}
