# One of every resource type fleetpatch's modules use, with the settings they use, so the
# integration test can prove the emulator round-trips each of them for the aws provider
# (apply, an empty second plan, destroy). Names are fixed: one copy per emulator account.

data "aws_partition" "current" {}
data "aws_caller_identity" "current" {}
data "aws_region" "current" {}

locals {
  partition  = data.aws_partition.current.partition
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name
  prefix     = "cov-${local.account_id}"
  arn_base   = "arn:${local.partition}"
}

# --- KMS ----------------------------------------------------------------------------------------
data "aws_iam_policy_document" "key" {
  statement {
    sid       = "AccountAdministersKey"
    actions   = ["kms:Describe*", "kms:Get*", "kms:List*", "kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["${local.arn_base}:iam::${local.account_id}:root"]
    }
  }
}

resource "aws_kms_key" "this" {
  description             = "emulator coverage key"
  enable_key_rotation     = true
  deletion_window_in_days = 7
  policy                  = data.aws_iam_policy_document.key.json
}

resource "aws_kms_alias" "this" {
  name          = "alias/${local.prefix}"
  target_key_id = aws_kms_key.this.key_id
}

# --- S3: the bucket sub-resources of log_buckets / central_reporting -----------------------------
resource "aws_s3_bucket" "access" {
  bucket        = "${local.prefix}-access-logs"
  force_destroy = true
}

# S3 server access logging needs the target bucket to let the logging service write.
data "aws_iam_policy_document" "access" {
  statement {
    sid       = "S3ServerAccessLogsPolicy"
    actions   = ["s3:PutObject"]
    resources = ["${aws_s3_bucket.access.arn}/logs/*"]
    principals {
      type        = "Service"
      identifiers = ["logging.s3.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account_id]
    }
  }
}

resource "aws_s3_bucket_policy" "access" {
  bucket = aws_s3_bucket.access.id
  policy = data.aws_iam_policy_document.access.json
}

resource "aws_s3_bucket" "this" {
  bucket        = "${local.prefix}-logs"
  force_destroy = true
}

resource "aws_s3_bucket_versioning" "this" {
  bucket = aws_s3_bucket.this.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  bucket = aws_s3_bucket.this.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.this.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  bucket                  = aws_s3_bucket.this.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "this" {
  bucket = aws_s3_bucket.this.id
  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

data "aws_iam_policy_document" "bucket" {
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [aws_s3_bucket.this.arn, "${aws_s3_bucket.this.arn}/*"]
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

resource "aws_s3_bucket_policy" "this" {
  bucket = aws_s3_bucket.this.id
  policy = data.aws_iam_policy_document.bucket.json
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  bucket = aws_s3_bucket.this.id
  rule {
    id     = "expire"
    status = "Enabled"
    filter {}
    transition {
      days          = 30
      storage_class = "STANDARD_IA"
    }
    expiration {
      days = 365
    }
    noncurrent_version_expiration {
      noncurrent_days = 90
    }
    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
}

resource "aws_s3_bucket_logging" "this" {
  bucket        = aws_s3_bucket.this.id
  target_bucket = aws_s3_bucket.access.id
  target_prefix = "logs/"
  depends_on    = [aws_s3_bucket_policy.access]
}

# --- IAM ----------------------------------------------------------------------------------------
data "aws_iam_policy_document" "trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ssm.amazonaws.com", "lambda.amazonaws.com", "events.amazonaws.com", "config.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "this" {
  name               = "${local.prefix}-role"
  assume_role_policy = data.aws_iam_policy_document.trust.json
}

resource "aws_iam_role_policy" "this" {
  name = "inline"
  role = aws_iam_role.this.id
  policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = ["ssm:StartAutomationExecution"], Resource = "*" }]
  })
}

resource "aws_iam_role_policy_attachment" "managed" {
  role       = aws_iam_role.this.name
  policy_arn = "${local.arn_base}:iam::aws:policy/AmazonSSMManagedInstanceCore"
}

resource "aws_iam_instance_profile" "this" {
  name = "${local.prefix}-profile"
  role = aws_iam_role.this.name
}

