"""Patch run last step: stop exactly the instances this execution started, remove the marker.

Runs as the ``StopStartedInstances`` ``aws:executeScript`` step (runtime python3.11) of the
patch-run Automation document, on success, failure and cancel alike; embedded verbatim by
``ssm_documents/build.py`` (self-contained: standard library, boto3 and botocore only).

The step reads no output of an earlier step: it finds its instances by the tag
``fleetpatch:started-by = <this execution id>`` alone, so it works whichever step failed.
Instances without that exact tag value (running before the run, claimed by another execution,
started by hand) are never touched. An instance still ``pending`` is waited for (StopInstances
refuses pending instances) for at most ``PendingTimeoutSeconds`` (default 45): on cancel, AWS
runs the onCancel path (this step and Summarize) for at most two minutes
(https://docs.aws.amazon.com/systems-manager/latest/userguide/automation-actions.html,
``onCancel``), so the step must not wait longer; an instance still pending then keeps its marker
and the patch janitor stops it. One already stopped or stopping only loses its marker. The
marker is removed only after the stop call succeeded, so a failed stop leaves it for the next
attempt.
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

MARKER_TAG = "fleetpatch:started-by"
PENDING_TIMEOUT_SECONDS = 45.0  # see the module docstring: the onCancel path's two minutes
MAX_PENDING_TIMEOUT_SECONDS = 100.0
PATCH_TAG = "fleetpatch:patch-run"  # set by SelectNodesToPatch on every node to patch
BATCH = 50  # instance ids per StopInstances call
PAGE_SIZE = 1000  # DescribeInstances MaxResults: 5-1000
TAG_BATCH = 1000  # DeleteTags: "Up to 1000 resource IDs"
INFO_PAGE_SIZE = 50  # DescribeInstanceInformation MaxResults: 5-50
RETRIES = Config(retries={"mode": "standard", "max_attempts": 10})


class StopFailedError(RuntimeError):
    """Some claimed instances could not be stopped; they keep their marker."""


def tagged_instances(
    ec2: EC2Client, execution_id: str, *, page_size: int = PAGE_SIZE
) -> dict[str, str]:
    """Return ``{instance id: EC2 state name}`` of the instances claimed by ``execution_id``.

    Calls EC2 DescribeInstances through its paginator with the filter
    ``tag:fleetpatch:started-by = execution_id`` (terminated instances excluded).

    Raises:
        botocore.exceptions.ClientError: from DescribeInstances.
    """
    paginator = ec2.get_paginator("describe_instances")
    found: dict[str, str] = {}
    for page in paginator.paginate(
        Filters=[
            {"Name": f"tag:{MARKER_TAG}", "Values": [execution_id]},
            {
                "Name": "instance-state-name",
                "Values": ["pending", "running", "stopping", "stopped"],
            },
        ],
        PaginationConfig={"PageSize": page_size},
    ):
        for reservation in page.get("Reservations", []):
            for instance in reservation.get("Instances", []):
                found[str(instance["InstanceId"])] = str(instance.get("State", {}).get("Name"))
    return found


def stop_claimed(
    ec2: EC2Client,
    execution_id: str,
    *,
    pending_timeout: float = PENDING_TIMEOUT_SECONDS,
    poll_seconds: float = 5.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    page_size: int = PAGE_SIZE,
) -> dict[str, list[str]]:
    """Stop the instances claimed by ``execution_id`` and remove their marker.

    Pending instances are polled (every ``poll_seconds`` seconds, up to ``pending_timeout``
    seconds) until they run; running ones are stopped with EC2 StopInstances (batches of 50);
    the marker is then removed with DeleteTags carrying this execution's value (a tag holding
    another value is left alone).

    Returns:
        ``{"stopped": [...], "untagged": [...]}`` (instance ids, sorted): the instances this
        call stopped, and every instance whose marker it removed.

    Raises:
        ValueError: ``execution_id`` is empty, "None" or holds a wildcard (* or ?).
        StopFailedError: some instances stayed pending or StopInstances refused them (the rest
            are stopped and untagged first; the failed ones keep their marker).
        botocore.exceptions.ClientError: any other DescribeInstances / DeleteTags error.
    """
    if not execution_id.strip() or execution_id == "None" or set("*?") & set(execution_id):
        # EC2 filter values treat * and ? as wildcards: such an id would match (and stop)
        # instances claimed by other executions.
        raise ValueError(
            f"ExecutionId must be this Automation execution's id, not {execution_id!r} "
            "(empty, None and the EC2 filter wildcards * and ? are refused)"
        )
    states = tagged_instances(ec2, execution_id, page_size=page_size)
    deadline = clock() + pending_timeout
    while any(s == "pending" for s in states.values()) and clock() < deadline:
        sleep(poll_seconds)
        states = tagged_instances(ec2, execution_id, page_size=page_size)
    to_stop = sorted(i for i, s in states.items() if s == "running")
    done = sorted(i for i, s in states.items() if s in {"stopping", "stopped"})
    failed = sorted(i for i, s in states.items() if s == "pending")
    stopped: list[str] = []
    for begin in range(0, len(to_stop), BATCH):
        batch = to_stop[begin : begin + BATCH]
        try:
            ec2.stop_instances(InstanceIds=batch)
            stopped.extend(batch)
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") != "IncorrectInstanceState":
                raise
            for instance_id in batch:
                try:
                    ec2.stop_instances(InstanceIds=[instance_id])
                    stopped.append(instance_id)
                except ClientError as single:
                    if single.response.get("Error", {}).get("Code") != "IncorrectInstanceState":
                        raise
                    failed.append(instance_id)
    untagged = sorted(stopped + done)
    for begin in range(0, len(untagged), TAG_BATCH):
        ec2.delete_tags(
            Resources=untagged[begin : begin + TAG_BATCH],
            Tags=[{"Key": MARKER_TAG, "Value": execution_id}],
        )
    if failed:
        raise StopFailedError(
            "could not stop these instances started by this run (they keep the "
            f"{MARKER_TAG} tag): {', '.join(sorted(failed))}"
        )
    return {"stopped": sorted(stopped), "untagged": untagged}


def untag_patch_set(ec2: EC2Client, ssm: SSMClient | None, execution_id: str) -> list[str]:
    """Remove ``fleetpatch:patch-run = execution_id`` from every node carrying it.

    EC2: DescribeInstances filtered on the tag (paginated, 1,000 a page), DeleteTags with the
    value (1,000 ids a call). Hybrid nodes (with ``ssm``): DescribeInstanceInformation filtered
    on the tag alone (50 a page; "tag filters can't be combined with other filter types"), the
    ``mi-`` nodes of the answer, RemoveTagsFromResource per node.

    Returns:
        The node ids untagged, sorted.

    Raises:
        ValueError: a bad execution id; botocore.exceptions.ClientError: from the calls.
    """
    if not execution_id.strip() or execution_id == "None" or set("*?") & set(execution_id):
        raise ValueError(
            f"ExecutionId must be this Automation execution's id, not {execution_id!r} "
            "(empty, None and the EC2 filter wildcards * and ? are refused)"
        )
    ids: list[str] = []
    for page in ec2.get_paginator("describe_instances").paginate(
        Filters=[{"Name": f"tag:{PATCH_TAG}", "Values": [execution_id]}],
        PaginationConfig={"PageSize": PAGE_SIZE},
    ):
        for reservation in page.get("Reservations", []):
            ids.extend(str(i["InstanceId"]) for i in reservation.get("Instances", []))
    ids = sorted(set(ids))
    for begin in range(0, len(ids), TAG_BATCH):
        ec2.delete_tags(
            Resources=ids[begin : begin + TAG_BATCH],
            Tags=[{"Key": PATCH_TAG, "Value": execution_id}],
        )
    hybrid: list[str] = []
    if ssm is not None:
        for info_page in ssm.get_paginator("describe_instance_information").paginate(
            Filters=[{"Key": f"tag:{PATCH_TAG}", "Values": [execution_id]}],
            PaginationConfig={"PageSize": INFO_PAGE_SIZE},
        ):
            hybrid.extend(
                str(n["InstanceId"])
                for n in info_page.get("InstanceInformationList", [])
                if str(n.get("InstanceId", "")).startswith("mi-")
            )
        for node_id in sorted(set(hybrid)):
            ssm.remove_tags_from_resource(
                ResourceType="ManagedInstance", ResourceId=node_id, TagKeys=[PATCH_TAG]
            )
    return sorted(set(ids) | set(hybrid))


def run(events: dict[str, Any], ec2: EC2Client, ssm: SSMClient | None = None) -> dict[str, Any]:
    """The step's logic: stop and untag this run's instances, drop the patch-set tag.

    ``events``: ``ExecutionId`` (str), ``PendingTimeoutSeconds`` (seconds, 0-100, default 45).

    Stops and untags what this run started (:func:`stop_claimed`), then removes the patch-set
    tag (:func:`untag_patch_set`), also when the stop failed.

    Returns:
        ``StoppedInstanceIds`` (list), ``StoppedCount`` (int), ``UntaggedInstanceIds`` (list).

    Raises:
        ValueError: a bad ``PendingTimeoutSeconds``; StopFailedError,
            botocore.exceptions.ClientError: see :func:`stop_claimed`.
    """
    execution_id = str(events.get("ExecutionId", ""))
    raw = events.get("PendingTimeoutSeconds", PENDING_TIMEOUT_SECONDS)
    try:
        pending_timeout = float(raw)
    except (TypeError, ValueError):
        raise ValueError(f"PendingTimeoutSeconds must be a number, not {raw!r}") from None
    if not 0 <= pending_timeout <= MAX_PENDING_TIMEOUT_SECONDS:
        raise ValueError(
            f"PendingTimeoutSeconds must be 0-{MAX_PENDING_TIMEOUT_SECONDS:.0f} (the onCancel "
            f"path has two minutes), not {raw!r}"
        )
    try:
        result = stop_claimed(ec2, execution_id, pending_timeout=pending_timeout)
    finally:
        # Stopping comes first (it matters more); the patch-set tag goes whatever happened.
        untag_patch_set(ec2, ssm, execution_id)
    return {
        "StoppedInstanceIds": result["stopped"],
        "StoppedCount": len(result["stopped"]),
        "UntaggedInstanceIds": result["untagged"],
    }


def handler(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """``aws:executeScript`` entry point: :func:`run` with EC2 and SSM clients of the role.

    Raises:
        ValueError, StopFailedError, botocore.exceptions.ClientError: see :func:`run`.
    """
    return run(events, boto3.client("ec2", config=RETRIES), boto3.client("ssm", config=RETRIES))
