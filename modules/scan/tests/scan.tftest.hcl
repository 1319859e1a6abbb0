mock_provider "aws" {
  # Computed attributes (the role ARN in the EventBridge input) get their mock values at plan.
  override_during = plan

  mock_data "aws_partition" {
    defaults = {
      partition = "aws"
    }
  }
  mock_data "aws_region" {
    defaults = {
      name = "eu-west-2"
    }
  }
  mock_data "aws_caller_identity" {
    defaults = {
      account_id = "222222222222"
    }
  }
  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::222222222222:role/tc-london-patch-scan-automation"
    }
  }
}

variables {
  name_prefix           = "tc-london"
  patch_groups          = ["Linux", "Windows"]
  output_s3_bucket_name = "tc-london-patch-baseline-logs"
  tags                  = { Environment = "test" }
}

run "registers_the_scan_document_and_a_weekly_schedule_per_patch_group" {
  command = plan

  assert {
    condition     = aws_ssm_document.scan.name == "tc-london-PatchScan" && aws_ssm_document.scan.document_type == "Automation" && aws_ssm_document.scan.document_format == "YAML"
    error_message = "the scan is registered as a YAML Automation document"
  }
  assert {
    condition     = aws_ssm_document.scan.content == file("${path.module}/../../ssm_documents/generated/patch_scan.yaml")
    error_message = "the document content is the generated patch_scan.yaml"
  }
  assert {
    condition     = yamldecode(aws_ssm_document.scan.content).mainSteps[0].inputs.Parameters == { Operation = "Scan", RebootOption = "NoReboot" }
    error_message = "the document only scans and never reboots"
  }
  assert {
    condition     = length(aws_cloudwatch_event_rule.scan) == 2 && alltrue([for r in aws_cloudwatch_event_rule.scan : r.schedule_expression == "cron(0 4 ? * SUN *)" && r.state == "ENABLED"])
    error_message = "one enabled weekly rule per patch group"
  }
  assert {
    condition     = aws_cloudwatch_event_target.scan["Linux"].arn == "arn:aws:ssm:eu-west-2:222222222222:automation-definition/tc-london-PatchScan:$DEFAULT"
    error_message = "the target is the default version of the scan document"
  }
  assert {
    condition     = jsondecode(aws_cloudwatch_event_target.scan["Windows"].input).PatchGroup == ["Windows"] && jsondecode(aws_cloudwatch_event_target.scan["Windows"].input).OutputS3KeyPrefix == ["patch-scan/Windows"]
    error_message = "each schedule scans its own group, output under <prefix>/<group>"
  }
  assert {
    condition     = jsondecode(aws_cloudwatch_event_target.scan["Windows"].input).OutputS3BucketName == ["tc-london-patch-baseline-logs"] && jsondecode(aws_cloudwatch_event_target.scan["Windows"].input).MaxConcurrency == ["25%"] && jsondecode(aws_cloudwatch_event_target.scan["Windows"].input).MaxErrors == ["100%"]
    error_message = "output to the patch-baseline bucket, with rate control"
  }
  assert {
    condition = alltrue([
      for k in keys(jsondecode(aws_cloudwatch_event_target.scan["Linux"].input)) :
      contains(keys(yamldecode(aws_ssm_document.scan.content).parameters), k)
    ])
    error_message = "every input key is a parameter of the document"
  }
  assert {
    condition     = aws_ssm_document.scan.tags["Environment"] == "test" && aws_cloudwatch_event_rule.scan["Linux"].tags["Environment"] == "test"
    error_message = "tags are applied"
  }
}