# --- SSM ----------------------------------------------------------------------------------------
resource "aws_ssm_document" "automation" {
  name            = "${local.prefix}-Automation"
  document_type   = "Automation"
  document_format = "YAML"
  content         = <<-YAML
    schemaVersion: "0.3"
    description: emulator coverage
    assumeRole: "{{ AutomationAssumeRole }}"
    parameters:
      AutomationAssumeRole:
        type: String
        default: ""
    mainSteps:
      - name: wait
        action: aws:sleep
        inputs:
          Duration: PT1S
  YAML
}

resource "aws_ssm_patch_baseline" "this" {
  name                              = "${local.prefix}-al2"
  operating_system                  = "AMAZON_LINUX_2"
  description                       = "Security updates after 7 days"
  approved_patches_compliance_level = "HIGH"
  approval_rule {
    approve_after_days = 7
    compliance_level   = "CRITICAL"
    patch_filter {
      key    = "CLASSIFICATION"
      values = ["Security"]
    }
  }
  global_filter {
    key    = "PRODUCT"
    values = ["AmazonLinux2"]
  }
  tags = { Owner = "platform" }
}

resource "aws_ssm_patch_group" "this" {
  baseline_id = aws_ssm_patch_baseline.this.id
  patch_group = "Linux"
}

resource "aws_ssm_association" "scan" {
  name                        = "AWS-RunPatchBaseline"
  association_name            = "${local.prefix}-scan"
  schedule_expression         = "cron(0 2 ? * SUN *)"
  apply_only_at_cron_interval = true
  compliance_severity         = "HIGH"
  max_concurrency             = "10%"
  max_errors                  = "5%"
  parameters                  = { Operation = "Scan" }
  targets {
    key    = "tag:Patch Group"
    values = ["Linux"]
  }
  output_location {
    s3_bucket_name = aws_s3_bucket.this.id
    s3_key_prefix  = "scan"
  }
  tags = { Owner = "platform" }
}

resource "aws_ssm_resource_data_sync" "this" {
  name = "${local.prefix}-sync"
  s3_destination {
    bucket_name = aws_s3_bucket.this.id
    region      = local.region
    prefix      = "resource-data-sync"
    kms_key_arn = aws_kms_key.this.arn
  }
}

resource "aws_ssm_activation" "this" {
  name               = "${local.prefix}-hybrid"
  description        = "Azure and on-premises servers"
  iam_role           = aws_iam_role.this.name
  registration_limit = 10
  depends_on         = [aws_iam_role_policy_attachment.managed]
  tags               = { Owner = "platform" }
}

# --- Lambda, EventBridge, SQS, SNS ----------------------------------------------------------------
resource "aws_cloudwatch_log_group" "this" {
  name              = "/aws/lambda/${local.prefix}-fn"
  retention_in_days = 30
  kms_key_id        = aws_kms_key.this.arn
}

resource "aws_sqs_queue" "dlq" {
  name                      = "${local.prefix}-dlq"
  message_retention_seconds = 1209600
  kms_master_key_id         = aws_kms_alias.this.name
}

resource "aws_lambda_function" "this" {
  function_name                  = "${local.prefix}-fn"
  role                           = aws_iam_role.this.arn
  handler                        = "handler.handler"
  runtime                        = "python3.11"
  filename                       = var.lambda_zip
  source_code_hash               = filebase64sha256(var.lambda_zip)
  timeout                        = 60
  memory_size                    = 256
  reserved_concurrent_executions = 2
  kms_key_arn                    = aws_kms_key.this.arn
  environment {
    variables = { LOG_LEVEL = "INFO" }
  }
  dead_letter_config {
    target_arn = aws_sqs_queue.dlq.arn
  }
  tracing_config {
    mode = "Active"
  }
  logging_config {
    log_format = "JSON"
    log_group  = aws_cloudwatch_log_group.this.name
  }
}

resource "aws_lambda_function_event_invoke_config" "this" {
  function_name                = aws_lambda_function.this.function_name
  maximum_retry_attempts       = 1
  maximum_event_age_in_seconds = 3600
}

data "aws_iam_policy_document" "queue" {
  statement {
    sid       = "EventBridgeSendsDeadLetters"
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.dlq.arn]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
  }
}

