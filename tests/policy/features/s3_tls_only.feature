Feature: S3 buckets accept TLS requests only
  Every bucket has a bucket policy that denies any request made without TLS
  (aws:SecureTransport = false).

  Scenario: every bucket has a bucket policy
    Given I have aws_s3_bucket defined
    Then it must have "aws_s3_bucket_policy" referenced

  Scenario: the bucket policy denies insecure transport
    Given I have aws_s3_bucket_policy defined
    When it has policy
    Then it must contain policy
    And it must contain Statement
    And it must contain Condition
    And it must contain Bool
    And it must contain aws:SecureTransport
    And its value must match the "^false$" regex
