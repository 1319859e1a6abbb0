"""A fake Azure Resource Manager endpoint on pytest-httpserver, answering as the ARM REST API
documents (never kinder): Compute Virtual Machines - List All, Tags - Update At Scope / Get At
Scope, the Azure-AsyncOperation status monitor, ARM's error format and ARM's request throttling.

Used by the unit tests (tests/unit/test_azure_*.py), the integration export test, the demo and the
benchmark (bench_azure_tags.py), so that the real azure-mgmt SDK clients talk to it over HTTP.

What it does, and the page each behaviour follows:

- ``GET /subscriptions/{sub}/providers/Microsoft.Compute/virtualMachines`` - Virtual Machines -
  List All, https://learn.microsoft.com/en-us/rest/api/compute/virtual-machines/list-all .
  Without ``statusOnly`` each VM is its full model (``tags``, ``properties.storageProfile.osDisk.
  osType``, ``hardwareProfile``...) and has *no* instance view. With ``statusOnly=true`` ("enables
  fetching run time status of all Virtual Machines in the subscription") each VM is only its
  identity (``id``, ``name``, ``type``, ``location``, ``properties.vmId``) and
  ``properties.instanceView`` (its ``statuses``, ``PowerState/<x>``): no tags, no storage profile.
  ``$expand=instanceView`` is refused without ``$filter`` ("can only be specified if a valid
  $filter option is specified"). Pages carry an absolute ``nextLink`` ("Use the nextLink property
  in the response to get the next page").
- ``PATCH {scope}/providers/Microsoft.Resources/tags/default`` - Tags - Update At Scope,
  https://learn.microsoft.com/en-us/rest/api/resources/tags/update-at-scope : ``operation``
  ``Merge`` ("adding tags with new names and updating the values of tags with existing names"),
  ``Replace`` ("replaces the entire set of existing tags") or ``Delete`` ("selectively deleting
  tags based on given names or name/value pairs"); tag names compare case-insensitively
  (https://learn.microsoft.com/en-us/azure/azure-resource-manager/management/tag-resources :
  "Tag names are case-insensitive for operations"); "a maximum of 50 tags at the end of the
  operation"; names of at most 512 characters without ``< > % & \\ ? /``
  (``InvalidTagNameCharacters``), values of at most 256. The page documents ``200 OK``; the
  azure-mgmt-resource SDK (api-version 2025-04-01, generated from the REST spec, where the
  operation is long-running) also accepts ``202 Accepted`` and polls it, so the fake answers 202
  when asked (:meth:`FakeArm.start_lro` for one scope, ``lro_every`` for every Nth write).
- A 202 carries ``Azure-AsyncOperation`` (and ``Location``, ``Retry-After``); ``GET`` of that URL
  answers ``{"status": "InProgress" | "Succeeded" | "Failed", "error": {...}}`` and the change is
  applied when the operation succeeds - "Track asynchronous Azure operations",
  https://learn.microsoft.com/en-us/azure/azure-resource-manager/management/async-operations .
  ``GET`` of the tags resource (Tags - Get At Scope) answers the tags, as the SDK's final GET needs.
- Errors are ARM's error response, ``{"error": {"code", "message", "target", "details"}}`` (the
  ``ErrorResponse``/``CloudError`` of every ARM operation page, "Other Status Codes").
- Throttling - "Understand how Azure Resource Manager throttles requests", https://learn.
  microsoft.com/en-us/azure/azure-resource-manager/management/request-limits-and-throttling :
  a token bucket per subscription, per security principal and per operation type (reads: bucket
  250, refill 25/s; writes and deletes: bucket 200, refill 10/s), plus a global subscription
  bucket per operation type of 15 times the principal's, shared by every principal; the bucket is
  refilled once a second ("tokens are added back every second"). A request that finds a bucket
  empty is answered ``429`` with ``Retry-After`` (whole seconds until the next refill) and the
  ``SubscriptionRequestsThrottled`` error; it consumes nothing. Every other answer carries
  ``x-ms-ratelimit-remaining-subscription-{reads|writes|deletes}`` and
  ``x-ms-ratelimit-remaining-subscription-global-{...}``. The principal is the bearer token (a
  real token's ``oid``); a missing token is ``401 AuthenticationFailed``. :class:`Throttling`
  makes the numbers configurable (small buckets in unit tests); the default is the documented one.

- Compute's own throttling, behind ARM's - "Compute throttling limits", https://learn.microsoft.
  com/en-us/azure/virtual-machines/compute-throttling-limits , and "Troubleshooting API
  throttling errors", https://learn.microsoft.com/en-us/troubleshoot/azure/virtual-machines/
  windows/troubleshooting-throttling-errors : List, List All and List By Location are the
  "High Cost Get VM" policy, subscription level only (per region), a bucket of 900 refilled with
  300 tokens every minute ("Bucket is replenished with new tokens every minute"); shared by every
  principal (the policy is per subscription, not per caller). Every List All page (``nextLink``
  included, ``statusOnly`` or not) takes one token, after ARM's read bucket took its own. Each
  answer carries ``x-ms-ratelimit-remaining-resource: Microsoft.Compute/HighCostGet;<count>``
  and ``x-ms-request-charge: 1``; an empty bucket answers ``429`` with ``Retry-After`` (seconds
  to the next refill), ``...HighCostGet;0`` and the ``OperationNotAllowed`` error whose detail
  is ``TooManyRequests`` with ``target`` ``HighCostGet`` and the serialized
  ``{"operationGroup", "startTime", "endTime", "allowedRequestCount"}`` message, as the
  troubleshooting page's example (wrapped in ARM's ``{"error": ...}``, "the general Azure
  Resource Manager API error format"). ``Throttling.compute_list`` sets the numbers.
  The Tags calls (``.../providers/Microsoft.Resources/tags/default``) are addressed to
  Microsoft.Resources, and the Compute page lists no tag operation, so the fake counts them
  against ARM's buckets only; whether Compute also counts a tag write on a VM is not
  documented (the client honours ``x-ms-ratelimit-remaining-resource`` on any answer).

Not modelled (said here as the standards require): the tenant-level buckets (no tenant-level
operation is used), the regional split (the fake is one region: which region's Compute bucket a
subscription-wide List All takes from is not documented), Compute's other policies (Put,
Update, Delete, Low Cost Get, Get Operation, Guest Patch: none is called, except that the fake's
own operation-status monitor is a Microsoft.Resources URL), the policy names with a window
suffix that real answers may carry (e.g. ``HighCostGet3Min`` / ``HighCostGet30Min``: the
documented buckets are per minute and the current page names the policy ``HighCostGet``),
smaller limits for free/trial subscriptions, and the real page size of List All (not
documented; ``page_size`` is configurable). The LRO monitor URL shape
(``/subscriptions/{sub}/providers/Microsoft.Resources/operationStatuses/{id}``) is the fake's own.
Error codes for a too-long tag value and for more than 50 tags were not found in the docs: the
fake answers ``400 BadRequest`` for them.
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import math
import re
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from azure.core.credentials import AccessToken
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

LIST_PATH = re.compile(
    r"^/subscriptions/([^/]+)/providers/Microsoft\.Compute/virtualMachines$", re.IGNORECASE
)
TAGS_PATH = re.compile(r"^(/subscriptions/.+)/providers/Microsoft\.Resources/tags/default$", re.I)
OPERATION_PATH = re.compile(
    r"^/subscriptions/([^/]+)/providers/Microsoft\.Resources/operationStatuses/([0-9]+)$", re.I
)
SUBSCRIPTION_PATH = re.compile(r"^/subscriptions/([^/]+)(/|$)", re.IGNORECASE)
TAG_OPERATIONS = ("Merge", "Replace", "Delete")
MAX_TAGS = 50
MAX_TAG_NAME = 512
MAX_TAG_VALUE = 256
FORBIDDEN_TAG_NAME_CHARACTERS = frozenset("<>%&\\?/")
RESOURCES_API_VERSION = "2025-04-01"
THROTTLING_DOC = "https://aka.ms/ARMThrottling"


class FakeCredential:
    """A TokenCredential that hands out a fixed token and counts the calls.

    Args:
        token: the bearer token; the fake treats it as the caller's principal (a real token's
            ``oid``), so two credentials with different tokens have their own buckets.
    """

    def __init__(self, token: str = "fake-token") -> None:
        self.calls = 0
        self.token = token

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        """Return the fixed token, valid for an hour."""
        self.calls += 1
        return AccessToken(self.token, int(time.time()) + 3600)


@dataclass
class Recorded:
    """One request the fake received, and the status it answered."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    authorization: str | None
    status: int = 0


