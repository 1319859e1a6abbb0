"""Emulated AWS Config remediation configurations (aws_config_remediation_configuration)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from .conftest import ResponseChecker

RULE = "fleetpatch-ec2-managedinstance-patch-compliance"
REMEDIATION = {
    "ConfigRuleName": RULE,
    "TargetType": "SSM_DOCUMENT",
    "TargetId": "fleetpatch-Remediate-RunPatchBaseline",
    "TargetVersion": "$DEFAULT",
    "ResourceType": "AWS::SSM::PatchCompliance",
    "Automatic": True,
    "MaximumAutomaticAttempts": 3,
    "RetryAttemptSeconds": 600,
    "Parameters": {
        "AutomationAssumeRole": {"StaticValue": {"Values": ["arn:aws:iam::123456789012:role/r"]}},
        "InstanceId": {"ResourceValue": {"Value": "RESOURCE_ID"}},
    },
    "ExecutionControls": {
        "SsmControls": {"ConcurrentExecutionRatePercentage": 10, "ErrorPercentage": 10}
    },
}


def _code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


@pytest.fixture
def rule(config: Any) -> str:
    config.put_config_rule(
        ConfigRule={
            "ConfigRuleName": RULE,
            "Source": {
                "Owner": "AWS",
                "SourceIdentifier": "EC2_MANAGEDINSTANCE_PATCH_COMPLIANCE_STATUS_CHECK",
            },
            "Scope": {"ComplianceResourceTypes": ["AWS::SSM::PatchCompliance"]},
        }
    )
    return RULE


def test_put_describe_delete(config: Any, rule: str, checker: ResponseChecker) -> None:
    result = config.put_remediation_configurations(RemediationConfigurations=[REMEDIATION])
    assert result["FailedBatches"] == []
    found = config.describe_remediation_configurations(ConfigRuleNames=[rule])
    [read] = found["RemediationConfigurations"]
    for key, value in REMEDIATION.items():
        assert read[key] == value, key
    assert read["Arn"].startswith(
        f"arn:aws:config:us-west-2:123456789012:remediation-configuration/{rule}/"
    )

    # A second put updates in place and keeps the ARN.
    config.put_remediation_configurations(
        RemediationConfigurations=[dict(REMEDIATION, MaximumAutomaticAttempts=5)]
    )
    [again] = config.describe_remediation_configurations(ConfigRuleNames=[rule])[
        "RemediationConfigurations"
    ]
    assert again["MaximumAutomaticAttempts"] == 5
    assert again["Arn"] == read["Arn"]

    config.delete_remediation_configuration(ConfigRuleName=rule)
    empty = config.describe_remediation_configurations(ConfigRuleNames=[rule])
    assert empty["RemediationConfigurations"] == []
    with pytest.raises(ClientError) as error:
        config.delete_remediation_configuration(ConfigRuleName=rule)
    assert _code(error) == "NoSuchRemediationConfigurationException"
    operations = {name for name, status in checker.checked if status == 200}
    assert operations == {
        "PutRemediationConfigurations",
        "DescribeRemediationConfigurations",
        "DeleteRemediationConfiguration",
    }


def test_unknown_rule_is_refused(config: Any) -> None:
    with pytest.raises(ClientError) as error:
        config.put_remediation_configurations(RemediationConfigurations=[REMEDIATION])
    assert _code(error) == "InvalidParameterValueException"


def test_automatic_needs_attempts(config: Any, rule: str) -> None:
    document = {k: v for k, v in REMEDIATION.items() if k != "MaximumAutomaticAttempts"}
    with pytest.raises(ClientError) as error:
        config.put_remediation_configurations(RemediationConfigurations=[document])
    assert _code(error) == "InvalidParameterValueException"
    assert (
        config.describe_remediation_configurations(ConfigRuleNames=[rule])[
            "RemediationConfigurations"
        ]
        == []
    )


def test_bad_target_type_is_a_validation_error(config: Any, rule: str) -> None:
    with pytest.raises(ClientError) as error:
        config.put_remediation_configurations(
            RemediationConfigurations=[dict(REMEDIATION, TargetType="LAMBDA")]
        )
    assert _code(error) == "ValidationException"


def test_delete_with_other_resource_type_is_not_found(config: Any, rule: str) -> None:
    config.put_remediation_configurations(RemediationConfigurations=[REMEDIATION])
    with pytest.raises(ClientError) as error:
        config.delete_remediation_configuration(
            ConfigRuleName=rule, ResourceType="AWS::EC2::Instance"
        )
    assert _code(error) == "NoSuchRemediationConfigurationException"
