"""The aws:executeScript step scripts of the patch run, as plain Python against moto."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from botocore.exceptions import ClientError
from moto import mock_aws

from ssm_documents import render
from ssm_documents.scripts import (
    find_and_tag,
    start_instances,
    stop_started,
    validate_inputs,
    wait_until_online,
)

REGION = "us-west-2"
AMI = "ami-12c6146b"
MARKER = "fleetpatch:started-by"
GENERATED = Path(__file__).resolve().parents[2] / "ssm_documents" / "generated"


@pytest.fixture
def ec2(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        yield boto3.client("ec2", region_name=REGION)


def launch(ec2: Any, group: str | None, state: str = "running", key: str = "PatchGroup") -> str:
    """One instance per reservation, so DescribeInstances pages split between them."""
    kwargs: dict[str, Any] = {"ImageId": AMI, "MinCount": 1, "MaxCount": 1}
    if group is not None:
        kwargs["TagSpecifications"] = [
            {"ResourceType": "instance", "Tags": [{"Key": key, "Value": group}]}
        ]
    instance_id = str(ec2.run_instances(**kwargs)["Instances"][0]["InstanceId"])
    if state == "stopped":
        ec2.stop_instances(InstanceIds=[instance_id])
    return instance_id


def state_of(ec2: Any, instance_id: str) -> str:
    reservations = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"]
    return str(reservations[0]["Instances"][0]["State"]["Name"])


def marker_of(ec2: Any, instance_id: str) -> str | None:
    reservations = ec2.describe_instances(InstanceIds=[instance_id])["Reservations"]
    tags = reservations[0]["Instances"][0].get("Tags", [])
    return next((t["Value"] for t in tags if t["Key"] == MARKER), None)


def count_calls(client: Any, operation: str) -> list[int]:
    calls: list[int] = []
    client.meta.events.register(
        f"before-call.{client.meta.service_model.endpoint_prefix}.{operation}",
        lambda **_: calls.append(1),
    )
    return calls


def patch_run_until_stop(ec2: Any, execution_id: str, group: str = "web") -> dict[str, Any]:
    """Steps 1 and 2 of the patch run (find + tag, start) for one execution."""
    found = find_and_tag.run(
        {
            "ExecutionId": execution_id,
            "PatchGroupTagKey": "PatchGroup",
            "PatchGroup": group,
            "ResourceGroupName": "",
        },
        ec2,
    )
    start_instances.run({"ExecutionId": execution_id, "InstanceIds": found["InstanceIds"]}, ec2)
    return found


# --- step 1: find and tag ----------------------------------------------------------------------


def test_finds_only_stopped_instances_of_the_target_across_pages(ec2: Any) -> None:
    stopped_web = sorted(launch(ec2, "web", "stopped") for _ in range(5))
    running_web = [launch(ec2, "web") for _ in range(2)]
    stopped_db = [launch(ec2, "db", "stopped") for _ in range(2)]
    untagged = launch(ec2, None, "stopped")
    other_key = launch(ec2, "web", "stopped", key="Owner")
    calls = count_calls(ec2, "DescribeInstances")

    found = find_and_tag.find_stopped_instances(ec2, "tag:PatchGroup", "web", page_size=2)

    assert [i["InstanceId"] for i in found] == stopped_web
    assert len(calls) >= 3, "5 matches with 2 per page need at least 3 DescribeInstances pages"
    for instance_id in [*running_web, *stopped_db, untagged, other_key]:
        assert instance_id not in {i["InstanceId"] for i in found}


def test_step_tags_each_stopped_instance_with_the_execution_id(ec2: Any) -> None:
    stopped = sorted(launch(ec2, "web", "stopped") for _ in range(3))
    running = launch(ec2, "web")
    other = launch(ec2, "db", "stopped")

    out = find_and_tag.run(
        {
            "ExecutionId": "exec-1",
            "PatchGroupTagKey": "PatchGroup",
            "PatchGroup": "web",
            "ResourceGroupName": "",
        },
        ec2,
        page_size=1,
    )

    assert out["InstanceIds"] == stopped
    assert out["InstanceCount"] == 3
    assert (out["TargetKey"], out["TargetValue"]) == ("tag:PatchGroup", "web")
    assert all(marker_of(ec2, i) == "exec-1" for i in stopped)
    assert marker_of(ec2, running) is None
    assert marker_of(ec2, other) is None


def test_claim_skips_instances_of_another_execution(ec2: Any) -> None:
    theirs = launch(ec2, "web", "stopped")
    ec2.create_tags(Resources=[theirs], Tags=[{"Key": MARKER, "Value": "exec-A"}])
    mine = launch(ec2, "web", "stopped")

    out = find_and_tag.run(
        {"ExecutionId": "exec-B", "PatchGroupTagKey": "PatchGroup", "PatchGroup": "web"}, ec2
    )

    assert out["InstanceIds"] == [mine]
    assert out["SkippedInstanceIds"] == [theirs]
    assert marker_of(ec2, theirs) == "exec-A", "another execution's claim is never overwritten"


def test_instance_started_by_hand_while_being_claimed_is_released(ec2: Any) -> None:
    target = launch(ec2, "web", "stopped")
    found = find_and_tag.find_stopped_instances(ec2, "tag:PatchGroup", "web")
    ec2.start_instances(InstanceIds=[target])  # an operator starts it between find and tag

    result = find_and_tag.claim_instances(ec2, found, "exec-1")

    assert result == {
        "claimed": [],
        "skipped": [],
        "released": [target],
        "unmanaged": [],
        "unmanaged_reasons": [],
    }
    assert marker_of(ec2, target) is None


@pytest.mark.parametrize(
    ("key", "value", "group", "expected"),
    [
        ("PatchGroup", "web", "", ("tag:PatchGroup", "web")),
        ("Patch Group", " web ", "", ("tag:Patch Group", "web")),
        ("PatchGroup", "", "rg-web", ("resource-groups:Name", "rg-web")),
    ],
)
def test_resolve_target(key: str, value: str, group: str, expected: tuple[str, str]) -> None:
    assert find_and_tag.resolve_target(key, value, group) == expected


@pytest.mark.parametrize(
    ("key", "value", "group"),
    [("PatchGroup", "", ""), ("PatchGroup", "web", "rg-web"), (" ", "web", "")],
)
def test_resolve_target_rejects_bad_input(key: str, value: str, group: str) -> None:
    with pytest.raises(ValueError, match="PatchGroup"):
        find_and_tag.resolve_target(key, value, group)


def test_bad_target_changes_nothing(ec2: Any) -> None:
    stopped = launch(ec2, "web", "stopped")
    with pytest.raises(ValueError, match="exactly one target"):
        find_and_tag.run({"ExecutionId": "e", "PatchGroup": "web", "ResourceGroupName": "rg"}, ec2)
    assert marker_of(ec2, stopped) is None


def test_empty_execution_id_is_rejected(ec2: Any) -> None:
    stopped = launch(ec2, "web", "stopped")
    with pytest.raises(ValueError, match="ExecutionId"):
        find_and_tag.run(
            {"ExecutionId": " ", "PatchGroupTagKey": "PatchGroup", "PatchGroup": "web"}, ec2
        )
    assert marker_of(ec2, stopped) is None


class FakeResourceGroups:
    """ListGroupResources (moto does not implement it): two pages of one group's resources."""

    def __init__(self, arns: list[str]) -> None:
        self.arns = arns
        self.calls: list[dict[str, Any]] = []

    def get_paginator(self, name: str) -> FakeResourceGroups:
        assert name == "list_group_resources"
        return self

    def paginate(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
        self.calls.append(kwargs)
        half = len(self.arns) // 2
        for part in (self.arns[:half], self.arns[half:]):
            yield {"Resources": [{"Identifier": {"ResourceArn": a}} for a in part]}


def test_finds_stopped_instances_of_a_resource_group(ec2: Any) -> None:
    stopped_in = launch(ec2, None, "stopped")
    running_in = launch(ec2, None)
    stopped_out = launch(ec2, None, "stopped")
    arn = "arn:aws:ec2:us-west-2:123456789012:instance/{}"
    rg = FakeResourceGroups([arn.format(stopped_in), arn.format(running_in)])

    out = find_and_tag.run({"ExecutionId": "exec-rg", "ResourceGroupName": "rg-web"}, ec2, rg=rg)  # type: ignore[arg-type]

    assert out["InstanceIds"] == [stopped_in]
    assert (out["TargetKey"], out["TargetValue"]) == ("resource-groups:Name", "rg-web")
    assert rg.calls[0]["Group"] == "rg-web"
    assert rg.calls[0]["Filters"] == [{"Name": "resource-type", "Values": ["AWS::EC2::Instance"]}]
    assert marker_of(ec2, stopped_out) is None


def test_resource_group_without_client_or_members(ec2: Any) -> None:
    with pytest.raises(ValueError, match="Resource Groups client"):
        find_and_tag.find_stopped_instances(ec2, "resource-groups:Name", "rg")
    assert (
        find_and_tag.find_stopped_instances(
            ec2, "resource-groups:Name", "rg", rg=FakeResourceGroups([])
        )
        == []
    )  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown target key"):
        find_and_tag.find_stopped_instances(ec2, "InstanceIds", "i-1")


# --- step 2: start -----------------------------------------------------------------------------


def test_start_starts_only_instances_still_claimed_by_this_execution(ec2: Any) -> None:
    mine = [launch(ec2, "web", "stopped") for _ in range(2)]
    ec2.create_tags(Resources=mine, Tags=[{"Key": MARKER, "Value": "exec-1"}])
    theirs = launch(ec2, "web", "stopped")
    ec2.create_tags(Resources=[theirs], Tags=[{"Key": MARKER, "Value": "exec-2"}])

    out = start_instances.run({"ExecutionId": "exec-1", "InstanceIds": [*mine, theirs]}, ec2)

    assert out["StartedInstanceIds"] == sorted(mine)
    assert out["StartedCount"] == 2
    assert state_of(ec2, theirs) == "stopped"


class FlakyStart:
    """A moto EC2 client whose StartInstances refuses some instances (no capacity)."""

    def __init__(self, ec2: Any, refuse: set[str], code: str = "InsufficientInstanceCapacity"):
        self.ec2, self.refuse, self.code = ec2, refuse, code

    def __getattr__(self, name: str) -> Any:
        return getattr(self.ec2, name)

    def start_instances(self, InstanceIds: list[str]) -> Any:
        if self.refuse & set(InstanceIds):
            raise ClientError({"Error": {"Code": self.code, "Message": "no"}}, "StartInstances")
        return self.ec2.start_instances(InstanceIds=InstanceIds)


def test_start_releases_instances_ec2_refuses_and_starts_the_rest(ec2: Any) -> None:
    ids = sorted(launch(ec2, "web", "stopped") for _ in range(3))
    ec2.create_tags(Resources=ids, Tags=[{"Key": MARKER, "Value": "exec-1"}])
    flaky = FlakyStart(ec2, {ids[1]})

    out = start_instances.run({"ExecutionId": "exec-1", "InstanceIds": ids}, flaky)  # type: ignore[arg-type]

    assert out["StartedInstanceIds"] == [ids[0], ids[2]]
    assert out["FailedInstanceIds"] == [ids[1]]
    assert marker_of(ec2, ids[1]) is None, "a refused instance is released, so never stopped"
    assert state_of(ec2, ids[1]) == "stopped"


def test_start_propagates_other_errors(ec2: Any) -> None:
    ids = [launch(ec2, "web", "stopped")]
    ec2.create_tags(Resources=ids, Tags=[{"Key": MARKER, "Value": "exec-1"}])
    with pytest.raises(ClientError, match="UnauthorizedOperation"):
        start_instances.start_claimed(
            FlakyStart(ec2, set(ids), "UnauthorizedOperation"), ids, "exec-1"
        )  # type: ignore[arg-type]
    assert marker_of(ec2, ids[0]) == "exec-1"


def test_start_rejects_bad_payload(ec2: Any) -> None:
    with pytest.raises(ValueError, match="list"):
        start_instances.run({"ExecutionId": "e", "InstanceIds": "i-1"}, ec2)
    with pytest.raises(ValueError, match="ExecutionId"):
        start_instances.run({"ExecutionId": "", "InstanceIds": []}, ec2)


# --- step 3: wait until running and Online -------------------------------------------------------


class FakeSSM:
    """DescribeInstanceInformation (moto does not implement it) over a mutable ping table."""

    def __init__(self, ping: dict[str, str]) -> None:
        self.ping = ping
        self.filters: list[list[str]] = []

    def get_paginator(self, name: str) -> FakeSSM:
        assert name == "describe_instance_information"
        return self

    def paginate(
        self, Filters: list[dict[str, Any]], PaginationConfig: dict[str, int]
    ) -> Iterator[dict[str, Any]]:
        assert PaginationConfig == {"PageSize": 50}  # the API's default page is 10 items
        wanted = Filters[0]["Values"]
        self.filters.append(wanted)
        info = [{"InstanceId": i, "PingStatus": self.ping[i]} for i in wanted if i in self.ping]
        yield {"InstanceInformationList": info[:1]}
        yield {"InstanceInformationList": info[1:]}


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_wait_returns_once_every_instance_is_online(ec2: Any) -> None:
    ids = sorted(launch(ec2, "web") for _ in range(2))
    ssm = FakeSSM({ids[0]: "Online"})  # the second one registers later
    clock = Clock()

    def sleep(seconds: float) -> None:
        clock.sleep(seconds)
        ssm.ping[ids[1]] = "Online"

    online = wait_until_online.wait_until_online(
        ec2,
        ssm,
        ids,
        120,
        poll_seconds=10,
        sleep=sleep,
        clock=clock,  # type: ignore[arg-type]
    )

    assert online == {"online": ids, "not_ready": {}}
    assert clock.sleeps == [10]


def test_wait_times_out_naming_the_nodes_ssm_does_not_see(ec2: Any) -> None:
    ids = sorted(launch(ec2, "web") for _ in range(2))
    ssm = FakeSSM({ids[0]: "Online", ids[1]: "ConnectionLost"})
    clock = Clock()

    result = wait_until_online.wait_until_online(
        ec2,
        ssm,
        ids,
        60,
        poll_seconds=15,
        sleep=clock.sleep,
        clock=clock,  # type: ignore[arg-type]
    )
    # The node SSM does not see is given up; the other one goes on.
    assert result["online"] == [ids[0]]
    assert result["not_ready"][ids[1]].startswith("not Online after 60s (EC2 running, PingStatus")
    assert clock.now == 60


def test_wait_checks_running_before_asking_ssm(ec2: Any) -> None:
    stopped = launch(ec2, "web", "stopped")
    ssm = FakeSSM({stopped: "Online"})  # stale ping of a stopped node must not count
    clock = Clock()

    result = wait_until_online.wait_until_online(
        ec2,
        ssm,
        [stopped],
        30,
        poll_seconds=10,
        sleep=clock.sleep,
        clock=clock,  # type: ignore[arg-type]
    )
    # A stopped instance is given up at once (fell back), with its StateReason.
    assert result["online"] == []
    assert "fell back to stopped (Client.UserInitiatedShutdown" in result["not_ready"][stopped]
    assert ssm.filters == [] and clock.now == 0


def test_wait_batches_ssm_filters_by_50(ec2: Any) -> None:
    ids = [launch(ec2, "web") for _ in range(51)]
    ssm = FakeSSM(dict.fromkeys(ids, "Online"))
    assert (
        wait_until_online.run({"InstanceIds": ids, "TimeoutSeconds": 60}, ec2, ssm)["OnlineCount"]
        == 51
    )  # type: ignore[arg-type]
    assert [len(f) for f in ssm.filters] == [50, 1]


@pytest.mark.parametrize(
    "payload",
    [
        {"InstanceIds": [], "TimeoutSeconds": 29},
        {"InstanceIds": [], "TimeoutSeconds": 571},
        {"InstanceIds": [], "TimeoutSeconds": "soon"},
        {"InstanceIds": "i-1", "TimeoutSeconds": 60},
    ],
)
def test_wait_rejects_bad_payload(ec2: Any, payload: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        wait_until_online.run(payload, ec2, FakeSSM({}))  # type: ignore[arg-type]


def test_wait_with_nothing_started_returns_at_once(ec2: Any) -> None:
    ssm = FakeSSM({})
    assert wait_until_online.run({"InstanceIds": [], "TimeoutSeconds": 60}, ec2, ssm) == {  # type: ignore[arg-type]
        "OnlineInstanceIds": [],
        "OnlineCount": 0,
        "ReleasedInstanceIds": [],
        "ReleasedReasons": [],
    }
    with pytest.raises(ValueError, match="poll_seconds"):
        wait_until_online.wait_until_online(ec2, ssm, [], 60, poll_seconds=0)  # type: ignore[arg-type]


# --- last step: stop ---------------------------------------------------------------------------


def test_stop_stops_only_instances_tagged_with_this_execution(ec2: Any) -> None:
    running_before = [launch(ec2, "web") for _ in range(2)]
    stopped_before = sorted(launch(ec2, "web", "stopped") for _ in range(3))
    patch_run_until_stop(ec2, "exec-1")
    assert all(state_of(ec2, i) == "running" for i in stopped_before)

    out = stop_started.run({"ExecutionId": "exec-1"}, ec2)

    assert out["StoppedInstanceIds"] == stopped_before
    assert out["StoppedCount"] == 3
    assert all(state_of(ec2, i) == "stopped" for i in stopped_before)
    assert all(state_of(ec2, i) == "running" for i in running_before), "never stop what ran before"
    assert all(marker_of(ec2, i) is None for i in stopped_before), "the marker is removed"


def test_two_overlapping_executions_never_stop_each_others_instances(ec2: Any) -> None:
    a_only = sorted(launch(ec2, "web", "stopped") for _ in range(2))
    found_a = find_and_tag.run(
        {"ExecutionId": "exec-A", "PatchGroupTagKey": "PatchGroup", "PatchGroup": "web"}, ec2
    )
    # B starts on the same patch group before A started its instances, plus one of its own.
    b_only = launch(ec2, "web", "stopped")
    found_b = find_and_tag.run(
        {"ExecutionId": "exec-B", "PatchGroupTagKey": "PatchGroup", "PatchGroup": "web"}, ec2
    )
    assert found_a["InstanceIds"] == a_only
    assert found_b["InstanceIds"] == [b_only]
    assert found_b["SkippedInstanceIds"] == a_only
    start_instances.run({"ExecutionId": "exec-A", "InstanceIds": found_a["InstanceIds"]}, ec2)
    start_instances.run({"ExecutionId": "exec-B", "InstanceIds": found_b["InstanceIds"]}, ec2)

    assert stop_started.run({"ExecutionId": "exec-B"}, ec2)["StoppedInstanceIds"] == [b_only]
    assert all(state_of(ec2, i) == "running" for i in a_only), "B never stops A's instances"
    assert stop_started.run({"ExecutionId": "exec-A"}, ec2)["StoppedInstanceIds"] == a_only
    assert state_of(ec2, b_only) == "stopped"


def test_instance_started_by_hand_during_the_run_is_not_stopped(ec2: Any) -> None:
    claimed = launch(ec2, "web", "stopped")
    by_hand = launch(ec2, "staging", "stopped")
    patch_run_until_stop(ec2, "exec-1")
    # During the run an operator moves an instance into the patch group and starts it,
    # and launches a new one into the group.
    ec2.create_tags(Resources=[by_hand], Tags=[{"Key": "PatchGroup", "Value": "web"}])
    ec2.start_instances(InstanceIds=[by_hand])
    launched = launch(ec2, "web")

    out = stop_started.run({"ExecutionId": "exec-1"}, ec2)

    assert out["StoppedInstanceIds"] == [claimed]
    assert state_of(ec2, by_hand) == "running"
    assert state_of(ec2, launched) == "running"


def test_stop_untags_claimed_instances_that_never_started(ec2: Any) -> None:
    never_started = launch(ec2, "web", "stopped")
    ec2.create_tags(Resources=[never_started], Tags=[{"Key": MARKER, "Value": "exec-1"}])

    out = stop_started.run({"ExecutionId": "exec-1"}, ec2)

    assert out == {
        "StoppedInstanceIds": [],
        "StoppedCount": 0,
        "UntaggedInstanceIds": [never_started],
    }
    assert marker_of(ec2, never_started) is None


def test_stop_paginates_the_tagged_instances(ec2: Any) -> None:
    ids = sorted(launch(ec2, "web") for _ in range(5))
    ec2.create_tags(Resources=ids, Tags=[{"Key": MARKER, "Value": "exec-1"}])
    calls = count_calls(ec2, "DescribeInstances")

    out = stop_started.stop_claimed(ec2, "exec-1", page_size=2)

    assert out["stopped"] == ids
    assert len(calls) >= 3


class PendingThenRunning:
    """Reports the tagged instances as pending for the first ``polls`` DescribeInstances calls."""

    def __init__(self, ec2: Any, polls: int) -> None:
        self.ec2, self.polls = ec2, polls

    def __getattr__(self, name: str) -> Any:
        return getattr(self.ec2, name)

    def get_paginator(self, name: str) -> Any:
        outer = self
        real = self.ec2.get_paginator(name)

        class Paginator:
            def paginate(self, **kwargs: Any) -> Iterator[dict[str, Any]]:
                for page in real.paginate(**kwargs):
                    if outer.polls > 0:
                        for r in page.get("Reservations", []):
                            for i in r["Instances"]:
                                i["State"] = {"Name": "pending", "Code": 0}
                    yield page
                outer.polls -= 1

        return Paginator()


def test_stop_waits_for_pending_instances(ec2: Any) -> None:
    instance = launch(ec2, "web")
    ec2.create_tags(Resources=[instance], Tags=[{"Key": MARKER, "Value": "exec-1"}])
    clock = Clock()

    out = stop_started.stop_claimed(
        PendingThenRunning(ec2, polls=2),
        "exec-1",
        poll_seconds=5,
        sleep=clock.sleep,
        clock=clock,  # type: ignore[arg-type]
    )

    assert out["stopped"] == [instance]
    assert clock.sleeps == [5, 5]


def test_stop_fails_loudly_and_keeps_the_marker_of_what_it_could_not_stop(ec2: Any) -> None:
    stuck = launch(ec2, "web")
    ok = launch(ec2, "web")
    ec2.create_tags(Resources=[stuck, ok], Tags=[{"Key": MARKER, "Value": "exec-1"}])
    clock = Clock()

    with pytest.raises(stop_started.StopFailedError, match=stuck):
        stop_started.stop_claimed(
            PendingThenRunning(ec2, polls=100),  # type: ignore[arg-type]
            "exec-1",
            pending_timeout=20,
            poll_seconds=10,
            sleep=clock.sleep,
            clock=clock,
        )
    # Both stayed "pending" in the fake view, so neither was stopped nor untagged.
    assert marker_of(ec2, stuck) == "exec-1"
    assert marker_of(ec2, ok) == "exec-1"


def test_the_stop_step_waits_for_pending_instances_within_the_cancel_limit(ec2: Any) -> None:
    # The default wait fits the onCancel path's two minutes: still pending after 45 s, the
    # instance keeps its marker (the janitor stops it) and the step fails loudly.
    stuck = launch(ec2, "web")
    ec2.create_tags(Resources=[stuck], Tags=[{"Key": MARKER, "Value": "exec-1"}])
    clock = Clock()
    with pytest.raises(stop_started.StopFailedError, match=stuck):
        stop_started.stop_claimed(
            PendingThenRunning(ec2, polls=100),  # type: ignore[arg-type]
            "exec-1",
            sleep=clock.sleep,
            clock=clock,
        )
    assert 45 <= sum(clock.sleeps) <= 50
    assert marker_of(ec2, stuck) == "exec-1"


@pytest.mark.parametrize("value", ["-1", "101", "soon", None])
def test_the_stop_step_refuses_a_bad_pending_timeout_and_changes_nothing(
    ec2: Any, value: Any
) -> None:
    instance = launch(ec2, "web")
    ec2.create_tags(Resources=[instance], Tags=[{"Key": MARKER, "Value": "exec-9"}])
    with pytest.raises(ValueError, match="PendingTimeoutSeconds"):
        stop_started.run({"ExecutionId": "exec-9", "PendingTimeoutSeconds": value}, ec2)
    assert state_of(ec2, instance) == "running"
    assert marker_of(ec2, instance) == "exec-9"


class RefuseStop:
    def __init__(self, ec2: Any, refuse: str, code: str = "IncorrectInstanceState") -> None:
        self.ec2, self.refuse, self.code = ec2, refuse, code

    def __getattr__(self, name: str) -> Any:
        return getattr(self.ec2, name)

    def stop_instances(self, InstanceIds: list[str]) -> Any:
        if self.refuse in InstanceIds:
            raise ClientError({"Error": {"Code": self.code, "Message": "no"}}, "StopInstances")
        return self.ec2.stop_instances(InstanceIds=InstanceIds)


def test_stop_stops_the_others_when_one_is_refused(ec2: Any) -> None:
    refused, other = sorted([launch(ec2, "web"), launch(ec2, "web")])
    ec2.create_tags(Resources=[refused, other], Tags=[{"Key": MARKER, "Value": "exec-1"}])

    with pytest.raises(stop_started.StopFailedError, match=refused):
        stop_started.stop_claimed(RefuseStop(ec2, refused), "exec-1")  # type: ignore[arg-type]

    assert state_of(ec2, other) == "stopped"
    assert marker_of(ec2, other) is None
    assert marker_of(ec2, refused) == "exec-1", "kept for the step's next attempt"


def test_stop_propagates_unexpected_errors_and_rejects_empty_id(ec2: Any) -> None:
    instance = launch(ec2, "web")
    ec2.create_tags(Resources=[instance], Tags=[{"Key": MARKER, "Value": "exec-1"}])
    with pytest.raises(ClientError, match="UnauthorizedOperation"):
        stop_started.stop_claimed(RefuseStop(ec2, instance, "UnauthorizedOperation"), "exec-1")  # type: ignore[arg-type]
    assert state_of(ec2, instance) == "running"
    with pytest.raises(ValueError, match="ExecutionId"):
        stop_started.run({"ExecutionId": ""}, ec2)


def test_wildcard_or_none_execution_ids_never_reach_an_ec2_filter(ec2: Any) -> None:
    mine = launch(ec2, "web")
    ec2.create_tags(Resources=[mine], Tags=[{"Key": MARKER, "Value": "exec-1"}])
    for bad in ("*", "exec-?", "None"):
        with pytest.raises(ValueError, match="wildcards"):
            stop_started.run({"ExecutionId": bad}, ec2)
        with pytest.raises(ValueError, match="wildcards"):
            start_instances.run({"ExecutionId": bad, "InstanceIds": [mine]}, ec2)
        with pytest.raises(ValueError, match="wildcards"):
            find_and_tag.run(
                {"ExecutionId": bad, "PatchGroupTagKey": "PatchGroup", "PatchGroup": "web"}, ec2
            )
    with pytest.raises(ValueError, match="wildcards"):
        stop_started.run({"ExecutionId": None}, ec2)
    assert state_of(ec2, mine) == "running", "another execution's instance is left alone"
    assert marker_of(ec2, mine) == "exec-1"


# --- the embedded copies in the generated document ----------------------------------------------


def embedded_scripts() -> dict[str, str]:
    doc = yaml.safe_load((GENERATED / "patch_run.yaml").read_text())
    return {
        s["name"]: s["inputs"]["Script"]
        for s in doc["mainSteps"]
        if s["action"] == "aws:executeScript"
    }


def test_embedded_scripts_run_standalone_through_their_handler(ec2: Any) -> None:
    """The generated document's scripts work on their own, as Automation runs them."""
    scripts = embedded_scripts()
    namespaces: dict[str, dict[str, Any]] = {}
    for name, source in scripts.items():
        namespace: dict[str, Any] = {"__name__": f"embedded_{name}"}
        exec(compile(source, f"<{name}>", "exec"), namespace)
        namespaces[name] = namespace
    running = launch(ec2, "web")
    stopped = launch(ec2, "web", "stopped")

    found = namespaces["FindAndTagStoppedInstances"]["handler"](
        {
            "ExecutionId": "exec-x",
            "PatchGroupTagKey": "PatchGroup",
            "PatchGroup": "web",
            "ResourceGroupName": "",
        },
        None,
    )
    started = namespaces["StartStoppedInstances"]["handler"](
        {"ExecutionId": "exec-x", "InstanceIds": found["InstanceIds"]}, None
    )
    # moto 5.2.5 has no DescribeInstanceInformation: the hybrid half of the untagging runs on
    # the emulator (tests/unit/emulator/test_patch_run.py).
    untag = namespaces["StopStartedInstances"]["untag_patch_set"]
    namespaces["StopStartedInstances"]["untag_patch_set"] = lambda e, _s, x: untag(e, None, x)
    stopped_out = namespaces["StopStartedInstances"]["handler"]({"ExecutionId": "exec-x"}, None)

    assert found["InstanceIds"] == [stopped]
    assert started["StartedInstanceIds"] == [stopped]
    assert stopped_out["StoppedInstanceIds"] == [stopped]
    assert state_of(ec2, running) == "running"
    assert callable(namespaces["WaitUntilOnline"]["handler"])


def test_module_handlers_build_their_own_clients(ec2: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    untag = stop_started.untag_patch_set
    monkeypatch.setattr(stop_started, "untag_patch_set", lambda e, _s, x: untag(e, None, x))
    stopped = launch(ec2, "web", "stopped")
    found = find_and_tag.handler(
        {"ExecutionId": "exec-h", "PatchGroupTagKey": "PatchGroup", "PatchGroup": "web"}, None
    )
    start_instances.handler({"ExecutionId": "exec-h", "InstanceIds": found["InstanceIds"]}, None)
    assert (
        wait_until_online.handler({"InstanceIds": [], "TimeoutSeconds": 60}, None)["OnlineCount"]
        == 0
    )
    assert stop_started.handler({"ExecutionId": "exec-h"}, None)["StoppedInstanceIds"] == [stopped]


# --- issue 16: override URLs only under the approved prefixes -----------------------------------

OVERRIDE_EVENTS = {
    "ExecutionId": "0a0a0a0a-0a0a-4a0a-8a0a-0a0a0a0a0a0a",
    "Operation": "Install",
    "OnlineTimeoutSeconds": "480",
    "PatchTimeoutSeconds": "14400",
    "BaselineOverride": "",
    "InstallOverrideList": "",
    "ApprovedOverridePrefixes": ["fleet-overrides/baselines/"],
}


@pytest.fixture
def overrides_bucket(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-west-2")
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-west-2")
        for bucket in ("fleet-overrides", "fleet-overrides-evil"):
            s3.create_bucket(
                Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "us-west-2"}
            )
            s3.put_object(Bucket=bucket, Key="baselines/linux.json", Body=b"{}")
            s3.put_object(Bucket=bucket, Key="other/linux.json", Body=b"{}")
        yield s3


def test_an_override_under_an_approved_prefix_is_checked_and_accepted(
    overrides_bucket: Any,
) -> None:
    events = {**OVERRIDE_EVENTS, "BaselineOverride": "s3://fleet-overrides/baselines/linux.json"}
    checks = validate_inputs.run(events, overrides_bucket)["Checks"]
    assert "BaselineOverride: s3://fleet-overrides/baselines/linux.json (2 bytes)" in checks


@pytest.mark.parametrize(
    ("name", "url", "message"),
    [
        ("BaselineOverride", "s3://fleet-overrides/other/linux.json", "outside the approved"),
        ("BaselineOverride", "s3://fleet-overrides-evil/baselines/linux.json", "outside"),
        ("InstallOverrideList", "s3://fleet-overrides/baselines/", "outside"),
        ("InstallOverrideList", "https://example.com/baselines/linux.json", "only s3://"),
        ("BaselineOverride", "s3://fleet-overrides/baselines/../other/linux.json", ".. segment"),
    ],
)
def test_an_override_outside_the_approved_prefixes_is_refused_before_any_s3_call(
    overrides_bucket: Any, name: str, url: str, message: str
) -> None:
    with pytest.raises(validate_inputs.InvalidInputError, match=message):
        validate_inputs.run({**OVERRIDE_EVENTS, name: url}, overrides_bucket)


def test_no_approved_prefix_refuses_every_override(overrides_bucket: Any) -> None:
    events = {
        **OVERRIDE_EVENTS,
        "ApprovedOverridePrefixes": [],
        "BaselineOverride": "s3://fleet-overrides/baselines/linux.json",
    }
    with pytest.raises(validate_inputs.InvalidInputError, match=r"prefixes \(none\)"):
        validate_inputs.run(events, overrides_bucket)


def test_render_fills_the_three_module_values_like_terraform() -> None:
    """ssm_documents/render.py mirrors local.document_content of modules/patch_automation."""
    generated = (GENERATED / "patch_run.yaml").read_text()
    main_tf = (GENERATED.parents[1] / "modules" / "patch_automation" / "main.tf").read_text()
    for marker in (
        render.OVERRIDE_PATTERN_MARKER,
        render.OVERRIDE_PREFIXES_MARKER,
        render.OUTPUT_BUCKET_MARKER,
    ):
        assert marker in generated and f'"{marker}"' in main_tf, marker
    assert generated.count(render.OVERRIDE_PATTERN_MARKER) == 2
    doc = yaml.safe_load(render.render_patch_run(generated, "logs-bucket", ["a.b/c/", "d-e/"]))
    pattern = doc["parameters"]["BaselineOverride"]["allowedPattern"]
    assert pattern == r"^(s3://(a\.b/c/|d-e/)\S+)?$"
    assert doc["parameters"]["InstallOverrideList"]["allowedPattern"] == pattern
    steps = {s["name"]: s for s in doc["mainSteps"]}
    assert steps["ValidateInputs"]["inputs"]["InputPayload"]["ApprovedOverridePrefixes"] == [
        "a.b/c/",
        "d-e/",
    ]
    assert steps["PatchNodes"]["inputs"]["OutputS3BucketName"] == "logs-bucket"
    unrendered = yaml.safe_load(generated)
    assert unrendered["parameters"]["BaselineOverride"]["allowedPattern"] == "^$"
    assert "OutputS3BucketName" not in unrendered["parameters"]
