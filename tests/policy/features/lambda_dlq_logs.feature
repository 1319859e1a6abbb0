Feature: Lambda functions keep their failures and logs
  An asynchronous invocation that fails lands in a dead-letter queue or topic, and the
  CloudWatch log groups expire their logs. (That each function has its own log group is not
  checked here: terraform-compliance's "referenced" step stops at the first function.)

  Scenario: every function has a dead-letter target
    Given I have aws_lambda_function defined
    Then it must contain dead_letter_config

  Scenario: every log group has a retention
    Given I have aws_cloudwatch_log_group defined
    Then it must contain retention_in_days
    And its value must be greater than 0
