variable "account_id" {
  type        = string
  description = "Id (12 digits) of the AWS account this environment deploys into; the provider refuses to run against any other account."

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "account_id must be a 12-digit AWS account id, e.g. \"333333333333\"."
  }
}

variable "assume_role_arn" {
  type        = string
  description = "ARN of the IAM role in account_id that Terraform assumes to deploy, e.g. arn:aws:iam::333333333333:role/fleetpatch-deploy, from your usual credentials; null (the default) assumes nothing: the credentials already are the account's role (CI, where the job's OIDC role is the plan or the apply role)."
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
  description = "Short name of the account that starts every name prefix (<short name>-<region short name>, e.g. \"sec-oregon\"). 2-8 lowercase letters and digits, starting with a letter; not starting with aws, amazon or amzn."
  default     = "sec"

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
  description = "Tags added to every taggable resource through the providers' default_tags, on top of Project = fleetpatch, Environment = security and ManagedBy = terraform."
  default     = {}

  validation {
    condition     = alltrue([for k, v in var.tags : length(k) >= 1 && length(k) <= 128 && length(v) <= 256 && !startswith(lower(k), "aws:")])
    error_message = "tags keys must be 1-128 characters not starting with aws:, values at most 256 characters."
  }
}

variable "home_region" {
  type        = string
  description = "The security account's home Region: the central Resource Data Sync bucket, Glue/Athena, the Config aggregator, the central SNS topic, the hybrid activations (and so the hybrid managed nodes: environments/azure aws_region must be this Region)."
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", var.home_region))
    error_message = "home_region must be an AWS Region code such as \"us-east-1\"."
  }
}

variable "member_account_ids" {
  type        = list(string)
  description = "Ids (12 digits) of the member accounts (shared services, application) whose Resource Data Syncs write to the central bucket and whose Config compliance is aggregated. The security account itself is added when patch_hybrid_nodes is true."

  validation {
    condition     = length(var.member_account_ids) > 0 && length(distinct(var.member_account_ids)) == length(var.member_account_ids) && alltrue([for id in var.member_account_ids : can(regex("^[0-9]{12}$", id))])
    error_message = "member_account_ids must be a non-empty list of distinct 12-digit AWS account ids, e.g. [\"111111111111\", \"222222222222\"]."
  }
}

variable "member_regions" {
  type        = list(string)
  description = "Regions of the member accounts (the primary_region and secondary_region of environments/shared-services and environments/application): the Glue partition values and the Config aggregator's Regions."
  default     = ["us-west-2", "eu-west-2"]

  validation {
    condition     = length(var.member_regions) > 0 && length(distinct(var.member_regions)) == length(var.member_regions) && alltrue([for r in var.member_regions : can(regex("^[a-z]{2}(-[a-z]+)+-[0-9]$", r))])
    error_message = "member_regions must be a non-empty list of distinct AWS Region codes such as \"us-west-2\"."
  }
}

variable "sync_prefix" {
  type        = string
  description = "Key prefix of the Resource Data Syncs in the central bucket (\"\" for the bucket root); the member environments' central_sync_prefix must match it."
  default     = "inventory"

  validation {
    condition     = var.sync_prefix == "" || (can(regex("^[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*$", var.sync_prefix)) && length(var.sync_prefix) <= 243)
    error_message = "sync_prefix must be \"\" or an S3 key path of at most 243 characters without leading or trailing \"/\" (letters, digits, !_.*'()- and \"/\" between parts): each account's sync writes under <sync_prefix>/<account id>, and a sync Prefix holds at most 256."
  }
}

variable "kms_key_arn" {
  type        = string
  description = "ARN of an existing customer managed KMS key (in home_region) for the central bucket, Athena results and topic; null creates one whose policy lets the member accounts' Resource Data Syncs write."
  default     = null

  validation {
    condition     = var.kms_key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<key id>) or null; aliases are not accepted."
  }
}

variable "aggregator_mode" {
  type        = string
  description = "AWS Config aggregator: \"accounts\" (member_account_ids, which authorize it in each Region: the member environments do that), \"organization\" (needs organization_aggregator_role_arn) or \"none\"."
  default     = "accounts"

  validation {
    condition     = contains(["accounts", "organization", "none"], var.aggregator_mode)
    error_message = "aggregator_mode must be \"accounts\", \"organization\" or \"none\"."
  }
}

variable "organization_aggregator_role_arn" {
  type        = string
  description = "IAM role the organization aggregator assumes; required when aggregator_mode = \"organization\", otherwise null."
  default     = null

  validation {
    condition     = var.aggregator_mode == "organization" ? can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", coalesce(var.organization_aggregator_role_arn, "-"))) : var.organization_aggregator_role_arn == null
    error_message = "organization_aggregator_role_arn must be an IAM role ARN when aggregator_mode = \"organization\", and null otherwise."
  }
}