resource "aws_sqs_queue_policy" "dlq" {
  queue_url = aws_sqs_queue.dlq.id
  policy    = data.aws_iam_policy_document.queue.json
}

resource "aws_cloudwatch_event_permission" "member" {
  principal    = "111111111111"
  statement_id = "${local.prefix}-member"
}

resource "aws_cloudwatch_event_rule" "schedule" {
  name                = "${local.prefix}-sweep"
  schedule_expression = "rate(1 day)"
}

resource "aws_cloudwatch_event_rule" "pattern" {
  name = "${local.prefix}-running"
  event_pattern = jsonencode({
    source        = ["aws.ec2"]
    "detail-type" = ["EC2 Instance State-change Notification"]
    detail        = { state = ["running"] }
  })
}

resource "aws_cloudwatch_event_target" "lambda" {
  rule = aws_cloudwatch_event_rule.pattern.name
  arn  = aws_lambda_function.this.arn
  retry_policy {
    maximum_retry_attempts       = 2
    maximum_event_age_in_seconds = 3600
  }
  dead_letter_config {
    arn = aws_sqs_queue.dlq.arn
  }
}

resource "aws_cloudwatch_event_target" "automation" {
  rule     = aws_cloudwatch_event_rule.schedule.name
  arn      = "${local.arn_base}:ssm:${local.region}:${local.account_id}:automation-definition/${aws_ssm_document.automation.name}:$DEFAULT"
  role_arn = aws_iam_role.this.arn
  input    = jsonencode({ AutomationAssumeRole = [aws_iam_role.this.arn] })
}

resource "aws_lambda_permission" "events" {
  statement_id  = "AllowEventBridge"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.this.function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.pattern.arn
}

resource "aws_secretsmanager_secret" "this" {
  name                    = "${local.prefix}/azure-webhook"
  kms_key_id              = aws_kms_key.this.arn
  recovery_window_in_days = 0
}

resource "aws_secretsmanager_secret_version" "this" {
  secret_id     = aws_secretsmanager_secret.this.id
  secret_string = "placeholder"
}

resource "aws_cloudwatch_event_connection" "this" {
  name               = "${local.prefix}-azure"
  authorization_type = "API_KEY"
  auth_parameters {
    api_key {
      key   = "x-functions-key"
      value = "placeholder"
    }
  }
}

resource "aws_cloudwatch_event_api_destination" "this" {
  name                             = "${local.prefix}-azure"
  invocation_endpoint              = "https://example.azurewebsites.net/api/patch"
  http_method                      = "POST"
  invocation_rate_limit_per_second = 5
  connection_arn                   = aws_cloudwatch_event_connection.this.arn
}

resource "aws_sns_topic" "this" {
  name              = "${local.prefix}-alerts"
  kms_master_key_id = aws_kms_key.this.arn
}

data "aws_iam_policy_document" "topic" {
  statement {
    sid       = "EventBridgePublishes"
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.this.arn]
    principals {
      type        = "Service"
      identifiers = ["events.amazonaws.com"]
    }
  }
}

resource "aws_sns_topic_policy" "this" {
  arn    = aws_sns_topic.this.arn
  policy = data.aws_iam_policy_document.topic.json
}

resource "aws_sns_topic_subscription" "this" {
  topic_arn = aws_sns_topic.this.arn
  protocol  = "sqs"
  endpoint  = aws_sqs_queue.dlq.arn
}

resource "aws_cloudwatch_metric_alarm" "errors" {
  alarm_name          = "${local.prefix}-fn-errors"
  namespace           = "AWS/Lambda"
  metric_name         = "Errors"
  dimensions          = { FunctionName = aws_lambda_function.this.function_name }
  statistic           = "Sum"
  period              = 300
  evaluation_periods  = 1
  threshold           = 1
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = [aws_sns_topic.this.arn]
}

# --- Config ---------------------------------------------------------------------------------------
resource "aws_config_configuration_recorder" "this" {
  name     = "default"
  role_arn = aws_iam_role.this.arn
  recording_group {
    all_supported                 = false
    include_global_resource_types = false
    resource_types                = ["AWS::SSM::PatchCompliance", "AWS::SSM::AssociationCompliance"]
    recording_strategy {
      use_only = "INCLUSION_BY_RESOURCE_TYPES"
    }
  }
}

