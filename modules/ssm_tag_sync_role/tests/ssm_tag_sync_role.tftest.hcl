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
  mock_data "aws_region" {
    defaults = {
      name = "us-east-1"
    }
  }
  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "333333333333"
    }
  }
  mock_resource "aws_iam_openid_connect_provider" {
    defaults = {
      arn = "arn:aws:iam::333333333333:oidc-provider/sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/"
    }
  }
  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::333333333333:role/sec-virginia-ssm-tag-sync"
    }
  }
}

variables {
  name_prefix                    = "sec-virginia"
  tenant_id                      = "72F988BF-86F1-41AF-91AB-2D7CD011DB47"
  managed_identity_principal_ids = ["0b4e7e66-1b7c-4d5e-9f35-2a6c9d0e1f23", "9A0C4A2B-1111-4D5E-9F35-2A6C9D0E1F24"]
  tag_key                        = "PatchGroup"
}

run "trust_is_the_tenant_issuer_the_audience_and_the_given_identities_only" {
  command = plan

  assert {
    condition     = aws_iam_openid_connect_provider.entra.url == "https://sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/"
    error_message = "the provider is the tenant's v1 token issuer (lower-case tenant id, trailing slash)"
  }
  assert {
    condition     = aws_iam_openid_connect_provider.entra.client_id_list == toset(["api://AzureADTokenExchange"])
    error_message = "the provider's client id is the default audience"
  }
  assert {
    condition     = jsondecode(aws_iam_role.tag_sync.assume_role_policy).Statement[0].Action == "sts:AssumeRoleWithWebIdentity" && length(jsondecode(aws_iam_role.tag_sync.assume_role_policy).Statement) == 1
    error_message = "one statement, AssumeRoleWithWebIdentity only"
  }
  assert {
    condition     = jsondecode(aws_iam_role.tag_sync.assume_role_policy).Statement[0].Principal.Federated == "arn:aws:iam::333333333333:oidc-provider/sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/"
    error_message = "only the tenant's OIDC provider is trusted"
  }
  assert {
    condition     = jsondecode(aws_iam_role.tag_sync.assume_role_policy).Statement[0].Condition.StringEquals["sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/:aud"] == "api://AzureADTokenExchange"
    error_message = "the audience is pinned with <issuer>:aud"
  }
  assert {
    condition     = jsondecode(aws_iam_role.tag_sync.assume_role_policy).Statement[0].Condition.StringEquals["sts.windows.net/72f988bf-86f1-41af-91ab-2d7cd011db47/:sub"] == ["0b4e7e66-1b7c-4d5e-9f35-2a6c9d0e1f23", "9a0c4a2b-1111-4d5e-9f35-2a6c9d0e1f24"]
    error_message = "only the given managed identities' object ids (lower-cased) may assume the role"
  }
  assert {
    condition     = aws_iam_role.tag_sync.name == "sec-virginia-ssm-tag-sync" && aws_iam_role.tag_sync.max_session_duration == 3600
    error_message = "role name and session duration"
  }
}

run "policy_allows_only_listing_and_the_one_tag_key" {
  command = plan

  assert {
    condition     = [for s in jsondecode(aws_iam_role_policy.tag_sync.policy).Statement : s.Action] == ["ssm:DescribeInstanceInformation", "ssm:ListTagsForResource", "ssm:AddTagsToResource"]
    error_message = "exactly DescribeInstanceInformation, ListTagsForResource and AddTagsToResource (no RemoveTagsFromResource)"
  }
  assert {
    condition     = alltrue([for s in jsondecode(aws_iam_role_policy.tag_sync.policy).Statement : s.Effect == "Allow" && (s.Action == "ssm:DescribeInstanceInformation" ? s.Resource == "*" : s.Resource == ["arn:aws:ssm:us-east-1:333333333333:managed-instance/*"])])
    error_message = "tag actions are limited to this account's managed instances in the provider's Region (never ssm:*)"
  }
  assert {
    condition     = alltrue([for s in jsondecode(aws_iam_role_policy.tag_sync.policy).Statement : s.Action == "ssm:DescribeInstanceInformation" ? !can(s.Condition) : s.Condition.StringEquals["aws:ResourceTag/fleetpatch:source"] == "azure"])
    error_message = "ListTagsForResource and AddTagsToResource only on nodes carrying the Azure activations' marker tag"
  }
  assert {
    condition     = jsondecode(aws_iam_role_policy.tag_sync.policy).Statement[2].Condition["ForAllValues:StringEquals"]["aws:TagKeys"] == ["PatchGroup"]
    error_message = "AddTagsToResource only with the configured key"
  }
  assert {
    condition     = jsondecode(aws_iam_role_policy.tag_sync.policy).Statement[2].Condition["Null"]["aws:TagKeys"] == "false"
    error_message = "a request without tag keys does not pass the ForAllValues condition vacuously"
  }
  assert {
    condition     = output.role_policy_json == aws_iam_role_policy.tag_sync.policy
    error_message = "the policy output is the attached policy"
  }
}

