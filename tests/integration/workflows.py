"""The seed's workflows on the applied environments/local topology, through their real triggers.

Used by the workflow tests of ``test_emulator_local.py`` (they share its one ``terraform
apply``). Everything is started the way AWS starts it: the module's EventBridge rules are fired
(``POST /fleetpatch/events/fire``, the schedule's clock reaching it), so the target ARN, input
and role Terraform configured are what runs; nothing calls StartAutomationExecution directly.
The test acts as the administrator (launches instances, sets agent faults, edits policies, reads
results); every actor of the workflow calls with its own credentials and the emulator evaluates
its policies.

:func:`run_all` runs every scenario and returns their :class:`Outcome` by name; the tests only
assert. Patch runs of different patch groups are independent (each run claims and patches only
its own group's instances), so the three patch groups' scenarios run in three threads; a
permission taken away from the shared Automation role is taken away for one patch group's
instances only (the policy's ``aws:ResourceTag/<patch group key>`` condition loses that group),
so the other groups' runs are not affected. Permissions of the other actors (EventBridge role,
scan role, Resource Data Sync's bucket policy) are changed while nothing else uses them.
"""

from __future__ import annotations

import contextlib
import copy
import json
import os
import threading
import time
import traceback
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.emulator.launcher import Emulator

Json = dict[str, Any]
ROOT = Path(__file__).resolve().parents[2]
PATCH_RUN_DOCUMENT = ROOT / "ssm_documents" / "generated" / "patch_run.yaml"
ACCOUNT, REGION = "111111111111", "us-west-2"  # shared services, primary Region
SECURITY, HOME = "333333333333", "us-east-1"
AMI = "ami-12c6146b"  # one of moto's default images
MARKER_TAG = "fleetpatch:started-by"
GROUPS = ("linux", "windows", "appa")
# AWS: "the onCancel path ... for a maximum of two minutes" (Automation actions reference,
# https://docs.aws.amazon.com/systems-manager/latest/userguide/automation-actions.html).
ON_CANCEL_LIMIT_SECONDS = 120
AGENT_CONFIG = {
    "online_delay_seconds": 1.0,
    "connection_lost_delay_seconds": 0.5,
    "command_seconds": 0.2,
    "delivery_timeout_seconds": 5.0,
}
RUN_TIMEOUT = 600.0  # longest wait for one execution (the machine may be loaded)
SLOW_COMMAND_SECONDS = 5.0  # a node whose commands run this long keeps runCommand steps busy


QUICK_CANCEL_STEPS = ("WaitUntilOnline", "PatchNodes")


def cancel_steps() -> dict[str, str]:
    """The patch-run steps a cancel can hit while they run, ``{name: action}``: every step of
    the generated document except ``aws:branch`` (it evaluates in no time, nothing to catch
    InProgress)."""
    document = yaml.safe_load(PATCH_RUN_DOCUMENT.read_text())
    steps = {s["name"]: s["action"] for s in document["mainSteps"] if s["action"] != "aws:branch"}
    if os.environ.get("FLEETPATCH_ALL_CANCELS") == "1":
        return steps
    # make test keeps its time budget with one step of each kind that a cancel meets while
    # instances the run started are up: a script waiting on them and the patch command.
    # FLEETPATCH_ALL_CANCELS=1 (make workflows) cancels at every step.
    return {name: action for name, action in steps.items() if name in QUICK_CANCEL_STEPS}


