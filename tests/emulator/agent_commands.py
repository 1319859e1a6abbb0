"""Run Command on the emulated agent: SendCommand, ListCommands, ListCommandInvocations,
GetCommandInvocation and CancelCommand (moto's own versions are replaced).

A command resolves its targets to managed nodes (:func:`tests.emulator.agent.nodes`), then a
dispatcher thread sends it to ``MaxConcurrency`` nodes at a time and stops sending when more
than ``MaxErrors`` invocations failed. Each invocation waits for delivery (the node Online and
allowed to read its messages) until the delivery timeout, then runs the document's plugin
(:func:`tests.emulator.agent.register_document`) on a bounded thread pool, honouring the node's
faults, and uploads the output to S3 with the node role's own credentials (IAM-evaluated,
bucket policy and KMS key policy included).

AWS pages (cited again next to each rule):

* SendCommand: https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_SendCommand.html
* statuses: https://docs.aws.amazon.com/systems-manager/latest/userguide/monitor-commands.html
* rate control: https://docs.aws.amazon.com/systems-manager/latest/userguide/send-commands-multiple.html
* output layout: https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_CommandPlugin.html
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import json
import math
import shlex
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from moto.core.responses import ActionResult, EmptyResult
from moto.ssm.models import ssm_backends
from moto.ssm.responses import SimpleSystemManagerResponse

from . import agent, iam
from .common import EmulatedError, Json, page, parse_request, snake

OPERATIONS = (
    "SendCommand",
    "ListCommands",
    "ListCommandInvocations",
    "GetCommandInvocation",
    "CancelCommand",
)
# SendCommand defaults (API reference): MaxConcurrency 50, MaxErrors 0, TimeoutSeconds 3600.
DEFAULT_MAX_CONCURRENCY = "50"
DEFAULT_MAX_ERRORS = "0"
DEFAULT_TIMEOUT_SECONDS = 3600
DEFAULT_EXECUTION_TIMEOUT = 3600
# The API keeps the first 24,000 / 8,000 characters of a plugin's stdout / stderr and 2,500 in
# CommandPlugin.Output (GetCommandInvocation / CommandPlugin shapes).
STDOUT_LIMIT, STDERR_LIMIT, OUTPUT_LIMIT = 24000, 8000, 2500
POLL_SECONDS = 0.05

# Parameter defaults of the AWS-owned documents the fleet runs (their published content).
AWS_DOCUMENT_DEFAULTS: dict[str, dict[str, list[str]]] = {
    "AWS-RunShellScript": {"workingDirectory": [""], "executionTimeout": ["3600"]},
    "AWS-RunPowerShellScript": {"workingDirectory": [""], "executionTimeout": ["3600"]},
    "AWS-RunPatchBaseline": {
        "Operation": ["Scan"],
        "SnapshotId": [""],
        "InstallOverrideList": [""],
        "BaselineOverride": [""],
        "RebootOption": ["RebootIfNeeded"],
    },
    "AWS-UpdateSSMAgent": {"version": [""], "allowDowngrade": ["false"]},
}
# Schema 1.2 documents report their plugin ("aws:...") as the CommandPlugin name.
AWS_DOCUMENT_PLUGINS = {
    "AWS-RunShellScript": "aws:runShellScript",
    "AWS-RunPowerShellScript": "aws:runPowerShellScript",
    "AWS-UpdateSSMAgent": "aws:updateSsmAgent",
}

_POOL = concurrent.futures.ThreadPoolExecutor(max_workers=64, thread_name_prefix="agent-plugin")
_LOCK = threading.RLock()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _iso(stamp: dt.datetime) -> str:
    return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{stamp.microsecond // 1000:03d}Z"


# --- state --------------------------------------------------------------------------------------
@dataclass
class Invocation:
    """One command on one node (a ``CommandInvocation`` with its one ``CommandPlugin``)."""

    node_id: str
    instance_name: str
    platform: str
    plugin_name: str
    action: str = ""
    status: str = "Pending"
    details: str = "Pending"
    plugin_status: str = "Pending"
    response_code: int = -1
    stdout: str = ""
    stderr: str = ""
    started: dt.datetime | None = None
    finished: dt.datetime | None = None
    cancelled: threading.Event = field(default_factory=threading.Event)

    @property
    def terminal(self) -> bool:
        """Whether the invocation reached a terminal state."""
        return self.status in ("Success", "Failed", "TimedOut", "Cancelled")


@dataclass
class Command:
    """One SendCommand request and its invocations."""

    command_id: str
    account_id: str
    region: str
    request: Json
    document_name: str
    parameters: dict[str, list[str]]
    requested: dt.datetime
    requested_time: float
    timeout_seconds: int
    execution_timeout: float
    max_concurrency: str
    max_errors: str
    bucket: str
    prefix: str
    bucket_region: str
    invocations: dict[str, Invocation] = field(default_factory=dict)
    status: str = "Pending"
    details: str = "Pending"
    cancel_requested: bool = False
    done: threading.Event = field(default_factory=threading.Event)

    @property
    def allowed_errors(self) -> int:
        """MaxErrors as a count of this command's targets."""
        return _threshold(self.max_errors, len(self.invocations), minimum=0)

    @property
    def expires_after(self) -> dt.datetime:
        """When undelivered invocations end DeliveryTimedOut: TimeoutSeconds + executionTimeout
        after the request (https://docs.aws.amazon.com/systems-manager/latest/userguide/monitor-commands.html)."""
        return self.requested + dt.timedelta(seconds=self.timeout_seconds + self.execution_timeout)


def _commands(account_id: str, region: str) -> dict[str, Command]:
    commands: dict[str, Command] = agent.state_of(account_id, region).commands
    return commands


