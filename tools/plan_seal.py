"""Seal a saved Terraform plan so that only the approved apply job can read it.

A saved plan (``terraform plan -out``) holds the state's values and the variables in plaintext;
a workflow artifact can be downloaded by anyone who can read the repository. The deploy workflow's
plan job therefore seals ``plan.tfplan`` before the upload and deletes the plaintext, and the
apply job (the only job that sees the GitHub *environment* secret holding the private key) opens
it again.

Hybrid encryption: every sealed file has its own random AES-256-GCM key, wrapped with RSA-OAEP
(MGF1 and label hash SHA-256) under the public key. The public key (PEM) is a repository
variable (``PLAN_SEAL_PUBLIC_KEY``), the private key (PEM) an environment secret
(``PLAN_SEAL_PRIVATE_KEY``); this module reads both from environment variables, never from the
command line.

Sealed file layout (all integers big-endian)::

    magic        6 bytes  b"FPSEAL"
    version      1 byte   1
    key id      32 bytes  SHA-256 of the public key's DER SubjectPublicKeyInfo
    wrapped len  2 bytes  n, the RSA modulus size in bytes
    wrapped key  n bytes  RSA-OAEP(SHA-256) of the 32-byte AES key
    nonce       12 bytes  random AES-GCM nonce
    ciphertext   rest     AES-256-GCM of the plan, 16-byte tag at its end

The whole header (magic to nonce) is the GCM associated data: changing any byte of the file
makes :func:`open_sealed` fail. Any failure (bad magic, other version, other key, tampered or
truncated file) raises :class:`SealError`; the CLI prints it and exits 2 without writing output.

Usage::

    python -m tools.plan_seal keygen --private-out seal.key --public-out seal.pub [--bits 4096]
    python -m tools.plan_seal seal IN OUT --public-key-env PLAN_SEAL_PUBLIC_KEY
    python -m tools.plan_seal open IN OUT --private-key-env PLAN_SEAL_PRIVATE_KEY
"""

from __future__ import annotations

import argparse
import hashlib
import os
import secrets
import struct
import sys
import tempfile
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"FPSEAL"
VERSION = 1
KEY_ID_LEN = 32
NONCE_LEN = 12
TAG_LEN = 16
AES_KEY_LEN = 32
MIN_RSA_BITS = 2048
# magic, version, key id, wrapped-key length
_FIXED = struct.Struct(f">{len(MAGIC)}sB{KEY_ID_LEN}sH")

EXIT_ERROR = 2


class SealError(Exception):
    """A key or a sealed file is unusable: the message says why (shown to the user as is)."""


def _oaep() -> padding.OAEP:
    return padding.OAEP(
        mgf=padding.MGF1(algorithm=hashes.SHA256()), algorithm=hashes.SHA256(), label=None
    )


def key_id(public_key: rsa.RSAPublicKey) -> bytes:
    """Return the 32-byte id of a public key: SHA-256 of its DER SubjectPublicKeyInfo."""
    der = public_key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).digest()


def load_public_key(pem: str) -> rsa.RSAPublicKey:
    """Parse a PEM public key (``-----BEGIN PUBLIC KEY-----``).

    Raises:
        SealError: not a PEM public key, not RSA, or shorter than 2048 bits.
    """
    try:
        key = serialization.load_pem_public_key(pem.strip().encode() + b"\n")
    except ValueError as exc:
        raise SealError(f"not a PEM public key: {exc}") from None
    if not isinstance(key, rsa.RSAPublicKey):
        raise SealError("the public key is not an RSA key")
    if key.key_size < MIN_RSA_BITS:
        raise SealError(f"the RSA key has {key.key_size} bits, at least {MIN_RSA_BITS} needed")
    return key


def load_private_key(pem: str) -> rsa.RSAPrivateKey:
    """Parse an unencrypted PEM private key (PKCS#8 or PKCS#1).

    Raises:
        SealError: not a PEM private key, encrypted, or not RSA.
    """
    try:
        key = serialization.load_pem_private_key(pem.strip().encode() + b"\n", password=None)
    except (ValueError, TypeError) as exc:
        raise SealError(f"not an unencrypted PEM private key: {exc}") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise SealError("the private key is not an RSA key")
    return key


def seal(plaintext: bytes, public_key: rsa.RSAPublicKey) -> bytes:
    """Return ``plaintext`` sealed for the holder of ``public_key``'s private key.

    Args:
        plaintext: the bytes to protect (a saved plan: any size that fits in memory).
        public_key: the RSA public key (>= 2048 bits) that wraps the fresh AES-256 key.

    Returns:
        The sealed file's bytes (layout in the module docstring).
    """
    aes_key = AESGCM.generate_key(bit_length=AES_KEY_LEN * 8)
    wrapped = public_key.encrypt(aes_key, _oaep())
    nonce = secrets.token_bytes(NONCE_LEN)
    header = _FIXED.pack(MAGIC, VERSION, key_id(public_key), len(wrapped)) + wrapped + nonce
    return header + AESGCM(aes_key).encrypt(nonce, plaintext, header)