# --- the emulator ------------------------------------------------------------------------------
def control(emulator: Emulator, path: str, body: Json | None = None, timeout: float = 300) -> Json:
    """POST ``body`` (GET without one) to ``/fleetpatch/<path>``; the JSON answer.

    Raises:
        RuntimeError: the emulator answered an error status (with its message).
    """
    request = urllib.request.Request(
        f"{emulator.endpoint}/fleetpatch/{path}",
        data=None if body is None else json.dumps(body).encode(),
        method="GET" if body is None else "POST",
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            answer: Json = json.loads(response.read())
    except urllib.error.HTTPError as error:
        raise RuntimeError(f"{path}: {error.code} {error.read().decode()[:500]}") from error
    return answer


def denials(emulator: Emulator) -> list[Json]:
    """Every call the emulator refused so far (``GET /fleetpatch/iam/denials``)."""
    found: list[Json] = control(emulator, "iam/denials")["denials"]
    return found


@dataclass
class Topology:
    """What the apply created in the shared services account's primary Region (by listing)."""

    prefix: str
    tag_key: str
    patch_rules: dict[str, str]  # patch group -> rule name
    scan_rules: dict[str, str]
    sweep_rule: str
    automation_role: str  # role names
    patch_events_role: str
    scan_role: str
    function_role: str
    ssm_profile: str
    log_bucket: str
    opt_out_tag_key: str
    document_name: str
    document_steps: list[str]
    sync_name: str
    sync_bucket: str
    sync_prefix: str
    sync_kms_key: str

    def role_arn(self, name: str) -> str:
        """``arn:aws:iam::<shared services>:role/<name>``."""
        return f"arn:aws:iam::{ACCOUNT}:role/{name}"


def discover(emulator: Emulator) -> Topology:
    """Read the topology back from the emulator (rules, targets, roles, the function, the sync).

    The patch-run and scan rules are the schedule rules whose target is the PatchRun / PatchScan
    automation definition; their input names the Automation role, patch group and log bucket.
    """
    events = emulator.client("events", ACCOUNT, REGION)
    patch_rules: dict[str, str] = {}
    scan_rules: dict[str, str] = {}
    sweep = ""
    inputs: dict[str, Json] = {}
    roles: dict[str, str] = {}
    for page in events.get_paginator("list_rules").paginate():
        for rule in page["Rules"]:
            for target in events.list_targets_by_rule(Rule=rule["Name"])["Targets"]:
                arn = target["Arn"]
                if ":automation-definition/" in arn and rule.get("ScheduleExpression"):
                    parameters = json.loads(target.get("Input") or "{}")
                    document = arn.split("/")[-1].split(":")[0]
                    if not document.endswith(("-PatchRun", "-PatchScan")):
                        continue  # another runbook's schedule (e.g. a janitor)
                    kind = "patch" if document.endswith("-PatchRun") else "scan"
                    (patch_rules if kind == "patch" else scan_rules)[
                        parameters["PatchGroup"][0]
                    ] = rule["Name"]
                    inputs[kind] = parameters
                    roles[f"{kind}-events"] = target["RoleArn"].rsplit("/", 1)[1]
                    roles[kind] = parameters["AutomationAssumeRole"][0].rsplit("/", 1)[1]
                    if kind == "patch":
                        roles["document"] = arn.split("/")[-1].split(":")[0]
                elif ":function:" in arn and rule.get("ScheduleExpression"):
                    sweep = rule["Name"]
    function_name = f"{roles['patch'].split('-patch-run')[0]}-role-check"
    function = emulator.client("lambda", ACCOUNT, REGION).get_function_configuration(
        FunctionName=function_name
    )
    variables = function["Environment"]["Variables"]
    ssm = emulator.client("ssm", ACCOUNT, REGION)
    document = yaml.safe_load(ssm.get_document(Name=roles["document"])["Content"])
    [sync] = ssm.list_resource_data_sync()["ResourceDataSyncItems"]
    destination = sync["S3Destination"]
    return Topology(
        prefix=function_name.removesuffix("-role-check"),
        tag_key=inputs["patch"]["PatchGroupTagKey"][0],
        patch_rules=patch_rules,
        scan_rules=scan_rules,
        sweep_rule=sweep,
        automation_role=roles["patch"],
        patch_events_role=roles["patch-events"],
        scan_role=roles["scan"],
        function_role=function["Role"].rsplit("/", 1)[1],
        ssm_profile=variables["SSM_INSTANCE_PROFILE_NAME"],
        # The module renders the bucket into PatchNodes (no OutputS3BucketName parameter).
        log_bucket=next(s for s in document["mainSteps"] if s["name"] == "PatchNodes")["inputs"][
            "OutputS3BucketName"
        ],
        opt_out_tag_key=variables.get("OPT_OUT_TAG_KEY", ""),
        document_name=roles["document"],
        document_steps=[s["name"] for s in document["mainSteps"]],
        sync_name=sync["SyncName"],
        sync_bucket=destination["BucketName"],
        sync_prefix=destination.get("Prefix", ""),
        sync_kms_key=destination.get("AWSKMSKeyARN", ""),
    )


# --- taking permissions away -------------------------------------------------------------------
def _listed(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


class RolePermissions:
    """Take actions away from a role's inline policies for a while (IAM PutRolePolicy), and
    restore the documents exactly as Terraform wrote them.

    A removal is either total (the action goes from every statement) or for one patch group
    (statements conditioned on ``aws:ResourceTag/<tag_key>`` keep the action for the other
    groups only). Removals of several threads combine; the policy is re-rendered from the
    original under a lock each time.
    """

    def __init__(self, emulator: Emulator, role_name: str, tag_key: str = "PatchGroup") -> None:
        self.iam = emulator.client("iam", ACCOUNT, REGION)
        self.role_name = role_name
        self.tag_key = tag_key
        self.lock = threading.Lock()
        self.removed: list[tuple[str, str | None]] = []
        self.original: dict[str, Json] = {
            name: self.iam.get_role_policy(RoleName=role_name, PolicyName=name)["PolicyDocument"]
            for name in self.iam.list_role_policies(RoleName=role_name)["PolicyNames"]
        }

    def _render(self, document: Json) -> Json:
        rendered = copy.deepcopy(document)
        statements: list[Json] = []
        condition_key = f"aws:ResourceTag/{self.tag_key}".lower()
        for statement in _listed(rendered.get("Statement", [])):
            actions = [a for a in _listed(statement.get("Action", [])) if isinstance(a, str)]
            if statement.get("Effect") != "Allow" or not actions:
                statements.append(statement)
                continue
            kept: list[str] = []
            for action in actions:
                removals = [g for a, g in self.removed if a.lower() == action.lower()]
                if not removals:
                    kept.append(action)
                    continue
                if None in removals:
                    continue
                split = copy.deepcopy(statement)
                split["Action"] = [action]
                split["Sid"] = f"{statement.get('Sid', 'S')}{action.split(':')[1]}"
                equals = split.get("Condition", {}).get("StringEquals", {})
                key = next((k for k in equals if k.lower() == condition_key), None)
                if key is None:
                    raise ValueError(
                        f"{action} in {statement.get('Sid')} has no patch group condition"
                    )
                groups = [g for g in _listed(equals[key]) if g not in removals]
                if groups:
                    equals[key] = groups
                    statements.append(split)
            if kept == actions:
                statements.append(statement)  # untouched, exactly as written
            elif kept:
                statement["Action"] = kept
                statements.append(statement)
        rendered["Statement"] = statements
        return rendered

    def _apply(self) -> None:
        for name, document in self.original.items():
            self.iam.put_role_policy(
                RoleName=self.role_name,
                PolicyName=name,
                PolicyDocument=json.dumps(self._render(document) if self.removed else document),
            )

    @contextlib.contextmanager
    def without(self, action: str, group: str | None = None) -> Iterator[None]:
        """Within the block the role lacks ``action`` (for ``group``'s instances only when
        given); restored on exit, also on error."""
        with self.lock:
            self.removed.append((action, group))
            self._apply()
        try:
            yield
        finally:
            with self.lock:
                self.removed.remove((action, group))
                self._apply()

    def restored(self) -> bool:
        """True when every inline policy equals the document Terraform wrote."""
        return all(
            self.iam.get_role_policy(RoleName=self.role_name, PolicyName=name)["PolicyDocument"]
            == document
            for name, document in self.original.items()
        )


# --- instances ---------------------------------------------------------------------------------
@dataclass
class Fleet:
    """The instances of one scenario: launched ``running`` ones, and ``stopped`` ones (stopped
    before the run: the run must start, patch and stop them again)."""

    running: list[str]
    stopped: list[str]

    @property
    def ids(self) -> list[str]:
        """Every instance of the scenario."""
        return self.running + self.stopped


def launch(  # noqa: PLR0917 - name, group and counts read best positionally
    emulator: Emulator,
    topology: Topology,
    name: str,
    group: str | None,
    running: int = 1,
    stopped: int = 1,
    *,
    profile: str | None = None,
    tags: dict[str, str] | None = None,
) -> Fleet:
    """Run ``running + stopped`` instances (tagged ``Name`` and the patch group), stop the
    ``stopped`` ones and wait until the running ones are Online managed nodes (when their
    profile allows SSM)."""
    ec2 = emulator.client("ec2", ACCOUNT, REGION)
    all_tags = {"Name": f"wf-{name}", **(tags or {})}
    if group is not None:
        all_tags[topology.tag_key] = group
    instances = ec2.run_instances(
        ImageId=AMI,
        InstanceType="t3.micro",
        MinCount=running + stopped,
        MaxCount=running + stopped,
        IamInstanceProfile={"Name": profile or topology.ssm_profile},
        TagSpecifications=[
            {
                "ResourceType": "instance",
                "Tags": [{"Key": k, "Value": v} for k, v in all_tags.items()],
            }
        ],
    )["Instances"]
    ids = [i["InstanceId"] for i in instances]
    fleet = Fleet(running=ids[:running], stopped=ids[running:])
    if fleet.stopped:
        ec2.stop_instances(InstanceIds=fleet.stopped)
    return fleet


def wait_online(emulator: Emulator, ids: list[str], timeout: float = 180) -> None:
    """Wait until every id is an Online managed node (DescribeInstanceInformation).

    Raises:
        TimeoutError: some were not Online within ``timeout`` seconds.
    """
    if not ids:
        return
    ssm = emulator.client("ssm", ACCOUNT, REGION)
    deadline = time.monotonic() + timeout
    while True:
        online = {
            n["InstanceId"]
            for n in ssm.describe_instance_information(
                Filters=[{"Key": "InstanceIds", "Values": ids}]
            )["InstanceInformationList"]
            if n["PingStatus"] == "Online"
        }
        if online >= set(ids):
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"not Online after {timeout}s: {sorted(set(ids) - online)}")
        time.sleep(0.5)


def ec2_view(emulator: Emulator, ids: list[str]) -> dict[str, Json]:
    """``{id: {"state": EC2 state, "tags": {key: value}}}`` (DescribeInstances)."""
    if not ids:
        return {}
    ec2 = emulator.client("ec2", ACCOUNT, REGION)
    view: dict[str, Json] = {}
    for reservation in ec2.describe_instances(InstanceIds=ids)["Reservations"]:
        for instance in reservation["Instances"]:
            view[instance["InstanceId"]] = {
                "state": instance["State"]["Name"],
                "tags": {t["Key"]: t["Value"] for t in instance.get("Tags", [])},
            }
    return view


def settle(emulator: Emulator, ids: list[str], timeout: float = 60) -> dict[str, Json]:
    """:func:`ec2_view` once no instance is ``pending``/``stopping`` any more (or at timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        view = ec2_view(emulator, ids)
        moving = [i for i, v in view.items() if v["state"] in ("pending", "stopping")]
        if not moving or time.monotonic() > deadline:
            return view
        time.sleep(0.5)


def terminate(emulator: Emulator, ids: list[str]) -> None:
    """Terminate the scenario's instances so later runs of the patch group do not see them."""
    if ids:
        emulator.client("ec2", ACCOUNT, REGION).terminate_instances(InstanceIds=ids)


# --- one patch run -------------------------------------------------------------------------------
@dataclass
class Outcome:
    """What one scenario observed. ``error`` holds the traceback when the scenario itself broke."""

    name: str
    group: str = ""
    fleet: Fleet = field(default_factory=lambda: Fleet([], []))
    fire: list[Json] = field(default_factory=list)
    execution_id: str = ""
    execution: Json = field(default_factory=dict)
    steps: dict[str, str] = field(default_factory=dict)  # step name -> status
    failures: dict[str, str] = field(default_factory=dict)  # step name -> FailureMessage
    before: dict[str, Json] = field(default_factory=dict)
    after: dict[str, Json] = field(default_factory=dict)
    invocations: dict[str, list[Json]] = field(default_factory=dict)  # instance -> invocations
    patch_states: dict[str, Json] = field(default_factory=dict)
    cancel_target: str = ""
    cancel_sent_while: str = ""  # status of the target step when the cancel was sent
    cancel_seconds: float = 0.0  # from StopAutomationExecution to the execution's end
    extra: Json = field(default_factory=dict)
    seconds: float = 0.0
    error: str = ""

    @property
    def status(self) -> str:
        """The execution's final AutomationExecutionStatus ("" when none started)."""
        return str(self.execution.get("AutomationExecutionStatus", ""))


def fire(emulator: Emulator, rule: str) -> list[Json]:
    """Fire schedule rule ``rule`` now (its targets get the "Scheduled Event"); deliveries."""
    results: list[Json] = control(
        emulator, "events/fire", {"account_id": ACCOUNT, "region": REGION, "rule_name": rule}
    )["results"]
    return results


def wait_execution(emulator: Emulator, execution_id: str, timeout: float = RUN_TIMEOUT) -> Json:
    """The execution once it ended (``POST /fleetpatch/automation/wait``)."""
    execution: Json = control(
        emulator,
        "automation/wait",
        {"execution_id": execution_id, "timeout_seconds": timeout},
        timeout=timeout + 60,
    )["execution"]
    return execution


def cancel_when_running(
    emulator: Emulator, execution_id: str, step: str, outcome: Outcome
) -> float:
    """Poll DescribeAutomationStepExecutions until ``step`` is InProgress, then
    StopAutomationExecution Type=Cancel; returns the monotonic time of the cancel (0 if the
    execution ended first). Records the step's status when the cancel was sent."""
    ssm = emulator.client("ssm", ACCOUNT, REGION)
    deadline = time.monotonic() + RUN_TIMEOUT
    polls = 0
    while time.monotonic() < deadline:
        steps = ssm.describe_automation_step_executions(AutomationExecutionId=execution_id)[
            "StepExecutions"
        ]
        status = {s["StepName"]: s["StepStatus"] for s in steps}
        if status.get(step) == "InProgress":
            try:
                ssm.stop_automation_execution(AutomationExecutionId=execution_id, Type="Cancel")
            except ssm.exceptions.InvalidAutomationStatusUpdateException as error:
                outcome.cancel_sent_while = f"ended before the cancel arrived ({error})"
                return 0.0
            outcome.cancel_sent_while = "InProgress"
            return time.monotonic()
        polls += 1
        if polls % 10 == 0:
            execution = ssm.get_automation_execution(AutomationExecutionId=execution_id)
            if execution["AutomationExecution"]["AutomationExecutionStatus"] not in (
                "Pending",
                "InProgress",
                "Waiting",
            ):
                outcome.cancel_sent_while = f"never InProgress ({status.get(step, 'not run')})"
                return 0.0
        time.sleep(0.2)
    return 0.0


def collect(emulator: Emulator, outcome: Outcome, seen: set[str] | None = None) -> None:
    """Fill ``outcome`` from the ended execution and the scenario's instances (invocations of
    commands in ``seen`` belong to earlier scenarios and are left out)."""
    ssm = emulator.client("ssm", ACCOUNT, REGION)
    for step in outcome.execution.get("StepExecutions", []):
        outcome.steps[step["StepName"]] = step["StepStatus"]
        if step.get("FailureMessage"):
            outcome.failures[step["StepName"]] = step["FailureMessage"]
    outcome.after = settle(emulator, outcome.fleet.ids)
    for instance_id in outcome.fleet.ids:
        outcome.invocations[instance_id] = [
            {
                "document": i["DocumentName"],
                "status": i["Status"],
                "command_id": i["CommandId"],
                "comment": i.get("Comment", ""),
                "stderr": "".join(p.get("Output", "") for p in i.get("CommandPlugins", [])),
            }
            for i in ssm.list_command_invocations(InstanceId=instance_id, Details=True)[
                "CommandInvocations"
            ]
            if i["CommandId"] not in (seen or set())
        ]
    if outcome.fleet.ids:
        for state in ssm.describe_instance_patch_states(InstanceIds=outcome.fleet.ids)[
            "InstancePatchStates"
        ]:
            outcome.patch_states[state["InstanceId"]] = state


def clear_faults(emulator: Emulator, ids: list[str]) -> None:
    """Remove every agent fault of ``ids`` (a None value removes a fault)."""
    for instance_id in ids:
        control(
            emulator,
            "agent/faults",
            {
                "account_id": ACCOUNT,
                "region": REGION,
                "instance_id": instance_id,
                "never_online": None,
                "patch_exit_code": None,
                "command_seconds": None,
            },
        )


def repair(emulator: Emulator, fleet: Fleet) -> None:
    """Put the lane's fleet back as launched, as an operator would after a broken run: the
    stopped instances stopped, no ``fleetpatch:`` tags, no faults."""
    ec2 = emulator.client("ec2", ACCOUNT, REGION)
    clear_faults(emulator, fleet.ids)
    view = settle(emulator, fleet.ids)
    wrong = [i for i in fleet.stopped if view[i]["state"] != "stopped"]
    if wrong:
        ec2.stop_instances(InstanceIds=wrong)
    for instance_id, item in view.items():
        tags = [{"Key": k} for k in item["tags"] if k.startswith("fleetpatch:")]
        if tags:
            ec2.delete_tags(Resources=[instance_id], Tags=tags)
    settle(emulator, fleet.ids)


def patch_run(
    emulator: Emulator,
    topology: Topology,
    name: str,
    group: str,
    fleet: Fleet,
    *,
    faults: dict[str, Json] | None = None,
    cancel_at: str = "",
    during: Callable[[], contextlib.AbstractContextManager[Any]] | None = None,
) -> Outcome:
    """One scenario on the lane's ``fleet`` of ``group``: set agent ``faults`` (``"running"`` /
    ``"stopped"`` -> the fault dict for those instances), fire the group's patch-run rule
    (inside ``during()``, e.g. a permission taken away), optionally cancel at ``cancel_at``,
    wait for the end, observe, then :func:`repair` the fleet for the next scenario."""
    outcome = Outcome(name=name, group=group, fleet=fleet)
    started = time.monotonic()
    ssm = emulator.client("ssm", ACCOUNT, REGION)
    try:
        for kind, fault in (faults or {}).items():
            for instance_id in getattr(fleet, kind):
                control(
                    emulator,
                    "agent/faults",
                    {"account_id": ACCOUNT, "region": REGION, "instance_id": instance_id, **fault},
                )
        seen = {
            i["CommandId"]
            for instance_id in fleet.ids
            for i in ssm.list_command_invocations(InstanceId=instance_id)["CommandInvocations"]
        }
        outcome.before = ec2_view(emulator, fleet.ids)
        with during() if during else contextlib.nullcontext():
            outcome.fire = fire(emulator, topology.patch_rules[group])
            outcome.execution_id = str(outcome.fire[0].get("execution_id") or "")
            if outcome.execution_id:
                cancelled_at = (
                    cancel_when_running(emulator, outcome.execution_id, cancel_at, outcome)
                    if cancel_at
                    else 0.0
                )
                outcome.execution = wait_execution(emulator, outcome.execution_id)
                if cancelled_at:
                    outcome.cancel_seconds = time.monotonic() - cancelled_at
                outcome.cancel_target = cancel_at
        collect(emulator, outcome, seen)
    except Exception:  # noqa: BLE001 - the scenario's test reports it
        outcome.error = traceback.format_exc()
    finally:
        try:
            repair(emulator, fleet)
        except Exception:  # noqa: BLE001
            outcome.error += "\nrepair failed:\n" + traceback.format_exc()
        outcome.seconds = time.monotonic() - started
    return outcome


# --- the scenarios -------------------------------------------------------------------------------
@dataclass
class Context:
    """Shared by the scenarios of one :func:`run_all`."""

    emulator: Emulator
    topology: Topology
    automation: RolePermissions
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, outcome: Outcome) -> None:
        """Keep ``outcome`` under its name."""
        with self.lock:
            self.outcomes[outcome.name] = outcome


