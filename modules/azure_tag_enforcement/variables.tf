variable "name_prefix" {
  type        = string
  description = "Prefix of every resource name, e.g. \"fleetpatch\" gives the resource group fleetpatch-tag-enforcement. Lowercase letters and digits, 3-12 characters (the storage account name is <prefix>tags<6 hex>)."

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{2,11}$", var.name_prefix))
    error_message = "name_prefix must be 3-12 lowercase letters and digits, starting with a letter."
  }
}

variable "location" {
  type        = string
  description = "Azure region of every resource, e.g. \"westeurope\"."

  validation {
    condition     = can(regex("^[a-z][a-z0-9]+$", var.location))
    error_message = "location must be an Azure region name in lowercase without spaces, e.g. \"westeurope\"."
  }
}

variable "target_subscription_ids" {
  type        = list(string)
  description = "Subscriptions whose VMs are enforced and exported. The runner's identity gets one custom role on each (VM read, tag read and write; defined in the first, assignable in all)."

  validation {
    condition     = length(var.target_subscription_ids) > 0 && alltrue([for s in var.target_subscription_ids : can(regex("^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$", s))])
    error_message = "target_subscription_ids must be a non-empty list of subscription ids (GUIDs)."
  }

  validation {
    condition     = length(distinct([for s in var.target_subscription_ids : lower(s)])) == length(var.target_subscription_ids)
    error_message = "target_subscription_ids must not list a subscription twice."
  }
}

variable "required_tags" {
  type = map(object({
    value                    = optional(string)
    from                     = optional(string)
    values                   = optional(map(string))
    resource_group_overrides = optional(map(map(string)), {})
  }))
  description = "Tags every VM must carry, tag name -> rule: a fixed value ({ value = \"platform\" }) or a value derived from the OS type ({ from = \"os_type\", values = { Linux = \"azure-linux\", Windows = \"azure-windows\" }, resource_group_overrides = { rg-sql = { Windows = \"sql-windows\" } } }). Missing tags are added with a merge, in name order (which matters only at the 50-tag limit); existing tags are never changed."

  validation {
    condition     = length(var.required_tags) > 0
    error_message = "required_tags must name at least one tag."
  }

  validation {
    condition     = alltrue([for name, _ in var.required_tags : length(name) >= 1 && length(name) <= 512 && !can(regex("[<>%&\\\\?/]", name))])
    error_message = "required_tags names must be 1-512 characters without < > % & \\ ? / (Azure's tag name rules)."
  }

  validation {
    condition     = length(distinct([for name, _ in var.required_tags : lower(name)])) == length(var.required_tags)
    error_message = "required_tags must not hold two names that differ only in letter case (Azure tag names ignore case)."
  }

  validation {
    condition = alltrue([for name, rule in var.required_tags : (
      rule.value != null ? (rule.from == null && rule.values == null && length(rule.value) >= 1 && length(rule.value) <= 256) :
      (rule.from == "os_type" && rule.values != null && length(coalesce(rule.values, {})) > 0 &&
        alltrue([for os, v in coalesce(rule.values, {}) : contains(["Linux", "Windows"], os) && length(v) >= 1 && length(v) <= 256]) &&
      alltrue([for rg, by_os in rule.resource_group_overrides : alltrue([for os, v in by_os : contains(["Linux", "Windows"], os) && length(v) >= 1 && length(v) <= 256])]))
    )])
    error_message = "each required_tags rule is either { value = \"1-256 characters\" } or { from = \"os_type\", values = { Linux/Windows = \"1-256 characters\" }, resource_group_overrides = { <rg> = { Linux/Windows = ... } } }."
  }
}

variable "runner" {
  type        = string
  description = "What runs the daily job: \"function\" (Function App on Flex Consumption, Python; timer + HTTP trigger for the AWS side) or \"automation\" (Automation Account, Python 3.10 runbook in a runtime environment, on its daily schedule)."
  default     = "function"

  validation {
    condition     = contains(["function", "automation"], var.runner)
    error_message = "runner must be \"function\" or \"automation\"."
  }
}