run "roles_are_least_privilege" {
  command = plan

  assert {
    condition     = alltrue(flatten([for s in jsondecode(aws_iam_role_policy.automation.policy).Statement : [for a in flatten([s.Action]) : a != "*" && !endswith(a, ":*")]]))
    error_message = "no wildcard action"
  }
  assert {
    condition     = length(flatten([for s in jsondecode(aws_iam_role_policy.automation.policy).Statement : [for a in flatten([s.Action]) : a if startswith(a, "ec2:")]])) == 0
    error_message = "the scan never touches instance state"
  }
  assert {
    condition     = contains(jsondecode(aws_iam_role_policy.automation.policy).Statement[1].Resource, "arn:aws:ssm:eu-west-2::document/AWS-RunPatchBaseline") && length([for r in jsondecode(aws_iam_role_policy.automation.policy).Statement[1].Resource : r if strcontains(r, ":document/")]) == 1
    error_message = "SendCommand is limited to AWS-RunPatchBaseline"
  }
  assert {
    condition     = jsondecode(aws_iam_role_policy.events.policy).Statement[0].Resource == ["arn:aws:ssm:eu-west-2:222222222222:automation-definition/tc-london-PatchScan:$DEFAULT"]
    error_message = "EventBridge may start only the scan"
  }
}

run "custom_schedule_disabled_and_counts" {
  command = plan

  variables {
    schedule_expression = "rate(7 days)"
    enabled             = false
    max_concurrency     = "20"
    max_errors          = "0"
  }

  assert {
    condition     = alltrue([for r in aws_cloudwatch_event_rule.scan : r.schedule_expression == "rate(7 days)" && r.state == "DISABLED"])
    error_message = "the schedule and state follow the inputs"
  }
  assert {
    condition     = jsondecode(aws_cloudwatch_event_target.scan["Linux"].input).MaxConcurrency == ["20"] && jsondecode(aws_cloudwatch_event_target.scan["Linux"].input).MaxErrors == ["0"]
    error_message = "counts are accepted as rate control"
  }
}

run "rejects_bad_name_prefix" {
  command = plan
  variables {
    name_prefix = "Amazon"
  }
  expect_failures = [var.name_prefix]
}

run "rejects_empty_patch_groups" {
  command = plan
  variables {
    patch_groups = []
  }
  expect_failures = [var.patch_groups]
}

run "rejects_aws_tag_key" {
  command = plan
  variables {
    patch_group_tag_key = "AWS:Group"
  }
  expect_failures = [var.patch_group_tag_key]
}

run "rejects_five_field_cron" {
  command = plan
  variables {
    schedule_expression = "cron(0 4 * * 0)"
  }
  expect_failures = [var.schedule_expression]
}

run "rejects_bad_max_concurrency" {
  command = plan
  variables {
    max_concurrency = "0%"
  }
  expect_failures = [var.max_concurrency]
}

run "rejects_bad_max_errors" {
  command = plan
  variables {
    max_errors = "ten"
  }
  expect_failures = [var.max_errors]
}

run "rejects_bad_bucket_name" {
  command = plan
  variables {
    output_s3_bucket_name = "s3://tc-london-patch-baseline-logs"
  }
  expect_failures = [var.output_s3_bucket_name]
}

run "rejects_key_prefix_with_trailing_slash" {
  command = plan
  variables {
    output_s3_key_prefix = "patch-scan/"
  }
  expect_failures = [var.output_s3_key_prefix]
}

# The events role trusts only this module's rules (aws:SourceArn), not any rule of the account.
run "events_role_trusts_only_the_scan_rules" {
  command = plan

  assert {
    condition = jsondecode(aws_iam_role.events.assume_role_policy).Statement[0].Condition == {
      StringEquals = { "aws:SourceAccount" = "222222222222" }
      ArnEquals = { "aws:SourceArn" = [
        "arn:aws:events:eu-west-2:222222222222:rule/tc-london-scan-Linux",
        "arn:aws:events:eu-west-2:222222222222:rule/tc-london-scan-Windows",
      ] }
    }
    error_message = "the events role's trust names exactly the scan rules of this module"
  }
  assert {
    condition     = alltrue([for g, r in aws_cloudwatch_event_rule.scan : contains(jsondecode(aws_iam_role.events.assume_role_policy).Statement[0].Condition.ArnEquals["aws:SourceArn"], "arn:aws:events:eu-west-2:222222222222:rule/${r.name}")])
    error_message = "every scan rule is trusted (its name matches the ARN the trust policy names)"
  }
}

run "rejects_a_trust_policy_over_the_iam_quota" {
  command = plan

  variables {
    patch_groups = [for i in range(40) : "patch-group-number-${i}"]
  }

  expect_failures = [aws_iam_role.events]
}
