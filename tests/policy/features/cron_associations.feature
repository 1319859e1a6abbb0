Feature: cron associations never run at apply time
  Nothing patches or reboots when terraform apply runs: a State Manager association with a
  cron schedule waits for its next cron interval.

  Scenario: a cron association sets apply_only_at_cron_interval
    Given I have aws_ssm_association defined
    When its schedule_expression is "^cron\(" regex
    Then it must contain apply_only_at_cron_interval
    And its value must be true
