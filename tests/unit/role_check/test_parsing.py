"""Configuration, event shapes and policy evaluation (no AWS)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest
from moto.iam import aws_managed_policies
from ssm_role_check.config import DEFAULT_MANAGED_POLICY_NAME, ConfigError, load_config
from ssm_role_check.events import EventError, parse_event
from ssm_role_check.policy import REQUIRED_ACTIONS, evaluate
from ssm_role_check.summary import Outcome, Result, Summary

from .conftest import REGION, scheduled_event, state_change_event

BASE_ENV = {
    "AWS_REGION": REGION,
    "SSM_INSTANCE_PROFILE_NAME": "fleetpatch-ssm",
    "SSM_ROLE_NAME": "fleetpatch-ssm",
}


# --- configuration ----------------------------------------------------------------------------


def test_config_defaults() -> None:
    config = load_config(BASE_ENV)
    assert config.region == REGION
    assert config.managed_policy_name == DEFAULT_MANAGED_POLICY_NAME
    assert config.opt_out_tag_key is None
    assert config.dry_run is False
    assert (
        config.managed_policy_arn("aws-us-gov")
        == "arn:aws-us-gov:iam::aws:policy/AmazonSSMManagedInstanceCore"
    )


def test_config_all_inputs() -> None:
    config = load_config(
        {
            **BASE_ENV,
            "SSM_MANAGED_POLICY_NAME": "service-role/AmazonEC2RoleforSSM",
            "OPT_OUT_TAG_KEY": "fleetpatch:role-check-opt-out",
            "DRY_RUN": "TRUE",
        }
    )
    assert config.managed_policy_arn("aws") == (
        "arn:aws:iam::aws:policy/service-role/AmazonEC2RoleforSSM"
    )
    assert config.opt_out_tag_key == "fleetpatch:role-check-opt-out"
    assert config.dry_run is True


@pytest.mark.parametrize(
    ("override", "needle"),
    [
        ({"SSM_INSTANCE_PROFILE_NAME": ""}, "SSM_INSTANCE_PROFILE_NAME"),
        ({"SSM_INSTANCE_PROFILE_NAME": "bad name!"}, "SSM_INSTANCE_PROFILE_NAME"),
        ({"SSM_ROLE_NAME": "r" * 65}, "SSM_ROLE_NAME"),
        (
            {"SSM_MANAGED_POLICY_NAME": "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"},
            "SSM_MANAGED_POLICY_NAME",
        ),
        ({"OPT_OUT_TAG_KEY": "aws:reserved"}, "OPT_OUT_TAG_KEY"),
        ({"DRY_RUN": "maybe"}, "DRY_RUN"),
        ({"AWS_REGION": "mars"}, "AWS_REGION"),
    ],
)
def test_config_rejects_bad_values(override: dict[str, str], needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        load_config({**BASE_ENV, **override})


def test_config_lists_every_problem() -> None:
    with pytest.raises(ConfigError) as info:
        load_config({"AWS_REGION": REGION, "DRY_RUN": "perhaps"})
    message = str(info.value)
    assert "SSM_INSTANCE_PROFILE_NAME" in message
    assert "SSM_ROLE_NAME" in message
    assert "DRY_RUN" in message


# --- events -----------------------------------------------------------------------------------


@pytest.mark.parametrize("state", ["pending", "running"])
def test_state_change_event(state: str) -> None:
    trigger = parse_event(state_change_event("i-0123456789abcdef0", state), REGION)
    assert trigger.kind == "state_change"
    assert trigger.instance_ids == ("i-0123456789abcdef0",)
    assert trigger.event_id == "7bf73129-1428-4cd3-a780-95db273d1602"


def test_scheduled_event_is_a_sweep() -> None:
    trigger = parse_event(scheduled_event(), REGION)
    assert trigger.kind == "sweep"
    assert trigger.instance_ids is None


def test_direct_invocation_dedupes_and_sorts() -> None:
    trigger = parse_event(
        {"instance_ids": ["i-0bbbbbbbbbbbbbbbb", "i-0aaaaaaa", "i-0aaaaaaa"]}, REGION
    )
    assert trigger.kind == "direct"
    assert trigger.instance_ids == ("i-0aaaaaaa", "i-0bbbbbbbbbbbbbbbb")


def _other_source() -> dict[str, Any]:
    event = scheduled_event()
    event["source"] = "aws.ssm"
    return event


def _no_detail() -> dict[str, Any]:
    event = state_change_event("i-0123456789abcdef0")
    del event["detail"]
    return event


@pytest.mark.parametrize(
    ("event", "needle"),
    [
        (state_change_event("i-0123456789abcdef0", "stopped"), "only pending and running"),
        (state_change_event("i-0123456789abcdef0", "terminated"), "only pending and running"),
        (state_change_event("i-0123456789abcdef0", region="eu-west-2"), "Region"),
        (scheduled_event(region="eu-west-2"), "Region"),
        (state_change_event("not-an-instance"), "invalid instance-id"),
        (_other_source(), "unsupported EventBridge event"),
        (_no_detail(), "without a detail"),
        ({"instance_ids": []}, "non-empty list"),
        ({"instance_ids": "i-0123456789abcdef0"}, "non-empty list"),
        ({"instance_ids": ["i-0123456789abcdef0", "vol-0123"]}, "not instance ids"),
        ({"instance_ids": [f"i-{n:017x}" for n in range(1001)]}, "at most 1000"),
        ({"instance_ids": ["i-0123456789abcdef0"], "dry_run": True}, "unrecognised event"),
        ({}, "unrecognised event"),
        (["i-0123456789abcdef0"], "JSON object"),
        (None, "JSON object"),
    ],
)
def test_anything_else_is_rejected_with_a_reason(event: Any, needle: str) -> None:
    with pytest.raises(EventError, match=needle):
        parse_event(event, REGION)


# --- policy evaluation ------------------------------------------------------------------------


def _aws_managed(name: str) -> Any:
    data = json.loads(aws_managed_policies.aws_managed_policies_data)
    return data[name]["Document"]


def test_required_set_is_what_the_aws_ssm_policies_grant() -> None:
    # The required set is a subset of AmazonSSMManagedInstanceCore and of the older
    # AmazonEC2RoleforSSM the seed used, so roles with either count as compliant.
    assert evaluate([_aws_managed("AmazonSSMManagedInstanceCore")]).complete
    assert evaluate([_aws_managed("AmazonEC2RoleforSSM")]).complete
    assert not evaluate([_aws_managed("ReadOnlyAccess")]).complete


def _doc(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def test_wildcards_across_documents_add_up() -> None:
    ssm = _doc({"Effect": "Allow", "Action": "SSM:*", "Resource": "*"})
    messages = _doc(
        {"Effect": "Allow", "Action": ["ssmmessages:*", "ec2messages:Get*"], "Resource": ["*"]},
        {
            "Effect": "Allow",
            "Action": [
                "ec2messages:AcknowledgeMessage",
                "ec2messages:DeleteMessage",
                "ec2messages:FailMessage",
                "ec2messages:SendReply",
            ],
            "Resource": "*",
        },
    )
    assert not evaluate([ssm]).complete
    grants = evaluate([ssm, json.dumps(messages)])
    assert grants.complete, grants.missing()


def test_missing_actions_are_named() -> None:
    grants = evaluate([_doc({"Effect": "Allow", "Action": "ssm:*", "Resource": "*"})])
    assert "ssmmessages:OpenDataChannel" in grants.missing()
    assert not any(a.startswith("ssm:") for a in grants.missing())


def test_not_action_allow_counts() -> None:
    grants = evaluate([_doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"})])
    assert grants.complete
    grants = evaluate([_doc({"Effect": "Allow", "NotAction": "ssm*", "Resource": "*"})])
    assert not grants.complete


@pytest.mark.parametrize(
    "statement",
    [
        {"Effect": "Allow", "Action": "*", "Resource": "*", "Condition": {"Bool": {"aws:x": "y"}}},
        {"Effect": "Allow", "Action": "*", "NotResource": "arn:aws:s3:::b"},
        {"Effect": "Allow", "Action": "*", "Resource": "arn:aws:ec2:*:*:instance/*"},
    ],
)
def test_conditional_or_scoped_grants_do_not_count(statement: dict[str, Any]) -> None:
    assert not evaluate([_doc(statement)]).complete


def test_explicit_deny_blocks() -> None:
    grants = evaluate(
        [
            _aws_managed("AmazonSSMManagedInstanceCore"),
            _doc({"Effect": "Deny", "Action": "ssmmessages:*", "Resource": "*"}),
        ]
    )
    assert grants.blocked
    assert not grants.complete
    assert grants.denied == {a for a in REQUIRED_ACTIONS if a.startswith("ssmmessages:")}


def test_unreadable_documents_grant_nothing() -> None:
    assert evaluate(["not json", 42, {"Statement": "nope"}]).allowed == set()
    url_encoded = quote(json.dumps(_doc({"Effect": "Allow", "Action": "*", "Resource": "*"})))
    assert evaluate([url_encoded]).complete


# --- summary ----------------------------------------------------------------------------------


def test_summary_lists_can_be_capped_for_the_log() -> None:
    summary = Summary(trigger="sweep", dry_run=False)
    for n in range(5):
        summary.record(f"i-{n:08x}", Result(Outcome.PROFILE_ASSOCIATED))
    summary.record("i-ffffffff", Result(Outcome.FAILED, "Boom: no"))
    full = summary.to_dict()
    capped = summary.to_dict(max_ids=2)
    assert full["changed_instance_ids"] == [f"i-{n:08x}" for n in range(5)]
    assert full["truncated"] == []
    assert capped["changed_instance_ids"] == ["i-00000000", "i-00000001"]
    assert capped["truncated"] == ["changed_instance_ids"]
    assert capped["outcomes"]["profile_associated"] == 5, "counts stay exact"
    assert capped["failed"] == [
        {"instance_id": "i-ffffffff", "outcome": "failed", "error": "Boom: no"}
    ]
