"""Azure Resource Manager calls: list VMs (Compute List All), read and merge tags (Tags API).

Clients are the azure-mgmt SDK's, built with explicit retry settings: throttling (429 with
``Retry-After``) and transient failures of idempotent requests are retried by the SDK's retry
policy, honouring ``Retry-After``. The tag merge is idempotent, so :func:`merge_tags` also retries
the 500/502/503/504 and connection failures that the SDK does not retry for a PATCH; it reads
the tags right before each PATCH and merges only the names still missing, so that a value set
by someone since the listing is never overwritten (the Tags API has no ETag). Every request is
paced by a :class:`RequestPacer` to ARM's documented token-bucket limits (writes: 200 at once,
then 10 a second; reads: 250, then 25 a second) and to the resource provider's own policies as
its ``x-ms-ratelimit-remaining-resource`` headers report them, so a large run spends its time
waiting for tokens, not on 429s.
"""

from __future__ import annotations

import math
import os
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import quote, urlsplit

import requests
from azure.core.credentials import TokenCredential
from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
    map_error,
)
from azure.core.pipeline import PipelineRequest, PipelineResponse
from azure.core.pipeline.policies import HTTPPolicy
from azure.core.pipeline.transport import RequestsTransport
from azure.core.rest import HttpRequest, HttpResponse
from azure.mgmt.compute import ComputeManagementClient
from azure.mgmt.core.exceptions import ARMErrorFormat
from azure.mgmt.resource.resources import ResourceManagementClient
from azure.mgmt.resource.resources.models import Tags, TagsPatchResource

from fleetpatch_tags.config import Settings
from fleetpatch_tags.rules import plan_tags

TRANSIENT_STATUS = frozenset({500, 502, 503, 504})
COMPUTE_API_VERSION = "2024-07-01"
ERROR_MAP = {401: ClientAuthenticationError, 404: ResourceNotFoundError}
MERGE_ATTEMPTS = 4


@dataclass(frozen=True)
class VmRecord:
    """One VM as listed, in the shape exported.

    Attributes:
        id: full resource id (``/subscriptions/<sub>/resourceGroups/<rg>/providers/
            Microsoft.Compute/virtualMachines/<name>``).
        subscription_id, resource_group, name, location: from the id and the listing.
        os_type: ``Linux``, ``Windows`` or ``None`` when the listing does not say.
        power_state: e.g. ``running``, ``deallocated`` (the ``PowerState/<x>`` status code), or
            ``None`` when the listing carries no instance view.
        tags: the VM's tags as listed.
        unique_id: ``properties.vmId``, the VM's unique id (a GUID, kept across restarts; what
            an SSM hybrid node registered with the Azure provider option records as its
            ``SourceId``), or ``None`` when the listing does not carry it.
        computer_name: ``properties.osProfile.computerName``, the VM's host name (List All's
            full view; absent for a VM attached from a specialized disk), or ``None``.
    """

    id: str
    subscription_id: str
    resource_group: str
    name: str
    location: str
    os_type: str | None
    power_state: str | None
    tags: Mapping[str, str] = field(default_factory=dict)
    unique_id: str | None = None
    computer_name: str | None = None


class TagsClient(Protocol):
    """The part of ``ResourceManagementClient.tags`` used here."""

    def get_at_scope(self, scope: str, **kwargs: Any) -> Any:
        """Tags - Get At Scope: the tags resource of ``scope``."""

    def begin_update_at_scope(self, scope: str, parameters: Any, **kwargs: Any) -> Any:
        """Start a tags PATCH at ``scope``; returns an LROPoller."""


