variable "subscription_id" {
  type        = string
  description = "Azure subscription that holds the tag enforcement resources."

  validation {
    condition     = can(regex("^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$", var.subscription_id))
    error_message = "subscription_id must be a subscription id (GUID)."
  }
}

variable "target_subscription_ids" {
  type        = list(string)
  description = "Subscriptions whose VMs are tag-enforced and exported; empty means subscription_id only."
  default     = []

  validation {
    condition     = alltrue([for s in var.target_subscription_ids : can(regex("^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$", s))])
    error_message = "target_subscription_ids must hold subscription ids (GUIDs)."
  }
}

variable "location" {
  type        = string
  description = "Azure region of the tag enforcement resources, e.g. \"westeurope\"."
  default     = "westeurope"

  validation {
    condition     = can(regex("^[a-z][a-z0-9]+$", var.location))
    error_message = "location must be an Azure region name in lowercase without spaces."
  }
}

variable "name_prefix" {
  type        = string
  description = "Prefix of the Azure resource names (3-12 lowercase letters and digits)."
  default     = "fleetpatch"

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{2,11}$", var.name_prefix))
    error_message = "name_prefix must be 3-12 lowercase letters and digits, starting with a letter."
  }
}

variable "required_tags" {
  type = map(object({
    value                    = optional(string)
    from                     = optional(string)
    values                   = optional(map(string))
    resource_group_overrides = optional(map(map(string)), {})
  }))
  description = "Tags every Azure VM must carry (see modules/azure_tag_enforcement). The default gives every VM the patch group its OS type maps to, which the SSM patch baselines target."
  default = {
    PatchGroup = {
      from   = "os_type"
      values = { Linux = "azure-linux", Windows = "azure-windows" }
    }
  }
}

variable "runner" {
  type        = string
  description = "\"function\" (Flex Consumption Function App, started daily by its timer or by the AWS schedule, see scheduler) or \"automation\" (Automation runbook on its own daily schedule)."
  default     = "function"

  validation {
    condition     = contains(["function", "automation"], var.runner)
    error_message = "runner must be \"function\" or \"automation\"."
  }
}

variable "daily_run_time_utc" {
  type        = string
  description = "Time of the Azure side's own daily run, HH:MM UTC."
  default     = "05:00"

  validation {
    condition     = can(regex("^([01][0-9]|2[0-3]):[0-5][0-9]$", var.daily_run_time_utc))
    error_message = "daily_run_time_utc must be HH:MM (00:00-23:59)."
  }
}

variable "dry_run" {
  type        = bool
  description = "Report the tags that would be added without changing any VM (the first runs on a new fleet)."
  default     = false
}

variable "function_package_path" {
  type        = string
  description = "Path of the content-hashed Function app zip from `make package` (build/azure_function_app-<16 hex>.zip); null takes the one package_manifest_path names."
  default     = null
}

variable "package_manifest_path" {
  type        = string
  description = "build/packages.json written by `make package`: names the content-hashed Function zip deployed when function_package_path is null."
  default     = "../../build/packages.json"
}

variable "scheduler" {
  type        = string
  description = "With runner = \"function\": what starts the one daily run, \"timer\" (the Function's own timer; no AWS schedule is created) or \"cross_cloud\" (the AWS EventBridge schedule cross_cloud_schedule_expression calls the HTTP trigger; the timer is disabled)."
  default     = "timer"

  validation {
    condition     = contains(["timer", "cross_cloud"], var.scheduler)
    error_message = "scheduler must be \"timer\" or \"cross_cloud\"."
  }
}