variable "access_log_bucket" {
  type        = string
  description = "Name of an existing bucket in home_region that receives S3 server access logs of the central and log buckets; null disables access logging."
  default     = null

  validation {
    condition     = var.access_log_bucket == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.access_log_bucket))
    error_message = "access_log_bucket must be a valid S3 bucket name (3-63 lowercase letters, digits, dots, hyphens) or null."
  }
}

variable "hybrid_activation_enabled" {
  type        = bool
  description = "Create the hybrid activations for Azure and on-premises nodes (one per hybrid patch group, tagged with it), rotated automatically (see modules/hybrid_activation). Also on when hybrid_activation_expiration_date is set."
  default     = false
}

variable "hybrid_activation_expiration_date" {
  type        = string
  description = "Fixed RFC3339 expiry of the hybrid activations, at most 30 days after the plan (e.g. \"2026-12-24T00:00:00Z\"); setting it creates the activations with that date instead of rotating them. null (default): rotation when hybrid_activation_enabled. Registered managed nodes keep working after expiry."
  default     = null

  validation {
    condition     = var.hybrid_activation_expiration_date == null || can(formatdate("YYYY-MM-DD", coalesce(var.hybrid_activation_expiration_date, "x")))
    error_message = "hybrid_activation_expiration_date must be an RFC3339 timestamp such as \"2026-12-24T00:00:00Z\", or null."
  }
}

variable "hybrid_activation_registration_limit" {
  type        = number
  description = "Maximum number of managed nodes (mi-) that can register with each patch group's hybrid activation (1-1000), unless hybrid_activation_registration_limits sets that group's. Changing it replaces those activations (new ids and codes: re-export them to environments/azure)."
  default     = 100

  validation {
    condition     = var.hybrid_activation_registration_limit >= 1 && var.hybrid_activation_registration_limit <= 1000 && floor(var.hybrid_activation_registration_limit) == var.hybrid_activation_registration_limit
    error_message = "hybrid_activation_registration_limit must be a whole number from 1 to 1000."
  }
}

variable "hybrid_activation_registration_limits" {
  type        = map(number)
  description = "Per patch group registration limit (1-1000), replacing hybrid_activation_registration_limit for that group only, e.g. { azure-linux = 300 }. Changing a group's limit replaces only that group's activation (new id and code); changing hybrid_activation_registration_limit replaces every group's activation that has no entry here."
  default     = {}

  validation {
    condition     = alltrue([for g, n in var.hybrid_activation_registration_limits : contains(keys(coalesce(var.hybrid_patch_groups, {})), g) && n >= 1 && n <= 1000 && floor(n) == n])
    error_message = "hybrid_activation_registration_limits keys must be hybrid_patch_groups and each limit a whole number from 1 to 1000 (CreateActivation RegistrationLimit)."
  }
}

variable "ssm_tag_sync" {
  type = object({
    tenant_id                      = string
    managed_identity_principal_ids = list(string)
    tag_key                        = optional(string)
    audience                       = optional(string, "api://AzureADTokenExchange")
    token_version                  = optional(string, "v1")
  })
  description = "Trust for the Azure tag job's reconciler (modules/ssm_tag_sync_role): the Entra tenant id, the object ids of the Function App's / runbook's managed identities (environments/azure output runner_principal_id), the SSM tag key it may set (default patch_group_tag_key), the token audience and version. null (default) creates no OIDC provider or role."
  default     = null

  validation {
    condition = var.ssm_tag_sync == null || try(
      can(regex("^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$", var.ssm_tag_sync.tenant_id)) &&
      length(var.ssm_tag_sync.managed_identity_principal_ids) > 0 &&
      alltrue([for id in var.ssm_tag_sync.managed_identity_principal_ids : can(regex("^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$", id))]),
      false
    )
    error_message = "ssm_tag_sync needs tenant_id and at least one managed_identity_principal_ids, all GUIDs."
  }

  validation {
    condition     = var.ssm_tag_sync == null || try(contains(["PatchGroup", "Patch Group"], coalesce(var.ssm_tag_sync.tag_key, var.patch_group_tag_key)), false)
    error_message = "ssm_tag_sync.tag_key must be a patch group key (\"PatchGroup\" or \"Patch Group\"): the tag the patch runs target."
  }
}

variable "azure_patch_groups" {
  type        = list(string)
  description = "Which hybrid_patch_groups hold Azure VMs: their activations carry the marker tag fleetpatch:source = azure (applied to the registering nodes), the only nodes the tag sync role (ssm_tag_sync) may read and tag. null (default): every hybrid patch group; [] for on-premises only."
  default     = null

  validation {
    condition     = var.azure_patch_groups == null || try(alltrue([for g in var.azure_patch_groups : contains(keys(coalesce(var.hybrid_patch_groups, {})), g)]), false)
    error_message = "azure_patch_groups must be keys of hybrid_patch_groups."
  }
}

variable "patch_hybrid_nodes" {
  type        = bool
  description = "Run modules/member_region in home_region of this account: the hybrid managed nodes registered through the activation live here, so they get their patch baselines, inventory (synchronised to the central bucket), weekly scan, patch runs and Config rules like any member Region. The security account is then added to the central member accounts."
  default     = true
}

