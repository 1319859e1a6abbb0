"""The SSM agent of the emulator: managed nodes, hybrid registration and SendCommand execution.

What AWS does outside its API — an instance's SSM Agent starting, registering and pinging, a
hybrid server registering with an activation code, the agent running a command's plugins — is
emulated here, and the SSM operations that read it are served from it:

* EC2 lifecycle: moto's EC2 backend run/start/stop/terminate (and instance-profile association
  changes) are wrapped; :func:`on_instance_state` callbacks hear every state change.
* Managed nodes (:func:`nodes`, ``DescribeInstanceInformation``): a running instance becomes a
  node ``online_delay_seconds`` after it runs when its instance profile role may call
  ``ssm:UpdateInstanceInformation`` (the agent's heartbeat), evaluated by
  :func:`tests.emulator.iam.is_allowed`; stopped → ``ConnectionLost``; terminated → gone.
  Evaluated lazily on every read, so a role fixed by the role check comes Online after the delay.
* Hybrid nodes (``POST /fleetpatch/agent/register-hybrid``, ``DeregisterManagedInstance``,
  ``ManagedInstance`` tags).
* Commands: :mod:`tests.emulator.agent_commands` (SendCommand and friends), with the plugin
  contract defined here (:class:`CommandContext`, :class:`PluginResult`,
  :func:`register_document`).

AWS pages every rule follows are cited next to it and listed in tests/emulator/README.md
(section "agent").
"""

from __future__ import annotations

import concurrent.futures
import datetime as dt
import json
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Literal

from moto.core.responses import ActionResult, EmptyResult
from moto.ec2.models import ec2_backends
from moto.ec2.models.iam_instance_profile import IamInstanceProfileAssociationBackend
from moto.ec2.models.instances import InstanceBackend
from moto.ssm.models import SimpleSystemManagerBackend, ssm_backends
from moto.ssm.responses import SimpleSystemManagerResponse

from . import iam
from .common import EmulatedError, page, parse_request, snake
from .control import ControlError, route
from .iam import Principal

Json = dict[str, Any]
PluginStatus = Literal["Success", "Failed", "TimedOut"]

# SSM Agent versions the emulated nodes report (AWS-UpdateSSMAgent moves a node to LATEST).
LATEST_AGENT_VERSION = "3.3.1142.0"
INITIAL_AGENT_VERSION = "3.2.2303.0"

# What the agent must be allowed to call. A node is registered and Online when its role allows
# the heartbeat, ssm:UpdateInstanceInformation; it receives commands when its role also allows
# one message channel: ec2messages (GetMessages, the long-standing one) or ssmmessages
# (CreateControlChannel + OpenControlChannel, used by SSM Agent 3.3.40.0 and later).
# https://docs.aws.amazon.com/systems-manager/latest/userguide/setup-instance-permissions.html
# https://docs.aws.amazon.com/systems-manager/latest/userguide/systems-manager-setting-up-messageAPIs.html
HEARTBEAT_ACTION = "ssm:UpdateInstanceInformation"
MESSAGE_CHANNELS = (
    ("ec2messages:GetMessages",),
    ("ssmmessages:CreateControlChannel", "ssmmessages:OpenControlChannel"),
)


# --- the plugin contract ------------------------------------------------------------------------
@dataclass
class PluginResult:
    """What a document's plugin reports for one node (one ``CommandPlugin`` of the invocation).

    Attributes:
        status: ``"Success"``, ``"Failed"`` or ``"TimedOut"`` (the plugin's status as
            ListCommandInvocations reports it).
        response_code: the plugin's exit code (``ResponseCode``; 0 on success).
        stdout: standard output (``StandardOutputContent``: the API shows the first 24,000
            characters, the whole text goes to S3).
        stderr: standard error (``StandardErrorContent``: first 8,000 characters).
        plugin_name: the ``CommandPlugin`` ``Name`` AWS reports: the step name of a schema 2.2
            document (``"PatchLinux"``, ``"PatchWindows"``, ``"runShellScript"``) or the
            plugin of a schema 1.2 document (``"aws:runShellScript"``, ``"aws:updateSsmAgent"``).
        action: the step's action (``"aws:runShellScript"``, ``"aws:runPowerShellScript"``);
            it names the output folder in S3 (``awsrunShellScript/<step>/stdout``). Empty means
            ``aws:runPowerShellScript`` on Windows nodes and ``aws:runShellScript`` otherwise.
    """

    status: PluginStatus
    response_code: int = 0
    stdout: str = ""
    stderr: str = ""
    plugin_name: str = "runShellScript"
    action: str = ""


@dataclass
class CommandContext:
    """Everything a plugin sees while it runs one command on one node.

    Attributes:
        account_id: the node's account (12 digits).
        region: the node's Region.
        node: the node as :func:`nodes` returns it (DescribeInstanceInformation item plus
            ``"Tags": {key: value}``), a snapshot taken when the invocation started.
        node_id: ``i-...`` (EC2) or ``mi-...`` (hybrid).
        command_id: the SendCommand ``CommandId``.
        document_name: the document the command runs (``AWS-RunPatchBaseline``).
        parameters: the command's parameters, document defaults filled in ({name: [values]}).
        principal: the node role's session (:func:`tests.emulator.iam.role_session` of the
            instance profile role, or of the activation's IamRole for a hybrid node); None only
            when the node has no role.
        faults: the node's fault settings (``never_online``, ``lost_after_reboot``,
            ``patch_exit_code``, ``command_seconds``; missing keys mean "no fault"), a copy.
        command_seconds: how long the plugin should pretend to work (the node's
            ``command_seconds`` fault, else the global setting), seconds.
        execution_timeout_seconds: the document's ``executionTimeout`` (seconds), after which
            the agent ends the plugin TimedOut; plugins that wait should not exceed it.
        cancelled: set when CancelCommand reached this invocation (or it timed out); plugins
            that wait should use :meth:`sleep`, which returns early.
    """

    account_id: str
    region: str
    node: Json
    node_id: str
    command_id: str
    document_name: str
    parameters: dict[str, list[str]]
    principal: Principal | None
    faults: Json
    command_seconds: float = 0.0
    execution_timeout_seconds: float = 3600.0
    cancelled: threading.Event = field(default_factory=threading.Event)
    _set_ping: Callable[[str], None] = field(default=lambda status: None, repr=False)
    _reboot: Callable[[], bool] = field(default=lambda: True, repr=False)

    def set_ping(self, status: str) -> None:
        """Force the node's PingStatus: ``"ConnectionLost"`` (or ``"Inactive"``) until set back
        with ``"Online"``, which returns the node to its computed status."""
        self._set_ping(status)

    def reboot(self) -> bool:
        """Reboot the node as AWS-RunPatchBaseline's ``RebootIfNeeded`` does.

        The node goes ConnectionLost, then Online again after the online delay; with the
        ``lost_after_reboot`` fault it stays ConnectionLost. Blocks until the node is back (or
        known lost), or the invocation is cancelled.

        Returns:
            True when the agent came back Online, False when it was lost (or cancelled).
        """
        return self._reboot()

    def sleep(self, seconds: float) -> bool:
        """Wait ``seconds``; returns False early when the invocation was cancelled."""
        return not self.cancelled.wait(max(0.0, seconds))


