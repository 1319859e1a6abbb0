"""Tag enforcement with the real azure-mgmt SDK against the fake ARM endpoint (tests/fake_arm.py).

Every test asserts the HTTP requests the SDK sent (method, path, api-version, JSON body) as well
as the run summary.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from azure.core.exceptions import ResourceNotFoundError, ServiceRequestError, ServiceResponseError
from azure.core.rest import HttpRequest
from azure.mgmt.resource.resources.models import TagsResource
from fleetpatch_tags import enforce as enforce_module
from fleetpatch_tags import service
from fleetpatch_tags.arm import (
    ARM_LIMITS,
    MERGE_ATTEMPTS,
    ArmClients,
    RateLimit,
    RequestPacer,
    build_clients,
    call_options,
    merge_tags,
    parse_resource_id,
    vm_record,
)
from fleetpatch_tags.config import load_settings
from fleetpatch_tags.enforce import enforce
from fleetpatch_tags.service import RunFailed, blob_container, run, run_from_env
from pytest_httpserver import HTTPServer

from tests.fake_arm import (
    Bucket,
    ComputePolicy,
    FakeArm,
    FakeCredential,
    Throttling,
    arm_error,
    vm_json,
)

SUB = "11111111-1111-1111-1111-111111111111"
SUB2 = "22222222-2222-2222-2222-222222222222"
COMPUTE_API = "2024-07-01"
RESOURCES_API = "2025-04-01"
REQUIRED = {
    "Owner": {"value": "platform-team"},
    "PatchGroup": {
        "from": "os_type",
        "values": {"Linux": "azure-linux", "Windows": "azure-windows"},
        "resource_group_overrides": {"RG-SQL": {"Windows": "sql-windows"}},
    },
}


@pytest.fixture
def fake(server: HTTPServer) -> Iterator[FakeArm]:
    yield FakeArm().install(server)
    server.clear()
    server.clear_all_handlers()


def env_for(fake: FakeArm, **extra: str) -> dict[str, str]:
    env = {
        "FLEETPATCH_SUBSCRIPTIONS": SUB,
        "FLEETPATCH_REQUIRED_TAGS": json.dumps(REQUIRED),
        "FLEETPATCH_ARM_ENDPOINT": fake.base_url,
        "FLEETPATCH_POLLING_INTERVAL": "0",
        "FLEETPATCH_MAX_CONCURRENCY": "4",
    }
    env.update(extra)
    return env


def run_enforce(fake: FakeArm, **extra: str) -> dict[str, Any]:
    settings = load_settings(env_for(fake, **extra))
    credential = FakeCredential()
    summary = enforce(settings, lambda sub: build_clients(credential, sub, settings), "run1")
    return summary.as_dict()


def vm_id(group: str, name: str, sub: str = SUB) -> str:
    return str(vm_json(sub, group, name)["id"])


def patches(fake: FakeArm) -> dict[str, dict[str, str]]:
    """PATCHed VM id -> tags sent, after checking every PATCH's path, api-version and body."""
    out: dict[str, dict[str, str]] = {}
    for req in fake.by_method("PATCH"):
        assert req.path.endswith("/providers/Microsoft.Resources/tags/default"), req.path
        assert req.query == {"api-version": RESOURCES_API}
        assert req.authorization == "Bearer fake-token"
        assert set(req.body) == {"operation", "properties"}
        assert req.body["operation"] == "Merge"
        assert set(req.body["properties"]) == {"tags"}
        scope = req.path.removesuffix("/providers/Microsoft.Resources/tags/default")
        out[scope] = req.body["properties"]["tags"]
    return out


