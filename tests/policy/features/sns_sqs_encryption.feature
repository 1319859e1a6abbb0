Feature: SNS topics and SQS queues are encrypted
  Non-compliance notifications and dead-letter messages can carry instance ids and patch
  states: topics use a KMS key, queues SSE-KMS or SSE-SQS.

  Scenario: every SNS topic has a KMS key
    Given I have aws_sns_topic defined
    Then it must contain kms_master_key_id
    And its value must not be null

  Scenario: every SQS queue that does not use SSE-SQS has a KMS key
    Given I have aws_sqs_queue defined
    When its sqs_managed_sse_enabled is not true
    Then it must contain kms_master_key_id
    And its value must not be null