def _guarded(name: str, body: Callable[[Outcome], None]) -> Outcome:
    outcome = Outcome(name=name)
    started = time.monotonic()
    try:
        body(outcome)
    except Exception:  # noqa: BLE001 - the scenario's test reports it
        outcome.error = traceback.format_exc()
    outcome.seconds = time.monotonic() - started
    return outcome


def events_role_denied(ctx: Context) -> Outcome:
    """The patch-run EventBridge role without ssm:StartAutomationExecution: the fired rule's
    delivery fails, no execution starts."""

    def body(outcome: Outcome) -> None:
        emulator, topology = ctx.emulator, ctx.topology
        ssm = emulator.client("ssm", ACCOUNT, REGION)
        permissions = RolePermissions(emulator, topology.patch_events_role)

        def executions() -> int:
            return len(
                ssm.describe_automation_executions(
                    Filters=[{"Key": "DocumentNamePrefix", "Values": [topology.document_name]}]
                )["AutomationExecutionMetadataList"]
            )

        before = executions()
        with permissions.without("ssm:StartAutomationExecution"):
            outcome.fire = fire(emulator, topology.patch_rules["linux"])
        outcome.extra = {
            "executions_started": executions() - before,
            "restored": permissions.restored(),
        }

    return _guarded("events-role-denied", body)


