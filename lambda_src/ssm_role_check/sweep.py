"""The sweep's deadline, its continuations and the client-side pacing of the API calls it makes.

A sweep of a large account does not fit one invocation: ``ec2:AssociateIamInstanceProfile`` has
its own token bucket of 100 requests refilled at 5 a second per account and Region ("Request
throttling for the Amazon EC2 API", uncategorized actions:
https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html), so 16,667 instances
without a profile take at least (16,667 - 100) / 5 = 3,313 s, past Lambda's 900 s maximum
timeout (https://docs.aws.amazon.com/lambda/latest/dg/configuration-timeout.html).

So a sweep runs as a chain of invocations:

* Every invocation lists the Region's instances again (DescribeInstances, paginated and
  filtered: the non-mutating bucket of 100 refilled at 20/s) and checks them in instance-id order,
  starting after the ``start_after`` cursor it was given. The cursor is an instance id, not the
  paginator's ``NextToken``: EC2 documents no lifetime for a NextToken and a token is tied to the
  request that produced it, so it is never carried from one invocation to the next.
* Before each instance it asks the Lambda context for the remaining time
  (``context.get_remaining_time_in_millis()``); with less than the safety margin left (default
  :data:`DEFAULT_MARGIN_SECONDS`, enough for the slowest single instance -- an association with
  its propagation retries of 15 s -- plus the summary and the continuation call) it stops, logs and
  returns its summary, and invokes the function again asynchronously (``lambda:InvokeFunction``,
  ``InvocationType=Event``) with a payload :func:`continuation_payload` carrying the sweep id, the
  next generation and the cursor (the last instance id it looked at).
* A continuation checks only instances whose id sorts after the cursor, so an instance is looked at
  -- and changed -- at most once per sweep. Instances launched during the sweep with an id before
  the cursor are not in this sweep: the state-change rule (pending/running) checks them when they
  start, and the next scheduled sweep checks them otherwise.

Runaway guard: a continuation carries its generation (0 for the scheduled sweep) and is refused
past :attr:`SweepSettings.max_generations` (``SWEEP_MAX_GENERATIONS``, 1-14, default
:data:`DEFAULT_MAX_GENERATIONS`). Lambda's recursive loop detection also applies: it "detects
loops comprised only of Lambda functions, which may invoke each other synchronously or
asynchronously" and stops the next invocation once a function "is invoked approximately 16 times
in the same chain of requests", sending the event to the function's dead-letter queue
(https://docs.aws.amazon.com/lambda/latest/dg/invocation-recursion.html; boto3 >= 1.24.46 carries
the chain in the X-Ray trace header). The generation limit is therefore kept below 16 and the
function's recursion configuration stays at its default (Terminate): an estate needing more than
``max_generations`` continuations converges over several scheduled sweeps, each a new chain.
"""

from __future__ import annotations

import math
import re
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .events import EventError

CONTINUATION_KEY = "fleetpatch_role_check_sweep"
"""The one top-level key of a continuation payload."""
DEFAULT_MAX_GENERATIONS = 12
MAX_GENERATIONS_LIMIT = 14  # generations 0..14: 15 invocations, under Lambda's ~16
"""Highest accepted ``SWEEP_MAX_GENERATIONS``: Lambda stops a chain at about 16 invocations."""
DEFAULT_MARGIN_SECONDS = 60.0
MIN_MARGIN_SECONDS = 20.0
MAX_MARGIN_SECONDS = 600.0
_SWEEP_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_INSTANCE_ID = re.compile(r"^i-[0-9a-f]{8}(?:[0-9a-f]{9})?$")

