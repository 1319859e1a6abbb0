"""Each query's answer on a small generated fleet equals a plain-Python computation."""

from __future__ import annotations

import math
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tools.report.queries import (
    QUERY_DIR,
    ReportError,
    load_queries,
    load_tables,
    parse_query,
    referenced_tables,
    run_all,
)
from tools.report.source import account_folders

from .conftest import PARAMS, read_type

SECURITY = {"Security", "SecurityUpdates", "CriticalUpdates"}


@pytest.fixture(scope="module")
def results(fleet: Path) -> dict[str, list[dict[str, Any]]]:
    return {name: r.dicts() for name, r in run_all(fleet, PARAMS, threads=1).items()}


def _live(fleet: Path) -> dict[tuple[str, str, str], dict[str, Any]]:
    return {
        (r["_a"], r["_r"], r["InstanceId"]): r
        for r in read_type(fleet, "AWS:InstanceInformation")
        if r["InstanceStatus"] != "Terminated"
    }


def test_instanceid_only_records_give_the_same_answers(
    fleet_instance_id: Path, results: dict[str, list[dict[str, Any]]]
) -> None:
    """AWS's walkthrough declares AWS_InstanceInformation with InstanceId and no ResourceId:
    every query answers the same on records without resourceId."""
    info = list(read_type(fleet_instance_id, "AWS:InstanceInformation"))
    assert info and all("resourceId" not in r and r["InstanceId"] == r["_file"] for r in info)
    other = {n: r.dicts() for n, r in run_all(fleet_instance_id, PARAMS, threads=1).items()}

    def stable(rows: list[dict[str, Any]]) -> list[str]:
        # days_silent counts from the moment each query ran: not compared.
        return sorted(
            repr(sorted((k, v) for k, v in row.items() if k != "days_silent")) for row in rows
        )

    for name, rows in results.items():
        assert stable(other[name]) == stable(rows), name
    nodes = sum(row["nodes"] for row in other["node_types"])
    assert nodes == len(_live(fleet_instance_id)) > 0


def test_every_query_ran(results: dict[str, list[dict[str, Any]]]) -> None:
    assert set(results) == {p.stem for p in QUERY_DIR.glob("*.sql")}
    assert all(results[name] for name in results), "the sample fleet gives rows for every query"


def test_noncompliant_nodes(fleet: Path, results: dict[str, list[dict[str, Any]]]) -> None:
    live = _live(fleet)
    patch = {
        (r["_a"], r["_r"], r["resourceId"]): r
        for r in read_type(fleet, "AWS:ComplianceSummary")
        if r["ComplianceType"] == "Patch"
    }
    tags = {
        (r["_a"], r["_r"], r["resourceId"]): r["Value"]
        for r in read_type(fleet, "AWS:Tag")
        if r["Key"] == "PatchGroup"
    }
    expected: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0, 0, 0])
    for node in live:
        summary = patch.get(node)
        group = (summary and summary["PatchGroup"]) or tags.get(node) or "(none)"
        row = expected[(node[0], node[1], group)]
        row[0] += 1
        status = summary["Status"] if summary else None
        row[1] += status == "COMPLIANT"
        row[2] += status == "NON_COMPLIANT"
        row[3] += status is None
    got = {
        (r["accountid"], r["region"], r["patchgroup"]): [
            r["nodes"],
            r["compliant"],
            r["noncompliant"],
            r["not_scanned"],
        ]
        for r in results["noncompliant_nodes"]
    }
    assert got == dict(expected)
    assert sum(v[3] for v in got.values()) > 0, "the fleet has unscanned nodes"
    for r in results["noncompliant_nodes"]:
        assert r["compliant_pct"] == pytest.approx(round(100 * r["compliant"] / r["nodes"], 1))
    ordered = [r["noncompliant"] for r in results["noncompliant_nodes"]]
    assert ordered == sorted(ordered, reverse=True)


