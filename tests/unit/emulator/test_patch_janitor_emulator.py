"""The patch janitor executed on a launched emulator, started by its EventBridge schedule.

A stand-in patch run (the real document's contract: tag ``fleetpatch:started-by = <execution
id>`` on the stopped instances it starts) dies without stopping them, another stays running;
then the janitor's rule is "fired" (``POST /fleetpatch/events/fire``): EventBridge assumes the
janitor's events role, starts ``<prefix>-PatchJanitor`` with the janitor role, and every call of
its script is IAM-evaluated against that role's policy, which mirrors
modules/patch_automation/janitor.tf.
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import pytest
import yaml
from botocore.exceptions import ClientError

from tests.emulator.launcher import ROOT, Emulator

ACCOUNT = "123456789012"
REGION = "us-west-2"
PREFIX = "fleetpatch"
MARKER = "fleetpatch:started-by"
PATCH = "fleetpatch:patch-run"
NAMESPACE = "fleetpatch-janitor-test"
RULE = f"{PREFIX}-patch-janitor"
JANITOR = ROOT / "ssm_documents" / "generated" / "patch_janitor.yaml"
DEFINITION = f"arn:aws:ssm:{REGION}:{ACCOUNT}:automation-definition/{PREFIX}-PatchJanitor:$DEFAULT"
INSTANCES = f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/*"
GROUP_CONDITION = {"aws:ResourceTag/PatchGroup": ["web", "db"]}


def _ssm_trust() -> dict[str, Any]:
    return {
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


# The janitor role's policy as modules/patch_automation/janitor.tf writes it (patch groups web, db).
JANITOR_POLICY: dict[str, Any] = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Sid": "FindMarkedInstances",
            "Effect": "Allow",
            "Action": ["ec2:DescribeInstances"],
            "Resource": "*",
        },
        {
            "Sid": "LookUpPatchRunExecutions",
            "Effect": "Allow",
            "Action": ["ssm:GetAutomationExecution"],
            "Resource": f"arn:aws:ssm:{REGION}:{ACCOUNT}:automation-execution/*",
        },
        {
            "Sid": "StopMarkedInstances",
            "Effect": "Allow",
            "Action": ["ec2:StopInstances"],
            "Resource": INSTANCES,
            "Condition": {
                "StringEquals": GROUP_CONDITION,
                "Null": {
                    f"aws:ResourceTag/{MARKER}": "false",
                    "aws:ResourceTag/aws:autoscaling:groupName": "true",
                },
            },
        },
        {
            "Sid": "RemoveOnlyTheMarker",
            "Effect": "Allow",
            "Action": ["ec2:DeleteTags"],
            "Resource": INSTANCES,
            "Condition": {
                "StringEquals": GROUP_CONDITION,
                "ForAllValues:StringEquals": {"aws:TagKeys": [MARKER]},
                "Null": {f"aws:ResourceTag/{MARKER}": "false", "aws:TagKeys": "false"},
            },
        },
        {
            "Sid": "RemoveOnlyThePatchSetTag",
            "Effect": "Allow",
            "Action": ["ec2:DeleteTags"],
            "Resource": INSTANCES,
            "Condition": {
                "StringEquals": GROUP_CONDITION,
                "ForAllValues:StringEquals": {"aws:TagKeys": [PATCH]},
                "Null": {f"aws:ResourceTag/{PATCH}": "false", "aws:TagKeys": "false"},
            },
        },
        {
            "Sid": "FindPatchSetTaggedHybridNodes",
            "Effect": "Allow",
            "Action": ["ssm:DescribeInstanceInformation"],
            "Resource": "*",
        },
        {
            "Sid": "ReadHybridNodeTags",
            "Effect": "Allow",
            "Action": ["ssm:ListTagsForResource"],
            "Resource": f"arn:aws:ssm:{REGION}:{ACCOUNT}:managed-instance/*",
        },
        {
            "Sid": "RemoveOnlyTheHybridPatchSetTag",
            "Effect": "Allow",
            "Action": ["ssm:RemoveTagsFromResource"],
            "Resource": f"arn:aws:ssm:{REGION}:{ACCOUNT}:managed-instance/*",
            "Condition": {
                "StringEquals": GROUP_CONDITION,
                "ForAllValues:StringEquals": {"aws:TagKeys": [PATCH]},
                "Null": {"aws:TagKeys": "false"},
            },
        },
        {
            "Sid": "PublishJanitorMetrics",
            "Effect": "Allow",
            "Action": ["cloudwatch:PutMetricData"],
            "Resource": "*",
            "Condition": {"StringEquals": {"cloudwatch:namespace": NAMESPACE}},
        },
    ],
}

# A stand-in patch run: claims and starts the given stopped instances, then either dies
# (onFailure Abort: its stop step never runs) or keeps running.
CLAIM = """
import boto3

