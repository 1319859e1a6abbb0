"""Mirror the configured Azure tag of each VM onto its SSM hybrid managed node (``mi-``).

Scan and patch runs target the SSM tag ``tag:<patch group key>``; an Azure resource tag is
invisible to SSM. After the tag run, every Azure VM it listed is matched to the managed node that
registered from it, in two ways (the node's report says which, ``match``):

1. ``source_id``: by the VM's unique id. A node that SSM records as an Azure VM is reported by
   DescribeInstanceInformation with ``SourceType`` ``Microsoft.Compute/virtualMachines`` and its
   ``vmId`` as ``SourceId`` (botocore's SSM model, ``InstanceInformation.SourceType``: "For Azure
   Virtual Machines, SourceType is Microsoft.Compute/virtualMachines"; ``SourceId`` is
   ``^[a-zA-Z0-9:_-]*$``, so the GUID ``vmId``, never the slash-separated resource id).
2. ``computer_name``, the fallback, for the VMs no node matched by id: a node registered with the
   plain hybrid flags (``ssm-setup-cli -register -activation-code -activation-id -region``, what
   modules/azure_ssm_hybrid runs; no documented option makes SSM record it as an Azure VM) is its
   own source (``SourceType`` ``AWS::SSM::ManagedInstance``). Its ``ComputerName`` ("The fully
   qualified host name of the managed node", API_InstanceInformation) is compared with the VM's
   ``osProfile.computerName`` ("the host OS name of the virtual machine", List All's full view):
   the first DNS label of each, case-insensitively (DNS names ignore case, RFC 4343). A name is
   used only when exactly one listed VM and exactly one such node carry it, and their platforms
   (``PlatformType`` vs the VM's OS type) agree; anything else is reported in ``ambiguous`` and
   nothing is tagged for it (host names are not unique across subscriptions or on-premises).
   A node recorded as an Azure VM is never matched by name (its ``SourceId`` names its VM).

The Azure tag's value (tag names matched
case-insensitively, as Azure compares them) is written to the node under the configured SSM key
(its exact spelling: SSM tag keys are case-sensitive) with AddTagsToResource
``ResourceType=ManagedInstance``, which replaces that one key's value and leaves every other tag
as it is. Nothing is ever removed.

AWS is reached with no long-lived secret (:func:`web_identity_session`): the run's managed
identity token for the configured audience is exchanged with STS AssumeRoleWithWebIdentity
(an unsigned call) for the role of modules/ssm_tag_sync_role, which may only call
DescribeInstanceInformation, ListTagsForResource and AddTagsToResource with that one tag key.

Calls, per run (:func:`reconcile`): DescribeInstanceInformation, paginated (50 a page), once with
``SourceTypes`` (Azure VMs and plain hybrid nodes) and once per distinct wanted value with
``tag:<key>`` (tag filters cannot be combined with other filter types, so they are separate
listings); then, only for the nodes that
do not carry their VM's value yet, ListTagsForResource (the value they had, for the report) and
AddTagsToResource. SSM's tagging APIs have low request rates: calls are sequential and the
client uses botocore's adaptive retry mode (client-side rate limiting after a throttle,
exponential backoff); throttled attempts are counted in the summary.

A run that lists Azure VMs and hybrid nodes but links none of them is failed (``status``
``failed``, ``error`` says so): that is what a matching that cannot work in this subscription
looks like, not "no agent installed". Lesser gaps (VMs without a node, ambiguous names, invalid
or missing Azure values, VMs with several nodes) are counted in ``warnings`` and logged.
https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_DescribeInstanceInformation.html
https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_AddTagsToResource.html
https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_ListTagsForResource.html
https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithWebIdentity.html
https://boto3.amazonaws.com/v1/documentation/api/latest/guide/retries.html
"""

from __future__ import annotations

