"""The IAM side of the modify limit, decided by the emulator's IAM (tests/emulator/iam.py).

The function's policy limits iam:AttachRolePolicy to roles under modifiable_role_path_prefix and
carrying modifiable_role_tag, so the limit holds even if the Python check were wrong. The two
statements below are what modules/role_check/main.tf renders for prefix "/apps/" and tag
fleetpatch:managed=true (its terraform test `roles_it_may_modify_limited_by_path_and_tag_in_the_
iam_policy` asserts those Resource and condition values); here the emulator's request mapping
(tests/emulator/auth.py: the role ARN with its path, the role's tags as aws:ResourceTag) and its
policy evaluation decide real AttachRolePolicy requests against moto roles.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.emulator import auth
from tests.emulator import iam as emulated_iam

from .conftest import ACCOUNT, ASSUME_EC2, CORE_ARN, REGION, SSM_ROLE, Fleet

FUNCTION_ROLE = "fleetpatch-role-check-fn"
OTHER_POLICY = "arn:aws:iam::aws:policy/ReadOnlyAccess"


def function_policy(tag_value: str | None) -> dict[str, Any]:
    tag = (
        {"Null": {"aws:ResourceTag/fleetpatch:managed": "false"}}
        if tag_value is None
        else {"StringEquals": {"aws:ResourceTag/fleetpatch:managed": tag_value}}
    )
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "AttachOnlyTheSsmManagedPolicy",
                "Effect": "Allow",
                "Action": "iam:AttachRolePolicy",
                "Resource": f"arn:aws:iam::{ACCOUNT}:role/apps/*",
                "Condition": {"ArnEquals": {"iam:PolicyARN": [CORE_ARN]}, **tag},
            },
            {
                "Sid": "AttachToTheSsmRole",
                "Effect": "Allow",
                "Action": "iam:AttachRolePolicy",
                "Resource": f"arn:aws:iam::{ACCOUNT}:role/{SSM_ROLE}",
                "Condition": {"ArnEquals": {"iam:PolicyARN": [CORE_ARN]}},
            },
        ],
    }


def may_attach(role: str, policy_arn: str = CORE_ARN) -> bool:
    principal = emulated_iam.role_session(ACCOUNT, FUNCTION_ROLE)
    request = auth.Request(
        principal,
        "iam",
        "AttachRolePolicy",
        ACCOUNT,
        REGION,
        {"RoleName": role, "PolicyArn": policy_arn},
    )
    checks = auth.MAPPED[("iam", "AttachRolePolicy")](request)
    return all(emulated_iam.is_allowed(principal, c.action, c.resource, c.context) for c in checks)


@pytest.fixture
def limited(fleet: Fleet) -> Fleet:
    fleet.iam.create_role(RoleName=FUNCTION_ROLE, AssumeRolePolicyDocument=ASSUME_EC2)
    for name, path, tags in [
        ("inside-tagged", "/apps/team/", {"fleetpatch:managed": "true"}),
        ("inside-wrong-value", "/apps/", {"fleetpatch:managed": "false"}),
        ("inside-untagged", "/apps/", {}),
        ("outside-tagged", "/platform/", {"fleetpatch:managed": "true"}),
        ("lookalike-tagged", "/apps-legacy/", {"fleetpatch:managed": "true"}),
    ]:
        kwargs: dict[str, Any] = {
            "RoleName": name,
            "AssumeRolePolicyDocument": ASSUME_EC2,
            "Path": path,
        }
        if tags:
            kwargs["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
        fleet.iam.create_role(**kwargs)
    return fleet


def test_policy_allows_only_roles_under_the_path_with_the_tag(limited: Fleet) -> None:
    limited.iam.put_role_policy(
        RoleName=FUNCTION_ROLE,
        PolicyName="role-check",
        PolicyDocument=json.dumps(function_policy("true")),
    )
    assert may_attach("inside-tagged")
    assert not may_attach("inside-wrong-value")
    assert not may_attach("inside-untagged")
    assert not may_attach("outside-tagged")
    assert not may_attach("lookalike-tagged"), "the prefix is a whole path segment"
    assert may_attach(SSM_ROLE), "the module's own SSM role stays modifiable"
    assert not may_attach("inside-tagged", OTHER_POLICY), "only the attachable policies"


def test_any_value_needs_the_tag_present(limited: Fleet) -> None:
    limited.iam.put_role_policy(
        RoleName=FUNCTION_ROLE,
        PolicyName="role-check",
        PolicyDocument=json.dumps(function_policy(None)),
    )
    assert may_attach("inside-tagged")
    assert may_attach("inside-wrong-value")
    assert not may_attach("inside-untagged")
