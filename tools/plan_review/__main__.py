"""Command line of the plan review.

Usage::

    python -m tools.plan_review render PLAN.json [-o plan.md] [--title ENV]
        [--policy RESULTS.json ...]
    python -m tools.plan_review compliance PLAN.json -o RESULTS.json
        [--features tests/policy/features] [--bin .venv-policy/bin/terraform-compliance]
    python -m tools.plan_review checkov CHECKOV.json -o RESULTS.json

``render`` prints (or writes) the Markdown review; each ``--policy`` file is a results file of
``compliance``/``checkov`` or raw ``checkov -o json`` output. ``compliance`` runs
terraform-compliance and writes its results; ``checkov`` converts ``checkov -o json`` output.

Exit status: 0 success; 1 a policy check failed (``compliance``/``checkov``, after writing the
results); 2 bad input (the message says what is wrong, nothing is written).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tools.plan_review.policy import (
    PolicyError,
    PolicyResult,
    load_result,
    parse_checkov_json,
    render_results,
    run_compliance,
)
from tools.plan_review.render import PlanError, load_plan, render_markdown

ROOT = Path(__file__).resolve().parents[2]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m tools.plan_review", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    render = sub.add_parser("render", help="render plan JSON as Markdown")
    render.add_argument("plan", type=Path, help="terraform show -json output")
    render.add_argument("-o", "--output", type=Path, help="write here instead of stdout")
    render.add_argument(
        "--title", default=None, help="what is planned (default: plan file's folder)"
    )
    render.add_argument("--policy", type=Path, action="append", default=[], help="results file")
    comp = sub.add_parser("compliance", help="run terraform-compliance on plan JSON")
    comp.add_argument("plan", type=Path)
    comp.add_argument("-o", "--output", type=Path, required=True)
    comp.add_argument("--features", type=Path, default=ROOT / "tests" / "policy" / "features")
    comp.add_argument(
        "--bin", type=Path, default=ROOT / ".venv-policy" / "bin" / "terraform-compliance"
    )
    chk = sub.add_parser("checkov", help="convert checkov -o json output to a results file")
    chk.add_argument("report", type=Path)
    chk.add_argument("-o", "--output", type=Path, required=True)
    return parser


def _write(path: Path | None, text: str) -> None:
    if path is None:
        sys.stdout.write(text)
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def _report(result: PolicyResult, output: Path) -> int:
    _write(output, result.to_json())
    for line in render_results([result]):
        print(line)
    return 0 if result.ok else 1


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status (0 ok, 1 policy failed, 2 bad input)."""
    args = _parser().parse_args(argv)
    try:
        if args.command == "render":
            plan = load_plan(args.plan.read_text())
            results = [load_result(p) for p in args.policy]
            title = args.title or args.plan.resolve().parent.name
            text = render_markdown(plan, title, render_results(results) if args.policy else None)
            _write(args.output, text)
            return 0
        if args.command == "compliance":
            return _report(run_compliance(args.plan, args.features, args.bin), args.output)
        return _report(parse_checkov_json(args.report.read_text()), args.output)
    except (PlanError, PolicyError, FileNotFoundError, IsADirectoryError) as exc:
        print(f"plan_review: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
