"""A fake Azure Resource Manager endpoint on pytest-httpserver, in the REST shapes of the
Compute (virtualMachines List All) and Resources (Tags at scope) APIs.

Used by the unit tests (tests/unit/test_azure_*.py) and the benchmark (bench_azure_tags.py) so
that the real azure-mgmt SDK clients talk to it over HTTP. It keeps every VM's tags, merges a
``Merge`` PATCH into them as ARM does (names case-insensitive), pages the listing with an
absolute ``nextLink`` and records every request (method, path, query, JSON body).
"""

from __future__ import annotations

import argparse
import itertools
import json
import logging
import re
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from azure.core.credentials import AccessToken
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

LIST_PATH = re.compile(r"^/subscriptions/([^/]+)/providers/Microsoft\.Compute/virtualMachines$")
TAGS_PATH = re.compile(r"^(/subscriptions/.+)/providers/Microsoft\.Resources/tags/default$")
OPERATION_PATH = re.compile(r"^/fake-operations/([0-9]+)$")


class FakeCredential:
    """A TokenCredential that hands out a fixed token and counts the calls."""

    def __init__(self) -> None:
        self.calls = 0

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.calls += 1
        return AccessToken("fake-token", int(time.time()) + 3600)


@dataclass
class Recorded:
    """One request the fake received."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    authorization: str | None


def vm_json(
    subscription: str,
    group: str,
    name: str,
    os_type: str | None = "Linux",
    tags: dict[str, str] | None = None,
    *,
    power: str = "running",
) -> dict[str, Any]:
    """A VM as List All with ``statusOnly=true`` returns it."""
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
            "vmId": f"00000000-0000-0000-0000-{abs(hash(vm_id)) % 10**12:012d}",
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


@dataclass
class FakeArm:
    """State and handlers of the fake endpoint.

    Attributes:
        vms: subscription id -> VM JSON objects in listing order (tags are updated by merges).
        page_size: VMs per List All page.
        latency: seconds each request waits before it is answered.
        scripted: path -> responses ``(status, headers, body)`` served (and consumed) before the
            normal behaviour, e.g. a 429 or a 202 long-running answer.
        requests: every request received, in arrival order.
    """

    vms: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    page_size: int = 2
    latency: float = 0.0
    scripted: dict[str, list[tuple[int, dict[str, str], Any]]] = field(default_factory=dict)
    requests: list[Recorded] = field(default_factory=list)
    in_flight_max: int = 0
    _in_flight: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _operations: dict[str, list[str]] = field(default_factory=dict)
    _op_ids: itertools.count[int] = field(default_factory=itertools.count)
    base_url: str = ""
    _index: dict[str, dict[str, Any]] = field(default_factory=dict)

    def install(self, server: HTTPServer) -> FakeArm:
        """Register the handlers on ``server`` (running) and remember its base URL."""
        self.base_url = server.url_for("/").rstrip("/")
        server.expect_request(re.compile(r"^/.*$")).respond_with_handler(self._handle)
        return self

    def tags_of(self, vm_id: str) -> dict[str, str]:
        """Current tags of the VM ``vm_id``."""
        return dict(self._find(vm_id)["tags"])

    def by_method(self, method: str) -> list[Recorded]:
        """Recorded requests of one HTTP method."""
        return [r for r in self.requests if r.method == method]

    def start_lro(self, path: str, polls_in_progress: int = 1) -> None:
        """Make the next PATCH of ``path`` answer 202 with a status monitor to poll."""
        op = str(next(self._op_ids))
        monitor = f"{self.base_url}/fake-operations/{op}?api-version=2025-04-01"
        self._operations[op] = ["InProgress"] * polls_in_progress + ["Succeeded"]
        headers = {"Azure-AsyncOperation": monitor, "Location": monitor, "Retry-After": "0"}
        self.scripted.setdefault(path, []).append((202, headers, None))

    # --- handlers ---------------------------------------------------------------------------
    def _find(self, vm_id: str) -> dict[str, Any]:
        key = vm_id.lower()
        vm = self._index.get(key)
        if vm is None or vm["id"].lower() != key:  # VMs added since the last lookup
            self._index = {v["id"].lower(): v for vms in self.vms.values() for v in vms}
            vm = self._index[key]
        return vm

    def _handle(self, request: Request) -> Response:
        body = json.loads(request.get_data() or b"null")
        with self._lock:
            self.requests.append(
                Recorded(
                    request.method,
                    request.path,
                    dict(request.args),
                    body,
                    request.headers.get("Authorization"),
                )
            )
            self._in_flight += 1
            self.in_flight_max = max(self.in_flight_max, self._in_flight)
        try:
            if self.latency:
                time.sleep(self.latency)
            return self._respond(request, body)
        finally:
            with self._lock:
                self._in_flight -= 1

    def _json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> Response:
        text = "" if data is None else json.dumps(data)
        return Response(text, status=status, headers=headers, content_type="application/json")

    def _respond(self, request: Request, body: Any) -> Response:
        path = request.path
        with self._lock:
            queue = self.scripted.get(path)
            scripted = queue.pop(0) if queue else None
        if scripted is not None:
            status, headers, data = scripted
            if status == 202 and request.method == "PATCH":
                self._merge(path, body)  # the merge completes while the client polls
            return self._json(status, data, headers)
        if request.method == "GET" and (m := LIST_PATH.match(path)):
            return self._list(m.group(1), request)
        if request.method == "GET" and (m := OPERATION_PATH.match(path)):
            states = self._operations[m.group(1)]
            status = states.pop(0) if len(states) > 1 else states[0]
            return self._json(200, {"status": status})
        if (m := TAGS_PATH.match(path)) and request.method in {"PATCH", "GET"}:
            if request.method == "PATCH":
                self._merge(path, body)
            return self._json(200, self._tags_resource(m.group(1)))
        return self._json(404, {"error": {"code": "NotFound", "message": f"no route {path}"}})

    def _merge(self, path: str, body: Any) -> None:
        m = TAGS_PATH.match(path)
        assert m and body["operation"] == "Merge", body
        vm = self._find(m.group(1))
        with self._lock:
            for name, value in body["properties"]["tags"].items():
                same = [k for k in vm["tags"] if k.lower() == name.lower()]
                for key in same:
                    del vm["tags"][key]
                vm["tags"][name] = value

    def _tags_resource(self, scope: str) -> dict[str, Any]:
        return {
            "id": f"{scope}/providers/Microsoft.Resources/tags/default",
            "name": "default",
            "type": "Microsoft.Resources/tags",
            "properties": {"tags": self.tags_of(scope)},
        }

    def _list(self, subscription: str, request: Request) -> Response:
        start = int(request.args.get("$skiptoken", "0"))
        vms = self.vms.get(subscription, [])
        page = vms[start : start + self.page_size]
        data: dict[str, Any] = {"value": [json.loads(json.dumps(vm)) for vm in page]}
        if start + self.page_size < len(vms):
            query = {
                "api-version": request.args["api-version"],
                "statusOnly": request.args.get("statusOnly", "false"),
                "$skiptoken": str(start + self.page_size),
            }
            data["nextLink"] = f"{self.base_url}{request.path}?{urlencode(query)}"
        return self._json(200, data)


def start_server() -> HTTPServer:
    """A threaded pytest-httpserver on a free loopback port (the caller stops it)."""
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no access log per request
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    return server


def _serve(argv: list[str] | None = None) -> None:
    """Run a fake ARM endpoint in this process (the benchmark starts it as a subprocess so that
    the server's CPU is not charged to the client under test).

    Prints ``READY <base_url>`` once listening; ``GET /_fake/stats`` answers
    ``{"requests": n, "by_method": {...}, "in_flight_max": n}``; stops on stdin EOF.
    """
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscription", required=True)
    parser.add_argument("--vms", type=int, required=True)
    parser.add_argument("--missing-every", type=int, default=10, help="of each N VMs ...")
    parser.add_argument("--missing", type=int, default=3, help="... this many lack a tag")
    parser.add_argument("--latency", type=float, default=0.0)
    parser.add_argument("--page-size", type=int, default=1000)
    args = parser.parse_args(argv)
    fake = FakeArm(page_size=args.page_size, latency=args.latency)
    vms = []
    for i in range(args.vms):
        tags = {"Owner": "team-a", "patchgroup": "azure-linux", "env": "prod"}
        if i % args.missing_every < args.missing:
            del tags["patchgroup"]
        vms.append(vm_json(args.subscription, f"rg-{i % 50}", f"vm{i:05d}", "Linux", tags))
    fake.vms[args.subscription] = vms
    server = start_server()
    server.expect_request("/_fake/stats").respond_with_handler(
        lambda _r: Response(
            json.dumps(
                {
                    "requests": len(fake.requests),
                    "by_method": {
                        m: len(fake.by_method(m)) for m in sorted({r.method for r in fake.requests})
                    },
                    "in_flight_max": fake.in_flight_max,
                }
            ),
            content_type="application/json",
        )
    )
    fake.install(server)
    print(f"READY {fake.base_url}", flush=True)
    try:
        sys.stdin.read()
    finally:
        server.clear()
        server.stop()


if __name__ == "__main__":
    _serve()
