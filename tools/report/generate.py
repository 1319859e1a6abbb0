"""Generate a sample fleet in the exact layout and record format Resource Data Sync writes.

Layout (one object per managed node and inventory type; the optional ``prefix`` is the
central_reporting module's ``sync_prefix``, each account's sync writing with S3 ``Prefix``
``<prefix>/<account id>``, the only folder the central bucket policy lets it write)::

    <out>/<prefix>/<account id>/AWS:<Type>/accountid=<account id>/region=<region>/
        resourcetype=ManagedInstanceInventory/<node id>.json

Each object is newline-delimited JSON (the sync's only ``SyncFormat``, ``JsonSerDe``): one record
per line, the inventory attributes with their schema names (``InstanceId``, ``PatchSeverity``,
...) plus ``resourceId``, ``captureTime`` and ``schemaVersion`` added by the sync.

AWS's pages disagree on how ``AWS:InstanceInformation`` names its node: the resource data sync
walkthrough declares the table with ``InstanceId`` and no ``ResourceId`` and joins other tables'
``resourceid`` to its ``instanceid``; AWS's "Centralized patch compliance reporting" guide (AWS
Cloud Operations best practices, Glue-crawled tables) selects
``aws_instanceinformation.resourceid``.
Records here carry both by default (what the embedded emulator's sync writes, too);
``instance_key="InstanceId"`` writes the walkthrough's variant (no ``resourceId`` in
``AWS:InstanceInformation``). The queries read ``COALESCE(resourceid, instanceid)``. Sources:

- AWS Systems Manager User Guide, "Walkthrough: Use resource data sync to aggregate inventory
  data" and "Configuring resource data sync for Inventory" (folder layout, one JSON per node);
- AWS Systems Manager User Guide, "Metadata collected by Inventory" / the inventory schema
  (``AWS:InstanceInformation``, ``AWS:Application``, ``AWS:Tag`` attributes, ``InstanceStatus``
  values Active / Stopped / Terminated / ConnectionLost);
- SSM API reference ``ComplianceItem``, ``ResourceComplianceSummaryItem`` and
  ``InstancePatchState`` (``AWS:ComplianceItem``, ``AWS:ComplianceSummary`` and
  ``AWS:PatchSummary`` fields; ``Status`` COMPLIANT / NON_COMPLIANT; compliance severities);
- aws-samples/cloud-operations-best-practices ``patch-reporting.yaml`` (the Athena column names
  of those types: ``patchseverity``, ``patchstate``, ``missingcount``, ``capturetime``, ...).

The fleet is deterministic for a given ``seed`` and ``now``: node ``k`` always lands in account
``accounts[k % len(accounts)]`` and Region ``regions[(k // len(accounts)) % len(regions)]``.
About 10 % of nodes are hybrid (``mi-``), 3 % terminated, 8 % silent for more than a week,
4 % never scanned, and roughly half miss at least one patch.

CLI: ``python -m tools.report.generate --nodes N --out DIR [--seed S] [--accounts ...]
[--regions ...] [--prefix P]``.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

DEFAULT_ACCOUNTS: tuple[str, ...] = ("111111111111", "222222222222", "333333333333")
DEFAULT_REGIONS: tuple[str, ...] = ("us-west-2", "eu-west-2")
RESOURCE_TYPE = "ManagedInstanceInventory"
TYPES: tuple[str, ...] = (
    "AWS:InstanceInformation",
    "AWS:PatchSummary",
    "AWS:ComplianceSummary",
    "AWS:ComplianceItem",
    "AWS:Application",
    "AWS:Tag",
)
INSTANCE_KEYS: tuple[str, ...] = ("both", "InstanceId")
ACCOUNT_RE = re.compile(r"^[0-9]{12}$")
REGION_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-[0-9]$")
PREFIX_RE = re.compile(r"^[A-Za-z0-9!_.*'()-]+(/[A-Za-z0-9!_.*'()-]+)*$")

# (PlatformType, PlatformName, PlatformVersion, family, patch group)
_EC2_PLATFORMS: tuple[tuple[str, str, str, str, str], ...] = (
    ("Linux", "Amazon Linux", "2023", "linux", "linux"),
    ("Linux", "Amazon Linux", "2", "linux", "linux"),
    ("Linux", "Red Hat Enterprise Linux", "9.4", "linux", "linux"),
    ("Linux", "Ubuntu", "22.04", "linux", "appa"),
    ("Windows", "Microsoft Windows Server 2022 Datacenter", "10.0.20348", "windows", "windows"),
    ("Windows", "Microsoft Windows Server 2019 Datacenter", "10.0.17763", "windows", "windows"),
)
_HYBRID_PLATFORMS: tuple[tuple[str, str, str, str, str], ...] = (
    ("Linux", "Ubuntu", "22.04", "linux", "linux"),
    ("Linux", "Red Hat Enterprise Linux", "8.9", "linux", "appa"),
    ("Windows", "Microsoft Windows Server 2022 Datacenter", "10.0.20348", "windows", "windows"),
)

# (Id, Title, Classification, PatchSeverity)
_PATCHES: dict[str, tuple[tuple[str, str, str, str], ...]] = {
    "linux": (
        ("kernel.x86_64", "kernel security update (CVE-2024-1086)", "Security", "Critical"),
        ("openssl.x86_64", "openssl security update (CVE-2024-5535)", "Security", "Important"),
        ("glibc.x86_64", "glibc security update (CVE-2024-2961)", "Security", "Important"),
        ("curl.x86_64", "curl security update (CVE-2024-2398)", "Security", "Medium"),
        ("sudo.x86_64", "sudo security update (CVE-2023-22809)", "Security", "Critical"),
        ("bash.x86_64", "bash bug fix update", "Bugfix", "Low"),
        ("systemd.x86_64", "systemd bug fix update", "Bugfix", "Medium"),
        ("python3.x86_64", "python3 security update (CVE-2024-0450)", "Security", "Low"),
        ("tzdata.noarch", "tzdata enhancement update", "Enhancement", ""),
        ("vim-minimal.x86_64", "vim security update (CVE-2024-22667)", "Security", "Medium"),
    ),
    "windows": (
        (
            "KB5041160",
            "2024-08 Cumulative Update for Windows Server 2022",
            "SecurityUpdates",
            "Critical",
        ),
        (
            "KB5040437",
            "2024-07 Cumulative Update for Windows Server 2022",
            "SecurityUpdates",
            "Critical",
        ),
        (
            "KB5039227",
            "2024-06 Cumulative Update for Windows Server 2022",
            "SecurityUpdates",
            "Important",
        ),
        (
            "KB5041948",
            "2024-08 Cumulative Update for .NET Framework",
            "SecurityUpdates",
            "Important",
        ),
        ("KB5034439", "2024-01 Security Update for WinRE", "SecurityUpdates", "Moderate"),
        ("KB890830", "Windows Malicious Software Removal Tool", "UpdateRollups", "Unspecified"),
        ("KB5040527", "2024-07 Servicing Stack Update", "CriticalUpdates", "Important"),
        ("KB5007651", "Update for Windows Security platform", "Updates", "Low"),
    ),
}
_COMPLIANCE_SEVERITY = {
    "Critical": "CRITICAL",
    "Important": "HIGH",
    "Medium": "MEDIUM",
    "Moderate": "MEDIUM",
    "Low": "LOW",
}
# (Name, Publisher, ApplicationType, versions)
_APPS: dict[str, tuple[tuple[str, str, str, tuple[str, ...]], ...]] = {
    "linux": (
        ("amazon-ssm-agent", "Amazon.com", "Applications/System", ("3.3.987.0", "3.3.1142.0")),
        ("openssl", "Red Hat, Inc.", "System Environment/Libraries", ("3.0.8", "3.0.13", "3.2.2")),
        ("bash", "Red Hat, Inc.", "System Environment/Shells", ("5.2.15", "5.1.8")),
        ("curl", "Red Hat, Inc.", "Applications/Internet", ("8.5.0", "7.76.1")),
        ("python3", "Red Hat, Inc.", "Development/Languages", ("3.9.16", "3.11.6")),
        ("nginx", "nginx", "System Environment/Daemons", ("1.24.0", "1.26.1")),
        ("java-17-amazon-corretto", "Amazon.com", "Development/Languages", ("17.0.11", "17.0.12")),
        ("postgresql15", "PostgreSQL", "Applications/Databases", ("15.6", "15.7")),
        ("sudo", "Red Hat, Inc.", "Applications/System", ("1.9.15", "1.9.5")),
    ),
    "windows": (
        ("Amazon SSM Agent", "Amazon Web Services", "", ("3.3.987.0", "3.3.1142.0")),
        ("Microsoft Edge", "Microsoft Corporation", "", ("127.0.2651.98", "128.0.2739.42")),
        ("7-Zip 23.01 (x64)", "Igor Pavlov", "", ("23.01",)),
        ("Microsoft .NET Runtime - 8.0.7 (x64)", "Microsoft Corporation", "", ("8.0.7",)),
        ("OpenSSL 3 (64-bit)", "OpenSSL Win64 Installer Team", "", ("3.0.13", "3.2.2")),
        ("Notepad++ (64-bit x64)", "Notepad++ Team", "", ("8.6.9",)),
    ),
}


@dataclass(frozen=True)
class GenerationResult:
    """What :func:`generate` wrote: node count, object (file) count and size in bytes."""

    root: Path
    nodes: int
    files: int
    bytes: int
    seconds: float


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _lines(records: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(r, separators=(",", ":")) + "\n" for r in records)


def validate_fleet_args(
    nodes: int, accounts: tuple[str, ...], regions: tuple[str, ...], prefix: str
) -> None:
    """Check the arguments of :func:`generate`.

    Raises:
        ValueError: ``nodes`` < 1, an account id that is not 12 digits, a malformed Region
            name, an empty account or Region list, or a prefix that is not a plain S3 key path.
    """
    if nodes < 1:
        raise ValueError(f"nodes must be >= 1, got {nodes}")
    if not accounts or not regions:
        raise ValueError("at least one account id and one Region are required")
    bad_accounts = [a for a in accounts if not ACCOUNT_RE.match(a)]
    if bad_accounts:
        raise ValueError(f"account ids must be 12 digits: {bad_accounts}")
    bad_regions = [r for r in regions if not REGION_RE.match(r)]
    if bad_regions:
        raise ValueError(f"Regions must look like us-west-2: {bad_regions}")
    if prefix and not PREFIX_RE.match(prefix):
        raise ValueError(f"prefix must be an S3 key path without leading/trailing '/': {prefix!r}")


def generate(
    out: Path,
    nodes: int,
    *,
    accounts: tuple[str, ...] = DEFAULT_ACCOUNTS,
    regions: tuple[str, ...] = DEFAULT_REGIONS,
    seed: int = 1,
    now: datetime | None = None,
    prefix: str = "",
    instance_key: str = "both",
) -> GenerationResult:
    """Write a sample Resource Data Sync dataset of ``nodes`` managed nodes under ``out``.

    Args:
        out: folder to write into (created); existing objects with the same keys are replaced.
        nodes: number of managed nodes (>= 1), spread evenly over accounts x Regions.
        accounts: 12-digit account ids (the ``accountid=`` partition).
        regions: Region names (the ``region=`` partition).
        seed: random seed; the same seed and ``now`` give byte-identical output.
        now: the moment "now" for capture times (UTC; default: the current time).
        prefix: the central sync prefix, written as sub-folders of ``out`` ("" for none);
            each account's objects go under ``<prefix>/<account id>/``.
        instance_key: ``"both"`` (``AWS:InstanceInformation`` records carry ``InstanceId`` and
            ``resourceId``) or ``"InstanceId"`` (only ``InstanceId``, the walkthrough's variant).

    Returns:
        A :class:`GenerationResult` (files written, bytes, seconds).

    Raises:
        ValueError: see :func:`validate_fleet_args`; ``instance_key`` is neither value.
        OSError: ``out`` cannot be written.
    """
    validate_fleet_args(nodes, accounts, regions, prefix)
    if instance_key not in INSTANCE_KEYS:
        raise ValueError(f"instance_key must be one of {INSTANCE_KEYS}, got {instance_key!r}")
    started = time.perf_counter()
    moment = (now or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0)
    rng = random.Random(seed)  # noqa: S311 - sample data, not cryptography
    root = out / prefix if prefix else out
    made: set[Path] = set()
    files = 0
    size = 0
    baseline_ids = {
        "linux": f"pb-0{rng.getrandbits(64):016x}",
        "windows": f"pb-0{rng.getrandbits(64):016x}",
        "appa": f"pb-0{rng.getrandbits(64):016x}",
    }
    for k in range(nodes):
        account = accounts[k % len(accounts)]
        region = regions[(k // len(accounts)) % len(regions)]
        objects = _node_objects(rng, k, moment, baseline_ids)
        node_id = objects["AWS:InstanceInformation"][0]["InstanceId"]
        if instance_key == "InstanceId":
            del objects["AWS:InstanceInformation"][0]["resourceId"]
        for type_name, records in objects.items():
            folder = (
                root
                / account
                / type_name
                / f"accountid={account}"
                / f"region={region}"
                / f"resourcetype={RESOURCE_TYPE}"
            )
            if folder not in made:
                folder.mkdir(parents=True, exist_ok=True)
                made.add(folder)
            body = _lines(records).encode()
            (folder / f"{node_id}.json").write_bytes(body)
            files += 1
            size += len(body)
    return GenerationResult(root, nodes, files, size, time.perf_counter() - started)


def _node_objects(
    rng: random.Random, k: int, now: datetime, baseline_ids: dict[str, str]
) -> dict[str, list[dict[str, Any]]]:
    hybrid = rng.random() < 0.10
    node_id = f"{'mi' if hybrid else 'i'}-0{k:08x}{rng.getrandbits(32):08x}"
    ptype, pname, pversion, family, group = rng.choice(
        _HYBRID_PLATFORMS if hybrid else _EC2_PLATFORMS
    )
    roll = rng.random()
    if roll < 0.03 and not hybrid:
        status, age = "Terminated", timedelta(days=rng.randint(10, 90))
    elif roll < 0.11:
        status = "ConnectionLost" if hybrid else "Stopped"
        age = timedelta(days=rng.randint(8, 60), hours=rng.randint(0, 23))
    else:
        status, age = "Active", timedelta(minutes=rng.randint(5, 36 * 60))
    captured = _iso(now - age)
    scanned = rng.random() >= 0.04
    name = f"{'azure' if hybrid else 'ip'}-{k:06d}"
    common = {"resourceId": node_id, "captureTime": captured, "schemaVersion": "1.0"}

    info = {
        "AgentType": "amazon-ssm-agent",
        "AgentVersion": rng.choice(("3.3.987.0", "3.3.1142.0")),
        "ComputerName": name,
        "InstanceId": node_id,
        "InstanceStatus": status,
        "IpAddress": f"10.{(k >> 16) & 255}.{(k >> 8) & 255}.{k & 255}",
        "PlatformName": pname,
        "PlatformType": ptype,
        "PlatformVersion": pversion,
        "ResourceType": "ManagedInstance" if hybrid else "EC2Instance",
        **common,
    }
    tags = [
        {"Key": "Name", "Value": name, **common},
        {"Key": "PatchGroup", "Value": group, **common},
        {"Key": "Environment", "Value": rng.choice(("prod", "staging", "dev")), **common},
    ]
    apps = [
        {
            "Name": app_name,
            "ApplicationType": app_type,
            "Publisher": publisher,
            "Version": rng.choice(versions),
            "Release": "1",
            "Epoch": "",
            "InstalledTime": _iso(now - timedelta(days=rng.randint(30, 400))),
            "Architecture": "x86_64",
            "URL": "",
            "Summary": app_name,
            "PackageId": f"{app_name}.rpm" if family == "linux" else "",
            **common,
        }
        for app_name, publisher, app_type, versions in _pick_apps(rng, family)
    ]
    objects: dict[str, list[dict[str, Any]]] = {
        "AWS:InstanceInformation": [info],
        "AWS:Application": apps,
        "AWS:Tag": tags,
    }
    if scanned:
        objects.update(
            _patch_objects(
                rng,
                family=family,
                group=group,
                baseline_id=baseline_ids[group],
                now=now,
                age=age,
                common=common,
            )
        )
    return objects


def _pick_apps(rng: random.Random, family: str) -> list[tuple[str, str, str, tuple[str, ...]]]:
    catalog = _APPS[family]
    extra = rng.sample(catalog[2:], k=rng.randint(2, len(catalog) - 2))
    return [catalog[0], catalog[1], *extra]


def _patch_objects(
    rng: random.Random,
    *,
    family: str,
    group: str,
    baseline_id: str,
    now: datetime,
    age: timedelta,
    common: dict[str, str],
) -> dict[str, list[dict[str, Any]]]:
    catalog = _PATCHES[family]
    chosen = rng.sample(catalog, k=rng.randint(4, 7))
    missing_n = 0 if rng.random() < 0.5 else rng.randint(1, min(4, len(chosen) - 1))
    executed = now - age - timedelta(minutes=rng.randint(1, 120))
    execution_id = f"{rng.getrandbits(128):032x}"
    execution = {
        "ExecutionId": f"{execution_id[:8]}-{execution_id[8:12]}-{execution_id[12:16]}-"
        f"{execution_id[16:20]}-{execution_id[20:]}",
        "ExecutionType": "Command",
        "ExecutionTime": _iso(executed),
    }
    items: list[dict[str, Any]] = []
    counts = {
        "compliant": dict.fromkeys(_SEVERITIES, 0),
        "noncompliant": dict.fromkeys(_SEVERITIES, 0),
    }
    missing = failed = critical_nc = security_nc = other_nc = 0
    for index, (patch_id, title, classification, patch_severity) in enumerate(chosen):
        if index < missing_n:
            state = "Failed" if rng.random() < 0.1 else "Missing"
            item_status = "NON_COMPLIANT"
            if state == "Failed":
                failed += 1
            else:
                missing += 1
            if patch_severity == "Critical":
                critical_nc += 1
            elif classification in ("Security", "SecurityUpdates", "CriticalUpdates"):
                security_nc += 1
            else:
                other_nc += 1
        else:
            state, item_status = "Installed", "COMPLIANT"
        severity = _COMPLIANCE_SEVERITY.get(patch_severity, "UNSPECIFIED")
        counts["compliant" if item_status == "COMPLIANT" else "noncompliant"][severity] += 1
        items.append(
            {
                "ComplianceType": "Patch",
                "Id": patch_id,
                "Title": title,
                "Status": item_status,
                "Severity": severity,
                "PatchSeverity": patch_severity,
                "Classification": classification,
                "PatchState": state,
                "PatchBaselineId": baseline_id,
                "PatchGroup": group,
                "InstalledTime": _iso(executed - timedelta(days=3)) if state == "Installed" else "",
                "DocumentName": "AWS-RunPatchBaseline",
                **execution,
                **common,
            }
        )
    association_ok = rng.random() >= 0.1
    association_id = f"{rng.getrandbits(128):032x}"
    items.append(
        {
            "ComplianceType": "Association",
            "Id": f"{association_id[:8]}-{association_id[8:12]}-{association_id[12:16]}-"
            f"{association_id[16:20]}-{association_id[20:]}",
            "Title": "AWS-GatherSoftwareInventory",
            "Status": "COMPLIANT" if association_ok else "NON_COMPLIANT",
            "Severity": "UNSPECIFIED",
            "DocumentName": "AWS-GatherSoftwareInventory",
            **execution,
            **common,
        }
    )
    noncompliant = missing + failed > 0
    worst = next((s for s in _SEVERITIES if counts["noncompliant"][s]), "UNSPECIFIED")
    patch_summary = {
        "ComplianceType": "Patch",
        "PatchGroup": group,
        "PatchBaselineId": baseline_id,
        "Status": "NON_COMPLIANT" if noncompliant else "COMPLIANT",
        "OverallSeverity": worst if noncompliant else "UNSPECIFIED",
        **execution,
        **{f"Compliant{_CAMEL[s]}Count": str(counts["compliant"][s]) for s in _SEVERITIES},
        **{f"NonCompliant{_CAMEL[s]}Count": str(counts["noncompliant"][s]) for s in _SEVERITIES},
        **common,
    }
    association_summary = {
        "ComplianceType": "Association",
        "Status": "COMPLIANT" if association_ok else "NON_COMPLIANT",
        "OverallSeverity": "UNSPECIFIED",
        **execution,
        **{f"Compliant{_CAMEL[s]}Count": "0" for s in _SEVERITIES},
        **{f"NonCompliant{_CAMEL[s]}Count": "0" for s in _SEVERITIES},
        "CompliantUnspecifiedCount": "1" if association_ok else "0",
        "NonCompliantUnspecifiedCount": "0" if association_ok else "1",
        **common,
    }
    installed = len(chosen) - missing_n
    summary = {
        "PatchGroup": group,
        "BaselineId": baseline_id,
        "SnapshotId": execution["ExecutionId"],
        "InstalledCount": str(installed + rng.randint(200, 600)),
        "InstalledOtherCount": str(rng.randint(0, 40)),
        "InstalledPendingRebootCount": "0",
        "InstalledRejectedCount": "0",
        "MissingCount": str(missing),
        "FailedCount": str(failed),
        "NotApplicableCount": str(rng.randint(100, 900)),
        "UnreportedNotApplicableCount": "0",
        "CriticalNonCompliantCount": str(critical_nc),
        "SecurityNonCompliantCount": str(security_nc),
        "OtherNonCompliantCount": str(other_nc),
        "OperationType": "Scan",
        "OperationStartTime": _iso(executed),
        "OperationEndTime": _iso(executed + timedelta(minutes=2)),
        "RebootOption": "NoReboot",
        **common,
    }
    return {
        "AWS:PatchSummary": [summary],
        "AWS:ComplianceSummary": [patch_summary, association_summary],
        "AWS:ComplianceItem": items,
    }


_SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL", "UNSPECIFIED")
_CAMEL = {s: s.capitalize() for s in _SEVERITIES}


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the process exit status (2 on bad arguments)."""
    parser = argparse.ArgumentParser(
        prog="python -m tools.report.generate",
        description="Write a sample fleet in the Resource Data Sync layout and JSON format.",
    )
    parser.add_argument("--nodes", type=int, required=True, help="number of managed nodes")
    parser.add_argument("--out", type=Path, required=True, help="folder to write into")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--accounts", nargs="+", default=list(DEFAULT_ACCOUNTS))
    parser.add_argument("--regions", nargs="+", default=list(DEFAULT_REGIONS))
    parser.add_argument(
        "--prefix", default="", help="the central sync prefix (sub-folders; then <account id>/)"
    )
    parser.add_argument(
        "--instance-key",
        choices=INSTANCE_KEYS,
        default="both",
        help="AWS:InstanceInformation node key: InstanceId and resourceId, or InstanceId only",
    )
    args = parser.parse_args(argv)
    try:
        result = generate(
            args.out,
            args.nodes,
            accounts=tuple(args.accounts),
            regions=tuple(args.regions),
            seed=args.seed,
            prefix=args.prefix,
            instance_key=args.instance_key,
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(
        f"wrote {result.nodes} managed nodes ({result.files} objects, "
        f"{result.bytes / 1e6:.1f} MB) to {result.root} in {result.seconds:.1f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
