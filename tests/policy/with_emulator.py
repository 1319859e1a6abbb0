"""Run one command with the embedded AWS emulator up, then stop the emulator.

Usage: ``python -m tests.policy.with_emulator [--log FILE] -- COMMAND [ARG ...]``

``make plan ENV=local`` (and ``make policy`` for every AWS environment) runs ``terraform plan``
through this: the emulator starts on a free loopback port, the command runs with the emulator's
environment (``AWS_ENDPOINT_URL``, the test access key, ``AWS_EC2_METADATA_DISABLED``) plus
``TF_VAR_emulator_endpoint``, and the emulator stops when the command ends, whatever its result.
The exit status is the command's (2 when the emulator could not start).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from tests.emulator.launcher import Emulator, EmulatorError


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, run the command under the emulator and return its exit status."""
    parser = argparse.ArgumentParser(prog="python -m tests.policy.with_emulator")
    parser.add_argument("--log", type=Path, default=None, help="emulator log file")
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- COMMAND [ARG ...]")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the command to run after --")
    try:
        with Emulator(log_path=args.log) as emulator:
            env = dict(os.environ)
            for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN"):
                env.pop(name, None)
            env.update(emulator.environment())
            env["TF_VAR_emulator_endpoint"] = emulator.endpoint
            print(f"emulator: {emulator.endpoint}", file=sys.stderr)
            return subprocess.run(command, env=env, check=False).returncode
    except EmulatorError as exc:
        print(f"with_emulator: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