def _missing_items(fleet: Path) -> list[dict[str, Any]]:
    live = _live(fleet)
    return [
        i
        for i in read_type(fleet, "AWS:ComplianceItem")
        if (i["_a"], i["_r"], i["resourceId"]) in live
        and i["ComplianceType"] == "Patch"
        and i["Status"] == "NON_COMPLIANT"
        and i["PatchState"] in ("Missing", "Failed")
    ]


def test_missing_security_patches(fleet: Path, results: dict[str, list[dict[str, Any]]]) -> None:
    nodes: dict[tuple[str, str, str], set[tuple[str, str, str]]] = defaultdict(set)
    accounts: dict[tuple[str, str, str], set[str]] = defaultdict(set)
    titles: dict[tuple[str, str, str], str] = {}
    for i in _missing_items(fleet):
        if i["PatchSeverity"] in ("Critical", "Important") and i["Classification"] in SECURITY:
            key = (i["Id"], i["PatchSeverity"], i["Classification"])
            nodes[key].add((i["_a"], i["_r"], i["resourceId"]))
            accounts[key].add(i["_a"])
            titles[key] = max(titles.get(key, ""), i["Title"])
    got = {
        (r["patch_id"], r["patchseverity"], r["classification"]): (
            r["title"],
            r["nodes"],
            r["accounts"],
        )
        for r in results["missing_security_patches"]
    }
    assert got == {k: (titles[k], len(nodes[k]), len(accounts[k])) for k in nodes}
    assert {"Security", "SecurityUpdates"} <= {k[2] for k in got}


def test_missing_patches_by_severity(fleet: Path, results: dict[str, list[dict[str, Any]]]) -> None:
    items: dict[str, int] = defaultdict(int)
    nodes: dict[str, set[tuple[str, str, str]]] = defaultdict(set)
    for i in _missing_items(fleet):
        severity = i["PatchSeverity"] or "Unspecified"
        items[severity] += 1
        nodes[severity].add((i["_a"], i["_r"], i["resourceId"]))
    got = {
        r["patchseverity"]: (r["missing_patches"], r["nodes"])
        for r in results["missing_patches_by_severity"]
    }
    assert got == {s: (items[s], len(nodes[s])) for s in items}
    assert "Unspecified" in got, "empty Linux severities are reported as Unspecified"