variable "ssm_tag_sync" {
  type = object({
    role_arn       = string
    region         = string
    tag_key        = string
    azure_tag_name = optional(string)
    audience       = optional(string, "api://AzureADTokenExchange")
  })
  description = "SSM tag reconciler settings (see modules/azure_tag_enforcement): the security environment's output ssm_tag_sync (role ARN, region, SSM tag key, audience) and optionally the Azure tag it mirrors; null turns it off. region must equal aws_region (the security home_region, where the nodes register)."
  default     = null

  # Cross-variable validation (Terraform >= 1.9): the reconciler looks for the mi- nodes in its
  # region; they register in aws_region (ssm-setup-cli -region), so the two must be the same.
  validation {
    condition     = var.ssm_tag_sync == null || try(var.ssm_tag_sync.region == var.aws_region, false)
    error_message = "ssm_tag_sync.region must equal aws_region: the hybrid nodes register in aws_region (the security environment's home_region), and the reconciler only finds nodes there."
  }
}

variable "runbook_package_path" {
  type        = string
  description = "Path of the runbook package from `make package` (runner = \"automation\")."
  default     = "../../build/azure_runbook.zip"
}

variable "aws_region" {
  type        = string
  description = "AWS Region of the hybrid activations (the security environment's home_region, default us-east-1: an activation registers nodes only in its own Region) and of the cross-cloud schedule; must equal ssm_tag_sync.region when ssm_tag_sync is set."
  default     = "us-east-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.aws_region))
    error_message = "aws_region must be an AWS region code such as us-east-1."
  }
}

variable "account_id" {
  type        = string
  description = "Id (12 digits) of the AWS account of the hybrid activations and the cross-cloud schedule (the security account); the aws provider refuses to run against any other account."

  validation {
    condition     = can(regex("^[0-9]{12}$", var.account_id))
    error_message = "account_id must be a 12-digit AWS account id, e.g. \"333333333333\"."
  }
}