def test_pages_are_followed_and_only_missing_tags_are_merged(fake: FakeArm) -> None:
    fake.page_size = 2
    fake.vms[SUB] = [
        vm_json(SUB, "rg-web", "web1", "Linux", {"Owner": "alice"}),
        vm_json(SUB, "rg-web", "web2", "Linux", {"Owner": "bob", "PatchGroup": "custom"}),
        vm_json(SUB, "RG-SQL", "sql1", "Windows", {"env": "prod"}),
        vm_json(SUB, "rg-app", "app1", "Windows", {}, power="deallocated"),
        vm_json(SUB, "rg-app", "app2", "Linux", {"costcenter": "42"}),
    ]
    summary = run_enforce(fake)

    list_path = f"/subscriptions/{SUB}/providers/Microsoft.Compute/virtualMachines"
    lists = [r for r in fake.by_method("GET") if r.path == list_path]
    assert len(lists) == 6
    # The listing that carries tags and OS type (no statusOnly), then the power-state pass.
    assert lists[0].query == {"api-version": COMPUTE_API}
    assert lists[3].query == {"api-version": COMPUTE_API, "statusOnly": "true"}
    assert [r.query.get("statusOnly") for r in lists] == [None] * 3 + ["true"] * 3
    assert [r.query.get("$skiptoken") for r in lists] == [None, "2", "4"] * 2
    assert patches(fake) == {
        vm_id("rg-web", "web1"): {"PatchGroup": "azure-linux"},
        vm_id("RG-SQL", "sql1"): {"Owner": "platform-team", "PatchGroup": "sql-windows"},
        vm_id("rg-app", "app1"): {"Owner": "platform-team", "PatchGroup": "azure-windows"},
        vm_id("rg-app", "app2"): {"Owner": "platform-team", "PatchGroup": "azure-linux"},
    }
    # Existing tags and values are kept: the merge only added.
    assert fake.tags_of(vm_id("rg-web", "web1")) == {"Owner": "alice", "PatchGroup": "azure-linux"}
    assert fake.tags_of(vm_id("rg-web", "web2")) == {"Owner": "bob", "PatchGroup": "custom"}
    assert fake.tags_of(vm_id("RG-SQL", "sql1"))["env"] == "prod"
    assert summary["outcomes"] == {
        "compliant": 1,
        "tagged": 4,
        "would_tag": 0,
        "cannot_tag": 0,
        "failed": 0,
    }
    assert summary["tags_added"] == 7 and summary["ok"] is True
    assert sorted(summary["changed"]) == sorted(patches(fake))
    assert summary["unknown_os"] == 0 and summary["unknown_os_vms"] == []
    # Right before each PATCH, the VM's tags are read again (Tags - Get At Scope).
    assert sorted(r.path for r in fake.by_method("GET") if r.path != list_path) == sorted(
        f"{scope}/providers/Microsoft.Resources/tags/default" for scope in patches(fake)
    )
    # 3 list pages + one read and one PATCH per VM that needed one + 3 status pages
    assert len(fake.requests) == 3 + 4 + 4 + 3


def test_existing_tag_differing_only_in_case_satisfies_the_rule(fake: FakeArm) -> None:
    fake.vms[SUB] = [vm_json(SUB, "rg", "vm1", "Linux", {"owner": "x", "PATCHGROUP": "y"})]
    summary = run_enforce(fake)
    assert fake.by_method("PATCH") == []
    assert summary["outcomes"]["compliant"] == 1
    assert fake.tags_of(vm_id("rg", "vm1")) == {"owner": "x", "PATCHGROUP": "y"}


def test_vm_with_50_tags_is_reported_and_the_run_goes_on(fake: FakeArm) -> None:
    full = {f"t{i}": str(i) for i in range(50)}
    one_left = {f"t{i}": str(i) for i in range(49)}
    fake.vms[SUB] = [
        vm_json(SUB, "rg", "full", "Linux", full),
        vm_json(SUB, "rg", "oneleft", "Linux", one_left),
        vm_json(SUB, "rg", "ok", "Linux", {}),
    ]
    summary = run_enforce(fake)
    assert patches(fake) == {
        vm_id("rg", "oneleft"): {"Owner": "platform-team"},  # the first rule that fits
        vm_id("rg", "ok"): {"Owner": "platform-team", "PatchGroup": "azure-linux"},
    }
    assert summary["outcomes"]["cannot_tag"] == 2 and summary["outcomes"]["tagged"] == 1
    skipped = {s["id"]: s["blocked"] for s in summary["skipped"]}
    assert set(skipped[vm_id("rg", "full")]) == {"Owner", "PatchGroup"}
    assert "at most 50" in skipped[vm_id("rg", "oneleft")]["PatchGroup"]
    assert len(fake.tags_of(vm_id("rg", "oneleft"))) == 50
    assert vm_id("rg", "oneleft") in summary["changed"]


