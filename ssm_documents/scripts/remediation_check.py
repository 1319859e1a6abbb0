"""Config remediation step: is another patch operation working on this managed node?

Runs as the ``CheckNodeIsFree`` ``aws:executeScript`` step (runtime python3.11) of the
``<prefix>-Remediate-RunPatchBaseline`` Automation document (modules/compliance), before it runs
AWS-RunPatchBaseline on the node AWS Config found non-compliant; embedded verbatim by
``ssm_documents/build.py`` (self-contained: standard library, boto3 and botocore only).

AWS-RunPatchBaseline fails on a node that already runs a patching operation (exit codes 155 and
152, Patch Manager troubleshooting,
https://docs.aws.amazon.com/systems-manager/latest/userguide/patch-manager-troubleshooting.html),
and the patch run of modules/patch_automation may hold the node for hours (start, agent update,
patch, stop again). So the remediation skips a node that is held:

* it carries a patch run's tag ``fleetpatch:patch-run`` (selected for patching) or
  ``fleetpatch:started-by`` (started by a run that will stop it again): EC2 DescribeInstances for
  ``i-`` nodes, ListTagsForResource (ManagedInstance) for hybrid ``mi-`` nodes;
* an AWS-RunPatchBaseline command is ``Pending`` or ``InProgress`` on it (the weekly scan, a
  patch run's command, an operator's): ListCommandInvocations with ``InstanceId`` and the
  ``DocumentName`` and ``Status`` filters.

A skipped node stays NON_COMPLIANT until the operation holding it reports. The skip is a
successful execution, so Config does not count it among the failed attempts
(``MaximumAutomaticAttempts``) it retries; the patch run holding the node patches it.
A marker left by a dead run is removed by the patch janitor, so a node is never held forever.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_ec2 import EC2Client
    from mypy_boto3_ssm import SSMClient

PATCH_TAG = "fleetpatch:patch-run"
STARTED_TAG = "fleetpatch:started-by"
HOLD_TAGS = (PATCH_TAG, STARTED_TAG)
PATCH_DOCUMENT = "AWS-RunPatchBaseline"
BUSY_STATUSES = ("Pending", "InProgress")
RETRIES = Config(retries={"mode": "standard", "max_attempts": 10})


def node_tags(ec2: EC2Client, ssm: SSMClient, node_id: str) -> dict[str, str]:
    """The node's tags: DescribeInstances (``i-``) or ListTagsForResource (``mi-``).

    Raises:
        ValueError: ``node_id`` is neither an EC2 instance id nor a managed instance id.
        LookupError: EC2 does not know the instance (InvalidInstanceID.NotFound).
        botocore.exceptions.ClientError: any other error of the calls.
    """
    if node_id.startswith("i-"):
        try:
            found = ec2.describe_instances(InstanceIds=[node_id])
        except ClientError as err:
            if err.response.get("Error", {}).get("Code") == "InvalidInstanceID.NotFound":
                raise LookupError(f"EC2 has no instance {node_id}") from err
            raise
        tags: dict[str, str] = {}
        for reservation in found.get("Reservations", []):
            for instance in reservation.get("Instances", []):
                tags.update(
                    {str(t["Key"]): str(t.get("Value", "")) for t in instance.get("Tags", [])}
                )
        return tags
    if node_id.startswith("mi-"):
        listed = ssm.list_tags_for_resource(ResourceType="ManagedInstance", ResourceId=node_id)
        return {str(t["Key"]): str(t.get("Value", "")) for t in listed.get("TagList", [])}
    raise ValueError(
        f"NodeId must be an EC2 instance id (i-) or a managed instance id (mi-), not {node_id!r}"
    )


def running_patch_commands(ssm: SSMClient, node_id: str) -> list[str]:
    """Ids of the AWS-RunPatchBaseline commands Pending or InProgress on the node.

    ListCommandInvocations (paginator) once per status, with ``InstanceId`` and the filters
    ``DocumentName`` and ``Status``.

    Raises:
        botocore.exceptions.ClientError: from ListCommandInvocations.
    """
    found: set[str] = set()
    paginator = ssm.get_paginator("list_command_invocations")
    for status in BUSY_STATUSES:
        for page in paginator.paginate(
            InstanceId=node_id,
            Filters=[
                {"key": "DocumentName", "value": PATCH_DOCUMENT},
                {"key": "Status", "value": status},
            ],
        ):
            found.update(str(i["CommandId"]) for i in page.get("CommandInvocations", []))
    return sorted(found)


def check(events: dict[str, Any], ec2: EC2Client, ssm: SSMClient) -> dict[str, Any]:
    """The step's logic. ``events``: ``NodeId`` (``i-...`` or ``mi-...``).

    Returns:
        ``{"Busy": bool, "Reason": str}``: ``Busy`` is True when a patch run's tag or a running
        AWS-RunPatchBaseline command holds the node; ``Reason`` says which (empty when free).

    Raises:
        ValueError: a malformed ``NodeId``. LookupError: the EC2 instance does not exist.
        botocore.exceptions.ClientError: from the calls (the remediation fails; Config retries).
    """
    node_id = str(events.get("NodeId", "")).strip()
    tags = node_tags(ec2, ssm, node_id)
    held = [f"{key} = {tags[key]}" for key in HOLD_TAGS if key in tags]
    if held:
        return {"Busy": True, "Reason": f"a patch run holds {node_id} ({'; '.join(held)})"}
    commands = running_patch_commands(ssm, node_id)
    if commands:
        return {
            "Busy": True,
            "Reason": f"{PATCH_DOCUMENT} is already running on {node_id} "
            f"(command {', '.join(commands)})",
        }
    return {"Busy": False, "Reason": ""}


def handler(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """``aws:executeScript`` entry point: :func:`check` with EC2 and SSM clients of the role.

    Raises:
        ValueError, LookupError, botocore.exceptions.ClientError: see :func:`check`.
    """
    return check(events, boto3.client("ec2", config=RETRIES), boto3.client("ssm", config=RETRIES))
