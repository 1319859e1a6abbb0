"""The patch janitor's step script (ssm_documents/scripts/patch_janitor.py) against moto.

EC2 and CloudWatch are moto's; moto has no Automation executions, so GetAutomationExecution is
answered by botocore's Stubber (responses validated against the SSM model).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from moto import mock_aws

from ssm_documents import build, check
from ssm_documents.scripts import patch_janitor as pj

REGION = "us-west-2"
AMI = "ami-12c6146b"
MARKER = pj.MARKER_TAG
DOC = "ss-oregon-PatchRun"
GRACE = 6 * 3600
NOW = datetime.now(UTC)
DEAD = "11111111-1111-4111-8111-111111111111"
LIVE = "22222222-2222-4222-8222-222222222222"
GONE = "33333333-3333-4333-8333-333333333333"
OTHER = "44444444-4444-4444-8444-444444444444"
OLD = "55555555-5555-4555-8555-555555555555"
GENERATED = build.GENERATED / "patch_janitor.yaml"


@pytest.fixture(scope="module")
def moto_aws() -> Iterator[dict[str, Any]]:
    """One moto for the module (starting it costs seconds); tests keep apart by group."""
    env = pytest.MonkeyPatch()
    env.setenv("AWS_DEFAULT_REGION", REGION)
    env.setenv("AWS_ACCESS_KEY_ID", "testing")
    env.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    env.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        yield {
            "ec2": boto3.client("ec2", region_name=REGION),
            "cloudwatch": boto3.client("cloudwatch", region_name=REGION),
        }
    env.undo()


_GROUPS = iter(range(1000))


@pytest.fixture
def aws(moto_aws: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Clients, a fresh SSM Stubber, and this test's own patch group and metric namespace."""
    ssm = boto3.client("ssm", region_name=REGION)
    stubber = Stubber(ssm)
    stubber.activate()
    number = next(_GROUPS)
    yield {**moto_aws, "ssm": ssm, "stub": stubber, "group": f"g{number}", "ns": f"fp{number}"}
    stubber.deactivate()


def launch(
    aws: dict[str, Any], marker: str | None, *, group: str = "", stopped: bool = False
) -> str:
    ec2 = aws["ec2"]
    tags = [
        {"Key": "PatchGroup", "Value": group or aws["group"]},
        {"Key": "Owner", "Value": "team-a"},
    ]
    if marker is not None:
        tags.append({"Key": MARKER, "Value": marker})
    instance_id = str(
        ec2.run_instances(
            ImageId=AMI,
            MinCount=1,
            MaxCount=1,
            TagSpecifications=[{"ResourceType": "instance", "Tags": tags}],
        )["Instances"][0]["InstanceId"]
    )
    if stopped:
        ec2.stop_instances(InstanceIds=[instance_id])
    return instance_id


def state(ec2: Any, instance_id: str) -> tuple[str, dict[str, str]]:
    item = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"][0]["Instances"][0]
    return item["State"]["Name"], {t["Key"]: t["Value"] for t in item.get("Tags", [])}


def execution(
    stub: Stubber,
    execution_id: str,
    status: str,
    *,
    document: str = DOC,
    started: datetime | None = None,
    ended: datetime | None = None,
) -> None:
    body: dict[str, Any] = {
        "AutomationExecutionId": execution_id,
        "DocumentName": document,
        "AutomationExecutionStatus": status,
        "ExecutionStartTime": started or NOW - timedelta(minutes=30),
    }
    if status in pj.TERMINAL_STATUSES:
        body["ExecutionEndTime"] = ended or NOW + timedelta(hours=1)
    stub.add_response(
        "get_automation_execution",
        {"AutomationExecution": body},
        {"AutomationExecutionId": execution_id},
    )


def not_found(
    stub: Stubber, execution_id: str, code: str = "AutomationExecutionNotFoundException"
) -> None:
    stub.add_client_error(
        "get_automation_execution",
        service_error_code=code,
        service_message=f"{code} for {execution_id}",
        expected_params={"AutomationExecutionId": execution_id},
    )


def events(aws: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "PatchRunDocumentName": DOC,
        "PatchGroupTagKey": "PatchGroup",
        "PatchGroups": [aws["group"], "db"],
        "GracePeriodSeconds": GRACE,
        "MetricsNamespace": aws["ns"],
        "DryRun": False,
    }
    base.update(overrides)
    return base


def no_hybrid_patch_tags(stub: Stubber) -> None:
    """The hybrid half of the patch-set tag search finds nothing (DescribeInstanceInformation)."""
    stub.add_response("describe_instance_information", {"InstanceInformationList": []})


