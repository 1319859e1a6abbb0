mock_provider "aws" {
  mock_data "aws_iam_policy_document" {
    defaults = {
      json = "{\"Version\":\"2012-10-17\",\"Statement\":[]}"
    }
  }
  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }
  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "111111111111"
    }
  }
  mock_data "aws_region" {
    defaults = {
      name = "us-west-2"
    }
  }
  mock_resource "aws_ssm_activation" {
    defaults = {
      id                 = "0b4e7e66-1b7c-4d5e-9f35-2a6c9d0e1f23"
      activation_code    = "AbCdEfGhIjKlMnOpQrSt+/=="
      registration_count = 0
    }
  }
  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::111111111111:role/sec-ssm-hybrid-node"
    }
  }
}

variables {
  name_prefix        = "sec"
  registration_limit = 250
  expiration_date    = timeadd(timestamp(), "240h")
  tags               = { Environment = "test" }
}

run "activation_with_scoped_service_role" {
  command = apply

  assert {
    condition     = aws_ssm_activation.this["default"].registration_limit == 250
    error_message = "registration_limit is passed through"
  }
  assert {
    condition     = aws_ssm_activation.this["default"].iam_role == "sec-ssm-hybrid-node"
    error_message = "the activation uses the module's service role"
  }
  assert {
    condition     = aws_ssm_activation.this["default"].name == "fleetpatch-hybrid-node" && aws_ssm_activation.this["default"].tags["Environment"] == "test"
    error_message = "default instance name and tags are set on the activation"
  }
  assert {
    condition     = length(aws_iam_role_policy_attachment.core) == 0 && length(aws_iam_role_policy.node_core) == 1
    error_message = "least privilege by default: the inline node core policy, not AmazonSSMManagedInstanceCore"
  }
  assert {
    condition     = length(jsondecode(aws_iam_role_policy.node_core[0].policy).Statement) == 1 && jsondecode(aws_iam_role_policy.node_core[0].policy).Statement[0].Effect == "Allow" && toset(jsondecode(aws_iam_role_policy.node_core[0].policy).Statement[0].Action) == toset(["ec2messages:AcknowledgeMessage", "ec2messages:DeleteMessage", "ec2messages:FailMessage", "ec2messages:GetEndpoint", "ec2messages:GetMessages", "ec2messages:SendReply", "ssm:DescribeAssociation", "ssm:GetDeployablePatchSnapshotForInstance", "ssm:GetDocument", "ssm:ListInstanceAssociations", "ssm:PutComplianceItems", "ssm:PutInventory", "ssm:UpdateInstanceAssociationStatus", "ssm:UpdateInstanceInformation", "ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel", "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"])
    error_message = "the service role gets exactly the SSM core actions (no ssm:GetParameter, no s3, no kms)"
  }
  assert {
    condition     = one(data.aws_iam_policy_document.trust.statement[0].principals).identifiers == toset(["ssm.amazonaws.com"])
    error_message = "only ssm.amazonaws.com may assume the role"
  }
  assert {
    condition     = anytrue([for c in data.aws_iam_policy_document.trust.statement[0].condition : c.variable == "aws:SourceAccount" && c.values == tolist(["111111111111"])])
    error_message = "the trust policy is scoped with aws:SourceAccount"
  }
  assert {
    condition     = length(aws_iam_role_policy_attachment.additional) == 0
    error_message = "no further policies unless asked"
  }
}

run "additional_policies_are_attached" {
  command = apply

  variables {
    additional_policy_arns = ["arn:aws:iam::111111111111:policy/fleetpatch-log-writer"]
    role_path              = "/fleetpatch/"
  }

  assert {
    condition     = aws_ssm_activation.this["default"].iam_role == "fleetpatch/sec-ssm-hybrid-node" && aws_iam_role.hybrid.path == "/fleetpatch/"
    error_message = "a role with a path is given to the activation as <path>/<name>"
  }

  assert {
    condition     = aws_iam_role_policy_attachment.additional["arn:aws:iam::111111111111:policy/fleetpatch-log-writer"].role == "sec-ssm-hybrid-node"
    error_message = "additional policies are attached to the service role"
  }
}

run "rejects_bad_name_prefix" {
  command = plan
  variables {
    name_prefix = "Sec_Account"
  }
  expect_failures = [var.name_prefix]
}

