"""Patch Manager, compliance and inventory on the emulator's managed nodes.

What runs here (helper PATCH of issue 12):

* A simulated package set per managed node (:mod:`tests.emulator.patch_catalog`): the
  catalogue of its operating system, split deterministically (seeded by the node id) into
  installed and missing patches; ``POST /fleetpatch/patching/packages`` overrides the split.
* The command plugins of ``AWS-RunPatchBaseline`` (Scan / Install, RebootOption, SnapshotId,
  BaselineOverride, InstallOverrideList), ``AWS-GatherSoftwareInventory`` and
  ``AWS-RefreshAssociation``, registered with :func:`tests.emulator.agent.register_document`;
  the agent's SendCommand engine runs them per node.
* The stores and the SSM APIs over them: DescribeInstancePatchStates(+ForPatchGroup),
  DescribeInstancePatches, ListComplianceItems, ListComplianceSummaries,
  ListResourceComplianceSummaries, PutComplianceItems, PutInventory, GetInventory,
  GetInventorySchema, ListInventoryEntries (moto 5.2.5 has none of them).
* State Manager associations (stored by :mod:`tests.emulator.ssm`) run on their targets with
  ``POST /fleetpatch/patching/run-associations``, recording Association compliance.

Python interface (thread-safe): :func:`inventory`, :func:`compliance_items`, :func:`on_change`,
:func:`node_packages`, :func:`set_missing`, :func:`run_associations`.

AWS pages each rule follows are cited where the rule is implemented; see also the README
section "patching".
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlparse

import yaml
from moto.core.responses import ActionResult, EmptyResult
from moto.ssm.models import SimpleSystemManagerBackend, ssm_backends
from moto.ssm.responses import SimpleSystemManagerResponse

from . import control, iam
from . import patch_catalog as catalog
from .common import EmulatedError, Json, page, parse_request, snake

OPERATIONS = (
    "DescribeInstancePatchStates",
    "DescribeInstancePatchStatesForPatchGroup",
    "DescribeInstancePatches",
    "ListComplianceItems",
    "ListComplianceSummaries",
    "ListResourceComplianceSummaries",
    "PutComplianceItems",
    "PutInventory",
    "GetInventory",
    "GetInventorySchema",
    "ListInventoryEntries",
)
# https://docs.aws.amazon.com/systems-manager/latest/userguide/patch-manager-tag-a-patch-group.html:
# "the tag key must be Patch Group or PatchGroup".
PATCH_GROUP_KEYS = ("PatchGroup", "Patch Group")
# Patch states that make a node NON_COMPLIANT ("The results only print out packages that are
# marked as NON_COMPLIANT. This means the package is marked as Missing, Failed,
# InstalledRejected, or InstalledPendingReboot", patch-manager-baselineoverride-parameter.html).
NON_COMPLIANT_STATES = {"Missing", "Failed", "InstalledRejected", "InstalledPendingReboot"}
RUN_PATCH_BASELINE = "AWS-RunPatchBaseline"
GATHER_INVENTORY = "AWS-GatherSoftwareInventory"
REFRESH_ASSOCIATION = "AWS-RefreshAssociation"

# Whether associations run through the agent's command engine (agent_commands.send_command);
# False calls the registered plugin directly (unit tests with hand-made nodes).
USE_COMMAND_ENGINE = True
_LOCK = threading.RLock()
_CALLBACKS: list[Callable[[str, str, str], None]] = []


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


# --- state --------------------------------------------------------------------------------------
@dataclass
class NodePackages:
    """The simulated package state of one node: patch id → state.

    States: ``Installed``, ``InstalledPendingReboot``, ``Missing``, ``Failed`` (installed
    patches are ``Installed`` whatever the baseline; the baseline decides what is reported).
    """

    system: str
    states: dict[str, str]
    installed_time: dict[str, dt.datetime] = field(default_factory=dict)


@dataclass
class ComplianceRecord:
    """The compliance of one resource for one compliance type (``Patch``, ``Association``,
    ``Custom:*``): its items by id and the execution summary of the last upload."""

    resource_id: str
    resource_type: str
    compliance_type: str
    execution: Json
    items: dict[str, Json] = field(default_factory=dict)


@dataclass
class PatchingState:
    """What this module keeps for one account and Region (on moto's SSM backend)."""

    packages: dict[str, NodePackages] = field(default_factory=dict)
    patch_states: dict[str, Json] = field(default_factory=dict)
    patch_data: dict[str, list[Json]] = field(default_factory=dict)
    compliance: dict[tuple[str, str], ComplianceRecord] = field(default_factory=dict)
    inventory: dict[str, dict[str, Json]] = field(default_factory=dict)
    # (snapshot id, baseline id or override digest, operating system) → approved id → level
    snapshots: dict[tuple[str, str, str], dict[str, str]] = field(default_factory=dict)
    association_runs: dict[str, dict[str, str]] = field(default_factory=dict)


def _state_of(backend: SimpleSystemManagerBackend) -> PatchingState:
    state = backend.__dict__.get("fleetpatch_patching")
    if not isinstance(state, PatchingState):
        state = PatchingState()
        backend.__dict__["fleetpatch_patching"] = state
    return state


def state(account_id: str, region: str) -> PatchingState:
    """The patching state of ``account_id`` in ``region`` (cleared by moto's reset)."""
    return _state_of(ssm_backends[account_id][region])


def on_change(callback: Callable[[str, str, str], None]) -> None:
    """Call ``callback(account_id, region, node_id)`` after a node's compliance or inventory
    changed (from the thread that changed it, outside this module's lock)."""
    with _LOCK:
        _CALLBACKS.append(callback)


def _changed(account_id: str, region: str, node_id: str) -> None:
    with _LOCK:
        callbacks = list(_CALLBACKS)
    for callback in callbacks:
        callback(account_id, region, node_id)


# --- nodes (owned by the agent) -----------------------------------------------------------------
def _nodes(account_id: str, region: str) -> list[Json]:
    from . import agent  # noqa: PLC0415 - agent imports this module

    lister = getattr(agent, "nodes", None)
    if lister is None:
        return []
    found: list[Json] = lister(account_id, region)
    return found


def _node(account_id: str, region: str, node_id: str) -> Json | None:
    return next((n for n in _nodes(account_id, region) if n.get("InstanceId") == node_id), None)


def patch_group_of(node: Json) -> str:
    """The node's patch group: the value of its ``PatchGroup`` or ``Patch Group`` tag, or ""."""
    tags = node.get("Tags") or {}
    return next((str(tags[key]) for key in PATCH_GROUP_KEYS if key in tags), "")


def _packages(st: PatchingState, node: Json) -> NodePackages:
    node_id = str(node["InstanceId"])
    found = st.packages.get(node_id)
    if found is None:
        system = catalog.operating_system(node)
        missing = catalog.seeded_missing(node_id, system)
        released = _now()
        found = NodePackages(
            system,
            {
                p.kb_id: "Missing" if p.kb_id in missing else "Installed"
                for p in catalog.catalogue(system)
                if catalog.applicable(system, p)
            },
        )
        found.installed_time = {
            pid: p.release_date(released) + dt.timedelta(days=1)
            for pid, p in catalog.by_id(system).items()
            if found.states.get(pid) == "Installed"
        }
        st.packages[node_id] = found
    return found


def node_packages(account_id: str, region: str, node: Json) -> dict[str, str]:
    """The simulated package states of ``node`` (patch id → Installed/Missing/...), a copy."""
    with _LOCK:
        return dict(_packages(state(account_id, region), node).states)


def set_missing(account_id: str, region: str, node: Json, missing: Iterable[str]) -> Json:
    """Make exactly ``missing`` (patch ids) the node's missing patches; the others Installed.

    Raises:
        control.ControlError: an id is not a patch of the node's operating system.
    """
    wanted = set(missing)
    with _LOCK:
        pk = _packages(state(account_id, region), node)
        unknown = sorted(wanted - set(pk.states))
        if unknown:
            raise control.ControlError(
                f"not patches of {pk.system} on {node['InstanceId']}: {unknown} "
                f"(known: {sorted(pk.states)})"
            )
        stamp = _now()
        for pid in pk.states:
            pk.states[pid] = "Missing" if pid in wanted else "Installed"
            if pid not in wanted:
                pk.installed_time.setdefault(pid, stamp)
        return {"instance_id": node["InstanceId"], "system": pk.system, "packages": dict(pk.states)}


# --- baselines ----------------------------------------------------------------------------------
def _baseline_json(backend: SimpleSystemManagerBackend, baseline: Any) -> Json:
    return {
        "BaselineId": baseline.id,
        "Name": baseline.name,
        "OperatingSystem": baseline.operating_system,
        "GlobalFilters": baseline.global_filters or {"PatchFilters": []},
        "ApprovalRules": baseline.approval_rules or {"PatchRules": []},
        "ApprovedPatches": baseline.approved_patches or [],
        "ApprovedPatchesComplianceLevel": baseline.approved_patches_compliance_level
        or "UNSPECIFIED",
        "ApprovedPatchesEnableNonSecurity": bool(baseline.approved_patches_enable_non_security),
        "RejectedPatches": baseline.rejected_patches or [],
        "RejectedPatchesAction": baseline.rejected_patches_action or "ALLOW_AS_DEPENDENCY",
    }


def baseline_for(account_id: str, region: str, node: Json) -> tuple[str, Json]:
    """The patch group of ``node`` and the patch baseline AWS-RunPatchBaseline uses on it.

    The baseline registered for the node's patch group and operating system
    (RegisterPatchBaselineForPatchGroup), else the operating system's default — AWS's
    predefined baseline (moto has no RegisterDefaultPatchBaseline). "If no patch group is
    specified, the document uses the patch baseline that is specified as the default for the
    operating system type", https://docs.aws.amazon.com/systems-manager/latest/userguide/patch-manager-aws-runpatchbaseline.html.

    Returns:
        ``(patch group or "", baseline in GetPatchBaseline's shape)``.
    """
    from .ssm import extension_state  # noqa: PLC0415

    backend = ssm_backends[account_id][region]
    system = catalog.operating_system(node)
    group = patch_group_of(node)
    baseline_id = extension_state(account_id, region).patch_groups.get(group, {}).get(system)
    if baseline_id is not None and baseline_id in backend.baselines:
        return group, _baseline_json(backend, backend.baselines[baseline_id])
    default_id, _, _ = backend.get_patch_baseline_for_patch_group(
        patch_group=f"fleetpatch-unregistered-{uuid.uuid4()}", operating_system=system
    )
    return group, catalog.predefined_baseline(system, default_id)


# --- S3 reads with the node role ----------------------------------------------------------------
class OverrideError(Exception):
    """A BaselineOverride / InstallOverrideList object could not be read (message for stderr)."""


def _read_s3(ctx: Any, url: str) -> bytes:
    """The object at ``url`` (``s3://b/k`` or ``https://b.s3.<region>.amazonaws.com/k`` /
    ``https://s3.<region>.amazonaws.com/b/k``), read with the node role (IAM evaluated)."""
    from moto.s3.models import s3_backends  # noqa: PLC0415

    parsed = urlparse(url)
    if parsed.scheme == "s3":
        bucket, key = parsed.netloc, parsed.path.lstrip("/")
    elif parsed.scheme == "https" and ".s3" in parsed.netloc and not parsed.netloc.startswith("s3"):
        bucket, key = parsed.netloc.split(".s3", 1)[0], parsed.path.lstrip("/")
    elif parsed.scheme == "https" and parsed.netloc.startswith("s3"):
        bucket, _, key = parsed.path.lstrip("/").partition("/")
    else:
        raise OverrideError(f"{url} is not an S3 URL")
    key = unquote(key)
    backend = s3_backends[ctx.account_id]["aws"]
    found = backend.buckets.get(bucket)
    if found is None:
        raise OverrideError(f"An error occurred (NoSuchBucket) when calling GetObject: {bucket}")
    policy = json.loads(found.policy) if found.policy else None
    if ctx.principal is not None:
        try:
            iam.authorize(
                ctx.principal,
                "s3:GetObject",
                f"arn:aws:s3:::{bucket}/{key}",
                resource_policy=policy,
                resource_account=found.account_id,
            )
        except iam.AccessDenied as error:
            raise OverrideError(
                f"An error occurred (AccessDenied) when calling the GetObject operation: {error}"
            ) from error
    obj = found.keys.get(key)
    if obj is None:
        raise OverrideError(f"An error occurred (NoSuchKey) when calling GetObject: {key}")
    value: bytes = obj.value
    return value


def _authorize_node(ctx: Any, action: str) -> None:
    """The agent's own call (``ssm:PutComplianceItems`` ...) with the node role."""
    if ctx.principal is not None:
        iam.authorize(ctx.principal, action, "*")


# --- AWS-RunPatchBaseline -----------------------------------------------------------------------
def _param(ctx: Any, name: str, default: str = "") -> str:
    values = ctx.parameters.get(name) or []
    return str(values[0]) if values and values[0] is not None else default


def _plugin_result(status: str, code: int, out: str, err: str, name: str) -> Any:
    from .agent import PluginResult  # noqa: PLC0415

    return PluginResult(status, code, out, err, name)  # type: ignore[arg-type]


def run_patch_baseline(ctx: Any) -> Any:  # noqa: PLR0911 - one exit per documented outcome
    """The ``AWS-RunPatchBaseline`` plugin on one node (``PatchLinux`` / ``PatchWindows``).

    https://docs.aws.amazon.com/systems-manager/latest/userguide/patch-manager-aws-runpatchbaseline.html:
    ``Operation`` Scan (report only, never reboots) or Install (install the approved missing
    patches); ``RebootOption`` RebootIfNeeded (reboot when something was installed or a patch
    is InstalledPendingReboot) or NoReboot (installed patches are InstalledPendingReboot);
    ``SnapshotId`` (one approved set for every node using the snapshot id); ``BaselineOverride``
    (baselines from an S3 object, compliance not reported); ``InstallOverrideList`` (Install
    only the listed patches). BaselineOverride with InstallOverrideList fails the node
    (patch-manager-baselineoverride-parameter.html: the two "can't be used together ... the
    patching document fails").

    Faults (``ctx.faults``): ``patch_exit_code`` → the install fails with that exit code and the
    patches it tried are Failed; ``lost_after_reboot`` → handled by ``ctx.reboot()``;
    ``ctx.command_seconds`` → the plugin takes that long.

    Returns:
        ``agent.PluginResult``.
    """
    system = catalog.operating_system(ctx.node)
    plugin = "PatchWindows" if system == catalog.WINDOWS else "PatchLinux"
    operation = _param(ctx, "Operation", "Scan")
    reboot_option = _param(ctx, "RebootOption", "RebootIfNeeded")
    snapshot_id = _param(ctx, "SnapshotId") or str(uuid.uuid4())
    override_url = _param(ctx, "BaselineOverride")
    install_list_url = _param(ctx, "InstallOverrideList")
    started = _now()
    if operation not in ("Scan", "Install"):
        return _plugin_result("Failed", 1, "", f"Invalid Operation {operation}", plugin)
    if override_url and install_list_url:
        return _plugin_result(
            "Failed",
            1,
            "",
            "BaselineOverride and InstallOverrideList cannot be used together; "
            "the patching operation did not scan or install.",
            plugin,
        )
    if ctx.command_seconds and not ctx.sleep(ctx.command_seconds):
        return _plugin_result("Failed", 1, "", "Command cancelled", plugin)
    try:
        _authorize_node(ctx, "ssm:GetDeployablePatchSnapshotForInstance")
        group, baseline = baseline_for(ctx.account_id, ctx.region, ctx.node)
        baseline_key = str(baseline["BaselineId"])
        if override_url:
            baseline, baseline_key = _override_baseline(ctx, override_url, system, baseline)
        install_only: list[str] | None = None
        if install_list_url and operation == "Install":
            install_only = _install_list(ctx, install_list_url)
    except (OverrideError, iam.AccessDenied) as error:
        return _plugin_result("Failed", 1, "", str(error), plugin)

    approval = catalog.approved_patches(baseline, system)
    with _LOCK:
        st = state(ctx.account_id, ctx.region)
        pinned = st.snapshots.setdefault(
            (snapshot_id, baseline_key, system), dict(approval.approved)
        )
        approval.approved = dict(pinned)
        pk = _packages(st, ctx.node)
    lines = [
        f"Patch group: {group or '(none)'}; baseline: {baseline['BaselineId']}; "
        f"snapshot: {snapshot_id}; operation: {operation}"
    ]
    code, status, rebooted_ok = 0, "Success", True
    if operation == "Install":
        code, status, rebooted_ok = _install(ctx, pk, approval, reboot_option, install_only, lines)
    if not rebooted_ok:
        # The agent never came back after the reboot: nothing more is reported from the node.
        return _plugin_result("TimedOut", -1, "\n".join(lines), "", plugin)
    if not override_url:
        try:
            _authorize_node(ctx, "ssm:PutComplianceItems")
        except iam.AccessDenied as error:
            return _plugin_result("Failed", 1, "\n".join(lines), str(error), plugin)
        _record_patch_state(
            ctx,
            group,
            baseline,
            approval,
            operation,
            reboot_option,
            snapshot_id,
            install_list_url,
            started,
        )
        _changed(ctx.account_id, ctx.region, ctx.node_id)
    with _LOCK:
        summary = _report(pk, approval)
    lines.append(json.dumps(summary, sort_keys=True))
    return _plugin_result(status, code, "\n".join(lines), "" if code == 0 else lines[-2], plugin)


def _override_baseline(ctx: Any, url: str, system: str, current: Json) -> tuple[Json, str]:
    raw = _read_s3(ctx, url)
    try:
        loaded = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise OverrideError(f"BaselineOverride {url} is not JSON: {error}") from error
    candidates = loaded if isinstance(loaded, list) else [loaded]
    for candidate in candidates:
        if isinstance(candidate, dict) and candidate.get("OperatingSystem") == system:
            body = dict(candidate)
            body.setdefault("BaselineId", current["BaselineId"])
            digest = hashlib.sha256(json.dumps(candidate, sort_keys=True).encode()).hexdigest()
            return body, f"override-{digest[:16]}"
    # No baseline of the node's operating system in the object: the node's own baseline.
    return current, str(current["BaselineId"])


def _install_list(ctx: Any, url: str) -> list[str]:
    # https://docs.aws.amazon.com/systems-manager/latest/userguide/patch-manager-aws-runpatchbaseline.html
    # (InstallOverrideList: a YAML list "patches:" of {id, title}).
    raw = _read_s3(ctx, url)
    try:
        loaded = yaml.safe_load(raw.decode("utf-8")) or {}
    except (UnicodeDecodeError, yaml.YAMLError) as error:
        raise OverrideError(f"InstallOverrideList {url} is not YAML: {error}") from error
    patches = loaded.get("patches") if isinstance(loaded, dict) else None
    if not isinstance(patches, list):
        raise OverrideError(f"InstallOverrideList {url} has no 'patches' list")
    return [str(p.get("id")) for p in patches if isinstance(p, dict) and p.get("id")]


def _install(  # noqa: PLR0917 - one private step of the plugin
    ctx: Any,
    pk: NodePackages,
    approval: catalog.Approval,
    reboot_option: str,
    install_only: list[str] | None,
    lines: list[str],
) -> tuple[int, str, bool]:
    patches = catalog.by_id(pk.system)
    with _LOCK:
        if install_only is not None:
            targets = [
                pid
                for pid, s in pk.states.items()
                if s in ("Missing", "Failed")
                and catalog.name_matches(patches[pid], install_only)
                and pid not in approval.rejected
            ]
        else:
            targets = [
                pid
                for pid, s in pk.states.items()
                if s in ("Missing", "Failed") and pid in approval.approved
            ]
        exit_code = ctx.faults.get("patch_exit_code")
        if exit_code not in (None, 0):
            for pid in targets:
                pk.states[pid] = "Failed"
            lines.append(f"Failed to install {len(targets)} patches: {', '.join(sorted(targets))}")
            return int(exit_code), "Failed", True
        stamp = _now()
        after = "Installed" if reboot_option == "RebootIfNeeded" else "InstalledPendingReboot"
        for pid in targets:
            pk.states[pid] = after
            pk.installed_time[pid] = stamp
        pending = [pid for pid, s in pk.states.items() if s == "InstalledPendingReboot"]
    lines.append(f"Installed {len(targets)} patches: {', '.join(sorted(targets)) or '-'}")
    if reboot_option == "RebootIfNeeded" and (targets or pending):
        lines.append("Rebooting the managed node (RebootIfNeeded).")
        if not ctx.reboot():
            return -1, "TimedOut", False
        with _LOCK:
            for pid in pending:
                pk.states[pid] = "Installed"
    return 0, "Success", True


def _reported_state(pid: str, raw: str, approval: catalog.Approval) -> str | None:
    """The state Patch Manager reports for a patch, or None when it is not reported.

    Approved patches report their own state; installed patches the baseline does not approve
    are InstalledOther, rejected installed ones InstalledOther (ALLOW_AS_DEPENDENCY) or
    InstalledRejected (BLOCK) (RejectedPatchesAction, API_CreatePatchBaseline.html).
    """
    installed = raw in ("Installed", "InstalledPendingReboot")
    if pid in approval.rejected:
        if not installed:
            return None
        return "InstalledRejected" if approval.action == "BLOCK" else "InstalledOther"
    if pid in approval.approved:
        return raw
    return "InstalledOther" if installed else None


def _upper_state(value: str) -> str:
    """``InstalledPendingReboot`` → ``INSTALLED_PENDING_REBOOT`` (PatchComplianceDataState)."""
    if value.isupper():
        return value
    return "".join("_" + c if c.isupper() and i else c for i, c in enumerate(value)).upper()


def _report(pk: NodePackages, approval: catalog.Approval) -> Json:
    counts: dict[str, int] = {}
    for pid, raw in pk.states.items():
        reported = _reported_state(pid, raw, approval)
        if reported is not None:
            counts[reported] = counts.get(reported, 0) + 1
    return counts


def _record_patch_state(  # noqa: PLR0917 - one private step of the plugin
    ctx: Any,
    group: str,
    baseline: Json,
    approval: catalog.Approval,
    operation: str,
    reboot_option: str,
    snapshot_id: str,
    install_list_url: str,
    started: dt.datetime,
) -> None:
    end = _now()
    patches = catalog.by_id(catalog.operating_system(ctx.node))
    with _LOCK:
        st = state(ctx.account_id, ctx.region)
        pk = _packages(st, ctx.node)
        counts = {
            s: 0
            for s in (
                "Installed",
                "InstalledOther",
                "InstalledPendingReboot",
                "InstalledRejected",
                "Missing",
                "Failed",
                "NotApplicable",
            )
        }
        data: list[Json] = []
        items: dict[str, Json] = {}
        critical = security = other = 0
        for pid, patch in patches.items():
            raw = pk.states.get(pid)
            if raw is None:
                # Not applicable to this node: counted when the baseline approves it.
                if pid in approval.approved:
                    counts["NotApplicable"] += 1
                continue
            reported = _reported_state(pid, raw, approval)
            if reported is None:
                continue
            counts[reported] += 1
            level = approval.approved.get(pid, "UNSPECIFIED")
            noncompliant = reported in NON_COMPLIANT_STATES
            if noncompliant:
                if level == "CRITICAL":
                    critical += 1
                elif patch.classification in ("Security", "SecurityUpdates"):
                    security += 1
                else:
                    other += 1
            installed_at = pk.installed_time.get(pid)
            entry: Json = {
                "Title": patch.title,
                "KBId": patch.kb_id,
                "Classification": patch.classification or "",
                "Severity": patch.severity or "",
                "State": _upper_state(reported),
                "InstalledTime": installed_at or dt.datetime.fromtimestamp(0, dt.UTC),
            }
            if patch.cves:
                entry["CVEIds"] = ",".join(patch.cves)
            data.append(entry)
            # Details keys as PutComplianceItems documents them for patches
            # (https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutComplianceItems.html).
            details = {
                "DocumentName": RUN_PATCH_BASELINE,
                "DocumentVersion": "1",
                "Classification": patch.classification or "",
                "PatchBaselineId": str(baseline["BaselineId"]),
                "PatchGroup": group,
                "PatchSeverity": patch.severity or "",
                "PatchState": reported,
                "InstalledTime": installed_at.strftime("%Y-%m-%dT%H:%M:%SZ")
                if installed_at
                else "",
            }
            items[pid] = {
                "Id": pid,
                "Title": patch.title,
                "Severity": level,
                "Status": "NON_COMPLIANT" if noncompliant else "COMPLIANT",
                "Details": details,
            }
        patch_state: Json = {
            "InstanceId": ctx.node_id,
            "PatchGroup": group,
            "BaselineId": str(baseline["BaselineId"]),
            "SnapshotId": snapshot_id,
            "InstalledCount": counts["Installed"],
            "InstalledOtherCount": counts["InstalledOther"],
            "InstalledPendingRebootCount": counts["InstalledPendingReboot"],
            "InstalledRejectedCount": counts["InstalledRejected"],
            "MissingCount": counts["Missing"],
            "FailedCount": counts["Failed"],
            "UnreportedNotApplicableCount": 0,
            "NotApplicableCount": counts["NotApplicable"],
            "OperationStartTime": started,
            "OperationEndTime": end,
            "Operation": operation,
            "RebootOption": reboot_option,
            "CriticalNonCompliantCount": critical,
            "SecurityNonCompliantCount": security,
            "OtherNonCompliantCount": other,
        }
        if install_list_url:
            patch_state["InstallOverrideList"] = install_list_url
        previous = st.patch_states.get(ctx.node_id, {})
        if operation == "Install" and reboot_option == "NoReboot":
            patch_state["LastNoRebootInstallOperationTime"] = end
        elif "LastNoRebootInstallOperationTime" in previous:
            patch_state["LastNoRebootInstallOperationTime"] = previous[
                "LastNoRebootInstallOperationTime"
            ]
        st.patch_states[ctx.node_id] = patch_state
        st.patch_data[ctx.node_id] = data
        _put_compliance(
            st,
            ctx.node_id,
            "Patch",
            {"ExecutionTime": end, "ExecutionId": ctx.command_id, "ExecutionType": "Command"},
            items,
            complete=True,
        )


def _put_compliance(
    st: PatchingState,
    resource_id: str,
    compliance_type: str,
    execution: Json,
    items: dict[str, Json],
    *,
    complete: bool,
    resource_type: str = "ManagedInstance",
) -> None:
    key = (resource_id, compliance_type)
    record = st.compliance.get(key)
    if record is None or complete:
        record = ComplianceRecord(resource_id, resource_type, compliance_type, execution)
        st.compliance[key] = record
    record.execution = execution
    record.items.update(items)


# --- AWS-GatherSoftwareInventory ----------------------------------------------------------------
# Parameters and the inventory types they gather:
# https://docs.aws.amazon.com/systems-manager/latest/userguide/inventory-schema.html and
# https://docs.aws.amazon.com/systems-manager/latest/userguide/systems-manager-inventory.html
# ("Metadata collected by inventory"). Defaults as the document declares them.
INVENTORY_PARAMETERS = {
    "applications": ("AWS:Application", "Enabled", False),
    "awsComponents": ("AWS:AWSComponent", "Enabled", False),
    "networkConfig": ("AWS:Network", "Enabled", False),
    "windowsUpdates": ("AWS:WindowsUpdate", "Enabled", True),
    "instanceDetailedInformation": ("AWS:InstanceDetailedInformation", "Enabled", False),
    "services": ("AWS:Service", "Enabled", True),
    "windowsRoles": ("AWS:WindowsRole", "Enabled", True),
    "billingInfo": ("AWS:BillingInfo", "Enabled", False),
}
SCHEMA_VERSIONS = {
    "AWS:InstanceInformation": "1.0",
    "AWS:Application": "1.1",
    "AWS:AWSComponent": "1.0",
    "AWS:Network": "1.0",
    "AWS:WindowsUpdate": "1.0",
    "AWS:InstanceDetailedInformation": "1.0",
    "AWS:Service": "1.0",
    "AWS:WindowsRole": "1.0",
    "AWS:BillingInfo": "1.0",
}
SCHEMA_ATTRIBUTES = {
    "AWS:InstanceInformation": (
        "AgentType",
        "AgentVersion",
        "ComputerName",
        "InstanceId",
        "IpAddress",
        "PlatformName",
        "PlatformType",
        "PlatformVersion",
        "ResourceType",
        "InstanceStatus",
    ),
    "AWS:Application": (
        "Name",
        "ApplicationType",
        "Publisher",
        "Version",
        "InstalledTime",
        "Architecture",
        "URL",
        "Summary",
        "PackageId",
        "Release",
        "Epoch",
    ),
    "AWS:AWSComponent": (
        "Name",
        "ApplicationType",
        "Publisher",
        "Version",
        "InstalledTime",
        "Architecture",
        "URL",
    ),
    "AWS:Network": (
        "Name",
        "SubnetMask",
        "Gateway",
        "DHCPServer",
        "DNSServer",
        "MacAddress",
        "IPV4",
        "IPV6",
    ),
    "AWS:WindowsUpdate": ("HotFixId", "Description", "InstalledTime", "InstalledBy"),
    "AWS:InstanceDetailedInformation": (
        "CPUModel",
        "CPUCores",
        "CPUs",
        "CPUSpeedMHz",
        "CPUSockets",
        "CPUHyperThreadEnabled",
        "OSServicePack",
    ),
    "AWS:Service": (
        "Name",
        "DisplayName",
        "ServiceType",
        "Status",
        "DependentServices",
        "ServicesDependedOn",
        "StartType",
    ),
    "AWS:WindowsRole": (
        "Name",
        "DisplayName",
        "Path",
        "FeatureType",
        "DependsOn",
        "Description",
        "Installed",
        "InstalledState",
        "SubFeatures",
        "Parent",
    ),
    "AWS:BillingInfo": ("BillingProductId",),
}


def _content_hash(content: list[Json]) -> str:
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


def _item(type_name: str, content: list[Json], stamp: dt.datetime) -> Json:
    return {
        "TypeName": type_name,
        "SchemaVersion": SCHEMA_VERSIONS.get(type_name, "1.0"),
        "CaptureTime": stamp.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "ContentHash": _content_hash(content),
        "Content": content,
    }


def instance_information_item(node: Json, stamp: dt.datetime | None = None) -> Json:
    """The ``AWS:InstanceInformation`` inventory item SSM keeps for a managed node."""
    stamp = stamp or _now()
    node_id = str(node["InstanceId"])
    content = {
        "AgentType": "amazon-ssm-agent",
        "AgentVersion": str(node.get("AgentVersion") or "3.3.40.0"),
        "ComputerName": str(node.get("ComputerName") or node_id),
        "InstanceId": node_id,
        "IpAddress": str(node.get("IPAddress") or ""),
        "PlatformName": str(node.get("PlatformName") or ""),
        "PlatformType": str(node.get("PlatformType") or "Linux"),
        "PlatformVersion": str(node.get("PlatformVersion") or ""),
        "ResourceType": str(node.get("ResourceType") or "EC2Instance"),
        "InstanceStatus": "Active" if node.get("PingStatus") != "Inactive" else "Terminated",
    }
    return _item("AWS:InstanceInformation", [content], stamp)


def _gathered(
    node: Json, pk: NodePackages, wanted: set[str], stamp: dt.datetime
) -> dict[str, Json]:
    windows = pk.system == catalog.WINDOWS
    patches = catalog.by_id(pk.system)
    installed = [
        pid for pid, s in pk.states.items() if s in ("Installed", "InstalledPendingReboot")
    ]
    found: dict[str, Json] = {"AWS:InstanceInformation": instance_information_item(node, stamp)}
    if "AWS:Application" in wanted:
        apps: list[Json] = []
        for pid in sorted(installed):
            patch = patches[pid]
            if windows and patch.patch_set != "APPLICATION":
                continue
            version = patch.title.split(":")[-1] if not windows else "16.0"
            apps.append(
                {
                    "Name": patch.name if not windows else patch.product,
                    "ApplicationType": "System Environment/Base" if not windows else "",
                    "Publisher": "Amazon Linux" if not windows else "Microsoft Corporation",
                    "Version": version.split("-")[0],
                    "Architecture": "x86_64",
                    "InstalledTime": pk.installed_time.get(pid, stamp).strftime(
                        "%Y-%m-%dT%H:%M:%SZ"
                    ),
                }
            )
        found["AWS:Application"] = _item("AWS:Application", apps, stamp)
    if "AWS:AWSComponent" in wanted:
        found["AWS:AWSComponent"] = _item(
            "AWS:AWSComponent",
            [
                {
                    "Name": "amazon-ssm-agent",
                    "ApplicationType": "Admin",
                    "Publisher": "Amazon Web Services",
                    "Version": str(node.get("AgentVersion") or "3.3.40.0"),
                    "Architecture": "x86_64",
                }
            ],
            stamp,
        )
    if "AWS:Network" in wanted:
        found["AWS:Network"] = _item(
            "AWS:Network",
            [
                {
                    "Name": "eth0" if not windows else "Ethernet",
                    "SubnetMask": "255.255.255.0",
                    "Gateway": "",
                    "DHCPServer": "",
                    "DNSServer": "",
                    "MacAddress": "02:"
                    + ":".join(
                        hashlib.sha256(str(node["InstanceId"]).encode()).hexdigest()[i : i + 2]
                        for i in range(0, 10, 2)
                    ),
                    "IPV4": str(node.get("IPAddress") or ""),
                    "IPV6": "",
                }
            ],
            stamp,
        )
    if "AWS:InstanceDetailedInformation" in wanted:
        found["AWS:InstanceDetailedInformation"] = _item(
            "AWS:InstanceDetailedInformation",
            [
                {
                    "CPUModel": "Intel(R) Xeon(R) Platinum 8259CL CPU @ 2.50GHz",
                    "CPUCores": "1",
                    "CPUs": "2",
                    "CPUSpeedMHz": "2500",
                    "CPUSockets": "1",
                    "CPUHyperThreadEnabled": "true",
                    "OSServicePack": "0",
                }
            ],
            stamp,
        )
    if windows and "AWS:WindowsUpdate" in wanted:
        found["AWS:WindowsUpdate"] = _item(
            "AWS:WindowsUpdate",
            [
                {
                    "HotFixId": pid,
                    "Description": "Security Update"
                    if "Security" in patches[pid].classification
                    else "Update",
                    "InstalledTime": pk.installed_time.get(pid, stamp).strftime(
                        "%Y-%m-%dT%H:%M:%SZ"
                    ),
                    "InstalledBy": "NT AUTHORITY\\SYSTEM",
                }
                for pid in sorted(installed)
                if patches[pid].patch_set == "OS"
            ],
            stamp,
        )
    if windows and "AWS:Service" in wanted:
        found["AWS:Service"] = _item(
            "AWS:Service",
            [
                {
                    "Name": "AmazonSSMAgent",
                    "DisplayName": "Amazon SSM Agent",
                    "ServiceType": "Win32OwnProcess",
                    "Status": "Running",
                    "StartType": "Automatic",
                }
            ],
            stamp,
        )
    if windows and "AWS:WindowsRole" in wanted:
        found["AWS:WindowsRole"] = _item(
            "AWS:WindowsRole",
            [
                {
                    "Name": "FileAndStorage-Services",
                    "DisplayName": "File and Storage Services",
                    "Path": "File and Storage Services",
                    "FeatureType": "Role",
                    "Installed": "True",
                }
            ],
            stamp,
        )
    return found


def gather_software_inventory(ctx: Any) -> Any:
    """The ``AWS-GatherSoftwareInventory`` plugin (``softwareInventory``) on one node.

    Collects the inventory types its parameters enable (Windows-only types only on Windows
    nodes) and stores them as PutInventory does, with the node role's ``ssm:PutInventory``
    (https://docs.aws.amazon.com/systems-manager/latest/userguide/inventory-about.html).
    """
    plugin = "softwareInventory"
    if ctx.command_seconds and not ctx.sleep(ctx.command_seconds):
        return _plugin_result("Failed", 1, "", "Command cancelled", plugin)
    try:
        _authorize_node(ctx, "ssm:PutInventory")
    except iam.AccessDenied as error:
        return _plugin_result("Failed", 1, "", str(error), plugin)
    wanted = {
        type_name
        for name, (type_name, default, _) in INVENTORY_PARAMETERS.items()
        if _param(ctx, name, default) == "Enabled"
    }
    stamp = _now()
    with _LOCK:
        st = state(ctx.account_id, ctx.region)
        pk = _packages(st, ctx.node)
        items = _gathered(ctx.node, pk, wanted, stamp)
        stored = st.inventory.setdefault(ctx.node_id, {})
        stored.update(items)
    _changed(ctx.account_id, ctx.region, ctx.node_id)
    return _plugin_result(
        "Success", 0, f"Inventory collected: {', '.join(sorted(items))}", "", plugin
    )


def refresh_association(ctx: Any) -> Any:
    """The ``AWS-RefreshAssociation`` plugin (``refreshAssociation``): the node applies its
    associations now (https://docs.aws.amazon.com/systems-manager/latest/userguide/state-manager-about.html);
    ``associationIds`` limits it to those ids."""
    plugin = "refreshAssociation"
    ids = [i for v in ctx.parameters.get("associationIds") or [] for i in str(v).split(",") if i]
    results = run_associations(
        ctx.account_id, ctx.region, node_ids=[ctx.node_id], association_ids=ids or None
    )
    return _plugin_result("Success", 0, json.dumps(results, sort_keys=True), "", plugin)


# --- associations -------------------------------------------------------------------------------
def _targets(account_id: str, region: str, members: Json) -> list[Json]:
    nodes = _nodes(account_id, region)
    if members.get("InstanceId"):
        return [n for n in nodes if n.get("InstanceId") == members["InstanceId"]]
    chosen: dict[str, Json] = {}
    for target in members.get("Targets") or []:
        key, values = str(target.get("Key")), [str(v) for v in target.get("Values") or []]
        for node in nodes:
            tags = node.get("Tags") or {}
            by_id = key == "InstanceIds" and ("*" in values or node.get("InstanceId") in values)
            by_tag = key.startswith("tag:") and tags.get(key[4:]) in values
            by_key = key == "tag-key" and any(v in tags for v in values)
            if by_id or by_tag or by_key:
                chosen[str(node["InstanceId"])] = node
    return list(chosen.values())


def _run_on_nodes(
    account_id: str, region: str, association: Any, nodes: list[Json]
) -> dict[str, str]:
    """Run the association's document on ``nodes`` through the agent's command engine (one
    SendCommand-equivalent command, the association's rate controls and output location; the
    node role uploads the output); ``{node_id: invocation status}``."""
    members = association.members
    name = str(members["Name"]).rsplit("/", 1)[-1]
    parameters = {k: [str(x) for x in v] for k, v in (members.get("Parameters") or {}).items()}
    ids = [str(n["InstanceId"]) for n in nodes]
    try:
        if not USE_COMMAND_ENGINE:
            raise ImportError("command engine disabled")
        from . import agent_commands  # noqa: PLC0415 - the agent's engine
    except ImportError:
        return {
            node_id: _run_plugin(account_id, region, name, parameters, n)
            for node_id, n in zip(ids, nodes, strict=True)
        }
    request: Json = {
        "DocumentName": name,
        "InstanceIds": ids,
        "Parameters": parameters,
        "MaxConcurrency": str(members.get("MaxConcurrency") or "50"),
        "MaxErrors": str(members.get("MaxErrors") or "100%"),
        "Comment": f"State Manager association {association.association_id}",
    }
    location = (members.get("OutputLocation") or {}).get("S3Location") or {}
    if location.get("OutputS3BucketName"):
        request["OutputS3BucketName"] = location["OutputS3BucketName"]
        if location.get("OutputS3KeyPrefix"):
            request["OutputS3KeyPrefix"] = location["OutputS3KeyPrefix"]
        if location.get("OutputS3Region"):
            request["OutputS3Region"] = location["OutputS3Region"]
    command_id = agent_commands.send_command(account_id, region, request)["Command"]["CommandId"]
    agent_commands.wait(account_id, region, command_id, timeout=600)
    invocations = agent_commands.list_command_invocations(
        account_id, region, {"CommandId": command_id}
    )["CommandInvocations"]
    return {str(i["InstanceId"]): str(i["Status"]) for i in invocations}


def _run_plugin(
    account_id: str, region: str, name: str, parameters: dict[str, list[str]], node: Json
) -> str:
    from . import agent  # noqa: PLC0415

    plugin = agent.plugin_for(name) if hasattr(agent, "plugin_for") else None
    if plugin is None:
        return "Failed"
    ctx = agent.CommandContext(
        account_id=account_id,
        region=region,
        node=node,
        node_id=str(node["InstanceId"]),
        command_id=str(uuid.uuid4()),
        document_name=name,
        parameters=parameters,
        principal=None,
        faults={},
    )
    return str(plugin(ctx).status)


def run_associations(
    account_id: str,
    region: str,
    node_ids: list[str] | None = None,
    association_ids: list[str] | None = None,
) -> Json:
    """Apply State Manager associations now: each runs its document on its Online targets.

    AWS runs a new association at once on its targets and then on its schedule ("By default,
    when you create a new association, the system runs it immediately after it is created and
    then according to the schedule", CreateAssociation ``ApplyOnlyAtCronInterval``,
    https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_CreateAssociation.html);
    this is "now" for every association. Records Association compliance per node (unless the
    association's SyncCompliance is MANUAL) and the association's Status and Overview.

    Returns:
        ``{association_id: {node_id: "Success"|"Failed"|...}}``.
    """
    from .ssm import extension_state  # noqa: PLC0415

    ext = extension_state(account_id, region)
    with _LOCK:
        associations = [
            a
            for a in ext.associations.values()
            if association_ids is None or a.association_id in association_ids
        ]
    results: Json = {}
    for association in associations:
        per_node: dict[str, str] = {}
        online: list[Json] = []
        for node in _targets(account_id, region, association.members):
            node_id = str(node["InstanceId"])
            if node_ids is not None and node_id not in node_ids:
                continue
            if node.get("PingStatus") != "Online":
                # Applied when the node is back online (not emulated: it stays Pending).
                per_node[node_id] = "Pending"
            else:
                online.append(node)
        if online:
            for node_id, status in _run_on_nodes(account_id, region, association, online).items():
                per_node[node_id] = status
                _record_association(account_id, region, association, node_id, status)
        results[association.association_id] = per_node
        _update_overview(association, per_node)
    return results


def _record_association(
    account_id: str, region: str, association: Any, node_id: str, status: str
) -> None:
    members = association.members
    if members.get("SyncCompliance") == "MANUAL":
        return
    stamp = _now()
    item = {
        "Id": association.association_id,
        "Title": str(members.get("AssociationName") or members["Name"]),
        "Severity": str(members.get("ComplianceSeverity") or "UNSPECIFIED"),
        "Status": "COMPLIANT" if status == "Success" else "NON_COMPLIANT",
        "Details": {
            "DocumentName": str(members["Name"]),
            "DocumentVersion": str(members.get("DocumentVersion") or "$DEFAULT"),
        },
    }
    with _LOCK:
        st = state(account_id, region)
        st.association_runs.setdefault(association.association_id, {})[node_id] = status
        # "State Manager updates compliance information for all associations on an instance
        # whenever any association executes" (API_PutComplianceItems.html): one record per node.
        _put_compliance(
            st,
            node_id,
            "Association",
            {"ExecutionTime": stamp, "ExecutionId": str(uuid.uuid4()), "ExecutionType": "Command"},
            {association.association_id: item},
            complete=False,
        )
    _changed(account_id, region, node_id)


def _update_overview(association: Any, per_node: dict[str, str]) -> None:
    counts: dict[str, int] = {}
    for status in per_node.values():
        counts[status] = counts.get(status, 0) + 1
    failed = sum(v for k, v in counts.items() if k not in ("Success", "Pending"))
    if not per_node or counts.get("Pending") == len(per_node):
        name, detail = "Pending", "Pending"
    elif failed:
        name, detail = "Failed", "Failed"
    else:
        name, detail = "Success", "Success"
    stamp = _now()
    run_state = {
        "Overview": {
            "Status": name,
            "DetailedStatus": detail,
            "AssociationStatusAggregatedCount": counts,
        },
        "Status": {"Date": stamp, "Name": name, "Message": f"{name} on {len(per_node)} targets"},
        "LastExecutionDate": stamp,
    }
    if name == "Success":
        run_state["LastSuccessfulExecutionDate"] = stamp
    association.__dict__["fleetpatch_run_state"] = run_state


# --- Python interface ---------------------------------------------------------------------------
def inventory(account_id: str, region: str) -> dict[str, dict[str, Json]]:
    """Every node's inventory: ``{node_id: {type_name: item}}`` in PutInventory's item shape
    (TypeName, SchemaVersion, CaptureTime, ContentHash, Content); AWS:InstanceInformation is
    there for every managed node (from :func:`agent.nodes`), gathered or not."""
    nodes = _nodes(account_id, region)
    with _LOCK:
        stored = state(account_id, region).inventory
        found = {node_id: dict(types) for node_id, types in stored.items()}
    for node in nodes:
        found.setdefault(str(node["InstanceId"]), {})["AWS:InstanceInformation"] = (
            instance_information_item(node)
        )
    return found


def _compliance_item(record: ComplianceRecord, item: Json) -> Json:
    return {
        "ComplianceType": record.compliance_type,
        "ResourceType": record.resource_type,
        "ResourceId": record.resource_id,
        **item,
        "ExecutionSummary": dict(record.execution),
    }


def compliance_items(account_id: str, region: str) -> list[dict[str, Any]]:
    """Every compliance item of every resource (ListComplianceItems item shape; all types)."""
    with _LOCK:
        records = list(state(account_id, region).compliance.values())
        return [_compliance_item(r, dict(i)) for r in records for i in r.items.values()]


def patch_states(account_id: str, region: str) -> dict[str, Json]:
    """Every node's InstancePatchState (DescribeInstancePatchStates item), by node id."""
    with _LOCK:
        return {k: dict(v) for k, v in state(account_id, region).patch_states.items()}


# --- the SSM operations -------------------------------------------------------------------------
_SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL", "UNSPECIFIED")


def _string_filter(value: str | None, flt: Json) -> bool:
    values = [str(v) for v in flt.get("Values") or []]
    kind = flt.get("Type") or "EQUAL"
    if value is None:
        return kind == "NOT_EQUAL"
    if kind == "EQUAL":
        return value in values
    if kind == "NOT_EQUAL":
        return value not in values
    if kind == "BEGIN_WITH":
        return any(value.startswith(v) for v in values)
    if kind == "LESS_THAN":
        return any(value < v for v in values)
    return any(value > v for v in values)  # GREATER_THAN


def _severity_summary(levels: Iterable[str]) -> Json:
    out = {f"{s.capitalize()}Count": 0 for s in _SEVERITIES}
    for level in levels:
        key = f"{level.capitalize()}Count"
        out[key] = out.get(key, 0) + 1
    return out


def _worst(levels: Iterable[str]) -> str:
    found = [lvl for lvl in levels if lvl in _SEVERITIES]
    return min(found, key=_SEVERITIES.index) if found else "UNSPECIFIED"


def _patch_state_filter(item: Json, flt: Json) -> bool:
    key, kind = flt["Key"], flt["Type"]
    value = item.get(key)
    wanted = flt["Values"][0]
    if value is None:
        return False
    if isinstance(value, int):
        try:
            number = int(wanted)
        except ValueError as error:
            raise EmulatedError("InvalidFilter", f"{key} compares with a number") from error
        return {
            "Equal": value == number,
            "NotEqual": value != number,
            "LessThan": value < number,
            "GreaterThan": value > number,
        }[kind]
    if kind not in ("Equal", "NotEqual"):
        raise EmulatedError("InvalidFilter", f"Filter type {kind} is not valid for {key}.")
    return bool((str(value) == wanted) == (kind == "Equal"))


class _Operations:
    """Response methods; :func:`install` copies them onto moto's SimpleSystemManagerResponse."""

    body: Any
    current_account: str
    region: str

    def _patching_request(self, operation: str) -> Json:
        return parse_request("ssm", operation, self.body)

    def _known_node(self, node_id: str, error: str = "InvalidInstanceId") -> Json:
        node = _node(self.current_account, self.region, node_id)
        if node is None:
            raise EmulatedError(error, f"Instance {node_id} is not a managed node.")
        return node

    def describe_instance_patch_states(self) -> ActionResult:
        params = self._patching_request("DescribeInstancePatchStates")
        found = patch_states(self.current_account, self.region)
        items = [found[i] for i in params["InstanceIds"] if i in found]
        chunk, extra = page(items, params, default_size=10)
        return ActionResult({"InstancePatchStates": chunk, **extra})

    def describe_instance_patch_states_for_patch_group(self) -> ActionResult:
        params = self._patching_request("DescribeInstancePatchStatesForPatchGroup")
        items = [
            s
            for s in patch_states(self.current_account, self.region).values()
            if s["PatchGroup"] == params["PatchGroup"]
        ]
        for flt in params.get("Filters") or []:
            items = [s for s in items if _patch_state_filter(s, flt)]
        chunk, extra = page(sorted(items, key=lambda s: s["InstanceId"]), params, default_size=50)
        return ActionResult({"InstancePatchStates": chunk, **extra})

    def describe_instance_patches(self) -> ActionResult:
        params = self._patching_request("DescribeInstancePatches")
        node_id = params["InstanceId"]
        with _LOCK:
            data = list(state(self.current_account, self.region).patch_data.get(node_id, []))
        if not data:
            self._known_node(node_id)
        keys = {"Classification", "KBId", "Severity", "State"}
        for flt in params.get("Filters") or []:
            if flt["Key"] not in keys:
                raise EmulatedError("InvalidFilter", f"Filter key {flt['Key']} is not valid.")
            # State values are accepted as AWS writes them in the console and the API
            # ("InstalledOther" / "INSTALLED_OTHER").
            wanted = {_upper_state(v) if flt["Key"] == "State" else v for v in flt["Values"]}
            data = [d for d in data if d.get(flt["Key"]) in wanted]
        chunk, extra = page(data, params, default_size=50)
        return ActionResult({"Patches": chunk, **extra})

    def list_compliance_items(self) -> ActionResult:
        params = self._patching_request("ListComplianceItems")
        types = params.get("ResourceTypes") or ["ManagedInstance"]
        if any(t != "ManagedInstance" for t in types):
            raise EmulatedError("InvalidResourceType", "The only resource type is ManagedInstance.")
        ids = params.get("ResourceIds")
        if ids is not None and len(ids) != 1:
            raise EmulatedError("InvalidResourceId", "Specify exactly one resource ID.")
        items = compliance_items(self.current_account, self.region)
        if ids:
            items = [i for i in items if i["ResourceId"] == ids[0]]
        items = self._filtered(items, params)
        chunk, extra = page(items, params, default_size=10)
        return ActionResult({"ComplianceItems": chunk, **extra})

    @staticmethod
    def _filtered(items: list[Json], params: Json) -> list[Json]:
        fields = {
            "ComplianceType",
            "Status",
            "Severity",
            "Id",
            "Title",
            "ResourceId",
            "ResourceType",
            "ExecutionType",
            "ExecutionId",
        }
        for flt in params.get("Filters") or []:
            key = flt.get("Key")
            if key not in fields and not str(key).startswith("Details."):
                raise EmulatedError("InvalidFilter", f"Filter key {key} is not valid.")

            def pick(item: Json, key: str = str(key)) -> str | None:
                if key in ("ExecutionType", "ExecutionId"):
                    found = item.get("ExecutionSummary", {}).get(key)
                    return None if found is None else str(found)
                if key.startswith("Details."):
                    detail = (item.get("Details") or {}).get(key[8:])
                    return None if detail is None else str(detail)
                value = item.get(key)
                return None if value is None else str(value)

            items = [i for i in items if _string_filter(pick(i), flt)]
        return items

    def list_compliance_summaries(self) -> ActionResult:
        params = self._patching_request("ListComplianceSummaries")
        items = self._filtered(compliance_items(self.current_account, self.region), params)
        by_type: dict[str, dict[str, list[Json]]] = {}
        for item in items:
            by_type.setdefault(item["ComplianceType"], {}).setdefault(
                item["ResourceId"], []
            ).append(item)
        summaries = []
        for ctype, resources in sorted(by_type.items()):
            compliant: list[str] = []
            noncompliant: list[str] = []
            for resource_items in resources.values():
                bad = [i["Severity"] for i in resource_items if i["Status"] == "NON_COMPLIANT"]
                if bad:
                    noncompliant.append(_worst(bad))
                else:
                    compliant.append(_worst(i["Severity"] for i in resource_items))
            summaries.append(
                {
                    "ComplianceType": ctype,
                    "CompliantSummary": {
                        "CompliantCount": len(compliant),
                        "SeveritySummary": _severity_summary(compliant),
                    },
                    "NonCompliantSummary": {
                        "NonCompliantCount": len(noncompliant),
                        "SeveritySummary": _severity_summary(noncompliant),
                    },
                }
            )
        chunk, extra = page(summaries, params, default_size=50)
        return ActionResult({"ComplianceSummaryItems": chunk, **extra})

    def list_resource_compliance_summaries(self) -> ActionResult:
        params = self._patching_request("ListResourceComplianceSummaries")
        with _LOCK:
            records = list(state(self.current_account, self.region).compliance.values())
        out: list[Json] = []
        for record in sorted(records, key=lambda r: (r.resource_id, r.compliance_type)):
            items = list(record.items.values())
            bad = [i["Severity"] for i in items if i["Status"] == "NON_COMPLIANT"]
            good = [i["Severity"] for i in items if i["Status"] == "COMPLIANT"]
            out.append(
                {
                    "ComplianceType": record.compliance_type,
                    "ResourceType": record.resource_type,
                    "ResourceId": record.resource_id,
                    "Status": "NON_COMPLIANT" if bad else "COMPLIANT",
                    "OverallSeverity": _worst(bad or good),
                    "ExecutionSummary": dict(record.execution),
                    "CompliantSummary": {
                        "CompliantCount": len(good),
                        "SeveritySummary": _severity_summary(good),
                    },
                    "NonCompliantSummary": {
                        "NonCompliantCount": len(bad),
                        "SeveritySummary": _severity_summary(bad),
                    },
                }
            )
        for flt in params.get("Filters") or []:
            key = flt.get("Key")
            if key not in (
                "ComplianceType",
                "Status",
                "OverallSeverity",
                "ResourceId",
                "ResourceType",
            ):
                raise EmulatedError("InvalidFilter", f"Filter key {key} is not valid.")
            out = [o for o in out if _string_filter(str(o.get(key)), flt)]
        chunk, extra = page(out, params, default_size=50)
        return ActionResult({"ResourceComplianceSummaryItems": chunk, **extra})

    def put_compliance_items(self) -> ActionResult:
        # https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutComplianceItems.html
        params = self._patching_request("PutComplianceItems")
        if params["ResourceType"] != "ManagedInstance":
            raise EmulatedError("InvalidResourceType", "ManagedInstance is the only resource type.")
        node_id = params["ResourceId"]
        self._known_node(node_id, "InvalidResourceId")
        ctype = params["ComplianceType"]
        summary = dict(params["ExecutionSummary"])
        summary["ExecutionTime"] = _timestamp(summary["ExecutionTime"])
        items = {
            str(i.get("Id") or uuid.uuid4()): {
                k: v
                for k, v in {
                    "Id": i.get("Id"),
                    "Title": i.get("Title"),
                    "Severity": i["Severity"],
                    "Status": i["Status"],
                    "Details": i.get("Details"),
                }.items()
                if v is not None
            }
            for i in params["Items"]
        }
        with _LOCK:
            _put_compliance(
                state(self.current_account, self.region),
                node_id,
                ctype,
                summary,
                items,
                complete=params.get("UploadType", "COMPLETE") == "COMPLETE",
            )
        _changed(self.current_account, self.region, node_id)
        return EmptyResult()

    def put_inventory(self) -> ActionResult:
        # https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutInventory.html
        params = self._patching_request("PutInventory")
        node_id = params["InstanceId"]
        self._known_node(node_id)
        stored: dict[str, Json] = {}
        for item in params["Items"]:
            type_name = item["TypeName"]
            if not type_name.startswith(("AWS:", "Custom:")):
                raise EmulatedError(
                    "InvalidTypeNameException", f"Type name {type_name} is not valid."
                )
            content = item.get("Content") or []
            if item.get("ContentHash") and type_name in stored:
                pass
            stored[type_name] = {
                "TypeName": type_name,
                "SchemaVersion": item["SchemaVersion"],
                "CaptureTime": item["CaptureTime"],
                "ContentHash": item.get("ContentHash") or _content_hash(content),
                "Content": content,
            }
        with _LOCK:
            state(self.current_account, self.region).inventory.setdefault(node_id, {}).update(
                stored
            )
        _changed(self.current_account, self.region, node_id)
        return ActionResult({"Message": "Success"})

    def get_inventory(self) -> ActionResult:
        # https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_GetInventory.html
        params = self._patching_request("GetInventory")
        if params.get("Aggregators"):
            raise EmulatedError(
                "InvalidAggregatorException", "The emulator does not support inventory aggregators."
            )
        entities = inventory(self.current_account, self.region)
        for flt in params.get("Filters") or []:
            type_name, _, attribute = str(flt["Key"]).rpartition(".")
            if not type_name:
                raise EmulatedError(
                    "InvalidFilter", f"Filter key {flt['Key']} is not TypeName.Attribute."
                )
            entities = {
                node_id: types
                for node_id, types in entities.items()
                if _inventory_filter(types.get(type_name), attribute, flt)
            }
        wanted = [a["TypeName"] for a in params.get("ResultAttributes") or []]
        out: list[Json] = []
        for node_id in sorted(entities):
            types = entities[node_id]
            data = {t: i for t, i in types.items() if not wanted or t in wanted}
            if wanted and not data:
                continue
            out.append({"Id": node_id, "Data": data})
        chunk, extra = page(out, params, default_size=50)
        return ActionResult({"Entities": chunk, **extra})

    def get_inventory_schema(self) -> ActionResult:
        params = self._patching_request("GetInventorySchema")
        wanted = params.get("TypeName")
        schemas = [
            {
                "TypeName": t,
                "Version": SCHEMA_VERSIONS[t],
                "Attributes": [{"Name": a, "DataType": "string"} for a in attrs],
            }
            for t, attrs in sorted(SCHEMA_ATTRIBUTES.items())
            if wanted is None or t == wanted
        ]
        if wanted is not None and not schemas and not wanted.startswith("Custom:"):
            raise EmulatedError("InvalidTypeNameException", f"Type name {wanted} is not valid.")
        chunk, extra = page(schemas, params, default_size=50)
        return ActionResult({"Schemas": chunk, **extra})

    def list_inventory_entries(self) -> ActionResult:
        params = self._patching_request("ListInventoryEntries")
        node_id, type_name = params["InstanceId"], params["TypeName"]
        types = inventory(self.current_account, self.region).get(node_id)
        if types is None:
            raise EmulatedError("InvalidInstanceId", f"Instance {node_id} is not a managed node.")
        item = types.get(type_name)
        body: Json = {"TypeName": type_name, "InstanceId": node_id, "Entries": []}
        if item is not None:
            entries = list(item["Content"])
            for flt in params.get("Filters") or []:
                entries = [e for e in entries if _entry_filter(e, flt["Key"], flt)]
            chunk, extra = page(entries, params, default_size=50)
            body.update(
                {
                    "SchemaVersion": item["SchemaVersion"],
                    "CaptureTime": item["CaptureTime"],
                    "Entries": chunk,
                    **extra,
                }
            )
        return ActionResult(body)


def _timestamp(value: Any) -> dt.datetime:
    if isinstance(value, int | float):
        return dt.datetime.fromtimestamp(float(value), dt.UTC)
    return dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _entry_filter(entry: Json, attribute: str, flt: Json) -> bool:
    value = entry.get(attribute)
    values = [str(v) for v in flt.get("Values") or []]
    kind = flt.get("Type") or "Equal"
    if kind == "Exists":
        return value is not None
    if value is None:
        return kind == "NotEqual"
    text = str(value)
    return {
        "Equal": text in values,
        "NotEqual": text not in values,
        "BeginWith": any(text.startswith(v) for v in values),
        "LessThan": any(text < v for v in values),
        "GreaterThan": any(text > v for v in values),
    }.get(kind, False)


def _inventory_filter(item: Json | None, attribute: str, flt: Json) -> bool:
    if item is None:
        return False
    return any(_entry_filter(entry, attribute, flt) for entry in item.get("Content") or [])


# --- control endpoints --------------------------------------------------------------------------
def _require(body: Json, *names: str) -> None:
    missing = [n for n in names if not body.get(n)]
    if missing:
        raise control.ControlError(f"missing {missing}")


@control.route("POST", "patching/packages")
def _packages_endpoint(body: Json) -> Json:
    """``{"account_id","region","instance_id","missing": [patch ids]}`` → the node's packages."""
    _require(body, "account_id", "region", "instance_id")
    node = _node(body["account_id"], body["region"], body["instance_id"])
    if node is None:
        raise control.ControlError(f"{body['instance_id']} is not a managed node")
    missing = body.get("missing")
    if missing is None:
        return {
            "instance_id": node["InstanceId"],
            "packages": node_packages(body["account_id"], body["region"], node),
        }
    if not isinstance(missing, list):
        raise control.ControlError("missing must be a list of patch ids")
    return set_missing(body["account_id"], body["region"], node, [str(m) for m in missing])


@control.route("POST", "patching/run-associations")
def _run_associations_endpoint(body: Json) -> Json:
    """``{"account_id","region"[,"association_ids"]}`` → ``{"results": {id: {node: status}}}``."""
    _require(body, "account_id", "region")
    return {
        "results": run_associations(
            body["account_id"], body["region"], association_ids=body.get("association_ids")
        )
    }


# --- installation -------------------------------------------------------------------------------
_ORIGINAL_DESCRIPTION: Any = None


def _description_with_runs(self: Any) -> Json:
    body: Json = _ORIGINAL_DESCRIPTION(self)
    body.update(self.__dict__.get("fleetpatch_run_state") or {})
    return body


def install() -> None:
    """Add the operations to moto's SSM responses and register the plugins (idempotent)."""
    global _ORIGINAL_DESCRIPTION  # noqa: PLW0603 - patched once per process
    from . import agent, ssm  # noqa: PLC0415

    for operation in OPERATIONS:
        method = snake(operation)
        setattr(SimpleSystemManagerResponse, method, getattr(_Operations, method))
    for helper in ("_patching_request", "_known_node", "_filtered"):
        setattr(SimpleSystemManagerResponse, helper, _Operations.__dict__[helper])
    if _ORIGINAL_DESCRIPTION is None:
        _ORIGINAL_DESCRIPTION = ssm.Association.description
        ssm.Association.description = _description_with_runs  # type: ignore[method-assign]
    agent.register_document(RUN_PATCH_BASELINE, run_patch_baseline)
    agent.register_document(GATHER_INVENTORY, gather_software_inventory)
    agent.register_document(REFRESH_ASSOCIATION, refresh_association)
