"""Benchmark: the real patch-run document on a 2,000-node patch group, 400 of them stopped.

The generated ``ssm_documents/generated/patch_run.yaml`` runs on the emulator's Automation
runner (tests/emulator/automation.py: every ``aws:executeScript`` step in a subprocess with the
Automation role's credentials, ``aws:runCommand`` through the agent simulation), with the role
policy of ``modules/patch_automation`` (``tests.unit.emulator.test_patch_run.module_policy``).
Recorded: the seconds from StartAutomationExecution to the end of the execution, and every API
call the step scripts make, by step and operation, counted by the emulator's request hook
(``POST /fleetpatch/iam/requests`` with the execution id, the session name of the Automation
role). Calls the ``aws:runCommand`` steps (UpdateSsmAgent, PatchNodes) make are Automation's
own (SendCommand, then ListCommands polls ...): reported apart as ``automation_calls``, not as
script calls.

``baseline`` is the floor: every read a step needs, in pages of the largest page the API
allows, plus one start, one stop and one tag call per batch. Limits (AWS API references):

* EC2 DescribeInstances ``MaxResults``: 5-1000 per page (it cannot go with ``InstanceIds``);
  https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeInstances.html
* EC2 CreateTags / DeleteTags ``Resources``: "Up to 1000 resource IDs. We recommend breaking up
  this request into smaller batches."
  https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateTags.html
* EC2 StartInstances / StopInstances ``InstanceIds``: no maximum documented (only
  TerminateInstances documents one: "Up to 1000 instance IDs"), so the floor uses the batch the
  scripts send (``start_instances.BATCH``, ``stop_started.BATCH``: 50).
  https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_StartInstances.html
* SSM DescribeInstanceInformation ``MaxResults``: 5-50, "The default value is 10 items"; tag
  filters "can't be combined with other filter types".
  https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_DescribeInstanceInformation.html
* SSM ListCommandInvocations, ListCommands, DescribeAutomationStepExecutions ``MaxResults``:
  1-50 (botocore's service model).

The floor by step (:func:`floor_by_step`; N nodes, S stopped, a query costs at least one call):
FindAndTagStoppedInstances reads the stopped instances (S/1000 pages), tags them (S/1000) and
reads its claims back (S/1000); StartStoppedInstances re-reads the claims (S/1000) and starts
them (S/50); SelectNodesToPatch reads the running instances (N/1000), their PingStatus (N/50)
and tags them (N/1000); StopStartedInstances reads the claims (S/1000), stops them (S/50),
removes the marker (S/1000), reads the patch set (N/1000), removes its tag (N/1000) and lists
its hybrid nodes (one page); Summarize reads the step executions (one page), the patch command
(one page) and its N invocations (N/50). WaitUntilOnline's calls are polls (EC2 state, then
PingStatus, until Online): by the issue's definition not part of the floor, reported apart as
``polling_calls``. Target: every step's calls at the floor (``at_floor``).

The emulator pages DescribeInstances by instances, as AWS does (tests/emulator/ec2.py: moto
counted reservations), so the pages counted are the pages AWS would answer. The agent's Online
delay is shortened to 0.5 s (``/fleetpatch/agent/config``; the default 2 s
also applies to the reboot of every node RebootIfNeeded patches); the other settings are the
document's defaults (MaxConcurrency and MaxErrors 10%, Install, RebootIfNeeded).
"""

from __future__ import annotations

import json
import math
import sys
import time
import urllib.request
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from ssm_documents.render import render_patch_run  # noqa: E402
from ssm_documents.scripts import start_instances, stop_started  # noqa: E402
from tests.emulator.launcher import Emulator  # noqa: E402
from tools.bench import peak_rss_mb  # noqa: E402

NAME = "patch_run_rehearsal"
NODES = 2000
STOPPED = 400
GROUP = "bench"
ACCOUNT = "123456789012"
REGION = "us-west-2"
DOCUMENT = "fleetpatch-PatchRun"
BUCKET = "patch-logs-bench"
DOCUMENT_PATH = ROOT / "ssm_documents" / "generated" / "patch_run.yaml"
LOG = ROOT / "build" / f"bench-{NAME}-emulator.log"
AGENT_CONFIG = {"online_delay_seconds": 0.5}
RUN_TIMEOUT_SECONDS = 1200.0

