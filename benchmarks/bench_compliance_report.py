"""Benchmark: the local compliance report over 50,000 managed nodes (3 accounts x 2 Regions).

Times ``tools.report`` end to end on a folder in the Resource Data Sync layout (read and pack
about 250,000 objects, load DuckDB, run every query, write index.html and the CSVs) and records
the peak RSS right after it. Target: under 15 s and under 1 GiB on 2 cores.

``baseline`` is a plain Python loop over the same JSON objects computing the
``noncompliant_nodes`` query (compliance per account / Region / patch group); its answer is
checked against DuckDB's, so the bench fails rather than report a wrong-answer speed-up. The
like-for-like figure, the DuckDB path running only that query (so reading only its three
types), is ``duckdb_noncompliant_nodes_only_seconds``.

Both timings start from a warm page cache (every object is read once, untimed, first): a cold
cache measures the disk, not the report. The dataset is generated once into
``build/bench-data/`` (about 60 s, recorded as ``generation_seconds`` in ``baseline``) and
reused while its ``generation.json`` matches.
Capture times are relative to the generation time, so the stale-node count grows as the cache
ages; the timings do not depend on it.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tools.bench import peak_rss_mb
from tools.report.generate import DEFAULT_ACCOUNTS, DEFAULT_REGIONS, generate
from tools.report.html import write_report
from tools.report.queries import ROOT, run_all

NODES = 50_000
SEED = 1
CACHE = ROOT / "build" / "bench-data" / f"compliance_report-{NODES}-seed{SEED}"
PARAMS = {"application_name": "openssl", "version_pattern": "%"}
TARGET_SECONDS = 15.0
TARGET_RSS_MB = 1024.0


def _dataset() -> tuple[Path, dict[str, Any]]:
    marker = CACHE / "generation.json"
    data = CACHE / "data"
    wanted = {
        "nodes": NODES,
        "seed": SEED,
        "accounts": list(DEFAULT_ACCOUNTS),
        "regions": list(DEFAULT_REGIONS),
    }
    if marker.is_file():
        info = json.loads(marker.read_text())
        if all(info.get(k) == v for k, v in wanted.items()) and data.is_dir():
            return data, {**info, "cached": True}
    shutil.rmtree(CACHE, ignore_errors=True)
    result = generate(data, NODES, seed=SEED)
    info = {
        **wanted,
        "seconds": round(result.seconds, 2),
        "objects": result.files,
        "bytes": result.bytes,
        "generated_at": datetime.now(UTC).isoformat(),
    }
    marker.write_text(json.dumps(info, indent=2))
    return data, {**info, "cached": False}


def _records(folder: Path) -> Any:
    for account in os.scandir(folder):
        for region in os.scandir(account.path):
            for rtype in os.scandir(region.path):
                for entry in os.scandir(rtype.path):
                    with open(entry.path, "rb") as fh:
                        for line in fh:
                            if line.strip():
                                yield (account.name[10:], region.name[7:], json.loads(line))


def python_noncompliant_nodes(data: Path) -> dict[tuple[str, str, str], dict[str, int]]:
    """The noncompliant_nodes query as a plain Python loop over the JSON objects."""
    live = {
        (a, r, rec["resourceId"])
        for a, r, rec in _records(data / "AWS:InstanceInformation")
        if rec.get("InstanceStatus") != "Terminated"
    }
    patch = {
        (a, r, rec["resourceId"]): rec
        for a, r, rec in _records(data / "AWS:ComplianceSummary")
        if rec.get("ComplianceType") == "Patch"
    }
    tag = {
        (a, r, rec["resourceId"]): rec["Value"]
        for a, r, rec in _records(data / "AWS:Tag")
        if rec.get("Key") in ("PatchGroup", "Patch Group")
    }
    out: dict[tuple[str, str, str], dict[str, int]] = {}
    for node in live:
        summary = patch.get(node)
        group = (summary or {}).get("PatchGroup") or tag.get(node) or "(none)"
        row = out.setdefault(
            (node[0], node[1], group),
            {"nodes": 0, "compliant": 0, "noncompliant": 0, "not_scanned": 0},
        )
        row["nodes"] += 1
        status = summary.get("Status") if summary else None
        if status == "COMPLIANT":
            row["compliant"] += 1
        elif status == "NON_COMPLIANT":
            row["noncompliant"] += 1
        elif status is None:
            row["not_scanned"] += 1
    return out


def _cpu_seconds() -> float:
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _warm_page_cache(data: Path) -> float:
    """Read every object once, untimed, so both measurements start from a warm page cache."""
    started = time.perf_counter()
    for type_dir in os.scandir(data):
        for _ in _records(Path(type_dir.path)):
            pass
    return time.perf_counter() - started


def run() -> list[dict[str, Any]]:
    data, info = _dataset()
    warm_seconds = _warm_page_cache(data)
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as out:
        cpu = _cpu_seconds()
        started = time.perf_counter()
        results = run_all(data, PARAMS)
        write_report(
            results, Path(out), source=str(data), generated_at=datetime.now(UTC), params=PARAMS
        )
        seconds = time.perf_counter() - started
        cpu = _cpu_seconds() - cpu
    rss = peak_rss_mb()
    workers_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0

    started = time.perf_counter()
    expected = python_noncompliant_nodes(data)
    baseline_seconds = time.perf_counter() - started
    started = time.perf_counter()
    run_all(data, PARAMS, only=["noncompliant_nodes"])
    like_for_like = time.perf_counter() - started
    got = {
        (r["accountid"], r["region"], r["patchgroup"]): {
            k: r[k] for k in ("nodes", "compliant", "noncompliant", "not_scanned")
        }
        for r in results["noncompliant_nodes"].dicts()
    }
    if got != expected:
        raise AssertionError("DuckDB noncompliant_nodes differs from the Python loop")
    nodes = sum(r["nodes"] for r in got.values())
    return [
        {
            "name": "compliance_report",
            "n": NODES,
            "seconds": round(seconds, 2),
            "api_calls": None,
            "peak_rss_mb": round(rss, 1),
            "baseline": {
                "name": "python_loop_noncompliant_nodes",
                "seconds": round(baseline_seconds, 2),
                "note": "plain Python loop over the same JSON objects computing only the "
                "noncompliant_nodes query; the report runs all 6 queries and writes HTML + CSV",
                "duckdb_noncompliant_nodes_only_seconds": round(like_for_like, 2),
                "live_nodes": nodes,
                "objects": info.get("objects"),
                "generation_seconds": info.get("seconds"),
                "generation_cached": info.get("cached"),
                "target_seconds": TARGET_SECONDS,
                "target_rss_mb": TARGET_RSS_MB,
                "meets_target": seconds < TARGET_SECONDS and rss < TARGET_RSS_MB,
                "report_cpu_seconds": round(cpu, 2),
                "page_cache_warmed": True,
                "warm_up_seconds": round(warm_seconds, 2),
                "reader_process_peak_rss_mb": round(workers_rss, 1),
                "load_average_1m_before": round(load, 2),
                "cpus": os.cpu_count(),
            },
        }
    ]
