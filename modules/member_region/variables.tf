variable "name_prefix" {
  type        = string
  description = "Prefix of every name in this account and Region, e.g. \"ss-oregon\" (the naming module's name_prefixes). It must differ per Region: IAM role names are global to the account. Lowercase letters, digits and hyphens; 3-24 characters; not starting with aws, amazon or amzn."

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{1,22}[a-z0-9]$", var.name_prefix)) && !can(regex("^(aws|amazon|amzn)", var.name_prefix))
    error_message = "name_prefix must be 3-24 lowercase letters, digits and hyphens, start and end with a letter or digit, and not start with aws, amazon or amzn (reserved SSM document and Resource Group prefixes)."
  }
}

variable "patch_groups" {
  type = map(object({
    operating_system = string
    description      = optional(string)
    approval_rules = optional(list(object({
      approve_after_days  = optional(number)
      approve_until_date  = optional(string)
      compliance_level    = optional(string, "UNSPECIFIED")
      enable_non_security = optional(bool, false)
      classifications     = optional(list(string), [])
      severities          = optional(list(string), [])
      products            = optional(list(string), ["*"])
      patch_set           = optional(string)
    })), [])
    approved_patches                     = optional(list(string), [])
    approved_patches_compliance_level    = optional(string, "UNSPECIFIED")
    approved_patches_enable_non_security = optional(bool, false)
    rejected_patches                     = optional(list(string), [])
    rejected_patches_action              = optional(string, "ALLOW_AS_DEPENDENCY")
  }))
  nullable    = false
  description = "Patch groups of this Region, keyed by patch group name (the value of the patch group tag on the managed nodes): each gets a patch baseline, its registration, a Resource Group, a weekly scan and a patch run. Same shape as the patch_baselines module's patch_groups, which validates the approval rules in detail. Names are 1-32 letters, digits, dots, underscores and hyphens (the limit of the scan and patch schedules). null or omitted gives the seed's three groups: linux (Amazon Linux 2023), windows, appa (the AppA application servers)."
  default = {
    linux = {
      operating_system = "AMAZON_LINUX_2023"
      description      = "Linux managed nodes (seed Patch Group A)"
      approval_rules = [{
        approve_after_days = 7
        compliance_level   = "HIGH"
        classifications    = ["Security", "Bugfix"]
        severities         = ["Critical", "Important"]
      }]
    }
    windows = {
      operating_system = "WINDOWS"
      description      = "Windows managed nodes (seed Patch Group B)"
      approval_rules = [{
        approve_after_days = 7
        compliance_level   = "CRITICAL"
        classifications    = ["CriticalUpdates", "SecurityUpdates"]
        severities         = ["Critical", "Important"]
        patch_set          = "OS"
      }]
    }
    appa = {
      operating_system = "AMAZON_LINUX_2023"
      description      = "AppA application servers (seed Patch Group C)"
      approval_rules = [{
        approve_after_days = 14
        compliance_level   = "HIGH"
        classifications    = ["Security"]
        severities         = ["Critical", "Important", "Medium"]
      }]
    }
  }

  validation {
    condition     = length(var.patch_groups) > 0 && alltrue([for g in keys(var.patch_groups) : can(regex("^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$", g))])
    error_message = "patch_groups must have at least one entry, and every patch group name must be 1-32 letters, digits, dots, underscores and hyphens, starting with a letter or digit."
  }

  validation {
    condition     = alltrue([for g in values(var.patch_groups) : contains(["AMAZON_LINUX_2", "AMAZON_LINUX_2023", "REDHAT_ENTERPRISE_LINUX", "UBUNTU", "WINDOWS"], g.operating_system)])
    error_message = "operating_system must be one of AMAZON_LINUX_2, AMAZON_LINUX_2023, REDHAT_ENTERPRISE_LINUX, UBUNTU, WINDOWS."
  }
}

variable "patch_group_tag_key" {
  type        = string
  description = "Tag key that puts a managed node into a patch group: \"PatchGroup\" (default; works when instance metadata tags are on) or \"Patch Group\" (with a space; not allowed as a tag key when instance metadata tags are enabled)."
  default     = "PatchGroup"

  validation {
    condition     = contains(["PatchGroup", "Patch Group"], var.patch_group_tag_key)
    error_message = "patch_group_tag_key must be \"PatchGroup\" or \"Patch Group\": Patch Manager recognises only these two keys."
  }
}

# --- log buckets ------------------------------------------------------------------------------

variable "log_kms_key_arn" {
  type        = string
  description = "ARN of a customer managed KMS key for the patch-baseline and inventory log buckets; null uses the AWS managed key aws/s3. The managed-node log policy grants kms:GenerateDataKey on it, so it must be a key ARN, not an alias (IAM does not resolve aliases); the key policy must delegate to IAM."
  default     = null

  validation {
    condition     = var.log_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.log_kms_key_arn))
    error_message = "log_kms_key_arn must be a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>; not an alias, which IAM policies cannot grant) or null."
  }
}

variable "log_bucket_name_suffix" {
  type        = string
  description = "What follows <name_prefix>-<purpose> in the log bucket names (log_buckets' bucket_name_suffix): \"none\" (default, today's names), \"account\" (-<account id>) or \"account-region\" (-<account id>-<Region code>). S3 names are global: a name another account holds fails CreateBucket with BucketAlreadyExists; the account id avoids that (recommended for new deployments). Changing it replaces existing buckets."
  default     = "none"
  nullable    = false

  validation {
    condition     = contains(["none", "account", "account-region"], var.log_bucket_name_suffix)
    error_message = "log_bucket_name_suffix must be \"none\", \"account\" or \"account-region\"."
  }
}

variable "log_expiration_days" {
  type        = number
  description = "Days after which patch-baseline and inventory log objects expire (0 keeps them forever)."
  default     = 365

  validation {
    condition     = var.log_expiration_days >= 0 && floor(var.log_expiration_days) == var.log_expiration_days
    error_message = "log_expiration_days must be a whole number >= 0 (0 disables expiry)."
  }
}

variable "log_access_log_bucket" {
  type        = string
  description = "Name of an existing bucket in this Region that receives S3 server access logs of the log buckets; null disables access logging."
  default     = null

  validation {
    condition     = var.log_access_log_bucket == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.log_access_log_bucket))
    error_message = "log_access_log_bucket must be a valid S3 bucket name (3-63 lowercase letters, digits, dots, hyphens) or null."
  }
}

variable "force_destroy" {
  type        = bool
  description = "Allow terraform destroy to delete non-empty log buckets. Keep false outside test environments."
  default     = false
}

# --- inventory and Resource Data Sync to the security account --------------------------------

