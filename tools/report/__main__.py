"""``python -m tools.report`` (``make report``): the local compliance report.

Usage::

    python -m tools.report [--source s3://bucket/prefix | --source FOLDER] [--out build/report]
                           [--application NAME] [--version-pattern PATTERN]

Without ``--source`` a sample fleet (``--sample-nodes``, default 300) is generated into
``build/report-sample`` first, so the command works with no data and no cloud account.
Writes ``<out>/index.html`` and one CSV per query. Exit status 2 on bad input (nothing is
written), 0 otherwise.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from tools.report.generate import generate
from tools.report.html import summary, write_report
from tools.report.queries import ROOT, ReportError, run_all

SAMPLE_DIR = ROOT / "build" / "report-sample"


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the process exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m tools.report",
        description="Patch compliance and inventory report over Resource Data Sync data.",
    )
    parser.add_argument(
        "--source",
        help="s3://bucket/prefix or a local folder (the sync destination); "
        "default: a generated sample fleet",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "report")
    parser.add_argument("--application", default="openssl", help="application_name parameter")
    parser.add_argument(
        "--version-pattern", default="%", help="version_pattern parameter (SQL LIKE)"
    )
    parser.add_argument("--sample-nodes", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    source: str = args.source or ""
    if not source:
        shutil.rmtree(SAMPLE_DIR, ignore_errors=True)
        try:
            made = generate(SAMPLE_DIR, args.sample_nodes, seed=args.seed)
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(f"no SOURCE given: generated a sample fleet of {made.nodes} nodes in {SAMPLE_DIR}")
        source = str(SAMPLE_DIR)
    params = {"application_name": args.application, "version_pattern": args.version_pattern}
    started = time.perf_counter()
    warnings: list[str] = []
    try:
        results = run_all(source, params, warnings=warnings)
    except ReportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    paths = write_report(
        results,
        args.out,
        source=source,
        generated_at=datetime.now(UTC),
        params=params,
        warnings=warnings,
    )
    numbers = summary(results)
    print(
        f"report of {numbers['nodes']:,.0f} managed nodes: {numbers['noncompliant']:,.0f} "
        f"non-compliant, {numbers['stale_nodes']:,.0f} silent > 7 days "
        f"({time.perf_counter() - started:.1f} s)"
    )
    print(f"wrote {paths[0]} and {len(paths) - 1} CSV files")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
