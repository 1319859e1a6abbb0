mock_provider "aws" {
  mock_resource "aws_ssm_patch_baseline" {
    override_during = plan
    defaults = {
      id  = "pb-0123456789abcdef0"
      arn = "arn:aws:ssm:us-west-2:111111111111:patchbaseline/pb-0123456789abcdef0"
    }
  }
  mock_resource "aws_resourcegroups_group" {
    override_during = plan
    defaults = {
      arn = "arn:aws:resource-groups:us-west-2:111111111111:group/mock"
    }
  }
}

variables {
  name_prefix = "ss-oregon"
  tags        = { Environment = "test" }
  patch_groups = {
    linux = {
      operating_system = "AMAZON_LINUX_2023"
      approval_rules = [{
        approve_after_days = 7
        compliance_level   = "HIGH"
        classifications    = ["Security", "Bugfix"]
        severities         = ["Critical", "Important"]
        products           = ["AmazonLinux2023"]
      }]
    }
    windows = {
      operating_system = "WINDOWS"
      approval_rules = [
        {
          approve_after_days = 3
          compliance_level   = "CRITICAL"
          classifications    = ["CriticalUpdates", "SecurityUpdates"]
          severities         = ["Critical", "Important"]
          products           = ["WindowsServer2022"]
          patch_set          = "OS"
        },
        {
          approve_after_days = 14
          classifications    = ["Updates"]
        },
      ]
      rejected_patches = ["KB5034441"]
    }
    appa = {
      operating_system = "REDHAT_ENTERPRISE_LINUX"
      description      = "AppA application servers"
      approval_rules = [{
        approve_until_date  = "2026-12-31"
        compliance_level    = "MEDIUM"
        severities          = ["Critical", "Moderate"]
        enable_non_security = true
      }]
      approved_patches                  = ["openssl-3.0.7-27.el9"]
      approved_patches_compliance_level = "HIGH"
      rejected_patches                  = ["kernel-5.14.0-70*"]
      rejected_patches_action           = "BLOCK"
    }
  }
}