def test_429_with_retry_after_is_retried(fake: FakeArm) -> None:
    fake.vms[SUB] = [vm_json(SUB, "rg", "vm1", "Linux", {})]
    list_path = f"/subscriptions/{SUB}/providers/Microsoft.Compute/virtualMachines"
    tags_path = vm_id("rg", "vm1") + "/providers/Microsoft.Resources/tags/default"
    throttled = {"code": "TooManyRequests", "message": "throttled"}
    fake.scripted[list_path] = [(429, {"Retry-After": "1"}, {"error": throttled})]
    fake.scripted[f"PATCH {tags_path}"] = [(429, {"Retry-After": "1"}, {"error": throttled})]
    started = time.monotonic()
    summary = run_enforce(fake)
    assert time.monotonic() - started >= 2.0  # both Retry-After waits were honoured
    assert [r.method for r in fake.requests] == ["GET", "GET", "GET", "PATCH", "PATCH", "GET"]
    assert fake.requests[2].path == tags_path  # the tags read right before the merge
    assert fake.requests[3].body == fake.requests[4].body
    assert summary["outcomes"]["tagged"] == 1
    assert fake.tags_of(vm_id("rg", "vm1"))["Owner"] == "platform-team"


def test_202_long_running_patch_is_polled_to_the_end(fake: FakeArm) -> None:
    fake.vms[SUB] = [vm_json(SUB, "rg", "vm1", "Windows", {"a": "b"})]
    tags_path = vm_id("rg", "vm1") + "/providers/Microsoft.Resources/tags/default"
    fake.start_lro(tags_path, polls_in_progress=2)
    summary = run_enforce(fake)
    polls = [r for r in fake.requests if "/operationStatuses/" in r.path]
    assert len(polls) == 3  # InProgress, InProgress, Succeeded
    assert all(r.method == "GET" and r.authorization == "Bearer fake-token" for r in polls)
    assert [r.method for r in fake.requests if r.path == tags_path] == ["GET", "PATCH", "GET"]
    assert summary["outcomes"]["tagged"] == 1
    assert fake.tags_of(vm_id("rg", "vm1")) == {
        "a": "b",
        "Owner": "platform-team",
        "PatchGroup": "azure-windows",
    }


def test_one_vm_failure_does_not_stop_the_run(fake: FakeArm) -> None:
    fake.vms[SUB] = [vm_json(SUB, "rg", f"vm{i}", "Linux", {}) for i in range(4)]
    denied = vm_id("rg", "vm1") + "/providers/Microsoft.Resources/tags/default"
    flaky = vm_id("rg", "vm2") + "/providers/Microsoft.Resources/tags/default"
    fake.scripted[f"PATCH {denied}"] = [
        (403, {}, {"error": {"code": "AuthorizationFailed", "message": "no tag write"}})
    ]
    fake.scripted[f"PATCH {flaky}"] = [
        (503, {}, {"error": {"code": "ServiceUnavailable", "message": "x"}})
    ]
    summary = run_enforce(fake)
    assert summary["outcomes"]["failed"] == 1 and summary["outcomes"]["tagged"] == 3
    assert summary["ok"] is False
    [failure] = summary["failed"]
    assert failure["id"] == vm_id("rg", "vm1") and "no tag write" in failure["error"]
    # The PATCH that got a 503 was sent again (the merge is idempotent); the 403 was not.
    assert [r.path for r in fake.by_method("PATCH")].count(flaky) == 2
    assert [r.path for r in fake.by_method("PATCH")].count(denied) == 1
    assert "AuthorizationFailed" in failure["error"]  # ARM's error code reaches the summary


