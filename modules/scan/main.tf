data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

locals {
  partition = data.aws_partition.current.partition
  region    = data.aws_region.current.name
  account   = data.aws_caller_identity.current.account_id

  # The ARNs of this module's EventBridge rules, known at plan: the events role trusts only them.
  # A role trust policy holds at most 2,048 characters by default (IAM quota "Role trust policy
  # length", adjustable to 4,096): about 25 patch groups (precondition on the role).
  events_source_arns = [for g in sort(var.patch_groups) : "arn:${local.partition}:events:${local.region}:${local.account}:rule/${var.name_prefix}-scan-${g}"]

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

locals {
  # IAM quota "Role trust policy length": 2,048 characters by default.
  trust_policy_max_length = 2048

  events_trust_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Sid       = "TheRulesOfThisModule"
      Effect    = "Allow"
      Principal = { Service = "events.amazonaws.com" }
      Action    = "sts:AssumeRole"
      # Only this module's own rules, by ARN (not any rule of the account: whoever may put a rule
      # and pass a role could otherwise start the document with this role).
      Condition = {
        StringEquals = { "aws:SourceAccount" = local.account }
        ArnEquals    = { "aws:SourceArn" = local.events_source_arns }
      }
    }]
  })
}

resource "aws_iam_role" "events" {
  name                 = "${var.name_prefix}-patch-scan-events"
  description          = "Assumed by EventBridge to start ${local.document_name} on schedule."
  max_session_duration = 3600
  tags                 = var.tags

  assume_role_policy = local.events_trust_policy

  lifecycle {
    precondition {
      condition     = length(local.events_trust_policy) <= local.trust_policy_max_length
      error_message = "The events role's trust policy is ${length(local.events_trust_policy)} characters, over the ${local.trust_policy_max_length} IAM accepts by default (quota \"Role trust policy length\", https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html): it names one EventBridge rule per patch group. Use fewer patch groups per module instance (or a shorter name_prefix)."
    }
  }
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