# Documented token buckets (capacity, refill per second) of the calls the role check makes, per
# account and Region: https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html
# ("Non-mutating actions" 100/20; "Uncategorized actions": AssociateIamInstanceProfile 100/5).
EC2_RATES: dict[str, tuple[float, float]] = {
    "ec2.DescribeInstances": (100.0, 20.0),
    "ec2.DescribeIamInstanceProfileAssociations": (100.0, 20.0),
    "ec2.AssociateIamInstanceProfile": (100.0, 5.0),
}
# IAM publishes no request rate per action ("IAM and AWS STS quotas",
# https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html, lists object counts
# and sizes only; throttled calls get "Throttling: Rate exceeded"). These are assumptions, kept low:
# writes 10 at once then 2 a second, reads 20 at once then 10 a second.
IAM_WRITE_RATE = (10.0, 2.0)
IAM_READ_RATE = (20.0, 10.0)
IAM_WRITES = ("AddRoleToInstanceProfile", "AttachRolePolicy")
IAM_READS = (
    "GetInstanceProfile",
    "ListInstanceProfiles",
    "ListAttachedRolePolicies",
    "ListRolePolicies",
    "GetRolePolicy",
    "GetPolicy",
    "GetPolicyVersion",
    "GetRole",
)
IAM_RATES: dict[str, tuple[float, float]] = {
    **{f"iam.{op}": IAM_WRITE_RATE for op in IAM_WRITES},
    **{f"iam.{op}": IAM_READ_RATE for op in IAM_READS},
}
RATES: dict[str, tuple[float, float]] = {**EC2_RATES, **IAM_RATES}


@dataclass(frozen=True)
class SweepSettings:
    """How a sweep splits into invocations.

    Attributes:
        max_generations: continuations allowed after the scheduled invocation (1-14).
        margin_seconds: stop when less than this is left before the Lambda deadline.
    """

    max_generations: int = DEFAULT_MAX_GENERATIONS
    margin_seconds: float = DEFAULT_MARGIN_SECONDS


def load_sweep_settings(env: Mapping[str, str]) -> SweepSettings:
    """Read ``SWEEP_MAX_GENERATIONS`` and ``SWEEP_DEADLINE_MARGIN_SECONDS`` (empty: defaults).

    Raises:
        ValueError: a value is not a number in its range (1-14 generations; 20-600 seconds); the
            message names the variable. No AWS call is made.
    """
    problems: list[str] = []
    settings = SweepSettings()
    raw = env.get("SWEEP_MAX_GENERATIONS", "").strip()
    generations = settings.max_generations
    if raw:
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_GENERATIONS_LIMIT:
            problems.append(
                f"SWEEP_MAX_GENERATIONS must be a whole number from 1 to {MAX_GENERATIONS_LIMIT} "
                f"(Lambda stops a chain of about 16 invocations), got {raw!r}"
            )
        else:
            generations = int(raw)
    raw = env.get("SWEEP_DEADLINE_MARGIN_SECONDS", "").strip()
    margin = settings.margin_seconds
    if raw:
        try:
            margin = float(raw)
        except ValueError:
            margin = math.nan
        if not MIN_MARGIN_SECONDS <= margin <= MAX_MARGIN_SECONDS:
            problems.append(
                f"SWEEP_DEADLINE_MARGIN_SECONDS must be a number of seconds from "
                f"{MIN_MARGIN_SECONDS:g} to {MAX_MARGIN_SECONDS:g}, got {raw!r}"
            )
    if problems:
        raise ValueError("; ".join(problems))
    return SweepSettings(max_generations=generations, margin_seconds=margin)


@dataclass(frozen=True)
class Continuation:
    """Where a sweep goes on.

    Attributes:
        sweep_id: the id of the whole sweep (a UUID; the scheduled event's id).
        generation: 1 for the first continuation, one more for each after it.
        start_after: the last instance id already looked at; only ids after it are checked.
    """

    sweep_id: str
    generation: int
    start_after: str


def new_sweep_id(event_id: str | None) -> str:
    """The sweep id: the EventBridge event id when it is a UUID, else a new random UUID."""
    if event_id is not None and _SWEEP_ID.fullmatch(event_id):
        return event_id
    return str(uuid.uuid4())


def continuation_payload(continuation: Continuation, region: str) -> dict[str, Any]:
    """The event of a continuation (about 150 bytes, far below an asynchronous invocation's limit).

    Shape: ``{CONTINUATION_KEY: {"sweep_id", "generation", "start_after", "region"}}``.
    """
    return {
        CONTINUATION_KEY: {
            "sweep_id": continuation.sweep_id,
            "generation": continuation.generation,
            "start_after": continuation.start_after,
            "region": region,
        }
    }