def vm_json(
    subscription: str,
    group: str,
    name: str,
    os_type: str | None = "Linux",
    tags: dict[str, str] | None = None,
    *,
    power: str = "running",
) -> dict[str, Any]:
    """A VM as the fake stores it: the List All model plus its instance view.

    The listing answers a view of it: without ``statusOnly`` everything but
    ``properties.instanceView``; with ``statusOnly=true`` only the identity and the instance
    view. ``os_type=None`` leaves ``storageProfile.osDisk.osType`` out.
    """
    vm_id = (
        f"/subscriptions/{subscription}/resourceGroups/{group}"
        f"/providers/Microsoft.Compute/virtualMachines/{name}"
    )
    os_disk: dict[str, Any] = {"name": f"{name}-osdisk", "createOption": "FromImage"}
    if os_type is not None:
        os_disk["osType"] = os_type
    return {
        "id": vm_id,
        "name": name,
        "type": "Microsoft.Compute/virtualMachines",
        "location": "westeurope",
        "tags": dict(tags or {}),
        "properties": {
            "vmId": str(uuid.uuid5(uuid.NAMESPACE_URL, vm_id.lower())),
            "hardwareProfile": {"vmSize": "Standard_B2s"},
            "storageProfile": {"osDisk": os_disk},
            "provisioningState": "Succeeded",
            "instanceView": {
                "statuses": [
                    {
                        "code": "ProvisioningState/succeeded",
                        "level": "Info",
                        "displayStatus": "Provisioning succeeded",
                    },
                    {
                        "code": f"PowerState/{power}",
                        "level": "Info",
                        "displayStatus": f"VM {power}",
                    },
                ]
            },
        },
    }