Plugin = Callable[[CommandContext], PluginResult]
InstanceStateCallback = Callable[[str, str, str, str, str], None]

_PLUGINS: dict[str, Plugin] = {}
_STATE_CALLBACKS: list[InstanceStateCallback] = []
_LOCK = threading.RLock()
# State-change callbacks run here, one at a time and in order, after the EC2 call returned
# (EC2 state-change notifications are asynchronous on AWS too).
_NOTIFIER = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="ec2-state")


def register_document(name: str, plugin: Plugin) -> None:
    """Run ``plugin(ctx) -> PluginResult`` for every node a command of document ``name`` targets.

    ``name`` is the document name (``AWS-RunPatchBaseline``); registering again replaces it.
    """
    with _LOCK:
        _PLUGINS[name] = plugin


def plugin_for(name: str) -> Plugin | None:
    """The plugin registered for document ``name``, or None."""
    with _LOCK:
        return _PLUGINS.get(name)


def on_instance_state(callback: InstanceStateCallback) -> None:
    """Call ``callback(account_id, region, instance_id, previous_state, new_state)`` after each
    EC2 instance state change, on a background thread, in the order the changes happened.

    The states are EC2's (``pending``, ``running``, ``stopping``, ``stopped``,
    ``shutting-down``, ``terminated``). moto changes state at once, so the transitions AWS
    passes through are reported one after the other: StartInstances → ``(stopped, pending)``,
    ``(pending, running)``; StopInstances → ``(running, stopping)``, ``(stopping, stopped)``;
    TerminateInstances → ``(<state>, shutting-down)``, ``(shutting-down, terminated)``;
    RunInstances → ``(pending, running)`` per instance.
    https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ec2-instance-lifecycle.html
    """
    with _LOCK:
        _STATE_CALLBACKS.append(callback)


def _notify(account_id: str, region: str, instance_id: str, changes: list[tuple[str, str]]) -> None:
    with _LOCK:
        callbacks = list(_STATE_CALLBACKS)

    def run() -> None:
        for previous, new in changes:
            for callback in callbacks:
                try:
                    callback(account_id, region, instance_id, previous, new)
                except Exception as error:  # noqa: BLE001 - one listener must not stop others
                    print(f"agent: state callback {callback!r} failed: {error!r}", flush=True)

    if callbacks:
        _NOTIFIER.submit(run)


# --- settings and faults ------------------------------------------------------------------------
_CONFIG: Json = {
    # seconds from "running" (or from the role becoming sufficient) to PingStatus Online
    "online_delay_seconds": 2.0,
    # seconds from "stopping" until the node shows ConnectionLost
    "connection_lost_delay_seconds": 0.5,
    # how long a plugin pretends to work unless a node fault says otherwise
    "command_seconds": 0.2,
    # cap on the delivery timeout (TimeoutSeconds + executionTimeout) of undelivered
    # invocations; None keeps AWS's value (tests set a small one)
    "delivery_timeout_seconds": None,
}
FAULT_KEYS = (
    "never_online",
    "lost_after_reboot",
    "patch_exit_code",
    "command_seconds",
    "start_error",
    "start_state_reason",
)


def config() -> Json:
    """The current global settings (a copy): ``online_delay_seconds``,
    ``connection_lost_delay_seconds``, ``command_seconds``, ``delivery_timeout_seconds``."""
    with _LOCK:
        return dict(_CONFIG)


def set_config(**values: Any) -> Json:
    """Change global settings (seconds, floats ≥ 0; ``delivery_timeout_seconds`` may be None).

    Raises:
        ControlError: an unknown key or a negative / non-numeric value.
    """
    with _LOCK:
        for key, value in values.items():
            if key not in _CONFIG:
                raise ControlError(f"unknown setting {key!r}; known: {sorted(_CONFIG)}")
            if value is None and key == "delivery_timeout_seconds":
                _CONFIG[key] = None
                continue
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ControlError(f"{key} must be a number of seconds >= 0, got {value!r}")
            _CONFIG[key] = float(value)
        return dict(_CONFIG)


def faults(account_id: str, region: str, node_id: str) -> Json:
    """The fault settings of one node (a copy; ``{}`` when none are set)."""
    with _LOCK:
        return dict(_state(account_id, region).faults.get(node_id, {}))