def handler(events, context):
    ec2 = boto3.client("ec2")
    ids = events["InstanceIds"]
    marker = {"Key": "fleetpatch:started-by", "Value": events["ExecutionId"]}
    ec2.create_tags(Resources=ids, Tags=[marker])
    ec2.start_instances(InstanceIds=ids)
    return {"claimed": ids}
"""
DIE = "def handler(events, context):\n    raise RuntimeError('the run died before its stop step')\n"
STAND_IN_RUN: dict[str, Any] = {
    "schemaVersion": "0.3",
    "assumeRole": "{{ AutomationAssumeRole }}",
    "parameters": {
        "AutomationAssumeRole": {"type": "String"},
        "InstanceIds": {"type": "StringList"},
        "Mode": {"type": "String", "allowedValues": ["die", "live"]},
    },
    "mainSteps": [
        {
            "name": "Claim",
            "action": "aws:executeScript",
            "inputs": {
                "Runtime": "python3.11",
                "Handler": "handler",
                "Script": CLAIM,
                "InputPayload": {
                    "InstanceIds": "{{ InstanceIds }}",
                    "ExecutionId": "{{ automation:EXECUTION_ID }}",
                },
            },
        },
        {
            "name": "Branch",
            "action": "aws:branch",
            "inputs": {
                "Choices": [
                    {"NextStep": "KeepRunning", "Variable": "{{ Mode }}", "StringEquals": "live"}
                ],
                "Default": "Die",
            },
        },
        {
            "name": "Die",
            "action": "aws:executeScript",
            "isEnd": True,
            "inputs": {"Runtime": "python3.11", "Handler": "handler", "Script": DIE},
        },
        {
            "name": "KeepRunning",
            "action": "aws:sleep",
            "isEnd": True,
            "inputs": {"Duration": "PT10M"},
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


def _role(emu: Emulator, name: str, trust: dict[str, Any], policy: dict[str, Any]) -> str:
    iam = emu.client("iam")
    arn: str = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"][
        "Arn"
    ]
    iam.put_role_policy(RoleName=name, PolicyName="policy", PolicyDocument=json.dumps(policy))
    return arn


def _launch(
    emu: Emulator, group: str, count: int, extra: dict[str, str] | None = None
) -> list[str]:
    tags = [
        {"Key": "PatchGroup", "Value": group},
        *({"Key": k, "Value": v} for k, v in (extra or {}).items()),
    ]
    ids = [
        i["InstanceId"]
        for i in emu.client("ec2").run_instances(
            ImageId="ami-12c6146b",
            MinCount=count,
            MaxCount=count,
            TagSpecifications=[{"ResourceType": "instance", "Tags": tags}],
        )["Instances"]
    ]
    return ids


def _states(emu: Emulator, ids: list[str]) -> dict[str, tuple[str, dict[str, str]]]:
    reservations = emu.client("ec2").describe_instances(InstanceIds=ids)["Reservations"]
    return {
        i["InstanceId"]: (i["State"]["Name"], {t["Key"]: t["Value"] for t in i.get("Tags", [])})
        for r in reservations
        for i in r["Instances"]
    }


def _wait(predicate: Any, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.3)
    raise AssertionError("condition not reached in time")


def _status(emu: Emulator, execution_id: str) -> str:
    found = emu.client("ssm").get_automation_execution(AutomationExecutionId=execution_id)
    return str(found["AutomationExecution"]["AutomationExecutionStatus"])


@pytest.fixture(scope="module")
def janitor_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A dead and a live stand-in run, then the janitor fired through its schedule rule."""
    log = tmp_path_factory.mktemp("emulator") / "emulator.log"
    with Emulator(log_path=log) as emu:
        ssm = emu.client("ssm")
        admin = _role(
            emu,
            "stand-in-patch-run",
            _ssm_trust(),
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
            },
        )
        janitor_role = _role(emu, f"{PREFIX}-patch-janitor", _ssm_trust(), JANITOR_POLICY)
        events_role = _role(
            emu,
            f"{PREFIX}-patch-janitor-events",
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "events.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                        "Condition": {
                            "StringEquals": {"aws:SourceAccount": ACCOUNT},
                            "ArnEquals": {
                                "aws:SourceArn": f"arn:aws:events:{REGION}:{ACCOUNT}:rule/{RULE}"
                            },
                        },
                    }
                ],
            },
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": ["ssm:StartAutomationExecution"],
                        "Resource": [DEFINITION],
                    },
                    {
                        "Effect": "Allow",
                        "Action": ["iam:PassRole"],
                        "Resource": [janitor_role],
                        "Condition": {"StringEquals": {"iam:PassedToService": "ssm.amazonaws.com"}},
                    },
                ],
            },
        )
        ssm.create_document(
            Name=f"{PREFIX}-PatchRun",
            DocumentType="Automation",
            DocumentFormat="YAML",
            Content=yaml.safe_dump(STAND_IN_RUN, sort_keys=False),
        )
        ssm.create_document(
            Name=f"{PREFIX}-PatchJanitor",
            DocumentType="Automation",
            DocumentFormat="YAML",
            Content=JANITOR.read_text(encoding="utf-8"),
        )
        ec2 = emu.client("ec2")
        dead_ids = _launch(emu, "web", 2, {"Owner": "team-a"})
        live_ids = _launch(emu, "db", 1)
        running = _launch(emu, "web", 1)
        by_hand = _launch(emu, "web", 1, {MARKER: "set-by-hand", "Owner": "team-b"})
        elsewhere = _launch(emu, "batch", 1)
        ec2.stop_instances(InstanceIds=dead_ids + live_ids + elsewhere)
        _wait(
            lambda: all(
                s == "stopped" for s, _ in _states(emu, dead_ids + live_ids + elsewhere).values()
            )
        )

        def start(mode: str, ids: list[str]) -> str:
            execution_id: str = ssm.start_automation_execution(
                DocumentName=f"{PREFIX}-PatchRun",
                Parameters={"AutomationAssumeRole": [admin], "InstanceIds": ids, "Mode": [mode]},
            )["AutomationExecutionId"]
            return execution_id

        dead = start("die", dead_ids)
        live = start("live", live_ids)
        _wait(lambda: _status(emu, dead) == "Failed")
        _wait(lambda: all(s == "running" for s, _ in _states(emu, dead_ids + live_ids).values()))
        # A marker of the dead run on an instance of another patch group: never looked at.
        ec2.create_tags(Resources=elsewhere, Tags=[{"Key": MARKER, "Value": dead}])
        # The patch-set tags SelectNodesToPatch put on nodes that were running before the runs.
        dead_set = _launch(emu, "web", 1, {"Owner": "team-c", PATCH: dead})
        live_set = _launch(emu, "db", 1, {PATCH: live})

        events = emu.client("events")
        events.put_rule(Name=RULE, ScheduleExpression="rate(1 hour)", State="ENABLED")
        events.put_targets(
            Rule=RULE,
            Targets=[
                {
                    "Id": "patch-janitor",
                    "Arn": DEFINITION,
                    "RoleArn": events_role,
                    "Input": json.dumps(
                        {
                            "AutomationAssumeRole": [janitor_role],
                            "PatchRunDocumentName": [f"{PREFIX}-PatchRun"],
                            "PatchGroupTagKey": ["PatchGroup"],
                            "PatchGroups": ["web", "db"],
                            "GracePeriodSeconds": ["56160"],
                            "MetricsNamespace": [NAMESPACE],
                            "DryRun": ["false"],
                        }
                    ),
                }
            ],
        )
        fired = control(
            emu, "events/fire", {"account_id": ACCOUNT, "region": REGION, "rule_name": RULE}
        )["results"]
        execution_id = fired[0].get("execution_id")
        finished = (
            control(emu, "automation/wait", {"execution_id": execution_id, "timeout_seconds": 600})[
                "execution"
            ]
            if execution_id
            else {}
        )
        yield {
            "emu": emu,
            "fired": fired,
            "execution_id": execution_id,
            "finished": finished,
            "dead": dead,
            "live": live,
            "dead_ids": dead_ids,
            "live_ids": live_ids,
            "running": running,
            "by_hand": by_hand,
            "elsewhere": elsewhere,
            "dead_set": dead_set,
            "live_set": live_set,
            "janitor_policy": JANITOR_POLICY,
        }


