"""Fixtures for the role-check tests: a moto account with the SSM profile, fleet builders,
EventBridge payloads in the exact shape EventBridge delivers, and botocore hooks that inject
errors or interleave a concurrent run."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from moto import mock_aws
from moto.iam import aws_managed_policies
from moto.iam import models as iam_models

REGION = "us-west-2"
ACCOUNT = "123456789012"
SSM_PROFILE = "fleetpatch-ssm"
SSM_ROLE = "fleetpatch-ssm"
AMI = "ami-12c6146b"
CORE_ARN = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
MUTATING = {
    "AssociateIamInstanceProfile",
    "ReplaceIamInstanceProfileAssociation",
    "DisassociateIamInstanceProfile",
    "AddRoleToInstanceProfile",
    "RemoveRoleFromInstanceProfile",
    "AttachRolePolicy",
    "DetachRolePolicy",
    "PutRolePolicy",
    "DeleteRolePolicy",
}
ASSUME_EC2 = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ec2.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)
# Only the AWS managed policies the tests use (loading all ~1300 costs a second per test).
MANAGED_POLICIES = ("AmazonSSMManagedInstanceCore", "AmazonEC2RoleforSSM", "ReadOnlyAccess")


def managed_policy_data() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(aws_managed_policies.aws_managed_policies_data)
    return {name: data[name] for name in MANAGED_POLICIES}


def state_change_event(
    instance_id: str, state: str = "running", region: str = REGION
) -> dict[str, Any]:
    """An EventBridge EC2 Instance State-change Notification, exactly as delivered."""
    return {
        "version": "0",
        "id": "7bf73129-1428-4cd3-a780-95db273d1602",
        "detail-type": "EC2 Instance State-change Notification",
        "source": "aws.ec2",
        "account": ACCOUNT,
        "time": "2026-11-30T00:00:00Z",
        "region": region,
        "resources": [f"arn:aws:ec2:{region}:{ACCOUNT}:instance/{instance_id}"],
        "detail": {"instance-id": instance_id, "state": state},
    }


def scheduled_event(region: str = REGION) -> dict[str, Any]:
    """An EventBridge Scheduled Event, exactly as delivered to a rule's target."""
    return {
        "version": "0",
        "id": "89d1a02d-5ec7-412e-82f5-13505f849b41",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": "2026-11-30T00:00:00Z",
        "region": region,
        "resources": [f"arn:aws:events:{region}:{ACCOUNT}:rule/fleetpatch-role-check-sweep"],
        "detail": {},
    }


@dataclass
class Calls:
    """Every API call made through the clients it is attached to, by operation name."""

    by_operation: Counter[str] = field(default_factory=Counter)

    def __call__(self, model: Any, **_: Any) -> None:
        self.by_operation[model.name] += 1

    @property
    def mutating(self) -> Counter[str]:
        return Counter({k: v for k, v in self.by_operation.items() if k in MUTATING})

    def attach(self, *clients: Any) -> Calls:
        for client in clients:
            client.meta.events.register("before-call.*.*", self)
        return self


def fail_calls(
    client: Any,
    operation: str,
    errors: list[tuple[str, str]],
    *,
    when: Callable[[dict[str, Any]], bool] = lambda _params: True,
    status: int = 400,
) -> list[dict[str, Any]]:
    """Make the next ``len(errors)`` calls of ``operation`` (matching ``when``) fail.

    A ``before-call`` hook answers with the error instead of moto; later calls reach moto.
    Returns the list of params of the failed calls.
    """
    pending = list(errors)
    failed: list[dict[str, Any]] = []

    def hook(model: Any, params: dict[str, Any], **_: Any) -> Any:
        if model.name != operation or not pending or not when(params.get("body", {})):
            return None
        code, message = pending.pop(0)
        failed.append(params.get("body", {}))
        response = AWSResponse("https://mock", status, {}, None)
        return response, {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {"HTTPStatusCode": status},
        }

    client.meta.events.register_first("before-call.*.*", hook)
    return failed


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_REGION", REGION)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
    monkeypatch.setattr(iam_models, "aws_managed_policies_data", json.dumps(managed_policy_data()))
    with mock_aws():
        yield


@dataclass
class Fleet:
    """Builds the account state of a test with moto."""

    ec2: Any
    iam: Any

    def role(
        self, name: str, *, managed: tuple[str, ...] = (), inline: dict[str, Any] | None = None
    ) -> str:
        arn: str = self.iam.create_role(RoleName=name, AssumeRolePolicyDocument=ASSUME_EC2)["Role"][
            "Arn"
        ]
        for policy_arn in managed:
            self.iam.attach_role_policy(RoleName=name, PolicyArn=policy_arn)
        for policy_name, document in (inline or {}).items():
            self.iam.put_role_policy(
                RoleName=name, PolicyName=policy_name, PolicyDocument=json.dumps(document)
            )
        return arn

    def profile(self, name: str, role: str | None = None) -> str:
        arn: str = self.iam.create_instance_profile(InstanceProfileName=name)["InstanceProfile"][
            "Arn"
        ]
        if role is not None:
            self.iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=role)
        return arn

    def launch(
        self, count: int = 1, *, profile: str | None = None, tags: dict[str, str] | None = None
    ) -> list[str]:
        kwargs: dict[str, Any] = {"ImageId": AMI, "MinCount": count, "MaxCount": count}
        if tags:
            kwargs["TagSpecifications"] = [
                {
                    "ResourceType": "instance",
                    "Tags": [{"Key": k, "Value": v} for k, v in tags.items()],
                }
            ]
        ids = [i["InstanceId"] for i in self.ec2.run_instances(**kwargs)["Instances"]]
        # moto associates a launch profile with the first instance only: associate each.
        for instance_id in ids if profile is not None else []:
            self.ec2.associate_iam_instance_profile(
                InstanceId=instance_id, IamInstanceProfile={"Name": profile}
            )
        return ids

    def profile_of(self, instance_id: str) -> str | None:
        assocs = self.ec2.describe_iam_instance_profile_associations(
            Filters=[{"Name": "instance-id", "Values": [instance_id]}]
        )["IamInstanceProfileAssociations"]
        assert len(assocs) <= 1, "an instance has at most one profile association"
        return assocs[0]["IamInstanceProfile"]["Arn"].rsplit("/", 1)[-1] if assocs else None

    def attached(self, role: str) -> set[str]:
        return {
            p["PolicyArn"]
            for p in self.iam.list_attached_role_policies(RoleName=role)["AttachedPolicies"]
        }

    def inline(self, role: str) -> set[str]:
        return set(self.iam.list_role_policies(RoleName=role)["PolicyNames"])

    def role_of_profile(self, profile: str) -> list[str]:
        roles = self.iam.get_instance_profile(InstanceProfileName=profile)["InstanceProfile"][
            "Roles"
        ]
        return [r["RoleName"] for r in roles]


@pytest.fixture
def fleet(aws: None) -> Fleet:
    ec2 = boto3.client("ec2", region_name=REGION)
    iam = boto3.client("iam", region_name=REGION)
    built = Fleet(ec2, iam)
    built.role(SSM_ROLE, managed=(CORE_ARN,))
    built.profile(SSM_PROFILE, SSM_ROLE)
    return built
