"""Resource Data Sync: every ``SyncToDestination`` sync writes its account-Region's data to S3.

What AWS documents and this module does (README section "datasync" lists the sources):

* Layout — one object per managed node and inventory type,
  ``<Prefix>/<TypeName>/accountid=<id>/region=<region>/resourcetype=ManagedInstanceInventory/
  <node id>.json`` (no ``<Prefix>/`` without a prefix). "Configuring resource data sync for
  Inventory" and the "Walkthrough: Use resource data sync to aggregate inventory data"
  (https://docs.aws.amazon.com/systems-manager/latest/userguide/inventory-create-resource-data-sync.html,
  https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-inventory-resource-data-sync.html):
  bucket policy resources ``<bucket>/<prefix>/*/accountid=<id>/*``, Athena tables partitioned by
  ``AccountId, Region, ResourceType`` with ``LOCATION 's3://<bucket>/<prefix>/AWS:<Type>/'``.
  The key is built from whatever ``Prefix`` the sync was created with (the member account
  chooses it), and each ``PutObject`` is checked against the bucket policy on that key: so a
  policy whose ``*`` precedes ``accountid=`` admits a Prefix reaching into another account's
  partition, as AWS would. fleetpatch's members use ``Prefix`` ``<sync_prefix>/<account id>``
  and its bucket policy admits only ``<prefix>/${aws:SourceAccount}/*`` (issue 16).
* Format — ``SyncFormat`` ``JsonSerDe`` (the only value, API ResourceDataSyncS3Destination):
  one JSON object per line, each inventory entry's attributes under their schema names
  ("Metadata collected by inventory") plus ``resourceId``, ``captureTime``, ``schemaVersion``.
  ``AWS:InstanceInformation`` carries ``InstanceId`` (the walkthrough declares it, and no
  ``ResourceId``) and also ``resourceId`` (AWS's "Centralized patch compliance reporting" guide
  queries ``aws_instanceinformation.resourceid``); the report and the Athena queries use
  ``COALESCE(resourceid, instanceid)`` so either works.
* Which account/Region — a sync writes the data of the account and Region it was created in
  ("To synchronize inventory data from multiple AWS Regions, you must create a resource data
  sync in each Region"); ``S3Destination.Region`` is the bucket's Region.
* Who writes — ``ssm.amazonaws.com`` for the member account: the bucket policy must allow
  ``s3:GetBucketAcl`` on the bucket and ``s3:PutObject`` with ``s3:x-amz-acl =
  bucket-owner-full-control`` (condition keys ``aws:SourceAccount`` and ``aws:SourceArn =
  arn:aws:ssm:<region>:<account>:resource-data-sync/<name>``, as the multi-account policy of
  "Configuring resource data sync for Inventory" conditions them); with ``AWSKMSKeyARN`` the key
  policy must allow ``ssm.amazonaws.com`` ``kms:GenerateDataKey`` (the walkthrough's key policy
  statement) and the object is written SSE-KMS with that key (context keys
  ``s3:x-amz-server-side-encryption`` / ``...-aws-kms-key-id``, the walkthrough's optional
  bucket policy). A refused call fails the sync: ``LastStatus`` ``Failed`` and the S3/KMS error
  in ``LastSyncStatusMessage`` (ListResourceDataSync); nothing of that sync is written.
* When — "the system continuously syncs data": after every change :mod:`tests.emulator.patching`
  reports (``on_change``, debounced by :data:`DEBOUNCE_SECONDS`), after CreateResourceDataSync
  (the initial baseline), and on ``POST /fleetpatch/datasync/run``.

Objects go straight into moto's S3 backend (the bucket owner's), so S3 reads by anyone the bucket
policy allows see them.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from moto.kms.models import kms_backends
from moto.s3.models import s3_backends
from moto.ssm.models import ssm_backends
from moto.ssm.responses import SimpleSystemManagerResponse

from . import control, iam
from .ssm import DataSync, ExtensionState

Json = dict[str, Any]
LOG = logging.getLogger(__name__)
RESOURCE_TYPE = "ManagedInstanceInventory"
SERVICE = "ssm.amazonaws.com"
DEBOUNCE_SECONDS = 0.5
SCHEMA_VERSION = "1.0"
SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL", "UNSPECIFIED")
_SECURITY = ("Security", "SecurityUpdates", "CriticalUpdates")

_RUN_LOCK = threading.Lock()
_PENDING_LOCK = threading.Lock()
_PENDING: set[tuple[str, str]] = set()
_TIMER: threading.Timer | None = None


@dataclass(frozen=True)
class SyncResult:
    """One sync run: ``objects`` written, or ``error`` (what ListResourceDataSync shows)."""

    account_id: str
    region: str
    sync_name: str
    objects: int
    error: str | None = None


# --- the data of one account and Region (other helpers' modules, looked up at call time) -------
def _module(name: str) -> Any:
    return importlib.import_module(f"tests.emulator.{name}")


def _nodes(account_id: str, region: str) -> list[Json]:
    found: list[Json] = _module("agent").nodes(account_id, region)
    return found


def _inventory(account_id: str, region: str) -> dict[str, dict[str, Json]]:
    found: dict[str, dict[str, Json]] = _module("patching").inventory(account_id, region)
    return found


def _compliance_items(account_id: str, region: str) -> list[Json]:
    found: list[Json] = _module("patching").compliance_items(account_id, region)
    return found


def _patch_states(account_id: str, region: str) -> dict[str, Json]:
    """DescribeInstancePatchStates items by node id, when :mod:`patching` offers them."""
    states = getattr(_module("patching"), "patch_states", None)
    if states is None:
        return {}
    found = states(account_id, region)
    if isinstance(found, dict):  # {node id: state}
        return dict(found)
    return {s["InstanceId"]: s for s in found}


def _iso(value: Any) -> str:
    if isinstance(value, dt.datetime):
        stamp = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return stamp.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, (int, float)):
        return _iso(dt.datetime.fromtimestamp(float(value), dt.UTC))
    return str(value)


def _now() -> str:
    return _iso(dt.datetime.now(dt.UTC))


def _plain(value: Any) -> Any:
    return _iso(value) if isinstance(value, dt.datetime) else value


# --- records ------------------------------------------------------------------------------------
def _common(node_id: str, capture_time: str) -> Json:
    return {"resourceId": node_id, "captureTime": capture_time, "schemaVersion": SCHEMA_VERSION}


def _instance_status(node: Json) -> str:
    """InstanceStatus of AWS:InstanceInformation: Active, Stopped, Terminated or ConnectionLost."""
    explicit = node.get("InstanceStatus")
    if explicit:
        return str(explicit)
    ping = node.get("PingStatus")
    if ping == "Online":
        return "Active"
    if str(node.get("InstanceId", "")).startswith("mi-"):
        return "ConnectionLost"
    return {"Stopped": "Stopped", "Terminated": "Terminated"}.get(
        str(node.get("State", "")), "Stopped" if ping == "ConnectionLost" else "Active"
    )


def instance_information(node: Json, inventory: dict[str, Json] | None, now: str) -> Json:
    """The ``AWS:InstanceInformation`` record of one node (DescribeInstanceInformation item)."""
    record: Json = {
        "AgentType": "amazon-ssm-agent",
        "AgentVersion": node.get("AgentVersion"),
        "ComputerName": node.get("ComputerName"),
        "InstanceId": node["InstanceId"],
        "InstanceStatus": _instance_status(node),
        "IpAddress": node.get("IPAddress"),
        "PlatformName": node.get("PlatformName"),
        "PlatformType": node.get("PlatformType"),
        "PlatformVersion": node.get("PlatformVersion"),
        "ResourceType": node.get("ResourceType")
        or ("ManagedInstance" if node["InstanceId"].startswith("mi-") else "EC2Instance"),
    }
    capture = now
    collected = (inventory or {}).get("AWS:InstanceInformation")
    if collected:
        content = (collected.get("Content") or [{}])[0]
        record.update({k: v for k, v in content.items() if k != "InstanceStatus"})
        capture = _iso(collected.get("CaptureTime") or now)
    record = {k: _plain(v) for k, v in record.items() if v is not None}
    return {**record, **_common(node["InstanceId"], capture)}


def inventory_records(node_id: str, item: Json) -> list[Json]:
    """The records of one PutInventory item (``TypeName``, ``CaptureTime``, ``Content``)."""
    common = _common(node_id, _iso(item.get("CaptureTime") or _now()))
    common["schemaVersion"] = str(item.get("SchemaVersion") or SCHEMA_VERSION)
    return [{**{k: _plain(v) for k, v in entry.items()}, **common} for entry in item["Content"]]


def compliance_item_record(item: Json, now: str) -> Json:
    """One ListComplianceItems item flattened into an ``AWS:ComplianceItem`` record."""
    summary = item.get("ExecutionSummary") or {}
    record: Json = {
        "ComplianceType": item.get("ComplianceType"),
        "Id": item.get("Id"),
        "Title": item.get("Title"),
        "Status": item.get("Status"),
        "Severity": item.get("Severity"),
        "ExecutionId": summary.get("ExecutionId"),
        "ExecutionType": summary.get("ExecutionType"),
        "ExecutionTime": _iso(summary["ExecutionTime"]) if summary.get("ExecutionTime") else None,
    }
    record.update(item.get("Details") or {})
    record = {k: _plain(v) for k, v in record.items() if v is not None}
    return {**record, **_common(item["ResourceId"], now)}


def compliance_summary_records(items: list[Json], now: str) -> list[Json]:
    """``AWS:ComplianceSummary`` records of one node: one per compliance type."""
    by_type: dict[str, list[Json]] = {}
    for item in items:
        by_type.setdefault(str(item.get("ComplianceType")), []).append(item)
    records = []
    for ctype, group in sorted(by_type.items()):
        counts = {status: dict.fromkeys(SEVERITIES, 0) for status in ("COMPLIANT", "NON_COMPLIANT")}
        for item in group:
            status = "COMPLIANT" if item.get("Status") == "COMPLIANT" else "NON_COMPLIANT"
            severity = str(item.get("Severity") or "UNSPECIFIED")
            counts[status][severity if severity in SEVERITIES else "UNSPECIFIED"] += 1
        failing = [s for s in SEVERITIES if counts["NON_COMPLIANT"][s]]
        latest = max(
            group, key=lambda i: str((i.get("ExecutionSummary") or {}).get("ExecutionTime"))
        )
        summary = latest.get("ExecutionSummary") or {}
        details = latest.get("Details") or {}
        record: Json = {
            "ComplianceType": ctype,
            "Status": "NON_COMPLIANT" if failing else "COMPLIANT",
            "OverallSeverity": failing[0] if failing else "UNSPECIFIED",
            "PatchGroup": details.get("PatchGroup"),
            "PatchBaselineId": details.get("PatchBaselineId"),
            "ExecutionId": summary.get("ExecutionId"),
            "ExecutionType": summary.get("ExecutionType"),
            "ExecutionTime": _iso(summary["ExecutionTime"])
            if summary.get("ExecutionTime")
            else None,
        }
        for status, prefix in (("COMPLIANT", "Compliant"), ("NON_COMPLIANT", "NonCompliant")):
            for severity in SEVERITIES:
                record[f"{prefix}{severity.capitalize()}Count"] = str(counts[status][severity])
        record = {k: v for k, v in record.items() if v is not None}
        records.append({**record, **_common(str(latest["ResourceId"]), now)})
    return records


def patch_summary_record(node_id: str, items: list[Json], state: Json | None, now: str) -> Json:
    """The ``AWS:PatchSummary`` record of one node: its DescribeInstancePatchStates item, or
    (without one) the counts of its ``Patch`` compliance items by ``PatchState``."""
    if state:
        record: Json = {
            k: _plain(v)
            for k, v in state.items()
            if k not in ("InstanceId", "Operation") and v is not None
        }
        record["OperationType"] = state.get("Operation")
        record = {k: (str(v) if k.endswith("Count") else v) for k, v in record.items()}
        record = {k: v for k, v in record.items() if v is not None}
        return {**record, **_common(node_id, now)}
    states = [str((i.get("Details") or {}).get("PatchState", "")) for i in items]
    details = (items[0].get("Details") or {}) if items else {}
    summary = (items[0].get("ExecutionSummary") or {}) if items else {}
    missing = [
        i for i in items if (i.get("Details") or {}).get("PatchState") in ("Missing", "Failed")
    ]
    critical = sum(
        1 for i in missing if (i.get("Details") or {}).get("PatchSeverity") == "Critical"
    )
    security = sum(
        1
        for i in missing
        if (i.get("Details") or {}).get("PatchSeverity") != "Critical"
        and (i.get("Details") or {}).get("Classification") in _SECURITY
    )
    record = {
        "PatchGroup": details.get("PatchGroup", ""),
        "BaselineId": details.get("PatchBaselineId", ""),
        "SnapshotId": summary.get("ExecutionId", ""),
        "InstalledCount": str(states.count("Installed")),
        "InstalledOtherCount": str(states.count("InstalledOther")),
        "InstalledPendingRebootCount": str(states.count("InstalledPendingReboot")),
        "InstalledRejectedCount": str(states.count("InstalledRejected")),
        "MissingCount": str(states.count("Missing")),
        "FailedCount": str(states.count("Failed")),
        "NotApplicableCount": str(states.count("NotApplicable")),
        "UnreportedNotApplicableCount": "0",
        "CriticalNonCompliantCount": str(critical),
        "SecurityNonCompliantCount": str(security),
        "OtherNonCompliantCount": str(len(missing) - critical - security),
        "OperationType": "Scan",
    }
    if summary.get("ExecutionTime"):
        record["OperationStartTime"] = record["OperationEndTime"] = _iso(summary["ExecutionTime"])
    return {**record, **_common(node_id, now)}


def records_of(account_id: str, region: str) -> dict[str, dict[str, list[Json]]]:
    """Everything a sync of ``account_id``/``region`` writes: ``{type: {node id: records}}``.

    Managed nodes come from :func:`tests.emulator.agent.nodes`, inventory and compliance from
    :func:`tests.emulator.patching.inventory` / ``compliance_items`` (and ``patch_states`` when
    present). Types: ``AWS:InstanceInformation`` (every node), each collected inventory type
    (``AWS:Application``, ``AWS:Network``, ``AWS:Tag``, ...; ``AWS:Tag`` from the node's tags when
    inventory did not collect it), ``AWS:ComplianceItem`` and ``AWS:ComplianceSummary`` (nodes
    with compliance data) and ``AWS:PatchSummary`` (nodes with Patch compliance).
    """
    now = _now()
    nodes = _nodes(account_id, region)
    inventory = _inventory(account_id, region)
    items = _compliance_items(account_id, region)
    patch_states = _patch_states(account_id, region)
    out: dict[str, dict[str, list[Json]]] = {}

    def put(type_name: str, node_id: str, records: list[Json]) -> None:
        if records:
            out.setdefault(type_name, {})[node_id] = records

    for node in nodes:
        node_id = node["InstanceId"]
        collected = inventory.get(node_id, {})
        put("AWS:InstanceInformation", node_id, [instance_information(node, collected, now)])
        for type_name, item in sorted(collected.items()):
            if type_name != "AWS:InstanceInformation":
                put(type_name, node_id, inventory_records(node_id, item))
        if "AWS:Tag" not in collected and node.get("Tags"):
            tags = [
                {"Key": k, "Value": v, **_common(node_id, now)}
                for k, v in sorted(node["Tags"].items())
            ]
            put("AWS:Tag", node_id, tags)
    by_node: dict[str, list[Json]] = {}
    for item in items:
        by_node.setdefault(str(item["ResourceId"]), []).append(item)
    for node_id, node_items in sorted(by_node.items()):
        put("AWS:ComplianceItem", node_id, [compliance_item_record(i, now) for i in node_items])
        put("AWS:ComplianceSummary", node_id, compliance_summary_records(node_items, now))
        patch_items = [i for i in node_items if i.get("ComplianceType") == "Patch"]
        if patch_items or node_id in patch_states:
            record = patch_summary_record(node_id, patch_items, patch_states.get(node_id), now)
            put("AWS:PatchSummary", node_id, [record])
    return out


def object_key(
    prefix: str | None, type_name: str, account_id: str, region: str, node_id: str
) -> str:
    """``<prefix>/<type>/accountid=<id>/region=<region>/resourcetype=ManagedInstanceInventory/<node>.json``.

    ``prefix`` is the sync's ``S3Destination.Prefix`` as given (fleetpatch's members:
    ``<central prefix>/<account id>``); nothing here keeps a sync inside its account's folder,
    only the bucket policy does.
    """
    base = f"{prefix.strip('/')}/" if prefix and prefix.strip("/") else ""
    return (
        f"{base}{type_name}/accountid={account_id}/region={region}/"
        f"resourcetype={RESOURCE_TYPE}/{node_id}.json"
    )


# --- writing ------------------------------------------------------------------------------------
def _bucket(name: str) -> tuple[str, str, Any]:
    """``(owner account, partition, FakeBucket)`` of bucket ``name``."""
    owner = s3_backends.bucket_accounts.get(name)
    if owner is None:
        raise LookupError(f"The specified bucket does not exist: {name}")
    partition, account = owner
    return account, partition, s3_backends[account][partition].buckets[name]


def _policy(raw: Any) -> Json | None:
    if not raw:
        return None
    found: Json = json.loads(raw.decode("utf-8") if isinstance(raw, bytes) else raw)
    return found


def _key_policy(key_arn: str) -> tuple[str, Json | None]:
    """``(owner account, key policy)`` of the KMS key ``key_arn``."""
    parts = key_arn.split(":")
    if len(parts) < 6 or not parts[5].startswith("key/"):
        raise LookupError(f"Invalid KMS key ARN: {key_arn}")
    region, account, key_id = parts[3], parts[4], parts[5][4:]
    key = kms_backends[account][region].keys.get(key_id)
    if key is None:
        raise LookupError(f"KMS key {key_arn} does not exist")
    return account, _policy(key.policy)


def run_sync(account_id: str, region: str, sync: DataSync) -> SyncResult:
    """Write one ``SyncToDestination`` sync's data (stands in for SSM's own sync run).

    Checks ``s3:GetBucketAcl`` and each ``s3:PutObject`` (bucket policy) and ``kms:GenerateDataKey``
    (key policy) for ``ssm.amazonaws.com`` acting for ``account_id``, then puts every object. The
    sync's ``LastStatus``/``LastSyncTime``/``LastSuccessfulSyncTime``/``LastSyncStatusMessage``
    are updated. Never raises for AWS-side failures: they are the result's ``error``.
    """
    destination = sync.s3_destination or {}
    bucket_name = str(destination.get("BucketName", ""))
    prefix = destination.get("Prefix")
    key_arn = destination.get("AWSKMSKeyARN")
    principal = iam.service(SERVICE, account_id)
    partition = "aws-cn" if region.startswith("cn-") else "aws"
    source_arn = f"arn:{partition}:ssm:{region}:{account_id}:resource-data-sync/{sync.name}"
    context: Json = {"aws:SourceAccount": account_id, "aws:SourceArn": source_arn}
    written = 0
    try:
        if destination.get("SyncFormat", "JsonSerDe") != "JsonSerDe":
            raise LookupError(f"SyncFormat {destination.get('SyncFormat')} is not JsonSerDe")
        owner, s3_partition, bucket = _bucket(bucket_name)
        wanted_region = destination.get("Region")
        if wanted_region and wanted_region != bucket.region_name:
            raise LookupError(
                f"The bucket {bucket_name} is in {bucket.region_name}, not in {wanted_region}"
            )
        bucket_policy = _policy(bucket.policy)
        bucket_arn = f"arn:{s3_partition}:s3:::{bucket_name}"
        iam.authorize(
            principal,
            "s3:GetBucketAcl",
            bucket_arn,
            context,
            resource_policy=bucket_policy,
            resource_account=owner,
        )
        if key_arn:
            key_owner, key_policy = _key_policy(str(key_arn))
            iam.authorize(
                principal,
                "kms:GenerateDataKey",
                str(key_arn),
                context,
                resource_policy=key_policy,
                resource_account=key_owner,
            )
        put_context = dict(context, **{"s3:x-amz-acl": "bucket-owner-full-control"})
        if key_arn:
            put_context["s3:x-amz-server-side-encryption"] = "aws:kms"
            put_context["s3:x-amz-server-side-encryption-aws-kms-key-id"] = key_arn
        objects: list[tuple[str, bytes]] = []
        for type_name, by_node in sorted(records_of(account_id, region).items()):
            for node_id, records in sorted(by_node.items()):
                key = object_key(prefix, type_name, account_id, region, node_id)
                iam.authorize(
                    principal,
                    "s3:PutObject",
                    f"{bucket_arn}/{key}",
                    put_context,
                    resource_policy=bucket_policy,
                    resource_account=owner,
                )
                text = "".join(
                    json.dumps(r, separators=(",", ":"), default=str) + "\n" for r in records
                )
                objects.append((key, text.encode("utf-8")))
        backend = s3_backends[owner][s3_partition]
        for key, body in objects:
            if key_arn:
                backend.put_object(
                    bucket_name, key, body, encryption="aws:kms", kms_key_id=str(key_arn)
                )
            else:
                backend.put_object(bucket_name, key, body)
            written += 1
    except iam.AccessDenied as denied:
        return _finish(account_id, region, sync, 0, f"AccessDenied: {denied}")
    except LookupError as missing:
        return _finish(account_id, region, sync, 0, str(missing).strip("'\""))
    return _finish(account_id, region, sync, written, None)


def _finish(
    account_id: str, region: str, sync: DataSync, objects: int, error: str | None
) -> SyncResult:
    stamp = dt.datetime.now(dt.UTC)
    status = sync.__dict__.setdefault("fleetpatch_status", {})
    status["LastSyncTime"] = stamp
    if error is None:
        status.update(LastStatus="Successful", LastSuccessfulSyncTime=stamp)
        status.pop("LastSyncStatusMessage", None)
    else:
        status.update(LastStatus="Failed", LastSyncStatusMessage=error[:1000])
        LOG.warning("resource data sync %s/%s/%s failed: %s", account_id, region, sync.name, error)
    return SyncResult(account_id, region, sync.name, objects, error)


def _states(
    account_id: str | None, region: str | None
) -> Iterable[tuple[str, str, ExtensionState]]:
    for account, per_region in list(ssm_backends.items()):
        if account_id not in (None, account):
            continue
        for name, backend in list(per_region.items()):
            state = backend.__dict__.get("fleetpatch_ext")
            if isinstance(state, ExtensionState) and region in (None, name):
                yield account, name, state


def run(account_id: str | None = None, region: str | None = None) -> list[SyncResult]:
    """Run every ``SyncToDestination`` sync (of ``account_id`` / ``region`` when given) now."""
    results = []
    with _RUN_LOCK:
        for account, name, state in _states(account_id, region):
            for sync in list(state.data_syncs.values()):
                if sync.sync_type == "SyncToDestination":
                    results.append(run_sync(account, name, sync))
    return results


# --- triggers -----------------------------------------------------------------------------------
def _flush() -> None:
    global _TIMER  # noqa: PLW0603 - the one pending timer
    with _PENDING_LOCK:
        pending = sorted(_PENDING)
        _PENDING.clear()
        _TIMER = None
    for account, region in pending:
        try:
            run(account, region)
        except Exception:  # a background thread must not die silently
            LOG.exception("resource data sync of %s/%s failed", account, region)


def schedule(account_id: str, region: str, _node_id: str | None = None) -> None:
    """Sync ``account_id``/``region`` after :data:`DEBOUNCE_SECONDS` (coalesces bursts).

    The ``patching.on_change(callback(account_id, region, node_id))`` subscriber.
    """
    global _TIMER  # noqa: PLW0603 - the one pending timer
    with _PENDING_LOCK:
        _PENDING.add((account_id, region))
        if _TIMER is None:
            _TIMER = threading.Timer(DEBOUNCE_SECONDS, _flush)
            _TIMER.daemon = True
            _TIMER.start()


def cancel_pending() -> None:
    """Drop scheduled syncs that have not started (tests; ``/moto-api/reset`` leaves them)."""
    global _TIMER  # noqa: PLW0603 - the one pending timer
    with _PENDING_LOCK:
        if _TIMER is not None:
            _TIMER.cancel()
        _TIMER = None
        _PENDING.clear()


def _run_endpoint(body: Json) -> Json:
    account_id, region = body.get("account_id"), body.get("region")
    for name, value in (("account_id", account_id), ("region", region)):
        if value is not None and not isinstance(value, str):
            raise control.ControlError(f"{name} must be a string")
    results = run(account_id, region)
    return {
        "objects_written": sum(r.objects for r in results),
        "syncs": len(results),
        "failed": [
            {
                "account_id": r.account_id,
                "region": r.region,
                "sync_name": r.sync_name,
                "message": r.error,
            }
            for r in results
            if r.error
        ],
    }


_ORIGINAL_CREATE: Callable[..., Any] | None = None
_ORIGINAL_ITEM: Callable[[DataSync], Json] | None = None


def _item(sync: DataSync) -> Json:
    assert _ORIGINAL_ITEM is not None
    body = _ORIGINAL_ITEM(sync)
    body.update(sync.__dict__.get("fleetpatch_status", {}))
    return body


def _create_and_baseline(self: Any) -> Any:
    assert _ORIGINAL_CREATE is not None
    result = _ORIGINAL_CREATE(self)
    schedule(self.current_account, self.region)
    return result


def install() -> None:
    """Register the control endpoint, the status fields, the initial sync and the on_change
    subscription (when :mod:`tests.emulator.patching` exists), and install
    :mod:`tests.emulator.config_rules`; idempotent."""
    global _ORIGINAL_CREATE, _ORIGINAL_ITEM  # noqa: PLW0603 - patched once per process
    from . import config_rules  # noqa: PLC0415 - the two modules install together

    config_rules.install()
    control.route("POST", "datasync/run")(_run_endpoint)
    if _ORIGINAL_ITEM is None:
        _ORIGINAL_ITEM = DataSync.item
        DataSync.item = _item  # type: ignore[method-assign,assignment]
    current = SimpleSystemManagerResponse.__dict__.get("create_resource_data_sync")
    if current is not None and current is not _create_and_baseline:
        _ORIGINAL_CREATE = current
        SimpleSystemManagerResponse.create_resource_data_sync = _create_and_baseline  # type: ignore[attr-defined]
    try:
        patching = _module("patching")
    except ImportError:
        LOG.info("tests.emulator.patching is not there: no automatic sync on change")
        return
    if not getattr(install, "subscribed", False):
        patching.on_change(schedule)
        install.subscribed = True  # type: ignore[attr-defined]
