"""The three invocation shapes the role check accepts, and nothing else.

* EventBridge ``EC2 Instance State-change Notification`` (source ``aws.ec2``) for the states
  ``pending`` and ``running``: check that one instance.
* EventBridge ``Scheduled Event`` (source ``aws.events``): sweep every instance of the Region.
* A direct invocation ``{"instance_ids": ["i-...", ...]}`` (1-1000 distinct ids): check those.

A fourth shape, the sweep's continuation the function sends itself, is parsed by
:func:`.sweep.parse_continuation` (the handler looks for its key first).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

STATE_CHANGE = "EC2 Instance State-change Notification"
SCHEDULED = "Scheduled Event"
HANDLED_STATES = frozenset({"pending", "running"})
MAX_DIRECT_IDS = 1000
_INSTANCE_ID = re.compile(r"^i-[0-9a-f]{8}(?:[0-9a-f]{9})?$")

TriggerKind = Literal["state_change", "sweep", "direct"]


class EventError(ValueError):
    """The invocation payload is not one of the accepted shapes; the message says why."""


@dataclass(frozen=True)
class Trigger:
    """What one invocation asks for.

    Attributes:
        kind: ``state_change``, ``sweep`` or ``direct``.
        instance_ids: the instances to check, sorted and distinct; ``None`` for a sweep (every
            instance of the Region).
        event_id: the EventBridge event id (``None`` for a direct invocation), for the log.
        start_after: for a sweep continuation (see :mod:`.sweep`), the last instance id already
            looked at; only instances whose id sorts after it are checked. ``None`` otherwise.
    """

    kind: TriggerKind
    instance_ids: tuple[str, ...] | None
    event_id: str | None = None
    start_after: str | None = None


def _check_region(event: Mapping[str, Any], region: str) -> None:
    event_region = event.get("region")
    if event_region != region:
        raise EventError(
            f"event from Region {event_region!r} but this function checks Region {region!r}"
        )


def parse_event(event: Any, region: str) -> Trigger:
    """Recognise an invocation payload.

    Args:
        event: the Lambda event (a JSON object).
        region: the Region the function runs in; EventBridge events from another Region are
            rejected because their instances cannot be found here.

    Returns:
        The :class:`Trigger` to run. No AWS call is made.

    Raises:
        EventError: anything other than the three accepted shapes: a state-change event for a
            state other than pending/running, malformed instance ids, an empty or too long id
            list, unknown keys in a direct invocation, or an event from another Region.
    """
    if not isinstance(event, Mapping):
        raise EventError(f"event must be a JSON object, got {type(event).__name__}")
    detail_type = event.get("detail-type")
    source = event.get("source")
    if detail_type == STATE_CHANGE and source == "aws.ec2":
        detail = event.get("detail")
        if not isinstance(detail, Mapping):
            raise EventError("EC2 state-change event without a detail object")
        state = detail.get("state")
        instance_id = detail.get("instance-id")
        if state not in HANDLED_STATES:
            raise EventError(
                f"EC2 state-change for state {state!r}: only pending and running are handled"
            )
        if not isinstance(instance_id, str) or not _INSTANCE_ID.fullmatch(instance_id):
            raise EventError(f"EC2 state-change event with invalid instance-id {instance_id!r}")
        _check_region(event, region)
        return Trigger("state_change", (instance_id,), _event_id(event))
    if detail_type == SCHEDULED and source == "aws.events":
        _check_region(event, region)
        return Trigger("sweep", None, _event_id(event))
    if "detail-type" in event or "source" in event:
        raise EventError(
            f"unsupported EventBridge event (source {source!r}, detail-type {detail_type!r}): "
            f"expected {STATE_CHANGE!r} from aws.ec2 or {SCHEDULED!r} from aws.events"
        )
    if set(event) == {"instance_ids"}:
        return Trigger("direct", _parse_ids(event["instance_ids"]), None)
    raise EventError(
        "unrecognised event: expected an EventBridge EC2 state-change or Scheduled Event, "
        'or {"instance_ids": ["i-..."]}; got keys ' + repr(sorted(map(str, event)))
    )


def _event_id(event: Mapping[str, Any]) -> str | None:
    value = event.get("id")
    return value if isinstance(value, str) else None


def _parse_ids(raw: Any) -> tuple[str, ...]:
    if not isinstance(raw, list) or not raw:
        raise EventError("instance_ids must be a non-empty list of instance ids")
    bad = [i for i in raw if not isinstance(i, str) or not _INSTANCE_ID.fullmatch(i)]
    if bad:
        raise EventError(f"instance_ids holds values that are not instance ids: {bad[:5]!r}")
    ids = tuple(sorted(set(raw)))
    if len(ids) > MAX_DIRECT_IDS:
        raise EventError(f"instance_ids holds {len(ids)} ids; at most {MAX_DIRECT_IDS} allowed")
    return ids
