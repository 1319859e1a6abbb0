"""Read a Resource Data Sync dataset from a local folder or from S3, and pack it for DuckDB.

Resource Data Sync writes one small object per managed node and type; at 50,000 nodes that is
about 300,000 objects, and opening each from DuckDB costs more than the query itself. So the
report reads every object once (a folder walk, or S3 ``ListObjectsV2`` + ``GetObject``) and
appends its records to one newline-delimited JSON file per type, with the partition values
(``accountid``, ``region``, ``resourcetype``, taken from the object key exactly as Athena's
partition projection does) added to each record. DuckDB then reads one file per type.

Layout (modules/central_reporting README "Who can write where"): every account's sync writes
under its own top-level folder, the only one the bucket policy lets it write::

    <prefix>/<account id>/AWS:<Type>/accountid=<account id>/region=<region>/
        resourcetype=<resourcetype>/<node id>.json

The Glue tables read partition ``accountid=X`` only under folder ``X`` (``${accountid}`` twice
in the location template); so does this reader. An object under folder ``A`` filed as
``accountid=B`` is one Athena never reads: it is left out and counted in a warning
(:class:`Warnings`). The layout before per-account folders (``<prefix>/AWS:<Type>/accountid=...``,
where any account could write into any partition) is not read: alone it is an error naming the
migration, next to the new layout its folders are ignored with a warning.

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
    r"^(?P<folder>[0-9]{12})/(?P<type>AWS:[A-Za-z]+)/accountid=(?P<accountid>[^/]+)/"
    r"region=(?P<region>[^/]+)/resourcetype=(?P<resourcetype>[^/]+)/[^/]+\.json$"
)
ACCOUNT_FOLDER_RE = re.compile(r"^[0-9]{12}$")
# Any object under <account folder>/<type>/accountid=<value>/, however deep (forgery check).
PARTITION_RE = re.compile(
    r"^(?P<folder>[0-9]{12})/AWS:[A-Za-z]+/accountid=(?P<accountid>[^/]+)/.*\.json$"
)
MIGRATION = (
    'modules/central_reporting README, "Migration: per-account folders": apply the modules '
    "(each sync rewrites its data under <prefix>/<account id>/), then delete the old "
    "<prefix>/AWS:* folders"
)
S3_URL_RE = re.compile(r"^s3://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:/(?P<prefix>.*))?$")


class SourceError(Exception):
    """The dataset cannot be read (message says why and what to check)."""


class Warnings(list[str]):
    """What a read left out and why, one line each (the report prints and shows them)."""

    def forged(self, folder: str, accountids: dict[str, int]) -> None:
        """Objects under account folder ``folder`` filed as other accounts' partitions."""
        for accountid, count in sorted(accountids.items()):
            self.append(
                f"ignored {count} object(s) under account folder {folder}/ filed as "
                f"accountid={accountid}: only account {accountid}'s own folder is read for it "
                "(what the Athena tables read too); an account's sync wrote outside its partition"
            )

    def legacy(self, folders: Iterable[str]) -> None:
        """Folders of the layout before per-account folders, next to the new layout."""
        names = sorted(folders)
        if names:
            self.append(
                f"ignored the old-layout folders {', '.join(n + '/' for n in names)} "
                f"(no account folder; not read by the Athena tables either): {MIGRATION}"
            )


def _legacy_error(where: str) -> SourceError:
    return SourceError(
        f"{where} holds the Resource Data Sync layout before per-account folders "
        f"(<prefix>/AWS:<Type>/accountid=<id>/...), in which an account could write another "
        f"account's partition; it is no longer read. {MIGRATION}"
    )


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


def account_folders(folder: Path) -> list[str]:
    """The account folders (12-digit names) of a local destination ``folder``, sorted."""
    return sorted(
        e.name for e in os.scandir(folder) if e.is_dir() and ACCOUNT_FOLDER_RE.match(e.name)
    )