variable "scheduler" {
  type        = string
  description = "With runner = \"function\": what starts the one daily run. \"timer\" (default): the Function's timer at daily_run_time_utc. \"cross_cloud\": the AWS EventBridge schedule (modules/cross_cloud_trigger) calls the HTTP trigger, and the timer is disabled (app setting AzureWebJobs.enforce_tags_daily.Disabled). Either way a day runs once: a second call for a day already exported does nothing."
  default     = "timer"

  validation {
    condition     = contains(["timer", "cross_cloud"], var.scheduler)
    error_message = "scheduler must be \"timer\" or \"cross_cloud\"."
  }
}

variable "function_python_version" {
  type        = string
  description = "Python version of the Flex Consumption Function App: 3.10 or 3.11 (the provider's runtime_version values for python; https://registry.terraform.io/providers/hashicorp/azurerm/4.81.0/docs/resources/function_app_flex_consumption#runtime_version)."
  default     = "3.11"

  validation {
    condition     = contains(["3.10", "3.11"], var.function_python_version)
    error_message = "function_python_version must be \"3.10\" or \"3.11\"."
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
  description = "The SSM tag reconciler (mirrors the Azure tag onto each VM's mi- node): the IAM role to assume with the runner's managed identity token (modules/ssm_tag_sync_role output role_arn), its AWS region, the SSM tag key (case-sensitive), the Azure tag it mirrors (default: tag_key, matched ignoring case) and the token audience. Written to the FLEETPATCH_SSM_* settings of the Function / runbook; null turns the reconciler off."
  default     = null

  validation {
    condition     = var.ssm_tag_sync == null || try(can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/.+$", var.ssm_tag_sync.role_arn)), false)
    error_message = "ssm_tag_sync.role_arn must be an IAM role ARN (arn:<partition>:iam::<account>:role/<name>)."
  }

  validation {
    condition     = var.ssm_tag_sync == null || try(can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.ssm_tag_sync.region)), false)
    error_message = "ssm_tag_sync.region must be an AWS region code such as us-west-2."
  }

  validation {
    # SSM tag keys: 1-128 characters, not starting with aws: (AddTagsToResource).
    condition     = var.ssm_tag_sync == null || try((length(var.ssm_tag_sync.tag_key) >= 1 && length(var.ssm_tag_sync.tag_key) <= 128 && !startswith(lower(var.ssm_tag_sync.tag_key), "aws:")), false)
    error_message = "ssm_tag_sync.tag_key must be 1-128 characters and not start with aws:."
  }

  validation {
    condition     = var.ssm_tag_sync == null || try((length(coalesce(var.ssm_tag_sync.audience, "x")) >= 1 && length(coalesce(var.ssm_tag_sync.azure_tag_name, var.ssm_tag_sync.tag_key, "x")) <= 512), false)
    error_message = "ssm_tag_sync.audience must not be empty and azure_tag_name must be at most 512 characters (Azure's tag name limit)."
  }
}

variable "daily_run_time_utc" {
  type        = string
  description = "Time of the daily run, HH:MM in UTC."
  default     = "05:00"

  validation {
    condition     = can(regex("^([01][0-9]|2[0-3]):[0-5][0-9]$", var.daily_run_time_utc))
    error_message = "daily_run_time_utc must be HH:MM (00:00-23:59)."
  }
}

variable "dry_run" {
  type        = bool
  description = "Plan and export only: report the tags that would be added without changing any VM."
  default     = false
}

variable "max_concurrency" {
  type        = number
  description = "Tag merge requests in flight at once per subscription (1-32). Resource Manager throttles writes per subscription; 8 stays well inside its limits."
  default     = 8

  validation {
    condition     = var.max_concurrency >= 1 && var.max_concurrency <= 32 && floor(var.max_concurrency) == var.max_concurrency
    error_message = "max_concurrency must be a whole number from 1 to 32."
  }
}

variable "export_container_name" {
  type        = string
  description = "Blob container of the tag export, under vm-tags/: days/<YYYY-MM-DD>.jsonl|.csv (the scheduled run of each UTC day, written once), runs/<UTC stamp>-<run id>.* (forced, dry and partial runs) and latest.jsonl|.csv (the last complete listing)."
  default     = "vm-tag-exports"

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9]|-[a-z0-9]){2,62}$", var.export_container_name)) && length(var.export_container_name) <= 63
    error_message = "export_container_name must be 3-63 lowercase letters, digits and single hyphens, starting and ending with a letter or digit."
  }
}

