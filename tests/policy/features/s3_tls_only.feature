Feature: S3 buckets accept TLS requests only
  Every bucket policy denies any request made without TLS (aws:SecureTransport = false).
  A policy known only after apply (it names the ARN of a bucket created by the same plan) is
  checked on the next plan, and by checkov on the configuration.
  terraform-compliance requires EVERY conditioned statement of a policy to carry the Bool
  condition, so a policy with other conditioned statements cannot pass here even when it denies
  insecure transport: central_reporting's sync bucket policy (known at plan since it is built
  from bucket names; its other statements carry aws:SourceAccount / aws:SourceArn conditions) is
  left out, and its DenyInsecureTransport statement is asserted by the module's terraform test
  (modules/central_reporting/tests: the sync policy's Statement list holds Deny +
  Bool aws:SecureTransport = false).

  Scenario: the bucket policy denies insecure transport
    Given I have aws_s3_bucket_policy defined
    When it has policy
    And its policy is not "^\(known after apply\)$" regex
    And its address is not "module.central_reporting.aws_s3_bucket_policy.sync"
    Then it must contain policy
    And it must contain Statement
    And it must contain Condition
    And it must contain Bool
    And it must contain aws:SecureTransport
    And its value must match the "^false$" regex
