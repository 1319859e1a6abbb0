"""Fixtures shared by the unit tests of the Azure tag job (test_azure_*.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from pytest_httpserver import HTTPServer

from tests.fake_arm import start_server


@pytest.fixture(scope="module")
def server() -> Iterator[HTTPServer]:
    """The fake ARM's HTTP server (one per test module; each test installs its own FakeArm)."""
    server = start_server()
    yield server
    server.stop()
