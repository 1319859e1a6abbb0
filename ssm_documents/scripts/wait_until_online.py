"""Patch run step 3: wait until the started instances run and SSM sees them Online.

Runs as the ``WaitUntilOnline`` ``aws:executeScript`` step (runtime python3.11) of the
patch-run Automation document; embedded verbatim by ``ssm_documents/build.py`` (self-contained:
standard library, boto3 and botocore only).

Sending a command to a managed node that SSM does not see yet fails, so the run waits for two
things, in order, within one deadline: EC2 state ``running``, then SSM ``PingStatus = Online``
(DescribeInstanceInformation). An ``aws:executeScript`` step runs at most 600 seconds, so the
timeout is 30-570 seconds. One bad node never blocks the rest: an instance that falls back to
``stopped`` (EC2 StateReason, e.g. ``Client.InternalError`` when a volume's KMS key may not be
used) or is not Online at the timeout is released - stopped again and its marker removed - and
reported with its reason; the step succeeds with the nodes that are Online.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_ssm import SSMClient

MIN_TIMEOUT = 30
MAX_TIMEOUT = 570
# Ids per InstanceIds filter of DescribeInstanceInformation, and its MaxResults (5-50; the
# default page is 10 items, so the page size is always given).
SSM_FILTER_BATCH = 50
MARKER_TAG = "fleetpatch:started-by"
TAG_BATCH = 1000  # DeleteTags Resources: "Up to 1000 resource IDs" (EC2 API Reference)
RETRIES = Config(retries={"mode": "standard", "max_attempts": 10})


ENDED_STATES = frozenset({"stopping", "stopped", "shutting-down", "terminated"})


def instance_states(ec2: EC2Client, instance_ids: list[str]) -> dict[str, tuple[str, str]]:
    """Return ``{id: (EC2 state name, StateReason "code: message" or "")}`` of ``instance_ids``.

    Calls EC2 DescribeInstances (paginated, 200 ids per call).

    Raises:
        botocore.exceptions.ClientError: from DescribeInstances.
    """
    paginator = ec2.get_paginator("describe_instances")
    found: dict[str, tuple[str, str]] = {}
    for start in range(0, len(instance_ids), 200):
        for page in paginator.paginate(InstanceIds=instance_ids[start : start + 200]):
            for reservation in page.get("Reservations", []):
                for instance in reservation.get("Instances", []):
                    reason = instance.get("StateReason", {}) or {}
                    text = str(reason.get("Message") or reason.get("Code") or "")
                    found[str(instance["InstanceId"])] = (
                        str(instance.get("State", {}).get("Name", "")),
                        text,
                    )
    return found


def ping_statuses(ssm: SSMClient, instance_ids: list[str]) -> dict[str, str]:
    """``{id: PingStatus}`` of the ids SSM knows (DescribeInstanceInformation, 50 ids a page).

    Raises:
        botocore.exceptions.ClientError: from DescribeInstanceInformation.
    """
    paginator = ssm.get_paginator("describe_instance_information")
    found: dict[str, str] = {}
    for start in range(0, len(instance_ids), SSM_FILTER_BATCH):
        batch = instance_ids[start : start + SSM_FILTER_BATCH]
        for page in paginator.paginate(
            Filters=[{"Key": "InstanceIds", "Values": batch}],
            PaginationConfig={"PageSize": SSM_FILTER_BATCH},
        ):
            for info in page.get("InstanceInformationList", []):
                found[str(info.get("InstanceId"))] = str(info.get("PingStatus", ""))
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
) -> dict[str, Any]:
    """Wait until every id in ``instance_ids`` is running and Online, or the timeout expires.

    Polls EC2 states, then SSM ``PingStatus`` of the running ones, every ``poll_seconds``
    (seconds) until ``timeout_seconds`` (seconds, 30-570) have passed on ``clock``. An instance
    that falls back to ``stopped`` (or stopping / terminated) is given up at once, with its
    EC2 StateReason; at the timeout every instance not Online is given up.

    Returns:
        ``{"online": [ids, sorted], "not_ready": {id: reason}}``; the reason names the EC2
        state, its StateReason and the PingStatus. An empty ``instance_ids`` returns at once.

    Raises:
        ValueError: ``timeout_seconds`` outside 30-570 or ``poll_seconds`` <= 0.
        botocore.exceptions.ClientError: from the AWS calls.
    """
    if not MIN_TIMEOUT <= timeout_seconds <= MAX_TIMEOUT:
        raise ValueError(f"timeout_seconds must be {MIN_TIMEOUT}-{MAX_TIMEOUT}")
    if poll_seconds <= 0:
        raise ValueError("poll_seconds must be > 0")
    waiting = sorted(set(instance_ids))
    online: list[str] = []
    not_ready: dict[str, str] = {}
    deadline = clock() + timeout_seconds
    while waiting:
        states = instance_states(ec2, waiting)
        for instance_id in waiting:
            state, reason = states.get(instance_id, ("terminated", "not found"))
            if state in ENDED_STATES:
                not_ready[instance_id] = (
                    f"fell back to {state} ({reason or 'no StateReason'}) before it was Online"
                )
        running = [i for i in waiting if states.get(i, ("", ""))[0] == "running"]
        pings = ping_statuses(ssm, running) if running else {}
        online += [i for i in running if pings.get(i) == "Online"]
        waiting = [i for i in waiting if i not in not_ready and i not in online]
        if not waiting:
            break
        if clock() >= deadline:
            for instance_id in waiting:
                state, reason = states.get(instance_id, ("", ""))
                ping = pings.get(instance_id, "not registered with SSM")
                detail = f"; StateReason {reason}" if reason else ""
                not_ready[instance_id] = (
                    f"not Online after {timeout_seconds}s (EC2 {state}, PingStatus {ping}{detail})"
                )
            break
        sleep(poll_seconds)
    return {"online": sorted(online), "not_ready": dict(sorted(not_ready.items()))}


def release(ec2: EC2Client, not_ready: dict[str, str], execution_id: str) -> dict[str, list[str]]:
    """Stop the instances of ``not_ready`` this run started, then remove their marker.

    Running ones are stopped (EC2 StopInstances, 50 a call; ``IncorrectInstanceState`` retried
    one by one); the marker ``fleetpatch:started-by = execution_id`` is removed (DeleteTags with
    the value, 1,000 ids a call) from the ones stopped now or already stopped. One still
    pending or refused keeps its marker: the document's last step stops it.

    Returns:
        ``{"released": [...], "kept": [...]}`` (instance ids, sorted).

    Raises:
        ValueError: ``execution_id`` is empty, "None" or holds a wildcard (* or ?).
        botocore.exceptions.ClientError: any other StopInstances / DeleteTags error.
    """
    if not execution_id.strip() or execution_id == "None" or set("*?") & set(execution_id):
        raise ValueError(
            f"ExecutionId must be this Automation execution's id, not {execution_id!r} "
            "(empty, None and the EC2 filter wildcards * and ? are refused)"
        )
    ids = sorted(not_ready)
    if not ids:
        return {"released": [], "kept": []}
    states = instance_states(ec2, ids)
    done = [i for i in ids if states.get(i, ("", ""))[0] in {"stopping", "stopped"}]
    to_stop = [i for i in ids if states.get(i, ("", ""))[0] == "running"]
    kept = [i for i in ids if i not in done and i not in to_stop]
    for begin in range(0, len(to_stop), 50):
        batch = to_stop[begin : begin + 50]
        try:
            ec2.stop_instances(InstanceIds=batch)
            done += batch
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") != "IncorrectInstanceState":
                raise
            for instance_id in batch:
                try:
                    ec2.stop_instances(InstanceIds=[instance_id])
                    done.append(instance_id)
                except ClientError as single:
                    if single.response.get("Error", {}).get("Code") != "IncorrectInstanceState":
                        raise
                    kept.append(instance_id)
    for begin in range(0, len(done), TAG_BATCH):
        ec2.delete_tags(
            Resources=sorted(done)[begin : begin + TAG_BATCH],
            Tags=[{"Key": MARKER_TAG, "Value": execution_id}],
        )
    return {"released": sorted(done), "kept": sorted(kept)}


def run(events: dict[str, Any], ec2: EC2Client, ssm: SSMClient) -> dict[str, Any]:
    """The step's logic.

    ``events``: ``InstanceIds`` (list of str), ``TimeoutSeconds`` (int), ``ExecutionId`` (str).

    Returns:
        ``OnlineInstanceIds`` (list), ``OnlineCount`` (int), ``ReleasedInstanceIds`` (list:
        not Online, stopped again or left for the last step), ``ReleasedReasons`` (list of
        ``"<id>: <reason>"``).

    Raises:
        ValueError: malformed payload; botocore.exceptions.ClientError: from the AWS calls.
    """
    ids = events.get("InstanceIds", [])
    if not isinstance(ids, list):
        raise ValueError("InstanceIds must be a list of instance ids")
    try:
        timeout = int(events.get("TimeoutSeconds", 0))
    except (TypeError, ValueError) as err:
        raise ValueError("TimeoutSeconds must be a whole number of seconds") from err
    result = wait_until_online(ec2, ssm, [str(i) for i in ids], timeout)
    not_ready: dict[str, str] = result["not_ready"]
    released = release(ec2, not_ready, str(events.get("ExecutionId", ""))) if not_ready else None
    reasons = [f"{i}: {r}" for i, r in not_ready.items()]
    if released and released["kept"]:
        reasons += [
            f"{i}: could not be stopped yet; the last step stops it" for i in released["kept"]
        ]
    online = result["online"]
    return {
        "OnlineInstanceIds": online,
        "OnlineCount": len(online),
        "ReleasedInstanceIds": sorted(not_ready),
        "ReleasedReasons": reasons,
    }


def handler(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """``aws:executeScript`` entry point: :func:`run` with clients of the step's assume role.

    Raises:
        ValueError, botocore.exceptions.ClientError: see :func:`run`.
    """
    return run(events, boto3.client("ec2", config=RETRIES), boto3.client("ssm", config=RETRIES))