variable "inventory_schedule_expression" {
  type        = string
  description = "When AWS-GatherSoftwareInventory runs on every managed node: a State Manager rate expression of at least 30 minutes (\"rate(30 minutes)\", \"rate(1 day)\") or a cron expression (\"cron(0 2 ? * SUN *)\")."
  default     = "rate(30 minutes)"

  # BEGIN schedule rules ssm_association: generated by `python -m tools.schedule_rules`, do not edit
  validation {
    condition     = can(regex("^(cron|rate|at)\\(.*\\)$", var.inventory_schedule_expression))
    error_message = "inventory_schedule_expression: schedule form: cron(<minutes> <hours> <day-of-month> <month> <day-of-week> [<year>]) or rate(<value> <unit>)."
  }
  validation {
    condition     = !can(regex("^at\\(", var.inventory_schedule_expression))
    error_message = "inventory_schedule_expression: at(<UTC timestamp>) single-run schedule: State Manager accepts it, but this input schedules a recurring association (inventory, scan), so fleetpatch refuses a one-off run; use cron(...) or rate(...)."
  }
  validation {
    condition     = !can(regex("^rate\\(", var.inventory_schedule_expression)) || (can(regex("^rate\\([1-9][0-9]* (minute|minutes|hour|hours|day|days)\\)$", var.inventory_schedule_expression)))
    error_message = "inventory_schedule_expression: rate(<value> <unit>): value a whole number from 1 without leading zeros, one space, unit minute(s), hour(s) or day(s)."
  }
  validation {
    condition     = !can(regex("^rate\\([0-9]+ [a-z]+\\)$", var.inventory_schedule_expression)) || (!can(regex("^rate\\((1 (minutes|hours|days)|([2-9]|[1-9][0-9]+) (minute|hour|day))\\)$", var.inventory_schedule_expression)))
    error_message = "inventory_schedule_expression: rate unit: singular (minute, hour, day) for 1, plural (minutes, hours, days) above 1."
  }
  validation {
    condition     = !can(regex("^rate\\([1-9][0-9]* (minute|minutes|hour|hours|day|days)\\)$", var.inventory_schedule_expression)) || (try(tonumber(regex("^rate\\(([0-9]+) ", var.inventory_schedule_expression)[0]) * lookup({ minute = 1, minutes = 1, hour = 60, hours = 60, day = 1440, days = 1440 }, regex(" ([a-z]+)\\)$", var.inventory_schedule_expression)[0], 0) >= 30 && tonumber(regex("^rate\\(([0-9]+) ", var.inventory_schedule_expression)[0]) * lookup({ minute = 1, minutes = 1, hour = 60, hours = 60, day = 1440, days = 1440 }, regex(" ([a-z]+)\\)$", var.inventory_schedule_expression)[0], 0) <= 44639, false))
    error_message = "inventory_schedule_expression: State Manager rate interval: at least 30 minutes and less than 31 days (rate(30 minutes) to rate(44639 minutes), rate(743 hours), rate(30 days))."
  }
  validation {
    condition     = !can(regex("^cron\\(", var.inventory_schedule_expression)) || (can(regex("^cron\\(\\S+( \\S+){4,5}\\)$", var.inventory_schedule_expression)))
    error_message = "inventory_schedule_expression: cron fields: five or six separated by single spaces: minutes hours day-of-month month day-of-week [year]."
  }
  validation {
    condition     = !can(regex("^cron\\(\\S+( \\S+){4,5}\\)$", var.inventory_schedule_expression)) || (can(regex("^cron\\((\\*|[0-5]?[0-9](-[0-5]?[0-9])?)(/([1-9]|[1-5][0-9]))?(,(\\*|[0-5]?[0-9](-[0-5]?[0-9])?)(/([1-9]|[1-5][0-9]))?)* \\S+ \\S+ \\S+ \\S+( \\S+)?\\)$", var.inventory_schedule_expression)))
    error_message = "inventory_schedule_expression: cron minutes: 0-59 with , - * / (e.g. 0, 0/15, 5,35, 10-20)."
  }
  validation {
    condition     = !can(regex("^cron\\(\\S+( \\S+){4,5}\\)$", var.inventory_schedule_expression)) || (can(regex("^cron\\(\\S+ (\\*|([01]?[0-9]|2[0-3])(-([01]?[0-9]|2[0-3]))?)(/([1-9]|1[0-9]|2[0-3]))?(,(\\*|([01]?[0-9]|2[0-3])(-([01]?[0-9]|2[0-3]))?)(/([1-9]|1[0-9]|2[0-3]))?)* \\S+ \\S+ \\S+( \\S+)?\\)$", var.inventory_schedule_expression)))
    error_message = "inventory_schedule_expression: cron hours: 0-23 with , - * / (e.g. 4, 8-17, 0/6)."
  }
  validation {
    condition     = !can(regex("^cron\\(\\S+( \\S+){4,5}\\)$", var.inventory_schedule_expression)) || (can(regex("^cron\\(\\S+ \\S+ (\\?|(L|LW|(0?[1-9]|[12][0-9]|3[01])W|(\\*|(0?[1-9]|[12][0-9]|3[01])(-(0?[1-9]|[12][0-9]|3[01]))?)(/([1-9]|[12][0-9]|3[01]))?(,(\\*|(0?[1-9]|[12][0-9]|3[01])(-(0?[1-9]|[12][0-9]|3[01]))?)(/([1-9]|[12][0-9]|3[01]))?)*)) \\S+ \\S+( \\S+)?\\)$", var.inventory_schedule_expression)))
    error_message = "inventory_schedule_expression: cron day-of-month: 1-31 with , - * / or ?, L, LW, <day>W (e.g. 1, 1-15, L, 15W)."
  }
  validation {
    condition     = !can(regex("^cron\\(\\S+( \\S+){4,5}\\)$", var.inventory_schedule_expression)) || (can(regex("^cron\\(\\S+ \\S+ \\S+ \\* \\S+( \\S+)?\\)$", var.inventory_schedule_expression)))
    error_message = "inventory_schedule_expression: cron month: * only (State Manager does not support specifying months for associations)."
  }
  validation {
    condition     = !can(regex("^cron\\(\\S+( \\S+){4,5}\\)$", var.inventory_schedule_expression)) || (can(regex("^cron\\(\\S+ \\S+ \\S+ \\S+ (\\?|(L|(0?[1-7]|SUN|MON|TUE|WED|THU|FRI|SAT)L|(0?[1-7]|SUN|MON|TUE|WED|THU|FRI|SAT)#[1-5]|(\\*|(0?[1-7]|SUN|MON|TUE|WED|THU|FRI|SAT)(-(0?[1-7]|SUN|MON|TUE|WED|THU|FRI|SAT))?)(,(\\*|(0?[1-7]|SUN|MON|TUE|WED|THU|FRI|SAT)(-(0?[1-7]|SUN|MON|TUE|WED|THU|FRI|SAT))?))*))( \\S+)?\\)$", var.inventory_schedule_expression)))
    error_message = "inventory_schedule_expression: cron day-of-week: 1-7 or SUN-SAT with , - * or ?, L, <day>L, <day>#<1-5>; # only as the whole field (e.g. SUN, MON-FRI, 6L, THU#3)."
  }
  validation {
    condition     = !can(regex("^cron\\(\\S+( \\S+){5}\\)$", var.inventory_schedule_expression)) || (can(regex("^cron\\(\\S+ \\S+ \\S+ \\S+ \\S+( (\\*|(19[7-9][0-9]|2[01][0-9][0-9])(-(19[7-9][0-9]|2[01][0-9][0-9]))?)(/[1-9][0-9]{0,2})?(,(\\*|(19[7-9][0-9]|2[01][0-9][0-9])(-(19[7-9][0-9]|2[01][0-9][0-9]))?)(/[1-9][0-9]{0,2})?)*)?\\)$", var.inventory_schedule_expression)))
    error_message = "inventory_schedule_expression: cron year: 1970-2199 with , - * / (e.g. *, 2026, 2026-2030)."
  }
  validation {
    condition     = !can(regex("^cron\\(\\S+( \\S+){4,5}\\)$", var.inventory_schedule_expression)) || (can(regex("^cron\\(\\S+ \\S+ (\\? \\S+ [^? ]\\S*|[^? ]\\S* \\S+ \\?)( \\S+)?\\)$", var.inventory_schedule_expression)))
    error_message = "inventory_schedule_expression: cron day-of-month and day-of-week: one must be ? and the other not."
  }
  validation {
    condition     = !can(regex("^cron\\((\\*|[0-5]?[0-9](-[0-5]?[0-9])?)(/([1-9]|[1-5][0-9]))?(,(\\*|[0-5]?[0-9](-[0-5]?[0-9])?)(/([1-9]|[1-5][0-9]))?)* (\\*|([01]?[0-9]|2[0-3])(-([01]?[0-9]|2[0-3]))?)(/([1-9]|1[0-9]|2[0-3]))?(,(\\*|([01]?[0-9]|2[0-3])(-([01]?[0-9]|2[0-3]))?)(/([1-9]|1[0-9]|2[0-3]))?)* \\S+ \\S+ \\S+( \\S+)?\\)$", var.inventory_schedule_expression)) || (can(regex("^cron\\(([0-5]?[0-9]|(\\*|[0-2]?[0-9])/30) (\\*|([01]?[0-9]|2[0-3])|(\\*|([01]?[0-9]|2[0-3]))/(1|2|4|8|12)) \\S+ \\S+ \\S+( \\S+)?\\)$", var.inventory_schedule_expression)))
    error_message = "inventory_schedule_expression: State Manager cron interval: every 30 minutes (<m>/30), every 1, 2, 4, 8 or 12 hours (<h>/<n>), or at a set minute of every hour or day."
  }
  validation {
    condition     = !can(regex("^cron\\(\\S+ \\S+ (\\? \\S+ (L|(0?[1-7]|SUN|MON|TUE|WED|THU|FRI|SAT)L|(0?[1-7]|SUN|MON|TUE|WED|THU|FRI|SAT)#[1-5]|(\\*|(0?[1-7]|SUN|MON|TUE|WED|THU|FRI|SAT)(-(0?[1-7]|SUN|MON|TUE|WED|THU|FRI|SAT))?)(,(\\*|(0?[1-7]|SUN|MON|TUE|WED|THU|FRI|SAT)(-(0?[1-7]|SUN|MON|TUE|WED|THU|FRI|SAT))?))*)|(L|LW|(0?[1-9]|[12][0-9]|3[01])W|(\\*|(0?[1-9]|[12][0-9]|3[01])(-(0?[1-9]|[12][0-9]|3[01]))?)(/([1-9]|[12][0-9]|3[01]))?(,(\\*|(0?[1-9]|[12][0-9]|3[01])(-(0?[1-9]|[12][0-9]|3[01]))?)(/([1-9]|[12][0-9]|3[01]))?)*) \\S+ \\?)( \\S+)?\\)$", var.inventory_schedule_expression)) || (can(regex("^cron\\(\\S+ \\S+ (\\? \\S+ (\\*|(0?[1-7]|SUN|MON|TUE|WED|THU|FRI|SAT)|(0?[1-7]|SUN|MON|TUE|WED|THU|FRI|SAT)#[1-5])|\\* \\S+ \\?)( \\S+)?\\)$", var.inventory_schedule_expression)))
    error_message = "inventory_schedule_expression: State Manager cron days: every day (? * or * ?) or one day of the week (? SUN, ? 2, ? THU#2)."
  }
  # END schedule rules
}

