"""The fake ARM endpoint answers as ARM documents (tests/fake_arm.py cites the pages), and the
client-side pacer (fleetpatch_tags.arm.RequestPacer) keeps to ARM's token buckets.

Plain HTTP requests against the fake (no SDK), with a hand-driven clock for the throttling
buckets, so nothing here sleeps.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from fleetpatch_tags.arm import (
    ARM_LIMITS,
    RateLimit,
    RequestPacer,
    operation_route,
    resource_policies,
)
from pytest_httpserver import HTTPServer

from tests.fake_arm import (
    Bucket,
    ComputePolicy,
    FakeArm,
    Throttling,
    vm_json,
)

SUB = "44444444-4444-4444-4444-444444444444"
LIST = f"/subscriptions/{SUB}/providers/Microsoft.Compute/virtualMachines"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def fake(server: HTTPServer) -> Iterator[FakeArm]:
    fake = FakeArm(page_size=2, clock=Clock()).install(server)
    fake.vms[SUB] = [
        vm_json(SUB, "rg", "a", "Linux", {"Owner": "x"}),
        vm_json(SUB, "rg", "b", "Windows", {}, power="deallocated"),
        vm_json(SUB, "rg", "c", None, {}),
    ]
    yield fake
    server.clear()
    server.clear_all_handlers()


def call(
    fake: FakeArm, method: str, path: str, token: str = "p1", **kwargs: Any
) -> requests.Response:
    params = kwargs.pop("params", {"api-version": "2024-07-01"})
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.request(
        method, fake.base_url + path, params=params, headers=headers, timeout=5, **kwargs
    )


def tags_path(name: str) -> str:
    return str(vm_json(SUB, "rg", name)["id"]) + "/providers/Microsoft.Resources/tags/default"


def test_list_all_with_and_without_status_only(fake: FakeArm) -> None:
    full = call(fake, "GET", LIST).json()
    [a, _] = full["value"]
    assert a["tags"] == {"Owner": "x"} and a["properties"]["storageProfile"]["osDisk"]["osType"]
    assert "instanceView" not in a["properties"]
    assert full["nextLink"].startswith(fake.base_url) and "skiptoken=2" in full["nextLink"]
    last = requests.get(full["nextLink"], headers={"Authorization": "Bearer p1"}, timeout=5).json()
    assert [v["name"] for v in last["value"]] == ["c"] and "nextLink" not in last

    status = call(fake, "GET", LIST, params={"api-version": "x", "statusOnly": "true"}).json()
    [sa, sb] = status["value"]
    assert "tags" not in sa and "storageProfile" not in sa["properties"]
    assert set(sa["properties"]) == {"vmId", "instanceView"}
    codes = [s["code"] for s in sb["properties"]["instanceView"]["statuses"]]
    assert "PowerState/deallocated" in codes
    assert "statusOnly=true" in status["nextLink"]  # the next page keeps the query

    expand = call(fake, "GET", LIST, params={"api-version": "x", "$expand": "instanceView"})
    assert expand.status_code == 400 and expand.json()["error"]["code"] == "InvalidParameter"


def test_arm_errors_are_in_arms_error_format(fake: FakeArm) -> None:
    no_auth = call(fake, "GET", LIST, token="")
    assert no_auth.status_code == 401
    assert no_auth.json()["error"]["code"] == "AuthenticationFailed"
    no_version = call(fake, "GET", LIST, params={})
    assert no_version.json()["error"]["code"] == "MissingApiVersionParameter"
    other = call(fake, "GET", LIST.replace(SUB, "99999999-9999-9999-9999-999999999999"))
    assert other.status_code == 404 and other.json()["error"]["code"] == "SubscriptionNotFound"
    gone = call(fake, "PATCH", tags_path("zz"), json={"operation": "Merge", "properties": {}})
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "ResourceNotFound"
    assert set(gone.json()["error"]) >= {"code", "message"}


def test_tags_update_at_scope_merge_replace_delete(fake: FakeArm) -> None:
    vm = vm_json(SUB, "rg", "a")["id"]

    def patch(operation: str, tags: dict[str, str]) -> requests.Response:
        body = {"operation": operation, "properties": {"tags": tags}}
        return call(fake, "PATCH", tags_path("a"), json=body)

    merged = patch("Merge", {"OWNER": "y", "env": "prod"})
    assert merged.status_code == 200
    # Names are case-insensitive: the existing name keeps its spelling and takes the value.
    assert merged.json()["properties"]["tags"] == {"Owner": "y", "env": "prod"}
    assert patch("Delete", {"ENV": "other"}).json()["properties"]["tags"] == {
        "Owner": "y",
        "env": "prod",
    }  # name/value pair: the value differs, nothing deleted
    assert patch("Delete", {"ENV": ""}).json()["properties"]["tags"] == {"Owner": "y"}
    assert patch("Replace", {"k": "v"}).json()["properties"]["tags"] == {"k": "v"}
    assert fake.tags_of(vm) == {"k": "v"}

    bad_name = patch("Merge", {"a/b": "1"})
    assert bad_name.json()["error"]["code"] == "InvalidTagNameCharacters"
    too_many = patch("Merge", {f"t{i}": "1" for i in range(50)})
    assert too_many.status_code == 400 and fake.tags_of(vm) == {"k": "v"}  # nothing changed
    assert patch("Upsert", {"a": "1"}).status_code == 400


def test_202_answer_and_its_status_monitor(fake: FakeArm) -> None:
    fake.start_lro(tags_path("b"), polls_in_progress=1)
    body = {"operation": "Merge", "properties": {"tags": {"Owner": "z"}}}
    accepted = call(fake, "PATCH", tags_path("b"), json=body)
    assert accepted.status_code == 202
    monitor = accepted.headers["Azure-AsyncOperation"]
    assert "/operationStatuses/" in monitor and accepted.headers["Location"] == monitor
    auth = {"Authorization": "Bearer p1"}
    assert requests.get(monitor, headers=auth, timeout=5).json()["status"] == "InProgress"
    assert fake.tags_of(vm_json(SUB, "rg", "b")["id"]) == {}  # applied only when it succeeds
    assert requests.get(monitor, headers=auth, timeout=5).json()["status"] == "Succeeded"
    assert call(fake, "GET", tags_path("b")).json()["properties"]["tags"] == {"Owner": "z"}


def test_throttling_token_bucket_per_principal_and_global(fake: FakeArm) -> None:
    clock = fake.clock
    assert isinstance(clock, Clock)
    fake.throttling = Throttling(reads=Bucket(3, 2.0), global_factor=2)
    answers = [call(fake, "GET", LIST) for _ in range(3)]
    assert [r.headers["x-ms-ratelimit-remaining-subscription-reads"] for r in answers] == [
        "2",
        "1",
        "0",
    ]
    assert answers[0].headers["x-ms-ratelimit-remaining-subscription-global-reads"] == "5"
    throttled = call(fake, "GET", LIST)
    assert throttled.status_code == 429 and throttled.headers["Retry-After"] == "1"
    assert throttled.json()["error"]["code"] == "SubscriptionRequestsThrottled"
    # Another principal has its own bucket but shares the global one (6 = 2 x 3).
    other = [call(fake, "GET", LIST, token="p2") for _ in range(4)]
    assert [r.status_code for r in other] == [200, 200, 200, 429]
    clock.now += 0.99
    assert call(fake, "GET", LIST).status_code == 429  # refilled once a second, not before
    clock.now += 0.02
    assert call(fake, "GET", LIST).status_code == 200  # +2 tokens at the tick
    # Writes have their own bucket.
    body = {"operation": "Merge", "properties": {"tags": {"x": "1"}}}
    write = call(fake, "PATCH", tags_path("a"), json=body)
    assert write.headers["x-ms-ratelimit-remaining-subscription-writes"] == "199"
    assert [r.status for r in fake.throttled()] == [429] * 3


def test_pacer_waits_for_tokens_in_order_and_keeps_a_reserve() -> None:
    clock = Clock()
    slept: list[float] = []
    pacer = RequestPacer({"writes": RateLimit(10, 5.0)}, clock=clock, sleep=slept.append)
    # Bucket 10 less the reserve of one refill + 1 (6): 4 go at once, then one per 0.2 s.
    waits = [pacer.acquire("writes") for _ in range(7)]
    assert waits[:4] == [0.0] * 4
    assert waits[4:] == pytest.approx([0.2, 0.4, 0.6])
    assert pacer.sent["writes"] == 7 and slept == pytest.approx([0.2, 0.4, 0.6])


def test_pacer_lowers_its_count_from_arms_header_and_stops_on_429() -> None:
    clock = Clock()
    pacer = RequestPacer({"writes": RateLimit(200, 10.0)}, clock=clock, sleep=lambda _s: None)
    assert pacer.acquire("writes") == 0.0
    # Someone else spent the bucket: ARM says 15 left; 15 - reserve 11 = 4 more go at once.
    pacer.done("writes", 200, {"x-ms-ratelimit-remaining-subscription-writes": "15"})
    assert [pacer.acquire("writes") for _ in range(4)] == [0.0] * 4
    assert pacer.acquire("writes") == pytest.approx(0.1)
    pacer.done("writes", 429, {"Retry-After": "3"})  # one of them is throttled after all
    assert pacer.throttled["writes"] == 1
    assert pacer.acquire("writes") >= 3.0  # nothing goes before Retry-After has passed
    with pytest.raises(ValueError, match="bucket"):
        RequestPacer({"writes": RateLimit(0, 1.0)})


def test_computes_list_policy_throttles_list_all_for_the_whole_subscription(fake: FakeArm) -> None:
    # "High Cost Get VM" (List, List All, List By Location): subscription level only; here a
    # bucket of 3 refilled with 2 a minute (documented: 900 and 300 a minute).
    clock = fake.clock
    assert isinstance(clock, Clock)
    fake.throttling = Throttling(compute_list=ComputePolicy(size=3, refill=2.0))
    header = "x-ms-ratelimit-remaining-resource"
    answers = [call(fake, "GET", LIST), call(fake, "GET", LIST, token="p2")]
    answers.append(call(fake, "GET", LIST, params={"api-version": "x", "statusOnly": "true"}))
    assert [r.headers[header] for r in answers] == [
        f"Microsoft.Compute/HighCostGet;{n}" for n in (2, 1, 0)
    ]
    assert all(r.status_code == 200 and r.headers["x-ms-request-charge"] == "1" for r in answers)
    clock.now += 20
    throttled = call(fake, "GET", LIST, token="p3")  # shared by every principal
    assert throttled.status_code == 429
    assert throttled.headers[header] == "Microsoft.Compute/HighCostGet;0"
    assert throttled.headers["Retry-After"] == "40"  # to the next refill, once a minute
    error = throttled.json()["error"]
    assert error["code"] == "OperationNotAllowed"
    [detail] = error["details"]
    assert detail["code"] == "TooManyRequests" and detail["target"] == "HighCostGet"
    assert json.loads(detail["message"])["allowedRequestCount"] == 3
    # ARM let it through first: its read bucket was charged and says so.
    assert throttled.headers["x-ms-ratelimit-remaining-subscription-reads"] == "249"
    # The Tags API is Microsoft.Resources: not a Compute list.
    assert call(fake, "GET", tags_path("a")).status_code == 200
    clock.now += 40
    assert call(fake, "GET", LIST).headers[header] == "Microsoft.Compute/HighCostGet;1"


ROUTE = "GET microsoft.compute/virtualmachines[]"


def test_operation_routes_and_resource_policy_headers() -> None:
    assert operation_route("GET", LIST) == ROUTE
    assert operation_route("GET", LIST + "?api-version=1&$skiptoken=2") == ROUTE
    vm = vm_json(SUB, "rg", "a")["id"]
    assert operation_route("PATCH", tags_path("a")) == "PATCH microsoft.resources/tags"
    assert operation_route("GET", vm) == "GET microsoft.compute/virtualmachines"
    assert operation_route("GET", f"/subscriptions/{SUB}/resourceGroups") == (
        "GET subscriptions/resourcegroups"
    )
    # One header per policy; the HTTP client joins repeated headers with ", ".
    joined = "Microsoft.Compute/HighCostGet3Min;107, Microsoft.Compute/HighCostGet30Min;587"
    assert resource_policies({"x-ms-ratelimit-remaining-resource": joined}) == {
        "Microsoft.Compute/HighCostGet3Min": 107,
        "Microsoft.Compute/HighCostGet30Min": 587,
    }
    assert resource_policies({"x-ms-ratelimit-remaining-resource": "junk, a;b"}) == {}


def test_pacer_waits_for_a_resource_providers_policy_and_stops_on_its_429() -> None:
    clock = Clock()
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock.now += seconds

    pacer = RequestPacer(ARM_LIMITS, clock=clock, sleep=sleep)
    policy = {"x-ms-ratelimit-remaining-resource": "Microsoft.Compute/HighCostGet;3"}
    assert pacer.acquire("reads", ROUTE) == 0.0
    pacer.done("reads", 200, policy, ROUTE)
    assert [pacer.acquire("reads", ROUTE) for _ in range(2)] == [0.0, 0.0]  # 3 -> 1 left
    tags = "GET microsoft.resources/tags"
    assert pacer.acquire("reads", tags) == 0.0  # another policy's route is not held
    # One left: the next List waits for Compute's refill (every minute).
    assert pacer.acquire("reads", ROUTE) == pytest.approx(60.0)
    assert pacer.waited_resource == {"Microsoft.Compute/HighCostGet": pytest.approx(60.0)}
    # A 429 naming the policy at 0 holds that route for its Retry-After, not ARM's reads.
    zero = {"x-ms-ratelimit-remaining-resource": "Microsoft.Compute/HighCostGet;0"}
    pacer.done("reads", 429, {**zero, "Retry-After": "25"}, ROUTE)
    assert pacer.throttled["reads"] == 1
    assert pacer.acquire("reads", tags) == 0.0
    assert pacer.acquire("reads", ROUTE) == pytest.approx(25.0)
    assert slept == pytest.approx([60.0, 25.0])
    with pytest.raises(ValueError, match="resource_reserve"):
        RequestPacer(resource_reserve=-1)


def test_a_prepaid_write_token_is_the_next_writes_own() -> None:
    clock = Clock()
    slept: list[float] = []
    pacer = RequestPacer({"writes": RateLimit(10, 5.0)}, clock=clock, sleep=slept.append)
    assert pacer.prepay("writes") == 0.0  # 1 of the 4 at once
    assert pacer.acquire("writes") == 0.0  # uses it: no second token
    assert [pacer.acquire("writes") for _ in range(3)] == [0.0] * 3
    pacer.prepay("writes")  # waits for the next token (0.2 s) ...
    pacer.forfeit("writes")  # ... and is not used: the next write waits for its own
    assert pacer.acquire("writes") == pytest.approx(0.4)
    assert pacer.sent["writes"] == 5 and slept == pytest.approx([0.2, 0.4])
