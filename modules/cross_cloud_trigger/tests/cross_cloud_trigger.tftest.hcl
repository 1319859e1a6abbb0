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
  mock_resource "aws_cloudwatch_event_connection" {
    defaults = {
      arn        = "arn:aws:events:us-west-2:111111111111:connection/security-azure-tag-enforcement/11111111-2222-3333-4444-555555555555"
      secret_arn = "arn:aws:secretsmanager:us-west-2:111111111111:secret:events!connection/security-azure-tag-enforcement/abc-123456"
    }
  }
  mock_resource "aws_cloudwatch_event_api_destination" {
    defaults = {
      arn = "arn:aws:events:us-west-2:111111111111:api-destination/security-azure-tag-enforcement/11111111-2222-3333-4444-555555555555"
    }
  }
  mock_resource "aws_cloudwatch_event_rule" {
    defaults = {
      arn = "arn:aws:events:us-west-2:111111111111:rule/security-azure-tag-enforcement"
    }
  }
  mock_resource "aws_iam_role" {
    defaults = {
      arn = "arn:aws:iam::111111111111:role/security-azure-tag-enforcement-invoke"
    }
  }
  mock_resource "aws_sqs_queue" {
    defaults = {
      arn = "arn:aws:sqs:us-west-2:111111111111:security-azure-tag-enforcement-dlq"
      url = "https://sqs.us-west-2.amazonaws.com/111111111111/security-azure-tag-enforcement-dlq"
    }
  }
}

variables {
  name_prefix  = "security"
  function_url = "https://fleetpatch-tags-abc123.azurewebsites.net/api/enforce-tags"
  function_key = "0123456789abcdefghijABCDEFGHIJ=="
  tags         = { Environment = "test" }
}

run "schedule_calls_the_function_with_its_key" {
  command = apply

  assert {
    condition     = aws_cloudwatch_event_rule.schedule.schedule_expression == "cron(0 5 * * ? *)" && aws_cloudwatch_event_rule.schedule.state == "ENABLED"
    error_message = "the rule runs daily at 05:00 UTC by default"
  }
  assert {
    condition     = aws_cloudwatch_event_connection.function.authorization_type == "API_KEY" && one(one(aws_cloudwatch_event_connection.function.auth_parameters).api_key).key == "x-functions-key"
    error_message = "the function key is sent as x-functions-key by an API_KEY connection"
  }
  assert {
    condition     = aws_cloudwatch_event_api_destination.function.invocation_endpoint == var.function_url && aws_cloudwatch_event_api_destination.function.http_method == "POST"
    error_message = "the API destination POSTs to the Function's trigger URL"
  }
  assert {
    condition     = aws_cloudwatch_event_target.function.arn == aws_cloudwatch_event_api_destination.function.arn && aws_cloudwatch_event_target.function.role_arn == aws_iam_role.invoke.arn
    error_message = "the rule targets the API destination with the invoke role"
  }
  assert {
    condition     = aws_cloudwatch_event_target.function.input_transformer[0].input_template == "{\"dry_run\": false, \"scheduled_at\": <time>}" && aws_cloudwatch_event_target.function.input_transformer[0].input_paths.time == "$.time"
    error_message = "runs are real (not dry) by default and carry the scheduled event time (the day)"
  }
  assert {
    condition     = one(aws_cloudwatch_event_target.function.dead_letter_config).arn == aws_sqs_queue.dlq.arn && one(aws_cloudwatch_event_target.function.retry_policy).maximum_retry_attempts == 4
    error_message = "failed deliveries are retried, then dead-lettered"
  }
  assert {
    condition     = aws_sqs_queue.dlq.sqs_managed_sse_enabled == true && aws_sqs_queue.dlq.message_retention_seconds == 1209600
    error_message = "the DLQ is encrypted and keeps messages 14 days"
  }
  assert {
    condition     = aws_cloudwatch_event_rule.schedule.tags["Environment"] == "test" && aws_iam_role.invoke.tags["Environment"] == "test"
    error_message = "tags are applied"
  }
}

run "dry_run_customer_key_and_disabled_rule" {
  command = plan

  variables {
    dry_run             = true
    enabled             = false
    schedule_expression = "rate(12 hours)"
    kms_key_arn         = "arn:aws:kms:us-west-2:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"
  }

  assert {
    condition     = startswith(aws_cloudwatch_event_target.function.input_transformer[0].input_template, "{\"dry_run\": true, ")
    error_message = "dry_run is passed in the request body"
  }
  assert {
    condition     = aws_cloudwatch_event_rule.schedule.state == "DISABLED" && aws_cloudwatch_event_rule.schedule.schedule_expression == "rate(12 hours)"
    error_message = "the rule can be disabled and rescheduled"
  }
  assert {
    condition     = aws_sqs_queue.dlq.kms_master_key_id == var.kms_key_arn && aws_cloudwatch_event_connection.function.kms_key_identifier == var.kms_key_arn
    error_message = "the customer managed key encrypts the DLQ and the connection secret"
  }
}

run "rejects_a_plain_http_url" {
  command = plan
  variables {
    function_url = "http://fleetpatch-tags.azurewebsites.net/api/enforce-tags"
  }
  expect_failures = [var.function_url]
}

run "rejects_a_short_key" {
  command = plan
  variables {
    function_key = "short"
  }
  expect_failures = [var.function_key]
}

run "rejects_a_bad_schedule" {
  command = plan
  variables {
    schedule_expression = "every day"
  }
  expect_failures = [var.schedule_expression]
}

run "rejects_a_bad_prefix" {
  command = plan
  variables {
    name_prefix = "-bad prefix"
  }
  expect_failures = [var.name_prefix]
}

run "rejects_a_bad_rate_limit" {
  command = plan
  variables {
    invocation_rate_limit_per_second = 0
  }
  expect_failures = [var.invocation_rate_limit_per_second]
}

run "rejects_too_many_retries" {
  command = plan
  variables {
    maximum_retry_attempts = 200
  }
  expect_failures = [var.maximum_retry_attempts]
}

run "rejects_a_short_event_age" {
  command = plan
  variables {
    maximum_event_age_seconds = 10
  }
  expect_failures = [var.maximum_event_age_seconds]
}

run "rejects_a_key_alias_as_key_arn" {
  command = plan
  variables {
    kms_key_arn = "alias/mine"
  }
  expect_failures = [var.kms_key_arn]
}
