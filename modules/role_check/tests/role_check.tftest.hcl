mock_provider "aws" {
  override_during = plan

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
      arn = "arn:aws:iam::111111111111:role/mock-role"
    }
  }
  mock_resource "aws_iam_instance_profile" {
    defaults = {
      arn = "arn:aws:iam::111111111111:instance-profile/ss-oregon-ssm-instance"
    }
  }
  mock_resource "aws_sqs_queue" {
    defaults = {
      arn = "arn:aws:sqs:us-west-2:111111111111:ss-oregon-role-check-dlq"
    }
  }
  mock_resource "aws_cloudwatch_log_group" {
    defaults = {
      arn = "arn:aws:logs:us-west-2:111111111111:log-group:/aws/lambda/ss-oregon-role-check"
    }
  }
  mock_resource "aws_lambda_function" {
    defaults = {
      arn = "arn:aws:lambda:us-west-2:111111111111:function:ss-oregon-role-check"
    }
  }
  mock_resource "aws_cloudwatch_event_rule" {
    defaults = {
      arn = "arn:aws:events:us-west-2:111111111111:rule/mock"
    }
  }
}

variables {
  name_prefix          = "ss-oregon"
  package_path         = "tests/fixtures/ssm_role_check.zip"
  powertools_layer_arn = "arn:aws:lambda:us-west-2:017000801446:layer:AWSLambdaPowertoolsPythonV3-python311-x86_64:7"
  tags                 = { Environment = "test" }
}

