data "aws_partition" "current" {}
data "aws_caller_identity" "current" {}
data "aws_region" "current" {}

locals {
  # S3 bucket names are global within a partition: "none" keeps <prefix>-<purpose> (the names of
  # existing deployments; changing a bucket name replaces the bucket), "account" and
  # "account-region" append this account's id (and the Region code), which no other account's
  # fleetpatch produces. Not the account regional namespace (names ending in -an, created with
  # CreateBucket's bucket namespace, which provider 5.100 cannot request): the name stays in the
  # global namespace. https://docs.aws.amazon.com/AmazonS3/latest/userguide/gpbucketnamespaces.html
  name_suffix = {
    none             = ""
    account          = "-${data.aws_caller_identity.current.account_id}"
    "account-region" = "-${data.aws_caller_identity.current.account_id}-${data.aws_region.current.name}"
  }[var.bucket_name_suffix]
  buckets = { for b in var.buckets : b => "${var.name_prefix}-${b}${local.name_suffix}" }
}

resource "aws_s3_bucket" "this" {
  #checkov:skip=CKV2_AWS_62:Log buckets are written by SSM and read by Athena/operators; nothing reacts to new objects, so event notifications would have no consumer.
  #checkov:skip=CKV_AWS_144:Patch and inventory logs are regional by design; the cross-account/cross-region copy is the Resource Data Sync to the central bucket, not S3 replication.
  for_each = local.buckets

  bucket        = each.value
  force_destroy = var.force_destroy
  tags          = merge(var.tags, { Name = each.value, "fleetpatch:purpose" = each.key })

  lifecycle {
    # General purpose bucket naming rules
    # (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html): checked on
    # the final name at plan, since the suffix adds up to 28 characters to the prefix.
    precondition {
      condition = (
        length(each.value) >= 3 && length(each.value) <= 63 &&
        can(regex("^[a-z0-9][a-z0-9.-]*[a-z0-9]$", each.value)) && !strcontains(each.value, "..") &&
        !can(regex("^[0-9]+\\.[0-9]+\\.[0-9]+\\.[0-9]+$", each.value)) &&
        !can(regex("^(xn--|sthree-|amzn-s3-demo-)", each.value)) &&
        !can(regex("(-s3alias|--ol-s3|\\.mrap|--x-s3)$", each.value))
      )
      error_message = "Bucket name ${each.value} (${length(each.value)} characters) breaks the S3 general purpose bucket naming rules: 3-63 lowercase letters, digits, dots and hyphens, starting and ending with a letter or digit, no \"..\", not an IP address, not starting with xn--, sthree- or amzn-s3-demo-, not ending with -s3alias, --ol-s3, .mrap or --x-s3. Shorten name_prefix or choose a shorter bucket_name_suffix."
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
      sse_algorithm     = var.sse_algorithm
      kms_master_key_id = var.sse_algorithm == "aws:kms" ? var.kms_key_arn : null
    }
    bucket_key_enabled = var.sse_algorithm == "aws:kms"
  }
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  for_each = aws_s3_bucket.this

  bucket = each.value.id

  rule {
    id     = "log-retention"
    status = "Enabled"
    filter {}

    dynamic "transition" {
      for_each = var.transition_days > 0 ? [1] : []
      content {
        days          = var.transition_days
        storage_class = var.transition_storage_class
      }
    }

    dynamic "expiration" {
      for_each = var.expiration_days > 0 ? [1] : []
      content {
        days = var.expiration_days
      }
    }

    noncurrent_version_expiration {
      noncurrent_days = var.noncurrent_expiration_days
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

data "aws_iam_policy_document" "tls_only" {
  for_each = aws_s3_bucket.this

  statement {
    sid     = "DenyInsecureTransport"
    effect  = "Deny"
    actions = ["s3:*"]
    resources = [
      each.value.arn,
      "${each.value.arn}/*",
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

resource "aws_s3_bucket_policy" "this" {
  for_each = aws_s3_bucket.this

  bucket = each.value.id
  policy = data.aws_iam_policy_document.tls_only[each.key].json

  depends_on = [aws_s3_bucket_public_access_block.this]
}