def full_view(vm: dict[str, Any]) -> dict[str, Any]:
    """The VM as List All without ``statusOnly`` returns it (no instance view), a copy."""
    out: dict[str, Any] = json.loads(json.dumps(vm))
    out["properties"].pop("instanceView", None)
    return out


def status_view(vm: dict[str, Any]) -> dict[str, Any]:
    """The VM as List All with ``statusOnly=true`` returns it: identity + instance view only."""
    props = vm.get("properties") or {}
    return {
        "id": vm["id"],
        "name": vm["name"],
        "type": vm["type"],
        "location": vm["location"],
        "properties": {
            "vmId": props.get("vmId"),
            "instanceView": json.loads(json.dumps(props.get("instanceView") or {})),
        },
    }


def arm_error(code: str, message: str, target: str | None = None) -> dict[str, Any]:
    """ARM's error response body: ``{"error": {"code", "message", "target", "details"}}``."""
    error: dict[str, Any] = {"code": code, "message": message, "details": []}
    if target is not None:
        error["target"] = target
    return {"error": error}


@dataclass(frozen=True)
class Bucket:
    """One token bucket's documented shape: ``size`` tokens, ``refill`` tokens per second."""

    size: int
    refill: float


@dataclass(frozen=True)
class ComputePolicy:
    """One of Compute's throttling policies, subscription level (documented: High Cost Get VM).

    Attributes:
        name: the policy as ``x-ms-ratelimit-remaining-resource`` names it after
            ``Microsoft.Compute/``.
        size: maximum bucket capacity (documented: 900).
        refill: tokens added every ``tick`` seconds (documented: 300 a minute).
        tick: seconds between refills (documented: 60).
    """

    name: str = "HighCostGet"
    size: int = 900
    refill: float = 300.0
    tick: float = 60.0


@dataclass(frozen=True)
class Throttling:
    """ARM's subscription-scope request limits (the documented values are the defaults).

    Attributes:
        reads, writes, deletes: per principal and subscription (GET/HEAD; PUT/PATCH/POST; DELETE).
        global_factor: the global subscription bucket of each operation type, shared by every
            principal, is this many times the principal's (documented: 15).
        tick: seconds between refills; each adds ``refill x tick`` tokens (documented: 1).
        enabled: ``False`` answers every request (for tests that do not look at throttling).
        compute_list: Compute's "High Cost Get VM" policy that List All pages take from
            (:class:`ComputePolicy`; ``None``: not applied).
    """

    reads: Bucket = Bucket(250, 25.0)
    writes: Bucket = Bucket(200, 10.0)
    deletes: Bucket = Bucket(200, 10.0)
    global_factor: int = 15
    tick: float = 1.0
    enabled: bool = True
    compute_list: ComputePolicy | None = ComputePolicy()

    def limits(self, kind: str) -> Bucket:
        """The bucket of ``kind`` (``reads``/``writes``/``deletes``)."""
        bucket: Bucket = getattr(self, kind)
        return bucket