def set_faults(account_id: str, region: str, node_id: str, **values: Any) -> Json:
    """Set faults of node ``node_id`` (EC2 ``i-`` or hybrid ``mi-``, need not exist yet).

    Keys: ``never_online`` (bool: the agent never reports Online), ``lost_after_reboot``
    (bool: after a reboot the agent never comes back), ``patch_exit_code`` (int: patching
    exits with this code; read by the AWS-RunPatchBaseline plugin), ``command_seconds``
    (float: how long a command runs on this node), ``start_error`` (str: EC2 StartInstances
    refuses a request naming this instance with this error code, e.g.
    ``InsufficientInstanceCapacity``), ``start_state_reason`` (str: StartInstances succeeds but
    the instance falls back to ``stopped`` with this StateReason code, as EC2 does with
    ``Client.InternalError`` when a volume's KMS key may not be used,
    https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/troubleshooting-launch.html#troubleshooting-launch-internal).
    A None value removes the key.

    Raises:
        ControlError: an unknown key or a value of the wrong type.
    """
    kinds: dict[str, tuple[type, ...]] = {
        "never_online": (bool,),
        "lost_after_reboot": (bool,),
        "patch_exit_code": (int,),
        "command_seconds": (int, float),
        "start_error": (str,),
        "start_state_reason": (str,),
    }
    with _LOCK:
        current = _state(account_id, region).faults.setdefault(node_id, {})
        for key, value in values.items():
            if key not in kinds:
                raise ControlError(f"unknown fault {key!r}; known: {list(FAULT_KEYS)}")
            if value is None:
                current.pop(key, None)
                continue
            if not isinstance(value, kinds[key]) or (
                isinstance(value, bool) and bool not in kinds[key]
            ):
                raise ControlError(f"fault {key} has the wrong type: {value!r}")
            current[key] = value
        return dict(current)


# --- per account/region state (kept on moto's SSM backend, so moto's reset clears it) -----------
@dataclass
class Track:
    """What the emulated agent of one EC2 instance knows (times are ``time.time()`` seconds)."""

    state: str = "running"
    running_since: float | None = None
    stopped_since: float | None = None
    profile_changed_at: float = 0.0
    allowed_since: float | None = None
    last_denied: float | None = None
    registered_at: dt.datetime | None = None
    last_ping: dt.datetime | None = None
    agent_version: str = INITIAL_AGENT_VERSION
    ping_override: str | None = None
    reboot_until: float | None = None
    lost: bool = False


@dataclass
class HybridNode:
    """A server or VM registered through a hybrid activation (``mi-...``)."""

    node_id: str
    activation_id: str
    iam_role: str
    name: str | None
    platform: str
    source_id: str | None
    registered_at: dt.datetime
    registered_time: float
    computer_name: str
    ip_address: str
    agent_version: str = INITIAL_AGENT_VERSION
    allowed_since: float | None = None
    last_denied: float | None = None
    online_seen: bool = False
    last_ping: dt.datetime | None = None
    ping_override: str | None = None
    reboot_until: float | None = None
    lost: bool = False


@dataclass
class AgentState:
    """The agent's view of one account and Region."""

    tracks: dict[str, Track] = field(default_factory=dict)
    hybrid: dict[str, HybridNode] = field(default_factory=dict)
    faults: dict[str, Json] = field(default_factory=dict)
    commands: dict[str, Any] = field(default_factory=dict)


_SEEN: set[tuple[str, str]] = set()


def _state(account_id: str, region: str) -> AgentState:
    backend = ssm_backends[account_id][region]
    with _LOCK:
        found = backend.__dict__.get("fleetpatch_agent")
        if not isinstance(found, AgentState):
            found = AgentState()
            backend.__dict__["fleetpatch_agent"] = found
        _SEEN.add((account_id, region))
        return found


def state_of(account_id: str, region: str) -> AgentState:
    """The agent state of ``account_id`` in ``region`` (created on first use)."""
    return _state(account_id, region)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# --- EC2 lifecycle hook -------------------------------------------------------------------------
_ORIGINAL: dict[str, Any] = {}


def _track(account_id: str, region: str, instance_id: str) -> Track:
    state = _state(account_id, region)
    track = state.tracks.get(instance_id)
    if track is None:
        track = Track(running_since=time.time())
        state.tracks[instance_id] = track
    return track


def _record(backend: Any, instance_ids: Iterable[str], new_state: str) -> None:
    stamp = time.time()
    with _LOCK:
        for instance_id in instance_ids:
            track = _track(backend.account_id, backend.region_name, instance_id)
            track.state = new_state
            if new_state == "running":
                track.running_since = stamp
                track.stopped_since = None
                track.allowed_since = None
                track.last_denied = None
                track.lost = False
                track.reboot_until = None
            else:
                track.stopped_since = stamp


def _run_instances(self: Any, *args: Any, **kwargs: Any) -> Any:
    reservation = _ORIGINAL["run_instances"](self, *args, **kwargs)
    ids = [instance.id for instance in reservation.instances]
    _record(self, ids, "running")
    # moto's RunInstances response associates the requested profile with the first instance
    # only; AWS gives every instance of the request the profile.
    profile_name = kwargs.get("iam_instance_profile_name")
    profile_arn = kwargs.get("iam_instance_profile_arn")
    for instance_id in ids[1:]:
        if profile_name:
            self.associate_iam_instance_profile(instance_id, iam_instance_profile_name=profile_name)
        elif profile_arn:
            self.associate_iam_instance_profile(instance_id, iam_instance_profile_arn=profile_arn)
    for instance_id in ids:
        _notify(self.account_id, self.region_name, instance_id, [("pending", "running")])
    return reservation


def _start_faults(backend: Any, instance_ids: list[str]) -> dict[str, str]:
    """Raise the ``start_error`` fault of a named instance; ``{id: state reason}`` to fall back."""
    from moto.ec2.exceptions import EC2ClientError  # noqa: PLC0415 - moto import kept local

    with _LOCK:
        faults = {
            i: dict(_state(backend.account_id, backend.region_name).faults.get(i, {}))
            for i in instance_ids
        }
    for instance_id, fault in faults.items():
        if fault.get("start_error"):
            raise EC2ClientError(
                str(fault["start_error"]), f"Instance {instance_id} could not be started."
            )
    return {
        i: str(f["start_state_reason"]) for i, f in faults.items() if f.get("start_state_reason")
    }


