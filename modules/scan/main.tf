data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  partition = data.aws_partition.current.partition
  region    = data.aws_region.current.name
  account   = data.aws_caller_identity.current.account_id

  document_name = "${var.name_prefix}-PatchScan"

  # Rendered by `make documents` and committed, so a clean checkout plans without a build step.
  document_content = file("${path.module}/../../ssm_documents/generated/patch_scan.yaml")

  automation_definition_arn = "arn:${local.partition}:ssm:${local.region}:${local.account}:automation-definition/${local.document_name}:$DEFAULT"
}

resource "aws_ssm_document" "scan" {
  name            = local.document_name
  document_type   = "Automation"
  document_format = "YAML"
  content         = local.document_content
  tags            = var.tags
}

# --- the Automation assume role ---------------------------------------------------------------

resource "aws_iam_role" "automation" {
  name                 = "${var.name_prefix}-patch-scan-automation"
  description          = "Assumed by SSM Automation to run ${local.document_name}."
  max_session_duration = 3600
  tags                 = var.tags

  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "SsmAutomationOfThisAccount"
      Effect    = "Allow"
      Principal = { Service = "ssm.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = {
        StringEquals = { "aws:SourceAccount" = local.account }
        ArnLike      = { "aws:SourceArn" = "arn:${local.partition}:ssm:${local.region}:${local.account}:automation-execution/*" }
      }
    }]
  })
}

resource "aws_iam_role_policy" "automation" {
  name = "patch-scan"
  role = aws_iam_role.automation.id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        # Follow and cancel the command; these calls support no resource-level permissions.
        Sid      = "FollowCommands"
        Effect   = "Allow"
        Action   = ["ssm:ListCommands", "ssm:ListCommandInvocations", "ssm:GetCommandInvocation", "ssm:CancelCommand"]
        Resource = "*"
      },
      {
        Sid    = "RunPatchBaselineOnly"
        Effect = "Allow"
        Action = ["ssm:SendCommand"]
        Resource = [
          "arn:${local.partition}:ssm:${local.region}::document/AWS-RunPatchBaseline",
          "arn:${local.partition}:ec2:${local.region}:${local.account}:instance/*",
          "arn:${local.partition}:ssm:${local.region}:${local.account}:managed-instance/*",
        ]
      },
    ]
  })
}

# --- the EventBridge schedules ----------------------------------------------------------------

resource "aws_iam_role" "events" {
  name                 = "${var.name_prefix}-patch-scan-events"
  description          = "Assumed by EventBridge to start ${local.document_name} on schedule."
  max_session_duration = 3600
  tags                 = var.tags

  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "EventBridgeOfThisAccount"
      Effect    = "Allow"
      Principal = { Service = "events.amazonaws.com" }
      Action    = "sts:AssumeRole"
      Condition = { StringEquals = { "aws:SourceAccount" = local.account } }
    }]
  })
}

resource "aws_iam_role_policy" "events" {
  name = "start-patch-scan"
  role = aws_iam_role.events.id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "StartTheScan"
        Effect   = "Allow"
        Action   = ["ssm:StartAutomationExecution"]
        Resource = [local.automation_definition_arn]
      },
      {
        Sid       = "PassTheAutomationRole"
        Effect    = "Allow"
        Action    = ["iam:PassRole"]
        Resource  = [aws_iam_role.automation.arn]
        Condition = { StringEquals = { "iam:PassedToService" = "ssm.amazonaws.com" } }
      },
    ]
  })
}

resource "aws_cloudwatch_event_rule" "scan" {
  for_each = toset(var.patch_groups)

  name                = "${var.name_prefix}-scan-${each.key}"
  description         = "Starts ${local.document_name} (AWS-RunPatchBaseline Scan, NoReboot) on patch group ${each.key}."
  schedule_expression = var.schedule_expression
  state               = var.enabled ? "ENABLED" : "DISABLED"
  tags                = var.tags
}

resource "aws_cloudwatch_event_target" "scan" {
  for_each = aws_cloudwatch_event_rule.scan

  rule      = each.value.name
  target_id = "patch-scan"
  arn       = local.automation_definition_arn
  role_arn  = aws_iam_role.events.arn

  # Automation parameters: every value is a list of strings. Operation (Scan) and RebootOption
  # (NoReboot) are fixed in the document, not parameters.
  input = jsonencode({
    AutomationAssumeRole = [aws_iam_role.automation.arn]
    PatchGroupTagKey     = [var.patch_group_tag_key]
    PatchGroup           = [each.key]
    MaxConcurrency       = [var.max_concurrency]
    MaxErrors            = [var.max_errors]
    OutputS3BucketName   = [var.output_s3_bucket_name]
    OutputS3KeyPrefix    = ["${var.output_s3_key_prefix}/${each.key}"]
  })

  depends_on = [aws_ssm_document.scan, aws_iam_role_policy.events]
}
