"""The node log policy (NODE_LOG_POLICY_ARN): attached with, or after, the SSM managed policy.

AmazonSSMManagedInstanceCore has no s3:PutObject, so without the customer managed log policy
the command output of instances whose role fleetpatch did not create never reaches the log
buckets. Each case asserts the real account state in moto and the summary.
"""

from __future__ import annotations

import dataclasses
import io
import json
from typing import Any

import pytest
from ssm_role_check import handler
from ssm_role_check.checker import RoleChecker
from ssm_role_check.config import Config, ConfigError, load_config
from ssm_role_check.events import Trigger

from .conftest import (
    ACCOUNT,
    CORE_ARN,
    REGION,
    SSM_PROFILE,
    SSM_ROLE,
    Calls,
    Fleet,
    fail_calls,
    scheduled_event,
)
from .test_checker import SSM_INLINE
from .test_handler import Context, Env, _emf, _json_lines

LOG_POLICY_NAME = "fleetpatch-managed-node-logs"
LOG_ARN = f"arn:aws:iam::{ACCOUNT}:policy/{LOG_POLICY_NAME}"
OPT_OUT = "fleetpatch:role-check-opt-out"
SWEEP = Trigger("sweep", None)
BASE = Config(region=REGION, instance_profile_name=SSM_PROFILE, role_name=SSM_ROLE)
CONFIG = dataclasses.replace(BASE, node_log_policy_arn=LOG_ARN, opt_out_tag_key=OPT_OUT)
LOG_DOCUMENT = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": "s3:PutObject",
            "Resource": ["arn:aws:s3:::fleetpatch-patch-baseline-logs/*"],
        }
    ],
}


@pytest.fixture
def logs_fleet(fleet: Fleet) -> Fleet:
    """The standard fleet plus the log policy; the SSM role carries it, as member_region does."""
    arn = fleet.iam.create_policy(
        PolicyName=LOG_POLICY_NAME, PolicyDocument=json.dumps(LOG_DOCUMENT)
    )["Policy"]["Arn"]
    assert arn == LOG_ARN
    fleet.iam.attach_role_policy(RoleName=SSM_ROLE, PolicyArn=LOG_ARN)
    return fleet


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, fleet: Fleet) -> Env:
    """The handler's environment (as in test_handler), without a log policy unless set."""
    logs = io.StringIO()
    monkeypatch.setattr(handler.logger.registered_handler, "stream", logs)
    monkeypatch.setenv("SSM_INSTANCE_PROFILE_NAME", SSM_PROFILE)
    monkeypatch.setenv("SSM_ROLE_NAME", SSM_ROLE)
    monkeypatch.delenv("NODE_LOG_POLICY_ARN", raising=False)
    monkeypatch.delenv("OPT_OUT_TAG_KEY", raising=False)
    monkeypatch.delenv("DRY_RUN", raising=False)
    return Env(fleet, logs)


def run(fleet: Fleet, trigger: Trigger, config: Config = CONFIG) -> tuple[dict[str, Any], Calls]:
    calls = Calls().attach(fleet.ec2, fleet.iam)
    summary = RoleChecker(fleet.ec2, fleet.iam, config, sleep=lambda _s: None).run(trigger)
    return summary.to_dict(), calls


def test_customer_role_lacking_ssm_gets_both_policies(logs_fleet: Fleet) -> None:
    inline = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
    }
    logs_fleet.role("app-role", inline={"app-s3": inline})
    logs_fleet.profile("app-profile", "app-role")
    shared = logs_fleet.launch(3, profile="app-profile")
    result, calls = run(logs_fleet, SWEEP)
    assert result["outcomes"]["policy_attached"] == 3
    assert result["changed_instance_ids"] == sorted(shared)
    assert calls.mutating == {"AttachRolePolicy": 2}, "each policy once for the shared role"
    assert result["changes"] == {"AttachRolePolicy": 2}
    assert result["policies_attached"] == {CORE_ARN: 1, LOG_ARN: 1}
    assert result["roles_changed"] == ["app-role"]
    assert logs_fleet.attached("app-role") == {CORE_ARN, LOG_ARN}
    assert logs_fleet.inline("app-role") == {"app-s3"}
    assert all(logs_fleet.profile_of(i) == "app-profile" for i in shared), "never replaced"
    second, calls = run(logs_fleet, SWEEP)
    assert second["outcomes"]["compliant"] == 3
    assert calls.mutating == {}