def _threshold(value: str, total: int, *, minimum: int) -> int:
    """An absolute count, or a percentage of ``total`` rounded down (never above AWS)."""
    if value.endswith("%"):
        return max(minimum, math.floor(int(value[:-1]) * total / 100))
    return max(minimum, int(value))


# --- documents and parameters -------------------------------------------------------------------
def _document(account_id: str, region: str, name: str) -> Any:
    backend = ssm_backends[account_id][region]
    document_name = name.rsplit("/", 1)[-1] if name.startswith("arn:") else name
    documents = backend._documents.get(document_name)
    return documents.get_default_version() if documents is not None else None


def _parameters(account_id: str, region: str, name: str, given: Json) -> dict[str, list[str]]:
    """The command's parameters with the document's defaults filled in.

    Raises:
        EmulatedError: ``InvalidDocument`` (no such document, or not a Command document),
            ``InvalidParameters`` (a parameter the document does not declare, or a required
            one missing).
    """
    params = {key: list(values) for key, values in (given or {}).items()}
    if name.startswith(("AWS-", "AWSEC2-", "AWSSupport-", "Amazon")):
        # AWS-owned documents exist implicitly (moto ships none of them).
        return {**AWS_DOCUMENT_DEFAULTS.get(name, {}), **params}
    document = _document(account_id, region, name)
    if document is None:
        raise EmulatedError("InvalidDocument", f"Document {name} does not exist.")
    if document.document_type != "Command":
        raise EmulatedError(
            "InvalidDocument", f"Document {name} is a {document.document_type} document."
        )
    declared: Json = (getattr(document, "content_json", None) or {}).get("parameters") or {}
    unknown = sorted(set(params) - set(declared))
    if unknown:
        raise EmulatedError(
            "InvalidParameters", f"Parameters {unknown} are not valid for document {name}."
        )
    for key, spec in declared.items():
        if key in params:
            continue
        if isinstance(spec, dict) and "default" in spec:
            default = spec["default"]
            params[key] = [str(v) for v in default] if isinstance(default, list) else [str(default)]
        else:
            raise EmulatedError(
                "InvalidParameters", f"Parameter {key} of document {name} is required."
            )
    return params


def _plugin_name(account_id: str, region: str, name: str, platform: str) -> str:
    """The CommandPlugin name a document reports before its plugin ran."""
    if name == "AWS-RunPatchBaseline":
        return "PatchWindows" if platform == "Windows" else "PatchLinux"
    if name in AWS_DOCUMENT_PLUGINS:
        return AWS_DOCUMENT_PLUGINS[name]
    document = _document(account_id, region, name)
    content: Json = (getattr(document, "content_json", None) or {}) if document else {}
    steps = content.get("mainSteps") or []
    if steps and isinstance(steps[0], dict) and steps[0].get("name"):
        return str(steps[0]["name"])
    runtime = content.get("runtimeConfig") or {}
    return str(next(iter(runtime), "aws:runShellScript"))


# --- target resolution --------------------------------------------------------------------------
def _group_members(account_id: str, region: str, group: str, types: list[str]) -> set[str]:
    """Node ids in resource group ``group`` (a TAG_FILTERS_1_0 query over EC2 instances and
    managed instances), restricted to ``types`` when given."""
    from moto.resourcegroups.models import resourcegroups_backends  # noqa: PLC0415

    groups = resourcegroups_backends[account_id][region].groups
    if group not in groups:
        return set()
    query = groups[group].resource_query or {}
    if query.get("Type") != "TAG_FILTERS_1_0":
        return set()
    body = json.loads(query.get("Query") or "{}")
    wanted = set(types or body.get("ResourceTypeFilters") or ["AWS::AllSupported"])
    members = set()
    for item in agent.nodes(account_id, region):
        kind = (
            "AWS::EC2::Instance"
            if item["ResourceType"] == "EC2Instance"
            else "AWS::SSM::ManagedInstance"
        )
        if not ({"AWS::AllSupported", kind} & wanted):
            continue
        tags = item["Tags"]
        if all(
            flt.get("Key") in tags and (not flt.get("Values") or tags[flt["Key"]] in flt["Values"])
            for flt in body.get("TagFilters") or []
        ):
            members.add(item["InstanceId"])
    return members


def _resolve_targets(account_id: str, region: str, targets: list[Json]) -> list[Json]:
    """The managed nodes ``Targets`` select: every target must match (values of one key: any).

    https://docs.aws.amazon.com/systems-manager/latest/userguide/send-commands-multiple.html

    Raises:
        EmulatedError: ``ValidationException`` for a target key SendCommand does not take.
    """
    items = agent.nodes(account_id, region)
    types: list[str] = []
    for target in targets:
        if target.get("Key") == "resource-groups:ResourceTypeFilters":
            types = list(target.get("Values") or [])
    selected = items
    for target in targets:
        key, values = str(target.get("Key", "")), list(target.get("Values") or [])
        if key.startswith("tag:"):
            selected = [n for n in selected if n["Tags"].get(key[4:]) in values]
        elif key == "tag-key":
            selected = [n for n in selected if any(v in n["Tags"] for v in values)]
        elif key == "InstanceIds":
            if values != ["*"]:
                selected = [n for n in selected if n["InstanceId"] in values]
        elif key == "resource-groups:Name":
            members: set[str] = set()
            for value in values:
                members |= _group_members(account_id, region, value, types)
            selected = [n for n in selected if n["InstanceId"] in members]
        elif key == "resource-groups:ResourceTypeFilters":
            continue
        else:
            raise EmulatedError("ValidationException", f"Target key {key} is not supported.")
    return selected