def check_local(folder: Path) -> None:
    """Check that ``folder`` is a Resource Data Sync destination (the prefix folder).

    Raises:
        SourceError: ``folder`` is not a folder; it holds only the layout before per-account
            folders (the message names the migration); or no ``<account id>/
            AWS:InstanceInformation`` folder (the message names a sub-folder that has one,
            when the prefix was left out).
    """
    if not folder.is_dir():
        raise SourceError(f"{folder} is not a folder")
    if any((folder / a / "AWS:InstanceInformation").is_dir() for a in account_folders(folder)):
        return
    if (folder / "AWS:InstanceInformation").is_dir():
        raise _legacy_error(str(folder))
    hints = sorted(
        str(p.parent.parent.relative_to(folder))
        for p in folder.glob("*/*/AWS:InstanceInformation")
        if ACCOUNT_FOLDER_RE.match(p.parent.name)
    )
    hint = f"; did you mean {folder / hints[0]}?" if hints else ""
    raise SourceError(
        f"{folder} has no <account id>/AWS:InstanceInformation folder: it is not a Resource "
        f"Data Sync destination (bucket/prefix){hint}"
    )


def _leaves(
    folder: Path, type_names: Iterable[str], warnings: Warnings | None = None
) -> list[tuple[str, str, str, str, str]]:
    """``(type, accountid, region, resourcetype, folder path)`` of every leaf folder.

    Only ``<account>/<type>/accountid=<account>/...``: a leaf whose ``accountid=`` differs from
    its account folder is left out (and its ``.json`` files counted in ``warnings``), as are the
    old layout's ``AWS:*`` folders at the top (named in ``warnings``).
    """
    found = []
    types = list(type_names)
    if warnings is not None:
        warnings.legacy(
            e.name for e in os.scandir(folder) if e.is_dir() and e.name.startswith("AWS:")
        )
    for account in account_folders(folder):
        forged: dict[str, int] = {}
        for type_name in types:
            base = folder / account / type_name
            if not base.is_dir():
                continue
            for partition in _dirs(base, "accountid="):
                accountid = partition.name.partition("=")[2]
                if accountid != account:
                    forged[accountid] = forged.get(accountid, 0) + _count_json(partition.path)
                    continue
                for region in _dirs(Path(partition.path), "region="):
                    for rtype in _dirs(Path(region.path), "resourcetype="):
                        found.append(
                            (
                                type_name,
                                accountid,
                                region.name.partition("=")[2],
                                rtype.name.partition("=")[2],
                                rtype.path,
                            )
                        )
        if forged and warnings is not None:
            warnings.forged(account, forged)
    return found


def _count_json(path: str) -> int:
    return sum(len([f for f in files if f.endswith(".json")]) for _, _, files in os.walk(path))


def _iter_leaves(leaves: Iterable[tuple[str, str, str, str, str]]) -> Iterator[SyncObject]:
    for type_name, account, region, rtype, path in leaves:
        for entry in os.scandir(path):
            if entry.is_file() and entry.name.endswith(".json"):
                with open(entry.path, "rb") as fh:
                    body = fh.read()
                yield SyncObject(type_name, account, region, rtype, body)


