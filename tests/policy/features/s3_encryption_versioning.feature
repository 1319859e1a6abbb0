Feature: S3 buckets are encrypted at rest and versioned
  Patch logs, inventory and compliance data are evidence: they are encrypted with SSE-KMS or
  S3-managed keys, and versioning keeps overwritten or deleted objects recoverable.

  Scenario: every bucket has a server-side encryption configuration
    Given I have aws_s3_bucket defined
    Then it must have "aws_s3_bucket_server_side_encryption_configuration" referenced

  Scenario: the encryption configuration uses SSE-KMS or SSE-S3
    Given I have aws_s3_bucket_server_side_encryption_configuration defined
    Then it must contain rule
    And it must contain apply_server_side_encryption_by_default
    And it must contain sse_algorithm
    And its value must match the "^(aws:kms|aws:kms:dsse|AES256)$" regex

  Scenario: every bucket has versioning
    Given I have aws_s3_bucket defined
    Then it must have "aws_s3_bucket_versioning" referenced

  Scenario: versioning is enabled
    Given I have aws_s3_bucket_versioning defined
    Then it must contain versioning_configuration
    And it must contain status
    And its value must match the "^Enabled$" regex
