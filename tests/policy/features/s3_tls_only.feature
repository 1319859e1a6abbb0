Feature: S3 buckets accept TLS requests only
  Every bucket policy denies any request made without TLS (aws:SecureTransport = false).
  A policy known only after apply (it names the ARN of a bucket created by the same plan) is
  checked on the next plan, and by checkov on the configuration.

  Scenario: the bucket policy denies insecure transport
    Given I have aws_s3_bucket_policy defined
    When it has policy
    And its policy is not "^\(known after apply\)$" regex
    Then it must contain policy
    And it must contain Statement
    And it must contain Condition
    And it must contain Bool
    And it must contain aws:SecureTransport
    And its value must match the "^false$" regex
