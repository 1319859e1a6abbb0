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
  command = plan

  assert {
    condition     = aws_ssm_activation.this.registration_limit == 250
    error_message = "registration_limit is passed through"
  }
  assert {
    condition     = aws_ssm_activation.this.iam_role == "sec-ssm-hybrid-node"
    error_message = "the activation uses the module's service role"
  }
  assert {
    condition     = aws_ssm_activation.this.name == "fleetpatch-hybrid-node" && aws_ssm_activation.this.tags["Environment"] == "test"
    error_message = "default instance name and tags are set on the activation"
  }
  assert {
    condition     = aws_iam_role_policy_attachment.core.policy_arn == "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
    error_message = "AmazonSSMManagedInstanceCore is attached with a partition-aware ARN"
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
  command = plan

  variables {
    additional_policy_arns = ["arn:aws:iam::111111111111:policy/fleetpatch-log-writer"]
    role_path              = "/fleetpatch/"
  }

  assert {
    condition     = aws_ssm_activation.this.iam_role == "fleetpatch/sec-ssm-hybrid-node" && aws_iam_role.hybrid.path == "/fleetpatch/"
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
