"""The sweep's deadline, continuations, cursor, generation limit and pacing (issue 15, section 5).

Runs the real :func:`ssm_role_check.handler.handle` against :mod:`tests.fake_ec2_iam` (EC2's
documented token buckets, a simulated clock, Lambda's deadline enforced), on small fleets with
short simulated timeouts so each test takes well under a second.
"""

from __future__ import annotations

import itertools
import json
import random
from collections import deque
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError
from ssm_role_check import handler
from ssm_role_check.config import ConfigError, load_config
from ssm_role_check.events import EventError
from ssm_role_check.sweep import (
    CONTINUATION_KEY,
    Continuation,
    RatePacer,
    SweepSettings,
    continuation_payload,
    load_sweep_settings,
    parse_continuation,
)

from tests.fake_ec2_iam import (
    LATENCY,
    FakeAccount,
    FakeEC2,
    FakeIAM,
    FakeInstance,
    FakeRole,
    LambdaClock,
    LambdaTimeout,
)

from .conftest import REGION, scheduled_event

CORE = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
READ_ONLY = "arn:aws:iam::aws:policy/ReadOnlyAccess"
PROFILE = "fleetpatch-ssm"
CONFIG = load_config(
    {"AWS_REGION": REGION, "SSM_INSTANCE_PROFILE_NAME": PROFILE, "SSM_ROLE_NAME": PROFILE}
)


FUNCTION_ARN = f"arn:aws:lambda:{REGION}:123456789012:function:fleetpatch-role-check"


class Context:
    """The attributes of Lambda's context the handler and Powertools read."""

    function_name = "fleetpatch-role-check"
    memory_limit_in_mb = 256
    invoked_function_arn = FUNCTION_ARN
    aws_request_id = "c6af9ac6-7b61-11e6-9a41-93e812345678"

    def __init__(self, clock: LambdaClock) -> None:
        self._clock = clock

    def get_remaining_time_in_millis(self) -> int:
        return self._clock.remaining_ms()


def account_with(n: int, *, clock: LambdaClock, seed: int = 1) -> FakeAccount:
    """``n`` instances: a third without profile, a third with a lacking role, a third fine."""
    rng = random.Random(seed)
    account = FakeAccount(clock)
    account.policies = {
        CORE: {"Statement": [{"Effect": "Allow", "Action": "ssm:*", "Resource": "*"}]},
        READ_ONLY: {"Statement": [{"Effect": "Allow", "Action": "ec2:Describe*", "Resource": "*"}]},
    }
    account.roles[PROFILE] = FakeRole(PROFILE, [CORE])
    account.profiles[PROFILE] = PROFILE
    for name, policy in (("app-ok", CORE), ("app-lack", READ_ONLY)):
        account.roles[name] = FakeRole(name, [policy])
        account.profiles[name] = name
    ids = sorted({f"i-{rng.getrandbits(68):017x}" for _ in range(n)})
    rng.shuffle(ids)
    for k, instance_id in enumerate(ids):
        profile = (None, "app-lack", "app-ok")[k % 3]
        arn = account.profile_arn(profile) if profile else None
        account.instances[instance_id] = FakeInstance(instance_id, "running", arn)
    return account


def invoke(
    account: FakeAccount,
    event: dict[str, Any],
    *,
    timeout: float,
    settings: SweepSettings,
    sent: list[dict[str, Any]],
    paced: bool = True,
) -> dict[str, Any]:
    """One invocation with a ``timeout``-second deadline; continuations go to ``sent``."""
    clock = account.clock
    clock.deadline = clock.now + timeout
    ec2, iam = FakeEC2(account), FakeIAM(account)
    try:
        return handler.handle(
            event,
            CONFIG,
            settings,
            clients=lambda: (ec2, iam),  # type: ignore[arg-type,return-value]
            remaining_ms=clock.remaining_ms,
            continue_sweep=sent.append,
            pacer=RatePacer(clock=clock.time, sleep=clock.sleep) if paced else None,
        )
    finally:
        clock.deadline = None


def chain(
    account: FakeAccount, *, timeout: float, settings: SweepSettings, limit: int = 30
) -> list[dict[str, Any]]:
    """The scheduled sweep and every continuation it hands on, in order."""
    queue: deque[dict[str, Any]] = deque([scheduled_event()])
    results: list[dict[str, Any]] = []
    while queue and len(results) < limit:
        sent: list[dict[str, Any]] = []
        results.append(
            invoke(account, queue.popleft(), timeout=timeout, settings=settings, sent=sent)
        )
        queue.extend(sent)
        account.clock.advance(1.0)
    return results


def fixed(account: FakeAccount) -> bool:
    for instance in account.instances.values():
        if instance.profile_arn is None:
            return False
        role = account.profiles[instance.profile_arn.rsplit("/", 1)[-1]]
        if role is None or CORE not in account.roles[role].attached:
            return False
    return True


