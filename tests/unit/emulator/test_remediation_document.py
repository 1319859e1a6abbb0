"""The patch-compliance remediation document executed on a launched emulator (issue 13, item 9).

``ssm_documents/generated/remediate_patch.yaml`` (what modules/compliance deploys, with its
defaults) runs as the remediation role of modules/compliance (:data:`REMEDIATION_POLICY` mirrors
``data.aws_iam_policy_document.remediation``), every call IAM-evaluated. Three managed nodes:
one a patch run holds (its ``fleetpatch:patch-run`` tag), one already running
AWS-RunPatchBaseline, one free. The remediation is started the way an operator starts the
module's (manual) remediation: StartRemediationExecution on the Config rule, with the remediation
configuration modules/compliance writes. Only the free node gets a command.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.emulator.launcher import ROOT, Emulator
from tests.unit.emulator.test_patch_run import TRUST  # SSM Automation of this account

ACCOUNT = "123456789012"
REGION = "us-west-2"
DOCUMENT = "fleetpatch-Remediate-RunPatchBaseline"
RULE = "fleetpatch-ec2-managedinstance-patch-compliance"
RESOURCE_TYPE = "AWS::SSM::PatchCompliance"
SOURCE = ROOT / "ssm_documents" / "generated" / "remediate_patch.yaml"
# modules/compliance/main.tf, data.aws_iam_policy_document.remediation (patch rule only).
REMEDIATION_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "SendOnlyTheRemediationCommands",
            "Effect": "Allow",
            "Action": ["ssm:SendCommand"],
            "Resource": [
                f"arn:aws:ssm:{REGION}::document/AWS-RunPatchBaseline",
                f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/*",
                f"arn:aws:ssm:{REGION}:{ACCOUNT}:managed-instance/*",
            ],
        },
        {
            "Sid": "FollowCommandProgress",
            "Effect": "Allow",
            "Action": [
                "ssm:ListCommands",
                "ssm:ListCommandInvocations",
                "ssm:GetCommandInvocation",
                "ssm:DescribeInstanceInformation",
                "ec2:DescribeInstances",
            ],
            "Resource": ["*"],
        },
        {
            "Sid": "ReadHybridNodeTags",
            "Effect": "Allow",
            "Action": ["ssm:ListTagsForResource"],
            "Resource": [f"arn:aws:ssm:{REGION}:{ACCOUNT}:managed-instance/*"],
        },
    ],
}


def control(emu: Emulator, path: str, body: dict[str, Any]) -> dict[str, Any]:
    request = urllib.request.Request(
        f"{emu.endpoint}/fleetpatch/{path}", data=json.dumps(body).encode(), method="POST"
    )
    with urllib.request.urlopen(request, timeout=900) as answer:
        result: dict[str, Any] = json.loads(answer.read())
    return result


def _node_profile(emu: Emulator) -> None:
    iam = emu.client("iam")
    iam.create_role(
        RoleName="remediation-node",
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "ec2.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )
    iam.attach_role_policy(
        RoleName="remediation-node",
        PolicyArn="arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
    )
    iam.create_instance_profile(InstanceProfileName="remediation-node")
    iam.add_role_to_instance_profile(
        InstanceProfileName="remediation-node", RoleName="remediation-node"
    )


def _launch(emu: Emulator, tags: dict[str, str]) -> str:
    return str(
        emu.client("ec2").run_instances(
            ImageId="ami-12c6146b",
            MinCount=1,
            MaxCount=1,
            IamInstanceProfile={"Name": "remediation-node"},
            TagSpecifications=[
                {
                    "ResourceType": "instance",
                    "Tags": [
                        {"Key": k, "Value": v} for k, v in {"PatchGroup": "web", **tags}.items()
                    ],
                }
            ],
        )["Instances"][0]["InstanceId"]
    )


def _online(emu: Emulator, ids: list[str], timeout: float = 120) -> None:
    ssm = emu.client("ssm")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = ssm.describe_instance_information(Filters=[{"Key": "InstanceIds", "Values": ids}])[
            "InstanceInformationList"
        ]
        if sorted(n["InstanceId"] for n in found if n["PingStatus"] == "Online") == sorted(ids):
            return
        time.sleep(0.3)
    raise AssertionError(f"{ids} not Online")


@pytest.fixture(scope="module")
def remediated(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    with Emulator(log_path=tmp_path_factory.mktemp("emulator") / "emulator.log") as emu:
        iam, ssm = emu.client("iam"), emu.client("ssm")
        role = iam.create_role(
            RoleName="fleetpatch-compliance-remediation",
            AssumeRolePolicyDocument=json.dumps(TRUST),
        )["Role"]["Arn"]
        iam.put_role_policy(
            RoleName="fleetpatch-compliance-remediation",
            PolicyName="run-remediation-commands",
            PolicyDocument=json.dumps(REMEDIATION_POLICY),
        )
        _node_profile(emu)
        ssm.create_document(
            Name=DOCUMENT,
            DocumentType="Automation",
            DocumentFormat="YAML",
            Content=SOURCE.read_text(encoding="utf-8"),
        )
        nodes = {
            "held": _launch(emu, {"fleetpatch:patch-run": "5e1ec7ed-0000-4000-8000-000000000001"}),
            "started": _launch(
                emu, {"fleetpatch:started-by": "5e1ec7ed-0000-4000-8000-000000000002"}
            ),
            "busy": _launch(emu, {}),
            "free": _launch(emu, {}),
        }
        _online(emu, list(nodes.values()))
        # The weekly scan (or an operator) is patching "busy" right now.
        control(
            emu,
            "agent/faults",
            {
                "account_id": ACCOUNT,
                "region": REGION,
                "instance_id": nodes["busy"],
                "command_seconds": 60,
            },
        )
        scan = ssm.send_command(
            DocumentName="AWS-RunPatchBaseline",
            InstanceIds=[nodes["busy"]],
            Parameters={"Operation": ["Scan"]},
        )["Command"]["CommandId"]
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            status = ssm.list_command_invocations(CommandId=scan)["CommandInvocations"]
            if status and status[0]["Status"] == "InProgress":
                break
            time.sleep(0.2)
        config = emu.client("config")
        config.put_config_rule(
            ConfigRule={
                "ConfigRuleName": RULE,
                "Source": {
                    "Owner": "AWS",
                    "SourceIdentifier": "EC2_MANAGEDINSTANCE_PATCH_COMPLIANCE_STATUS_CHECK",
                },
                "Scope": {"ComplianceResourceTypes": [RESOURCE_TYPE]},
            }
        )
        # modules/compliance, aws_config_remediation_configuration.this["patch"] (manual).
        config.put_remediation_configurations(
            RemediationConfigurations=[
                {
                    "ConfigRuleName": RULE,
                    "TargetType": "SSM_DOCUMENT",
                    "TargetId": DOCUMENT,
                    "ResourceType": RESOURCE_TYPE,
                    "Automatic": False,
                    "Parameters": {
                        "AutomationAssumeRole": {"StaticValue": {"Values": [role]}},
                        "Operation": {"StaticValue": {"Values": ["Install"]}},
                        "RebootOption": {"StaticValue": {"Values": ["NoReboot"]}},
                        "ResourceId": {"ResourceValue": {"Value": "RESOURCE_ID"}},
                    },
                }
            ]
        )
        started = config.start_remediation_execution(
            ConfigRuleName=RULE,
            ResourceKeys=[
                {
                    "resourceType": RESOURCE_TYPE,
                    "resourceId": f"AWS::SSM::ManagedInstanceInventory/{node}",
                }
                for node in nodes.values()
            ],
        )
        assert started["FailedItems"] == []
        by_node = {}
        for item in ssm.describe_automation_executions(
            Filters=[{"Key": "DocumentNamePrefix", "Values": [DOCUMENT]}]
        )["AutomationExecutionMetadataList"]:
            execution = ssm.get_automation_execution(
                AutomationExecutionId=item["AutomationExecutionId"]
            )["AutomationExecution"]
            by_node[execution["Parameters"]["ResourceId"][0].rsplit("/", 1)[-1]] = item[
                "AutomationExecutionId"
            ]
        runs = {name: by_node[node] for name, node in nodes.items()}
        executions = {}
        for name, execution_id in runs.items():
            control(emu, "automation/wait", {"execution_id": execution_id, "timeout_seconds": 400})
            executions[name] = ssm.get_automation_execution(AutomationExecutionId=execution_id)[
                "AutomationExecution"
            ]
        denials = json.loads(
            urllib.request.urlopen(f"{emu.endpoint}/fleetpatch/iam/denials", timeout=10).read()
        )
        yield {
            "emu": emu,
            "nodes": nodes,
            "executions": executions,
            "scan": scan,
            "denials": denials,
        }


def _steps(execution: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["StepName"]: s for s in execution["StepExecutions"]}


def _patch_commands(emu: Emulator, node: str) -> list[str]:
    found = emu.client("ssm").list_command_invocations(
        InstanceId=node, Filters=[{"key": "DocumentName", "value": "AWS-RunPatchBaseline"}]
    )["CommandInvocations"]
    return sorted(i["CommandId"] for i in found)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("held", "a patch run holds"),
        ("started", "fleetpatch:started-by"),
        ("busy", "AWS-RunPatchBaseline is already running"),
    ],
)
def test_a_held_node_is_skipped_with_its_reason(
    remediated: dict[str, Any], name: str, reason: str
) -> None:
    execution = remediated["executions"][name]
    steps = _steps(execution)
    assert execution["AutomationExecutionStatus"] == "Success"
    assert execution["Outputs"]["CheckNodeIsFree.Busy"] == ["true"]
    assert reason in execution["Outputs"]["CheckNodeIsFree.Reason"][0]
    assert steps["NodeHeldSkipped"]["StepStatus"] == "Success"
    assert "RunAWSRunPatchBaseline" not in steps or steps["RunAWSRunPatchBaseline"][
        "StepStatus"
    ] in {"Pending", "Skipped"}
    expected = [remediated["scan"]] if name == "busy" else []
    assert _patch_commands(remediated["emu"], remediated["nodes"][name]) == expected


def test_a_free_node_is_patched(remediated: dict[str, Any]) -> None:
    execution = remediated["executions"]["free"]
    steps = _steps(execution)
    assert execution["AutomationExecutionStatus"] == "Success"
    assert execution["Outputs"]["CheckNodeIsFree.Busy"] == ["false"]
    assert steps["RunAWSRunPatchBaseline"]["StepStatus"] == "Success"
    assert len(_patch_commands(remediated["emu"], remediated["nodes"]["free"])) == 1


def test_the_remediation_role_needed_nothing_more(remediated: dict[str, Any]) -> None:
    assert remediated["denials"].get("denials", remediated["denials"]) == []


def test_a_remediation_of_an_unknown_rule_or_wrong_type_starts_nothing(
    remediated: dict[str, Any],
) -> None:
    config = remediated["emu"].client("config")
    with pytest.raises(ClientError) as caught:
        config.start_remediation_execution(
            ConfigRuleName="no-such-rule",
            ResourceKeys=[{"resourceType": RESOURCE_TYPE, "resourceId": "i-0abc"}],
        )
    assert caught.value.response["Error"]["Code"] == "NoSuchRemediationConfigurationException"
    wrong = {"resourceType": "AWS::EC2::Instance", "resourceId": remediated["nodes"]["free"]}
    answer = config.start_remediation_execution(ConfigRuleName=RULE, ResourceKeys=[wrong])
    assert answer["FailedItems"] == [wrong]