def parse_continuation(event: Mapping[str, Any], region: str) -> Continuation:
    """Read a continuation payload (see :func:`continuation_payload`).

    Raises:
        EventError: another key next to it, a malformed sweep id, generation (a whole number
            from 1) or cursor (an instance id), or a Region other than the function's.
    """
    if set(event) != {CONTINUATION_KEY}:
        raise EventError(f"a sweep continuation holds only the key {CONTINUATION_KEY!r}")
    body = event[CONTINUATION_KEY]
    if not isinstance(body, Mapping) or set(body) != {
        "sweep_id",
        "generation",
        "start_after",
        "region",
    }:
        raise EventError("a sweep continuation holds sweep_id, generation, start_after, region")
    sweep_id, generation = body["sweep_id"], body["generation"]
    start_after, event_region = body["start_after"], body["region"]
    if not isinstance(sweep_id, str) or not _SWEEP_ID.fullmatch(sweep_id):
        raise EventError(f"sweep continuation with invalid sweep_id {sweep_id!r}")
    if isinstance(generation, bool) or not isinstance(generation, int) or generation < 1:
        raise EventError(f"sweep continuation with invalid generation {generation!r}")
    if not isinstance(start_after, str) or not _INSTANCE_ID.fullmatch(start_after):
        raise EventError(f"sweep continuation with invalid start_after {start_after!r}")
    if event_region != region:
        raise EventError(
            f"sweep continuation for Region {event_region!r} but this function checks {region!r}"
        )
    return Continuation(sweep_id, generation, start_after)


class Deadline:
    """``reached()`` once less than ``margin_seconds`` are left in the invocation."""

    def __init__(self, remaining_ms: Callable[[], int] | None, margin_seconds: float) -> None:
        """Wrap the context's ``get_remaining_time_in_millis`` (``None``: no deadline)."""
        self._remaining_ms = remaining_ms
        self._margin_ms = margin_seconds * 1000.0
        self.hit = False

    def reached(self) -> bool:
        """True (and stays true) when the remaining time is below the margin."""
        if self._remaining_ms is not None and not self.hit:
            self.hit = self._remaining_ms() < self._margin_ms
        return self.hit


class _Bucket:
    """The function's own picture of one of the account's buckets, pessimistic on purpose.

    It starts one refill below empty: the previous invocation of the sweep (or anything else in
    the account) may have just drained the real bucket, and EC2 adds its tokens once a second
    ("a set number of tokens are added to it every second"), so a continuous model can run up to
    one refill ahead of the real bucket. Its capacity is one refill less than the documented one
    for the same reason. Consumed by time ``t`` after creation: at most ``refill * t - refill``,
    never more than the real bucket's worst case.
    """

    def __init__(self, capacity: float, refill: float, now: float) -> None:
        self.capacity = max(1.0, capacity - refill)
        self.refill = refill
        self.tokens = -refill
        self.at = now

    def wait_for_token(self, now: float) -> float:
        """Seconds to wait before a token is there (the token is taken)."""
        self.tokens = min(self.capacity, self.tokens + (now - self.at) * self.refill)
        self.at = now
        self.tokens -= 1.0
        if self.tokens >= 0:
            return 0.0
        return -self.tokens / self.refill


class RatePacer:
    """Keeps each paced operation within its token bucket (botocore ``before-call`` hook).

    The buckets mirror the documented ones (:data:`RATES`), pessimistically (see
    :class:`_Bucket`): each call takes one token and waits (``sleep``) until the refill has
    brought it. The account's buckets are shared with every other caller in the account and
    Region, so throttling can still happen; botocore's standard retries handle it. Only sweeps
    are paced (an event for one instance makes a handful of calls).
    """

    def __init__(
        self,
        rates: Mapping[str, tuple[float, float]] = RATES,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """``rates``: ``"<service>.<Operation>"`` -> (capacity, refill per second)."""
        self._rates = dict(rates)
        self._clock = clock
        self._sleep = sleep
        self._buckets: dict[str, _Bucket] = {}
        self.waited_seconds = 0.0

    def __call__(self, event_name: str = "", **_: Any) -> None:
        """Wait for a token of the operation named by ``before-call.<service>.<Operation>``."""
        key = event_name.removeprefix("before-call.")
        rate = self._rates.get(key)
        if rate is None:
            return
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(rate[0], rate[1], now)
        wait = bucket.wait_for_token(now)
        if wait > 0:
            self.waited_seconds += wait
            self._sleep(wait)

    def attach(self, *clients: Any) -> None:
        """Register on every client's ``before-call`` event."""
        for client in clients:
            client.meta.events.register("before-call.*.*", self)
