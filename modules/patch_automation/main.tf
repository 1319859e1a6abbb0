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
  events_source_arns = [for g in sort(keys(local.schedules)) : "arn:${local.partition}:events:${local.region}:${local.account}:rule/${var.name_prefix}-patch-${g}"]

  document_name = "${var.name_prefix}-PatchRun"
  marker_tag    = "fleetpatch:started-by"
  patch_tag     = "fleetpatch:patch-run"
  asg_tag       = "aws:autoscaling:groupName"

  # Override URLs (BaselineOverride / InstallOverrideList): a patch baseline may name its own
  # package repositories, and every targeted node installs what the override says, as root.
  # Only s3:// objects under the approved override_s3_prefixes are accepted: the document's
  # allowedPattern of both parameters is rendered from them (SSM refuses a StartAutomationExecution
  # whose parameter value does not match the parameter's allowedPattern, "Data elements and
  # parameters", allowedPattern: https://docs.aws.amazon.com/systems-manager/latest/userguide/documents-syntax-data-elements-parameters.html;
  # InvalidAutomationExecutionParametersException of StartAutomationExecution). No prefix: "^$",
  # only the empty default. https:// is never accepted: an HTTPS URL cannot be scoped to an owner.
  # The prefixes hold only letters, digits, _ . - and / (validation): escaping the dots makes each
  # a literal in RE2 (Terraform's regex) and in SSM's pattern matching alike.
  override_prefix_alternation = join("|", [for p in var.override_s3_prefixes : replace(p, ".", "\\.")])
  override_url_pattern        = length(var.override_s3_prefixes) == 0 ? "^$" : "^(s3://(${local.override_prefix_alternation})\\S+)?$"
  scheduled_override_urls     = [for u in [var.baseline_override, var.install_override_list] : u if u != ""]

  # Objects the ValidateInputs step checks with S3 HeadObject (s3:GetObject): the approved
  # prefixes (the scheduled override URLs lie under them, precondition on the document).
  override_object_arns = [for p in var.override_s3_prefixes : "arn:${local.partition}:s3:::${p}*"]

  # The Automation document is rendered from ssm_documents/src + scripts by `make documents`
  # and committed, so a clean checkout plans without a build step. Three values are the module's
  # (ssm_documents/render.py does the same for the tests): the override URL pattern, the approved
  # prefixes ValidateInputs checks again (rendered, not a parameter: a caller cannot widen them)
  # and the output bucket of PatchNodes (output_s3_bucket_name, not a parameter either).
  document_content = replace(replace(replace(
    file("${path.module}/../../ssm_documents/generated/patch_run.yaml"),
    "^$ # @@override_url_pattern@@", jsonencode(local.override_url_pattern)),
    "[] # @@override_s3_prefixes@@", jsonencode(var.override_s3_prefixes)),
  "@@output_s3_bucket_name@@", var.output_s3_bucket_name)

  automation_definition_arn = "arn:${local.partition}:ssm:${local.region}:${local.account}:automation-definition/${local.document_name}:$DEFAULT"
  instance_arns             = "arn:${local.partition}:ec2:${local.region}:${local.account}:instance/*"
  managed_instance_arns     = "arn:${local.partition}:ssm:${local.region}:${local.account}:managed-instance/*"
  aws_document_arns = [
    for d in ["AWS-RunPatchBaseline", "AWS-UpdateSSMAgent"] : "arn:${local.partition}:ssm:${local.region}::document/${d}"
  ]

  schedules = { for g in var.patch_groups : g => lookup(var.schedule_overrides, g, var.schedule_expression) }

  # Tag condition shared by the instance-changing statements: only instances of the managed
  # patch groups.
  patch_group_condition = {
    "aws:ResourceTag/${var.patch_group_tag_key}" = var.patch_groups
  }
}

resource "aws_ssm_document" "patch_run" {
  name            = local.document_name
  document_type   = "Automation"
  document_format = "YAML"
  content         = local.document_content
  tags            = var.tags

  lifecycle {
    precondition {
      condition     = alltrue([for u in local.scheduled_override_urls : can(regex(local.override_url_pattern, u))])
      error_message = "baseline_override and install_override_list must be s3:// URLs of an object under one of override_s3_prefixes (${jsonencode(var.override_s3_prefixes)}); the document refuses any other override URL."
    }
  }
}

# --- the Automation assume role ---------------------------------------------------------------