variable "central_sync_bucket_name" {
  type        = string
  description = "Name of the central Resource Data Sync bucket in the security account (output sync_bucket_name of environments/security)."

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.central_sync_bucket_name))
    error_message = "central_sync_bucket_name must be a valid S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)."
  }
}

variable "central_sync_bucket_region" {
  type        = string
  description = "Region of the central Resource Data Sync bucket (the security account's home Region), e.g. \"us-east-1\"."

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.central_sync_bucket_region))
    error_message = "central_sync_bucket_region must be an AWS Region code such as \"us-east-1\"."
  }
}

variable "central_sync_prefix" {
  type        = string
  description = "Key prefix of the synchronised inventory in the central bucket; must equal the central_reporting module's sync_prefix (\"\" for the bucket root). This account's Resource Data Sync writes under <central_sync_prefix>/<this account id>/ (output central_sync_key_prefix), the only folder the central bucket policy lets it write."
  default     = "inventory"

  validation {
    condition     = var.central_sync_prefix == "" || (can(regex("^[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*$", var.central_sync_prefix)) && length(var.central_sync_prefix) <= 243)
    error_message = "central_sync_prefix must be \"\" or 1-243 characters of letters, digits and !_.*'()- separated by single slashes (no leading or trailing slash): the sync's Prefix, <central_sync_prefix>/<account id>, is limited to 256."
  }
}

variable "central_kms_key_arn" {
  type        = string
  description = "ARN of the KMS key of the central bucket (output kms_key_arn of environments/security); SSM encrypts the synchronised objects with it. Required: the central_reporting bucket is always SSE-KMS with that key (its own or the one given), so a sync without it would write objects the bucket's key policy never sees."

  validation {
    condition     = var.central_kms_key_arn != null && can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", coalesce(var.central_kms_key_arn, "-")))
    error_message = "central_kms_key_arn must be a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>), not null: the central bucket is always encrypted with one (output kms_key_arn of environments/security)."
  }
}

# --- scan and patch schedules -----------------------------------------------------------------

