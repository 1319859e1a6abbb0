"""Plan an environment against the embedded AWS emulator: ``make plan ENV=<env> EMULATOR=1``.

Usage: ``python -m tests.policy.emulated_plan ENV --out build/ENV``

The environment is copied to ``build/emulated-<env>/``, at the same depth as
``environments/<env>/`` so that its relative paths (``../../modules/x``,
``${path.module}/../../build/x.zip``) still resolve, and nothing is written into
``environments/``; there:

* ``zz_emulator_override.tf`` replaces the environment's backend with a local one (Terraform
  override files replace a ``backend`` block), so no state bucket is needed;
* ``terraform.tfvars`` comes from the environment's ``emulator.tfvars`` or, failing that, its
  ``terraform.tfvars.example`` (the documented example values);
* terraform runs with the emulator's environment (``AWS_ENDPOINT_URL`` sends every AWS call,
  STS ``AssumeRole`` of the providers' ``assume_role`` blocks included, to the emulator; test
  keys; no instance metadata) and ``TF_VAR_endpoint`` (environments/local's emulator URL).

Writes ``<out>/plan.tfplan`` and ``<out>/plan.json`` (``terraform show -json``), terraform's
output to ``<out>/plan.log`` (its end is printed when a step fails) and the emulator's log to
``<out>/emulator.log``. Exit status: 0 planned; 1 terraform failed (its output
is shown); 2 bad arguments or the emulator did not start.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

from tests.emulator.launcher import Emulator, EmulatorError
from tests.policy import planner

ROOT = planner.ROOT
OVERRIDE = """\
# Written by tests/policy/emulated_plan.py: plan against the emulator with local state.
terraform {
  backend "local" {}
}
"""


def prepare(env: str, workdir: Path) -> Path:
    """Copy ``environments/<env>`` to ``workdir`` ready to plan against the emulator.

    ``workdir`` should sit two levels below the repository root, like the environment itself.

    Returns:
        ``workdir``.

    Raises:
        FileNotFoundError: there is no ``environments/<env>`` folder.
    """
    source = ROOT / "environments" / env
    if not source.is_dir():
        raise FileNotFoundError(f"no environment folder {source}")
    for stale in workdir.glob("*.tf*"):
        if stale.is_file():
            stale.unlink()
    shutil.copytree(
        source,
        workdir,
        dirs_exist_ok=True,
        ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*", "*.tfplan", "terraform.tfvars"),
    )
    planner.relink_modules(source, workdir)
    (workdir / "zz_emulator_override.tf").write_text(OVERRIDE)
    for name in ("emulator.tfvars", "terraform.tfvars.example"):
        if (source / name).is_file():
            shutil.copy(source / name, workdir / "terraform.tfvars")
            break
    return workdir


def main(argv: list[str] | None = None) -> int:
    """Plan one environment against a fresh emulator; return the exit status."""
    parser = argparse.ArgumentParser(prog="python -m tests.policy.emulated_plan")
    parser.add_argument("env", help="folder name under environments/")
    parser.add_argument("--out", type=Path, required=True, help="where plan.json goes")
    args = parser.parse_args(argv)
    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    try:
        work = prepare(args.env, ROOT / "build" / f"emulated-{args.env}")
    except FileNotFoundError as exc:
        print(f"emulated_plan: {exc}", file=sys.stderr)
        return 2
    try:
        with Emulator(log_path=out / "emulator.log") as emulator:
            env = planner.terraform_env()
            for name in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN"):
                env.pop(name, None)
            env.update(emulator.environment())
            env["TF_VAR_endpoint"] = emulator.endpoint
            print(f"emulator: {emulator.endpoint}; planning {work}", file=sys.stderr)
            steps = [
                ["init", "-input=false", "-no-color", "-reconfigure"],
                ["plan", "-input=false", "-no-color", "-lock=false", f"-out={out / 'plan.tfplan'}"],
            ]
            log = out / "plan.log"
            with log.open("w") as handle:
                for step in steps:
                    handle.write(f"$ terraform {' '.join(step)}\n")
                    handle.flush()
                    proc = subprocess.run(
                        ["terraform", f"-chdir={work}", *step],
                        env=env,
                        check=False,
                        stdout=handle,
                        stderr=subprocess.STDOUT,
                    )
                    if proc.returncode != 0:
                        tail = log.read_text(errors="replace").splitlines()[-40:]
                        print("\n".join(tail), file=sys.stderr)
                        print(
                            f"emulated_plan: terraform {step[0]} failed (log: {log})",
                            file=sys.stderr,
                        )
                        return 1
            summary = [ln for ln in log.read_text(errors="replace").splitlines() if "Plan:" in ln]
            print(summary[-1] if summary else "No changes.", file=sys.stderr)
            show = subprocess.run(
                ["terraform", f"-chdir={work}", "show", "-json", str(out / "plan.tfplan")],
                env=env,
                check=False,
                stdout=subprocess.PIPE,
                text=True,
            )
            if show.returncode != 0:
                return 1
            (out / "plan.json").write_text(show.stdout)
    except EmulatorError as exc:
        print(f"emulated_plan: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {out / 'plan.json'}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("CHECKPOINT_DISABLE", "1")
    sys.exit(main())
