Feature: every schedule expression is valid
  A malformed rate() or cron() expression is only rejected by AWS half-way through an apply:
  it is caught at plan time instead. cron() has five fields and a year (minutes hours
  day-of-month month day-of-week [year]); rate() has a positive amount and the singular unit
  for 1, the plural otherwise; at() is a one-time schedule.

  Scenario Outline: <resource> schedules are valid rate() or cron() expressions
    Given I have <resource> defined
    When its <attribute> is not "^(None|\(known after apply\))?$" regex
    Then it must contain <attribute>
    And its value must match the "^(rate\((1 (minute|hour|day)|([2-9]|[1-9][0-9]+) (minutes|hours|days))\)|cron\([0-9,*/-]+ [0-9,*/-]+ [0-9,*/?LW-]+ [0-9A-Za-z,*/-]+ [0-9A-Za-z,*/?L#-]+( [0-9,*/-]+)?\)|at\([0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\))$" regex

    Examples:
      | resource                   | attribute           |
      | aws_ssm_association        | schedule_expression |
      | aws_cloudwatch_event_rule  | schedule_expression |
      | aws_scheduler_schedule     | schedule_expression |
      | aws_ssm_maintenance_window | schedule            |
