"""Azure tag rules, per-VM planning and settings validation (no HTTP)."""

from __future__ import annotations

import json

import pytest
from fleetpatch_tags.config import ConfigError, TagRule, load_settings, parse_rules
from fleetpatch_tags.rules import has_tag, plan_tags, tag_name_problem, tag_value_problem

SUB = "11111111-1111-1111-1111-111111111111"
GOOD_TAGS = json.dumps({"Owner": {"value": "platform"}})


def env(**extra: str) -> dict[str, str]:
    return {"FLEETPATCH_SUBSCRIPTIONS": SUB, "FLEETPATCH_REQUIRED_TAGS": GOOD_TAGS, **extra}


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("Owner", None),
        ("a" * 512, None),
        ("a" * 513, "513 characters"),
        ("", "empty"),
        ("cost/center", "contains /"),
        ("a<b", "contains <"),
        ("50%", "contains %"),
        ("a&b", "contains &"),
        ("a\\b", "contains \\"),
        ("why?", "contains ?"),
        ("a>b", "contains >"),
    ],
)
def test_tag_name_rules(name: str, problem: str | None) -> None:
    got = tag_name_problem(name)
    assert (got is None) if problem is None else (got is not None and problem in got)


def test_tag_value_rules() -> None:
    assert tag_value_problem("v" * 256) is None
    assert "257 characters" in (tag_value_problem("v" * 257) or "")
    assert "empty" in (tag_value_problem("") or "")


def test_names_compare_case_insensitively() -> None:
    assert has_tag({"owner": "x"}, "Owner")
    assert not has_tag({"owners": "x"}, "Owner")


def test_plan_keeps_existing_values_and_respects_the_limit() -> None:
    plan = plan_tags({"OWNER": "me"}, {"Owner": "platform", "Env": "prod"}, {})
    assert plan.add == {"Env": "prod"} and not plan.blocked
    full = {f"t{i}": "x" for i in range(50)}
    plan = plan_tags(full, {"Owner": "platform", "t1": "other"}, {})
    assert plan.add == {} and list(plan.blocked) == ["Owner"]
    plan = plan_tags({}, {"PatchGroup": None}, {"PatchGroup": "no OS"})
    assert plan.blocked == {"PatchGroup": "no OS"} and not plan.compliant


def test_derived_rule_uses_overrides_case_insensitively() -> None:
    rules = parse_rules(
        json.dumps(
            {
                "PatchGroup": {
                    "from": "os_type",
                    "values": {"Linux": "lin", "Windows": "win"},
                    "resource_group_overrides": {"RG-Sql": {"Windows": "sql"}},
                }
            }
        )
    )
    rule = rules[0]
    assert rule.value_for("rg-sql", "Windows") == ("sql", "")
    assert rule.value_for("rg-sql", "Linux") == ("lin", "")
    assert rule.value_for("other", "Windows") == ("win", "")
    assert rule.value_for("other", None)[0] is None
    assert TagRule("x", by_os={"Linux": "l"}).value_for("rg", "Windows")[1].startswith("no value")


def test_defaults() -> None:
    settings = load_settings(env())
    assert settings.subscriptions == (SUB,)
    assert settings.dry_run is False and settings.max_concurrency == 8
    assert settings.arm_endpoint == "https://management.azure.com"
    assert settings.export_account_url is None and settings.export_prefix == "vm-tags"
    assert settings.with_dry_run().dry_run is True


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"FLEETPATCH_SUBSCRIPTIONS": ""}, "FLEETPATCH_SUBSCRIPTIONS is required"),
        ({"FLEETPATCH_SUBSCRIPTIONS": "not-a-guid"}, "'not-a-guid' is not a subscription id"),
        ({"FLEETPATCH_SUBSCRIPTIONS": f"{SUB},{SUB.upper()}"}, "twice"),
        ({"FLEETPATCH_REQUIRED_TAGS": "{"}, "not valid JSON"),
        ({"FLEETPATCH_REQUIRED_TAGS": "[]"}, "non-empty JSON object"),
        ({"FLEETPATCH_REQUIRED_TAGS": '{"a/b": {"value": "x"}}'}, "['a/b']: tag name contains /"),
        (
            {"FLEETPATCH_REQUIRED_TAGS": '{"Owner": {"value": "x"}, "OWNER": {"value": "y"}}'},
            "['OWNER']: same tag as 'Owner'",
        ),
        ({"FLEETPATCH_REQUIRED_TAGS": json.dumps({"O": {"value": "v" * 257}})}, "['O']: tag value"),
        ({"FLEETPATCH_REQUIRED_TAGS": '{"O": {"value": 3}}'}, "['O']: value must be a string"),
        ({"FLEETPATCH_REQUIRED_TAGS": '{"O": {"from": "size"}}'}, "['O'] must be"),
        (
            {"FLEETPATCH_REQUIRED_TAGS": '{"P": {"from": "os_type", "values": {"Mac": "m"}}}'},
            "['P'].values: unknown OS type 'Mac'",
        ),
        (
            {
                "FLEETPATCH_REQUIRED_TAGS": json.dumps(
                    {
                        "P": {
                            "from": "os_type",
                            "values": {"Linux": "l"},
                            "resource_group_overrides": {"rg1": {"Linux": ""}},
                        }
                    }
                )
            },
            "resource_group_overrides['rg1']['Linux']: tag value is empty",
        ),
        ({"FLEETPATCH_DRY_RUN": "maybe"}, "FLEETPATCH_DRY_RUN must be true or false"),
        ({"FLEETPATCH_MAX_CONCURRENCY": "0"}, "between 1 and 32"),
        ({"FLEETPATCH_MAX_CONCURRENCY": "2.5"}, "whole number"),
        ({"FLEETPATCH_MAX_CONCURRENCY": "many"}, "must be a number"),
        ({"FLEETPATCH_ARM_ENDPOINT": "http://arm.example.com"}, "FLEETPATCH_ARM_ENDPOINT must be"),
        ({"FLEETPATCH_EXPORT_CONTAINER": "tags"}, "go together"),
        (
            {
                "FLEETPATCH_EXPORT_ACCOUNT_URL": "https://a.blob",
                "FLEETPATCH_EXPORT_CONTAINER": "A_B",
            },
            "not a valid container name",
        ),
        (
            {"FLEETPATCH_EXPORT_ACCOUNT_URL": "ftp://a", "FLEETPATCH_EXPORT_CONTAINER": "tags"},
            "http(s) URL",
        ),
        ({"FLEETPATCH_EXPORT_PREFIX": "a//b"}, "not a valid blob folder"),
    ],
)
def test_invalid_settings_name_the_bad_entry(extra: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(env(**extra))
    assert message in str(info.value)


def test_loopback_http_endpoint_is_allowed_for_emulators() -> None:
    settings = load_settings(env(FLEETPATCH_ARM_ENDPOINT="http://127.0.0.1:8080/"))
    assert settings.arm_endpoint == "http://127.0.0.1:8080" and settings.insecure_loopback