def run(aws: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    no_hybrid_patch_tags(aws["stub"])
    return pj.run(
        events(aws, **overrides), aws["ec2"], aws["ssm"], aws["cloudwatch"], now=lambda: NOW
    )


def metrics(aws: dict[str, Any]) -> dict[str, float]:
    values: dict[str, float] = {}
    for metric in aws["cloudwatch"].list_metrics(Namespace=aws["ns"])["Metrics"]:
        stats = aws["cloudwatch"].get_metric_statistics(
            Namespace=aws["ns"],
            MetricName=metric["MetricName"],
            Dimensions=metric["Dimensions"],
            StartTime=NOW - timedelta(hours=1),
            EndTime=NOW + timedelta(hours=1),
            Period=3600,
            Statistics=["Sum"],
        )["Datapoints"]
        assert metric["Dimensions"] == [{"Name": "DocumentName", "Value": DOC}]
        values[metric["MetricName"]] = sum(d["Sum"] for d in stats)
    return values


def test_a_dead_run_s_instances_are_stopped_and_untagged(aws: dict[str, Any]) -> None:
    ec2 = aws["ec2"]
    running = launch(aws, DEAD)
    stopped = launch(aws, DEAD, stopped=True)
    live = launch(aws, LIVE)
    unmarked = launch(aws, None)
    execution(aws["stub"], DEAD, "Cancelled")
    execution(aws["stub"], LIVE, "InProgress")

    out = run(aws)

    assert state(ec2, running) == ("stopped", {"PatchGroup": aws["group"], "Owner": "team-a"})
    assert state(ec2, stopped) == ("stopped", {"PatchGroup": aws["group"], "Owner": "team-a"})
    assert state(ec2, live)[0] == "running" and state(ec2, live)[1][MARKER] == LIVE
    assert state(ec2, unmarked)[0] == "running"
    assert out["StoppedInstanceIds"] == [running]
    assert out["UntaggedInstanceIds"] == sorted([running, stopped])
    assert out["LiveInstanceIds"] == [live]
    assert out["OrphanedCount"] == 2 and out["ErrorCount"] == 0
    summary = out["Summary"]
    assert summary["executions"] == {"dead": [DEAD], "live": [LIVE]}
    assert summary["api_calls"] == {
        "DeleteTags": 1,
        "DescribeInstanceInformation": 1,
        "DescribeInstances": 1,
        "GetAutomationExecution": 2,
        "PutMetricData": 1,
        "StopInstances": 1,
    }
    assert json.loads(out["SummaryJson"]) == summary
    assert metrics(aws) == {
        "MarkedInstances": 3.0,
        "LiveMarkers": 1.0,
        "ForeignMarkers": 0.0,
        "OrphanedMarkers": 2.0,
        "InstancesStopped": 1.0,
        "MarkersRemoved": 2.0,
        "DeferredInstances": 0.0,
        "CleanupErrors": 0.0,
        "PatchTagsRemoved": 0.0,
    }
    aws["stub"].assert_no_pending_responses()


def test_a_dead_run_s_patch_set_tags_are_removed_and_nothing_is_stopped(
    aws: dict[str, Any],
) -> None:
    ec2, stub = aws["ec2"], aws["stub"]
    patch_tag = pj.PATCH_TAG
    dead_set = launch(aws, None)
    live_set = launch(aws, None)
    ec2.create_tags(Resources=[dead_set], Tags=[{"Key": patch_tag, "Value": DEAD}])
    ec2.create_tags(Resources=[live_set], Tags=[{"Key": patch_tag, "Value": LIVE}])
    hybrid = "mi-0123456789abcdef0"
    stub.add_response(
        "describe_instance_information",
        {
            "InstanceInformationList": [
                {"InstanceId": hybrid, "PingStatus": "Online"},
                {"InstanceId": "i-0123456789abcdef0", "PingStatus": "Online"},
            ]
        },
        {
            # Tag filters only: AWS refuses them combined with other filter types.
            "Filters": [
                {"Key": "tag-key", "Values": [patch_tag]},
                {"Key": "tag:PatchGroup", "Values": sorted([aws["group"], "db"])},
            ],
            "MaxResults": 50,
        },
    )
    stub.add_response(
        "list_tags_for_resource",
        {"TagList": [{"Key": patch_tag, "Value": DEAD}, {"Key": "Owner", "Value": "team-a"}]},
        {"ResourceType": "ManagedInstance", "ResourceId": hybrid},
    )
    execution(stub, DEAD, "Failed")
    execution(stub, LIVE, "InProgress")
    stub.add_response(
        "remove_tags_from_resource",
        {},
        {"ResourceType": "ManagedInstance", "ResourceId": hybrid, "TagKeys": [patch_tag]},
    )

    out = pj.run(events(aws), ec2, aws["ssm"], aws["cloudwatch"], now=lambda: NOW)

    # The dead run's patch-set tag is gone, nothing else changed; the live run's stays.
    assert state(ec2, dead_set) == ("running", {"PatchGroup": aws["group"], "Owner": "team-a"})
    assert state(ec2, live_set)[0] == "running"
    assert state(ec2, live_set)[1][patch_tag] == LIVE
    assert out["PatchTagsRemovedIds"] == sorted([dead_set, hybrid])
    assert out["StoppedInstanceIds"] == [] and out["ErrorCount"] == 0
    assert out["Summary"]["executions"] == {"dead": [DEAD], "live": [LIVE]}
    assert metrics(aws)["PatchTagsRemoved"] == 2.0
    stub.assert_no_pending_responses()


def test_a_patch_set_tag_that_cannot_be_removed_is_an_error_and_kept(
    aws: dict[str, Any],
) -> None:
    stub = aws["stub"]
    stub.add_response(
        "describe_instance_information",
        {"InstanceInformationList": [{"InstanceId": "mi-0123456789abcdef1"}]},
    )
    stub.add_response("list_tags_for_resource", {"TagList": [{"Key": pj.PATCH_TAG, "Value": DEAD}]})
    execution(stub, DEAD, "Cancelled")
    stub.add_client_error("remove_tags_from_resource", service_error_code="AccessDeniedException")

    out = pj.run(events(aws), aws["ec2"], aws["ssm"], aws["cloudwatch"], now=lambda: NOW)

    assert out["PatchTagsRemovedIds"] == []
    assert out["ErrorCount"] == 1
    assert out["Summary"]["status"] == "error"
    assert out["Summary"]["patch_tag_errors"][0]["node_id"] == "mi-0123456789abcdef1"
    assert "AccessDeniedException" in out["Summary"]["patch_tag_errors"][0]["error"]
    assert metrics(aws)["CleanupErrors"] == 1.0
    stub.assert_no_pending_responses()


def test_every_terminal_status_counts_as_dead_and_the_rest_as_running() -> None:
    shape: Any = boto3.client("ssm", region_name=REGION).meta.service_model.shape_for(
        "AutomationExecutionStatus"
    )
    every = set(shape.enum)
    assert every > pj.TERMINAL_STATUSES
    assert every - pj.TERMINAL_STATUSES >= {"Pending", "InProgress", "Waiting", "Cancelling"}


def test_a_run_past_its_grace_period_is_overdue(aws: dict[str, Any]) -> None:
    overdue = launch(aws, OLD)
    execution(aws["stub"], OLD, "InProgress", started=NOW - timedelta(seconds=GRACE + 60))
    out = run(aws)
    assert out["StoppedInstanceIds"] == [overdue]
    assert out["Summary"]["executions"] == {"overdue": [OLD]}


def test_expired_foreign_malformed_and_unknown_markers(aws: dict[str, Any]) -> None:
    ec2 = aws["ec2"]
    expired = launch(aws, GONE)
    foreign = launch(aws, OTHER)
    by_hand = launch(aws, "patched-by-bob")
    denied = launch(aws, DEAD)
    # Sorted marker order: DEAD, GONE, OTHER ("patched-by-bob" needs no look-up).
    not_found(aws["stub"], DEAD, "AccessDeniedException")
    not_found(aws["stub"], GONE)
    execution(aws["stub"], OTHER, "Failed", document="other-PatchRun")

    out = run(aws)

    # Expired: launched (moto: created) now, long after a 30-day-old run ended -> not stopped.
    assert state(ec2, expired) == ("running", {"PatchGroup": aws["group"], "Owner": "team-a"})
    assert state(ec2, by_hand) == ("running", {"PatchGroup": aws["group"], "Owner": "team-a"})
    assert state(ec2, foreign)[1][MARKER] == OTHER
    assert state(ec2, denied) == (
        "running",
        {"PatchGroup": aws["group"], "Owner": "team-a", MARKER: DEAD},
    )
    summary = out["Summary"]
    assert summary["left_running"] == sorted([expired, by_hand])
    assert summary["left_foreign"] == [foreign]
    assert summary["failed"] == [
        {
            "instance_id": denied,
            "error": f"lookup failed: AccessDeniedException: AccessDeniedException for {DEAD}",
        }
    ]
    assert summary["executions"] == {
        "expired": [GONE],
        "foreign": [OTHER],
        "malformed": ["patched-by-bob"],
        "unknown": [DEAD],
    }
    assert out["StoppedInstanceIds"] == [] and out["ErrorCount"] == 1
    assert metrics(aws)["CleanupErrors"] == 1.0 and metrics(aws)["OrphanedMarkers"] == 2.0


def test_an_instance_started_again_after_the_run_ended_is_left_running(aws: dict[str, Any]) -> None:
    ec2 = aws["ec2"]
    restarted = launch(aws, DEAD)
    execution(
        aws["stub"],
        DEAD,
        "Failed",
        started=NOW - timedelta(hours=3),
        ended=NOW - timedelta(hours=2),
    )
    out = run(aws)
    assert state(ec2, restarted) == ("running", {"PatchGroup": aws["group"], "Owner": "team-a"})
    assert out["Summary"]["left_running"] == [restarted]


def _marked(state: str, launched: datetime | None) -> pj.Marked:
    return pj.Marked("i-0123456789abcdef0", state, DEAD, launched)


def test_started_by_run_reads_launch_time_against_the_run() -> None:
    run_end = NOW - timedelta(hours=1)
    dead = pj.Execution(DEAD, pj.Verdict.DEAD, start=run_end - timedelta(hours=1), end=run_end)
    assert pj.started_by_run(_marked("running", run_end - timedelta(minutes=30)), dead, NOW, GRACE)
    assert pj.started_by_run(_marked("running", run_end + timedelta(seconds=30)), dead, NOW, GRACE)
    assert not pj.started_by_run(
        _marked("running", run_end + timedelta(minutes=5)), dead, NOW, GRACE
    )
    assert pj.started_by_run(_marked("running", None), dead, NOW, GRACE)
    overdue = pj.Execution(OLD, pj.Verdict.OVERDUE, start=NOW - timedelta(days=1))
    assert pj.started_by_run(_marked("running", NOW), overdue, NOW, GRACE)
    expired = pj.Execution(GONE, pj.Verdict.EXPIRED)
    assert pj.started_by_run(_marked("running", NOW - timedelta(days=31)), expired, NOW, GRACE)
    assert not pj.started_by_run(_marked("running", NOW - timedelta(days=29)), expired, NOW, GRACE)
    malformed = pj.Execution("x", pj.Verdict.MALFORMED)
    assert not pj.started_by_run(_marked("running", None), malformed, NOW, GRACE)


def test_pending_instances_and_an_exhausted_time_budget_are_deferred(
    aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    pending = pj.Marked("i-0aaaaaaaaaaaaaaa1", "pending", DEAD, None)
    later = pj.Marked("i-0aaaaaaaaaaaaaaa2", "running", LIVE, None)
    monkeypatch.setattr(pj, "find_tagged", lambda *_a, **_k: ([pending, later], {}))
    execution(aws["stub"], DEAD, "Failed")
    no_hybrid_patch_tags(aws["stub"])
    ticks = iter([0.0, 0.0, 1000.0])
    janitor = pj.Janitor(
        aws["ec2"],
        aws["ssm"],
        document_name=DOC,
        group_tag_key="PatchGroup",
        groups=[aws["group"]],
        grace_seconds=GRACE,
        now=lambda: NOW,
        clock=lambda: next(ticks),
        time_budget=10,
    )
    summary = janitor.run()
    assert summary.ids(pj.Outcome.DEFERRED) == [pending.instance_id, later.instance_id]
    assert summary.executions[LIVE].verdict == pj.Verdict.OUT_OF_TIME
    assert summary.api_calls["GetAutomationExecution"] == 1


def test_dry_run_changes_nothing(aws: dict[str, Any]) -> None:
    ec2 = aws["ec2"]
    running = launch(aws, DEAD)
    execution(aws["stub"], DEAD, "TimedOut")
    out = run(aws, DryRun=True)
    assert state(ec2, running)[0] == "running" and state(ec2, running)[1][MARKER] == DEAD
    assert out["StoppedInstanceIds"] == [running] and out["Summary"]["dry_run"] is True
    assert "StopInstances" not in out["Summary"]["api_calls"]


def test_other_groups_are_never_looked_at(aws: dict[str, Any]) -> None:
    ec2 = aws["ec2"]
    elsewhere = launch(aws, DEAD, group="batch")
    out = run(aws)
    assert state(ec2, elsewhere)[1][MARKER] == DEAD
    assert out["Summary"]["marked"] == 0


def test_batches_follow_the_api_limits(aws: dict[str, Any]) -> None:
    ec2 = aws["ec2"]
    ids = [
        i["InstanceId"]
        for i in ec2.run_instances(
            ImageId=AMI,
            MinCount=120,
            MaxCount=120,
            TagSpecifications=[
                {
                    "ResourceType": "instance",
                    "Tags": [
                        {"Key": "PatchGroup", "Value": aws["group"]},
                        {"Key": MARKER, "Value": DEAD},
                    ],
                }
            ],
        )["Instances"]
    ]
    execution(aws["stub"], DEAD, "CompletedWithFailure")
    out = run(aws)
    assert sorted(out["StoppedInstanceIds"]) == sorted(ids)
    calls = out["Summary"]["api_calls"]
    assert calls["StopInstances"] == 3  # 50 + 50 + 20
    assert calls["DeleteTags"] == 1  # up to 1000 ids a call
    assert calls["GetAutomationExecution"] == 1  # once per execution id


def test_a_refused_stop_keeps_the_marker_and_the_rest_goes_on(
    aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    ec2 = aws["ec2"]
    good, bad = sorted([launch(aws, DEAD), launch(aws, DEAD)])
    execution(aws["stub"], DEAD, "Failed")
    real = ec2.stop_instances

    def stop(**kwargs: Any) -> Any:
        if bad in kwargs["InstanceIds"]:
            raise ClientError(
                {"Error": {"Code": "UnauthorizedOperation", "Message": "no"}}, "StopInstances"
            )
        return real(**kwargs)

    monkeypatch.setattr(ec2, "stop_instances", stop)
    out = run(aws)
    assert out["StoppedInstanceIds"] == [good]
    assert out["FailedInstanceIds"] == [bad]
    assert state(ec2, bad) == (
        "running",
        {"PatchGroup": aws["group"], "Owner": "team-a", MARKER: DEAD},
    )
    assert out["Summary"]["failed"][0]["error"] == "stop: UnauthorizedOperation: no"


def test_a_stop_whose_untag_is_refused_is_still_reported_stopped(
    aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    ec2 = aws["ec2"]
    instance = launch(aws, DEAD)
    execution(aws["stub"], DEAD, "Failed")

    def refuse(**_: Any) -> Any:
        raise ClientError(
            {"Error": {"Code": "UnauthorizedOperation", "Message": "no"}}, "DeleteTags"
        )

    monkeypatch.setattr(ec2, "delete_tags", refuse)
    out = run(aws)
    assert state(ec2, instance)[0] == "stopped"
    assert out["StoppedInstanceIds"] == [instance]
    assert out["FailedInstanceIds"] == [instance]
    assert out["Summary"]["failed"][0]["error"] == "untag: UnauthorizedOperation: no"
    assert metrics(aws)["InstancesStopped"] == 1.0


def test_metrics_that_cannot_be_published_fail_the_step_with_the_summary(
    aws: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(**_: Any) -> Any:
        raise ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "PutMetricData")

    monkeypatch.setattr(aws["cloudwatch"], "put_metric_data", refuse)
    with pytest.raises(pj.JanitorError, match=r'AccessDenied: no\); summary: \{"api_calls"'):
        run(aws)


def test_no_namespace_publishes_nothing(aws: dict[str, Any]) -> None:
    out = run(aws, MetricsNamespace="")
    assert out["Summary"]["metrics_published"] is False
    assert aws["cloudwatch"].list_metrics(Namespace=aws["ns"])["Metrics"] == []


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"PatchGroups": []}, "at least one PatchGroups"),
        ({"PatchGroupTagKey": " "}, "PatchGroupTagKey"),
        ({"GracePeriodSeconds": -1}, "must not be negative"),
    ],
)
def test_bad_inputs_are_refused(aws: dict[str, Any], change: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        run(aws, **change)


def test_the_generated_document_embeds_the_script_and_passes_every_input() -> None:
    assert GENERATED.read_text(encoding="utf-8") == build.render(
        build.SOURCES / "patch_janitor.yaml"
    )
    doc = yaml.safe_load(GENERATED.read_text(encoding="utf-8"))
    assert check.problems(doc) == []
    (step,) = doc["mainSteps"]
    source = Path(pj.__file__).read_text(encoding="utf-8")
    # The build embeds the script verbatim, or without docstrings once build.compact exists.
    compact = getattr(build, "compact", None)
    expected = compact(source) if callable(compact) else source
    assert step["inputs"]["Script"] == expected.rstrip("\n")
    assert step["timeoutSeconds"] <= 600 and pj.TIME_BUDGET_SECONDS < 600
    assert set(step["inputs"]["InputPayload"]) == set(doc["parameters"]) - {"AutomationAssumeRole"}
    assert len(GENERATED.read_bytes()) < 64 * 1024
