"""A whole run from settings: enforce, export, log one summary. Shared by both entry points.

The Function app (``function_app.py``) and the Automation runbook (``runbook/enforce_vm_tags.py``)
only differ in where settings and the credential come from; both call :func:`run`.

One run a day: a scheduled run passes its ``day`` (the UTC date it was scheduled for). Only a run
that is wholly ok (every VM, every subscription listing and the SSM reconciler) writes the day's
export; a failed or partial run exports under its own name and leaves the day open, so a retry of
the day (queue redelivery, EventBridge retry, a runbook re-run) runs again. A day whose
export already exists is skipped (nothing listed, merged or written), so a second scheduler, an
EventBridge retry of the same event or a re-run of the runbook the same day does nothing; two runs
racing on one day both merge only missing tags (a merge of tags already present changes nothing)
and only the first export of the day is kept (Put Blob ``If-None-Match: *``). ``force`` (or a dry
run) ignores the day and exports under the run's own name.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Mapping
from datetime import date, datetime, timezone
from typing import Any, cast

from azure.core.credentials import TokenCredential
from azure.core.exceptions import AzureError
from azure.storage.blob import BlobServiceClient

from fleetpatch_tags.arm import ArmClients, build_clients
from fleetpatch_tags.config import Settings, load_settings
from fleetpatch_tags.enforce import RunSummary, enforce
from fleetpatch_tags.export import BlobContainer, DayContainer, day_exported, export_tags
from fleetpatch_tags.reconcile import add_ssm_sync

LOG = logging.getLogger("fleetpatch_tags")
# VM ids listed per outcome in the logged summary (Application Insights cuts long messages).
LOGGED_ITEMS = 100


class RunFailed(RuntimeError):
    """The run finished but something failed (a VM, a listing or the export); see the summary."""

    def __init__(self, summary: dict[str, Any]) -> None:
        super().__init__(
            f"tag enforcement run {summary['run_id']} finished with failures: "
            f"{len(summary['failed'])} VM(s) failed, "
            f"{len(summary['subscription_errors'])} subscription listing(s) failed, "
            f"export {summary['export'].get('status')}"
        )
        self.summary = summary


def blob_container(settings: Settings, credential: TokenCredential) -> BlobContainer | None:
    """The export ``ContainerClient`` (no request sent), or ``None`` when export is off."""
    if settings.export_account_url is None or settings.export_container is None:
        return None
    service = BlobServiceClient(settings.export_account_url, credential=credential)
    container: BlobContainer = service.get_container_client(settings.export_container)
    return container


def run(
    settings: Settings,
    credential: TokenCredential,
    *,
    clients_for: Callable[[str], ArmClients] | None = None,
    container: BlobContainer | None = None,
    now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),  # noqa: UP017 (3.10 runbook)
    run_id: str | None = None,
    day: date | None = None,
    force: bool = False,
) -> dict[str, Any]:
    """Run tag enforcement and the export once; log and return the summary.

    Args:
        settings: validated settings (:func:`fleetpatch_tags.config.load_settings`).
        credential: token credential for Resource Manager and Blob storage.
        clients_for: subscription -> clients; default builds the SDK clients with ``credential``.
        container: export container; default from the settings (``None`` when export is off).
        now: current UTC time (export object names).
        run_id: run identifier; default a random 12-hex-digit id.
        day: the UTC date a scheduled run is for; ``None`` for an unscheduled run. Ignored by dry
            runs, by ``force`` and when export is off (there is no record of the day then).
        force: run even when ``day`` was already exported (its export is then the run's own).

    Returns:
        The summary (:meth:`RunSummary.as_dict`), also logged as one JSON line at INFO level
        (with at most :data:`LOGGED_ITEMS` VM ids per list). A skipped day returns (and logs)
        ``{"run_id", "day_done": True, "day": "YYYY-MM-DD", "reason"}``. A run for ``day`` that
        is not wholly ok (a VM, a subscription listing or the SSM reconciler failed) exports
        under its own ``runs/`` name with ``export["day_open"] = "YYYY-MM-DD"``: the day is not
        marked done, so the next trigger of the day (queue redelivery, EventBridge retry,
        runbook re-run) runs it again. ``latest`` is not replaced when a listing failed.
        Calls Blob Get Blob Properties (``day`` only), Compute List All, the Tags merge PATCH
        and Blob Put Blob.

    Raises:
        RunFailed: the run completed but a VM, a listing or the export failed
            (``exc.summary`` is the summary).
    """
    started = now()
    rid = run_id or uuid.uuid4().hex[:12]
    factory = clients_for or (lambda sub: build_clients(credential, sub, settings))
    target = container if container is not None else blob_container(settings, credential)
    if settings.dry_run or force or target is None:
        day = None
    if day is not None and target is not None:
        try:
            done = day_exported(cast(DayContainer, target), settings.export_prefix, day)
        except AzureError as exc:
            # Run anyway: the day's export is still created only if absent (If-None-Match).
            LOG.warning("could not tell whether %s was exported: %s", day, exc)
            done = False
        if done:
            skipped = {
                "run_id": rid,
                "day_done": True,
                "day": day.isoformat(),
                "reason": "this day's export exists: the day's run already happened",
            }
            LOG.info("tag enforcement summary %s", json.dumps(skipped, sort_keys=True))
            return skipped
    summary: RunSummary = enforce(settings, factory, rid)
    # The SSM tag reconciler (NODES-PY): mirrors the patch-group tag onto the mi- nodes. It runs
    # before the export: the day is recorded only when the whole run (tags and nodes) is ok.
    sync_full: dict[str, Any] = {}
    sync_logged: dict[str, Any] = {}
    synced = add_ssm_sync(
        sync_full, sync_logged, settings, credential, summary.results, rid, LOGGED_ITEMS
    )
    # A failed or partial run (a VM, a subscription listing or the reconciler failed) exports
    # under its own name: the day stays open and the next trigger of the day runs it again.
    day_complete = summary.ok and synced
    if target is not None:
        try:
            vms = [r.vm for r in summary.results]
            summary.export = export_tags(
                target,
                vms,
                settings.export_prefix,
                rid,
                started,
                day=day if day_complete else None,
                # ``latest`` is a whole inventory: not replaced by a partial listing.
                latest=not summary.subscription_errors,
            )
        except AzureError as exc:
            message = getattr(exc, "message", None) or str(exc)
            LOG.error("tag export failed: %s", message)
            summary.export = {"status": "failed", "error": message}
        if day is not None and not day_complete:
            summary.export["day_open"] = day.isoformat()
    data = {**summary.as_dict(), **sync_full}
    logged = {**summary.as_dict(max_items=LOGGED_ITEMS), **sync_logged}
    LOG.info("tag enforcement summary %s", json.dumps(logged, sort_keys=True))
    if not summary.ok or not synced:
        raise RunFailed(data)
    return data


def run_from_env(
    env: Mapping[str, str], credential: TokenCredential, *, dry_run: bool = False
) -> dict[str, Any]:
    """Load the settings from ``env`` and :func:`run`; ``dry_run=True`` forces a dry run.

    Raises:
        fleetpatch_tags.config.ConfigError: a setting is invalid (before any Azure call).
        RunFailed: as :func:`run`.
    """
    settings = load_settings(env)
    if dry_run:
        settings = settings.with_dry_run()
    return run(settings, credential)
