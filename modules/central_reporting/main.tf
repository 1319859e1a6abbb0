data "aws_partition" "current" {}
data "aws_caller_identity" "current" {}
data "aws_region" "current" {}

locals {
  partition  = data.aws_partition.current.partition
  account_id = data.aws_caller_identity.current.account_id
  region     = data.aws_region.current.name

  # S3 bucket names are global within a partition (modules/log_buckets README "Bucket names are
  # global"): "none" keeps <prefix>-<purpose>; "account" / "account-region" append this account's
  # id (and Region code), which no other account's fleetpatch produces.
  # https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
  bucket_name_suffix = {
    none             = ""
    account          = "-${local.account_id}"
    "account-region" = "-${local.account_id}-${local.region}"
  }[var.bucket_name_suffix]
  sync_bucket_name    = "${var.name_prefix}-ssm-data-sync${local.bucket_name_suffix}"
  results_bucket_name = "${var.name_prefix}-athena-results${local.bucket_name_suffix}"
  glue_database_name  = replace("${var.name_prefix}_ssm_inventory", "-", "_")
  key_prefix          = var.sync_prefix == "" ? "" : "${var.sync_prefix}/"
  kms_key_arn         = var.kms_key_arn != null ? var.kms_key_arn : aws_kms_key.reporting[0].arn

  # Table definitions shared with the local report (tools/report reads the same file).
  tables = jsondecode(file("${path.module}/schema/resource_data_sync.json")).tables

  # Athena named queries: the same SQL files the local DuckDB report runs.
  query_files = fileset("${path.module}/queries", "*.sql")
  queries = {
    for f in local.query_files : trimsuffix(f, ".sql") => {
      sql         = file("${path.module}/queries/${f}")
      description = trimspace(one(regex("(?m)^--\\s*description:\\s*(.+)$", file("${path.module}/queries/${f}"))))
    }
  }

  buckets = {
    sync    = local.sync_bucket_name
    results = local.results_bucket_name
  }

  # Policies that name the member accounts are built with jsonencode from ARNs known at plan, so
  # plan shows (and checks) the exact JSON AWS receives. Each one grows by at most one account id
  # per member account, and by nothing with organization_id (README "Policy sizes").
  sync_bucket_arn = "arn:${local.partition}:s3:::${local.sync_bucket_name}"
  # ${aws:SourceAccount} is a policy variable (any single-valued condition key can be one:
  # https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_variables.html): each
  # account's sync may write only under its own top-level folder <prefix>/<its account id>/,
  # one resource for all accounts. The account id comes right after the fixed prefix, with no
  # wildcard before it: a "*" there would span slashes, and a sync whose S3 Prefix the member
  # chooses (".../accountid=<other account>/...") could land in another account's partition.
  # member_region sets each sync's Prefix to <sync_prefix>/<account id>; the Glue location
  # template reads partition accountid=X only under folder X (README "Who can write where").
  sync_object_arn       = "${local.sync_bucket_arn}/${local.key_prefix}$${aws:SourceAccount}/*"
  sync_source_arn       = "arn:${local.partition}:ssm:*:$${aws:SourceAccount}:resource-data-sync/*"
  other_member_accounts = [for id in var.member_account_ids : id if id != local.account_id]
  event_bus_arn         = "arn:${local.partition}:events:${local.region}:${local.account_id}:event-bus/default"

  # Who may use the sync bucket and key through ssm.amazonaws.com: the organization
  # (aws:SourceOrgID, the form of "Creating an inventory resource data sync for accounts defined
  # in AWS Organizations") or the listed accounts (aws:SourceAccount), this (central) account
  # always included: its own Resource Data Sync writing its own accountid= folder is never denied.
  ssm_source_accounts = distinct(concat(var.member_account_ids, [local.account_id]))
  ssm_source          = { (var.organization_id != null ? "aws:SourceOrgID" : "aws:SourceAccount") = var.organization_id != null ? [var.organization_id] : local.ssm_source_accounts }

  sync_bucket_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid       = "SSMBucketPermissionsCheck"
        Effect    = "Allow"
        Principal = { Service = "ssm.amazonaws.com" }
        Action    = "s3:GetBucketAcl"
        Resource  = local.sync_bucket_arn
      },
      {
        Sid       = "SSMBucketDelivery"
        Effect    = "Allow"
        Principal = { Service = "ssm.amazonaws.com" }
        Action    = "s3:PutObject"
        Resource  = local.sync_object_arn
        Condition = {
          StringEquals = { "s3:x-amz-acl" = "bucket-owner-full-control" }
          ArnLike      = { "aws:SourceArn" = local.sync_source_arn }
        }
      },
      {
        Sid       = "SSMBucketDeliveryTagging"
        Effect    = "Allow"
        Principal = { Service = "ssm.amazonaws.com" }
        Action    = "s3:PutObjectTagging"
        Resource  = local.sync_object_arn
        Condition = {
          ArnLike = { "aws:SourceArn" = local.sync_source_arn }
        }
      },
      {
        # The one list of accounts (or the organization id): ssm.amazonaws.com acting for any
        # other account, or for no account, is denied everything on the bucket.
        Sid       = "DenySSMForOtherAccounts"
        Effect    = "Deny"
        Principal = { Service = "ssm.amazonaws.com" }
        Action    = ["s3:GetBucketAcl", "s3:PutObject", "s3:PutObjectTagging"]
        Resource  = [local.sync_bucket_arn, "${local.sync_bucket_arn}/*"]
        Condition = { StringNotEquals = local.ssm_source }
      },
      {
        Sid       = "DenyInsecureTransport"
        Effect    = "Deny"
        Principal = "*"
        Action    = "s3:*"
        Resource  = [local.sync_bucket_arn, "${local.sync_bucket_arn}/*"]
        Condition = { Bool = { "aws:SecureTransport" = "false" } }
      },
    ]
  })

  # The default bus's resource policy: one statement for every member account (aws:PrincipalAccount
  # list, or aws:PrincipalOrgID) and only their forwarder roles (aws:PrincipalArn, the role ARN
  # of an assumed-role session: https://docs.aws.amazon.com/IAM/latest/UserGuide/
  # reference_policies_condition-keys.html#condition-keys-principalarn), plus the statements
  # other tools need on this bus. Constant size: the role names are patterns over every account.
  event_bus_statement = {
    Sid       = "fleetpatch-${var.name_prefix}-members"
    Effect    = "Allow"
    Principal = "*"
    Action    = "events:PutEvents"
    Resource  = local.event_bus_arn
    Condition = {
      StringEquals = { (var.organization_id != null ? "aws:PrincipalOrgID" : "aws:PrincipalAccount") = var.organization_id != null ? [var.organization_id] : local.other_member_accounts }
      ArnLike      = { "aws:PrincipalArn" = [for n in var.member_forwarder_role_names : "arn:${local.partition}:iam::*:role/${n}"] }
    }
  }
  event_bus_member_statements = var.organization_id != null || length(local.other_member_accounts) > 0 ? [local.event_bus_statement] : []
  event_bus_policy_enabled    = var.accept_member_compliance_events && length(concat(local.event_bus_member_statements, var.event_bus_policy_statements)) > 0
  event_bus_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = concat(local.event_bus_member_statements, var.event_bus_policy_statements)
  })

  # The created key's policy. In a key policy, Resource "*" means this key.
  key_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        # The AWS default key policy written out action by action: it delegates the key to IAM
        # policies of this account (Athena users, QuickSight) so nobody else needs a key-policy
        # change.
        Sid       = "AccountAdministersKeyThroughIam"
        Effect    = "Allow"
        Principal = { AWS = "arn:${local.partition}:iam::${local.account_id}:root" }
        Action = [
          "kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*",
          "kms:Revoke*", "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:TagResource", "kms:UntagResource",
          "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion", "kms:RotateKeyOnDemand",
          "kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*",
        ]
        Resource = "*"
      },
      {
        # Resource Data Sync encrypts what it writes with this key on behalf of the member
        # accounts: one list of accounts (or the organization id). aws:SourceArn is a sync of any
        # account: SSM sets it to the sync of the account in aws:SourceAccount, so the pair stays
        # per account without a second list (no policy variable needed in the key policy).
        Sid       = "ResourceDataSyncOfMemberAccounts"
        Effect    = "Allow"
        Principal = { Service = "ssm.amazonaws.com" }
        Action    = "kms:GenerateDataKey"
        Resource  = "*"
        Condition = {
          StringEquals = local.ssm_source
          ArnLike      = { "aws:SourceArn" = "arn:${local.partition}:ssm:*:*:resource-data-sync/*" }
        }
      },
      {
        Sid       = "EventBridgePublishesToEncryptedTopic"
        Effect    = "Allow"
        Principal = { Service = "events.amazonaws.com" }
        Action    = ["kms:Decrypt", "kms:GenerateDataKey"]
        Resource  = "*"
        Condition = { StringEquals = { "aws:SourceAccount" = local.account_id } }
      },
    ]
  })

  # Documented size limits (README "Policy sizes").
  policy_limits = {
    sync_bucket = 20480 # https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-iam-policies.html
    event_bus   = 10240 # https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-quota.html
    kms_key     = 32768 # https://docs.aws.amazon.com/kms/latest/developerguide/key-policy-overview.html
  }
}

