"""The Function app's triggers (called through the built functions) and the Automation runbook
entry point, each with a fake credential against the fake ARM endpoint."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import azure.functions as func
import function_app
import pytest
from azure.functions.timer import TimerRequest
from azure.identity import ManagedIdentityCredential
from pytest_httpserver import HTTPServer

from tests.fake_arm import FakeArm, FakeCredential, vm_json

ROOT = Path(__file__).resolve().parents[2]
SUB = "33333333-3333-3333-3333-333333333333"


@pytest.fixture
def fake(server: HTTPServer) -> Iterator[FakeArm]:
    fake = FakeArm().install(server)
    fake.vms[SUB] = [
        vm_json(SUB, "rg", "vm1", "Linux", {}),
        vm_json(SUB, "rg", "vm2", "Windows", {"patchgroup": "x", "owner": "y"}),
    ]
    yield fake
    server.clear()
    server.clear_all_handlers()


def settings_env(fake: FakeArm) -> dict[str, str]:
    return {
        "FLEETPATCH_SUBSCRIPTIONS": SUB,
        "FLEETPATCH_REQUIRED_TAGS": json.dumps(
            {
                "Owner": {"value": "platform"},
                "PatchGroup": {"from": "os_type", "values": {"Linux": "lin", "Windows": "win"}},
            }
        ),
        "FLEETPATCH_ARM_ENDPOINT": fake.base_url,
        "FLEETPATCH_POLLING_INTERVAL": "0",
    }


@pytest.fixture
def app(fake: FakeArm, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    for key, value in settings_env(fake).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(function_app, "_credential", FakeCredential)
    yield function_app


_FUNCTIONS: dict[str, Any] = {}


def built_functions(module: ModuleType) -> dict[str, Any]:
    # FunctionApp.get_functions() builds (and checks) the functions once per app, as the worker
    # indexes them; a second call would report duplicates.
    if not _FUNCTIONS:
        _FUNCTIONS.update({f.get_function_name(): f for f in module.app.get_functions()})
    return _FUNCTIONS


def user_function(module: ModuleType, name: str) -> Any:
    return built_functions(module)[name].get_user_function()


class Out:
    def __init__(self) -> None:
        self.value: str | None = None

    def set(self, val: str) -> None:
        self.value = val

    def get(self) -> str | None:
        return self.value


def test_bindings_are_a_daily_timer_a_function_key_route_and_a_queue(app: ModuleType) -> None:
    bindings = {
        name: json.loads(f.get_function_json())["bindings"]
        for name, f in built_functions(app).items()
    }
    [timer] = bindings["enforce_tags_daily"]
    assert timer["type"] == "timerTrigger" and timer["schedule"] == "%TAG_ENFORCEMENT_SCHEDULE%"
    http = {b["type"]: b for b in bindings["enforce_tags_http"]}
    assert http["httpTrigger"]["authLevel"] == "FUNCTION"
    assert http["httpTrigger"]["methods"] == ["POST"]
    assert http["queue"]["queueName"] == bindings["enforce_tags_queued"][0]["queueName"]


def test_timer_trigger_runs_enforcement(app: ModuleType, fake: FakeArm) -> None:
    user_function(app, "enforce_tags_daily")(TimerRequest(past_due=True))
    [patch] = fake.by_method("PATCH")
    assert patch.path.startswith(vm_json(SUB, "rg", "vm1")["id"])
    assert patch.body == {
        "operation": "Merge",
        "properties": {"tags": {"Owner": "platform", "PatchGroup": "lin"}},
    }


def test_timer_trigger_fails_the_invocation_on_bad_settings(
    app: ModuleType, fake: FakeArm, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLEETPATCH_MAX_CONCURRENCY", "500")
    with pytest.raises(ValueError, match="FLEETPATCH_MAX_CONCURRENCY"):
        user_function(app, "enforce_tags_daily")(TimerRequest())
    assert fake.requests == []


def http_request(body: bytes) -> func.HttpRequest:
    return func.HttpRequest(method="POST", url="/api/enforce-tags", body=body, headers={})


def test_http_trigger_queues_a_run_and_answers_202(app: ModuleType, fake: FakeArm) -> None:
    out = Out()
    response = user_function(app, "enforce_tags_http")(http_request(b'{"dry_run": true}'), out)
    assert response.status_code == 202
    reply = json.loads(response.get_body())
    assert reply["dry_run"] is True
    assert json.loads(out.value or "") == {
        "run_id": reply["run_id"],
        "dry_run": True,
        "day": None,  # not scheduled: runs whatever ran today
        "force": False,
    }
    assert fake.requests == []  # the HTTP call itself touches nothing

    empty = Out()
    response = user_function(app, "enforce_tags_http")(http_request(b""), empty)
    assert response.status_code == 202 and json.loads(empty.value or "")["dry_run"] is False


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"dry_run": "yes"}',
        b'{"dry_run": true, "subs": 1}',
        b'{"force": 1}',
        b'{"scheduled_at": 5}',
    ],
)
def test_http_trigger_rejects_bad_bodies(app: ModuleType, body: bytes) -> None:
    out = Out()
    response = user_function(app, "enforce_tags_http")(http_request(body), out)
    assert response.status_code == 400 and out.value is None


def test_http_trigger_refuses_when_misconfigured(
    app: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLEETPATCH_REQUIRED_TAGS", '{"a?": {"value": "x"}}')
    out = Out()
    response = user_function(app, "enforce_tags_http")(http_request(b""), out)
    assert response.status_code == 500 and out.value is None
    assert "FLEETPATCH_REQUIRED_TAGS['a?']" in json.loads(response.get_body())["error"]


def test_queue_trigger_runs_the_queued_request(app: ModuleType, fake: FakeArm) -> None:
    queued = user_function(app, "enforce_tags_queued")
    queued(func.QueueMessage(body=json.dumps({"run_id": "r1", "dry_run": True})))
    # List All (tags, OS type) + the statusOnly power-state pass
    assert fake.by_method("PATCH") == [] and len(fake.by_method("GET")) == 2
    queued(func.QueueMessage(body=json.dumps({"run_id": "r2", "dry_run": False})))
    assert len(fake.by_method("PATCH")) == 1
    queued(func.QueueMessage(body=b"garbage"))  # dropped, nothing sent
    # 2 (dry run) + 2 listings, the VM's tags read right before its merge, 1 PATCH (real run)
    assert len(fake.requests) == 6


def load_runbook() -> ModuleType:
    path = ROOT / "azure_function" / "runbook" / "enforce_vm_tags.py"
    spec = importlib.util.spec_from_file_location("enforce_vm_tags", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_runbook_enforces_with_the_given_credential(
    fake: FakeArm, capsys: pytest.CaptureFixture[str]
) -> None:
    runbook = load_runbook()
    credential = FakeCredential()
    assert runbook.main([], settings_env(fake), credential) == 0
    assert credential.calls >= 1
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert summary["outcomes"]["tagged"] == 1 and summary["outcomes"]["compliant"] == 1
    assert len(fake.by_method("PATCH")) == 1


def test_runbook_dry_run_and_exit_statuses(fake: FakeArm) -> None:
    runbook = load_runbook()
    assert runbook.main(["--dry-run"], settings_env(fake), FakeCredential()) == 0
    assert fake.by_method("PATCH") == []
    assert runbook.main(["--forced"], settings_env(fake), FakeCredential()) == 2
    bad = {**settings_env(fake), "FLEETPATCH_SUBSCRIPTIONS": "x"}
    assert runbook.main([], bad, FakeCredential()) == 2
    path = vm_json(SUB, "rg", "vm1")["id"] + "/providers/Microsoft.Resources/tags/default"
    fake.scripted[path] = [(403, {}, {"error": {"code": "AuthorizationFailed", "message": "no"}})]
    assert runbook.main([], settings_env(fake), FakeCredential()) == 1


def test_runbook_reads_settings_from_the_automation_variable() -> None:
    runbook = load_runbook()
    stored = {"FLEETPATCH_TAGS_SETTINGS": json.dumps({"FLEETPATCH_SUBSCRIPTIONS": SUB})}
    assert runbook.automation_settings(stored.__getitem__) == {"FLEETPATCH_SUBSCRIPTIONS": SUB}
    assert runbook.automation_settings() is None  # not inside Azure Automation
    with pytest.raises(ValueError, match="JSON object of name -> string"):
        runbook.automation_settings(lambda _name: json.dumps({"A": 1}))


def test_runbook_uses_automationassets_inside_azure_automation(
    monkeypatch: pytest.MonkeyPatch, fake: FakeArm, capsys: pytest.CaptureFixture[str]
) -> None:
    runbook = load_runbook()
    stored = {"FLEETPATCH_TAGS_SETTINGS": json.dumps(settings_env(fake))}
    assets = ModuleType("automationassets")
    assets.get_automation_variable = stored.__getitem__  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "automationassets", assets)
    assert runbook.automation_settings() == settings_env(fake)
    # main() reads the variable when given no env, and signs in with the given credential.
    assert runbook.main([], None, FakeCredential()) == 0
    assert json.loads(capsys.readouterr().out.splitlines()[-1])["outcomes"]["tagged"] == 1


def test_runbook_signs_in_with_the_managed_identity() -> None:
    runbook = load_runbook()
    credential = runbook.managed_identity({"FLEETPATCH_MANAGED_IDENTITY_CLIENT_ID": "abc"})
    assert isinstance(credential, ManagedIdentityCredential)
    assert isinstance(runbook.managed_identity({}), ManagedIdentityCredential)
