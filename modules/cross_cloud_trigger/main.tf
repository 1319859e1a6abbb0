data "aws_partition" "current" {}
data "aws_caller_identity" "current" {}
data "aws_region" "current" {}

locals {
  name = "${var.name_prefix}-azure-tag-enforcement"
}

# The Function's key lives in the connection; EventBridge stores it in a Secrets Manager secret it
# owns (events!connection/<name>/...) and adds it to every call as the x-functions-key header.
resource "aws_cloudwatch_event_connection" "function" {
  name               = local.name
  description        = "Function key of the Azure tag enforcement HTTP trigger"
  authorization_type = "API_KEY"
  kms_key_identifier = var.kms_key_arn

  auth_parameters {
    api_key {
      key   = "x-functions-key"
      value = var.function_key
    }
  }
}

resource "aws_cloudwatch_event_api_destination" "function" {
  name                             = local.name
  description                      = "Azure Function HTTP trigger that queues a VM tag enforcement run"
  invocation_endpoint              = var.function_url
  http_method                      = "POST"
  invocation_rate_limit_per_second = var.invocation_rate_limit_per_second
  connection_arn                   = aws_cloudwatch_event_connection.function.arn
}

resource "aws_cloudwatch_event_rule" "schedule" {
  name                = local.name
  description         = "Starts the daily Azure VM tag enforcement (the seed's scheduled CloudWatch event)"
  schedule_expression = var.schedule_expression
  state               = var.enabled ? "ENABLED" : "DISABLED"
  tags                = var.tags
}

resource "aws_cloudwatch_event_target" "function" {
  rule      = aws_cloudwatch_event_rule.schedule.name
  target_id = "azure-function"
  arn       = aws_cloudwatch_event_api_destination.function.arn
  role_arn  = aws_iam_role.invoke.arn

  # The scheduled event's time names the day the Function runs for: every retry of one event
  # carries the same time, so retries and a second scheduler make no second run that day.
  # A JSON template gets string values quoted (EventBridge input transformation:
  # https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-transform-target-input.html).
  input_transformer {
    input_paths    = { time = "$.time" }
    input_template = "{\"dry_run\": ${var.dry_run}, \"scheduled_at\": <time>}"
  }

  retry_policy {
    maximum_retry_attempts       = var.maximum_retry_attempts
    maximum_event_age_in_seconds = var.maximum_event_age_seconds
  }

  dead_letter_config {
    arn = aws_sqs_queue.dlq.arn
  }
}

# --- the role EventBridge assumes to call the API destination ------------------------------------
data "aws_iam_policy_document" "trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [data.aws_caller_identity.current.account_id]
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_cloudwatch_event_rule.schedule.arn]
    }
  }
}

resource "aws_iam_role" "invoke" {
  name               = "${local.name}-invoke"
  description        = "EventBridge calls the Azure tag enforcement API destination"
  assume_role_policy = data.aws_iam_policy_document.trust.json
  tags               = var.tags
}

data "aws_iam_policy_document" "invoke" {
  statement {
    sid     = "InvokeTheApiDestination"
    actions = ["events:InvokeApiDestination"]
    resources = [
      "arn:${data.aws_partition.current.partition}:events:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:api-destination/${aws_cloudwatch_event_api_destination.function.name}/*",
    ]
  }
}

resource "aws_iam_role_policy" "invoke" {
  name   = "invoke-api-destination"
  role   = aws_iam_role.invoke.id
  policy = data.aws_iam_policy_document.invoke.json
}

# --- dead-letter queue for events that could not be delivered ------------------------------------
resource "aws_sqs_queue" "dlq" {
  name                      = "${local.name}-dlq"
  message_retention_seconds = 1209600
  sqs_managed_sse_enabled   = var.kms_key_arn == null ? true : null
  kms_master_key_id         = var.kms_key_arn
  tags                      = var.tags
}

data "aws_iam_policy_document" "dlq" {
  statement {
    sid       = "EventBridgeDeadLetters"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.dlq.arn]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
    condition {
      test     = "ArnEquals"
      variable = "aws:SourceArn"
      values   = [aws_cloudwatch_event_rule.schedule.arn]
    }
  }

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["sqs:*"]
    resources = [aws_sqs_queue.dlq.arn]
    principals {
      type        = "*"
      identifiers = ["*"]
    }
    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }
}

resource "aws_sqs_queue_policy" "dlq" {
  queue_url = aws_sqs_queue.dlq.id
  policy    = data.aws_iam_policy_document.dlq.json
}
