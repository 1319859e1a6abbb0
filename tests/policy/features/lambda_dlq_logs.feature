Feature: Lambda functions keep their failures and logs
  An asynchronous invocation that fails lands in a dead-letter queue or topic, and the
  function's CloudWatch log group expires its logs.

  Scenario: every function has a dead-letter target
    Given I have aws_lambda_function defined
    Then it must contain dead_letter_config

  Scenario: every function has its own log group
    Given I have aws_lambda_function defined
    Then it must have "aws_cloudwatch_log_group" referenced

  Scenario: every log group has a retention
    Given I have aws_cloudwatch_log_group defined
    Then it must contain retention_in_days
    And its value must be greater than 0
