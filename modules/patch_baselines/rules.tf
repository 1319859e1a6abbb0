# What CreatePatchBaseline accepts, in one place. The patch_groups validations (variables.tf) and
# the filters built in main.tf read these tables; edit them here only. Terraform >= 1.9 lets a
# validation condition refer to other objects of the module (these locals), as long as it also
# refers to the variable it validates (versions.tf requires >= 1.11).
#
# Sources (AWS Systems Manager API Reference and User Guide):
#   PatchRuleGroup   https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PatchRuleGroup.html
#                    PatchRules: 0-10 rules
#   PatchFilterGroup https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PatchFilterGroup.html
#                    PatchFilters: 0-4 filters
#   PatchFilter      https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PatchFilter.html
#                    Values: 1-20 values of 1-64 characters, "exact values for the patch property given
#                    as a key, or a wildcard (*), which matches all values"
#   PatchRule        https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PatchRule.html
#                    ApproveAfterDays integer 0-360; ApproveUntilDate YYYY-MM-DD; the request must
#                    include one of them; neither is "supported for Debian Server or Ubuntu Server";
#                    ComplianceLevel CRITICAL | HIGH | MEDIUM | LOW | INFORMATIONAL | UNSPECIFIED;
#                    EnableNonSecurity "Applies to Linux managed nodes only"
#   CreatePatchBaseline https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_CreatePatchBaseline.html
#                    ApprovedPatches / RejectedPatches: 0-50 entries of 1-100 characters;
#                    RejectedPatchesAction ALLOW_AS_DEPENDENCY | BLOCK
#   DescribePatchProperties https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_DescribePatchProperties.html
#                    filter keys per OS: AMAZON_LINUX_2 / AMAZON_LINUX_2023 / REDHAT_ENTERPRISE_LINUX
#                    PRODUCT | CLASSIFICATION | SEVERITY; UBUNTU PRODUCT | PRIORITY (PatchFilter adds
#                    SECTION); WINDOWS PRODUCT | PRODUCT_FAMILY | CLASSIFICATION | MSRC_SEVERITY
#                    (PatchFilter adds PATCH_SET: OS | APPLICATION)
#   Package name formats for approved and rejected patch lists
#                    https://docs.aws.amazon.com/systems-manager/latest/userguide/patch-manager-approved-rejected-package-name-formats.html
locals {
  max_approval_rules      = 10
  max_filters_per_rule    = 4
  max_filter_values       = 20
  max_filter_value_length = 64
  max_patch_list_entries  = 50
  max_patch_name_length   = 100
  max_approve_after_days  = 360

  compliance_levels        = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL", "UNSPECIFIED"]
  rejected_patches_actions = ["ALLOW_AS_DEPENDENCY", "BLOCK"]

  # YUM / DNF package names (Amazon Linux 2, Amazon Linux 2023, RHEL): name, name.arch,
  # name-version[-release][.arch], [name-]epoch:version-release[.arch], ... with at most one "*"
  # ("a single wild card"); approved lists also take Bugzilla IDs (1234567), CVE IDs
  # (CVE-2018-1234567) and advisory IDs (RHSA-2017:0864, ALAS-2018-123, ALAS2023-2025-123), which
  # are made of the same characters. At least one character besides the wildcard.
  yum_patch_name_pattern = "^([A-Za-z0-9._+~^:-]+[*]?[A-Za-z0-9._+~^:-]*|[*][A-Za-z0-9._+~^:-]+)$"
  yum_patch_name_formats = "package names such as dbus, dbus.x86_64, dbus-1.12.28-1.amzn2023.0.1, dbus-1:1.12.28-1.amzn2023.0.1.x86_64 with at most one \"*\" (dbus*, dbus-1.12.2*), Bugzilla IDs (1234567), CVE IDs (CVE-2018-1234567) or advisory IDs (RHSA-2017:0864, ALAS-2018-123); letters, digits and . _ + ~ ^ : - only"

  classifications_yum = ["Security", "Bugfix", "Enhancement", "Recommended", "Newpackage"]

  # Per operating system. severity_key: the filter key the module's `severities` become.
  # product_pattern: the PRODUCT values of that OS (DescribePatchProperties lists them, e.g.
  # AmazonLinux2, AmazonLinux2023, RedhatEnterpriseLinux9, Ubuntu22.04, WindowsServer2022);
  # a Windows APPLICATION rule takes Microsoft application names ("Office 2016") instead.
  # approval_delay: ApproveAfterDays / ApproveUntilDate are supported (not on Ubuntu).
  patch_os_rules = {
    AMAZON_LINUX_2 = {
      filter_keys        = ["PRODUCT", "CLASSIFICATION", "SEVERITY"]
      severity_key       = "SEVERITY"
      classifications    = local.classifications_yum
      severities         = ["Critical", "Important", "Medium", "Low"]
      product_pattern    = "^AmazonLinux2([.][0-9]+)?$"
      products           = "AmazonLinux2, AmazonLinux2.0"
      approval_delay     = true
      non_security       = true
      patch_sets         = []
      patch_name_pattern = local.yum_patch_name_pattern
      patch_name_formats = local.yum_patch_name_formats
    }
    AMAZON_LINUX_2023 = {
      filter_keys        = ["PRODUCT", "CLASSIFICATION", "SEVERITY"]
      severity_key       = "SEVERITY"
      classifications    = local.classifications_yum
      severities         = ["Critical", "Important", "Medium", "Low", "None"]
      product_pattern    = "^AmazonLinux2023([.][0-9]+)*$"
      products           = "AmazonLinux2023"
      approval_delay     = true
      non_security       = true
      patch_sets         = []
      patch_name_pattern = local.yum_patch_name_pattern
      patch_name_formats = local.yum_patch_name_formats
    }
    REDHAT_ENTERPRISE_LINUX = {
      filter_keys        = ["PRODUCT", "CLASSIFICATION", "SEVERITY"]
      severity_key       = "SEVERITY"
      classifications    = local.classifications_yum
      severities         = ["Critical", "Important", "Moderate", "Low"]
      product_pattern    = "^RedhatEnterpriseLinux[0-9]+([.][0-9]+)?$"
      products           = "RedhatEnterpriseLinux8, RedhatEnterpriseLinux9.4"
      approval_delay     = true
      non_security       = true
      patch_sets         = []
      patch_name_pattern = local.yum_patch_name_pattern
      patch_name_formats = local.yum_patch_name_formats
    }
    UBUNTU = {
      filter_keys     = ["PRODUCT", "PRIORITY", "SECTION"]
      severity_key    = "PRIORITY"
      classifications = []
      severities      = ["Required", "Important", "Standard", "Optional", "Extra"]
      product_pattern = "^Ubuntu[0-9]{2}[.][0-9]{2}$"
      products        = "Ubuntu20.04, Ubuntu22.04, Ubuntu24.04"
      approval_delay  = false
      non_security    = true
      patch_sets      = []
      # APT: package names only, "don't include elements such as architecture or versions";
      # no wildcard is documented for APT lists.
      patch_name_pattern = "^[A-Za-z0-9][A-Za-z0-9+.-]*$"
      patch_name_formats = "package names only (ExamplePkg33, openssl), without architecture (:amd64), version (=1.2) or wildcard"
    }
    WINDOWS = {
      filter_keys     = ["PATCH_SET", "PRODUCT", "PRODUCT_FAMILY", "CLASSIFICATION", "MSRC_SEVERITY"]
      severity_key    = "MSRC_SEVERITY"
      classifications = ["CriticalUpdates", "DefinitionUpdates", "Drivers", "FeaturePacks", "SecurityUpdates", "ServicePacks", "Tools", "UpdateRollups", "Updates", "Upgrades"]
      severities      = ["Critical", "Important", "Moderate", "Low", "Unspecified"]
      # DescribeAvailablePatches' PRODUCT sample values for Windows: "WindowsServer2012 |
      # Office 2010 | MicrosoftDefenderAntivirus"
      # (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_DescribeAvailablePatches.html);
      # a patch_set APPLICATION rule takes any 1-64 character application name (variables.tf).
      product_pattern    = "^(Windows[A-Za-z0-9.]+|MicrosoftDefenderAntivirus|Office [0-9]{4})$"
      products           = "WindowsServer2012, WindowsServer2022, Windows11, MicrosoftDefenderAntivirus, \"Office 2010\"; for patch_set APPLICATION any Microsoft application name such as \"Office 2016\""
      approval_delay     = true
      non_security       = false
      patch_sets         = ["OS", "APPLICATION"]
      patch_name_pattern = "^(KB[0-9]+|MS[0-9]{2}-[0-9]{3})$"
      patch_name_formats = "Microsoft Knowledge Base IDs (KB2032276) and Microsoft Security Bulletin IDs (MS10-048), no wildcard"
    }
  }

  # Text for error messages, built from the tables above.
  patch_os_names           = join(", ", sort(keys(local.patch_os_rules)))
  patch_os_classifications = join("; ", [for os, r in local.patch_os_rules : "${os}: ${length(r.classifications) == 0 ? "none (${os} has no CLASSIFICATION filter key)" : join(", ", r.classifications)}"])
  patch_os_severities      = join("; ", [for os, r in local.patch_os_rules : "${os} (${r.severity_key}): ${join(", ", r.severities)}"])
  patch_os_products        = join("; ", [for os, r in local.patch_os_rules : "${os}: ${r.products}"])
  patch_os_patch_names     = join("; ", [for os, r in local.patch_os_rules : "${os}: ${r.patch_name_formats}"])
}
