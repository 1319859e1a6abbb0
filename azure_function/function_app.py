"""Azure Functions app (Python v2 programming model): VM tag enforcement triggers.

- ``enforce_tags_daily``: timer trigger, schedule from the app setting
  ``TAG_ENFORCEMENT_SCHEDULE`` (NCRONTAB, e.g. ``0 0 5 * * *``); the run of today's UTC date.
  modules/azure_tag_enforcement disables it when the AWS side's schedule is the one scheduler
  (app setting ``AzureWebJobs.enforce_tags_daily.Disabled``,
  https://learn.microsoft.com/en-us/azure/azure-functions/disable-function).
- ``enforce_tags_http``: HTTP ``POST /api/enforce-tags`` with a function key (the AWS side's
  EventBridge API destination). It only queues a run and answers ``202`` at once, since the caller
  waits a few seconds at most. Body (all optional): ``{"dry_run": true}`` asks for a dry run;
  ``{"scheduled_at": "2026-01-01T05:00:00Z"}`` (the scheduled event's ``time``, the same on
  every EventBridge retry) makes it that UTC day's run, which runs once however often it is
  asked; ``{"force": true}`` runs even when the day already ran.
- ``enforce_tags_queued``: queue trigger that runs the queued request.

The logic is in ``fleetpatch_tags``; this file only adapts triggers to it.
"""

from __future__ import annotations

import json
import logging
import os
import uuid
from datetime import date, datetime, timezone

import azure.functions as func
from azure.identity import DefaultAzureCredential
from fleetpatch_tags.config import ConfigError, load_settings
from fleetpatch_tags.service import run

QUEUE_NAME = "tag-enforcement-runs"
QUEUE_CONNECTION = "AzureWebJobsStorage"
LOG = logging.getLogger("fleetpatch_tags")

app = func.FunctionApp()


def _credential() -> DefaultAzureCredential:
    # In Azure: the Function app's system-assigned managed identity (or the user-assigned one
    # named by AZURE_CLIENT_ID).
    return DefaultAzureCredential()


REQUEST_KEYS = {"dry_run", "scheduled_at", "force"}


def _run(
    dry_run: bool, run_id: str | None = None, day: date | None = None, force: bool = False
) -> None:
    settings = load_settings(os.environ)
    if dry_run:
        settings = settings.with_dry_run()
    run(settings, _credential(), run_id=run_id, day=day, force=force)


def scheduled_day(value: object) -> date | None:
    """The UTC date of an RFC 3339 time (EventBridge's event ``time``), or ``None`` for ``None``.

    Raises:
        ValueError: ``value`` is not an RFC 3339 time with a UTC offset.
    """
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError("scheduled_at must be an RFC 3339 time such as 2026-01-01T05:00:00Z")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            "scheduled_at must be an RFC 3339 time such as 2026-01-01T05:00:00Z"
        ) from None
    if parsed.tzinfo is None:
        raise ValueError("scheduled_at needs a UTC offset (e.g. Z)")
    return parsed.astimezone(timezone.utc).date()  # noqa: UP017 (3.10 runbook code style)


@app.timer_trigger(
    arg_name="timer", schedule="%TAG_ENFORCEMENT_SCHEDULE%", run_on_startup=False, use_monitor=True
)
def enforce_tags_daily(timer: func.TimerRequest) -> None:
    """Daily run. Raises on a configuration error or a run with failures (invocation fails)."""
    if timer.past_due:
        LOG.warning("tag enforcement timer is past due; running now")
    _run(dry_run=False, day=datetime.now(timezone.utc).date())  # noqa: UP017


@app.route(route="enforce-tags", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
@app.queue_output(arg_name="runs", queue_name=QUEUE_NAME, connection=QUEUE_CONNECTION)
def enforce_tags_http(req: func.HttpRequest, runs: func.Out[str]) -> func.HttpResponse:
    """Queue a run: ``202 {"run_id", "dry_run", "day", "force"}``.

    ``400`` for a bad body, ``500`` for bad settings (nothing queued).
    """
    body = req.get_body()
    try:
        request = json.loads(body) if body.strip() else {}
    except ValueError:
        return _json(400, {"error": "body must be a JSON object or empty"})
    if not isinstance(request, dict) or set(request) - REQUEST_KEYS:
        return _json(
            400,
            {"error": 'body may only hold {"dry_run": bool, "scheduled_at": time, "force": bool}'},
        )
    dry_run, force = request.get("dry_run", False), request.get("force", False)
    if not isinstance(dry_run, bool) or not isinstance(force, bool):
        return _json(400, {"error": "dry_run and force must be true or false"})
    try:
        day = scheduled_day(request.get("scheduled_at"))
    except ValueError as exc:
        return _json(400, {"error": str(exc)})
    try:
        load_settings(os.environ)  # refuse at once rather than queue a run that cannot start
    except ConfigError as exc:
        LOG.error("tag enforcement is misconfigured: %s", exc)
        return _json(500, {"error": f"tag enforcement is misconfigured: {exc}"})
    run_id = uuid.uuid4().hex[:12]
    queued = {"run_id": run_id, "dry_run": dry_run, "day": day and day.isoformat(), "force": force}
    runs.set(json.dumps(queued))
    return _json(202, queued)


@app.queue_trigger(arg_name="msg", queue_name=QUEUE_NAME, connection=QUEUE_CONNECTION)
def enforce_tags_queued(msg: func.QueueMessage) -> None:
    """Run a queued request ``{"run_id", "dry_run", "day"?, "force"?}``.

    A malformed message is dropped (logged).
    """
    try:
        request = json.loads(msg.get_body())
        run_id, dry_run = str(request["run_id"]), request["dry_run"] is True
        raw_day = request.get("day")
        day = date.fromisoformat(raw_day) if raw_day is not None else None
        force = request.get("force", False) is True
    except (ValueError, KeyError, TypeError, AttributeError):
        LOG.error("dropping malformed run request: %r", msg.get_body()[:200])
        return
    _run(dry_run=dry_run, run_id=run_id, day=day, force=force)


def _json(status: int, data: object) -> func.HttpResponse:
    return func.HttpResponse(json.dumps(data), status_code=status, mimetype="application/json")
