"""Emulated State Manager associations (aws_ssm_association)."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

SCAN = {
    "Name": "AWS-RunPatchBaseline",
    "AssociationName": "ss-oregon-patch-scan",
    "ScheduleExpression": "cron(0 2 ? * SUN *)",
    "ApplyOnlyAtCronInterval": True,
    "Parameters": {"Operation": ["Scan"]},
    "Targets": [{"Key": "tag:Patch Group", "Values": ["Linux", "Windows"]}],
    "OutputLocation": {
        "S3Location": {
            "OutputS3BucketName": "ss-oregon-patch-baseline-logs",
            "OutputS3KeyPrefix": "scan/",
            "OutputS3Region": "us-west-2",
        }
    },
    "MaxConcurrency": "10%",
    "MaxErrors": "5%",
    "ComplianceSeverity": "HIGH",
    "SyncCompliance": "AUTO",
}


def _code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


def test_create_then_describe_returns_every_member(ssm: Any) -> None:
    created = ssm.create_association(**SCAN, Tags=[{"Key": "Owner", "Value": "platform"}])
    description = created["AssociationDescription"]
    association_id = description["AssociationId"]
    assert description["AssociationVersion"] == "1"
    assert description["Overview"]["Status"] == "Pending"
    assert description["DocumentVersion"] == "$DEFAULT"

    read = ssm.describe_association(AssociationId=association_id)["AssociationDescription"]
    for key, value in SCAN.items():
        assert read[key] == value, key
    assert read["Date"] == description["Date"]
    tags = ssm.list_tags_for_resource(ResourceType="Association", ResourceId=association_id)
    assert tags["TagList"] == [{"Key": "Owner", "Value": "platform"}]


def test_optional_members_are_absent_unless_given(ssm: Any) -> None:
    created = ssm.create_association(
        Name="AWS-GatherSoftwareInventory",
        ScheduleExpression="rate(30 minutes)",
        Targets=[{"Key": "InstanceIds", "Values": ["*"]}],
    )["AssociationDescription"]
    read = ssm.describe_association(AssociationId=created["AssociationId"])
    description = read["AssociationDescription"]
    for absent in ("SyncCompliance", "ComplianceSeverity", "MaxErrors", "OutputLocation"):
        assert absent not in description
    assert description["ApplyOnlyAtCronInterval"] is False


def test_update_replaces_members_and_bumps_the_version(ssm: Any) -> None:
    association_id = ssm.create_association(**SCAN)["AssociationDescription"]["AssociationId"]
    updated = ssm.update_association(
        AssociationId=association_id,
        AssociationName=SCAN["AssociationName"],
        ScheduleExpression="cron(0 3 ? * SAT *)",
        Parameters={"Operation": ["Scan"]},
    )["AssociationDescription"]
    assert updated["AssociationVersion"] == "2"
    assert updated["ScheduleExpression"] == "cron(0 3 ? * SAT *)"
    assert updated["Name"] == "AWS-RunPatchBaseline"
    assert updated["Targets"] == SCAN["Targets"]
    # AWS resets optional members an update leaves out.
    assert "MaxConcurrency" not in updated
    assert "OutputLocation" not in updated

    with pytest.raises(ClientError) as stale:
        ssm.update_association(AssociationId=association_id, AssociationVersion="1")
    assert _code(stale) == "InvalidAssociationVersion"


def test_delete_then_describe_and_delete_again_fail(ssm: Any) -> None:
    association_id = ssm.create_association(**SCAN)["AssociationDescription"]["AssociationId"]
    ssm.delete_association(AssociationId=association_id)
    with pytest.raises(ClientError) as described:
        ssm.describe_association(AssociationId=association_id)
    assert _code(described) == "AssociationDoesNotExist"
    with pytest.raises(ClientError) as deleted:
        ssm.delete_association(AssociationId=association_id)
    assert _code(deleted) == "AssociationDoesNotExist"
    with pytest.raises(ClientError) as updated:
        ssm.update_association(AssociationId=association_id, ScheduleExpression="rate(1 day)")
    assert _code(updated) == "AssociationDoesNotExist"


@pytest.mark.parametrize(
    "schedule", ["cron(0 2 * *)", "rate(5 minutes)", "every sunday", "cron(0 25 ? * SUN *)"]
)
def test_bad_schedule_is_invalid_schedule(ssm: Any, schedule: str) -> None:
    with pytest.raises(ClientError) as error:
        ssm.create_association(**dict(SCAN, ScheduleExpression=schedule))
    assert _code(error) == "InvalidSchedule"
    assert ssm.list_associations()["Associations"] == []


def test_bad_schedule_on_update_changes_nothing(ssm: Any) -> None:
    association_id = ssm.create_association(**SCAN)["AssociationDescription"]["AssociationId"]
    with pytest.raises(ClientError) as error:
        ssm.update_association(AssociationId=association_id, ScheduleExpression="rate(1 minute)")
    assert _code(error) == "InvalidSchedule"
    read = ssm.describe_association(AssociationId=association_id)["AssociationDescription"]
    assert read["AssociationVersion"] == "1"
    assert read["ScheduleExpression"] == SCAN["ScheduleExpression"]


def test_unknown_document_is_invalid_document(ssm: Any) -> None:
    with pytest.raises(ClientError) as error:
        ssm.create_association(Name="fleetpatch-missing", Targets=SCAN["Targets"])
    assert _code(error) == "InvalidDocument"


def test_own_document_can_be_associated(ssm: Any) -> None:
    ssm.create_document(
        Name="fleetpatch-Command",
        DocumentType="Command",
        DocumentFormat="YAML",
        Content=(
            "schemaVersion: '2.2'\ndescription: d\nmainSteps:\n"
            "  - action: aws:runShellScript\n    name: run\n    inputs:\n"
            "      runCommand: ['true']\n"
        ),
    )
    created = ssm.create_association(Name="fleetpatch-Command", Targets=SCAN["Targets"])
    assert created["AssociationDescription"]["Name"] == "fleetpatch-Command"


def test_duplicate_association_name_is_refused(ssm: Any) -> None:
    ssm.create_association(**SCAN)
    with pytest.raises(ClientError) as error:
        ssm.create_association(**SCAN)
    assert _code(error) == "AssociationAlreadyExists"
    assert len(ssm.list_associations()["Associations"]) == 1


@pytest.mark.parametrize(
    ("member", "value"),
    [
        ("AssociationName", "has spaces"),
        ("MaxConcurrency", "0"),
        ("MaxErrors", "101%"),
        ("ComplianceSeverity", "SEVERE"),
        ("ScheduleOffset", 7),
    ],
)
def test_constraint_violations_are_validation_exceptions(ssm: Any, member: str, value: Any) -> None:
    with pytest.raises(ClientError) as error:
        ssm.create_association(**dict(SCAN, **{member: value}))
    assert _code(error) == "ValidationException"
    assert "validation error detected" in error.value.response["Error"]["Message"]
    assert ssm.list_associations()["Associations"] == []


def test_schedule_offset_needs_apply_only_at_cron_interval(ssm: Any) -> None:
    with pytest.raises(ClientError) as error:
        ssm.create_association(**dict(SCAN, ApplyOnlyAtCronInterval=False, ScheduleOffset=2))
    assert _code(error) == "InvalidSchedule"


def test_list_filters_and_pages(ssm: Any) -> None:
    for index in range(3):
        ssm.create_association(**dict(SCAN, AssociationName=f"scan-{index}"))
    ssm.create_association(Name="AWS-GatherSoftwareInventory", Targets=SCAN["Targets"])
    pages = ssm.get_paginator("list_associations").paginate(PaginationConfig={"PageSize": 1})
    names = [item["Name"] for page in pages for item in page["Associations"]]
    assert sorted(names) == ["AWS-GatherSoftwareInventory"] + ["AWS-RunPatchBaseline"] * 3
    scans = ssm.list_associations(
        AssociationFilterList=[{"key": "AssociationName", "value": "scan-1"}]
    )["Associations"]
    assert [item["AssociationName"] for item in scans] == ["scan-1"]
    with pytest.raises(ClientError) as error:
        ssm.list_associations(NextToken="not-a-token")
    assert _code(error) == "InvalidNextToken"


def test_association_tags_can_change(ssm: Any) -> None:
    association_id = ssm.create_association(**SCAN)["AssociationDescription"]["AssociationId"]
    ssm.add_tags_to_resource(
        ResourceType="Association", ResourceId=association_id, Tags=[{"Key": "a", "Value": "1"}]
    )
    ssm.remove_tags_from_resource(
        ResourceType="Association", ResourceId=association_id, TagKeys=["a"]
    )
    tags = ssm.list_tags_for_resource(ResourceType="Association", ResourceId=association_id)
    assert tags["TagList"] == []
    with pytest.raises(ClientError) as error:
        ssm.list_tags_for_resource(
            ResourceType="Association", ResourceId="00000000-0000-0000-0000-000000000000"
        )
    assert _code(error) == "InvalidResourceId"
