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
    approval_rules (1-10 unless approved_patches is given): exactly one of approve_after_days (whole
    number 0-360) or approve_until_date (YYYY-MM-DD calendar date); UBUNTU takes neither delay nor
    cutoff, so approve_after_days = 0 there; compliance_level (CRITICAL, HIGH, MEDIUM, LOW,
    INFORMATIONAL, UNSPECIFIED); classifications (Linux: Security, Bugfix, Enhancement, Recommended,
    Newpackage; Windows: CriticalUpdates, DefinitionUpdates, Drivers, FeaturePacks, SecurityUpdates,
    ServicePacks, Tools, UpdateRollups, Updates, Upgrades; none for Ubuntu); severities (Amazon Linux 2:
    Critical, Important, Medium, Low; Amazon Linux 2023: those and None; RHEL: Critical, Important,
    Moderate, Low; Windows MSRC severity: Critical, Important, Moderate, Low, Unspecified; Ubuntu
    priority: Required, Important, Standard, Optional, Extra); products (default ["*"]; the OS's
    PRODUCT values such as AmazonLinux2023, RedhatEnterpriseLinux9, Ubuntu22.04, WindowsServer2022, or
    Microsoft application names for patch_set APPLICATION); patch_set (Windows only: OS or
    APPLICATION); enable_non_security (Linux only). Each of products, classifications, severities takes
    1-20 values of 1-64 characters; ["*"] alone matches every value (no partial wildcards).
    approved_patches / rejected_patches: up to 50 entries each, 1-100 characters, in the OS's package
    name format (Windows KB/MS bulletin IDs; Amazon Linux / RHEL package names with at most one "*",
    and Bugzilla, CVE or advisory IDs; Ubuntu bare package names); rejected_patches_action:
    ALLOW_AS_DEPENDENCY or BLOCK. The rules are the tables of rules.tf (see the module README).
  EOT

  validation {
    condition     = length(var.patch_groups) > 0 && alltrue([for g in keys(var.patch_groups) : can(regex("^[A-Za-z0-9_.-]{1,64}$", g))])
    error_message = "patch_groups must have at least one entry, and every patch group name must be 1-64 letters, digits, underscores, dots or hyphens."
  }

  # The rules below read the per-OS tables of rules.tf (one place); each cites its AWS page there.
  # Rules that depend on the operating system pass for an unknown one (try(..., true)): the
  # operating_system rule reports that.
  validation {
    condition     = alltrue([for g in values(var.patch_groups) : contains(keys(local.patch_os_rules), g.operating_system)])
    error_message = "operating_system must be one of ${local.patch_os_names}."
  }

  validation {
    condition     = alltrue([for g in values(var.patch_groups) : length(g.approval_rules) <= local.max_approval_rules && (length(g.approval_rules) > 0 || length(g.approved_patches) > 0)])
    error_message = "every patch group needs 1-${local.max_approval_rules} approval_rules (PatchRuleGroup takes at most ${local.max_approval_rules}), or no rules and a non-empty approved_patches list."
  }

  validation {
    condition     = alltrue(flatten([for g in values(var.patch_groups) : [for r in g.approval_rules : (r.approve_after_days == null) != (r.approve_until_date == null)]]))
    error_message = "every approval rule sets exactly one of approve_after_days or approve_until_date: CreatePatchBaseline needs one and takes only one."
  }

  validation {
    condition     = alltrue(flatten([for g in values(var.patch_groups) : [for r in g.approval_rules : r.approve_after_days == null || try(r.approve_after_days >= 0 && r.approve_after_days <= local.max_approve_after_days && floor(r.approve_after_days) == r.approve_after_days, false)]]))
    error_message = "approve_after_days must be a whole number from 0 to ${local.max_approve_after_days} (PatchRule ApproveAfterDays)."
  }

  validation {
    condition     = alltrue(flatten([for g in values(var.patch_groups) : [for r in g.approval_rules : r.approve_until_date == null || (can(regex("^[0-9]{4}-[0-9]{2}-[0-9]{2}$", r.approve_until_date)) && can(formatdate("YYYY", "${r.approve_until_date}T00:00:00Z")))]]))
    error_message = "approve_until_date must be a calendar date in the form YYYY-MM-DD, e.g. \"2026-12-31\" (PatchRule ApproveUntilDate)."
  }

  validation {
    condition     = alltrue([for g in values(var.patch_groups) : try(local.patch_os_rules[g.operating_system].approval_delay, true) || alltrue([for r in g.approval_rules : r.approve_after_days == 0 && r.approve_until_date == null])])
    error_message = "UBUNTU patch baselines take no approval delay or cutoff date (PatchRule: ApproveAfterDays and ApproveUntilDate are not supported for Ubuntu Server): set approve_after_days = 0, which approves matching patches at once, and no approve_until_date."
  }

  validation {
    condition = alltrue(flatten([for g in values(var.patch_groups) : [for r in g.approval_rules : try(alltrue([
      for c in r.classifications : c == "*" || contains(local.patch_os_rules[g.operating_system].classifications, c)
    ]), true)]]))
    error_message = "classifications must be values of the patch group's operating system, or [\"*\"] alone for all: ${local.patch_os_classifications}."
  }

  validation {
    condition = alltrue(flatten([for g in values(var.patch_groups) : [for r in g.approval_rules : try(alltrue([
      for s in r.severities : s == "*" || contains(local.patch_os_rules[g.operating_system].severities, s)
    ]), true)]]))
    error_message = "severities must be values of the patch group's operating system (filter key in brackets), or [\"*\"] alone for all: ${local.patch_os_severities}."
  }

  validation {
    condition = alltrue(flatten([for g in values(var.patch_groups) : [for r in g.approval_rules : try(alltrue([
      for p in r.products : p == "*" || (r.patch_set == "APPLICATION" ? length(trimspace(p)) > 0 : can(regex(local.patch_os_rules[g.operating_system].product_pattern, p)))
    ]), true)]]))
    error_message = "products must be PRODUCT values of the patch group's operating system, or [\"*\"] alone for all: ${local.patch_os_products}."
  }

  validation {
    condition = alltrue(flatten([for g in values(var.patch_groups) : [for r in g.approval_rules : [
      for l in [r.products, r.classifications, r.severities] : alltrue([for v in l : v == "*" || !strcontains(v, "*")]) && (!contains(l, "*") || length(l) == 1)
    ]]]))
    error_message = "a filter value is either an exact value or the wildcard \"*\" on its own (PatchFilter: \"exact values ... or a wildcard (*), which matches all values\"): no partial wildcards such as \"Sec*\", and [\"*\"] is not combined with other values."
  }

  validation {
    condition = alltrue(flatten([for g in values(var.patch_groups) : [for r in g.approval_rules : length(r.products) > 0 && alltrue([
      for l in [r.products, r.classifications, r.severities] : length(l) <= local.max_filter_values && alltrue([for v in l : length(trimspace(v)) > 0 && length(v) <= local.max_filter_value_length])
    ])]]))
    error_message = "products must be non-empty, and products, classifications and severities take at most ${local.max_filter_values} values each, every value 1-${local.max_filter_value_length} characters (PatchFilter Values)."
  }

  validation {
    condition     = alltrue(flatten([for g in values(var.patch_groups) : concat([contains(local.compliance_levels, g.approved_patches_compliance_level)], [for r in g.approval_rules : contains(local.compliance_levels, r.compliance_level)])]))
    error_message = "compliance_level and approved_patches_compliance_level must be one of ${join(", ", local.compliance_levels)}."
  }

  validation {
    condition     = alltrue(flatten([for g in values(var.patch_groups) : [for r in g.approval_rules : r.patch_set == null || contains(try(local.patch_os_rules[g.operating_system].patch_sets, []), coalesce(r.patch_set, "-"))]]))
    error_message = "patch_set is for WINDOWS patch groups only (the PATCH_SET filter key) and must be \"OS\" (Windows updates) or \"APPLICATION\" (Microsoft applications)."
  }

  validation {
    condition     = alltrue([for g in values(var.patch_groups) : try(local.patch_os_rules[g.operating_system].non_security, true) || (!g.approved_patches_enable_non_security && alltrue([for r in g.approval_rules : !r.enable_non_security]))])
    error_message = "enable_non_security and approved_patches_enable_non_security apply to Linux patch groups only (PatchRule EnableNonSecurity); leave them false for WINDOWS."
  }

  validation {
    condition     = alltrue([for g in values(var.patch_groups) : length(g.approved_patches) <= local.max_patch_list_entries && length(g.rejected_patches) <= local.max_patch_list_entries && alltrue([for p in concat(g.approved_patches, g.rejected_patches) : length(p) > 0 && length(p) <= local.max_patch_name_length])])
    error_message = "approved_patches and rejected_patches take at most ${local.max_patch_list_entries} entries each, every entry 1-${local.max_patch_name_length} characters (CreatePatchBaseline ApprovedPatches / RejectedPatches)."
  }

  validation {
    condition     = alltrue([for g in values(var.patch_groups) : try(alltrue([for p in concat(g.approved_patches, g.rejected_patches) : can(regex(local.patch_os_rules[g.operating_system].patch_name_pattern, p))]), true)])
    error_message = "approved_patches and rejected_patches entries must be in the package name format of the patch group's operating system: ${local.patch_os_patch_names}."
  }

  validation {
    condition     = alltrue([for g in values(var.patch_groups) : contains(local.rejected_patches_actions, g.rejected_patches_action)])
    error_message = "rejected_patches_action must be one of ${join(", ", local.rejected_patches_actions)}."
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