variable "scan_schedule_expression" {
  type        = string
  description = "EventBridge schedule of the AWS-RunPatchBaseline Scan of every patch group: a 6-field cron(...) in UTC or rate(N days|hours|minutes). Default weekly, Sunday 04:00 UTC."
  default     = "cron(0 4 ? * SUN *)"

  # BEGIN schedule rules eventbridge_rule: generated by `python -m tools.schedule_rules`, do not edit
  validation {
    condition     = can(regex("^(cron|rate)\\(.*\\)$", var.scan_schedule_expression))
    error_message = "scan_schedule_expression: schedule form: cron(<minutes> <hours> <day-of-month> <month> <day-of-week> <year>) or rate(<value> <unit>)."
  }
  validation {
    condition     = !can(regex("^rate\\(", var.scan_schedule_expression)) || (can(regex("^rate\\([1-9][0-9]* (minute|minutes|hour|hours|day|days)\\)$", var.scan_schedule_expression)))
    error_message = "scan_schedule_expression: rate(<value> <unit>): value a whole number from 1 without leading zeros, one space, unit minute(s), hour(s) or day(s)."
  }
  validation {
    condition     = !can(regex("^rate\\([0-9]+ [a-z]+\\)$", var.scan_schedule_expression)) || (!can(regex("^rate\\((1 (minutes|hours|days)|([2-9]|[1-9][0-9]+) (minute|hour|day))\\)$", var.scan_schedule_expression)))
    error_message = "scan_schedule_expression: rate unit: singular (minute, hour, day) for 1, plural (minutes, hours, days) above 1."
  }
  validation {
    condition     = !can(regex("^cron\\(", var.scan_schedule_expression)) || (can(regex("^cron\\(\\S+( \\S+){5}\\)$", var.scan_schedule_expression)))
    error_message = "scan_schedule_expression: cron fields: exactly six separated by single spaces: minutes hours day-of-month month day-of-week year."
  }
  validation {
    condition     = !can(regex("^cron\\(\\S+( \\S+){5}\\)$", var.scan_schedule_expression)) || (can(regex("^cron\\((\\*|[0-5]?[0-9](-[0-5]?[0-9])?)(/([1-9]|[1-5][0-9]))?(,(\\*|[0-5]?[0-9](-[0-5]?[0-9])?)(/([1-9]|[1-5][0-9]))?)* \\S+ \\S+ \\S+ \\S+ \\S+\\)$", var.scan_schedule_expression)))
    error_message = "scan_schedule_expression: cron minutes: 0-59 with , - * / (e.g. 0, 0/15, 5,35, 10-20)."
  }
  validation {
    condition     = !can(regex("^cron\\(\\S+( \\S+){5}\\)$", var.scan_schedule_expression)) || (can(regex("^cron\\(\\S+ (\\*|([01]?[0-9]|2[0-3])(-([01]?[0-9]|2[0-3]))?)(/([1-9]|1[0-9]|2[0-3]))?(,(\\*|([01]?[0-9]|2[0-3])(-([01]?[0-9]|2[0-3]))?)(/([1-9]|1[0-9]|2[0-3]))?)* \\S+ \\S+ \\S+ \\S+\\)$", var.scan_schedule_expression)))
    error_message = "scan_schedule_expression: cron hours: 0-23 with , - * / (e.g. 4, 8-17, 0/6)."
  }
  validation {
    condition     = !can(regex("^cron\\(\\S+( \\S+){5}\\)$", var.scan_schedule_expression)) || (can(regex("^cron\\(\\S+ \\S+ (\\?|(L|LW|(0?[1-9]|[12][0-9]|3[01])W|(\\*|(0?[1-9]|[12][0-9]|3[01])(-(0?[1-9]|[12][0-9]|3[01]))?)(/([1-9]|[12][0-9]|3[01]))?(,(\\*|(0?[1-9]|[12][0-9]|3[01])(-(0?[1-9]|[12][0-9]|3[01]))?)(/([1-9]|[12][0-9]|3[01]))?)*)) \\S+ \\S+ \\S+\\)$", var.scan_schedule_expression)))
    error_message = "scan_schedule_expression: cron day-of-month: 1-31 with , - * / or ?, L, LW, <day>W (e.g. 1, 1-15, L, 15W)."
  }
  validation {
    condition     = !can(regex("^cron\\(\\S+( \\S+){5}\\)$", var.scan_schedule_expression)) || (can(regex("^cron\\(\\S+ \\S+ \\S+ (\\*|(0?[1-9]|1[0-2]|JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)(-(0?[1-9]|1[0-2]|JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC))?)(/([1-9]|1[0-2]))?(,(\\*|(0?[1-9]|1[0-2]|JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)(-(0?[1-9]|1[0-2]|JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC))?)(/([1-9]|1[0-2]))?)* \\S+ \\S+\\)$", var.scan_schedule_expression)))
    error_message = "scan_schedule_expression: cron month: 1-12 or JAN-DEC with , - * / (e.g. *, 1-6, JAN,JUL)."
  }
  validation {
    condition     = !can(regex("^cron\\(\\S+( \\S+){5}\\)$", var.scan_schedule_expression)) || (can(regex("^cron\\(\\S+ \\S+ \\S+ \\S+ (\\?|(L|(0?[1-7]|SUN|MON|TUE|WED|THU|FRI|SAT)L|(0?[1-7]|SUN|MON|TUE|WED|THU|FRI|SAT)#[1-5]|(\\*|(0?[1-7]|SUN|MON|TUE|WED|THU|FRI|SAT)(-(0?[1-7]|SUN|MON|TUE|WED|THU|FRI|SAT))?)(,(\\*|(0?[1-7]|SUN|MON|TUE|WED|THU|FRI|SAT)(-(0?[1-7]|SUN|MON|TUE|WED|THU|FRI|SAT))?))*)) \\S+\\)$", var.scan_schedule_expression)))
    error_message = "scan_schedule_expression: cron day-of-week: 1-7 or SUN-SAT with , - * or ?, L, <day>L, <day>#<1-5>; # only as the whole field (e.g. SUN, MON-FRI, 6L, THU#3)."
  }
  validation {
    condition     = !can(regex("^cron\\(\\S+( \\S+){5}\\)$", var.scan_schedule_expression)) || (can(regex("^cron\\(\\S+ \\S+ \\S+ \\S+ \\S+ (\\*|(19[7-9][0-9]|2[01][0-9][0-9])(-(19[7-9][0-9]|2[01][0-9][0-9]))?)(/[1-9][0-9]{0,2})?(,(\\*|(19[7-9][0-9]|2[01][0-9][0-9])(-(19[7-9][0-9]|2[01][0-9][0-9]))?)(/[1-9][0-9]{0,2})?)*\\)$", var.scan_schedule_expression)))
    error_message = "scan_schedule_expression: cron year: 1970-2199 with , - * / (e.g. *, 2026, 2026-2030)."
  }
  validation {
    condition     = !can(regex("^cron\\(\\S+( \\S+){5}\\)$", var.scan_schedule_expression)) || (can(regex("^cron\\(\\S+ \\S+ (\\? \\S+ [^? ]\\S*|[^? ]\\S* \\S+ \\?) \\S+\\)$", var.scan_schedule_expression)))
    error_message = "scan_schedule_expression: cron day-of-month and day-of-week: one must be ? and the other not."
  }
  # END schedule rules
}

variable "scan_enabled" {
  type        = bool
  description = "Whether the scan schedules are ENABLED (true) or DISABLED (false)."
  default     = true
}

