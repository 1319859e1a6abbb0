"""The SSM agent install scripts of modules/azure_ssm_hybrid, rendered by Terraform itself.

The scripts live in the provider-free submodule modules/azure_ssm_hybrid/commands, so terraform
can run here without the azurerm provider: its `terraform test` file runs, then an apply (local
state in a temporary folder) renders the Linux script, which `sh -n` parses.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
COMMANDS = ROOT / "modules" / "azure_ssm_hybrid" / "commands"
VARS = {"aws_region": "us-west-2"}


def terraform(workdir: Path, *args: str) -> str:
    env = dict(os.environ, TF_IN_AUTOMATION="1", CHECKPOINT_DISABLE="1")
    rc = ROOT / "build" / "terraform.rc"
    if not Path(env.get("TF_CLI_CONFIG_FILE", "")).is_file() and rc.is_file():
        env["TF_CLI_CONFIG_FILE"] = str(rc)
    result = subprocess.run(
        ["terraform", f"-chdir={workdir}", *args, "-no-color"],
        capture_output=True,
        text=True,
        check=False,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def module_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("terraform") is None:
        pytest.skip("terraform is not installed")
    work = tmp_path_factory.mktemp("commands") / "commands"
    shutil.copytree(COMMANDS, work, ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*"))
    terraform(work, "init", "-input=false")
    return work


def test_terraform_test_of_the_commands_passes(module_copy: Path) -> None:
    out = terraform(module_copy, "test")
    assert "6 passed, 0 failed" in out


def test_rendered_linux_script_parses_and_registers(module_copy: Path, tmp_path: Path) -> None:
    var_args = [f"-var={k}={v}" for k, v in VARS.items()]
    state = f"-state={tmp_path / 'terraform.tfstate'}"
    terraform(module_copy, "apply", "-input=false", "-auto-approve", state, *var_args)
    script = terraform(module_copy, "output", state, "-raw", "linux_script")
    syntax = subprocess.run(["sh", "-n"], input=script, capture_output=True, text=True, check=False)
    assert syntax.returncode == 0, syntax.stderr
    lines = script.splitlines()
    assert lines[:2] == ["#!/bin/sh", "set -eu"]
    # No secret in the script: the activation arrives as protected parameters (env variables).
    assert lines[-1] == (
        '"$tmp/ssm-setup-cli" -register -activation-code "$ACTIVATION_CODE" '
        '-activation-id "$ACTIVATION_ID" -region "us-west-2"'
    )
    # Without the parameters the script stops before downloading anything.
    bare = subprocess.run(
        ["sh", "-c", script],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": os.environ.get("PATH", "")},
    )
    assert bare.returncode != 0 and "ACTIVATION_ID" in bare.stderr
    assert any(
        "https://amazon-ssm-us-west-2.s3.us-west-2.amazonaws.com/latest/linux_${arch}/ssm-setup-cli"
        in line
        for line in lines
    )


def test_linux_script_on_a_registered_node_exits_0_without_download_or_activation(
    module_copy: Path, tmp_path: Path
) -> None:
    """A re-run (the run command updated: tags, source) must not use a stale activation.

    The rendered script is run with its registration-record path pointed into tmp_path and a
    fake curl on PATH that records each call and fails: registered -> exit 0, curl never called;
    not registered -> the download is attempted (and its failure fails the script).
    """
    var_args = [f"-var={k}={v}" for k, v in VARS.items()]
    state = f"-state={tmp_path / 'terraform.tfstate'}"
    terraform(module_copy, "apply", "-input=false", "-auto-approve", state, *var_args)
    script = terraform(module_copy, "output", state, "-raw", "linux_script")
    real = "/var/lib/amazon/ssm/Vault/Store/RegistrationKey"
    assert script.count(real) == 1
    record = tmp_path / "RegistrationKey"
    script = script.replace(real, str(record))
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "curl.calls"
    (bin_dir / "curl").write_text(f'#!/bin/sh\necho "$@" >> {calls}\nexit 22\n')
    (bin_dir / "curl").chmod(0o755)
    env = {
        "PATH": f"{bin_dir}:{os.environ.get('PATH', '')}",
        "ACTIVATION_ID": "00000000-0000-4000-8000-000000000000",
        "ACTIVATION_CODE": "expiredexpiredexpired",
    }

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["sh", "-c", script], capture_output=True, text=True, check=False, env=env
        )

    # The agent's vault record as agent/managedInstances/registration writes it (json.Marshal).
    record.write_text('{"instanceID":"mi-0123456789abcdef0","region":"us-west-2","privateKey":"x"}')
    done = run()
    assert done.returncode == 0, done.stderr
    assert "already registered as mi-0123456789abcdef0" in done.stdout
    assert not calls.exists()

    # A record without an instance id (e.g. cleared with -register -clear) is not a registration.
    record.write_text("{}")
    fresh = run()
    assert fresh.returncode != 0
    assert "ssm-setup-cli" in calls.read_text()
