"""Resource Data Sync: AWS's layout and records in the central bucket, status, authorization."""

from __future__ import annotations

import datetime as dt
import importlib
import json
import sys
import threading
import types
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto.s3.models import s3_backends

import tests.emulator as emulator_pkg
from tests.emulator import auth, datasync, iam
from tests.emulator.shapes import response_problems
from tools.report.queries import run_all

CENTRAL, MEMBER, REGION = "999999999999", "111111111111", "us-west-2"
OTHER_MEMBER = "222222222222"
# The central prefix (central_reporting's sync_prefix) and the member's sync Prefix under it
# (member_region: <central prefix>/<its account id>).
BUCKET, PREFIX = "sec-ssm-data-sync", "inventory"
MEMBER_PREFIX = f"{PREFIX}/{MEMBER}"
# central_reporting's SSMBucketDelivery resource: each account only under its own folder.
OWN_FOLDER = f"arn:aws:s3:::{BUCKET}/{PREFIX}/${{aws:SourceAccount}}/*"
# The resource before issue 16: "*" spans slashes, so a chosen Prefix reached other partitions.
ANY_FOLDER_NAMING_THE_ACCOUNT = (
    f"arn:aws:s3:::{BUCKET}/{PREFIX}/*/accountid=${{aws:SourceAccount}}/*"
)
NOW = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC)

NODES = [
    {
        "InstanceId": "i-0aaaaaaaaaaaaaaa1",
        "PingStatus": "Online",
        "AgentVersion": "3.3.1142.0",
        "PlatformType": "Linux",
        "PlatformName": "Amazon Linux",
        "PlatformVersion": "2023",
        "ResourceType": "EC2Instance",
        "IPAddress": "10.0.0.1",
        "ComputerName": "ip-10-0-0-1",
        "LastPingDateTime": NOW,
        "Tags": {"PatchGroup": "linux", "Name": "web-1"},
    },
    {
        "InstanceId": "mi-0bbbbbbbbbbbbbbb2",
        "PingStatus": "ConnectionLost",
        "AgentVersion": "3.3.987.0",
        "PlatformType": "Windows",
        "PlatformName": "Microsoft Windows Server 2022 Datacenter",
        "PlatformVersion": "10.0.20348",
        "ResourceType": "ManagedInstance",
        "IPAddress": "192.168.1.5",
        "ComputerName": "azure-1",
        "Tags": {"PatchGroup": "windows"},
    },
]
INVENTORY = {
    "i-0aaaaaaaaaaaaaaa1": {
        "AWS:Application": {
            "TypeName": "AWS:Application",
            "SchemaVersion": "1.1",
            "CaptureTime": "2025-03-01T11:00:00Z",
            "Content": [
                {"Name": "openssl", "Version": "3.0.8", "Publisher": "Amazon.com"},
                {"Name": "bash", "Version": "5.2.15", "Publisher": "Amazon.com"},
            ],
        },
        "AWS:Network": {
            "TypeName": "AWS:Network",
            "SchemaVersion": "1.0",
            "CaptureTime": "2025-03-01T11:00:00Z",
            "Content": [{"Name": "eth0", "IPV4": "10.0.0.1", "MacAddress": "0a:00:00:00:00:01"}],
        },
    }
}


def stand_in(monkeypatch: pytest.MonkeyPatch, name: str, **functions: Any) -> None:
    """Replace ``functions`` of ``tests.emulator.<name>`` (a bare module until it lands)."""
    try:
        module = importlib.import_module(f"tests.emulator.{name}")
    except ImportError:
        module = types.ModuleType(f"tests.emulator.{name}")
        monkeypatch.setitem(sys.modules, module.__name__, module)
        monkeypatch.setattr(emulator_pkg, name, module, raising=False)
    for attr, function in functions.items():
        monkeypatch.setattr(module, attr, function, raising=False)


def _item(node: str, ctype: str, item_id: str, status: str, **details: str) -> dict[str, Any]:
    return {
        "ComplianceType": ctype,
        "ResourceType": "ManagedInstance",
        "ResourceId": node,
        "Id": item_id,
        "Title": item_id,
        "Status": status,
        "Severity": "CRITICAL" if status == "NON_COMPLIANT" else "UNSPECIFIED",
        "ExecutionSummary": {
            "ExecutionTime": NOW,
            "ExecutionId": "cmd-1",
            "ExecutionType": "Command",
        },
        "Details": details,
    }