def test_dry_run_sends_no_patch(fake: FakeArm) -> None:
    fake.vms[SUB] = [vm_json(SUB, "rg", "vm1", "Linux", {}), vm_json(SUB, "rg", "vm2", None, {})]
    summary = run_enforce(fake, FLEETPATCH_DRY_RUN="true")
    assert fake.by_method("PATCH") == []
    assert summary["dry_run"] is True and summary["changed"] == []
    assert summary["outcomes"]["would_tag"] == 1 and summary["outcomes"]["cannot_tag"] == 1
    assert summary["tags_added"] == 0
    [skip] = summary["skipped"]
    assert skip["blocked"] == {"PatchGroup": "the VM reports no OS type"}
    assert summary["unknown_os"] == 1 and summary["unknown_os_vms"] == [vm_id("rg", "vm2")]


def test_failed_listing_of_one_subscription_is_reported_and_the_next_is_enforced(
    fake: FakeArm,
) -> None:
    fake.vms[SUB2] = [vm_json(SUB2, "rg", "vm1", "Linux", {})]
    list_path = f"/subscriptions/{SUB}/providers/Microsoft.Compute/virtualMachines"
    forbidden = {"error": {"code": "AuthorizationFailed", "message": "no read on sub 1"}}
    fake.scripted[list_path] = [(403, {}, forbidden)]
    summary = run_enforce(fake, FLEETPATCH_SUBSCRIPTIONS=f"{SUB},{SUB2}")
    assert "no read on sub 1" in summary["subscription_errors"][SUB]
    assert summary["changed"] == [vm_id("rg", "vm1", SUB2)]
    assert summary["ok"] is False


def test_patches_run_with_bounded_concurrency(fake: FakeArm) -> None:
    fake.page_size = 50
    fake.latency = 0.05
    fake.vms[SUB] = [vm_json(SUB, "rg", f"vm{i}", "Linux", {}) for i in range(24)]
    summary = run_enforce(fake, FLEETPATCH_MAX_CONCURRENCY="4")
    assert summary["outcomes"]["tagged"] == 24
    # Four requests were in flight at once (not one at a time) and never more: the bound holds.
    # No wall-clock assertion: speed lives in `make bench` (azure_tag_enforcement).
    assert fake.in_flight_max == 4


def test_run_exports_and_raises_run_failed_when_something_failed(fake: FakeArm) -> None:
    fake.vms[SUB] = [
        vm_json(SUB, "rg", "vm1", "Linux", {}),
        vm_json(SUB, "rg", "vm2", "Linux", power="deallocated"),
    ]
    fake.scripted[vm_id("rg", "vm2") + "/providers/Microsoft.Resources/tags/default"] = [
        (409, {}, {"error": {"code": "Conflict", "message": "locked"}})
    ]

    class Container:
        def __init__(self) -> None:
            self.blobs: dict[str, bytes] = {}

        def upload_blob(self, name: str, data: bytes, **kwargs: Any) -> None:
            self.blobs[name] = data

    container = Container()
    settings = load_settings(env_for(fake))
    with pytest.raises(RunFailed, match="1 VM\\(s\\) failed") as info:
        run(settings, FakeCredential(), container=container, run_id="abc")
    assert info.value.summary["export"]["status"] == "written"
    rows = [json.loads(line) for line in container.blobs["vm-tags/latest.jsonl"].splitlines()]
    by_name = {r["vm_name"]: r for r in rows}
    # The export shows tags as they are after the run: vm1 merged, vm2 unchanged.
    assert by_name["vm1"]["tags"] == {"Owner": "platform-team", "PatchGroup": "azure-linux"}
    assert by_name["vm2"]["tags"] == {}
    assert by_name["vm1"]["power_state"] == "running" and by_name["vm1"]["os_type"] == "Linux"
    assert by_name["vm2"]["power_state"] == "deallocated"  # from the statusOnly pass


def test_parse_resource_id() -> None:
    assert parse_resource_id(vm_id("Rg", "Vm")) == (SUB, "Rg", "Vm")
    with pytest.raises(ValueError, match="not a virtual machine id"):
        parse_resource_id(f"/subscriptions/{SUB}/resourceGroups/rg")
    with pytest.raises(ValueError, match="not a resource id"):
        parse_resource_id("/nothing/here")