run "defaults_deploy_the_zip_with_triggers_dlq_logs_and_alarms" {
  command = plan

  assert {
    condition     = aws_lambda_function.this.filename == "tests/fixtures/ssm_role_check.zip" && aws_lambda_function.this.source_code_hash == filebase64sha256("tests/fixtures/ssm_role_check.zip")
    error_message = "the function deploys the given zip, pinned by its hash"
  }
  assert {
    condition     = aws_lambda_function.this.handler == "ssm_role_check.handler.lambda_handler" && aws_lambda_function.this.runtime == "python3.11"
    error_message = "handler and runtime"
  }
  assert {
    condition     = aws_lambda_function.this.layers == tolist([var.powertools_layer_arn]) && aws_lambda_function.this.architectures == tolist(["x86_64"])
    error_message = "the Powertools layer and the architecture are set"
  }
  assert {
    condition     = one(aws_lambda_function.this.tracing_config).mode == "Active"
    error_message = "X-Ray tracing is active"
  }
  assert {
    condition     = aws_lambda_function.this.reserved_concurrent_executions == null
    error_message = "no reserved concurrency by default (null: the provider keeps its -1, unreserved, and calls no PutFunctionConcurrency): a new account whose concurrency quota is 10 has nothing to reserve"
  }
  assert {
    condition     = one(aws_lambda_function.this.dead_letter_config).target_arn == "arn:aws:sqs:us-west-2:111111111111:ss-oregon-role-check-dlq"
    error_message = "failed async invocations go to the dead-letter queue"
  }
  assert {
    condition     = aws_sqs_queue.dlq.sqs_managed_sse_enabled == true && aws_sqs_queue.dlq.kms_master_key_id == null
    error_message = "the dead-letter queue is encrypted with SSE-SQS by default"
  }
  assert {
    condition = one(aws_lambda_function.this.environment).variables == tomap({
      SSM_INSTANCE_PROFILE_NAME     = "ss-oregon-ssm-instance"
      SSM_ROLE_NAME                 = "ss-oregon-ssm-instance"
      SSM_MANAGED_POLICY_NAME       = ""
      SSM_NODE_POLICY_ARN           = "arn:aws:iam::111111111111:policy/ss-oregon-ssm-node-core"
      NODE_LOG_POLICY_ARN           = ""
      OPT_OUT_TAG_KEY               = "fleetpatch:role-check-opt-out"
      DRY_RUN                       = "false"
      MODIFIABLE_ROLE_PATH_PREFIX   = "/"
      MODIFIABLE_ROLE_TAG_KEY       = ""
      MODIFIABLE_ROLE_TAG_VALUE     = ""
      SWEEP_MAX_GENERATIONS         = "12"
      SWEEP_DEADLINE_MARGIN_SECONDS = "60"
      POWERTOOLS_SERVICE_NAME       = "ssm-role-check"
      POWERTOOLS_METRICS_NAMESPACE  = "fleetpatch"
      POWERTOOLS_LOG_LEVEL          = "INFO"
    })
    error_message = "the environment configures the function"
  }
  assert {
    condition     = jsondecode(aws_cloudwatch_event_rule.state_change.event_pattern) == { source = ["aws.ec2"], "detail-type" = ["EC2 Instance State-change Notification"], detail = { state = ["pending", "running"] } }
    error_message = "the state-change rule matches EC2 instances entering pending or running"
  }
  assert {
    condition     = aws_cloudwatch_event_rule.sweep.schedule_expression == "rate(12 hours)" && aws_cloudwatch_event_rule.sweep.state == "ENABLED"
    error_message = "the sweep runs on the default schedule"
  }
  assert {
    condition     = aws_lambda_permission.state_change.source_arn == aws_cloudwatch_event_rule.state_change.arn && aws_lambda_permission.sweep.source_arn == aws_cloudwatch_event_rule.sweep.arn && aws_lambda_permission.sweep.principal == "events.amazonaws.com"
    error_message = "invoke permissions are scoped to the two rules"
  }
  assert {
    condition     = aws_cloudwatch_log_group.function.name == "/aws/lambda/ss-oregon-role-check" && aws_cloudwatch_log_group.function.retention_in_days == 365 && aws_cloudwatch_log_group.function.kms_key_id == null
    error_message = "the log group has the function's name and a one-year retention"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.errors.metric_name == "Errors" && aws_cloudwatch_metric_alarm.errors.namespace == "AWS/Lambda" && aws_cloudwatch_metric_alarm.errors.dimensions["FunctionName"] == "ss-oregon-role-check"
    error_message = "an alarm watches the function's Errors"
  }
  assert {
    # The same list as tests/unit/role_check/test_alarm_metrics.py derives from the Python source.
    condition = toset([for q in aws_cloudwatch_metric_alarm.failed_instances.metric_query : one(q.metric).metric_name if length(q.metric) > 0]) == toset([
      "InstancesBlockedByDeny", "InstancesBlockedByBoundary", "InstancesAccessDenied", "InstancesFailed",
      "InvalidEvents", "SweepContinuationsFailed", "SweepContinuationsRefused",
    ])
    error_message = "the failure alarm watches every failure metric the function emits (access denied, explicit Deny, permissions boundary, other errors, refused events, sweeps stopped without a continuation)"
  }
  assert {
    condition     = alltrue([for q in aws_cloudwatch_metric_alarm.failed_instances.metric_query : one(q.metric).namespace == "fleetpatch" && one(q.metric).dimensions == tomap({ service = "ssm-role-check" }) && one(q.metric).stat == "Sum" if length(q.metric) > 0])
    error_message = "each failure metric is read in the function's namespace and service dimension, summed"
  }
  assert {
    condition     = [for q in aws_cloudwatch_metric_alarm.failed_instances.metric_query : q.expression if q.return_data == true] == ["SUM(FILL(METRICS(), 0))"] && length(aws_cloudwatch_metric_alarm.failed_instances.metric_query) <= 11
    error_message = "the alarm watches the SUM of the failure metrics (at most 10 metrics, CloudWatch's metric math alarm limit)"
  }
  assert {
    condition     = aws_iam_role_policy_attachment.ssm_instance.policy_arn == "arn:aws:iam::111111111111:policy/ss-oregon-ssm-node-core" && aws_iam_instance_profile.ssm.role == "ss-oregon-ssm-instance"
    error_message = "the SSM instance profile's role carries the module's node core policy, not AmazonSSMManagedInstanceCore"
  }
  assert {
    condition     = aws_lambda_function.this.tags["Environment"] == "test" && aws_sqs_queue.dlq.tags["Environment"] == "test" && aws_iam_instance_profile.ssm.tags["Environment"] == "test"
    error_message = "tags are applied"
  }
}