# 300 instances, 100 of them without a profile: past the AssociateIamInstanceProfile bucket of
# 100, they take (100 - 100) / 5 + pacing ~ 20 s; a 45 s timeout with a 20 s margin cannot fit
# the listing (1 s a page) plus all of them.
SETTINGS = SweepSettings(max_generations=12, margin_seconds=20.0)


def test_deadline_stop_returns_the_summary_and_hands_on_a_continuation() -> None:
    account = account_with(300, clock=LambdaClock())
    sent: list[dict[str, Any]] = []
    result = invoke(account, scheduled_event(), timeout=30.0, settings=SETTINGS, sent=sent)

    sweep = result["sweep"]
    assert result["status"] == "ok"
    assert sweep["stopped_at_deadline"] is True
    assert sweep["continuation"] == "invoked"
    assert 0 < result["instances"] < 300
    assert sweep["remaining"] == 300 - result["instances"]
    # The cursor is the last instance looked at: exactly the ids up to it were looked at.
    cursor = sweep["next_start_after"]
    assert cursor in account.instances
    assert sum(1 for i in account.instances if i <= cursor) == result["instances"]
    assert all(i <= cursor for i in result["changed_instance_ids"])
    (payload,) = sent
    assert payload == continuation_payload(
        Continuation(sweep["sweep_id"], 1, sweep["next_start_after"]), REGION
    )
    # It stopped with the margin left: the simulated clock is before the deadline less margin.
    assert account.clock.now <= 30.0


def test_continuations_resume_at_the_cursor_and_converge_changing_nothing_twice() -> None:
    account = account_with(300, clock=LambdaClock())
    results = chain(account, timeout=30.0, settings=SETTINGS)

    assert len(results) >= 3
    assert [r["sweep"]["generation"] for r in results] == list(range(len(results)))
    assert {r["sweep"]["sweep_id"] for r in results} == {results[0]["sweep"]["sweep_id"]}
    assert [r["sweep"]["continuation"] for r in results[:-1]] == ["invoked"] * (len(results) - 1)
    assert results[-1]["sweep"]["continuation"] == "not_needed"
    # Every instance is looked at exactly once over the chain.
    assert sum(r["instances"] for r in results) == 300
    for earlier, later in itertools.pairwise(results):
        assert later["sweep"]["start_after"] == earlier["sweep"]["next_start_after"]
    assert fixed(account)
    assert account.mutations  # something was changed...
    assert max(account.mutations.values()) == 1  # ...and nothing twice
    assert not account.throttled
    assert all(not r["failed"] for r in results)


def test_a_duplicated_continuation_changes_nothing() -> None:
    # Lambda delivers an asynchronous event at least once: the same continuation twice.
    account = account_with(300, clock=LambdaClock())
    sent: list[dict[str, Any]] = []
    invoke(account, scheduled_event(), timeout=30.0, settings=SETTINGS, sent=sent)
    (payload,) = sent
    first = invoke(account, payload, timeout=900.0, settings=SETTINGS, sent=[])
    before = dict(account.mutations)
    again = invoke(account, payload, timeout=900.0, settings=SETTINGS, sent=[])

    assert sum(first["changes"].values()) > 0
    assert again["changes"] == {}
    assert dict(account.mutations) == before
    assert again["instances"] == first["instances"]


def test_the_generation_limit_stops_a_runaway_chain() -> None:
    account = account_with(300, clock=LambdaClock())
    limited = SweepSettings(max_generations=1, margin_seconds=20.0)
    results = chain(account, timeout=30.0, settings=limited)

    assert [r["sweep"]["generation"] for r in results] == [0, 1]
    assert results[-1]["sweep"]["continuation"] == "generation_limit"
    assert results[-1]["sweep"]["remaining"] > 0
    assert not fixed(account)  # the next scheduled sweep goes on


def test_a_continuation_past_the_limit_is_refused_without_aws_calls() -> None:
    account = account_with(30, clock=LambdaClock())
    event = continuation_payload(
        Continuation("89d1a02d-5ec7-412e-82f5-13505f849b41", 13, "i-0123456789abcdef0"), REGION
    )
    sent: list[dict[str, Any]] = []
    result = invoke(account, event, timeout=900.0, settings=SETTINGS, sent=sent)

    assert result["status"] == "error"
    assert "generation 13 is past the limit of 12" in result["error"]
    assert sent == []
    assert not account.calls