################################################################################
# KMS key: sync bucket, Athena results, central topic
################################################################################

resource "aws_kms_key" "reporting" {
  count = var.kms_key_arn == null ? 1 : 0

  description             = "Encrypts the fleetpatch central Resource Data Sync bucket, Athena results and compliance topic (${var.name_prefix})."
  enable_key_rotation     = true
  deletion_window_in_days = var.kms_key_deletion_window_days
  policy                  = local.key_policy
  tags                    = var.tags

  lifecycle {
    precondition {
      condition     = length(local.key_policy) <= local.policy_limits.kms_key
      error_message = "The key policy is ${length(local.key_policy)} bytes, over the 32,768 bytes KMS accepts: set organization_id (aws:SourceOrgID) instead of listing the accounts."
    }
  }
}

resource "aws_kms_alias" "reporting" {
  count = var.kms_key_arn == null ? 1 : 0

  name          = "alias/${var.name_prefix}-reporting"
  target_key_id = aws_kms_key.reporting[0].key_id
}

################################################################################
# Buckets: the central Resource Data Sync destination and the Athena results
################################################################################

resource "aws_s3_bucket" "this" {
  #checkov:skip=CKV2_AWS_62:Resource Data Sync rewrites every node's objects on each inventory run; nothing consumes per-object events (Athena reads on demand), so notifications would only add noise.
  #checkov:skip=CKV_AWS_144:The sync bucket is itself the cross-account, cross-Region aggregation point and the results bucket holds re-creatable query output; replicating either adds cost without recovering anything the sources cannot resend.
  for_each = local.buckets

  bucket        = each.value
  force_destroy = var.force_destroy
  tags          = merge(var.tags, { Name = each.value, "fleetpatch:purpose" = each.key })

  lifecycle {
    # General purpose bucket naming rules, on the final name (the suffix adds up to 28 characters).
    precondition {
      condition = (
        length(each.value) >= 3 && length(each.value) <= 63 &&
        can(regex("^[a-z0-9][a-z0-9.-]*[a-z0-9]$", each.value)) && !strcontains(each.value, "..") &&
        !can(regex("^(xn--|sthree-|amzn-s3-demo-)", each.value)) &&
        !can(regex("(-s3alias|--ol-s3|\\.mrap|--x-s3)$", each.value))
      )
      error_message = "Bucket name ${each.value} (${length(each.value)} characters) breaks the S3 general purpose bucket naming rules: 3-63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit, no \"..\", not starting with xn--, sthree- or amzn-s3-demo-, not ending with -s3alias, --ol-s3, .mrap or --x-s3. Shorten name_prefix or choose a shorter bucket_name_suffix."
    }
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  for_each = aws_s3_bucket.this

  bucket                  = each.value.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_ownership_controls" "this" {
  for_each = aws_s3_bucket.this

  bucket = each.value.id
  rule {
    # ACLs off. Resource Data Sync still sends x-amz-acl: bucket-owner-full-control, the one
    # ACL a BucketOwnerEnforced bucket accepts.
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_versioning" "this" {
  for_each = aws_s3_bucket.this

  bucket = each.value.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  for_each = aws_s3_bucket.this

  bucket = each.value.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = local.kms_key_arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  for_each = aws_s3_bucket.this

  bucket = each.value.id

  rule {
    id     = "retention"
    status = "Enabled"
    filter {}

    dynamic "expiration" {
      for_each = each.key == "results" ? [1] : []
      content {
        days = var.athena_results_expiration_days
      }
    }

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_version_expiration_days
    }

    abort_incomplete_multipart_upload {
      days_after_initiation = 7
    }
  }
}

resource "aws_s3_bucket_logging" "this" {
  for_each = var.access_log_bucket == null ? {} : aws_s3_bucket.this

  bucket        = each.value.id
  target_bucket = var.access_log_bucket
  target_prefix = "s3-access/${each.value.id}/"
}

data "aws_iam_policy_document" "results_bucket" {
  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      aws_s3_bucket.this["results"].arn,
      "${aws_s3_bucket.this["results"].arn}/*",
    ]
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

# The bucket policy AWS documents for a Resource Data Sync destination shared by several accounts
# ("Creating a resource data sync for Inventory", AWS Systems Manager User Guide:
# https://docs.aws.amazon.com/systems-manager/latest/userguide/inventory-create-resource-data-sync.html):
# SSM checks the bucket ACL, then writes (and tags) each account's objects under
# <prefix>/<that account>/ only, with bucket-owner-full-control (local.sync_bucket_policy).
resource "aws_s3_bucket_policy" "sync" {
  bucket = aws_s3_bucket.this["sync"].id
  policy = local.sync_bucket_policy

  depends_on = [aws_s3_bucket_public_access_block.this]

  lifecycle {
    precondition {
      condition     = length(local.sync_bucket_policy) <= local.policy_limits.sync_bucket
      error_message = "The sync bucket policy is ${length(local.sync_bucket_policy)} bytes, over the 20 KB S3 accepts: set organization_id (aws:SourceOrgID) instead of listing the accounts."
    }
  }
}

resource "aws_s3_bucket_policy" "results" {
  bucket = aws_s3_bucket.this["results"].id
  policy = data.aws_iam_policy_document.results_bucket.json

  depends_on = [aws_s3_bucket_public_access_block.this]
}

################################################################################
# Glue: one table per Resource Data Sync type, partition projection over the layout
################################################################################

resource "aws_glue_catalog_database" "this" {
  name        = local.glue_database_name
  description = "fleetpatch: Systems Manager inventory and compliance from the central Resource Data Sync bucket s3://${local.sync_bucket_name}/${local.key_prefix}"
  tags        = var.tags
}

resource "aws_glue_catalog_table" "this" {
  for_each = local.tables

  name          = each.key
  database_name = aws_glue_catalog_database.this.name
  description   = "Resource Data Sync type ${each.value.type_name} (one JSON object per managed node)."
  table_type    = "EXTERNAL_TABLE"

  # Partition projection: Athena computes the partitions from the account ids and Regions
  # below, so no crawler or MSCK REPAIR is needed and new nodes are visible at once. The
  # template names ${accountid} twice (a placeholder may repeat: "Specifying custom S3 storage
  # locations", https://docs.aws.amazon.com/athena/latest/ug/partition-projection-setting-up.html):
  # partition accountid=X is read only under X's own top-level folder, the one only X's sync
  # can write (local.sync_object_arn), whatever a sync puts after it.
  parameters = {
    EXTERNAL                         = "TRUE"
    classification                   = "json"
    "projection.enabled"             = "true"
    "projection.accountid.type"      = "enum"
    "projection.accountid.values"    = join(",", var.member_account_ids)
    "projection.region.type"         = "enum"
    "projection.region.values"       = join(",", var.member_regions)
    "projection.resourcetype.type"   = "enum"
    "projection.resourcetype.values" = "ManagedInstanceInventory"
    "storage.location.template"      = "s3://${local.sync_bucket_name}/${local.key_prefix}$${accountid}/${each.value.type_name}/accountid=$${accountid}/region=$${region}/resourcetype=$${resourcetype}/"
  }

  storage_descriptor {
    # The prefix root; each partition's location comes from storage.location.template.
    location      = "s3://${local.sync_bucket_name}/${local.key_prefix}"
    input_format  = "org.apache.hadoop.mapred.TextInputFormat"
    output_format = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"

    ser_de_info {
      name                  = "json"
      serialization_library = "org.openx.data.jsonserde.JsonSerDe"
      # Keys are matched case-insensitively; a column whose name differs from its JSON key
      # (noderesourcetype <- ResourceType, which would clash with the partition key) is mapped.
      parameters = merge(
        { "case.insensitive" = "true" },
        { for c in each.value.columns : "mapping.${c.name}" => lower(c.key) if c.name != lower(c.key) },
      )
    }

    dynamic "columns" {
      for_each = each.value.columns
      content {
        name    = columns.value.name
        type    = columns.value.type
        comment = "Resource Data Sync key ${columns.value.key}"
      }
    }
  }

  partition_keys {
    name = "accountid"
    type = "string"
  }
  partition_keys {
    name = "region"
    type = "string"
  }
  partition_keys {
    name = "resourcetype"
    type = "string"
  }
}

################################################################################
# Athena: workgroup with encrypted, enforced results, and the named queries
################################################################################

resource "aws_athena_workgroup" "this" {
  name          = "${var.name_prefix}-fleet-reporting"
  description   = "fleetpatch compliance and inventory queries over the central Resource Data Sync bucket."
  force_destroy = var.force_destroy
  state         = "ENABLED"

  configuration {
    enforce_workgroup_configuration    = true
    publish_cloudwatch_metrics_enabled = true
    bytes_scanned_cutoff_per_query     = var.athena_bytes_scanned_cutoff

    engine_version {
      selected_engine_version = "Athena engine version 3"
    }

    result_configuration {
      output_location       = "s3://${aws_s3_bucket.this["results"].id}/results/"
      expected_bucket_owner = local.account_id

      encryption_configuration {
        encryption_option = "SSE_KMS"
        kms_key_arn       = local.kms_key_arn
      }
    }
  }

  tags = var.tags
}

resource "aws_athena_named_query" "this" {
  for_each = local.queries

  name        = "${var.name_prefix}-${each.key}"
  description = substr(each.value.description, 0, 1024)
  database    = aws_glue_catalog_database.this.name
  workgroup   = aws_athena_workgroup.this.id
  query       = each.value.sql
}

################################################################################
# AWS Config aggregator over the member accounts and Regions
################################################################################

resource "aws_config_configuration_aggregator" "this" {
  count = var.aggregator_mode == "none" ? 0 : 1

  name = "${var.name_prefix}-fleet"

  dynamic "account_aggregation_source" {
    for_each = var.aggregator_mode == "accounts" ? [1] : []
    content {
      account_ids = var.member_account_ids
      all_regions = var.aggregator_all_regions
      regions     = var.aggregator_all_regions ? null : var.member_regions
    }
  }

  dynamic "organization_aggregation_source" {
    for_each = var.aggregator_mode == "organization" ? [1] : []
    content {
      role_arn    = var.organization_aggregator_role_arn
      all_regions = var.aggregator_all_regions
      regions     = var.aggregator_all_regions ? null : var.member_regions
    }
  }

  tags = var.tags
}

################################################################################
# Central topic for NON_COMPLIANT changes forwarded by the member accounts
################################################################################

resource "aws_sns_topic" "compliance" {
  name              = "${var.name_prefix}-fleet-compliance"
  kms_master_key_id = local.kms_key_arn
  tags              = var.tags
}

# This account's default bus: one statement lets every other member account (or the whole
# organization) put events; this account's own Config events need no permission. The module
# writes the bus's whole resource policy (PutPermission with Policy): statements other tools need
# on this bus go in event_bus_policy_statements.
resource "aws_cloudwatch_event_bus_policy" "members" {
  count = local.event_bus_policy_enabled ? 1 : 0

  event_bus_name = "default"
  policy         = local.event_bus_policy

  lifecycle {
    precondition {
      condition     = length(local.event_bus_policy) <= local.policy_limits.event_bus
      error_message = "The default event bus policy is ${length(local.event_bus_policy)} characters, over EventBridge's 10,240 (an adjustable quota): set organization_id (aws:PrincipalOrgID) instead of listing the accounts."
    }
  }
}

resource "aws_cloudwatch_event_rule" "member_non_compliant" {
  count = var.accept_member_compliance_events ? 1 : 0

  name        = "${var.name_prefix}-member-non-compliant"
  description = "A member account forwarded an AWS Config rule change to NON_COMPLIANT."

  # Event patterns are limited to 4,096 characters (the provider checks it at plan), about 260
  # account ids: the pattern does not list the accounts. Only accounts the bus policy admits can
  # put events on this bus, so "any account" means the members; this account's own Config events
  # are left out unless it is a member itself.
  event_pattern = jsonencode(merge({
    source        = ["aws.config"]
    "detail-type" = ["Config Rules Compliance Change"]
    detail = {
      messageType         = ["ComplianceChangeNotification"]
      newEvaluationResult = { complianceType = ["NON_COMPLIANT"] }
    }
  }, contains(var.member_account_ids, local.account_id) ? {} : { account = [{ "anything-but" = [local.account_id] }] }))

  tags = var.tags
}

resource "aws_cloudwatch_event_target" "member_non_compliant" {
  count = var.accept_member_compliance_events ? 1 : 0

  rule      = aws_cloudwatch_event_rule.member_non_compliant[0].name
  target_id = "central-compliance-topic"
  arn       = aws_sns_topic.compliance.arn
}

data "aws_iam_policy_document" "topic" {
  dynamic "statement" {
    for_each = var.accept_member_compliance_events ? [1] : []
    content {
      sid       = "EventBridgeRulePublishes"
      effect    = "Allow"
      actions   = ["sns:Publish"]
      resources = [aws_sns_topic.compliance.arn]
      principals {
        type        = "Service"
        identifiers = ["events.amazonaws.com"]
      }
      condition {
        test     = "ArnEquals"
        variable = "aws:SourceArn"
        values   = [aws_cloudwatch_event_rule.member_non_compliant[0].arn]
      }
    }
  }

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["sns:Publish", "sns:Subscribe"]
    resources = [aws_sns_topic.compliance.arn]
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

resource "aws_sns_topic_policy" "compliance" {
  arn    = aws_sns_topic.compliance.arn
  policy = data.aws_iam_policy_document.topic.json
}