import base64
import binascii
import json
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
HYBRID_SOURCE_TYPE = "AWS::SSM::ManagedInstance"  # a hybrid node that is its own source
# How a node was matched to its VM.
BY_SOURCE_ID = "source_id"
BY_COMPUTER_NAME = "computer_name"
# STS answers that mean the IAM OIDC provider does not accept the token (iss / aud).
TOKEN_REJECTED_CODES = frozenset({"InvalidIdentityToken", "IDPRejectedClaim"})
TOKEN_REJECTED_TEXTS = ("No OpenIDConnect provider found", "Incorrect token audience")
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
        match: how the node was matched, :data:`BY_SOURCE_ID` or :data:`BY_COMPUTER_NAME`.
    """

    node_id: str
    vm_id: str
    outcome: str
    azure_value: str | None = None
    ssm_value: str | None = None
    error: str | None = None
    match: str = BY_SOURCE_ID


@dataclass
class SyncSummary:
    """The reconciler's result (:meth:`as_dict` is what the run summary carries)."""

    tag_key: str
    azure_tag: str
    dry_run: bool
    status: str = "ok"  # ok | failed (a node failed, nothing matched, or it could not start)
    error: str | None = None
    results: list[NodeResult] = field(default_factory=list)
    vms_without_node: list[str] = field(default_factory=list)
    nodes_without_vm: list[str] = field(default_factory=list)
    duplicate_nodes: dict[str, list[str]] = field(default_factory=dict)
    ambiguous: list[dict[str, Any]] = field(default_factory=list)
    hybrid_nodes_unmatched: list[str] = field(default_factory=list)
    throttled: int = 0
    calls: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """True when the reconciler ran, matched something (see the module) and no node failed."""
        return self.error is None and all(r.outcome != FAILED for r in self.results)

    def warning_counts(self) -> dict[str, int]:
        """Gaps that do not fail the run, by kind.

        Returns ``{"vms_without_node", "ambiguous", "invalid_value", "no_azure_value",
        "duplicate_nodes"}`` -> count (``duplicate_nodes``: VMs with more than one node).
        """
        return {
            "vms_without_node": len(self.vms_without_node),
            "ambiguous": len(self.ambiguous),
            "invalid_value": sum(1 for r in self.results if r.outcome == INVALID_VALUE),
            "no_azure_value": sum(1 for r in self.results if r.outcome == NO_AZURE_VALUE),
            "duplicate_nodes": len(self.duplicate_nodes),
        }

    def as_dict(self, max_items: int | None = None) -> dict[str, Any]:
        """JSON-ready summary.

        Shape: ``{"status", "ok", "error", "tag_key", "azure_tag", "dry_run", "seconds",
        "nodes": int, "outcomes": {outcome: count}, "matches": {"source_id": int,
        "computer_name": int}, "warnings": int, "warning_counts": {kind: count}, "matched":
        [{"node", "vm", "match", "outcome"}], "corrected": [node ids], "disagreements":
        [{"node", "vm", "azure", "ssm", "corrected", "match"}], "failed": [{"node", "vm",
        "error", "match"}], "invalid": [{"node", "vm", "azure", "error", "match"}],
        "no_azure_value": [node ids], "vms_without_node": [vm ids], "nodes_without_vm": [node
        ids: nodes recorded as Azure VMs that no listed VM is], "ambiguous": [{"computer_name",
        "vms": [vm ids], "nodes": [node ids], "reason"}], "hybrid_nodes_unmatched": [node ids:
        plain hybrid nodes no VM matched by name (on-premises servers, other clouds...)],
        "duplicate_nodes": {vm id: [node ids]}, "throttled": int, "calls": {operation:
        count}}``. A disagreement is a node whose SSM value existed and differed from the Azure
        value; ``warnings`` is the sum of ``warning_counts`` (:meth:`warning_counts`).

        Args:
            max_items: keep at most this many entries per list; ``"<list>_omitted"`` counts
                the rest.
        """
        counts = {o: sum(1 for r in self.results if r.outcome == o) for o in OUTCOMES}
        fixed = {CORRECTED, WOULD_CORRECT}
        warnings = self.warning_counts()
        lists: dict[str, list[Any]] = {
            "matched": [
                {"node": r.node_id, "vm": r.vm_id, "match": r.match, "outcome": r.outcome}
                for r in self.results
            ],
            "corrected": [r.node_id for r in self.results if r.outcome == CORRECTED],
            "disagreements": [
                {
                    "node": r.node_id,
                    "vm": r.vm_id,
                    "azure": r.azure_value,
                    "ssm": r.ssm_value,
                    "corrected": r.outcome == CORRECTED,
                    "match": r.match,
                }
                for r in self.results
                if r.outcome in fixed | {FAILED} and r.ssm_value is not None
            ],
            "failed": [
                {"node": r.node_id, "vm": r.vm_id, "error": r.error, "match": r.match}
                for r in self.results
                if r.outcome == FAILED
            ],
            "invalid": [
                {
                    "node": r.node_id,
                    "vm": r.vm_id,
                    "azure": r.azure_value,
                    "error": r.error,
                    "match": r.match,
                }
                for r in self.results
                if r.outcome == INVALID_VALUE
            ],
            "no_azure_value": [r.node_id for r in self.results if r.outcome == NO_AZURE_VALUE],
            "vms_without_node": list(self.vms_without_node),
            "nodes_without_vm": list(self.nodes_without_vm),
            "ambiguous": [dict(a) for a in self.ambiguous],
            "hybrid_nodes_unmatched": list(self.hybrid_nodes_unmatched),
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
            "matches": {
                kind: sum(1 for r in self.results if r.match == kind)
                for kind in (BY_SOURCE_ID, BY_COMPUTER_NAME)
            },
            "warnings": sum(warnings.values()),
            "warning_counts": warnings,
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


def token_claims_hint(token: str, names: Sequence[str] = ("iss", "aud")) -> str:
    """The token's unverified ``names`` claims as text, for an operator fixing the trust setup.

    Decodes the JWT's payload (the second base64url part) without checking its signature and
    returns e.g. ``"iss='https://sts.windows.net/<tenant>/' aud='api://AzureADTokenExchange'"``.
    Never the token itself, nor any other claim. ``"claims unreadable (not a JWT)"`` when it is
    not one.
    """
    parts = token.split(".")
    try:
        if len(parts) != 3:  # header.payload.signature
            raise ValueError("not three parts")
        claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return "claims unreadable (not a JWT)"
    if not isinstance(claims, dict):
        return "claims unreadable (not a JWT)"
    return " ".join(f"{name}={claims.get(name)!r}" for name in names)


def _refusal_text(error: Mapping[str, Any], token: str) -> str:
    """STS's refusal, with the token's ``iss``/``aud`` (``sub`` too for the trust policy)."""
    code, message = str(error.get("Code", "?")), str(error.get("Message", ""))
    text = f"{code}: {message}"
    if code in TOKEN_REJECTED_CODES or any(t in message for t in TOKEN_REJECTED_TEXTS):
        # The IAM OIDC provider's URL must be the token's iss without https:// and its client
        # ID list must hold its aud (modules/ssm_tag_sync_role: tenant_id, token_version,
        # audience). https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_providers_create_oidc.html
        text += (
            f" (the token's unverified claims: {token_claims_hint(token)}; the role's IAM OIDC"
            " provider URL must be iss without https:// and its client ID list must hold aud)"
        )
    elif code == "AccessDenied":
        text += (
            f" (the token's unverified claims: {token_claims_hint(token, ('iss', 'aud', 'sub'))};"
            " the role's trust policy must allow this aud and sub)"
        )
    return text


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
            not be reached. A refusal of the token (InvalidIdentityToken, IDPRejectedClaim, "No
            OpenIDConnect provider found", "Incorrect token audience") names the token's
            unverified ``iss`` and ``aud`` claims (AccessDenied: also ``sub``), so that the IAM
            OIDC provider / trust policy can be fixed; the token itself is never in the text.
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
            f"{_refusal_text(error, token)}"
        ) from None  # the ClientError is not chained: nothing of the request may reach a log
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
            by ``unique_id``, the VM's ``vmId``, case-insensitively, to a node's ``SourceId``,
            else by ``computer_name`` to a plain hybrid node's ``ComputerName``: see the
            module).
        ssm: an SSM client of the nodes' Region (:func:`ssm_client`).
        dry_run: report what would change; no AddTagsToResource.
        sleep: pause between TooManyUpdates retries (seconds).
        clock: monotonic seconds, for the duration.

    Returns:
        The :class:`SyncSummary`, with ``error`` set (status ``failed``) when VMs were listed,
        none matched and unmatched hybrid nodes or ambiguous names exist. Calls
        DescribeInstanceInformation (``SourceTypes`` = ``Microsoft.Compute/virtualMachines``
        and ``AWS::SSM::ManagedInstance``, then ``tag:<key>`` per distinct value), then per
        node not in sync ListTagsForResource and AddTagsToResource (``ManagedInstance``, one
        tag). A node's failure (InvalidResourceId: deregistered meanwhile, TooManyTagsError: 50
        tags already, AccessDeniedException, throttling after the retries) is recorded on it and
        the run goes on.

    Raises:
        ReconcileError: a node listing failed (no tag was written yet).
    """
    start = clock()
    summary = SyncSummary(tag_key=sync.tag_key, azure_tag=sync.azure_tag, dry_run=dry_run)
    types = [AZURE_SOURCE_TYPE, HYBRID_SOURCE_TYPE]
    try:
        nodes = list(_describe(ssm, [{"Key": "SourceTypes", "Values": types}]))
    except (ClientError, BotoCoreError) as exc:
        text = _error_text(exc) if isinstance(exc, ClientError) else str(exc)
        raise ReconcileError(f"DescribeInstanceInformation failed: {text}") from exc
    hybrid = [n for n in nodes if str(n.get("InstanceId", "")).startswith("mi-")]
    wanted = _match(summary, vms, hybrid)
    if (
        vms
        and not wanted
        and (summary.nodes_without_vm or summary.hybrid_nodes_unmatched or summary.ambiguous)
    ):
        summary.error = (
            f"no managed node matched any of the {len(vms)} Azure VMs, though "
            f"{len(summary.nodes_without_vm) + len(summary.hybrid_nodes_unmatched)} hybrid "
            f"nodes are unmatched and {len(summary.ambiguous)} names ambiguous: neither SourceId "
            "= vmId nor ComputerName = osProfile.computerName links them (how do the VMs' "
            "agents register?)"
        )
    carrying: dict[str, set[str]] = {}
    values = sorted(
        {v for _, v, _ in wanted.values() if v is not None and not ssm_tag_value_problem(v)}
    )
    try:
        for value in values:
            filters = [{"Key": f"tag:{sync.tag_key}", "Values": [value]}]
            carrying[value] = {str(n["InstanceId"]) for n in _describe(ssm, filters)}
    except (ClientError, BotoCoreError) as exc:
        text = _error_text(exc) if isinstance(exc, ClientError) else str(exc)
        raise ReconcileError(f"DescribeInstanceInformation by tag failed: {text}") from exc
    for node_id, (vm, found, kind) in sorted(wanted.items(), key=lambda item: item[1][0].id):
        result = _one(ssm, sync, node_id, vm, found, carrying, dry_run, sleep)
        summary.results.append(replace(result, match=kind))
    summary.seconds = clock() - start
    return summary


def host_label(name: str | None) -> str:
    """The first DNS label of a host name, case-folded; ``""`` for none.

    ``"Web-1.x.internal.cloudapp.net"`` -> ``"web-1"``.
    """
    return (name or "").strip().split(".", 1)[0].casefold()


def _match(
    summary: SyncSummary, vms: Sequence[VmRecord], nodes: Sequence[Mapping[str, Any]]
) -> dict[str, tuple[VmRecord, str | None, str]]:
    """Match ``nodes`` (mi- items of DescribeInstanceInformation) to ``vms``.

    Fills the summary's ``vms_without_node`` / ``nodes_without_vm`` / ``duplicate_nodes`` /
    ``ambiguous`` / ``hybrid_nodes_unmatched``. Returns node id -> (VM, its Azure value, match
    kind).
    """
    by_source: dict[str, list[str]] = {}
    plain: list[Mapping[str, Any]] = []
    for node in nodes:
        source = str(node.get("SourceId") or "").lower()
        if node.get("SourceType") == AZURE_SOURCE_TYPE and source:
            by_source.setdefault(source, []).append(str(node["InstanceId"]))
        else:
            plain.append(node)
    wanted: dict[str, tuple[VmRecord, str | None, str]] = {}
    matched: set[str] = set()
    by_name: list[VmRecord] = []
    for vm in vms:
        key = (vm.unique_id or "").lower()
        node_ids = by_source.get(key, []) if key else []
        if not node_ids:
            by_name.append(vm)
            continue
        matched.add(key)
        if len(node_ids) > 1:
            # A VM registered twice (re-imaged, agent re-registered): every node of it is kept
            # in its patch group; deregistering the stale one is an operator's decision.
            summary.duplicate_nodes[vm.id] = sorted(node_ids)
        for node_id in node_ids:
            wanted[node_id] = (vm, azure_value(vm.tags, summary.azure_tag), BY_SOURCE_ID)
    summary.nodes_without_vm = sorted(
        n for source, ids in by_source.items() if source not in matched for n in ids
    )
    wanted.update(_match_by_name(summary, vms, by_name, plain))
    return wanted


def _match_by_name(
    summary: SyncSummary,
    vms: Sequence[VmRecord],
    unmatched: Sequence[VmRecord],
    plain: Sequence[Mapping[str, Any]],
) -> dict[str, tuple[VmRecord, str | None, str]]:
    """The computer-name fallback for the ``unmatched`` VMs over the ``plain`` hybrid nodes."""
    vm_names: dict[str, list[VmRecord]] = {}
    for vm in vms:
        if label := host_label(vm.computer_name):
            vm_names.setdefault(label, []).append(vm)
    node_names: dict[str, list[Mapping[str, Any]]] = {}
    for node in plain:
        if label := host_label(str(node.get("ComputerName") or "")):
            node_names.setdefault(label, []).append(node)
    wanted: dict[str, tuple[VmRecord, str | None, str]] = {}
    held: set[str] = set()  # nodes matched or in an ambiguous name
    for vm in unmatched:
        label = host_label(vm.computer_name)
        candidates = node_names.get(label, []) if label else []
        if not candidates:
            summary.vms_without_node.append(vm.id)
            continue
        ids = sorted(str(n["InstanceId"]) for n in candidates)
        if reason := _ambiguity(vm_names[label], candidates):
            if not held.issuperset(ids):
                summary.ambiguous.append(
                    {
                        "computer_name": label,
                        "vms": sorted(v.id for v in vm_names[label]),
                        "nodes": ids,
                        "reason": reason,
                    }
                )
        else:
            wanted[ids[0]] = (vm, azure_value(vm.tags, summary.azure_tag), BY_COMPUTER_NAME)
        held.update(ids)
    summary.hybrid_nodes_unmatched = sorted(
        str(n["InstanceId"]) for n in plain if str(n["InstanceId"]) not in held
    )
    return wanted


def _ambiguity(vms: Sequence[VmRecord], nodes: Sequence[Mapping[str, Any]]) -> str | None:
    """Why a computer-name match of ``vms`` to ``nodes`` (same first label) is not used."""
    if len(vms) > 1:
        return f"{len(vms)} listed VMs have this computer name"
    if len(nodes) > 1:
        return f"{len(nodes)} hybrid nodes have this computer name"
    os_type, platform = vms[0].os_type, nodes[0].get("PlatformType")
    if os_type and platform and str(platform).casefold() != os_type.casefold():
        return f"the VM is {os_type}, the node {platform}"
    return None


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
        if summary.error:
            LOG.error("SSM tag reconciler: %s", summary.error)
        warnings = {k: v for k, v in summary.warning_counts().items() if v}
        if warnings:
            LOG.warning("SSM tag reconciler warnings: %s", warnings)
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