variable "patch_schedule_expression" {
  type        = string
  description = "EventBridge schedule of every patch group's patch run (start stopped instances, Install with rate control, stop them again): rate(N days|hours|minutes) or a 6-field cron(...) in UTC. Default every 14 days."
  default     = "rate(14 days)"

  # BEGIN schedule rules eventbridge_rule: generated by `python -m tools.schedule_rules`, do not edit
  validation {
    condition     = can(regex("^(cron|rate)\\(.*\\)$", var.patch_schedule_expression))
    error_message = "patch_schedule_expression: schedule form: cron(<minutes> <hours> <day-of-month> <month> <day-of-week> <year>) or rate(<value> <unit>)."
  }
  validation {
    condition     = !can(regex("^rate\\(", var.patch_schedule_expression)) || (can(regex("^rate\\([1-9][0-9]* (minute|minutes|hour|hours|day|days)\\)$", var.patch_schedule_expression)))
    error_message = "patch_schedule_expression: rate(<value> <unit>): value a whole number from 1 without leading zeros, one space, unit minute(s), hour(s) or day(s)."
  }
  validation {
    condition     = !can(regex("^rate\\([0-9]+ [a-z]+\\)$", var.patch_schedule_expression)) || (!can(regex("^rate\\((1 (minutes|hours|days)|([2-9]|[1-9][0-9]+) (minute|hour|day))\\)$", var.patch_schedule_expression)))
    error_message = "patch_schedule_expression: rate unit: singular (minute, hour, day) for 1, plural (minutes, hours, days) above 1."
  }
  validation {
    condition     = !can(regex("^cron\\(", var.patch_schedule_expression)) || (can(regex("^cron\\(\\S+( \\S+){5}\\)$", var.patch_schedule_expression)))
    error_message = "patch_schedule_expression: cron fields: exactly six separated by single spaces: minutes hours day-of-month month day-of-week year."
  }
  validation {
    condition     = !can(regex("^cron\\(\\S+( \\S+){5}\\)$", var.patch_schedule_expression)) || (can(regex("^cron\\((\\*|[0-5]?[0-9](-[0-5]?[0-9])?)(/([1-9]|[1-5][0-9]))?(,(\\*|[0-5]?[0-9](-[0-5]?[0-9])?)(/([1-9]|[1-5][0-9]))?)* \\S+ \\S+ \\S+ \\S+ \\S+\\)$", var.patch_schedule_expression)))
    error_message = "patch_schedule_expression: cron minutes: 0-59 with , - * / (e.g. 0, 0/15, 5,35, 10-20)."
  }
  validation {
    condition     = !can(regex("^cron\\(\\S+( \\S+){5}\\)$", var.patch_schedule_expression)) || (can(regex("^cron\\(\\S+ (\\*|([01]?[0-9]|2[0-3])(-([01]?[0-9]|2[0-3]))?)(/([1-9]|1[0-9]|2[0-3]))?(,(\\*|([01]?[0-9]|2[0-3])(-([01]?[0-9]|2[0-3]))?)(/([1-9]|1[0-9]|2[0-3]))?)* \\S+ \\S+ \\S+ \\S+\\)$", var.patch_schedule_expression)))
    error_message = "patch_schedule_expression: cron hours: 0-23 with , - * / (e.g. 4, 8-17, 0/6)."
  }
  validation {
    condition     = !can(regex("^cron\\(\\S+( \\S+){5}\\)$", var.patch_schedule_expression)) || (can(regex("^cron\\(\\S+ \\S+ (\\?|(L|LW|(0?[1-9]|[12][0-9]|3[01])W|(\\*|(0?[1-9]|[12][0-9]|3[01])(-(0?[1-9]|[12][0-9]|3[01]))?)(/([1-9]|[12][0-9]|3[01]))?(,(\\*|(0?[1-9]|[12][0-9]|3[01])(-(0?[1-9]|[12][0-9]|3[01]))?)(/([1-9]|[12][0-9]|3[01]))?)*)) \\S+ \\S+ \\S+\\)$", var.patch_schedule_expression)))
    error_message = "patch_schedule_expression: cron day-of-month: 1-31 with , - * / or ?, L, LW, <day>W (e.g. 1, 1-15, L, 15W)."
  }
  validation {
    condition     = !can(regex("^cron\\(\\S+( \\S+){5}\\)$", var.patch_schedule_expression)) || (can(regex("^cron\\(\\S+ \\S+ \\S+ (\\*|(0?[1-9]|1[0-2]|JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)(-(0?[1-9]|1[0-2]|JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC))?)(/([1-9]|1[0-2]))?(,(\\*|(0?[1-9]|1[0-2]|JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)(-(0?[1-9]|1[0-2]|JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC))?)(/([1-9]|1[0-2]))?)* \\S+ \\S+\\)$", var.patch_schedule_expression)))
    error_message = "patch_schedule_expression: cron month: 1-12 or JAN-DEC with , - * / (e.g. *, 1-6, JAN,JUL)."
  }
  validation {
    condition     = !can(regex("^cron\\(\\S+( \\S+){5}\\)$", var.patch_schedule_expression)) || (can(regex("^cron\\(\\S+ \\S+ \\S+ \\S+ (\\?|(L|(0?[1-7]|SUN|MON|TUE|WED|THU|FRI|SAT)L|(0?[1-7]|SUN|MON|TUE|WED|THU|FRI|SAT)#[1-5]|(\\*|(0?[1-7]|SUN|MON|TUE|WED|THU|FRI|SAT)(-(0?[1-7]|SUN|MON|TUE|WED|THU|FRI|SAT))?)(,(\\*|(0?[1-7]|SUN|MON|TUE|WED|THU|FRI|SAT)(-(0?[1-7]|SUN|MON|TUE|WED|THU|FRI|SAT))?))*)) \\S+\\)$", var.patch_schedule_expression)))
    error_message = "patch_schedule_expression: cron day-of-week: 1-7 or SUN-SAT with , - * or ?, L, <day>L, <day>#<1-5>; # only as the whole field (e.g. SUN, MON-FRI, 6L, THU#3)."
  }
  validation {
    condition     = !can(regex("^cron\\(\\S+( \\S+){5}\\)$", var.patch_schedule_expression)) || (can(regex("^cron\\(\\S+ \\S+ \\S+ \\S+ \\S+ (\\*|(19[7-9][0-9]|2[01][0-9][0-9])(-(19[7-9][0-9]|2[01][0-9][0-9]))?)(/[1-9][0-9]{0,2})?(,(\\*|(19[7-9][0-9]|2[01][0-9][0-9])(-(19[7-9][0-9]|2[01][0-9][0-9]))?)(/[1-9][0-9]{0,2})?)*\\)$", var.patch_schedule_expression)))
    error_message = "patch_schedule_expression: cron year: 1970-2199 with , - * / (e.g. *, 2026, 2026-2030)."
  }
  validation {
    condition     = !can(regex("^cron\\(\\S+( \\S+){5}\\)$", var.patch_schedule_expression)) || (can(regex("^cron\\(\\S+ \\S+ (\\? \\S+ [^? ]\\S*|[^? ]\\S* \\S+ \\?) \\S+\\)$", var.patch_schedule_expression)))
    error_message = "patch_schedule_expression: cron day-of-month and day-of-week: one must be ? and the other not."
  }
  # END schedule rules
}

variable "patch_schedule_overrides" {
  type        = map(string)
  description = "Per patch group schedule replacing patch_schedule_expression, e.g. { appa = \"cron(0 3 ? * SAT *)\" } to stagger groups. Keys must be patch groups of patch_groups."
  default     = {}

  validation {
    condition     = alltrue([for g in keys(var.patch_schedule_overrides) : contains(keys(var.patch_groups), g)])
    error_message = "patch_schedule_overrides keys must be patch groups of patch_groups."
  }

  # BEGIN schedule rules eventbridge_rule: generated by `python -m tools.schedule_rules`, do not edit
  validation {
    condition     = alltrue([for e in values(var.patch_schedule_overrides) : can(regex("^(cron|rate)\\(.*\\)$", e))])
    error_message = "Each value of patch_schedule_overrides: schedule form: cron(<minutes> <hours> <day-of-month> <month> <day-of-week> <year>) or rate(<value> <unit>)."
  }
  validation {
    condition     = alltrue([for e in values(var.patch_schedule_overrides) : !can(regex("^rate\\(", e)) || (can(regex("^rate\\([1-9][0-9]* (minute|minutes|hour|hours|day|days)\\)$", e)))])
    error_message = "Each value of patch_schedule_overrides: rate(<value> <unit>): value a whole number from 1 without leading zeros, one space, unit minute(s), hour(s) or day(s)."
  }
  validation {
    condition     = alltrue([for e in values(var.patch_schedule_overrides) : !can(regex("^rate\\([0-9]+ [a-z]+\\)$", e)) || (!can(regex("^rate\\((1 (minutes|hours|days)|([2-9]|[1-9][0-9]+) (minute|hour|day))\\)$", e)))])
    error_message = "Each value of patch_schedule_overrides: rate unit: singular (minute, hour, day) for 1, plural (minutes, hours, days) above 1."
  }
  validation {
    condition     = alltrue([for e in values(var.patch_schedule_overrides) : !can(regex("^cron\\(", e)) || (can(regex("^cron\\(\\S+( \\S+){5}\\)$", e)))])
    error_message = "Each value of patch_schedule_overrides: cron fields: exactly six separated by single spaces: minutes hours day-of-month month day-of-week year."
  }
  validation {
    condition     = alltrue([for e in values(var.patch_schedule_overrides) : !can(regex("^cron\\(\\S+( \\S+){5}\\)$", e)) || (can(regex("^cron\\((\\*|[0-5]?[0-9](-[0-5]?[0-9])?)(/([1-9]|[1-5][0-9]))?(,(\\*|[0-5]?[0-9](-[0-5]?[0-9])?)(/([1-9]|[1-5][0-9]))?)* \\S+ \\S+ \\S+ \\S+ \\S+\\)$", e)))])
    error_message = "Each value of patch_schedule_overrides: cron minutes: 0-59 with , - * / (e.g. 0, 0/15, 5,35, 10-20)."
  }
  validation {
    condition     = alltrue([for e in values(var.patch_schedule_overrides) : !can(regex("^cron\\(\\S+( \\S+){5}\\)$", e)) || (can(regex("^cron\\(\\S+ (\\*|([01]?[0-9]|2[0-3])(-([01]?[0-9]|2[0-3]))?)(/([1-9]|1[0-9]|2[0-3]))?(,(\\*|([01]?[0-9]|2[0-3])(-([01]?[0-9]|2[0-3]))?)(/([1-9]|1[0-9]|2[0-3]))?)* \\S+ \\S+ \\S+ \\S+\\)$", e)))])
    error_message = "Each value of patch_schedule_overrides: cron hours: 0-23 with , - * / (e.g. 4, 8-17, 0/6)."
  }
  validation {
    condition     = alltrue([for e in values(var.patch_schedule_overrides) : !can(regex("^cron\\(\\S+( \\S+){5}\\)$", e)) || (can(regex("^cron\\(\\S+ \\S+ (\\?|(L|LW|(0?[1-9]|[12][0-9]|3[01])W|(\\*|(0?[1-9]|[12][0-9]|3[01])(-(0?[1-9]|[12][0-9]|3[01]))?)(/([1-9]|[12][0-9]|3[01]))?(,(\\*|(0?[1-9]|[12][0-9]|3[01])(-(0?[1-9]|[12][0-9]|3[01]))?)(/([1-9]|[12][0-9]|3[01]))?)*)) \\S+ \\S+ \\S+\\)$", e)))])
    error_message = "Each value of patch_schedule_overrides: cron day-of-month: 1-31 with , - * / or ?, L, LW, <day>W (e.g. 1, 1-15, L, 15W)."
  }
  validation {
    condition     = alltrue([for e in values(var.patch_schedule_overrides) : !can(regex("^cron\\(\\S+( \\S+){5}\\)$", e)) || (can(regex("^cron\\(\\S+ \\S+ \\S+ (\\*|(0?[1-9]|1[0-2]|JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)(-(0?[1-9]|1[0-2]|JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC))?)(/([1-9]|1[0-2]))?(,(\\*|(0?[1-9]|1[0-2]|JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)(-(0?[1-9]|1[0-2]|JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC))?)(/([1-9]|1[0-2]))?)* \\S+ \\S+\\)$", e)))])
    error_message = "Each value of patch_schedule_overrides: cron month: 1-12 or JAN-DEC with , - * / (e.g. *, 1-6, JAN,JUL)."
  }
  validation {
    condition     = alltrue([for e in values(var.patch_schedule_overrides) : !can(regex("^cron\\(\\S+( \\S+){5}\\)$", e)) || (can(regex("^cron\\(\\S+ \\S+ \\S+ \\S+ (\\?|(L|(0?[1-7]|SUN|MON|TUE|WED|THU|FRI|SAT)L|(0?[1-7]|SUN|MON|TUE|WED|THU|FRI|SAT)#[1-5]|(\\*|(0?[1-7]|SUN|MON|TUE|WED|THU|FRI|SAT)(-(0?[1-7]|SUN|MON|TUE|WED|THU|FRI|SAT))?)(,(\\*|(0?[1-7]|SUN|MON|TUE|WED|THU|FRI|SAT)(-(0?[1-7]|SUN|MON|TUE|WED|THU|FRI|SAT))?))*)) \\S+\\)$", e)))])
    error_message = "Each value of patch_schedule_overrides: cron day-of-week: 1-7 or SUN-SAT with , - * or ?, L, <day>L, <day>#<1-5>; # only as the whole field (e.g. SUN, MON-FRI, 6L, THU#3)."
  }
  validation {
    condition     = alltrue([for e in values(var.patch_schedule_overrides) : !can(regex("^cron\\(\\S+( \\S+){5}\\)$", e)) || (can(regex("^cron\\(\\S+ \\S+ \\S+ \\S+ \\S+ (\\*|(19[7-9][0-9]|2[01][0-9][0-9])(-(19[7-9][0-9]|2[01][0-9][0-9]))?)(/[1-9][0-9]{0,2})?(,(\\*|(19[7-9][0-9]|2[01][0-9][0-9])(-(19[7-9][0-9]|2[01][0-9][0-9]))?)(/[1-9][0-9]{0,2})?)*\\)$", e)))])
    error_message = "Each value of patch_schedule_overrides: cron year: 1970-2199 with , - * / (e.g. *, 2026, 2026-2030)."
  }
  validation {
    condition     = alltrue([for e in values(var.patch_schedule_overrides) : !can(regex("^cron\\(\\S+( \\S+){5}\\)$", e)) || (can(regex("^cron\\(\\S+ \\S+ (\\? \\S+ [^? ]\\S*|[^? ]\\S* \\S+ \\?) \\S+\\)$", e)))])
    error_message = "Each value of patch_schedule_overrides: cron day-of-month and day-of-week: one must be ? and the other not."
  }
  # END schedule rules
}

