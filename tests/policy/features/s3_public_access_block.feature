Feature: S3 buckets block every kind of public access
  No fleetpatch bucket is ever public: each public access block has all four settings on.

  Scenario Outline: every public access block setting is on
    Given I have aws_s3_bucket_public_access_block defined
    Then it must contain <setting>
    And its value must be true

    Examples:
      | setting                 |
      | block_public_acls       |
      | block_public_policy     |
      | ignore_public_acls      |
      | restrict_public_buckets |