run "baselines_groups_and_resource_groups_from_one_map" {
  command = plan

  assert {
    condition     = length(aws_ssm_patch_baseline.this) == 3 && length(aws_ssm_patch_group.this) == 3 && length(aws_resourcegroups_group.this) == 3
    error_message = "one baseline, one patch group registration and one Resource Group per patch group"
  }
  assert {
    condition     = aws_ssm_patch_baseline.this["linux"].name == "ss-oregon-linux" && aws_ssm_patch_baseline.this["linux"].operating_system == "AMAZON_LINUX_2023"
    error_message = "baseline names take the prefix and the OS is passed through"
  }
  assert {
    condition     = aws_ssm_patch_group.this["appa"].patch_group == "appa" && aws_ssm_patch_group.this["appa"].baseline_id == "pb-0123456789abcdef0"
    error_message = "each baseline is registered to its patch group"
  }
  assert {
    condition     = aws_ssm_patch_baseline.this["linux"].approval_rule[0].approve_after_days == 7 && aws_ssm_patch_baseline.this["linux"].approval_rule[0].compliance_level == "HIGH"
    error_message = "approve_after_days and compliance level are set on the rule"
  }
  assert {
    condition = (
      { for f in aws_ssm_patch_baseline.this["linux"].approval_rule[0].patch_filter : f.key => f.values } ==
      { PRODUCT = tolist(["AmazonLinux2023"]), CLASSIFICATION = tolist(["Security", "Bugfix"]), SEVERITY = tolist(["Critical", "Important"]) }
    )
    error_message = "Linux rules filter on PRODUCT, CLASSIFICATION and SEVERITY"
  }
  assert {
    condition = (
      { for f in aws_ssm_patch_baseline.this["windows"].approval_rule[0].patch_filter : f.key => f.values } ==
      { PRODUCT = tolist(["WindowsServer2022"]), CLASSIFICATION = tolist(["CriticalUpdates", "SecurityUpdates"]), MSRC_SEVERITY = tolist(["Critical", "Important"]), PATCH_SET = tolist(["OS"]) }
    )
    error_message = "Windows severities become MSRC_SEVERITY and patch_set a PATCH_SET filter"
  }
  assert {
    condition     = length(aws_ssm_patch_baseline.this["windows"].approval_rule) == 2 && aws_ssm_patch_baseline.this["windows"].approval_rule[1].patch_filter[0].key == "PRODUCT" && aws_ssm_patch_baseline.this["windows"].approval_rule[1].patch_filter[0].values == tolist(["*"])
    error_message = "several rules per baseline; products default to *"
  }
  assert {
    condition     = aws_ssm_patch_baseline.this["appa"].approval_rule[0].approve_until_date == "2026-12-31" && aws_ssm_patch_baseline.this["appa"].approval_rule[0].approve_after_days == null
    error_message = "approve_until_date is used instead of approve_after_days"
  }
  assert {
    condition     = aws_ssm_patch_baseline.this["appa"].approval_rule[0].enable_non_security == true && aws_ssm_patch_baseline.this["windows"].approval_rule[0].enable_non_security == null
    error_message = "enable_non_security is set for Linux and left out for Windows"
  }
  assert {
    condition = (
      aws_ssm_patch_baseline.this["appa"].approved_patches == toset(["openssl-3.0.7-27.el9"]) &&
      aws_ssm_patch_baseline.this["appa"].approved_patches_compliance_level == "HIGH" &&
      aws_ssm_patch_baseline.this["appa"].rejected_patches == toset(["kernel-5.14.0-70*"]) &&
      aws_ssm_patch_baseline.this["appa"].rejected_patches_action == "BLOCK"
    )
    error_message = "approved and rejected patch lists are passed through"
  }
  assert {
    condition     = aws_ssm_patch_baseline.this["appa"].description == "AppA application servers"
    error_message = "the given description is used"
  }
  assert {
    condition = jsondecode(one(aws_resourcegroups_group.this["windows"].resource_query).query) == {
      ResourceTypeFilters = ["AWS::EC2::Instance"]
      TagFilters          = [{ Key = "PatchGroup", Values = ["windows"] }]
    }
    error_message = "Resource Groups select instances by the PatchGroup tag"
  }
  assert {
    condition     = aws_resourcegroups_group.this["linux"].name == "ss-oregon-linux" && aws_resourcegroups_group.this["linux"].tags["Environment"] == "test"
    error_message = "Resource Group names take the prefix; tags are applied"
  }
  assert {
    condition     = alltrue([for g in aws_resourcegroups_group.this : can(regex("^[\\sa-zA-Z0-9_.-]*$", g.description))])
    error_message = "Resource Group descriptions use only the characters AWS allows ([\\sa-zA-Z0-9_.-])"
  }
  assert {
    condition     = aws_ssm_patch_baseline.this["linux"].tags["PatchGroup"] == "linux" && aws_ssm_patch_baseline.this["linux"].tags["Environment"] == "test"
    error_message = "baselines carry the tags and their patch group tag"
  }
  assert {
    condition     = output.patch_group_names == tolist(["appa", "linux", "windows"]) && output.resource_group_arns["appa"] == "arn:aws:resource-groups:us-west-2:111111111111:group/mock"
    error_message = "outputs expose patch group names and Resource Group ARNs"
  }
}