def test_role_with_ssm_only_gets_just_the_log_policy(logs_fleet: Fleet) -> None:
    logs_fleet.role("managed-role", managed=(CORE_ARN,))
    logs_fleet.profile("managed-profile", "managed-role")
    logs_fleet.role("inline-role", inline={"ssm": SSM_INLINE})
    logs_fleet.profile("inline-profile", "inline-role")
    (managed,) = logs_fleet.launch(profile="managed-profile")
    (granted,) = logs_fleet.launch(profile="inline-profile")
    result, calls = run(logs_fleet, SWEEP)
    assert result["outcomes"]["log_policy_attached"] == 2
    assert result["changed_instance_ids"] == sorted([managed, granted])
    assert calls.mutating == {"AttachRolePolicy": 2}
    assert result["policies_attached"] == {LOG_ARN: 2}
    assert logs_fleet.attached("managed-role") == {CORE_ARN, LOG_ARN}
    assert logs_fleet.attached("inline-role") == {LOG_ARN}, "no managed policy: SSM was granted"
    assert logs_fleet.inline("inline-role") == {"ssm"}


def test_role_with_both_policies_is_compliant_and_the_log_policy_is_not_read(
    logs_fleet: Fleet,
) -> None:
    logs_fleet.role("ok-role", managed=(CORE_ARN, LOG_ARN))
    logs_fleet.profile("ok-profile", "ok-role")
    logs_fleet.role("lacking-role", managed=(LOG_ARN,))
    logs_fleet.profile("lacking-profile", "lacking-role")
    (ok,) = logs_fleet.launch(profile="ok-profile")
    (lacking,) = logs_fleet.launch(profile="lacking-profile")
    (own,) = logs_fleet.launch(profile=SSM_PROFILE)
    result, calls = run(logs_fleet, SWEEP)
    assert result["outcomes"]["compliant"] == 2
    assert result["outcomes"]["policy_attached"] == 1
    assert result["changed_instance_ids"] == [lacking]
    assert result["policies_attached"] == {CORE_ARN: 1}
    assert logs_fleet.attached("lacking-role") == {LOG_ARN, CORE_ARN}
    assert calls.by_operation["GetPolicy"] == 0, "the log policy grants no SSM action"
    assert logs_fleet.profile_of(ok) == "ok-profile"
    assert logs_fleet.profile_of(own) == SSM_PROFILE


def test_the_fleetpatch_ssm_role_is_checked_too(fleet: Fleet) -> None:
    # The SSM role without the log policy (member_region's attachment missing or removed).
    fleet.iam.create_policy(PolicyName=LOG_POLICY_NAME, PolicyDocument=json.dumps(LOG_DOCUMENT))
    (existing,) = fleet.launch(profile=SSM_PROFILE)
    (bare,) = fleet.launch()
    result, calls = run(fleet, SWEEP)
    assert fleet.profile_of(bare) == SSM_PROFILE
    assert fleet.attached(SSM_ROLE) == {CORE_ARN, LOG_ARN}
    assert calls.mutating == {"AssociateIamInstanceProfile": 1, "AttachRolePolicy": 1}
    assert result["outcomes"]["log_policy_attached"] == 1
    assert result["outcomes"]["profile_associated"] == 1
    assert result["changed_instance_ids"] == sorted([existing, bare])
    assert result["policies_attached"] == {LOG_ARN: 1}


def test_an_association_checks_the_ssm_role_it_brings(fleet: Fleet) -> None:
    fleet.iam.create_policy(PolicyName=LOG_POLICY_NAME, PolicyDocument=json.dumps(LOG_DOCUMENT))
    fleet.profile("empty-profile")
    (empty,) = fleet.launch(profile="empty-profile")
    (bare,) = fleet.launch()
    result, calls = run(fleet, SWEEP)
    assert result["outcomes"]["empty_profile"] == 1  # someone else's emptied profile: left alone
    assert result["outcomes"]["profile_associated"] == 1
    assert calls.mutating == {
        "AssociateIamInstanceProfile": 1,
        "AttachRolePolicy": 1,
    }, "the SSM role the association brings is checked and fixed"
    assert fleet.attached(SSM_ROLE) == {CORE_ARN, LOG_ARN}
    assert fleet.role_of_profile("empty-profile") == []
    assert fleet.profile_of(bare) == SSM_PROFILE
    assert fleet.profile_of(empty) == "empty-profile"


def test_a_role_added_back_to_the_ssm_profile_is_checked(fleet: Fleet) -> None:
    fleet.iam.create_policy(PolicyName=LOG_POLICY_NAME, PolicyDocument=json.dumps(LOG_DOCUMENT))
    fleet.iam.remove_role_from_instance_profile(InstanceProfileName=SSM_PROFILE, RoleName=SSM_ROLE)
    (instance,) = fleet.launch(profile=SSM_PROFILE)
    result, calls = run(fleet, SWEEP)
    assert result["outcomes"]["role_added"] == 1
    assert calls.mutating == {"AddRoleToInstanceProfile": 1, "AttachRolePolicy": 1}
    assert fleet.attached(SSM_ROLE) == {CORE_ARN, LOG_ARN}
    assert fleet.role_of_profile(SSM_PROFILE) == [SSM_ROLE]
    assert fleet.profile_of(instance) == SSM_PROFILE


