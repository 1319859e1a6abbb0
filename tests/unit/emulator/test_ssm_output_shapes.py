"""Every emulated SSM operation answers a valid request with its botocore output shape.

The ``ssm`` fixture checks each response body against the operation's output shape (required
members, JSON types, enums, no undeclared members); this module makes sure each operation of
``OPERATIONS`` is exercised with a populated state, so no emulated response goes unchecked.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from tests.emulator.ssm import OPERATIONS

from .conftest import ResponseChecker


def _world(ssm: Any) -> dict[str, str]:
    """One of everything, so list/describe responses carry full items."""
    boto3.client("iam").create_role(
        RoleName="hybrid",
        AssumeRolePolicyDocument=json.dumps(
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
        ),
    )
    baseline = ssm.create_patch_baseline(
        Name="al2",
        OperatingSystem="AMAZON_LINUX_2",
        Description="d",
        ApprovalRules={
            "PatchRules": [
                {
                    "PatchFilterGroup": {
                        "PatchFilters": [{"Key": "CLASSIFICATION", "Values": ["Security"]}]
                    },
                    "ApproveAfterDays": 7,
                }
            ]
        },
        Tags=[{"Key": "k", "Value": "v"}],
    )["BaselineId"]
    spare = ssm.create_patch_baseline(Name="spare", OperatingSystem="WINDOWS")["BaselineId"]
    ssm.register_patch_baseline_for_patch_group(BaselineId=baseline, PatchGroup="Linux")
    association = ssm.create_association(
        Name="AWS-RunPatchBaseline",
        AssociationName="scan",
        ScheduleExpression="cron(0 2 ? * SUN *)",
        Parameters={"Operation": ["Scan"]},
        Targets=[{"Key": "tag:Patch Group", "Values": ["Linux"]}],
        OutputLocation={"S3Location": {"OutputS3BucketName": "logs", "OutputS3KeyPrefix": "p"}},
        ComplianceSeverity="HIGH",
        SyncCompliance="AUTO",
        MaxConcurrency="10%",
        MaxErrors="1",
        Tags=[{"Key": "k", "Value": "v"}],
    )["AssociationDescription"]["AssociationId"]
    ssm.create_resource_data_sync(
        SyncName="sync",
        S3Destination={"BucketName": "b", "SyncFormat": "JsonSerDe", "Region": "us-west-2"},
    )
    activation = ssm.create_activation(
        IamRole="hybrid", DefaultInstanceName="vm", Tags=[{"Key": "k", "Value": "v"}]
    )["ActivationId"]
    return {
        "baseline": baseline,
        "spare": spare,
        "association": association,
        "activation": activation,
    }


CALLS: dict[str, Callable[[Any, dict[str, str]], Any]] = {
    "CreateAssociation": lambda c, w: c.create_association(
        Name="AWS-GatherSoftwareInventory", Targets=[{"Key": "InstanceIds", "Values": ["*"]}]
    ),
    "DescribeAssociation": lambda c, w: c.describe_association(AssociationId=w["association"]),
    "UpdateAssociation": lambda c, w: c.update_association(
        AssociationId=w["association"], ScheduleExpression="rate(1 day)"
    ),
    "DeleteAssociation": lambda c, w: c.delete_association(AssociationId=w["association"]),
    "ListAssociations": lambda c, w: c.list_associations(MaxResults=1),
    "CreateResourceDataSync": lambda c, w: c.create_resource_data_sync(
        SyncName="another",
        S3Destination={"BucketName": "b", "SyncFormat": "JsonSerDe", "Region": "us-west-2"},
    ),
    "ListResourceDataSync": lambda c, w: c.list_resource_data_sync(),
    "DeleteResourceDataSync": lambda c, w: c.delete_resource_data_sync(SyncName="sync"),
    "GetPatchBaseline": lambda c, w: c.get_patch_baseline(BaselineId=w["baseline"]),
    "UpdatePatchBaseline": lambda c, w: c.update_patch_baseline(
        BaselineId=w["baseline"], Description="new"
    ),
    "DeletePatchBaseline": lambda c, w: c.delete_patch_baseline(BaselineId=w["spare"]),
    "RegisterPatchBaselineForPatchGroup": lambda c, w: c.register_patch_baseline_for_patch_group(
        BaselineId=w["spare"], PatchGroup="Windows"
    ),
    "DeregisterPatchBaselineForPatchGroup": (
        lambda c, w: c.deregister_patch_baseline_for_patch_group(
            BaselineId=w["baseline"], PatchGroup="Linux"
        )
    ),
    "GetPatchBaselineForPatchGroup": lambda c, w: c.get_patch_baseline_for_patch_group(
        PatchGroup="Linux", OperatingSystem="AMAZON_LINUX_2"
    ),
    "DescribePatchGroups": lambda c, w: c.describe_patch_groups(),
    "CreateActivation": lambda c, w: c.create_activation(IamRole="hybrid"),
    "DescribeActivations": lambda c, w: c.describe_activations(),
    "DeleteActivation": lambda c, w: c.delete_activation(ActivationId=w["activation"]),
}


def test_every_emulated_operation_has_a_call() -> None:
    assert sorted(CALLS) == sorted(OPERATIONS)


@pytest.mark.parametrize("operation", OPERATIONS)
def test_response_matches_output_shape(ssm: Any, checker: ResponseChecker, operation: str) -> None:
    world = _world(ssm)
    CALLS[operation](ssm, world)
    assert (operation, 200) in checker.checked
    # The ssm fixture's teardown asserts checker.problems is empty.