def _state_change(name: str, final: str, between: str) -> Callable[..., Any]:
    def wrapper(self: Any, instance_ids: list[str], *args: Any, **kwargs: Any) -> Any:
        fall_back = _start_faults(self, list(instance_ids)) if name == "start_instances" else {}
        result = _ORIGINAL[name](self, instance_ids, *args, **kwargs)
        for instance, previous in result:
            if instance.id in fall_back:
                from moto.ec2.models.instances import StateReason  # noqa: PLC0415

                # pending -> stopped with the fault's StateReason (the instance never runs).
                instance._state.name, instance._state.code = "stopped", 80
                code = fall_back[instance.id]
                instance.state_reason = StateReason(f"{code}: Client error on launch", code)
                _record(self, [instance.id], "stopped")
                _notify(
                    self.account_id,
                    self.region_name,
                    instance.id,
                    [(previous.name, "pending"), ("pending", "stopped")],
                )
                continue
            if name == "start_instances" and previous.name != "running":
                # LaunchTime is "the time that the instance was last launched" (EC2 Instance
                # data type): a start sets it; moto keeps the first launch's time.
                from moto.core.utils import utcnow  # noqa: PLC0415

                instance.launch_time = utcnow()
            _record(self, [instance.id], final)
            _notify(
                self.account_id,
                self.region_name,
                instance.id,
                [(previous.name, between), (between, final)],
            )
        return result

    return wrapper


def _profile_change(name: str) -> Callable[..., Any]:
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        association = _ORIGINAL[name](self, *args, **kwargs)
        with _LOCK:
            track = _track(self.account_id, self.region_name, association.instance_id)
            track.profile_changed_at = time.time()
            track.allowed_since = None
        return association

    return wrapper


def _install_ec2_hooks() -> None:
    if _ORIGINAL:
        return
    _ORIGINAL["run_instances"] = InstanceBackend.run_instances
    InstanceBackend.run_instances = _run_instances  # type: ignore[method-assign]
    for name, final, between in (
        ("start_instances", "running", "pending"),
        ("stop_instances", "stopped", "stopping"),
        ("terminate_instances", "terminated", "shutting-down"),
    ):
        _ORIGINAL[name] = getattr(InstanceBackend, name)
        setattr(InstanceBackend, name, _state_change(name, final, between))
    for name in (
        "associate_iam_instance_profile",
        "disassociate_iam_instance_profile",
        "replace_iam_instance_profile_association",
    ):
        _ORIGINAL[name] = getattr(IamInstanceProfileAssociationBackend, name)
        setattr(IamInstanceProfileAssociationBackend, name, _profile_change(name))


# --- node evaluation ----------------------------------------------------------------------------
def _role_name(role: str) -> str:
    """``fleetpatch/name`` or an ARN → the role's name (IAM role names have no slash)."""
    return role.rsplit("/", 1)[-1]


def _trusts(account_id: str, role_name: str, service_name: str) -> bool:
    # The instance gets credentials only when the role's trust policy lets the service assume it.
    # https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_switch-role-ec2_instance-profiles.html
    from moto.iam.models import iam_backends  # noqa: PLC0415 - moto import kept local

    for role in iam_backends[account_id]["global"].roles.values():
        if role.name != role_name:
            continue
        document = role.assume_role_policy_document
        policy = json.loads(document) if isinstance(document, str) else document
        statements = policy.get("Statement", [])
        for statement in statements if isinstance(statements, list) else [statements]:
            principal = statement.get("Principal", {})
            services = principal.get("Service", []) if isinstance(principal, dict) else []
            services = [services] if isinstance(services, str) else services
            actions = statement.get("Action", [])
            actions = [actions] if isinstance(actions, str) else actions
            if (
                statement.get("Effect") == "Allow"
                and service_name in services
                and any(a in ("sts:AssumeRole", "sts:*", "*") for a in actions)
            ):
                return True
        return False
    return False


def node_principal(account_id: str, role: str | None, node_id: str) -> Principal | None:
    """The session the agent of ``node_id`` acts with (``role_session`` of ``role``)."""
    if not role:
        return None
    return iam.role_session(account_id, _role_name(role), node_id)


def _node_arn(account_id: str, region: str, node_id: str) -> str:
    if node_id.startswith("mi-"):
        return f"arn:aws:ssm:{region}:{account_id}:managed-instance/{node_id}"
    return f"arn:aws:ec2:{region}:{account_id}:instance/{node_id}"


def heartbeat_allowed(account_id: str, region: str, role: str | None, node_id: str) -> bool:
    """Whether the node's role allows the agent's heartbeat (``ssm:UpdateInstanceInformation``)."""
    principal = node_principal(account_id, role, node_id)
    if principal is None:
        return False
    return iam.is_allowed(principal, HEARTBEAT_ACTION, _node_arn(account_id, region, node_id))


def messages_allowed(account_id: str, region: str, role: str | None, node_id: str) -> bool:
    """Whether the node's role allows one of the agent's message channels (command delivery)."""
    principal = node_principal(account_id, role, node_id)
    if principal is None:
        return False
    return any(
        all(iam.is_allowed(principal, action, "*") for action in channel)
        for channel in MESSAGE_CHANNELS
    )


def _instance_role(ec2_backend: Any, instance_id: str) -> str | None:
    association = ec2_backend.iam_instance_profile_associations.get(instance_id)
    if association is None:
        return None
    roles = getattr(association.iam_instance_profile, "roles", None) or []
    return str(roles[0].name) if roles else None