ITEMS = [
    _item(
        "i-0aaaaaaaaaaaaaaa1", "Patch", "kernel.x86_64", "NON_COMPLIANT",
        PatchState="Missing", PatchSeverity="Critical", Classification="Security",
        PatchBaselineId="pb-0123456789abcdef0", PatchGroup="linux",
    ),
    _item(
        "i-0aaaaaaaaaaaaaaa1", "Patch", "bash.x86_64", "COMPLIANT",
        PatchState="Installed", PatchSeverity="Low", Classification="Bugfix",
        PatchBaselineId="pb-0123456789abcdef0", PatchGroup="linux",
    ),
    _item(
        "i-0aaaaaaaaaaaaaaa1", "Association", "assoc-1", "COMPLIANT",
        DocumentName="AWS-GatherSoftwareInventory",
    ),
]  # fmt: skip


def bucket_policy(
    account: str = MEMBER, principal: str = "ssm.amazonaws.com", resource: str = OWN_FOLDER
) -> dict[str, Any]:
    """The policy modules/central_reporting gives the central bucket (one member account)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "SSMBucketPermissionsCheck",
                "Effect": "Allow",
                "Principal": {"Service": principal},
                "Action": "s3:GetBucketAcl",
                "Resource": f"arn:aws:s3:::{BUCKET}",
                "Condition": {"StringEquals": {"aws:SourceAccount": [account]}},
            },
            {
                "Sid": "SSMBucketDelivery",
                "Effect": "Allow",
                "Principal": {"Service": principal},
                "Action": "s3:PutObject",
                "Resource": resource,
                "Condition": {
                    "StringEquals": {
                        "s3:x-amz-acl": "bucket-owner-full-control",
                        "aws:SourceAccount": account,
                    },
                    "ArnLike": {"aws:SourceArn": f"arn:aws:ssm:*:{account}:resource-data-sync/*"},
                },
            },
        ],
    }


def _session(account: str) -> boto3.Session:
    creds = boto3.client("sts", region_name=REGION).assume_role(
        RoleArn=f"arn:aws:iam::{account}:role/deployer", RoleSessionName="test"
    )["Credentials"]
    return boto3.Session(
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
        region_name=REGION,
    )


@pytest.fixture(autouse=True)
def no_background_sync() -> Iterator[None]:
    """CreateResourceDataSync schedules the initial sync: drop it when the test ends."""
    yield
    datasync.cancel_pending()


@pytest.fixture
def sources(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The agent/patching interface of common.md, faked (mutable: tests change it)."""
    data: dict[str, Any] = {"nodes": NODES, "inventory": INVENTORY, "items": ITEMS}
    stand_in(
        monkeypatch,
        "patching",
        inventory=lambda a, r: data["inventory"] if (a, r) == (MEMBER, REGION) else {},
        compliance_items=lambda a, r: data["items"] if (a, r) == (MEMBER, REGION) else [],
        patch_states=lambda a, r: data.get("states", {}),
        on_change=lambda callback: None,
    )
    stand_in(
        monkeypatch,
        "agent",
        nodes=lambda a, r: data["nodes"] if (a, r) == (MEMBER, REGION) else [],
    )
    return data


@pytest.fixture
def central(aws: None) -> Any:
    """The central bucket (SSE-KMS default encryption off) with the module's policy."""
    s3 = _session(CENTRAL).client("s3")
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    s3.put_bucket_policy(Bucket=BUCKET, Policy=json.dumps(bucket_policy()))
    return s3


@pytest.fixture
def member_ssm(aws: None) -> Iterator[Any]:
    client = _session(MEMBER).client("ssm")
    problems: list[str] = []

    def check(http_response: Any, model: Any, **_: Any) -> None:
        if model.name == "ListResourceDataSync" and http_response.status_code < 300:
            problems.extend(response_problems(model, json.loads(http_response.content)))

    client.meta.events.register("after-call.ssm.*", check)
    yield client
    assert problems == []


def _sync(ssm: Any, **destination: Any) -> None:
    s3_destination = {"BucketName": BUCKET, "Region": REGION, "SyncFormat": "JsonSerDe"}
    s3_destination.update(destination)
    ssm.create_resource_data_sync(SyncName="member-inventory-sync", S3Destination=s3_destination)