def operation_kind(method: str) -> str:
    """ARM's operation type of an HTTP method: ``reads``, ``deletes`` or ``writes``."""
    upper = method.upper()
    if upper in {"GET", "HEAD"}:
        return "reads"
    return "deletes" if upper == "DELETE" else "writes"


class _TokenBucket:
    """A bucket refilled by whole ticks counted from its creation (ARM adds tokens per second)."""

    def __init__(self, size: float, per_tick: float, tick: float, now: float) -> None:
        self.size, self.per_tick, self.tick = size, per_tick, tick
        self.tokens = size
        self.origin = now
        self.ticks = 0

    def refill(self, now: float) -> None:
        ticks = int((now - self.origin) / self.tick)
        if ticks > self.ticks:
            self.tokens = min(self.size, self.tokens + (ticks - self.ticks) * self.per_tick)
            self.ticks = ticks

    def seconds_to_token(self, now: float) -> float:
        """Seconds until the bucket holds a whole token again."""
        missing = 1 - self.tokens
        ticks_needed = max(1, math.ceil(missing / self.per_tick))
        return self.origin + (self.ticks + ticks_needed) * self.tick - now


@dataclass
class FakeArm:
    """State and handlers of the fake endpoint.

    Attributes:
        vms: subscription id -> VM JSON objects (:func:`vm_json`) in listing order; tag updates
            change them. A subscription not in ``vms`` is answered ``404 SubscriptionNotFound``.
        page_size: VMs per List All page.
        latency: seconds each request waits before it is answered.
        throttling: the request limits (:class:`Throttling`; ARM's documented ones by default).
        lro_every: every Nth tags write is answered 202 + ``Azure-AsyncOperation`` (0: never).
        lro_polls: status polls an operation answers ``InProgress`` before ``Succeeded``.
        scripted: path (or ``"<METHOD> <path>"``, for that method only) -> responses
            ``(status, headers, body)`` served (and consumed) before the normal behaviour, e.g.
            a 503 or a 403 (after authentication and throttling).
        on_listed: called with each List All page's VMs (the stored objects) after the page is
            answered, e.g. to change a VM's tags "while the run is paced".
        requests: every request received, in arrival order, with the status answered.
        clock: monotonic seconds (the throttling buckets' time).
    """

    vms: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    page_size: int = 2
    latency: float = 0.0
    throttling: Throttling = field(default_factory=Throttling)
    lro_every: int = 0
    lro_polls: int = 1
    scripted: dict[str, list[tuple[int, dict[str, str], Any]]] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    clock: Callable[[], float] = time.monotonic
    on_listed: Callable[[list[dict[str, Any]]], None] | None = None
    in_flight_max: int = 0
    base_url: str = ""
    _in_flight: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _operations: dict[str, dict[str, Any]] = field(default_factory=dict)
    _op_ids: itertools.count[int] = field(default_factory=itertools.count)
    _forced_lro: dict[str, list[tuple[int, tuple[str, str] | None]]] = field(default_factory=dict)
    _writes: int = 0
    _buckets: dict[tuple[str, str, str], _TokenBucket] = field(default_factory=dict)
    _index: dict[str, dict[str, Any]] = field(default_factory=dict)
    _index_signature: tuple[tuple[str, int, int], ...] = ()

    def install(self, server: HTTPServer) -> FakeArm:
        """Register the handlers on ``server`` (running) and remember its base URL."""
        self.base_url = server.url_for("/").rstrip("/")
        server.expect_request(re.compile(r"^/.*$")).respond_with_handler(self._handle)
        return self

    def tags_of(self, vm_id: str) -> dict[str, str]:
        """Current tags of the VM ``vm_id``."""
        vm = self._find(vm_id)
        assert vm is not None, vm_id
        return dict(vm["tags"])

    def by_method(self, method: str) -> list[Recorded]:
        """Recorded requests of one HTTP method."""
        return [r for r in self.requests if r.method == method]

    def throttled(self) -> list[Recorded]:
        """Requests answered 429 (throttled)."""
        return [r for r in self.requests if r.status == 429]

    def start_lro(
        self, path: str, polls_in_progress: int = 1, fail: tuple[str, str] | None = None
    ) -> None:
        """Make the next PATCH of ``path`` answer 202 with a status monitor polled
        ``polls_in_progress`` times as ``InProgress`` before ``Succeeded`` (or, with ``fail =
        (code, message)``, ``Failed`` with that ARM error, the tags unchanged)."""
        self._forced_lro.setdefault(path.lower(), []).append((polls_in_progress, fail))

    def stats(self) -> dict[str, Any]:
        """Counters: ``{"requests", "by_method", "by_status", "throttled_by_kind",
        "in_flight_max"}``."""
        with self._lock:
            recorded = list(self.requests)
        return {
            "requests": len(recorded),
            "by_method": dict(sorted(Counter(r.method for r in recorded).items())),
            "by_status": {
                str(k): v for k, v in sorted(Counter(r.status for r in recorded).items())
            },
            "throttled_by_kind": dict(
                Counter(operation_kind(r.method) for r in recorded if r.status == 429)
            ),
            "in_flight_max": self.in_flight_max,
        }

    # --- handlers ---------------------------------------------------------------------------
    def _find(self, vm_id: str) -> dict[str, Any] | None:
        key = vm_id.lower()
        # Rebuilt when a subscription's list was replaced or grew (a test's new VMs).
        signature = tuple((s, id(v), len(v)) for s, v in self.vms.items())
        vm = self._index.get(key) if signature == self._index_signature else None
        if vm is None or vm["id"].lower() != key:
            self._index = {v["id"].lower(): v for vms in self.vms.values() for v in vms}
            self._index_signature = signature
            vm = self._index.get(key)
        return vm

    def _handle(self, request: Request) -> Response:
        raw = request.get_data()
        try:
            body = json.loads(raw) if raw else None
        except json.JSONDecodeError:
            body = raw.decode(errors="replace")
        record = Recorded(
            request.method,
            request.path,
            dict(request.args),
            body,
            request.headers.get("Authorization"),
        )
        with self._lock:
            self.requests.append(record)
            self._in_flight += 1
            self.in_flight_max = max(self.in_flight_max, self._in_flight)
        try:
            if self.latency:
                time.sleep(self.latency)
            response = self._respond(request, body)
            record.status = response.status_code
            return response
        finally:
            with self._lock:
                self._in_flight -= 1

    def _json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> Response:
        text = "" if data is None else json.dumps(data)
        out = dict(headers or {})
        out.setdefault("x-ms-request-id", str(uuid.uuid4()))
        return Response(text, status=status, headers=out, content_type="application/json")

    def _throttle(
        self, request: Request, principal: str, subscription: str
    ) -> tuple[Response | None, dict[str, str]]:
        """Take a token from the principal's and the global bucket, or answer 429."""
        limits = self.throttling
        kind = operation_kind(request.method)
        if not limits.enabled:
            return None, {}
        shape = limits.limits(kind)
        now = self.clock()
        with self._lock:
            buckets = []
            for who, factor in ((principal, 1), ("*global*", limits.global_factor)):
                key = (who, subscription.lower(), kind)
                bucket = self._buckets.get(key)
                if bucket is None:
                    size = shape.size * factor
                    bucket = _TokenBucket(
                        size, shape.refill * factor * limits.tick, limits.tick, now
                    )
                    self._buckets[key] = bucket
                bucket.refill(now)
                buckets.append(bucket)
            empty = [b for b in buckets if b.tokens < 1]
            if empty:
                wait = max(b.seconds_to_token(now) for b in empty)
                seconds = max(1, math.ceil(wait))
                message = (
                    f"Number of '{kind.removesuffix('s')}' requests for subscription "
                    f"'{subscription}' actor '{principal}' exceeded. Please try again after "
                    f"'{seconds}' seconds after additional tokens are available. Refer to "
                    f"{THROTTLING_DOC}"
                )
                body = arm_error("SubscriptionRequestsThrottled", message)
                return self._json(429, body, {"Retry-After": str(seconds)}), {}
            for bucket in buckets:
                bucket.tokens -= 1
            own, shared = buckets
        return None, {
            f"x-ms-ratelimit-remaining-subscription-{kind}": str(int(own.tokens)),
            f"x-ms-ratelimit-remaining-subscription-global-{kind}": str(int(shared.tokens)),
        }

    def _respond(self, request: Request, body: Any) -> Response:
        path = request.path
        auth = request.headers.get("Authorization") or ""
        if not auth:
            return self._json(
                401,
                arm_error(
                    "AuthenticationFailed",
                    "Authentication failed. The 'Authorization' header is missing.",
                ),
            )
        if not auth.startswith("Bearer ") or not auth.removeprefix("Bearer ").strip():
            return self._json(
                401,
                arm_error(
                    "AuthenticationFailed",
                    "Authentication failed. The 'Authorization' header is provided in an "
                    "invalid format.",
                ),
            )
        if "api-version" not in request.args:
            return self._json(
                400,
                arm_error(
                    "MissingApiVersionParameter",
                    "The api-version query parameter (?api-version=) is required for all requests.",
                ),
            )
        sub_match = SUBSCRIPTION_PATH.match(path)
        if sub_match is None:
            return self._json(404, arm_error("NotFound", f"no such route: {path}"))
        subscription = sub_match.group(1)
        throttled, rate_headers = self._throttle(
            request, auth.removeprefix("Bearer ").strip(), subscription
        )
        if throttled is not None:
            return throttled
        response = self._route(request, body, subscription)
        for name, value in rate_headers.items():
            response.headers[name] = value
        return response

    def _route(  # noqa: PLR0911 (one return per route)
        self, request: Request, body: Any, subscription: str
    ) -> Response:
        path = request.path
        with self._lock:
            queue = self.scripted.get(f"{request.method} {path}") or self.scripted.get(path)
            scripted = queue.pop(0) if queue else None
        if scripted is not None:
            status, headers, data = scripted
            return self._json(status, data, headers)
        if not any(s.lower() == subscription.lower() for s in self.vms):
            return self._json(
                404,
                arm_error(
                    "SubscriptionNotFound", f"The subscription '{subscription}' could not be found."
                ),
            )
        if request.method == "GET" and LIST_PATH.match(path):
            return self._list(subscription, request)
        if request.method == "GET" and (m := OPERATION_PATH.match(path)):
            return self._operation_status(m.group(2))
        if m := TAGS_PATH.match(path):
            scope = m.group(1)
            vm = self._find(scope)
            if vm is None:
                return self._not_found(scope)
            if request.method == "GET":
                return self._json(200, self._tags_resource(vm))
            if request.method == "PATCH":
                return self._patch_tags(path, vm, body)
            return self._json(
                405,
                arm_error("MethodNotAllowed", f"The fake does not implement {request.method}"),
            )
        return self._json(404, arm_error("NotFound", f"no such route: {path}"))

    def _not_found(self, scope: str) -> Response:
        parts = scope.strip("/").split("/")
        group = parts[3] if len(parts) > 3 else ""
        message = (
            f"The Resource 'Microsoft.Compute/virtualMachines/{parts[-1]}' under resource group "
            f"'{group}' was not found. For more details please go to "
            "https://aka.ms/ARMResourceNotFoundFix"
        )
        return self._json(404, arm_error("ResourceNotFound", message))

    # --- List All -----------------------------------------------------------------------------
    def _list(self, subscription: str, request: Request) -> Response:
        status_only = request.args.get("statusOnly")
        if status_only is not None and status_only.lower() not in {"true", "false"}:
            return self._json(
                400, arm_error("InvalidParameter", "statusOnly must be true or false", "statusOnly")
            )
        if request.args.get("$expand") and not request.args.get("$filter"):
            return self._json(
                400,
                arm_error(
                    "InvalidParameter",
                    "$expand=instanceView can only be specified with a valid $filter option.",
                    "$expand",
                ),
            )
        throttled, compute_headers = self._compute_policy(subscription)
        if throttled is not None:
            return throttled
        start = int(request.args.get("$skiptoken", "0"))
        vms = next(v for s, v in self.vms.items() if s.lower() == subscription.lower())
        page = vms[start : start + self.page_size]
        view = status_view if (status_only or "").lower() == "true" else full_view
        data: dict[str, Any] = {"value": [view(vm) for vm in page]}
        if start + self.page_size < len(vms):
            query = {k: v for k, v in request.args.items() if k != "$skiptoken"}
            query["$skiptoken"] = str(start + self.page_size)
            data["nextLink"] = f"{self.base_url}{request.path}?{urlencode(query)}"
        response = self._json(200, data, compute_headers)
        if self.on_listed is not None:
            self.on_listed(page)
        return response

    def _compute_policy(self, subscription: str) -> tuple[Response | None, dict[str, str]]:
        """Take a token of Compute's List policy (:class:`ComputePolicy`) or answer its 429."""
        policy = self.throttling.compute_list
        if policy is None or not self.throttling.enabled:
            return None, {}
        now = self.clock()
        header = "x-ms-ratelimit-remaining-resource"
        with self._lock:
            key = ("*compute*", subscription.lower(), policy.name)
            bucket = self._buckets.get(key)
            if bucket is None:
                bucket = _TokenBucket(policy.size, policy.refill, policy.tick, now)
                self._buckets[key] = bucket
            bucket.refill(now)
            if bucket.tokens < 1:
                seconds = max(1, math.ceil(bucket.seconds_to_token(now)))
                window = bucket.origin + bucket.ticks * bucket.tick
                detail = {
                    "operationGroup": policy.name,
                    "startTime": _iso(window),
                    "endTime": _iso(window + bucket.tick),
                    "allowedRequestCount": policy.size,
                }
                body = arm_error(
                    "OperationNotAllowed",
                    "The server rejected the request because too many requests have been "
                    "received for this subscription.",
                )
                body["error"]["details"] = [
                    {
                        "code": "TooManyRequests",
                        "target": policy.name,
                        "message": json.dumps(detail),
                    }
                ]
                headers = {
                    "Retry-After": str(seconds),
                    header: f"Microsoft.Compute/{policy.name};0",
                }
                return self._json(429, body, headers), {}
            bucket.tokens -= 1
            left = int(bucket.tokens)
        return None, {header: f"Microsoft.Compute/{policy.name};{left}", "x-ms-request-charge": "1"}

    # --- Tags ---------------------------------------------------------------------------------
    def _tags_resource(self, vm: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": f"{vm['id']}/providers/Microsoft.Resources/tags/default",
            "name": "default",
            "type": "Microsoft.Resources/tags",
            "properties": {"tags": dict(vm["tags"])},
        }

    def _patch_tags(self, path: str, vm: dict[str, Any], body: Any) -> Response:
        problem = self._tags_problem(body)
        if problem is not None:
            code, message = problem
            return self._json(400, arm_error(code, message))
        operation = body["operation"]
        tags = body.get("properties", {}).get("tags") or {}
        with self._lock:
            after = _apply_tags(vm["tags"], operation, tags)
        if len(after) > MAX_TAGS:
            return self._json(
                400,
                arm_error(
                    "BadRequest",
                    f"The resource would have {len(after)} tags; a resource can have at most "
                    f"{MAX_TAGS}.",
                ),
            )
        with self._lock:
            self._writes += 1
            forced = self._forced_lro.get(path.lower())
            polls, fail = forced.pop(0) if forced else (None, None)
            if polls is None and self.lro_every and self._writes % self.lro_every == 0:
                polls = self.lro_polls
            if polls is None:
                vm["tags"] = after
                return self._json(200, self._tags_resource(vm))
            op = str(next(self._op_ids))
            self._operations[op] = {
                "vm": vm,
                "operation": operation,
                "tags": dict(tags),
                "polls": polls,
                "fail": fail,
            }
        sub = vm["id"].split("/")[2]
        monitor = (
            f"{self.base_url}/subscriptions/{sub}/providers/Microsoft.Resources/"
            f"operationStatuses/{op}?api-version={RESOURCES_API_VERSION}"
        )
        headers = {"Azure-AsyncOperation": monitor, "Location": monitor, "Retry-After": "0"}
        return self._json(202, None, headers)

    def _tags_problem(self, body: Any) -> tuple[str, str] | None:  # noqa: PLR0911
        if not isinstance(body, dict):
            return "InvalidRequestContent", "The request content was invalid and could not be read."
        operation = body.get("operation")
        if operation not in TAG_OPERATIONS:
            return "InvalidRequestContent", (
                f"The tags patch operation {operation!r} is not one of Merge, Replace, Delete."
            )
        props = body.get("properties")
        tags = props.get("tags") if isinstance(props, dict) else None
        if not isinstance(tags, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in tags.items()
        ):
            return "InvalidRequestContent", "properties.tags must be an object of strings."
        for name, value in tags.items():
            if FORBIDDEN_TAG_NAME_CHARACTERS.intersection(name) or any(ord(c) < 32 for c in name):
                return "InvalidTagNameCharacters", (
                    f"The tag names '{name}' have reserved characters '<,>,%,&,\\,?,/' or "
                    "control characters."
                )
            if not name or len(name) > MAX_TAG_NAME:
                return "InvalidTagName", (
                    f"Tag name '{name[:40]}' is empty or longer than {MAX_TAG_NAME} characters."
                )
            if len(value) > MAX_TAG_VALUE:
                return "BadRequest", (
                    f"The value of tag '{name}' is longer than {MAX_TAG_VALUE} characters."
                )
        return None

    def _operation_status(self, op: str) -> Response:
        with self._lock:
            state = self._operations.get(op)
            if state is None:
                return self._json(404, arm_error("NotFound", f"no operation {op}"))
            if state["polls"] > 0:
                state["polls"] -= 1
                return self._json(200, {"id": op, "name": op, "status": "InProgress"})
            vm = state["vm"]
            after = _apply_tags(vm["tags"], state["operation"], state["tags"])
            if state["fail"] is not None or len(after) > MAX_TAGS:
                code, message = state["fail"] or ("BadRequest", f"at most {MAX_TAGS} tags")
                error = arm_error(code, message)
                return self._json(200, {"id": op, "name": op, "status": "Failed", **error})
            vm["tags"] = after
            return self._json(200, {"id": op, "name": op, "status": "Succeeded"})