def _resolve_instance_ids(account_id: str, region: str, instance_ids: list[str]) -> list[Json]:
    """Nodes named by ``InstanceIds``: each must be a managed node of a running instance.

    Raises:
        EmulatedError: ``DuplicateInstanceId``; ``InvalidInstanceId`` ("not in a valid state")
            for ids that are not managed nodes or whose instance is not running.
    """
    if len(set(instance_ids)) != len(instance_ids):
        raise EmulatedError(
            "DuplicateInstanceId", "You cannot specify an instance ID in more than one association."
        )
    items = {n["InstanceId"]: n for n in agent.nodes(account_id, region)}
    invalid = [
        node_id
        for node_id in instance_ids
        if node_id not in items
        or agent.ec2_state(account_id, region, node_id) not in (None, "running")
    ]
    if invalid:
        raise EmulatedError(
            "InvalidInstanceId",
            f"Instances {[invalid]} not in a valid state for account {account_id}",
        )
    return [items[node_id] for node_id in instance_ids]


# --- output upload ------------------------------------------------------------------------------
def _bucket(name: str) -> tuple[Any, str, str]:
    """(moto bucket, owner account, partition) of bucket ``name``.

    Raises:
        EmulatedError: ``NoSuchBucket``.
    """
    from moto.s3.models import s3_backends  # noqa: PLC0415

    owner = s3_backends.bucket_accounts.get(name)
    if owner is None:
        raise EmulatedError("NoSuchBucket", f"The specified bucket does not exist: {name}")
    partition, account_id = owner
    return s3_backends[account_id][partition].buckets[name], account_id, partition


def _bucket_region(name: str, default: str) -> str:
    try:
        bucket, _, _ = _bucket(name)
    except EmulatedError:
        return default
    return str(bucket.region_name)


def _plugin_dir(invocation: Invocation) -> str:
    """The folder the agent writes a plugin's stdout/stderr to: ``awsrunShellScript/PatchLinux``
    (schema 2.2 step) or ``awsrunShellScript/0.awsrunShellScript`` (schema 1.2 plugin)."""
    if invocation.plugin_name.startswith("aws:"):
        flat = invocation.plugin_name.replace(":", "")
        return f"{flat}/0.{flat}"
    action = invocation.action or (
        "aws:runPowerShellScript" if invocation.platform == "Windows" else "aws:runShellScript"
    )
    return f"{action.replace(':', '')}/{invocation.plugin_name}"


def _output_prefix(command: Command, invocation: Invocation) -> str:
    parts = [command.prefix.strip("/")] if command.prefix.strip("/") else []
    parts += [command.command_id, invocation.node_id, _plugin_dir(invocation)]
    return "/".join(parts)


def _url(command: Command, key: str) -> str:
    return f"https://s3.{command.bucket_region}.amazonaws.com/{command.bucket}/{key}"


def _kms_check(principal: iam.Principal, bucket: Any, owner: str, account_id: str) -> None:
    """The node role must be allowed kms:GenerateDataKey on the bucket's customer key."""
    from moto.kms.models import kms_backends  # noqa: PLC0415

    rule = (bucket.encryption or {}).get("Rule", {})
    default = rule.get("ApplyServerSideEncryptionByDefault", {})
    key_id = default.get("KMSMasterKeyID")
    if default.get("SSEAlgorithm") not in ("aws:kms", "aws:kms:dsse") or not key_id:
        return  # SSE-S3, or the AWS managed key aws/s3 (usable by the account's principals)
    if str(key_id).endswith("alias/aws/s3"):
        return
    key_region, key_account = bucket.region_name, owner
    if str(key_id).startswith("arn:"):
        parts = str(key_id).split(":")
        key_region, key_account = parts[3], parts[4]
    try:
        key = kms_backends[key_account][key_region].describe_key(str(key_id))
    except KeyError as error:
        raise EmulatedError("KMS.NotFoundException", f"Key {key_id} does not exist.") from error
    iam.authorize(
        principal,
        "kms:GenerateDataKey",
        key.arn,
        {
            "kms:ViaService": f"s3.{bucket.region_name}.amazonaws.com",
            "kms:CallerAccount": account_id,
            "aws:SecureTransport": "true",
        },
        resource_policy=json.loads(key.policy) if key.policy else None,
        resource_account=key_account,
    )


def _upload(command: Command, invocation: Invocation, principal: iam.Principal | None) -> str:
    """Write the invocation's stdout/stderr to ``<prefix>/<command-id>/<node-id>/<plugin dir>/``
    as the node role would (PutObject, bucket policy, default encryption key).

    Returns:
        An error text to append to stderr when the upload was refused ("" on success).
    """
    if not command.bucket:
        return ""
    prefix = _output_prefix(command, invocation)
    streams = [("stdout", invocation.stdout), ("stderr", invocation.stderr)]
    try:
        bucket, owner, partition = _bucket(command.bucket)
        from moto.s3.models import s3_backends  # noqa: PLC0415

        for stream, text in streams:
            if not text:
                continue
            key = f"{prefix}/{stream}"
            if principal is None:
                raise EmulatedError("AccessDenied", "The node has no credentials.")
            policy = json.loads(bucket.policy) if bucket.policy else None
            iam.authorize(
                principal,
                "s3:PutObject",
                f"arn:aws:s3:::{command.bucket}/{key}",
                {"aws:SecureTransport": "true"},
                resource_policy=policy,
                resource_account=owner,
            )
            _kms_check(principal, bucket, owner, command.account_id)
            s3_backends[owner][partition].put_object(command.bucket, key, text.encode("utf-8"))
    except iam.AccessDenied as error:
        return f"failed to upload output to s3://{command.bucket}/{prefix}: AccessDenied: {error}"
    except EmulatedError as error:
        return f"failed to upload output to s3://{command.bucket}/{prefix}: {error.code}: {error}"
    return ""


