"""The role check against moto: each case, then the real account state is asserted."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from ssm_role_check.checker import RoleChecker
from ssm_role_check.config import Config
from ssm_role_check.events import Trigger, parse_event

from .conftest import (
    CORE_ARN,
    REGION,
    SSM_PROFILE,
    SSM_ROLE,
    Calls,
    Fleet,
    scheduled_event,
    state_change_event,
)

CONFIG = Config(region=REGION, instance_profile_name=SSM_PROFILE, role_name=SSM_ROLE)
SWEEP = Trigger("sweep", None)
READ_ONLY_ARN = "arn:aws:iam::aws:policy/ReadOnlyAccess"
SSM_INLINE = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["ssm:*", "ssmmessages:*", "ec2messages:*"],
            "Resource": "*",
        }
    ],
}


def run(fleet: Fleet, trigger: Trigger, config: Config = CONFIG) -> tuple[dict[str, Any], Calls]:
    calls = Calls().attach(fleet.ec2, fleet.iam)
    summary = RoleChecker(fleet.ec2, fleet.iam, config, sleep=lambda _s: None).run(trigger)
    return summary.to_dict(), calls


def outcome(result: dict[str, Any], name: str) -> int:
    count: int = result["outcomes"][name]
    return count


def test_instance_without_profile_gets_the_ssm_profile(fleet: Fleet) -> None:
    (instance,) = fleet.launch()
    result, calls = run(fleet, parse_event(state_change_event(instance, "running"), REGION))
    assert result["status"] == "ok"
    assert result["changed_instance_ids"] == [instance]
    assert outcome(result, "profile_associated") == 1
    assert calls.mutating == {"AssociateIamInstanceProfile": 1}
    assert fleet.profile_of(instance) == SSM_PROFILE


def test_an_emptied_profile_stays_empty(fleet: Fleet) -> None:
    # Incident responders quarantine an instance by removing the role from its profile: the role
    # check must not put a role back into a profile it does not own (issue 16).
    fleet.profile("quarantined-profile")
    (instance,) = fleet.launch(profile="quarantined-profile")
    result, calls = run(fleet, Trigger("direct", (instance,)))
    assert outcome(result, "empty_profile") == 1
    assert result["failed"] == []
    assert result["changed_instance_ids"] == []
    assert calls.mutating == {}
    assert fleet.role_of_profile("quarantined-profile") == []
    assert fleet.profile_of(instance) == "quarantined-profile", "the profile is never replaced"


def test_the_ssm_profile_without_its_role_gets_it_back(fleet: Fleet) -> None:
    fleet.iam.remove_role_from_instance_profile(InstanceProfileName=SSM_PROFILE, RoleName=SSM_ROLE)
    (instance,) = fleet.launch(profile=SSM_PROFILE)
    result, calls = run(fleet, Trigger("direct", (instance,)))
    assert outcome(result, "role_added") == 1
    assert result["profiles_changed"] == [SSM_PROFILE]
    assert calls.mutating == {"AddRoleToInstanceProfile": 1}
    assert fleet.role_of_profile(SSM_PROFILE) == [SSM_ROLE]


def test_role_lacking_ssm_gets_the_managed_policy_and_keeps_the_rest(fleet: Fleet) -> None:
    inline = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
    }
    fleet.role("app-role", managed=(READ_ONLY_ARN,), inline={"app-s3": inline})
    fleet.profile("app-profile", "app-role")
    (instance,) = fleet.launch(profile="app-profile")
    result, calls = run(fleet, parse_event(state_change_event(instance, "pending"), REGION))
    assert outcome(result, "policy_attached") == 1
    assert result["roles_changed"] == ["app-role"]
    assert calls.mutating == {"AttachRolePolicy": 1}
    assert fleet.attached("app-role") == {READ_ONLY_ARN, CORE_ARN}
    assert fleet.inline("app-role") == {"app-s3"}
    assert fleet.profile_of(instance) == "app-profile"
    assert fleet.role_of_profile("app-profile") == ["app-role"]


def test_compliant_instances_are_left_alone(fleet: Fleet) -> None:
    fleet.role("managed-role", managed=(CORE_ARN,))
    fleet.profile("managed-profile", "managed-role")
    fleet.role("inline-role", inline={"ssm": SSM_INLINE})
    fleet.profile("inline-profile", "inline-role")
    custom = fleet.iam.create_policy(PolicyName="custom-ssm", PolicyDocument=json.dumps(SSM_INLINE))
    fleet.role("custom-role", managed=(custom["Policy"]["Arn"],))
    fleet.profile("custom-profile", "custom-role")
    fleet.role("legacy-role", managed=("arn:aws:iam::aws:policy/service-role/AmazonEC2RoleforSSM",))
    fleet.profile("legacy-profile", "legacy-role")
    ids = [
        *fleet.launch(profile="managed-profile"),
        *fleet.launch(profile="inline-profile"),
        *fleet.launch(profile="custom-profile"),
        *fleet.launch(profile="legacy-profile"),
        *fleet.launch(profile=SSM_PROFILE),
    ]
    result, calls = run(fleet, SWEEP)
    assert outcome(result, "compliant") == len(ids) == result["instances"]
    assert calls.mutating == {}
    assert result["changes"] == {}
    assert fleet.attached("inline-role") == set()
    assert fleet.attached("legacy-role") == {
        "arn:aws:iam::aws:policy/service-role/AmazonEC2RoleforSSM"
    }


def test_role_with_explicit_deny_is_reported_not_changed(fleet: Fleet) -> None:
    deny = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Deny", "Action": "ssm:*", "Resource": "*"}],
    }
    fleet.role("denied-role", inline={"deny-ssm": deny})
    fleet.profile("denied-profile", "denied-role")
    (instance,) = fleet.launch(profile="denied-profile")
    result, calls = run(fleet, SWEEP)
    assert outcome(result, "blocked_by_deny") == 1
    assert result["failed"][0]["instance_id"] == instance
    assert "explicit Deny" in result["failed"][0]["error"]
    assert calls.mutating == {}
    assert fleet.attached("denied-role") == set()


def test_opted_out_instances_are_reported_and_untouched(fleet: Fleet) -> None:
    config = dataclasses.replace(CONFIG, opt_out_tag_key="fleetpatch:role-check-opt-out")
    (opted,) = fleet.launch(tags={"fleetpatch:role-check-opt-out": "true"})
    (other,) = fleet.launch(tags={"Name": "web"})
    result, calls = run(fleet, SWEEP, config)
    assert result["opted_out_instance_ids"] == [opted]
    assert result["changed_instance_ids"] == [other]
    assert calls.mutating == {"AssociateIamInstanceProfile": 1}
    assert fleet.profile_of(opted) is None
    assert fleet.profile_of(other) == SSM_PROFILE


def test_dry_run_reports_and_changes_nothing(fleet: Fleet) -> None:
    fleet.profile("empty-profile")
    fleet.role("bare-role")
    fleet.profile("bare-profile", "bare-role")
    bare = fleet.launch(2, profile="bare-profile")
    empty = fleet.launch(profile="empty-profile")
    none = fleet.launch(3)
    config = dataclasses.replace(CONFIG, dry_run=True)
    result, calls = run(fleet, SWEEP, config)
    assert result["dry_run"] is True
    assert result["changed_instance_ids"] == sorted([*bare, *none])
    assert result["outcomes"]["empty_profile"] == len(empty)
    assert result["changes"] == {
        "AssociateIamInstanceProfile": 3,
        "AttachRolePolicy": 1,
    }
    assert calls.mutating == {}
    assert all(fleet.profile_of(i) is None for i in none)
    assert fleet.role_of_profile("empty-profile") == []
    assert fleet.attached("bare-role") == set()


def test_sweep_mixed_fleet_then_second_sweep_changes_nothing(fleet: Fleet) -> None:
    fleet.role("bare-role")
    fleet.profile("bare-profile", "bare-role")
    fleet.role("ok-role", managed=(CORE_ARN,))
    fleet.profile("ok-profile", "ok-role")
    shared = fleet.launch(4, profile="bare-profile")
    ok = fleet.launch(2, profile="ok-profile")
    none = fleet.launch(3)
    stopped = fleet.launch(1)
    fleet.ec2.stop_instances(InstanceIds=stopped)
    terminated = fleet.launch(1)
    fleet.ec2.terminate_instances(InstanceIds=terminated)

    first, calls = run(fleet, parse_event(scheduled_event(), REGION))
    assert first["instances"] == 10, "terminated instances are not swept"
    assert outcome(first, "policy_attached") == 4
    assert outcome(first, "profile_associated") == 4, "stopped instances get a profile too"
    assert outcome(first, "compliant") == 2
    # one AttachRolePolicy for the four instances sharing the role
    assert calls.mutating == {"AttachRolePolicy": 1, "AssociateIamInstanceProfile": 4}
    assert fleet.attached("bare-role") == {CORE_ARN}
    assert all(fleet.profile_of(i) == "bare-profile" for i in shared)
    assert all(fleet.profile_of(i) == "ok-profile" for i in ok)
    assert all(fleet.profile_of(i) == SSM_PROFILE for i in [*none, *stopped])
    assert fleet.profile_of(terminated[0]) is None

    second, calls = run(fleet, parse_event(scheduled_event(), REGION))
    assert outcome(second, "compliant") == 10
    assert calls.mutating == {}


def test_same_event_twice_converges_without_duplicates(fleet: Fleet) -> None:
    (instance,) = fleet.launch()
    event = parse_event(state_change_event(instance, "running"), REGION)
    first, _ = run(fleet, event)
    second, calls = run(fleet, event)
    assert first["changed_instance_ids"] == [instance]
    assert second["changed_instance_ids"] == []
    assert outcome(second, "compliant") == 1
    assert calls.mutating == {}
    assert fleet.profile_of(instance) == SSM_PROFILE


def test_direct_invocation_reports_unknown_and_terminated_ids(fleet: Fleet) -> None:
    (alive,) = fleet.launch()
    (gone,) = fleet.launch()
    fleet.ec2.terminate_instances(InstanceIds=[gone])
    result, calls = run(fleet, Trigger("direct", tuple(sorted([alive, gone, "i-00000000"]))))
    assert outcome(result, "not_found") == 2
    assert result["changed_instance_ids"] == [alive]
    assert calls.mutating == {"AssociateIamInstanceProfile": 1}


def test_missing_profile_of_an_instance_is_recorded(fleet: Fleet) -> None:
    fleet.role("r")
    fleet.profile("doomed", "r")
    (instance,) = fleet.launch(profile="doomed")
    fleet.iam.remove_role_from_instance_profile(InstanceProfileName="doomed", RoleName="r")
    fleet.iam.delete_instance_profile(InstanceProfileName="doomed")
    (other,) = fleet.launch()
    result, _ = run(fleet, SWEEP)
    assert result["failed"] == [
        {
            "instance_id": instance,
            "outcome": "failed",
            "error": "reading instance profile doomed: NoSuchEntity: "
            "Instance profile doomed not found",
        }
    ]
    assert result["changed_instance_ids"] == [other], "the sweep goes on"


def test_cost_grows_with_profiles_not_instances(fleet: Fleet) -> None:
    profiles = [f"p{n}" for n in range(4)]
    for name in profiles:
        fleet.role(f"{name}-role", managed=(CORE_ARN,))
        fleet.profile(name, f"{name}-role")
    for name in profiles:
        fleet.launch(25, profile=name)
    _, calls = run(fleet, SWEEP)
    # 1 DescribeInstances page + 1 ListInstanceProfiles page + per role 1 ListAttachedRolePolicies
    # and 1 GetRole (path, tags, permissions boundary)
    assert calls.by_operation == {
        "DescribeInstances": 1,
        "ListInstanceProfiles": 1,
        "ListAttachedRolePolicies": 4,
        "GetRole": 4,
    }