def test_stale_nodes(fleet: Path, results: dict[str, list[dict[str, Any]]]) -> None:
    now = datetime.now(UTC)
    expected = {}
    for (account, region, node), r in _live(fleet).items():
        captured = datetime.strptime(r["captureTime"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        if captured < now - timedelta(days=7):
            days = math.floor((now - captured).total_seconds() / 86400)
            expected[node] = (account, region, r["ComputerName"], r["InstanceStatus"], days)
    got = {
        r["resourceid"]: (
            r["accountid"],
            r["region"],
            r["computername"],
            r["instancestatus"],
            r["days_silent"],
        )
        for r in results["stale_nodes"]
    }
    assert got == expected
    assert {v[3] for v in got.values()} <= {"Stopped", "ConnectionLost"}


def test_application_versions(fleet: Path, results: dict[str, list[dict[str, Any]]]) -> None:
    live = _live(fleet)
    expected: dict[tuple[str, str, str, str], set[str]] = defaultdict(set)
    for a in read_type(fleet, "AWS:Application"):
        if (
            (a["_a"], a["_r"], a["resourceId"]) in live
            and a["Name"].lower() == "openssl"
            and a["Version"].startswith("3.0.")
        ):
            expected[(a["_a"], a["_r"], a["Name"], a["Version"])].add(a["resourceId"])
    got = {
        (r["accountid"], r["region"], r["name"], r["version"]): r["nodes"]
        for r in results["application_versions"]
    }
    assert got == {k: len(v) for k, v in expected.items()}
    assert all(k[3].startswith("3.0.") for k in got)


def test_node_types(fleet: Path, results: dict[str, list[dict[str, Any]]]) -> None:
    expected: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for account, region, node in _live(fleet):
        expected[(account, region)][0 if node.startswith("mi-") else 1] += 1
    got = {
        (r["accountid"], r["region"]): [r["hybrid_nodes"], r["ec2_nodes"]]
        for r in results["node_types"]
    }
    assert got == dict(expected)
    assert all(r["nodes"] == r["hybrid_nodes"] + r["ec2_nodes"] for r in results["node_types"])


def test_missing_types_give_empty_tables_not_errors(fleet: Path, tmp_path: Path) -> None:
    partial = tmp_path / "partial"
    for account in account_folders(fleet):
        (partial / account).mkdir(parents=True)
        (partial / account / "AWS:InstanceInformation").symlink_to(
            fleet / account / "AWS:InstanceInformation"
        )
    got = run_all(partial, PARAMS, threads=1)
    assert got["application_versions"].rows == []
    assert got["missing_security_patches"].rows == []
    assert sum(r["not_scanned"] for r in got["noncompliant_nodes"].dicts()) == sum(
        r["nodes"] for r in got["node_types"].dicts()
    )


def test_not_a_sync_folder(tmp_path: Path, fleet: Path) -> None:
    with pytest.raises(ReportError, match="not a folder"):
        run_all(tmp_path / "nothing", PARAMS)
    account = account_folders(fleet)[0]
    (tmp_path / "bucket" / "myprefix" / account).mkdir(parents=True)
    (tmp_path / "bucket" / "myprefix" / account / "AWS:InstanceInformation").symlink_to(
        fleet / account / "AWS:InstanceInformation"
    )
    with pytest.raises(ReportError, match=r"did you mean .*myprefix"):
        run_all(tmp_path / "bucket", PARAMS)


def test_malformed_json_is_reported(tmp_path: Path) -> None:
    leaf = (
        tmp_path
        / "111111111111"
        / "AWS:InstanceInformation"
        / "accountid=111111111111"
        / "region=us-west-2"
        / "resourcetype=ManagedInstanceInventory"
    )
    leaf.mkdir(parents=True)
    (leaf / "i-0123.json").write_text('{"resourceId": "i-0123", "InstanceStatus": \n')
    with pytest.raises(ReportError, match="AWS:InstanceInformation"):
        run_all(tmp_path, PARAMS)


def test_missing_parameter_is_reported(fleet: Path) -> None:
    with pytest.raises(ReportError, match="application_name"):
        run_all(fleet, {})


def test_query_files_have_headers_and_matching_params(tmp_path: Path) -> None:
    queries = load_queries()
    assert queries["application_versions"].params == ("application_name", "version_pattern")
    assert all(q.title and q.description for q in queries.values())
    bad = tmp_path / "bad.sql"
    bad.write_text("-- title: t\nSELECT 1\n")
    with pytest.raises(ReportError, match="description"):
        parse_query(bad)
    bad.write_text("-- title: t\n-- description: d\nSELECT ? \n")
    with pytest.raises(ReportError, match="placeholders"):
        parse_query(bad)
    with pytest.raises(ReportError, match=r"no \.sql"):
        load_queries(tmp_path / "empty")


def test_only_referenced_tables_are_loaded() -> None:
    names = {t.name for t in referenced_tables(load_queries().values(), load_tables())}
    assert names == {
        "aws_instanceinformation",
        "aws_compliancesummary",
        "aws_complianceitem",
        "aws_application",
        "aws_tag",
    }


def test_only_runs_the_named_queries(fleet: Path) -> None:
    got = run_all(fleet, PARAMS, threads=1, only=["node_types"])
    assert list(got) == ["node_types"]
    with pytest.raises(ReportError, match="unknown queries"):
        run_all(fleet, PARAMS, only=["nope"])
