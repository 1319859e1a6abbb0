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
      account_id = "111122223333"
    }
  }
  mock_data "aws_region" {
    defaults = {
      name = "ap-southeast-2"
    }
  }
  mock_resource "aws_s3_bucket" {
    defaults = {
      arn = "arn:aws:s3:::mock-bucket"
    }
  }
}

variables {
  name_prefix = "ss-oregon"
  tags        = { Environment = "test" }
}

run "defaults_encrypt_version_and_block_public_access" {
  command = plan

  assert {
    condition     = length(aws_s3_bucket.this) == 2
    error_message = "both log buckets are created by default"
  }
  assert {
    condition     = aws_s3_bucket.this["patch-baseline-logs"].bucket == "ss-oregon-patch-baseline-logs" && aws_s3_bucket.this["inventory"].bucket == "ss-oregon-inventory"
    error_message = "bucket names are <prefix>-<purpose>"
  }
  assert {
    condition     = alltrue([for r in aws_s3_bucket_server_side_encryption_configuration.this : one(one(r.rule).apply_server_side_encryption_by_default).sse_algorithm == "aws:kms"])
    error_message = "SSE-KMS is on by default"
  }
  assert {
    condition     = alltrue([for r in aws_s3_bucket_public_access_block.this : r.block_public_acls && r.block_public_policy && r.ignore_public_acls && r.restrict_public_buckets])
    error_message = "all four public access blocks are on"
  }
  assert {
    condition     = alltrue([for r in aws_s3_bucket_versioning.this : one(r.versioning_configuration).status == "Enabled"])
    error_message = "versioning is enabled"
  }
  assert {
    condition     = length(aws_s3_bucket_logging.this) == 0
    error_message = "access logging is off unless a target bucket is given"
  }
  assert {
    condition     = aws_s3_bucket.this["inventory"].tags["Environment"] == "test"
    error_message = "tags are applied"
  }
}

run "customer_key_and_access_logging" {
  command = plan

  variables {
    kms_key_arn       = "arn:aws:kms:us-west-2:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    access_log_bucket = "ss-oregon-access-logs"
    buckets           = ["inventory"]
    expiration_days   = 0
  }

  assert {
    condition     = one(one(aws_s3_bucket_server_side_encryption_configuration.this["inventory"].rule).apply_server_side_encryption_by_default).kms_master_key_id == "arn:aws:kms:us-west-2:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    error_message = "the customer managed key is used"
  }
  assert {
    condition     = aws_s3_bucket_logging.this["inventory"].target_bucket == "ss-oregon-access-logs"
    error_message = "access logs go to the given bucket"
  }
  assert {
    condition     = length(one(aws_s3_bucket_lifecycle_configuration.this["inventory"].rule).expiration) == 0
    error_message = "expiration_days = 0 disables expiry"
  }
}

run "s3_managed_keys" {
  command = plan

  variables {
    sse_algorithm = "AES256"
  }

  assert {
    condition     = alltrue([for r in aws_s3_bucket_server_side_encryption_configuration.this : one(one(r.rule).apply_server_side_encryption_by_default).sse_algorithm == "AES256"])
    error_message = "AES256 gives S3-managed keys"
  }
}

run "rejects_bad_name_prefix" {
  command = plan
  variables {
    name_prefix = "Bad_Prefix"
  }
  expect_failures = [var.name_prefix]
}

run "rejects_unknown_bucket" {
  command = plan
  variables {
    buckets = ["patch-baseline-logs", "backups"]
  }
  expect_failures = [var.buckets]
}

run "rejects_bad_kms_arn" {
  command = plan
  variables {
    kms_key_arn = "my-key"
  }
  expect_failures = [var.kms_key_arn]
}

run "rejects_bad_sse_algorithm" {
  command = plan
  variables {
    sse_algorithm = "aws:kms:dsse"
  }
  expect_failures = [var.sse_algorithm]
}

run "rejects_negative_expiration" {
  command = plan
  variables {
    expiration_days = -1
  }
  expect_failures = [var.expiration_days]
}

run "rejects_zero_noncurrent_expiration" {
  command = plan
  variables {
    noncurrent_expiration_days = 0
  }
  expect_failures = [var.noncurrent_expiration_days]
}

run "rejects_fractional_transition" {
  command = plan
  variables {
    transition_days = 1.5
  }
  expect_failures = [var.transition_days]
}

run "rejects_bad_storage_class" {
  command = plan
  variables {
    transition_storage_class = "COLD"
  }
  expect_failures = [var.transition_storage_class]
}

run "rejects_bad_access_log_bucket" {
  command = plan
  variables {
    access_log_bucket = "Not A Bucket"
  }
  expect_failures = [var.access_log_bucket]
}

# S3 bucket names are global: the account id (and Region) suffix makes them this account's.
run "bucket_name_suffix_adds_the_account_id" {
  command = plan

  variables {
    bucket_name_suffix = "account"
  }

  assert {
    condition     = aws_s3_bucket.this["patch-baseline-logs"].bucket == "ss-oregon-patch-baseline-logs-111122223333" && aws_s3_bucket.this["inventory"].bucket == "ss-oregon-inventory-111122223333"
    error_message = "bucket_name_suffix = \"account\" appends -<account id>"
  }
}

run "bucket_name_suffix_adds_the_account_id_and_region" {
  command = plan

  variables {
    bucket_name_suffix = "account-region"
  }

  assert {
    condition     = aws_s3_bucket.this["patch-baseline-logs"].bucket == "ss-oregon-patch-baseline-logs-111122223333-ap-southeast-2" && length(aws_s3_bucket.this["patch-baseline-logs"].bucket) == 57
    error_message = "bucket_name_suffix = \"account-region\" appends -<account id>-<Region code>"
  }
}

run "rejects_a_final_bucket_name_over_63_characters" {
  command = plan

  variables {
    # 16 + "-patch-baseline-logs" 20 + "-111122223333" 13 + "-ap-southeast-2" 15 = 64 > 63 (inventory: 54).
    name_prefix        = "tc-melbourne-app"
    bucket_name_suffix = "account-region"
  }

  expect_failures = [aws_s3_bucket.this["patch-baseline-logs"]]
}

run "rejects_an_unknown_bucket_name_suffix" {
  command = plan

  variables {
    bucket_name_suffix = "random"
  }

  expect_failures = [var.bucket_name_suffix]
}
