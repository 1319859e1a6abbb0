"""Export every VM's tags as JSON Lines and CSV to a blob container.

A run for a day (the daily scheduled run: the Function's timer, the AWS-side schedule's call, the
Automation schedule) writes ``<prefix>/days/<YYYY-MM-DD>.jsonl`` and ``.csv``, each created only if
absent (Put Blob with ``If-None-Match: *``), so one day has one export whichever scheduler fired or
however often it retried (:func:`day_exported` lets a run skip a day already exported). Other runs
(a manual HTTP call without a schedule time, ``force``, dry runs, and a scheduled run that
failed or listed only part of the VMs: it must not mark its day done) write
``<prefix>/runs/<stamp>-<run_id>.jsonl`` and ``.csv`` (never overwritten). Both then write
``<prefix>/latest.jsonl`` and ``latest.csv`` (overwritten; not by a partial listing). A row is
one VM: ``subscription_id, resource_group, vm_name, vm_id, location, os_type, power_state,
tags``; in CSV ``tags`` is a JSON object with sorted keys.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any, Protocol

from azure.core.exceptions import ResourceExistsError
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


class BlobProbe(Protocol):
    """The part of ``azure.storage.blob.BlobClient`` used here."""

    def exists(self, **kwargs: Any) -> bool:
        """Whether the blob exists (Get Blob Properties; 404 is ``False``)."""


class DayContainer(BlobContainer, Protocol):
    """A container that can also tell whether a blob exists (``ContainerClient``)."""

    def get_blob_client(self, blob: str) -> BlobProbe:
        """A client for blob ``blob`` (no request sent)."""


def object_names(
    prefix: str, run_id: str, started: datetime, day: date | None = None
) -> dict[str, str]:
    """Blob names of one run: ``{"jsonl", "csv", "latest_jsonl", "latest_csv"}``.

    With ``day`` the run's objects are the day's (``<prefix>/days/<YYYY-MM-DD>.*``), else the
    run's own (``<prefix>/runs/<UTC stamp>-<run_id>.*``).
    """
    if day is not None:
        base = f"{prefix}/days/{day.isoformat()}"
    else:
        base = f"{prefix}/runs/{started.strftime('%Y%m%dT%H%M%SZ')}-{run_id}"
    return {
        "jsonl": f"{base}.jsonl",
        "csv": f"{base}.csv",
        "latest_jsonl": f"{prefix}/latest.jsonl",
        "latest_csv": f"{prefix}/latest.csv",
    }


def day_exported(container: DayContainer, prefix: str, day: date) -> bool:
    """Whether ``day``'s export exists (its JSON Lines object, written first).

    Calls Blob ``Get Blob Properties`` once (``BlobClient.exists``: 404 means absent).

    Raises:
        azure.core.exceptions.AzureError: the request failed (other than 404).
    """
    name = object_names(prefix, "", datetime.min, day)["jsonl"]
    return bool(container.get_blob_client(name).exists())


def export_tags(
    container: BlobContainer,
    vms: list[VmRecord],
    prefix: str,
    run_id: str,
    started: datetime,
    *,
    day: date | None = None,
    latest: bool = True,
) -> dict[str, Any]:
    """Upload the run's JSON Lines and CSV objects, then the ``latest`` ones (if ``latest``).

    ``day`` is given only for a run that is wholly ok (its export marks the day done);
    ``latest=False`` for a partial inventory (a subscription listing failed), which must not
    replace the last complete one.

    Calls Blob ``Put Blob`` up to four times (``upload_blob``): the run's (or ``day``'s) objects
    with ``overwrite=False`` (``If-None-Match: *``: a name clash fails instead of replacing an
    earlier export), the ``latest`` objects with ``overwrite=True``, only after both are written.

    Returns:
        ``{"status": "written", "objects": [names], "vms": count}``; for a ``day`` whose JSON
        Lines object another run already wrote (``409 BlobAlreadyExists``):
        ``{"status": "exists", "objects": [], "vms": count, "day": "YYYY-MM-DD"}``, nothing
        written (that run's export stands; ``latest`` is left to it).

    Raises:
        azure.core.exceptions.AzureError: an upload failed (``ResourceExistsError`` on a clash of
            a run's own objects, or of a day's CSV after its JSON Lines object was written).
    """
    names = object_names(prefix, run_id, started, day)
    jsonl, csv_bytes = to_jsonl(vms), to_csv(vms)
    kinds = {"jsonl": "application/x-ndjson", "csv": "text/csv; charset=utf-8"}
    uploads = [
        (names["jsonl"], jsonl, kinds["jsonl"], False),
        (names["csv"], csv_bytes, kinds["csv"], False),
    ]
    if latest:
        uploads += [
            (names["latest_jsonl"], jsonl, kinds["jsonl"], True),
            (names["latest_csv"], csv_bytes, kinds["csv"], True),
        ]
    for index, (name, data, content_type, overwrite) in enumerate(uploads):
        try:
            container.upload_blob(
                name,
                data,
                overwrite=overwrite,
                content_settings=ContentSettings(content_type=content_type),
            )
        except ResourceExistsError:
            if day is None or index != 0:
                raise
            # A concurrent run of the same day wrote its export first: it stands.
            return {"status": "exists", "objects": [], "vms": len(vms), "day": day.isoformat()}
    result: dict[str, Any] = {"status": "written", "objects": [u[0] for u in uploads]}
    result["vms"] = len(vms)
    if day is not None:
        result["day"] = day.isoformat()
    return result