run "ubuntu_priorities_and_spaced_tag_key" {
  command = plan

  variables {
    patch_group_tag_key           = "Patch Group"
    create_resource_groups        = false
    resource_group_resource_types = ["AWS::EC2::Instance", "AWS::SSM::ManagedInstance"]
    patch_groups = {
      ubuntu = {
        operating_system = "UBUNTU"
        approval_rules = [{
          approve_after_days = 0
          severities         = ["Required", "Important"]
        }]
      }
      al2 = {
        operating_system = "AMAZON_LINUX_2"
        approved_patches = ["kernel"]
      }
    }
  }

  assert {
    condition     = { for f in aws_ssm_patch_baseline.this["ubuntu"].approval_rule[0].patch_filter : f.key => f.values } == { PRODUCT = tolist(["*"]), PRIORITY = tolist(["Required", "Important"]) }
    error_message = "Ubuntu severities become a PRIORITY filter"
  }
  assert {
    condition     = aws_ssm_patch_baseline.this["ubuntu"].approval_rule[0].approve_after_days == 0
    error_message = "approve_after_days = 0 approves at once"
  }
  assert {
    condition     = length(aws_ssm_patch_baseline.this["al2"].approval_rule) == 0 && aws_ssm_patch_baseline.this["al2"].approved_patches == toset(["kernel"])
    error_message = "a baseline may hold only an approved patch list"
  }
  assert {
    condition     = length(aws_resourcegroups_group.this) == 0 && output.resource_group_arns == {}
    error_message = "no Resource Groups when create_resource_groups = false"
  }
  assert {
    condition     = aws_ssm_patch_baseline.this["ubuntu"].tags["Patch Group"] == "ubuntu" && output.patch_group_tag_key == "Patch Group"
    error_message = "the spaced tag key is used when chosen"
  }
}

run "rejects_name_prefix_starting_with_aws" {
  command = plan
  variables {
    name_prefix = "aws-fleet"
  }
  expect_failures = [var.name_prefix]
}

run "rejects_patch_group_name_with_space" {
  command = plan
  variables {
    patch_groups = {
      "app a" = { operating_system = "WINDOWS", approval_rules = [{ approve_after_days = 7 }] }
    }
  }
  expect_failures = [var.patch_groups]
}

run "rejects_unknown_operating_system" {
  command = plan
  variables {
    patch_groups = {
      linux = { operating_system = "CENTOS_6", approval_rules = [{ approve_after_days = 7 }] }
    }
  }
  expect_failures = [var.patch_groups]
}

run "rejects_group_without_rules_or_approved_patches" {
  command = plan
  variables {
    patch_groups = {
      linux = { operating_system = "AMAZON_LINUX_2023" }
    }
  }
  expect_failures = [var.patch_groups]
}

run "rejects_both_approve_after_days_and_until_date" {
  command = plan
  variables {
    patch_groups = {
      linux = { operating_system = "AMAZON_LINUX_2023", approval_rules = [{ approve_after_days = 7, approve_until_date = "2026-12-31" }] }
    }
  }
  expect_failures = [var.patch_groups]
}

run "rejects_approve_after_days_above_360" {
  command = plan
  variables {
    patch_groups = {
      linux = { operating_system = "AMAZON_LINUX_2023", approval_rules = [{ approve_after_days = 361 }] }
    }
  }
  expect_failures = [var.patch_groups]
}

run "rejects_bad_approve_until_date" {
  command = plan
  variables {
    patch_groups = {
      linux = { operating_system = "AMAZON_LINUX_2023", approval_rules = [{ approve_until_date = "31/12/2026" }] }
    }
  }
  expect_failures = [var.patch_groups]
}

run "rejects_windows_classification_on_linux" {
  command = plan
  variables {
    patch_groups = {
      linux = { operating_system = "AMAZON_LINUX_2", approval_rules = [{ approve_after_days = 7, classifications = ["SecurityUpdates"] }] }
    }
  }
  expect_failures = [var.patch_groups]
}

run "rejects_amazon_linux_severity_on_rhel" {
  command = plan
  variables {
    patch_groups = {
      appa = { operating_system = "REDHAT_ENTERPRISE_LINUX", approval_rules = [{ approve_after_days = 7, severities = ["Medium"] }] }
    }
  }
  expect_failures = [var.patch_groups]
}

run "rejects_bad_compliance_level" {
  command = plan
  variables {
    patch_groups = {
      linux = { operating_system = "AMAZON_LINUX_2023", approval_rules = [{ approve_after_days = 7, compliance_level = "SEVERE" }] }
    }
  }
  expect_failures = [var.patch_groups]
}

run "rejects_patch_set_on_linux" {
  command = plan
  variables {
    patch_groups = {
      linux = { operating_system = "AMAZON_LINUX_2023", approval_rules = [{ approve_after_days = 7, patch_set = "OS" }] }
    }
  }
  expect_failures = [var.patch_groups]
}

