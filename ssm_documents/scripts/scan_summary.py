"""Weekly scan, last step: one summary of the scan command, offline nodes apart from failures.

Runs as the ``SummarizeScan`` ``aws:executeScript`` step (runtime python3.11) of the scan
Automation document; embedded by ``ssm_documents/build.py`` (standard library, boto3, botocore).

A patch group routinely holds stopped instances: their managed nodes are offline
(ConnectionLost), and Run Command ends their invocations ``DeliveryTimedOut`` or
``Undeliverable`` (Run Command's "Understanding command statuses" page:
https://docs.aws.amazon.com/systems-manager/latest/userguide/monitor-commands.html). Those nodes
keep the compliance of their last scan or patch run; they are reported as offline, not as scan
failures. Invocations cancelled because MaxErrors was reached (StatusDetails ``Terminated``)
are reported as not scanned. Any other failure fails this step, so the execution ends Failed.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config

if TYPE_CHECKING:
    from mypy_boto3_ssm import SSMClient

# StatusDetails as Run Command words them ("Delivery Timed Out"), compared without spaces.
OFFLINE = {"DeliveryTimedOut", "Undeliverable"}
RETRIES = Config(retries={"mode": "standard", "max_attempts": 10})


class ScanFailedError(RuntimeError):
    """The scan failed on nodes that were online (the message names each and its cause)."""


def classify(invocations: list[dict[str, Any]]) -> dict[str, Any]:
    """Sort a command's invocations into scanned, offline, not scanned and failed.

    Args:
        invocations: ListCommandInvocations items (``InstanceId``, ``Status``,
            ``StatusDetails``).

    Returns:
        ``{"scanned": [ids], "offline": [ids], "not_scanned": [ids],
        "failed": [{"id", "status"}]}``, ids sorted.
    """
    out: dict[str, Any] = {"scanned": [], "offline": [], "not_scanned": [], "failed": []}
    for item in invocations:
        node, status = str(item.get("InstanceId")), str(item.get("Status"))
        details = str(item.get("StatusDetails", "")).replace(" ", "")
        if status == "Success":
            out["scanned"].append(node)
        elif details in OFFLINE or status in OFFLINE:
            out["offline"].append(node)
        elif status == "Cancelled" and details == "Terminated":
            out["not_scanned"].append(node)
        else:
            out["failed"].append({"id": node, "status": f"{status} ({details})"})
    for key in ("scanned", "offline", "not_scanned"):
        out[key].sort()
    out["failed"].sort(key=lambda f: f["id"])
    return out


def invocations(ssm: SSMClient, command_id: str) -> list[dict[str, Any]]:
    """Every invocation of ``command_id`` (SSM ListCommandInvocations through its paginator).

    Raises:
        botocore.exceptions.ClientError: from ListCommandInvocations.
    """
    found: list[dict[str, Any]] = []
    for page in ssm.get_paginator("list_command_invocations").paginate(CommandId=command_id):
        found.extend(dict(i) for i in page.get("CommandInvocations", []))
    return found


def run(events: dict[str, Any], ssm: SSMClient) -> dict[str, Any]:
    """The step's logic. ``events``: ``CommandId`` (the ScanNodes command), ``PatchGroup``.

    Returns:
        ``Summary`` (JSON text of :func:`classify` plus the command id and patch group),
        ``ScannedCount``, ``OfflineInstanceIds``.

    Raises:
        ScanFailedError: the command was never sent, or failed on online nodes.
        botocore.exceptions.ClientError: from ListCommandInvocations.
    """
    command_id = str(events.get("CommandId", "") or "")
    if not command_id.strip() or " " in command_id:
        raise ScanFailedError(f"the scan command was not sent ({command_id or 'no command id'})")
    result = classify(invocations(ssm, command_id))
    summary = {"command_id": command_id, "patch_group": events.get("PatchGroup", ""), **result}
    print(json.dumps({"event": "fleetpatch.scan.summary", **summary}, sort_keys=True))
    if result["failed"]:
        causes = ", ".join(f"{f['id']}: {f['status']}" for f in result["failed"])
        raise ScanFailedError(f"the scan failed on online nodes: {causes}")
    return {
        "Summary": json.dumps(summary, sort_keys=True),
        "ScannedCount": len(result["scanned"]),
        "OfflineInstanceIds": result["offline"],
    }


def handler(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """``aws:executeScript`` entry point: :func:`run` with an SSM client of the role.

    Raises:
        ScanFailedError, botocore.exceptions.ClientError: see :func:`run`.
    """
    return run(events, boto3.client("ssm", config=RETRIES))