run "function_policy_is_least_privilege" {
  command = plan

  assert {
    condition     = alltrue([for s in data.aws_iam_policy_document.function.statement : !contains(s.actions, "*") && alltrue([for a in s.actions : !endswith(a, ":*")])])
    error_message = "no wildcard action"
  }
  assert {
    condition     = toset(flatten([for s in data.aws_iam_policy_document.function.statement : s.actions])) == toset(["ec2:DescribeInstances", "ec2:DescribeIamInstanceProfileAssociations", "ec2:AssociateIamInstanceProfile", "iam:PassRole", "iam:GetInstanceProfile", "iam:ListInstanceProfiles", "iam:AddRoleToInstanceProfile", "iam:ListAttachedRolePolicies", "iam:ListRolePolicies", "iam:GetRolePolicy", "iam:GetRole", "iam:GetPolicy", "iam:GetPolicyVersion", "iam:AttachRolePolicy", "logs:CreateLogStream", "logs:PutLogEvents", "xray:PutTraceSegments", "xray:PutTelemetryRecords", "sqs:SendMessage", "lambda:InvokeFunction"])
    error_message = "exactly the actions the function needs; nothing that detaches, removes or replaces"
  }
  assert {
    condition     = [for s in data.aws_iam_policy_document.function.statement : one([for c in s.condition : c.values if c.variable == "iam:PolicyARN"]) if s.sid == "AttachOnlyTheSsmManagedPolicy"][0] == tolist(["arn:aws:iam::111111111111:policy/ss-oregon-ssm-node-core"])
    error_message = "AttachRolePolicy is limited to the node core policy"
  }
  assert {
    condition     = [for s in data.aws_iam_policy_document.function.statement : s.resources if s.sid == "PassOnlyTheSsmRoleToEc2"][0] == toset(["arn:aws:iam::111111111111:role/mock-role"]) && [for s in data.aws_iam_policy_document.function.statement : one([for c in s.condition : c.values if c.variable == "iam:PassedToService"]) if s.sid == "PassOnlyTheSsmRoleToEc2"][0] == tolist(["ec2.amazonaws.com"])
    error_message = "PassRole is limited to the SSM role, passed to EC2"
  }
  assert {
    condition     = toset([for c in [for s in data.aws_iam_policy_document.function.statement : s if s.sid == "AssociateOnlyTheSsmProfile"][0].condition : c.variable]) == toset(["ec2:NewInstanceProfile", "aws:ResourceTag/fleetpatch:role-check-opt-out"])
    error_message = "AssociateIamInstanceProfile is limited to the SSM profile and to instances without the opt-out tag"
  }
  assert {
    condition     = [for s in data.aws_iam_policy_document.function.statement : s.resources if s.sid == "AssociateOnlyTheSsmProfile"][0] == toset(["arn:aws:ec2:us-west-2:111111111111:instance/*"])
    error_message = "associations are limited to this account's and Region's instances"
  }
  assert {
    condition     = [for s in data.aws_iam_policy_document.function.statement : s.resources if s.sid == "RefillOnlyTheSsmProfile"][0] == toset(["arn:aws:iam::111111111111:instance-profile/ss-oregon-ssm-instance"])
    error_message = "AddRoleToInstanceProfile is limited to the module's own SSM profile (an emptied profile of someone else stays empty)"
  }
}

