"""A whole run from settings: enforce, export, log one summary. Shared by both entry points.

The Function app (``function_app.py``) and the Automation runbook (``runbook/enforce_vm_tags.py``)
only differ in where settings and the credential come from; both call :func:`run`.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any

from azure.core.credentials import TokenCredential
from azure.core.exceptions import AzureError
from azure.storage.blob import BlobServiceClient

from fleetpatch_tags.arm import ArmClients, build_clients
from fleetpatch_tags.config import Settings, load_settings
from fleetpatch_tags.enforce import RunSummary, enforce
from fleetpatch_tags.export import BlobContainer, export_tags

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
) -> dict[str, Any]:
    """Run tag enforcement and the export once; log and return the summary.

    Args:
        settings: validated settings (:func:`fleetpatch_tags.config.load_settings`).
        credential: token credential for Resource Manager and Blob storage.
        clients_for: subscription -> clients; default builds the SDK clients with ``credential``.
        container: export container; default from the settings (``None`` when export is off).
        now: current UTC time (export object names).
        run_id: run identifier; default a random 12-hex-digit id.

    Returns:
        The summary (:meth:`RunSummary.as_dict`), also logged as one JSON line at INFO level
        (with at most :data:`LOGGED_ITEMS` VM ids per list).
        Calls Compute List All, the Tags merge PATCH and Blob Put Blob.

    Raises:
        RunFailed: the run completed but a VM, a listing or the export failed
            (``exc.summary`` is the summary).
    """
    started = now()
    rid = run_id or uuid.uuid4().hex[:12]
    factory = clients_for or (lambda sub: build_clients(credential, sub, settings))
    summary: RunSummary = enforce(settings, factory, rid)
    target = container if container is not None else blob_container(settings, credential)
    if target is not None:
        try:
            summary.export = export_tags(
                target, [r.vm for r in summary.results], settings.export_prefix, rid, started
            )
        except AzureError as exc:
            message = getattr(exc, "message", None) or str(exc)
            LOG.error("tag export failed: %s", message)
            summary.export = {"status": "failed", "error": message}
    data = summary.as_dict()
    logged = summary.as_dict(max_items=LOGGED_ITEMS)
    LOG.info("tag enforcement summary %s", json.dumps(logged, sort_keys=True))
    if not summary.ok:
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
