"""Plan small Terraform configurations against a local moto server.

Used by the policy tests (each bad fixture under ``tests/policy/fixtures/`` is planned and fed to
terraform-compliance) and by ``tests/unit/fixtures/plans/make_plans.py`` (which regenerates the
renderer's plan fixtures from real ``terraform show -json`` output).

A fixture configuration holds resources only: :func:`prepare` copies it into a working folder and
adds ``_emulator.tf`` with the ``terraform`` block and an aws provider pointed at the server
(``max_retries = 1``, every ``skip_*`` flag, path-style S3), so the same configuration could be
planned against real AWS with a normal provider block.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tests.emulator.launcher import Emulator

ROOT = Path(__file__).resolve().parents[2]
TERRAFORM_RC = ROOT / "build" / "terraform.rc"

# The AWS services the fixtures use; every one is pointed at the moto server.
SERVICES = (
    "cloudwatch",
    "events",
    "iam",
    "kms",
    "lambda",
    "logs",
    "s3",
    "scheduler",
    "sns",
    "sqs",
    "ssm",
    "sts",
)

PROVIDER_TF = """\
terraform {
  required_version = ">= 1.11"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.100"
    }
  }
}

provider "aws" {
  region                      = "us-east-1"
  access_key                  = "testing"
  secret_key                  = "testing"
  max_retries                 = 1
  s3_use_path_style           = true
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  skip_requesting_account_id  = false

  endpoints {
%s
  }
}
"""


@contextlib.contextmanager
def moto_server() -> Iterator[str]:
    """Run the embedded AWS emulator on a free loopback port; yield its endpoint; stop it on exit.

    Raises:
        tests.emulator.launcher.EmulatorError: the server did not start.
    """
    with Emulator(load_managed_policies=False) as emulator:
        yield emulator.endpoint


def terraform_env() -> dict[str, str]:
    """Environment for terraform: the project CLI config (offline aws provider), no checkpoint."""
    env = dict(os.environ)
    if TERRAFORM_RC.is_file():
        env["TF_CLI_CONFIG_FILE"] = str(TERRAFORM_RC)
    env["CHECKPOINT_DISABLE"] = "1"
    env["TF_IN_AUTOMATION"] = "1"
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_DEFAULT_PROFILE"):
        env.pop(name, None)
    return env


def prepare(config: Path, workdir: Path, endpoint: str) -> Path:
    """Copy ``config`` (with any local modules below it) to ``workdir``; add the emulator provider.

    Returns:
        ``workdir``, ready for ``terraform init``.
    """
    shutil.copytree(config, workdir, dirs_exist_ok=True, ignore=_IGNORE)
    relink_modules(config, workdir)
    _write_provider(workdir, endpoint)
    return workdir


def _write_provider(workdir: Path, endpoint: str) -> None:
    endpoints = "\n".join(f'    {svc:<10} = "{endpoint}"' for svc in SERVICES)
    (workdir / "_emulator.tf").write_text(PROVIDER_TF % endpoints)


_IGNORE = shutil.ignore_patterns(".terraform*", "*.tfstate*", "*.tfplan")
SOURCE_RE = re.compile(r'(source\s*=\s*")(\.\.?/[^"]*)(")')


def relink_modules(config: Path, workdir: Path) -> None:
    """Point local module sources that leave ``config`` (``../../modules/x``) at the same folder.

    Sources inside the copied tree (``./app``) stay as they are.
    """
    config = config.resolve()
    for tf in workdir.glob("*.tf"):
        text = tf.read_text()

        def fix(match: re.Match[str]) -> str:
            target = (config / match.group(2)).resolve()
            if target == config or config in target.parents:
                return match.group(0)
            rel = os.path.relpath(target, workdir.resolve())
            return f"{match.group(1)}{rel}{match.group(3)}"

        tf.write_text(SOURCE_RE.sub(fix, text))


def terraform(workdir: Path, *args: str) -> str:
    """Run ``terraform -chdir=workdir args...`` and return its stdout.

    Raises:
        RuntimeError: terraform exited non-zero (the message holds its stderr).
    """
    proc = subprocess.run(
        ["terraform", f"-chdir={workdir}", *args],
        capture_output=True,
        text=True,
        env=terraform_env(),
        check=False,
        timeout=600,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"terraform {' '.join(args)} failed in {workdir}:\n{proc.stderr}")
    return proc.stdout


def _var_args(variables: dict[str, Any] | None) -> list[str]:
    return [
        f"-var={k}={v if isinstance(v, str) else json.dumps(v)}"
        for k, v in (variables or {}).items()
    ]


def plan_json(
    workdir: Path, variables: dict[str, Any] | None = None, *extra: str
) -> dict[str, Any]:
    """Init (once), plan and return ``terraform show -json`` of the plan as a dict.

    ``extra`` arguments go to ``terraform plan`` (e.g. ``-destroy``).
    """
    if not (workdir / ".terraform").is_dir():
        terraform(workdir, "init", "-input=false", "-backend=false")
    var_args = [*_var_args(variables), *extra]
    terraform(workdir, "plan", "-input=false", "-lock=false", "-out=plan.tfplan", *var_args)
    data: dict[str, Any] = json.loads(terraform(workdir, "show", "-json", "plan.tfplan"))
    return data


def prepare_variants(good: Path, overrides: dict[str, Path], workdir: Path, endpoint: str) -> Path:
    """Build one root configuration holding the good configuration and each bad variant.

    ``workdir/variants/<name>/`` is a copy of ``good`` (``name`` = "good") or of ``good`` plus the
    ``*_override.tf`` files of ``overrides[name]``; Terraform merges override files into the
    resources of the same address, so a variant is the good configuration with exactly the
    attributes it breaks. The root calls each variant as ``module.<name>``, so a single
    ``terraform plan`` (and a single provider start) covers all of them and every resource
    address says which variant it belongs to.

    Returns:
        ``workdir``, ready for :func:`plan_json`.

    Raises:
        ValueError: a variant name is not a Terraform identifier or holds no ``*_override.tf``.
    """
    calls = []
    for name, folder in {"good": None, **overrides}.items():
        if not re.fullmatch(r"[a-z][a-z0-9_]*", name):
            raise ValueError(f"variant name {name!r} must be a Terraform identifier")
        target = workdir / "variants" / name
        shutil.copytree(good, target, dirs_exist_ok=True, ignore=_IGNORE)
        relink_modules(good, target)
        if folder is not None:
            files = sorted(folder.glob("*_override.tf"))
            if not files:
                raise ValueError(f"{folder} holds no *_override.tf file")
            for src in files:
                shutil.copy(src, target / src.name)
        calls.append(f'module "{name}" {{\n  source = "./variants/{name}"\n}}\n')
    (workdir / "main.tf").write_text("\n".join(calls))
    _write_provider(workdir, endpoint)
    return workdir


_ADDRESS_KEYS = ("address", "module_address", "previous_address", "resource")


def _strip_prefix(value: Any, prefix: str) -> Any:
    """Copy ``value`` with ``prefix`` removed from every address-like string that starts with it."""
    if isinstance(value, list):
        return [_strip_prefix(v, prefix) for v in value]
    if not isinstance(value, dict):
        return value
    out: dict[str, Any] = {}
    for key, sub in value.items():
        if key in _ADDRESS_KEYS and isinstance(sub, str) and sub.startswith(prefix):
            out[key] = sub[len(prefix) :]
        elif key in _ADDRESS_KEYS and sub == prefix.rstrip("."):
            continue  # the variant's own module becomes the root module: no address
        else:
            out[key] = _strip_prefix(sub, prefix)
    return out


def _module_values(root: dict[str, Any], address: str) -> dict[str, Any]:
    for child in root.get("child_modules", []):
        if child.get("address") == address:
            return dict(child)
    return {"resources": []}


def split_plan(plan: dict[str, Any], name: str) -> dict[str, Any]:
    """Return the plan of ``module.<name>`` alone, as if that variant had been the root module.

    The resources, changes, prior state and configuration of ``module.<name>`` are kept and every
    address loses its ``module.<name>.`` prefix (``module.x.module.log_buckets.aws_s3_bucket.this``
    becomes ``module.log_buckets.aws_s3_bucket.this``); everything of the other variants is
    dropped. This is the plan Terraform makes for the variant planned on its own, with one
    provider start shared by all variants.

    Raises:
        KeyError: the plan has no ``module.<name>``.
    """
    call = plan["configuration"]["root_module"]["module_calls"][name]
    prefix = f"module.{name}."
    out: dict[str, Any] = {
        k: plan[k]
        for k in ("format_version", "terraform_version", "timestamp", "applyable", "complete")
        if k in plan
    }
    out["errored"] = plan.get("errored", False)
    out["configuration"] = {
        "provider_config": plan["configuration"].get("provider_config", {}),
        "root_module": call["module"],
    }
    out["planned_values"] = {
        "root_module": _strip_prefix(
            _module_values(plan["planned_values"]["root_module"], prefix[:-1]), prefix
        )
    }
    if "prior_state" in plan:
        prior = dict(plan["prior_state"])
        values = dict(prior.get("values", {}))
        values["root_module"] = _strip_prefix(
            _module_values(values.get("root_module", {}), prefix[:-1]), prefix
        )
        prior["values"] = values
        out["prior_state"] = prior
    for key in ("resource_changes", "resource_drift", "relevant_attributes"):
        kept = [
            item
            for item in plan.get(key, [])
            if str(item.get("address", item.get("resource", ""))).startswith(prefix)
        ]
        if kept or key == "resource_changes":
            out[key] = _strip_prefix(kept, prefix)
    return out


def apply(workdir: Path, variables: dict[str, Any] | None = None) -> None:
    """Init (once) and ``terraform apply -auto-approve`` the configuration in ``workdir``."""
    if not (workdir / ".terraform").is_dir():
        terraform(workdir, "init", "-input=false", "-backend=false")
    var_args = _var_args(variables)
    terraform(workdir, "apply", "-input=false", "-lock=false", "-auto-approve", *var_args)