run "rejects_registration_limit_above_1000" {
  command = plan
  variables {
    registration_limit = 1001
  }
  expect_failures = [var.registration_limit]
}

run "rejects_non_rfc3339_expiration" {
  command = plan
  variables {
    expiration_date = "24/12/2026"
  }
  expect_failures = [var.expiration_date]
}

run "rejects_expiration_more_than_30_days_ahead" {
  command = plan
  variables {
    expiration_date = timeadd(timestamp(), "744h")
  }
  expect_failures = [var.expiration_date]
}

run "rejects_bad_default_instance_name" {
  command = plan
  variables {
    default_instance_name = "azure vm #1"
  }
  expect_failures = [var.default_instance_name]
}

run "rejects_long_description" {
  command = plan
  variables {
    description = join("", [for i in range(30) : "0123456789"])
  }
  expect_failures = [var.description]
}

run "rejects_bad_role_path" {
  command = plan
  variables {
    role_path = "fleetpatch"
  }
  expect_failures = [var.role_path]
}

run "rejects_bad_permissions_boundary" {
  command = plan
  variables {
    permissions_boundary_arn = "boundary"
  }
  expect_failures = [var.permissions_boundary_arn]
}

run "rejects_bad_additional_policy_arn" {
  command = plan
  variables {
    additional_policy_arns = ["AmazonS3FullAccess"]
  }
  expect_failures = [var.additional_policy_arns]
}

run "one_tagged_activation_per_patch_group_with_rotation" {
  command = apply

  variables {
    expiration_date = null
    patch_groups = {
      azure-linux   = { registration_limit = 500, tags = { "fleetpatch:source" = "azure" } }
      azure-windows = { description = "Windows VMs" }
      onprem        = {}
    }
  }

  assert {
    condition     = keys(aws_ssm_activation.this) == ["azure-linux", "azure-windows", "onprem"]
    error_message = "one activation per patch group, no default one"
  }
  assert {
    condition     = aws_ssm_activation.this["azure-linux"].tags["PatchGroup"] == "azure-linux" && aws_ssm_activation.this["azure-windows"].tags["PatchGroup"] == "azure-windows"
    error_message = "each activation carries its patch group tag, which SSM applies to the registering nodes"
  }
  assert {
    condition     = aws_ssm_activation.this["azure-linux"].tags["Environment"] == "test"
    error_message = "the common tags are kept"
  }
  assert {
    condition     = aws_ssm_activation.this["azure-linux"].tags["fleetpatch:source"] == "azure" && !contains(keys(aws_ssm_activation.this["onprem"].tags), "fleetpatch:source")
    error_message = "a group's own tags (the Azure marker ssm_tag_sync_role requires) are on its activation only"
  }
  assert {
    condition     = aws_ssm_activation.this["azure-linux"].registration_limit == 500 && aws_ssm_activation.this["azure-windows"].registration_limit == 100
    error_message = "registration limit per group, default 100"
  }
  assert {
    condition     = aws_ssm_activation.this["azure-windows"].description == "Windows VMs" && aws_ssm_activation.this["azure-linux"].description == "fleetpatch: hybrid managed nodes of patch group azure-linux"
    error_message = "description per group"
  }
  assert {
    # 30 days after the plan (within an hour of the test's clock).
    condition     = timecmp(aws_ssm_activation.this["azure-linux"].expiration_date, timeadd(timestamp(), "719h")) > 0 && timecmp(aws_ssm_activation.this["azure-linux"].expiration_date, timeadd(timestamp(), "721h")) < 0
    error_message = "with rotation an activation expires validity_days (30) after its creation"
  }
  assert {
    condition     = output.rotation_period == floor(parseint(formatdate("YYYY", timestamp()), 10) * 0 + output.rotation_period) && output.rotation_period > 1450 && terraform_data.rotation[0].output == output.rotation_period
    error_message = "the rotation period is days since the epoch / 14 (> 1450 after 2025)"
  }
  assert {
    condition     = output.activation_id == null && output.activation_codes["azure-linux"] == "AbCdEfGhIjKlMnOpQrSt+/=="
    error_message = "several activations: codes per group, no single activation_id"
  }
}

run "rejects_group_tags_that_override_the_patch_group_key" {
  command = plan
  variables {
    patch_groups = { azure-linux = { tags = { PatchGroup = "other" } } }
  }
  expect_failures = [var.patch_groups]
}