run "rejects_enable_non_security_on_windows" {
  command = plan
  variables {
    patch_groups = {
      windows = { operating_system = "WINDOWS", approval_rules = [{ approve_after_days = 7, enable_non_security = true }] }
    }
  }
  expect_failures = [var.patch_groups]
}

run "rejects_empty_products" {
  command = plan
  variables {
    patch_groups = {
      windows = { operating_system = "WINDOWS", approval_rules = [{ approve_after_days = 7, products = [] }] }
    }
  }
  expect_failures = [var.patch_groups]
}

run "rejects_more_than_50_rejected_patches" {
  command = plan
  variables {
    patch_groups = {
      windows = { operating_system = "WINDOWS", approval_rules = [{ approve_after_days = 7 }], rejected_patches = [for i in range(51) : "KB50000${i}"] }
    }
  }
  expect_failures = [var.patch_groups]
}

run "rejects_bad_rejected_patches_action" {
  command = plan
  variables {
    patch_groups = {
      windows = { operating_system = "WINDOWS", approval_rules = [{ approve_after_days = 7 }], rejected_patches_action = "DENY" }
    }
  }
  expect_failures = [var.patch_groups]
}

run "rejects_unknown_patch_group_tag_key" {
  command = plan
  variables {
    patch_group_tag_key = "patch-group"
  }
  expect_failures = [var.patch_group_tag_key]
}

run "rejects_unknown_resource_type" {
  command = plan
  variables {
    resource_group_resource_types = ["AWS::EC2::Volume"]
  }
  expect_failures = [var.resource_group_resource_types]
}