run "inputs_reach_the_function_and_encryption_keys" {
  command = plan

  variables {
    runtime              = "python3.12"
    architecture         = "arm64"
    powertools_layer_arn = "arn:aws:lambda:us-west-2:017000801446:layer:AWSLambdaPowertoolsPythonV3-python312-arm64:7"
    sweep_schedule       = "cron(0 3 * * ? *)"
    sweep_enabled        = false
    dry_run              = true
    opt_out_tag_key      = null
    reserved_concurrency = 1
    log_retention_days   = 30
    log_kms_key_arn      = "arn:aws:kms:us-west-2:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    dlq_kms_key_arn      = "arn:aws:kms:us-west-2:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ac"
    alarm_actions        = ["arn:aws:sns:us-west-2:111111111111:ops"]
  }

  assert {
    condition     = aws_lambda_function.this.runtime == "python3.12" && aws_lambda_function.this.architectures == tolist(["arm64"])
    error_message = "runtime and architecture follow the inputs"
  }
  assert {
    condition     = one(aws_lambda_function.this.environment).variables["DRY_RUN"] == "true" && one(aws_lambda_function.this.environment).variables["OPT_OUT_TAG_KEY"] == ""
    error_message = "dry run on, opt-out off"
  }
  assert {
    condition     = aws_cloudwatch_event_rule.sweep.schedule_expression == "cron(0 3 * * ? *)" && aws_cloudwatch_event_rule.sweep.state == "DISABLED"
    error_message = "the sweep schedule and state follow the inputs"
  }
  assert {
    condition     = aws_sqs_queue.dlq.kms_master_key_id == var.dlq_kms_key_arn && aws_sqs_queue.dlq.kms_data_key_reuse_period_seconds == 300
    error_message = "the dead-letter queue uses the customer key"
  }
  assert {
    condition     = aws_cloudwatch_log_group.function.kms_key_id == var.log_kms_key_arn && aws_cloudwatch_log_group.function.retention_in_days == 30
    error_message = "the log group uses the customer key and the retention"
  }
  assert {
    condition     = aws_cloudwatch_metric_alarm.errors.alarm_actions == toset(["arn:aws:sns:us-west-2:111111111111:ops"]) && aws_cloudwatch_metric_alarm.dead_letters.ok_actions == toset(["arn:aws:sns:us-west-2:111111111111:ops"])
    error_message = "alarms notify the given topics"
  }
  assert {
    condition     = length([for s in data.aws_iam_policy_document.function.statement : s if s.sid == "AssociateOnlyTheSsmProfile"][0].condition) == 1
    error_message = "without an opt-out tag key there is no tag condition"
  }
  assert {
    condition     = [for s in data.aws_iam_policy_document.function.statement : s.resources if s.sid == "EncryptDeadLetters"][0] == toset([var.dlq_kms_key_arn])
    error_message = "the function may use the dead-letter queue's key"
  }
}

run "node_log_policy_reaches_the_function_and_may_be_attached" {
  command = plan

  variables {
    node_log_policy_arn = "arn:aws:iam::111111111111:policy/fleetpatch/ss-oregon-managed-node-logs"
  }

  assert {
    condition     = one(aws_lambda_function.this.environment).variables["NODE_LOG_POLICY_ARN"] == var.node_log_policy_arn
    error_message = "the function is given the node log policy (NODE_LOG_POLICY_ARN)"
  }
  assert {
    condition     = [for s in data.aws_iam_policy_document.function.statement : one([for c in s.condition : c.values if c.variable == "iam:PolicyARN" && c.test == "ArnEquals"]) if s.sid == "AttachOnlyTheSsmManagedPolicy"][0] == tolist(["arn:aws:iam::111111111111:policy/ss-oregon-ssm-node-core", "arn:aws:iam::111111111111:policy/fleetpatch/ss-oregon-managed-node-logs"])
    error_message = "AttachRolePolicy is limited to the SSM managed policy and the node log policy"
  }
  assert {
    condition     = [for s in data.aws_iam_policy_document.function.statement : s.actions if s.sid == "AttachOnlyTheSsmManagedPolicy"][0] == toset(["iam:AttachRolePolicy"]) && [for s in data.aws_iam_policy_document.function.statement : s.resources if s.sid == "AttachOnlyTheSsmManagedPolicy"][0] == toset(["arn:aws:iam::111111111111:role/*"])
    error_message = "the statement grants only AttachRolePolicy on the account's roles"
  }
  assert {
    condition     = contains([for s in data.aws_iam_policy_document.function.statement : s.resources if s.sid == "ReadAttachedPolicyDocuments"][0], var.node_log_policy_arn)
    error_message = "the function may read the node log policy"
  }
  assert {
    condition     = aws_iam_role_policy_attachment.ssm_instance.policy_arn == "arn:aws:iam::111111111111:policy/ss-oregon-ssm-node-core"
    error_message = "the module does not attach the log policy to its own SSM role (member_region does)"
  }
}

run "rejects_aws_managed_policy_as_node_log_policy" {
  command = plan
  variables {
    node_log_policy_arn = "arn:aws:iam::aws:policy/AmazonS3FullAccess"
  }
  expect_failures = [var.node_log_policy_arn]
}

