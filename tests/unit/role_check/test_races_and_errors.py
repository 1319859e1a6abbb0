"""Concurrency, IAM propagation, throttling and denials, by botocore hooks on moto and Stubber."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from moto.core.botocore_stubber import MockRawResponse
from ssm_role_check.checker import PROPAGATION_DELAYS, RoleChecker
from ssm_role_check.config import Config
from ssm_role_check.events import Trigger
from ssm_role_check.handler import build_clients

from .conftest import CORE_ARN, REGION, SSM_PROFILE, SSM_ROLE, Calls, Fleet, fail_calls

CONFIG = Config(region=REGION, instance_profile_name=SSM_PROFILE, role_name=SSM_ROLE)
SWEEP = Trigger("sweep", None)
NOT_PROPAGATED = (
    "InvalidParameterValue",
    "Value (fleetpatch-ssm) for parameter iamInstanceProfile.name is invalid. "
    "Invalid IAM Instance Profile name",
)


def checker(fleet: Fleet, sleeps: list[float] | None = None) -> RoleChecker:
    record = sleeps if sleeps is not None else []
    return RoleChecker(fleet.ec2, fleet.iam, CONFIG, sleep=record.append)


def second_run_before_first(client: Any, operation: str, fleet: Fleet) -> list[dict[str, Any]]:
    """Run a whole concurrent sweep (own clients) just before ``client``'s first ``operation``."""
    results: list[dict[str, Any]] = []

    def hook(model: Any, **_: Any) -> None:
        if model.name == operation and not results:
            ec2 = boto3.client("ec2", region_name=REGION)
            iam = boto3.client("iam", region_name=REGION)
            results.append(RoleChecker(ec2, iam, CONFIG).run(SWEEP).to_dict())

    client.meta.events.register("before-call.*.*", hook)
    return results


# --- concurrency ------------------------------------------------------------------------------


def test_association_won_by_a_concurrent_sweep_converges(fleet: Fleet) -> None:
    ids = fleet.launch(3)
    other = second_run_before_first(fleet.ec2, "AssociateIamInstanceProfile", fleet)
    result = checker(fleet).run(SWEEP).to_dict()
    assert other[0]["outcomes"]["profile_associated"] == 3
    assert result["outcomes"]["already_associated"] == 3
    assert result["failed"] == []
    assert result["changes"] == {}
    assert all(fleet.profile_of(i) == SSM_PROFILE for i in ids)
    associations = fleet.ec2.describe_iam_instance_profile_associations()
    assert len(associations["IamInstanceProfileAssociations"]) == 3, "no duplicate association"


def test_role_attach_race_is_idempotent(fleet: Fleet) -> None:
    fleet.role("bare-role", managed=("arn:aws:iam::aws:policy/ReadOnlyAccess",))
    fleet.profile("bare-profile", "bare-role")
    fleet.launch(2, profile="bare-profile")
    other = second_run_before_first(fleet.iam, "AttachRolePolicy", fleet)
    result = checker(fleet).run(SWEEP).to_dict()
    assert other[0]["roles_changed"] == ["bare-role"]
    assert result["failed"] == []
    assert result["outcomes"]["policy_attached"] == 2
    assert fleet.attached("bare-role") == {"arn:aws:iam::aws:policy/ReadOnlyAccess", CORE_ARN}


def test_add_role_race_converges_on_the_role_added_first(fleet: Fleet) -> None:
    fleet.iam.remove_role_from_instance_profile(InstanceProfileName=SSM_PROFILE, RoleName=SSM_ROLE)
    (instance,) = fleet.launch(profile=SSM_PROFILE)
    other = second_run_before_first(fleet.iam, "AddRoleToInstanceProfile", fleet)
    calls = Calls().attach(fleet.ec2, fleet.iam)
    result = checker(fleet).run(Trigger("direct", (instance,))).to_dict()
    assert other[0]["outcomes"]["role_added"] == 1
    assert result["outcomes"]["compliant"] == 1, result
    assert result["changes"] == {}
    assert calls.by_operation["AddRoleToInstanceProfile"] == 1, "tried once, got LimitExceeded"
    assert fleet.role_of_profile(SSM_PROFILE) == [SSM_ROLE]