run "the_expiry_is_kept_until_the_rotation_period_changes" {
  command = plan

  variables {
    expiration_date = null
    patch_groups    = { azure-linux = {} }
  }

  assert {
    condition     = terraform_data.expiry["azure-linux"].output == run.one_tagged_activation_per_patch_group_with_rotation.expiration_dates["azure-linux"]
    error_message = "a second plan in the same period keeps the activation's expiry (no replacement, no new code)"
  }
}

run "patch_group_tag_key_with_a_space" {
  command = apply

  variables {
    patch_groups        = { appa = {} }
    patch_group_tag_key = "Patch Group"
  }

  assert {
    condition     = aws_ssm_activation.this["appa"].tags["Patch Group"] == "appa" && aws_ssm_activation.this["appa"].expiration_date == var.expiration_date
    error_message = "the configured patch group key is used; a fixed expiration_date is passed through"
  }
  assert {
    condition     = length(terraform_data.expiry) == 0 && length(terraform_data.rotation) == 0 && output.rotation_period == null
    error_message = "no rotation with a fixed expiration_date"
  }
}

run "warns_when_an_activation_nears_its_registration_limit" {
  command = apply

  variables {
    patch_groups = { azure-linux = { registration_limit = 10 } }
  }

  override_resource {
    target = aws_ssm_activation.this["azure-linux"]
    values = {
      registration_count = 9
    }
  }

  expect_failures = [check.hybrid_activation_capacity]
}

run "warns_when_an_activation_expires_soon" {
  command = apply

  variables {
    patch_groups            = { azure-linux = {} }
    expiration_date         = timeadd(timestamp(), "48h")
    warn_before_expiry_days = 3
  }

  expect_failures = [check.hybrid_activation_capacity]
}

run "no_warning_with_room_left" {
  command = apply

  variables {
    patch_groups            = { azure-web = { registration_limit = 10 } }
    expiration_date         = timeadd(timestamp(), "240h")
    warn_before_expiry_days = 3
  }

  override_resource {
    target = aws_ssm_activation.this["azure-web"]
    values = {
      registration_count = 8
    }
  }

  assert {
    condition     = aws_ssm_activation.this["azure-web"].registration_count == 8
    error_message = "8 of 10 is below the 90% warning"
  }
}

run "rejects_bad_patch_group_name" {
  command = plan
  variables {
    patch_groups = { "azure linux" = {} }
  }
  expect_failures = [var.patch_groups]
}

run "rejects_patch_group_registration_limit_above_1000" {
  command = plan
  variables {
    patch_groups = { azure-linux = { registration_limit = 1001 } }
  }
  expect_failures = [var.patch_groups]
}

run "rejects_long_patch_group_description" {
  command = plan
  variables {
    patch_groups = { azure-linux = { description = join("", [for i in range(30) : "0123456789"]) } }
  }
  expect_failures = [var.patch_groups]
}

run "rejects_unknown_patch_group_tag_key" {
  command = plan
  variables {
    patch_group_tag_key = "patchgroup"
  }
  expect_failures = [var.patch_group_tag_key]
}

run "rejects_validity_above_30_days" {
  command = plan
  variables {
    validity_days = 31
  }
  expect_failures = [var.validity_days]
}

run "rejects_rotation_longer_than_half_the_validity" {
  command = plan
  variables {
    rotate_after_days = 16
  }
  expect_failures = [var.rotate_after_days]
}

run "rejects_warning_window_above_30_days" {
  command = plan
  variables {
    warn_before_expiry_days = 31
  }
  expect_failures = [var.warn_before_expiry_days]
}

run "rejects_warning_percent_0" {
  command = plan
  variables {
    warn_registration_percent = 0
  }
  expect_failures = [var.warn_registration_percent]
}

run "aws_managed_node_policy_is_an_opt_in" {
  command = apply

  variables {
    node_policy = "aws_managed"
  }

  assert {
    condition     = length(aws_iam_role_policy.node_core) == 0 && aws_iam_role_policy_attachment.core[0].policy_arn == "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
    error_message = "node_policy = aws_managed attaches AmazonSSMManagedInstanceCore with a partition-aware ARN"
  }
}

run "rejects_unknown_node_policy" {
  command = plan
  variables {
    node_policy = "AmazonSSMManagedInstanceCore"
  }
  expect_failures = [var.node_policy]
}
