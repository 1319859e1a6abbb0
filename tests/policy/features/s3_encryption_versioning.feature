Feature: S3 buckets are encrypted at rest and versioned
  Patch logs, inventory and compliance data are evidence: they are encrypted with SSE-KMS or
  S3-managed keys, and versioning keeps overwritten or deleted objects recoverable.
  (That every bucket has both companion resources is left to checkov's graph checks CKV_AWS_21
  and CKV_AWS_145 in `make policy`: terraform-compliance's "referenced" step stops at the first
  bucket that passes.)

  Scenario: the encryption configuration uses SSE-KMS or SSE-S3
    Given I have aws_s3_bucket_server_side_encryption_configuration defined
    Then it must contain rule
    And it must contain apply_server_side_encryption_by_default
    And it must contain sse_algorithm
    And its value must match the "^(aws:kms|aws:kms:dsse|AES256)$" regex

  Scenario: versioning is enabled
    Given I have aws_s3_bucket_versioning defined
    Then it must contain versioning_configuration
    And it must contain status
    And its value must match the "^Enabled$" regex