run "rejects_non_policy_arn_as_node_log_policy" {
  command = plan
  variables {
    node_log_policy_arn = "arn:aws:iam::111111111111:role/ss-oregon-managed-node-logs"
  }
  expect_failures = [var.node_log_policy_arn]
}

run "rejects_bad_name_prefix" {
  command = plan
  variables {
    name_prefix = "Bad_Prefix"
  }
  expect_failures = [var.name_prefix]
}

run "rejects_missing_package" {
  command = plan
  variables {
    package_path = "build/does-not-exist.zip"
  }
  expect_failures = [var.package_path]
}

run "rejects_unsupported_runtime" {
  command = plan
  variables {
    runtime = "python3.9"
  }
  expect_failures = [var.runtime]
}

run "rejects_bad_architecture" {
  command = plan
  variables {
    architecture = "i386"
  }
  expect_failures = [var.architecture]
}

run "rejects_malformed_layer_arn" {
  command = plan
  variables {
    powertools_layer_arn = "AWSLambdaPowertoolsPythonV3-python311-x86_64"
  }
  expect_failures = [var.powertools_layer_arn]
}

run "rejects_layer_for_another_runtime" {
  command = plan
  variables {
    powertools_layer_arn = "arn:aws:lambda:us-west-2:017000801446:layer:AWSLambdaPowertoolsPythonV3-python312-x86_64:7"
  }
  expect_failures = [var.powertools_layer_arn]
}

run "rejects_bad_schedule" {
  command = plan
  variables {
    sweep_schedule = "every 12 hours"
  }
  expect_failures = [var.sweep_schedule]
}

run "node_core_policy_grants_exactly_the_ssm_core_actions" {
  command = plan

  assert {
    condition     = length(aws_iam_policy.node_core) == 1 && aws_iam_policy.node_core[0].name == "ss-oregon-ssm-node-core"
    error_message = "the module creates its node core policy by default"
  }
  assert {
    condition     = length(jsondecode(aws_iam_policy.node_core[0].policy).Statement) == 1 && toset(jsondecode(aws_iam_policy.node_core[0].policy).Statement[0].Action) == toset(["ec2messages:AcknowledgeMessage", "ec2messages:DeleteMessage", "ec2messages:FailMessage", "ec2messages:GetEndpoint", "ec2messages:GetMessages", "ec2messages:SendReply", "ssm:DescribeAssociation", "ssm:GetDeployablePatchSnapshotForInstance", "ssm:GetDocument", "ssm:ListInstanceAssociations", "ssm:PutComplianceItems", "ssm:PutInventory", "ssm:UpdateInstanceAssociationStatus", "ssm:UpdateInstanceInformation", "ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel", "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel"])
    error_message = "one Allow statement with exactly the SSM core actions (no ssm:GetParameter, no s3, no kms)"
  }
  assert {
    condition     = jsondecode(aws_iam_policy.node_core[0].policy).Statement[0].Effect == "Allow" && !contains(jsondecode(aws_iam_policy.node_core[0].policy).Statement[0].Action, "ssm:GetParameter") && !contains(jsondecode(aws_iam_policy.node_core[0].policy).Statement[0].Action, "ssm:GetParameters")
    error_message = "the node core policy never grants Parameter Store reads"
  }
}

run "aws_managed_node_policy_is_an_opt_in" {
  command = plan

  variables {
    node_policy = "aws_managed"
  }

  assert {
    condition     = length(aws_iam_policy.node_core) == 0 && aws_iam_role_policy_attachment.ssm_instance.policy_arn == "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
    error_message = "node_policy = aws_managed attaches AmazonSSMManagedInstanceCore and creates no policy"
  }
  assert {
    condition     = one(aws_lambda_function.this.environment).variables["SSM_MANAGED_POLICY_NAME"] == "AmazonSSMManagedInstanceCore" && one(aws_lambda_function.this.environment).variables["SSM_NODE_POLICY_ARN"] == ""
    error_message = "the function attaches the AWS managed policy"
  }
  assert {
    condition     = [for s in data.aws_iam_policy_document.function.statement : one([for c in s.condition : c.values if c.variable == "iam:PolicyARN"]) if s.sid == "AttachOnlyTheSsmManagedPolicy"][0] == tolist(["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"])
    error_message = "AttachRolePolicy is limited to the AWS managed policy"
  }
}

