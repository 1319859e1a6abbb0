"""The Lambda entry point: environment, event in the exact EventBridge shape, summary, EMF."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import Any

import pytest
from ssm_role_check import handler
from ssm_role_check.config import ConfigError

from .conftest import REGION, SSM_PROFILE, SSM_ROLE, Fleet, scheduled_event, state_change_event


@dataclass
class Context:
    function_name: str = "fleetpatch-role-check"
    memory_limit_in_mb: int = 256
    invoked_function_arn: str = (
        f"arn:aws:lambda:{REGION}:123456789012:function:fleetpatch-role-check"
    )
    aws_request_id: str = "c6af9ac6-7b61-11e6-9a41-93e812345678"


@dataclass
class Env:
    fleet: Fleet
    logs: io.StringIO

    def launch(self, *args: Any, **kwargs: Any) -> list[str]:
        return self.fleet.launch(*args, **kwargs)

    def profile_of(self, instance_id: str) -> str | None:
        return self.fleet.profile_of(instance_id)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, fleet: Fleet) -> Env:
    # The Powertools logger keeps the stream it was created with: give it a buffer to read.
    logs = io.StringIO()
    monkeypatch.setattr(handler.logger.registered_handler, "stream", logs)
    monkeypatch.setenv("SSM_INSTANCE_PROFILE_NAME", SSM_PROFILE)
    monkeypatch.setenv("SSM_ROLE_NAME", SSM_ROLE)
    monkeypatch.setenv("OPT_OUT_TAG_KEY", "fleetpatch:role-check-opt-out")
    monkeypatch.delenv("DRY_RUN", raising=False)
    monkeypatch.delenv("NODE_LOG_POLICY_ARN", raising=False)
    return Env(fleet, logs)


def _json_lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def _emf(lines: list[dict[str, Any]]) -> dict[str, Any]:
    (emf,) = [line for line in lines if "_aws" in line]
    return emf


def test_sweep_logs_one_summary_and_emits_metrics(
    env: Env, capsys: pytest.CaptureFixture[str]
) -> None:
    bare = env.launch(2)
    (opted,) = env.launch(tags={"fleetpatch:role-check-opt-out": "yes"})
    result = handler.lambda_handler(scheduled_event(), Context())
    assert result["status"] == "ok"
    assert result["trigger"] == "sweep"
    assert result["changed_instance_ids"] == sorted(bare)
    assert result["opted_out_instance_ids"] == [opted]
    assert result["api_calls"] == 4  # DescribeInstances, DescribeAssociations, 2 x Associate
    assert all(env.profile_of(i) == SSM_PROFILE for i in bare)
    assert env.profile_of(opted) is None

    lines = _json_lines(env.logs.getvalue() + capsys.readouterr().out)
    summaries = [line for line in lines if line.get("message") == "role check summary"]
    assert len(summaries) == 1
    assert summaries[0]["summary"] == result
    assert summaries[0]["trigger"] == "sweep"
    assert summaries[0]["function_request_id"] == Context.aws_request_id
    emf = _emf(lines)
    names = {m["Name"] for m in emf["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert {"InstancesProfileAssociated", "InstancesFailed", "Changes"} <= names
    assert emf["InstancesProfileAssociated"] == [2.0]
    assert emf["InstancesOptedOut"] == [1.0]
    assert emf["InstancesFailed"] == [0.0]


def test_state_change_event_in_dry_run_changes_nothing(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DRY_RUN", "true")
    (instance,) = env.launch()
    result = handler.lambda_handler(state_change_event(instance, "pending"), Context())
    assert result["dry_run"] is True
    assert result["changed_instance_ids"] == [instance]
    assert result["changes"] == {"AssociateIamInstanceProfile": 1}
    assert env.profile_of(instance) is None


def test_unrecognised_event_is_an_error_result_without_aws_calls(
    env: Env, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def no_clients(*_: Any, **__: Any) -> Any:
        raise AssertionError("no client may be built for a rejected event")

    monkeypatch.setattr(handler, "build_clients", no_clients)
    event = state_change_event("i-0123456789abcdef0", "stopped")
    result = handler.lambda_handler(event, Context())
    assert result["status"] == "error"
    assert "only pending and running" in result["error"]
    assert result["instances"] == 0
    lines = _json_lines(env.logs.getvalue() + capsys.readouterr().out)
    errors = [line for line in lines if line.get("level") == "ERROR"]
    assert errors[0]["message"] == "rejected event"
    assert "only pending and running" in errors[0]["error"]
    assert _emf(lines)["InvalidEvents"] == [1.0]


def test_bad_configuration_raises_before_any_call(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SSM_ROLE_NAME")
    monkeypatch.setattr(handler, "build_clients", lambda *_a, **_k: pytest.fail("called"))
    with pytest.raises(ConfigError, match="SSM_ROLE_NAME"):
        handler.lambda_handler(scheduled_event(), Context())


def test_clients_use_standard_retries() -> None:
    ec2, iam = handler.build_clients(REGION)
    for client in (ec2, iam):
        assert client.meta.config.retries == {"mode": "standard", "total_max_attempts": 8}
    assert ec2.meta.region_name == REGION