# --- Every value form AWS documents is accepted (rules.tf cites the pages) ---------------------
run "accepts_the_documented_forms_of_every_os" {
  command = plan

  variables {
    patch_groups = {
      al2 = {
        operating_system = "AMAZON_LINUX_2"
        approval_rules = [
          { approve_after_days = 360, classifications = ["*"], severities = ["*"], products = ["AmazonLinux2", "AmazonLinux2.0"] },
          { approve_until_date = "2024-02-29", classifications = ["Security", "Bugfix", "Enhancement", "Recommended", "Newpackage"], severities = ["Critical", "Important", "Medium", "Low"] },
        ]
        # Package name formats: Bugzilla, CVE and advisory IDs, name constructions, one wildcard.
        approved_patches = ["1234567", "CVE-2018-1234567", "RHSA-2017:0864", "ALAS-2018-123", "ALAS2023-2025-123", "dbus", "dbus.x86_64", "dbus-1.12.28-1.amzn2023.0.1", "dbus-1:1.12.28-1.amzn2023.0.1.x86_64", "dbus.x86_64:1:1.12.28-1.amzn2023.0.1", "1:1.12.28-1.amzn2023.0.1"]
        rejected_patches = ["dbus*", "dbus-1.12.2*", "dbus-*:1.12.28-1.amzn2023.0.1.x86_64", "*-debuginfo"]
      }
      al2023 = {
        operating_system = "AMAZON_LINUX_2023"
        # 10 rules (the PatchRuleGroup maximum), one with 20 values of 64 characters.
        approval_rules = concat(
          [{ approve_after_days = 0, severities = ["None"], products = ["AmazonLinux2023"] }],
          [{ approve_after_days = 1, products = [for i in range(20) : format("AmazonLinux2023.%048d", i)] }],
          [for d in range(8) : { approve_after_days = d + 2 }],
        )
        approved_patches_enable_non_security = true
      }
      rhel = {
        operating_system = "REDHAT_ENTERPRISE_LINUX"
        approval_rules   = [{ approve_after_days = 7, severities = ["Critical", "Important", "Moderate", "Low"], products = ["RedhatEnterpriseLinux8", "RedhatEnterpriseLinux9.4"] }]
        approved_patches = [for i in range(50) : "pkg${i}"]
      }
      ubuntu = {
        operating_system = "UBUNTU"
        approval_rules   = [{ approve_after_days = 0, severities = ["Required", "Important", "Standard", "Optional", "Extra"], products = ["Ubuntu22.04", "Ubuntu24.04"] }]
        approved_patches = ["ExamplePkg33", "libssl3", "g++-12"]
        rejected_patches = ["openssl"]
      }
      windows = {
        operating_system = "WINDOWS"
        approval_rules = [
          { approve_after_days = 7, classifications = ["CriticalUpdates", "DefinitionUpdates", "Drivers", "FeaturePacks", "SecurityUpdates", "ServicePacks", "Tools", "UpdateRollups", "Updates", "Upgrades"], severities = ["Critical", "Important", "Moderate", "Low", "Unspecified"], products = ["WindowsServer2012R2", "WindowsServer2022", "Windows11", "Windows8.1"], patch_set = "OS" },
          { approve_until_date = "2026-12-31", products = ["Office 2016", "Microsoft Defender Antivirus"], patch_set = "APPLICATION" },
          # DescribeAvailablePatches' documented PRODUCT samples, without patch_set and as APPLICATION
          { approve_after_days = 3, products = ["WindowsServer2012", "Office 2010", "MicrosoftDefenderAntivirus"] },
          { approve_after_days = 3, products = ["Office 2010", "MicrosoftDefenderAntivirus"], patch_set = "APPLICATION" },
          { approve_after_days = 3, products = ["*"], patch_set = "APPLICATION" },
        ]
        approved_patches                  = ["KB2032276", "KB2124261", "MS10-048"]
        approved_patches_compliance_level = "INFORMATIONAL"
      }
    }
  }

  assert {
    condition     = length(aws_ssm_patch_baseline.this) == 5 && length(aws_ssm_patch_baseline.this["al2023"].approval_rule) == 10
    error_message = "every documented form plans, up to 10 rules per baseline"
  }
  assert {
    condition     = alltrue(flatten([for b in aws_ssm_patch_baseline.this : [for r in b.approval_rule : length(r.patch_filter) <= 4]])) && length(aws_ssm_patch_baseline.this["windows"].approval_rule[0].patch_filter) == 4
    error_message = "a rule builds at most 4 filters (PatchFilterGroup's maximum), each key once"
  }
  assert {
    condition     = [for f in aws_ssm_patch_baseline.this["ubuntu"].approval_rule[0].patch_filter : f.key] == ["PRODUCT", "PRIORITY"] && [for f in aws_ssm_patch_baseline.this["al2"].approval_rule[0].patch_filter : f.key] == ["PRODUCT", "CLASSIFICATION", "SEVERITY"]
    error_message = "severities become the OS's filter key (PRIORITY for Ubuntu, SEVERITY for Linux)"
  }
}

# --- Each run below breaks exactly one rule of a valid input ----------------------------------
run "rejects_negative_approve_after_days" {
  command = plan
  variables {
    patch_groups = {
      linux = { operating_system = "AMAZON_LINUX_2023", approval_rules = [{ approve_after_days = -1 }] }
    }
  }
  expect_failures = [var.patch_groups]
}

run "rejects_fractional_approve_after_days" {
  command = plan
  variables {
    patch_groups = {
      linux = { operating_system = "AMAZON_LINUX_2023", approval_rules = [{ approve_after_days = 7.5 }] }
    }
  }
  expect_failures = [var.patch_groups]
}

run "rejects_rule_without_approve_after_days_or_until_date" {
  command = plan
  variables {
    patch_groups = {
      linux = { operating_system = "AMAZON_LINUX_2023", approval_rules = [{ compliance_level = "HIGH" }] }
    }
  }
  expect_failures = [var.patch_groups]
}

run "rejects_impossible_approve_until_date" {
  command = plan
  variables {
    patch_groups = {
      linux = { operating_system = "AMAZON_LINUX_2023", approval_rules = [{ approve_until_date = "2026-02-30" }] }
    }
  }
  expect_failures = [var.patch_groups]
}