def _iso(monotonic: float) -> str:
    """A monotonic instant as an ISO 8601 UTC time (for the throttling error's window)."""
    wall = time.time() + (monotonic - time.monotonic())
    return time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(wall))


def _apply_tags(current: dict[str, str], operation: str, tags: dict[str, str]) -> dict[str, str]:
    """The tags after a Tags - Update At Scope ``operation`` (names case-insensitive)."""
    if operation == "Replace":
        return dict(tags)
    after = dict(current)
    for name, value in tags.items():
        same = [k for k in after if k.lower() == name.lower()]
        if operation == "Merge":
            # An existing name keeps its spelling and takes the new value.
            after[same[0] if same else name] = value
        else:  # Delete: by name, or by name/value pair when a value is given
            for key in same:
                if value == "" or after[key] == value:
                    del after[key]
    return after


def start_server() -> HTTPServer:
    """A threaded pytest-httpserver on a free loopback port (the caller stops it)."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access log per request
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    return server


def _serve(argv: list[str] | None = None) -> None:
    """Run a fake ARM endpoint in this process (the benchmark starts it as a subprocess so that
    the server's CPU is not charged to the client under test).

    Prints ``READY <base_url>`` once listening; ``GET /_fake/stats`` answers :meth:`FakeArm.stats`
    plus ``"missing_required"`` (VMs lacking a ``--required`` tag name, any letter case); stops
    on stdin EOF. Throttling is ARM's documented one unless ``--no-throttling``.
    """
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscription", required=True)
    parser.add_argument("--vms", type=int, required=True)
    parser.add_argument("--missing-every", type=int, default=10, help="of each N VMs ...")
    parser.add_argument("--missing", type=int, default=3, help="... this many lack a tag")
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--page-size", type=int, default=1000)
    parser.add_argument("--required", default="Owner,PatchGroup", help="tag names to count")
    parser.add_argument("--no-throttling", action="store_true")
    args = parser.parse_args(argv)
    fake = FakeArm(page_size=args.page_size, latency=args.latency)
    if args.no_throttling:
        fake.throttling = Throttling(enabled=False)
    vms = []
    for i in range(args.vms):
        tags = {"Owner": "team-a", "patchgroup": "azure-linux", "env": "prod"}
        if i % args.missing_every < args.missing:
            del tags["patchgroup"]
        vms.append(vm_json(args.subscription, f"rg-{i % 50}", f"vm{i:05d}", "Linux", tags))
    fake.vms[args.subscription] = vms
    required = [n.lower() for n in args.required.split(",") if n]

    def stats(_request: Request) -> Response:
        data = fake.stats()
        with fake._lock:
            data["missing_required"] = sum(
                1
                for vm in vms
                if not all(any(k.lower() == n for k in vm["tags"]) for n in required)
            )
        return Response(json.dumps(data), content_type="application/json")

    server = start_server()
    server.expect_request("/_fake/stats").respond_with_handler(stats)
    fake.install(server)
    print(f"READY {fake.base_url}", flush=True)
    try:
        sys.stdin.read()
    finally:
        server.clear()
        server.stop()


if __name__ == "__main__":
    _serve()
