"""The weekly scan's summary step: offline nodes apart from failures (moto's SSM, stubbed)."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from ssm_documents.scripts import scan_summary

CID = "0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9"


def _ssm_with(invocations: list[dict[str, Any]]) -> tuple[Any, Stubber]:
    ssm = boto3.client(
        "ssm", region_name="us-west-2", aws_access_key_id="x", aws_secret_access_key="x"
    )
    stub = Stubber(ssm)
    stub.add_response(
        "list_command_invocations",
        {"CommandInvocations": invocations},
        {"CommandId": CID},
    )
    stub.activate()
    return ssm, stub


def _inv(node: str, status: str, details: str) -> dict[str, Any]:
    return {"InstanceId": node, "Status": status, "StatusDetails": details}


def test_offline_and_terminated_nodes_are_not_failures() -> None:
    ssm, stub = _ssm_with(
        [
            _inv("i-2", "Success", "Success"),
            _inv("i-1", "TimedOut", "Delivery Timed Out"),
            _inv("mi-3", "Failed", "Undeliverable"),
            _inv("i-4", "Cancelled", "Terminated"),
        ]
    )
    out = scan_summary.run({"CommandId": CID, "PatchGroup": "linux"}, ssm)
    stub.assert_no_pending_responses()
    summary = json.loads(out["Summary"])
    assert summary["scanned"] == ["i-2"]
    assert summary["offline"] == ["i-1", "mi-3"]
    assert summary["not_scanned"] == ["i-4"]
    assert out["ScannedCount"] == 1 and out["OfflineInstanceIds"] == ["i-1", "mi-3"]


def test_a_failure_on_an_online_node_fails_the_step_naming_it() -> None:
    ssm, _ = _ssm_with([_inv("i-2", "Success", "Success"), _inv("i-5", "Failed", "Failed")])
    with pytest.raises(scan_summary.ScanFailedError, match="i-5: Failed"):
        scan_summary.run({"CommandId": CID}, ssm)


@pytest.mark.parametrize(
    "command_id", ["", "No output available yet because the step is not successfully executed"]
)
def test_a_command_never_sent_fails(command_id: str) -> None:
    with pytest.raises(scan_summary.ScanFailedError, match="not sent"):
        scan_summary.run({"CommandId": command_id}, None)  # type: ignore[arg-type]