# --- execution ----------------------------------------------------------------------------------
def _finish(invocation: Invocation, status: str, details: str, plugin_status: str) -> None:
    with _LOCK:
        invocation.status, invocation.details = status, details
        invocation.plugin_status = plugin_status
        invocation.finished = _now()


def _delivery_deadline(command: Command) -> float:
    total = command.timeout_seconds + command.execution_timeout
    cap = agent.config().get("delivery_timeout_seconds")
    if cap is not None:
        return min(command.requested_time + total, time.time() + float(cap))
    return command.requested_time + total


def _wait_delivery(command: Command, invocation: Invocation) -> Json | None:
    """Wait until the node can receive the command; None when it ended without delivery."""
    deadline = _delivery_deadline(command)
    first = True
    while True:
        if invocation.cancelled.is_set():
            _finish(invocation, "Cancelled", "Cancelled", "Cancelled")
            return None
        item = agent.node(command.account_id, command.region, invocation.node_id)
        if item is None:
            # Terminated or deregistered: "Undeliverable" (Status Failed).
            _finish(invocation, "Failed", "Undeliverable", "Failed")
            return None
        role = agent.node_role(command.account_id, command.region, invocation.node_id)
        if item["PingStatus"] == "Online" and agent.messages_allowed(
            command.account_id, command.region, role, invocation.node_id
        ):
            return item
        if first:
            with _LOCK:
                invocation.status, invocation.details = "Delayed", "Delayed"
            first = False
        if time.time() >= deadline:
            _finish(invocation, "TimedOut", "Delivery Timed Out", "TimedOut")
            return None
        time.sleep(POLL_SECONDS)


def _generic_plugin(ctx: agent.CommandContext) -> agent.PluginResult:
    """Documents without a registered plugin: succeed after ``command_seconds`` with no output
    (the emulator does not run scripts)."""
    name = _plugin_name(ctx.account_id, ctx.region, ctx.document_name, ctx.node["PlatformType"])
    if not ctx.sleep(ctx.command_seconds):
        return agent.PluginResult("Failed", 1, "", "cancelled", name)
    return agent.PluginResult("Success", 0, "", "", name)


def _words(line: str) -> list[str]:
    try:
        return shlex.split(line)
    except ValueError:
        return line.split()


def run_script(ctx: agent.CommandContext) -> agent.PluginResult:
    """AWS-RunShellScript / AWS-RunPowerShellScript with a tiny interpreter (nothing is executed).

    Understood per line of ``commands``: ``echo TEXT`` / ``Write-Output TEXT`` (stdout; with
    ``>&2`` on stderr), ``exit N`` (stop with exit code N: non-zero fails the plugin; 194 on
    Linux / 3010 on Windows reboots the node and goes on with the next line — AWS reruns the
    whole script after the reboot),
    ``sleep N`` / ``Start-Sleep -Seconds N`` (wait N seconds, honouring cancel and the
    execution timeout). Every other line is accepted and does nothing. The run takes at least
    ``command_seconds``.
    https://docs.aws.amazon.com/systems-manager/latest/userguide/documents-command-ssm-plugin-reference.html#aws-runShellScript
    """
    windows = ctx.document_name == "AWS-RunPowerShellScript"
    name = "aws:runPowerShellScript" if windows else "aws:runShellScript"
    out: list[str] = []
    err: list[str] = []
    code = 0
    lines = [part for line in ctx.parameters.get("commands") or [] for part in line.splitlines()]
    for line in lines:
        words = _words(line.strip())
        if not words:
            continue
        verb = words[0].lower()
        if verb in ("echo", "write-output", "write-host"):
            to_err = ">&2" in words or "1>&2" in words
            text = " ".join(w for w in words[1:] if w not in (">&2", "1>&2"))
            (err if to_err else out).append(text + "\n")
        elif verb == "exit":
            code = int(words[1]) if len(words) > 1 and words[1].lstrip("-").isdigit() else 0
            if code == (3010 if windows else 194):
                # Exit 194 (Linux) / 3010 (Windows) asks the agent to reboot the node.
                # https://docs.aws.amazon.com/systems-manager/latest/userguide/send-commands-reboot.html
                if not ctx.reboot():
                    return agent.PluginResult(
                        "TimedOut", -1, "".join(out), "the node did not come back", name
                    )
                code = 0
                continue
            break
        elif verb in ("sleep", "start-sleep"):
            numbers = [w for w in words[1:] if w.replace(".", "", 1).isdigit()]
            if numbers and not ctx.sleep(float(numbers[0])):
                return agent.PluginResult("Failed", 1, "".join(out), "".join(err), name)
    if not ctx.sleep(ctx.command_seconds):
        return agent.PluginResult("Failed", 1, "".join(out), "".join(err), name)
    status: agent.PluginStatus = "Success" if code == 0 else "Failed"
    if code:
        err.append(f"failed to run commands: exit status {code}\n")
    return agent.PluginResult(status, code, "".join(out), "".join(err), name)


