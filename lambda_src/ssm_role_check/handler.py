"""Lambda entry point: parse the event, build the clients, run the check, log one summary.

Environment: see :func:`.config.load_config`, plus the Powertools variables
(``POWERTOOLS_SERVICE_NAME``, ``POWERTOOLS_METRICS_NAMESPACE``, ``POWERTOOLS_LOG_LEVEL``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import boto3
from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.utils import copy_config_to_registered_loggers
from aws_lambda_powertools.metrics import MetricUnit
from botocore.config import Config as BotoConfig

from .checker import RoleChecker
from .config import ConfigError, load_config
from .events import EventError, parse_event
from .summary import Outcome, Summary

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
            EventBridge ``Scheduled Event`` (sweep of the Region) or ``{"instance_ids": [...]}``.
        context: the Lambda context.

    Returns:
        The summary (see :meth:`.summary.Summary.to_dict`); for an unrecognised event
        ``status`` is ``"error"`` and ``error`` says why, and no AWS call was made.

    Raises:
        ConfigError: the environment variables are invalid (nothing is called).
        botocore.exceptions.ClientError: listing the instances failed (nothing was changed).
    """
    try:
        config = load_config(os.environ)
    except ConfigError as exc:
        logger.error("invalid configuration", extra={"error": str(exc)})
        metrics.add_metric(name="ConfigErrors", unit=MetricUnit.Count, value=1)
        raise
    try:
        trigger = parse_event(event, config.region)
    except EventError as exc:
        logger.error("rejected event", extra={"error": str(exc)})
        metrics.add_metric(name="InvalidEvents", unit=MetricUnit.Count, value=1)
        summary = Summary(trigger=None, dry_run=config.dry_run, error=str(exc))
        return summary.to_dict()
    logger.append_keys(trigger=trigger.kind, event_id=trigger.event_id, dry_run=config.dry_run)
    counter = CallCounter()
    ec2, iam = build_clients(config.region, counter)
    summary = RoleChecker(ec2, iam, config).run(trigger)
    summary.api_calls = counter.calls
    record_metrics(summary)
    result = summary.to_dict()
    logger.info("role check summary", extra={"summary": summary.to_dict(max_ids=LOG_MAX_IDS)})
    return result