def iter_local(
    folder: Path, type_names: Iterable[str], *, warnings: Warnings | None = None
) -> Iterator[SyncObject]:
    """Yield the objects of ``type_names`` under ``folder`` (the sync's prefix folder).

    Files whose path does not follow ``<account>/<type>/accountid=<account>/region=/
    resourcetype=/<id>.json`` are skipped; objects filed under another account's folder and
    the old layout's folders are also noted in ``warnings``.

    Raises:
        SourceError: see :func:`check_local`.
    """
    check_local(folder)
    yield from _iter_leaves(_leaves(folder, type_names, warnings))


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
    folder: Path,
    type_names: Iterable[str],
    out_dir: Path,
    *,
    workers: int | None = None,
    warnings: Warnings | None = None,
) -> dict[str, Packed]:
    """Pack a local dataset like :func:`pack`, reading with ``workers`` processes.

    Reading hundreds of thousands of small files is system-call bound; the leaf folders are
    shared out round-robin between processes (default: one per CPU), each writing its own
    NDJSON file per type. What is left out is noted in ``warnings`` (see :func:`iter_local`).

    Raises:
        SourceError: see :func:`check_local`.
        OSError: a file cannot be read or ``out_dir`` written.
    """
    check_local(folder)
    out_dir.mkdir(parents=True, exist_ok=True)
    leaves = _leaves(folder, type_names, warnings)
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
    warnings: Warnings | None = None,
) -> Iterator[SyncObject]:
    """Yield the objects of ``type_names`` under ``s3://bucket/prefix``.

    Calls S3 ``ListObjectsV2`` (the account folders with ``Delimiter``, then one paginated
    listing per account folder and type) and ``GetObject`` (``workers`` threads). The default
    client is ``boto3.client("s3")``, which honours ``AWS_ENDPOINT_URL``. Objects under account
    folder ``A`` filed as ``accountid=B`` and the old layout's folders are left out and noted in
    ``warnings``.

    Raises:
        SourceError: bad URL; the bucket does not exist (``NoSuchBucket``); access denied
            (``AccessDenied``, ``AllAccessDisabled``); only the layout before per-account
            folders (names the migration); no ``<account id>/AWS:InstanceInformation`` object
            under the prefix.
    """
    bucket, prefix = parse_s3_url(url)
    if client is None:
        client = boto3.client("s3")
    base = f"{prefix}/" if prefix else ""
    try:
        keys, has_info, legacy, forged = _list_s3(client, bucket, base, list(type_names))
    except ClientError as exc:
        raise _s3_error(exc, url) from exc
    except BotoCoreError as exc:  # no credentials, endpoint unreachable, ...
        raise SourceError(f"cannot list {url}: {exc}") from exc
    if not has_info:
        if "AWS:InstanceInformation" in legacy:
            raise _legacy_error(url)
        raise SourceError(
            f"{url} holds no AWS:InstanceInformation/ objects in <account id>/ folders: is the "
            "prefix the central_reporting module's sync_prefix (each account's sync writes "
            "under <prefix>/<account id>/)?"
        )
    if warnings is not None:
        warnings.legacy(legacy)
        for account, per in sorted(forged.items()):
            warnings.forged(account, per)

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


def _list_s3(
    client: S3Client, bucket: str, base: str, types: list[str]
) -> tuple[list[str], bool, list[str], dict[str, dict[str, int]]]:
    """``(keys to read, any AWS:InstanceInformation?, old-layout folders, forged counts)``.

    The top-level folders under ``base`` (``Delimiter``), then each account folder's types.
    ``forged`` is ``{account folder: {accountid= value: objects}}`` for keys whose partition is
    another account's.
    """
    paginator = client.get_paginator("list_objects_v2")
    tops = [
        p["Prefix"][len(base) :].rstrip("/")
        for page in paginator.paginate(Bucket=bucket, Prefix=base, Delimiter="/")
        for p in page.get("CommonPrefixes", [])
        if "Prefix" in p
    ]
    keys: list[str] = []
    forged: dict[str, dict[str, int]] = {}
    has_info = False
    for account in sorted(t for t in tops if ACCOUNT_FOLDER_RE.match(t)):
        for type_name in types:
            pages = paginator.paginate(Bucket=bucket, Prefix=f"{base}{account}/{type_name}/")
            for key in (o.get("Key", "") for page in pages for o in page.get("Contents", [])):
                partition = PARTITION_RE.match(key[len(base) :])
                if partition and partition["accountid"] != account:
                    per = forged.setdefault(account, {})
                    per[partition["accountid"]] = per.get(partition["accountid"], 0) + 1
                    continue
                match = KEY_RE.match(key[len(base) :])
                if match is None:
                    continue
                keys.append(key)
                has_info = has_info or match["type"] == "AWS:InstanceInformation"
    return keys, has_info, [t for t in tops if t.startswith("AWS:")], forged


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