run "rejects_unknown_node_policy" {
  command = plan
  variables {
    node_policy = "AmazonSSMManagedInstanceCore"
  }
  expect_failures = [var.node_policy]
}

run "rejects_policy_arn_as_name" {
  command = plan
  variables {
    managed_policy_name = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
  }
  expect_failures = [var.managed_policy_name]
}

run "rejects_reserved_opt_out_tag" {
  command = plan
  variables {
    opt_out_tag_key = "aws:autoscaling:groupName"
  }
  expect_failures = [var.opt_out_tag_key]
}

run "rejects_zero_concurrency" {
  command = plan
  variables {
    reserved_concurrency = 0
  }
  expect_failures = [var.reserved_concurrency]
}

run "rejects_fractional_concurrency" {
  command = plan
  variables {
    reserved_concurrency = 1.5
  }
  expect_failures = [var.reserved_concurrency]
}

run "rejects_long_timeout" {
  command = plan
  variables {
    timeout_seconds = 901
  }
  expect_failures = [var.timeout_seconds]
}

run "rejects_small_memory" {
  command = plan
  variables {
    memory_size = 64
  }
  expect_failures = [var.memory_size]
}

run "rejects_too_many_retries" {
  command = plan
  variables {
    maximum_retry_attempts = 3
  }
  expect_failures = [var.maximum_retry_attempts]
}

run "rejects_bad_log_level" {
  command = plan
  variables {
    log_level = "TRACE"
  }
  expect_failures = [var.log_level]
}

run "rejects_aws_metrics_namespace" {
  command = plan
  variables {
    metrics_namespace = "AWS/Lambda"
  }
  expect_failures = [var.metrics_namespace]
}

run "rejects_unsupported_retention" {
  command = plan
  variables {
    log_retention_days = 10
  }
  expect_failures = [var.log_retention_days]
}

run "rejects_bad_log_kms_key" {
  command = plan
  variables {
    log_kms_key_arn = "alias/logs"
  }
  expect_failures = [var.log_kms_key_arn]
}

run "rejects_bad_dlq_kms_key" {
  command = plan
  variables {
    dlq_kms_key_arn = "my-key"
  }
  expect_failures = [var.dlq_kms_key_arn]
}

run "rejects_non_sns_alarm_action" {
  command = plan
  variables {
    alarm_actions = ["arn:aws:sqs:us-west-2:111111111111:ops"]
  }
  expect_failures = [var.alarm_actions]
}

run "sweep_continuation_can_invoke_only_this_function" {
  command = plan

  assert {
    condition     = [for st in data.aws_iam_policy_document.function.statement : st.resources if st.sid == "ContinueTheSweep"][0] == toset(["arn:aws:lambda:us-west-2:111111111111:function:ss-oregon-role-check", "arn:aws:lambda:us-west-2:111111111111:function:ss-oregon-role-check:*"]) && [for st in data.aws_iam_policy_document.function.statement : st.actions if st.sid == "ContinueTheSweep"][0] == toset(["lambda:InvokeFunction"])
    error_message = "the sweep's continuation may invoke this function (unqualified or a version/alias of it) and nothing else"
  }
  assert {
    condition     = one(aws_lambda_function.this.environment).variables["SWEEP_MAX_GENERATIONS"] == "12" && one(aws_lambda_function.this.environment).variables["SWEEP_DEADLINE_MARGIN_SECONDS"] == "60" && aws_lambda_function.this.timeout == 900
    error_message = "by default a sweep runs 900 s invocations, stops 60 s before the deadline and hands on at most 12 continuations"
  }
}

run "sweep_settings_reach_the_function" {
  command = plan
  variables {
    timeout_seconds               = 300
    sweep_max_generations         = 14
    sweep_deadline_margin_seconds = 150
  }
  assert {
    condition     = one(aws_lambda_function.this.environment).variables["SWEEP_MAX_GENERATIONS"] == "14" && one(aws_lambda_function.this.environment).variables["SWEEP_DEADLINE_MARGIN_SECONDS"] == "150"
    error_message = "the sweep settings follow the inputs"
  }
}

