"""The node core policy (SSM_NODE_POLICY_ARN): least privilege instead of the AWS managed policy.

modules/role_check creates ``<name_prefix>-ssm-node-core`` with exactly the SSM core actions the
function checks (:data:`ssm_role_check.policy.REQUIRED_ACTIONS`) and has the function attach it
instead of AmazonSSMManagedInstanceCore, which also grants ``ssm:GetParameter(s)`` on every
parameter. Each case asserts the account state in moto and the summary.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import hcl2
import pytest
from ssm_role_check.checker import RoleChecker
from ssm_role_check.config import Config, ConfigError, load_config
from ssm_role_check.events import Trigger
from ssm_role_check.policy import REQUIRED_ACTIONS

from .conftest import ACCOUNT, CORE_ARN, REGION, SSM_PROFILE, SSM_ROLE, Calls, Fleet

ROOT = Path(__file__).resolve().parents[3]
NODE_CORE_TF = ROOT / "modules" / "ssm_node_core" / "main.tf"
NODE_POLICY_NAME = "fleetpatch-ssm-node-core"
NODE_ARN = f"arn:aws:iam::{ACCOUNT}:policy/{NODE_POLICY_NAME}"
SWEEP = Trigger("sweep", None)
CONFIG = Config(
    region=REGION,
    instance_profile_name=SSM_PROFILE,
    role_name=SSM_ROLE,
    node_policy_arn=NODE_ARN,
)
BASE_ENV = {
    "AWS_REGION": REGION,
    "SSM_INSTANCE_PROFILE_NAME": SSM_PROFILE,
    "SSM_ROLE_NAME": SSM_ROLE,
}


def _module_actions() -> list[str]:
    with NODE_CORE_TF.open() as handle:
        parsed = hcl2.load(handle)
    locals_ = {k: v for block in parsed["locals"] for k, v in block.items()}
    return [str(a).strip('"') for a in locals_["actions"]]


def _node_document() -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": sorted(REQUIRED_ACTIONS), "Resource": "*"},
        ],
    }


@pytest.fixture
def node_fleet(fleet: Fleet) -> Fleet:
    """The standard fleet plus the node core policy, created as modules/role_check does."""
    arn = fleet.iam.create_policy(
        PolicyName=NODE_POLICY_NAME, PolicyDocument=json.dumps(_node_document())
    )["Policy"]["Arn"]
    assert arn == NODE_ARN
    return fleet


def run(fleet: Fleet, config: Config = CONFIG) -> tuple[dict[str, Any], Calls]:
    calls = Calls().attach(fleet.ec2, fleet.iam)
    summary = RoleChecker(fleet.ec2, fleet.iam, config, sleep=lambda _s: None).run(SWEEP)
    return summary.to_dict(), calls


@pytest.mark.parametrize("module", ["role_check", "hybrid_activation"])
def test_the_module_policy_grants_exactly_the_actions_the_function_checks(module: str) -> None:
    main_tf = (ROOT / "modules" / module / "main.tf").read_text()
    assert 'source = "../ssm_node_core"' in main_tf
    assert "policy = module.node_core.policy_json" in main_tf.replace("policy      =", "policy =")
    actions = _module_actions()
    assert len(actions) == len(set(actions)), "no action listed twice"
    assert set(actions) == set(REQUIRED_ACTIONS)
    assert not any(a.startswith(("ssm:GetParameter", "s3:", "kms:")) for a in actions)


def test_config_reads_the_node_policy_arn() -> None:
    config = load_config({**BASE_ENV, "SSM_NODE_POLICY_ARN": NODE_ARN})
    assert config.node_policy_arn == NODE_ARN
    assert config.managed_policy_arn("aws") == NODE_ARN
    assert config.managed_policy_arn("aws-us-gov") == NODE_ARN, "a policy of this account"
    assert load_config(BASE_ENV).managed_policy_arn("aws") == CORE_ARN, "unset: the AWS one"


@pytest.mark.parametrize(
    "override",
    [
        {"SSM_NODE_POLICY_ARN": "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"},
        {"SSM_NODE_POLICY_ARN": f"arn:aws:iam::{ACCOUNT}:role/{NODE_POLICY_NAME}"},
        {"SSM_NODE_POLICY_ARN": NODE_POLICY_NAME},
        {
            "SSM_NODE_POLICY_ARN": NODE_ARN,
            "SSM_MANAGED_POLICY_NAME": "AmazonSSMManagedInstanceCore",
        },
    ],
)
def test_config_rejects_a_bad_or_ambiguous_node_policy(override: dict[str, str]) -> None:
    with pytest.raises(ConfigError, match="SSM_NODE_POLICY_ARN"):
        load_config({**BASE_ENV, **override})


def test_a_role_lacking_ssm_gets_the_node_core_policy_not_the_aws_one(node_fleet: Fleet) -> None:
    node_fleet.role("app-role")
    node_fleet.profile("app-profile", "app-role")
    instances = node_fleet.launch(2, profile="app-profile")
    result, calls = run(node_fleet)
    assert result["outcomes"]["policy_attached"] == 2
    assert calls.mutating == {"AttachRolePolicy": 1}, "once for the shared role"
    assert result["policies_attached"] == {NODE_ARN: 1}
    assert node_fleet.attached("app-role") == {NODE_ARN}
    assert all(node_fleet.profile_of(i) == "app-profile" for i in instances)
    second, calls = run(node_fleet)
    assert second["outcomes"]["compliant"] == 2
    assert calls.mutating == {}


def test_roles_granted_by_the_aws_managed_policy_are_left_alone(node_fleet: Fleet) -> None:
    # A role the user gave AmazonSSMManagedInstanceCore reaches SSM: nothing more is attached.
    node_fleet.role("managed-role", managed=(CORE_ARN,))
    node_fleet.profile("managed-profile", "managed-role")
    (managed,) = node_fleet.launch(profile="managed-profile")
    result, calls = run(node_fleet)
    assert result["outcomes"]["compliant"] == 1
    assert calls.mutating == {}
    assert node_fleet.attached("managed-role") == {CORE_ARN}
    assert node_fleet.profile_of(managed) == "managed-profile"


def test_dry_run_names_the_node_core_policy_and_changes_nothing(node_fleet: Fleet) -> None:
    node_fleet.role("app-role")
    node_fleet.profile("app-profile", "app-role")
    node_fleet.launch(profile="app-profile")
    result, calls = run(node_fleet, dataclasses.replace(CONFIG, dry_run=True))
    assert calls.mutating == {}
    assert node_fleet.attached("app-role") == set()
    assert NODE_ARN in json.dumps(result)
