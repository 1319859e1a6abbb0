"""The two Config managed rules: results from SSM compliance, Config's APIs, change events."""

from __future__ import annotations

import importlib
import json
import sys
import types
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

import tests.emulator as emulator_pkg
from tests.emulator import config_rules, iam
from tests.emulator.shapes import response_problems

REGION = "us-west-2"
PATCH_RULE, ASSOC_RULE = (
    "fp-ec2-managedinstance-patch-compliance",
    "fp-ec2-managedinstance-association-compliance",
)
NODE, OTHER = "i-0aaaaaaaaaaaaaaa1", "i-0bbbbbbbbbbbbbbb2"


def stand_in(monkeypatch: pytest.MonkeyPatch, name: str, **functions: Any) -> None:
    """Replace ``functions`` of ``tests.emulator.<name>`` (a bare module until it lands)."""
    try:
        module = importlib.import_module(f"tests.emulator.{name}")
    except ImportError:
        module = types.ModuleType(f"tests.emulator.{name}")
        monkeypatch.setitem(sys.modules, module.__name__, module)
        monkeypatch.setattr(emulator_pkg, name, module, raising=False)
    for attr, function in functions.items():
        monkeypatch.setattr(module, attr, function, raising=False)


def _item(node: str, ctype: str, item_id: str, status: str) -> dict[str, Any]:
    return {"ComplianceType": ctype, "ResourceType": "ManagedInstance", "ResourceId": node,
            "Id": item_id, "Status": status, "Severity": "CRITICAL", "Details": {}}  # fmt: skip


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Faked patching.compliance_items, events.put_event and automation.start_execution."""
    data: dict[str, Any] = {
        "items": [
            _item(NODE, "Patch", "kernel", "COMPLIANT"),
            _item(NODE, "Association", "a-1", "COMPLIANT"),
            _item(OTHER, "Patch", "kernel", "COMPLIANT"),
        ],
        "events": [],
        "started": [],
    }
    stand_in(
        monkeypatch,
        "patching",
        compliance_items=lambda a, r: list(data["items"]),
        on_change=lambda callback: None,
    )
    stand_in(
        monkeypatch,
        "events",
        put_event=lambda a, r, e, bus_name="default": data["events"].append((a, r, e)) or [],
    )
    stand_in(
        monkeypatch,
        "automation",
        start_execution=lambda *args: data["started"].append(args) or "exec-1",
    )
    return data


@pytest.fixture
def config(aws: None) -> Iterator[Any]:
    """A Config client whose emulated compliance responses are checked against botocore."""
    client = boto3.client("config", region_name=REGION)
    problems: list[str] = []

    def check(http_response: Any, model: Any, **_: Any) -> None:
        if model.name in config_rules.OPERATIONS and http_response.status_code < 300:
            problems.extend(
                f"{model.name} {p}"
                for p in response_problems(model, json.loads(http_response.content))
            )

    client.meta.events.register("after-call.config.*", check)
    yield client
    assert problems == []


def _setup(config: Any, *, recording: bool = True) -> dict[str, str]:
    boto3.client("s3", region_name=REGION).create_bucket(
        Bucket="config-delivery", CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    config.put_configuration_recorder(
        ConfigurationRecorder={
            "name": "default",
            "roleARN": "arn:aws:iam::123456789012:role/config-recorder",
            "recordingGroup": {
                "allSupported": False,
                "includeGlobalResourceTypes": False,
                "resourceTypes": ["AWS::SSM::PatchCompliance", "AWS::SSM::AssociationCompliance"],
            },
        }
    )
    config.put_delivery_channel(
        DeliveryChannel={"name": "default", "s3BucketName": "config-delivery"}
    )
    if recording:
        config.start_configuration_recorder(ConfigurationRecorderName="default")
    for name, identifier, rtype in (
        (
            PATCH_RULE,
            "EC2_MANAGEDINSTANCE_PATCH_COMPLIANCE_STATUS_CHECK",
            "AWS::SSM::PatchCompliance",
        ),
        (
            ASSOC_RULE,
            "EC2_MANAGEDINSTANCE_ASSOCIATION_COMPLIANCE_STATUS_CHECK",
            "AWS::SSM::AssociationCompliance",
        ),
    ):
        config.put_config_rule(
            ConfigRule={
                "ConfigRuleName": name,
                "Source": {"Owner": "AWS", "SourceIdentifier": identifier},
                "Scope": {"ComplianceResourceTypes": [rtype]},
            }
        )
    rules = config.describe_config_rules()["ConfigRules"]
    return {r["ConfigRuleName"]: r["ConfigRuleArn"] for r in rules}


def test_first_evaluation_then_unchanged_then_non_compliant(world: Any, config: Any) -> None:
    arns = _setup(config)
    assert config_rules._evaluate_endpoint({"account_id": "123456789012", "region": REGION}) == {
        "evaluations": 3,
        "changes": 3,
    }
    assert len(world["events"]) == 3
    world["events"].clear()
    assert config_rules.evaluate("123456789012", REGION) == (3, 0)
    assert world["events"] == [], "no event when no result changed"

    world["items"][0] = _item(NODE, "Patch", "kernel", "NON_COMPLIANT")
    assert config_rules.evaluate("123456789012", REGION, [NODE]) == (2, 1)
    [(account, region, event)] = world["events"]
    assert (account, region) == ("123456789012", REGION)
    assert (
        event["source"] == "aws.config" and event["detail-type"] == "Config Rules Compliance Change"
    )
    assert event["resources"] == [arns[PATCH_RULE]]
    detail = event["detail"]
    resource_id = f"AWS::SSM::ManagedInstanceInventory/{NODE}"
    assert detail["messageType"] == "ComplianceChangeNotification"
    assert (detail["configRuleName"], detail["configRuleARN"]) == (PATCH_RULE, arns[PATCH_RULE])
    assert (detail["resourceType"], detail["resourceId"]) == (
        "AWS::SSM::PatchCompliance",
        resource_id,
    )
    assert (detail["awsAccountId"], detail["awsRegion"]) == ("123456789012", REGION)
    assert detail["newEvaluationResult"]["complianceType"] == "NON_COMPLIANT"
    assert detail["oldEvaluationResult"]["complianceType"] == "COMPLIANT"
    qualifier = detail["newEvaluationResult"]["evaluationResultIdentifier"][
        "evaluationResultQualifier"
    ]
    assert qualifier == {
        "configRuleName": PATCH_RULE,
        "resourceType": "AWS::SSM::PatchCompliance",
        "resourceId": resource_id,
    }

    by_rule = config.describe_compliance_by_config_rule()["ComplianceByConfigRules"]
    assert {r["ConfigRuleName"]: r["Compliance"]["ComplianceType"] for r in by_rule} == {
        PATCH_RULE: "NON_COMPLIANT",
        ASSOC_RULE: "COMPLIANT",
    }
    details = config.get_compliance_details_by_config_rule(
        ConfigRuleName=PATCH_RULE, ComplianceTypes=["NON_COMPLIANT"]
    )
    assert [
        e["EvaluationResultIdentifier"]["EvaluationResultQualifier"]["ResourceId"]
        for e in details["EvaluationResults"]
    ] == [resource_id]
    by_resource = config.describe_compliance_by_resource(ResourceType="AWS::SSM::PatchCompliance")[
        "ComplianceByResources"
    ]
    assert {r["ResourceId"]: r["Compliance"]["ComplianceType"] for r in by_resource} == {
        resource_id: "NON_COMPLIANT",
        f"AWS::SSM::ManagedInstanceInventory/{OTHER}": "COMPLIANT",
    }
    summary = config.get_compliance_summary_by_config_rule()["ComplianceSummary"]
    assert summary["NonCompliantResourceCount"]["CappedCount"] == 1
    assert summary["CompliantResourceCount"]["CappedCount"] == 1


def test_unknown_rule_is_refused(world: Any, config: Any) -> None:
    _setup(config)
    with pytest.raises(config.exceptions.NoSuchConfigRuleException):
        config.get_compliance_details_by_config_rule(ConfigRuleName="nope")


def test_nothing_is_evaluated_while_the_recorder_is_stopped(world: Any, config: Any) -> None:
    _setup(config, recording=False)
    assert config_rules.evaluate("123456789012", REGION) == (0, 0)
    assert world["events"] == []


@pytest.mark.parametrize("automatic", [True, False])
def test_automatic_remediation_starts_the_document_manual_does_not(
    world: Any, config: Any, automatic: bool
) -> None:
    _setup(config)
    role = "arn:aws:iam::123456789012:role/fp-compliance-remediation"
    config.put_remediation_configurations(
        RemediationConfigurations=[
            {
                "ConfigRuleName": PATCH_RULE,
                "TargetType": "SSM_DOCUMENT",
                "TargetId": "fp-Remediate-RunPatchBaseline",
                "Parameters": {
                    "AutomationAssumeRole": {"StaticValue": {"Values": [role]}},
                    "Operation": {"StaticValue": {"Values": ["Install"]}},
                    "ResourceId": {"ResourceValue": {"Value": "RESOURCE_ID"}},
                },
                "Automatic": automatic,
                "MaximumAutomaticAttempts": 2,
                "RetryAttemptSeconds": 600,
            }
        ]
    )
    world["items"][0] = _item(NODE, "Patch", "kernel", "NON_COMPLIANT")
    config_rules.evaluate("123456789012", REGION)
    if not automatic:
        assert world["started"] == []
        return
    [(account, region, document, parameters, principal)] = world["started"]
    assert (account, region, document) == ("123456789012", REGION, "fp-Remediate-RunPatchBaseline")
    assert parameters == {
        "AutomationAssumeRole": [role],
        "Operation": ["Install"],
        "ResourceId": [f"AWS::SSM::ManagedInstanceInventory/{NODE}"],
    }
    # Config starts the execution as its service-linked role, which passes the assume role
    # (AWSConfigRemediationServiceRolePolicy); the steps then run as fp-compliance-remediation.
    assert isinstance(principal, iam.Principal)
    assert principal.role_name == "AWSServiceRoleForConfigRemediation"
    for _ in range(3):  # back to COMPLIANT and NON_COMPLIANT again: at most 2 attempts per window
        world["items"][0] = _item(NODE, "Patch", "kernel", "COMPLIANT")
        config_rules.evaluate("123456789012", REGION)
        world["items"][0] = _item(NODE, "Patch", "kernel", "NON_COMPLIANT")
        config_rules.evaluate("123456789012", REGION)
    assert len(world["started"]) == 4, "attempts are counted per NON_COMPLIANT period"
