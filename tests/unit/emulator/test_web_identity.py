"""STS AssumeRoleWithWebIdentity on a launched emulator (tests/emulator/web_identity.py): the token
is checked against the IAM OIDC provider and the role's trust policy, and the session's calls are
evaluated against the role's policy (the ssm_tag_sync_role shape: one tag key on mi- nodes)."""

from __future__ import annotations

import json
import time
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore import UNSIGNED
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.emulator.launcher import DEFAULT_ACCOUNT, Emulator
from tests.emulator.web_identity import mint
from tests.fake_entra import FakeManagedIdentity

ACCOUNT = DEFAULT_ACCOUNT
REGION = "us-west-2"
TENANT = "72f988bf-86f1-41af-91ab-2d7cd011db47"
AUDIENCE = "api://AzureADTokenExchange"
IDENTITY = "0b8ad6a0-5d0b-4a2c-9c56-3f9b7c1e2d41"
ISSUER_KEY = f"sts.windows.net/{TENANT}/"
PROVIDER_ARN = f"arn:aws:iam::{ACCOUNT}:oidc-provider/{ISSUER_KEY}"
ROLE = "sec-ssm-tag-sync"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/{ROLE}"
MANAGED = f"arn:aws:ssm:*:{ACCOUNT}:managed-instance/*"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": "sts:AssumeRoleWithWebIdentity",
            "Principal": {"Federated": PROVIDER_ARN},
            "Condition": {
                "StringEquals": {f"{ISSUER_KEY}:aud": AUDIENCE, f"{ISSUER_KEY}:sub": [IDENTITY]}
            },
        }
    ],
}
POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {"Effect": "Allow", "Action": "ssm:DescribeInstanceInformation", "Resource": "*"},
        {"Effect": "Allow", "Action": "ssm:ListTagsForResource", "Resource": MANAGED},
        {
            "Effect": "Allow",
            "Action": "ssm:AddTagsToResource",
            "Resource": MANAGED,
            "Condition": {
                "ForAllValues:StringEquals": {"aws:TagKeys": ["PatchGroup"]},
                "Null": {"aws:TagKeys": "false"},
            },
        },
    ],
}


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    with Emulator(load_managed_policies=False) as emulator:
        iam = emulator.client("iam")
        iam.create_open_id_connect_provider(
            Url=f"https://sts.windows.net/{TENANT}/", ClientIDList=[AUDIENCE]
        )
        iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=json.dumps(TRUST))
        iam.put_role_policy(RoleName=ROLE, PolicyName="tag", PolicyDocument=json.dumps(POLICY))
        yield emulator


def control(emu: Emulator, path: str, body: dict[str, Any]) -> Any:
    request = urllib.request.Request(
        f"{emu.endpoint}/fleetpatch/{path}", data=json.dumps(body).encode(), method="POST"
    )
    with urllib.request.urlopen(request, timeout=60) as answer:
        return json.load(answer)


def sts(emu: Emulator) -> Any:
    """An unsigned STS client, as the reconciler makes it."""
    return boto3.client(
        "sts",
        region_name=REGION,
        endpoint_url=emu.endpoint,
        config=Config(signature_version=UNSIGNED, retries={"max_attempts": 1}),
    )


def exchange(emu: Emulator, token: str, **extra: Any) -> dict[str, Any]:
    answer: dict[str, Any] = sts(emu).assume_role_with_web_identity(
        RoleArn=extra.pop("RoleArn", ROLE_ARN),
        RoleSessionName="fleetpatch-tags-test",
        WebIdentityToken=token,
        **extra,
    )
    return answer


def token(**changes: Any) -> str:
    claims = FakeManagedIdentity(TENANT, IDENTITY).claims(f"{AUDIENCE}/.default")
    claims.update(changes)
    return mint(claims)


def refused(emu: Emulator, raw: str, **extra: Any) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as error:
        exchange(emu, raw, **extra)
    response = error.value.response
    return (
        response["Error"]["Code"],
        response["Error"]["Message"],
        response["ResponseMetadata"]["HTTPStatusCode"],
    )


@pytest.mark.parametrize(
    ("changes", "code", "message", "status"),
    [
        (
            {"iss": "https://login.microsoftonline.com/other/v2.0"},
            "InvalidIdentityToken",
            "No OpenIDConnect provider found in your account for "
            "https://login.microsoftonline.com/other/v2.0",
            400,
        ),
        ({"aud": "https://management.azure.com"}, "InvalidIdentityToken", "audience", 400),
        ({"sub": str(uuid.uuid4())}, "AccessDenied", "Not authorized to perform", 403),
        ({"exp": int(time.time()) - 60}, "ExpiredTokenException", "Token expired", 400),
    ],
    ids=["unknown-issuer", "wrong-audience", "other-identity", "expired"],
)
def test_tokens_aws_would_refuse_are_refused(
    emu: Emulator, changes: dict[str, Any], code: str, message: str, status: int
) -> None:
    got_code, got_message, got_status = refused(emu, token(**changes))
    assert (got_code, got_status) == (code, status)
    assert message in got_message