def test_no_continuation_without_progress() -> None:
    # The margin is larger than the whole timeout: not one instance fits.
    account = account_with(30, clock=LambdaClock())
    sent: list[dict[str, Any]] = []
    settings = SweepSettings(max_generations=12, margin_seconds=600.0)
    result = invoke(account, scheduled_event(), timeout=300.0, settings=settings, sent=sent)

    assert result["sweep"]["continuation"] == "no_progress"
    assert result["instances"] == 0
    assert sent == []


def test_deadline_during_the_listing_stops_cleanly_and_changes_nothing() -> None:
    # A large Region and a short timeout: listing alone would outlast the invocation. The
    # deadline is checked after every DescribeInstances page, so the run returns its summary.
    account = account_with(20_000, clock=LambdaClock())
    sent: list[dict[str, Any]] = []
    settings = SweepSettings(max_generations=12, margin_seconds=20.0)
    result = invoke(account, scheduled_event(), timeout=25.0, settings=settings, sent=sent)

    assert result["sweep"]["continuation"] == "no_progress"
    assert result["sweep"]["listing_stopped"] is True
    assert result["sweep"]["stopped_at_deadline"] is True
    assert 0 < result["sweep"]["remaining"] < 20_000  # listed so far, not all
    assert result["instances"] == 0
    assert not account.mutations  # nothing associated or attached
    assert account.calls["DescribeIamInstanceProfileAssociations"] == 0
    assert sent == []


def test_deadline_after_the_listing_stops_before_the_associations_are_read() -> None:
    # The listing fits, the association lookups would not: checked after each of their pages.
    account = account_with(20_000, clock=LambdaClock())
    sent: list[dict[str, Any]] = []
    pages = -(-20_000 // 1000)
    per_page = LATENCY["DescribeInstances"]
    settings = SweepSettings(max_generations=12, margin_seconds=20.0)
    timeout = pages * per_page + 23.0  # the listing and its pacing, then 3 s of association pages
    result = invoke(account, scheduled_event(), timeout=timeout, settings=settings, sent=sent)

    assert result["sweep"]["listing_stopped"] is True
    assert account.calls["DescribeInstances"] == pages  # the whole listing ran
    assert account.calls["DescribeIamInstanceProfileAssociations"] > 0  # stopped among these
    assert result["instances"] == 0
    assert not account.mutations
    assert sent == []


def test_without_the_deadline_check_lambda_times_out_and_the_summary_is_lost() -> None:
    # What the deadline check prevents: the same fleet, no remaining-time source.
    account = account_with(300, clock=LambdaClock())
    account.clock.deadline = 30.0
    ec2, iam = FakeEC2(account), FakeIAM(account)
    with pytest.raises(LambdaTimeout):
        handler.handle(
            scheduled_event(),
            CONFIG,
            SETTINGS,
            clients=lambda: (ec2, iam),  # type: ignore[arg-type,return-value]
            remaining_ms=None,
            continue_sweep=None,
            pacer=RatePacer(clock=account.clock.time, sleep=account.clock.sleep),
        )


def test_unpaced_sweep_is_throttled_by_the_association_bucket() -> None:
    # 300 associations at once: EC2's bucket holds 100 (refill 5/s); the fake refuses the rest
    # (it does not retry), so pacing is what keeps a sweep inside the documented rate.
    account = account_with(900, clock=LambdaClock())
    paced = account_with(900, clock=LambdaClock())
    unpaced = invoke(
        account, scheduled_event(), timeout=900.0, settings=SETTINGS, sent=[], paced=False
    )
    ok = invoke(paced, scheduled_event(), timeout=900.0, settings=SETTINGS, sent=[])

    assert account.throttled["AssociateIamInstanceProfile"] > 0
    assert unpaced["outcomes"]["failed"] > 0
    assert not paced.throttled
    assert ok["outcomes"]["failed"] == 0
    assert fixed(paced)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"sweep_id": "x", "generation": 1, "start_after": "i-0123456789abcdef0"}, "sweep_id"),
        ({"generation": 0}, "generation"),
        ({"generation": True}, "generation"),
        ({"start_after": "i-XYZ"}, "start_after"),
        ({"region": "eu-west-1"}, "Region"),
    ],
)
def test_malformed_continuations_are_rejected(body: dict[str, Any], message: str) -> None:
    good = continuation_payload(
        Continuation("89d1a02d-5ec7-412e-82f5-13505f849b41", 1, "i-0123456789abcdef0"), REGION
    )
    event = {CONTINUATION_KEY: {**good[CONTINUATION_KEY], **body}}
    with pytest.raises(EventError, match=message):
        parse_continuation(event, REGION)
    with pytest.raises(EventError, match="only the key"):
        parse_continuation({**good, "instance_ids": []}, REGION)


