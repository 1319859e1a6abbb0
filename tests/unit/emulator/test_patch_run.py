"""The real patch-run document executed on a launched emulator (issue 13: 1-3, 5, 9, reporting).

One emulator, the generated ``ssm_documents/generated/patch_run.yaml`` registered with
CreateDocument, and the Automation role with the policy of ``modules/patch_automation``
(:func:`module_policy` mirrors its ``aws_iam_role_policy.automation`` statement for statement).
Every run starts in the module fixture, each on its own patch group, so they overlap; the tests
then assert the final EC2 states and tags, the step outputs, the summary and the SNS message.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from ssm_documents.render import render_patch_run
from tests.emulator.launcher import ROOT, Emulator

ACCOUNT = "123456789012"
# Roles a test assumes itself (the account's principals may assume them).
ACCOUNT_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": "sts:AssumeRole",
        }
    ],
}
REGION = "us-west-2"
DOCUMENT = "fleetpatch-PatchRun"
STARTED = "fleetpatch:started-by"
PATCH = "fleetpatch:patch-run"
ASG = "aws:autoscaling:groupName"
GROUPS = ["faults", "snap", "asg", "bad", "nourl", "exits", "claimed", "mixed", "rg"]
# modules/patch_automation override_s3_prefixes of these tests (issue 16).
OVERRIDE_PREFIXES = ["patch-overrides-tests/"]
NAMESPACE = "fleetpatch-patch-run-tests"
OTHER_RUN = "0f0f0f0f-0f0f-4f0f-8f0f-0f0f0f0f0f0f"
BUCKET = "patch-logs-patch-run-tests"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "ssm.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {
                "StringEquals": {"aws:SourceAccount": ACCOUNT},
                "ArnLike": {
                    "aws:SourceArn": f"arn:aws:ssm:{REGION}:{ACCOUNT}:automation-execution/*"
                },
            },
        }
    ],
}


def module_policy(
    groups: list[str], topic_arn: str, override_prefixes: list[str]
) -> dict[str, Any]:
    """modules/patch_automation's Automation role policy (main.tf), as Terraform renders it.

    ``override_prefixes``: the module's ``override_s3_prefixes`` (``bucket/prefix/``)."""
    instances = f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/*"
    managed = f"arn:aws:ssm:{REGION}:{ACCOUNT}:managed-instance/*"
    condition = {"aws:ResourceTag/PatchGroup": groups}
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadFleetState",
                "Effect": "Allow",
                "Action": [
                    "ec2:DescribeInstances",
                    "ssm:DescribeInstanceInformation",
                    "ssm:ListCommands",
                    "ssm:ListCommandInvocations",
                    "ssm:GetCommandInvocation",
                ],
                "Resource": "*",
            },
            {
                "Sid": "ReadOwnExecution",
                "Effect": "Allow",
                "Action": ["ssm:DescribeAutomationStepExecutions", "ssm:GetAutomationExecution"],
                "Resource": "*",
            },
            {
                "Sid": "StartStopClaimedInstances",
                "Effect": "Allow",
                "Action": ["ec2:StartInstances", "ec2:StopInstances"],
                "Resource": instances,
                "Condition": {
                    "StringEquals": condition,
                    "Null": {
                        f"aws:ResourceTag/{STARTED}": "false",
                        f"aws:ResourceTag/{ASG}": "true",
                    },
                },
            },
            {
                "Sid": "TagClaimedInstances",
                "Effect": "Allow",
                "Action": ["ec2:CreateTags", "ec2:DeleteTags"],
                "Resource": instances,
                "Condition": {
                    "StringEquals": condition,
                    "ForAllValues:StringEquals": {"aws:TagKeys": [STARTED, PATCH]},
                    "Null": {"aws:TagKeys": "false"},
                },
            },
            {
                "Sid": "TagSelectedHybridNodes",
                "Effect": "Allow",
                "Action": ["ssm:AddTagsToResource", "ssm:RemoveTagsFromResource"],
                "Resource": managed,
                "Condition": {
                    "StringEquals": condition,
                    "ForAllValues:StringEquals": {"aws:TagKeys": [PATCH]},
                    "Null": {"aws:TagKeys": "false"},
                },
            },
            {
                "Sid": "ListResourceGroupMembers",
                "Effect": "Allow",
                "Action": ["resource-groups:ListGroupResources"],
                "Resource": f"arn:aws:resource-groups:{REGION}:{ACCOUNT}:group/*",
            },
            {
                "Sid": "ResolveTagBasedGroups",
                "Effect": "Allow",
                "Action": ["tag:GetResources"],
                "Resource": "*",
            },
            {
                "Sid": "RunPatchAndAgentUpdateDocuments",
                "Effect": "Allow",
                "Action": ["ssm:SendCommand"],
                "Resource": [
                    f"arn:aws:ssm:{REGION}::document/AWS-RunPatchBaseline",
                    f"arn:aws:ssm:{REGION}::document/AWS-UpdateSSMAgent",
                    instances,
                    managed,
                ],
            },
            {
                "Sid": "NeverCommandOtherPatchGroups",
                "Effect": "Deny",
                "Action": ["ssm:SendCommand"],
                "Resource": [instances, managed],
                "Condition": {
                    "Null": {"aws:ResourceTag/PatchGroup": "false"},
                    "StringNotEquals": condition,
                },
            },
            {
                "Sid": "CancelOwnCommands",
                "Effect": "Allow",
                "Action": ["ssm:CancelCommand"],
                "Resource": "*",
            },
            {
                "Sid": "CheckOverrideObjects",
                "Effect": "Allow",
                "Action": ["s3:GetObject"],
                "Resource": [f"arn:aws:s3:::{p}*" for p in override_prefixes],
            },
            {
                "Sid": "NotifyFailedRuns",
                "Effect": "Allow",
                "Action": ["sns:Publish"],
                "Resource": [topic_arn],
            },
            {
                # janitor.tf, aws_iam_role_policy.automation_metrics
                "Sid": "PublishPatchRunMetrics",
                "Effect": "Allow",
                "Action": ["cloudwatch:PutMetricData"],
                "Resource": "*",
                "Condition": {"StringEquals": {"cloudwatch:namespace": NAMESPACE}},
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


def fault(emu: Emulator, instance_id: str, **values: Any) -> None:
    control(
        emu,
        "agent/faults",
        {"account_id": ACCOUNT, "region": REGION, "instance_id": instance_id, **values},
    )


def launch(
    emu: Emulator,
    group: str,
    count: int,
    *,
    stopped: bool = False,
    tags: dict[str, str] | None = None,
) -> list[str]:
    all_tags = [{"Key": "PatchGroup", "Value": group}] + [
        {"Key": k, "Value": v} for k, v in (tags or {}).items()
    ]
    ec2 = emu.client("ec2")
    ids = [
        str(i["InstanceId"])
        for i in ec2.run_instances(
            ImageId="ami-12c6146b",
            MinCount=count,
            MaxCount=count,
            IamInstanceProfile={"Name": "patch-run-node"},
            TagSpecifications=[{"ResourceType": "instance", "Tags": all_tags}],
        )["Instances"]
    ]
    if stopped:
        ec2.stop_instances(InstanceIds=ids)
    return sorted(ids)


def states(emu: Emulator, ids: list[str]) -> dict[str, tuple[str, dict[str, str]]]:
    reservations = emu.client("ec2").describe_instances(InstanceIds=ids)["Reservations"]
    return {
        i["InstanceId"]: (i["State"]["Name"], {t["Key"]: t["Value"] for t in i.get("Tags", [])})
        for r in reservations
        for i in r["Instances"]
    }


def finish(emu: Emulator, execution_id: str, timeout: float = 600) -> dict[str, Any]:
    waited = control(
        emu, "automation/wait", {"execution_id": execution_id, "timeout_seconds": timeout}
    )
    found: dict[str, Any] = emu.client("ssm").get_automation_execution(
        AutomationExecutionId=execution_id
    )["AutomationExecution"]
    assert found["AutomationExecutionStatus"] in {"Success", "Failed", "TimedOut", "Cancelled"}, (
        waited
    )
    return found


def steps_of(execution: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {step["StepName"]: step for step in execution["StepExecutions"]}


def summary_of(execution: dict[str, Any]) -> dict[str, Any]:
    outputs = steps_of(execution)["Summarize"]["Outputs"]
    found: dict[str, Any] = json.loads(outputs["Summary"][0])
    found["patched"] = sorted(v for v in outputs.get("PatchedInstanceIds", []) if v)
    return found


@pytest.fixture(scope="module")
def emu(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Emulator]:
    with Emulator(log_path=tmp_path_factory.mktemp("emulator") / "emulator.log") as emulator:
        yield emulator


@pytest.fixture(scope="module")
def runs(emu: Emulator) -> dict[str, Any]:
    """Start every patch run of the file at once; return their ids and fleets."""
    iam, s3, sns, sqs = (emu.client(s) for s in ("iam", "s3", "sns", "sqs"))
    emu.client("ssm").create_document(
        Name=DOCUMENT,
        DocumentType="Automation",
        DocumentFormat="YAML",
        # As modules/patch_automation renders it: the output bucket and the approved prefixes.
        Content=render_patch_run(
            (ROOT / "ssm_documents" / "generated" / "patch_run.yaml").read_text("utf-8"),
            BUCKET,
            OVERRIDE_PREFIXES,
        ),
    )
    for bucket in (BUCKET, "patch-overrides-tests"):
        s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_object(Bucket="patch-overrides-tests", Key="baseline.json", Body=b"[]")
    s3.put_object(Bucket="patch-overrides-tests", Key="install.yaml", Body=b"patches: []\n")
    topic = sns.create_topic(Name="compliance")["TopicArn"]
    queue = sqs.create_queue(QueueName="compliance-inbox")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sqs.set_queue_attributes(
        QueueUrl=queue,
        Attributes={
            "Policy": json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "sns.amazonaws.com"},
                            "Action": "sqs:SendMessage",
                            "Resource": queue_arn,
                            "Condition": {"ArnEquals": {"aws:SourceArn": topic}},
                        }
                    ],
                }
            )
        },
    )
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=queue_arn,
        Attributes={"RawMessageDelivery": "true"},
    )
    role = iam.create_role(
        RoleName="patch-run-automation", AssumeRolePolicyDocument=json.dumps(TRUST)
    )["Role"]["Arn"]
    iam.put_role_policy(
        RoleName="patch-run-automation",
        PolicyName="patch-run",
        PolicyDocument=json.dumps(module_policy(GROUPS, topic, OVERRIDE_PREFIXES)),
    )
    node_trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ec2.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    iam.create_role(RoleName="patch-run-node", AssumeRolePolicyDocument=json.dumps(node_trust))
    iam.attach_role_policy(
        RoleName="patch-run-node",
        PolicyArn="arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
    )
    iam.create_instance_profile(InstanceProfileName="patch-run-node")
    iam.add_role_to_instance_profile(
        InstanceProfileName="patch-run-node", RoleName="patch-run-node"
    )

    fleets: dict[str, dict[str, list[str]]] = {
        # item 1: one never Online, one falling back to stopped, one EC2 refuses, one fine
        "faults": {
            "running": launch(emu, "faults", 2),
            "never_online": launch(emu, "faults", 1, stopped=True),
            "fell_back": launch(emu, "faults", 1, stopped=True),
            "refused": launch(emu, "faults", 1, stopped=True),
            "fine": launch(emu, "faults", 1, stopped=True),
        },
        # item 2: one snapshot for all waves (MaxConcurrency 1)
        "snap": {"running": launch(emu, "snap", 3)},
        # item 5: Auto Scaling members; opted-out instances
        "asg": {
            "running": launch(emu, "asg", 1),
            "asg_running": launch(emu, "asg", 1, tags={ASG: "web-asg"}),
            "asg_stopped": launch(emu, "asg", 1, stopped=True, tags={ASG: "web-asg"}),
            "opted_out": launch(emu, "asg", 1, stopped=True, tags={"fleetpatch:patch-opt-out": ""}),
        },
        # item 2: both overrides -> refused before anything starts
        "bad": {"stopped": launch(emu, "bad", 1, stopped=True)},
        # item 2: an override URL naming no object -> refused too
        "nourl": {"stopped": launch(emu, "nourl", 1, stopped=True)},
        # item 9 + reporting: a collision (exit 155) and a real failure (exit 1)
        "exits": {
            "running": launch(emu, "exits", 1),
            "collision": launch(emu, "exits", 1),
            "failing": launch(emu, "exits", 1),
        },
        # item 4: a stopped instance another execution's marker claims -> skipped, the metric
        "claimed": {
            "running": launch(emu, "claimed", 1),
            "claimed": launch(emu, "claimed", 1, stopped=True, tags={STARTED: OTHER_RUN}),
        },
    }
    # item 6 / least privilege: a target (App=shop) that also holds nodes of a patch group the
    # role does not manage (legacy): they are reported, the rest is patched.
    shop = {"App": "shop"}
    fleets["mixed"] = {
        "running": launch(emu, "mixed", 1, tags=shop),
        "stopped": launch(emu, "mixed", 1, stopped=True, tags=shop),
        "legacy_running": launch(emu, "legacy", 1, tags=shop),
        "legacy_stopped": launch(emu, "legacy", 1, stopped=True, tags=shop),
    }
    hybrid_trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ssm.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    iam.create_role(RoleName="patch-run-hybrid", AssumeRolePolicyDocument=json.dumps(hybrid_trust))
    iam.attach_role_policy(
        RoleName="patch-run-hybrid",
        PolicyArn="arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
    )
    for group in ("mixed", "legacy"):
        activation = emu.client("ssm").create_activation(
            IamRole="patch-run-hybrid",
            Tags=[{"Key": "PatchGroup", "Value": group}, {"Key": "App", "Value": "shop"}],
        )
        node = control(
            emu,
            "agent/register-hybrid",
            {
                "account_id": ACCOUNT,
                "region": REGION,
                "activation_id": activation["ActivationId"],
                "activation_code": activation["ActivationCode"],
            },
        )["instance_id"]
        fleets["mixed"][f"hybrid_{group}"] = [node]
    # item 6: a tag-based AWS Resource Group as the target (ListGroupResources + tag:GetResources).
    blue = {"Team": "blue"}
    fleets["rg"] = {
        "running": launch(emu, "rg", 1, tags=blue),
        "stopped": launch(emu, "rg", 1, stopped=True, tags=blue),
        "legacy_running": launch(emu, "legacy", 1, tags=blue),
    }
    emu.client("resource-groups").create_group(
        Name="blue-team",
        ResourceQuery={
            "Type": "TAG_FILTERS_1_0",
            "Query": json.dumps(
                {
                    "ResourceTypeFilters": ["AWS::EC2::Instance"],
                    "TagFilters": [{"Key": "Team", "Values": ["blue"]}],
                }
            ),
        },
    )
    fault(emu, fleets["faults"]["never_online"][0], never_online=True)
    fault(emu, fleets["faults"]["fell_back"][0], start_state_reason="Client.InternalError")
    fault(emu, fleets["faults"]["refused"][0], start_error="InsufficientInstanceCapacity")
    for instance_id in fleets["snap"]["running"]:
        fault(emu, instance_id, command_seconds=1.5)
    fault(emu, fleets["exits"]["collision"][0], patch_exit_code=155)
    fault(emu, fleets["exits"]["failing"][0], patch_exit_code=1)
    time.sleep(2.5)  # the running instances come Online

    ssm = emu.client("ssm")

    def start(group: str, **extra: str) -> str:
        parameters = {
            "AutomationAssumeRole": [role],
            "PatchGroup": [group],
            "OnlineTimeoutSeconds": ["30"],
            "MaxConcurrency": ["100%"],
            "MaxErrors": ["100%"],
            "RebootOption": ["NoReboot"],
            "NotificationTopicArn": [topic],
            **{k: [v] for k, v in extra.items()},
        }
        if not group:  # a Resource Group target: no PatchGroup (empty values are refused)
            del parameters["PatchGroup"]
        execution_id: str = ssm.start_automation_execution(
            DocumentName=DOCUMENT, Parameters=parameters
        )["AutomationExecutionId"]
        return execution_id

    ids = {
        "faults": start("faults"),
        "snap": start("snap", MaxConcurrency="1", PatchTimeoutSeconds="900"),
        "asg": start("asg"),
        "bad": start(
            "bad",
            BaselineOverride="s3://patch-overrides-tests/baseline.json",
            InstallOverrideList="s3://patch-overrides-tests/install.yaml",
        ),
        "nourl": start("nourl", InstallOverrideList="s3://patch-overrides-tests/missing.yaml"),
        "exits": start("exits"),
        "claimed": start("claimed", MetricsNamespace=NAMESPACE),
        "mixed": start("shop", PatchGroupTagKey="App"),
        "rg": start("", ResourceGroupName="blue-team"),
        # issue 16: a PatchGroup the role does not manage (the legacy nodes of mixed and rg)
        "legacy": start("legacy"),
    }
    return {"ids": ids, "fleets": fleets, "queue": queue, "topic": topic}


def _messages(emu: Emulator, queue: str) -> list[str]:
    sqs = emu.client("sqs")
    found: list[str] = []
    for _ in range(5):
        got = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", [])
        if not got:
            break
        found += [m["Body"] for m in got]
    return found


@pytest.fixture(scope="module")
def finished(emu: Emulator, runs: dict[str, Any]) -> dict[str, Any]:
    executions = {group: finish(emu, execution_id) for group, execution_id in runs["ids"].items()}
    return {**runs, "executions": executions, "messages": _messages(emu, runs["queue"])}


def test_one_bad_node_never_blocks_the_rest(emu: Emulator, finished: dict[str, Any]) -> None:
    fleet = finished["fleets"]["faults"]
    execution = finished["executions"]["faults"]
    steps = steps_of(execution)
    assert execution["AutomationExecutionStatus"] == "Success", execution.get("FailureMessage")
    (never,), (fell,), (refused,), (fine,) = (
        fleet["never_online"],
        fleet["fell_back"],
        fleet["refused"],
        fleet["fine"],
    )
    # Patched: the running ones and the started one that came Online.
    summary = summary_of(execution)
    assert summary["patched"] == sorted([*fleet["running"], fine])
    assert steps["PatchNodes"]["StepStatus"] == "Success"
    # Released and refused instances are stopped (again) and carry no marker.
    final = states(emu, [*fleet["running"], never, fell, refused, fine])
    for instance_id in (never, fell, refused, fine):
        assert final[instance_id][0] == "stopped", instance_id
    for instance_id, (state, tags) in final.items():
        assert STARTED not in tags and PATCH not in tags, instance_id
        if instance_id in fleet["running"]:
            assert state == "running"
    released = {r["id"]: r["reason"] for r in summary["released_not_online"]}
    assert set(released) == {never, fell}
    assert "Client.InternalError" in released[fell]
    assert "not Online after 30s" in released[never]
    assert [r["id"] for r in summary["start_refused"]] == [refused]
    assert "InsufficientInstanceCapacity" in summary["start_refused"][0]["reason"]
    assert summary["stopped_again"] == [fine]
    assert summary["outcome"] == "PartiallyFailed"
    assert steps["Summarize"]["Outputs"]["Outcome"] == ["PartiallyFailed"]


def test_every_wave_installs_the_same_snapshot(emu: Emulator, finished: dict[str, Any]) -> None:
    execution = finished["executions"]["snap"]
    execution_id = finished["ids"]["snap"]
    assert execution["AutomationExecutionStatus"] == "Success", execution.get("FailureMessage")
    nodes = finished["fleets"]["snap"]["running"]
    patch_states = emu.client("ssm").describe_instance_patch_states(InstanceIds=nodes)[
        "InstancePatchStates"
    ]
    assert sorted(s["InstanceId"] for s in patch_states) == nodes
    assert {s["SnapshotId"] for s in patch_states} == {execution_id}
    # PatchTimeoutSeconds is the command's TimeoutSeconds (what the delivery deadline counts).
    summary = summary_of(execution)
    command = emu.client("ssm").list_commands(CommandId=summary["patch_command_id"])["Commands"][0]
    assert command["TimeoutSeconds"] == 900
    assert command["MaxConcurrency"] == "1"
    assert summary["patched"] == nodes
    assert summary["patch_timeout_seconds"] == 900


@pytest.mark.parametrize("group", ["bad", "nourl"])
def test_bad_overrides_are_refused_before_anything_starts(
    emu: Emulator, finished: dict[str, Any], group: str
) -> None:
    execution = finished["executions"][group]
    steps = steps_of(execution)
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert steps["ValidateInputs"]["StepStatus"] == "Failed"
    assert steps["FindAndTagStoppedInstances"]["StepStatus"] == "Pending"
    message = steps["ValidateInputs"]["FailureMessage"]
    expected = "cannot be used together" if group == "bad" else "no such object"
    assert expected in message
    (stopped,) = finished["fleets"][group]["stopped"]
    state, tags = states(emu, [stopped])[stopped]
    assert state == "stopped" and STARTED not in tags
    assert steps["Summarize"]["StepStatus"] == "Success"
    assert summary_of(execution)["outcome"] == "Failed"


def test_patch_timeout_out_of_range_is_refused(emu: Emulator, runs: dict[str, Any]) -> None:
    ssm = emu.client("ssm")
    role = f"arn:aws:iam::{ACCOUNT}:role/patch-run-automation"
    execution_id = ssm.start_automation_execution(
        DocumentName=DOCUMENT,
        Parameters={
            "AutomationAssumeRole": [role],
            "PatchGroup": ["bad"],
            "PatchTimeoutSeconds": ["50000"],
        },
    )["AutomationExecutionId"]
    execution = finish(emu, execution_id)
    steps = steps_of(execution)
    assert steps["ValidateInputs"]["StepStatus"] == "Failed"
    assert "PatchTimeoutSeconds must be 600-43200" in steps["ValidateInputs"]["FailureMessage"]


def test_auto_scaling_members_are_never_started_or_stopped(
    emu: Emulator, finished: dict[str, Any]
) -> None:
    fleet = finished["fleets"]["asg"]
    execution = finished["executions"]["asg"]
    assert execution["AutomationExecutionStatus"] == "Success", execution.get("FailureMessage")
    final = states(emu, [i for ids in fleet.values() for i in ids])
    assert final[fleet["asg_running"][0]][0] == "running"
    assert final[fleet["asg_stopped"][0]][0] == "stopped"
    assert final[fleet["opted_out"][0]][0] == "stopped"
    assert all(STARTED not in tags and PATCH not in tags for _, tags in final.values())
    summary = summary_of(execution)
    assert summary["patched"] == sorted(fleet["running"] + fleet["asg_running"])
    assert summary["auto_scaling_patched"] == fleet["asg_running"]
    assert summary["skipped"]["auto_scaling_stopped"] == fleet["asg_stopped"]
    assert summary["skipped"]["opted_out"] == fleet["opted_out"]
    assert summary["started"] == [] and summary["outcome"] == "Success"


def test_collision_is_reported_as_such_and_failures_are_notified(
    emu: Emulator, finished: dict[str, Any]
) -> None:
    fleet = finished["fleets"]["exits"]
    execution = finished["executions"]["exits"]
    summary = summary_of(execution)
    (collision,), (failing,) = fleet["collision"], fleet["failing"]
    assert summary["patched"] == fleet["running"]
    assert summary["collisions"] == [{"id": collision, "exit_code": 155}]
    assert [f["id"] for f in summary["failed"]] == [failing]
    assert summary["failed"][0]["exit_code"] == 1
    assert summary["failed"][0]["status"] == "Failed"
    # One message per failed run, naming each failed node and its cause.
    mine = [m for m in finished["messages"] if finished["ids"]["exits"] in m]
    assert len(mine) == 1
    assert f"{failing}: patch failed" in mine[0] and "exit code 1" in mine[0]
    assert f"{collision}: collision" in mine[0]
    faults_message = [m for m in finished["messages"] if finished["ids"]["faults"] in m]
    assert len(faults_message) == 1
    assert "released, stopped again" in faults_message[0] and "not started" in faults_message[0]
    # A clean run sends nothing.
    assert not [m for m in finished["messages"] if finished["ids"]["asg"] in m]


def test_skipped_instances_are_a_metric(emu: Emulator, finished: dict[str, Any]) -> None:
    fleet = finished["fleets"]["claimed"]
    execution = finished["executions"]["claimed"]
    summary = summary_of(execution)
    assert summary["skipped"]["other_run"] == fleet["claimed"]
    assert summary["patched"] == fleet["running"]
    assert summary["metrics_published"] is True
    assert steps_of(execution)["Summarize"]["Outputs"]["SkippedCount"] == ["1"]
    # Another run's instance is neither started nor stripped of its marker.
    state, tags = states(emu, fleet["claimed"])[fleet["claimed"][0]]
    assert state == "stopped" and tags[STARTED] == OTHER_RUN
    cloudwatch = emu.client("cloudwatch")
    dimensions = [
        {"Name": "DocumentName", "Value": DOCUMENT},
        {"Name": "PatchGroup", "Value": "claimed"},
    ]
    listed = cloudwatch.list_metrics(Namespace=NAMESPACE, MetricName="SkippedInstances")
    assert [m["Dimensions"] for m in listed["Metrics"]] == [dimensions]
    now = time.time()
    stats = cloudwatch.get_metric_statistics(
        Namespace=NAMESPACE,
        MetricName="SkippedInstances",
        Dimensions=dimensions,
        StartTime=now - 3600,
        EndTime=now + 3600,
        Period=3600,
        Statistics=["Maximum"],
    )["Datapoints"]
    assert [d["Maximum"] for d in stats] == [1.0]
    # The other runs passed no namespace: no metric of theirs.
    assert len(cloudwatch.list_metrics(Namespace=NAMESPACE)["Metrics"]) == 1


def test_nodes_outside_the_managed_patch_groups_are_reported_and_the_rest_patched(
    emu: Emulator, finished: dict[str, Any]
) -> None:
    fleet = finished["fleets"]["mixed"]
    summary = summary_of(finished["executions"]["mixed"])
    outside = sorted(fleet["legacy_running"] + fleet["legacy_stopped"] + fleet["hybrid_legacy"])
    assert [n["id"] for n in summary["skipped"]["not_managed"]] == outside
    assert all(
        "UnauthorizedOperation" in n["reason"] or "AccessDenied" in n["reason"]
        for n in summary["skipped"]["not_managed"]
    )
    assert summary["patched"] == sorted(fleet["running"] + fleet["stopped"] + fleet["hybrid_mixed"])
    assert summary["started"] == fleet["stopped"] and summary["stopped_again"] == fleet["stopped"]
    assert summary["outcome"] == "PartiallyFailed"
    # The legacy instances were neither started nor tagged; their own tags are intact.
    view = states(emu, fleet["legacy_running"] + fleet["legacy_stopped"])
    assert view[fleet["legacy_stopped"][0]] == ("stopped", {"PatchGroup": "legacy", "App": "shop"})
    assert view[fleet["legacy_running"][0]] == ("running", {"PatchGroup": "legacy", "App": "shop"})
    hybrid_tags = emu.client("ssm").list_tags_for_resource(
        ResourceType="ManagedInstance", ResourceId=fleet["hybrid_legacy"][0]
    )["TagList"]
    assert PATCH not in {t["Key"] for t in hybrid_tags}
    assert any("outside the managed patch groups" in m for m in finished["messages"])


def test_a_resource_group_target_is_resolved_and_patched(
    emu: Emulator, finished: dict[str, Any]
) -> None:
    fleet = finished["fleets"]["rg"]
    execution = finished["executions"]["rg"]
    summary = summary_of(execution)
    assert summary["target"] == "blue-team"
    assert summary["started"] == fleet["stopped"] and summary["stopped_again"] == fleet["stopped"]
    assert summary["patched"] == sorted(fleet["running"] + fleet["stopped"])
    assert [n["id"] for n in summary["skipped"]["not_managed"]] == fleet["legacy_running"]
    assert summary["outcome"] == "PartiallyFailed"
    view = states(emu, fleet["running"] + fleet["stopped"] + fleet["legacy_running"])
    assert view[fleet["stopped"][0]] == ("stopped", {"PatchGroup": "rg", "Team": "blue"})
    assert view[fleet["legacy_running"][0]] == ("running", {"PatchGroup": "legacy", "Team": "blue"})


def test_list_group_resources_needs_tag_get_resources(emu: Emulator, runs: dict[str, Any]) -> None:
    iam = emu.client("iam")
    iam.create_role(RoleName="rg-reader", AssumeRolePolicyDocument=json.dumps(ACCOUNT_TRUST))
    iam.put_role_policy(
        RoleName="rg-reader",
        PolicyName="only-list",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "resource-groups:ListGroupResources",
                        "Resource": "*",
                    }
                ],
            }
        ),
    )
    admin = emu.client("resource-groups")
    listed = admin.list_group_resources(Group="blue-team", MaxResults=1)
    assert len(listed["Resources"]) == 1 and "NextToken" in listed
    with pytest.raises(ClientError) as missing:
        admin.list_group_resources(Group="no-such-group")
    assert missing.value.response["Error"]["Code"] == "NotFoundException"
    creds = emu.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/rg-reader", RoleSessionName="probe"
    )["Credentials"]
    reader = boto3.client(
        "resource-groups",
        region_name=REGION,
        endpoint_url=emu.endpoint,
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )
    with pytest.raises(ClientError) as refused:
        reader.list_group_resources(Group="blue-team")
    assert refused.value.response["Error"]["Code"] == "ForbiddenException"


# --- issue 16: no root on the fleet from a document parameter ----------------------------------


@pytest.mark.parametrize(
    ("name", "url"),
    [
        ("BaselineOverride", "s3://patch-overrides-evil/baseline.json"),
        ("BaselineOverride", "s3://patch-overrides-tests-evil/baseline.json"),
        ("InstallOverrideList", "https://patch-overrides-tests.example.com/install.yaml"),
        ("InstallOverrideList", "s3://patch-overrides-tests/"),
    ],
)
def test_an_override_outside_the_approved_prefix_is_refused_at_start(
    emu: Emulator, runs: dict[str, Any], name: str, url: str
) -> None:
    """SSM checks each parameter value against its allowedPattern (rendered from the module's
    override_s3_prefixes): the execution never starts."""
    ssm = emu.client("ssm")
    with pytest.raises(ClientError) as refused:
        ssm.start_automation_execution(
            DocumentName=DOCUMENT,
            Parameters={
                "AutomationAssumeRole": [f"arn:aws:iam::{ACCOUNT}:role/patch-run-automation"],
                "PatchGroup": ["bad"],
                name: [url],
            },
        )
    assert (
        refused.value.response["Error"]["Code"] == "InvalidAutomationExecutionParametersException"
    )
    assert "not matching" in refused.value.response["Error"]["Message"]


def test_the_output_bucket_is_not_a_parameter(emu: Emulator, runs: dict[str, Any]) -> None:
    with pytest.raises(ClientError) as refused:
        emu.client("ssm").start_automation_execution(
            DocumentName=DOCUMENT,
            Parameters={
                "AutomationAssumeRole": [f"arn:aws:iam::{ACCOUNT}:role/patch-run-automation"],
                "PatchGroup": ["bad"],
                "OutputS3BucketName": ["someone-elses-bucket"],
            },
        )
    assert (
        refused.value.response["Error"]["Code"] == "InvalidAutomationExecutionParametersException"
    )


def test_a_patch_group_the_role_does_not_manage_is_never_commanded(
    emu: Emulator, finished: dict[str, Any]
) -> None:
    """PatchGroup names a group outside the module's patch_groups: IAM refuses every tag the
    run needs (CreateTags / AddTagsToResource are conditioned on the patch-group tag), so no
    node carries the run's patch-run tag and PatchNodes, which targets only that tag, never runs.
    """
    execution = finished["executions"]["legacy"]
    steps = steps_of(execution)
    summary = summary_of(execution)
    mixed, rg = finished["fleets"]["mixed"], finished["fleets"]["rg"]
    ec2_nodes = sorted(mixed["legacy_running"] + mixed["legacy_stopped"] + rg["legacy_running"])
    outside = sorted(ec2_nodes + mixed["hybrid_legacy"])
    # Denied by IAM: the stopped legacy instance cannot be claimed (ec2:CreateTags), so the run
    # fails before it starts or selects anything.
    assert execution["AutomationExecutionStatus"] == "Failed"
    assert steps["FindAndTagStoppedInstances"]["StepStatus"] == "Failed"
    refusals = [f["message"] for f in summary["failed_steps"]] + [
        n["reason"] for n in summary["skipped"]["not_managed"]
    ]
    assert any("UnauthorizedOperation" in r and "ec2:CreateTags" in r for r in refusals)
    assert summary["patched"] == [] and summary["started"] == []
    assert steps["PatchNodes"]["StepStatus"] == "Pending"
    assert steps["UpdateSsmAgent"]["StepStatus"] == "Pending"
    ssm = emu.client("ssm")
    for node in outside:
        assert ssm.list_command_invocations(InstanceId=node)["CommandInvocations"] == [], node
    view = states(emu, ec2_nodes)
    assert view[mixed["legacy_stopped"][0]] == ("stopped", {"PatchGroup": "legacy", "App": "shop"})
    assert view[mixed["legacy_running"][0]] == ("running", {"PatchGroup": "legacy", "App": "shop"})
    assert view[rg["legacy_running"][0]] == ("running", {"PatchGroup": "legacy", "Team": "blue"})


def test_the_role_cannot_command_a_node_of_another_patch_group_by_id(
    emu: Emulator, finished: dict[str, Any]
) -> None:
    """The Automation role's policy, assumed directly (as another document run with the role
    could): SendCommand by InstanceIds authorizes each node with its tags, and the Deny
    NeverCommandOtherPatchGroups refuses a node of a patch group the module does not manage;
    a node of a managed group is allowed. The patch runs themselves (tag targets) succeeded."""
    iam = emu.client("iam")
    iam.create_role(
        RoleName="patch-run-policy-probe", AssumeRolePolicyDocument=json.dumps(ACCOUNT_TRUST)
    )
    iam.put_role_policy(
        RoleName="patch-run-policy-probe",
        PolicyName="patch-run",
        PolicyDocument=json.dumps(module_policy(GROUPS, finished["topic"], OVERRIDE_PREFIXES)),
    )
    creds = emu.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/patch-run-policy-probe", RoleSessionName="probe"
    )["Credentials"]
    probe = boto3.client(
        "ssm",
        region_name=REGION,
        endpoint_url=emu.endpoint,
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    )
    mixed = finished["fleets"]["mixed"]
    for node in (mixed["legacy_running"][0], mixed["hybrid_legacy"][0]):
        with pytest.raises(ClientError) as refused:
            probe.send_command(
                DocumentName="AWS-RunPatchBaseline",
                InstanceIds=[node],
                Parameters={"Operation": ["Scan"]},
            )
        assert refused.value.response["Error"]["Code"] == "AccessDeniedException", node
        assert (
            emu.client("ssm").list_command_invocations(InstanceId=node)["CommandInvocations"] == []
        ), node
    allowed = probe.send_command(
        DocumentName="AWS-RunPatchBaseline",
        InstanceIds=[mixed["running"][0]],
        Parameters={"Operation": ["Scan"]},
    )["Command"]
    assert allowed["InstanceIds"] == [mixed["running"][0]]
    assert finished["executions"]["mixed"]["AutomationExecutionStatus"] == "Success"
