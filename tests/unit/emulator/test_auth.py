"""The IAM request hook (tests/emulator/auth.py) on a launched emulator: role sessions are
evaluated before moto acts, admins are not, denials answer the service's error and are recorded."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.emulator import auth
from tests.emulator.launcher import DEFAULT_ACCOUNT, Emulator

ACCOUNT = DEFAULT_ACCOUNT
REGION = "us-west-2"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "sts:AssumeRole"}],
}
INSTANCES = f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/*"


class CachedEmulator(Emulator):
    """An Emulator whose admin clients are created once (a boto3 client costs ~0.3 s)."""

    _clients: dict[tuple[str, str, str], Any]

    def client(self, service: str, account_id: str = ACCOUNT, region: str = REGION) -> Any:
        key = (service, account_id, region)
        if key not in self._clients:
            self._clients[key] = super().client(service, account_id, region)
        return self._clients[key]


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    emulator = CachedEmulator(load_managed_policies=False)
    emulator._clients = {}
    with emulator:
        yield emulator


def control(emu: Emulator, method: str, path: str) -> Any:
    request = urllib.request.Request(
        f"{emu.endpoint}/fleetpatch/{path}", method=method, data=b"{}" if method == "POST" else None
    )
    with urllib.request.urlopen(request, timeout=60) as answer:
        return json.load(answer)


@pytest.fixture
def denials(emu: Emulator) -> Iterator[Any]:
    """Reads the recorded denials; starts each test with none."""
    assert control(emu, "POST", "iam/reset") == {}
    yield lambda: control(emu, "GET", "iam/denials")["denials"]


def role(emu: Emulator, name: str, *statements: dict[str, Any]) -> Any:
    """A boto3 session of a new role ``name`` whose inline policy holds ``statements``."""
    client = emu.client("iam")
    client.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(TRUST))
    if statements:
        client.put_role_policy(
            RoleName=name,
            PolicyName="p",
            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": list(statements)}),
        )
    credentials = emu.client("sts").assume_role(
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/{name}", RoleSessionName="test-session"
    )["Credentials"]
    return boto3.session.Session(
        aws_access_key_id=credentials["AccessKeyId"],
        aws_secret_access_key=credentials["SecretAccessKey"],
        aws_session_token=credentials["SessionToken"],
        region_name=REGION,
    )


def instance(emu: Emulator, **tags: str) -> str:
    spec = [{"ResourceType": "instance", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}]
    reservation = emu.client("ec2", region=REGION).run_instances(
        ImageId="ami-12c6146b",
        MinCount=1,
        MaxCount=1,
        **({"TagSpecifications": spec} if tags else {}),
    )
    instance_id: str = reservation["Instances"][0]["InstanceId"]
    emu.client("ec2", region=REGION).stop_instances(InstanceIds=[instance_id])
    return instance_id


def error_of(call: Any, **kwargs: Any) -> dict[str, Any]:
    with pytest.raises(ClientError) as info:
        call(**kwargs)
    response: Any = info.value.response
    return {
        "code": response["Error"]["Code"],
        "status": response["ResponseMetadata"]["HTTPStatusCode"],
        "message": response["Error"]["Message"],
    }


def allow(action: Any, resource: Any = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def test_admin_is_not_evaluated(emu: Emulator, denials: Any) -> None:
    instance_id = instance(emu)
    emu.client("ec2", region=REGION).start_instances(InstanceIds=[instance_id])
    # The deployer role of another account (not in its IAM) is admin too.
    emu.client("ec2", account_id="444455556666", region=REGION).describe_instances()
    assert denials() == []


def test_describe_only_role(emu: Emulator, denials: Any) -> None:
    instance_id = instance(emu)
    ec2 = role(emu, "describe-only", allow("ec2:DescribeInstances")).client(
        "ec2", endpoint_url=emu.endpoint
    )
    ids = [
        i["InstanceId"] for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]
    ]
    assert instance_id in ids
    error = error_of(ec2.start_instances, InstanceIds=[instance_id])
    arn = f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/{instance_id}"
    assert error["code"] == "UnauthorizedOperation"
    assert error["status"] == 403
    assert error["message"].startswith("You are not authorized to perform this operation. User: ")
    assert (
        f"ec2:StartInstances on resource: {arn} because no identity-based policy"
        in error["message"]
    )
    assert denials() == [
        {
            "actor": f"arn:aws:iam::{ACCOUNT}:role/describe-only",
            "action": "ec2:StartInstances",
            "resource": arn,
        }
    ]
    state = emu.client("ec2", region=REGION).describe_instances(InstanceIds=[instance_id])
    assert (
        state["Reservations"][0]["Instances"][0]["State"]["Name"] == "stopped"
    )  # moto never acted


def test_start_instances_by_instance_tag(emu: Emulator, denials: Any) -> None:
    linux = instance(emu, PatchGroup="Linux")
    appa = instance(emu, PatchGroup="AppA")
    ec2 = role(
        emu,
        "start-linux",
        allow(
            "ec2:StartInstances",
            INSTANCES,
            Condition={"StringEquals": {"aws:ResourceTag/PatchGroup": "Linux"}},
        ),
    ).client("ec2", endpoint_url=emu.endpoint)
    ec2.start_instances(InstanceIds=[linux])
    assert error_of(ec2.start_instances, InstanceIds=[appa])["code"] == "UnauthorizedOperation"
    # One refused instance refuses the whole request.
    assert (
        error_of(ec2.start_instances, InstanceIds=[linux, appa])["code"] == "UnauthorizedOperation"
    )
    assert [d["resource"].rsplit("/", 1)[-1] for d in denials()] == [appa, appa]


def test_delete_tags_without_tags_and_the_tag_claimed_statement(
    emu: Emulator, denials: Any
) -> None:
    # modules/patch_automation TagClaimedInstances, once without its Null condition (the hole
    # AWS documents for ForAllValues on a missing key) and once as committed.
    condition = {
        "StringEquals": {"aws:ResourceTag/PatchGroup": ["Linux"]},
        "ForAllValues:StringEquals": {"aws:TagKeys": ["fleetpatch:started-by"]},
    }
    statement = allow(["ec2:CreateTags", "ec2:DeleteTags"], INSTANCES, Condition=condition)
    hole = role(emu, "tags-hole", statement).client("ec2", endpoint_url=emu.endpoint)
    closed_statement = {**statement, "Condition": {**condition, "Null": {"aws:TagKeys": "false"}}}
    closed = role(emu, "tags-closed", closed_statement).client("ec2", endpoint_url=emu.endpoint)
    victim = instance(emu, PatchGroup="Linux", Owner="team")
    assert error_of(closed.delete_tags, Resources=[victim])["code"] == "UnauthorizedOperation"
    marker = [{"Key": "fleetpatch:started-by", "Value": "exec-1"}]
    closed.create_tags(Resources=[victim], Tags=marker)
    assert (
        error_of(closed.create_tags, Resources=[victim], Tags=[{"Key": "Owner", "Value": "me"}])[
            "code"
        ]
        == "UnauthorizedOperation"
    )
    closed.delete_tags(Resources=[victim], Tags=marker)
    # No Tags: aws:TagKeys is absent, ForAllValues is true, the request is allowed (on AWS it
    # deletes every user tag of the instance; moto 5.2.5 deletes none).
    hole.delete_tags(Resources=[victim])
    assert [d["action"] for d in denials()] == ["ec2:DeleteTags", "ec2:CreateTags"]


def test_pass_role_with_passed_to_service(emu: Emulator, denials: Any) -> None:
    iam_client = emu.client("iam")
    ec2_trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ec2.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    iam_client.create_role(RoleName="node", AssumeRolePolicyDocument=json.dumps(ec2_trust))
    profile = iam_client.create_instance_profile(InstanceProfileName="node-profile")[
        "InstanceProfile"
    ]
    iam_client.add_role_to_instance_profile(InstanceProfileName="node-profile", RoleName="node")
    associate = allow(
        "ec2:AssociateIamInstanceProfile",
        INSTANCES,
        Condition={"ArnEquals": {"ec2:NewInstanceProfile": profile["Arn"]}},
    )
    pass_to = {
        "Effect": "Allow",
        "Action": "iam:PassRole",
        "Resource": f"arn:aws:iam::{ACCOUNT}:role/node",
    }
    good = role(
        emu,
        "pass-ec2",
        associate,
        {**pass_to, "Condition": {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}},
    )
    bad = role(
        emu,
        "pass-ssm",
        associate,
        {**pass_to, "Condition": {"StringEquals": {"iam:PassedToService": "ssm.amazonaws.com"}}},
    )
    first, second = instance(emu), instance(emu)
    error = error_of(
        bad.client("ec2", endpoint_url=emu.endpoint).associate_iam_instance_profile,
        InstanceId=first,
        IamInstanceProfile={"Name": "node-profile"},
    )
    assert error["code"] == "UnauthorizedOperation"
    good.client("ec2", endpoint_url=emu.endpoint).associate_iam_instance_profile(
        InstanceId=second, IamInstanceProfile={"Name": "node-profile"}
    )
    assert denials() == [
        {
            "actor": f"arn:aws:iam::{ACCOUNT}:role/pass-ssm",
            "action": "iam:PassRole",
            "resource": f"arn:aws:iam::{ACCOUNT}:role/node",
        }
    ]


def test_s3_bucket_policy_deny_and_identity_allow(emu: Emulator, denials: Any) -> None:
    s3_admin = emu.client("s3", region=REGION)
    for bucket in ("fleetpatch-open-logs", "fleetpatch-denied-logs"):
        s3_admin.create_bucket(
            Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION}
        )
    s3_admin.put_bucket_policy(
        Bucket="fleetpatch-denied-logs",
        Policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "s3:PutObject",
                        "Resource": "arn:aws:s3:::fleetpatch-denied-logs/*",
                    }
                ],
            }
        ),
    )
    s3 = role(emu, "writer", allow("s3:PutObject", "arn:aws:s3:::fleetpatch-*/*")).client(
        "s3", endpoint_url=emu.endpoint
    )
    s3.put_object(Bucket="fleetpatch-open-logs", Key="out/stdout", Body=b"ok")
    error = error_of(s3.put_object, Bucket="fleetpatch-denied-logs", Key="out/stdout", Body=b"no")
    assert (error["code"], error["status"]) == ("AccessDenied", 403)
    assert "because with an explicit deny in a resource-based policy" in error["message"]
    assert (
        error_of(s3.get_object, Bucket="fleetpatch-open-logs", Key="out/stdout")["code"]
        == "AccessDenied"
    )
    assert [d["action"] for d in denials()] == ["s3:PutObject", "s3:GetObject"]


def test_json_service_error_and_unmapped_operation(emu: Emulator, denials: Any) -> None:
    session = role(emu, "ssm-reader", allow("ssm:DescribeInstanceInformation"))
    ssm = session.client("ssm", endpoint_url=emu.endpoint)
    ssm.describe_instance_information()
    error = error_of(
        ssm.send_command, DocumentName="AWS-RunPatchBaseline", InstanceIds=["i-0123456789abcdef0"]
    )
    assert (error["code"], error["status"]) == ("AccessDeniedException", 403)
    assert denials()[0]["resource"] == f"arn:aws:ssm:{REGION}::document/AWS-RunPatchBaseline"
    # GetCallerIdentity needs no permission.
    assert (
        session.client("sts", endpoint_url=emu.endpoint)
        .get_caller_identity()["Arn"]
        .endswith(":assumed-role/ssm-reader/test-session")
    )


def test_assume_role_over_http_needs_trust_and_identity(emu: Emulator, denials: Any) -> None:
    iam_client = emu.client("iam")
    iam_client.create_role(RoleName="target", AssumeRolePolicyDocument=json.dumps(TRUST))
    target = f"arn:aws:iam::{ACCOUNT}:role/target"
    hopper = role(emu, "hopper", allow("sts:AssumeRole", target)).client(
        "sts", endpoint_url=emu.endpoint
    )
    stuck = role(emu, "stuck").client("sts", endpoint_url=emu.endpoint)
    assert hopper.assume_role(RoleArn=target, RoleSessionName="hop")["Credentials"]["AccessKeyId"]
    error = error_of(stuck.assume_role, RoleArn=target, RoleSessionName="hop")
    assert (error["code"], error["status"]) == ("AccessDenied", 403)
    assert denials() == [
        {
            "actor": f"arn:aws:iam::{ACCOUNT}:role/stuck",
            "action": "sts:AssumeRole",
            "resource": target,
        }
    ]


def test_mapped_operations_cover_the_actors_calls() -> None:
    # Every call of ssm_documents/scripts and lambda_src/ssm_role_check has a mapping.
    calls = {
        ("ec2", "DescribeInstances"),
        ("ec2", "CreateTags"),
        ("ec2", "DeleteTags"),
        ("ec2", "StartInstances"),
        ("ec2", "StopInstances"),
        ("ec2", "DescribeIamInstanceProfileAssociations"),
        ("ec2", "AssociateIamInstanceProfile"),
        ("ssm", "DescribeInstanceInformation"),
        ("ssm", "SendCommand"),
        ("ssm", "ListCommands"),
        ("ssm", "ListCommandInvocations"),
        ("ssm", "GetCommandInvocation"),
        ("ssm", "CancelCommand"),
        ("ssm", "StartAutomationExecution"),
        ("resource-groups", "ListGroupResources"),
        ("resourcegroupstaggingapi", "GetResources"),
        ("iam", "ListInstanceProfiles"),
        ("iam", "GetInstanceProfile"),
        ("iam", "AddRoleToInstanceProfile"),
        ("iam", "ListAttachedRolePolicies"),
        ("iam", "ListRolePolicies"),
        ("iam", "GetRolePolicy"),
        ("iam", "GetPolicy"),
        ("iam", "GetPolicyVersion"),
        ("iam", "AttachRolePolicy"),
        ("events", "PutEvents"),
        ("sns", "Publish"),
        ("kms", "GenerateDataKey"),
        ("sts", "AssumeRole"),
    }
    assert calls - set(auth.MAPPED) == set()


def test_ssm_tagging_of_a_managed_node_is_scoped_by_arn_and_tag_keys(
    emu: Emulator, denials: Any
) -> None:
    ssm_trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ssm.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
    emu.client("iam").create_role(
        RoleName="hybrid-service", AssumeRolePolicyDocument=json.dumps(ssm_trust)
    )
    admin_ssm = emu.client("ssm", region=REGION)
    activation = admin_ssm.create_activation(IamRole="hybrid-service", RegistrationLimit=1)
    request = urllib.request.Request(
        f"{emu.endpoint}/fleetpatch/agent/register-hybrid",
        data=json.dumps(
            {
                "account_id": ACCOUNT,
                "region": REGION,
                "activation_id": activation["ActivationId"],
                "activation_code": activation["ActivationCode"],
            }
        ).encode(),
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        node = json.loads(answer.read())["instance_id"]
    ssm = role(
        emu,
        "tag-hybrid-nodes",
        allow(
            ["ssm:AddTagsToResource", "ssm:RemoveTagsFromResource"],
            f"arn:aws:ssm:{REGION}:{ACCOUNT}:managed-instance/*",
            Condition={
                "ForAllValues:StringEquals": {"aws:TagKeys": ["fleetpatch:patch-run"]},
                "Null": {"aws:TagKeys": "false"},
            },
        ),
    ).client("ssm", endpoint_url=emu.endpoint)
    ssm.add_tags_to_resource(
        ResourceType="ManagedInstance",
        ResourceId=node,
        Tags=[{"Key": "fleetpatch:patch-run", "Value": "run-1"}],
    )
    error = error_of(
        ssm.add_tags_to_resource,
        ResourceType="ManagedInstance",
        ResourceId=node,
        Tags=[{"Key": "PatchGroup", "Value": "other"}],
    )
    assert error["code"] == "AccessDeniedException"
    assert [d["resource"] for d in denials()] == [
        f"arn:aws:ssm:{REGION}:{ACCOUNT}:managed-instance/{node}"
    ]
    ssm.remove_tags_from_resource(
        ResourceType="ManagedInstance", ResourceId=node, TagKeys=["fleetpatch:patch-run"]
    )
    tags = admin_ssm.list_tags_for_resource(ResourceType="ManagedInstance", ResourceId=node)
    assert all(t["Key"] != "fleetpatch:patch-run" for t in tags["TagList"])
