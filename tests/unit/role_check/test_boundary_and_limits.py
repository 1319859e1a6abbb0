"""Permissions boundaries and the limit on the roles the check may modify (issue 15, section 4).

A boundary caps a role's effective permissions (identity policies AND boundary; an explicit deny
in it wins: https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html), so
attaching AmazonSSMManagedInstanceCore to a role whose boundary lacks the SSM actions cannot make
the instance a managed node: the check must report it and attach nothing. Each moto case asserts
the real account state.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from ssm_role_check.checker import RoleChecker
from ssm_role_check.config import Config, ConfigError, load_config
from ssm_role_check.events import Trigger
from ssm_role_check.handler import METRIC_NAMES
from ssm_role_check.policy import REQUIRED_ACTIONS, evaluate, evaluate_boundary
from ssm_role_check.summary import FAILED_OUTCOMES, Outcome

from .conftest import (
    ASSUME_EC2,
    CORE_ARN,
    REGION,
    SSM_PROFILE,
    SSM_ROLE,
    Calls,
    Fleet,
    fail_calls,
)

CONFIG = Config(region=REGION, instance_profile_name=SSM_PROFILE, role_name=SSM_ROLE)
SWEEP = Trigger("sweep", None)
SSM_SERVICES = ["ssm:*", "ssmmessages:*", "ec2messages:*"]


def doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(actions: Any = SSM_SERVICES, **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": actions, "Resource": "*", **extra}


# --- the evaluator (pure) ---------------------------------------------------------------------


def test_boundary_allowing_every_required_action() -> None:
    assert evaluate_boundary(doc(allow())).allows
    assert evaluate_boundary(doc(allow("*"))).allows
    assert evaluate_boundary(json.dumps(doc(allow(["SSM:*", "ssmmessages:*", "ec2messages:*"]))))


def test_boundary_without_the_ssm_actions_does_not_allow_them() -> None:
    verdict = evaluate_boundary(doc(allow(["s3:*", "ssm:*"])))
    assert not verdict.allows
    assert verdict.not_allowed == {a for a in REQUIRED_ACTIONS if not a.startswith("ssm:")}
    assert "does not allow ec2messages:AcknowledgeMessage" in verdict.describe()


def test_boundary_explicit_deny_wins_over_its_allow() -> None:
    verdict = evaluate_boundary(
        doc(allow("*"), {"Effect": "Deny", "Action": "ssmmessages:*", "Resource": "*"})
    )
    assert not verdict.allows
    assert verdict.denied == {a for a in REQUIRED_ACTIONS if a.startswith("ssmmessages:")}
    assert not verdict.not_allowed and not verdict.unproven


def test_boundary_not_action() -> None:
    assert evaluate_boundary(doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})).allows
    verdict = evaluate_boundary(
        doc({"Effect": "Allow", "NotAction": ["ec2messages:*"], "Resource": "*"})
    )
    assert verdict.not_allowed == {a for a in REQUIRED_ACTIONS if a.startswith("ec2messages:")}
    denied = evaluate_boundary(
        doc(
            allow("*"),
            {"Effect": "Deny", "NotAction": ["ssm*:*", "ec2messages:*"], "Resource": "*"},
        )
    )
    assert denied.allows, "a Deny NotAction that excludes the SSM actions does not deny them"


@pytest.mark.parametrize(
    "statements",
    [
        [allow(Condition={"StringEquals": {"aws:RequestedRegion": "us-west-2"}})],
        [{**allow(), "Resource": "arn:aws:ssm:*:*:*"}],
        [{"Effect": "Allow", "Action": SSM_SERVICES, "NotResource": "arn:aws:ssm:*:*:document/x"}],
        [
            allow(),
            {
                "Effect": "Deny",
                "Action": "ssm:*",
                "Resource": "*",
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            },
        ],
    ],
    ids=["conditional-allow", "resource-scoped-allow", "not-resource", "conditional-deny"],
)
def test_boundary_conditions_cannot_be_proven(statements: list[dict[str, Any]]) -> None:
    verdict = evaluate_boundary(doc(*statements))
    assert not verdict.allows
    assert verdict.unproven and not verdict.denied
    assert "cannot prove allowed" in verdict.describe()


# AWS's common Region-restriction boundary: everything, but nothing outside eu-west-1 except
# the global IAM/STS (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_examples_aws_deny-requested-region.html).
REGION_BOUNDARY = doc(
    allow("*"),
    {
        "Effect": "Deny",
        "NotAction": ["iam:*", "sts:*"],
        "Resource": "*",
        "Condition": {"StringNotEquals": {"aws:RequestedRegion": ["eu-west-1"]}},
    },
)


def test_region_restriction_boundary_is_unproven_not_blocking() -> None:
    verdict = evaluate_boundary(REGION_BOUNDARY)
    assert not verdict.blocks
    assert not verdict.allows
    assert verdict.unproven == REQUIRED_ACTIONS and not verdict.denied


@pytest.mark.parametrize("resource", ["arn:aws:*", "arn:*:*", "arn:aws:*:*:*:*", "arn:*"])
def test_allow_on_an_all_arn_pattern_allows(resource: str) -> None:
    assert evaluate_boundary(doc({**allow(), "Resource": resource}), "aws").allows
    assert evaluate_boundary(doc({**allow(), "Resource": [resource]})).allows


def test_all_arn_pattern_of_another_partition_is_not_all() -> None:
    verdict = evaluate_boundary(doc({**allow(), "Resource": "arn:aws:*"}), "aws-cn")
    assert not verdict.allows and not verdict.blocks


def test_unconditional_deny_on_an_all_arn_pattern_blocks() -> None:
    verdict = evaluate_boundary(
        doc(allow("*"), {"Effect": "Deny", "Action": "ssm:*", "Resource": "arn:aws:*"})
    )
    assert verdict.blocks
    assert verdict.denied == {a for a in REQUIRED_ACTIONS if a.startswith("ssm:")}


def test_deny_not_resource() -> None:
    # A Deny whose NotResource excludes everything applies to nothing.
    assert evaluate_boundary(
        doc(allow("*"), {"Effect": "Deny", "Action": "*", "NotResource": "arn:aws:*"})
    ).allows
    # One excluding only some bucket may or may not reach SSM's resources: unproven, not blocking.
    verdict = evaluate_boundary(
        doc(allow("*"), {"Effect": "Deny", "Action": "*", "NotResource": "arn:aws:s3:::b/*"})
    )
    assert not verdict.blocks and verdict.unproven


def test_blocks_only_when_provably_denied() -> None:
    assert evaluate_boundary(doc(allow("s3:*"))).blocks
    assert evaluate_boundary(
        doc(allow("*"), {"Effect": "Deny", "Action": "ec2messages:*", "Resource": "*"})
    ).blocks
    assert not evaluate_boundary(doc(allow())).blocks


def test_identity_policy_on_an_all_arn_pattern_grants() -> None:
    grants = evaluate([doc({**allow(), "Resource": "arn:aws:*"})])
    assert grants.complete
    denied = evaluate(
        [doc(allow()), {"Statement": [{"Effect": "Deny", "Action": "ssm:*", "Resource": "arn:*"}]}]
    )
    assert denied.blocked
    # A conditional Deny in an identity policy does not block (as before).
    assert not evaluate([doc(allow()), REGION_BOUNDARY]).blocked


def test_unreadable_boundary_allows_nothing() -> None:
    assert evaluate_boundary("not json").not_allowed == REQUIRED_ACTIONS


# --- the checker against moto ----------------------------------------------------------------


def boundary(fleet: Fleet, name: str, document: dict[str, Any]) -> str:
    arn: str = fleet.iam.create_policy(PolicyName=name, PolicyDocument=json.dumps(document))[
        "Policy"
    ]["Arn"]
    return arn


def bounded_role(
    fleet: Fleet,
    name: str,
    *,
    boundary_arn: str | None = None,
    path: str = "/",
    tags: dict[str, str] | None = None,
    managed: tuple[str, ...] = (),
) -> None:
    kwargs: dict[str, Any] = {
        "RoleName": name,
        "AssumeRolePolicyDocument": ASSUME_EC2,
        "Path": path,
    }
    if boundary_arn is not None:
        kwargs["PermissionsBoundary"] = boundary_arn
    if tags:
        kwargs["Tags"] = [{"Key": k, "Value": v} for k, v in tags.items()]
    fleet.iam.create_role(**kwargs)
    for arn in managed:
        fleet.iam.attach_role_policy(RoleName=name, PolicyArn=arn)
    fleet.profile(f"{name}-profile", name)


def run(fleet: Fleet, config: Config = CONFIG) -> tuple[dict[str, Any], Calls]:
    calls = Calls().attach(fleet.ec2, fleet.iam)
    summary = RoleChecker(fleet.ec2, fleet.iam, config, sleep=lambda _s: None).run(SWEEP)
    return summary.to_dict(), calls


def test_boundary_allowing_ssm_lets_the_policy_be_attached(fleet: Fleet) -> None:
    arn = boundary(fleet, "ssm-boundary", doc(allow(), allow("s3:*")))
    bounded_role(fleet, "bounded", boundary_arn=arn)
    (instance,) = fleet.launch(profile="bounded-profile")
    result, calls = run(fleet)
    assert result["outcomes"]["policy_attached"] == 1
    assert result["changed_instance_ids"] == [instance]
    assert fleet.attached("bounded") == {CORE_ARN}
    assert calls.by_operation["GetRole"] == 1, "one GetRole per role"


def test_boundary_without_ssm_is_reported_and_nothing_attached(fleet: Fleet) -> None:
    arn = boundary(fleet, "s3-only", doc(allow("s3:*")))
    bounded_role(fleet, "capped", boundary_arn=arn)
    # A role that already carries the managed policy is not compliant either: it cannot reach SSM.
    bounded_role(fleet, "capped-core", boundary_arn=arn, managed=(CORE_ARN,))
    (first,) = fleet.launch(profile="capped-profile")
    (second,) = fleet.launch(profile="capped-core-profile")
    result, calls = run(fleet)
    assert result["outcomes"]["blocked_by_boundary"] == 2
    assert result["outcomes"]["compliant"] == 0 and result["outcomes"]["policy_attached"] == 0
    assert result["changed_instance_ids"] == []
    assert calls.mutating == {}
    assert fleet.attached("capped") == set() and fleet.attached("capped-core") == {CORE_ARN}
    failed = {f["instance_id"]: f for f in result["failed"]}
    assert set(failed) == {first, second}
    assert failed[first]["outcome"] == "blocked_by_boundary"
    assert f"permissions boundary {arn} does not allow" in failed[first]["error"]
    assert "nothing attached" in failed[first]["error"]
    # one boundary, read once for both roles
    assert calls.by_operation["GetPolicyVersion"] == 1


def test_conditional_boundary_is_fixed_and_reported_as_unproven(fleet: Fleet) -> None:
    # A conditional-only Allow can be proven neither way: the policy is attached (harmless) and
    # the role is listed for the operator, not failed.
    arn = boundary(
        fleet,
        "conditional",
        doc(allow(Condition={"StringEquals": {"aws:RequestedRegion": REGION}})),
    )
    bounded_role(fleet, "cond", boundary_arn=arn)
    (instance,) = fleet.launch(profile="cond-profile")
    result, _ = run(fleet)
    assert result["failed"] == []
    assert result["changed_instance_ids"] == [instance]
    assert result["outcomes"]["policy_attached"] == 1
    assert fleet.attached("cond") == {CORE_ARN}
    (unproven,) = result["boundary_unproven"]
    assert unproven["role"] == "cond"
    assert arn in unproven["reason"] and "cannot prove allowed" in unproven["reason"]


def test_region_restriction_boundary_does_not_block_the_fix(fleet: Fleet) -> None:
    arn = boundary(fleet, "region-only", REGION_BOUNDARY)
    bounded_role(fleet, "regional", boundary_arn=arn)
    fleet.launch(profile="regional-profile")
    result, _ = run(fleet)
    assert result["outcomes"]["blocked_by_boundary"] == 0
    assert result["outcomes"]["policy_attached"] == 1
    assert fleet.attached("regional") == {CORE_ARN}
    assert [u["role"] for u in result["boundary_unproven"]] == ["regional"]


def test_unreadable_boundary_is_access_denied_not_fixed(fleet: Fleet) -> None:
    arn = boundary(fleet, "secret", doc(allow()))
    bounded_role(fleet, "hidden", boundary_arn=arn)
    fleet.launch(profile="hidden-profile")
    fail_calls(fleet.iam, "GetPolicy", [("AccessDenied", "not authorized")])
    result, calls = run(fleet)
    assert result["outcomes"]["access_denied"] == 1
    assert calls.mutating == {}
    assert fleet.attached("hidden") == set()


def test_path_limit(fleet: Fleet) -> None:
    bounded_role(fleet, "inside", path="/apps/team/")
    bounded_role(fleet, "outside", path="/platform/")
    bounded_role(fleet, "lookalike", path="/apps-legacy/")
    (inside,) = fleet.launch(profile="inside-profile")
    (outside,) = fleet.launch(profile="outside-profile")
    fleet.launch(profile="lookalike-profile")
    config = dataclasses.replace(CONFIG, modifiable_role_path_prefix="/apps/")
    result, calls = run(fleet, config)
    assert result["changed_instance_ids"] == [inside]
    assert fleet.attached("inside") == {CORE_ARN}
    assert fleet.attached("outside") == set() and fleet.attached("lookalike") == set()
    assert calls.mutating == {"AttachRolePolicy": 1}
    assert result["outcomes"]["not_allowed_to_modify"] == 2
    reasons = {r["instance_id"]: r["reason"] for r in result["not_allowed_to_modify"]}
    assert "role outside has path /platform/, outside /apps/" in reasons[outside]
    assert Outcome.NOT_ALLOWED_TO_MODIFY not in FAILED_OUTCOMES


def test_tag_limit(fleet: Fleet) -> None:
    bounded_role(fleet, "tagged", tags={"fleetpatch:managed": "true"})
    bounded_role(fleet, "other-value", tags={"fleetpatch:managed": "false"})
    bounded_role(fleet, "untagged")
    (tagged,) = fleet.launch(profile="tagged-profile")
    fleet.launch(profile="other-value-profile")
    (untagged,) = fleet.launch(profile="untagged-profile")
    config = dataclasses.replace(
        CONFIG, modifiable_role_tag_key="fleetpatch:managed", modifiable_role_tag_value="true"
    )
    result, calls = run(fleet, config)
    assert result["changed_instance_ids"] == [tagged]
    assert calls.mutating == {"AttachRolePolicy": 1}
    assert fleet.attached("other-value") == set() and fleet.attached("untagged") == set()
    reasons = {r["instance_id"]: r["reason"] for r in result["not_allowed_to_modify"]}
    assert "lacks the tag fleetpatch:managed" in reasons[untagged]
    # any value
    config = dataclasses.replace(config, modifiable_role_tag_value=None)
    result, _ = run(fleet, config)
    assert fleet.attached("other-value") == {CORE_ARN}
    assert fleet.attached("untagged") == set()


def test_the_ssm_role_itself_is_always_modifiable(fleet: Fleet) -> None:
    fleet.iam.detach_role_policy(RoleName=SSM_ROLE, PolicyArn=CORE_ARN)
    (instance,) = fleet.launch(profile=SSM_PROFILE)
    config = dataclasses.replace(
        CONFIG, modifiable_role_path_prefix="/apps/", modifiable_role_tag_key="k"
    )
    result, _ = run(fleet, config)
    assert result["changed_instance_ids"] == [instance]
    assert fleet.attached(SSM_ROLE) == {CORE_ARN}


# --- configuration and metrics ---------------------------------------------------------------

BASE_ENV = {
    "AWS_REGION": REGION,
    "SSM_INSTANCE_PROFILE_NAME": SSM_PROFILE,
    "SSM_ROLE_NAME": SSM_ROLE,
}


def test_limits_are_read_from_the_environment() -> None:
    config = load_config(
        {
            **BASE_ENV,
            "MODIFIABLE_ROLE_PATH_PREFIX": "/apps/",
            "MODIFIABLE_ROLE_TAG_KEY": "fleetpatch:managed",
            "MODIFIABLE_ROLE_TAG_VALUE": "true",
        }
    )
    assert config.modifiable_role_path_prefix == "/apps/"
    assert (config.modifiable_role_tag_key, config.modifiable_role_tag_value) == (
        "fleetpatch:managed",
        "true",
    )
    default = load_config(BASE_ENV)
    assert default.modifiable_role_path_prefix == "/"
    assert default.modifiable_role_tag_key is None


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"MODIFIABLE_ROLE_PATH_PREFIX": "apps/"}, "MODIFIABLE_ROLE_PATH_PREFIX"),
        ({"MODIFIABLE_ROLE_PATH_PREFIX": "/apps"}, "MODIFIABLE_ROLE_PATH_PREFIX"),
        ({"MODIFIABLE_ROLE_PATH_PREFIX": "/ap*/"}, "MODIFIABLE_ROLE_PATH_PREFIX"),
        ({"MODIFIABLE_ROLE_TAG_KEY": "aws:x"}, "MODIFIABLE_ROLE_TAG_KEY"),
        ({"MODIFIABLE_ROLE_TAG_VALUE": "true"}, "MODIFIABLE_ROLE_TAG_VALUE needs"),
    ],
)
def test_bad_limits_are_refused(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config({**BASE_ENV, **env})


def test_new_outcomes_have_metrics() -> None:
    assert METRIC_NAMES[Outcome.BLOCKED_BY_BOUNDARY] == "InstancesBlockedByBoundary"
    assert METRIC_NAMES[Outcome.NOT_ALLOWED_TO_MODIFY] == "InstancesNotAllowedToModify"
    assert Outcome.BLOCKED_BY_BOUNDARY in FAILED_OUTCOMES