def update_ssm_agent(ctx: agent.CommandContext) -> agent.PluginResult:
    """AWS-UpdateSSMAgent: the node's agent becomes the latest version (IsLatestVersion true).

    https://docs.aws.amazon.com/systems-manager/latest/userguide/documents-command-ssm-plugin-reference.html#aws-updatessmagent
    """
    current = ctx.node.get("AgentVersion", agent.INITIAL_AGENT_VERSION)
    if not ctx.sleep(ctx.command_seconds):
        return agent.PluginResult("Failed", 1, "", "cancelled", "aws:updateSsmAgent")
    if current == agent.LATEST_AGENT_VERSION:
        out = f"amazon-ssm-agent {current} has already been installed, update skipped\n"
        return agent.PluginResult("Success", 0, out, "", "aws:updateSsmAgent")
    agent.set_agent_version(ctx.account_id, ctx.region, ctx.node_id, agent.LATEST_AGENT_VERSION)
    out = (
        f"Updating amazon-ssm-agent from {current} to {agent.LATEST_AGENT_VERSION}\n"
        f"Successfully downloaded manifest\nSuccessfully installed amazon-ssm-agent "
        f"{agent.LATEST_AGENT_VERSION}\n"
    )
    return agent.PluginResult("Success", 0, out, "", "aws:updateSsmAgent")


def _run(command: Command, invocation: Invocation) -> None:
    """One invocation: delivery, the plugin (execution timeout, cancel), output upload."""
    try:
        _run_unguarded(command, invocation)
    except Exception as error:  # noqa: BLE001 - an emulator bug must not hang the command
        with _LOCK:
            invocation.stderr = (invocation.stderr + f"\nemulator error: {error!r}")[-STDERR_LIMIT:]
            if not invocation.terminal:
                invocation.response_code = 1
                _finish(invocation, "Failed", "Failed", "Failed")


def _run_unguarded(command: Command, invocation: Invocation) -> None:
    item = _wait_delivery(command, invocation)
    if item is None:
        return
    with _LOCK:
        invocation.status, invocation.details, invocation.plugin_status = (
            "InProgress",
            "In Progress",
            "InProgress",
        )
        invocation.started = _now()
    account_id, region, node_id = command.account_id, command.region, invocation.node_id
    faults = agent.faults(account_id, region, node_id)
    role = agent.node_role(account_id, region, node_id)
    ctx = agent.CommandContext(
        account_id=account_id,
        region=region,
        node=item,
        node_id=node_id,
        command_id=command.command_id,
        document_name=command.document_name,
        parameters={k: list(v) for k, v in command.parameters.items()},
        principal=agent.node_principal(account_id, role, node_id),
        faults=faults,
        command_seconds=float(faults.get("command_seconds") or agent.config()["command_seconds"]),
        execution_timeout_seconds=command.execution_timeout,
        cancelled=invocation.cancelled,
        _set_ping=lambda status: agent.set_ping_override(account_id, region, node_id, status),
        _reboot=lambda: agent.reboot_node(account_id, region, node_id, invocation.cancelled),
    )
    plugin = agent.plugin_for(command.document_name) or _generic_plugin
    box: dict[str, Any] = {}

    def call() -> None:
        try:
            box["result"] = plugin(ctx)
        except iam.AccessDenied as error:
            box["error"] = f"AccessDenied: {error}"
        except Exception as error:  # noqa: BLE001 - a plugin failure fails the invocation
            box["error"] = f"{type(error).__name__}: {error}"

    worker = threading.Thread(target=call, name=f"plugin-{node_id}", daemon=True)
    worker.start()
    deadline = time.time() + command.execution_timeout
    while worker.is_alive() and time.time() < deadline and not invocation.cancelled.is_set():
        worker.join(POLL_SECONDS)
    if invocation.cancelled.is_set() and worker.is_alive():
        worker.join(2.0)
        _finish(invocation, "Cancelled", "Cancelled", "Cancelled")
        return
    if worker.is_alive():
        # Execution timeout: the agent stops the plugin (counts against MaxErrors).
        invocation.cancelled.set()
        with _LOCK:
            invocation.response_code = -1
        _finish(invocation, "TimedOut", "Execution Timed Out", "TimedOut")
        return
    if invocation.cancelled.is_set():
        _finish(invocation, "Cancelled", "Cancelled", "Cancelled")
        return
    result: agent.PluginResult | None = box.get("result")
    if result is None:
        result = agent.PluginResult(
            "Failed", 1, "", str(box.get("error", "no result")), invocation.plugin_name
        )
    with _LOCK:
        invocation.plugin_name = result.plugin_name or invocation.plugin_name
        invocation.action = result.action
        invocation.response_code = int(result.response_code)
        invocation.stdout, invocation.stderr = result.stdout, result.stderr
    upload_error = _upload(command, invocation, ctx.principal)
    if upload_error:
        # The plugin's status is kept; the refused upload is reported on stderr.
        with _LOCK:
            invocation.stderr = (invocation.stderr + "\n" + upload_error).lstrip("\n")
    status = result.status if result.status in ("Success", "Failed", "TimedOut") else "Failed"
    details = {"Success": "Success", "Failed": "Failed", "TimedOut": "Execution Timed Out"}[status]
    _finish(invocation, status, details, status)


def _error_count(command: Command) -> int:
    # Failed and Execution Timed Out count against MaxErrors; delivery timeouts and
    # undeliverable invocations do not (monitor-commands.html).
    return sum(
        1
        for inv in command.invocations.values()
        if inv.details in ("Failed", "Execution Timed Out")
    )


def _dispatch(command: Command) -> None:
    """Send the command MaxConcurrency nodes at a time; stop sending past MaxErrors."""
    pending = list(command.invocations.values())
    total = len(pending)
    concurrency = _threshold(command.max_concurrency, total, minimum=1)
    running: set[concurrent.futures.Future[None]] = set()
    stopped = False
    while pending or running:
        with _LOCK:
            cancel = command.cancel_requested
        if cancel or stopped:
            for invocation in pending:
                if cancel:
                    _finish(invocation, "Cancelled", "Cancelled", "Cancelled")
                else:
                    # MaxErrors exceeded: "subsequent command invocations were canceled by
                    # the system" (StatusDetails Terminated).
                    _finish(invocation, "Cancelled", "Terminated", "Cancelled")
            pending = []
        while pending and len(running) < concurrency:
            invocation = pending.pop(0)
            with _LOCK:
                if command.status == "Pending":
                    command.status, command.details = "InProgress", "In Progress"
            running.add(_POOL.submit(_run, command, invocation))
        if running:
            _, not_done = concurrent.futures.wait(
                running, timeout=POLL_SECONDS, return_when=concurrent.futures.FIRST_COMPLETED
            )
            running = set(not_done)
        with _LOCK:
            if _error_count(command) > command.allowed_errors:
                stopped = True
    _conclude(command)


