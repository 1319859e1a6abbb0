variable "name_prefix" {
  type        = string
  description = "Prefix of the patch baseline and Resource Group names (<prefix>-<patch group>). Lowercase letters, digits and hyphens; 3-40 characters; must not start with \"aws\" (reserved for Resource Groups)."

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9-]{1,38}[a-z0-9]$", var.name_prefix)) && !startswith(var.name_prefix, "aws")
    error_message = "name_prefix must be 3-40 characters of lowercase letters, digits and hyphens, starting and ending with a letter or digit, and must not start with \"aws\"."
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
  description = <<-EOT
    Patch groups, keyed by patch group name (the value of the patch group tag on the managed nodes,
    e.g. "linux", "windows", "appa"); each gets its own patch baseline, registration and Resource Group.
    operating_system: AMAZON_LINUX_2, AMAZON_LINUX_2023, REDHAT_ENTERPRISE_LINUX, UBUNTU or WINDOWS.
    approval_rules (1-10 unless approved_patches is given): exactly one of approve_after_days (0-360)
    or approve_until_date (YYYY-MM-DD); compliance_level (CRITICAL, HIGH, MEDIUM, LOW, INFORMATIONAL,
    UNSPECIFIED); classifications (Linux: Security, Bugfix, Enhancement, Recommended, Newpackage;
    Windows: CriticalUpdates, DefinitionUpdates, Drivers, FeaturePacks, SecurityUpdates, ServicePacks,
    Tools, UpdateRollups, Updates, Upgrades; not used for Ubuntu); severities (Amazon Linux 2: Critical,
    Important, Medium, Low; Amazon Linux 2023: those and None; RHEL: Critical, Important, Moderate, Low;
    Windows MSRC severity: Critical, Important, Moderate, Low, Unspecified; Ubuntu priority: Required,
    Important, Standard, Optional, Extra); products (default ["*"]); patch_set (Windows only: OS or
    APPLICATION); enable_non_security (Linux only). "*" matches every classification or severity.
    approved_patches / rejected_patches: up to 50 patch names or IDs each; rejected_patches_action:
    ALLOW_AS_DEPENDENCY or BLOCK.
  EOT

  validation {
    condition     = length(var.patch_groups) > 0 && alltrue([for g in keys(var.patch_groups) : can(regex("^[A-Za-z0-9_.-]{1,64}$", g))])
    error_message = "patch_groups must have at least one entry, and every patch group name must be 1-64 letters, digits, underscores, dots or hyphens."
  }

  validation {
    condition     = alltrue([for g in values(var.patch_groups) : contains(["AMAZON_LINUX_2", "AMAZON_LINUX_2023", "REDHAT_ENTERPRISE_LINUX", "UBUNTU", "WINDOWS"], g.operating_system)])
    error_message = "operating_system must be one of AMAZON_LINUX_2, AMAZON_LINUX_2023, REDHAT_ENTERPRISE_LINUX, UBUNTU, WINDOWS."
  }

  validation {
    condition     = alltrue([for g in values(var.patch_groups) : length(g.approval_rules) <= 10 && (length(g.approval_rules) > 0 || length(g.approved_patches) > 0)])
    error_message = "every patch group needs 1-10 approval_rules, or no rules and a non-empty approved_patches list."
  }

  validation {
    condition     = alltrue(flatten([for g in values(var.patch_groups) : [for r in g.approval_rules : (r.approve_after_days == null) != (r.approve_until_date == null)]]))
    error_message = "every approval rule sets exactly one of approve_after_days or approve_until_date, never both."
  }

  validation {
    condition     = alltrue(flatten([for g in values(var.patch_groups) : [for r in g.approval_rules : r.approve_after_days == null || try(r.approve_after_days >= 0 && r.approve_after_days <= 360 && floor(r.approve_after_days) == r.approve_after_days, false)]]))
    error_message = "approve_after_days must be a whole number from 0 to 360."
  }

  validation {
    condition     = alltrue(flatten([for g in values(var.patch_groups) : [for r in g.approval_rules : r.approve_until_date == null || can(formatdate("YYYY", "${r.approve_until_date}T00:00:00Z"))]]))
    error_message = "approve_until_date must be a date in the form YYYY-MM-DD, e.g. \"2026-12-31\"."
  }

  validation {
    condition = alltrue(flatten([for g in values(var.patch_groups) : [for r in g.approval_rules : alltrue([for c in r.classifications : contains(concat(["*"], lookup({
      AMAZON_LINUX_2          = ["Security", "Bugfix", "Enhancement", "Recommended", "Newpackage"]
      AMAZON_LINUX_2023       = ["Security", "Bugfix", "Enhancement", "Recommended", "Newpackage"]
      REDHAT_ENTERPRISE_LINUX = ["Security", "Bugfix", "Enhancement", "Recommended", "Newpackage"]
      UBUNTU                  = []
      WINDOWS                 = ["CriticalUpdates", "DefinitionUpdates", "Drivers", "FeaturePacks", "SecurityUpdates", "ServicePacks", "Tools", "UpdateRollups", "Updates", "Upgrades"]
    }, g.operating_system, [])), c)])]]))
    error_message = "classifications must fit the operating system: Amazon Linux 2 / 2023 and RHEL take Security, Bugfix, Enhancement, Recommended, Newpackage; WINDOWS takes CriticalUpdates, DefinitionUpdates, Drivers, FeaturePacks, SecurityUpdates, ServicePacks, Tools, UpdateRollups, Updates, Upgrades; UBUNTU takes none (use severities for its priorities); \"*\" matches all."
  }

  validation {
    condition = alltrue(flatten([for g in values(var.patch_groups) : [for r in g.approval_rules : alltrue([for s in r.severities : contains(concat(["*"], lookup({
      AMAZON_LINUX_2          = ["Critical", "Important", "Medium", "Low"]
      AMAZON_LINUX_2023       = ["Critical", "Important", "Medium", "Low", "None"]
      REDHAT_ENTERPRISE_LINUX = ["Critical", "Important", "Moderate", "Low"]
      UBUNTU                  = ["Required", "Important", "Standard", "Optional", "Extra"]
      WINDOWS                 = ["Critical", "Important", "Moderate", "Low", "Unspecified"]
    }, g.operating_system, [])), s)])]]))
    error_message = "severities must fit the operating system: AMAZON_LINUX_2 Critical, Important, Medium, Low; AMAZON_LINUX_2023 those and None; REDHAT_ENTERPRISE_LINUX Critical, Important, Moderate, Low; WINDOWS (MSRC) Critical, Important, Moderate, Low, Unspecified; UBUNTU (priority) Required, Important, Standard, Optional, Extra; \"*\" matches all."
  }

  validation {
    condition     = alltrue(flatten([for g in values(var.patch_groups) : concat([contains(["CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL", "UNSPECIFIED"], g.approved_patches_compliance_level)], [for r in g.approval_rules : contains(["CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL", "UNSPECIFIED"], r.compliance_level)])]))
    error_message = "compliance_level and approved_patches_compliance_level must be one of CRITICAL, HIGH, MEDIUM, LOW, INFORMATIONAL, UNSPECIFIED."
  }

  validation {
    condition     = alltrue(flatten([for g in values(var.patch_groups) : [for r in g.approval_rules : r.patch_set == null || (g.operating_system == "WINDOWS" && contains(["OS", "APPLICATION"], coalesce(r.patch_set, "-")))]]))
    error_message = "patch_set is for WINDOWS patch groups only and must be \"OS\" (Windows updates) or \"APPLICATION\" (Microsoft applications)."
  }

  validation {
    condition     = alltrue([for g in values(var.patch_groups) : g.operating_system != "WINDOWS" || (!g.approved_patches_enable_non_security && alltrue([for r in g.approval_rules : !r.enable_non_security]))])
    error_message = "enable_non_security and approved_patches_enable_non_security apply to Linux patch groups only; leave them false for WINDOWS."
  }

  validation {
    condition     = alltrue(flatten([for g in values(var.patch_groups) : [for r in g.approval_rules : length(r.products) > 0 && alltrue([for p in r.products : length(trimspace(p)) > 0 && length(p) <= 128])]]))
    error_message = "products must be a non-empty list of product names (e.g. \"AmazonLinux2023\", \"WindowsServer2022\", \"*\"), each 1-128 characters."
  }

  validation {
    condition     = alltrue([for g in values(var.patch_groups) : length(g.approved_patches) <= 50 && length(g.rejected_patches) <= 50 && alltrue([for p in concat(g.approved_patches, g.rejected_patches) : length(trimspace(p)) > 0 && length(p) <= 100])])
    error_message = "approved_patches and rejected_patches take at most 50 entries each, every entry a patch name or ID of 1-100 characters (e.g. \"KB5034441\", \"kernel-6.1.*\", \"CVE-2024-1086\")."
  }

  validation {
    condition     = alltrue([for g in values(var.patch_groups) : contains(["ALLOW_AS_DEPENDENCY", "BLOCK"], g.rejected_patches_action)])
    error_message = "rejected_patches_action must be \"ALLOW_AS_DEPENDENCY\" or \"BLOCK\"."
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

variable "create_resource_groups" {
  type        = bool
  description = "Create one tag-based AWS Resource Group per patch group, holding the managed nodes tagged <patch_group_tag_key> = <patch group>."
  default     = true
}

variable "resource_group_resource_types" {
  type        = list(string)
  description = "Resource types the Resource Groups hold: \"AWS::EC2::Instance\" and/or \"AWS::SSM::ManagedInstance\" (hybrid mi- nodes; add it where your region's Resource Groups support that type)."
  default     = ["AWS::EC2::Instance"]

  validation {
    condition     = length(var.resource_group_resource_types) > 0 && alltrue([for t in var.resource_group_resource_types : contains(["AWS::EC2::Instance", "AWS::SSM::ManagedInstance"], t)])
    error_message = "resource_group_resource_types must be a non-empty subset of [\"AWS::EC2::Instance\", \"AWS::SSM::ManagedInstance\"]."
  }
}

variable "tags" {
  type        = map(string)
  description = "Tags added to every taggable resource (baselines and Resource Groups, which also get the patch group tag)."
  default     = {}
}
