"""Command line of the plan review.

Usage::

    python -m tools.plan_review render PLAN.json [-o plan.md] [--title ENV]
        [--policy RESULTS.json ...]
    python -m tools.plan_review compliance PLAN.json -o RESULTS.json
        [--features tests/policy/features] [--bin .venv-policy/bin/terraform-compliance]
    python -m tools.plan_review checkov CHECKOV.json -o RESULTS.json
    python -m tools.plan_review review PLAN_DIR --title ENV --checkov-dir environments/ENV

``render`` prints (or writes) the Markdown review; each ``--policy`` file is a results file of
``compliance``/``checkov`` or raw ``checkov -o json`` output. ``compliance`` runs
terraform-compliance and writes its results; ``checkov`` converts ``checkov -o json`` output.

Exit status: 0 success; 1 a policy check failed (after writing the results and, for
``review``, plan.md); 2 bad input or a tool that could not run (the message says what is
wrong; only ``review`` still writes plan.md, showing the error).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from tools.plan_review.policy import (
    PolicyError,
    PolicyResult,
    error_result,
    load_result,
    parse_checkov_json,
    render_results,
    run_checkov,
    run_compliance,
)
from tools.plan_review.render import PlanError, build_review, load_plan, redact, render_markdown

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
    rev = sub.add_parser("review", help="policy checks + plan.md for one planned environment")
    rev.add_argument("plan_dir", type=Path, help="folder holding plan.json (build/<env>)")
    rev.add_argument("--title", required=True, help="environment name")
    rev.add_argument("--checkov-dir", type=Path, required=True, help="environment folder")
    rev.add_argument("--features", type=Path, default=ROOT / "tests" / "policy" / "features")
    rev.add_argument("--policy-venv", type=Path, default=ROOT / ".venv-policy")
    rev.add_argument(
        "--skip-checkov", action="store_true", help="terraform-compliance only (make policy)"
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


def redact_json(text: str, secrets: Iterable[str]) -> str:
    """``text`` (a JSON document) with every secret replaced in each string it holds.

    Args:
        text: JSON, e.g. a policy result (``PolicyResult.to_json()``).
        secrets: the plan's sensitive strings (``build_review(plan).secrets``).

    Returns:
        The same document re-serialized (indent 2) with ``(sensitive)`` in place of each secret
        inside any string, keys included; the JSON escaping of a value never hides it.

    Raises:
        ValueError: ``text`` is not JSON.
    """
    found = list(secrets)

    def walk(value: Any) -> Any:
        if isinstance(value, str):
            return redact(value, found)
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, dict):
            return {redact(str(k), found): walk(v) for k, v in value.items()}
        return value

    return json.dumps(walk(json.loads(text)), indent=2) + "\n"


def _report(result: PolicyResult, output: Path) -> int:
    _write(output, result.to_json())
    for line in render_results([result]):
        print(line)
    return 0 if result.ok else 1


def review(
    plan_dir: Path,
    title: str,
    checkov_dir: Path,
    features: Path,
    policy_venv: Path,
    *,
    skip_checkov: bool = False,
) -> int:
    """Run both policy tools on one planned environment and write plan.md; return exit status.

    Reads ``plan_dir/plan.json``; writes ``compliance.json``, ``checkov.json`` and ``plan.md``
    there (``skip_checkov``: no checkov run, for ``make policy``, which runs checkov over all
    environments itself). Returns 0 when every check passed, 1 when one failed, 2 when a tool
    could not run.

    Raises:
        PlanError: plan.json is not a plan (nothing is written).
        FileNotFoundError: plan.json is missing (nothing is written).
    """
    plan_path = plan_dir / "plan.json"
    plan = load_plan(plan_path.read_text())
    # The policy results are artifacts too (and their lines reach the job log): the same
    # redaction as plan.md, since a failing check can quote a planned value.
    secrets = build_review(plan).secrets
    status = 0
    results: list[PolicyResult] = []

    def compliance() -> PolicyResult:
        return run_compliance(plan_path, features, policy_venv / "bin" / "terraform-compliance")

    def checkov() -> PolicyResult:
        return run_checkov(checkov_dir, policy_venv / "bin" / "checkov")

    runs: list[tuple[str, str, Callable[[], PolicyResult]]] = [
        ("compliance.json", "terraform-compliance", compliance),
        ("checkov.json", "checkov", checkov),
    ]
    if skip_checkov:
        runs = runs[:1]
    for filename, tool, run in runs:
        try:
            result = run()
            status = max(status, 0 if result.ok else 1)
        except PolicyError as exc:
            print(f"plan_review: {tool}: {exc}", file=sys.stderr)
            result = error_result(tool, exc)
            status = 2
        _write(plan_dir / filename, redact_json(result.to_json(), secrets))
        results.append(result)
    _write(plan_dir / "plan.md", render_markdown(plan, title, render_results(results)))
    for line in render_results(results):
        print(redact(line, secrets))
    print(f"wrote {plan_dir / 'plan.md'}")
    return status


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
        if args.command == "review":
            return review(
                args.plan_dir,
                args.title,
                args.checkov_dir,
                args.features,
                args.policy_venv,
                skip_checkov=args.skip_checkov,
            )
        if args.command == "compliance":
            return _report(run_compliance(args.plan, args.features, args.bin), args.output)
        return _report(parse_checkov_json(args.report.read_text()), args.output)
    except (PlanError, PolicyError, FileNotFoundError, IsADirectoryError) as exc:
        print(f"plan_review: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
