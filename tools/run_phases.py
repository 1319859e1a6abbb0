"""Run ``make`` targets side by side, each into its own log, and report them one after another.

``make test`` uses it for its checks once ``make setup`` is done: the phases mostly wait (on the
emulator's agents and Automation steps, on Terraform's provider processes), so running several
at once fills the machine's two cores instead of leaving them idle. Up to ``-j`` phases run at
a time, started in the order given (put the longest first); ``PHASE/N`` runs that phase at
niceness ``N`` (``nice -n N``), so that CPU-bound phases take the CPU the waiting ones leave
idle without slowing the ones whose waits have deadlines. Each phase's output goes to
``<log-dir>/<phase>.log``; when a phase ends its whole log is printed in one piece, framed by
its result and time, so the output reads like a sequential run. A line every ``--heartbeat``
seconds names the phases still running.

The exit status is 0 when every phase passed and 1 otherwise; every phase runs to its end even
when another one failed (like ``make -k``), so one run reports every failure. On SIGINT or
SIGTERM the phases still running are stopped (their whole process groups) before exiting.

Usage: ``python -m tools.run_phases [-j N] [--make make] [--log-dir DIR] PHASE[/N] ...``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Phase:
    """One ``make <name>`` run: its process, log and outcome."""

    name: str
    log: Path
    niceness: int = 0
    process: subprocess.Popen[bytes] | None = None
    handle: IO[bytes] | None = None
    started: float = 0.0
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    returncode: int | None = None
    done: threading.Event = field(default_factory=threading.Event)


def _wait(phase: Phase, finished: threading.Condition) -> None:
    """Wait for ``phase``'s process (``os.wait4``: its CPU time with its waited descendants)."""
    assert phase.process is not None
    _, status, usage = os.wait4(phase.process.pid, 0)
    code = os.waitstatus_to_exitcode(status)
    phase.process.returncode = code
    phase.seconds = time.monotonic() - phase.started
    phase.cpu_seconds = usage.ru_utime + usage.ru_stime
    phase.returncode = code
    if phase.handle is not None:
        phase.handle.close()
    with finished:
        phase.done.set()
        finished.notify_all()


def _start(phase: Phase, make: list[str], finished: threading.Condition) -> None:
    phase.log.parent.mkdir(parents=True, exist_ok=True)
    phase.handle = phase.log.open("wb")
    phase.started = time.monotonic()
    nice = ["nice", "-n", str(phase.niceness)] if phase.niceness else []
    phase.process = subprocess.Popen(
        [*nice, *make, phase.name],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=phase.handle,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: stopped whole on SIGINT/SIGTERM
    )
    threading.Thread(target=_wait, args=(phase, finished), daemon=True).start()


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def _report(phase: Phase, out: IO[str]) -> None:
    verdict = "passed" if phase.returncode == 0 else f"FAILED (exit {phase.returncode})"
    rule = "-" * 20
    out.write(f"{rule} {phase.name}: output ({_shown(phase.log)}) {rule}\n")
    out.write(phase.log.read_text(errors="replace"))
    out.write(
        f"== {phase.name} {verdict} after {phase.seconds:.0f}s (CPU {phase.cpu_seconds:.0f}s)\n"
    )
    out.flush()


def _stop_all(phases: list[Phase]) -> None:
    for phase in phases:
        if phase.process is not None and phase.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(phase.process.pid, signal.SIGTERM)


def run(
    names: list[str],
    jobs: int,
    make: list[str],
    log_dir: Path,
    *,
    heartbeat: float = 60.0,
    out: IO[str] = sys.stdout,
) -> int:
    """Run ``make <name>`` for each ``name[/niceness]``, ``jobs`` at a time; the exit status."""
    phases = []
    for spec in names:
        name, _, niceness = spec.partition("/")
        phases.append(Phase(name, log_dir / f"{name}.log", int(niceness or 0)))
    pending = list(phases)
    finished = threading.Condition()
    begin = time.monotonic()
    last_beat = begin

    def handle_signal(signum: int, _frame: FrameType | None) -> None:
        _stop_all(phases)
        raise SystemExit(128 + signum)

    previous = {s: signal.signal(s, handle_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        reported: set[str] = set()
        while len(reported) < len(phases):
            running = [p for p in phases if p.process is not None and p.returncode is None]
            while pending and len(running) < max(1, jobs):
                phase = pending.pop(0)
                _start(phase, make, finished)
                running.append(phase)
                nice = f" (nice {phase.niceness})" if phase.niceness else ""
                out.write(f"== {phase.name} started at +{phase.started - begin:.0f}s{nice}\n")
                out.flush()
            with finished:
                finished.wait_for(
                    lambda: any(p.done.is_set() and p.name not in reported for p in phases),
                    timeout=5.0,
                )
            for phase in phases:
                if phase.done.is_set() and phase.name not in reported:
                    reported.add(phase.name)
                    _report(phase, out)
            now = time.monotonic()
            if heartbeat > 0 and now - last_beat >= heartbeat:
                last_beat = now
                still = [p for p in phases if p.process is not None and p.returncode is None]
                if still:
                    names_running = ", ".join(f"{p.name} {now - p.started:.0f}s" for p in still)
                    out.write(f"== +{now - begin:.0f}s running: {names_running}\n")
                    out.flush()
    finally:
        _stop_all(phases)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    total = time.monotonic() - begin
    failed = [p.name for p in phases if p.returncode != 0]
    out.write(f"== phases after {total:.0f}s (wall, CPU):")
    out.write("".join(f" {p.name} {p.seconds:.0f}s/{p.cpu_seconds:.0f}s;" for p in phases))
    out.write("\n")
    if failed:
        out.write(f"== FAILED phase(s): {' '.join(failed)} (logs in {_shown(log_dir)})\n")
    out.flush()
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the process exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("phases", nargs="+", help="make targets (target/N: at niceness N)")
    parser.add_argument("-j", "--jobs", type=int, default=len(os.sched_getaffinity(0)))
    parser.add_argument("--make", default=os.environ.get("MAKE", "make"))
    parser.add_argument("--log-dir", type=Path, default=ROOT / "build" / "test")
    parser.add_argument("--heartbeat", type=float, default=60.0)
    args = parser.parse_args(argv)
    return run(
        args.phases, args.jobs, args.make.split(), args.log_dir.resolve(), heartbeat=args.heartbeat
    )


if __name__ == "__main__":
    raise SystemExit(main())