def _objects(s3: Any, prefix: str = "") -> dict[str, list[dict[str, Any]]]:
    found = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix):
        for obj in page.get("Contents", []):
            body = s3.get_object(Bucket=BUCKET, Key=obj["Key"])["Body"].read().decode()
            found[obj["Key"]] = [json.loads(line) for line in body.splitlines()]
    return found


def test_writes_aws_layout_and_records(sources: Any, central: Any, member_ssm: Any) -> None:
    _sync(member_ssm, Prefix=MEMBER_PREFIX)
    results = datasync.run(MEMBER, REGION)
    assert [(r.sync_name, r.error) for r in results] == [("member-inventory-sync", None)]
    objects = _objects(central)
    base = (
        f"{PREFIX}/{MEMBER}/{{}}/accountid={MEMBER}/region={REGION}/"
        "resourcetype=ManagedInstanceInventory/{}.json"
    )
    a, m = "i-0aaaaaaaaaaaaaaa1", "mi-0bbbbbbbbbbbbbbb2"
    expected = {
        ("AWS:InstanceInformation", a), ("AWS:InstanceInformation", m),
        ("AWS:Application", a), ("AWS:Network", a), ("AWS:Tag", a), ("AWS:Tag", m),
        ("AWS:ComplianceItem", a), ("AWS:ComplianceSummary", a), ("AWS:PatchSummary", a),
    }  # fmt: skip
    assert set(objects) == {base.format(t, n) for t, n in expected}
    assert results[0].objects == len(expected)
    for records in objects.values():  # every record: the sync's three keys
        assert all({"resourceId", "captureTime", "schemaVersion"} <= set(r) for r in records)

    info = {
        r["InstanceId"]: r for k, v in objects.items() if "AWS:InstanceInformation/" in k for r in v
    }
    assert info[a]["resourceId"] == a and info[a]["InstanceStatus"] == "Active"
    assert info[a]["ResourceType"] == "EC2Instance" and info[a]["IpAddress"] == "10.0.0.1"
    assert (
        info[m]["InstanceStatus"] == "ConnectionLost"
        and info[m]["ResourceType"] == "ManagedInstance"
    )
    apps = objects[base.format("AWS:Application", a)]
    assert [(r["Name"], r["Version"]) for r in apps] == [("openssl", "3.0.8"), ("bash", "5.2.15")]
    assert apps[0]["captureTime"] == "2025-03-01T11:00:00Z" and apps[0]["schemaVersion"] == "1.1"
    items = {r["Id"]: r for r in objects[base.format("AWS:ComplianceItem", a)]}
    kernel = items["kernel.x86_64"]
    assert (kernel["ComplianceType"], kernel["Status"], kernel["PatchState"]) == (
        "Patch",
        "NON_COMPLIANT",
        "Missing",
    )
    assert kernel["PatchSeverity"] == "Critical" and kernel["ExecutionId"] == "cmd-1"
    assert kernel["ExecutionTime"] == "2025-03-01T12:00:00Z"
    summaries = {r["ComplianceType"]: r for r in objects[base.format("AWS:ComplianceSummary", a)]}
    assert (
        summaries["Patch"]["Status"] == "NON_COMPLIANT"
        and summaries["Patch"]["OverallSeverity"] == "CRITICAL"
    )
    assert summaries["Patch"]["NonCompliantCriticalCount"] == "1"
    assert summaries["Patch"]["CompliantUnspecifiedCount"] == "1"
    assert summaries["Association"]["Status"] == "COMPLIANT"
    patch = objects[base.format("AWS:PatchSummary", a)][0]
    assert (patch["MissingCount"], patch["InstalledCount"], patch["CriticalNonCompliantCount"]) == (
        "1",
        "1",
        "1",
    )
    assert patch["PatchGroup"] == "linux" and patch["BaselineId"] == "pb-0123456789abcdef0"
    tags = {r["Key"]: r["Value"] for r in objects[base.format("AWS:Tag", a)]}
    assert tags == {"Name": "web-1", "PatchGroup": "linux"}

    item = member_ssm.list_resource_data_sync()["ResourceDataSyncItems"][0]
    assert item["LastStatus"] == "Successful" and "LastSuccessfulSyncTime" in item
    assert "LastSyncStatusMessage" not in item


