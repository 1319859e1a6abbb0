"""Patch run last step: one summary of the execution, and one notification when nodes failed.

Runs as the ``Summarize`` ``aws:executeScript`` step (runtime python3.11) of the patch-run
Automation document, after the stop step on every path; embedded verbatim by
``ssm_documents/build.py`` (self-contained: standard library, boto3 and botocore only).

It reads what happened from the execution itself (DescribeAutomationStepExecutions: the outputs
of the steps that succeeded, the failure message of those that did not) and from the patch
command (ListCommands by the execution id in its ``Comment``, ListCommandInvocations), so it
works whichever step failed. It prints one structured log line (JSON, ``"event":
"fleetpatch.patch_run.summary"``) and returns the summary as step outputs. When a node failed,
was released or refused to start, or a step failed, it publishes one message to
``NotificationTopicArn`` (if given) naming each such node and its cause. With a
``MetricsNamespace`` it publishes the CloudWatch metric ``SkippedInstances`` (Count; dimensions
``DocumentName``, ``PatchGroup``): the instances this run neither started nor patched because
another execution's marker claims them, zero included, so the module's alarm sees every run.

The outcome is ``Success``, ``PartiallyFailed`` (some nodes failed, collided, were released or
refused to start), ``Failed`` (a step failed or timed out) or ``Cancelled`` (the execution was
cancelled: StopAutomationExecution marks the running step ``Cancelled``).

Exit codes 155 and 152 of AWS-RunPatchBaseline mean the node was already running another
patching operation (Patch Manager troubleshooting,
https://docs.aws.amazon.com/systems-manager/latest/userguide/patch-manager-troubleshooting.html):
such a node is reported as a ``collision`` (patch it again later), not as a patch failure.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_ssm import SSMClient

RETRIES = Config(retries={"mode": "standard", "max_attempts": 10})
COLLISION_EXIT_CODES = frozenset({152, 155})
PATCH_DOCUMENT = "AWS-RunPatchBaseline"
PATCH_STEP = "PatchNodes"
SUMMARY_EVENT = "fleetpatch.patch_run.summary"
SNS_SUBJECT_LIMIT = 100
SNS_MESSAGE_LIMIT = 256 * 1024
SKIPPED_METRIC = "SkippedInstances"
# MaxResults of DescribeAutomationStepExecutions, ListCommands, ListCommandInvocations: 1-50.
PAGE_SIZE = 50


class MetricsError(RuntimeError):
    """The run's metric could not be published (the message holds the summary)."""


def step_executions(ssm: SSMClient, execution_id: str) -> dict[str, dict[str, Any]]:
    """``{step name: StepExecution}`` of the execution (DescribeAutomationStepExecutions, paged).

    Raises:
        botocore.exceptions.ClientError: from DescribeAutomationStepExecutions.
    """
    found: dict[str, dict[str, Any]] = {}
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {"AutomationExecutionId": execution_id, "MaxResults": PAGE_SIZE}
        if token:
            kwargs["NextToken"] = token
        page = ssm.describe_automation_step_executions(**kwargs)
        for step in page.get("StepExecutions", []):
            found[str(step.get("StepName"))] = dict(step)
        token = page.get("NextToken")
        if not token:
            return found


def _out(steps: dict[str, dict[str, Any]], step: str, name: str) -> list[str]:
    values = (steps.get(step, {}).get("Outputs") or {}).get(name) or []
    return [str(v) for v in values if str(v)]


