"""The SSM agent of the emulator: managed nodes, hybrid registration and SendCommand execution.

INTERFACE FIRST (the engine lands in the following commits): :class:`CommandContext`,
:class:`PluginResult`, :func:`register_document` and :func:`on_instance_state` are the contract
helper PATCH (``tests/emulator/patching.py``) and helper EVENTS build on.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from .iam import Principal

Json = dict[str, Any]
PluginStatus = Literal["Success", "Failed", "TimedOut"]


@dataclass
class PluginResult:
    """What a document's plugin reports for one node (one ``CommandPlugin`` of the invocation).

    Attributes:
        status: ``"Success"``, ``"Failed"`` or ``"TimedOut"`` (the plugin's status as
            ListCommandInvocations reports it).
        response_code: the plugin's exit code (``ResponseCode``; 0 on success).
        stdout: standard output (``StandardOutputContent``; AWS keeps the first 24,000
            characters in the API, the whole text goes to S3).
        stderr: standard error (``StandardErrorContent``, 8,000 characters in the API).
        plugin_name: AWS's plugin name (``Name`` of the CommandPlugin): ``"aws:runShellScript"``
            style step names are reported as AWS reports them, e.g. ``"PatchLinux"``,
            ``"PatchWindows"``, ``"runShellScript"``, ``"awsrunShellScript"``,
            ``"updateAgent"``.
    """

    status: PluginStatus
    response_code: int = 0
    stdout: str = ""
    stderr: str = ""
    plugin_name: str = "runShellScript"


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
            AWS ends the plugin TimedOut; plugins that wait should not exceed it.
        cancelled: set when CancelCommand reached this invocation; plugins that wait should use
            :meth:`sleep`, which returns early.
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
        """Set the node's PingStatus (``"Online"``, ``"ConnectionLost"``, ``"Inactive"``) now."""
        self._set_ping(status)

    def reboot(self) -> bool:
        """Reboot the node as AWS-RunPatchBaseline's ``RebootIfNeeded`` does.

        The node goes ConnectionLost, then Online again after the online delay; with the
        ``lost_after_reboot`` fault it stays ConnectionLost. Blocks until the node is back (or
        known lost).

        Returns:
            True when the agent came back Online, False when it was lost.
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


def register_document(name: str, plugin: Plugin) -> None:
    """Run ``plugin(ctx) -> PluginResult`` for every node a command of document ``name`` targets.

    ``name`` is the document name (``AWS-RunPatchBaseline``); registering again replaces it.
    """
    with _LOCK:
        _PLUGINS[name] = plugin


def on_instance_state(callback: InstanceStateCallback) -> None:
    """Call ``callback(account_id, region, instance_id, previous_state, new_state)`` after each
    EC2 instance state change (``pending``, ``running``, ``stopping``, ``stopped``,
    ``shutting-down``, ``terminated``), from the thread that made the change."""
    with _LOCK:
        _STATE_CALLBACKS.append(callback)
