"""The embedded AWS emulator: start-up time and emulated SSM calls over HTTP.

``make demo`` starts the emulator once and Terraform then makes thousands of calls to it (the
topology's apply makes ~4,000), so both its start-up and the cost of one emulated call matter.
Recorded: seconds from process start to the first HTTP answer (baseline: under 10 s), and the
wall time of N CreateAssociation + DescribeAssociation pairs plus one paginated
ListAssociations in an assumed member account (baseline: under 25 ms per call on average).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from tests.emulator.launcher import Emulator  # noqa: E402
from tools.bench import peak_rss_mb  # noqa: E402

PAIRS = 200
ACCOUNT = "444444444444"


def run() -> list[dict[str, Any]]:
    started = time.perf_counter()
    emulator = Emulator(load_managed_policies=False)
    emulator.start()
    try:
        start_seconds = time.perf_counter() - started
        ssm = emulator.client("ssm", ACCOUNT, "us-west-2")
        began = time.perf_counter()
        for index in range(PAIRS):
            created = ssm.create_association(
                Name="AWS-RunPatchBaseline",
                AssociationName=f"bench-{index}",
                ScheduleExpression="cron(0 2 ? * SUN *)",
                Parameters={"Operation": ["Scan"]},
                Targets=[{"Key": "tag:PatchGroup", "Values": ["linux"]}],
            )
            ssm.describe_association(
                AssociationId=created["AssociationDescription"]["AssociationId"]
            )
        pages = ssm.get_paginator("list_associations").paginate()
        listed = sum(len(page["Associations"]) for page in pages)
        calls_seconds = time.perf_counter() - began
        if listed != PAIRS:
            raise RuntimeError(f"listed {listed} associations, created {PAIRS}")
        calls = 2 * PAIRS + (PAIRS + 49) // 50
    finally:
        emulator.stop()
    return [
        {
            "name": "emulator_start",
            "n": 1,
            "seconds": round(start_seconds, 3),
            "api_calls": None,
            "peak_rss_mb": None,
            "baseline": {"max_seconds": 10.0},
        },
        {
            "name": "emulator_ssm_association_calls",
            "n": PAIRS,
            "seconds": round(calls_seconds, 3),
            "api_calls": calls,
            "peak_rss_mb": round(peak_rss_mb(), 1),
            "baseline": {
                "max_seconds_per_call": 0.025,
                "seconds_per_call": round(calls_seconds / calls, 4),
            },
        },
    ]


if __name__ == "__main__":
    for entry in run():
        print(entry)
