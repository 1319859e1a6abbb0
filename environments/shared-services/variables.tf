variable "account_id" {
  type        = string
  description = "Id (12 digits) of the AWS account this environment deploys into; the provider refuses to run against any other account."

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "account_id must be a 12-digit AWS account id, e.g. \"111111111111\"."
  }
}

variable "assume_role_arn" {
  type        = string
  description = "ARN of the IAM role in account_id that Terraform assumes to deploy, e.g. arn:aws:iam::111111111111:role/fleetpatch-deploy, from your usual credentials; null (the default) assumes nothing: the credentials already are the account's role (CI, where the job's OIDC role is the plan or the apply role)."
  default     = null

  validation {
    condition     = var.assume_role_arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/[A-Za-z0-9+=,.@_/-]{1,512}$", var.assume_role_arn))
    error_message = "assume_role_arn must be an IAM role ARN: arn:<partition>:iam::<12-digit account>:role/<path/name>, or null."
  }

  validation {
    condition     = var.assume_role_arn == null || try(split(":", var.assume_role_arn)[4] == var.account_id, false)
    error_message = "assume_role_arn must be a role in account_id (the account in the ARN differs)."
  }
}

variable "assume_role_external_id" {
  type        = string
  description = "External id the assumed role's trust policy requires, or null when it requires none."
  default     = null

  validation {
    condition     = var.assume_role_external_id == null || can(regex("^[A-Za-z0-9+=,.@:/-]{2,1224}$", var.assume_role_external_id))
    error_message = "assume_role_external_id must be 2-1224 letters, digits and +=,.@:/- characters, or null."
  }
}

variable "account_short_name" {
  type        = string
  description = "Short name of the account that starts every name prefix (<short name>-<region short name>, e.g. \"ss-oregon\"). 2-8 lowercase letters and digits, starting with a letter; not starting with aws, amazon or amzn."
  default     = "ss"

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{1,7}$", var.account_short_name)) && !can(regex("^(aws|amazon|amzn)", var.account_short_name))
    error_message = "account_short_name must be 2-8 lowercase letters and digits starting with a letter and must not start with aws, amazon or amzn."
  }
}

variable "region_short_names" {
  type        = map(string)
  description = "Region short names replacing or extending the built-in ones of modules/naming (us-west-2 = oregon, eu-west-2 = london, us-east-1 = virginia, ...), keyed by Region code; 2-15 lowercase letters and digits each."
  default     = {}

  validation {
    condition     = alltrue([for r, n in var.region_short_names : can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", r)) && can(regex("^[a-z0-9]{2,15}$", n))])
    error_message = "region_short_names must map AWS Region codes (e.g. \"us-west-2\") to 2-15 lowercase letters and digits (e.g. \"oregon\")."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every taggable resource through the providers' default_tags, on top of Project = fleetpatch, Environment = shared-services and ManagedBy = terraform."
  default     = {}

  validation {
    condition     = alltrue([for k, v in var.tags : length(k) >= 1 && length(k) <= 128 && length(v) <= 256 && !startswith(lower(k), "aws:")])
    error_message = "tags keys must be 1-128 characters not starting with aws:, values at most 256 characters."
  }
}

variable "primary_region" {
  type        = string
  description = "First Region of this account (the seed's Oregon)."
  default     = "us-west-2"

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.primary_region))
    error_message = "primary_region must be an AWS Region code such as \"us-west-2\"."
  }
}

variable "secondary_region" {
  type        = string
  description = "Second Region of this account (the seed's London); must differ from primary_region."
  default     = "eu-west-2"

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.secondary_region)) && var.secondary_region != var.primary_region
    error_message = "secondary_region must be an AWS Region code such as \"eu-west-2\", different from primary_region."
  }
}