def test_the_schedule_starts_the_janitor_with_its_roles(janitor_run: dict[str, Any]) -> None:
    (delivery,) = janitor_run["fired"]
    assert delivery["ok"] is True, delivery
    assert delivery["kind"] in {"ssm-automation", "automation"} or "execution_id" in delivery
    finished = janitor_run["finished"]
    assert finished["AutomationExecutionStatus"] == "Success", finished.get("FailureMessage")
    assert finished["DocumentName"] == f"{PREFIX}-PatchJanitor"
    # Its role was evaluated on every call and needed nothing it lacks.
    with urllib.request.urlopen(f"{janitor_run['emu'].endpoint}/fleetpatch/iam/denials") as answer:
        denials = json.loads(answer.read())["denials"]
    actor = f"arn:aws:iam::{ACCOUNT}:role/{PREFIX}-patch-janitor"
    assert [d for d in denials if d["actor"].startswith(actor)] == []


def test_the_dead_run_s_instances_are_stopped_and_only_the_marker_removed(
    janitor_run: dict[str, Any],
) -> None:
    emu = janitor_run["emu"]
    states = _states(emu, janitor_run["dead_ids"])
    assert states == {
        i: ("stopped", {"PatchGroup": "web", "Owner": "team-a"}) for i in janitor_run["dead_ids"]
    }
    outputs = janitor_run["finished"]["Outputs"]
    assert sorted(outputs["CleanUpMarkers.StoppedInstanceIds"]) == sorted(janitor_run["dead_ids"])


