"""tests/emulator/ec2.py (DescribeInstances pages by instances, fast tag reads) and the request
counts of tests/emulator/auth.py, in-process on moto."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from tests.emulator import auth, ec2, iam


def _launch(client: Any, count: int, group: str) -> list[str]:
    answer = client.run_instances(
        ImageId="ami-12c6146b",
        MinCount=count,
        MaxCount=count,
        TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "G", "Value": group}]}],
    )
    return [i["InstanceId"] for i in answer["Instances"]]


def _pages(client: Any, **kwargs: Any) -> list[list[str]]:
    found: list[list[str]] = []
    for page in client.get_paginator("describe_instances").paginate(**kwargs):
        found.append([i["InstanceId"] for r in page["Reservations"] for i in r["Instances"]])
    return found


def test_describe_instances_pages_by_instances_and_unpaginated_returns_all(aws: None) -> None:
    client = boto3.client("ec2", region_name="us-west-2")
    ids = _launch(client, 7, "a") + _launch(client, 3, "a")  # two reservations
    # MaxResults counts instances; the 7-instance reservation is split across pages.
    paged = _pages(client, PaginationConfig={"PageSize": 5})
    assert [len(p) for p in paged] == [5, 5]
    assert sorted(i for p in paged for i in p) == sorted(ids)
    # No MaxResults: every match in one answer (moto paged 100 reservations).
    answer = client.describe_instances(Filters=[{"Name": "tag:G", "Values": ["a"]}])
    assert "NextToken" not in answer
    assert sum(len(r["Instances"]) for r in answer["Reservations"]) == 10
    with pytest.raises(client.exceptions.ClientError, match="InvalidNextToken"):
        client.describe_instances(MaxResults=5, NextToken="r-nope")


def test_page_instances_keeps_reservations_and_offsets() -> None:
    class Reservation:
        def __init__(self, rid: str, instances: list[str]) -> None:
            self.id, self.instances = rid, instances

    reservations = [Reservation("r-1", ["a", "b", "c"]), Reservation("r-2", ["d"])]
    page, token = ec2.page_instances(reservations, 2, None)
    assert [(r.id, r.instances) for r in page] == [("r-1", ["a", "b"])] and token == "2"
    page, token = ec2.page_instances(reservations, 2, token)
    assert [(r.id, r.instances) for r in page] == [("r-1", ["c"]), ("r-2", ["d"])]
    assert token is None
    assert reservations[0].instances == ["a", "b", "c"]  # the originals are not cut
    assert ec2.page_instances(reservations, None, None) == (reservations, None)
    with pytest.raises(ValueError):
        ec2.page_instances(reservations, 2, "9")


def test_fast_tag_reads_match_moto(aws: None) -> None:
    from moto.ec2.models import ec2_backends  # noqa: PLC0415

    client = boto3.client("ec2", region_name="us-west-2")
    first, second = _launch(client, 2, "b")
    client.create_tags(Resources=[first], Tags=[{"Key": "Z", "Value": "1"}])
    backend = ec2_backends["123456789012"]["us-west-2"]
    for query in ({"resource-id": [first]}, {"resource-id": [second]}, {"key": ["Z"]}):
        assert backend.describe_tags(filters=query) == ec2._ORIGINAL["describe_tags"](
            backend, query
        )
    assert backend.describe_tags(filters={"resource-id": ["i-none"]}) == []


def test_request_counts_by_caller_step_and_action() -> None:
    auth.reset_requests()
    caller = iam.role_session("123456789012", "runner", "not-an-execution")
    for _ in range(3):
        auth._count(caller, "ec2", "DescribeInstances")
    auth._count(caller, "ssm", "SendCommand")
    assert auth.requests("not-an-execution") == [
        {"principal": caller.arn, "step": "", "action": "ec2:DescribeInstances", "count": 3},
        {"principal": caller.arn, "step": "", "action": "ssm:SendCommand", "count": 1},
    ]
    assert auth.requests("someone-else") == []
    auth.reset_requests()
    assert auth.requests() == []
