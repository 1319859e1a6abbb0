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

Terraform starts a new aws provider process for every provider configuration of every
operation: ``terraform test`` twice per ``run`` block, each start costing about half a second of
CPU on top of what the run itself needs. Where that process only answers stateless calls (its
schema and static validation), one shared provider server does the same work: ``validate`` never
configures a provider, and ``terraform test`` never configures one that its test files mock
(:func:`all_providers_mocked`). So ``validate`` and such tests attach (``TF_REATTACH_PROVIDERS``)
to one aws provider started in its debug mode (:class:`SharedProvider`), the same binary that
``terraform init`` installed for the directory; a test whose files leave a provider configuration
unmocked runs as usual. ``TF_EACH_SHARED_PROVIDER=0`` turns this off. Measured on the 2-core
machine: modules/scan's 11 runs took 16.5 s of CPU with a provider per operation, 4.8 s attached.

Usage: ``python tools/terraform_each.py {list,validate,test,check} [-j N] [DIR ...]``.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import os
import re
import signal
import subprocess
import sys
import threading
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


AWS_PROVIDER = "registry.terraform.io/hashicorp/aws"
_BLOCK = re.compile(r'^(mock_provider|provider) "aws" \{(\}|\n.*?^\})', re.MULTILINE | re.DOTALL)
_ALIAS = re.compile(r'^\s*alias\s*=\s*"([^"]+)"', re.MULTILINE)
_REATTACH = re.compile(r"TF_REATTACH_PROVIDERS='(\{.*\})'")


def _aws_blocks(text: str, kind: str) -> list[str]:
    """The alias ("" for the default configuration) of every top-level ``kind "aws"`` block."""
    found = []
    for block_kind, body in _BLOCK.findall(text):
        if block_kind == kind:
            alias = _ALIAS.search(body)
            found.append(alias.group(1) if alias else "")
    return found


def all_providers_mocked(directory: Path) -> bool:
    """True when every test file of ``directory`` mocks every aws provider configuration.

    The configurations are the directory's ``provider "aws"`` blocks (their aliases), or the
    default one when it declares none (a child module). A test file that declares a
    ``provider "aws"`` block of its own, or passes ``providers`` to a run, does not count as
    mocked: Terraform would configure that provider.
    """
    configured = {
        a for tf in directory.glob("*.tf") for a in _aws_blocks(tf.read_text(), "provider")
    }
    needed = configured or {""}
    files = sorted((directory / "tests").glob("*.tftest.hcl"))
    for test in files:
        text = test.read_text()
        if _aws_blocks(text, "provider") or re.search(r"^\s*providers\s*=", text, re.MULTILINE):
            return False
        if not needed <= set(_aws_blocks(text, "mock_provider")):
            return False
    return bool(files)


def installed_aws_provider(directory: Path) -> Path | None:
    """The aws provider binary ``terraform init`` installed for ``directory`` (resolved), if any."""
    base = directory / ".terraform" / "providers" / AWS_PROVIDER
    found = sorted(base.glob("*/*/terraform-provider-aws*"))
    return found[-1].resolve() if len(found) == 1 else None


class SharedProvider:
    """aws provider servers in debug mode, one per binary, that terraform attaches to.

    Started on first use (:meth:`reattach`), stopped by :meth:`stop`. A server that cannot be
    started is remembered as unavailable: the callers then run terraform as usual.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._servers: dict[Path, tuple[subprocess.Popen[str], str] | None] = {}

    def reattach(self, binary: Path) -> str | None:
        """The ``TF_REATTACH_PROVIDERS`` value for ``binary``'s server, or None."""
        with self._lock:
            if binary not in self._servers:
                self._servers[binary] = self._start(binary)
            server = self._servers[binary]
            return server[1] if server else None

    @staticmethod
    def _start(binary: Path, timeout: float = 60.0) -> tuple[subprocess.Popen[str], str] | None:
        process = subprocess.Popen(
            [str(binary), "-debug"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            start_new_session=True,
        )
        found: list[str] = []

        def read() -> None:
            assert process.stdout is not None
            for line in process.stdout:
                match = _REATTACH.search(line)
                if match and not found:
                    found.append(match.group(1))
            # keep reading until the server exits, so that it never blocks on a full pipe

        threading.Thread(target=read, daemon=True).start()
        deadline = time.monotonic() + timeout
        while not found and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        if not found:
            process.kill()
            process.wait()
            print(f"shared provider: {binary.name} did not start in debug mode; not shared")
            return None
        value = json.loads(found[0])
        if AWS_PROVIDER not in value:
            process.kill()
            process.wait()
            return None
        print(f"shared provider: {binary.name} (pid {process.pid}) for validate and mocked tests")
        return process, json.dumps({AWS_PROVIDER: value[AWS_PROVIDER]})

    def stop(self) -> None:
        """Stop every server started (SIGINT: the debug server's own way out, then SIGKILL)."""
        with self._lock:
            servers = [s for s in self._servers.values() if s]
            self._servers.clear()
        for process, _ in servers:
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


def _run(
    cmd: list[str], cwd: Path, log: Path, extra_env: dict[str, str] | None = None
) -> tuple[bool, str]:
    with log.open("a") as out:
        note = " (shared aws provider)" if extra_env else ""
        out.write(f"$ {' '.join(cmd)}{note}\n")
        out.flush()
        env = {**terraform_env(), **(extra_env or {})}
        proc = subprocess.run(
            cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, check=False, env=env
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


def run_in(directory: Path, action: str, shared: SharedProvider | None = None) -> Result:
    """Run ``init`` then ``action`` in ``directory``; never raises.

    ``action`` is ``validate``, ``test``, or ``check`` (validate, then test when the directory
    has tests). With ``shared``, ``validate``, and ``test`` when :func:`all_providers_mocked`,
    attach to its aws provider server.
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
        extra: dict[str, str] = {}
        if shared is not None and cmd[1] != "init":
            binary = installed_aws_provider(directory)
            safe = cmd[1] == "validate" or all_providers_mocked(directory)
            reattach = shared.reattach(binary) if binary is not None and safe else None
            if reattach:
                extra["TF_REATTACH_PROVIDERS"] = reattach
        ok, detail = _run(cmd, directory, log, extra)
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
    shared = SharedProvider() if os.environ.get("TF_EACH_SHARED_PROVIDER", "1") != "0" else None
    try:
        with cf.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
            futures = {
                d: pool.submit(run_in, d, args.action, shared)
                for d in sorted(aws, key=lambda d: -cost(d, args.action))
            }
            for d in aws:
                res = futures[d].result()
                status = "ok  " if res.ok else "FAIL"
                print(f"{status}   {res.directory}  {res.seconds:5.1f}s  {res.detail}", flush=True)
                failed += not res.ok
    finally:
        if shared is not None:
            shared.stop()
    print(f"terraform {args.action}: {len(aws) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
