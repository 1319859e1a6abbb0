"""Reading the sync layout from S3 (moto) and packing objects for DuckDB."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import boto3
import botocore.config
import pytest
from moto import mock_aws

from tools.report.generate import generate
from tools.report.queries import QueryResult, ReportError, run_all
from tools.report.source import (
    Packed,
    SourceError,
    SyncObject,
    Warnings,
    account_folders,
    iter_local,
    iter_s3,
    pack,
    pack_local,
    parse_s3_url,
    upload_folder,
)

from .conftest import PARAMS


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """24 managed nodes: enough for every query, small enough for the in-process S3 mock."""
    root = tmp_path_factory.mktemp("small")
    generate(root, 24, seed=11, now=datetime.now(UTC))
    return root


@pytest.fixture
def s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="sec-ssm-data-sync")
        yield client


def test_s3_source_gives_the_same_answers_as_the_folder(s3: object, small: Path) -> None:
    uploaded = upload_folder(small, "sec-ssm-data-sync", "inventory/", client=s3)  # type: ignore[arg-type]
    assert uploaded == len(list(small.rglob("*.json")))
    from_s3 = run_all("s3://sec-ssm-data-sync/inventory", PARAMS, threads=1)
    local = run_all(small, PARAMS, threads=1)
    for name, result in local.items():
        assert sorted(from_s3[name].rows) == sorted(result.rows), name


def test_s3_errors_are_clear(s3: object) -> None:
    with pytest.raises(ReportError, match="bucket does not exist"):
        run_all("s3://no-such-bucket-here/x", PARAMS)
    with pytest.raises(ReportError, match="no AWS:InstanceInformation"):
        run_all("s3://sec-ssm-data-sync/wrong-prefix", PARAMS)
    with pytest.raises(SourceError, match="not an s3://"):
        list(iter_s3("s3://Bad_Bucket", ["AWS:Tag"], client=s3))  # type: ignore[arg-type]


def test_keys_outside_the_layout_are_ignored(s3: object, small: Path) -> None:
    upload_folder(small, "sec-ssm-data-sync", client=s3)  # type: ignore[arg-type]
    account = account_folders(small)[0]
    s3.put_object(  # type: ignore[attr-defined]
        Bucket="sec-ssm-data-sync", Key=f"{account}/AWS:InstanceInformation/readme.txt", Body=b"x"
    )
    objects = list(iter_s3("s3://sec-ssm-data-sync", ["AWS:InstanceInformation"], client=s3))  # type: ignore[arg-type]
    assert len(objects) == 24
    assert all(o.resourcetype == "ManagedInstanceInventory" for o in objects)


@pytest.mark.parametrize(
    ("url", "bucket", "prefix"),
    [
        ("s3://sync-bucket", "sync-bucket", ""),
        ("s3://sync-bucket/", "sync-bucket", ""),
        ("s3://sync-bucket/a/b/", "sync-bucket", "a/b"),
    ],
)
def test_parse_s3_url(url: str, bucket: str, prefix: str) -> None:
    assert parse_s3_url(url) == (bucket, prefix)


def test_pack_adds_partitions_and_handles_untidy_objects(tmp_path: Path) -> None:
    objects = [
        SyncObject(
            "AWS:Tag",
            "111111111111",
            "us-west-2",
            "ManagedInstanceInventory",
            b'{"Key":"a","resourceId":"i-1"}\n{"Key":"b","resourceId":"i-1"}\n',
        ),
        SyncObject(
            "AWS:Tag",
            "222222222222",
            "eu-west-2",
            "ManagedInstanceInventory",
            b'  {"Key":"c","resourceId":"i-2"}\n\n{"Key":"d","resourceId":"i-2"}',
        ),
        SyncObject("AWS:Tag", "222222222222", "eu-west-2", "ManagedInstanceInventory", b"{}\n"),
    ]
    packed = pack(objects, tmp_path)["AWS:Tag"]
    assert (packed.objects, packed.records) == (3, 5)
    lines = [json.loads(line) for p in packed.paths for line in p.read_text().splitlines()]
    assert [(r["_accountid"], r.get("Key")) for r in lines] == [
        ("111111111111", "a"),
        ("111111111111", "b"),
        ("222222222222", "c"),
        ("222222222222", "d"),
        ("222222222222", None),
    ]
    assert all(r["_resourcetype"] == "ManagedInstanceInventory" for r in lines)


def test_pack_local_is_the_same_with_one_or_several_processes(fleet: Path, tmp_path: Path) -> None:
    types = ["AWS:Tag", "AWS:InstanceInformation"]
    one = pack_local(fleet, types, tmp_path / "one", workers=1)
    two = pack_local(fleet, types, tmp_path / "two", workers=2)

    def lines(packed: Packed) -> list[str]:
        return sorted(line for p in packed.paths for line in p.read_text().splitlines())

    for name in types:
        assert (one[name].objects, one[name].records) == (two[name].objects, two[name].records)
        assert lines(one[name]) == lines(two[name])
    assert one["AWS:InstanceInformation"].objects == 240
    assert one["AWS:Tag"].records == 3 * 240
    assert len(two["AWS:Tag"].paths) == 2
    assert sum(1 for _ in iter_local(fleet, ["AWS:Tag"])) == 240


def test_pack_local_handles_untidy_objects(tmp_path: Path) -> None:
    leaf = (
        tmp_path
        / "src"
        / "111111111111"
        / "AWS:InstanceInformation"
        / "accountid=111111111111"
        / "region=us-west-2"
        / "resourcetype=ManagedInstanceInventory"
    )
    leaf.mkdir(parents=True)
    (leaf / "i-1.json").write_bytes(b'{"resourceId":"i-1"}\n\n')
    (leaf / "i-2.json").write_bytes(b'{"resourceId":"i-2"}')
    (leaf / "i-3.json").write_bytes(b'{"resourceId":"i-3"}\n{"resourceId":"i-3b"}\n')
    (leaf / "notes.txt").write_bytes(b"not an object")
    packed = pack_local(tmp_path / "src", ["AWS:InstanceInformation"], tmp_path / "out", workers=1)
    info = packed["AWS:InstanceInformation"]
    assert (info.objects, info.records) == (3, 4)
    records = [json.loads(line) for p in info.paths for line in p.read_text().splitlines()]
    assert sorted(r["resourceId"] for r in records) == ["i-1", "i-2", "i-3", "i-3b"]
    assert {r["_accountid"] for r in records} == {"111111111111"}


def test_unreachable_s3_is_a_clear_error_not_a_traceback() -> None:
    client = boto3.client(
        "s3",
        region_name="us-east-1",
        endpoint_url="http://127.0.0.1:9",
        aws_access_key_id="x",
        aws_secret_access_key="x",
        config=botocore.config.Config(retries={"max_attempts": 1}, connect_timeout=1),
    )
    with pytest.raises(SourceError, match="cannot list s3://sec-ssm-data-sync"):
        list(iter_s3("s3://sec-ssm-data-sync", ["AWS:InstanceInformation"], client=client))


# --- issue 16: an account's objects count only under its own top-level folder ----------------
VICTIM, FORGER = "111111111111", "222222222222"
FORGED_NODE = "i-0f0f0f0f0f0f0f0f0"


def _forge(root: Path, type_name: str = "AWS:InstanceInformation") -> Path:
    """What a sync of FORGER with Prefix ``<prefix>/FORGER/AWS:<type>/accountid=VICTIM/...``
    writes (the only folder the bucket policy lets FORGER's sync write is FORGER's own):
    here the simplest forgery, an object under FORGER's folder filed as VICTIM's partition."""
    leaf = (
        root
        / FORGER
        / type_name
        / f"accountid={VICTIM}"
        / "region=us-west-2"
        / "resourcetype=ManagedInstanceInventory"
    )
    leaf.mkdir(parents=True, exist_ok=True)
    record = {
        "resourceId": FORGED_NODE,
        "InstanceId": FORGED_NODE,
        "InstanceStatus": "Active",
        "ResourceType": "EC2Instance",
        "PlatformType": "Linux",
        "captureTime": "2026-01-01T00:00:00Z",
        "schemaVersion": "1.0",
    }
    (leaf / f"{FORGED_NODE}.json").write_text(json.dumps(record) + "\n")
    return leaf / f"{FORGED_NODE}.json"


def _nodes_of(results: dict[str, QueryResult], account: str) -> int:
    return sum(r["nodes"] for r in results["node_types"].dicts() if r["accountid"] == account)


def test_a_forged_object_is_not_counted_for_the_victim_locally(tmp_path: Path) -> None:
    root = tmp_path / "sync"
    generate(root, 24, seed=11, now=datetime.now(UTC), accounts=(VICTIM, FORGER))
    honest = run_all(root, PARAMS, threads=1)
    _forge(root)
    warnings: list[str] = []
    got = run_all(root, PARAMS, threads=1, warnings=warnings)
    assert _nodes_of(got, VICTIM) == _nodes_of(honest, VICTIM) > 0
    assert _nodes_of(got, FORGER) == _nodes_of(honest, FORGER) > 0
    assert len(warnings) == 1
    assert f"under account folder {FORGER}/ filed as accountid={VICTIM}" in warnings[0]
    objects = list(iter_local(root, ["AWS:InstanceInformation"]))
    assert FORGED_NODE.encode() not in b"".join(o.body for o in objects)


def test_a_forged_object_is_not_counted_for_the_victim_from_s3(s3: object, tmp_path: Path) -> None:
    root = tmp_path / "sync"
    generate(root, 24, seed=11, now=datetime.now(UTC), accounts=(VICTIM, FORGER))
    _forge(root)
    upload_folder(root, "sec-ssm-data-sync", "inventory", client=s3)  # type: ignore[arg-type]
    warnings = Warnings()
    objects = list(
        iter_s3(
            "s3://sec-ssm-data-sync/inventory",
            ["AWS:InstanceInformation"],
            client=s3,  # type: ignore[arg-type]
            warnings=warnings,
        )
    )
    assert len(objects) == 24 and all(FORGED_NODE.encode() not in o.body for o in objects)
    assert [w.split(":")[0] for w in warnings] == [
        f"ignored 1 object(s) under account folder {FORGER}/ filed as accountid={VICTIM}"
    ]


def test_a_nested_forgery_is_counted_the_same_locally_and_from_s3(
    s3: object, tmp_path: Path
) -> None:
    """FORGER's sync with Prefix <prefix>/FORGER/AWS:Tag/accountid=VICTIM/region=/resourcetype=
    (inside its own folder, so the bucket policy allows it) nests its objects there."""
    root = tmp_path / "sync"
    generate(root, 24, seed=11, now=datetime.now(UTC), accounts=(VICTIM, FORGER))
    nested = _forge(root, "AWS:Tag").parent / FORGER / "AWS:Tag" / f"accountid={FORGER}"
    nested.mkdir(parents=True)
    (nested / "i-1.json").write_text('{"Key":"k"}\n')
    local: list[str] = []
    run_all(root, PARAMS, threads=1, warnings=local)
    upload_folder(root, "sec-ssm-data-sync", "inventory", client=s3)  # type: ignore[arg-type]
    remote: list[str] = []
    run_all("s3://sec-ssm-data-sync/inventory", PARAMS, threads=1, warnings=remote)
    assert local == remote
    assert [w.split(":")[0] for w in local] == [
        f"ignored 2 object(s) under account folder {FORGER}/ filed as accountid={VICTIM}"
    ]


def _legacy(root: Path) -> None:
    leaf = (
        root
        / "AWS:InstanceInformation"
        / f"accountid={VICTIM}"
        / "region=us-west-2"
        / "resourcetype=ManagedInstanceInventory"
    )
    leaf.mkdir(parents=True)
    (leaf / "i-1.json").write_text('{"resourceId":"i-1"}\n')


def test_the_old_layout_alone_is_refused_naming_the_migration(s3: object, tmp_path: Path) -> None:
    _legacy(tmp_path / "old")
    with pytest.raises(ReportError, match=r"before per-account folders.*Migration"):
        run_all(tmp_path / "old", PARAMS)
    upload_folder(tmp_path / "old", "sec-ssm-data-sync", "inventory", client=s3)  # type: ignore[arg-type]
    with pytest.raises(ReportError, match=r"before per-account folders.*Migration"):
        run_all("s3://sec-ssm-data-sync/inventory", PARAMS)


def test_old_layout_folders_next_to_the_new_one_are_ignored_with_a_warning(
    s3: object, tmp_path: Path
) -> None:
    root = tmp_path / "both"
    generate(root, 24, seed=11, now=datetime.now(UTC))
    honest = run_all(root, PARAMS, threads=1)
    _legacy(root)
    warnings: list[str] = []
    local = run_all(root, PARAMS, threads=1, warnings=warnings)
    assert local["node_types"].rows == honest["node_types"].rows
    assert len(warnings) == 1 and "old-layout folders AWS:InstanceInformation/" in warnings[0]
    upload_folder(root, "sec-ssm-data-sync", "inventory", client=s3)  # type: ignore[arg-type]
    from_s3: list[str] = []
    run_all("s3://sec-ssm-data-sync/inventory", PARAMS, threads=1, warnings=from_s3)
    assert from_s3 == warnings
