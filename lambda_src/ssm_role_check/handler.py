"""Lambda entry point: parse the event, build the clients, run the check, log one summary.

Environment: see :func:`.config.load_config` and :func:`.sweep.load_sweep_settings`
(``SWEEP_MAX_GENERATIONS``, ``SWEEP_DEADLINE_MARGIN_SECONDS``), plus the Powertools variables
(``POWERTOOLS_SERVICE_NAME``, ``POWERTOOLS_METRICS_NAMESPACE``, ``POWERTOOLS_LOG_LEVEL``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.metrics import MetricUnit
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError

from .checker import RoleChecker
from .config import Config, ConfigError, load_config
from .discovery import error_text
from .events import EventError, Trigger, parse_event
from .summary import Outcome, Summary
from .sweep import (
    CONTINUATION_KEY,
    Continuation,
    Deadline,
    RatePacer,
    SweepSettings,
    continuation_payload,
    load_sweep_settings,
    new_sweep_id,
    parse_continuation,
)

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext
    from mypy_boto3_ec2.client import EC2Client
    from mypy_boto3_iam.client import IAMClient

SERVICE = "ssm-role-check"
TOTAL_MAX_ATTEMPTS = 8
LOG_MAX_IDS = 2000
"""Longest id list in the logged summary (the returned summary is complete)."""
"""Attempts per API call, first try included (botocore ``standard`` retry mode)."""
logger = Logger(service=os.environ.get("POWERTOOLS_SERVICE_NAME", SERVICE))
metrics = Metrics(
    namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", "fleetpatch"),
    service=os.environ.get("POWERTOOLS_SERVICE_NAME", SERVICE),
)
copy_config_to_registered_loggers(source_logger=logger, include={"ssm_role_check"})

METRIC_NAMES: dict[Outcome, str] = {
    o: "Instances" + "".join(part.capitalize() for part in o.value.split("_")) for o in Outcome
}


class CallCounter:
    """Counts AWS API calls made by clients it is attached to (botocore ``before-call``)."""

    def __init__(self) -> None:
        """Start at zero."""
        self.calls = 0

    def __call__(self, **_: Any) -> None:
        """Count one more API call (retries of the same call are not counted)."""
        self.calls += 1


def build_clients(region: str, counter: CallCounter | None = None) -> tuple[EC2Client, IAMClient]:
    """EC2 and IAM clients with botocore ``standard`` retries (throttling, transient errors).

    Args:
        region: the function's Region.
        counter: optional hook counting every API call.

    Returns:
        ``(ec2, iam)``. Creating clients makes no AWS call.
    """
    config = BotoConfig(
        retries={"mode": "standard", "total_max_attempts": TOTAL_MAX_ATTEMPTS},
        user_agent_extra="fleetpatch-role-check",
    )
    ec2: EC2Client = boto3.client("ec2", region_name=region, config=config)
    iam: IAMClient = boto3.client("iam", region_name=region, config=config)
    if counter is not None:
        for client in (ec2, iam):
            client.meta.events.register("before-call.*.*", counter)
    return ec2, iam


def record_metrics(summary: Summary) -> None:
    """Add one EMF metric per outcome (count of instances, zeros included) and the changes."""
    for outcome, count in summary.counts().items():
        metrics.add_metric(name=METRIC_NAMES[Outcome(outcome)], unit=MetricUnit.Count, value=count)
    metrics.add_metric(name="Changes", unit=MetricUnit.Count, value=sum(summary.changes.values()))


@metrics.log_metrics
@logger.inject_lambda_context(log_event=False)
def lambda_handler(event: Mapping[str, Any], context: LambdaContext) -> dict[str, Any]:
    """Run the role check for one invocation.

    Args:
        event: an EventBridge ``EC2 Instance State-change Notification`` (pending/running), an
            EventBridge ``Scheduled Event`` (sweep of the Region), ``{"instance_ids": [...]}``
            or a sweep continuation this function sent itself (see :mod:`.sweep`).
        context: the Lambda context; ``get_remaining_time_in_millis()`` sets the sweep's deadline.

    Returns:
        The summary (see :meth:`.summary.Summary.to_dict`, plus ``sweep`` for a sweep, see
        :func:`handle`); for an unrecognised event ``status`` is ``"error"`` and ``error`` says
        why, and no AWS call was made.

    Raises:
        ConfigError: the environment variables are invalid (nothing is called).
        botocore.exceptions.ClientError: listing the instances failed (nothing was changed).
    """
    try:
        config = load_config(os.environ)
        settings = load_sweep_settings(os.environ)
    except (ConfigError, ValueError) as exc:
        logger.error("invalid configuration", extra={"error": str(exc)})
        metrics.add_metric(name="ConfigErrors", unit=MetricUnit.Count, value=1)
        raise ConfigError(str(exc)) from exc
    counter = CallCounter()

    def clients() -> tuple[EC2Client, IAMClient]:
        return build_clients(config.region, counter)

    function_arn = getattr(context, "invoked_function_arn", None)

    def continue_sweep(payload: dict[str, Any]) -> None:
        # AWS API: lambda:InvokeFunction, asynchronous (InvocationType Event): Lambda queues the
        # event and answers 202 at once; its async retries and the dead-letter queue apply.
        client = boto3.client(
            "lambda", region_name=config.region, config=BotoConfig(retries={"mode": "standard"})
        )
        client.invoke(
            FunctionName=str(function_arn),
            InvocationType="Event",
            Payload=json.dumps(payload).encode(),
        )

    return handle(
        event,
        config,
        settings,
        clients=clients,
        remaining_ms=getattr(context, "get_remaining_time_in_millis", None),
        continue_sweep=continue_sweep if function_arn else None,
        counter=counter,
        pacer=RatePacer(),
    )


def handle(
    event: Mapping[str, Any],
    config: Config,
    settings: SweepSettings,
    *,
    clients: Callable[[], tuple[EC2Client, IAMClient]],
    remaining_ms: Callable[[], int] | None,
    continue_sweep: Callable[[dict[str, Any]], None] | None,
    counter: CallCounter | None = None,
    pacer: RatePacer | None = None,
) -> dict[str, Any]:
    """One invocation with its clients given (the bench and tests pass fakes).

    Args:
        event: the Lambda event (see :func:`lambda_handler`).
        config: the validated configuration.
        settings: the sweep's generation limit and deadline margin.
        clients: builds ``(ec2, iam)``; called only once the event is accepted.
        remaining_ms: the context's ``get_remaining_time_in_millis`` (``None``: no deadline).
        continue_sweep: sends a continuation payload (asynchronous ``lambda:InvokeFunction`` of
            this function); ``None`` when the function cannot invoke itself.
        counter: the API call counter attached to the clients, for ``api_calls``.
        pacer: attached to the clients of a sweep, keeping its calls within EC2's token buckets.

    Returns:
        The summary dict; a sweep adds ``sweep``: ``{"sweep_id", "generation", "start_after",
        "stopped_at_deadline": bool, "next_start_after", "remaining": int, "continuation":
        "not_needed" | "invoked" | "generation_limit" | "no_progress" | "unavailable" |
        "failed: <error>"}``.

    Raises:
        botocore.exceptions.ClientError: listing the instances failed (nothing was changed).
    """
    continuation: Continuation | None = None
    try:
        if isinstance(event, Mapping) and CONTINUATION_KEY in event:
            continuation = parse_continuation(event, config.region)
            if continuation.generation > settings.max_generations:
                raise EventError(
                    f"sweep {continuation.sweep_id}: generation {continuation.generation} is "
                    f"past the limit of {settings.max_generations} (SWEEP_MAX_GENERATIONS); "
                    "refused, the next scheduled sweep goes on"
                )
            trigger = Trigger("sweep", None, None, start_after=continuation.start_after)
        else:
            trigger = parse_event(event, config.region)
    except EventError as exc:
        logger.error("rejected event", extra={"error": str(exc)})
        metrics.add_metric(name="InvalidEvents", unit=MetricUnit.Count, value=1)
        summary = Summary(trigger=None, dry_run=config.dry_run, error=str(exc))
        return summary.to_dict()
    sweep_id = continuation.sweep_id if continuation is not None else new_sweep_id(trigger.event_id)
    generation = continuation.generation if continuation is not None else 0
    logger.append_keys(trigger=trigger.kind, event_id=trigger.event_id, dry_run=config.dry_run)
    if trigger.kind == "sweep":
        logger.append_keys(sweep_id=sweep_id, generation=generation)
    deadline = Deadline(remaining_ms, settings.margin_seconds)
    ec2, iam = clients()
    if pacer is not None and trigger.kind == "sweep":
        pacer.attach(ec2, iam)
    checker = RoleChecker(ec2, iam, config)
    stop = deadline.reached if trigger.kind == "sweep" else None
    summary = checker.run(trigger, stop=stop)
    summary.api_calls = counter.calls if counter is not None else None
    record_metrics(summary)
    result = summary.to_dict()
    payload: dict[str, Any] | None = None
    if trigger.kind == "sweep":
        result["sweep"], payload = _continue(
            checker, trigger, sweep_id, generation, settings, deadline, continue_sweep, config
        )
    # Logged before the continuation is sent: whatever the invoke does, the summary is kept.
    logger.info("role check summary", extra={"summary": _log_view(summary, result)})
    if payload is not None and continue_sweep is not None:
        result["sweep"]["continuation"] = _send(continue_sweep, payload)
        logger.info("sweep continuation", extra={"sweep": result["sweep"]})
    return result


def _log_view(summary: Summary, result: dict[str, Any]) -> dict[str, Any]:
    view = summary.to_dict(max_ids=LOG_MAX_IDS)
    if "sweep" in result:
        view["sweep"] = result["sweep"]
    return view


def _continue(  # noqa: PLR0917 (private helper of handle)
    checker: RoleChecker,
    trigger: Trigger,
    sweep_id: str,
    generation: int,
    settings: SweepSettings,
    deadline: Deadline,
    continue_sweep: Callable[[dict[str, Any]], None] | None,
    config: Config,
) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """Decide whether the sweep continues; the info and the continuation payload to send.

    The payload is ``None`` when nothing is to be sent (``continuation`` then says why);
    otherwise ``continuation`` is ``"sending"`` until :func:`_send` replaces it.
    """
    info: dict[str, Any] = {
        "sweep_id": sweep_id,
        "generation": generation,
        "start_after": trigger.start_after,
        "stopped_at_deadline": deadline.hit,
        "next_start_after": checker.stopped_after if deadline.hit else None,
        "remaining": checker.remaining if deadline.hit else 0,
        "continuation": "not_needed",
    }
    if not deadline.hit:
        return info, None
    metrics.add_metric(name="SweepDeadlineStops", unit=MetricUnit.Count, value=1)
    cursor = checker.stopped_after
    if cursor is None or cursor == trigger.start_after:
        # Not one instance fitted: continuing would loop without progress.
        info["continuation"] = "no_progress"
        info["listing_stopped"] = checker.listing_stopped
        logger.error(
            "sweep stopped before checking any instance"
            + (" (while listing the instances)" if checker.listing_stopped else "")
            + "; raise the timeout or lower SWEEP_DEADLINE_MARGIN_SECONDS",
            extra={"remaining": checker.remaining},
        )
        metrics.add_metric(name="SweepContinuationsRefused", unit=MetricUnit.Count, value=1)
        return info, None
    if generation + 1 > settings.max_generations:
        info["continuation"] = "generation_limit"
        logger.warning(
            "sweep generation limit reached; the next scheduled sweep checks the rest",
            extra={"remaining": checker.remaining, "max_generations": settings.max_generations},
        )
        metrics.add_metric(name="SweepContinuationsRefused", unit=MetricUnit.Count, value=1)
        return info, None
    if continue_sweep is None:
        info["continuation"] = "unavailable"
        return info, None
    info["continuation"] = "sending"
    return info, continuation_payload(Continuation(sweep_id, generation + 1, cursor), config.region)


def _send(continue_sweep: Callable[[dict[str, Any]], None], payload: dict[str, Any]) -> str:
    """Send the continuation; ``"invoked"`` or ``"failed: <error>"``, never raises an AWS error.

    An API error (``ClientError``) and a connection or read failure (``BotoCoreError``:
    ``EndpointConnectionError``, ``ReadTimeoutError``) are logged and counted as
    ``SweepContinuationsFailed`` and the invocation returns normally: raising would make Lambda's
    asynchronous retry run the whole sweep again from the same cursor and, when the invoke did
    reach Lambda, fork the chain. The next scheduled sweep checks what is left.
    """
    try:
        continue_sweep(payload)
    except (ClientError, BotoCoreError) as exc:
        text = error_text(exc) if isinstance(exc, ClientError) else f"{type(exc).__name__}: {exc}"
        logger.error("could not invoke the sweep continuation", extra={"error": text})
        metrics.add_metric(name="SweepContinuationsFailed", unit=MetricUnit.Count, value=1)
        return f"failed: {text}"
    metrics.add_metric(name="SweepContinuations", unit=MetricUnit.Count, value=1)
    return "invoked"
