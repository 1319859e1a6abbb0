"""The botocore-model checks the emulator and its tests rely on."""

from __future__ import annotations

from tests.emulator.shapes import operation_model, request_violations, response_problems


def test_conforming_response_has_no_problems() -> None:
    model = operation_model("ssm", "DescribePatchGroups")
    body = {
        "Mappings": [
            {
                "PatchGroup": "Linux",
                "BaselineIdentity": {
                    "BaselineId": "pb-0123456789abcdef0",
                    "OperatingSystem": "AMAZON_LINUX_2",
                    "DefaultBaseline": False,
                },
            }
        ]
    }
    assert response_problems(model, body) == []


def test_response_problems_are_found() -> None:
    model = operation_model("ssm", "DescribeAssociation")
    body = {
        "AssociationDescription": {
            "Name": 5,
            "Status": {"Name": "Pending"},
            "ComplianceSeverity": "SEVERE",
            "Surprise": True,
            "Date": "yesterday",
            "ApplyOnlyAtCronInterval": 1,
        }
    }
    problems = response_problems(model, body)
    assert "$.AssociationDescription.Name: expected string, got int" in problems
    assert "$.AssociationDescription.Status.Date: required member missing" in problems
    assert "$.AssociationDescription.Status.Message: required member missing" in problems
    assert any(
        p.startswith("$.AssociationDescription.ComplianceSeverity: 'SEVERE'") for p in problems
    )
    assert "$.AssociationDescription.Surprise: not a member of AssociationDescription" in problems
    assert "$.AssociationDescription.Date: expected timestamp, got str" in problems
    assert "$.AssociationDescription.ApplyOnlyAtCronInterval: expected boolean, got int" in problems


def test_operation_without_members_accepts_only_an_empty_body() -> None:
    model = operation_model("ssm", "DeleteActivation")
    assert response_problems(model, {}) == []
    assert response_problems(model, {"Deleted": True}) != []


def test_request_violations_follow_aws_wording() -> None:
    model = operation_model("ssm", "CreateAssociation")
    problems = request_violations(
        model,
        {
            "Name": "AWS-RunPatchBaseline",
            "AssociationName": "has spaces",
            "ComplianceSeverity": "SEVERE",
            "MaxConcurrency": "0",
            "ScheduleExpression": "x" * 257,
            "Targets": [{"Key": "tag:Patch Group", "Values": ["Linux"]}] * 6,
        },
    )
    assert any("'associationName'" in p and "regular expression" in p for p in problems)
    assert any("'complianceSeverity'" in p and "enum value set" in p for p in problems)
    assert any("'maxConcurrency'" in p for p in problems)
    assert any("'scheduleExpression'" in p and "less than or equal to 256" in p for p in problems)
    assert any("'targets'" in p and "less than or equal to 5" in p for p in problems)


def test_request_violations_find_missing_required_members() -> None:
    model = operation_model("ssm", "CreateResourceDataSync")
    problems = request_violations(
        model, {"SyncName": "s", "S3Destination": {"BucketName": "b", "Region": "us-west-2"}}
    )
    assert problems == [
        "Value null at 's3Destination.syncFormat' failed to satisfy constraint: "
        "Member must not be null"
    ]


def test_java_unicode_classes_in_patterns_are_understood() -> None:
    model = operation_model("ssm", "RegisterPatchBaselineForPatchGroup")
    ok = {"BaselineId": "pb-0123456789abcdef0", "PatchGroup": "Linux Prod-1"}
    assert request_violations(model, ok) == []
    bad = dict(ok, PatchGroup="Linux;rm")
    assert any("'patchGroup'" in p for p in request_violations(model, bad))