def scan_role_denied(ctx: Context) -> Outcome:
    """The scan's Automation role without ssm:SendCommand: ScanNodes fails with AccessDenied."""

    def body(outcome: Outcome) -> None:
        emulator, topology = ctx.emulator, ctx.topology
        permissions = RolePermissions(emulator, topology.scan_role)
        with permissions.without("ssm:SendCommand"):
            outcome.fire = fire(emulator, topology.scan_rules["windows"])
            outcome.execution_id = str(outcome.fire[0].get("execution_id") or "")
            outcome.execution = wait_execution(emulator, outcome.execution_id)
        collect(emulator, outcome)
        outcome.extra = {"restored": permissions.restored()}

    return _guarded("scan-role-denied", body)


def _sync_status(emulator: Emulator, name: str) -> Json:
    ssm = emulator.client("ssm", ACCOUNT, REGION)
    items = ssm.list_resource_data_sync()["ResourceDataSyncItems"]
    item: Json = next(i for i in items if i["SyncName"] == name)
    return {k: item.get(k) for k in ("LastStatus", "LastSyncStatusMessage")}


def data_sync_denied(ctx: Context) -> Outcome:
    """The central bucket policy without its statements for ssm.amazonaws.com: the sync of the
    member account reports Failed; with the policy restored it succeeds again."""

    def body(outcome: Outcome) -> None:
        emulator, topology = ctx.emulator, ctx.topology
        s3 = emulator.client("s3", SECURITY, HOME)
        original = s3.get_bucket_policy(Bucket=topology.sync_bucket)["Policy"]
        policy = json.loads(original)
        kept = [
            s
            for s in _listed(policy["Statement"])
            if "ssm.amazonaws.com" not in json.dumps(s.get("Principal", ""))
        ]
        outcome.extra["removed_statements"] = len(_listed(policy["Statement"])) - len(kept)
        s3.put_bucket_policy(
            Bucket=topology.sync_bucket, Policy=json.dumps({**policy, "Statement": kept})
        )
        where = {"account_id": ACCOUNT, "region": REGION}
        try:
            outcome.extra["denied_run"] = control(emulator, "datasync/run", where)
            outcome.extra["denied_status"] = _sync_status(emulator, topology.sync_name)
        finally:
            s3.put_bucket_policy(Bucket=topology.sync_bucket, Policy=original)
        outcome.extra["restored_run"] = control(emulator, "datasync/run", where)
        outcome.extra["restored_status"] = _sync_status(emulator, topology.sync_name)

    return _guarded("data-sync-denied", body)


