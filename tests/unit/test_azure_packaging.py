"""The Function app zip and the runbook package that `make package` builds, and the runbook
code's Python 3.10 compatibility (the Azure Automation runtime)."""

from __future__ import annotations

import ast
import base64
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from werkzeug import Request, Response

from tests.fake_arm import FakeArm, start_server, vm_json
from tools import package

ROOT = Path(__file__).resolve().parents[2]
SUB = "66666666-6666-6666-6666-666666666666"
RUNBOOK_CODE = [
    *sorted((ROOT / "azure_function" / "fleetpatch_tags").glob("*.py")),
    ROOT / "azure_function" / "runbook" / "enforce_vm_tags.py",
]
# Names that exist only from Python 3.11 on.
PY311_ONLY = {
    ("datetime", "UTC"),
    ("enum", "StrEnum"),
    ("typing", "Self"),
    ("typing", "LiteralString"),
    ("typing", "Never"),
    ("typing", "assert_never"),
    ("typing", "reveal_type"),
    ("typing", "NotRequired"),
    ("typing", "Required"),
    ("asyncio", "TaskGroup"),
    ("asyncio", "timeout"),
    ("hashlib", "file_digest"),
}


def built(name: str, tmp_path: Path) -> zipfile.ZipFile:
    [pkg] = [p for p in package.PACKAGES if p.name == name]
    return zipfile.ZipFile(package.build_zip(pkg, tmp_path))


def test_function_app_zip_holds_the_app_and_the_logic(tmp_path: Path) -> None:
    names = set(built("azure_function_app", tmp_path).namelist())
    assert {"function_app.py", "host.json", "requirements.txt"} <= names
    assert "fleetpatch_tags/enforce.py" in names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc") or "runbook" in n]


def test_function_app_zip_indexes_its_functions(tmp_path: Path) -> None:
    zip_path = Path(str(built("azure_function_app", tmp_path).filename))
    # Unpacked once per zip content, every file dated like its zip entry (1980-01-01), so the
    # .pyc files kept under pycache_prefix stay valid for the files that did not change.
    digest = hashlib.sha256(zip_path.read_bytes()).hexdigest()
    app_root = package.WHEEL_CACHE / "unpacked"
    marker = package.WHEEL_CACHE / "unpacked.sha256"
    if not marker.is_file() or marker.read_text() != digest:
        shutil.rmtree(app_root, ignore_errors=True)
        with zipfile.ZipFile(zip_path) as zf:
            zf.extractall(app_root)
            for name in zf.namelist():
                os.utime(app_root / name, (315532800, 315532800))
        marker.write_text(digest)
    script = (
        "import sys; sys.path[:0] = [sys.argv[1], sys.argv[1] + '/.python_packages/lib/"
        "site-packages']; import function_app, azure.functions, boto3; "
        "assert azure.functions.__file__.startswith(sys.argv[1]), azure.functions.__file__; "
        "print(sorted(f.get_function_name() for f in function_app.app.get_functions()))"
    )
    pycache = f"pycache_prefix={package.WHEEL_CACHE / 'pycache'}"
    out = subprocess.run(
        # -S -I: no site-packages of this venv, no PYTHONPATH: only the zip's files and its
        # vendored wheels (what the Flex Consumption worker has without a remote build).
        [sys.executable, "-S", "-I", "-X", pycache, "-c", script, str(app_root)],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    )
    assert (
        out.stdout.strip() == "['enforce_tags_daily', 'enforce_tags_http', 'enforce_tags_queued']"
    )


def test_runbook_package_holds_the_entry_point_and_the_logic(tmp_path: Path) -> None:
    names = set(built("azure_runbook", tmp_path).namelist())
    assert "enforce_vm_tags.py" in names and "fleetpatch_tags/config.py" in names
    assert "function_app.py" not in names


