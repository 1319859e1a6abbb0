"""Azure tag enforcement at fleet scale against ARM's real write limit: 10,000 VMs, 30% missing a
required tag.

The real azure-mgmt SDK clients talk to the fake ARM endpoint (tests/fake_arm.py, threaded,
run as a separate process as ARM is remote; 20 ms before each answer) with its default
throttling, i.e. ARM's documented limits per principal and subscription ("Understand how Azure
Resource Manager throttles requests", https://learn.microsoft.com/en-us/azure/
azure-resource-manager/management/request-limits-and-throttling): writes a bucket of 200 tokens
refilled with 10 a second, reads 250 and 25 a second, 429 + Retry-After once a bucket is empty.

Compute's own "High Cost Get VM" policy (List All: 900, refilled with 300 a minute, "Compute
throttling limits", https://learn.microsoft.com/en-us/azure/virtual-machines/compute-throttling-limits)
is on in the fake too; the 20 list pages fit in it.

Floor: the run needs one PATCH per VM that lacks a tag (W = 3,000), one Tags - Get At Scope read
right before each (so a tag set since the listing is not overwritten: W reads), and one read per
List All page (full listing + statusOnly pass). The first 200 writes go at once, every further
one waits for a token: ``(W - 200) / 10`` (280 s); the reads, ``(W + pages - 250) / 25``
(111 s), fit alongside: ``floor_seconds`` is the larger. Target: seconds within 5% (+ 2 s) of the
floor, requests = pages + W reads + W writes (no retry, so no 429 the run could have avoided:
``throttled`` must be 0), and no VM left without its tags (counted in the fake's state).
Not timed in the unit suite: ``make bench`` / ``python -m tools.bench azure_tags``.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
for extra in (ROOT, ROOT / "azure_function"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

from fleetpatch_tags.arm import ARM_LIMITS, build_clients  # noqa: E402
from fleetpatch_tags.config import load_settings  # noqa: E402
from fleetpatch_tags.enforce import enforce  # noqa: E402

from tests.fake_arm import FakeCredential  # noqa: E402
from tools.bench import peak_rss_mb  # noqa: E402

SUB = "55555555-5555-5555-5555-555555555555"
VMS = 10_000
MISSING_PER_10 = 3  # 30% of the VMs lack the patch group tag
LATENCY = 0.020
PAGE_SIZE = 1_000
CONCURRENCY = 8
REQUIRED = ("Owner", "PatchGroup")


def _start_fake() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.fake_arm",
            "--subscription",
            SUB,
            "--vms",
            str(VMS),
            "--missing-every",
            "10",
            "--missing",
            str(MISSING_PER_10),
            "--latency",
            str(LATENCY),
            "--page-size",
            str(PAGE_SIZE),
            "--required",
            ",".join(REQUIRED),
        ],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.startswith("READY "):
        proc.kill()
        raise RuntimeError(f"fake ARM endpoint did not start: {line!r}")
    return proc, line.split()[1]


def run() -> list[dict[str, Any]]:
    proc, base_url = _start_fake()
    made = []
    try:
        settings = load_settings(
            {
                "FLEETPATCH_SUBSCRIPTIONS": SUB,
                "FLEETPATCH_REQUIRED_TAGS": json.dumps(
                    {
                        "Owner": {"value": "platform"},
                        "PatchGroup": {"from": "os_type", "values": {"Linux": "azure-linux"}},
                    }
                ),
                "FLEETPATCH_ARM_ENDPOINT": base_url,
                "FLEETPATCH_MAX_CONCURRENCY": str(CONCURRENCY),
                "FLEETPATCH_POLLING_INTERVAL": "0",
            }
        )
        credential = FakeCredential()

        def clients_for(sub: str) -> Any:
            made.append(build_clients(credential, sub, settings))
            return made[-1]

        started = time.perf_counter()
        cpu_started = time.process_time()
        summary = enforce(settings, clients_for, "bench")
        seconds = time.perf_counter() - started
        client_cpu = time.process_time() - cpu_started
        with urllib.request.urlopen(f"{base_url}/_fake/stats", timeout=10) as resp:
            stats = json.load(resp)
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(timeout=30)
    data = summary.as_dict()
    needing = VMS * MISSING_PER_10 // 10
    patches = stats["by_method"].get("PATCH", 0)
    if data["outcomes"]["tagged"] != needing or stats["missing_required"] != 0:
        raise AssertionError(
            f"expected {needing} VMs tagged and none missing: {data['outcomes']}, "
            f"{stats['missing_required']} VMs still lack a required tag"
        )
    writes, reads = ARM_LIMITS["writes"], ARM_LIMITS["reads"]
    pages = 2 * math.ceil(VMS / PAGE_SIZE)  # the full listing + the statusOnly pass
    write_floor = max(0.0, (needing - writes.bucket) / writes.refill)
    read_floor = max(0.0, (needing + pages - reads.bucket) / reads.refill)
    floor = max(write_floor, read_floor)
    target_requests = pages + needing + needing  # + one tags read per merge
    requests = stats["requests"]
    throttled = sum(stats["throttled_by_kind"].values())
    pacer = made[0].pacer
    return [
        {
            "name": "azure_tag_enforcement",
            "n": VMS,
            "seconds": round(seconds, 3),
            "api_calls": requests,
            "peak_rss_mb": round(peak_rss_mb(), 1),
            "baseline": {
                "description": (
                    "ARM write limit: (PATCHes - 200 bucket) / 10 per second refill (reads: "
                    "(reads - 250) / 25, smaller); requests = list pages (full + statusOnly) + "
                    "one tags read and one PATCH per VM lacking a tag"
                ),
                "write_bucket": writes.bucket,
                "write_refill_per_second": writes.refill,
                "write_floor_seconds": round(write_floor, 3),
                "read_floor_seconds": round(read_floor, 3),
                "floor_seconds": round(floor, 3),
                "target_seconds": round(floor * 1.05 + 2, 3),
                "seconds_over_floor": round(seconds - floor, 3),
                "patches": patches,
                "tag_reads": stats["by_method"].get("GET", 0) - pages,
                "list_pages": pages,
                "target_api_calls": target_requests,
                "throttled_429": throttled,
                "throttled_by_kind": stats["throttled_by_kind"],
                "by_status": stats["by_status"],
                "vms_missing_required_after": stats["missing_required"],
                "pacer_waited_seconds": {k: round(v, 3) for k, v in pacer.waited.items()}
                if pacer
                else None,
                "pacer_waited_resource_seconds": dict(pacer.waited_resource) if pacer else None,
                "latency_ms": LATENCY * 1000,
                "concurrency": CONCURRENCY,
                "max_in_flight": stats["in_flight_max"],
                "client_cpu_seconds": round(client_cpu, 3),
                "load_average_1m": round(os.getloadavg()[0], 2),
                "cores": os.cpu_count(),
                "meets_target": requests == target_requests
                and throttled == 0
                and seconds <= floor * 1.05 + 2,
            },
        }
    ]


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