def _role_with_core_only(emulator: Emulator, name: str) -> str:
    """An EC2 role + instance profile with only AmazonSSMManagedInstanceCore; the profile name."""
    iam = emulator.client("iam", ACCOUNT, REGION)
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ec2.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    with contextlib.suppress(iam.exceptions.EntityAlreadyExistsException):
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
        iam.attach_role_policy(
            RoleName=name, PolicyArn="arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
        )
        iam.create_instance_profile(InstanceProfileName=name)
        iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=name)
    return name


def _role_without_ssm(emulator: Emulator, name: str) -> str:
    iam = emulator.client("iam", ACCOUNT, REGION)
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ec2.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    with contextlib.suppress(iam.exceptions.EntityAlreadyExistsException):
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))
        iam.create_instance_profile(InstanceProfileName=name)
        iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=name)
    return name


def role_check_denied(ctx: Context) -> Outcome:
    """The role-check function's role without iam:AttachRolePolicy: the state-change invocation
    for an instance whose role lacks SSM is refused AttachRolePolicy (the role stays without
    the node core policy, ``<name_prefix>-ssm-node-core``); restored, the fired sweep attaches
    it."""

    def body(outcome: Outcome) -> None:
        emulator, topology = ctx.emulator, ctx.topology
        iam = emulator.client("iam", ACCOUNT, REGION)
        role = _role_without_ssm(emulator, "wf-app-no-ssm")
        permissions = RolePermissions(emulator, topology.function_role)

        def attached() -> list[str]:
            return [
                p["PolicyArn"]
                for p in iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]
            ]

        wanted = {
            "actor": topology.role_arn(topology.function_role),
            "action": "iam:AttachRolePolicy",
        }
        with permissions.without("iam:AttachRolePolicy"):
            outcome.fleet = launch(emulator, topology, "role-check", None, 1, 0, profile=role)
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                found = [
                    d
                    for d in denials(emulator)
                    if all(d.get(k) == v for k, v in wanted.items())
                    and role in d.get("resource", "")
                ]
                if found:
                    outcome.extra["denials"] = found
                    break
                time.sleep(1)
            outcome.extra["attached_while_denied"] = attached()
        outcome.extra["restored"] = permissions.restored()
        outcome.fire = fire(emulator, topology.sweep_rule)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not any(
            a.endswith("-ssm-node-core") for a in attached()
        ):
            time.sleep(1)
        outcome.extra["attached_after_sweep"] = attached()
        terminate(emulator, outcome.fleet.ids)

    return _guarded("role-check-denied", body)


