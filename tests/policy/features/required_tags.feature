Feature: every taggable resource carries the required tags
  Cost, ownership and incident routing rely on these tags, so every resource that supports
  tags carries them, set through the module's `tags` variable or the provider's default_tags:
  tags_all (the resource's tags merged over the provider's default_tags) is what is checked.

  Scenario Outline: required tag <tag> is present
    Given I have resource that supports tags defined
    Then it must contain tags_all
    And it must contain <tag>
    And its value must not be null

    Examples:
      | tag         |
      | Environment |
      | ManagedBy   |