def test_association_in_progress_is_not_associated_again() -> None:
    # moto has no "associating" state: a Stubber plays the EC2/IAM answers.
    ec2 = boto3.client("ec2", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    iam = boto3.client("iam", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x")
    profile_arn = "arn:aws:iam::123456789012:instance-profile/app-profile"
    role_arn = "arn:aws:iam::123456789012:role/app-role"
    with Stubber(ec2) as ec2_stub, Stubber(iam) as iam_stub:
        ec2_stub.add_response(
            "describe_instances",
            {
                "Reservations": [
                    {
                        "Instances": [
                            {"InstanceId": "i-0123456789abcdef0", "State": {"Name": "pending"}}
                        ]
                    }
                ]
            },
        )
        ec2_stub.add_response(
            "describe_iam_instance_profile_associations",
            {
                "IamInstanceProfileAssociations": [
                    {
                        "AssociationId": "iip-assoc-0123456789abcdef0",
                        "InstanceId": "i-0123456789abcdef0",
                        "IamInstanceProfile": {"Arn": profile_arn, "Id": "AIPAEXAMPLE"},
                        "State": "associating",
                    }
                ]
            },
        )
        iam_stub.add_response(
            "get_instance_profile",
            {
                "InstanceProfile": {
                    "Path": "/",
                    "InstanceProfileName": "app-profile",
                    "InstanceProfileId": "AIPAEXAMPLE0000000000",
                    "Arn": profile_arn,
                    "CreateDate": "2026-01-01T00:00:00Z",
                    "Roles": [
                        {
                            "Path": "/",
                            "RoleName": "app-role",
                            "RoleId": "AROAEXAMPLE0000000000",
                            "Arn": role_arn,
                            "CreateDate": "2026-01-01T00:00:00Z",
                        }
                    ],
                }
            },
            {"InstanceProfileName": "app-profile"},
        )
        iam_stub.add_response(
            "list_attached_role_policies",
            {
                "AttachedPolicies": [
                    {"PolicyName": "AmazonSSMManagedInstanceCore", "PolicyArn": CORE_ARN}
                ]
            },
            {"RoleName": "app-role"},
        )
        iam_stub.add_response(
            "get_role",
            {
                "Role": {
                    "Path": "/",
                    "RoleName": "app-role",
                    "RoleId": "AROAEXAMPLE0000000000",
                    "Arn": role_arn,
                    "CreateDate": "2026-01-01T00:00:00Z",
                }
            },
            {"RoleName": "app-role"},
        )
        summary = RoleChecker(ec2, iam, CONFIG).run(
            Trigger("state_change", ("i-0123456789abcdef0",))
        )
        ec2_stub.assert_no_pending_responses()
        iam_stub.assert_no_pending_responses()
    # Any AssociateIamInstanceProfile call would have failed the Stubber.
    assert summary.to_dict()["outcomes"]["compliant"] == 1


# --- IAM propagation --------------------------------------------------------------------------


def test_unpropagated_profile_is_retried_with_backoff(fleet: Fleet) -> None:
    (instance,) = fleet.launch()
    failed = fail_calls(fleet.ec2, "AssociateIamInstanceProfile", [NOT_PROPAGATED] * 2)
    sleeps: list[float] = []
    result = checker(fleet, sleeps).run(Trigger("direct", (instance,))).to_dict()
    assert len(failed) == 2
    assert sleeps == [1.0, 2.0]
    assert result["changed_instance_ids"] == [instance]
    assert fleet.profile_of(instance) == SSM_PROFILE


def test_profile_that_never_propagates_fails_fast_for_the_rest(fleet: Fleet) -> None:
    ids = fleet.launch(3)
    failed = fail_calls(fleet.ec2, "AssociateIamInstanceProfile", [NOT_PROPAGATED] * 10)
    sleeps: list[float] = []
    result = checker(fleet, sleeps).run(SWEEP).to_dict()
    assert len(failed) == len(PROPAGATION_DELAYS) + 1, "bounded: the first instance only"
    assert sleeps == list(PROPAGATION_DELAYS)
    assert result["outcomes"]["failed"] == 3
    assert all("Invalid IAM Instance Profile" in f["error"] for f in result["failed"])
    assert all(fleet.profile_of(i) is None for i in ids)


# --- denials and other errors -----------------------------------------------------------------


def test_denied_attach_is_recorded_and_the_sweep_goes_on(fleet: Fleet) -> None:
    fleet.role("locked-role")
    fleet.profile("locked-profile", "locked-role")
    fleet.role("open-role")
    fleet.profile("open-profile", "open-role")
    (locked,) = fleet.launch(profile="locked-profile")
    (open_,) = fleet.launch(profile="open-profile")
    fail_calls(
        fleet.iam,
        "AttachRolePolicy",
        [("AccessDenied", "not authorized to perform: iam:AttachRolePolicy")],
        when=lambda body: body.get("RoleName") == "locked-role",
    )
    result = checker(fleet).run(SWEEP).to_dict()
    assert result["failed"] == [
        {
            "instance_id": locked,
            "outcome": "access_denied",
            "error": f"attaching {CORE_ARN} to role locked-role: AccessDenied: "
            "not authorized to perform: iam:AttachRolePolicy",
        }
    ]
    assert result["changed_instance_ids"] == [open_]
    assert fleet.attached("locked-role") == set()
    assert fleet.attached("open-role") == {CORE_ARN}


def test_unauthorized_association_is_recorded_per_instance(fleet: Fleet) -> None:
    first, second = fleet.launch(2)
    fail_calls(
        fleet.ec2,
        "AssociateIamInstanceProfile",
        [("UnauthorizedOperation", "You are not authorized to perform this operation.")],
        when=lambda body: body.get("InstanceId") == first,
    )
    result = checker(fleet).run(SWEEP).to_dict()
    assert result["outcomes"]["access_denied"] == 1
    assert result["failed"][0]["instance_id"] == first
    assert result["changed_instance_ids"] == [second]
    assert fleet.profile_of(first) is None
    assert fleet.profile_of(second) == SSM_PROFILE


def test_instance_not_ready_is_deferred(fleet: Fleet) -> None:
    (instance,) = fleet.launch()
    fail_calls(
        fleet.ec2,
        "AssociateIamInstanceProfile",
        [("IncorrectInstanceState", "The instance is not in a valid state")],
    )
    result = checker(fleet).run(Trigger("state_change", (instance,))).to_dict()
    assert result["deferred_instance_ids"] == [instance]
    assert result["failed"] == []


def test_denied_role_read_fails_only_that_profile(fleet: Fleet) -> None:
    fleet.role("secret-role")
    fleet.profile("secret-profile", "secret-role")
    secret = fleet.launch(2, profile="secret-profile")
    (plain,) = fleet.launch()
    failed = fail_calls(
        fleet.iam,
        "ListAttachedRolePolicies",
        [("AccessDenied", "no")] * 5,
        when=lambda body: body.get("RoleName") == "secret-role",
    )
    result = checker(fleet).run(SWEEP).to_dict()
    assert len(failed) == 1, "the role is read (and denied) once, not per instance"
    assert sorted(f["instance_id"] for f in result["failed"]) == sorted(secret)
    assert result["changed_instance_ids"] == [plain]


def test_denied_listing_stops_before_any_change(fleet: Fleet) -> None:
    fleet.launch()
    fail_calls(fleet.ec2, "DescribeInstances", [("UnauthorizedOperation", "denied")])
    calls = Calls().attach(fleet.ec2, fleet.iam)
    with pytest.raises(ClientError, match="UnauthorizedOperation"):
        checker(fleet).run(SWEEP)
    assert calls.mutating == {}


# --- throttling (botocore standard retry mode, errors injected below the retry layer) ---------


def _throttle_first(client: Any, operation: str, times: int, body: bytes) -> list[int]:
    seen: list[int] = []

    def hook(request: Any, **_: Any) -> Any:
        if len(seen) >= times:
            return None
        seen.append(1)
        return AWSResponse(request.url, 400, {}, MockRawResponse(body))

    service = client.meta.service_model.service_id.hyphenize()
    client.meta.events.register_first(f"before-send.{service}.{operation}", hook)
    return seen


def test_throttling_is_retried_by_botocore(fleet: Fleet, monkeypatch: pytest.MonkeyPatch) -> None:
    naps: list[float] = []
    monkeypatch.setattr("botocore.endpoint.time.sleep", naps.append)
    fleet.role("bare-role")
    fleet.profile("bare-profile", "bare-role")
    (instance,) = fleet.launch(profile="bare-profile")
    ec2, iam = build_clients(REGION)
    ec2_throttled = _throttle_first(
        ec2,
        "DescribeInstances",
        2,
        b"<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit "
        b"exceeded.</Message></Error></Errors><RequestID>r</RequestID></Response>",
    )
    iam_throttled = _throttle_first(
        iam,
        "AttachRolePolicy",
        2,
        b"<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate "
        b"exceeded</Message></Error><RequestId>r</RequestId></ErrorResponse>",
    )
    result = RoleChecker(ec2, iam, CONFIG).run(SWEEP).to_dict()
    assert (len(ec2_throttled), len(iam_throttled)) == (2, 2)
    assert len(naps) == 4, "each throttled attempt was retried after a backoff"
    assert result["changed_instance_ids"] == [instance]
    assert fleet.attached("bare-role") == {CORE_ARN}


def test_association_being_removed_is_deferred(fleet: Fleet) -> None:
    (instance,) = fleet.launch()
    # EC2 says an association exists, but none is associating/associated (e.g. disassociating).
    fail_calls(
        fleet.ec2,
        "AssociateIamInstanceProfile",
        [("IncorrectState", f"There is an existing association for instance {instance}")],
    )
    calls = Calls().attach(fleet.ec2, fleet.iam)
    result = checker(fleet).run(Trigger("direct", (instance,))).to_dict()
    assert result["deferred_instance_ids"] == [instance]
    assert calls.mutating == {}
    assert fleet.profile_of(instance) is None


def test_denied_profile_listing_falls_back_to_one_read_per_profile(fleet: Fleet) -> None:
    for n in range(3):
        fleet.role(f"r{n}", managed=(CORE_ARN,))
        fleet.profile(f"p{n}", f"r{n}")
        fleet.launch(2, profile=f"p{n}")
    failed = fail_calls(fleet.iam, "ListInstanceProfiles", [("AccessDenied", "no listing")])
    calls = Calls().attach(fleet.ec2, fleet.iam)
    result = checker(fleet).run(SWEEP).to_dict()
    assert len(failed) == 1
    assert result["outcomes"]["compliant"] == 6
    assert calls.by_operation["GetInstanceProfile"] == 3


def test_many_instances_without_profile_use_one_association_listing(
    fleet: Fleet, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("ssm_role_check.discovery.FILTER_CHUNK", 1)
    fleet.role("ok-role", managed=(CORE_ARN,))
    fleet.profile("ok-profile", "ok-role")
    (has,) = fleet.launch(profile="ok-profile")
    without = fleet.launch(3)
    calls = Calls().attach(fleet.ec2, fleet.iam)
    result = checker(fleet).run(SWEEP).to_dict()
    # 3 chunks of 1 id would cost more than one listing of the 4-instance fleet.
    assert calls.by_operation["DescribeIamInstanceProfileAssociations"] == 1
    assert result["changed_instance_ids"] == sorted(without)
    assert fleet.profile_of(has) == "ok-profile"
