"""Run Terraform against the emulator and read back which AWS calls the provider made.

Used by the integration tests and by ``make demo`` (tools/demo.py): both run ``terraform`` with
the project's CLI config (the offline aws provider mirror), and both want to know, when an apply
fails, which API call the emulator answered with an error.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from .launcher import ROOT

CLI_CONFIG = ROOT / "build" / "terraform.rc"
_STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}")
_FIELD = re.compile(
    r"\b(rpc\.service|rpc\.method|http\.status_code|tf_resource_type)=(\"[^\"]*\"|\S+)"
)


@dataclass(frozen=True)
class TerraformResult:
    """One terraform command: its arguments, exit code, duration (seconds) and output."""

    args: tuple[str, ...]
    returncode: int
    seconds: float
    stdout: str
    stderr: str

    def tail(self, lines: int = 40) -> str:
        """The last ``lines`` lines of stderr and stdout, for error messages."""
        text = (self.stderr.strip() + "\n" + self.stdout.strip()).strip()
        return "\n".join(text.splitlines()[-lines:])


@dataclass(frozen=True)
class ApiCall:
    """One AWS API call the provider made, as its debug log records it."""

    service: str
    operation: str
    status: int
    resource_type: str


def terraform_env(
    extra: dict[str, str] | None = None, log_path: Path | None = None
) -> dict[str, str]:
    """The environment terraform runs in: project CLI config, no checkpoint, optional debug log.

    Args:
        extra: variables added last (e.g. the emulator's ``AWS_*`` variables).
        log_path: when given, ``TF_LOG=DEBUG`` is written there (the provider's API calls).
    """
    env = dict(os.environ)
    env.update(
        {
            "TF_CLI_CONFIG_FILE": str(CLI_CONFIG),
            "TF_IN_AUTOMATION": "1",
            "CHECKPOINT_DISABLE": "1",
            "TF_INPUT": "0",
        }
    )
    if log_path is not None:
        env["TF_LOG"] = "DEBUG"
        env["TF_LOG_PATH"] = str(log_path)
    env.update(extra or {})
    return env


def terraform(
    args: list[str],
    cwd: Path,
    env: dict[str, str],
    timeout: float = 900.0,
) -> TerraformResult:
    """Run ``terraform <args>`` in ``cwd`` with ``-no-color``; never raises on a non-zero exit.

    Args:
        args: e.g. ``["apply", "-auto-approve"]``; ``-no-color`` is added after the subcommand.
        cwd: the root module directory.
        env: from :func:`terraform_env`.
        timeout: seconds before the command is killed.

    Raises:
        FileNotFoundError: terraform is not on PATH.
        subprocess.TimeoutExpired: the command ran longer than ``timeout``.
    """
    binary = shutil.which("terraform", path=env.get("PATH"))
    if binary is None:
        raise FileNotFoundError("terraform is not on PATH")
    command = [binary, args[0], "-no-color", *args[1:]]
    started = time.monotonic()
    completed = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    return TerraformResult(
        tuple(args),
        completed.returncode,
        time.monotonic() - started,
        completed.stdout,
        completed.stderr,
    )


def _entries(log_path: Path) -> list[str]:
    """The log's entries: one per timestamped line, with its continuation lines joined."""
    entries: list[str] = []
    current: list[str] = []
    with log_path.open(errors="replace") as handle:
        for line in handle:
            if _STAMP.match(line) and current:
                entries.append(" ".join(current))
                current = []
            current.append(line.rstrip("\n"))
    if current:
        entries.append(" ".join(current))
    return entries


def api_calls(log_path: Path) -> list[ApiCall]:
    """Every API response the aws provider logged in a ``TF_LOG=DEBUG`` file, in order."""
    calls: list[ApiCall] = []
    if not log_path.exists():
        return calls
    for entry in _entries(log_path):
        if "HTTP Response Received" not in entry:
            continue
        fields = {key: value.strip('"') for key, value in _FIELD.findall(entry)}
        if "rpc.method" not in fields or "http.status_code" not in fields:
            continue
        calls.append(
            ApiCall(
                service=fields.get("rpc.service", "?"),
                operation=fields["rpc.method"],
                status=int(fields["http.status_code"]),
                resource_type=fields.get("tf_resource_type", ""),
            )
        )
    return calls


def server_errors(calls: list[ApiCall]) -> Counter[tuple[str, str]]:
    """(service, operation) → count of 5xx answers: calls the emulator does not implement."""
    return Counter((c.service, c.operation) for c in calls if c.status >= 500)