class FlakyTags:
    """A Tags client whose first merges fail with the given exceptions."""

    def __init__(self, failures: list[Exception]) -> None:
        self.failures = failures
        self.calls = 0
        self.reads = 0

    def get_at_scope(self, scope: str, **kwargs: Any) -> TagsResource:
        self.reads += 1
        return TagsResource({"properties": {"tags": {}}})

    def begin_update_at_scope(self, scope: str, parameters: Any, **kwargs: Any) -> Any:
        self.calls += 1
        if self.failures:
            raise self.failures.pop(0)

        class Poller:
            def result(self) -> TagsResource:
                return TagsResource({"properties": {"tags": dict(parameters.properties.tags)}})

        return Poller()


def test_merge_retries_connection_failures_then_gives_up(fake: FakeArm) -> None:
    settings = load_settings(env_for(fake))
    tags = FlakyTags([ServiceRequestError("refused"), ServiceResponseError("reset")])
    clients = ArmClients(subscription_id=SUB, compute=None, tags=tags)  # type: ignore[arg-type]
    slept: list[float] = []
    assert merge_tags(clients, "/x", {"A": "1"}, settings, sleep=slept.append).after == {"A": "1"}
    assert tags.calls == 3 and slept == [1.0, 2.0]
    assert tags.reads == 3  # every attempt reads the tags again first

    always = FlakyTags([ServiceRequestError("refused")] * MERGE_ATTEMPTS)
    clients = ArmClients(subscription_id=SUB, compute=None, tags=always)  # type: ignore[arg-type]
    with pytest.raises(ServiceRequestError):
        merge_tags(clients, "/x", {"A": "1"}, settings, sleep=slept.append)
    assert always.calls == MERGE_ATTEMPTS


def test_failed_export_fails_the_run_after_enforcement(fake: FakeArm) -> None:
    fake.vms[SUB] = [vm_json(SUB, "rg", "vm1", "Linux", {})]

    class BrokenContainer:
        def upload_blob(self, name: str, data: bytes, **kwargs: Any) -> None:
            raise ResourceNotFoundError("The specified container does not exist.")

    with pytest.raises(RunFailed, match="export failed") as info:
        run(load_settings(env_for(fake)), FakeCredential(), container=BrokenContainer())
    assert info.value.summary["export"]["status"] == "failed"
    assert info.value.summary["outcomes"]["tagged"] == 1  # tags were still enforced


def test_run_from_env_forces_dry_run_and_builds_the_export_client(fake: FakeArm) -> None:
    fake.vms[SUB] = [vm_json(SUB, "rg", "vm1", "Linux", {})]
    summary = run_from_env(env_for(fake), FakeCredential(), dry_run=True)
    assert summary["dry_run"] is True and fake.by_method("PATCH") == []
    assert summary["export"] == {"status": "disabled"}
    settings = load_settings(
        env_for(
            fake,
            FLEETPATCH_EXPORT_ACCOUNT_URL="https://acct.blob.core.windows.net",
            FLEETPATCH_EXPORT_CONTAINER="vm-tags",
        )
    )
    container = blob_container(settings, FakeCredential())
    assert container is not None
    assert container.url == "https://acct.blob.core.windows.net/vm-tags"  # type: ignore[attr-defined]


def test_logged_summary_is_one_json_line_with_capped_lists(
    fake: FakeArm, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service, "LOGGED_ITEMS", 2)
    fake.page_size = 10
    fake.vms[SUB] = [vm_json(SUB, "rg", f"vm{i}", "Linux", {}) for i in range(5)]
    with caplog.at_level("INFO", logger="fleetpatch_tags"):
        summary = run(load_settings(env_for(fake)), FakeCredential(), run_id="r1")
    assert len(summary["changed"]) == 5  # the returned summary is complete
    [record] = [r for r in caplog.records if r.getMessage().startswith("tag enforcement summary")]
    logged = json.loads(record.getMessage().removeprefix("tag enforcement summary "))
    assert logged["changed"] == summary["changed"][:2] and logged["changed_omitted"] == 3
    assert logged["outcomes"]["tagged"] == 5 and "failed_omitted" not in logged


