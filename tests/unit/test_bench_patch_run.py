"""The floor of benchmarks/bench_patch_run_rehearsal.py (no emulator: the arithmetic only)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "bench_patch_run_rehearsal.py"


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_patch_run_rehearsal", PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_floor_of_the_issue_fleet() -> None:
    bench = _bench()
    floor = bench.floor_by_step(2000, 400)
    assert bench.by_operation(floor) == {
        "ec2:CreateTags": 1 + 2,  # claims (400), patch set (2,000): 1,000 ids a call
        "ec2:DeleteTags": 1 + 2,
        "ec2:DescribeInstances": 2 + 1 + 2 + 3,  # 1,000 a page, one page at least per query
        "ec2:StartInstances": 8,  # 50 a call
        "ec2:StopInstances": 8,
        "ssm:DescribeAutomationStepExecutions": 1,
        "ssm:DescribeInstanceInformation": 40 + 1,  # 50 a page; the patch set's hybrid nodes
        "ssm:ListCommandInvocations": 40,
        "ssm:ListCommands": 1,
    }
    assert "WaitUntilOnline" not in floor  # polls, reported apart


def test_floor_edges_and_over_floor() -> None:
    bench = _bench()
    assert bench.pages(0, 50) == 1 and bench.pages(51, 50) == 2
    assert bench.batches(0, 50) == 0 and bench.batches(1001, 1000) == 2
    no_stopped = bench.floor_by_step(10, 0)
    assert no_stopped["StartStoppedInstances"]["ec2:StartInstances"] == 0
    measured = {"Summarize": {"ssm:ListCommands": 2, "sns:Publish": 1}}
    assert bench.over_floor(measured, no_stopped) == {
        "Summarize": {"ssm:ListCommands": [2, 1], "sns:Publish": [1, 0]}
    }
    with pytest.raises(ValueError, match="stopped"):
        bench.floor_by_step(10, 11)
