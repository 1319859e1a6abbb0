"""Build deterministic deployment zips into ``build/``.

The same sources always give the same bytes (and so the same ``source_code_hash`` in Terraform):
entries are sorted, every timestamp is 1980-01-01 00:00, permissions are 0644 (0755 for
folders), and caches (``__pycache__``, ``*.pyc``) and tests are left out. Only the project's own
code goes in: boto3 comes from the Lambda runtime and Powertools from the AWS-managed layer.

The Function app zip is also written under its content hash
(``build/azure_function_app-<first 16 hex digits of its SHA-256>.zip``, recorded in
``build/packages.json``): the azurerm provider redeploys ``zip_deploy_file`` only when its path
changes, so the path must change with the content.

``--runbook-wheels`` regenerates ``modules/azure_tag_enforcement/runbook_packages.json``: the
wheels the Automation runbook imports, resolved from ``azure_function/requirements.txt`` (less the
Functions-only packages) with their dependencies for the Automation sandbox of Python 3.10
runbooks: CPython 3.10 on Linux x86-64, manylinux wheels (cp310 / manylinux_x86_64, "Manage Python
3 packages in Azure Automation", https://learn.microsoft.com/en-us/azure/automation/python-3-packages,
Python 3.10 tab). It asks pip for a resolution report (``pip install --dry-run --report``, which
reads PyPI's metadata and downloads no wheel where PyPI serves it, PEP 658) against PyPI only, so
every package has the https URL Automation fetches it from and its SHA-256.

Usage: ``python -m tools.package [NAME ...]``; prints each zip's path, size and SHA-256.
``python -m tools.package --runbook-wheels`` regenerates the runbook's wheel list (needs PyPI).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.tags import Tag, compatible_tags, cpython_tags
from packaging.utils import canonicalize_name, parse_wheel_filename

ROOT = Path(__file__).resolve().parent.parent
BUILD = ROOT / "build"
EPOCH = (1980, 1, 1, 0, 0, 0)
EXCLUDED_PARTS = {"__pycache__", "tests", ".pytest_cache", ".mypy_cache"}
# Zips Terraform deploys by path: written a second time under their content hash.
HASHED = {"azure_function_app"}
HASH_DIGITS = 16
MANIFEST = "packages.json"

FUNCTION_REQUIREMENTS = ROOT / "azure_function" / "requirements.txt"
RUNBOOK_LOCK = ROOT / "modules" / "azure_tag_enforcement" / "runbook_packages.json"
# Imported by function_app.py only (the Functions worker binding library), never by the runbook.
RUNBOOK_EXCLUDED = frozenset({"azure-functions"})
# The Automation sandbox of Python 3.10 runbooks: CPython 3.10, Linux x86-64 (manylinux wheels;
# the documented example is manylinux_2_17 / manylinux2014).
RUNBOOK_PYTHON = (3, 10)
RUNBOOK_PLATFORMS = (
    "manylinux_2_17_x86_64",
    "manylinux2014_x86_64",
    "manylinux_2_12_x86_64",
    "manylinux2010_x86_64",
    "manylinux_2_5_x86_64",
    "manylinux1_x86_64",
)
PYPI_SIMPLE = "https://pypi.org/simple"


class WheelError(RuntimeError):
    """The runbook's wheels cannot be resolved as Automation needs them (the message says why)."""


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
    if package.name in HASHED:
        write_hashed_copy(out)
    return out


def hashed_name(name: str, digest: str) -> str:
    """``<name>-<first 16 hex digits of digest>.zip``."""
    return f"{name}-{digest[:HASH_DIGITS]}.zip"


def write_hashed_copy(out: Path) -> Path:
    """Copy ``out`` (``<dir>/<name>.zip``) to its content-hashed name and record it.

    Older hashed copies of the same package are removed; ``<dir>/packages.json`` maps the
    package name to ``{"path": <hashed file name>, "sha256": <hex>}``.

    Returns:
        The hashed copy's path.
    """
    data = out.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    name = out.stem
    target = out.with_name(hashed_name(name, digest))
    for old in out.parent.glob(f"{name}-*.zip"):
        if old != target:
            old.unlink(missing_ok=True)
    if not target.exists():
        partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
        partial.write_bytes(data)
        os.replace(partial, target)
    manifest_path = out.parent / MANIFEST
    try:
        manifest: dict[str, Any] = json.loads(manifest_path.read_text())
    except (FileNotFoundError, ValueError):
        manifest = {}
    manifest[name] = {"path": target.name, "sha256": digest}
    partial = manifest_path.with_name(f".{MANIFEST}.{os.getpid()}.partial")
    partial.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
    os.replace(partial, manifest_path)
    return target


def requirement_pins(path: Path, excluded: frozenset[str] = RUNBOOK_EXCLUDED) -> dict[str, str]:
    """The ``name==version`` pins of a requirements file, canonical name -> version.

    Raises:
        WheelError: a line is not an exact ``==`` pin (the runbook's wheels must be reproducible).
    """
    pins: dict[str, str] = {}
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        req = Requirement(line)
        specs = list(req.specifier)
        if len(specs) != 1 or specs[0].operator != "==" or req.marker is not None:
            raise WheelError(f"{path.name}: {line!r} is not an exact name==version pin")
        name = canonicalize_name(req.name)
        if name not in excluded:
            pins[name] = specs[0].version
    return pins


def runbook_tags() -> set[Tag]:
    """Wheel tags the Automation Python 3.10 sandbox accepts (CPython 3.10, manylinux x86-64)."""
    platforms = list(RUNBOOK_PLATFORMS)
    tags = set(cpython_tags(RUNBOOK_PYTHON, platforms=platforms))
    tags |= set(compatible_tags(RUNBOOK_PYTHON, "cp310", platforms=platforms))
    return tags