def test_malformed_and_unsigned_tokens_are_refused(emu: Emulator) -> None:
    assert refused(emu, "not-a-jwt-at-all-but-long-enough")[0] == "InvalidIdentityToken"
    claims = FakeManagedIdentity(TENANT, IDENTITY).claims(f"{AUDIENCE}/.default")
    assert refused(emu, mint(claims, alg="none"))[0] == "InvalidIdentityToken"


def test_a_role_that_does_not_trust_the_provider_is_refused(emu: Emulator) -> None:
    other = f"plain-{uuid.uuid4().hex[:8]}"
    emu.client("iam").create_role(
        RoleName=other,
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "sts:AssumeRole"}
                ],
            }
        ),
    )
    code, _, status = refused(emu, token(), RoleArn=f"arn:aws:iam::{ACCOUNT}:role/{other}")
    assert (code, status) == ("AccessDenied", 403)
    code, _, _ = refused(emu, token(), DurationSeconds=7200)
    assert code == "ValidationError"


def test_the_token_is_exchanged_for_the_role_whose_session_may_only_set_the_one_tag_key(
    emu: Emulator,
) -> None:
    node_trust = {
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
        RoleName="hybrid", AssumeRolePolicyDocument=json.dumps(node_trust)
    )
    activation = emu.client("ssm").create_activation(
        IamRole="hybrid", Tags=[{"Key": "Env", "Value": "prod"}]
    )
    body = control(
        emu,
        "agent/register-hybrid",
        {
            "account_id": ACCOUNT,
            "region": REGION,
            "activation_id": activation["ActivationId"],
            "activation_code": activation["ActivationCode"],
            "source_id": "5b3c1a7e-2f4d-4c8e-9a61-0d2e7f3b9c14",
        },
    )
    node = body["instance_id"]
    credential = FakeManagedIdentity(TENANT, IDENTITY)
    answer = exchange(emu, credential.get_token(f"{AUDIENCE}/.default").token)
    assert answer["AssumedRoleUser"]["Arn"].endswith(f"assumed-role/{ROLE}/fleetpatch-tags-test")
    session = boto3.Session(
        aws_access_key_id=answer["Credentials"]["AccessKeyId"],
        aws_secret_access_key=answer["Credentials"]["SecretAccessKey"],
        aws_session_token=answer["Credentials"]["SessionToken"],
        region_name=REGION,
    )
    caller = session.client("sts", endpoint_url=emu.endpoint).get_caller_identity()
    assert caller["Arn"].endswith(f"assumed-role/{ROLE}/fleetpatch-tags-test")
    ssm = session.client("ssm", endpoint_url=emu.endpoint)
    listed = ssm.describe_instance_information(
        Filters=[{"Key": "SourceTypes", "Values": ["Microsoft.Compute/virtualMachines"]}]
    )["InstanceInformationList"]
    assert node in [i["InstanceId"] for i in listed]
    by_source = ssm.describe_instance_information(
        Filters=[{"Key": "SourceIds", "Values": ["5b3c1a7e-2f4d-4c8e-9a61-0d2e7f3b9c14"]}]
    )["InstanceInformationList"]
    assert [i["InstanceId"] for i in by_source] == [node]
    ssm.add_tags_to_resource(
        ResourceType="ManagedInstance",
        ResourceId=node,
        Tags=[{"Key": "PatchGroup", "Value": "azure-linux"}],
    )
    with pytest.raises(ClientError) as error:
        ssm.add_tags_to_resource(
            ResourceType="ManagedInstance", ResourceId=node, Tags=[{"Key": "Env", "Value": "x"}]
        )
    assert error.value.response["Error"]["Code"] == "AccessDeniedException"
    with pytest.raises(ClientError):
        ssm.remove_tags_from_resource(
            ResourceType="ManagedInstance", ResourceId=node, TagKeys=["PatchGroup"]
        )
    tags = ssm.list_tags_for_resource(ResourceType="ManagedInstance", ResourceId=node)["TagList"]
    assert {t["Key"]: t["Value"] for t in tags} == {"Env": "prod", "PatchGroup": "azure-linux"}