def _reasons(lines: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for line in lines:
        node, _, reason = line.partition(": ")
        found[node] = reason
    return found


def patch_command_id(ssm: SSMClient, execution_id: str, since: Any) -> str | None:
    """The id of this execution's AWS-RunPatchBaseline command (its Comment names the execution).

    Raises:
        botocore.exceptions.ClientError: from ListCommands.
    """
    filters = [{"key": "DocumentName", "value": PATCH_DOCUMENT}]
    if since is not None:
        stamp = since.strftime("%Y-%m-%dT%H:%M:%SZ") if hasattr(since, "strftime") else str(since)
        filters.append({"key": "InvokedAfter", "value": stamp})
    for page in ssm.get_paginator("list_commands").paginate(
        Filters=filters,  # type: ignore[arg-type]
        PaginationConfig={"PageSize": PAGE_SIZE},
    ):
        for command in page.get("Commands", []):
            if execution_id in str(command.get("Comment", "")):
                return str(command["CommandId"])
    return None


def invocations(ssm: SSMClient, command_id: str) -> list[dict[str, Any]]:
    """Every invocation of the command, with its plugins (ListCommandInvocations, paginated).

    Raises:
        botocore.exceptions.ClientError: from ListCommandInvocations.
    """
    found: list[dict[str, Any]] = []
    for page in ssm.get_paginator("list_command_invocations").paginate(
        CommandId=command_id, Details=True, PaginationConfig={"PageSize": PAGE_SIZE}
    ):
        found.extend(dict(i) for i in page.get("CommandInvocations", []))
    return found


def _exit_code(invocation: dict[str, Any]) -> int | None:
    for plugin in invocation.get("CommandPlugins") or []:
        code = plugin.get("ResponseCode")
        if code is not None and int(code) != 0:
            return int(code)
    plugins = invocation.get("CommandPlugins") or []
    return int(plugins[0]["ResponseCode"]) if plugins and "ResponseCode" in plugins[0] else None


def classify(items: list[dict[str, Any]], timeout_seconds: int) -> dict[str, Any]:
    """Sort the patch command's invocations into patched / collisions / failed.

    Returns:
        ``{"patched": [ids], "collisions": [{"id", "exit_code"}], "failed": [{"id", "status",
        "details", "exit_code", "cause"}]}``.
    """
    patched: list[str] = []
    collisions: list[dict[str, Any]] = []
    failed: list[dict[str, Any]] = []
    for item in sorted(items, key=lambda i: str(i.get("InstanceId"))):
        node = str(item.get("InstanceId"))
        status, details = str(item.get("Status", "")), str(item.get("StatusDetails", ""))
        code = _exit_code(item)
        if status == "Success":
            patched.append(node)
            continue
        if code in COLLISION_EXIT_CODES:
            collisions.append({"id": node, "exit_code": code})
            continue
        if details == "Delivery Timed Out":
            cause = f"not started before PatchTimeoutSeconds ({timeout_seconds}s) ran out"
        elif details == "Terminated":
            cause = "not patched: the command stopped sending after MaxErrors was reached"
        elif details == "Undeliverable":
            cause = "undeliverable: the node is gone or no longer managed"
        elif status in {"Cancelled", "Cancelling"}:
            cause = "not patched: the command was cancelled with the run"
        elif status in {"Pending", "InProgress", "Delayed"}:
            cause = f"still {status} when the patch step ended (step timeout or cancel)"
        elif details == "Execution Timed Out":
            cause = "AWS-RunPatchBaseline ran past its execution timeout"
        else:
            cause = f"AWS-RunPatchBaseline {status} ({details}), exit code {code}"
        failed.append(
            {"id": node, "status": status, "details": details, "exit_code": code, "cause": cause}
        )
    return {"patched": patched, "collisions": collisions, "failed": failed}


def summarize(ssm: SSMClient, events: dict[str, Any]) -> dict[str, Any]:
    """Build the summary of execution ``events["ExecutionId"]`` (see the module docstring).

    Raises:
        botocore.exceptions.ClientError: from the SSM calls.
    """
    execution_id = str(events.get("ExecutionId", ""))
    timeout = int(str(events.get("PatchTimeoutSeconds", "0") or 0))
    steps = step_executions(ssm, execution_id)
    own = str(events.get("StepName", "Summarize"))
    starts: list[Any] = [
        s["ExecutionStartTime"] for s in steps.values() if s.get("ExecutionStartTime")
    ]
    failed_steps = [
        {
            "step": name,
            "status": str(s.get("StepStatus")),
            # The end of a failure message holds the error (a script's traceback comes first).
            "message": str(s.get("FailureMessage", ""))[-500:],
        }
        for name, s in steps.items()
        if name != own
        and s.get("StepStatus") in {"Failed", "TimedOut", "Cancelled"}
        # A non-critical step (the agent update) failing does not fail the run.
        and (s.get("IsCritical", True) or s.get("StepStatus") == "Cancelled")
    ]
    command_id = None
    if steps.get(PATCH_STEP, {}).get("StepStatus") not in (None, "Pending"):
        command_id = patch_command_id(ssm, execution_id, min(starts) if starts else None)
    result = classify(invocations(ssm, command_id), timeout) if command_id else None
    released = _reasons(_out(steps, "WaitUntilOnline", "ReleasedReasons"))
    for node in _out(steps, "WaitUntilOnline", "ReleasedInstanceIds"):
        released.setdefault(node, "not Online")
    refused = _reasons(_out(steps, "StartStoppedInstances", "FailedReasons"))
    for node in _out(steps, "StartStoppedInstances", "FailedInstanceIds"):
        refused.setdefault(node, "EC2 refused to start it")
    started = _out(steps, "StartStoppedInstances", "StartedInstanceIds")
    summary: dict[str, Any] = {
        "event": SUMMARY_EVENT,
        "execution_id": execution_id,
        "target": " ".join(
            v for v in (events.get("PatchGroup"), events.get("ResourceGroupName")) if v
        ),
        "patch_command_id": command_id or "",
        "patched": result["patched"] if result else [],
        "started": started,
        "stopped_again": _out(steps, "StopStartedInstances", "StoppedInstanceIds"),
        "released_not_online": [{"id": k, "reason": v} for k, v in sorted(released.items())],
        "start_refused": [{"id": k, "reason": v} for k, v in sorted(refused.items())],
        "skipped": {
            "other_run": sorted(
                set(_out(steps, "FindAndTagStoppedInstances", "SkippedInstanceIds"))
                | set(_out(steps, "SelectNodesToPatch", "OtherRunInstanceIds"))
            ),
            "auto_scaling_stopped": _out(
                steps, "FindAndTagStoppedInstances", "AutoScalingInstanceIds"
            ),
            "opted_out": sorted(
                set(_out(steps, "FindAndTagStoppedInstances", "OptedOutInstanceIds"))
                | set(_out(steps, "SelectNodesToPatch", "OptedOutInstanceIds"))
            ),
            "not_online": [
                {"id": k, "reason": v}
                for k, v in sorted(
                    _reasons(_out(steps, "SelectNodesToPatch", "NotOnlineReasons")).items()
                )
            ],
            "not_managed": [
                {"id": k, "reason": v}
                for k, v in sorted(
                    {
                        **_reasons(_out(steps, "FindAndTagStoppedInstances", "UnmanagedReasons")),
                        **_reasons(_out(steps, "SelectNodesToPatch", "UnmanagedReasons")),
                    }.items()
                )
            ],
        },
        "auto_scaling_patched": sorted(
            set(_out(steps, "SelectNodesToPatch", "AutoScalingInstanceIds"))
            & set(result["patched"] if result else [])
        ),
        "collisions": result["collisions"] if result else [],
        "failed": result["failed"] if result else [],
        "failed_steps": failed_steps,
        "patch_timeout_seconds": timeout,
    }
    problems = (
        summary["failed"]
        or summary["released_not_online"]
        or summary["start_refused"]
        or summary["skipped"]["not_managed"]
    )
    if any(s["status"] == "Cancelled" for s in failed_steps):
        summary["outcome"] = "Cancelled"
    elif failed_steps:
        summary["outcome"] = "Failed"
    elif problems or summary["collisions"]:
        summary["outcome"] = "PartiallyFailed"
    else:
        summary["outcome"] = "Success"
    return summary


def message(summary: dict[str, Any]) -> tuple[str, str]:
    """``(subject, text)`` of the notification: each failed node and its cause, one a line."""
    lines = [
        f"fleetpatch patch run {summary['execution_id']} ({summary['target']}): "
        f"{summary['outcome']}; patched {len(summary['patched'])} nodes.",
        "",
    ]
    for item in summary["failed"]:
        lines.append(f"{item['id']}: patch failed: {item['cause']}")
    for item in summary["collisions"]:
        lines.append(
            f"{item['id']}: collision: another patching operation was running "
            f"(exit code {item['exit_code']}); not a patch failure, patch it again later"
        )
    for item in summary["released_not_online"]:
        lines.append(f"{item['id']}: released, stopped again: {item['reason']}")
    for item in summary["start_refused"]:
        lines.append(f"{item['id']}: not started: {item['reason']}")
    for item in summary["skipped"]["not_managed"]:
        lines.append(
            f"{item['id']}: not patched: outside the managed patch groups ({item['reason']})"
        )
    for item in summary["failed_steps"]:
        lines.append(f"step {item['step']} {item['status']}: {item['message']}")
    subject = f"fleetpatch patch run {summary['outcome']}: {summary['target']}"[:SNS_SUBJECT_LIMIT]
    text = "\n".join(lines)
    return subject, text.encode("utf-8")[: SNS_MESSAGE_LIMIT - 1024].decode("utf-8", "ignore")


def skipped_metric(
    summary: dict[str, Any], document_name: str, now: datetime
) -> list[dict[str, Any]]:
    """The ``SkippedInstances`` datum of one run (Count; dimensions DocumentName, PatchGroup)."""
    return [
        {
            "MetricName": SKIPPED_METRIC,
            "Dimensions": [
                {"Name": "DocumentName", "Value": document_name},
                {"Name": "PatchGroup", "Value": summary["target"] or "-"},
            ],
            "Timestamp": now,
            "Value": float(len(summary["skipped"]["other_run"])),
            "Unit": "Count",
        }
    ]


def publish_metric(
    ssm: SSMClient, cloudwatch: CloudWatchClient, namespace: str, summary: dict[str, Any]
) -> bool:
    """Publish :func:`skipped_metric` with one PutMetricData call; False for no namespace.

    The document name comes from GetAutomationExecution of this execution (Automation has no
    system variable for it).

    Raises:
        botocore.exceptions.ClientError: from GetAutomationExecution or PutMetricData.
    """
    if not namespace:
        return False
    found = ssm.get_automation_execution(AutomationExecutionId=summary["execution_id"])
    name = str(found["AutomationExecution"].get("DocumentName", ""))
    data: Any = skipped_metric(summary, name, datetime.now(UTC))
    cloudwatch.put_metric_data(Namespace=namespace, MetricData=data)
    return True


def run(
    events: dict[str, Any],
    ssm: SSMClient,
    sns: SNSClient | None,
    cloudwatch: CloudWatchClient | None = None,
) -> dict[str, Any]:
    """The step's logic: summarize, log one line, notify when something failed, publish the metric.

    ``events``: ``ExecutionId``, ``PatchGroup``, ``ResourceGroupName``, ``PatchTimeoutSeconds``,
    ``NotificationTopicArn`` (empty: no notification), ``MetricsNamespace`` (empty: no metric).

    Returns:
        ``Summary`` (the summary without the patched list, JSON text), ``PatchedInstanceIds``,
        ``PatchedCount``, ``FailedNodes`` (``"<id>: <cause>"``), ``Outcome``, ``MessageId``,
        ``SkippedCount`` (instances another execution claims).

    Raises:
        botocore.exceptions.ClientError: from the SSM calls or SNS Publish (a notification that
            cannot be sent fails the step, so nobody misses it).
        MetricsError: the metric could not be published (after the notification was sent; the
            message holds the summary).
    """
    summary = summarize(ssm, events)
    topic = str(events.get("NotificationTopicArn", "") or "").strip()
    notify = summary["outcome"] != "Success"
    message_id = ""
    if notify and topic and sns is not None:
        subject, text = message(summary)
        message_id = str(sns.publish(TopicArn=topic, Subject=subject, Message=text)["MessageId"])
    namespace = str(events.get("MetricsNamespace", "") or "").strip()
    metric_error: ClientError | None = None
    try:
        summary["metrics_published"] = cloudwatch is not None and publish_metric(
            ssm, cloudwatch, namespace, summary
        )
    except ClientError as err:
        metric_error = err
        summary["metrics_published"] = False
    print(json.dumps(summary, sort_keys=True))
    if metric_error is not None:
        error = metric_error.response.get("Error", {})
        raise MetricsError(
            f"could not publish {SKIPPED_METRIC} to {namespace} "
            f"({error.get('Code', '')}: {error.get('Message', '')}); "
            f"summary: {json.dumps(summary, sort_keys=True)[:4000]}"
        )
    failed_nodes = [f"{i['id']}: {i['cause']}" for i in summary["failed"]]
    failed_nodes += [
        f"{i['id']}: collision (exit code {i['exit_code']})" for i in summary["collisions"]
    ]
    failed_nodes += [f"{i['id']}: released: {i['reason']}" for i in summary["released_not_online"]]
    failed_nodes += [f"{i['id']}: not started: {i['reason']}" for i in summary["start_refused"]]
    brief = {k: v for k, v in summary.items() if k != "patched"}
    return {
        "Summary": json.dumps(brief, sort_keys=True),
        "PatchedInstanceIds": summary["patched"],
        "PatchedCount": len(summary["patched"]),
        "FailedNodes": failed_nodes,
        "Outcome": summary["outcome"],
        "MessageId": message_id,
        "SkippedCount": len(summary["skipped"]["other_run"]),
    }


def handler(events: dict[str, Any], context: Any) -> dict[str, Any]:
    """``aws:executeScript`` entry point: :func:`run` with SSM, SNS and CloudWatch clients.

    The SNS client uses the topic ARN's Region.

    Raises:
        botocore.exceptions.ClientError, MetricsError: see :func:`run`.
    """
    topic = str(events.get("NotificationTopicArn", "") or "")
    parts = topic.split(":")
    sns = boto3.client("sns", region_name=parts[3], config=RETRIES) if len(parts) > 5 else None
    cloudwatch = boto3.client("cloudwatch", config=RETRIES)
    return run(events, boto3.client("ssm", config=RETRIES), sns, cloudwatch)