def open_sealed(data: bytes, private_key: rsa.RSAPrivateKey) -> bytes:
    """Return the plaintext of a file made by :func:`seal`.

    Args:
        data: the sealed file's bytes.
        private_key: the private key of the public key the file was sealed for.

    Raises:
        SealError: not a sealed file (magic), an unknown version, sealed for another key,
            truncated, or any byte changed (header or ciphertext).
    """
    if len(data) < _FIXED.size:
        raise SealError("truncated: shorter than a sealed file's header")
    magic, version, kid, wrapped_len = _FIXED.unpack_from(data)
    if magic != MAGIC:
        raise SealError("not a sealed plan (bad magic)")
    if version != VERSION:
        raise SealError(f"unsupported sealed-file version {version} (this tool reads {VERSION})")
    if kid != key_id(private_key.public_key()):
        raise SealError("sealed for a different key (key id differs): wrong private key?")
    if wrapped_len != private_key.key_size // 8:
        raise SealError("corrupt header: the wrapped key length does not match the key size")
    header_len = _FIXED.size + wrapped_len + NONCE_LEN
    if len(data) < header_len + TAG_LEN:
        raise SealError("truncated: the file ends before its ciphertext's tag")
    header = data[:header_len]
    wrapped = data[_FIXED.size : _FIXED.size + wrapped_len]
    nonce = data[_FIXED.size + wrapped_len : header_len]
    try:
        aes_key = private_key.decrypt(wrapped, _oaep())
    except ValueError:
        raise SealError("the wrapped key does not decrypt: tampered file or wrong key") from None
    if len(aes_key) != AES_KEY_LEN:
        raise SealError("the wrapped key is not an AES-256 key: tampered file")
    try:
        return AESGCM(aes_key).decrypt(nonce, data[header_len:], header)
    except InvalidTag:
        raise SealError("authentication failed: the file was changed or truncated") from None


def generate_keypair(bits: int = 4096) -> tuple[bytes, bytes]:
    """Return a new ``(private PEM (PKCS#8, unencrypted), public PEM)`` RSA key pair.

    Raises:
        SealError: ``bits`` below 2048.
    """
    if bits < MIN_RSA_BITS:
        raise SealError(f"--bits must be at least {MIN_RSA_BITS}")
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private_pem, public_pem


def _env(name: str) -> str:
    value = os.environ.get(name, "")
    if not value.strip():
        raise SealError(f"environment variable {name} is not set or empty")
    return value


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise SealError(f"cannot read {path}: {exc.strerror}") from None


def _write_atomic(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder (never partial)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return 0, or 2 after printing the error (nothing written then)."""
    parser = argparse.ArgumentParser(prog="plan_seal", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    kg = sub.add_parser("keygen", help="write a new RSA key pair (PEM)")
    kg.add_argument("--private-out", type=Path, required=True)
    kg.add_argument("--public-out", type=Path, required=True)
    kg.add_argument("--bits", type=int, default=4096)
    s = sub.add_parser("seal", help="encrypt IN into OUT for the public key in --public-key-env")
    s.add_argument("input", type=Path)
    s.add_argument("output", type=Path)
    s.add_argument("--public-key-env", required=True, metavar="VAR")
    o = sub.add_parser("open", help="decrypt IN into OUT with the key in --private-key-env")
    o.add_argument("input", type=Path)
    o.add_argument("output", type=Path)
    o.add_argument("--private-key-env", required=True, metavar="VAR")
    args = parser.parse_args(argv)
    try:
        if args.command == "keygen":
            private_pem, public_pem = generate_keypair(args.bits)
            _write_atomic(args.private_out, private_pem, 0o600)
            _write_atomic(args.public_out, public_pem, 0o644)
            print(f"private key: {args.private_out} (environment secret PLAN_SEAL_PRIVATE_KEY)")
            print(f"public key: {args.public_out} (repository variable PLAN_SEAL_PUBLIC_KEY)")
        elif args.command == "seal":
            public_key = load_public_key(_env(args.public_key_env))
            _write_atomic(args.output, seal(_read(args.input), public_key))
        else:
            private_key = load_private_key(_env(args.private_key_env))
            _write_atomic(args.output, open_sealed(_read(args.input), private_key))
    except SealError as exc:
        print(f"plan_seal {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except OSError as exc:
        print(f"plan_seal {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    return 0


if __name__ == "__main__":
    sys.exit(main())