resource "aws_iam_role" "automation" {
  name                 = "${var.name_prefix}-patch-run-automation"
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
  name = "patch-run"
  role = aws_iam_role.automation.id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = concat([
      {
        # These Describe/List/Get calls support no resource-level permissions.
        Sid    = "ReadFleetState"
        Effect = "Allow"
        Action = [
          "ec2:DescribeInstances",
          "ssm:DescribeInstanceInformation",
          "ssm:ListCommands",
          "ssm:ListCommandInvocations",
          "ssm:GetCommandInvocation",
        ]
        Resource = "*"
      },
      {
        # The Summarize step reads the execution's own steps (read-only; requested on "*").
        Sid      = "ReadOwnExecution"
        Effect   = "Allow"
        Action   = ["ssm:DescribeAutomationStepExecutions", "ssm:GetAutomationExecution"]
        Resource = "*"
      },
      {
        # Only instances of the managed patch groups that carry a run's marker tag (step 1 tags
        # before anything is started, and the tag is removed after the stop).
        Sid      = "StartStopClaimedInstances"
        Effect   = "Allow"
        Action   = ["ec2:StartInstances", "ec2:StopInstances"]
        Resource = local.instance_arns
        # Never an Auto Scaling group member: stopping one makes the group replace it.
        Condition = { StringEquals = local.patch_group_condition, Null = { "aws:ResourceTag/${local.marker_tag}" = "false", "aws:ResourceTag/${local.asg_tag}" = "true" } }
      },
      {
        # Only the two marker tags, only on instances of the managed patch groups.
        Sid      = "TagClaimedInstances"
        Effect   = "Allow"
        Action   = ["ec2:CreateTags", "ec2:DeleteTags"]
        Resource = local.instance_arns
        # ForAllValues is true for a request that names no tag keys, and EC2 DeleteTags without
        # Tags deletes every user tag: the Null condition requires the request to name its keys.
        # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-single-vs-multi-valued-context-keys.html
        Condition = {
          StringEquals                = local.patch_group_condition
          "ForAllValues:StringEquals" = { "aws:TagKeys" = [local.marker_tag, local.patch_tag] }
          Null                        = { "aws:TagKeys" = "false" }
        }
      },
      {
        # Hybrid (mi-) nodes of the managed patch groups get the patch-set tag the same way
        # (PatchNodes targets that tag, so a node outside them is never sent the command).
        Sid      = "TagSelectedHybridNodes"
        Effect   = "Allow"
        Action   = ["ssm:AddTagsToResource", "ssm:RemoveTagsFromResource"]
        Resource = local.managed_instance_arns
        Condition = {
          StringEquals                = local.patch_group_condition
          "ForAllValues:StringEquals" = { "aws:TagKeys" = [local.patch_tag] }
          Null                        = { "aws:TagKeys" = "false" }
        }
      },
      {
        # ResourceGroupName targets: ListGroupResources of a tag-based group needs
        # resource-groups:ListGroupResources and tag:GetResources (its API reference, "Minimum
        # permissions"); tag:GetResources supports no resource-level permissions.
        # https://docs.aws.amazon.com/ResourceGroups/latest/APIReference/API_ListGroupResources.html
        Sid      = "ListResourceGroupMembers"
        Effect   = "Allow"
        Action   = ["resource-groups:ListGroupResources"]
        Resource = "arn:${local.partition}:resource-groups:${local.region}:${local.account}:group/*"
      },
      {
        Sid      = "ResolveTagBasedGroups"
        Effect   = "Allow"
        Action   = ["tag:GetResources"]
        Resource = "*"
      },
      {
        # PatchNodes and UpdateSsmAgent send by tag (Targets = the run's own patch-run tag, fixed
        # in the document, not a parameter). AWS documents the tag condition of SendCommand on
        # instance resources ("Restricting Run Command access based on tags", ssm:resourceTag
        # on instance/*:
        # https://docs.aws.amazon.com/systems-manager/latest/userguide/run-command-setting-up.html#tag-based-access)
        # but not that the nodes a tag target resolves to are authorized with their tags. The
        # conservative reading (tests/emulator/auth.py): a tag-targeted request is authorized on
        # instance/* + managed-instance/* with no node's tags, so a patch-group tag condition
        # on this Allow would refuse every run; sending by InstanceIds instead (each node
        # authorized with its tags) caps a command at 50 nodes (select_nodes.py). The reach of
        # the tag targets is bounded by TagClaimedInstances / TagSelectedHybridNodes: only nodes
        # of the managed patch groups can be given the patch-run tag.
        Sid      = "RunPatchAndAgentUpdateDocuments"
        Effect   = "Allow"
        Action   = ["ssm:SendCommand"]
        Resource = concat(local.aws_document_arns, [local.instance_arns, local.managed_instance_arns])
      },
      {
        # Wherever a node's tags are evaluated (SendCommand by InstanceIds: each node is
        # authorized with its tags, aws:ResourceTag / ssm:resourceTag), never a node that belongs
        # to another patch group. A node without the tag key and the tag-targeted request (no
        # tags in the context) are not matched: see RunPatchAndAgentUpdateDocuments.
        Sid      = "NeverCommandOtherPatchGroups"
        Effect   = "Deny"
        Action   = ["ssm:SendCommand"]
        Resource = [local.instance_arns, local.managed_instance_arns]
        Condition = {
          Null            = { "aws:ResourceTag/${var.patch_group_tag_key}" = "false" }
          StringNotEquals = local.patch_group_condition
        }
      },
      {
        # Cancelling the execution cancels its running command. CancelCommand supports no
        # resource-level permissions.
        Sid      = "CancelOwnCommands"
        Effect   = "Allow"
        Action   = ["ssm:CancelCommand"]
        Resource = "*"
      },
      ],
      length(local.override_object_arns) == 0 ? [] : [{
        # ValidateInputs: S3 HeadObject of the override objects needs s3:GetObject.
        Sid      = "CheckOverrideObjects"
        Effect   = "Allow"
        Action   = ["s3:GetObject"]
        Resource = local.override_object_arns
      }],
      var.notification_topic_arn == null ? [] : [{
        Sid      = "NotifyFailedRuns"
        Effect   = "Allow"
        Action   = ["sns:Publish"]
        Resource = [var.notification_topic_arn]
      }],
      var.notification_topic_arn == null || var.notification_kms_key_arn == null ? [] : [{
        # Publishing to a topic encrypted with a customer managed key (SNS Developer Guide,
        # sns-key-management.html): GenerateDataKey + Decrypt through SNS only.
        Sid       = "EncryptNotifications"
        Effect    = "Allow"
        Action    = ["kms:GenerateDataKey", "kms:Decrypt"]
        Resource  = [var.notification_kms_key_arn]
        Condition = { StringEquals = { "kms:ViaService" = "sns.${local.region}.amazonaws.com" } }
      }],
      length(var.ebs_kms_key_arns) == 0 ? [] : [{
        Sid       = "StartInstancesWithEncryptedVolumes"
        Effect    = "Allow"
        Action    = ["kms:CreateGrant"]
        Resource  = var.ebs_kms_key_arns
        Condition = { Bool = { "kms:GrantIsForAWSResource" = "true" }, StringEquals = { "kms:ViaService" = "ec2.${local.region}.amazonaws.com" } }
    }])
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
  name                 = "${var.name_prefix}-patch-run-events"
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
  name = "start-patch-run"
  role = aws_iam_role.events.id

  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "StartThePatchRun"
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

resource "aws_cloudwatch_event_rule" "patch_run" {
  for_each = local.schedules

  name                = "${var.name_prefix}-patch-${each.key}"
  description         = "Starts ${local.document_name} (${var.operation}) on patch group ${each.key}."
  schedule_expression = each.value
  state               = var.enabled ? "ENABLED" : "DISABLED"
  tags                = var.tags
}

resource "aws_cloudwatch_event_target" "patch_run" {
  for_each = aws_cloudwatch_event_rule.patch_run

  rule      = each.value.name
  target_id = "patch-run"
  arn       = local.automation_definition_arn
  role_arn  = aws_iam_role.events.arn

  # Automation parameters: every value is a list of strings. The optional overrides are only
  # passed when set, so the document's defaults apply otherwise.
  input = jsonencode(merge(
    {
      AutomationAssumeRole = [aws_iam_role.automation.arn]
      PatchGroupTagKey     = [var.patch_group_tag_key]
      PatchGroup           = [each.key]
      Operation            = [var.operation]
      RebootOption         = [var.reboot_option]
      MaxConcurrency       = [var.max_concurrency]
      MaxErrors            = [var.max_errors]
      OutputS3KeyPrefix    = ["${var.output_s3_key_prefix}/${each.key}"]
      OnlineTimeoutSeconds = [tostring(var.online_timeout_seconds)]
      PatchTimeoutSeconds  = [tostring(var.patch_timeout_seconds)]
      OptOutTagKey         = [var.opt_out_tag_key]
      MetricsNamespace     = [var.janitor_metrics_namespace]
    },
    var.notification_topic_arn == null ? {} : { NotificationTopicArn = [var.notification_topic_arn] },
    var.baseline_override == "" ? {} : { BaselineOverride = [var.baseline_override] },
    var.install_override_list == "" ? {} : { InstallOverrideList = [var.install_override_list] },
  ))

  # The document must exist before a schedule can start it.
  depends_on = [aws_ssm_document.patch_run, aws_iam_role_policy.events]
}
