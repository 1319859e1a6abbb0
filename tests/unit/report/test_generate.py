"""The sample generator writes the Resource Data Sync layout and a consistent fleet."""

from __future__ import annotations

import hashlib
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tools.report.generate import DEFAULT_ACCOUNTS, DEFAULT_REGIONS, TYPES, generate, main
from tools.report.source import KEY_RE

from .conftest import read_type

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def _digest(root: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(root.rglob("*.json")):
        h.update(path.relative_to(root).as_posix().encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def test_every_object_follows_the_sync_layout(fleet: Path) -> None:
    keys = [p.relative_to(fleet).as_posix() for p in fleet.rglob("*") if p.is_file()]
    assert keys
    assert all(KEY_RE.match(k) for k in keys), [k for k in keys if not KEY_RE.match(k)][:3]
    assert {k.split("/")[1] for k in keys} == set(TYPES)
    assert all("/resourcetype=ManagedInstanceInventory/" in k for k in keys)
    # each account's objects under its own top-level folder, the only one its sync may write
    assert all(KEY_RE.match(k)["folder"] == KEY_RE.match(k)["accountid"] for k in keys)  # type: ignore[index]


def test_nodes_are_unique_and_spread_over_accounts_and_regions(fleet: Path) -> None:
    info = list(read_type(fleet, "AWS:InstanceInformation"))
    assert len(info) == 240
    assert len({r["resourceId"] for r in info}) == 240
    per_combo = Counter((r["_a"], r["_r"]) for r in info)
    assert set(per_combo) == {(a, r) for a in DEFAULT_ACCOUNTS for r in DEFAULT_REGIONS}
    assert set(per_combo.values()) == {40}
    assert all(r["resourceId"] == r["_file"] == r["InstanceId"] for r in info)
    hybrid = [r for r in info if r["resourceId"].startswith("mi-")]
    assert hybrid and all(r["ResourceType"] == "ManagedInstance" for r in hybrid)
    assert {r["InstanceStatus"] for r in info} <= {
        "Active",
        "Stopped",
        "Terminated",
        "ConnectionLost",
    }


def test_every_record_carries_the_sync_fields(fleet: Path) -> None:
    for type_name in TYPES:
        for record in read_type(fleet, type_name):
            assert record["resourceId"] == record["_file"]
            assert record["schemaVersion"] == "1.0"
            datetime.strptime(record["captureTime"], "%Y-%m-%dT%H:%M:%SZ")


def test_patch_summary_agrees_with_compliance_items(fleet: Path) -> None:
    items: dict[str, list[dict[str, str]]] = {}
    for item in read_type(fleet, "AWS:ComplianceItem"):
        if item["ComplianceType"] == "Patch":
            items.setdefault(item["resourceId"], []).append(item)
    summaries = {
        s["resourceId"]: s
        for s in read_type(fleet, "AWS:ComplianceSummary")
        if s["ComplianceType"] == "Patch"
    }
    patch = {p["resourceId"]: p for p in read_type(fleet, "AWS:PatchSummary")}
    assert set(items) == set(summaries) == set(patch)
    assert any(s["Status"] == "NON_COMPLIANT" for s in summaries.values())
    assert any(s["Status"] == "COMPLIANT" for s in summaries.values())
    for node, node_items in items.items():
        states = Counter(i["PatchState"] for i in node_items)
        assert int(patch[node]["MissingCount"]) == states["Missing"]
        assert int(patch[node]["FailedCount"]) == states["Failed"]
        bad = any(i["Status"] == "NON_COMPLIANT" for i in node_items)
        assert summaries[node]["Status"] == ("NON_COMPLIANT" if bad else "COMPLIANT")
        assert all(
            i["Status"] == ("COMPLIANT" if i["PatchState"] == "Installed" else "NON_COMPLIANT")
            for i in node_items
        )


def test_same_seed_and_time_give_identical_bytes(tmp_path: Path) -> None:
    generate(tmp_path / "a", 30, seed=3, now=NOW)
    generate(tmp_path / "b", 30, seed=3, now=NOW)
    generate(tmp_path / "c", 30, seed=4, now=NOW)
    assert _digest(tmp_path / "a") == _digest(tmp_path / "b")
    assert _digest(tmp_path / "a") != _digest(tmp_path / "c")


def test_prefix_and_custom_accounts(tmp_path: Path) -> None:
    result = generate(
        tmp_path,
        4,
        accounts=("444444444444",),
        regions=("ap-southeast-2",),
        prefix="inventory/sync",
        now=NOW,
    )
    assert result.root == tmp_path / "inventory" / "sync"
    assert (
        result.root
        / "444444444444"
        / "AWS:InstanceInformation"
        / "accountid=444444444444"
        / "region=ap-southeast-2"
    ).is_dir()
    assert result.nodes == 4 and result.files == len(list(tmp_path.rglob("*.json")))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"nodes": 0}, "nodes must be >= 1"),
        ({"accounts": ("12345",)}, "12 digits"),
        ({"accounts": ()}, "at least one"),
        ({"regions": ("US-WEST-2",)}, "us-west-2"),
        ({"prefix": "/leading"}, "prefix"),
    ],
)
def test_bad_arguments_are_rejected_and_nothing_is_written(
    tmp_path: Path, kwargs: dict[str, object], message: str
) -> None:
    args: dict[str, object] = {"nodes": 3, **kwargs}
    nodes = args.pop("nodes")
    with pytest.raises(ValueError, match=message):
        generate(tmp_path / "out", nodes, **args)  # type: ignore[arg-type]
    assert not (tmp_path / "out").exists()


def test_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--nodes", "5", "--out", str(tmp_path), "--seed", "2"]) == 0
    assert "wrote 5 managed nodes" in capsys.readouterr().out
    assert len(list(tmp_path.glob("*/AWS:InstanceInformation/*/*/*/*.json"))) == 5
    assert main(["--nodes", "5", "--out", str(tmp_path / "x"), "--accounts", "1"]) == 2
    assert "12 digits" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