def _conclude(command: Command) -> None:
    """The command's final Status / StatusDetails from its invocations (monitor-commands.html)."""
    with _LOCK:
        invocations = list(command.invocations.values())
        errors = _error_count(command)
        timed_out = sum(1 for i in invocations if i.details == "Execution Timed Out")
        delivery = sum(1 for i in invocations if i.details == "Delivery Timed Out")
        undeliverable = sum(1 for i in invocations if i.details == "Undeliverable")
        success = sum(1 for i in invocations if i.status == "Success")
        allowed = command.allowed_errors
        if command.cancel_requested:
            status, details = "Cancelled", "Cancelled"
        elif errors > allowed:
            status, details = (
                ("TimedOut", "Execution Timed Out") if timed_out == errors else ("Failed", "Failed")
            )
        elif delivery and delivery >= allowed:
            status, details = "TimedOut", "Delivery Timed Out"
        elif invocations and undeliverable == len(invocations):
            status, details = "Failed", "Failed"
        elif success == len(invocations) - undeliverable:
            status, details = "Success", "Success"
        else:
            # Attempted everywhere, not enough errors to fail the command.
            status, details = "Success", "Incomplete"
        command.status, command.details = status, details
    command.done.set()


# --- the API ------------------------------------------------------------------------------------
def send_command(account_id: str, region: str, params: Json) -> Json:
    """SendCommand (request already shape-checked): resolve targets, start the dispatcher.

    Returns:
        ``{"Command": <Command shape>}``.

    Raises:
        EmulatedError: ``InvalidDocument``, ``InvalidParameters``, ``InvalidInstanceId``,
            ``DuplicateInstanceId``, ``ValidationException`` (neither or both of InstanceIds
            and Targets).
    """
    given = str(params["DocumentName"])
    # A document ARN (arn:aws:ssm:<region>:<account>:document/<name>) names the document; the
    # Command reports the name (its DocumentName pattern has no ':' or '/').
    name = given.rsplit("/", 1)[-1] if given.startswith("arn:") else given
    instance_ids = list(params.get("InstanceIds") or [])
    targets = list(params.get("Targets") or [])
    if bool(instance_ids) == bool(targets):
        raise EmulatedError(
            "ValidationException", "Exactly one of InstanceIds and Targets must be specified."
        )
    parameters = _parameters(account_id, region, name, params.get("Parameters") or {})
    selected = (
        _resolve_instance_ids(account_id, region, instance_ids)
        if instance_ids
        else _resolve_targets(account_id, region, targets)
    )
    execution = parameters.get("executionTimeout") or [str(DEFAULT_EXECUTION_TIMEOUT)]
    try:
        execution_timeout = float(execution[0])
    except ValueError as error:
        raise EmulatedError(
            "InvalidParameters", f"executionTimeout {execution[0]!r} is not a number."
        ) from error
    bucket = params.get("OutputS3BucketName") or ""
    stamp = _now()
    command = Command(
        command_id=str(uuid.uuid4()),
        account_id=account_id,
        region=region,
        request=params,
        document_name=name,
        parameters=parameters,
        requested=stamp,
        requested_time=time.time(),
        timeout_seconds=int(params.get("TimeoutSeconds") or DEFAULT_TIMEOUT_SECONDS),
        execution_timeout=execution_timeout,
        max_concurrency=params.get("MaxConcurrency") or DEFAULT_MAX_CONCURRENCY,
        max_errors=params.get("MaxErrors") or DEFAULT_MAX_ERRORS,
        bucket=bucket,
        prefix=params.get("OutputS3KeyPrefix") or "",
        bucket_region=_bucket_region(bucket, region) if bucket else region,
    )
    for item in selected:
        command.invocations[item["InstanceId"]] = Invocation(
            node_id=item["InstanceId"],
            instance_name=str(item.get("ComputerName") or ""),
            platform=str(item.get("PlatformType") or "Linux"),
            plugin_name=_plugin_name(account_id, region, name, str(item.get("PlatformType"))),
        )
    with _LOCK:
        _commands(account_id, region)[command.command_id] = command
    threading.Thread(
        target=_dispatch, args=(command,), name=f"command-{command.command_id}", daemon=True
    ).start()
    return {"Command": command_body(command)}