def scan_and_sync(ctx: Context, group: str, fleet: Fleet) -> Outcome:
    """The group's scan fired on two running nodes: the lane's (fleetpatch's SSM profile) and
    one whose role has only AmazonSSMManagedInstanceCore (no s3:PutObject to the log bucket;
    opted out of the role check, which would attach the log policy). Both report
    NON_COMPLIANT; only the first one's output reaches the log bucket. Then Resource Data Sync
    writes both into the central bucket."""

    def body(outcome: Outcome) -> None:
        emulator, topology = ctx.emulator, ctx.topology
        outcome.group = group
        # A fresh node (the lane's own was patched by the lane's runs) and the core-only one.
        good = launch(emulator, topology, "scan-good", group, 1, 0)
        profile = _role_with_core_only(emulator, "wf-core-only")
        opt_out = {topology.opt_out_tag_key: "workflow-test"} if topology.opt_out_tag_key else None
        bad = launch(
            emulator, topology, "scan-core-only", group, 1, 0, profile=profile, tags=opt_out
        )
        outcome.fleet = Fleet(running=[good.running[0], bad.running[0]], stopped=[])
        good_id, bad_id = outcome.fleet.running
        outcome.extra.update(good=good_id, bad=bad_id, bad_role=profile)
        try:
            # The lane's own node is scanned too: it may still be rebooting after the last run.
            wait_online(emulator, outcome.fleet.running + fleet.running)
            outcome.fire = fire(emulator, topology.scan_rules[group])
            outcome.execution_id = str(outcome.fire[0].get("execution_id") or "")
            outcome.execution = wait_execution(emulator, outcome.execution_id)
            collect(emulator, outcome)
            _scan_results(ctx, outcome, group)
        finally:
            terminate(emulator, outcome.fleet.running)

    return _guarded("scan-and-sync", body)


