"""tools/plan_seal.py: hybrid sealing of saved plans (AES-256-GCM key wrapped with RSA-OAEP)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tools import plan_seal

ROOT = Path(__file__).resolve().parents[2]
PLAN = b"PK\x03\x04 a saved plan with secret state values " * 500


@pytest.fixture(scope="module")
def keys() -> tuple[str, str]:
    private_pem, public_pem = plan_seal.generate_keypair(2048)
    return private_pem.decode(), public_pem.decode()


@pytest.fixture(scope="module")
def other_keys() -> tuple[str, str]:
    private_pem, public_pem = plan_seal.generate_keypair(2048)
    return private_pem.decode(), public_pem.decode()


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, keys: tuple[str, str]) -> None:
    monkeypatch.setenv("SEAL_PRIV", keys[0])
    monkeypatch.setenv("SEAL_PUB", keys[1])


def sealed_bytes(keys: tuple[str, str]) -> bytes:
    return plan_seal.seal(PLAN, plan_seal.load_public_key(keys[1]))


def test_roundtrip_in_memory(keys: tuple[str, str]) -> None:
    data = sealed_bytes(keys)
    assert data.startswith(plan_seal.MAGIC + bytes([plan_seal.VERSION]))
    assert PLAN[:40] not in data
    assert plan_seal.open_sealed(data, plan_seal.load_private_key(keys[0])) == PLAN


def test_every_seal_uses_a_fresh_key_and_nonce(keys: tuple[str, str]) -> None:
    assert sealed_bytes(keys) != sealed_bytes(keys)


def test_roundtrip_cli(tmp_path: Path, env: None) -> None:
    (tmp_path / "plan.tfplan").write_bytes(PLAN)
    sealed, opened = tmp_path / "plan.tfplan.sealed", tmp_path / "opened.tfplan"
    assert (
        plan_seal.main(
            ["seal", str(tmp_path / "plan.tfplan"), str(sealed), "--public-key-env", "SEAL_PUB"]
        )
        == 0
    )
    assert plan_seal.main(["open", str(sealed), str(opened), "--private-key-env", "SEAL_PRIV"]) == 0
    assert opened.read_bytes() == PLAN
    assert stat.S_IMODE(opened.stat().st_mode) == 0o600


def test_empty_plaintext_roundtrips(keys: tuple[str, str]) -> None:
    data = plan_seal.seal(b"", plan_seal.load_public_key(keys[1]))
    assert plan_seal.open_sealed(data, plan_seal.load_private_key(keys[0])) == b""


def _offsets(keys: tuple[str, str]) -> dict[str, int]:
    fixed = plan_seal._FIXED.size
    wrapped = 2048 // 8
    return {
        "magic": 0,
        "version": len(plan_seal.MAGIC),
        "key id": len(plan_seal.MAGIC) + 1,
        "wrapped length": fixed - 1,
        "wrapped key": fixed + 5,
        "nonce": fixed + wrapped + 3,
        "ciphertext": fixed + wrapped + plan_seal.NONCE_LEN + 100,
        "tag": -1,
    }


@pytest.mark.parametrize(
    "part",
    ["magic", "version", "key id", "wrapped length", "wrapped key", "nonce", "ciphertext", "tag"],
)
def test_tamper_of_each_part_is_refused(
    part: str, keys: tuple[str, str], tmp_path: Path, env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    data = bytearray(sealed_bytes(keys))
    data[_offsets(keys)[part]] ^= 0x01
    with pytest.raises(plan_seal.SealError):
        plan_seal.open_sealed(bytes(data), plan_seal.load_private_key(keys[0]))
    # The CLI: exit 2, a one-line error, nothing written.
    (tmp_path / "bad.sealed").write_bytes(bytes(data))
    out = tmp_path / "out.tfplan"
    assert (
        plan_seal.main(
            ["open", str(tmp_path / "bad.sealed"), str(out), "--private-key-env", "SEAL_PRIV"]
        )
        == 2
    )
    assert "error:" in capsys.readouterr().err
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.sealed"]


def test_wrong_key_is_refused(keys: tuple[str, str], other_keys: tuple[str, str]) -> None:
    with pytest.raises(plan_seal.SealError, match="different key"):
        plan_seal.open_sealed(sealed_bytes(keys), plan_seal.load_private_key(other_keys[0]))


@pytest.mark.parametrize("length", [0, 5, 30, 300, -1])
def test_truncated_file_is_refused(keys: tuple[str, str], length: int) -> None:
    data = sealed_bytes(keys)
    with pytest.raises(plan_seal.SealError, match=r"truncated|authentication failed"):
        plan_seal.open_sealed(data[:length], plan_seal.load_private_key(keys[0]))


def test_missing_env_var_exits_2_and_writes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("SEAL_NOPE", raising=False)
    (tmp_path / "plan.tfplan").write_bytes(PLAN)
    out = tmp_path / "out"
    assert (
        plan_seal.main(
            ["seal", str(tmp_path / "plan.tfplan"), str(out), "--public-key-env", "SEAL_NOPE"]
        )
        == 2
    )
    assert (
        plan_seal.main(
            ["open", str(tmp_path / "plan.tfplan"), str(out), "--private-key-env", "SEAL_NOPE"]
        )
        == 2
    )
    assert capsys.readouterr().err.count("SEAL_NOPE is not set") == 2
    assert not out.exists()


def test_bad_keys_are_refused(keys: tuple[str, str]) -> None:
    with pytest.raises(plan_seal.SealError, match="not a PEM public key"):
        plan_seal.load_public_key("hello")
    with pytest.raises(plan_seal.SealError, match="not an unencrypted PEM private key"):
        plan_seal.load_private_key(keys[1])
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024).public_key()
    pem = small.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    with pytest.raises(plan_seal.SealError, match="at least 2048"):
        plan_seal.load_public_key(pem)


def test_missing_input_exits_2(tmp_path: Path, env: None) -> None:
    assert (
        plan_seal.main(
            ["seal", str(tmp_path / "nope"), str(tmp_path / "out"), "--public-key-env", "SEAL_PUB"]
        )
        == 2
    )
    assert not (tmp_path / "out").exists()


def test_keygen_cli_writes_a_usable_pair(tmp_path: Path) -> None:
    priv, pub = tmp_path / "seal.key", tmp_path / "seal.pub"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "tools.plan_seal",
            "keygen",
            "--private-out",
            str(priv),
            "--public-out",
            str(pub),
            "--bits",
            "2048",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(priv.stat().st_mode) == 0o600
    data = plan_seal.seal(b"x", plan_seal.load_public_key(pub.read_text()))
    assert plan_seal.open_sealed(data, plan_seal.load_private_key(priv.read_text())) == b"x"
