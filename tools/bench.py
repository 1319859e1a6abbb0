"""Run every benchmark and write ``build/bench.json``.

A benchmark is a module ``benchmarks/bench_<name>.py`` with a function ``run() -> list[dict]``
returning entries of this shape (the schema :data:`ENTRY_KEYS` checks)::

    {"name": str, "n": int, "seconds": float, "api_calls": int | None,
     "peak_rss_mb": float | None, "baseline": dict | None}

Each module runs in its own Python process so its peak RSS is its own. The file written is a JSON
list of all entries (an empty list when there is no benchmark). Exit status 1 when a benchmark
fails or returns a malformed entry; the other benchmarks still run and are still written.

Usage: ``python -m tools.bench [NAME ...]`` (names without ``bench_``; a partial run keeps the
other entries already in the file), or
``python -m tools.bench --one PATH`` to run one module and print its entries as JSON.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import resource
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "build" / "bench.json"
ENTRY_KEYS: dict[str, tuple[type, ...]] = {
    "name": (str,),
    "n": (int,),
    "seconds": (float, int),
    "api_calls": (int, type(None)),
    "peak_rss_mb": (float, int, type(None)),
    "baseline": (dict, type(None)),
}


def validate_entry(entry: Any) -> list[str]:
    """Return the problems with one bench entry (empty when it matches the schema)."""
    if not isinstance(entry, dict):
        return [f"entry is {type(entry).__name__}, not an object"]
    problems = [f"missing key {k!r}" for k in ENTRY_KEYS if k not in entry]
    for key, types in ENTRY_KEYS.items():
        if key in entry and (not isinstance(entry[key], types) or isinstance(entry[key], bool)):
            problems.append(f"{key!r} is {type(entry[key]).__name__}")
    return problems


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MiB (``getrusage`` ru_maxrss)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run_one(path: Path) -> list[dict[str, Any]]:
    """Import ``path`` and return what its ``run()`` returns."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    result: list[dict[str, Any]] = module.run()
    return result


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the process exit status."""
    parser = argparse.ArgumentParser(description="Run benchmarks into build/bench.json.")
    parser.add_argument("--one", type=Path)
    parser.add_argument("names", nargs="*")
    args = parser.parse_args(argv)
    if args.one:
        print(json.dumps(run_one(args.one)))
        return 0

    paths = sorted((ROOT / "benchmarks").glob("bench_*.py"))
    if args.names:
        paths = [p for p in paths if p.stem.removeprefix("bench_") in args.names]
    entries: list[dict[str, Any]] = []
    failed = 0
    for path in paths:
        print(f"bench {path.stem} ...", flush=True)
        proc = subprocess.run(
            [sys.executable, "-m", "tools.bench", "--one", str(path)],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        if proc.returncode != 0:
            failed += 1
            print(f"FAIL {path.stem}:\n{proc.stderr[-4000:]}", file=sys.stderr)
            continue
        got = json.loads(proc.stdout.strip().splitlines()[-1])
        for entry in got:
            problems = validate_entry(entry)
            if problems:
                failed += 1
                print(f"FAIL {path.stem}: malformed entry: {problems}", file=sys.stderr)
                continue
            entries.append(entry)
            print(f"  {json.dumps(entry)}", flush=True)
    if args.names and OUT.is_file():
        # A partial run replaces only its own entries; the others already recorded are kept.
        fresh = {e["name"] for e in entries}
        try:
            kept = [e for e in json.loads(OUT.read_text()) if e.get("name") not in fresh]
        except (json.JSONDecodeError, AttributeError):
            kept = []
        entries = kept + entries
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(entries, indent=2) + "\n")
    print(f"wrote {OUT.relative_to(ROOT)} ({len(entries)} entries)")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
