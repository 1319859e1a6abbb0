"""Read a Resource Data Sync dataset from a local folder or from S3, and pack it for DuckDB.

Resource Data Sync writes one small object per managed node and type; at 50,000 nodes that is
about 300,000 objects, and opening each from DuckDB costs more than the query itself. So the
report reads every object once (a folder walk, or S3 ``ListObjectsV2`` + ``GetObject``) and
appends its records to one newline-delimited JSON file per type, with the partition values
(``accountid``, ``region``, ``resourcetype``, taken from the object key exactly as Athena's
partition projection does) added to each record. DuckDB then reads one file per type.

S3 is read with boto3, which honours ``AWS_ENDPOINT_URL`` (the embedded emulator) and the usual
credential chain. DuckDB's own ``s3://`` support (the ``httpfs`` extension) is not used: it is
downloaded on first use, which is impossible offline.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import BotoCoreError, ClientError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

KEY_RE = re.compile(
    r"^(?P<type>AWS:[A-Za-z]+)/accountid=(?P<accountid>[^/]+)/region=(?P<region>[^/]+)/"
    r"resourcetype=(?P<resourcetype>[^/]+)/[^/]+\.json$"
)
S3_URL_RE = re.compile(r"^s3://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:/(?P<prefix>.*))?$")


class SourceError(Exception):
    """The dataset cannot be read (message says why and what to check)."""


@dataclass(frozen=True)
class SyncObject:
    """One Resource Data Sync object: its type, partition values and raw NDJSON body."""

    type_name: str
    accountid: str
    region: str
    resourcetype: str
    body: bytes


@dataclass(frozen=True)
class Packed:
    """One packed type: NDJSON ``paths`` holding ``objects`` source objects, ``records`` lines."""

    type_name: str
    paths: tuple[Path, ...]
    objects: int
    records: int


def parse_s3_url(url: str) -> tuple[str, str]:
    """Split ``s3://bucket/prefix`` into ``(bucket, prefix)`` (prefix without slashes at ends).

    Raises:
        SourceError: not an ``s3://`` URL with a valid bucket name.
    """
    match = S3_URL_RE.match(url)
    if not match:
        raise SourceError(f"not an s3://bucket[/prefix] URL: {url!r}")
    return match.group("bucket"), (match.group("prefix") or "").strip("/")


def check_local(folder: Path) -> None:
    """Check that ``folder`` is a Resource Data Sync destination (the prefix folder).

    Raises:
        SourceError: ``folder`` is not a folder, or holds no ``AWS:InstanceInformation``
            folder (the message names a sub-folder that does, when the prefix was left out).
    """
    if not folder.is_dir():
        raise SourceError(f"{folder} is not a folder")
    if not (folder / "AWS:InstanceInformation").is_dir():
        hints = sorted(
            str(p.parent.relative_to(folder)) for p in folder.glob("*/AWS:InstanceInformation")
        )
        hint = f"; did you mean {folder / hints[0]}?" if hints else ""
        raise SourceError(
            f"{folder} has no AWS:InstanceInformation folder: it is not a Resource Data Sync "
            f"destination (bucket/prefix){hint}"
        )


def _leaves(folder: Path, type_names: Iterable[str]) -> list[tuple[str, str, str, str, str]]:
    """``(type, accountid, region, resourcetype, folder path)`` of every leaf folder."""
    found = []
    for type_name in type_names:
        base = folder / type_name
        if not base.is_dir():
            continue
        for account in _dirs(base, "accountid="):
            for region in _dirs(Path(account.path), "region="):
                for rtype in _dirs(Path(region.path), "resourcetype="):
                    found.append(
                        (
                            type_name,
                            account.name.partition("=")[2],
                            region.name.partition("=")[2],
                            rtype.name.partition("=")[2],
                            rtype.path,
                        )
                    )
    return found


def _iter_leaves(leaves: Iterable[tuple[str, str, str, str, str]]) -> Iterator[SyncObject]:
    for type_name, account, region, rtype, path in leaves:
        for entry in os.scandir(path):
            if entry.is_file() and entry.name.endswith(".json"):
                with open(entry.path, "rb") as fh:
                    body = fh.read()
                yield SyncObject(type_name, account, region, rtype, body)


def iter_local(folder: Path, type_names: Iterable[str]) -> Iterator[SyncObject]:
    """Yield the objects of ``type_names`` under ``folder`` (the sync's prefix folder).

    Files whose path does not follow ``<type>/accountid=/region=/resourcetype=/<id>.json`` are
    skipped.

    Raises:
        SourceError: see :func:`check_local`.
    """
    check_local(folder)
    yield from _iter_leaves(_leaves(folder, type_names))


def _tidy(blob: bytes, lines: int) -> bool:
    """True when every line of ``blob`` (newline-terminated) is a compact, non-empty record."""
    return blob.startswith(b"{") and blob.count(b"\n{") == lines - 1 and b"{}" not in blob


def _pack_worker(
    leaves: list[tuple[str, str, str, str, str]], out_dir: str, suffix: str
) -> dict[str, tuple[tuple[Path, ...], int, int]]:
    """Pack the objects of ``leaves`` (the hot loop: one read per object, one pass per leaf)."""
    out: dict[str, tuple[tuple[Path, ...], int, int]] = {}
    for index, (type_name, account, region, rtype, path) in enumerate(leaves):
        target = Path(out_dir) / (type_name.replace(":", "_") + suffix + ".ndjson")
        head = b'{"_accountid":"%s","_region":"%s","_resourcetype":"%s",' % (
            account.encode(),
            region.encode(),
            rtype.encode(),
        )
        newline_head = b"\n" + head
        bodies: list[bytes] = []
        for entry in os.scandir(path):
            if not entry.name.endswith(".json"):
                continue
            with open(entry.path, "rb") as fh:
                body = fh.read()
            bodies.append(body if body.endswith(b"\n") else body + b"\n")
        objects = len(bodies)
        blob = b"".join(bodies)
        lines = blob.count(b"\n")
        slow: list[bytes] = []
        if not blob or _tidy(blob, lines):
            # What the sync writes: every line a compact record. One pass over the whole leaf.
            records = lines
            chunk = head + blob[1:].replace(b"\n{", newline_head) if blob else b""
        else:
            # Something untidy (blank lines, indentation, empty records): object by object.
            records = 0
            parts = []
            for body in bodies:
                count = body.count(b"\n")
                if _tidy(body, count):
                    parts.append(head + body[1:].replace(b"\n{", newline_head))
                    records += count
                else:
                    slow.append(body)
            chunk = b"".join(parts)
        del bodies, blob
        with open(target, "ab") as fh:
            fh.write(chunk)
        if slow:
            more = pack(
                (SyncObject(type_name, account, region, rtype, b) for b in slow),
                Path(out_dir),
                suffix=f"{suffix}.slow{index}",
            )
            records += sum(p.records for p in more.values())
            extra = more[type_name].paths
        else:
            extra = ()
        old_paths, old_objects, old_records = out.get(type_name, ((), 0, 0))
        paths = old_paths if target in old_paths else (*old_paths, target)
        paths += tuple(e for e in extra if e not in paths)
        out[type_name] = (paths, old_objects + objects, old_records + records)
    return out


def pack_local(
    folder: Path, type_names: Iterable[str], out_dir: Path, *, workers: int | None = None
) -> dict[str, Packed]:
    """Pack a local dataset like :func:`pack`, reading with ``workers`` processes.

    Reading hundreds of thousands of small files is system-call bound; the leaf folders are
    shared out round-robin between processes (default: one per CPU), each writing its own
    NDJSON file per type.

    Raises:
        SourceError: see :func:`check_local`.
        OSError: a file cannot be read or ``out_dir`` written.
    """
    check_local(folder)
    out_dir.mkdir(parents=True, exist_ok=True)
    leaves = _leaves(folder, type_names)
    count = max(1, min(workers or os.cpu_count() or 1, len(leaves)))
    shares = [leaves[i::count] for i in range(count)]
    if count == 1:
        parts = [_pack_worker(leaves, str(out_dir), ".0")]
    else:
        with ProcessPoolExecutor(max_workers=count) as pool:
            parts = list(
                pool.map(
                    _pack_worker, shares, [str(out_dir)] * count, [f".{i}" for i in range(count)]
                )
            )
    merged: dict[str, Packed] = {}
    for part in parts:
        for name, (paths, objects, records) in part.items():
            old = merged.get(name)
            merged[name] = (
                Packed(name, old.paths + paths, old.objects + objects, old.records + records)
                if old
                else Packed(name, paths, objects, records)
            )
    return merged


def _dirs(path: Path, prefix: str) -> list[os.DirEntry[str]]:
    return sorted(
        (e for e in os.scandir(path) if e.is_dir() and e.name.startswith(prefix)),
        key=lambda e: e.name,
    )


def iter_s3(
    url: str,
    type_names: Iterable[str],
    *,
    client: S3Client | None = None,
    workers: int = 16,
) -> Iterator[SyncObject]:
    """Yield the objects of ``type_names`` under ``s3://bucket/prefix``.

    Calls S3 ``ListObjectsV2`` (paginated, one listing per type) and ``GetObject`` (``workers``
    threads). The default client is ``boto3.client("s3")``, which honours ``AWS_ENDPOINT_URL``.

    Raises:
        SourceError: bad URL; the bucket does not exist (``NoSuchBucket``); access denied
            (``AccessDenied``, ``AllAccessDisabled``); no ``AWS:InstanceInformation`` object
            under the prefix.
    """
    bucket, prefix = parse_s3_url(url)
    if client is None:
        client = boto3.client("s3")
    base = f"{prefix}/" if prefix else ""
    keys: list[str] = []
    try:
        for type_name in type_names:
            paginator = client.get_paginator("list_objects_v2")
            for page in paginator.paginate(Bucket=bucket, Prefix=f"{base}{type_name}/"):
                keys.extend(o["Key"] for o in page.get("Contents", []) if "Key" in o)
    except ClientError as exc:
        raise _s3_error(exc, url) from exc
    except BotoCoreError as exc:  # no credentials, endpoint unreachable, ...
        raise SourceError(f"cannot list {url}: {exc}") from exc
    if not any(k[len(base) :].startswith("AWS:InstanceInformation/") for k in keys):
        raise SourceError(
            f"{url} holds no AWS:InstanceInformation/ objects: is the prefix the one of the "
            "Resource Data Sync (S3Destination Prefix)?"
        )

    def fetch(key: str) -> SyncObject | None:
        match = KEY_RE.match(key[len(base) :])
        if not match:
            return None
        try:
            body = client.get_object(Bucket=bucket, Key=key)["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "NoSuchKey":
                return None  # deleted between listing and reading
            raise _s3_error(exc, url) from exc
        except BotoCoreError as exc:
            raise SourceError(f"cannot read s3://{bucket}/{key}: {exc}") from exc
        return SyncObject(
            match["type"], match["accountid"], match["region"], match["resourcetype"], body
        )

    with ThreadPoolExecutor(max_workers=workers) as pool:
        # In batches, so at most one batch of bodies waits in memory for the consumer.
        for start in range(0, len(keys), 2000):
            for obj in pool.map(fetch, keys[start : start + 2000]):
                if obj is not None:
                    yield obj


def _s3_error(exc: ClientError, url: str) -> SourceError:
    code = exc.response.get("Error", {}).get("Code", "")
    if code == "NoSuchBucket":
        return SourceError(f"{url}: the bucket does not exist")
    if code in ("AccessDenied", "AllAccessDisabled", "403"):
        return SourceError(
            f"{url}: access denied (needs s3:ListBucket, s3:GetObject and kms:Decrypt)"
        )
    return SourceError(f"{url}: S3 error {code}: {exc}")


def pack(objects: Iterable[SyncObject], out_dir: Path, *, suffix: str = "") -> dict[str, Packed]:
    """Append every object's records to ``out_dir/<type><suffix>.ndjson`` with its partitions.

    Each record line ``{...}`` becomes ``{"_accountid":..,"_region":..,"_resourcetype":..,...}``
    (underscored: DuckDB matches JSON keys case-insensitively here, so a plain
    ``resourcetype`` would collide with the sync's own ``ResourceType`` key of
    ``AWS:InstanceInformation``). Blank lines are dropped.

    Returns:
        ``{type name: Packed}`` for every type that had at least one object.

    Raises:
        OSError: ``out_dir`` cannot be written.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    handles: dict[str, Any] = {}
    counts: dict[str, list[int]] = {}
    try:
        for obj in objects:
            fh = handles.get(obj.type_name)
            if fh is None:
                path = out_dir / (obj.type_name.replace(":", "_") + suffix + ".ndjson")
                fh = handles[obj.type_name] = open(path, "wb")  # noqa: SIM115
                counts[obj.type_name] = [0, 0]
            head = b'{"_accountid":"%s","_region":"%s","_resourcetype":"%s",' % (
                obj.accountid.encode(),
                obj.region.encode(),
                obj.resourcetype.encode(),
            )
            body = obj.body
            if body.startswith(b"{") and b"\n\n" not in body and b"{}" not in body:
                # Fast path (what the sync writes): one compact record per line.
                if not body.endswith(b"\n"):
                    body += b"\n"
                fh.write(head + body[1:-1].replace(b"\n{", b"\n" + head) + b"\n")
                records = body.count(b"\n")
            else:
                records = 0
                for line in body.split(b"\n"):
                    stripped = line.strip()
                    if not stripped:
                        continue
                    records += 1
                    if stripped == b"{}":
                        fh.write(head[:-1] + b"}\n")
                    else:
                        fh.write(head + stripped[1:] + b"\n")
            counts[obj.type_name][0] += 1
            counts[obj.type_name][1] += records
    finally:
        for fh in handles.values():
            fh.close()
    return {
        name: Packed(name, (out_dir / (name.replace(":", "_") + suffix + ".ndjson"),), c[0], c[1])
        for name, c in counts.items()
    }


def upload_folder(
    folder: Path, bucket: str, prefix: str = "", *, client: S3Client | None = None
) -> int:
    """Upload a generated dataset (``folder`` = the prefix folder) to ``s3://bucket/prefix``.

    For ``make demo``: puts every ``*.json`` under ``folder`` with S3 ``PutObject``, keys
    relative to ``folder`` under ``prefix``. Returns the number of objects uploaded.

    Raises:
        SourceError: the bucket does not exist or access is denied.
    """
    if client is None:
        client = boto3.client("s3")
    base = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
    files = sorted(p for p in folder.rglob("*.json") if p.is_file())

    def put(path: Path) -> None:
        key = base + path.relative_to(folder).as_posix()
        try:
            client.put_object(Bucket=bucket, Key=key, Body=path.read_bytes())
        except ClientError as exc:
            raise _s3_error(exc, f"s3://{bucket}/{base}") from exc

    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(put, files))
    return len(files)
