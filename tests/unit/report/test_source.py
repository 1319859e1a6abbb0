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
from tools.report.queries import ReportError, run_all
from tools.report.source import (
    Packed,
    SourceError,
    SyncObject,
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
    s3.put_object(Bucket="sec-ssm-data-sync", Key="AWS:InstanceInformation/readme.txt", Body=b"x")  # type: ignore[attr-defined]
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
