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
  description = "Subscriptions whose VMs are enforced and exported. The runner's identity gets Reader and Tag Contributor on each."

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
  description = "What runs the daily job: \"function\" (Linux Function App, Python 3.11, timer + HTTP trigger for the AWS side) or \"automation\" (Automation Account, Python 3.10 runbook on a daily schedule)."
  default     = "function"

  validation {
    condition     = contains(["function", "automation"], var.runner)
    error_message = "runner must be \"function\" or \"automation\"."
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
  description = "Blob container of the tag export (one timestamped JSON Lines + CSV pair per run, plus latest.*)."
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
  description = "Path of the Function app zip built by `make package` (build/azure_function_app.zip); deployed with a remote build that installs requirements.txt. Used when runner = \"function\"."
  default     = null

  validation {
    condition     = var.function_package_path == null || endswith(coalesce(var.function_package_path, "x"), ".zip")
    error_message = "function_package_path must be the path of a .zip file or null."
  }
}

variable "function_plan_sku" {
  type        = string
  description = "App Service plan SKU of the Function App: Y1 (Consumption), EP1-EP3 (Elastic Premium) or B1-B3 / P1v3-P3v3 (Dedicated)."
  default     = "Y1"

  validation {
    condition     = contains(["Y1", "EP1", "EP2", "EP3", "B1", "B2", "B3", "P1v3", "P2v3", "P3v3"], var.function_plan_sku)
    error_message = "function_plan_sku must be one of Y1, EP1, EP2, EP3, B1, B2, B3, P1v3, P2v3, P3v3."
  }
}

variable "application_insights_connection_string" {
  type        = string
  description = "Connection string of an existing Application Insights resource that receives the Function App's logs (the run summary); null sends them nowhere."
  default     = null
  sensitive   = true
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

variable "automation_python_packages" {
  type = map(object({
    content_uri     = string
    content_version = string
    sha256          = string
  }))
  description = "Python wheels imported into the Automation Account for the runbook, name -> { content_uri, content_version, sha256 }: the Azure SDK packages of azure_function/requirements.txt and their dependencies (e.g. their PyPI wheel URLs). Used when runner = \"automation\"."
  default     = {}

  validation {
    condition     = alltrue([for _, p in var.automation_python_packages : startswith(p.content_uri, "https://") && can(regex("^[0-9a-f]{64}$", p.sha256)) && can(regex("^[0-9]+(\\.[0-9]+){0,3}$", p.content_version))])
    error_message = "each automation_python_packages entry needs an https content_uri, a 64-hex-digit sha256 and a numeric content_version such as 1.2.3."
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
  description = "Resource id of a Log Analytics workspace receiving the blob read/write/delete logs of the storage account; null sends them nowhere."
  default     = null

  validation {
    condition     = var.log_analytics_workspace_id == null || can(regex("(?i)^/subscriptions/[^/]+/resourceGroups/[^/]+/providers/Microsoft.OperationalInsights/workspaces/[^/]+$", coalesce(var.log_analytics_workspace_id, "x")))
    error_message = "log_analytics_workspace_id must be a Log Analytics workspace resource id (/subscriptions/.../providers/Microsoft.OperationalInsights/workspaces/<name>) or null."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every taggable resource."
  default     = {}
}
