"""One run a day: whichever scheduler fires (the Function's timer, the AWS-side EventBridge call
and its retries, the Automation schedule) and however often, a day is enforced and exported once.

The container below answers as Blob storage documents: Put Blob with ``If-None-Match: *``
(``overwrite=False``) on an existing blob fails with 409 ``BlobAlreadyExists``
(https://learn.microsoft.com/en-us/rest/api/storageservices/put-blob), Get Blob Properties of a
missing blob is 404 (``exists()`` is ``False``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime, timezone
from typing import Any

import azure.functions as func
import function_app
import pytest
from azure.core.exceptions import ResourceExistsError
from fleetpatch_tags import service
from fleetpatch_tags.config import load_settings
from fleetpatch_tags.export import export_tags, object_names
from fleetpatch_tags.service import RunFailed, run
from pytest_httpserver import HTTPServer

from tests.fake_arm import FakeArm, FakeCredential, arm_error, vm_json

SUB = "44444444-4444-4444-4444-444444444444"
DAY = date(2026, 3, 1)
STARTED = datetime(2026, 3, 1, 5, 0, 3, tzinfo=timezone.utc)  # noqa: UP017


class Blob:
    def __init__(self, container: Container, name: str) -> None:
        self.container, self.name = container, name

    def exists(self, **kwargs: Any) -> bool:
        self.container.probes.append(self.name)
        return self.name in self.container.blobs


class Container:
    """Blob container with Put Blob's If-None-Match semantics."""

    def __init__(self) -> None:
        self.blobs: dict[str, bytes] = {}
        self.puts: list[str] = []
        self.probes: list[str] = []

    def upload_blob(self, name: str, data: bytes, **kwargs: Any) -> None:
        self.puts.append(name)
        if not kwargs.get("overwrite", False) and name in self.blobs:
            raise ResourceExistsError("The specified blob already exists.")  # 409
        self.blobs[name] = data

    def get_blob_client(self, blob: str) -> Blob:
        return Blob(self, blob)


@pytest.fixture
def fake(server: HTTPServer) -> Iterator[FakeArm]:
    fake = FakeArm().install(server)
    fake.vms[SUB] = [vm_json(SUB, "rg", "vm1", "Linux", {}), vm_json(SUB, "rg", "vm2", "Linux")]
    yield fake
    server.clear()
    server.clear_all_handlers()


def env(fake: FakeArm) -> dict[str, str]:
    return {
        "FLEETPATCH_SUBSCRIPTIONS": SUB,
        "FLEETPATCH_REQUIRED_TAGS": json.dumps({"Owner": {"value": "platform"}}),
        "FLEETPATCH_ARM_ENDPOINT": fake.base_url,
        "FLEETPATCH_POLLING_INTERVAL": "0",
    }


def test_a_days_second_run_does_nothing(fake: FakeArm) -> None:
    container = Container()
    settings = load_settings(env(fake))
    first = run(settings, FakeCredential(), container=container, day=DAY, now=lambda: STARTED)
    assert first["export"]["status"] == "written" and first["export"]["day"] == "2026-03-01"
    names = object_names("vm-tags", "x", STARTED, DAY)
    assert names["jsonl"] == "vm-tags/days/2026-03-01.jsonl"
    assert {names["jsonl"], names["csv"], names["latest_jsonl"]} <= set(container.blobs)
    requests, puts = len(fake.requests), len(container.puts)
    assert len(fake.by_method("PATCH")) == 2

    second = run(settings, FakeCredential(), container=container, day=DAY)
    assert second["day_done"] is True and second["day"] == "2026-03-01"
    assert len(fake.requests) == requests  # no listing, no merge
    assert len(container.puts) == puts  # nothing written
    assert container.probes == [names["jsonl"]] * 2


def test_force_and_dry_runs_ignore_the_day(fake: FakeArm) -> None:
    container = Container()
    settings = load_settings(env(fake))
    run(settings, FakeCredential(), container=container, day=DAY, now=lambda: STARTED)
    forced = run(settings, FakeCredential(), container=container, day=DAY, force=True, run_id="f1")
    assert forced["export"]["status"] == "written"
    assert [o for o in forced["export"]["objects"] if "/runs/" in o]  # its own name
    dry = run(settings.with_dry_run(), FakeCredential(), container=container, day=DAY)
    assert "day_done" not in dry and dry["dry_run"] is True
    # The day's objects were written once, by the first run.
    assert container.puts.count("vm-tags/days/2026-03-01.jsonl") == 1


def test_a_racing_run_of_the_same_day_keeps_the_first_export() -> None:
    container = Container()
    first = export_tags(container, [], "vm-tags", "r1", STARTED, day=DAY)
    container.blobs["vm-tags/latest.jsonl"] = b"first"
    second = export_tags(container, [], "vm-tags", "r2", STARTED, day=DAY)
    assert first["status"] == "written"
    assert second == {"status": "exists", "objects": [], "vms": 0, "day": "2026-03-01"}
    assert container.blobs["vm-tags/latest.jsonl"] == b"first"  # the first run's stands
    # A run's own objects never clash silently.
    export_tags(container, [], "vm-tags", "r3", STARTED)
    with pytest.raises(ResourceExistsError):
        export_tags(container, [], "vm-tags", "r3", STARTED)


def test_a_race_is_not_a_failed_run(fake: FakeArm) -> None:
    class Racing(Container):
        def get_blob_client(self, blob: str) -> Blob:
            # Another run of the day writes its export right after this run's check.
            probe = Blob(self, blob)
            assert probe.exists() is False
            self.blobs[blob] = b"other run"
            return Blob(self, "checked-before-the-other-run-wrote")

    container = Racing()
    summary = run(load_settings(env(fake)), FakeCredential(), container=container, day=DAY)
    assert summary["export"]["status"] == "exists"  # not "failed": the run succeeded
    assert container.blobs["vm-tags/days/2026-03-01.jsonl"] == b"other run"