def test_without_a_log_policy_behaviour_is_unchanged(logs_fleet: Fleet) -> None:
    logs_fleet.role("managed-role", managed=(CORE_ARN,))
    logs_fleet.profile("managed-profile", "managed-role")
    logs_fleet.role("bare-role")
    logs_fleet.profile("bare-profile", "bare-role")
    logs_fleet.iam.detach_role_policy(RoleName=SSM_ROLE, PolicyArn=LOG_ARN)
    (managed,) = logs_fleet.launch(profile="managed-profile")
    (bare,) = logs_fleet.launch(profile="bare-profile")
    (none,) = logs_fleet.launch()
    result, calls = run(logs_fleet, SWEEP, BASE)
    assert result["outcomes"]["compliant"] == 1
    assert result["outcomes"]["policy_attached"] == 1
    assert result["outcomes"]["profile_associated"] == 1
    assert result["outcomes"]["log_policy_attached"] == 0
    assert calls.mutating == {"AssociateIamInstanceProfile": 1, "AttachRolePolicy": 1}
    assert result["policies_attached"] == {CORE_ARN: 1}
    assert logs_fleet.attached("managed-role") == {CORE_ARN}
    assert logs_fleet.attached("bare-role") == {CORE_ARN}
    assert logs_fleet.attached(SSM_ROLE) == {CORE_ARN}, "the SSM role is not read"
    assert calls.by_operation["GetInstanceProfile"] == 2, "only the two launched profiles"
    assert logs_fleet.profile_of(managed) == "managed-profile"
    assert logs_fleet.profile_of(bare) == "bare-profile"
    assert logs_fleet.profile_of(none) == SSM_PROFILE


def test_opted_out_instances_are_never_touched(logs_fleet: Fleet) -> None:
    logs_fleet.role("opted-role", managed=(CORE_ARN,))
    logs_fleet.profile("opted-profile", "opted-role")
    (opted,) = logs_fleet.launch(profile="opted-profile", tags={OPT_OUT: "yes"})
    (opted_bare,) = logs_fleet.launch(tags={OPT_OUT: ""})
    result, calls = run(logs_fleet, SWEEP)
    assert result["opted_out_instance_ids"] == sorted([opted, opted_bare])
    assert calls.mutating == {}
    assert logs_fleet.attached("opted-role") == {CORE_ARN}
    assert logs_fleet.profile_of(opted_bare) is None


def test_dry_run_reports_both_attachments_and_changes_nothing(logs_fleet: Fleet) -> None:
    logs_fleet.role("bare-role")
    logs_fleet.profile("bare-profile", "bare-role")
    logs_fleet.role("managed-role", managed=(CORE_ARN,))
    logs_fleet.profile("managed-profile", "managed-role")
    logs_fleet.launch(profile="bare-profile")
    logs_fleet.launch(profile="managed-profile")
    result, calls = run(logs_fleet, SWEEP, dataclasses.replace(CONFIG, dry_run=True))
    assert calls.mutating == {}
    assert result["changes"] == {"AttachRolePolicy": 3}
    assert result["policies_attached"] == {CORE_ARN: 1, LOG_ARN: 2}
    assert result["outcomes"]["policy_attached"] == 1
    assert result["outcomes"]["log_policy_attached"] == 1
    assert result["roles_changed"] == []
    assert logs_fleet.attached("bare-role") == set()
    assert logs_fleet.attached("managed-role") == {CORE_ARN}


def test_denied_log_attach_after_the_managed_policy_is_reported(logs_fleet: Fleet) -> None:
    logs_fleet.role("bare-role")
    logs_fleet.profile("bare-profile", "bare-role")
    (instance,) = logs_fleet.launch(profile="bare-profile")
    fail_calls(
        logs_fleet.iam,
        "AttachRolePolicy",
        [("AccessDenied", "not authorized to perform: iam:AttachRolePolicy")],
        when=lambda params: params.get("PolicyArn") == LOG_ARN,
        status=403,
    )
    result, _ = run(logs_fleet, SWEEP)
    assert result["outcomes"]["access_denied"] == 1
    (failed,) = result["failed"]
    assert failed["instance_id"] == instance
    assert failed["error"].startswith(f"attached {CORE_ARN}; then attaching {LOG_ARN}")
    assert "AccessDenied" in failed["error"]
    assert result["changes"] == {"AttachRolePolicy": 1}
    assert result["policies_attached"] == {CORE_ARN: 1}
    assert logs_fleet.attached("bare-role") == {CORE_ARN}