variable "patch_enabled" {
  type        = bool
  description = "Whether the patch run schedules are ENABLED (true) or DISABLED (false, e.g. during a change freeze)."
  default     = true
}

variable "patch_reboot_option" {
  type        = string
  description = "Reboot option of the scheduled patch runs: RebootIfNeeded (reboot a node after installing patches) or NoReboot."
  default     = "RebootIfNeeded"

  validation {
    condition     = contains(["RebootIfNeeded", "NoReboot"], var.patch_reboot_option)
    error_message = "patch_reboot_option must be \"RebootIfNeeded\" or \"NoReboot\"."
  }
}

variable "patch_max_concurrency" {
  type        = string
  description = "Rate control of the patch runs: nodes patched at the same time, a count (1-9999) or a percentage (1%-100%)."
  default     = "10%"

  validation {
    condition     = can(regex("^([1-9][0-9]{0,6}|[1-9][0-9]?%|100%)$", var.patch_max_concurrency))
    error_message = "patch_max_concurrency must be a count from 1 to 9999999 without leading zeros (e.g. \"10\") or a percentage from 1% to 100% (e.g. \"10%\")."
  }
}

variable "patch_max_errors" {
  type        = string
  description = "Rate control of the patch runs: failed nodes after which no more nodes are patched, a count (0-9999) or a percentage (0%-100%)."
  default     = "10%"

  validation {
    condition     = can(regex("^([1-9][0-9]{0,6}|0|[1-9][0-9]?%|[0-9]%|100%)$", var.patch_max_errors))
    error_message = "patch_max_errors must be a count from 0 to 9999999 without leading zeros (e.g. \"2\") or a percentage from 0% to 100% without leading zeros (e.g. \"10%\"), as SendCommand accepts."
  }
}

