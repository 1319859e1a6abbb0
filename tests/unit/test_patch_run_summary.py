"""The patch run's Summarize step script (ssm_documents/scripts/summarize.py) with stubbed clients.

The whole document is executed on the emulator in tests/unit/emulator/test_patch_run.py; these
tests pin the outcome and metric rules with botocore's Stubber (every request and response is
validated against the service models).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from ssm_documents.scripts import summarize, validate_inputs

REGION = "us-west-2"
EXECUTION = "0a0b0c0d-0000-4000-8000-000000000001"
TOPIC = "arn:aws:sns:us-west-2:123456789012:compliance"
DOCUMENT = "fleetpatch-PatchRun"
T0 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


def _step(name: str, status: str, outputs: dict[str, list[str]] | None = None) -> dict[str, Any]:
    step: dict[str, Any] = {
        "StepName": name,
        "Action": "aws:executeScript",
        "StepStatus": status,
        "ExecutionStartTime": T0,
        "ExecutionEndTime": T0 + timedelta(seconds=5),
    }
    if outputs:
        step["Outputs"] = outputs
    if status in {"Failed", "Cancelled", "TimedOut"}:
        step["FailureMessage"] = f"Step {status.lower()}"
    return step


@pytest.fixture
def clients() -> dict[str, Any]:
    made = {
        name: boto3.client(
            name, region_name=REGION, aws_access_key_id="k", aws_secret_access_key="s"
        )
        for name in ("ssm", "sns", "cloudwatch")
    }
    stubs = {name: Stubber(client) for name, client in made.items()}
    for stub in stubs.values():
        stub.activate()
    return {"clients": made, "stubs": stubs}


def _events(**extra: str) -> dict[str, Any]:
    return {
        "ExecutionId": EXECUTION,
        "PatchGroup": "web",
        "ResourceGroupName": "",
        "PatchTimeoutSeconds": "14400",
        "NotificationTopicArn": TOPIC,
        **extra,
    }


def _run(clients: dict[str, Any], events: dict[str, Any]) -> dict[str, Any]:
    c = clients["clients"]
    return summarize.run(events, c["ssm"], c["sns"], c["cloudwatch"])


def _steps(stubs: dict[str, Stubber], steps: list[dict[str, Any]]) -> None:
    stubs["ssm"].add_response(
        "describe_automation_step_executions",
        {"StepExecutions": steps},
        {"AutomationExecutionId": EXECUTION, "MaxResults": 50},
    )


def _metric(stubs: dict[str, Stubber], namespace: str, group: str, value: float) -> None:
    stubs["ssm"].add_response(
        "get_automation_execution",
        {
            "AutomationExecution": {
                "AutomationExecutionId": EXECUTION,
                "DocumentName": DOCUMENT,
            }
        },
        {"AutomationExecutionId": EXECUTION},
    )
    stubs["cloudwatch"].add_response(
        "put_metric_data",
        {},
        {
            "Namespace": namespace,
            "MetricData": [
                {
                    "MetricName": "SkippedInstances",
                    "Dimensions": [
                        {"Name": "DocumentName", "Value": DOCUMENT},
                        {"Name": "PatchGroup", "Value": group},
                    ],
                    "Timestamp": ANY,
                    "Value": value,
                    "Unit": "Count",
                }
            ],
        },
    )


def test_a_cancelled_run_reads_cancelled_and_is_notified(clients: dict[str, Any]) -> None:
    stubs = clients["stubs"]
    _steps(
        stubs,
        [
            _step("FindAndTagStoppedInstances", "Success", {"SkippedInstanceIds": ["i-0aa"]}),
            _step("StartStoppedInstances", "Success", {"StartedInstanceIds": ["i-0bb"]}),
            _step("WaitUntilOnline", "Cancelled"),
            _step("StopStartedInstances", "Success", {"StoppedInstanceIds": ["i-0bb"]}),
        ],
    )
    stubs["sns"].add_response(
        "publish",
        {"MessageId": "m-1"},
        {"TopicArn": TOPIC, "Subject": "fleetpatch patch run Cancelled: web", "Message": ANY},
    )
    _metric(stubs, "fleetpatch", "web", 1.0)

    out = _run(clients, _events(MetricsNamespace="fleetpatch"))

    assert out["Outcome"] == "Cancelled"
    assert out["MessageId"] == "m-1" and out["SkippedCount"] == 1
    summary = json.loads(out["Summary"])
    assert summary["started"] == ["i-0bb"] and summary["stopped_again"] == ["i-0bb"]
    assert summary["failed_steps"][0]["step"] == "WaitUntilOnline"
    assert summary["metrics_published"] is True
    for stub in stubs.values():
        stub.assert_no_pending_responses()


def test_a_clean_run_publishes_zero_skipped_and_no_notification(clients: dict[str, Any]) -> None:
    stubs = clients["stubs"]
    _steps(stubs, [_step("FindAndTagStoppedInstances", "Success"), _step("PatchNodes", "Pending")])
    _metric(stubs, "team/patching", "web", 0.0)

    out = _run(clients, _events(MetricsNamespace="team/patching"))

    assert out["Outcome"] == "Success" and out["MessageId"] == "" and out["SkippedCount"] == 0
    for stub in stubs.values():
        stub.assert_no_pending_responses()


def test_no_namespace_publishes_no_metric(clients: dict[str, Any]) -> None:
    stubs = clients["stubs"]
    _steps(stubs, [_step("FindAndTagStoppedInstances", "Success")])
    out = _run(clients, _events())
    assert json.loads(out["Summary"])["metrics_published"] is False
    for stub in stubs.values():
        stub.assert_no_pending_responses()


def test_a_refused_metric_fails_the_step_after_the_notification(clients: dict[str, Any]) -> None:
    stubs = clients["stubs"]
    _steps(stubs, [_step("SelectNodesToPatch", "Failed")])
    stubs["sns"].add_response("publish", {"MessageId": "m-2"})
    stubs["ssm"].add_response(
        "get_automation_execution",
        {"AutomationExecution": {"AutomationExecutionId": EXECUTION, "DocumentName": DOCUMENT}},
    )
    stubs["cloudwatch"].add_client_error(
        "put_metric_data", service_error_code="AccessDenied", service_message="not allowed"
    )

    with pytest.raises(summarize.MetricsError, match="AccessDenied: not allowed") as caught:
        _run(clients, _events(MetricsNamespace="fleetpatch"))
    # The message keeps the summary, so the outcome is not lost with the step.
    assert '"outcome": "Failed"' in str(caught.value)
    for stub in stubs.values():
        stub.assert_no_pending_responses()


def test_validate_inputs_refuses_an_aws_metrics_namespace() -> None:
    events = {
        "ExecutionId": EXECUTION,
        "Operation": "Install",
        "OnlineTimeoutSeconds": "480",
        "PatchTimeoutSeconds": "14400",
        "BaselineOverride": "",
        "InstallOverrideList": "",
    }
    s3 = boto3.client("s3", region_name=REGION, aws_access_key_id="k", aws_secret_access_key="s")
    assert (
        validate_inputs.run({**events, "MetricsNamespace": "fleetpatch"}, s3)["SnapshotId"]
        == EXECUTION
    )
    with pytest.raises(validate_inputs.InvalidInputError, match="AWS/"):
        validate_inputs.run({**events, "MetricsNamespace": "AWS/EC2"}, s3)


def test_a_cancelled_invocation_is_not_called_a_patch_failure() -> None:
    result = summarize.classify(
        [{"InstanceId": "i-0aa", "Status": "Cancelled", "StatusDetails": "Cancelled"}], 900
    )
    assert result["failed"][0]["cause"] == "not patched: the command was cancelled with the run"


def test_a_failed_agent_update_does_not_fail_the_run(clients: dict[str, Any]) -> None:
    stubs = clients["stubs"]
    update = _step("UpdateSsmAgent", "Failed")
    update["IsCritical"] = False
    _steps(stubs, [_step("FindAndTagStoppedInstances", "Success"), update])
    out = _run(clients, _events())
    assert out["Outcome"] == "Success" and out["MessageId"] == ""