def test_no_prefix_writes_at_the_bucket_root(sources: Any, central: Any, member_ssm: Any) -> None:
    """central_reporting's sync_prefix = "": the member's sync Prefix is its account id."""
    central.put_bucket_policy(
        Bucket=BUCKET, Policy=json.dumps(bucket_policy()).replace(f"/{PREFIX}/", "/")
    )
    _sync(member_ssm, Prefix=MEMBER)
    assert datasync.run(MEMBER, REGION)[0].error is None
    assert all(k.startswith(f"{MEMBER}/AWS:") for k in _objects(central))


@pytest.mark.parametrize("walkthrough_variant", [False, True])
def test_report_counts_the_synced_nodes(
    sources: Any,
    central: Any,
    member_ssm: Any,
    walkthrough_variant: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """tools.report over the bucket: every node once, with InstanceInformation records that
    carry resourceId or (AWS's walkthrough) InstanceId only."""
    if walkthrough_variant:
        original = datasync.instance_information

        def instance_id_only(*args: Any) -> dict[str, Any]:
            record = original(*args)
            del record["resourceId"]
            return record

        monkeypatch.setattr(datasync, "instance_information", instance_id_only)
    _sync(member_ssm, Prefix=MEMBER_PREFIX)
    datasync.cancel_pending()  # the initial sync would overwrite objects while they are read
    datasync.run(MEMBER, REGION)
    results = run_all(
        f"s3://{BUCKET}/{PREFIX}", {"application_name": "openssl", "version_pattern": "3.0.%"}
    )
    types_ = results["node_types"].dicts()
    assert [(r["hybrid_nodes"], r["ec2_nodes"], r["nodes"]) for r in types_] == [(1, 1, 2)]
    apps = results["application_versions"].dicts()
    assert [(r["name"], r["version"], r["nodes"]) for r in apps] == [("openssl", "3.0.8", 1)]
    missing = results["missing_security_patches"].dicts()
    assert [(r["patch_id"], r["nodes"]) for r in missing] == [("kernel.x86_64", 1)]
    nodes = {
        (r["patchgroup"], r["nodes"], r["noncompliant"], r["not_scanned"])
        for r in results["noncompliant_nodes"].dicts()
    }
    assert nodes == {("linux", 1, 1, 0), ("windows", 1, 0, 1)}


def test_kms_key_encrypts_and_is_checked(
    sources: Any, central: Any, member_ssm: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    kms = _session(CENTRAL).client("kms")
    key_policy = {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "ssm-access-policy-statement", "Effect": "Allow",
             "Principal": {"Service": "ssm.amazonaws.com"},
             "Action": ["kms:GenerateDataKey"], "Resource": "*"},
        ],
    }  # fmt: skip
    key_arn = kms.create_key(Policy=json.dumps(key_policy))["KeyMetadata"]["Arn"]
    calls: list[tuple[str, str, str, Any]] = []
    real = iam.authorize

    def recording(
        principal: iam.Principal, action: str, resource: str, context: Any = None, **kw: Any
    ) -> None:
        calls.append((principal.arn, action, resource, kw.get("resource_policy")))
        real(principal, action, resource, context, **kw)

    monkeypatch.setattr(iam, "authorize", recording)
    _sync(member_ssm, Prefix=MEMBER_PREFIX, AWSKMSKeyARN=key_arn)
    assert datasync.run(MEMBER, REGION)[0].error is None
    assert ("ssm.amazonaws.com", "kms:GenerateDataKey", key_arn, key_policy) in calls
    assert {c[1] for c in calls} == {"s3:GetBucketAcl", "kms:GenerateDataKey", "s3:PutObject"}
    assert all(c[0] == "ssm.amazonaws.com" for c in calls)
    key = next(iter(_objects(central)))
    head = central.head_object(Bucket=BUCKET, Key=key)
    assert head["ServerSideEncryption"] == "aws:kms" and head["SSEKMSKeyId"] == key_arn


