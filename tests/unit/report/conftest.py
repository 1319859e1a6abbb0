"""Fixtures for the report tests: one small generated fleet, read back with plain Python."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tools.report.generate import generate

PARAMS = {"application_name": "openssl", "version_pattern": "3.0.%"}


def read_type(root: Path, type_name: str) -> Iterator[dict[str, Any]]:
    """Every record of one type, with the object's account / Region / file stem added (layout
    ``<account>/<type>/accountid=<account>/region=/resourcetype=/<node>.json``)."""
    for path in sorted(root.glob(f"*/{type_name}/accountid=*/region=*/resourcetype=*/*.json")):
        account = path.parts[-4].split("=", 1)[1]
        region = path.parts[-3].split("=", 1)[1]
        for line in path.read_text().splitlines():
            if line.strip():
                yield {**json.loads(line), "_a": account, "_r": region, "_file": path.stem}


@pytest.fixture(scope="session")
def now() -> datetime:
    """The "now" both generated fleets are captured relative to (the real now)."""
    return datetime.now(UTC)


@pytest.fixture(scope="session")
def fleet(tmp_path_factory: pytest.TempPathFactory, now: datetime) -> Path:
    """240 managed nodes over 3 accounts x 2 Regions; AWS:InstanceInformation records carry
    both InstanceId and resourceId."""
    root = tmp_path_factory.mktemp("fleet")
    generate(root, 240, seed=7, now=now)
    return root


@pytest.fixture(scope="session")
def fleet_instance_id(tmp_path_factory: pytest.TempPathFactory, now: datetime) -> Path:
    """The same fleet with AWS:InstanceInformation keyed by InstanceId only (no resourceId),
    as the table of AWS's resource data sync walkthrough declares it."""
    root = tmp_path_factory.mktemp("fleet-instanceid")
    generate(root, 240, seed=7, now=now, instance_key="InstanceId")
    return root