def _platform(ec2_backend: Any, instance: Any) -> tuple[str, str, str]:
    """(PlatformType, PlatformName, PlatformVersion) from the instance's AMI."""
    image = ec2_backend.amis.get(instance.image_id)
    text = " ".join(
        str(part or "") for part in (getattr(image, "name", ""), getattr(image, "description", ""))
    ).lower()
    platform = str(getattr(instance, "platform", "") or getattr(image, "platform", "") or "")
    if platform.lower() == "windows" or "windows" in text:
        version = "2019" if "2019" in text else "2016" if "2016" in text else "2022"
        build = {"2016": "10.0.14393", "2019": "10.0.17763", "2022": "10.0.20348"}[version]
        return "Windows", f"Microsoft Windows Server {version} Datacenter", build
    if "ubuntu" in text:
        return "Linux", "Ubuntu", "22.04"
    if "rhel" in text or "red hat" in text:
        return "Linux", "Red Hat Enterprise Linux", "9.4"
    if "al2023" in text or "amazon linux 2023" in text:
        return "Linux", "Amazon Linux", "2023"
    return "Linux", "Amazon Linux", "2"


def _tags_of_instance(instance: Any) -> dict[str, str]:
    return {tag["key"]: tag["value"] for tag in instance.get_tags()}


def _hybrid_tags(account_id: str, region: str, node_id: str) -> dict[str, str]:
    backend = ssm_backends[account_id][region]
    tags: dict[str, dict[str, str]] = backend._resource_tags.get("ManagedInstance", {})
    return dict(tags.get(node_id, {}))


def _ping_for(
    *,
    now: float,
    eligible_since: float | None,
    registered: bool,
    override: str | None,
    reboot_until: float | None,
    lost: bool,
    never_online: bool,
) -> str | None:
    """PingStatus of a running node, or None when it is not (yet) a node."""
    delay = float(_CONFIG["online_delay_seconds"])
    if eligible_since is None or never_online:
        return "ConnectionLost" if registered else None
    if override is not None:
        return override
    if lost:
        return "ConnectionLost"
    if reboot_until is not None and now < reboot_until:
        return "ConnectionLost"
    if now >= eligible_since + delay:
        return "Online"
    return "ConnectionLost" if registered else None


def _ec2_node(account_id: str, region: str, ec2_backend: Any, instance: Any) -> Json | None:
    state = _state(account_id, region)
    now = time.time()
    track = state.tracks.get(instance.id)
    if track is None:
        # An instance made before the hook saw it (e.g. by CloudFormation): running since now.
        track = Track(state=instance.state, running_since=now)
        state.tracks[instance.id] = track
    fault = state.faults.get(instance.id, {})
    role = _instance_role(ec2_backend, instance.id)
    registered = track.registered_at is not None
    ec2_state = instance.state
    if ec2_state == "terminated":
        return None
    ping: str | None
    if ec2_state == "running":
        usable = (
            role is not None
            and _trusts(account_id, role, "ec2.amazonaws.com")
            and heartbeat_allowed(account_id, region, role, instance.id)
        )
        if usable:
            if track.allowed_since is None:
                # A role fixed while the instance runs counts from when it became sufficient.
                start = max(track.running_since or now, track.profile_changed_at)
                # ... unless it was seen insufficient after that: then from now.
                denied = track.last_denied
                track.allowed_since = start if denied is None or start > denied else now
                track.last_denied = None
        else:
            track.allowed_since = None
            track.last_denied = now
        ping = _ping_for(
            now=now,
            eligible_since=track.allowed_since,
            registered=registered,
            override=track.ping_override,
            reboot_until=track.reboot_until,
            lost=track.lost,
            never_online=bool(fault.get("never_online")),
        )
        if ping == "Online":
            stamp = _now()
            if track.registered_at is None:
                track.registered_at = stamp
            track.last_ping = stamp
    else:
        if not registered:
            return None
        # The agent stops pinging when the instance stops; SSM marks it ConnectionLost.
        # https://docs.aws.amazon.com/systems-manager/latest/userguide/fleet-manager-managed-nodes.html
        stopped = track.stopped_since or now
        lost_after = float(_CONFIG["connection_lost_delay_seconds"])
        ping = "Online" if now < stopped + lost_after else "ConnectionLost"
    if ping is None:
        return None
    platform_type, platform_name, platform_version = _platform(ec2_backend, instance)
    ip = instance.private_ip or "10.0.0.10"
    domain = "ec2.internal" if region == "us-east-1" else f"{region}.compute.internal"
    computer = (
        f"EC2AMAZ-{instance.id[-7:].upper()}"
        if platform_type == "Windows"
        else f"ip-{ip.replace('.', '-')}.{domain}"
    )
    # IamRole is left out for EC2: DescribeInstanceInformation returns it only for Quick Setup
    # host management roles and on-premises (hybrid) nodes.
    # https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_DescribeInstanceInformation.html
    item: Json = {
        "InstanceId": instance.id,
        "PingStatus": ping,
        "LastPingDateTime": track.last_ping or track.registered_at or _now(),
        "AgentVersion": track.agent_version,
        "IsLatestVersion": track.agent_version == LATEST_AGENT_VERSION,
        "PlatformType": platform_type,
        "PlatformName": platform_name,
        "PlatformVersion": platform_version,
        "ResourceType": "EC2Instance",
        "IPAddress": ip,
        "ComputerName": computer,
        "SourceId": instance.id,
        "SourceType": "AWS::EC2::Instance",
    }
    item["Tags"] = _tags_of_instance(instance)
    return item