def test_live_runs_unmarked_and_other_groups_are_left_alone(janitor_run: dict[str, Any]) -> None:
    emu = janitor_run["emu"]
    (live,) = janitor_run["live_ids"]
    assert _states(emu, [live])[live] == (
        "running",
        {"PatchGroup": "db", MARKER: janitor_run["live"]},
    )
    (running,) = janitor_run["running"]
    assert _states(emu, [running])[running][0] == "running"
    (elsewhere,) = janitor_run["elsewhere"]
    assert _states(emu, [elsewhere])[elsewhere][1][MARKER] == janitor_run["dead"]


def test_a_hand_set_marker_is_removed_without_stopping(janitor_run: dict[str, Any]) -> None:
    emu = janitor_run["emu"]
    (by_hand,) = janitor_run["by_hand"]
    assert _states(emu, [by_hand])[by_hand] == ("running", {"PatchGroup": "web", "Owner": "team-b"})
    summary = json.loads(janitor_run["finished"]["Outputs"]["CleanUpMarkers.SummaryJson"][0])
    assert summary["left_running"] == [by_hand]
    assert summary["executions"] == {
        "dead": [janitor_run["dead"]],
        "live": [janitor_run["live"]],
        "malformed": ["set-by-hand"],
    }
    assert summary["failed"] == [] and summary["metrics_published"] is True


