"""Export every VM's tags as JSON Lines and CSV to a blob container.

Each run writes ``<prefix>/runs/<stamp>-<run_id>.jsonl`` and ``.csv`` (never overwritten) and
then ``<prefix>/latest.jsonl`` and ``latest.csv`` (overwritten every run). A row is one VM:
``subscription_id, resource_group, vm_name, vm_id, location, os_type, power_state, tags``; in
CSV ``tags`` is a JSON object with sorted keys.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any, Protocol

from azure.storage.blob import ContentSettings

from fleetpatch_tags.arm import VmRecord

CSV_COLUMNS = (
    "subscription_id",
    "resource_group",
    "vm_name",
    "vm_id",
    "location",
    "os_type",
    "power_state",
    "tags",
)


def row(vm: VmRecord) -> dict[str, Any]:
    """One export row for ``vm`` (``tags`` as a ``{name: value}`` object)."""
    return {
        "subscription_id": vm.subscription_id,
        "resource_group": vm.resource_group,
        "vm_name": vm.name,
        "vm_id": vm.id,
        "location": vm.location,
        "os_type": vm.os_type,
        "power_state": vm.power_state,
        "tags": dict(sorted(vm.tags.items())),
    }


def to_jsonl(vms: Iterable[VmRecord]) -> bytes:
    """Render ``vms`` as UTF-8 JSON Lines, one object per VM (see :func:`row`)."""
    lines = [json.dumps(row(vm), ensure_ascii=False, sort_keys=False) for vm in vms]
    return ("\n".join(lines) + "\n" if lines else "").encode()


def to_csv(vms: Iterable[VmRecord]) -> bytes:
    """Render ``vms`` as UTF-8 CSV with a header (:data:`CSV_COLUMNS`); ``tags`` is JSON."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for vm in vms:
        data = row(vm)
        data["tags"] = json.dumps(data["tags"], ensure_ascii=False, sort_keys=True)
        writer.writerow({k: "" if v is None else v for k, v in data.items()})
    return buffer.getvalue().encode()


class BlobContainer(Protocol):
    """The part of ``azure.storage.blob.ContainerClient`` used here."""

    def upload_blob(self, name: str, data: bytes, **kwargs: Any) -> Any:
        """Upload ``data`` as blob ``name``."""


def object_names(prefix: str, run_id: str, started: datetime) -> dict[str, str]:
    """Blob names of one run: ``{"jsonl", "csv", "latest_jsonl", "latest_csv"}``."""
    stamp = started.strftime("%Y%m%dT%H%M%SZ")
    return {
        "jsonl": f"{prefix}/runs/{stamp}-{run_id}.jsonl",
        "csv": f"{prefix}/runs/{stamp}-{run_id}.csv",
        "latest_jsonl": f"{prefix}/latest.jsonl",
        "latest_csv": f"{prefix}/latest.csv",
    }


def export_tags(
    container: BlobContainer,
    vms: list[VmRecord],
    prefix: str,
    run_id: str,
    started: datetime,
) -> dict[str, Any]:
    """Upload the run's JSON Lines and CSV objects, then the ``latest`` ones.

    Calls Blob ``Put Blob`` four times (``upload_blob``): the timestamped objects with
    ``overwrite=False`` (a name clash fails instead of replacing an earlier run), the ``latest``
    objects with ``overwrite=True``, only after both timestamped objects are written.

    Returns:
        ``{"status": "written", "objects": [names], "vms": count}``.

    Raises:
        azure.core.exceptions.AzureError: an upload failed (``ResourceExistsError`` on a clash).
    """
    names = object_names(prefix, run_id, started)
    jsonl, csv_bytes = to_jsonl(vms), to_csv(vms)
    kinds = {"jsonl": "application/x-ndjson", "csv": "text/csv; charset=utf-8"}
    uploads = [
        (names["jsonl"], jsonl, kinds["jsonl"], False),
        (names["csv"], csv_bytes, kinds["csv"], False),
        (names["latest_jsonl"], jsonl, kinds["jsonl"], True),
        (names["latest_csv"], csv_bytes, kinds["csv"], True),
    ]
    for name, data, content_type, overwrite in uploads:
        container.upload_blob(
            name,
            data,
            overwrite=overwrite,
            content_settings=ContentSettings(content_type=content_type),
        )
    return {"status": "written", "objects": [u[0] for u in uploads], "vms": len(vms)}