def command_body(command: Command) -> Json:
    """The ``Command`` shape of SendCommand / ListCommands."""
    with _LOCK:
        invocations = list(command.invocations.values())
        request = command.request
        body: Json = {
            "CommandId": command.command_id,
            "DocumentName": command.document_name,
            "DocumentVersion": request.get("DocumentVersion") or "$DEFAULT",
            "Comment": request.get("Comment") or "",
            "ExpiresAfter": command.expires_after,
            "Parameters": request.get("Parameters") or {},
            "InstanceIds": list(request.get("InstanceIds") or []),
            "Targets": list(request.get("Targets") or []),
            "RequestedDateTime": command.requested,
            "Status": command.status,
            "StatusDetails": command.details,
            "OutputS3Region": command.bucket_region,
            "OutputS3BucketName": command.bucket,
            "OutputS3KeyPrefix": command.prefix,
            "MaxConcurrency": command.max_concurrency,
            "MaxErrors": command.max_errors,
            "TargetCount": len(invocations),
            "CompletedCount": sum(1 for i in invocations if i.terminal),
            "ErrorCount": _error_count(command),
            "DeliveryTimedOutCount": sum(
                1 for i in invocations if i.details == "Delivery Timed Out"
            ),
            "ServiceRole": request.get("ServiceRoleArn") or "",
            "NotificationConfig": request.get("NotificationConfig")
            or {"NotificationArn": "", "NotificationEvents": []},
            "CloudWatchOutputConfig": request.get("CloudWatchOutputConfig")
            or {"CloudWatchLogGroupName": "", "CloudWatchOutputEnabled": False},
            "TimeoutSeconds": command.timeout_seconds,
        }
        if request.get("AlarmConfiguration"):
            body["AlarmConfiguration"] = request["AlarmConfiguration"]
        return body


def _plugin_body(command: Command, invocation: Invocation) -> Json:
    prefix = _output_prefix(command, invocation) if command.bucket else ""
    output = invocation.stdout
    if invocation.stderr:
        output += "\n----------ERROR-------\n" + invocation.stderr
    body: Json = {
        "Name": invocation.plugin_name,
        "Status": invocation.plugin_status,
        "StatusDetails": invocation.details,
        "ResponseCode": invocation.response_code,
        "Output": output[:OUTPUT_LIMIT],
        "StandardOutputUrl": _url(command, f"{prefix}/stdout") if prefix else "",
        "StandardErrorUrl": _url(command, f"{prefix}/stderr") if prefix else "",
        "OutputS3Region": command.bucket_region,
        "OutputS3BucketName": command.bucket,
        "OutputS3KeyPrefix": prefix,
    }
    if invocation.started is not None:
        body["ResponseStartDateTime"] = invocation.started
    if invocation.finished is not None and invocation.started is not None:
        body["ResponseFinishDateTime"] = invocation.finished
    return body


def invocation_body(command: Command, invocation: Invocation, details: bool) -> Json:
    """The ``CommandInvocation`` shape of ListCommandInvocations."""
    with _LOCK:
        plugin = _plugin_body(command, invocation)
        request = command.request
        body: Json = {
            "CommandId": command.command_id,
            "InstanceId": invocation.node_id,
            "InstanceName": invocation.instance_name,
            "Comment": request.get("Comment") or "",
            "DocumentName": command.document_name,
            "DocumentVersion": request.get("DocumentVersion") or "$DEFAULT",
            "RequestedDateTime": command.requested,
            "Status": invocation.status,
            "StatusDetails": invocation.details,
            "TraceOutput": "",
            "StandardOutputUrl": plugin["StandardOutputUrl"],
            "StandardErrorUrl": plugin["StandardErrorUrl"],
            "CommandPlugins": [plugin] if details else [],
            "ServiceRole": request.get("ServiceRoleArn") or "",
            "NotificationConfig": request.get("NotificationConfig")
            or {"NotificationArn": "", "NotificationEvents": []},
            "CloudWatchOutputConfig": request.get("CloudWatchOutputConfig")
            or {"CloudWatchLogGroupName": "", "CloudWatchOutputEnabled": False},
        }
        return body


def _command(account_id: str, region: str, command_id: str | None) -> Command:
    found = _commands(account_id, region).get(command_id or "")
    if found is None:
        raise EmulatedError("InvalidCommandId", f"Command {command_id} does not exist.")
    return found


def _stage(status: str) -> str:
    return "Complete" if status in ("Success", "Failed", "TimedOut", "Cancelled") else "Executing"


def _filter(items: list[tuple[dt.datetime, str, str]], filters: list[Json]) -> list[int]:
    """Indexes of ``(requested, status, document)`` rows passing CommandFilter ``filters``."""
    keep = []
    for index, (requested, status, document) in enumerate(items):
        ok = True
        for flt in filters:
            key, value = flt["key"], flt["value"]
            if key in ("InvokedAfter", "InvokedBefore"):
                try:
                    moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
                except ValueError as error:
                    raise EmulatedError(
                        "InvalidFilterKey", f"{key} value {value} is not a timestamp."
                    ) from error
                if moment.tzinfo is None:
                    moment = moment.replace(tzinfo=dt.UTC)
                ok &= requested >= moment if key == "InvokedAfter" else requested <= moment
            elif key == "Status":
                ok &= status == value
            elif key == "DocumentName":
                ok &= document == value
            elif key == "ExecutionStage":
                ok &= _stage(status) == value
        if ok:
            keep.append(index)
    return keep


def list_commands(account_id: str, region: str, params: Json) -> Json:
    """ListCommands: newest first; CommandId, InstanceId and Filters narrow it."""
    with _LOCK:
        commands = sorted(
            _commands(account_id, region).values(), key=lambda c: c.requested, reverse=True
        )
    if params.get("CommandId"):
        commands = [_command(account_id, region, params["CommandId"])]
    if params.get("InstanceId"):
        commands = [c for c in commands if params["InstanceId"] in c.invocations]
    rows = [(c.requested, c.status, c.document_name) for c in commands]
    commands = [commands[i] for i in _filter(rows, params.get("Filters") or [])]
    found, extra = page([command_body(c) for c in commands], params)
    return {"Commands": found, **extra}


