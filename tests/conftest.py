"""Shared pytest fixtures for fleetpatch, and the order in which test files start."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Test files that take longest (most of it waiting on an emulator's agents, Automation steps
# and Terraform), longest first. Collected first so that, with `-n N --dist loadfile
# --no-loadscope-reorder` (make unit / make integration), pytest-xdist hands them out first and
# a long file never starts last; every other file keeps its place after them. Only the order
# changes: the same tests run with the same fixtures.
SLOW_FIRST = (
    # unit
    "tests/unit/emulator/test_patch_run.py",
    "tests/unit/emulator/test_patch_janitor_emulator.py",
    "tests/unit/emulator/test_automation.py",
    "tests/unit/emulator/test_agent.py",
    "tests/unit/emulator/test_events.py",
    "tests/unit/emulator/test_demo.py",
    "tests/unit/emulator/test_remediation_document.py",
    "tests/unit/emulator/test_datasync.py",
    "tests/unit/emulator/test_auth.py",
    "tests/unit/role_check/test_node_log_policy.py",
    "tests/unit/role_check/test_checker.py",
    "tests/unit/test_ssm_scripts.py",
    # integration: with two workers the two longest start at once and the third longest
    # (patch_modules) goes to whichever of them ends first, after two short files.
    "tests/integration/test_emulator_local.py",
    "tests/integration/test_emulator_provider.py",
    "tests/integration/test_emulator_launcher.py",
    "tests/integration/test_report_emulator.py",
    "tests/integration/test_patch_modules_emulator.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Move the items of :data:`SLOW_FIRST` files to the front, in that order (stable)."""
    rank = {path: index for index, path in enumerate(SLOW_FIRST)}

    def key(item: pytest.Item) -> int:
        path = item.path.relative_to(ROOT).as_posix() if item.path.is_relative_to(ROOT) else ""
        return rank.get(path, len(rank))

    items.sort(key=key)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    """The repository root."""
    return ROOT