# Per-call limits of the APIs (module docstring).
DESCRIBE_PAGE = 1000  # ec2:DescribeInstances MaxResults
TAG_BATCH = 1000  # ec2:CreateTags / ec2:DeleteTags Resources
SSM_PAGE = 50  # ssm:DescribeInstanceInformation, ListCommandInvocations, ... MaxResults
POLLING_STEPS = {"WaitUntilOnline"}
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "ssm.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {
                "StringEquals": {"aws:SourceAccount": ACCOUNT},
                "ArnLike": {
                    "aws:SourceArn": f"arn:aws:ssm:{REGION}:{ACCOUNT}:automation-execution/*"
                },
            },
        }
    ],
}
NODE_TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "ec2.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


def pages(items: int, per_page: int) -> int:
    """Calls to read ``items`` results ``per_page`` at a time: at least one (an empty answer)."""
    return max(1, math.ceil(items / per_page))


def batches(items: int, per_call: int) -> int:
    """Calls to act on ``items`` resources ``per_call`` at a time (none for no resource)."""
    return math.ceil(items / per_call)


def floor_by_step(
    nodes: int,
    stopped: int,
    *,
    step_executions: int = 12,
    start_batch: int = start_instances.BATCH,
    stop_batch: int = stop_started.BATCH,
) -> dict[str, dict[str, int]]:
    """The fewest API calls each step script needs for a patch group of ``nodes`` EC2 nodes,
    ``stopped`` of them stopped, all coming Online and patched (the module docstring).

    Args:
        nodes: EC2 instances of the patch group (no hybrid nodes), >= ``stopped``.
        stopped: how many of them are stopped when the run starts.
        step_executions: step executions Summarize reads (DescribeAutomationStepExecutions).
        start_batch / stop_batch: instance ids per StartInstances / StopInstances call.

    Returns:
        ``{step name: {"<service>:<Operation>": calls}}`` for the executeScript steps that make
        calls (WaitUntilOnline's polls and ValidateInputs' S3 checks of override URLs, none
        here, are not in it).

    Raises:
        ValueError: ``stopped`` outside 0..``nodes``.
    """
    if not 0 <= stopped <= nodes:
        raise ValueError(f"stopped must be 0..{nodes}, not {stopped}")
    return {
        "FindAndTagStoppedInstances": {
            # the stopped instances of the group, then the claims read back
            "ec2:DescribeInstances": pages(stopped, DESCRIBE_PAGE) + pages(stopped, DESCRIBE_PAGE),
            "ec2:CreateTags": batches(stopped, TAG_BATCH),
        },
        "StartStoppedInstances": {
            "ec2:DescribeInstances": pages(stopped, DESCRIBE_PAGE),
            "ec2:StartInstances": batches(stopped, start_batch),
        },
        "SelectNodesToPatch": {
            "ec2:DescribeInstances": pages(nodes, DESCRIBE_PAGE),
            "ssm:DescribeInstanceInformation": pages(nodes, SSM_PAGE),
            "ec2:CreateTags": batches(nodes, TAG_BATCH),
        },
        "StopStartedInstances": {
            # the claims, then the patch set
            "ec2:DescribeInstances": pages(stopped, DESCRIBE_PAGE) + pages(nodes, DESCRIBE_PAGE),
            "ec2:StopInstances": batches(stopped, stop_batch),
            "ec2:DeleteTags": batches(stopped, TAG_BATCH) + batches(nodes, TAG_BATCH),
            "ssm:DescribeInstanceInformation": pages(0, SSM_PAGE),  # the patch set's hybrid nodes
        },
        "Summarize": {
            "ssm:DescribeAutomationStepExecutions": pages(step_executions, SSM_PAGE),
            "ssm:ListCommands": pages(1, SSM_PAGE),
            "ssm:ListCommandInvocations": pages(nodes, SSM_PAGE),
        },
    }


def by_operation(by_step: dict[str, dict[str, int]]) -> dict[str, int]:
    """Sum ``{step: {operation: n}}`` over the steps: ``{operation: n}``, sorted."""
    total: Counter[str] = Counter()
    for calls in by_step.values():
        total.update(calls)
    return dict(sorted(total.items()))