variable "security_account_id" {
  type        = string
  description = "Id (12 digits) of the security account (account_id of environments/security): its Config aggregator is authorized in both Regions and its default event bus receives this account's NON_COMPLIANT changes."

  validation {
    condition     = can(regex("^[0-9]{12}$", var.security_account_id))
    error_message = "security_account_id must be a 12-digit AWS account id."
  }
}

variable "central_sync_bucket_name" {
  type        = string
  description = "Central Resource Data Sync bucket in the security account (output sync_bucket_name of environments/security)."

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.central_sync_bucket_name))
    error_message = "central_sync_bucket_name must be a valid S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)."
  }
}

variable "central_sync_bucket_region" {
  type        = string
  description = "Home Region of the security account: the central bucket, the Config aggregator and the event bus receiving NON_COMPLIANT changes (output sync_bucket_region of environments/security)."
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.central_sync_bucket_region))
    error_message = "central_sync_bucket_region must be an AWS Region code such as \"us-east-1\"."
  }
}

variable "central_sync_prefix" {
  type        = string
  description = "Key prefix of the Resource Data Syncs in the central bucket (output sync_prefix of environments/security; \"\" for the bucket root)."
  default     = "inventory"

  validation {
    condition     = var.central_sync_prefix == "" || (can(regex("^[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*$", var.central_sync_prefix)) && length(var.central_sync_prefix) <= 243)
    error_message = "central_sync_prefix must be \"\" or 1-243 characters of letters, digits and !_.*'()- separated by single slashes (no leading or trailing slash): member_region appends /<account id> and a sync Prefix holds at most 256."
  }
}

variable "central_kms_key_arn" {
  type        = string
  description = "KMS key of the central bucket (output kms_key_arn of environments/security). Required: that bucket is always SSE-KMS with it."

  validation {
    condition     = var.central_kms_key_arn != null && can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/.+$", coalesce(var.central_kms_key_arn, "-")))
    error_message = "central_kms_key_arn must be a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<id>), not null: the central bucket is always encrypted with one (output kms_key_arn of environments/security)."
  }
}

variable "authorize_config_aggregator" {
  type        = bool
  description = "Authorize the security account's AWS Config aggregator (aggregator_mode = \"accounts\") to collect both Regions' compliance. Set false with an organization aggregator."
  default     = true
}

