"""Shared fixtures of the integration tests: the embedded AWS emulator and Terraform."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.emulator.launcher import Emulator
from tests.emulator.tfrun import CLI_CONFIG

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "build" / "integration"


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    """One emulator for the session (moto + fleetpatch's extensions), stopped at the end.

    Tests share it: each works in its own account (``sts:AssumeRole`` into a distinct id) or
    cleans up what it creates. The server log is build/integration/emulator-<worker>.log (one
    emulator per pytest-xdist worker).
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    with Emulator(log_path=BUILD / f"emulator-{worker}.log") as running:
        yield running


@pytest.fixture(scope="session")
def terraform_ready() -> None:
    """Skip unless terraform and the project CLI config (`make tfconfig`) are present."""
    if shutil.which("terraform") is None:
        pytest.skip("terraform is not on PATH")
    if not CLI_CONFIG.exists():
        pytest.skip(f"{CLI_CONFIG} is missing: run `make tfconfig`")
