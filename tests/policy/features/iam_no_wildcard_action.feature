Feature: no IAM statement allows every action
  Least privilege: no policy statement grants the action "*" (a service wildcard such as
  "ssm:*" is reviewed by checkov instead). A policy known only after apply is checked on the next
  plan, and by checkov on the configuration.

  Scenario Outline: no <resource> statement has action "*"
    Given I have <resource> defined
    When it has policy
    And its policy is not "^\(known after apply\)$" regex
    Then it must contain policy
    And it must contain Statement
    And it must contain Action
    And its value must not match the "^\*$" regex

    Examples:
      | resource              |
      | aws_iam_policy        |
      | aws_iam_role_policy   |
      | aws_iam_user_policy   |
      | aws_iam_group_policy  |
