"""The emulator's IAM policy evaluation (tests/emulator/iam.py), rule by rule."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from tests.emulator import iam

ACCOUNT = "111111111111"
OTHER = "222222222222"
REGION = "us-west-2"
INSTANCE = f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/i-0123456789abcdef0"
TRUST_EC2 = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "ec2.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


def signed(access_key: str) -> str:
    """A SigV4 Authorization header value for ``access_key``."""
    return f"AWS4-HMAC-SHA256 Credential={access_key}/20250101/us-west-2/ec2/aws4_request, X=y"


def cond(operator: str, key: str, values: Any, context: dict[str, Any]) -> bool:
    """One condition against a context given the way callers give it."""
    ctx = iam.request_context(iam.service("x.amazonaws.com", ACCOUNT), context)
    return iam.condition_matches(
        operator, key, tuple(values) if isinstance(values, list) else (values,), ctx
    )


# --- operators ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("operator", "values", "actual", "expected"),
    [
        ("StringEquals", "Linux", "Linux", True),
        ("StringEquals", "Linux", "linux", False),
        ("StringEquals", ["A", "Linux"], "Linux", True),  # values are ORed
        ("StringNotEquals", "Linux", "Windows", True),
        ("StringNotEquals", "Linux", "Linux", False),
        ("StringEqualsIgnoreCase", "LINUX", "linux", True),
        ("StringNotEqualsIgnoreCase", "LINUX", "linux", False),
        ("StringLike", "Lin*", "Linux", True),
        ("StringLike", "L?nux", "Linux", True),
        ("StringLike", "L?nux", "Lnux", False),
        ("StringNotLike", "Win*", "Linux", True),
        (
            "ArnEquals",
            "arn:aws:iam::111111111111:instance-profile/p",
            "arn:aws:iam::111111111111:instance-profile/p",
            True,
        ),
        (
            "ArnLike",
            "arn:aws:ssm:*:111111111111:automation-execution/*",
            "arn:aws:ssm:us-west-2:111111111111:automation-execution/abc",
            True,
        ),
        (
            "ArnLike",
            "arn:aws:ssm:*:111111111111:automation-execution/*",
            "arn:aws:ssm:us-west-2:222222222222:automation-execution/abc",
            False,
        ),
        (
            "ArnNotLike",
            "arn:aws:ssm:*:111111111111:*",
            "arn:aws:ssm:us-west-2:222222222222:x",
            True,
        ),
        ("ArnLike", "arn:aws:ssm:*:*:*", "not-an-arn", False),
        ("NumericEquals", "10", "10", True),
        ("NumericNotEquals", "10", "11", True),
        ("NumericLessThan", "10", "9", True),
        ("NumericLessThanEquals", "10", "10", True),
        ("NumericGreaterThan", "10", "10", False),
        ("NumericGreaterThanEquals", "10", "10", True),
        ("DateLessThan", "2030-01-01T00:00:00Z", "2025-06-01T00:00:00Z", True),
        ("DateGreaterThan", "2030-01-01T00:00:00Z", "2025-06-01T00:00:00Z", False),
        ("DateEquals", "2025-06-01T00:00:00Z", "1748736000", True),  # epoch seconds
        ("Bool", "true", True, True),
        ("Bool", "false", "true", False),
        ("IpAddress", "10.0.0.0/8", "10.1.2.3", True),
        ("NotIpAddress", "10.0.0.0/8", "192.168.0.1", True),
    ],
)
def test_operator(operator: str, values: Any, actual: Any, expected: bool) -> None:
    assert cond(operator, "k", values, {"k": actual}) is expected


def test_missing_key_false_for_positive_true_for_negated_operators() -> None:
    # "If the key ... is not present in the request context, the values do not match and the
    # condition is false ... StringNotLike or ArnNotLike ... the condition is true."
    assert cond("StringEquals", "k", "v", {}) is False
    assert cond("StringNotEquals", "k", "v", {}) is True
    assert cond("ArnNotLike", "k", "arn:aws:*:*:*:*", {}) is True


def test_if_exists() -> None:
    assert cond("StringEqualsIfExists", "k", "v", {}) is True
    assert cond("StringEqualsIfExists", "k", "v", {"k": "other"}) is False
    assert cond("StringEqualsIfExists", "k", "v", {"k": "v"}) is True


def test_null() -> None:
    assert cond("Null", "k", "true", {}) is True
    assert cond("Null", "k", "true", {"k": "x"}) is False
    assert cond("Null", "k", "false", {"k": "x"}) is True
    assert cond("Null", "k", "false", {}) is False
    assert cond("Null", "k", "false", {"k": []}) is False  # an empty set is no value


def test_for_all_values_is_true_for_a_missing_or_empty_key() -> None:
    # The documented hole: "If there are no context keys in the request, it also returns true."
    assert cond("ForAllValues:StringEquals", "aws:TagKeys", ["fleetpatch:started-by"], {}) is True
    assert cond("ForAllValues:StringEquals", "aws:TagKeys", ["a"], {"aws:TagKeys": []}) is True
    assert (
        cond("ForAllValues:StringEquals", "aws:TagKeys", ["a", "b"], {"aws:TagKeys": ["a", "b"]})
        is True
    )
    assert (
        cond("ForAllValues:StringEquals", "aws:TagKeys", ["a"], {"aws:TagKeys": ["a", "c"]})
        is False
    )


def test_for_any_value() -> None:
    assert cond("ForAnyValue:StringEquals", "aws:TagKeys", ["a"], {}) is False
    assert (
        cond("ForAnyValue:StringEquals", "aws:TagKeys", ["a"], {"aws:TagKeys": ["b", "a"]}) is True
    )
    assert cond("ForAnyValue:StringLike", "aws:TagKeys", ["x*"], {"aws:TagKeys": ["b"]}) is False
    assert (
        cond("ForAllValues:StringNotEquals", "aws:TagKeys", ["a"], {"aws:TagKeys": ["b"]}) is True
    )
    assert (
        cond("ForAnyValue:StringNotEquals", "aws:TagKeys", ["a"], {"aws:TagKeys": ["a"]}) is False
    )


def test_condition_keys_are_case_insensitive() -> None:
    assert cond(
        "StringEquals",
        "AWS:RESOURCETAG/PatchGroup",
        "Linux",
        {"aws:ResourceTag/patchgroup": "Linux"},
    )


def test_unknown_operator_never_matches() -> None:
    statement = iam.parse_policy(
        {
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "*",
                    "Resource": "*",
                    "Condition": {"Bogus": {"k": "v"}},
                }
            ]
        }
    )[0]
    assert not iam.statement_applies(statement, "s3:GetObject", "arn:aws:s3:::b/k", {"k": ["v"]})


def test_policy_variables() -> None:
    statement = iam.parse_policy(
        {
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "s3:PutObject",
                    "Resource": "arn:aws:s3:::b/${aws:PrincipalAccount}/*",
                    "Condition": {
                        "StringEquals": {"aws:ResourceAccount": "${aws:PrincipalAccount}"}
                    },
                }
            ]
        }
    )[0]
    ctx = {"aws:principalaccount": [ACCOUNT], "aws:resourceaccount": [ACCOUNT]}
    assert iam.statement_applies(statement, "s3:PutObject", f"arn:aws:s3:::b/{ACCOUNT}/x", ctx)
    assert not iam.statement_applies(statement, "s3:PutObject", f"arn:aws:s3:::b/{OTHER}/x", ctx)
    # ${aws:username} has no value for a role session: the statement does not match.
    user = iam.parse_policy(
        {
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "s3:*",
                    "Resource": "arn:aws:s3:::b/${aws:username}/*",
                }
            ]
        }
    )[0]
    assert not iam.statement_applies(user, "s3:PutObject", "arn:aws:s3:::b/x/y", ctx)
    assert iam.substitute("a${*}b${?}", {}) is not None


# --- elements -----------------------------------------------------------------------------------
def test_action_is_case_insensitive_with_wildcards_resource_is_case_sensitive() -> None:
    statement = iam.parse_policy(
        {
            "Statement": [
                {
                    "Effect": "Allow",
                    "Action": "EC2:start*",
                    "Resource": "arn:aws:ec2:*:*:instance/i-0*",
                }
            ]
        }
    )[0]
    assert iam.statement_applies(statement, "ec2:StartInstances", INSTANCE, {})
    assert not iam.statement_applies(statement, "ec2:StopInstances", INSTANCE, {})
    assert not iam.statement_applies(statement, "ec2:StartInstances", INSTANCE.upper(), {})
    question = iam.parse_policy(
        {
            "Statement": [
                {"Effect": "Allow", "Action": "s3:GetObjec?", "Resource": "arn:aws:s3:::b/?"}
            ]
        }
    )[0]
    assert iam.statement_applies(question, "s3:GetObject", "arn:aws:s3:::b/k", {})
    assert not iam.statement_applies(question, "s3:GetObject", "arn:aws:s3:::b/kk", {})


def test_not_action_and_not_resource() -> None:
    statement = iam.parse_policy(
        {
            "Statement": [
                {"Effect": "Allow", "NotAction": "iam:*", "NotResource": "arn:aws:s3:::secret/*"}
            ]
        }
    )[0]
    assert iam.statement_applies(statement, "ec2:StartInstances", INSTANCE, {})
    assert not iam.statement_applies(statement, "iam:PassRole", "arn:aws:iam::1:role/r", {})
    assert not iam.statement_applies(statement, "s3:GetObject", "arn:aws:s3:::secret/k", {})


# --- decisions against moto's IAM ---------------------------------------------------------------
@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.setenv("MOTO_ACCOUNT_ID", ACCOUNT)
    iam.reset_denials()
    with mock_aws():
        yield boto3.client("iam", region_name=REGION)


def make_role(
    client: Any, name: str, *statements: dict[str, Any], trust: dict[str, Any] | None = None
) -> iam.Principal:
    client.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust or TRUST_EC2))
    if statements:
        client.put_role_policy(
            RoleName=name,
            PolicyName="p",
            PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": list(statements)}),
        )
    return iam.role_session(ACCOUNT, name)


def allow(action: str, resource: str = "*", **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def test_admin_is_not_evaluated() -> None:
    assert iam.is_allowed(iam.admin(ACCOUNT), "ec2:StartInstances", INSTANCE)


def test_no_policy_is_an_implicit_deny_with_awss_message(aws: Any) -> None:
    role = make_role(aws, "bare")
    with pytest.raises(iam.AccessDenied) as info:
        iam.authorize(role, "ec2:StartInstances", INSTANCE)
    assert str(info.value) == (
        f"User: arn:aws:sts::{ACCOUNT}:assumed-role/bare/emulator is not authorized to perform: "
        f"ec2:StartInstances on resource: {INSTANCE} because no identity-based policy allows the "
        "ec2:StartInstances action"
    )
    assert iam.denials() == [
        {
            "actor": f"arn:aws:iam::{ACCOUNT}:role/bare",
            "action": "ec2:StartInstances",
            "resource": INSTANCE,
        }
    ]
    iam.reset_denials()
    assert iam.denials() == []


def test_explicit_deny_beats_allow(aws: Any) -> None:
    role = make_role(
        aws,
        "denied",
        allow("ec2:*"),
        {"Effect": "Deny", "Action": "ec2:StartInstances", "Resource": "*"},
    )
    assert iam.is_allowed(role, "ec2:StopInstances", INSTANCE)
    decision = iam.evaluate(role, "ec2:StartInstances", INSTANCE)
    assert not decision.allowed
    assert decision.reason == "with an explicit deny in an identity-based policy"


def test_managed_policies_attached_and_aws_managed(aws: Any) -> None:
    role = make_role(aws, "managed")
    arn = aws.create_policy(
        PolicyName="start",
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [allow("ec2:StartInstances")]}
        ),
    )["Policy"]["Arn"]
    aws.attach_role_policy(RoleName="managed", PolicyArn=arn)
    assert iam.is_allowed(role, "ec2:StartInstances", INSTANCE)
    assert not iam.is_allowed(role, "ec2:StopInstances", INSTANCE)
    # A new default version changes the decision (no stale cache).
    aws.create_policy_version(
        PolicyArn=arn,
        PolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [allow("ec2:StopInstances")]}
        ),
        SetAsDefault=True,
    )
    assert not iam.is_allowed(role, "ec2:StartInstances", INSTANCE)
    assert iam.is_allowed(role, "ec2:StopInstances", INSTANCE)


def test_permissions_boundary_limits_identity_policies(aws: Any) -> None:
    arn = aws.create_policy(
        PolicyName="boundary",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [allow("ec2:Describe*")]}),
    )["Policy"]["Arn"]
    aws.create_role(
        RoleName="bounded", AssumeRolePolicyDocument=json.dumps(TRUST_EC2), PermissionsBoundary=arn
    )
    aws.put_role_policy(
        RoleName="bounded",
        PolicyName="p",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [allow("ec2:*")]}),
    )
    role = iam.role_session(ACCOUNT, "bounded")
    assert iam.is_allowed(role, "ec2:DescribeInstances", "*")
    assert not iam.is_allowed(role, "ec2:StartInstances", INSTANCE)


def test_tag_conditioned_statement(aws: Any) -> None:
    role = make_role(
        aws,
        "tagged",
        allow(
            "ec2:StartInstances",
            f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/*",
            Condition={
                "StringEquals": {"aws:ResourceTag/PatchGroup": ["Linux", "Windows"]},
                "Null": {"aws:ResourceTag/fleetpatch:started-by": "false"},
            },
        ),
    )
    claimed = {"aws:ResourceTag/PatchGroup": "Linux", "aws:ResourceTag/fleetpatch:started-by": "x"}
    assert iam.is_allowed(role, "ec2:StartInstances", INSTANCE, claimed)
    # Both keys must match (AND): an unclaimed instance or another patch group is refused.
    assert not iam.is_allowed(
        role, "ec2:StartInstances", INSTANCE, {"aws:ResourceTag/PatchGroup": "Linux"}
    )
    assert not iam.is_allowed(
        role, "ec2:StartInstances", INSTANCE, {**claimed, "aws:ResourceTag/PatchGroup": "AppA"}
    )


PATCH_GROUPS = ["Linux", "Windows"]
TAG_CLAIMED: dict[str, Any] = {
    # modules/patch_automation/main.tf, statement TagClaimedInstances.
    "Sid": "TagClaimedInstances",
    "Effect": "Allow",
    "Action": ["ec2:CreateTags", "ec2:DeleteTags"],
    "Resource": f"arn:aws:ec2:{REGION}:{ACCOUNT}:instance/*",
    "Condition": {
        "StringEquals": {"aws:ResourceTag/PatchGroup": PATCH_GROUPS},
        "ForAllValues:StringEquals": {"aws:TagKeys": ["fleetpatch:started-by"]},
        "Null": {"aws:TagKeys": "false"},
    },
}


def test_delete_tags_without_tags_passes_for_all_values_and_the_null_condition_closes_it(
    aws: Any,
) -> None:
    without_null = {
        **TAG_CLAIMED,
        "Condition": {k: v for k, v in TAG_CLAIMED["Condition"].items() if k != "Null"},
    }
    hole = make_role(aws, "hole", without_null)
    closed = make_role(aws, "closed", TAG_CLAIMED)
    # DeleteTags with no Tags: aws:TagKeys is absent from the request context.
    no_keys = {"aws:ResourceTag/PatchGroup": "Linux"}
    assert iam.is_allowed(hole, "ec2:DeleteTags", INSTANCE, no_keys)  # the documented hole
    assert not iam.is_allowed(closed, "ec2:DeleteTags", INSTANCE, no_keys)
    marker = {**no_keys, "aws:TagKeys": ["fleetpatch:started-by"]}
    assert iam.is_allowed(closed, "ec2:DeleteTags", INSTANCE, marker)
    assert not iam.is_allowed(
        closed,
        "ec2:CreateTags",
        INSTANCE,
        {**no_keys, "aws:TagKeys": ["fleetpatch:started-by", "PatchGroup"]},
    )


def test_pass_role_with_passed_to_service(aws: Any) -> None:
    role = make_role(
        aws,
        "passer",
        allow(
            "iam:PassRole",
            f"arn:aws:iam::{ACCOUNT}:role/automation",
            Condition={"StringEquals": {"iam:PassedToService": "ssm.amazonaws.com"}},
        ),
    )
    target = f"arn:aws:iam::{ACCOUNT}:role/automation"
    assert iam.is_allowed(
        role, "iam:PassRole", target, {"iam:PassedToService": "ssm.amazonaws.com"}
    )
    assert not iam.is_allowed(
        role, "iam:PassRole", target, {"iam:PassedToService": "ec2.amazonaws.com"}
    )
    assert not iam.is_allowed(role, "iam:PassRole", target)


BUCKET = "arn:aws:s3:::logs"


def test_same_account_resource_policy_alone_allows_a_named_role(aws: Any) -> None:
    role = make_role(aws, "writer")
    policy = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:role/writer"},
                "Action": "s3:PutObject",
                "Resource": f"{BUCKET}/*",
            }
        ]
    }
    assert iam.is_allowed(
        role, "s3:PutObject", f"{BUCKET}/k", resource_policy=policy, resource_account=ACCOUNT
    )
    # Naming only the account delegates to IAM policies: the role has none.
    account_only = {"Statement": [{**policy["Statement"][0], "Principal": {"AWS": ACCOUNT}}]}
    assert not iam.is_allowed(
        role, "s3:PutObject", f"{BUCKET}/k", resource_policy=account_only, resource_account=ACCOUNT
    )


def test_resource_policy_deny_beats_identity_allow(aws: Any) -> None:
    role = make_role(aws, "putter", allow("s3:PutObject"))
    deny = {
        "Statement": [
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:PutObject",
                "Resource": f"{BUCKET}/*",
            }
        ]
    }
    assert iam.is_allowed(role, "s3:PutObject", f"{BUCKET}/k", resource_account=ACCOUNT)
    decision = iam.evaluate(
        role, "s3:PutObject", f"{BUCKET}/k", resource_policy=deny, resource_account=ACCOUNT
    )
    assert decision.reason == "with an explicit deny in a resource-based policy"


def test_cross_account_needs_both_sides(aws: Any) -> None:
    with_identity = make_role(aws, "x-identity", allow("s3:PutObject"))
    without_identity = make_role(aws, "x-none")
    grant = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                "Action": "s3:PutObject",
                "Resource": f"{BUCKET}/*",
            }
        ]
    }
    key = f"{BUCKET}/k"
    assert iam.is_allowed(
        with_identity, "s3:PutObject", key, resource_policy=grant, resource_account=OTHER
    )
    assert not iam.is_allowed(with_identity, "s3:PutObject", key, resource_account=OTHER)
    assert not iam.is_allowed(
        without_identity, "s3:PutObject", key, resource_policy=grant, resource_account=OTHER
    )


def test_kms_needs_the_key_policy(aws: Any) -> None:
    role = make_role(aws, "kms-user", allow("kms:Decrypt"))
    key = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234"
    delegate = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ]
    }
    other_only = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{OTHER}:root"},
                "Action": "kms:*",
                "Resource": "*",
            }
        ]
    }
    assert iam.is_allowed(
        role, "kms:Decrypt", key, resource_policy=delegate, resource_account=ACCOUNT
    )
    # IAM alone never grants a KMS key without the key policy.
    assert not iam.is_allowed(
        role, "kms:Decrypt", key, resource_policy=other_only, resource_account=ACCOUNT
    )
    assert not iam.is_allowed(role, "kms:Decrypt", key, resource_account=ACCOUNT)
    # The root statement delegates: without an IAM allow it grants nothing.
    bare = make_role(aws, "kms-bare")
    assert not iam.is_allowed(
        bare, "kms:Decrypt", key, resource_policy=delegate, resource_account=ACCOUNT
    )


def test_service_principal_only_through_resource_policies(aws: Any) -> None:
    ssm = iam.service("ssm.amazonaws.com", ACCOUNT)
    assert not iam.is_allowed(ssm, "s3:PutObject", f"{BUCKET}/k")
    policy = {
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ssm.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": f"{BUCKET}/inventory/*/accountid={ACCOUNT}/*",
                "Condition": {
                    "StringEquals": {
                        "s3:x-amz-acl": "bucket-owner-full-control",
                        "aws:SourceAccount": ACCOUNT,
                    },
                    "ArnLike": {"aws:SourceArn": f"arn:aws:ssm:*:{ACCOUNT}:resource-data-sync/*"},
                },
            }
        ]
    }
    ok = {
        "s3:x-amz-acl": "bucket-owner-full-control",
        "aws:SourceAccount": ACCOUNT,
        "aws:SourceArn": f"arn:aws:ssm:{REGION}:{ACCOUNT}:resource-data-sync/sync",
    }
    key = f"{BUCKET}/inventory/AWS:InstanceInformation/accountid={ACCOUNT}/i-1.json"
    assert iam.is_allowed(ssm, "s3:PutObject", key, ok, resource_policy=policy)
    assert not iam.is_allowed(
        ssm, "s3:PutObject", key, {**ok, "s3:x-amz-acl": "private"}, resource_policy=policy
    )
    assert not iam.is_allowed(
        iam.service("events.amazonaws.com", ACCOUNT),
        "s3:PutObject",
        key,
        ok,
        resource_policy=policy,
    )


def test_principal_forms(aws: Any) -> None:
    role = make_role(aws, "named")
    key = f"{BUCKET}/k"

    def granted(principal_block: Any, **extra: Any) -> bool:
        statement = {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*", **extra}
        if principal_block is not None:
            statement["Principal"] = principal_block
        return iam.is_allowed(
            role,
            "s3:GetObject",
            key,
            resource_policy={"Statement": [statement]},
            resource_account=ACCOUNT,
        )

    assert granted("*")
    assert granted({"AWS": "*"})
    assert granted({"AWS": f"arn:aws:iam::{ACCOUNT}:role/named"})
    assert granted({"AWS": f"arn:aws:sts::{ACCOUNT}:assumed-role/named/emulator"})
    assert not granted({"AWS": f"arn:aws:sts::{ACCOUNT}:assumed-role/named/other"})
    assert not granted({"AWS": f"arn:aws:iam::{ACCOUNT}:role/someone-else"})
    assert not granted({"Service": "ssm.amazonaws.com"})
    assert not granted(None)  # a resource-policy statement without Principal grants nobody
    assert granted(None, NotPrincipal={"AWS": f"arn:aws:iam::{ACCOUNT}:role/other"})
    assert not granted(None, NotPrincipal={"AWS": f"arn:aws:iam::{ACCOUNT}:role/named"})


def test_assume_role_trust_with_source_arn(aws: Any) -> None:
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ssm.amazonaws.com"},
                "Action": "sts:AssumeRole",
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": ACCOUNT},
                    "ArnLike": {
                        "aws:SourceArn": f"arn:aws:ssm:{REGION}:{ACCOUNT}:automation-execution/*"
                    },
                },
            }
        ],
    }
    make_role(aws, "automation", trust=trust)
    role_arn = f"arn:aws:iam::{ACCOUNT}:role/automation"
    ssm = iam.service("ssm.amazonaws.com", ACCOUNT)
    good = {
        "aws:SourceAccount": ACCOUNT,
        "aws:SourceArn": f"arn:aws:ssm:{REGION}:{ACCOUNT}:automation-execution/abc",
    }
    credentials = iam.assume_role(ssm, role_arn, "exec-abc", good)
    assert credentials["AccessKeyId"].startswith("ASIA")
    principal = iam.principal_from_request(
        ACCOUNT,
        {"Authorization": signed(credentials["AccessKeyId"])},
    )
    assert principal == iam.role_session(ACCOUNT, "automation", "exec-abc")
    with pytest.raises(iam.AccessDenied):
        iam.assume_role(ssm, role_arn, "x", {**good, "aws:SourceAccount": OTHER})
    with pytest.raises(iam.AccessDenied):
        iam.assume_role(iam.service("events.amazonaws.com", ACCOUNT), role_arn, "x", good)
    with pytest.raises(iam.AccessDenied, match="does not exist"):
        iam.assume_role(ssm, f"arn:aws:iam::{ACCOUNT}:role/missing", "x", good)
    assert {d["action"] for d in iam.denials()} == {"sts:AssumeRole"}
    assert iam.denials()[0]["actor"] == "ssm.amazonaws.com"


def test_role_session_assuming_a_role_needs_its_identity_policy(aws: Any) -> None:
    target_trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "sts:AssumeRole"}
        ],
    }
    make_role(aws, "target", trust=target_trust)
    target = f"arn:aws:iam::{ACCOUNT}:role/target"
    with_policy = make_role(aws, "hopper", allow("sts:AssumeRole", target))
    without = make_role(aws, "stuck")
    assert iam.assume_role(with_policy, target, "s")["SessionToken"]
    with pytest.raises(iam.AccessDenied):
        iam.assume_role(without, target, "s")


def test_principal_from_request_admin_cases(aws: Any) -> None:
    base = {"Authorization": "AWS4-HMAC-SHA256 Credential=test/20250101/us-west-2/ec2/aws4_request"}
    assert iam.principal_from_request(ACCOUNT, base).kind == "admin"
    assert iam.principal_from_request(ACCOUNT, {}).kind == "admin"
    # A session of a role that does not exist (the deployer role) is admin.
    sts = boto3.client("sts", region_name=REGION)
    creds = sts.assume_role(
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/fleetpatch-emulator", RoleSessionName="tf"
    )["Credentials"]
    header = {"Authorization": signed(creds["AccessKeyId"])}
    assert iam.principal_from_request(ACCOUNT, header).kind == "admin"
    # Once that role exists, its sessions are evaluated.
    make_role(aws, "fleetpatch-emulator")
    assert iam.principal_from_request(ACCOUNT, header) == iam.role_session(
        ACCOUNT, "fleetpatch-emulator", "tf"
    )