run "rejects_approval_delay_on_ubuntu" {
  command = plan
  variables {
    patch_groups = {
      ubuntu = { operating_system = "UBUNTU", approval_rules = [{ approve_after_days = 7, severities = ["Required"] }] }
    }
  }
  expect_failures = [var.patch_groups]
}

run "rejects_classification_key_on_ubuntu" {
  command = plan
  variables {
    patch_groups = {
      ubuntu = { operating_system = "UBUNTU", approval_rules = [{ approve_after_days = 0, classifications = ["Security"] }] }
    }
  }
  expect_failures = [var.patch_groups]
}

run "rejects_amazon_linux_2023_severity_on_amazon_linux_2" {
  command = plan
  variables {
    patch_groups = {
      al2 = { operating_system = "AMAZON_LINUX_2", approval_rules = [{ approve_after_days = 7, severities = ["None"] }] }
    }
  }
  expect_failures = [var.patch_groups]
}

run "rejects_product_of_another_os" {
  command = plan
  variables {
    patch_groups = {
      al2 = { operating_system = "AMAZON_LINUX_2", approval_rules = [{ approve_after_days = 7, products = ["AmazonLinux2023"] }] }
    }
  }
  expect_failures = [var.patch_groups]
}

run "rejects_partial_wildcard" {
  command = plan
  variables {
    patch_groups = {
      linux = { operating_system = "AMAZON_LINUX_2023", approval_rules = [{ approve_after_days = 7, products = ["AmazonLinux2023*"] }] }
    }
  }
  expect_failures = [var.patch_groups]
}

run "rejects_wildcard_combined_with_values" {
  command = plan
  variables {
    patch_groups = {
      windows = { operating_system = "WINDOWS", approval_rules = [{ approve_after_days = 7, classifications = ["*", "SecurityUpdates"] }] }
    }
  }
  expect_failures = [var.patch_groups]
}

run "rejects_more_than_20_filter_values" {
  command = plan
  variables {
    patch_groups = {
      windows = { operating_system = "WINDOWS", approval_rules = [{ approve_after_days = 7, patch_set = "APPLICATION", products = [for i in range(21) : "Office app ${i}"] }] }
    }
  }
  expect_failures = [var.patch_groups]
}

run "rejects_filter_value_over_64_characters" {
  command = plan
  variables {
    patch_groups = {
      windows = { operating_system = "WINDOWS", approval_rules = [{ approve_after_days = 7, patch_set = "APPLICATION", products = [format("Office %058d", 0)] }] }
    }
  }
  expect_failures = [var.patch_groups]
}

run "rejects_more_than_10_rules" {
  command = plan
  variables {
    patch_groups = {
      linux = { operating_system = "AMAZON_LINUX_2023", approval_rules = [for d in range(11) : { approve_after_days = d }] }
    }
  }
  expect_failures = [var.patch_groups]
}

run "rejects_bad_approved_patches_compliance_level" {
  command = plan
  variables {
    patch_groups = {
      linux = { operating_system = "AMAZON_LINUX_2023", approved_patches = ["kernel"], approved_patches_compliance_level = "URGENT" }
    }
  }
  expect_failures = [var.patch_groups]
}

run "rejects_cve_id_in_windows_patch_list" {
  command = plan
  variables {
    patch_groups = {
      windows = { operating_system = "WINDOWS", approval_rules = [{ approve_after_days = 7 }], approved_patches = ["CVE-2024-1086"] }
    }
  }
  expect_failures = [var.patch_groups]
}

run "rejects_linux_patch_name_with_two_wildcards" {
  command = plan
  variables {
    patch_groups = {
      linux = { operating_system = "AMAZON_LINUX_2023", approval_rules = [{ approve_after_days = 7 }], rejected_patches = ["kernel-*.amzn2023.*"] }
    }
  }
  expect_failures = [var.patch_groups]
}

run "rejects_ubuntu_patch_name_with_architecture" {
  command = plan
  variables {
    patch_groups = {
      ubuntu = { operating_system = "UBUNTU", approval_rules = [{ approve_after_days = 0 }], rejected_patches = ["openssl:amd64"] }
    }
  }
  expect_failures = [var.patch_groups]
}
