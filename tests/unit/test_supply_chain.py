"""The state and supply-chain controls of README "Security" that live in files, not in workflows.

Each test reads the file that carries the control, so deleting the control turns it red:
the S3 backend blocks encrypt and lock, make setup installs only hash-pinned packages, and the
AWS environments commit their provider lock files with the hashes of the one provider they use.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tools.hcl import load_dir

ROOT = Path(__file__).resolve().parents[2]
BACKEND_ENVS = ["application", "azure", "security", "shared-services"]
AWS_ENVS = ["application", "security", "shared-services"]


def _backend(env: str) -> dict[str, object]:
    for block in load_dir(ROOT / "environments" / env).get("terraform", []):
        for backend in block.get("backend", []):
            if "s3" in backend:
                found: dict[str, object] = backend["s3"]
                return found
    raise AssertionError(f'environments/{env}: no backend "s3" block')


@pytest.mark.parametrize("env", BACKEND_ENVS)
def test_rule_the_state_backend_encrypts_and_locks(env: str) -> None:
    backend = _backend(env)
    assert backend.get("encrypt") is True, f"rule: environments/{env} backend sets encrypt = true"
    assert backend.get("use_lockfile") is True, (
        f"rule: environments/{env} backend sets use_lockfile = true (S3 native locking)"
    )


@pytest.mark.parametrize("lock", ["dev", "policy"])
def test_rule_make_setup_installs_only_hash_pinned_packages(lock: str) -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(
        rf"pip install [^\n]*--require-hashes -r requirements/{lock}\.txt", makefile
    ), f"rule: make setup installs requirements/{lock}.txt with --require-hashes"
    text = (ROOT / "requirements" / f"{lock}.txt").read_text()
    pins = re.findall(r"^([A-Za-z0-9_.\-\[\]]+)==\S+", text, re.M)
    assert pins, f"requirements/{lock}.txt pins packages"
    entries = re.split(r"\n(?=[A-Za-z0-9_.\-]+==)", text[text.index(pins[0]) :])
    unhashed = [e.split()[0] for e in entries if "--hash=sha256:" not in e]
    assert not unhashed, f"rule: every pin carries its sha256: {unhashed[:5]}"


@pytest.mark.parametrize("env", AWS_ENVS)
def test_rule_the_provider_lock_file_is_committed_with_hashes(env: str) -> None:
    path = f"environments/{env}/.terraform.lock.hcl"
    tracked = subprocess.run(
        ["git", "ls-files", "--error-unmatch", path], cwd=ROOT, capture_output=True, check=False
    )
    if tracked.returncode != 0 and not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    assert tracked.returncode == 0, f"rule: {path} is committed"
    text = (ROOT / path).read_text()
    providers = re.findall(r'provider "([^"]+)"', text)
    assert providers == ["registry.terraform.io/hashicorp/aws"], providers
    assert re.search(r'version\s*=\s*"5\.100\.0"', text)
    assert re.search(r'"h1:[A-Za-z0-9+/=]{44}"', text), f"rule: {path} carries an h1: hash"
