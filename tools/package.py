"""Build deterministic deployment zips into ``build/``.

The same sources always give the same bytes (and so the same ``source_code_hash`` in Terraform):
entries are sorted, every timestamp is 1980-01-01 00:00, permissions are 0644 (0755 for
folders), and caches (``__pycache__``, ``*.pyc``) and tests are left out. Only the project's own
code goes in: boto3 comes from the Lambda runtime and Powertools from the AWS-managed layer.

The Function app zip is also written under its content hash
(``build/azure_function_app-<first 16 hex digits of its SHA-256>.zip``, recorded in
``build/packages.json``): the azurerm provider redeploys ``zip_deploy_file`` only when its path
changes, so the path must change with the content.

The Function app zip carries its dependencies: the wheels of
``modules/azure_tag_enforcement/function_packages.json`` (generated from
``azure_function/requirements.txt`` by ``--function-wheels``, resolved like the runbook's below but
for the Function's platform: CPython 3.11, the module's default ``function_python_version``, on
Linux x86-64) unpacked under ``.python_packages/lib/site-packages`` ("the build environment must
match the production environment ... dependencies must be installed in
./.python_packages/lib/site-packages",
https://learn.microsoft.com/en-us/azure/azure-functions/python-build-options). No remote build is
needed: Flex Consumption builds remotely only when a deployment asks for it, and the provider's
``zip_deploy_file`` cannot (hashicorp/terraform-provider-azurerm#29630). The wheels are downloaded
from their https URLs once, checked against their SHA-256 and cached in ``build/wheel-cache``,
with the unpacked layer (``site-packages-<16 hex>.zip``, keyed on the lock's bytes): a warm
``make package`` copies the layer and appends the app's own files.

``--runbook-wheels`` regenerates ``modules/azure_tag_enforcement/runbook_packages.json``: the
wheels the Automation runbook imports, resolved from ``azure_function/requirements.txt`` (less the
Functions-only packages) with their dependencies for the Automation sandbox of Python 3.10
runbooks: CPython 3.10 on Linux x86-64, manylinux wheels (cp310 / manylinux_x86_64, "Manage Python
3 packages in Azure Automation", https://learn.microsoft.com/en-us/azure/automation/python-3-packages,
Python 3.10 tab). It asks pip for a resolution report (``pip install --dry-run --report``, which
reads PyPI's metadata and downloads no wheel where PyPI serves it, PEP 658) against PyPI only, so
every package has the https URL Automation fetches it from and its SHA-256.

Usage: ``python -m tools.package [NAME ...]``; prints each zip's path, size and SHA-256.
``python -m tools.package --runbook-wheels`` / ``--function-wheels`` regenerates the runbook's /
the Function's wheel list (needs PyPI).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

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
# The Function's dependencies: CPython 3.11 (modules/azure_tag_enforcement's default
# function_python_version, checked there against this lock), the same Linux x86-64 wheels.
FUNCTION_LOCK = ROOT / "modules" / "azure_tag_enforcement" / "function_packages.json"
FUNCTION_PYTHON = (3, 11)
FUNCTION_EXCLUDED: frozenset[str] = frozenset()
SITE_PACKAGES = ".python_packages/lib/site-packages"
WHEEL_CACHE = BUILD / "wheel-cache"
# Part of the vendor layer's cache key: bump when the layer's layout changes.
VENDOR_FORMAT = b"fleetpatch-site-packages-1\n"
DOWNLOAD_TIMEOUT = 120  # seconds per wheel


class WheelError(RuntimeError):
    """The runbook's wheels cannot be resolved as Automation needs them (the message says why)."""


@dataclass(frozen=True)
class Package:
    """One zip: ``sources`` maps a path under the repo root to its folder inside the zip."""

    name: str
    sources: tuple[tuple[str, str], ...]
    # A wheel lock (path under the repo root) unpacked under SITE_PACKAGES, or None.
    vendored: str | None = None


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
        vendored=FUNCTION_LOCK.relative_to(ROOT).as_posix(),
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


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def fetch_wheel(wheel: dict[str, str], cache: Path = WHEEL_CACHE) -> Path:
    """The wheel ``{"filename", "url", "sha256"}`` in ``cache``, downloaded if missing or corrupt.

    Downloads ``url`` (https only, e.g. files.pythonhosted.org) once and keeps it only if its
    SHA-256 is the lock's.

    Raises:
        WheelError: the URL is not https, the download failed or its SHA-256 differs.
    """
    path = cache / wheel["filename"]
    if path.is_file() and _sha256(path) == wheel["sha256"]:
        return path
    url = wheel["url"]
    if not url.startswith("https://"):
        raise WheelError(f"{wheel['filename']}: {url} is not an https URL")
    cache.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        try:
            with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT) as response:  # noqa: S310
                partial.write_bytes(response.read())
        except (urllib.error.URLError, TimeoutError) as exc:
            raise WheelError(f"{wheel['filename']}: download from {url} failed: {exc}") from exc
        got = _sha256(partial)
        if got != wheel["sha256"]:
            raise WheelError(f"{wheel['filename']}: sha256 {got} is not the lock's")
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return path


