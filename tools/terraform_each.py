"""Run a Terraform command in every module and environment of the repository.

``validate`` runs ``terraform init -backend=false`` and ``terraform validate`` in every AWS
module and environment; ``test`` runs ``terraform init -backend=false`` and ``terraform test`` in
every AWS module that has a ``tests/`` folder; ``check`` (what ``make test`` runs) does both with
one ``init`` per directory: ``init``, ``validate``, then ``test`` where there are tests.
Directories that require the ``azurerm`` provider are listed and skipped: that provider is not
installable offline, so those are checked by ``terraform fmt -check``, the python-hcl2 parse
test and checkov instead.

Each directory's output goes to ``build/terraform/<dir>.<action>.log``; the summary prints one
line per directory with its result and time, and the exit status is 1 when any directory failed.
Directories run ``-j`` at a time (default ``$TF_JOBS`` or 2), the costliest first (:func:`cost`),
so that the longest ones do not start last; the summary lines keep the usual order.

Usage: ``python tools/terraform_each.py {list,validate,test,check} [-j N] [DIR ...]``.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOP_LEVEL = ("modules", "environments")


@dataclass(frozen=True)
class Result:
    """The outcome of one command in one directory."""

    directory: Path
    ok: bool
    seconds: float
    detail: str


def terraform_dirs(root: Path = ROOT) -> list[Path]:
    """Return every directory under ``modules/`` and ``environments/`` holding ``*.tf`` files.

    Nested ``tests/``, ``examples/`` and ``.terraform`` folders are not returned.
    """
    found: list[Path] = []
    for top in TOP_LEVEL:
        base = root / top
        if not base.is_dir():
            continue
        for child in sorted(base.iterdir()):
            if child.is_dir() and any(child.glob("*.tf")):
                found.append(child)
    return found


def needs_azurerm(directory: Path) -> bool:
    """True when a ``*.tf`` file of ``directory`` declares the ``hashicorp/azurerm`` provider."""
    return any("hashicorp/azurerm" in tf.read_text() for tf in directory.glob("*.tf"))


def terraform_env() -> dict[str, str]:
    """Return the environment for terraform: the project CLI config when the caller set none.

    ``make`` sets ``TF_CLI_CONFIG_FILE``; when this tool runs outside make and the variable names
    no existing file, ``build/terraform.rc`` (written by ``make tfconfig``) is used if present.
    """
    env = dict(os.environ)
    project_rc = ROOT / "build" / "terraform.rc"
    current = env.get("TF_CLI_CONFIG_FILE")
    if (not current or not Path(current).is_file()) and project_rc.is_file():
        env["TF_CLI_CONFIG_FILE"] = str(project_rc)
    env.setdefault("CHECKPOINT_DISABLE", "1")
    return env


def _run(cmd: list[str], cwd: Path, log: Path) -> tuple[bool, str]:
    with log.open("a") as out:
        out.write(f"$ {' '.join(cmd)}\n")
        out.flush()
        proc = subprocess.run(
            cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, check=False, env=terraform_env()
        )
    return proc.returncode == 0, f"{cmd[1]} exited {proc.returncode}"


def has_tests(directory: Path) -> bool:
    """True when ``directory/tests`` holds ``*.tftest.hcl`` files."""
    return (directory / "tests").is_dir() and any((directory / "tests").glob("*.tftest.hcl"))


def cost(directory: Path, action: str) -> float:
    """A rough relative cost of ``action`` in ``directory``, to start the costliest first.

    ``terraform test`` starts the aws provider twice per ``run`` block (validate, then plan), and
    an environment's runs plan several modules: the weight is the number of ``run`` blocks,
    times three in ``environments/``. ``validate`` costs about two runs plus two per ``module``
    block (environments/local, ten module calls and no tests, validates for about a minute).
    """
    factor = 3.0 if directory.parent.name == "environments" else 1.0
    total = 0.0
    if action in ("validate", "check"):
        calls = sum(tf.read_text().count('\nmodule "') for tf in directory.glob("*.tf"))
        total += 2.0 * factor + 2.0 * calls
    if action in ("test", "check") and has_tests(directory):
        runs = sum(
            tf.read_text().count('\nrun "') for tf in (directory / "tests").glob("*.tftest.hcl")
        )
        total += runs * factor
    return total


def run_in(directory: Path, action: str) -> Result:
    """Run ``init`` then ``action`` in ``directory``; never raises.

    ``action`` is ``validate``, ``test``, or ``check`` (validate, then test when the directory
    has tests).
    """
    rel = directory.relative_to(ROOT)
    log = ROOT / "build" / "terraform" / f"{str(rel).replace('/', '__')}.{action}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text("")
    start = time.monotonic()
    steps = [["terraform", "init", "-backend=false", "-input=false", "-no-color"]]
    if action in ("validate", "check"):
        steps.append(["terraform", "validate", "-no-color"])
    if action == "test" or (action == "check" and has_tests(directory)):
        steps.append(["terraform", "test", "-no-color"])
    for cmd in steps:
        ok, detail = _run(cmd, directory, log)
        if not ok:
            return Result(
                rel, False, time.monotonic() - start, f"{detail}; see {log.relative_to(ROOT)}"
            )
    return Result(rel, True, time.monotonic() - start, "")


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the process exit status."""
    parser = argparse.ArgumentParser(description="Run terraform in every module/environment.")
    parser.add_argument("action", choices=["list", "validate", "test", "check"])
    parser.add_argument("-j", "--jobs", type=int, default=int(os.environ.get("TF_JOBS", "2")))
    parser.add_argument("dirs", nargs="*", type=Path)
    args = parser.parse_args(argv)

    dirs = [d.resolve() for d in args.dirs] if args.dirs else terraform_dirs()
    azure = [d for d in dirs if needs_azurerm(d)]
    aws = [d for d in dirs if d not in azure]
    if args.action == "test":
        aws = [d for d in aws if has_tests(d)]
    if args.action == "list":
        for d in aws:
            print(f"aws    {d.relative_to(ROOT)}")
        for d in azure:
            print(f"azure  {d.relative_to(ROOT)}")
        return 0
    if not aws:
        print(f"terraform {args.action}: no directories to check", file=sys.stderr)
        return 1
    for d in azure:
        print(f"skip   {d.relative_to(ROOT)} (azurerm provider not available offline)")
    failed = 0
    # Submitted costliest first (the pool starts them in that order), reported in the usual
    # order as each one's result is known.
    with cf.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = {
            d: pool.submit(run_in, d, args.action)
            for d in sorted(aws, key=lambda d: -cost(d, args.action))
        }
        for d in aws:
            res = futures[d].result()
            status = "ok  " if res.ok else "FAIL"
            print(f"{status}   {res.directory}  {res.seconds:5.1f}s  {res.detail}", flush=True)
            failed += not res.ok
    print(f"terraform {args.action}: {len(aws) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
