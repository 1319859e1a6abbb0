"""Emulated Resource Data Sync, patch baselines and groups, and hybrid activations."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.emulator.ssm import MAX_RESOURCE_DATA_SYNCS

DESTINATION = {
    "BucketName": "security-central-resource-data-sync",
    "Prefix": "inventory",
    "SyncFormat": "JsonSerDe",
    "Region": "us-west-2",
}
BASELINE = {
    "Name": "fleetpatch-amazon-linux-2",
    "OperatingSystem": "AMAZON_LINUX_2",
    "Description": "Security updates after 7 days",
    "ApprovalRules": {
        "PatchRules": [
            {
                "PatchFilterGroup": {
                    "PatchFilters": [
                        {"Key": "CLASSIFICATION", "Values": ["Security"]},
                        {"Key": "SEVERITY", "Values": ["Critical", "Important"]},
                    ]
                },
                "ComplianceLevel": "CRITICAL",
                "ApproveAfterDays": 7,
                "EnableNonSecurity": False,
            }
        ]
    },
    "GlobalFilters": {"PatchFilters": [{"Key": "PRODUCT", "Values": ["AmazonLinux2"]}]},
    "ApprovedPatchesComplianceLevel": "HIGH",
}
TRUST_SSM = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ssm.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)


def _code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


# --- resource data sync ------------------------------------------------------------------------
def test_data_sync_lifecycle(ssm: Any) -> None:
    ssm.create_resource_data_sync(SyncName="fleetpatch-inventory", S3Destination=DESTINATION)
    items = ssm.list_resource_data_sync()["ResourceDataSyncItems"]
    assert [item["SyncName"] for item in items] == ["fleetpatch-inventory"]
    assert items[0]["S3Destination"] == DESTINATION
    assert items[0]["SyncType"] == "SyncToDestination"
    ssm.delete_resource_data_sync(SyncName="fleetpatch-inventory")
    assert ssm.list_resource_data_sync()["ResourceDataSyncItems"] == []
    with pytest.raises(ClientError) as error:
        ssm.delete_resource_data_sync(SyncName="fleetpatch-inventory")
    assert _code(error) == "ResourceDataSyncNotFoundException"


def test_duplicate_sync_name_is_refused(ssm: Any) -> None:
    ssm.create_resource_data_sync(SyncName="dup", S3Destination=DESTINATION)
    with pytest.raises(ClientError) as error:
        ssm.create_resource_data_sync(SyncName="dup", S3Destination=DESTINATION)
    assert _code(error) == "ResourceDataSyncAlreadyExistsException"


def test_sync_needs_a_destination(ssm: Any) -> None:
    with pytest.raises(ClientError) as error:
        ssm.create_resource_data_sync(SyncName="nowhere")
    assert _code(error) == "ResourceDataSyncInvalidConfigurationException"
    assert ssm.list_resource_data_sync()["ResourceDataSyncItems"] == []


def test_sync_from_source_is_listed_by_type(ssm: Any) -> None:
    ssm.create_resource_data_sync(
        SyncName="org-source",
        SyncType="SyncFromSource",
        SyncSource={"SourceType": "SingleAccountMultiRegions", "SourceRegions": ["us-west-2"]},
    )
    ssm.create_resource_data_sync(SyncName="to-s3", S3Destination=DESTINATION)
    from_source = ssm.list_resource_data_sync(SyncType="SyncFromSource")["ResourceDataSyncItems"]
    assert [item["SyncName"] for item in from_source] == ["org-source"]
    assert from_source[0]["SyncSource"]["SourceRegions"] == ["us-west-2"]


def test_sync_count_is_limited(ssm: Any) -> None:
    for index in range(MAX_RESOURCE_DATA_SYNCS):
        ssm.create_resource_data_sync(SyncName=f"sync-{index}", S3Destination=DESTINATION)
    with pytest.raises(ClientError) as error:
        ssm.create_resource_data_sync(SyncName="one-too-many", S3Destination=DESTINATION)
    assert _code(error) == "ResourceDataSyncCountExceededException"


def test_sync_format_must_be_json_serde(ssm: Any) -> None:
    with pytest.raises(ClientError) as error:
        ssm.create_resource_data_sync(
            SyncName="csv", S3Destination=dict(DESTINATION, SyncFormat="Csv")
        )
    assert _code(error) == "ValidationException"


# --- patch baselines and patch groups ----------------------------------------------------------
def test_baseline_with_tags_reads_back(ssm: Any) -> None:
    baseline_id = ssm.create_patch_baseline(
        **BASELINE, Tags=[{"Key": "Environment", "Value": "shared-services"}]
    )["BaselineId"]
    read = ssm.get_patch_baseline(BaselineId=baseline_id)
    for key, value in BASELINE.items():
        if key != "Description":
            assert read[key] == value, key
    assert read["Description"] == BASELINE["Description"]
    assert read["PatchGroups"] == []
    assert read["CreatedDate"] == read["ModifiedDate"]
    tags = ssm.list_tags_for_resource(ResourceType="PatchBaseline", ResourceId=baseline_id)
    assert tags["TagList"] == [{"Key": "Environment", "Value": "shared-services"}]


def test_unknown_baseline_does_not_exist(ssm: Any) -> None:
    for call in (ssm.get_patch_baseline, ssm.update_patch_baseline):
        with pytest.raises(ClientError) as error:
            call(BaselineId="pb-0000000000000000f")
        assert _code(error) == "DoesNotExistException"


def test_update_changes_only_what_is_sent(ssm: Any) -> None:
    baseline_id = ssm.create_patch_baseline(**BASELINE)["BaselineId"]
    updated = ssm.update_patch_baseline(
        BaselineId=baseline_id, Description="now", RejectedPatches=["KB123"]
    )
    assert updated["Description"] == "now"
    assert updated["RejectedPatches"] == ["KB123"]
    assert updated["ApprovalRules"] == BASELINE["ApprovalRules"]
    assert updated["ModifiedDate"] >= updated["CreatedDate"]
    replaced = ssm.update_patch_baseline(BaselineId=baseline_id, Replace=True, Name="renamed")
    assert replaced["Name"] == "renamed"
    assert "Description" not in replaced
    assert replaced["RejectedPatches"] == []


def test_patch_group_registration(ssm: Any) -> None:
    linux = ssm.create_patch_baseline(**BASELINE)["BaselineId"]
    other = ssm.create_patch_baseline(**dict(BASELINE, Name="other-al2"))["BaselineId"]
    windows = ssm.create_patch_baseline(Name="win", OperatingSystem="WINDOWS")["BaselineId"]
    ssm.register_patch_baseline_for_patch_group(BaselineId=linux, PatchGroup="AppA")
    ssm.register_patch_baseline_for_patch_group(BaselineId=windows, PatchGroup="AppA")
    # Registering the same pair again is accepted, a second baseline of the same OS is not.
    ssm.register_patch_baseline_for_patch_group(BaselineId=linux, PatchGroup="AppA")
    with pytest.raises(ClientError) as error:
        ssm.register_patch_baseline_for_patch_group(BaselineId=other, PatchGroup="AppA")
    assert _code(error) == "AlreadyExistsException"

    mappings = ssm.describe_patch_groups()["Mappings"]
    pairs = sorted((m["PatchGroup"], m["BaselineIdentity"]["BaselineId"]) for m in mappings)
    assert pairs == sorted([("AppA", linux), ("AppA", windows)])
    linux_only = ssm.describe_patch_groups(
        Filters=[{"Key": "OPERATING_SYSTEM", "Values": ["AMAZON_LINUX_2"]}]
    )["Mappings"]
    assert [m["BaselineIdentity"]["BaselineId"] for m in linux_only] == [linux]
    assert ssm.get_patch_baseline(BaselineId=linux)["PatchGroups"] == ["AppA"]
    found = ssm.get_patch_baseline_for_patch_group(
        PatchGroup="AppA", OperatingSystem="AMAZON_LINUX_2"
    )
    assert found["BaselineId"] == linux

    with pytest.raises(ClientError) as in_use:
        ssm.delete_patch_baseline(BaselineId=linux)
    assert _code(in_use) == "ResourceInUseException"

    ssm.deregister_patch_baseline_for_patch_group(BaselineId=linux, PatchGroup="AppA")
    remaining = ssm.describe_patch_groups()["Mappings"]
    assert [m["BaselineIdentity"]["BaselineId"] for m in remaining] == [windows]
    with pytest.raises(ClientError) as again:
        ssm.deregister_patch_baseline_for_patch_group(BaselineId=linux, PatchGroup="AppA")
    assert _code(again) == "InvalidResourceId"
    default = ssm.get_patch_baseline_for_patch_group(
        PatchGroup="AppA", OperatingSystem="AMAZON_LINUX_2"
    )
    assert default["BaselineId"] != linux
    assert ssm.delete_patch_baseline(BaselineId=linux)["BaselineId"] == linux
    with pytest.raises(ClientError):
        ssm.get_patch_baseline(BaselineId=linux)


def test_register_unknown_baseline_fails(ssm: Any) -> None:
    with pytest.raises(ClientError) as error:
        ssm.register_patch_baseline_for_patch_group(
            BaselineId="pb-0000000000000000f", PatchGroup="Linux"
        )
    assert _code(error) == "DoesNotExistException"
    assert ssm.describe_patch_groups()["Mappings"] == []


def test_patch_group_name_is_validated(ssm: Any) -> None:
    linux = ssm.create_patch_baseline(**BASELINE)["BaselineId"]
    with pytest.raises(ClientError) as error:
        ssm.register_patch_baseline_for_patch_group(BaselineId=linux, PatchGroup="bad;name")
    assert _code(error) == "ValidationException"


# --- hybrid activations ------------------------------------------------------------------------
@pytest.fixture
def ssm_role(aws: None) -> str:
    iam = boto3.client("iam")
    iam.create_role(RoleName="fleetpatch-hybrid", AssumeRolePolicyDocument=TRUST_SSM)
    return "fleetpatch-hybrid"


def test_activation_lifecycle(ssm: Any, ssm_role: str) -> None:
    expires = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    created = ssm.create_activation(
        IamRole=ssm_role,
        Description="Azure and on-premises servers",
        DefaultInstanceName="azure-vm",
        RegistrationLimit=50,
        ExpirationDate=expires,
        Tags=[{"Key": "Source", "Value": "azure"}],
    )
    assert len(created["ActivationCode"]) == 20
    listed = ssm.describe_activations(
        Filters=[{"FilterKey": "ActivationIds", "FilterValues": [created["ActivationId"]]}]
    )["ActivationList"]
    assert len(listed) == 1
    activation = listed[0]
    assert activation["IamRole"] == ssm_role
    assert activation["RegistrationLimit"] == 50
    assert activation["RegistrationsCount"] == 0
    assert activation["ExpirationDate"] == expires
    assert activation["Expired"] is False
    assert activation["DefaultInstanceName"] == "azure-vm"
    assert activation["Tags"] == [{"Key": "Source", "Value": "azure"}]

    ssm.delete_activation(ActivationId=created["ActivationId"])
    assert ssm.describe_activations()["ActivationList"] == []
    with pytest.raises(ClientError) as error:
        ssm.delete_activation(ActivationId=created["ActivationId"])
    assert _code(error) == "InvalidActivation"


def test_activation_expires_after_a_day_by_default(ssm: Any, ssm_role: str) -> None:
    before = dt.datetime.now(dt.UTC)
    ssm.create_activation(IamRole=ssm_role)
    activation = ssm.describe_activations()["ActivationList"][0]
    assert activation["RegistrationLimit"] == 1
    lifetime = activation["ExpirationDate"] - before
    assert dt.timedelta(hours=23, minutes=59) < lifetime <= dt.timedelta(hours=24, minutes=1)


def test_activation_needs_a_role_trusting_ssm(ssm: Any) -> None:
    boto3.client("iam").create_role(
        RoleName="lambda-only",
        AssumeRolePolicyDocument=TRUST_SSM.replace("ssm.amazonaws.com", "lambda.amazonaws.com"),
    )
    for role in ("missing-role", "lambda-only"):
        with pytest.raises(ClientError) as error:
            ssm.create_activation(IamRole=role)
        assert _code(error) == "ValidationException"
        assert "Nonexistent role" in error.value.response["Error"]["Message"]
    assert ssm.describe_activations()["ActivationList"] == []


def test_activation_limits_are_validated(ssm: Any, ssm_role: str) -> None:
    with pytest.raises(ClientError) as limit:
        ssm.create_activation(IamRole=ssm_role, RegistrationLimit=1001)
    assert _code(limit) == "ValidationException"
    with pytest.raises(ClientError) as past:
        ssm.create_activation(IamRole=ssm_role, ExpirationDate=dt.datetime(2020, 1, 1))
    assert _code(past) == "InvalidParameters"
    assert ssm.describe_activations()["ActivationList"] == []


# --- accounts and regions ----------------------------------------------------------------------
def test_state_is_per_account_and_region(ssm: Any) -> None:
    credentials = boto3.client("sts").assume_role(
        RoleArn="arn:aws:iam::222222222222:role/fleetpatch-emulator", RoleSessionName="unit"
    )["Credentials"]
    member = boto3.client(
        "ssm",
        region_name="us-west-2",
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
    )
    member.create_resource_data_sync(SyncName="member", S3Destination=DESTINATION)
    ssm.create_association(Name="AWS-GatherSoftwareInventory")
    other_region = boto3.client("ssm", region_name="eu-west-2")

    assert [i["SyncName"] for i in member.list_resource_data_sync()["ResourceDataSyncItems"]] == [
        "member"
    ]
    assert ssm.list_resource_data_sync()["ResourceDataSyncItems"] == []
    assert member.list_associations()["Associations"] == []
    assert other_region.list_associations()["Associations"] == []
    assert len(ssm.list_associations()["Associations"]) == 1