def pip_report_command(
    requirements: Path, report: Path, target: Path, index: Sequence[str] | None = None
) -> list[str]:
    """The pip command resolving ``requirements`` for the sandbox, writing its JSON report.

    ``index`` replaces the package source (default: PyPI only, ``--isolated`` so no local
    configuration adds other indexes or find-links whose URLs Azure could not fetch).
    """
    command = [sys.executable, "-m", "pip", "install", "--isolated", "--dry-run", "--quiet"]
    command += ["--ignore-installed", "--only-binary=:all:", "--implementation", "cp"]
    command += ["--python-version", ".".join(map(str, RUNBOOK_PYTHON))]
    for platform in RUNBOOK_PLATFORMS:
        command += ["--platform", platform]
    command += list(index) if index is not None else ["--index-url", PYPI_SIMPLE]
    command += ["--target", str(target), "--report", str(report), "-r", str(requirements)]
    return command


def wheels_from_report(
    report: dict[str, Any], pins: dict[str, str], *, require_https: bool = True
) -> dict[str, dict[str, str]]:
    """The runbook's wheels from a pip installation report (``pip install --report``).

    Args:
        report: the parsed report (``{"install": [{"metadata", "download_info"}, ...]}``).
        pins: the requested pins (:func:`requirement_pins`); each must be in the report at its
            pinned version.
        require_https: refuse a wheel without an https URL (Automation fetches ``content_uri``).

    Returns:
        Canonical name -> ``{"version", "filename", "url", "sha256"}``, sorted by name.

    Raises:
        WheelError: a wheel has no https URL or SHA-256, is no wheel for the sandbox, or a pin is
            missing or resolved to another version.
    """
    accepted = runbook_tags()
    wheels: dict[str, dict[str, str]] = {}
    for item in report.get("install", []):
        meta, info = item["metadata"], item["download_info"]
        name, version, url = canonicalize_name(meta["name"]), meta["version"], info["url"]
        filename = url.rsplit("/", 1)[-1].split("#", 1)[0]
        sha256 = info.get("archive_info", {}).get("hashes", {}).get("sha256")
        if require_https and not url.startswith("https://"):
            raise WheelError(f"{name} {version}: {url} is not an https URL Azure can fetch")
        if not filename.endswith(".whl"):
            raise WheelError(f"{name} {version}: {filename} is not a wheel")
        if not sha256:
            raise WheelError(f"{name} {version}: the report gives no sha256")
        if not parse_wheel_filename(filename)[3] & accepted:
            raise WheelError(f"{name} {version}: {filename} does not run on cp310 manylinux x86-64")
        wheels[name] = {"version": version, "filename": filename, "url": url, "sha256": sha256}
    for pin, pinned in pins.items():
        got = wheels.get(pin, {}).get("version")
        if got != pinned:
            raise WheelError(f"{pin}=={pinned} was resolved as {got}")
    return dict(sorted(wheels.items()))


def resolve_runbook_wheels(
    requirements: Path = FUNCTION_REQUIREMENTS,
    *,
    index: Sequence[str] | None = None,
    require_https: bool = True,
) -> dict[str, Any]:
    """Resolve the runbook's wheels from ``requirements`` (less :data:`RUNBOOK_EXCLUDED`).

    Runs pip (:func:`pip_report_command`) on a filtered copy of the requirements.

    Returns:
        The lock document: ``{"generated_from", "python_version", "platforms", "requirements",
        "packages": {name: {"version", "filename", "url", "sha256"}}}``.

    Raises:
        WheelError: pip failed, or :func:`requirement_pins` / :func:`wheels_from_report` refused.
    """
    pins = requirement_pins(requirements)
    with tempfile.TemporaryDirectory(prefix="runbook-wheels-") as tmp:
        filtered = Path(tmp) / "requirements.txt"
        filtered.write_text("".join(f"{n}=={v}\n" for n, v in pins.items()))
        report_path = Path(tmp) / "report.json"
        command = pip_report_command(filtered, report_path, Path(tmp) / "target", index)
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise WheelError(f"pip could not resolve the runbook's wheels: {result.stderr[-2000:]}")
        report = json.loads(report_path.read_text())
    try:
        source = requirements.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        source = requirements.name
    return {
        "generated_from": source,
        "generated_by": "python -m tools.package --runbook-wheels",
        "python_version": ".".join(map(str, RUNBOOK_PYTHON)),
        "platforms": list(RUNBOOK_PLATFORMS),
        "requirements": pins,
        "packages": wheels_from_report(report, pins, require_https=require_https),
    }


def write_runbook_lock(lock: dict[str, Any], path: Path = RUNBOOK_LOCK) -> Path:
    """Write the lock document (sorted keys, trailing newline) and return its path."""
    path.write_text(json.dumps(lock, indent=2, sort_keys=True) + "\n")
    return path


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the process exit status."""
    parser = argparse.ArgumentParser(description="Build deterministic deployment zips.")
    parser.add_argument("names", nargs="*")
    parser.add_argument(
        "--runbook-wheels",
        action="store_true",
        help=f"regenerate {RUNBOOK_LOCK.relative_to(ROOT)} from {FUNCTION_REQUIREMENTS.name}",
    )
    args = parser.parse_args(argv)
    if args.runbook_wheels:
        try:
            lock = write_runbook_lock(resolve_runbook_wheels())
        except WheelError as exc:
            print(str(exc), file=sys.stderr)
            return 1
        print(f"{lock.relative_to(ROOT)}: {len(json.loads(lock.read_text())['packages'])} wheels")
        return 0
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