def _scan_results(ctx: Context, outcome: Outcome, group: str) -> None:
    emulator, topology = ctx.emulator, ctx.topology
    ssm = emulator.client("ssm", ACCOUNT, REGION)
    outcome.extra["compliance"] = {
        node: ssm.list_compliance_items(
            ResourceIds=[node],
            ResourceTypes=["ManagedInstance"],
            Filters=[{"Key": "ComplianceType", "Values": ["Patch"]}],
        )["ComplianceItems"]
        for node in outcome.fleet.running
    }
    s3 = emulator.client("s3", ACCOUNT, REGION)
    outcome.extra["log_keys"] = [
        o["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(
            Bucket=topology.log_bucket, Prefix=f"patch-scan/{group}/{outcome.execution_id}/"
        )
        for o in page.get("Contents", [])
    ]
    outcome.extra["stderr"] = {}
    for node in outcome.fleet.running:
        for invocation in outcome.invocations[node]:
            if invocation["document"] == "AWS-RunPatchBaseline":
                answer = ssm.get_command_invocation(
                    CommandId=invocation["command_id"], InstanceId=node
                )
                outcome.extra["stderr"][node] = answer.get("StandardErrorContent", "")
    outcome.extra["sync_run"] = control(
        emulator, "datasync/run", {"account_id": ACCOUNT, "region": REGION}
    )
    central = emulator.client("s3", SECURITY, HOME)
    prefix = f"{topology.sync_prefix}/" if topology.sync_prefix else ""
    listed = {
        o["Key"]
        for page in central.get_paginator("list_objects_v2").paginate(
            Bucket=topology.sync_bucket, Prefix=prefix
        )
        for o in page.get("Contents", [])
    }
    objects: dict[str, Json] = {}
    for key in sorted(listed):
        if not any(key.endswith(f"/{node}.json") for node in outcome.fleet.running):
            continue
        try:
            obj = central.get_object(Bucket=topology.sync_bucket, Key=key)
        except central.exceptions.ClientError as error:
            objects[key] = {"error": str(error)}
            continue
        text = obj["Body"].read().decode()
        objects[key] = {
            "records": [json.loads(line) for line in text.splitlines() if line.strip()],
            "sse": obj.get("ServerSideEncryption"),
            "kms_key": obj.get("SSEKMSKeyId"),
        }
    outcome.extra["central_objects"] = objects
    outcome.extra["sync_kms_key"] = topology.sync_kms_key


def remove_written_objects(emulator: Emulator, topology: Topology) -> None:
    """Delete what the workflows wrote into Terraform's buckets (command output in the log
    buckets, the synced data in the central bucket), every version and delete marker (the
    buckets are versioned), so the fixture's destroy can delete them (environments/local does
    not set force_destroy)."""
    for account, region in ((ACCOUNT, REGION), (SECURITY, HOME)):
        s3 = emulator.client("s3", account, region)
        for bucket in [b["Name"] for b in s3.list_buckets().get("Buckets", [])]:
            for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
                keys = [
                    {"Key": v["Key"], "VersionId": v["VersionId"]}
                    for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
                ]
                if keys:
                    s3.delete_objects(Bucket=bucket, Delete={"Objects": keys, "Quiet": True})