resource "aws_config_delivery_channel" "this" {
  name           = "default"
  s3_bucket_name = aws_s3_bucket.this.id
  s3_key_prefix  = "config"
  snapshot_delivery_properties {
    delivery_frequency = "TwentyFour_Hours"
  }
  depends_on = [aws_config_configuration_recorder.this]
}

resource "aws_config_configuration_recorder_status" "this" {
  name       = aws_config_configuration_recorder.this.name
  is_enabled = true
  depends_on = [aws_config_delivery_channel.this]
}

resource "aws_config_config_rule" "patch" {
  name = "${local.prefix}-patch-compliance"
  source {
    owner             = "AWS"
    source_identifier = "EC2_MANAGEDINSTANCE_PATCH_COMPLIANCE_STATUS_CHECK"
  }
  scope {
    compliance_resource_types = ["AWS::SSM::PatchCompliance"]
  }
  depends_on = [aws_config_configuration_recorder_status.this]
}

resource "aws_config_remediation_configuration" "patch" {
  config_rule_name = aws_config_config_rule.patch.name
  target_type      = "SSM_DOCUMENT"
  target_id        = aws_ssm_document.automation.name
  target_version   = "$DEFAULT"
  automatic        = true
  resource_type    = "AWS::SSM::PatchCompliance"

  maximum_automatic_attempts = 3
  retry_attempt_seconds      = 600

  parameter {
    name         = "AutomationAssumeRole"
    static_value = aws_iam_role.this.arn
  }

  execution_controls {
    ssm_controls {
      concurrent_execution_rate_percentage = 10
      error_percentage                     = 10
    }
  }
}

resource "aws_config_aggregate_authorization" "this" {
  account_id = local.account_id
  region     = local.region
}

resource "aws_config_configuration_aggregator" "this" {
  name = "${local.prefix}-aggregator"
  account_aggregation_source {
    account_ids = [local.account_id]
    regions     = [local.region]
  }
}

# --- Glue, Athena, Resource Groups --------------------------------------------------------------
resource "aws_glue_catalog_database" "this" {
  name = replace("${local.prefix}_inventory", "-", "_")
}

resource "aws_glue_catalog_table" "this" {
  name          = "aws_instanceinformation"
  database_name = aws_glue_catalog_database.this.name
  table_type    = "EXTERNAL_TABLE"
  parameters    = { classification = "json" }
  partition_keys {
    name = "accountid"
    type = "string"
  }
  storage_descriptor {
    location      = "s3://${aws_s3_bucket.this.id}/resource-data-sync/AWS:InstanceInformation/"
    input_format  = "org.apache.hadoop.mapred.TextInputFormat"
    output_format = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"
    ser_de_info {
      serialization_library = "org.openx.data.jsonserde.JsonSerDe"
    }
    columns {
      name = "resourceid"
      type = "string"
    }
  }
}

resource "aws_athena_workgroup" "this" {
  name          = "${local.prefix}-compliance"
  force_destroy = true
  configuration {
    enforce_workgroup_configuration    = true
    publish_cloudwatch_metrics_enabled = true
    result_configuration {
      output_location = "s3://${aws_s3_bucket.this.id}/athena/"
      encryption_configuration {
        encryption_option = "SSE_KMS"
        kms_key_arn       = aws_kms_key.this.arn
      }
    }
  }
}

resource "aws_athena_named_query" "this" {
  name      = "${local.prefix}-non-compliant"
  workgroup = aws_athena_workgroup.this.id
  database  = aws_glue_catalog_database.this.name
  query     = "SELECT resourceid FROM aws_instanceinformation"
}

resource "aws_resourcegroups_group" "this" {
  name = "${local.prefix}-linux"
  resource_query {
    query = jsonencode({
      ResourceTypeFilters = ["AWS::EC2::Instance"]
      TagFilters          = [{ Key = "Patch Group", Values = ["Linux"] }]
    })
  }
}