variable "ebs_kms_key_arns" {
  type        = list(string)
  description = "Customer managed KMS keys encrypting the EBS volumes of the patched instances; the patch run needs kms:CreateGrant on them to start stopped instances."
  default     = []

  validation {
    condition     = alltrue([for k in var.ebs_kms_key_arns : can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", k))])
    error_message = "ebs_kms_key_arns must be KMS key ARNs (arn:<partition>:kms:<region>:<account>:key/<id>)."
  }
}

# --- role check -------------------------------------------------------------------------------

variable "role_check_enabled" {
  type        = bool
  description = "Deploy the role-check Lambda (EC2 state changes plus a scheduled sweep give every instance an instance profile whose role has SSM permissions)."
  default     = true
}

variable "role_check_package_path" {
  type        = string
  description = "Path of the role-check Lambda zip built by `make package` (build/ssm_role_check.zip); required when role_check_enabled. The file must exist at plan time."
  default     = null

  validation {
    condition     = var.role_check_package_path == null ? !var.role_check_enabled : endswith(coalesce(var.role_check_package_path, "-"), ".zip")
    error_message = "role_check_package_path must be the path of the .zip built by `make package` (build/ssm_role_check.zip) when role_check_enabled is true."
  }
}

variable "role_check_powertools_layer_version" {
  type        = number
  description = "Version of the AWS-managed Powertools for AWS Lambda (Python) v3 layer (python311, x86_64) the role check uses, in the aws and aws-cn partitions; see the Powertools docs for the newest."
  default     = 27

  validation {
    condition     = var.role_check_powertools_layer_version >= 1 && floor(var.role_check_powertools_layer_version) == var.role_check_powertools_layer_version
    error_message = "role_check_powertools_layer_version must be a whole number >= 1."
  }
}

variable "role_check_powertools_layer_arn" {
  type        = string
  description = "Full version ARN of the Powertools v3 layer (python311, x86_64) replacing the one built from role_check_powertools_layer_version; required in partitions other than aws and aws-cn (e.g. GovCloud)."
  default     = null

  validation {
    condition     = var.role_check_powertools_layer_arn == null || can(regex("^arn:aws[a-z-]*:lambda:[a-z]{2}(-[a-z]+)+-[0-9]:[0-9]{12}:layer:[A-Za-z0-9_-]{1,140}:[0-9]+$", var.role_check_powertools_layer_arn))
    error_message = "role_check_powertools_layer_arn must be a Lambda layer version ARN (arn:<partition>:lambda:<region>:<account>:layer:<name>:<version>) or null."
  }
}

variable "role_check_sweep_schedule" {
  type        = string
  description = "EventBridge schedule of the role check's sweep over every instance of the Region: rate(<n> minutes|hours|days) or cron(<6 fields>)."
  default     = "rate(12 hours)"

  # BEGIN schedule rules eventbridge_rule: generated by `python -m tools.schedule_rules`, do not edit
  validation {
    condition     = can(regex("^(cron|rate)\\(.*\\)$", var.role_check_sweep_schedule))
    error_message = "role_check_sweep_schedule: schedule form: cron(<minutes> <hours> <day-of-month> <month> <day-of-week> <year>) or rate(<value> <unit>)."
  }
  validation {
    condition     = !can(regex("^rate\\(", var.role_check_sweep_schedule)) || (can(regex("^rate\\([1-9][0-9]* (minute|minutes|hour|hours|day|days)\\)$", var.role_check_sweep_schedule)))
    error_message = "role_check_sweep_schedule: rate(<value> <unit>): value a whole number from 1 without leading zeros, one space, unit minute(s), hour(s) or day(s)."
  }
  validation {
    condition     = !can(regex("^rate\\([0-9]+ [a-z]+\\)$", var.role_check_sweep_schedule)) || (!can(regex("^rate\\((1 (minutes|hours|days)|([2-9]|[1-9][0-9]+) (minute|hour|day))\\)$", var.role_check_sweep_schedule)))
    error_message = "role_check_sweep_schedule: rate unit: singular (minute, hour, day) for 1, plural (minutes, hours, days) above 1."
  }
  validation {
    condition     = !can(regex("^cron\\(", var.role_check_sweep_schedule)) || (can(regex("^cron\\(\\S+( \\S+){5}\\)$", var.role_check_sweep_schedule)))
    error_message = "role_check_sweep_schedule: cron fields: exactly six separated by single spaces: minutes hours day-of-month month day-of-week year."
  }
  validation {
    condition     = !can(regex("^cron\\(\\S+( \\S+){5}\\)$", var.role_check_sweep_schedule)) || (can(regex("^cron\\((\\*|[0-5]?[0-9](-[0-5]?[0-9])?)(/([1-9]|[1-5][0-9]))?(,(\\*|[0-5]?[0-9](-[0-5]?[0-9])?)(/([1-9]|[1-5][0-9]))?)* \\S+ \\S+ \\S+ \\S+ \\S+\\)$", var.role_check_sweep_schedule)))
    error_message = "role_check_sweep_schedule: cron minutes: 0-59 with , - * / (e.g. 0, 0/15, 5,35, 10-20)."
  }
  validation {
    condition     = !can(regex("^cron\\(\\S+( \\S+){5}\\)$", var.role_check_sweep_schedule)) || (can(regex("^cron\\(\\S+ (\\*|([01]?[0-9]|2[0-3])(-([01]?[0-9]|2[0-3]))?)(/([1-9]|1[0-9]|2[0-3]))?(,(\\*|([01]?[0-9]|2[0-3])(-([01]?[0-9]|2[0-3]))?)(/([1-9]|1[0-9]|2[0-3]))?)* \\S+ \\S+ \\S+ \\S+\\)$", var.role_check_sweep_schedule)))
    error_message = "role_check_sweep_schedule: cron hours: 0-23 with , - * / (e.g. 4, 8-17, 0/6)."
  }
  validation {
    condition     = !can(regex("^cron\\(\\S+( \\S+){5}\\)$", var.role_check_sweep_schedule)) || (can(regex("^cron\\(\\S+ \\S+ (\\?|(L|LW|(0?[1-9]|[12][0-9]|3[01])W|(\\*|(0?[1-9]|[12][0-9]|3[01])(-(0?[1-9]|[12][0-9]|3[01]))?)(/([1-9]|[12][0-9]|3[01]))?(,(\\*|(0?[1-9]|[12][0-9]|3[01])(-(0?[1-9]|[12][0-9]|3[01]))?)(/([1-9]|[12][0-9]|3[01]))?)*)) \\S+ \\S+ \\S+\\)$", var.role_check_sweep_schedule)))
    error_message = "role_check_sweep_schedule: cron day-of-month: 1-31 with , - * / or ?, L, LW, <day>W (e.g. 1, 1-15, L, 15W)."
  }
  validation {
    condition     = !can(regex("^cron\\(\\S+( \\S+){5}\\)$", var.role_check_sweep_schedule)) || (can(regex("^cron\\(\\S+ \\S+ \\S+ (\\*|(0?[1-9]|1[0-2]|JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)(-(0?[1-9]|1[0-2]|JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC))?)(/([1-9]|1[0-2]))?(,(\\*|(0?[1-9]|1[0-2]|JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)(-(0?[1-9]|1[0-2]|JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC))?)(/([1-9]|1[0-2]))?)* \\S+ \\S+\\)$", var.role_check_sweep_schedule)))
    error_message = "role_check_sweep_schedule: cron month: 1-12 or JAN-DEC with , - * / (e.g. *, 1-6, JAN,JUL)."
  }
  validation {
    condition     = !can(regex("^cron\\(\\S+( \\S+){5}\\)$", var.role_check_sweep_schedule)) || (can(regex("^cron\\(\\S+ \\S+ \\S+ \\S+ (\\?|(L|(0?[1-7]|SUN|MON|TUE|WED|THU|FRI|SAT)L|(0?[1-7]|SUN|MON|TUE|WED|THU|FRI|SAT)#[1-5]|(\\*|(0?[1-7]|SUN|MON|TUE|WED|THU|FRI|SAT)(-(0?[1-7]|SUN|MON|TUE|WED|THU|FRI|SAT))?)(,(\\*|(0?[1-7]|SUN|MON|TUE|WED|THU|FRI|SAT)(-(0?[1-7]|SUN|MON|TUE|WED|THU|FRI|SAT))?))*)) \\S+\\)$", var.role_check_sweep_schedule)))
    error_message = "role_check_sweep_schedule: cron day-of-week: 1-7 or SUN-SAT with , - * or ?, L, <day>L, <day>#<1-5>; # only as the whole field (e.g. SUN, MON-FRI, 6L, THU#3)."
  }
  validation {
    condition     = !can(regex("^cron\\(\\S+( \\S+){5}\\)$", var.role_check_sweep_schedule)) || (can(regex("^cron\\(\\S+ \\S+ \\S+ \\S+ \\S+ (\\*|(19[7-9][0-9]|2[01][0-9][0-9])(-(19[7-9][0-9]|2[01][0-9][0-9]))?)(/[1-9][0-9]{0,2})?(,(\\*|(19[7-9][0-9]|2[01][0-9][0-9])(-(19[7-9][0-9]|2[01][0-9][0-9]))?)(/[1-9][0-9]{0,2})?)*\\)$", var.role_check_sweep_schedule)))
    error_message = "role_check_sweep_schedule: cron year: 1970-2199 with , - * / (e.g. *, 2026, 2026-2030)."
  }
  validation {
    condition     = !can(regex("^cron\\(\\S+( \\S+){5}\\)$", var.role_check_sweep_schedule)) || (can(regex("^cron\\(\\S+ \\S+ (\\? \\S+ [^? ]\\S*|[^? ]\\S* \\S+ \\?) \\S+\\)$", var.role_check_sweep_schedule)))
    error_message = "role_check_sweep_schedule: cron day-of-month and day-of-week: one must be ? and the other not."
  }
  # END schedule rules
}

variable "role_check_dry_run" {
  type        = bool
  description = "Role check in dry-run mode: it reports which instances lack an instance profile or SSM permissions and changes nothing."
  default     = false
}

variable "role_check_node_policy" {
  type        = string
  description = "Policy the role check attaches to instance roles lacking the SSM core actions (role_check's node_policy): \"fleetpatch\" (default) its least-privilege customer managed policy <name_prefix>-ssm-node-core; \"aws_managed\" AmazonSSMManagedInstanceCore, which also grants ssm:GetParameter(s) on every parameter."
  default     = "fleetpatch"

  validation {
    condition     = contains(["fleetpatch", "aws_managed"], var.role_check_node_policy)
    error_message = "role_check_node_policy must be \"fleetpatch\" or \"aws_managed\"."
  }
}

variable "role_check_alarm_actions" {
  type        = list(string)
  description = "SNS topic ARNs (in this Region) notified when a role-check alarm (function errors, failed instances, dead-lettered events) fires or recovers."
  default     = []

  validation {
    condition     = alltrue([for a in var.role_check_alarm_actions : can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}(\\.fifo)?$", a))])
    error_message = "role_check_alarm_actions must be SNS topic ARNs (arn:<partition>:sns:<region>:<account>:<topic>)."
  }
}

variable "role_check_modifiable_role_path_prefix" {
  type        = string
  description = "role_check's modifiable_role_path_prefix: the role check attaches policies only to roles whose IAM path starts with this (\"/\": every role); others are reported not_allowed_to_modify. Enforced by the function and by its IAM policy. An IAM path: / or /<segments>/, printable ASCII, at most 512 characters (https://docs.aws.amazon.com/IAM/latest/APIReference/API_Role.html), none of * ? $."
  default     = "/"

  validation {
    condition     = can(regex("^/([!-~]+/)?$", var.role_check_modifiable_role_path_prefix)) && length(var.role_check_modifiable_role_path_prefix) <= 512 && !can(regex("[*?$]", var.role_check_modifiable_role_path_prefix))
    error_message = "role_check_modifiable_role_path_prefix must be an IAM path: \"/\" or \"/<segments>/\" (starting and ending with /, printable ASCII, at most 512 characters, none of * ? $)."
  }
}

variable "role_check_modifiable_role_tag" {
  type = object({
    key   = string
    value = optional(string)
  })
  description = "role_check's modifiable_role_tag: when set, the role check attaches policies only to roles carrying this tag (value null: any value); others are reported not_allowed_to_modify. Enforced by the function and by its IAM policy (aws:ResourceTag). Key 1-128, value 1-256 letters, digits, spaces and _.:/=+-@; keys starting with aws: are reserved (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_tags.html). null: no tag needed."
  default     = null

  validation {
    condition     = var.role_check_modifiable_role_tag == null || (can(regex("^[\\w.:/=+@ -]{1,128}$", try(var.role_check_modifiable_role_tag.key, ""))) && !startswith(lower(try(var.role_check_modifiable_role_tag.key, "")), "aws:"))
    error_message = "role_check_modifiable_role_tag.key must be a tag key of 1-128 letters, digits, spaces and _.:/=+-@ not starting with aws:."
  }
  validation {
    condition     = try(var.role_check_modifiable_role_tag.value, null) == null || can(regex("^[\\w.:/=+@ -]{1,256}$", try(var.role_check_modifiable_role_tag.value, "")))
    error_message = "role_check_modifiable_role_tag.value must be null (any value) or a tag value of 1-256 letters, digits, spaces and _.:/=+-@."
  }
}

# --- compliance -------------------------------------------------------------------------------

variable "create_config_recorder" {
  type        = bool
  description = "Create the Region's AWS Config configuration recorder and delivery channel. AWS allows one recorder per account and Region: leave false where one exists (e.g. from AWS Control Tower); the Config rules then use it."
  default     = false
}

variable "config_delivery_bucket_name" {
  type        = string
  description = "Bucket of the created delivery channel (only with create_config_recorder); null delivers to this Region's patch-baseline log bucket under config/."
  default     = null

  validation {
    condition     = var.config_delivery_bucket_name == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.config_delivery_bucket_name))
    error_message = "config_delivery_bucket_name must be a valid S3 bucket name (3-63 lowercase letters, digits, dots, hyphens) or null."
  }
}

variable "config_delivery_kms_key_arn" {
  type        = string
  description = "Customer managed KMS key of config_delivery_bucket_name, which the delivery channel encrypts with (s3KmsKeyArn); null for a bucket with S3-managed or aws/s3 keys. Without config_delivery_bucket_name the channel uses log_kms_key_arn. The key's policy must allow AWS Config (output config_delivery_kms_key_policy_statements)."
  default     = null

  validation {
    condition     = var.config_delivery_kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", var.config_delivery_kms_key_arn))
    error_message = "config_delivery_kms_key_arn must be a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>) or null."
  }
}

variable "automatic_remediation" {
  type        = bool
  description = "Let AWS Config run the remediation (AWS-RunPatchBaseline / AWS-RefreshAssociation) on every NON_COMPLIANT managed node by itself. Off by default: nothing is patched without an operator's decision."
  default     = false
}

# --- links to the security account -------------------------------------------------------------

variable "config_aggregator_account_id" {
  type        = string
  description = "Account id (12 digits) of the security account whose AWS Config aggregator may collect this Region's compliance; null creates no aggregate authorization."
  default     = null

  validation {
    condition     = var.config_aggregator_account_id == null || can(regex("^[0-9]{12}$", var.config_aggregator_account_id))
    error_message = "config_aggregator_account_id must be a 12-digit AWS account id or null."
  }
}

variable "config_aggregator_region" {
  type        = string
  description = "Region of the security account's AWS Config aggregator (its home Region); required with config_aggregator_account_id."
  default     = null

  validation {
    condition     = var.config_aggregator_account_id == null ? var.config_aggregator_region == null : can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.config_aggregator_region))
    error_message = "config_aggregator_region must be an AWS Region code such as \"us-east-1\" when config_aggregator_account_id is set, and null otherwise."
  }
}