def list_command_invocations(account_id: str, region: str, params: Json) -> Json:
    """ListCommandInvocations: one item per command and node; Details adds CommandPlugins."""
    with _LOCK:
        commands = sorted(
            _commands(account_id, region).values(), key=lambda c: c.requested, reverse=True
        )
    if params.get("CommandId"):
        commands = [_command(account_id, region, params["CommandId"])]
    pairs = [(c, inv) for c in commands for inv in list(c.invocations.values())]
    if params.get("InstanceId"):
        pairs = [(c, inv) for c, inv in pairs if inv.node_id == params["InstanceId"]]
    rows = [(c.requested, inv.status, c.document_name) for c, inv in pairs]
    pairs = [pairs[i] for i in _filter(rows, params.get("Filters") or [])]
    details = bool(params.get("Details"))
    found, extra = page([invocation_body(c, inv, details) for c, inv in pairs], params)
    return {"CommandInvocations": found, **extra}


def get_command_invocation(account_id: str, region: str, params: Json) -> Json:
    """GetCommandInvocation of one node (and plugin).

    Raises:
        EmulatedError: ``InvalidCommandId``, ``InvocationDoesNotExist``, ``InvalidPluginName``.
    """
    commands = _commands(account_id, region)
    command = commands.get(params["CommandId"])
    if command is None:
        raise EmulatedError("InvalidCommandId", f"Command {params['CommandId']} does not exist.")
    invocation = command.invocations.get(params["InstanceId"])
    if invocation is None:
        raise EmulatedError("InvocationDoesNotExist", "The invocation does not exist.")
    with _LOCK:
        plugin = _plugin_body(command, invocation)
        wanted = params.get("PluginName")
        if wanted and wanted != invocation.plugin_name:
            raise EmulatedError("InvalidPluginName", f"Plugin {wanted} is not in the document.")
        body: Json = {
            "CommandId": command.command_id,
            "InstanceId": invocation.node_id,
            "Comment": command.request.get("Comment") or "",
            "DocumentName": command.document_name,
            "DocumentVersion": command.request.get("DocumentVersion") or "$DEFAULT",
            "PluginName": invocation.plugin_name,
            "ResponseCode": invocation.response_code,
            "Status": invocation.status,
            "StatusDetails": invocation.details,
            "StandardOutputContent": invocation.stdout[:STDOUT_LIMIT],
            "StandardOutputUrl": plugin["StandardOutputUrl"],
            "StandardErrorContent": invocation.stderr[:STDERR_LIMIT],
            "StandardErrorUrl": plugin["StandardErrorUrl"],
            "CloudWatchOutputConfig": command.request.get("CloudWatchOutputConfig")
            or {"CloudWatchLogGroupName": "", "CloudWatchOutputEnabled": False},
        }
        if invocation.started is not None:
            body["ExecutionStartDateTime"] = _iso(invocation.started)
            end = invocation.finished or _now()
            elapsed = (end - invocation.started).total_seconds()
            body["ExecutionElapsedTime"] = f"PT{elapsed:.3f}S"
            if invocation.finished is not None:
                body["ExecutionEndDateTime"] = _iso(invocation.finished)
        return body


def cancel_command(account_id: str, region: str, params: Json) -> None:
    """CancelCommand: pending invocations end Cancelled, running plugins are told to stop.

    Raises:
        EmulatedError: ``InvalidCommandId``, ``DuplicateInstanceId``, ``InvalidInstanceId``.
    """
    command = _command(account_id, region, params["CommandId"])
    ids = list(params.get("InstanceIds") or [])
    if len(set(ids)) != len(ids):
        raise EmulatedError("DuplicateInstanceId", "An instance id is given more than once.")
    unknown = [i for i in ids if i not in command.invocations]
    if unknown:
        raise EmulatedError("InvalidInstanceId", f"Instances {unknown} are not in the command.")
    with _LOCK:
        targets = (
            [command.invocations[i] for i in ids] if ids else list(command.invocations.values())
        )
        for invocation in targets:
            if not invocation.terminal:
                invocation.cancelled.set()
        if not ids:
            command.cancel_requested = True
            if not command.done.is_set():
                command.status, command.details = "Cancelling", "Cancelling"


def wait(account_id: str, region: str, command_id: str, timeout: float = 30.0) -> Json:
    """Block until the command is done (or ``timeout`` seconds passed); its ``Command`` body.

    Raises:
        EmulatedError: ``InvalidCommandId``.
    """
    command = _command(account_id, region, command_id)
    command.done.wait(timeout)
    return command_body(command)


class _Operations:
    """Response methods copied onto moto's ``SimpleSystemManagerResponse`` by :func:`install`."""

    body: Any
    current_account: str
    region: str

    def send_command(self) -> ActionResult:
        params = parse_request("ssm", "SendCommand", self.body)
        return ActionResult(send_command(self.current_account, self.region, params))

    def list_commands(self) -> ActionResult:
        params = parse_request("ssm", "ListCommands", self.body)
        return ActionResult(list_commands(self.current_account, self.region, params))

    def list_command_invocations(self) -> ActionResult:
        params = parse_request("ssm", "ListCommandInvocations", self.body)
        return ActionResult(list_command_invocations(self.current_account, self.region, params))

    def get_command_invocation(self) -> ActionResult:
        params = parse_request("ssm", "GetCommandInvocation", self.body)
        return ActionResult(get_command_invocation(self.current_account, self.region, params))

    def cancel_command(self) -> ActionResult:
        params = parse_request("ssm", "CancelCommand", self.body)
        cancel_command(self.current_account, self.region, params)
        return EmptyResult()


def install() -> None:
    """Replace moto's command operations and register AWS-UpdateSSMAgent (idempotent)."""
    for operation in OPERATIONS:
        method = snake(operation)
        setattr(SimpleSystemManagerResponse, method, getattr(_Operations, method))
    agent.register_document("AWS-UpdateSSMAgent", update_ssm_agent)
    agent.register_document("AWS-RunShellScript", run_script)
    agent.register_document("AWS-RunPowerShellScript", run_script)