def test_requirements_pin_what_the_tests_ran_against() -> None:
    dev = {
        line.split("==")[0].lower(): line.split()[0]
        for line in (ROOT / "requirements" / "dev.txt").read_text().splitlines()
        if "==" in line
    }
    app = [
        line.strip()
        for line in (ROOT / "azure_function" / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert app
    for pin in app:
        assert dev[pin.split("==")[0].lower()] == pin


@pytest.mark.parametrize("path", RUNBOOK_CODE, ids=lambda p: p.name)
def test_runbook_code_uses_nothing_newer_than_python_3_10(path: Path) -> None:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found |= {(node.module, a.name) for a in node.names} & PY311_ONLY
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            found |= {(node.value.id, node.attr)} & PY311_ONLY
        if isinstance(node, ast.Import):
            assert "tomllib" not in {a.name for a in node.names}
        assert not isinstance(node, ast.TryStar), "except* needs Python 3.11"
    assert not found, f"{path.name} uses Python 3.11-only names: {sorted(found)}"


def python310() -> str | None:
    """A working Python 3.10 interpreter, if the machine has one (pyenv shims may not run)."""
    candidates = [shutil.which("python3.10")]
    candidates += [str(p) for p in Path.home().glob(".pyenv/versions/3.10*/bin/python3.10")]
    for candidate in filter(None, candidates):
        probe = subprocess.run(
            [candidate, "-c", "import sys; print(sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.returncode == 0 and probe.stdout.strip() == "(3, 10)":
            return candidate
    return None


def test_runbook_code_compiles_with_python_3_10(tmp_path: Path) -> None:
    interpreter = python310()
    if interpreter is None:
        pytest.skip("no Python 3.10 interpreter on this machine")
    # Compile every file (syntax), then import the modules that need only the standard library
    # and run the settings parser once (names that exist only in 3.11 would fail here).
    script = (
        "import sys\n"
        "for f in sys.argv[1:]:\n"
        "    compile(open(f).read(), f, 'exec')\n"
        "from fleetpatch_tags.config import load_settings\n"
        "s = load_settings({'FLEETPATCH_SUBSCRIPTIONS': '11111111-1111-1111-1111-111111111111',"
        ' \'FLEETPATCH_REQUIRED_TAGS\': \'{"Owner": {"value": "x"}}\'})\n'
        "print(s.with_dry_run().dry_run)\n"
    )
    result = subprocess.run(
        [interpreter, "-B", "-c", script, *map(str, RUNBOOK_CODE)],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
        env={"PYTHONPATH": str(ROOT / "azure_function"), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True"


def render_runbook(package_zip: Path, sha256: str | None = None) -> str:
    """Render modules/azure_tag_enforcement/runbook.py.tftpl as Terraform's templatefile does."""
    template = (ROOT / "modules" / "azure_tag_enforcement" / "runbook.py.tftpl").read_text()
    data = package_zip.read_bytes()
    text = template.replace("${sha256}", sha256 or hashlib.sha256(data).hexdigest())
    text = text.replace("${package_b64}", base64.b64encode(data).decode())
    assert "${" not in text and "%{" not in text  # nothing else for Terraform to interpolate
    return text


def test_generated_runbook_unpacks_the_package_and_runs_with_the_managed_identity(
    tmp_path: Path,
) -> None:
    package_zip = Path(built("azure_runbook", tmp_path).filename or "")
    script = tmp_path / "enforce-vm-tags.py"
    script.write_text(render_runbook(package_zip))
    server = start_server()
    try:
        tokens: list[dict[str, str]] = []

        def token(request: Request) -> Response:
            tokens.append({"header": request.headers.get("X-IDENTITY-HEADER", ""), **request.args})
            body = {"access_token": "msi-token", "expires_on": str(int(time.time()) + 3600)}
            body |= {"resource": request.args.get("resource", ""), "token_type": "Bearer"}
            return Response(json.dumps(body), content_type="application/json")

        server.expect_request("/msi/token").respond_with_handler(token)
        fake = FakeArm().install(server)
        fake.vms[SUB] = [vm_json(SUB, "rg", "vm1", "Linux", {})]
        env = {
            "PATH": "/usr/bin:/bin",
            "FLEETPATCH_SUBSCRIPTIONS": SUB,
            "FLEETPATCH_REQUIRED_TAGS": json.dumps({"Owner": {"value": "platform"}}),
            "FLEETPATCH_ARM_ENDPOINT": fake.base_url,
            # What Azure Automation gives a runbook's managed identity (App Service protocol).
            "IDENTITY_ENDPOINT": f"{fake.base_url}/msi/token",
            "IDENTITY_HEADER": "secret-header",
        }
        result = subprocess.run(
            [sys.executable, "-B", str(script), "--dry-run"],
            capture_output=True,
            text=True,
            check=False,
            cwd=tmp_path,  # nothing of the repository on sys.path: only the embedded package
            env=env,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        summary = json.loads(result.stdout.strip().splitlines()[-1])
        assert summary["dry_run"] is True and summary["outcomes"]["would_tag"] == 1
        assert tokens and tokens[0]["header"] == "secret-header"
        assert tokens[0]["resource"].startswith("https://management.azure.com")
        listing, status_pass = fake.by_method("GET")
        assert "statusOnly" not in listing.query and status_pass.query["statusOnly"] == "true"
        assert listing.authorization == status_pass.authorization == "Bearer msi-token"
        assert fake.by_method("PATCH") == []

        script.write_text(render_runbook(package_zip, sha256="0" * 64))
        corrupt = subprocess.run(
            [sys.executable, "-B", str(script)],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        assert corrupt.returncode == 2 and "sha256 mismatch" in corrupt.stderr
    finally:
        server.clear()
        server.stop()


# --- the runbook's wheels and the content-hashed Function zip ------------------------------------


def tiny_wheel(folder: Path, name: str, version: str, tag: str, requires: list[str]) -> Path:
    """A minimal valid wheel (METADATA, WHEEL, RECORD) for pip to resolve, no code."""
    dist = f"{name.replace('-', '_')}-{version}"
    path = folder / f"{dist}-{tag}.whl"
    meta = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    meta += "".join(f"Requires-Dist: {r}\n" for r in requires)
    wheel = f"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: {tag}\n"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr(f"{dist}.dist-info/METADATA", meta)
        zf.writestr(f"{dist}.dist-info/WHEEL", wheel)
        zf.writestr(f"{dist}.dist-info/RECORD", "")
    return path


def test_runbook_wheels_are_resolved_with_dependencies_for_the_sandbox(tmp_path: Path) -> None:
    index = tmp_path / "index"
    index.mkdir()
    tiny_wheel(index, "azure-functions", "1.0", "py3-none-any", [])
    tiny_wheel(index, "toplib", "2.0", "py3-none-any", ["deplib>=1"])
    tiny_wheel(index, "deplib", "1.5", "cp310-cp310-manylinux2014_x86_64", [])
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("# comment\nazure-functions==1.0\ntoplib==2.0\n")
    local = ["--no-index", "--find-links", str(index)]

    lock = package.resolve_runbook_wheels(requirements, index=local, require_https=False)
    assert lock["requirements"] == {"toplib": "2.0"}  # the Functions-only package left out
    assert sorted(lock["packages"]) == ["deplib", "toplib"]  # its dependency resolved
    dep = lock["packages"]["deplib"]
    assert dep["filename"] == "deplib-1.5-cp310-cp310-manylinux2014_x86_64.whl"
    data = (index / dep["filename"]).read_bytes()
    assert dep["sha256"] == hashlib.sha256(data).hexdigest() and dep["version"] == "1.5"

    # Automation fetches content_uri itself: a local file URL is refused.
    with pytest.raises(package.WheelError, match="not an https URL"):
        package.resolve_runbook_wheels(requirements, index=local)


def test_runbook_wheels_refuse_other_platforms_and_loose_pins(tmp_path: Path) -> None:
    report = {
        "install": [
            {
                "metadata": {"name": "winlib", "version": "1"},
                "download_info": {
                    "url": "https://files.example/winlib-1-cp310-cp310-win_amd64.whl",
                    "archive_info": {"hashes": {"sha256": "0" * 64}},
                },
            }
        ]
    }
    with pytest.raises(package.WheelError, match="does not run on cp310 manylinux"):
        package.wheels_from_report(report, {"winlib": "1"})
    report["install"][0]["download_info"]["url"] = (
        "https://files.example/winlib-1-cp311-cp311-manylinux2014_x86_64.whl"
    )
    with pytest.raises(package.WheelError, match="does not run on cp310 manylinux"):
        package.wheels_from_report(report, {"winlib": "1"})
    loose = tmp_path / "r.txt"
    loose.write_text("toplib>=2\n")
    with pytest.raises(package.WheelError, match="not an exact name==version pin"):
        package.requirement_pins(loose)


def test_runbook_wheel_list_is_generated_from_the_function_requirements() -> None:
    lock = json.loads(package.RUNBOOK_LOCK.read_text())
    pins = package.requirement_pins(package.FUNCTION_REQUIREMENTS)
    # Regenerate with `python -m tools.package --runbook-wheels` after changing requirements.txt.
    assert lock["requirements"] == pins
    assert lock["generated_from"] == "azure_function/requirements.txt"
    assert lock["python_version"] == "3.10"
    for name, version in pins.items():
        assert lock["packages"][name]["version"] == version
    accepted = package.runbook_tags()
    for name, wheel in lock["packages"].items():
        assert wheel["url"].startswith("https://files.pythonhosted.org/"), name
        assert wheel["url"].endswith("/" + wheel["filename"]), name
        assert len(wheel["sha256"]) == 64, name
        assert package.parse_wheel_filename(wheel["filename"])[3] & accepted, name
    assert "azure-functions" not in lock["packages"]


def test_function_zip_is_also_written_under_its_content_hash(tmp_path: Path) -> None:
    [pkg] = [p for p in package.PACKAGES if p.name == "azure_function_app"]
    out = package.build_zip(pkg, tmp_path)
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    manifest = json.loads((tmp_path / "packages.json").read_text())
    assert manifest["azure_function_app"] == {
        "path": f"azure_function_app-{digest[:16]}.zip",
        "sha256": digest,
    }
    hashed = tmp_path / manifest["azure_function_app"]["path"]
    assert hashed.read_bytes() == out.read_bytes()
    stale = tmp_path / "azure_function_app-0123456789abcdef.zip"
    stale.write_bytes(b"old")
    package.build_zip(pkg, tmp_path)
    assert not stale.exists() and hashed.exists()  # old copies removed, same content same name


def test_function_wheels_are_vendored_into_the_zip_deterministically(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    pure = tiny_wheel(wheels, "purelib", "1.0", "py3-none-any", [])
    with zipfile.ZipFile(pure, "a") as zf:
        zf.writestr("purelib/__init__.py", "VALUE = 1\n")
        zf.writestr("purelib-1.0.data/purelib/purelib_extra.py", "EXTRA = 2\n")
        zf.writestr("purelib-1.0.data/scripts/purelib-cli", "#!python\n")
    native = tiny_wheel(wheels, "nativelib", "2.0", "cp311-cp311-manylinux2014_x86_64", [])
    with zipfile.ZipFile(native, "a") as zf:
        zf.writestr("_native.cpython-311-x86_64-linux-gnu.so", b"\x7fELF")
    lock = tmp_path / "lock.json"
    entries = {
        w.name.split("-")[0]: {
            "filename": w.name,
            "url": f"https://files.example/{w.name}",
            "sha256": hashlib.sha256(w.read_bytes()).hexdigest(),
        }
        for w in (pure, native)
    }
    lock.write_text(json.dumps({"packages": entries}))
    cache = tmp_path / "cache"
    cache.mkdir()
    for wheel in (pure, native):  # already downloaded: no network
        shutil.copy(wheel, cache / wheel.name)
    app = tmp_path / "app"
    (app / "pkg").mkdir(parents=True)
    (app / "pkg" / "mod.py").write_text("X = 1\n")
    (app / "host.json").write_text("{}")
    pkg = package.Package(
        "vendored", (("pkg", "pkg"), ("host.json", "host.json")), vendored="../lock.json"
    )

    first = package.build_zip(pkg, tmp_path / "out1", app, cache).read_bytes()
    second = package.build_zip(pkg, tmp_path / "out2", app, cache).read_bytes()
    assert first == second  # the cached layer and a rebuild give the same bytes
    names = zipfile.ZipFile(tmp_path / "out1" / "vendored.zip").namelist()
    site = ".python_packages/lib/site-packages/"
    assert names == sorted(names)
    assert f"{site}purelib/__init__.py" in names and f"{site}purelib_extra.py" in names
    assert f"{site}_native.cpython-311-x86_64-linux-gnu.so" in names
    assert f"{site}purelib-1.0.dist-info/METADATA" in names
    assert not [n for n in names if "scripts" in n or ".data/" in n]
    assert names[-2:] == ["host.json", "pkg/mod.py"]

    # A cached wheel that is not the lock's is fetched again; a bad download is refused.
    for layer in cache.glob("site-packages-*.zip"):
        layer.unlink()
    (cache / pure.name).write_bytes(b"tampered")
    entries["purelib"]["url"] = "http://files.example/" + pure.name
    lock.write_text(json.dumps({"packages": entries}))
    with pytest.raises(package.WheelError, match="not an https URL"):
        package.build_zip(pkg, tmp_path / "out3", app, cache)
    assert not (tmp_path / "out3" / "vendored.zip").exists()


def test_function_wheel_list_is_generated_from_the_function_requirements() -> None:
    lock = json.loads(package.FUNCTION_LOCK.read_text())
    pins = package.requirement_pins(package.FUNCTION_REQUIREMENTS, package.FUNCTION_EXCLUDED)
    # Regenerate with `python -m tools.package --function-wheels` after changing requirements.txt.
    assert lock["requirements"] == pins and "azure-functions" in pins
    assert lock["generated_from"] == "azure_function/requirements.txt"
    assert lock["python_version"] == "3.11"
    accepted = package.platform_tags((3, 11))
    for name, wheel in lock["packages"].items():
        assert wheel["url"].startswith("https://files.pythonhosted.org/"), name
        assert wheel["url"].endswith("/" + wheel["filename"]), name
        assert package.parse_wheel_filename(wheel["filename"])[3] & accepted, name
    assert {"boto3", "botocore", "cryptography"} <= set(lock["packages"])