def _hybrid_node(account_id: str, region: str, node: HybridNode) -> Json:
    state = _state(account_id, region)
    now = time.time()
    fault = state.faults.get(node.node_id, {})
    if heartbeat_allowed(account_id, region, node.iam_role, node.node_id):
        if node.allowed_since is None:
            node.allowed_since = node.registered_time if node.last_denied is None else now
            node.last_denied = None
    else:
        node.allowed_since = None
        node.last_denied = now
    ping = _ping_for(
        now=now,
        eligible_since=node.allowed_since,
        registered=True,
        override=node.ping_override,
        reboot_until=node.reboot_until,
        lost=node.lost,
        never_online=bool(fault.get("never_online")),
    )
    if ping == "Online":
        node.online_seen = True
        node.last_ping = _now()
    item: Json = {
        "InstanceId": node.node_id,
        "PingStatus": ping or "ConnectionLost",
        "LastPingDateTime": node.last_ping or node.registered_at,
        "AgentVersion": node.agent_version,
        "IsLatestVersion": node.agent_version == LATEST_AGENT_VERSION,
        "PlatformType": node.platform,
        "PlatformName": (
            "Microsoft Windows Server 2022 Datacenter" if node.platform == "Windows" else "Ubuntu"
        ),
        "PlatformVersion": "10.0.20348" if node.platform == "Windows" else "22.04",
        "ActivationId": node.activation_id,
        "IamRole": node.iam_role,
        "RegistrationDate": node.registered_at,
        "ResourceType": "ManagedInstance",
        "IPAddress": node.ip_address,
        "ComputerName": node.computer_name,
        # An Azure VM registered with its VM id is reported with the Azure source type
        # (botocore's SourceType enum); other hybrid nodes are their own source.
        "SourceId": node.source_id or node.node_id,
        "SourceType": (
            "Microsoft.Compute/virtualMachines" if node.source_id else "AWS::SSM::ManagedInstance"
        ),
    }
    if node.name:
        item["Name"] = node.name
    item["Tags"] = _hybrid_tags(account_id, region, node.node_id)
    return item


def nodes(account_id: str, region: str) -> list[dict[str, Any]]:
    """Every managed node of ``account_id`` in ``region``, evaluated now.

    Returns:
        DescribeInstanceInformation ``InstanceInformationList`` items (EC2 nodes first, in
        launch order, then hybrid nodes in registration order), each with ``"Tags"``
        ({key: value}: the instance's EC2 tags, or the ManagedInstance tags of a hybrid node).
    """
    ec2_backend = ec2_backends[account_id][region]
    found: list[Json] = []
    with _LOCK:
        for instance in ec2_backend.all_instances():
            item = _ec2_node(account_id, region, ec2_backend, instance)
            if item is not None:
                found.append(item)
        for node in list(_state(account_id, region).hybrid.values()):
            found.append(_hybrid_node(account_id, region, node))
    return found


def node(account_id: str, region: str, node_id: str) -> Json | None:
    """One managed node as :func:`nodes` returns it, or None when ``node_id`` is not one now."""
    with _LOCK:
        hybrid = _state(account_id, region).hybrid.get(node_id)
        if hybrid is not None:
            return _hybrid_node(account_id, region, hybrid)
        if node_id.startswith("mi-"):
            return None
        ec2_backend = ec2_backends[account_id][region]
        for instance in ec2_backend.all_instances():
            if instance.id == node_id:
                return _ec2_node(account_id, region, ec2_backend, instance)
    return None


def node_role(account_id: str, region: str, node_id: str) -> str | None:
    """The role name the agent of ``node_id`` uses (instance profile role / activation role)."""
    with _LOCK:
        hybrid = _state(account_id, region).hybrid.get(node_id)
        if hybrid is not None:
            return _role_name(hybrid.iam_role)
    return _instance_role(ec2_backends[account_id][region], node_id)


def ec2_state(account_id: str, region: str, instance_id: str) -> str | None:
    """EC2 state name of ``instance_id`` (None for hybrid / unknown ids)."""
    for instance in ec2_backends[account_id][region].all_instances():
        if instance.id == instance_id:
            return str(instance.state)
    return None


def set_ping_override(account_id: str, region: str, node_id: str, status: str | None) -> None:
    """Force (``"ConnectionLost"``/``"Inactive"``) or clear (None/``"Online"``) a node's ping."""
    value = None if status in (None, "Online") else status
    with _LOCK:
        state = _state(account_id, region)
        target: Track | HybridNode | None = state.hybrid.get(node_id) or state.tracks.get(node_id)
        if target is not None:
            target.ping_override = value


def reboot_node(account_id: str, region: str, node_id: str, cancelled: threading.Event) -> bool:
    """Reboot a node's OS (see :meth:`CommandContext.reboot`); blocks up to the online delay."""
    with _LOCK:
        state = _state(account_id, region)
        target: Track | HybridNode | None = state.hybrid.get(node_id) or state.tracks.get(node_id)
        if target is None:
            return False
        delay = float(_CONFIG["online_delay_seconds"])
        target.reboot_until = time.time() + delay
        lost = bool(state.faults.get(node_id, {}).get("lost_after_reboot"))
        if lost:
            target.lost = True
    if cancelled.wait(delay):
        return False
    return not lost


def set_agent_version(account_id: str, region: str, node_id: str, version: str) -> None:
    """Record the SSM Agent version a node runs (AWS-UpdateSSMAgent)."""
    with _LOCK:
        state = _state(account_id, region)
        target: Track | HybridNode | None = state.hybrid.get(node_id) or state.tracks.get(node_id)
        if target is not None:
            target.agent_version = version