def over_floor(
    measured: dict[str, dict[str, int]], floor: dict[str, dict[str, int]]
) -> dict[str, dict[str, list[int]]]:
    """``{step: {operation: [measured, floor]}}`` wherever a step made more calls than its floor."""
    found: dict[str, dict[str, list[int]]] = {}
    for step, calls in measured.items():
        for operation, count in calls.items():
            limit = floor.get(step, {}).get(operation, 0)
            if count > limit:
                found.setdefault(step, {})[operation] = [count, limit]
    return found


def _control(emu: Emulator, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    request = urllib.request.Request(
        f"{emu.endpoint}/fleetpatch/{path}",
        data=json.dumps(body or {}).encode(),
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=RUN_TIMEOUT_SECONDS + 60) as answer:
        result: dict[str, Any] = json.loads(answer.read())
    return result


def _fleet(emu: Emulator) -> tuple[str, list[str]]:
    """Roles, bucket, document and the fleet; returns (Automation role ARN, stopped ids)."""
    from tests.unit.emulator.test_patch_run import module_policy  # noqa: PLC0415

    iam, ec2, ssm, s3 = (emu.client(s) for s in ("iam", "ec2", "ssm", "s3"))
    ssm.create_document(
        Name=DOCUMENT,
        DocumentType="Automation",
        DocumentFormat="YAML",
        Content=render_patch_run(DOCUMENT_PATH.read_text(encoding="utf-8"), BUCKET),
    )
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    topic = f"arn:aws:sns:{REGION}:{ACCOUNT}:unused-bench-topic"
    role: str = iam.create_role(
        RoleName="patch-run-automation", AssumeRolePolicyDocument=json.dumps(TRUST)
    )["Role"]["Arn"]
    iam.put_role_policy(
        RoleName="patch-run-automation",
        PolicyName="patch-run",
        PolicyDocument=json.dumps(module_policy([GROUP], topic, ["unused-overrides-bucket/"])),
    )
    iam.create_role(RoleName="patch-node", AssumeRolePolicyDocument=json.dumps(NODE_TRUST))
    iam.attach_role_policy(
        RoleName="patch-node", PolicyArn="arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
    )
    iam.put_role_policy(  # the patch-baseline log bucket, as the node role of the modules
        RoleName="patch-node",
        PolicyName="patch-logs",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": "s3:PutObject",
                        "Resource": f"arn:aws:s3:::{BUCKET}/*",
                    }
                ],
            }
        ),
    )
    iam.create_instance_profile(InstanceProfileName="patch-node")
    iam.add_role_to_instance_profile(InstanceProfileName="patch-node", RoleName="patch-node")
    ids: list[str] = []
    for _ in range(NODES // 500):
        ids += [
            str(i["InstanceId"])
            for i in ec2.run_instances(
                ImageId="ami-12c6146b",
                MinCount=500,
                MaxCount=500,
                IamInstanceProfile={"Name": "patch-node"},
                TagSpecifications=[
                    {"ResourceType": "instance", "Tags": [{"Key": "PatchGroup", "Value": GROUP}]}
                ],
            )["Instances"]
        ]
    stopped = sorted(ids)[:: NODES // STOPPED]
    ec2.stop_instances(InstanceIds=stopped)
    return role, stopped


def _document_actions() -> dict[str, str]:
    """``{step name: action}`` of the patch-run document."""
    content = yaml.safe_load(DOCUMENT_PATH.read_text(encoding="utf-8"))
    return {str(s["name"]): str(s["action"]) for s in content["mainSteps"]}


def _step_seconds(execution: dict[str, Any]) -> dict[str, float]:
    found: dict[str, float] = {}
    for step in execution["StepExecutions"]:
        begin, end = step.get("ExecutionStartTime"), step.get("ExecutionEndTime")
        if begin and end:
            found[str(step["StepName"])] = round((end - begin).total_seconds(), 1)
    return found


def run() -> list[dict[str, Any]]:
    """Run the rehearsal once; one bench entry (see the module docstring).

    Raises:
        RuntimeError: the execution did not succeed, or did not patch every node and stop
            every instance it started.
    """
    LOG.parent.mkdir(parents=True, exist_ok=True)
    emulator = Emulator(log_path=LOG)
    began = time.perf_counter()
    emulator.start()
    try:
        _control(emulator, "agent/config", AGENT_CONFIG)
        role, stopped = _fleet(emulator)
        time.sleep(AGENT_CONFIG["online_delay_seconds"] + 1.0)  # the running nodes come Online
        setup_seconds = time.perf_counter() - began
        ssm = emulator.client("ssm")
        _control(emulator, "iam/requests/reset")
        started = time.perf_counter()
        execution_id: str = ssm.start_automation_execution(
            DocumentName=DOCUMENT,
            Parameters={
                "AutomationAssumeRole": [role],
                "PatchGroup": [GROUP],
            },
        )["AutomationExecutionId"]
        _control(
            emulator,
            "automation/wait",
            {"execution_id": execution_id, "timeout_seconds": RUN_TIMEOUT_SECONDS},
        )
        seconds = time.perf_counter() - started
        execution = ssm.get_automation_execution(AutomationExecutionId=execution_id)[
            "AutomationExecution"
        ]
        counted = _control(emulator, "iam/requests", {"principal_contains": execution_id})
        emulator_rss = _emulator_peak_rss_mb(emulator.pid)
    finally:
        emulator.stop()

    steps = {s["StepName"]: s for s in execution["StepExecutions"]}
    status = execution["AutomationExecutionStatus"]
    outputs = steps.get("Summarize", {}).get("Outputs", {})
    patched = int((outputs.get("PatchedCount") or ["0"])[0])
    stopped_again = len(
        [i for i in steps["StopStartedInstances"]["Outputs"].get("StoppedInstanceIds", []) if i]
    )
    if status != "Success" or patched != NODES or stopped_again != len(stopped):
        raise RuntimeError(
            f"patch run {execution_id}: {status}, patched {patched}/{NODES}, stopped again "
            f"{stopped_again}/{len(stopped)}: {execution.get('FailureMessage', '')}"
        )

    actions = _document_actions()
    scripts: dict[str, dict[str, int]] = defaultdict(dict)
    polling: dict[str, dict[str, int]] = defaultdict(dict)
    automation: dict[str, dict[str, int]] = defaultdict(dict)
    for item in counted["requests"]:
        step, action, count = str(item["step"]) or "(between steps)", item["action"], item["count"]
        if actions.get(step) != "aws:executeScript":
            target = automation  # aws:runCommand: Automation's own calls
        elif step in POLLING_STEPS and action in {
            "ec2:DescribeInstances",
            "ssm:DescribeInstanceInformation",
        }:
            target = polling
        else:
            target = scripts
        target[step][action] = target[step].get(action, 0) + int(count)
    floor = floor_by_step(NODES, STOPPED, step_executions=len(execution["StepExecutions"]))
    calls = by_operation(scripts)
    polls = by_operation(polling)
    exceeded = over_floor(scripts, floor)
    return [
        {
            "name": NAME,
            "n": NODES,
            "seconds": round(seconds, 1),
            "api_calls": sum(calls.values()) + sum(polls.values()),
            "peak_rss_mb": round(peak_rss_mb(), 1),
            "baseline": {
                "fleet": {"nodes": NODES, "stopped": STOPPED, "patched": patched},
                "floor_calls": sum(by_operation(floor).values()),
                "floor_by_operation": by_operation(floor),
                "calls_by_operation": calls,
                "at_floor": not exceeded,
                "over_floor": exceeded,
                "floor_by_step": floor,
                "calls_by_step": {k: dict(sorted(v.items())) for k, v in sorted(scripts.items())},
                "polling_calls_by_operation": polls,
                "automation_calls_by_operation": by_operation(automation),
                "step_seconds": _step_seconds(execution),
                "setup_seconds": round(setup_seconds, 1),
                "emulator_peak_rss_mb": emulator_rss,
                "agent_config": AGENT_CONFIG,
                "limits": {
                    "ec2:DescribeInstances MaxResults": DESCRIBE_PAGE,
                    "ec2:CreateTags/DeleteTags Resources": TAG_BATCH,
                    "ec2:StartInstances ids per call (scripts)": start_instances.BATCH,
                    "ec2:StopInstances ids per call (scripts)": stop_started.BATCH,
                    "ssm MaxResults": SSM_PAGE,
                },
            },
        }
    ]


def _emulator_peak_rss_mb(pid: int | None) -> float | None:
    """The emulator process's peak resident set (``VmHWM``), MiB; None when unreadable."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return round(int(line.split()[1]) / 1024.0, 1)
    except (OSError, ValueError):
        return None
    return None


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