variable "assume_role_arn" {
  type        = string
  description = "ARN of the IAM role in account_id that Terraform assumes for the AWS side (cross_cloud_trigger), e.g. arn:aws:iam::333333333333:role/fleetpatch-deploy, from your usual credentials; null (the default) assumes nothing: the credentials already are the account's role (CI, where the job's OIDC role is the plan or the apply role)."
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

variable "cross_cloud_schedule_expression" {
  type        = string
  description = "EventBridge schedule that starts the Azure run from AWS, used when scheduler = \"cross_cloud\" (runner = \"function\" only)."
  default     = "cron(0 5 * * ? *)"

  # BEGIN schedule rules eventbridge_rule: generated by `python -m tools.schedule_rules`, do not edit
  validation {
    condition     = can(regex("^(cron|rate)\\(.*\\)$", var.cross_cloud_schedule_expression))
    error_message = "cross_cloud_schedule_expression: schedule form: cron(<minutes> <hours> <day-of-month> <month> <day-of-week> <year>) or rate(<value> <unit>)."
  }
  validation {
    condition     = !can(regex("^rate\\(", var.cross_cloud_schedule_expression)) || (can(regex("^rate\\([1-9][0-9]* (minute|minutes|hour|hours|day|days)\\)$", var.cross_cloud_schedule_expression)))
    error_message = "cross_cloud_schedule_expression: rate(<value> <unit>): value a whole number from 1 without leading zeros, one space, unit minute(s), hour(s) or day(s)."
  }
  validation {
    condition     = !can(regex("^rate\\([0-9]+ [a-z]+\\)$", var.cross_cloud_schedule_expression)) || (!can(regex("^rate\\((1 (minutes|hours|days)|([2-9]|[1-9][0-9]+) (minute|hour|day))\\)$", var.cross_cloud_schedule_expression)))
    error_message = "cross_cloud_schedule_expression: rate unit: singular (minute, hour, day) for 1, plural (minutes, hours, days) above 1."
  }
  validation {
    condition     = !can(regex("^cron\\(", var.cross_cloud_schedule_expression)) || (can(regex("^cron\\(\\S+( \\S+){5}\\)$", var.cross_cloud_schedule_expression)))
    error_message = "cross_cloud_schedule_expression: cron fields: exactly six separated by single spaces: minutes hours day-of-month month day-of-week year."
  }
  validation {
    condition     = !can(regex("^cron\\(\\S+( \\S+){5}\\)$", var.cross_cloud_schedule_expression)) || (can(regex("^cron\\((\\*|[0-5]?[0-9](-[0-5]?[0-9])?)(/([1-9]|[1-5][0-9]))?(,(\\*|[0-5]?[0-9](-[0-5]?[0-9])?)(/([1-9]|[1-5][0-9]))?)* \\S+ \\S+ \\S+ \\S+ \\S+\\)$", var.cross_cloud_schedule_expression)))
    error_message = "cross_cloud_schedule_expression: cron minutes: 0-59 with , - * / (e.g. 0, 0/15, 5,35, 10-20)."
  }
  validation {
    condition     = !can(regex("^cron\\(\\S+( \\S+){5}\\)$", var.cross_cloud_schedule_expression)) || (can(regex("^cron\\(\\S+ (\\*|([01]?[0-9]|2[0-3])(-([01]?[0-9]|2[0-3]))?)(/([1-9]|1[0-9]|2[0-3]))?(,(\\*|([01]?[0-9]|2[0-3])(-([01]?[0-9]|2[0-3]))?)(/([1-9]|1[0-9]|2[0-3]))?)* \\S+ \\S+ \\S+ \\S+\\)$", var.cross_cloud_schedule_expression)))
    error_message = "cross_cloud_schedule_expression: cron hours: 0-23 with , - * / (e.g. 4, 8-17, 0/6)."
  }
  validation {
    condition     = !can(regex("^cron\\(\\S+( \\S+){5}\\)$", var.cross_cloud_schedule_expression)) || (can(regex("^cron\\(\\S+ \\S+ (\\?|(L|LW|(0?[1-9]|[12][0-9]|3[01])W|(\\*|(0?[1-9]|[12][0-9]|3[01])(-(0?[1-9]|[12][0-9]|3[01]))?)(/([1-9]|[12][0-9]|3[01]))?(,(\\*|(0?[1-9]|[12][0-9]|3[01])(-(0?[1-9]|[12][0-9]|3[01]))?)(/([1-9]|[12][0-9]|3[01]))?)*)) \\S+ \\S+ \\S+\\)$", var.cross_cloud_schedule_expression)))
    error_message = "cross_cloud_schedule_expression: cron day-of-month: 1-31 with , - * / or ?, L, LW, <day>W (e.g. 1, 1-15, L, 15W)."
  }
  validation {
    condition     = !can(regex("^cron\\(\\S+( \\S+){5}\\)$", var.cross_cloud_schedule_expression)) || (can(regex("^cron\\(\\S+ \\S+ \\S+ (\\*|(0?[1-9]|1[0-2]|JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)(-(0?[1-9]|1[0-2]|JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC))?)(/([1-9]|1[0-2]))?(,(\\*|(0?[1-9]|1[0-2]|JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)(-(0?[1-9]|1[0-2]|JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC))?)(/([1-9]|1[0-2]))?)* \\S+ \\S+\\)$", var.cross_cloud_schedule_expression)))
    error_message = "cross_cloud_schedule_expression: cron month: 1-12 or JAN-DEC with , - * / (e.g. *, 1-6, JAN,JUL)."
  }
  validation {
    condition     = !can(regex("^cron\\(\\S+( \\S+){5}\\)$", var.cross_cloud_schedule_expression)) || (can(regex("^cron\\(\\S+ \\S+ \\S+ \\S+ (\\?|(L|(0?[1-7]|SUN|MON|TUE|WED|THU|FRI|SAT)L|(0?[1-7]|SUN|MON|TUE|WED|THU|FRI|SAT)#[1-5]|(\\*|(0?[1-7]|SUN|MON|TUE|WED|THU|FRI|SAT)(-(0?[1-7]|SUN|MON|TUE|WED|THU|FRI|SAT))?)(,(\\*|(0?[1-7]|SUN|MON|TUE|WED|THU|FRI|SAT)(-(0?[1-7]|SUN|MON|TUE|WED|THU|FRI|SAT))?))*)) \\S+\\)$", var.cross_cloud_schedule_expression)))
    error_message = "cross_cloud_schedule_expression: cron day-of-week: 1-7 or SUN-SAT with , - * or ?, L, <day>L, <day>#<1-5>; # only as the whole field (e.g. SUN, MON-FRI, 6L, THU#3)."
  }
  validation {
    condition     = !can(regex("^cron\\(\\S+( \\S+){5}\\)$", var.cross_cloud_schedule_expression)) || (can(regex("^cron\\(\\S+ \\S+ \\S+ \\S+ \\S+ (\\*|(19[7-9][0-9]|2[01][0-9][0-9])(-(19[7-9][0-9]|2[01][0-9][0-9]))?)(/[1-9][0-9]{0,2})?(,(\\*|(19[7-9][0-9]|2[01][0-9][0-9])(-(19[7-9][0-9]|2[01][0-9][0-9]))?)(/[1-9][0-9]{0,2})?)*\\)$", var.cross_cloud_schedule_expression)))
    error_message = "cross_cloud_schedule_expression: cron year: 1970-2199 with , - * / (e.g. *, 2026, 2026-2030)."
  }
  validation {
    condition     = !can(regex("^cron\\(\\S+( \\S+){5}\\)$", var.cross_cloud_schedule_expression)) || (can(regex("^cron\\(\\S+ \\S+ (\\? \\S+ [^? ]\\S*|[^? ]\\S* \\S+ \\?) \\S+\\)$", var.cross_cloud_schedule_expression)))
    error_message = "cross_cloud_schedule_expression: cron day-of-month and day-of-week: one must be ? and the other not."
  }
  # END schedule rules
}

variable "ssm_agent_signing_key" {
  type        = string
  description = "ASCII-armored OpenPGP public key of the SSM Agent from AWS's \"Verifying the signature of SSM Agent\" page (https://docs.aws.amazon.com/systems-manager/latest/userguide/verify-agent-signature.html): the Linux VMs' install script verifies ssm-setup-cli with it before running it. Required when hybrid_vms holds a Linux VM; update it when AWS rotates the key."
  default     = null

  validation {
    condition     = var.ssm_agent_signing_key == null || can(regex("^\\s*-----BEGIN PGP PUBLIC KEY BLOCK-----\\r?\\n[\\s\\S]+\\n-----END PGP PUBLIC KEY BLOCK-----\\s*$", coalesce(var.ssm_agent_signing_key, "x")))
    error_message = "ssm_agent_signing_key must be an ASCII-armored OpenPGP public key block (-----BEGIN PGP PUBLIC KEY BLOCK----- ... -----END PGP PUBLIC KEY BLOCK-----), or null."
  }
}

variable "hybrid_vms" {
  type = map(object({
    id          = string
    os_type     = string
    location    = string
    patch_group = string
  }))
  description = "Azure VMs to register as SSM hybrid managed nodes, key -> { id, os_type = Linux|Windows, location (the VM's region), patch_group (a key of hybrid_activations) }; empty installs no agent."
  default     = {}

  validation {
    condition     = alltrue([for _, vm in var.hybrid_vms : contains(["Linux", "Windows"], vm.os_type) && can(regex("^[a-z][a-z0-9]+$", vm.location))])
    error_message = "each hybrid_vms entry needs os_type \"Linux\" or \"Windows\" and a lowercase Azure region as location."
  }
}

variable "hybrid_activations" {
  type = map(object({
    id   = string
    code = string
  }))
  description = "SSM hybrid activation per patch group (security environment outputs hybrid_activation_ids / hybrid_activation_codes), patch group -> { id, code }; needed when hybrid_vms is not empty. Pass it through TF_VAR_hybrid_activations, never a committed file."
  default     = {}
  sensitive   = true

  validation {
    condition     = length(var.hybrid_vms) == 0 || alltrue([for _, vm in var.hybrid_vms : contains(keys(var.hybrid_activations), vm.patch_group)])
    error_message = "every hybrid_vms patch_group needs its activation in hybrid_activations (the security account's per-patch-group activations)."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every taggable resource (Azure and AWS)."
  default     = { Environment = "azure", ManagedBy = "fleetpatch" }
}
