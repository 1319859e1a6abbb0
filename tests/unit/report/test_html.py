"""The HTML report: summary numbers, chart data, escaping, self-containment, the CLI."""

from __future__ import annotations

import csv
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tools.report.__main__ import main
from tools.report.generate import generate
from tools.report.html import (
    MAX_TABLE_ROWS,
    Bar,
    bar_chart,
    compliance_bars,
    render,
    stale_bars,
    summary,
)
from tools.report.queries import Query, QueryResult, run_all

from .conftest import PARAMS

NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)


def _result(name: str, columns: tuple[str, ...], rows: list[tuple[object, ...]]) -> QueryResult:
    return QueryResult(Query(name, f"title {name}", "desc", (), "SELECT 1"), columns, rows)


def test_summary_adds_up_the_query_rows() -> None:
    results = {
        "node_types": _result(
            "node_types",
            ("accountid", "region", "hybrid_nodes", "ec2_nodes", "nodes"),
            [("1", "a", 2, 8, 10), ("1", "b", 0, 5, 5)],
        ),
        "noncompliant_nodes": _result(
            "noncompliant_nodes",
            (
                "accountid",
                "region",
                "patchgroup",
                "nodes",
                "compliant",
                "noncompliant",
                "not_scanned",
            ),
            [("1", "a", "linux", 10, 6, 3, 1), ("1", "b", "windows", 5, 0, 4, 1)],
        ),
        "missing_security_patches": _result(
            "missing_security_patches", ("patch_id", "nodes"), [("KB1", 4), ("kernel", 3)]
        ),
        "missing_patches_by_severity": _result(
            "missing_patches_by_severity",
            ("patchseverity", "missing_patches", "nodes"),
            [("Critical", 9, 4)],
        ),
        "stale_nodes": _result("stale_nodes", ("resourceid",), [("i-1",), ("i-2",)]),
    }
    assert summary(results) == {
        "nodes": 15,
        "ec2_nodes": 13,
        "hybrid_nodes": 2,
        "compliant": 6,
        "noncompliant": 7,
        "not_scanned": 2,
        "compliant_pct": 46.2,
        "security_patches_missing": 2,
        "security_patch_gaps": 7,
        "missing_patches": 9,
        "stale_nodes": 2,
    }


def test_chart_bars_group_and_bucket() -> None:
    rows = [
        {
            "accountid": "1",
            "region": "a",
            "patchgroup": "linux",
            "compliant": 1,
            "noncompliant": 2,
            "not_scanned": 0,
        },
        {
            "accountid": "1",
            "region": "a",
            "patchgroup": "appa",
            "compliant": 3,
            "noncompliant": 0,
            "not_scanned": 1,
        },
        {
            "accountid": "2",
            "region": "a",
            "patchgroup": "linux",
            "compliant": 5,
            "noncompliant": 1,
            "not_scanned": 0,
        },
    ]
    by_region = compliance_bars(rows, ("accountid", "region"))
    assert [(b.label, b.parts) for b in by_region] == [
        ("1 / a", (("compliant", 4), ("noncompliant", 2), ("not_scanned", 1))),
        ("2 / a", (("compliant", 5), ("noncompliant", 1), ("not_scanned", 0))),
    ]
    assert [b.label for b in compliance_bars(rows, ("patchgroup",))] == ["appa", "linux"]
    stale = stale_bars(
        [{"accountid": "1", "region": "a", "days_silent": d} for d in (8, 14, 15, 30, 31, 90)]
    )
    assert stale[0].parts == (("8-14", 2), ("15-30", 2), ("31+", 2))


def test_bar_chart_scales_to_the_biggest_bar() -> None:
    svg = bar_chart("t", [Bar("x", (("a", 10),)), Bar("y", (("a", 5),))], {"a": "#000"}, width=460)
    widths = [float(w) for w in re.findall(r'<rect x="[\d.]+" y="\d+" width="([\d.]+)"', svg)]
    assert widths == [200.0, 100.0]  # plot width 460 - 190 - 70
    assert "no data" in bar_chart("t", [], {})


def test_values_are_escaped() -> None:
    evil = "<script>alert(1)</script>"
    results = {
        "stale_nodes": _result(
            "stale_nodes",
            ("accountid", "region", "computername", "days_silent"),
            [("1", "a", evil, 9)],
        )
    }
    page = render(results, source=evil, generated_at=NOW)
    assert evil not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_report_is_self_contained_and_complete(fleet: Path, tmp_path: Path) -> None:
    assert main(["--source", str(fleet), "--out", str(tmp_path)]) == 0
    page = (tmp_path / "index.html").read_text()
    assert not re.search(r"<(script|link|img)[^>]+(src|href)=", page), "no external resources"
    assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", page), (
        "no URL but the SVG namespace"
    )
    assert page.index("Summary") < page.index("<svg") < page.index("<table")
    assert page.count("<svg") == 5
    results = run_all(fleet, {"application_name": "openssl", "version_pattern": "%"}, threads=1)
    for name, result in results.items():
        with (tmp_path / f"{name}.csv").open() as fh:
            rows = list(csv.reader(fh))
        assert tuple(rows[0]) == result.columns
        assert len(rows) - 1 == len(result.rows)
        assert f'id="{name}"' in page


def test_long_tables_are_cut_with_a_note() -> None:
    rows = [("1", "a", f"i-{n}", n) for n in range(MAX_TABLE_ROWS + 5)]
    page = render(
        {
            "stale_nodes": _result(
                "stale_nodes", ("accountid", "region", "resourceid", "days_silent"), rows
            )
        },
        source="x",
        generated_at=NOW,
    )
    assert page.count("<tr>") == MAX_TABLE_ROWS + 1  # header row + shown rows
    assert f"of {MAX_TABLE_ROWS + 5:,} rows" in page


def test_cli_bad_source_writes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--source", str(tmp_path / "missing"), "--out", str(tmp_path / "out")]) == 2
    assert "not a folder" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
    assert PARAMS["application_name"] == "openssl"


def test_cli_without_source_reports_a_sample_fleet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("tools.report.__main__.SAMPLE_DIR", tmp_path / "sample")
    assert main(["--out", str(tmp_path / "out"), "--sample-nodes", "12"]) == 0
    assert "generated a sample fleet of 12 nodes" in capsys.readouterr().out
    assert list((tmp_path / "sample").glob("*/AWS:InstanceInformation"))
    assert (tmp_path / "out" / "index.html").is_file()
    assert main(["--out", str(tmp_path / "out2"), "--sample-nodes", "0"]) == 2


def test_cli_shows_what_the_read_left_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """An object under one account's folder filed as another account's partition: the report
    leaves it out and says so on stderr and in the page."""
    source = tmp_path / "sync"
    generate(source, 12, seed=3, accounts=("111111111111", "222222222222"))
    leaf = source / "222222222222" / "AWS:Tag" / "accountid=111111111111" / "region=us-west-2"
    (leaf / "resourcetype=ManagedInstanceInventory").mkdir(parents=True)
    (leaf / "resourcetype=ManagedInstanceInventory" / "i-1.json").write_text('{"Key":"k"}\n')
    assert main(["--source", str(source), "--out", str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err
    assert "warning: ignored 1 object(s) under account folder 222222222222/" in err
    page = (tmp_path / "out" / "index.html").read_text()
    assert 'class="warning">Warning: ignored 1 object(s)' in page