def test_the_metrics_reach_cloudwatch(janitor_run: dict[str, Any]) -> None:
    cloudwatch = janitor_run["emu"].client("cloudwatch")
    names = {m["MetricName"] for m in cloudwatch.list_metrics(Namespace=NAMESPACE)["Metrics"]}
    assert {"OrphanedMarkers", "InstancesStopped", "MarkersRemoved", "CleanupErrors"} <= names
    now = time.time()
    stats = cloudwatch.get_metric_statistics(
        Namespace=NAMESPACE,
        MetricName="InstancesStopped",
        Dimensions=[{"Name": "DocumentName", "Value": f"{PREFIX}-PatchRun"}],
        StartTime=now - 3600,
        EndTime=now + 3600,
        Period=3600,
        Statistics=["Sum"],
    )["Datapoints"]
    assert sum(d["Sum"] for d in stats) == 2.0


def test_the_janitor_role_cannot_do_more(janitor_run: dict[str, Any]) -> None:
    """The same policy on a role the test can assume: every request beyond it is refused."""
    emu = janitor_run["emu"]
    arn = _role(
        emu,
        "janitor-policy-probe",
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                    "Action": "sts:AssumeRole",
                }
            ],
        },
        janitor_run["janitor_policy"],
    )
    credentials = emu.client("sts").assume_role(RoleArn=arn, RoleSessionName="probe")["Credentials"]
    session = boto3.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=REGION,
    )
    ec2 = session.client("ec2", endpoint_url=emu.endpoint)
    (live,) = janitor_run["live_ids"]
    (running,) = janitor_run["running"]
    (elsewhere,) = janitor_run["elsewhere"]
    refused: list[Callable[[], Any]] = [
        lambda: ec2.stop_instances(InstanceIds=[running]),  # no marker
        lambda: ec2.stop_instances(InstanceIds=[elsewhere]),  # another patch group
        lambda: ec2.start_instances(InstanceIds=janitor_run["dead_ids"]),
        lambda: ec2.delete_tags(Resources=[live]),  # no Tags: would delete every user tag
        lambda: ec2.delete_tags(Resources=[live], Tags=[{"Key": "PatchGroup"}]),
        lambda: ec2.create_tags(Resources=[live], Tags=[{"Key": MARKER, "Value": "x"}]),
        lambda: session.client("cloudwatch", endpoint_url=emu.endpoint).put_metric_data(
            Namespace="Other", MetricData=[{"MetricName": "X", "Value": 1.0}]
        ),
    ]
    for call in refused:
        with pytest.raises(ClientError) as caught:
            call()
        assert caught.value.response["Error"]["Code"] in {"UnauthorizedOperation", "AccessDenied"}
    assert _states(emu, [live])[live] == (
        "running",
        {"PatchGroup": "db", MARKER: janitor_run["live"]},
    )


def test_a_dead_run_s_patch_set_tag_is_removed_without_stopping(
    janitor_run: dict[str, Any],
) -> None:
    emu = janitor_run["emu"]
    states = _states(emu, janitor_run["dead_set"] + janitor_run["live_set"])
    dead_state, dead_tags = states[janitor_run["dead_set"][0]]
    assert dead_state == "running"
    assert dead_tags == {"PatchGroup": "web", "Owner": "team-c"}
    live_state, live_tags = states[janitor_run["live_set"][0]]
    assert live_state == "running" and live_tags[PATCH] == janitor_run["live"]
    outputs = janitor_run["finished"]["Outputs"]
    assert outputs["CleanUpMarkers.PatchTagsRemovedIds"] == janitor_run["dead_set"]
