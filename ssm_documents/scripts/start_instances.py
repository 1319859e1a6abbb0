"""Patch run step 2: start the instances this execution claimed.

Runs as the ``StartStoppedInstances`` ``aws:executeScript`` step (runtime python3.11) of the
patch-run Automation document; embedded verbatim by ``ssm_documents/build.py`` (self-contained:
standard library, boto3 and botocore only).

Only instances that still carry ``fleetpatch:started-by = <this execution id>`` and are still
stopped are started. An instance EC2 refuses to start (no capacity, wrong state) is released:
its marker is removed so the stop step leaves it alone, and it is reported in
``FailedInstanceIds``; the run goes on with the others.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_ec2 import EC2Client

MARKER_TAG = "fleetpatch:started-by"
# Instance ids per StartInstances call: the EC2 API Reference documents no maximum for
# StartInstances (TerminateInstances: "Up to 1000 instance IDs. We recommend breaking up this
# request into smaller batches"). This script sends 50; a batch EC2 refuses for an
# instance-level reason is retried one id at a time.
BATCH = 50
PAGE_SIZE = 1000  # DescribeInstances MaxResults (5-1000)
RETRIES = Config(retries={"mode": "standard", "max_attempts": 10})
# StartInstances errors that concern single instances: retried one by one, then released.
PER_INSTANCE_ERRORS = frozenset(
    {
        "IncorrectInstanceState",
        "InsufficientInstanceCapacity",
        "InsufficientCapacity",
        "UnsupportedOperation",
        "InvalidInstanceID.NotFound",
    }
)


def _marker(instance: dict[str, Any]) -> str | None:
    for tag in instance.get("Tags", []):
        if tag.get("Key") == MARKER_TAG:
            return str(tag.get("Value", ""))
    return None


def claimed_stopped(
    ec2: EC2Client, instance_ids: list[str], execution_id: str, page_size: int = PAGE_SIZE
) -> list[str]:
    """Return the ids among ``instance_ids`` still claimed by ``execution_id`` and still stopped.

    Calls EC2 DescribeInstances through its paginator, filtered on the marker
    ``fleetpatch:started-by = execution_id`` and ``instance-state-name = stopped``, ``page_size``
    (5-1000) results per page: one call per 1,000 claimed instances, whatever the number of ids.

    Raises:
        botocore.exceptions.ClientError: from DescribeInstances.
    """
    if not instance_ids:
        return []
    wanted = set(instance_ids)
    paginator = ec2.get_paginator("describe_instances")
    keep: list[str] = []
    for page in paginator.paginate(
        Filters=[
            {"Name": f"tag:{MARKER_TAG}", "Values": [execution_id]},
            {"Name": "instance-state-name", "Values": ["stopped"]},
        ],
        PaginationConfig={"PageSize": page_size},
    ):
        for reservation in page.get("Reservations", []):
            for instance in reservation.get("Instances", []):
                data: dict[str, Any] = dict(instance)
                state = str(data.get("State", {}).get("Name", ""))
                instance_id = str(data["InstanceId"])
                if instance_id in wanted and _marker(data) == execution_id and state == "stopped":
                    keep.append(instance_id)
    return sorted(keep)


def start_claimed(
    ec2: EC2Client, instance_ids: list[str], execution_id: str
) -> dict[str, list[str]]:
    """Start the claimed, stopped instances among ``instance_ids``.

    Calls EC2 StartInstances in batches of 50; a batch refused for an instance-level reason
    (``PER_INSTANCE_ERRORS``) is retried one instance at a time, and an instance that still
    fails has its marker removed (DeleteTags with this execution's value).

    Returns:
        ``{"started": [...], "failed": [...], "reasons": [...]}`` (instance ids, sorted; one
        ``"<id>: <error code>: <message>"`` per failed instance).

    Raises:
        ValueError: ``execution_id`` is empty, "None" or holds a wildcard (* or ?).
        botocore.exceptions.ClientError: any other StartInstances / DeleteTags error.
    """
    if not execution_id.strip() or execution_id == "None" or set("*?") & set(execution_id):
        # EC2 filter values treat * and ? as wildcards: such an id would match (and stop)
        # instances claimed by other executions.
        raise ValueError(
            f"ExecutionId must be this Automation execution's id, not {execution_id!r} "
            "(empty, None and the EC2 filter wildcards * and ? are refused)"
        )
    to_start = claimed_stopped(ec2, instance_ids, execution_id)
    started: list[str] = []
    failed: list[str] = []
    reasons: list[str] = []
    for begin in range(0, len(to_start), BATCH):
        batch = to_start[begin : begin + BATCH]
        try:
            ec2.start_instances(InstanceIds=batch)
            started.extend(batch)
            continue
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") not in PER_INSTANCE_ERRORS:
                raise
        for instance_id in batch:
            try:
                ec2.start_instances(InstanceIds=[instance_id])
                started.append(instance_id)
            except ClientError as err:
                error = err.response.get("Error", {})
                if error.get("Code") not in PER_INSTANCE_ERRORS:
                    raise
                failed.append(instance_id)
                reasons.append(f"{instance_id}: {error.get('Code')}: {error.get('Message', '')}")
    if failed:
        ec2.delete_tags(Resources=failed, Tags=[{"Key": MARKER_TAG, "Value": execution_id}])
    return {"started": sorted(started), "failed": sorted(failed), "reasons": sorted(reasons)}


def run(events: dict[str, Any], ec2: EC2Client) -> dict[str, Any]:
    """The step's logic. ``events``: ``ExecutionId`` (str), ``InstanceIds`` (list of str).

    Returns:
        ``StartedInstanceIds`` (list), ``StartedCount`` (int), ``FailedInstanceIds`` (list),
        ``FailedReasons`` (list of ``"<id>: <error code>: <message>"``).

    Raises:
        ValueError: ``InstanceIds`` is not a list or ``ExecutionId`` is empty.
        botocore.exceptions.ClientError: see :func:`start_claimed`.
    """
    ids = events.get("InstanceIds", [])
    if not isinstance(ids, list):
        raise ValueError("InstanceIds must be a list of instance ids")
    result = start_claimed(ec2, [str(i) for i in ids], str(events.get("ExecutionId", "")))
    return {
        "StartedInstanceIds": result["started"],
        "StartedCount": len(result["started"]),
        "FailedInstanceIds": result["failed"],
        "FailedReasons": result["reasons"],
    }


def handler(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """``aws:executeScript`` entry point: :func:`run` with an EC2 client of the assume role.

    Raises:
        ValueError, botocore.exceptions.ClientError: see :func:`run`.
    """
    return run(events, boto3.client("ec2", config=RETRIES))