# --- hybrid registration ------------------------------------------------------------------------
def register_hybrid(
    account_id: str,
    region: str,
    activation_id: str,
    activation_code: str,
    *,
    name: str | None = None,
    platform: str = "Linux",
    source_id: str | None = None,
    computer_name: str | None = None,
) -> str:
    """Register a server or VM with a hybrid activation, as ``amazon-ssm-agent -register`` does.

    The activation must exist, the code match, the activation not be expired and its
    RegistrationsCount be below RegistrationLimit (the count is incremented). The node's role is
    the activation's IamRole; the activation's tags are applied to the node (CreateActivation:
    "the tags are applied to the managed nodes that register with the activation").
    https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_CreateActivation.html
    https://docs.aws.amazon.com/systems-manager/latest/userguide/hybrid-multicloud-ssm-agent-install-linux.html

    Args:
        name: the node's Name (default: the activation's DefaultInstanceName).
        platform: ``"Linux"`` or ``"Windows"``.
        source_id: an Azure VM's id (``vmId``, the pattern ``^[a-zA-Z0-9:_-]*$``): the node is
            reported with SourceType ``Microsoft.Compute/virtualMachines``.
        computer_name: the host's name as the agent reports it, DescribeInstanceInformation's
            ``ComputerName`` ("The fully qualified host name of the managed node", 1-255
            characters, https://docs.aws.amazon.com/systems-manager/latest/APIReference/
            API_InstanceInformation.html); default: ``name`` or ``hybrid-<n>``.

    Returns:
        The managed node id, ``mi-`` and 17 hex digits.

    Raises:
        ControlError: ``InvalidActivationId`` / ``InvalidActivation`` / ``ActivationExpired``
            / ``RegistrationLimitExceeded`` style messages, as the agent reports them, or a bad
            platform / source id.
    """
    from .ssm import extension_state  # noqa: PLC0415 - ssm imports nothing of the agent

    if platform not in ("Linux", "Windows"):
        raise ControlError(f"platform must be Linux or Windows, got {platform!r}")
    if source_id is not None and (
        not isinstance(source_id, str)
        or len(source_id) > 128
        or any(not (c.isalnum() or c in ":_-") for c in source_id)
    ):
        raise ControlError(f"source_id {source_id!r} does not match ^[a-zA-Z0-9:_-]*$")
    if computer_name is not None and (
        not isinstance(computer_name, str) or not 1 <= len(computer_name) <= 255
    ):
        raise ControlError(f"computer_name must be 1-255 characters, got {computer_name!r}")
    with _LOCK:
        activations = extension_state(account_id, region).activations
        activation = activations.get(activation_id)
        if activation is None:
            raise ControlError(f"InvalidActivationId: Activation ID {activation_id} is not valid.")
        if not secrets.compare_digest(str(activation.code), str(activation_code)):
            raise ControlError(f"InvalidActivation: Activation code for {activation_id} is wrong.")
        if activation.expiration <= _now():
            raise ControlError(f"ActivationExpired: Activation {activation_id} has expired.")
        count = int(getattr(activation, "registrations_count", 0))
        if count >= activation.registration_limit:
            raise ControlError(
                f"InvalidActivation: Activation {activation_id} has reached its registration "
                f"limit of {activation.registration_limit}."
            )
        activation.registrations_count = count + 1
        node_id = "mi-" + secrets.token_hex(9)[:17]
        number = len(_state(account_id, region).hybrid) + 1
        node = HybridNode(
            node_id=node_id,
            activation_id=activation_id,
            iam_role=activation.iam_role,
            name=name or activation.default_instance_name,
            platform=platform,
            source_id=source_id,
            registered_at=_now(),
            registered_time=time.time(),
            computer_name=computer_name or (name or f"hybrid-{number}").replace(" ", "-")[:255],
            ip_address=f"172.16.{number // 250}.{number % 250 + 4}",
        )
        _state(account_id, region).hybrid[node_id] = node
        tags = {tag["Key"]: tag["Value"] for tag in activation.tags}
        if tags:
            ssm_backends[account_id][region]._resource_tags["ManagedInstance"][node_id] = tags
    return node_id


def deregister_hybrid(account_id: str, region: str, node_id: str) -> None:
    """Remove a hybrid node (DeregisterManagedInstance).

    Raises:
        EmulatedError: ``InvalidInstanceId`` when ``node_id`` is not a registered hybrid node.
    """
    with _LOCK:
        state = _state(account_id, region)
        if state.hybrid.pop(node_id, None) is None:
            raise EmulatedError("InvalidInstanceId", f"Instance id {node_id} is not valid.")
        ssm_backends[account_id][region]._resource_tags["ManagedInstance"].pop(node_id, None)
        state.faults.pop(node_id, None)


# --- DescribeInstanceInformation ----------------------------------------------------------------
# https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_DescribeInstanceInformation.html
# https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_InstanceInformationStringFilter.html
_FILTER_FIELDS = {
    "InstanceIds": "InstanceId",
    "AgentVersion": "AgentVersion",
    "PingStatus": "PingStatus",
    "PlatformTypes": "PlatformType",
    "ActivationIds": "ActivationId",
    "IamRole": "IamRole",
    "ResourceType": "ResourceType",
    "AssociationStatus": "AssociationStatus",
    # Filters only (InstanceInformationStringFilter's documented keys; the legacy
    # InstanceInformationFilterList's key enum has neither, botocore refuses them there).
    "SourceIds": "SourceId",
    "SourceTypes": "SourceType",
}


def _matches(item: Json, key: str, values: list[str]) -> bool:
    if key.startswith("tag:"):
        return item["Tags"].get(key[4:]) in values
    if key == "tag-key":
        return any(value in item["Tags"] for value in values)
    return str(item.get(_FILTER_FIELDS[key], "")) in values


def describe_instance_information(account_id: str, region: str, params: Json) -> Json:
    """DescribeInstanceInformation over :func:`nodes` (request already shape-checked).

    Raises:
        EmulatedError: ``InvalidFilterKey`` (unknown key, both filter lists given, or a tag
            filter combined with another filter type),
            ``InvalidInstanceInformationFilterValue`` (an empty value), ``InvalidInstanceId``
            (an id that is neither an EC2 instance nor a hybrid node of the account),
            ``InvalidNextToken``.
    """
    legacy = params.get("InstanceInformationFilterList") or []
    modern = params.get("Filters") or []
    if legacy and modern:
        raise EmulatedError(
            "InvalidFilterKey",
            "InstanceInformationFilterList and Filters cannot be used in the same request.",
        )
    filters = [(f["key"], f["valueSet"]) for f in legacy] + [
        (f["Key"], f["Values"]) for f in modern
    ]
    tagged = [k for k, _ in filters if k == "tag-key" or k.startswith("tag:")]
    if tagged and len(tagged) < len(filters):
        # "Tag filters can't be combined with other filter types" (DescribeInstanceInformation,
        # Filters). The error code AWS answers with is not documented; InvalidFilterKey is ours.
        raise EmulatedError(
            "InvalidFilterKey", "Tag filters can't be combined with other filter types."
        )
    for key, values in filters:
        if key not in _FILTER_FIELDS and key != "tag-key" and not key.startswith("tag:"):
            raise EmulatedError("InvalidFilterKey", f"The filter key {key} is not valid.")
        if any(not value for value in values):
            raise EmulatedError(
                "InvalidInstanceInformationFilterValue", f"A value of filter {key} is empty."
            )
    items = nodes(account_id, region)
    for key, values in filters:
        if key == "InstanceIds":
            known = {i.id for i in ec2_backends[account_id][region].all_instances()}
            known |= set(_state(account_id, region).hybrid)
            unknown = [value for value in values if value not in known]
            if unknown:
                raise EmulatedError("InvalidInstanceId", f"Instance ids {unknown} are not valid.")
        items = [item for item in items if _matches(item, key, values)]
    shown = [{k: v for k, v in item.items() if k != "Tags"} for item in items]
    found, extra = page(shown, params)
    return {"InstanceInformationList": found, **extra}


