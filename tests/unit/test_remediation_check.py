"""The patch remediation's CheckNodeIsFree script (ssm_documents/scripts/remediation_check.py).

Hybrid nodes, bad node ids and errors with botocore's Stubber; EC2 nodes run on the emulator in
tests/unit/emulator/test_remediation_document.py.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from ssm_documents.scripts import remediation_check as rc

NODE = "mi-0123456789abcdef0"


@pytest.fixture
def stubbed() -> dict[str, Any]:
    made = {
        name: boto3.client(
            name, region_name="us-west-2", aws_access_key_id="k", aws_secret_access_key="s"
        )
        for name in ("ec2", "ssm")
    }
    stubs = {name: Stubber(client) for name, client in made.items()}
    for stub in stubs.values():
        stub.activate()
    return {**made, "stubs": stubs}


def _invocations(stub: Stubber, status: str, ids: list[str]) -> None:
    stub.add_response(
        "list_command_invocations",
        {
            "CommandInvocations": [
                {"CommandId": i, "InstanceId": NODE, "Status": status} for i in ids
            ]
        },
        {
            "InstanceId": NODE,
            "Filters": [
                {"key": "DocumentName", "value": "AWS-RunPatchBaseline"},
                {"key": "Status", "value": status},
            ],
        },
    )


def test_a_hybrid_node_with_a_patch_run_tag_is_held(stubbed: dict[str, Any]) -> None:
    ssm_stub = stubbed["stubs"]["ssm"]
    ssm_stub.add_response(
        "list_tags_for_resource",
        {"TagList": [{"Key": "fleetpatch:patch-run", "Value": "run-1"}]},
        {"ResourceType": "ManagedInstance", "ResourceId": NODE},
    )
    out = rc.check({"NodeId": NODE}, stubbed["ec2"], stubbed["ssm"])
    assert out == {
        "Busy": True,
        "Reason": f"a patch run holds {NODE} (fleetpatch:patch-run = run-1)",
    }
    ssm_stub.assert_no_pending_responses()


def test_a_pending_patch_command_holds_the_node(stubbed: dict[str, Any]) -> None:
    ssm_stub = stubbed["stubs"]["ssm"]
    ssm_stub.add_response("list_tags_for_resource", {"TagList": []})
    _invocations(ssm_stub, "Pending", ["0e0e0e0e-0000-4000-8000-00000000c002"])
    _invocations(ssm_stub, "InProgress", [])
    out = rc.check({"NodeId": NODE}, stubbed["ec2"], stubbed["ssm"])
    assert out["Busy"] is True and "0e0e0e0e-0000-4000-8000-00000000c002" in out["Reason"]


def test_a_free_hybrid_node(stubbed: dict[str, Any]) -> None:
    ssm_stub = stubbed["stubs"]["ssm"]
    ssm_stub.add_response("list_tags_for_resource", {"TagList": [{"Key": "Owner", "Value": "a"}]})
    _invocations(ssm_stub, "Pending", [])
    _invocations(ssm_stub, "InProgress", [])
    assert rc.check({"NodeId": NODE}, stubbed["ec2"], stubbed["ssm"]) == {
        "Busy": False,
        "Reason": "",
    }


@pytest.mark.parametrize("node", ["", "web-01", "arn:aws:ec2:us-west-2:1:instance/i-1"])
def test_a_malformed_node_id_is_refused_before_any_call(stubbed: dict[str, Any], node: str) -> None:
    with pytest.raises(ValueError, match="NodeId must be"):
        rc.check({"NodeId": node}, stubbed["ec2"], stubbed["ssm"])


def test_a_missing_instance_and_a_denied_call(stubbed: dict[str, Any]) -> None:
    ec2_stub, ssm_stub = stubbed["stubs"]["ec2"], stubbed["stubs"]["ssm"]
    ec2_stub.add_client_error("describe_instances", service_error_code="InvalidInstanceID.NotFound")
    with pytest.raises(LookupError, match="i-0abc"):
        rc.check({"NodeId": "i-0abc"}, stubbed["ec2"], stubbed["ssm"])
    ssm_stub.add_client_error("list_tags_for_resource", service_error_code="AccessDeniedException")
    with pytest.raises(ClientError, match="AccessDeniedException"):
        rc.check({"NodeId": NODE}, stubbed["ec2"], stubbed["ssm"])