def http(body: dict[str, Any]) -> func.HttpRequest:
    return func.HttpRequest(
        method="POST", url="/api/enforce-tags", body=json.dumps(body).encode(), headers={}
    )


class Out:
    value: str | None = None

    def set(self, val: str) -> None:
        self.value = val


def functions() -> dict[str, Any]:
    from tests.unit.test_azure_entrypoints import built_functions  # noqa: PLC0415

    return {n: f.get_user_function() for n, f in built_functions(function_app).items()}


def test_eventbridge_retries_of_one_scheduled_event_are_one_day(
    fake: FakeArm, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key, value in env(fake).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(function_app, "_credential", FakeCredential)
    container = Container()
    real_run = function_app.run
    monkeypatch.setattr(function_app, "run", lambda *a, **k: real_run(*a, container=container, **k))
    fns = functions()
    # The EventBridge target's input template carries the scheduled event's time (the same on
    # every retry of that event).
    event = {"dry_run": False, "scheduled_at": "2026-03-01T05:00:00Z"}
    for _attempt in range(3):
        out = Out()
        response = fns["enforce_tags_http"](http(event), out)
        assert response.status_code == 202
        queued = json.loads(out.value or "")
        assert queued["day"] == "2026-03-01" and queued["force"] is False
        fns["enforce_tags_queued"](func.QueueMessage(body=out.value))
    assert len(fake.by_method("PATCH")) == 2  # two VMs, merged once
    assert container.puts.count("vm-tags/days/2026-03-01.jsonl") == 1

    for bad in ({"scheduled_at": "yesterday"}, {"scheduled_at": "2026-03-01T05:00:00"}):
        out = Out()
        assert fns["enforce_tags_http"](http(bad), out).status_code == 400
        assert out.value is None


def test_a_failed_run_leaves_the_day_open_for_its_retry(fake: FakeArm) -> None:
    # vm2's merge is refused once (403: a role assignment not yet propagated on the first apply).
    vm2 = fake.vms[SUB][1]["id"]
    refused: tuple[int, dict[str, str], Any] = (
        403,
        {},
        arm_error("AuthorizationFailed", "role assignment not yet propagated"),
    )
    fake.scripted[f"{vm2}/providers/Microsoft.Resources/tags/default"] = [refused]
    container = Container()
    settings = load_settings(env(fake))
    with pytest.raises(RunFailed) as failed:
        run(settings, FakeCredential(), container=container, day=DAY, now=lambda: STARTED)
    export = failed.value.summary["export"]
    assert export["day_open"] == "2026-03-01" and "day" not in export
    assert all("/runs/" in o or "/latest." in o for o in export["objects"])
    assert not [b for b in container.blobs if "/days/" in b]
    # The retry of the day (queue redelivery, EventBridge retry, runbook re-run) runs again.
    retry = run(settings, FakeCredential(), container=container, day=DAY)
    assert "day_done" not in retry and retry["export"]["day"] == "2026-03-01"
    assert retry["outcomes"]["tagged"] == 1  # vm2, refused the first time
    assert run(settings, FakeCredential(), container=container, day=DAY)["day_done"] is True


def test_a_partial_listing_is_not_the_days_export(fake: FakeArm) -> None:
    other = "55555555-5555-5555-5555-555555555555"  # not found yet: its listing fails (404)
    container = Container()
    container.blobs["vm-tags/latest.jsonl"] = b"the last complete inventory"
    settings = load_settings({**env(fake), "FLEETPATCH_SUBSCRIPTIONS": f"{SUB},{other}"})
    with pytest.raises(RunFailed) as failed:
        run(settings, FakeCredential(), container=container, day=DAY, now=lambda: STARTED)
    assert other in failed.value.summary["subscription_errors"]
    export = failed.value.summary["export"]
    assert export["day_open"] == "2026-03-01"
    assert [o.split("/")[1] for o in export["objects"]] == ["runs", "runs"]  # no days/, no latest
    assert container.blobs["vm-tags/latest.jsonl"] == b"the last complete inventory"
    fake.vms[other] = [vm_json(other, "rg", "vm3", "Windows", {"Owner": "x"})]
    retry = run(settings, FakeCredential(), container=container, day=DAY)
    assert retry["export"]["day"] == "2026-03-01" and retry["vms"] == 3
    assert container.blobs["vm-tags/latest.jsonl"].count(b"\n") == 3


def test_a_failed_reconciler_leaves_the_day_open(
    fake: FakeArm, monkeypatch: pytest.MonkeyPatch
) -> None:
    outcomes = iter([False, True])

    def reconciler(data: dict[str, Any], logged: dict[str, Any], *_: Any) -> bool:
        ok = next(outcomes)
        data["ssm_sync"] = logged["ssm_sync"] = {"status": "ok" if ok else "failed"}
        return ok

    monkeypatch.setattr(service, "add_ssm_sync", reconciler)
    container = Container()
    settings = load_settings(env(fake))
    with pytest.raises(RunFailed) as failed:
        run(settings, FakeCredential(), container=container, day=DAY)
    assert failed.value.summary["ssm_sync"] == {"status": "failed"}
    assert failed.value.summary["export"]["day_open"] == "2026-03-01"
    retry = run(settings, FakeCredential(), container=container, day=DAY)
    assert retry["export"]["day"] == "2026-03-01" and retry["ssm_sync"] == {"status": "ok"}
