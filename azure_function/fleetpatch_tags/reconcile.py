"""Mirror the configured Azure tag of each VM onto its SSM hybrid managed node (``mi-``).

Scan and patch runs target the SSM tag ``tag:<patch group key>``; an Azure resource tag is
invisible to SSM. After the tag run, every Azure VM it listed is matched to the managed node that
registered from it, by the VM's unique id: an Azure VM registered with the agent's Azure provider
option is reported by DescribeInstanceInformation with ``SourceType``
``Microsoft.Compute/virtualMachines`` and its ``vmId`` as ``SourceId`` (botocore's SSM model,
``InstanceInformation.SourceType``; ``SourceId`` is ``^[a-zA-Z0-9:_-]*$``, so the GUID ``vmId``,
never the slash-separated resource id). The Azure tag's value (tag names matched
case-insensitively, as Azure compares them) is written to the node under the configured SSM key
(its exact spelling: SSM tag keys are case-sensitive) with AddTagsToResource
``ResourceType=ManagedInstance``, which replaces that one key's value and leaves every other tag
as it is. Nothing is ever removed.

AWS is reached with no long-lived secret (:func:`web_identity_session`): the run's managed
identity token for the configured audience is exchanged with STS AssumeRoleWithWebIdentity
(an unsigned call) for the role of modules/ssm_tag_sync_role, which may only call
DescribeInstanceInformation, ListTagsForResource and AddTagsToResource with that one tag key.

Calls, per run (:func:`reconcile`): DescribeInstanceInformation, paginated (50 a page), once with
``SourceTypes`` and once per distinct wanted value with ``tag:<key>`` (tag filters cannot be
combined with other filter types, so they are separate listings); then, only for the nodes that
do not carry their VM's value yet, ListTagsForResource (the value they had, for the report) and
AddTagsToResource. SSM's tagging APIs have low request rates: calls are sequential and the
client uses botocore's adaptive retry mode (client-side rate limiting after a throttle,
exponential backoff); throttled attempts are counted in the summary.
https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_DescribeInstanceInformation.html
https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_AddTagsToResource.html
https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_ListTagsForResource.html
https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithWebIdentity.html
https://boto3.amazonaws.com/v1/documentation/api/latest/guide/retries.html
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import boto3
from azure.core.credentials import TokenCredential
from azure.core.exceptions import ClientAuthenticationError
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from botocore.retries.standard import RetryEventAdapter, ThrottlingErrorDetector

from fleetpatch_tags.arm import VmRecord
from fleetpatch_tags.config import Settings, SsmSync, ssm_tag_value_problem

if TYPE_CHECKING:
    from fleetpatch_tags.enforce import VmResult

if TYPE_CHECKING:
    from mypy_boto3_ssm.client import SSMClient
    from mypy_boto3_sts.client import STSClient

LOG = logging.getLogger("fleetpatch_tags")

AZURE_SOURCE_TYPE = "Microsoft.Compute/virtualMachines"
PAGE_SIZE = 50  # DescribeInstanceInformation MaxResults: 5-50
SESSION_SECONDS = 3600  # AssumeRoleWithWebIdentity DurationSeconds (the role's maximum >= 1 h)
TOO_MANY_UPDATES_ATTEMPTS = 3  # AddTagsToResource TooManyUpdates: concurrent updates of the node
SSM_RETRY_MODE = "adaptive"
SSM_MAX_ATTEMPTS = 8

# Outcome of one matched node.
IN_SYNC = "in_sync"  # the node carries the VM's value already
CORRECTED = "corrected"  # the value was missing or different and was written
WOULD_CORRECT = "would_correct"  # dry run: it would have been written
NO_AZURE_VALUE = "no_azure_value"  # the VM has no such Azure tag: nothing to mirror
INVALID_VALUE = "invalid_value"  # the Azure value is not a valid SSM tag value
FAILED = "failed"  # reading or writing the node's tags failed
OUTCOMES = (IN_SYNC, CORRECTED, WOULD_CORRECT, NO_AZURE_VALUE, INVALID_VALUE, FAILED)


class ReconcileError(RuntimeError):
    """The reconciler could not start (token, STS exchange or the node listing failed)."""


@dataclass(frozen=True)
class NodeResult:
    """What the reconciler did for one managed node matched to one VM.

    Attributes:
        node_id: the managed node (``mi-...``).
        vm_id: the VM's resource id.
        outcome: one of :data:`OUTCOMES`.
        azure_value: the VM's value of the configured Azure tag (``None`` when it has none).
        ssm_value: the node's value of the SSM key before the run (``None``: absent, or not read
            because the node was in sync).
        error: why it failed / why the value is invalid.
    """

    node_id: str
    vm_id: str
    outcome: str
    azure_value: str | None = None
    ssm_value: str | None = None
    error: str | None = None


@dataclass
class SyncSummary:
    """The reconciler's result (:meth:`as_dict` is what the run summary carries)."""

    tag_key: str
    azure_tag: str
    dry_run: bool
    status: str = "ok"  # ok | failed (some node failed, or the reconciler could not start)
    error: str | None = None
    results: list[NodeResult] = field(default_factory=list)
    vms_without_node: list[str] = field(default_factory=list)
    nodes_without_vm: list[str] = field(default_factory=list)
    duplicate_nodes: dict[str, list[str]] = field(default_factory=dict)
    throttled: int = 0
    calls: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True when the reconciler ran and no node failed."""
        return self.error is None and all(r.outcome != FAILED for r in self.results)

    def as_dict(self, max_items: int | None = None) -> dict[str, Any]:
        """JSON-ready summary.

        Shape: ``{"status", "ok", "error", "tag_key", "azure_tag", "dry_run", "seconds",
        "nodes": int, "outcomes": {outcome: count}, "corrected": [node ids], "disagreements":
        [{"node", "vm", "azure", "ssm", "corrected"}], "failed": [{"node", "vm", "error"}],
        "invalid": [{"node", "vm", "azure", "error"}], "no_azure_value": [node ids],
        "vms_without_node": [vm ids], "nodes_without_vm": [node ids], "duplicate_nodes":
        {vm id: [node ids]}, "throttled": int, "calls": {operation: count}}``.
        A disagreement is a node whose SSM value existed and differed from the Azure value.

        Args:
            max_items: keep at most this many entries per list; ``"<list>_omitted"`` counts
                the rest.
        """
        counts = {o: sum(1 for r in self.results if r.outcome == o) for o in OUTCOMES}
        fixed = {CORRECTED, WOULD_CORRECT}
        lists: dict[str, list[Any]] = {
            "corrected": [r.node_id for r in self.results if r.outcome == CORRECTED],
            "disagreements": [
                {
                    "node": r.node_id,
                    "vm": r.vm_id,
                    "azure": r.azure_value,
                    "ssm": r.ssm_value,
                    "corrected": r.outcome == CORRECTED,
                }
                for r in self.results
                if r.outcome in fixed | {FAILED} and r.ssm_value is not None
            ],
            "failed": [
                {"node": r.node_id, "vm": r.vm_id, "error": r.error}
                for r in self.results
                if r.outcome == FAILED
            ],
            "invalid": [
                {"node": r.node_id, "vm": r.vm_id, "azure": r.azure_value, "error": r.error}
                for r in self.results
                if r.outcome == INVALID_VALUE
            ],
            "no_azure_value": [r.node_id for r in self.results if r.outcome == NO_AZURE_VALUE],
            "vms_without_node": list(self.vms_without_node),
            "nodes_without_vm": list(self.nodes_without_vm),
        }
        data: dict[str, Any] = {
            "status": "failed" if not self.ok else "ok",
            "ok": self.ok,
            "error": self.error,
            "tag_key": self.tag_key,
            "azure_tag": self.azure_tag,
            "dry_run": self.dry_run,
            "seconds": round(self.seconds, 3),
            "nodes": len(self.results),
            "outcomes": counts,
        }
        for name, items in lists.items():
            data[name] = items if max_items is None else items[:max_items]
            if max_items is not None and len(items) > max_items:
                data[f"{name}_omitted"] = len(items) - max_items
        data["duplicate_nodes"] = {k: list(v) for k, v in self.duplicate_nodes.items()}
        data["throttled"] = self.throttled
        data["calls"] = dict(sorted(self.calls.items()))
        return data


# --- credentials: managed identity token -> STS AssumeRoleWithWebIdentity ----------------------
def _session_name(run_id: str) -> str:
    # RoleSessionName: 2-64 characters of [\w+=,.@-].
    return re.sub(r"[^\w+=,.@-]", "-", f"fleetpatch-tags-{run_id}")[:64]


def sts_client(region: str) -> STSClient:
    """An unsigned STS client of ``region``'s endpoint (AssumeRoleWithWebIdentity is unsigned).

    The endpoint follows boto3's configuration (``AWS_ENDPOINT_URL_STS`` / ``AWS_ENDPOINT_URL``
    for a local emulator). No request is sent here.
    """
    client: STSClient = boto3.client(
        "sts",
        region_name=region,
        config=Config(signature_version=UNSIGNED, retries={"mode": "standard", "max_attempts": 4}),
    )
    return client


def web_identity_session(
    sync: SsmSync,
    credential: TokenCredential,
    run_id: str,
    *,
    sts: STSClient | None = None,
) -> boto3.Session:
    """A boto3 session of ``sync.role_arn``, from the managed identity's token. No secret is read.

    Gets an Azure AD token for ``<audience>/.default`` from ``credential`` (the run's managed
    identity), then calls STS AssumeRoleWithWebIdentity (unsigned) with it as
    ``WebIdentityToken``, session name ``fleetpatch-tags-<run id>``, for
    :data:`SESSION_SECONDS`.

    Args:
        sync: the reconciler settings (role, Region, audience).
        credential: the run's token credential (ManagedIdentityCredential in Azure).
        run_id: the run id (the role session name, seen in CloudTrail).
        sts: the STS client; default :func:`sts_client` of ``sync.region``.

    Returns:
        A session with the role's temporary credentials in ``sync.region``.

    Raises:
        ReconcileError: the token could not be had (ClientAuthenticationError) or STS refused
            it (InvalidIdentityToken, ExpiredTokenException, IDPRejectedClaim, AccessDenied: the
            trust policy, IDPCommunicationError after retries, RegionDisabledException) or could
            not be reached.
    """
    try:
        token = credential.get_token(f"{sync.audience}/.default").token
    except ClientAuthenticationError as exc:
        raise ReconcileError(
            f"no managed identity token for {sync.audience}: {exc.message}"
        ) from exc
    client = sts or sts_client(sync.region)
    try:
        answer = client.assume_role_with_web_identity(
            RoleArn=sync.role_arn,
            RoleSessionName=_session_name(run_id),
            WebIdentityToken=token,
            DurationSeconds=SESSION_SECONDS,
        )
    except ClientError as exc:
        error = exc.response.get("Error", {})
        raise ReconcileError(
            f"STS AssumeRoleWithWebIdentity for {sync.role_arn} refused: "
            f"{error.get('Code', '?')}: {error.get('Message', '')}"
        ) from exc
    except BotoCoreError as exc:
        raise ReconcileError(f"STS AssumeRoleWithWebIdentity failed: {exc}") from exc
    creds = answer["Credentials"]
    return boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=sync.region,
    )


class CallCounter:
    """Counts SSM calls and throttled attempts (botocore's own throttling detector)."""

    def __init__(self) -> None:
        self.throttled = 0
        self.calls: dict[str, int] = {}
        self._lock = threading.Lock()
        self._detector = ThrottlingErrorDetector(RetryEventAdapter())

    def attach(self, client: Any) -> None:
        """Hook ``client``'s ``needs-retry`` and ``before-call`` events (no request sent)."""
        service = client.meta.service_model.service_id.hyphenize()
        client.meta.events.register(f"needs-retry.{service}", self._on_retry_check)
        client.meta.events.register(f"before-call.{service}", self._on_call)

    def _on_call(self, model: Any, **_kwargs: Any) -> None:
        with self._lock:
            self.calls[model.name] = self.calls.get(model.name, 0) + 1

    def _on_retry_check(self, **kwargs: Any) -> None:
        if kwargs.get("response") is None:
            return
        if self._detector.is_throttling_error(**kwargs):
            with self._lock:
                self.throttled += 1


def ssm_client(
    session: boto3.Session, region: str, counter: CallCounter | None = None
) -> SSMClient:
    """The SSM client of ``region`` with botocore's adaptive retries; no request sent."""
    retries: Any = {"mode": SSM_RETRY_MODE, "max_attempts": SSM_MAX_ATTEMPTS}
    client: SSMClient = session.client("ssm", region_name=region, config=Config(retries=retries))
    if counter is not None:
        counter.attach(client)
    return client


# --- the reconciliation --------------------------------------------------------------------------
def azure_value(tags: Mapping[str, str], name: str) -> str | None:
    """The value of tag ``name`` in ``tags`` (Azure names are case-insensitive), or ``None``."""
    folded = name.casefold()
    return next((v for k, v in tags.items() if k.casefold() == folded), None)


def _describe(ssm: SSMClient, filters: list[dict[str, Any]]) -> Iterable[dict[str, Any]]:
    paginator = ssm.get_paginator("describe_instance_information")
    for page in paginator.paginate(
        Filters=filters,  # type: ignore[arg-type]
        PaginationConfig={"PageSize": PAGE_SIZE},
    ):
        yield from page["InstanceInformationList"]  # type: ignore[misc]


def _error_text(exc: ClientError) -> str:
    error = exc.response.get("Error", {})
    return f"{error.get('Code', '?')}: {error.get('Message', '')}"


def _ssm_value(ssm: SSMClient, node_id: str, key: str) -> str | None:
    tags = ssm.list_tags_for_resource(ResourceType="ManagedInstance", ResourceId=node_id)
    return next((t["Value"] for t in tags.get("TagList", []) if t["Key"] == key), None)


def _write(
    ssm: SSMClient, node_id: str, key: str, value: str, sleep: Callable[[float], None]
) -> None:
    for attempt in range(1, TOO_MANY_UPDATES_ATTEMPTS + 1):
        try:
            ssm.add_tags_to_resource(
                ResourceType="ManagedInstance",
                ResourceId=node_id,
                Tags=[{"Key": key, "Value": value}],
            )
            return
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code")
            if code != "TooManyUpdates" or attempt == TOO_MANY_UPDATES_ATTEMPTS:
                raise
        sleep(2.0 ** (attempt - 1))


def reconcile(
    sync: SsmSync,
    vms: Sequence[VmRecord],
    ssm: SSMClient,
    *,
    dry_run: bool = False,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> SyncSummary:
    """Mirror ``sync.azure_tag`` of each VM in ``vms`` onto its managed node as ``sync.tag_key``.

    Args:
        sync: the reconciler settings.
        vms: the VMs of the tag run, with their tags after the run (:class:`VmRecord`; matched
            by ``unique_id``, the VM's ``vmId``, case-insensitively).
        ssm: an SSM client of the nodes' Region (:func:`ssm_client`).
        dry_run: report what would change; no AddTagsToResource.
        sleep: pause between TooManyUpdates retries (seconds).
        clock: monotonic seconds, for the duration.

    Returns:
        The :class:`SyncSummary`. Calls DescribeInstanceInformation (``SourceTypes`` =
        ``Microsoft.Compute/virtualMachines``, then ``tag:<key>`` per distinct value), then per
        node not in sync ListTagsForResource and AddTagsToResource (``ManagedInstance``, one
        tag). A node's failure (InvalidResourceId: deregistered meanwhile, TooManyTagsError: 50
        tags already, AccessDeniedException, throttling after the retries) is recorded on it and
        the run goes on.

    Raises:
        ReconcileError: a node listing failed (no tag was written yet).
    """
    start = clock()
    summary = SyncSummary(tag_key=sync.tag_key, azure_tag=sync.azure_tag, dry_run=dry_run)
    try:
        nodes = list(_describe(ssm, [{"Key": "SourceTypes", "Values": [AZURE_SOURCE_TYPE]}]))
    except (ClientError, BotoCoreError) as exc:
        text = _error_text(exc) if isinstance(exc, ClientError) else str(exc)
        raise ReconcileError(f"DescribeInstanceInformation failed: {text}") from exc
    by_source: dict[str, list[str]] = {}
    for node in nodes:
        source = str(node.get("SourceId") or "").lower()
        if source and str(node.get("InstanceId", "")).startswith("mi-"):
            by_source.setdefault(source, []).append(str(node["InstanceId"]))
    wanted: dict[str, tuple[VmRecord, str | None]] = {}  # node id -> (VM, Azure value)
    matched: set[str] = set()
    for vm in vms:
        node_ids = by_source.get((vm.unique_id or "").lower(), []) if vm.unique_id else []
        if not node_ids:
            summary.vms_without_node.append(vm.id)
            continue
        matched.add((vm.unique_id or "").lower())
        if len(node_ids) > 1:
            # A VM registered twice (re-imaged, agent re-registered): every node of it is kept
            # in its patch group; deregistering the stale one is an operator's decision.
            summary.duplicate_nodes[vm.id] = sorted(node_ids)
        for node_id in node_ids:
            wanted[node_id] = (vm, azure_value(vm.tags, sync.azure_tag))
    summary.nodes_without_vm = sorted(
        n for source, ids in by_source.items() if source not in matched for n in ids
    )
    carrying: dict[str, set[str]] = {}
    values = sorted(
        {v for _, v in wanted.values() if v is not None and not ssm_tag_value_problem(v)}
    )
    try:
        for value in values:
            filters = [{"Key": f"tag:{sync.tag_key}", "Values": [value]}]
            carrying[value] = {str(n["InstanceId"]) for n in _describe(ssm, filters)}
    except (ClientError, BotoCoreError) as exc:
        text = _error_text(exc) if isinstance(exc, ClientError) else str(exc)
        raise ReconcileError(f"DescribeInstanceInformation by tag failed: {text}") from exc
    for node_id, (vm, found) in sorted(wanted.items(), key=lambda item: item[1][0].id):
        summary.results.append(_one(ssm, sync, node_id, vm, found, carrying, dry_run, sleep))
    summary.seconds = clock() - start
    return summary


def _one(  # noqa: PLR0911, PLR0917 - one node's decision: one return per outcome
    ssm: SSMClient,
    sync: SsmSync,
    node_id: str,
    vm: VmRecord,
    value: str | None,
    carrying: Mapping[str, set[str]],
    dry_run: bool,
    sleep: Callable[[float], None],
) -> NodeResult:
    if value is None:
        return NodeResult(node_id, vm.id, NO_AZURE_VALUE)
    if problem := ssm_tag_value_problem(value):
        return NodeResult(node_id, vm.id, INVALID_VALUE, azure_value=value, error=problem)
    if node_id in carrying.get(value, set()):
        return NodeResult(node_id, vm.id, IN_SYNC, azure_value=value, ssm_value=value)
    before: str | None = None
    try:
        before = _ssm_value(ssm, node_id, sync.tag_key)
        if before == value:  # tagged since the listing
            return NodeResult(node_id, vm.id, IN_SYNC, azure_value=value, ssm_value=value)
        if dry_run:
            return NodeResult(node_id, vm.id, WOULD_CORRECT, azure_value=value, ssm_value=before)
        _write(ssm, node_id, sync.tag_key, value, sleep)
    except ClientError as exc:
        LOG.warning("SSM tag of %s (%s) failed: %s", node_id, vm.id, _error_text(exc))
        return NodeResult(
            node_id,
            vm.id,
            FAILED,
            azure_value=value,
            ssm_value=before,
            error=_error_text(exc),
        )
    except BotoCoreError as exc:
        return NodeResult(
            node_id, vm.id, FAILED, azure_value=value, ssm_value=before, error=str(exc)
        )
    LOG.info("SSM tag %s of %s set to %r (was %r)", sync.tag_key, node_id, value, before)
    return NodeResult(node_id, vm.id, CORRECTED, azure_value=value, ssm_value=before)


def sync_ssm_tags(
    settings: Settings,
    credential: TokenCredential,
    vms: Sequence[VmRecord],
    run_id: str,
    *,
    session_for: Callable[[SsmSync, TokenCredential, str], boto3.Session] | None = None,
) -> dict[str, Any] | None:
    """The run's reconciler step: ``None`` when it is off, else its summary (never raises).

    Args:
        settings: the run settings (``settings.ssm_sync``; ``settings.dry_run``).
        credential: the run's token credential (its token is exchanged for the role).
        vms: the VMs of the tag run with their tags after the run.
        run_id: the run id (role session name).
        session_for: ``(sync, credential, run_id) -> boto3 session``; default
            :func:`web_identity_session`.

    Returns:
        :meth:`SyncSummary.as_dict` (``status`` ``failed`` with ``error`` when the token
        exchange or the node listing failed, or a node failed), or ``None`` (reconciler off).
        Calls STS AssumeRoleWithWebIdentity and the SSM APIs of :func:`reconcile`.
    """
    summary = _sync(settings, credential, vms, run_id, session_for)
    return None if summary is None else summary.as_dict()


def _sync(
    settings: Settings,
    credential: TokenCredential,
    vms: Sequence[VmRecord],
    run_id: str,
    session_for: Callable[[SsmSync, TokenCredential, str], boto3.Session] | None = None,
) -> SyncSummary | None:
    sync = settings.ssm_sync
    if sync is None:
        return None
    counter = CallCounter()
    try:
        session = (session_for or web_identity_session)(sync, credential, run_id)
        summary = reconcile(
            sync, vms, ssm_client(session, sync.region, counter), dry_run=settings.dry_run
        )
    except ReconcileError as exc:
        LOG.error("SSM tag reconciler did not run: %s", exc)
        summary = SyncSummary(
            tag_key=sync.tag_key, azure_tag=sync.azure_tag, dry_run=settings.dry_run
        )
        summary.error = str(exc)
    summary.throttled = counter.throttled
    summary.calls = dict(counter.calls)
    return summary


def add_ssm_sync(  # noqa: PLR0917 - the run's pieces, passed by service.run in one call
    data: dict[str, Any],
    logged: dict[str, Any],
    settings: Settings,
    credential: TokenCredential,
    results: Sequence[VmResult],
    run_id: str,
    max_items: int,
) -> bool:
    """Run the reconciler after a tag run and add its summary as ``"ssm_sync"`` to the run's.

    The VMs are the run's, with their tags after the run (in a dry run, with the tags the run
    would have added). Nothing is added when the reconciler is off.

    Args:
        data: the run summary (gets the full ``ssm_sync``).
        logged: the logged run summary (gets ``ssm_sync`` with at most ``max_items`` per list).
        settings: the run settings (``ssm_sync``, ``dry_run``).
        credential: the run's token credential (exchanged for the role).
        run_id: the run id (role session name).
        results: the tag run's per-VM results (:class:`fleetpatch_tags.enforce.VmResult`).
        max_items: list length cap of the logged copy.

    Returns:
        False when the reconciler ran and failed (its ``status`` is ``failed``), else True.
        Calls what :func:`sync_ssm_tags` calls; never raises for an AWS or Azure failure.
    """
    vms = [
        replace(r.vm, tags={**r.vm.tags, **r.added}) if settings.dry_run and r.added else r.vm
        for r in results
    ]
    summary = _sync(settings, credential, vms, run_id)
    if summary is None:
        return True
    data["ssm_sync"] = summary.as_dict()
    logged["ssm_sync"] = summary.as_dict(max_items=max_items)
    return summary.ok