run "rejects_generations_past_lambda_loop_detection" {
  command = plan
  variables {
    sweep_max_generations = 15
  }
  expect_failures = [var.sweep_max_generations]
}

run "rejects_margin_over_half_the_timeout" {
  command = plan
  variables {
    timeout_seconds               = 60
    sweep_deadline_margin_seconds = 40
  }
  expect_failures = [var.sweep_deadline_margin_seconds]
}

run "roles_it_may_modify_limited_by_path_and_tag_in_the_iam_policy" {
  command = plan
  variables {
    modifiable_role_path_prefix = "/apps/"
    modifiable_role_tag         = { key = "fleetpatch:managed", value = "true" }
  }
  assert {
    condition     = one(aws_lambda_function.this.environment).variables["MODIFIABLE_ROLE_PATH_PREFIX"] == "/apps/" && one(aws_lambda_function.this.environment).variables["MODIFIABLE_ROLE_TAG_KEY"] == "fleetpatch:managed" && one(aws_lambda_function.this.environment).variables["MODIFIABLE_ROLE_TAG_VALUE"] == "true"
    error_message = "the limit reaches the function"
  }
  assert {
    condition     = [for s in data.aws_iam_policy_document.function.statement : s.resources if s.sid == "AttachOnlyTheSsmManagedPolicy"][0] == toset(["arn:aws:iam::111111111111:role/apps/*"])
    error_message = "AttachRolePolicy only on roles under the path prefix (the role ARN carries the path)"
  }
  assert {
    condition     = [for s in data.aws_iam_policy_document.function.statement : one([for c in s.condition : c if c.variable == "aws:ResourceTag/fleetpatch:managed"]) if s.sid == "AttachOnlyTheSsmManagedPolicy"][0].test == "StringEquals" && [for s in data.aws_iam_policy_document.function.statement : one([for c in s.condition : c.values if c.variable == "aws:ResourceTag/fleetpatch:managed"]) if s.sid == "AttachOnlyTheSsmManagedPolicy"][0] == tolist(["true"])
    error_message = "AttachRolePolicy only on roles carrying the tag with the value"
  }
  assert {
    condition     = [for s in data.aws_iam_policy_document.function.statement : s.resources if s.sid == "AttachToTheSsmRole"][0] == toset(["arn:aws:iam::111111111111:role/mock-role"]) && length([for s in data.aws_iam_policy_document.function.statement : s.condition if s.sid == "AttachToTheSsmRole"][0]) == 1
    error_message = "the module's own SSM role stays modifiable, only with the attachable policies"
  }
}

run "tag_limit_with_any_value" {
  command = plan
  variables {
    modifiable_role_tag = { key = "fleetpatch:managed" }
  }
  assert {
    condition     = [for s in data.aws_iam_policy_document.function.statement : one([for c in s.condition : c if c.variable == "aws:ResourceTag/fleetpatch:managed"]) if s.sid == "AttachOnlyTheSsmManagedPolicy"][0].test == "Null" && [for s in data.aws_iam_policy_document.function.statement : one([for c in s.condition : c.values if c.variable == "aws:ResourceTag/fleetpatch:managed"]) if s.sid == "AttachOnlyTheSsmManagedPolicy"][0] == tolist(["false"]) && one(aws_lambda_function.this.environment).variables["MODIFIABLE_ROLE_TAG_VALUE"] == ""
    error_message = "any value: the tag must be present (Null false)"
  }
}

run "rejects_path_prefix_without_trailing_slash" {
  command = plan
  variables {
    modifiable_role_path_prefix = "/apps"
  }
  expect_failures = [var.modifiable_role_path_prefix]
}

run "rejects_path_prefix_with_wildcard" {
  command = plan
  variables {
    modifiable_role_path_prefix = "/a*/"
  }
  expect_failures = [var.modifiable_role_path_prefix]
}

run "rejects_reserved_tag_key" {
  command = plan
  variables {
    modifiable_role_tag = { key = "aws:cloudformation:stack-name" }
  }
  expect_failures = [var.modifiable_role_tag]
}
