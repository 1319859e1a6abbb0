"""Build deterministic deployment zips into ``build/``.

The same sources always give the same bytes (and so the same ``source_code_hash`` in Terraform):
entries are sorted, every timestamp is 1980-01-01 00:00, permissions are 0644 (0755 for
folders), and caches (``__pycache__``, ``*.pyc``) and tests are left out. Only the project's own
code goes in: boto3 comes from the Lambda runtime and Powertools from the AWS-managed layer.

Usage: ``python -m tools.package [NAME ...]``; prints each zip's path, size and SHA-256.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build"
EPOCH = (1980, 1, 1, 0, 0, 0)
EXCLUDED_PARTS = {"__pycache__", "tests", ".pytest_cache", ".mypy_cache"}


@dataclass(frozen=True)
class Package:
    """One zip: ``sources`` maps a path under the repo root to its folder inside the zip."""

    name: str
    sources: tuple[tuple[str, str], ...]


PACKAGES: tuple[Package, ...] = (
    Package("ssm_role_check", (("lambda_src/ssm_role_check", "ssm_role_check"),)),
    Package(
        "azure_function_app",
        (
            ("azure_function/function_app.py", "function_app.py"),
            ("azure_function/host.json", "host.json"),
            ("azure_function/requirements.txt", "requirements.txt"),
            ("azure_function/fleetpatch_tags", "fleetpatch_tags"),
        ),
    ),
    Package(
        "azure_runbook",
        (
            ("azure_function/runbook/enforce_vm_tags.py", "enforce_vm_tags.py"),
            ("azure_function/fleetpatch_tags", "fleetpatch_tags"),
        ),
    ),
)


def _files(src: Path, arcbase: str) -> Iterable[tuple[Path, str]]:
    if src.is_file():
        yield src, arcbase
        return
    for path in sorted(src.rglob("*")):
        rel = path.relative_to(src)
        if path.is_dir() or EXCLUDED_PARTS.intersection(rel.parts) or path.suffix == ".pyc":
            continue
        yield path, f"{arcbase}/{rel.as_posix()}"


def build_zip(package: Package, out_dir: Path = BUILD, root: Path = ROOT) -> Path:
    """Write ``<out_dir>/<name>.zip`` for ``package`` and return its path.

    Raises:
        FileNotFoundError: a source of the package does not exist.
    """
    entries: list[tuple[Path, str]] = []
    for src, arc in package.sources:
        path = root / src
        if not path.exists():
            raise FileNotFoundError(f"{package.name}: source {src} does not exist")
        entries.extend(_files(path, arc))
    entries.sort(key=lambda e: e[1])
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / f"{package.name}.zip"
    # Written beside the target and renamed into place: a reader (Terraform in a test running
    # beside `make policy`'s package step) sees the old zip or the new one, never half of one.
    partial = out.with_name(f".{out.name}.{os.getpid()}.partial")
    try:
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
            for path, arcname in entries:
                info = zipfile.ZipInfo(arcname, date_time=EPOCH)
                info.external_attr = 0o100644 << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                info.create_system = 3
                zf.writestr(info, path.read_bytes())
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
    return out


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the process exit status."""
    parser = argparse.ArgumentParser(description="Build deterministic deployment zips.")
    parser.add_argument("names", nargs="*")
    args = parser.parse_args(argv)
    wanted = [p for p in PACKAGES if not args.names or p.name in args.names]
    unknown = set(args.names) - {p.name for p in PACKAGES}
    if unknown:
        print(f"unknown package(s): {sorted(unknown)}", file=sys.stderr)
        return 2
    status = 0
    for package in wanted:
        try:
            out = build_zip(package)
        except FileNotFoundError as exc:
            print(f"skip {exc}", file=sys.stderr)
            status = 1
            continue
        digest = hashlib.sha256(out.read_bytes()).hexdigest()
        print(f"{out.relative_to(ROOT)}  {out.stat().st_size} bytes  sha256={digest}")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