variable "forward_compliance_events" {
  type        = bool
  description = "Forward both Regions' NON_COMPLIANT changes to the security account's default event bus, where they are published to the central topic."
  default     = true
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
  description = "Patch groups of both Regions, keyed by patch group name (the PatchGroup tag value), same shape as modules/patch_baselines' patch_groups; null gives the seed's linux, windows and appa groups (modules/member_region's default)."
  default     = null

  validation {
    condition     = var.patch_groups == null || try(length(var.patch_groups) > 0 && alltrue([for g in keys(var.patch_groups) : can(regex("^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$", g))]), false)
    error_message = "patch_groups must have at least one entry, and every patch group name must be 1-32 letters, digits, dots, underscores and hyphens, starting with a letter or digit."
  }

  validation {
    condition     = var.patch_groups == null || try(alltrue([for g in values(var.patch_groups) : contains(["AMAZON_LINUX_2", "AMAZON_LINUX_2023", "REDHAT_ENTERPRISE_LINUX", "UBUNTU", "WINDOWS"], g.operating_system)]), false)
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

variable "automatic_remediation" {
  type        = bool
  description = "Let AWS Config run the remediation (AWS-RunPatchBaseline / AWS-RefreshAssociation) on every NON_COMPLIANT managed node by itself. Off by default: nothing is patched without an operator's decision."
  default     = false
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

variable "patch_schedule_overrides" {
  type        = map(string)
  description = "Per patch group schedule replacing patch_schedule_expression, e.g. { appa = \"cron(0 3 ? * SAT *)\" } to stagger groups. Keys must be patch groups of patch_groups."
  default     = {}

  validation {
    condition     = alltrue([for g in keys(var.patch_schedule_overrides) : (var.patch_groups == null || contains(keys(coalesce(var.patch_groups, {})), g))])
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

variable "log_kms_key_arns" {
  type        = map(string)
  description = "Customer managed KMS key ARN (not an alias) of the log buckets per Region (keys primary_region / secondary_region codes); a Region without an entry uses the AWS managed key aws/s3."
  default     = {}

  validation {
    condition     = alltrue([for r, k in var.log_kms_key_arns : can(regex("^arn:aws[a-z-]*:kms:${r}:[0-9]{12}:key/.+$", k))])
    error_message = "log_kms_key_arns must map a Region code to a KMS key ARN in that Region (arn:<partition>:kms:<region>:<account>:key/<id>; not an alias)."
  }
}

variable "log_access_log_buckets" {
  type        = map(string)
  description = "Existing bucket per Region (keys Region codes) receiving S3 server access logs of that Region's log buckets; a Region without an entry has no access logging."
  default     = {}

  validation {
    condition     = alltrue([for r, b in var.log_access_log_buckets : can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", r)) && can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", b))])
    error_message = "log_access_log_buckets must map Region codes to valid S3 bucket names."
  }
}

variable "ebs_kms_key_arns" {
  type        = map(list(string))
  description = "Customer managed KMS keys of the patched instances' EBS volumes per Region (keys Region codes): the patch run needs kms:CreateGrant on them to start stopped instances."
  default     = {}

  validation {
    condition     = alltrue(flatten([for r, keys in var.ebs_kms_key_arns : [for k in keys : can(regex("^arn:aws[a-z-]*:kms:${r}:[0-9]{12}:key/[A-Za-z0-9-]+$", k))]]))
    error_message = "ebs_kms_key_arns must map a Region code to KMS key ARNs in that Region (arn:<partition>:kms:<region>:<account>:key/<id>)."
  }
}

variable "config_recorder_regions" {
  type        = list(string)
  description = "Regions (of primary_region / secondary_region) where this environment creates the AWS Config configuration recorder and delivery channel (to the Region's patch-baseline log bucket). AWS allows one recorder per account and Region: leave a Region out where one exists (e.g. AWS Control Tower)."
  default     = []

  validation {
    condition     = alltrue([for r in var.config_recorder_regions : contains([var.primary_region, var.secondary_region], r)])
    error_message = "config_recorder_regions may only name primary_region and/or secondary_region."
  }
}

variable "role_check_dry_run" {
  type        = bool
  description = "Run the role check in dry-run mode: it reports which instances lack an instance profile or SSM permissions and changes nothing (a safe first rollout)."
  default     = false
}

variable "role_check_zip_path" {
  type        = string
  description = "Path of the role-check Lambda zip built by `make package`; null uses build/ssm_role_check.zip of this repository. Only `terraform plan`/`apply` need the file, not `terraform validate`."
  default     = null

  validation {
    condition     = var.role_check_zip_path == null || endswith(coalesce(var.role_check_zip_path, "-"), ".zip")
    error_message = "role_check_zip_path must be the path of a .zip file, or null."
  }
}

variable "role_check_sweep_schedule" {
  type        = string
  description = "EventBridge schedule of the role check's sweep over every instance of each Region (a sweep of a large Region continues itself before Lambda's 15-minute limit, up to 13 invocations: keep the schedule longer than that chain, about 3 h 15 min with the defaults; modules/role_check README): rate(<n> minutes|hours|days) or cron(<6 fields>)."
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

variable "patch_online_timeout_seconds" {
  type        = number
  description = "Seconds (30-570) the patch run waits for the instances it started to run and report Online to SSM before it patches without them."
  default     = 480

  validation {
    condition     = var.patch_online_timeout_seconds >= 30 && var.patch_online_timeout_seconds <= 570 && floor(var.patch_online_timeout_seconds) == var.patch_online_timeout_seconds
    error_message = "patch_online_timeout_seconds must be a whole number from 30 to 570 (an aws:executeScript step runs at most 600 seconds)."
  }
}