# Which lane runs which scenario: the three lanes cost about the same.
CANCEL_LANES = {
    "ValidateInputs": "linux",
    "Summarize": "linux",
    "FindAndTagStoppedInstances": "windows",
    "UpdateSsmAgent": "windows",
    "PatchNodes": "windows",
    "StartStoppedInstances": "appa",
    "WaitUntilOnline": "appa",
    "SelectNodesToPatch": "appa",
    "StopStartedInstances": "appa",
}


def _lanes(ctx: Context, steps: dict[str, str]) -> dict[str, list[Callable[[Fleet], Outcome]]]:
    """The scenarios per patch group (each lane runs in order on its own fleet, lanes in
    parallel)."""
    emulator, topology, automation = ctx.emulator, ctx.topology, ctx.automation

    def run(name: str, group: str, **kwargs: Any) -> Callable[[Fleet], Outcome]:
        return lambda fleet: patch_run(emulator, topology, name, group, fleet, **kwargs)

    def without(action: str, group: str) -> Callable[[], contextlib.AbstractContextManager[Any]]:
        return lambda: automation.without(action, group)

    lanes: dict[str, list[Callable[[Fleet], Outcome]]] = {
        "linux": [
            run("happy", "linux"),
            run("find-and-tag-denied", "linux", during=without("ec2:CreateTags", "linux")),
            run("patch-nodes-fail", "linux", faults={"running": {"patch_exit_code": 3}}),
        ],
        "windows": [
            run("never-online", "windows", faults={"stopped": {"never_online": True}}),
            run("stop-denied", "windows", during=without("ec2:StopInstances", "windows")),
        ],
        "appa": [
            run("start-denied", "appa", during=without("ec2:StartInstances", "appa")),
        ],
    }
    for index, (step, action) in enumerate(steps.items()):
        group = CANCEL_LANES.get(step, GROUPS[index % len(GROUPS)])
        # runCommand steps are caught InProgress on a node whose commands take a while.
        slow = {"stopped": {"command_seconds": SLOW_COMMAND_SECONDS}}
        faults = slow if action == "aws:runCommand" else None
        lanes[group].append(run(f"cancel-{step}", group, faults=faults, cancel_at=step))
    lanes["linux"].append(lambda fleet: scan_and_sync(ctx, "linux", fleet))
    return lanes


def run_all(emulator: Emulator, log: Callable[[str], None] = print) -> dict[str, Outcome]:
    """Every scenario: first the ones changing permissions every patch group shares
    (EventBridge role, scan role, central bucket policy) in parallel, then the three patch
    groups' lanes in parallel with the role check. Returns the outcomes by name, plus
    ``_meta`` (seconds, whether the Automation role was restored, the denials)."""
    control(emulator, "agent/config", AGENT_CONFIG)
    topology = discover(emulator)
    automation = RolePermissions(emulator, topology.automation_role, topology.tag_key)
    ctx = Context(emulator, topology, automation)
    started = time.monotonic()
    fleets = {g: launch(emulator, topology, f"lane-{g}", g, 1, 1) for g in GROUPS}
    with ThreadPoolExecutor(max_workers=3) as pool:
        for outcome in pool.map(
            lambda job: job(ctx), (events_role_denied, scan_role_denied, data_sync_denied)
        ):
            ctx.record(outcome)
    log(f"workflows: shared-permission scenarios {time.monotonic() - started:.0f}s")
    steps = {s: a for s, a in cancel_steps().items() if s in topology.document_steps}
    lanes = _lanes(ctx, steps)

    def lane(group: str, jobs: list[Callable[[Fleet], Outcome]]) -> None:
        with contextlib.suppress(TimeoutError):  # the scenarios report what they see
            wait_online(emulator, fleets[group].running)
        for job in jobs:
            outcome = job(fleets[group])
            log(f"workflows: {outcome.name} ({group}) {outcome.status} {outcome.seconds:.0f}s")
            ctx.record(outcome)

    with ThreadPoolExecutor(max_workers=4) as pool:
        futures = [pool.submit(lane, group, jobs) for group, jobs in lanes.items()]
        futures.append(pool.submit(lambda: ctx.record(role_check_denied(ctx))))
        for future in futures:
            future.result()
    for fleet in fleets.values():
        with contextlib.suppress(Exception):
            terminate(emulator, fleet.ids)
    remove_written_objects(emulator, topology)
    ctx.outcomes["_meta"] = Outcome(
        name="_meta",
        seconds=time.monotonic() - started,
        extra={
            "automation_restored": automation.restored(),
            "steps": list(steps),
            "denials": denials(emulator),
        },
    )
    log(f"workflows: all scenarios {time.monotonic() - started:.0f}s")
    return ctx.outcomes
