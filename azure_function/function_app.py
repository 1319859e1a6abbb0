"""Azure Functions app (Python v2 programming model): VM tag enforcement triggers.

- ``enforce_tags_daily``: timer trigger, schedule from the app setting
  ``TAG_ENFORCEMENT_SCHEDULE`` (NCRONTAB, e.g. ``0 0 5 * * *``).
- ``enforce_tags_http``: HTTP ``POST /api/enforce-tags`` with a function key (the AWS side's
  EventBridge API destination). It only queues a run and answers ``202`` at once, since the caller
  waits a few seconds at most; body ``{"dry_run": true}`` (optional) asks for a dry run.
- ``enforce_tags_queued``: queue trigger that runs the queued request.

The logic is in ``fleetpatch_tags``; this file only adapts triggers to it.
"""

from __future__ import annotations

import json
import logging
import os
import uuid

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


def _run(dry_run: bool, run_id: str | None = None) -> None:
    settings = load_settings(os.environ)
    if dry_run:
        settings = settings.with_dry_run()
    run(settings, _credential(), run_id=run_id)


@app.timer_trigger(
    arg_name="timer", schedule="%TAG_ENFORCEMENT_SCHEDULE%", run_on_startup=False, use_monitor=True
)
def enforce_tags_daily(timer: func.TimerRequest) -> None:
    """Daily run. Raises on a configuration error or a run with failures (invocation fails)."""
    if timer.past_due:
        LOG.warning("tag enforcement timer is past due; running now")
    _run(dry_run=False)


@app.route(route="enforce-tags", methods=["POST"], auth_level=func.AuthLevel.FUNCTION)
@app.queue_output(arg_name="runs", queue_name=QUEUE_NAME, connection=QUEUE_CONNECTION)
def enforce_tags_http(req: func.HttpRequest, runs: func.Out[str]) -> func.HttpResponse:
    """Queue a run. ``202 {"run_id", "dry_run"}``; ``400`` for a bad body or bad settings."""
    body = req.get_body()
    try:
        request = json.loads(body) if body.strip() else {}
    except ValueError:
        return _json(400, {"error": "body must be a JSON object or empty"})
    if not isinstance(request, dict) or set(request) - {"dry_run"}:
        return _json(400, {"error": 'body may only hold {"dry_run": true|false}'})
    dry_run = request.get("dry_run", False)
    if not isinstance(dry_run, bool):
        return _json(400, {"error": "dry_run must be true or false"})
    try:
        load_settings(os.environ)  # refuse at once rather than queue a run that cannot start
    except ConfigError as exc:
        LOG.error("tag enforcement is misconfigured: %s", exc)
        return _json(500, {"error": f"tag enforcement is misconfigured: {exc}"})
    run_id = uuid.uuid4().hex[:12]
    runs.set(json.dumps({"run_id": run_id, "dry_run": dry_run}))
    return _json(202, {"run_id": run_id, "dry_run": dry_run})


@app.queue_trigger(arg_name="msg", queue_name=QUEUE_NAME, connection=QUEUE_CONNECTION)
def enforce_tags_queued(msg: func.QueueMessage) -> None:
    """Run a queued request ``{"run_id", "dry_run"}``; a malformed message is dropped (logged)."""
    try:
        request = json.loads(msg.get_body())
        run_id, dry_run = str(request["run_id"]), request["dry_run"] is True
    except (ValueError, KeyError, TypeError):
        LOG.error("dropping malformed run request: %r", msg.get_body()[:200])
        return
    _run(dry_run=dry_run, run_id=run_id)


def _json(status: int, data: object) -> func.HttpResponse:
    return func.HttpResponse(json.dumps(data), status_code=status, mimetype="application/json")