@pytest.mark.parametrize(
    ("code", "needle"),
    [
        ("LimitExceeded", "PoliciesPerRole"),
        ("NoSuchEntity", "NODE_LOG_POLICY_ARN"),
    ],
)
def test_attach_errors_say_what_to_do(logs_fleet: Fleet, code: str, needle: str) -> None:
    logs_fleet.role("managed-role", managed=(CORE_ARN,))
    logs_fleet.profile("managed-profile", "managed-role")
    logs_fleet.launch(profile="managed-profile")
    fail_calls(logs_fleet.iam, "AttachRolePolicy", [(code, "refused")])
    result, _ = run(logs_fleet, SWEEP)
    assert result["outcomes"]["failed"] == 1
    assert needle in result["failed"][0]["error"]
    assert logs_fleet.attached("managed-role") == {CORE_ARN}


# --- configuration ----------------------------------------------------------------------------

ENV = {"AWS_REGION": REGION, "SSM_INSTANCE_PROFILE_NAME": "p", "SSM_ROLE_NAME": "r"}


@pytest.mark.parametrize(
    "arn",
    [
        LOG_ARN,
        "arn:aws-us-gov:iam::123456789012:policy/fleetpatch/nodes/logs",
        "arn:aws-cn:iam::123456789012:policy/division_abc/subdivision_xyz/Logs+=,.@-_",
    ],
)
def test_config_accepts_customer_managed_policy_arns(arn: str) -> None:
    assert load_config({**ENV, "NODE_LOG_POLICY_ARN": f" {arn} "}).node_log_policy_arn == arn


def test_config_without_log_policy() -> None:
    assert load_config(ENV).node_log_policy_arn is None
    assert load_config({**ENV, "NODE_LOG_POLICY_ARN": ""}).node_log_policy_arn is None


@pytest.mark.parametrize(
    "arn",
    [
        "fleetpatch-managed-node-logs",
        "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
        "arn:aws:iam::12345678901:policy/logs",
        "arn:aws:iam::123456789012:role/logs",
        "arn:aws:iam::123456789012:policy/",
        "arn:aws:iam::123456789012:policy/path//logs",
        "arn:aws:iam:us-west-2:123456789012:policy/logs",
        "arn:aws:s3:::fleetpatch-logs",
        "arn:aws:iam::123456789012:policy/" + "n" * 129,
    ],
)
def test_config_rejects_other_arns(arn: str) -> None:
    with pytest.raises(ConfigError, match="NODE_LOG_POLICY_ARN must be empty or the ARN of a"):
        load_config({**ENV, "NODE_LOG_POLICY_ARN": arn})


def test_invalid_log_policy_is_rejected_before_any_change(
    env: Env, monkeypatch: pytest.MonkeyPatch
) -> None:
    (bare,) = env.launch()
    monkeypatch.setenv("NODE_LOG_POLICY_ARN", "arn:aws:iam::aws:policy/AmazonS3FullAccess")
    monkeypatch.setattr(handler, "build_clients", lambda *_a, **_k: pytest.fail("called"))
    with pytest.raises(ConfigError) as info:
        handler.lambda_handler(scheduled_event(), Context())
    assert "NODE_LOG_POLICY_ARN must be empty or the ARN of a customer managed policy" in str(
        info.value
    )
    assert "AmazonS3FullAccess" in str(info.value)
    assert env.profile_of(bare) is None
    assert env.fleet.attached(SSM_ROLE) == {CORE_ARN}


def test_handler_reads_the_log_policy_and_emits_its_metric(
    env: Env, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env.fleet.iam.create_policy(PolicyName=LOG_POLICY_NAME, PolicyDocument=json.dumps(LOG_DOCUMENT))
    env.fleet.role("managed-role", managed=(CORE_ARN,))
    env.fleet.profile("managed-profile", "managed-role")
    (instance,) = env.launch(profile="managed-profile")
    monkeypatch.setenv("NODE_LOG_POLICY_ARN", LOG_ARN)
    result = handler.lambda_handler(scheduled_event(), Context())
    assert result["changed_instance_ids"] == [instance]
    assert result["policies_attached"] == {LOG_ARN: 1}
    assert env.fleet.attached("managed-role") == {CORE_ARN, LOG_ARN}
    emf = _emf(_json_lines(env.logs.getvalue() + capsys.readouterr().out))
    assert emf["InstancesLogPolicyAttached"] == [1.0]