class Pipeline(Protocol):
    """The part of an SDK management client used here (``send_request``)."""

    def send_request(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        """Send ``request`` through the client's pipeline (auth, retries)."""


@dataclass(frozen=True)
class ArmClients:
    """What one subscription needs: the Compute client's pipeline and the Tags operations."""

    subscription_id: str
    compute: Pipeline
    tags: TagsClient
    closers: tuple[Callable[[], None], ...] = ()
    pacer: RequestPacer | None = None

    def close(self) -> None:
        """Close the SDK clients and their HTTP session (no request is sent)."""
        for close in self.closers:
            close()


@dataclass(frozen=True)
class RateLimit:
    """One of ARM's token buckets: ``bucket`` requests at once, ``refill`` more per second."""

    bucket: int
    refill: float


# ARM's subscription-scope limits per security principal (reads: GET/HEAD; writes: PUT, PATCH,
# POST; deletes: DELETE), "Understand how Azure Resource Manager throttles requests",
# https://learn.microsoft.com/en-us/azure/azure-resource-manager/management/request-limits-and-throttling
ARM_LIMITS: Mapping[str, RateLimit] = {
    "reads": RateLimit(250, 25.0),
    "writes": RateLimit(200, 10.0),
    "deletes": RateLimit(200, 10.0),
}
REMAINING_HEADERS = (
    "x-ms-ratelimit-remaining-subscription-{kind}",
    "x-ms-ratelimit-remaining-subscription-global-{kind}",
)


def operation_kind(method: str) -> str:
    """ARM's operation type of an HTTP method: ``reads``, ``deletes`` or ``writes``."""
    upper = method.upper()
    if upper in {"GET", "HEAD"}:
        return "reads"
    return "deletes" if upper == "DELETE" else "writes"


# A resource provider's own throttling policies ("Troubleshooting API throttling errors",
# https://learn.microsoft.com/en-us/troubleshoot/azure/virtual-machines/windows/troubleshooting-throttling-errors):
# every answer carries one ``x-ms-ratelimit-remaining-resource: <RP>/<policy>;<count>`` header per
# policy that covers the request; a 429 names the exhausted policy with a count of 0. Compute's
# buckets are "replenished with new tokens every minute" ("Compute throttling limits",
# https://learn.microsoft.com/en-us/azure/virtual-machines/compute-throttling-limits).
RESOURCE_HEADER = "x-ms-ratelimit-remaining-resource"
RESOURCE_REFILL_SECONDS = 60.0
RESOURCE_RESERVE = 1


def operation_route(method: str, path: str) -> str:
    """The request's operation group as the pacer keys resource-provider policies by.

    ``"<METHOD> <namespace>/<type>[/<child type>...]"`` of the last ``/providers/<namespace>``
    segment of ``path`` (the provider that throttles it), lower-cased, with ``[]`` for a
    collection (a list): List All is ``"GET microsoft.compute/virtualmachines[]"``, a VM's
    tags resource ``"PATCH microsoft.resources/tags"``. A query string is ignored.
    """
    parts = [p for p in path.split("?", 1)[0].split("/") if p]
    lowered = [p.lower() for p in parts]
    last = max((i for i, p in enumerate(lowered[:-1]) if p == "providers"), default=None)
    if last is None:
        return f"{method.upper()} {'/'.join(lowered[0::2])}"
    rest = lowered[last + 2 :]
    collection = "[]" if len(rest) % 2 == 1 else ""
    return f"{method.upper()} {'/'.join([lowered[last + 1], *rest[0::2]])}{collection}"


def resource_policies(headers: Mapping[str, str]) -> dict[str, int]:
    """``{"<RP>/<policy>": remaining}`` from the ``x-ms-ratelimit-remaining-resource`` header(s).

    One header per policy; the HTTP client joins repeated headers with ``,``. Entries that are
    not ``<name>;<count>`` are ignored.
    """
    raw = headers.get(RESOURCE_HEADER)
    out: dict[str, int] = {}
    for entry in (raw or "").split(","):
        name, sep, count = entry.strip().rpartition(";")
        if sep and name and count.strip().isdigit():
            out[name.strip()] = int(count)
    return out


@dataclass
class _Budget:
    limit: RateLimit
    reserve: int
    tokens: float
    updated: float
    blocked_until: float = 0.0
    in_flight: int = 0
    waiting: int = 0


@dataclass
class _Policy:
    """What the pacer knows of one resource-provider policy (``None``: nothing yet)."""

    remaining: float | None = None
    blocked_until: float = 0.0
    in_flight: int = 0


class RequestPacer:
    """Client-side pacing of ARM requests so that ARM's token buckets never run dry.

    ARM throttles each principal per subscription with a token bucket per operation type
    (:data:`ARM_LIMITS`), refilled once a second, and answers ``429`` + ``Retry-After`` once a
    bucket is empty. The pacer keeps its own bucket per operation type: a request takes a token
    or waits (in arrival order) until the refill gives it one. Because ARM adds a second's
    tokens at once rather than continuously, the pacer keeps ``reserve = refill + 1`` tokens
    unspent (one refill plus one), so its continuous schedule never gets ahead of ARM's
    per-second one. Every answer's ``x-ms-ratelimit-remaining-subscription-<kind>`` (and
    ``-global-<kind>``) header lowers the pacer's count when other callers (another job with the
    same identity, other principals on the global bucket) spent tokens; a ``429`` stops every
    request of that type for its ``Retry-After``.

    Behind ARM, the resource provider throttles on its own policies (Compute: per subscription
    and region, per minute; e.g. List All's ``HighCostGet``, 300 a minute, 900 at most). Their
    numbers reach the client only as ``x-ms-ratelimit-remaining-resource: <RP>/<policy>;<count>``
    on each answer, so the pacer learns, per operation route (:func:`operation_route`), which
    policies cover it and how many calls they have left, counting down for each request it
    sends. When a policy is down to ``resource_reserve`` calls, requests of the routes it
    covers wait :data:`RESOURCE_REFILL_SECONDS` (Compute refills every minute); a ``429`` that
    names a policy at 0 stops those routes (not the whole operation type: ARM's bucket was not
    the one that ran dry) for its ``Retry-After``.

    Args:
        limits: operation type -> :class:`RateLimit` (default ARM's documented limits).
        clock: monotonic seconds.
        sleep: waits (seconds).
        resource_reserve: calls left to a resource-provider policy at which the pacer waits for
            its refill (left to other callers of the subscription).

    Attributes:
        waited: seconds spent waiting for tokens, by operation type (ARM's buckets).
        waited_resource: seconds spent waiting for resource-provider policies, by policy.
        throttled: 429 answers seen, by operation type (those that name a resource-provider
            policy at 0 included).
        sent: requests sent, by operation type.
    """

    def __init__(
        self,
        limits: Mapping[str, RateLimit] = ARM_LIMITS,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        resource_reserve: int = RESOURCE_RESERVE,
    ) -> None:
        self._clock, self._sleep = clock, sleep
        self._lock = threading.Lock()
        now = clock()
        self._budgets: dict[str, _Budget] = {}
        for kind, limit in limits.items():
            if limit.bucket < 1 or limit.refill <= 0:
                raise ValueError(f"{kind}: bucket must be >= 1 and refill > 0, got {limit}")
            reserve = min(math.ceil(limit.refill) + 1, limit.bucket - 1)
            self._budgets[kind] = _Budget(limit, reserve, float(limit.bucket - reserve), now)
        if resource_reserve < 0:
            raise ValueError(f"resource_reserve must be >= 0, got {resource_reserve}")
        self._resource_reserve = resource_reserve
        self._policies: dict[str, _Policy] = {}
        self._routes: dict[str, set[str]] = {}
        self._prepaid = threading.local()
        self.waited: dict[str, float] = dict.fromkeys(limits, 0.0)
        self.waited_resource: dict[str, float] = {}
        self.throttled: dict[str, int] = dict.fromkeys(limits, 0)
        self.sent: dict[str, int] = dict.fromkeys(limits, 0)

    def _refill(self, budget: _Budget, now: float) -> None:
        cap = budget.limit.bucket - budget.reserve
        budget.tokens = min(cap, budget.tokens + (now - budget.updated) * budget.limit.refill)
        budget.updated = now

    def _take(self, kind: str) -> float:
        """Wait for a token of ARM's ``kind`` bucket; return the seconds waited."""
        budget = self._budgets[kind]
        with self._lock:
            now = self._clock()
            self._refill(budget, now)
            budget.tokens -= 1
            ready = now - min(budget.tokens, 0.0) / budget.limit.refill
            ready = max(ready, budget.blocked_until)
            budget.waiting += 1
        wait = max(ready - now, 0.0)
        if wait > 0:
            self._sleep(wait)
        with self._lock:
            budget.waiting -= 1
            self.waited[kind] += wait
        return wait

    def _wait_for_policies(self, route: str) -> float:
        """Wait until every policy known to cover ``route`` has calls left; take one of each."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                names = sorted(self._routes.get(route, ()))
                blocked: list[tuple[str, float]] = []
                for name in names:
                    policy = self._policies[name]
                    if (
                        policy.remaining is not None
                        and policy.remaining <= self._resource_reserve
                        and policy.blocked_until <= now
                    ):
                        # Down to the reserve: wait for the refill, after which the count is
                        # unknown again until an answer tells it.
                        policy.blocked_until = now + RESOURCE_REFILL_SECONDS
                        policy.remaining = None
                    if policy.blocked_until > now:
                        blocked.append((name, policy.blocked_until - now))
                if not blocked:
                    for name in names:
                        policy = self._policies[name]
                        policy.in_flight += 1
                        if policy.remaining is not None:
                            policy.remaining -= 1
                    return waited
                wait = max(seconds for _, seconds in blocked)
                for name, seconds in blocked:
                    self.waited_resource[name] = self.waited_resource.get(name, 0.0) + seconds
            self._sleep(wait)
            waited += wait

    def prepay(self, kind: str) -> float:
        """Take a token of ``kind`` now for this thread's next request of ``kind``.

        The next :meth:`acquire` of ``kind`` in the same thread uses it without waiting, so the
        caller can wait for a write token *before* a read it must make right before the write
        (read-then-write with the shortest gap). Returns the seconds waited. A prepaid token
        that is not used (:meth:`forfeit`) is lost, as a sent request would be.

        Raises:
            KeyError: ``kind`` has no limit.
        """
        wait = self._take(kind)
        prepaid: dict[str, int] = getattr(self._prepaid, "tokens", None) or {}
        prepaid[kind] = prepaid.get(kind, 0) + 1
        self._prepaid.tokens = prepaid
        return wait

    def forfeit(self, kind: str) -> None:
        """Drop this thread's unused prepaid tokens of ``kind`` (no request is sent)."""
        prepaid: dict[str, int] = getattr(self._prepaid, "tokens", None) or {}
        prepaid.pop(kind, None)

    def acquire(self, kind: str, route: str = "") -> float:
        """Take a token of ``kind`` (and a call of each policy covering ``route``), waiting.

        Returns the seconds waited. Uses this thread's prepaid token of ``kind``
        (:meth:`prepay`) when there is one.

        Raises:
            KeyError: ``kind`` has no limit.
        """
        waited = self._wait_for_policies(route) if route else 0.0
        prepaid: dict[str, int] = getattr(self._prepaid, "tokens", None) or {}
        if prepaid.get(kind):
            prepaid[kind] -= 1
        else:
            waited += self._take(kind)
        with self._lock:
            self._budgets[kind].in_flight += 1
            self.sent[kind] += 1
        return waited

    def done(self, kind: str, status: int, headers: Mapping[str, str], route: str = "") -> None:
        """Record the answer to a request of ``kind`` (on ``route``) taken with :meth:`acquire`.

        ``status`` 429: no request of ``kind`` is sent before ``Retry-After`` (default 1 s) has
        passed, or, when the answer names a resource-provider policy at 0, no request of the
        routes that policy covers. Otherwise the remaining-requests headers, when present, cap
        the pacer's counts (ARM's ``x-ms-ratelimit-remaining-subscription-*``, the provider's
        ``x-ms-ratelimit-remaining-resource``).
        """
        budget = self._budgets[kind]
        policies = resource_policies(headers)
        with self._lock:
            budget.in_flight -= 1
            now = self._clock()
            self._refill(budget, now)
            for name in self._routes.get(route, ()) if route else ():
                policy = self._policies[name]  # (a policy learned since acquire: not taken)
                policy.in_flight = max(policy.in_flight - 1, 0)
            if route:
                known = self._routes.setdefault(route, set())
                for name in policies.keys() - known:
                    known.add(name)
                    self._policies.setdefault(name, _Policy())
            retry_after = _seconds(headers.get("Retry-After"))
            exhausted = [name for name, count in policies.items() if count == 0]
            if status == 429:
                self.throttled[kind] += 1
            if status == 429 and exhausted:
                for name in exhausted:
                    policy = self._policies.setdefault(name, _Policy())
                    wait = retry_after if retry_after is not None else RESOURCE_REFILL_SECONDS
                    policy.blocked_until = max(policy.blocked_until, now + wait)
                    policy.remaining = None
            elif status == 429:
                budget.blocked_until = max(budget.blocked_until, now + (retry_after or 1.0))
                budget.tokens = min(budget.tokens, 0.0)
                return
            for name, count in policies.items():
                policy = self._policies.setdefault(name, _Policy())
                if policy.blocked_until > now:
                    continue
                # What the provider has left, less what is already on its way to it.
                left = float(count - policy.in_flight)
                policy.remaining = left if policy.remaining is None else min(policy.remaining, left)
            remaining = [
                int(value)
                for name in REMAINING_HEADERS
                if (value := headers.get(name.format(kind=kind))) is not None
                and value.strip().isdigit()
            ]
            if remaining:
                # What ARM has left, less what is already on its way to it or queued here.
                allowed = min(remaining) - budget.reserve - budget.in_flight - budget.waiting
                budget.tokens = min(budget.tokens, float(allowed))


def _seconds(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        return None


class PacingPolicy(HTTPPolicy[Any, Any]):
    """An azure-core pipeline policy that paces every attempt with a :class:`RequestPacer`.

    Placed after the SDK's RetryPolicy (``per_retry_policies``), so that retries and LRO polls
    are paced too and each answer, 429 included, reaches the pacer before the retry policy
    sleeps on its ``Retry-After``. Each request is keyed by its operation type (ARM's buckets)
    and its :func:`operation_route` (the resource provider's policies).
    """

    def __init__(self, pacer: RequestPacer) -> None:
        super().__init__()
        self.pacer = pacer

    def send(self, request: PipelineRequest[Any]) -> PipelineResponse[Any, Any]:
        """Wait for a token, send ``request`` down the pipeline, record the answer."""
        http_request = request.http_request
        kind = operation_kind(http_request.method)
        route = operation_route(http_request.method, urlsplit(http_request.url).path)
        self.pacer.acquire(kind, route)
        try:
            response = self.next.send(request)
        except BaseException:
            self.pacer.done(kind, 0, {}, route)
            raise
        http = response.http_response
        self.pacer.done(kind, http.status_code, http.headers, route)
        return response


def call_options(settings: Settings) -> dict[str, Any]:
    """Per-call keyword arguments: ``enforce_https=False`` only for a loopback http emulator."""
    return {"enforce_https": False} if settings.insecure_loopback else {}


def build_clients(
    credential: TokenCredential,
    subscription_id: str,
    settings: Settings,
    limits: Mapping[str, RateLimit] | None = ARM_LIMITS,
    pacer: RequestPacer | None = None,
) -> ArmClients:
    """Build the Compute and Resources SDK clients of one subscription.

    Both clients share one :class:`RequestPacer` (``ArmClients.pacer``) over ``limits`` (ARM's
    documented per-principal limits by default): every request, retry and LRO poll waits for a
    token of its operation type, so a large run keeps to ARM's write rate instead of being
    throttled. The HTTP connection pool holds ``settings.max_concurrency`` connections; the SDK
    retries up to 6 times with exponential backoff (at most 60 s between tries), honouring
    ``Retry-After`` (any status that carries it, 429 included; at most 3 status retries).
    Proxy (``HTTPS_PROXY``...) and CA bundle (``REQUESTS_CA_BUNDLE``) settings are read from the
    environment once, here; ``NO_PROXY`` is not applied. No request is sent here.

    Args:
        credential: an Azure AD token credential (managed identity in Azure).
        subscription_id: the subscription (GUID).
        settings: the run settings (ARM endpoint, concurrency, polling interval).
        limits: operation type (``reads``/``writes``/``deletes``) -> the pacer's
            :class:`RateLimit`; ``None``: no pacing (only the SDK's retries on 429).
        pacer: a :class:`RequestPacer` to use instead of one built from ``limits`` (e.g. one
            with a test clock).
    """
    session = requests.Session()
    # Read the proxy and CA-bundle environment once here rather than on every request (requests
    # re-reads os.environ per request otherwise: ~1 ms of CPU each, a third of a merge's cost).
    session.trust_env = False
    session.proxies = {k: v for k, v in urllib.request.getproxies().items() if k != "no"}
    ca_bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if ca_bundle:
        session.verify = ca_bundle
    adapter = requests.adapters.HTTPAdapter(
        pool_connections=2, pool_maxsize=max(settings.max_concurrency, 2)
    )
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    common: dict[str, Any] = {
        "base_url": settings.arm_endpoint,
        "credential_scopes": [f"{_scope_base(settings.arm_endpoint)}/.default"],
        "retry_total": 6,
        "retry_backoff_factor": 0.8,
        "retry_backoff_max": 60,
        "polling_interval": settings.polling_interval,
    }
    if pacer is None and limits is not None:
        pacer = RequestPacer(limits)
    if pacer is not None:
        common["per_retry_policies"] = [PacingPolicy(pacer)]
    compute = ComputeManagementClient(
        credential,
        subscription_id,
        transport=RequestsTransport(session=session, session_owner=False),
        **common,
    )
    resources = ResourceManagementClient(
        credential,
        subscription_id,
        transport=RequestsTransport(session=session, session_owner=False),
        **common,
    )
    return ArmClients(
        subscription_id=subscription_id,
        compute=compute,
        tags=resources.tags,
        closers=(compute.close, resources.close, session.close),
        pacer=pacer,
    )


def _scope_base(endpoint: str) -> str:
    # Public cloud tokens are issued for https://management.azure.com; a sovereign cloud's
    # endpoint is its own audience.
    return endpoint if endpoint.startswith("https://") else "https://management.azure.com"


def _get(obj: Any, *path: str) -> Any:
    """Walk ``path`` through SDK model attributes; ``None`` where a step is absent."""
    for key in path:
        if obj is None:
            return None
        obj = getattr(obj, key) if hasattr(obj, key) else None
    return obj


def parse_resource_id(resource_id: str) -> tuple[str, str, str]:
    """Split a VM id into ``(subscription_id, resource_group, name)``.

    Raises:
        ValueError: the id is not a ``.../resourceGroups/<rg>/.../virtualMachines/<name>`` id.
    """
    parts = resource_id.strip("/").split("/")
    lowered = [p.lower() for p in parts]
    try:
        sub = parts[lowered.index("subscriptions") + 1]
        group = parts[lowered.index("resourcegroups") + 1]
    except (ValueError, IndexError):
        raise ValueError(f"not a resource id: {resource_id!r}") from None
    if len(parts) < 8 or lowered[-2] != "virtualmachines":
        raise ValueError(f"not a virtual machine id: {resource_id!r}")
    return sub, group, parts[-1]


def _power_state(props: Mapping[str, Any]) -> str | None:
    for status in (props.get("instanceView") or {}).get("statuses") or []:
        code = str(status.get("code") or "")
        if code.startswith("PowerState/"):
            return code.removeprefix("PowerState/")
    return None


def vm_record(vm: Mapping[str, Any]) -> VmRecord:
    """Turn one VM of the List All JSON (``value[]`` item) into a :class:`VmRecord`.

    Raises:
        ValueError: the VM has no usable resource id.
    """
    vm_id = str(vm.get("id") or "")
    sub, group, name = parse_resource_id(vm_id)
    props = vm.get("properties") or {}
    os_disk = (props.get("storageProfile") or {}).get("osDisk") or {}
    os_type = os_disk.get("osType")
    if isinstance(os_type, str):
        os_type = {"linux": "Linux", "windows": "Windows"}.get(os_type.lower(), os_type)
    else:
        os_type = None
    power_state = _power_state(props)
    tags = {str(k): str(v) for k, v in (vm.get("tags") or {}).items()}
    return VmRecord(
        id=vm_id,
        subscription_id=sub,
        resource_group=group,
        name=name,
        location=str(vm.get("location") or ""),
        os_type=os_type,
        power_state=power_state,
        tags=tags,
        unique_id=str(props["vmId"]) if props.get("vmId") else None,
        computer_name=str((props.get("osProfile") or {}).get("computerName") or "") or None,
    )


def _pages(
    clients: ArmClients, settings: Settings, params: dict[str, str]
) -> Iterator[dict[str, Any]]:
    """Yield the ``value[]`` items of every List All page, following ``nextLink``."""
    url: str | None = (
        f"/subscriptions/{quote(clients.subscription_id)}/providers/Microsoft.Compute/virtualMachines"
    )
    query: dict[str, str] | None = {"api-version": COMPUTE_API_VERSION, **params}
    while url:
        request = HttpRequest("GET", url, params=query)
        response = clients.compute.send_request(request, **call_options(settings))
        if response.status_code != 200:
            map_error(status_code=response.status_code, response=response, error_map=ERROR_MAP)
            raise HttpResponseError(response=response, error_format=ARMErrorFormat)
        page = response.json()
        yield from page.get("value") or []
        url, query = page.get("nextLink") or None, None  # nextLink carries its own query


def list_vms(clients: ArmClients, settings: Settings) -> Iterator[VmRecord]:
    """Yield every VM of the subscription with its tags and OS type, page by page.

    Calls Compute Virtual Machines - List All,
    ``GET /subscriptions/{id}/providers/Microsoft.Compute/virtualMachines?api-version=...``
    (https://learn.microsoft.com/en-us/rest/api/compute/virtual-machines/list-all), one request
    per page, following ``nextLink``, through the Compute client's pipeline (auth, pacing,
    retries with ``Retry-After``). Without ``statusOnly`` each VM is its full model: ``tags`` and
    ``storageProfile.osDisk.osType`` are there, the instance view is not, so every record's
    ``power_state`` is ``None`` (see :func:`list_power_states`). ``statusOnly=true`` must not be
    used here: it returns the run-time status only, with no tags and no storage profile. The
    page JSON is read directly rather than through ``virtual_machines.list_all``'s models:
    building the SDK model costs about 1.8 ms of CPU per VM (18 s for 10,000 VMs).

    Raises:
        azure.core.exceptions.HttpResponseError: a page failed after the SDK's retries.
        ValueError: a listed VM has no usable resource id.
    """
    for vm in _pages(clients, settings, {}):
        yield vm_record(vm)


def list_power_states(clients: ArmClients, settings: Settings) -> dict[str, str | None]:
    """Return ``{lower-cased VM id: power state}`` of every VM of the subscription.

    Calls List All with ``statusOnly=true`` ("run time status of all Virtual Machines in the
    subscription"), one request per page: the only listing that carries each VM's instance view
    (``$expand=instanceView`` needs a ``$filter``). The power state is ``PowerState/<x>``'s
    ``<x>`` (e.g. ``running``, ``deallocated``), ``None`` when the VM reports none.

    Raises:
        azure.core.exceptions.HttpResponseError: a page failed after the SDK's retries.
    """
    states: dict[str, str | None] = {}
    for vm in _pages(clients, settings, {"statusOnly": "true"}):
        vm_id = str(vm.get("id") or "")
        if vm_id:
            states[vm_id.lower()] = _power_state(vm.get("properties") or {})
    return states


@dataclass(frozen=True)
class MergeResult:
    """What :func:`merge_tags` did.

    Attributes:
        before: the resource's tags as read right before the merge (Tags - Get At Scope).
        added: the tags merged (those asked for that the resource did not carry then).
        blocked: tags asked for that were not merged, ``{name: reason}`` (50-tag limit).
        after: the resource's tags after the merge as the API reports them (``before`` when
            nothing was merged).
    """

    before: dict[str, str]
    added: dict[str, str]
    blocked: dict[str, str]
    after: dict[str, str]


def get_tags(clients: ArmClients, scope: str, settings: Settings) -> dict[str, str]:
    """Return the tags of the resource ``scope`` now (``{name: value}``).

    Calls Tags - Get At Scope, ``GET {scope}/providers/Microsoft.Resources/tags/default``
    (https://learn.microsoft.com/en-us/rest/api/resources/tags/get-at-scope): an ARM read (its
    own bucket: 250, 25 a second), allowed by the Tag Contributor role (``Microsoft.Resources/
    tags/*``). The SDK retries it on 408/429/5xx.

    Raises:
        azure.core.exceptions.ResourceNotFoundError: the resource no longer exists.
        azure.core.exceptions.HttpResponseError: any other refusal, after the SDK's retries.
    """
    result = clients.tags.get_at_scope(scope, **call_options(settings))
    return {str(k): str(v) for k, v in (_get(result, "properties", "tags") or {}).items()}


def merge_tags(
    clients: ArmClients,
    scope: str,
    tags: Mapping[str, str],
    settings: Settings,
    sleep: Callable[[float], None] = time.sleep,
) -> MergeResult:
    """Add those of ``tags`` that ``scope`` does not carry *now*; never change an existing tag.

    The Tags API has no ETag or If-Match (Tags - Update At Scope,
    https://learn.microsoft.com/en-us/rest/api/resources/tags/update-at-scope), and Merge
    "updates the values of tags with existing names": a merge of names read minutes earlier
    (a paced run of 10,000 VMs) would overwrite a value someone set in between. So each attempt
    first waits for its write token (:meth:`RequestPacer.prepay`), then reads the tags (Tags -
    Get At Scope, :func:`get_tags`), drops the names now present (any letter case) and those
    past the 50-tag limit (:func:`fleetpatch_tags.rules.plan_tags`), and sends
    ``PATCH {scope}/providers/Microsoft.Resources/tags/default`` with ``{"operation": "Merge",
    "properties": {"tags": {...}}}`` at once, polling a 202 (``Azure-AsyncOperation`` /
    ``Location``) to its end. What remains is a race of one round trip between the read and
    the write (plus the operation's run time when the PATCH is answered 202): a tag set by
    someone else in those milliseconds is overwritten. Nothing is sent when nothing is missing.

    The merge is idempotent, so the 500/502/503/504 and connection failures that the SDK does
    not retry for a PATCH are retried here (:data:`MERGE_ATTEMPTS` attempts, 1, 2, 4 s apart),
    each attempt reading the tags again.

    Returns:
        A :class:`MergeResult`.

    Raises:
        azure.core.exceptions.HttpResponseError: the API refused the read or the merge (4xx
            other than 408 and 429; ``ResourceNotFoundError`` when the resource is gone), or a
            transient failure persisted through :data:`MERGE_ATTEMPTS` attempts.
        azure.core.exceptions.ServiceRequestError: the endpoint could not be reached.
    """
    for attempt in range(1, MERGE_ATTEMPTS + 1):
        if clients.pacer is not None:
            clients.pacer.prepay("writes")
        try:
            before = get_tags(clients, scope, settings)
            plan = plan_tags(before, dict(tags), {})
            if not plan.add:
                return MergeResult(before, {}, plan.blocked, before)
            body = TagsPatchResource(operation="Merge", properties=Tags(tags=dict(plan.add)))
            poller = clients.tags.begin_update_at_scope(scope, body, **call_options(settings))
            result = poller.result()
        except HttpResponseError as exc:
            if exc.status_code not in TRANSIENT_STATUS or attempt == MERGE_ATTEMPTS:
                raise
        except (ServiceRequestError, ServiceResponseError):
            if attempt == MERGE_ATTEMPTS:
                raise
        else:
            after = dict(_get(result, "properties", "tags") or {}) or {**before, **plan.add}
            return MergeResult(before, plan.add, plan.blocked, after)
        finally:
            if clients.pacer is not None:
                clients.pacer.forfeit("writes")
        sleep(2.0 ** (attempt - 1))  # 1, 2, 4 s
    raise AssertionError("unreachable")  # pragma: no cover