variable "storage_replication_type" {
  type        = string
  description = "Replication of the storage account: GRS, RAGRS, GZRS or RAGZRS (geo-redundant, so the export survives a regional outage) or ZRS / LRS."
  default     = "GRS"

  validation {
    condition     = contains(["LRS", "ZRS", "GRS", "RAGRS", "GZRS", "RAGZRS"], var.storage_replication_type)
    error_message = "storage_replication_type must be one of LRS, ZRS, GRS, RAGRS, GZRS, RAGZRS."
  }
}

variable "blob_retention_days" {
  type        = number
  description = "Days deleted blobs and containers stay recoverable (soft delete), 1-365."
  default     = 30

  validation {
    condition     = var.blob_retention_days >= 1 && var.blob_retention_days <= 365 && floor(var.blob_retention_days) == var.blob_retention_days
    error_message = "blob_retention_days must be a whole number from 1 to 365."
  }
}

variable "function_package_path" {
  type        = string
  description = "Path of the content-hashed Function app zip built by `make package` (build/azure_function_app-<16 hex digits of its SHA-256>.zip, named in build/packages.json): the provider redeploys only when the path changes, so a code change is a new name. It carries its dependencies (wheels for Linux x86-64 CPython function_python_version under .python_packages/lib/site-packages); no remote build. Used when runner = \"function\"; null deploys no code."
  default     = null

  validation {
    condition     = var.function_package_path == null || can(regex("-[0-9a-f]{16}\\.zip$", coalesce(var.function_package_path, "x")))
    error_message = "function_package_path must be the content-hashed zip from `make package` (…/azure_function_app-<16 hex digits>.zip, see build/packages.json) or null."
  }
}

variable "runbook_package_path" {
  type        = string
  description = "Path of the runbook package built by `make package` (build/azure_runbook.zip); embedded in the runbook, which unpacks and runs it. Required when runner = \"automation\"."
  default     = null

  validation {
    condition     = var.runbook_package_path == null || endswith(coalesce(var.runbook_package_path, "x"), ".zip")
    error_message = "runbook_package_path must be the path of a .zip file or null."
  }

  validation {
    condition     = var.runner != "automation" || var.runbook_package_path != null
    error_message = "runner = \"automation\" needs runbook_package_path (build/azure_runbook.zip from `make package`)."
  }
}

variable "automation_schedule_start" {
  type        = string
  description = "RFC 3339 time of the first scheduled runbook run (must be at least 5 minutes after apply); null starts the day after the plan at daily_run_time_utc. Changes after creation are ignored."
  default     = null

  validation {
    condition     = var.automation_schedule_start == null || can(formatdate("YYYY", var.automation_schedule_start))
    error_message = "automation_schedule_start must be an RFC 3339 timestamp such as 2026-01-01T05:00:00Z, or null."
  }
}

variable "log_analytics_workspace_id" {
  type        = string
  description = "Resource id of an existing Log Analytics workspace for the run logs (workspace-based Application Insights of the Function, the runbook's job logs and streams) and the blob read/write/delete logs; null creates one in the module's resource group."
  default     = null

  validation {
    condition     = var.log_analytics_workspace_id == null || can(regex("(?i)^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft.OperationalInsights/workspaces/[^/]+$", coalesce(var.log_analytics_workspace_id, "x")))
    error_message = "log_analytics_workspace_id must be a Log Analytics workspace resource id (/subscriptions/.../providers/Microsoft.OperationalInsights/workspaces/<name>) or null."
  }
}

variable "log_retention_days" {
  type        = number
  description = "Days the created Log Analytics workspace and Application Insights keep the run logs: 30-730 (PerGB2018 workspaces), and one of Application Insights' values 30, 60, 90, 120, 180, 270, 365, 550, 730."
  default     = 90

  validation {
    condition     = contains([30, 60, 90, 120, 180, 270, 365, 550, 730], var.log_retention_days)
    error_message = "log_retention_days must be one of 30, 60, 90, 120, 180, 270, 365, 550, 730."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every taggable resource."
  default     = {}
}
