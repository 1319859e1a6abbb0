"""The SSM agent install scripts of modules/azure_ssm_hybrid, rendered by Terraform itself.

The scripts live in the provider-free submodule modules/azure_ssm_hybrid/commands, so terraform
can run here without the azurerm provider: its `terraform test` file runs, then an apply (local
state in a temporary folder) renders the Linux script, which `sh -n` parses and which runs here
with a fake curl serving a fake ssm-setup-cli signed by a throwaway gpg key (the script's own
gpg check runs for real).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
COMMANDS = ROOT / "modules" / "azure_ssm_hybrid" / "commands"
VARS = {"aws_region": "us-west-2"}


@pytest.fixture(scope="module")
def signer(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """A throwaway ed25519 signing key: ``{"home": GNUPGHOME, "public": armored public key}``."""
    if shutil.which("gpg") is None:
        pytest.skip("gpg is not installed")
    home = tmp_path_factory.mktemp("gnupg")
    home.chmod(0o700)
    env = dict(os.environ, GNUPGHOME=str(home))
    subprocess.run(
        [
            "gpg",
            "--batch",
            "--passphrase",
            "",
            "--quick-gen-key",
            "fleetpatch test",
            "ed25519",
            "sign",
            "never",
        ],
        check=True,
        capture_output=True,
        env=env,
        timeout=120,
    )
    public = subprocess.run(
        ["gpg", "--batch", "--armor", "--export", "fleetpatch test"],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    ).stdout
    return {"home": str(home), "public": public}


def var_file(tmp_path: Path, signer: dict[str, str]) -> str:
    """``-var-file=`` of VARS plus the test signer's public key (multi-line: a JSON tfvars file)."""
    path = tmp_path / "test.tfvars.json"
    path.write_text(json.dumps({**VARS, "linux_signing_key": signer["public"]}))
    return f"-var-file={path}"


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
    assert "11 passed, 0 failed" in out


def test_rendered_linux_script_parses_and_registers(
    module_copy: Path, tmp_path: Path, signer: dict[str, str]
) -> None:
    var_args = [var_file(tmp_path, signer)]
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
    module_copy: Path, tmp_path: Path, signer: dict[str, str]
) -> None:
    """A re-run (the run command updated: tags, source) must not use a stale activation.

    The rendered script is run with its registration-record path pointed into tmp_path and a
    fake curl on PATH that records each call and fails: registered -> exit 0, curl never called;
    not registered -> the download is attempted (and its failure fails the script).
    """
    var_args = [var_file(tmp_path, signer)]
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


@pytest.mark.parametrize("tampered", [False, True], ids=["signed", "tampered"])
def test_linux_script_runs_the_installer_only_with_a_valid_signature(
    module_copy: Path, tmp_path: Path, signer: dict[str, str], tampered: bool
) -> None:
    """The rendered script, run with a fake curl that serves a fake ssm-setup-cli and its
    detached signature: signed by the configured key -> run (it records its arguments);
    changed after signing -> refused, never run, exit 1."""
    state = f"-state={tmp_path / 'terraform.tfstate'}"
    terraform(
        module_copy, "apply", "-input=false", "-auto-approve", state, var_file(tmp_path, signer)
    )
    script = terraform(module_copy, "output", state, "-raw", "linux_script")
    script = script.replace(
        "/var/lib/amazon/ssm/Vault/Store/RegistrationKey", str(tmp_path / "none")
    )
    served = tmp_path / "served"
    served.mkdir()
    ran = tmp_path / "cli.ran"
    cli = served / "ssm-setup-cli"
    cli.write_text(f'#!/bin/sh\necho "$@" > {ran}\n')
    subprocess.run(
        [
            "gpg",
            "--batch",
            "--yes",
            "--detach-sign",
            "-o",
            str(served / "ssm-setup-cli.sig"),
            str(cli),
        ],
        check=True,
        capture_output=True,
        env=dict(os.environ, GNUPGHOME=signer["home"]),
        timeout=60,
    )
    if tampered:
        cli.write_text(cli.read_text() + "echo owned\n")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    # curl -fsSL ... -o <out> <url>: copy the served file named like the URL's last segment.
    (bin_dir / "curl").write_text(
        '#!/bin/sh\nout=""\nwhile [ $# -gt 1 ]; do [ "$1" = -o ] && out="$2"; shift; done\n'
        f'cp "{served}/${{1##*/}}" "$out"\n'
    )
    (bin_dir / "curl").chmod(0o755)
    done = subprocess.run(
        ["sh", "-c", script],
        capture_output=True,
        text=True,
        check=False,
        env={
            "PATH": f"{bin_dir}:{os.environ.get('PATH', '')}",
            "HOME": str(tmp_path),
            "ACTIVATION_ID": "00000000-0000-4000-8000-000000000000",
            "ACTIVATION_CODE": "codecodecodecodecode",
        },
        timeout=120,
    )
    if tampered:
        assert done.returncode == 1, done.stdout + done.stderr
        assert "does not carry a valid signature" in done.stderr
        assert not ran.exists(), "a tampered installer never runs"
    else:
        assert done.returncode == 0, done.stdout + done.stderr
        assert ran.read_text().split() == [
            "-register",
            "-activation-code",
            "codecodecodecodecode",
            "-activation-id",
            "00000000-0000-4000-8000-000000000000",
            "-region",
            "us-west-2",
        ]