variable "central_event_bus_arn" {
  type        = string
  description = "ARN of the security account's default event bus (output central_event_bus_arn of environments/security) that receives this Region's NON_COMPLIANT changes through an EventBridge rule and role; null forwards nothing."
  default     = null

  validation {
    condition     = var.central_event_bus_arn == null || can(regex("^arn:aws[a-z-]*:events:[a-z]{2}(-[a-z]+)+-[0-9]:[0-9]{12}:event-bus/[A-Za-z0-9._-]+$", var.central_event_bus_arn))
    error_message = "central_event_bus_arn must be an event bus ARN (arn:<partition>:events:<region>:<account>:event-bus/<name>) or null."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every taggable resource."
  default     = {}
}

variable "patch_online_timeout_seconds" {
  type        = number
  description = "Seconds (30-570) the patch run waits for the instances it started to run and report Online to SSM before it patches without them."
  default     = 480

  validation {
    condition     = var.patch_online_timeout_seconds >= 30 && var.patch_online_timeout_seconds <= 570 && floor(var.patch_online_timeout_seconds) == var.patch_online_timeout_seconds
    error_message = "patch_online_timeout_seconds must be a whole number from 30 to 570 (an aws:executeScript step runs at most 600 seconds)."
  }
}

variable "patch_alarm_actions" {
  type        = list(string)
  description = "SNS topic ARNs (in this Region) notified when a patch alarm fires or recovers: the patch janitor's errors and orphaned-markers alarms and each patch group's skipped-instances alarm. null (default) notifies this Region's compliance topic (the module lets those alarms publish to it and use its key); [] notifies nobody."
  default     = null

  validation {
    condition     = var.patch_alarm_actions == null || alltrue([for a in coalesce(var.patch_alarm_actions, []) : can(regex("^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}(\\.fifo)?$", a))])
    error_message = "patch_alarm_actions must be null or SNS topic ARNs (arn:<partition>:sns:<region>:<account>:<topic>)."
  }
}
