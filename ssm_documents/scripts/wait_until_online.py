"""Patch run step 3: wait until the started instances run and SSM sees them Online.

Runs as the ``WaitUntilOnline`` ``aws:executeScript`` step (runtime python3.11) of the
patch-run Automation document; embedded verbatim by ``ssm_documents/build.py`` (self-contained:
standard library, boto3 and botocore only).

Sending a command to a managed node that SSM does not see yet fails, so the run waits for two
things, in order, within one deadline: EC2 state ``running``, then SSM ``PingStatus = Online``
(DescribeInstanceInformation). An ``aws:executeScript`` step runs at most 600 seconds, so the
timeout is 30-570 seconds. On timeout the step fails (naming the nodes it waited for), and the
document's ``onFailure`` path stops the started instances.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

if TYPE_CHECKING:
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_ssm import SSMClient

MIN_TIMEOUT = 30
MAX_TIMEOUT = 570
SSM_FILTER_BATCH = 50  # values per InstanceIds filter of DescribeInstanceInformation
RETRIES = Config(retries={"mode": "standard", "max_attempts": 10})


class NodesNotReadyError(TimeoutError):
    """Some instances were not running / Online when the timeout expired."""


def running_ids(ec2: EC2Client, instance_ids: list[str]) -> set[str]:
    """Return the ids among ``instance_ids`` whose EC2 state is ``running``.

    Calls EC2 DescribeInstances (paginated, 200 ids per call).

    Raises:
        botocore.exceptions.ClientError: from DescribeInstances.
    """
    paginator = ec2.get_paginator("describe_instances")
    found: set[str] = set()
    for start in range(0, len(instance_ids), 200):
        for page in paginator.paginate(InstanceIds=instance_ids[start : start + 200]):
            for reservation in page.get("Reservations", []):
                for instance in reservation.get("Instances", []):
                    if instance.get("State", {}).get("Name") == "running":
                        found.add(str(instance["InstanceId"]))
    return found


def online_ids(ssm: SSMClient, instance_ids: list[str]) -> set[str]:
    """Return the ids among ``instance_ids`` that SSM reports with ``PingStatus = Online``.

    Calls SSM DescribeInstanceInformation through its paginator, filtered on the ids in
    batches of 50.

    Raises:
        botocore.exceptions.ClientError: from DescribeInstanceInformation.
    """
    paginator = ssm.get_paginator("describe_instance_information")
    found: set[str] = set()
    for start in range(0, len(instance_ids), SSM_FILTER_BATCH):
        batch = instance_ids[start : start + SSM_FILTER_BATCH]
        for page in paginator.paginate(Filters=[{"Key": "InstanceIds", "Values": batch}]):
            for info in page.get("InstanceInformationList", []):
                if info.get("PingStatus") == "Online":
                    found.add(str(info.get("InstanceId")))
    return found


def wait_until_online(
    ec2: EC2Client,
    ssm: SSMClient,
    instance_ids: list[str],
    timeout_seconds: int,
    *,
    poll_seconds: float = 15.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> list[str]:
    """Block until every id in ``instance_ids`` is running and Online, or the timeout expires.

    Polls :func:`running_ids` then :func:`online_ids` every ``poll_seconds`` (seconds) until
    ``timeout_seconds`` (seconds, 30-570) have passed on ``clock``.

    Returns:
        The ids, sorted (all of them Online). An empty ``instance_ids`` returns at once.

    Raises:
        ValueError: ``timeout_seconds`` outside 30-570 or ``poll_seconds`` <= 0.
        NodesNotReadyError: the timeout expired; the message names the nodes still waited for.
        botocore.exceptions.ClientError: from the AWS calls.
    """
    if not MIN_TIMEOUT <= timeout_seconds <= MAX_TIMEOUT:
        raise ValueError(f"timeout_seconds must be {MIN_TIMEOUT}-{MAX_TIMEOUT}")
    if poll_seconds <= 0:
        raise ValueError("poll_seconds must be > 0")
    wanted = sorted(set(instance_ids))
    if not wanted:
        return []
    deadline = clock() + timeout_seconds
    phase, pending = "running", list(wanted)
    while True:
        if phase == "running":
            pending = sorted(set(wanted) - running_ids(ec2, wanted))
            if not pending:
                phase = "Online"
        if phase == "Online":
            pending = sorted(set(wanted) - online_ids(ssm, wanted))
            if not pending:
                return wanted
        if clock() >= deadline:
            raise NodesNotReadyError(
                f"after {timeout_seconds}s these instances are not {phase}: {', '.join(pending)}"
            )
        sleep(poll_seconds)


def run(events: dict[str, Any], ec2: EC2Client, ssm: SSMClient) -> dict[str, Any]:
    """The step's logic. ``events``: ``InstanceIds`` (list of str), ``TimeoutSeconds`` (int).

    Returns:
        ``OnlineInstanceIds`` (list) and ``OnlineCount`` (int).

    Raises:
        ValueError: malformed payload; NodesNotReadyError: see :func:`wait_until_online`.
    """
    ids = events.get("InstanceIds", [])
    if not isinstance(ids, list):
        raise ValueError("InstanceIds must be a list of instance ids")
    try:
        timeout = int(events.get("TimeoutSeconds", 0))
    except (TypeError, ValueError) as err:
        raise ValueError("TimeoutSeconds must be a whole number of seconds") from err
    online = wait_until_online(ec2, ssm, [str(i) for i in ids], timeout)
    return {"OnlineInstanceIds": online, "OnlineCount": len(online)}


def handler(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """``aws:executeScript`` entry point: :func:`run` with clients of the step's assume role.

    Raises:
        ValueError, NodesNotReadyError, botocore.exceptions.ClientError: see :func:`run`.
    """
    return run(events, boto3.client("ec2", config=RETRIES), boto3.client("ssm", config=RETRIES))