def test_sweep_settings_from_the_environment() -> None:
    assert load_sweep_settings({}) == SweepSettings(12, 60.0)
    assert load_sweep_settings(
        {"SWEEP_MAX_GENERATIONS": "3", "SWEEP_DEADLINE_MARGIN_SECONDS": "90"}
    ) == SweepSettings(3, 90.0)
    with pytest.raises(ValueError, match=r"SWEEP_MAX_GENERATIONS.*15"):
        load_sweep_settings({"SWEEP_MAX_GENERATIONS": "15"})
    with pytest.raises(ValueError, match="SWEEP_DEADLINE_MARGIN_SECONDS"):
        load_sweep_settings({"SWEEP_DEADLINE_MARGIN_SECONDS": "5"})


def test_lambda_handler_invokes_itself_asynchronously(monkeypatch: pytest.MonkeyPatch) -> None:
    account = account_with(300, clock=LambdaClock())
    invoked: list[dict[str, Any]] = []

    class LambdaClient:
        def invoke(self, **kwargs: Any) -> dict[str, Any]:
            invoked.append(kwargs)
            return {"StatusCode": 202}

    ec2, iam = FakeEC2(account), FakeIAM(account)
    monkeypatch.setattr(handler, "build_clients", lambda region, counter: (ec2, iam))
    monkeypatch.setattr("boto3.client", lambda service, **_: LambdaClient())
    monkeypatch.setattr(
        handler, "RatePacer", lambda: RatePacer(clock=account.clock.time, sleep=account.clock.sleep)
    )
    for key, value in {
        "AWS_REGION": REGION,
        "SSM_INSTANCE_PROFILE_NAME": PROFILE,
        "SSM_ROLE_NAME": PROFILE,
        "SWEEP_DEADLINE_MARGIN_SECONDS": "20",
    }.items():
        monkeypatch.setenv(key, value)
    account.clock.deadline = 30.0

    result = handler.lambda_handler(scheduled_event(), Context(account.clock))

    assert result["sweep"]["continuation"] == "invoked"
    (call,) = invoked
    assert call["FunctionName"] == FUNCTION_ARN
    assert call["InvocationType"] == "Event"
    assert CONTINUATION_KEY in json.loads(call["Payload"])


def test_invalid_sweep_settings_are_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in {
        "AWS_REGION": REGION,
        "SSM_INSTANCE_PROFILE_NAME": PROFILE,
        "SSM_ROLE_NAME": PROFILE,
        "SWEEP_MAX_GENERATIONS": "99",
    }.items():
        monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError, match="SWEEP_MAX_GENERATIONS"):
        handler.lambda_handler(scheduled_event(), Context(LambdaClock()))


@pytest.mark.parametrize(
    "error",
    [
        EndpointConnectionError(endpoint_url="https://lambda.eu-west-1.amazonaws.com"),
        ReadTimeoutError(endpoint_url="https://lambda.eu-west-1.amazonaws.com"),
        ClientError(
            {"Error": {"Code": "TooManyRequestsException", "Message": "Rate exceeded"}}, "Invoke"
        ),
    ],
    ids=["endpoint-connection", "read-timeout", "client-error"],
)
def test_a_failed_continuation_keeps_the_summary_and_does_not_raise(
    error: Exception, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Raising would lose the summary line and make Lambda's async retry re-run the sweep from
    # the same cursor (forking the chain when the invoke did reach Lambda).
    account = account_with(300, clock=LambdaClock())
    logged: list[str] = []
    metrics: list[str] = []
    real_info = handler.logger.info

    def info(message: str, *args: Any, **kwargs: Any) -> None:
        logged.append(message)
        real_info(message, *args, **kwargs)

    def add_metric(*, name: str, **_: Any) -> None:
        metrics.append(name)

    def failing(_payload: dict[str, Any]) -> None:
        assert logged == ["role check summary"], "the summary is logged before the invoke"
        raise error

    monkeypatch.setattr(handler.logger, "info", info)
    monkeypatch.setattr(handler.metrics, "add_metric", add_metric)
    account.clock.deadline = 30.0
    ec2, iam = FakeEC2(account), FakeIAM(account)
    result = handler.handle(
        scheduled_event(),
        CONFIG,
        SETTINGS,
        clients=lambda: (ec2, iam),  # type: ignore[arg-type,return-value]
        remaining_ms=account.clock.remaining_ms,
        continue_sweep=failing,
        pacer=RatePacer(clock=account.clock.time, sleep=account.clock.sleep),
    )
    assert result["sweep"]["stopped_at_deadline"] is True
    assert result["sweep"]["continuation"].startswith("failed: ")
    assert type(error).__name__ in result["sweep"]["continuation"] or (
        "TooManyRequestsException" in result["sweep"]["continuation"]
    )
    assert "SweepContinuationsFailed" in metrics and "SweepContinuations" not in metrics
    assert logged == ["role check summary", "sweep continuation"]