def wheel_members(wheel: Path) -> Iterator[tuple[str, bytes]]:
    """The files a wheel installs into site-packages: ``(path under site-packages, bytes)``.

    As an installer lays out a wheel (PEP 427 "Installing a wheel"): the root and ``*.dist-info``
    as they are, ``<name>.data/purelib`` and ``platlib`` moved to the root; the ``scripts``,
    ``headers`` and ``data`` schemes (nothing importable) left out.
    """
    with zipfile.ZipFile(wheel) as zf:
        for info in zf.infolist():
            if info.is_dir():
                continue
            parts = info.filename.split("/", 2)
            if parts[0].endswith(".data"):
                if len(parts) < 3 or parts[1] not in {"purelib", "platlib"}:
                    continue
                yield parts[2], zf.read(info)
            else:
                yield info.filename, zf.read(info)


def _zip_info(arcname: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(arcname, date_time=EPOCH)
    info.external_attr = 0o100644 << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    info.create_system = 3
    return info


def vendor_layer(lock_path: Path, cache: Path = WHEEL_CACHE) -> Path:
    """The lock's wheels unpacked under :data:`SITE_PACKAGES`, as a zip cached in ``cache``.

    The layer is ``<cache>/site-packages-<16 hex of SHA-256(format, lock bytes)>.zip``: built
    once per lock (wheels from :func:`fetch_wheel`, entries sorted, fixed timestamps), reused as
    it is afterwards; older layers are removed.

    Raises:
        WheelError: a wheel cannot be fetched, or two wheels install different bytes at one path.
    """
    lock_bytes = lock_path.read_bytes()
    key = hashlib.sha256(VENDOR_FORMAT + lock_bytes).hexdigest()[:HASH_DIGITS]
    out = cache / f"site-packages-{key}.zip"
    if out.is_file():
        return out
    members: dict[str, bytes] = {}
    for name, wheel in sorted(json.loads(lock_bytes)["packages"].items()):
        for arc, data in wheel_members(fetch_wheel(wheel, cache)):
            full = f"{SITE_PACKAGES}/{arc}"
            if members.get(full, data) != data:
                raise WheelError(f"{name}: {arc} is also installed, with other bytes, by a wheel")
            members[full] = data
    partial = out.with_name(f".{out.name}.{os.getpid()}.partial")
    try:
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for arcname in sorted(members):
                zf.writestr(_zip_info(arcname), members[arcname])
        os.replace(partial, out)
    finally:
        partial.unlink(missing_ok=True)
    for old in cache.glob("site-packages-*.zip"):
        if old != out:
            old.unlink(missing_ok=True)
    return out


def build_zip(
    package: Package, out_dir: Path = BUILD, root: Path = ROOT, wheel_cache: Path = WHEEL_CACHE
) -> Path:
    """Write ``<out_dir>/<name>.zip`` for ``package`` and return its path.

    A ``vendored`` package starts from its :func:`vendor_layer` (from ``wheel_cache``) and gets
    its own files appended (their names sort after ``.python_packages/``: the zip stays sorted).

    Raises:
        FileNotFoundError: a source of the package does not exist.
        WheelError: the vendored wheels cannot be fetched (:func:`vendor_layer`).
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
    mode: Literal["w", "a"] = "w"
    try:
        if package.vendored is not None:
            if entries and entries[0][1] < SITE_PACKAGES:
                raise ValueError(f"{entries[0][1]} would sort before the vendored packages")
            shutil.copyfile(vendor_layer(root / package.vendored, wheel_cache), partial)
            mode = "a"
        deflated = zipfile.ZIP_DEFLATED
        with zipfile.ZipFile(partial, mode, compression=deflated, compresslevel=9) as zf:
            for path, arcname in entries:
                zf.writestr(_zip_info(arcname), path.read_bytes())
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


def platform_tags(python: tuple[int, int]) -> set[Tag]:
    """Wheel tags CPython ``python`` on manylinux x86-64 (:data:`RUNBOOK_PLATFORMS`) accepts."""
    platforms = list(RUNBOOK_PLATFORMS)
    tags = set(cpython_tags(python, platforms=platforms))
    tags |= set(compatible_tags(python, f"cp{python[0]}{python[1]}", platforms=platforms))
    return tags


def runbook_tags() -> set[Tag]:
    """Wheel tags the Automation Python 3.10 sandbox accepts (CPython 3.10, manylinux x86-64)."""
    return platform_tags(RUNBOOK_PYTHON)


def pip_report_command(
    requirements: Path,
    report: Path,
    target: Path,
    index: Sequence[str] | None = None,
    python: tuple[int, int] = RUNBOOK_PYTHON,
) -> list[str]:
    """The pip command resolving ``requirements`` for CPython ``python`` on manylinux x86-64.

    Writes pip's JSON installation report to ``report`` (nothing installed).

    ``index`` replaces the package source (default: PyPI only, ``--isolated`` so no local
    configuration adds other indexes or find-links whose URLs Azure could not fetch).
    """
    command = [sys.executable, "-m", "pip", "install", "--isolated", "--dry-run", "--quiet"]
    command += ["--ignore-installed", "--only-binary=:all:", "--implementation", "cp"]
    command += ["--python-version", ".".join(map(str, python))]
    for platform in RUNBOOK_PLATFORMS:
        command += ["--platform", platform]
    command += list(index) if index is not None else ["--index-url", PYPI_SIMPLE]
    command += ["--target", str(target), "--report", str(report), "-r", str(requirements)]
    return command


def wheels_from_report(
    report: dict[str, Any],
    pins: dict[str, str],
    *,
    require_https: bool = True,
    python: tuple[int, int] = RUNBOOK_PYTHON,
) -> dict[str, dict[str, str]]:
    """The wheels for CPython ``python`` from a pip installation report (``pip install --report``).

    Args:
        report: the parsed report (``{"install": [{"metadata", "download_info"}, ...]}``).
        pins: the requested pins (:func:`requirement_pins`); each must be in the report at its
            pinned version.
        require_https: refuse a wheel without an https URL (Automation fetches ``content_uri``,
            ``make package`` the Function's wheels).
        python: the interpreter the wheels are for (default: the runbook's 3.10).

    Returns:
        Canonical name -> ``{"version", "filename", "url", "sha256"}``, sorted by name.

    Raises:
        WheelError: a wheel has no https URL or SHA-256, is no wheel for the sandbox, or a pin is
            missing or resolved to another version.
    """
    accepted = platform_tags(python)
    label = f"cp{python[0]}{python[1]} manylinux x86-64"
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
            raise WheelError(f"{name} {version}: {filename} does not run on {label}")
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
    return resolve_wheels(
        requirements,
        python=RUNBOOK_PYTHON,
        excluded=RUNBOOK_EXCLUDED,
        generated_by="python -m tools.package --runbook-wheels",
        index=index,
        require_https=require_https,
    )


def resolve_function_wheels(
    requirements: Path = FUNCTION_REQUIREMENTS,
    *,
    index: Sequence[str] | None = None,
    require_https: bool = True,
) -> dict[str, Any]:
    """Resolve the Function app's wheels (all of ``requirements``) for CPython 3.11, Linux x86-64.

    Returns and raises as :func:`resolve_runbook_wheels`.
    """
    return resolve_wheels(
        requirements,
        python=FUNCTION_PYTHON,
        excluded=FUNCTION_EXCLUDED,
        generated_by="python -m tools.package --function-wheels",
        index=index,
        require_https=require_https,
    )


def resolve_wheels(
    requirements: Path,
    *,
    python: tuple[int, int],
    excluded: frozenset[str],
    generated_by: str,
    index: Sequence[str] | None = None,
    require_https: bool = True,
) -> dict[str, Any]:
    """Resolve the wheels of ``requirements`` (less ``excluded``) for CPython ``python``.

    Returns and raises as :func:`resolve_runbook_wheels`.
    """
    pins = requirement_pins(requirements, excluded)
    with tempfile.TemporaryDirectory(prefix="runbook-wheels-") as tmp:
        filtered = Path(tmp) / "requirements.txt"
        filtered.write_text("".join(f"{n}=={v}\n" for n, v in pins.items()))
        report_path = Path(tmp) / "report.json"
        command = pip_report_command(filtered, report_path, Path(tmp) / "target", index, python)
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise WheelError(f"pip could not resolve the wheels: {result.stderr[-2000:]}")
        report = json.loads(report_path.read_text())
    try:
        source = requirements.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        source = requirements.name
    return {
        "generated_from": source,
        "generated_by": generated_by,
        "python_version": ".".join(map(str, python)),
        "platforms": list(RUNBOOK_PLATFORMS),
        "requirements": pins,
        "packages": wheels_from_report(report, pins, require_https=require_https, python=python),
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
    parser.add_argument(
        "--function-wheels",
        action="store_true",
        help=f"regenerate {FUNCTION_LOCK.relative_to(ROOT)} from {FUNCTION_REQUIREMENTS.name}",
    )
    args = parser.parse_args(argv)
    if args.runbook_wheels or args.function_wheels:
        try:
            if args.runbook_wheels:
                lock = write_runbook_lock(resolve_runbook_wheels())
            else:
                lock = write_runbook_lock(resolve_function_wheels(), FUNCTION_LOCK)
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
        except (FileNotFoundError, WheelError) as exc:
            print(f"skip {exc}", file=sys.stderr)
            status = 1
            continue
        digest = hashlib.sha256(out.read_bytes()).hexdigest()
        print(f"{out.relative_to(ROOT)}  {out.stat().st_size} bytes  sha256={digest}")
    return status


if __name__ == "__main__":
    raise SystemExit(main())