variable "hybrid_patch_groups" {
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
  description = "Patch groups of the hybrid managed nodes (the PatchGroup tag values environments/azure enforces: azure-linux, azure-windows), same shape as modules/patch_baselines' patch_groups. A patch group maps to one baseline per operating system: set each group's operating_system to your nodes' distribution."
  default = {
    azure-linux = {
      operating_system = "UBUNTU"
      description      = "Azure and on-premises Linux managed nodes (mi-)"
      # Ubuntu takes no approval delay (PatchRule): 0 approves matching patches at once.
      approval_rules = [{
        approve_after_days = 0
        compliance_level   = "HIGH"
        severities         = ["Required", "Important"]
      }]
    }
    azure-windows = {
      operating_system = "WINDOWS"
      description      = "Azure and on-premises Windows managed nodes (mi-)"
      approval_rules = [{
        approve_after_days = 7
        compliance_level   = "CRITICAL"
        classifications    = ["CriticalUpdates", "SecurityUpdates"]
        severities         = ["Critical", "Important"]
        patch_set          = "OS"
      }]
    }
  }

  validation {
    condition     = var.hybrid_patch_groups == null || try(length(var.hybrid_patch_groups) > 0 && alltrue([for g in keys(var.hybrid_patch_groups) : can(regex("^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$", g))]), false)
    error_message = "hybrid_patch_groups must have at least one entry, and every patch group name must be 1-32 letters, digits, dots, underscores and hyphens, starting with a letter or digit."
  }

  validation {
    condition     = var.hybrid_patch_groups == null || try(alltrue([for g in values(var.hybrid_patch_groups) : contains(["AMAZON_LINUX_2", "AMAZON_LINUX_2023", "REDHAT_ENTERPRISE_LINUX", "UBUNTU", "WINDOWS"], g.operating_system)]), false)
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
  description = "Per patch group schedule replacing patch_schedule_expression, e.g. { appa = \"cron(0 3 ? * SAT *)\" } to stagger groups. Keys must be patch groups of hybrid_patch_groups."
  default     = {}

  validation {
    condition     = alltrue([for g in keys(var.patch_schedule_overrides) : (var.hybrid_patch_groups == null || contains(keys(coalesce(var.hybrid_patch_groups, {})), g))])
    error_message = "patch_schedule_overrides keys must be patch groups of hybrid_patch_groups."
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

variable "role_check_enabled" {
  type        = bool
  description = "Deploy the role-check Lambda in the hybrid nodes' Region (patch_hybrid_nodes) of this account. Off by default: the hybrid nodes register through the activation and need no EC2 instance profile, and the security account holds the central data, so nothing here should be able to associate profiles or attach policies unless asked for (turn it on only for EC2 instances you patch in this account)."
  default     = false
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

variable "organization_id" {
  type        = string
  description = "AWS Organizations id (o-...) of the member accounts, or null (central_reporting's organization_id). Set, the central sync bucket policy and key policy admit ssm.amazonaws.com for any account of the organization (aws:SourceOrgID) and the default event bus admits its accounts (aws:PrincipalOrgID), so the policies stay the same size at any number of accounts; null lists member_account_ids in each (README \"Policy sizes\": without it about 660 member accounts fit the event bus policy (the first limit reached), 1,270 the sync bucket policy). Each account still writes only under its own <sync_prefix>/<account id>/ folder."
  default     = null

  validation {
    # Organization id: "o-" followed by 10-32 lowercase letters or digits
    # (https://docs.aws.amazon.com/organizations/latest/APIReference/API_Organization.html).
    condition     = var.organization_id == null || can(regex("^o-[a-z0-9]{10,32}$", var.organization_id))
    error_message = "organization_id must be an AWS Organizations id: \"o-\" followed by 10-32 lowercase letters or digits (e.g. \"o-a1b2c3d4e5\"), or null."
  }
}

variable "bucket_name_suffix" {
  type        = string
  description = "What follows <name_prefix>-<purpose> in every bucket name of this account: the central sync and Athena results buckets and, with patch_hybrid_nodes, the hybrid Region's log buckets. S3 bucket names are unique across every account of the partition: a name another account holds fails CreateBucket with BucketAlreadyExists (nothing else is created by that apply; fix the name and apply again). \"none\" (default) keeps today's names; \"account\" appends -<account id> and \"account-region\" -<account id>-<Region code> (recommended for new deployments). Changing it on an existing deployment replaces the buckets (objects are not moved) and the members' central_sync_bucket_name must follow (the sync_bucket_name output). The final names must stay within 63 characters (checked at plan)."
  default     = "none"
  nullable    = false

  validation {
    condition     = contains(["none", "account", "account-region"], var.bucket_name_suffix)
    error_message = "bucket_name_suffix must be \"none\", \"account\" or \"account-region\"."
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