class _Operations:
    """Response methods copied onto moto's ``SimpleSystemManagerResponse`` by :func:`install`."""

    body: Any
    current_account: str
    region: str

    def describe_instance_information(self) -> ActionResult:
        params = parse_request("ssm", "DescribeInstanceInformation", self.body)
        return ActionResult(
            describe_instance_information(self.current_account, self.region, params)
        )

    def deregister_managed_instance(self) -> ActionResult:
        params = parse_request("ssm", "DeregisterManagedInstance", self.body)
        deregister_hybrid(self.current_account, self.region, params["InstanceId"])
        return EmptyResult()


OPERATIONS = ("DescribeInstanceInformation", "DeregisterManagedInstance")

_ORIGINAL_VALIDATE: Any = None


def _validate_resource_type_and_id(
    self: SimpleSystemManagerBackend, resource_type: str, resource_id: str
) -> str:
    """Tag calls on ``ManagedInstance``: the hybrid nodes of the account and Region."""
    if resource_type == "ManagedInstance":
        state = self.__dict__.get("fleetpatch_agent")
        if isinstance(state, AgentState) and resource_id in state.hybrid:
            return resource_id
        raise EmulatedError("InvalidResourceId", "Invalid Resource Id")
    result: str = _ORIGINAL_VALIDATE(self, resource_type, resource_id)
    return result


# --- control endpoints --------------------------------------------------------------------------
def _where(body: Json) -> tuple[str, str]:
    account_id, region = body.get("account_id"), body.get("region")
    if not isinstance(account_id, str) or not account_id.isdigit() or len(account_id) != 12:
        raise ControlError("account_id must be a 12-digit account id")
    if not isinstance(region, str) or not region:
        raise ControlError("region is required")
    return account_id, region


@route("POST", "agent/register-hybrid")
def _register_hybrid_endpoint(body: Json) -> Json:
    account_id, region = _where(body)
    node_id = register_hybrid(
        account_id,
        region,
        str(body.get("activation_id", "")),
        str(body.get("activation_code", "")),
        name=body.get("name"),
        platform=body.get("platform", "Linux"),
        source_id=body.get("source_id"),
        computer_name=body.get("computer_name"),
    )
    return {"instance_id": node_id}


@route("POST", "agent/faults")
def _faults_endpoint(body: Json) -> Json:
    account_id, region = _where(body)
    node_id = body.get("instance_id")
    if not isinstance(node_id, str) or not node_id.startswith(("i-", "mi-")):
        raise ControlError("instance_id must be an i- or mi- id")
    values = {k: v for k, v in body.items() if k not in ("account_id", "region", "instance_id")}
    return {"instance_id": node_id, "faults": set_faults(account_id, region, node_id, **values)}


@route("POST", "agent/config")
def _config_endpoint(body: Json) -> Json:
    return {"config": set_config(**body)}


@route("POST", "agent/nodes")
def _nodes_endpoint(body: Json) -> Json:
    account_id, region = _where(body)
    return {"nodes": nodes(account_id, region)}


@route("GET", "agent/nodes")
def _all_nodes_endpoint(body: Json) -> Json:
    with _LOCK:
        seen = sorted(_SEEN)
    return {
        "accounts": [
            {"account_id": account_id, "region": region, "nodes": nodes(account_id, region)}
            for account_id, region in seen
        ]
    }


# --- re-exported from tests.emulator.patching (helper PATCH owns them) ----------------------------
def inventory(account_id: str, region: str) -> dict[str, dict[str, Any]]:
    """``{node_id: {type_name: PutInventory item}}`` (:func:`tests.emulator.patching.inventory`)."""
    from . import patching  # noqa: PLC0415 - patching imports this module

    found: dict[str, dict[str, Any]] = patching.inventory(account_id, region)
    return found


def compliance_items(account_id: str, region: str) -> list[dict[str, Any]]:
    """ListComplianceItems items, every type (:func:`tests.emulator.patching.compliance_items`)."""
    from . import patching  # noqa: PLC0415

    found: list[dict[str, Any]] = patching.compliance_items(account_id, region)
    return found


def on_change(callback: Callable[[str, str, str], None]) -> None:
    """``callback(account_id, region, node_id)`` after compliance or inventory changed
    (:func:`tests.emulator.patching.on_change`)."""
    from . import patching  # noqa: PLC0415

    patching.on_change(callback)


# --- installation -------------------------------------------------------------------------------
def install() -> None:
    """Install the agent: EC2 hooks, the node and command operations, the built-in plugins.

    Idempotent; call after :func:`tests.emulator.ssm.install`.
    """
    global _ORIGINAL_VALIDATE  # noqa: PLW0603 - patched once per process
    from .agent_commands import install as install_commands  # noqa: PLC0415 - imports us

    _install_ec2_hooks()
    for operation in OPERATIONS:
        method = snake(operation)
        setattr(SimpleSystemManagerResponse, method, getattr(_Operations, method))
    if _ORIGINAL_VALIDATE is None:
        _ORIGINAL_VALIDATE = SimpleSystemManagerBackend._validate_resource_type_and_id
        setattr(  # noqa: B010 - replacing a method of moto's class
            SimpleSystemManagerBackend,
            "_validate_resource_type_and_id",
            _validate_resource_type_and_id,
        )
    install_commands()