def test_a_denied_write_fails_the_sync_and_is_reported(
    sources: Any, central: Any, member_ssm: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def deny(
        principal: iam.Principal, action: str, resource: str, context: Any = None, **_: Any
    ) -> None:
        if action == "s3:PutObject":
            raise iam.AccessDenied(
                principal, action, resource, "no resource-based policy allows it"
            )

    monkeypatch.setattr(iam, "authorize", deny)
    _sync(member_ssm, Prefix=MEMBER_PREFIX)
    result = datasync._run_endpoint({"account_id": MEMBER})
    assert result["objects_written"] == 0 and len(result["failed"]) == 1
    assert "s3:PutObject" in result["failed"][0]["message"]
    assert _objects(central) == {}
    item = member_ssm.list_resource_data_sync()["ResourceDataSyncItems"][0]
    assert item["LastStatus"] == "Failed" and "AccessDenied" in item["LastSyncStatusMessage"]
    assert "LastSuccessfulSyncTime" not in item


def test_bucket_policy_without_ssm_is_denied_by_iam(
    sources: Any, central: Any, member_ssm: Any
) -> None:
    """With the real policy evaluator: a bucket policy for another principal refuses the sync."""
    probe = iam.service("ssm.amazonaws.com", MEMBER)
    if iam.is_allowed(
        probe,
        "s3:PutObject",
        f"arn:aws:s3:::{BUCKET}/x",
        resource_policy={"Version": "2012-10-17", "Statement": []},
        resource_account=CENTRAL,
    ):
        pytest.skip("tests.emulator.iam is still the allow-all stub")
    central.put_bucket_policy(
        Bucket=BUCKET, Policy=json.dumps(bucket_policy(principal="config.amazonaws.com"))
    )
    iam.reset_denials()
    _sync(member_ssm, Prefix=MEMBER_PREFIX)
    assert datasync.run(MEMBER, REGION)[0].error
    assert _objects(central) == {}
    assert any(d["action"] == "s3:GetBucketAcl" for d in iam.denials())


def _real_evaluator() -> bool:
    probe = iam.service("ssm.amazonaws.com", MEMBER)
    return not iam.is_allowed(
        probe,
        "s3:PutObject",
        f"arn:aws:s3:::{BUCKET}/x",
        resource_policy={"Version": "2012-10-17", "Statement": []},
        resource_account=CENTRAL,
    )


_LEAF = f"region={REGION}/resourcetype=ManagedInstanceInventory"
FORGED_PREFIXES = [
    # the other account's accountid= partition of the layout before issue 16
    f"{PREFIX}/AWS:InstanceInformation/accountid={OTHER_MEMBER}/{_LEAF}",
    # the other account's own top-level folder, and its partition there
    f"{PREFIX}/{OTHER_MEMBER}",
    f"{PREFIX}/{OTHER_MEMBER}/AWS:InstanceInformation/accountid={OTHER_MEMBER}/{_LEAF}",
]


@pytest.mark.parametrize("prefix", FORGED_PREFIXES)
def test_a_prefix_outside_the_own_folder_is_refused_the_own_folder_lands(
    sources: Any, central: Any, member_ssm: Any, prefix: str
) -> None:
    """Issue 16: whatever Prefix a member gives its sync, the bucket policy lets it write only
    under <prefix>/<its own account id>/ (the emulator evaluates each PutObject)."""
    if not _real_evaluator():
        pytest.skip("tests.emulator.iam is still the allow-all stub")
    iam.reset_denials()
    _sync(member_ssm, Prefix=prefix)
    [result] = datasync.run(MEMBER, REGION)
    assert (
        result.error and result.error.startswith("AccessDenied") and "s3:PutObject" in result.error
    )
    assert _objects(central) == {}
    assert any(d["action"] == "s3:PutObject" for d in iam.denials())

    member_ssm.delete_resource_data_sync(SyncName="member-inventory-sync")
    _sync(member_ssm, Prefix=MEMBER_PREFIX)
    assert datasync.run(MEMBER, REGION)[0].error is None
    written = _objects(central)
    assert written and all(k.startswith(f"{MEMBER_PREFIX}/AWS:") for k in written)
    assert all(f"/accountid={MEMBER}/" in k for k in written)


def test_the_resource_before_issue_16_let_a_chosen_prefix_reach_another_partition(
    sources: Any, central: Any, member_ssm: Any
) -> None:
    """What the fix closes: with <prefix>/*/accountid=${aws:SourceAccount}/* the member's
    objects landed inside the other account's partition folder."""
    if not _real_evaluator():
        pytest.skip("tests.emulator.iam is still the allow-all stub")
    central.put_bucket_policy(
        Bucket=BUCKET, Policy=json.dumps(bucket_policy(resource=ANY_FOLDER_NAMING_THE_ACCOUNT))
    )
    _sync(member_ssm, Prefix=FORGED_PREFIXES[0])
    assert datasync.run(MEMBER, REGION)[0].error is None
    assert all(k.startswith(FORGED_PREFIXES[0] + "/") for k in _objects(central))


def test_missing_bucket_and_wrong_region_fail(sources: Any, central: Any, member_ssm: Any) -> None:
    member_ssm.create_resource_data_sync(
        SyncName="nowhere",
        S3Destination={
            "BucketName": "no-such-bucket-here",
            "Region": REGION,
            "SyncFormat": "JsonSerDe",
        },
    )
    member_ssm.create_resource_data_sync(
        SyncName="elsewhere",
        S3Destination={"BucketName": BUCKET, "Region": "eu-west-2", "SyncFormat": "JsonSerDe"},
    )
    errors = {r.sync_name: r.error for r in datasync.run(MEMBER, REGION)}
    assert "does not exist" in str(errors["nowhere"]) and "eu-west-2" in str(errors["elsewhere"])


def test_changes_are_debounced_into_one_run(
    sources: Any, central: Any, member_ssm: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(datasync, "DEBOUNCE_SECONDS", 0.2)
    _sync(member_ssm, Prefix=MEMBER_PREFIX)  # CreateResourceDataSync schedules the initial baseline
    done = threading.Event()
    runs: list[tuple[Any, Any]] = []
    real = datasync.run

    def counting(account_id: Any = None, region: Any = None) -> Any:
        runs.append((account_id, region))
        found = real(account_id, region)
        done.set()
        return found

    monkeypatch.setattr(datasync, "run", counting)
    for node in ("i-0aaaaaaaaaaaaaaa1", "mi-0bbbbbbbbbbbbbbb2", "i-0aaaaaaaaaaaaaaa1"):
        datasync.schedule(MEMBER, REGION, node)
    assert done.wait(5)
    assert runs == [(MEMBER, REGION)]
    assert _objects(central)


def test_patch_summary_comes_from_the_patch_state(
    sources: Any, central: Any, member_ssm: Any
) -> None:
    """With DescribeInstancePatchStates data ({node id: state}) AWS:PatchSummary is that state."""
    sources["states"] = {
        "i-0aaaaaaaaaaaaaaa1": {
            "InstanceId": "i-0aaaaaaaaaaaaaaa1", "PatchGroup": "linux",
            "BaselineId": "pb-0123456789abcdef0", "SnapshotId": "snap-1",
            "InstalledCount": 40, "MissingCount": 3, "FailedCount": 0,
            "Operation": "Install", "RebootOption": "RebootIfNeeded",
            "OperationStartTime": NOW, "OperationEndTime": NOW,
        }
    }  # fmt: skip
    _sync(member_ssm, Prefix=MEMBER_PREFIX)
    assert datasync.run(MEMBER, REGION)[0].error is None
    [record] = next(v for k, v in _objects(central).items() if "AWS:PatchSummary/" in k)
    assert (record["InstalledCount"], record["MissingCount"]) == ("40", "3")
    assert (record["OperationType"], record["RebootOption"]) == ("Install", "RebootIfNeeded")
    assert record["OperationStartTime"] == "2025-03-01T12:00:00Z" and "InstanceId" not in record


def test_an_object_replaced_while_it_is_read_is_still_readable(central: Any) -> None:
    """S3 returns the old or the new object to a GET that races an overwrite; moto closed the
    old object's buffer at once, failing the read (the sync's background baseline rewrote the
    objects while the forged-prefix test read them: "I/O operation on closed file")."""
    auth.install()
    central.put_object(Bucket=BUCKET, Key="race/object.json", Body=b"old")
    bucket = next(
        b
        for backend in s3_backends.values()
        for partition in backend.values()
        for name, b in partition.buckets.items()
        if name == BUCKET
    )
    held = bucket.keys["race/object.json"]  # what a GET in progress holds
    central.put_object(Bucket=BUCKET, Key="race/object.json", Body=b"new")
    assert held.value == b"old", "the reader that started first still reads its object"
    body = central.get_object(Bucket=BUCKET, Key="race/object.json")["Body"].read()
    assert body == b"new"