run "v2_tokens_use_the_v2_issuer_and_a_custom_audience" {
  command = plan

  variables {
    token_version = "v2"
    audience      = "api://fleetpatch-ssm-tag-sync"
    tag_key       = "Patch Group"
  }

  assert {
    condition     = aws_iam_openid_connect_provider.entra.url == "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0"
    error_message = "v2 tokens are issued by login.microsoftonline.com/<tenant>/v2.0"
  }
  assert {
    condition     = jsondecode(aws_iam_role.tag_sync.assume_role_policy).Statement[0].Condition.StringEquals["login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/v2.0:aud"] == "api://fleetpatch-ssm-tag-sync"
    error_message = "the condition keys follow the issuer"
  }
  assert {
    condition     = jsondecode(aws_iam_role_policy.tag_sync.policy).Statement[2].Condition["ForAllValues:StringEquals"]["aws:TagKeys"] == ["Patch Group"]
    error_message = "the tag key is used with its exact (case-sensitive) spelling"
  }
}

run "regions_and_marker_are_pinned_as_given" {
  command = plan

  variables {
    regions    = ["eu-west-1", "eu-central-1"]
    source_tag = { key = "origin", value = "azure-prod" }
  }

  assert {
    condition     = jsondecode(aws_iam_role_policy.tag_sync.policy).Statement[2].Resource == ["arn:aws:ssm:eu-west-1:333333333333:managed-instance/*", "arn:aws:ssm:eu-central-1:333333333333:managed-instance/*"]
    error_message = "one managed-instance ARN per reconciler Region"
  }
  assert {
    condition     = jsondecode(aws_iam_role_policy.tag_sync.policy).Statement[1].Condition.StringEquals == { "aws:ResourceTag/origin" = "azure-prod" } && jsondecode(aws_iam_role_policy.tag_sync.policy).Statement[2].Condition.StringEquals == { "aws:ResourceTag/origin" = "azure-prod" }
    error_message = "the marker tag condition follows source_tag"
  }
}

run "rejects_marker_equal_to_the_writable_key" {
  command = plan
  variables {
    source_tag = { key = "PatchGroup", value = "azure" }
  }
  expect_failures = [var.source_tag]
}

run "rejects_bad_region" {
  command = plan
  variables {
    regions = ["*"]
  }
  expect_failures = [var.regions]
}

run "rejects_bad_name_prefix" {
  command = plan
  variables {
    name_prefix = "Sec_Virginia"
  }
  expect_failures = [var.name_prefix]
}

run "rejects_tenant_that_is_not_a_guid" {
  command = plan
  variables {
    tenant_id = "contoso.onmicrosoft.com"
  }
  expect_failures = [var.tenant_id]
}

run "rejects_unknown_token_version" {
  command = plan
  variables {
    token_version = "v3"
  }
  expect_failures = [var.token_version]
}

run "rejects_principal_that_is_not_a_guid" {
  command = plan
  variables {
    managed_identity_principal_ids = ["fleetpatch-func"]
  }
  expect_failures = [var.managed_identity_principal_ids]
}

run "rejects_no_principal" {
  command = plan
  variables {
    managed_identity_principal_ids = []
  }
  expect_failures = [var.managed_identity_principal_ids]
}

run "rejects_duplicate_principals" {
  command = plan
  variables {
    managed_identity_principal_ids = ["0b4e7e66-1b7c-4d5e-9f35-2a6c9d0e1f23", "0B4E7E66-1B7C-4D5E-9F35-2A6C9D0E1F23"]
  }
  expect_failures = [var.managed_identity_principal_ids]
}

run "rejects_audience_with_spaces" {
  command = plan
  variables {
    audience = "api://fleet patch"
  }
  expect_failures = [var.audience]
}

run "rejects_aws_prefixed_tag_key" {
  command = plan
  variables {
    tag_key = "aws:PatchGroup"
  }
  expect_failures = [var.tag_key]
}

run "rejects_tag_key_with_bad_characters" {
  command = plan
  variables {
    tag_key = "Patch#Group"
  }
  expect_failures = [var.tag_key]
}

run "rejects_short_session" {
  command = plan
  variables {
    max_session_duration = 900
  }
  expect_failures = [var.max_session_duration]
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

run "rejects_aws_prefixed_tags" {
  command = plan
  variables {
    tags = { "aws:owner" = "x" }
  }
  expect_failures = [var.tags]
}