# --- the listing, against a fake that answers statusOnly=true as Azure does -----------------------
def old_list_vms(clients: ArmClients, settings: Any) -> Iterator[Any]:
    """The seed's listing, kept verbatim in effect: List All with ``statusOnly=true``."""
    url: str | None = (
        f"/subscriptions/{clients.subscription_id}/providers/Microsoft.Compute/virtualMachines"
    )
    params: dict[str, str] | None = {"api-version": COMPUTE_API, "statusOnly": "true"}
    while url:
        request = HttpRequest("GET", url, params=params)
        response = clients.compute.send_request(request, **call_options(settings))
        assert response.status_code == 200
        page = response.json()
        for vm in page.get("value") or []:
            yield vm_record(vm)
        url, params = page.get("nextLink") or None, None


def test_old_statusonly_listing_sees_no_tags_and_no_os_type(
    fake: FakeArm, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake.vms[SUB] = [
        vm_json(SUB, "rg", "tagged", "Linux", {"Owner": "alice", "PatchGroup": "azure-linux"}),
        vm_json(SUB, "rg", "bare", "Windows", {}),
    ]
    monkeypatch.setattr(enforce_module, "list_vms", old_list_vms)
    old = run_enforce(fake)
    # Azure's statusOnly answer has no tags and no storage profile: the old listing plans the
    # fixed-value tag for a VM that has it (only the re-read before the merge keeps alice's
    # value), derives no patch group, and calls that success.
    assert old["unknown_os"] == 2 and old["ok"] is True
    assert patches(fake) == {vm_id("rg", "bare"): {"Owner": "platform-team"}}
    assert fake.tags_of(vm_id("rg", "tagged"))["Owner"] == "alice"
    assert {s["id"] for s in old["skipped"]} == {vm_id("rg", "tagged"), vm_id("rg", "bare")}

    monkeypatch.undo()
    fake.requests.clear()
    fake.vms[SUB] = [
        vm_json(SUB, "rg", "tagged", "Linux", {"Owner": "alice", "PatchGroup": "azure-linux"}),
        vm_json(SUB, "rg", "bare", "Windows", {}),
    ]
    new = run_enforce(fake)
    assert new["unknown_os"] == 0 and new["skipped"] == []
    assert patches(fake) == {
        vm_id("rg", "bare"): {"Owner": "platform-team", "PatchGroup": "azure-windows"}
    }
    assert new["outcomes"]["compliant"] == 1 and new["outcomes"]["tagged"] == 1


def test_unknown_os_is_counted_logged_and_listed(
    fake: FakeArm, caplog: pytest.LogCaptureFixture
) -> None:
    fake.vms[SUB] = [
        vm_json(SUB, "rg", "a", None, {"Owner": "x"}),
        vm_json(SUB, "rg", "b", "Linux", {}),
        vm_json(SUB, "rg", "c", None, {}),
    ]
    with caplog.at_level("WARNING", logger="fleetpatch_tags"):
        summary = run_enforce(fake)
    assert summary["unknown_os"] == 2
    assert summary["unknown_os_vms"] == [vm_id("rg", "a"), vm_id("rg", "c")]
    assert any(
        "2 VM(s)" in r.getMessage() and "no OS type" in r.getMessage() for r in caplog.records
    )
    # The fixed-value tag is still added to the VM with no OS type; the derived one is reported.
    assert patches(fake)[vm_id("rg", "c")] == {"Owner": "platform-team"}
    assert summary["outcomes"]["cannot_tag"] == 2


def test_failed_power_state_pass_is_reported(fake: FakeArm) -> None:
    fake.vms[SUB] = [vm_json(SUB, "rg", "vm1", "Linux", {})]
    list_path = f"/subscriptions/{SUB}/providers/Microsoft.Compute/virtualMachines"
    # The first listing answers; the statusOnly pass is refused (scripted after the first).
    original = fake._route

    def route(request: Any, body: Any, subscription: str) -> Any:
        if request.path == list_path and request.args.get("statusOnly") == "true":
            return fake._json(403, arm_error("AuthorizationFailed", "no status read"))
        return original(request, body, subscription)

    fake._route = route  # type: ignore[method-assign]
    summary = run_enforce(fake)
    assert summary["outcomes"]["tagged"] == 1  # tags were enforced first
    assert "statusOnly=true" in summary["subscription_errors"][SUB]
    assert "AuthorizationFailed" in summary["subscription_errors"][SUB]
    assert summary["ok"] is False


# --- ARM throttling: the SDK honours Retry-After, the pacer avoids the 429s ----------------------


def enforce_with(fake: FakeArm, limits: Any, **extra: str) -> tuple[dict[str, Any], ArmClients]:
    settings = load_settings(env_for(fake, **extra))
    credential = FakeCredential()
    made: list[ArmClients] = []

    def factory(sub: str) -> ArmClients:
        made.append(build_clients(credential, sub, settings, limits))
        return made[-1]

    return enforce(settings, factory, "run1").as_dict(), made[0]


def test_throttled_writes_are_retried_after_retry_after_by_the_sdk(fake: FakeArm) -> None:
    fake.throttling = Throttling(writes=Bucket(2, 1.0))
    fake.vms[SUB] = [vm_json(SUB, "rg", f"vm{i}", "Linux", {}) for i in range(3)]
    started = time.monotonic()
    summary, _ = enforce_with(fake, None, FLEETPATCH_MAX_CONCURRENCY="1")  # no pacer
    assert time.monotonic() - started >= 1.0  # the 429's Retry-After: 1 was waited out
    [throttled] = fake.throttled()
    assert throttled.method == "PATCH"
    assert summary["outcomes"]["tagged"] == 3 and summary["ok"] is True
    assert len(fake.by_method("PATCH")) == 4  # 3 merges + the one retry of the throttled one
    assert all(fake.tags_of(vm_id("rg", f"vm{i}"))["Owner"] == "platform-team" for i in range(3))


def test_pacer_keeps_to_the_write_bucket_without_a_429(fake: FakeArm) -> None:
    fake.throttling = Throttling(writes=Bucket(10, 5.0))
    fake.vms[SUB] = [vm_json(SUB, "rg", f"vm{i}", "Linux", {}) for i in range(10)]
    limits = {**ARM_LIMITS, "writes": RateLimit(10, 5.0)}
    summary, clients = enforce_with(fake, limits)
    assert fake.throttled() == [] and summary["outcomes"]["tagged"] == 10
    assert clients.pacer is not None and clients.pacer.sent["writes"] == 10
    # 10 - reserve (5 + 1) = 4 at once, then 6 at 5 a second.
    assert clients.pacer.waited["writes"] > 0.5


def test_failed_long_running_merge_reaches_the_summary_with_its_code(fake: FakeArm) -> None:
    fake.vms[SUB] = [vm_json(SUB, "rg", "vm1", "Linux", {"a": "b"})]
    tags_path = vm_id("rg", "vm1") + "/providers/Microsoft.Resources/tags/default"
    fake.start_lro(tags_path, polls_in_progress=1, fail=("ScopeLocked", "the VM is locked"))
    summary = run_enforce(fake)
    [failure] = summary["failed"]
    assert "ScopeLocked" in failure["error"] and "the VM is locked" in failure["error"]
    assert fake.tags_of(vm_id("rg", "vm1")) == {"a": "b"}  # a failed operation changed nothing
    assert summary["ok"] is False


# --- a tag set by someone while the run is paced is never overwritten ---------------------------


def test_tags_set_since_the_listing_are_read_again_and_never_overwritten(fake: FakeArm) -> None:
    # 10,000 VMs at 10 writes a second: the last merge comes ~17 minutes after the listing.
    # Tags - Update At Scope has no ETag and Merge "updates the values of tags with existing
    # names", so the merge must drop the names set since the listing.
    fake.vms[SUB] = [
        vm_json(SUB, "rg", "alice", "Linux", {}),
        vm_json(SUB, "rg", "carol", "Linux", {"PatchGroup": "custom"}),
        vm_json(SUB, "rg", "full", "Linux", {}),
    ]
    edited: list[str] = []

    def meanwhile(page: list[dict[str, Any]]) -> None:
        for vm in page:
            if vm["name"] in edited:
                continue
            edited.append(vm["name"])
            if vm["name"] == "alice":
                vm["tags"]["owner"] = "alice"
            elif vm["name"] == "carol":
                vm["tags"]["OWNER"] = "carol"
            elif vm["name"] == "full":
                vm["tags"].update({f"t{i}": "x" for i in range(49)})

    fake.on_listed = meanwhile
    settings = load_settings(env_for(fake))
    credential = FakeCredential()
    run_summary = enforce(settings, lambda sub: build_clients(credential, sub, settings), "run1")
    summary = run_summary.as_dict()
    assert fake.tags_of(vm_id("rg", "alice")) == {"owner": "alice", "PatchGroup": "azure-linux"}
    assert fake.tags_of(vm_id("rg", "carol")) == {"PatchGroup": "custom", "OWNER": "carol"}
    assert patches(fake) == {
        vm_id("rg", "alice"): {"PatchGroup": "azure-linux"},  # not Owner: alice set it
        vm_id("rg", "full"): {"Owner": "platform-team"},  # the 50th tag; no room for the 51st
    }
    by_id = {r.vm.id: r for r in run_summary.results}
    assert by_id[vm_id("rg", "carol")].outcome == "compliant"  # nothing left to add: no PATCH
    assert by_id[vm_id("rg", "alice")].added == {"PatchGroup": "azure-linux"}
    full = by_id[vm_id("rg", "full")]
    assert full.outcome == "cannot_tag" and full.added == {"Owner": "platform-team"}
    assert "at most 50" in full.blocked["PatchGroup"] and len(full.vm.tags) == 50
    assert summary["tags_added"] == 2


def test_the_merge_waits_for_its_write_token_before_it_reads_the_tags(fake: FakeArm) -> None:
    # The read-to-write gap is one round trip, not the pacer's wait for a write token.
    fake.vms[SUB] = [vm_json(SUB, "rg", f"vm{i}", "Linux", {}) for i in range(3)]
    limits = {**ARM_LIMITS, "writes": RateLimit(3, 1.0)}  # 3 - reserve 2: one at once
    clock = FakeClock()
    pacer = RequestPacer(limits, clock=clock, sleep=clock.sleep)
    settings = load_settings(env_for(fake, FLEETPATCH_MAX_CONCURRENCY="1"))
    credential = FakeCredential()
    got = enforce(settings, lambda s: build_clients(credential, s, settings, pacer=pacer), "r")
    assert got.as_dict()["outcomes"]["tagged"] == 3
    assert clock.slept == pytest.approx([1.0, 1.0])  # the 2nd and 3rd write tokens
    tags_requests = [r for r in fake.requests if r.path.endswith("/tags/default")]
    assert [r.method for r in tags_requests] == ["GET", "PATCH"] * 3
    assert pacer.sent["writes"] == 3  # the prepaid token was the PATCH's, not an extra one


class FakeClock:
    """Monotonic seconds that a sleep advances (shared by the fake and the pacer)."""

    def __init__(self) -> None:
        self.now = 5000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_pacer_keeps_to_computes_list_policy_without_a_429(fake: FakeArm) -> None:
    # Compute's "High Cost Get VM" policy (List All), here 3 a minute, bucket 3; the pacer
    # learns it from x-ms-ratelimit-remaining-resource and waits for the refill at 1 left.
    clock = FakeClock()
    fake.clock = clock
    fake.throttling = Throttling(compute_list=ComputePolicy(size=3, refill=3.0))
    fake.page_size = 1
    fake.vms[SUB] = [
        vm_json(SUB, "rg", f"vm{i}", "Linux", {"Owner": "o", "PatchGroup": "p"}) for i in range(4)
    ]
    pacer = RequestPacer(ARM_LIMITS, clock=clock, sleep=clock.sleep)
    settings = load_settings(env_for(fake))
    credential = FakeCredential()
    got = enforce(settings, lambda s: build_clients(credential, s, settings, pacer=pacer), "r")
    assert fake.throttled() == []
    assert got.as_dict()["outcomes"]["compliant"] == 4 and got.ok
    assert len(fake.by_method("GET")) == 8  # 4 pages, twice (full listing + statusOnly)
    # 2 pages per refill (the last call is left to others): 3 waits of a minute.
    assert pacer.waited_resource == {"Microsoft.Compute/HighCostGet": pytest.approx(180.0)}
    assert clock.slept == pytest.approx([60.0] * 3)
