"""Azure tag enforcement at fleet scale: 10,000 VMs, 30% missing a required tag.

The real azure-mgmt SDK clients talk to the fake ARM endpoint (tests/fake_arm.py on
pytest-httpserver, threaded), run as a separate process as ARM is remote, that waits 20 ms before
answering each request. Recorded: wall seconds of the run and the requests the endpoint received
(``api_calls``).

Target (issue 8): requests = list pages + one PATCH per VM that needs one, and wall time within
2x of the formula ``PATCHes x 20 ms / concurrency``. The client's CPU time and the machine's load
average are recorded too: the fake endpoint (werkzeug) closes every connection, so each request
also pays a TCP connect, and on a busy 2-core machine the run becomes CPU-bound.
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

from fleetpatch_tags.arm import build_clients  # noqa: E402
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
        started = time.perf_counter()
        cpu_started = time.process_time()
        summary = enforce(settings, lambda sub: build_clients(credential, sub, settings), "bench")
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
    if data["outcomes"]["tagged"] != needing or patches != needing:
        raise AssertionError(f"expected {needing} PATCHes, got {patches}: {data['outcomes']}")
    pages = math.ceil(VMS / PAGE_SIZE)
    formula = patches * LATENCY / CONCURRENCY
    requests = stats["requests"]
    return [
        {
            "name": "azure_tag_enforcement",
            "n": VMS,
            "seconds": round(seconds, 3),
            "api_calls": requests,
            "peak_rss_mb": round(peak_rss_mb(), 1),
            "baseline": {
                "description": "PATCHes x 20 ms / concurrency; requests = list pages + PATCHes",
                "latency_ms": LATENCY * 1000,
                "concurrency": CONCURRENCY,
                "patches": patches,
                "list_pages": pages,
                "max_in_flight": stats["in_flight_max"],
                "formula_seconds": round(formula, 3),
                "target_seconds": round(2 * formula, 3),
                "target_api_calls": pages + needing,
                "client_cpu_seconds": round(client_cpu, 3),
                "load_average_1m": round(os.getloadavg()[0], 2),
                "cores": os.cpu_count(),
                "meets_target": requests == pages + needing and seconds <= 2 * formula,
            },
        }
    ]


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
