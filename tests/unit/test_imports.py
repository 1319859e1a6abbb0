"""Every Python package of the project imports without side effects (no AWS/Azure calls)."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# (folder on sys.path, packages found there)
SEARCH = [
    ("lambda_src", ROOT / "lambda_src"),
    ("azure_function", ROOT / "azure_function"),
    (".", ROOT),
]


def _packages() -> list[str]:
    names: list[str] = []
    for _, folder in SEARCH:
        for info in pkgutil.iter_modules([str(folder)]):
            if info.ispkg and info.name not in {"tests", "benchmarks", "build", "node_modules"}:
                names.append(info.name)
    return sorted(set(names))


PACKAGES = _packages()


def test_packages_are_found() -> None:
    assert "tools" in PACKAGES


@pytest.mark.parametrize("name", PACKAGES)
def test_package_and_its_modules_import(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # No credentials and an unroutable endpoint: a module-level AWS call would fail loudly.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "invalid")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "invalid")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-west-2")
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    package = importlib.import_module(name)
    for info in pkgutil.walk_packages(package.__path__, prefix=f"{name}."):
        if ".tests" in info.name:
            continue
        importlib.import_module(info.name)
