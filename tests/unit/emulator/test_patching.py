"""Patch Manager, compliance and inventory on the emulator (tests/emulator/patching.py)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from tests.emulator import agent, patching
from tests.emulator import patch_catalog as catalog
from tests.emulator import ssm as ssm_ext
from tests.emulator.shapes import response_problems

from .conftest import ResponseChecker, checked_client

ACCOUNT, REGION = "123456789012", "us-west-2"
LINUX: dict[str, Any] = {
    "InstanceId": "i-0123456789abcdef0",
    "PingStatus": "Online",
    "PlatformType": "Linux",
    "PlatformName": "Amazon Linux",
    "PlatformVersion": "2023",
    "ResourceType": "EC2Instance",
    "IPAddress": "10.0.0.5",
    "ComputerName": "ip-10-0-0-5",
    "AgentVersion": "3.3.40.0",
    "Tags": {"PatchGroup": "linux"},
}
WINDOWS: dict[str, Any] = {
    "InstanceId": "i-0fedcba9876543210",
    "PingStatus": "Online",
    "PlatformType": "Windows",
    "PlatformName": "Microsoft Windows Server 2022 Datacenter",
    "PlatformVersion": "10.0.20348",
    "ResourceType": "EC2Instance",
    "Tags": {"Patch Group": "windows"},
}
LINUX_RULES: dict[str, Any] = {
    "PatchRules": [
        {
            "PatchFilterGroup": {
                "PatchFilters": [
                    {"Key": "PRODUCT", "Values": ["*"]},
                    {"Key": "CLASSIFICATION", "Values": ["Security", "Bugfix"]},
                    {"Key": "SEVERITY", "Values": ["Critical", "Important"]},
                ]
            },
            "ApproveAfterDays": 7,
            "ComplianceLevel": "HIGH",
        }
    ]
}


class _PatchChecker(ResponseChecker):
    """Shape-checks the responses of this module's operations (conftest checks ssm.py's)."""

    def __call__(self, http_response: Any, model: Any, **_: Any) -> None:
        if model.name not in patching.OPERATIONS:
            return
        self.checked.append((model.name, http_response.status_code))
        body = json.loads(http_response.content or b"{}")
        if http_response.status_code < 300:
            self.problems += [f"{model.name} {p}" for p in response_problems(model, body)]
        else:
            code = str(body.get("__type", "")).rsplit("#", 1)[-1]
            allowed = {s.name for s in model.error_shapes} | {"ValidationException"}
            if code not in allowed:
                self.problems.append(f"{model.name}: error {code} not in {sorted(allowed)}")


@pytest.fixture
def fleet(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[dict[str, Any]]]:
    """moto in-process with ssm.py and patching.py installed, and two fake agent nodes.

    Only these two modules are installed (not the whole emulator): the other engines are
    tested in their own files and are being built concurrently.
    """
    for key, value in (
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_DEFAULT_REGION", REGION),
    ):
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    nodes = [dict(LINUX), dict(WINDOWS)]
    monkeypatch.setattr(agent, "nodes", lambda account, region: nodes, raising=False)
    monkeypatch.setattr(patching, "USE_COMMAND_ENGINE", False)
    ssm_ext.install()
    patching.install()
    with mock_aws():
        yield nodes


@pytest.fixture
def client(fleet: list[dict[str, Any]]) -> Iterator[Any]:
    checker = _PatchChecker()
    ssm = checked_client("ssm", checker)
    yield ssm
    assert checker.problems == [], "\n".join(checker.problems)


def _baseline(ssm: Any, group: str = "linux", **extra: Any) -> str:
    body: dict[str, Any] = {
        "Name": f"fp-{group}",
        "OperatingSystem": "AMAZON_LINUX_2023",
        "ApprovalRules": LINUX_RULES,
    }
    body.update(extra)
    baseline_id: str = ssm.create_patch_baseline(**body)["BaselineId"]
    ssm.register_patch_baseline_for_patch_group(BaselineId=baseline_id, PatchGroup=group)
    return baseline_id


class _Reboots:
    def __init__(self, back: bool = True) -> None:
        self.count, self.back = 0, back

    def __call__(self) -> bool:
        self.count += 1
        return self.back


def _ctx(
    node: dict[str, Any],
    document: str = patching.RUN_PATCH_BASELINE,
    reboot: _Reboots | None = None,
    faults: dict[str, Any] | None = None,
    **parameters: str,
) -> agent.CommandContext:
    return agent.CommandContext(
        account_id=ACCOUNT,
        region=REGION,
        node=node,
        node_id=node["InstanceId"],
        command_id="11111111-2222-3333-4444-555555555555",
        document_name=document,
        parameters={k: [v] for k, v in parameters.items()},
        principal=None,
        faults=faults or {},
        _reboot=reboot or _Reboots(),
    )


# --- baseline rules -------------------------------------------------------------------------
def test_rules_approve_by_filters_and_age() -> None:
    approval = catalog.approved_patches({"ApprovalRules": LINUX_RULES}, "AMAZON_LINUX_2023")
    assert set(approval.approved) == {"kernel.x86_64", "openssl-libs.x86_64", "glibc.x86_64"}
    assert set(approval.approved.values()) == {"HIGH"}
    # openssh-server is Critical Security but released 3 days ago (< ApproveAfterDays 7).
    assert "openssh-server.x86_64" not in approval.approved


def test_rejected_list_wins_and_until_date() -> None:
    rules = json.loads(json.dumps(LINUX_RULES))
    rules["PatchRules"][0].pop("ApproveAfterDays")
    until = (dt.datetime.now(dt.UTC) - dt.timedelta(days=35)).strftime("%Y-%m-%d")
    rules["PatchRules"][0]["ApproveUntilDate"] = until
    approval = catalog.approved_patches(
        {"ApprovalRules": rules, "RejectedPatches": ["kernel"], "ApprovedPatches": ["curl"]},
        "AMAZON_LINUX_2023",
    )
    # kernel (40 days) is rejected; openssl (30 days) is after the cut-off; curl is listed.
    assert set(approval.approved) == {"curl.x86_64"}
    assert approval.rejected == {"kernel.x86_64"}


def test_non_security_needs_enable_non_security() -> None:
    rule = {"PatchFilterGroup": {"PatchFilters": []}, "ApproveAfterDays": 0}
    plain = catalog.approved_patches({"ApprovalRules": {"PatchRules": [rule]}}, "AMAZON_LINUX_2023")
    assert "vim-minimal.x86_64" not in plain.approved
    rule["EnableNonSecurity"] = True
    wide = catalog.approved_patches({"ApprovalRules": {"PatchRules": [rule]}}, "AMAZON_LINUX_2023")
    assert "vim-minimal.x86_64" in wide.approved


def test_windows_default_baseline_and_patch_set() -> None:
    baseline = catalog.predefined_baseline("WINDOWS", "pb-0123456789abcdef0")
    approval = catalog.approved_patches(baseline, "WINDOWS")
    # CriticalUpdates/SecurityUpdates, MSRC Critical/Important, >= 7 days, OS patch set only.
    assert set(approval.approved) == {"KB5034439", "KB5035857", "KB5034862", "KB5035849"}
    assert set(approval.approved.values()) == {"UNSPECIFIED"}


def test_patch_group_tag_keys() -> None:
    assert patching.patch_group_of(LINUX) == "linux"
    assert patching.patch_group_of(WINDOWS) == "windows"
    assert patching.patch_group_of({"Tags": {"patchgroup": "x"}}) == ""


# --- AWS-RunPatchBaseline -------------------------------------------------------------------
def test_scan_records_missing_as_non_compliant(client: Any, fleet: list[Any]) -> None:
    baseline_id = _baseline(client)
    patching.set_missing(ACCOUNT, REGION, LINUX, ["openssl-libs.x86_64", "curl.x86_64"])
    changes: list[tuple[str, str, str]] = []
    patching.on_change(lambda *args: changes.append(args))
    result = patching.run_patch_baseline(_ctx(LINUX, Operation="Scan"))
    assert (result.status, result.response_code, result.plugin_name) == ("Success", 0, "PatchLinux")
    assert (ACCOUNT, REGION, LINUX["InstanceId"]) in changes

    states = client.describe_instance_patch_states(InstanceIds=[LINUX["InstanceId"]])
    state = states["InstancePatchStates"][0]
    assert (state["BaselineId"], state["PatchGroup"], state["Operation"]) == (
        baseline_id,
        "linux",
        "Scan",
    )
    # curl (Medium) is not approved: missing but not reported.
    assert (state["MissingCount"], state["InstalledCount"]) == (1, 2)
    items = client.list_compliance_items(
        ResourceIds=[LINUX["InstanceId"]],
        Filters=[{"Key": "ComplianceType", "Values": ["Patch"], "Type": "EQUAL"}],
        MaxResults=50,
    )["ComplianceItems"]
    missing = next(i for i in items if i["Id"] == "openssl-libs.x86_64")
    assert (missing["Status"], missing["Severity"]) == ("NON_COMPLIANT", "HIGH")
    assert missing["Details"]["PatchState"] == "Missing"
    assert missing["Details"]["PatchBaselineId"] == baseline_id
    assert missing["ExecutionSummary"]["ExecutionId"] == "11111111-2222-3333-4444-555555555555"
    assert missing["ExecutionSummary"]["ExecutionType"] == "Command"
    summary = client.list_compliance_summaries()["ComplianceSummaryItems"][0]
    assert summary["ComplianceType"] == "Patch"
    assert summary["NonCompliantSummary"]["NonCompliantCount"] == 1
    group = client.describe_instance_patch_states_for_patch_group(
        PatchGroup="linux",
        Filters=[{"Key": "MissingCount", "Values": ["0"], "Type": "GreaterThan"}],
    )
    assert [s["InstanceId"] for s in group["InstancePatchStates"]] == [LINUX["InstanceId"]]
    patches = client.describe_instance_patches(
        InstanceId=LINUX["InstanceId"], Filters=[{"Key": "State", "Values": ["Missing"]}]
    )["Patches"]
    assert [p["KBId"] for p in patches] == ["openssl-libs.x86_64"]


def test_install_reboot_if_needed_makes_compliant(client: Any) -> None:
    _baseline(client)
    patching.set_missing(ACCOUNT, REGION, LINUX, ["openssl-libs.x86_64"])
    reboots = _Reboots()
    result = patching.run_patch_baseline(
        _ctx(LINUX, reboot=reboots, Operation="Install", RebootOption="RebootIfNeeded")
    )
    assert result.status == "Success" and reboots.count == 1
    state = client.describe_instance_patch_states(InstanceIds=[LINUX["InstanceId"]])
    assert state["InstancePatchStates"][0]["MissingCount"] == 0
    resources = client.list_resource_compliance_summaries()["ResourceComplianceSummaryItems"]
    assert [(r["ResourceId"], r["Status"]) for r in resources] == [
        (LINUX["InstanceId"], "COMPLIANT")
    ]
    assert patching.node_packages(ACCOUNT, REGION, LINUX)["openssl-libs.x86_64"] == "Installed"


def test_install_no_reboot_is_pending_reboot(client: Any) -> None:
    _baseline(client)
    patching.set_missing(ACCOUNT, REGION, LINUX, ["glibc.x86_64"])
    reboots = _Reboots()
    patching.run_patch_baseline(
        _ctx(LINUX, reboot=reboots, Operation="Install", RebootOption="NoReboot")
    )
    assert reboots.count == 0
    state = client.describe_instance_patch_states(InstanceIds=[LINUX["InstanceId"]])[
        "InstancePatchStates"
    ][0]
    assert state["InstalledPendingRebootCount"] == 1
    assert "LastNoRebootInstallOperationTime" in state
    item = next(i for i in patching.compliance_items(ACCOUNT, REGION) if i["Id"] == "glibc.x86_64")
    assert (item["Status"], item["Details"]["PatchState"]) == (
        "NON_COMPLIANT",
        "InstalledPendingReboot",
    )
    # The next RebootIfNeeded reboots for the pending patch even with nothing to install.
    patching.run_patch_baseline(
        _ctx(LINUX, reboot=reboots, Operation="Install", RebootOption="RebootIfNeeded")
    )
    assert reboots.count == 1
    assert patching.node_packages(ACCOUNT, REGION, LINUX)["glibc.x86_64"] == "Installed"


def test_snapshot_id_pins_the_approved_set(client: Any) -> None:
    baseline_id = _baseline(client)
    patching.set_missing(ACCOUNT, REGION, LINUX, ["curl.x86_64"])
    patching.run_patch_baseline(_ctx(LINUX, Operation="Scan", SnapshotId="snap-1"))
    client.update_patch_baseline(BaselineId=baseline_id, ApprovedPatches=["curl"])
    patching.run_patch_baseline(_ctx(LINUX, Operation="Scan", SnapshotId="snap-1"))
    pinned = client.describe_instance_patch_states(InstanceIds=[LINUX["InstanceId"]])
    assert pinned["InstancePatchStates"][0]["MissingCount"] == 0
    assert pinned["InstancePatchStates"][0]["SnapshotId"] == "snap-1"
    patching.run_patch_baseline(_ctx(LINUX, Operation="Scan", SnapshotId="snap-2"))
    fresh = client.describe_instance_patch_states(InstanceIds=[LINUX["InstanceId"]])
    assert fresh["InstancePatchStates"][0]["MissingCount"] == 1


def test_patch_exit_code_fault_fails_the_patches(client: Any) -> None:
    _baseline(client)
    patching.set_missing(ACCOUNT, REGION, LINUX, ["kernel.x86_64"])
    reboots = _Reboots()
    result = patching.run_patch_baseline(
        _ctx(LINUX, reboot=reboots, faults={"patch_exit_code": 2}, Operation="Install")
    )
    assert (result.status, result.response_code, reboots.count) == ("Failed", 2, 0)
    state = client.describe_instance_patch_states(InstanceIds=[LINUX["InstanceId"]])
    assert state["InstancePatchStates"][0]["FailedCount"] == 1


def test_lost_after_reboot_reports_nothing(client: Any) -> None:
    _baseline(client)
    patching.set_missing(ACCOUNT, REGION, LINUX, ["kernel.x86_64"])
    result = patching.run_patch_baseline(
        _ctx(LINUX, reboot=_Reboots(back=False), Operation="Install")
    )
    assert result.status == "TimedOut"
    assert (
        client.describe_instance_patch_states(InstanceIds=[LINUX["InstanceId"]])[
            "InstancePatchStates"
        ]
        == []
    )


def test_windows_plugin_default_baseline(client: Any) -> None:
    result = patching.run_patch_baseline(_ctx(WINDOWS, Operation="Scan"))
    assert result.plugin_name == "PatchWindows"
    state = client.describe_instance_patch_states(InstanceIds=[WINDOWS["InstanceId"]])
    state_item = state["InstancePatchStates"][0]
    assert state_item["PatchGroup"] == "windows"
    assert state_item["BaselineId"].endswith("pb-04fb4ae6142167966")
    assert state_item["NotApplicableCount"] == 1  # KB5035849 is for Windows Server 2019


def test_overrides(client: Any, fleet: list[Any]) -> None:
    import boto3  # noqa: PLC0415

    s3: Any = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="ovr", CreateBucketConfiguration={"LocationConstraint": REGION})
    override = [{"OperatingSystem": "AMAZON_LINUX_2023", "ApprovedPatches": ["curl"]}]
    s3.put_object(Bucket="ovr", Key="b.json", Body=json.dumps(override).encode())
    s3.put_object(Bucket="ovr", Key="list.yaml", Body=b"patches:\n  - id: 'sudo.x86_64'\n")
    patching.set_missing(ACCOUNT, REGION, LINUX, ["curl.x86_64", "sudo.x86_64"])
    both = patching.run_patch_baseline(
        _ctx(
            LINUX,
            Operation="Install",
            BaselineOverride="s3://ovr/b.json",
            InstallOverrideList="s3://ovr/list.yaml",
        )
    )
    assert both.status == "Failed" and "cannot be used together" in both.stderr
    scan = patching.run_patch_baseline(
        _ctx(LINUX, Operation="Scan", BaselineOverride="s3://ovr/b.json")
    )
    # Override results go to stdout only; patch compliance is not overwritten.
    assert '"Missing": 1' in scan.stdout
    assert patching.patch_states(ACCOUNT, REGION) == {}
    listed = patching.run_patch_baseline(
        _ctx(
            LINUX,
            Operation="Install",
            InstallOverrideList="https://s3.us-west-2.amazonaws.com/ovr/list.yaml",
        )
    )
    assert listed.status == "Success"
    packages = patching.node_packages(ACCOUNT, REGION, LINUX)
    assert (packages["sudo.x86_64"], packages["curl.x86_64"]) == ("Installed", "Missing")
    missing_object = patching.run_patch_baseline(
        _ctx(LINUX, Operation="Scan", BaselineOverride="s3://ovr/none.json")
    )
    assert missing_object.status == "Failed" and "NoSuchKey" in missing_object.stderr


# --- inventory ------------------------------------------------------------------------------
def test_inventory_gathered_and_queryable(client: Any) -> None:
    result = patching.gather_software_inventory(
        _ctx(LINUX, patching.GATHER_INVENTORY, windowsUpdates="Enabled", services="Disabled")
    )
    assert (result.status, result.plugin_name) == ("Success", "softwareInventory")
    stored = patching.inventory(ACCOUNT, REGION)
    assert "AWS:WindowsUpdate" not in stored[LINUX["InstanceId"]]  # Windows-only type
    assert set(stored) == {LINUX["InstanceId"], WINDOWS["InstanceId"]}
    found = client.get_inventory(
        Filters=[
            {"Key": "AWS:InstanceInformation.PlatformType", "Values": ["Linux"], "Type": "Equal"}
        ],
        ResultAttributes=[{"TypeName": "AWS:Application"}],
    )["Entities"]
    assert [e["Id"] for e in found] == [LINUX["InstanceId"]]
    names = {a["Name"] for a in found[0]["Data"]["AWS:Application"]["Content"]}
    installed = {
        pid.rsplit(".", 1)[0]
        for pid, s in patching.node_packages(ACCOUNT, REGION, LINUX).items()
        if s == "Installed"
    }
    assert names == installed
    first = client.get_inventory(MaxResults=1)
    assert len(first["Entities"]) == 1 and "NextToken" in first
    second = client.get_inventory(MaxResults=1, NextToken=first["NextToken"])
    assert second["Entities"][0]["Id"] != first["Entities"][0]["Id"]
    entries = client.list_inventory_entries(InstanceId=LINUX["InstanceId"], TypeName="AWS:Network")
    assert entries["Entries"][0]["IPV4"] == "10.0.0.5"
    client.put_inventory(
        InstanceId=WINDOWS["InstanceId"],
        Items=[
            {
                "TypeName": "Custom:Owner",
                "SchemaVersion": "1.0",
                "CaptureTime": "2024-05-01T00:00:00Z",
                "Content": [{"Team": "ops"}],
            }
        ],
    )
    custom = client.list_inventory_entries(
        InstanceId=WINDOWS["InstanceId"], TypeName="Custom:Owner"
    )
    assert custom["Entries"] == [{"Team": "ops"}]
    schema = client.get_inventory_schema(TypeName="AWS:Application")["Schemas"]
    assert schema[0]["TypeName"] == "AWS:Application"
    with pytest.raises(client.exceptions.InvalidInstanceId):
        client.put_inventory(InstanceId="i-00000000000000000", Items=custom_items())
    with pytest.raises(client.exceptions.InvalidAggregatorException):
        client.get_inventory(Aggregators=[{"Expression": "AWS:Application.Name"}])


def custom_items() -> list[dict[str, Any]]:
    return [
        {
            "TypeName": "Custom:Owner",
            "SchemaVersion": "1.0",
            "CaptureTime": "2024-05-01T00:00:00Z",
            "Content": [],
        }
    ]


# --- compliance APIs and associations -------------------------------------------------------
def test_put_compliance_items_custom(client: Any) -> None:
    execution = {"ExecutionTime": dt.datetime(2024, 5, 1, tzinfo=dt.UTC), "ExecutionType": "Manual"}
    client.put_compliance_items(
        ResourceId=WINDOWS["InstanceId"],
        ResourceType="ManagedInstance",
        ComplianceType="Custom:Antivirus",
        ExecutionSummary=execution,
        Items=[{"Id": "av", "Title": "AV", "Severity": "CRITICAL", "Status": "NON_COMPLIANT"}],
    )
    items = client.list_compliance_items(ResourceIds=[WINDOWS["InstanceId"]])["ComplianceItems"]
    assert [(i["ComplianceType"], i["Status"]) for i in items] == [
        ("Custom:Antivirus", "NON_COMPLIANT")
    ]
    summary = client.list_compliance_summaries()["ComplianceSummaryItems"][0]
    assert summary["NonCompliantSummary"]["SeveritySummary"]["CriticalCount"] == 1
    with pytest.raises(client.exceptions.InvalidResourceId):
        client.put_compliance_items(
            ResourceId="i-00000000000000000",
            ResourceType="ManagedInstance",
            ComplianceType="Custom:Antivirus",
            ExecutionSummary=execution,
            Items=[],
        )


def test_run_associations_records_association_compliance(client: Any, fleet: list[Any]) -> None:
    fleet[1]["PingStatus"] = "ConnectionLost"
    association = client.create_association(
        Name="AWS-GatherSoftwareInventory",
        AssociationName="inventory",
        Targets=[{"Key": "InstanceIds", "Values": ["*"]}],
        ScheduleExpression="rate(30 minutes)",
        ComplianceSeverity="MEDIUM",
    )["AssociationDescription"]
    results = patching.run_associations(ACCOUNT, REGION)
    assert results[association["AssociationId"]] == {
        LINUX["InstanceId"]: "Success",
        WINDOWS["InstanceId"]: "Pending",
    }
    items = [
        i
        for i in patching.compliance_items(ACCOUNT, REGION)
        if i["ComplianceType"] == "Association"
    ]
    assert [(i["ResourceId"], i["Id"], i["Status"], i["Severity"]) for i in items] == [
        (LINUX["InstanceId"], association["AssociationId"], "COMPLIANT", "MEDIUM")
    ]
    assert items[0]["Details"]["DocumentName"] == "AWS-GatherSoftwareInventory"
    described = client.describe_association(AssociationId=association["AssociationId"])
    overview = described["AssociationDescription"]["Overview"]
    assert overview["AssociationStatusAggregatedCount"] == {"Success": 1, "Pending": 1}
    assert "AWS:Application" in patching.inventory(ACCOUNT, REGION)[LINUX["InstanceId"]]


def test_control_endpoint_overrides_missing(fleet: list[Any]) -> None:
    from tests.emulator import control  # noqa: PLC0415

    status, answer = control.handle(
        "POST",
        "/fleetpatch/patching/packages",
        json.dumps(
            {
                "account_id": ACCOUNT,
                "region": REGION,
                "instance_id": WINDOWS["InstanceId"],
                "missing": ["KB5035857"],
            }
        ).encode(),
    )
    assert status == 200
    assert [k for k, v in answer["packages"].items() if v == "Missing"] == ["KB5035857"]
    status, answer = control.handle(
        "POST",
        "/fleetpatch/patching/packages",
        json.dumps(
            {
                "account_id": ACCOUNT,
                "region": REGION,
                "instance_id": WINDOWS["InstanceId"],
                "missing": ["KB0"],
            }
        ).encode(),
    )
    assert status == 400 and "KB0" in answer["error"]


def test_seeded_split_is_deterministic_and_noncompliant() -> None:
    first = catalog.seeded_missing("i-0abc", "AMAZON_LINUX_2023")
    assert first == catalog.seeded_missing("i-0abc", "AMAZON_LINUX_2023")
    approved = catalog.approved_patches({"ApprovalRules": LINUX_RULES}, "AMAZON_LINUX_2023")
    for node_id in ("i-0a", "i-0b", "i-0c", "mi-0123456789abcdef0"):
        assert catalog.seeded_missing(node_id, "AMAZON_LINUX_2023") & set(approved.approved)
