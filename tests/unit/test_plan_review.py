"""Tests of the plan review renderer and the policy result parsers (tools.plan_review).

The plan fixtures are real ``terraform show -json`` output (terraform 1.11, aws 5.100, planned
against moto by tests/unit/fixtures/plans/make_plans.py); the terraform-compliance reports and
the checkov JSON are real outputs of the tools on tests/policy/fixtures.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from tools.plan_review import __main__ as cli
from tools.plan_review import policy, render

FIXTURES = Path(__file__).parent / "fixtures"
PLANS = FIXTURES / "plans"
POLICY = FIXTURES / "policy"
SECRETS = ("fixture-secret-one", "fixture-secret-two")


def plan(name: str) -> dict[str, Any]:
    return render.load_plan((PLANS / f"{name}.json").read_text())


def md(name: str, **kwargs: Any) -> str:
    return render.render_markdown(plan(name), name, **kwargs)


# --- counts -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "add", "change", "destroy", "replace"),
    [
        ("create", 6, 0, 0, 0),
        ("mixed", 3, 2, 2, 1),
        ("destroy", 0, 0, 6, 0),
        ("no_changes", 0, 0, 0, 0),
    ],
)
def test_counts_follow_terraform(
    name: str, add: int, change: int, destroy: int, replace: int
) -> None:
    summary = render.build_review(plan(name)).summary
    assert (summary.add, summary.change, summary.destroy, summary.replace) == (
        add,
        change,
        destroy,
        replace,
    )


def test_counts_line_matches_terraform_wording() -> None:
    text = md("mixed")
    assert "**Plan: 3 to add, 2 to change, 2 to destroy.** 1 replaced" in text


def test_no_changes_says_so_and_lists_nothing() -> None:
    text = md("no_changes")
    assert "**No changes.**" in text
    assert "DESTROY" not in text
    assert "create" not in text
    assert "Changes by module" not in text


# --- order: destroys and replacements first -----------------------------------------------------


def test_destroys_and_replacements_come_first_and_loud() -> None:
    text = md("mixed")
    lines = text.splitlines()
    loud = lines.index(next(ln for ln in lines if "DESTROYED OR REPLACED" in ln))
    first_other = min(i for i, ln in enumerate(lines) if ln.startswith("- `"))
    destroy_row = lines.index(next(ln for ln in lines if "**DESTROY**" in ln))
    replace_row = lines.index(next(ln for ln in lines if "**REPLACE**" in ln))
    assert loud < destroy_row < replace_row < first_other
    assert "`aws_sns_topic.retired[0]` | its count index no longer exists" in lines[destroy_row]
    assert "`aws_sqs_queue.renamed` | `name` cannot be updated in place" in lines[replace_row]
    # listed once: the replaced queue does not appear again among the other changes
    assert text.count("aws_sqs_queue.renamed") == 1


def test_plan_without_destroys_says_none_is_destroyed() -> None:
    assert "No resource is destroyed or replaced." in md("create")


def test_destroy_plan_lists_every_resource_as_destroyed() -> None:
    text = md("destroy")
    assert text.count("| **DESTROY** |") == 6
    assert "### :warning: 6 DESTROYED OR REPLACED" in text


# --- grouping by module -------------------------------------------------------------------------


def test_changes_are_grouped_by_module_root_first() -> None:
    text = md("mixed")
    root = text.index("**root module** (2 update)")
    app = text.index("**module.app** (2 create)")
    assert root < app
    assert text.index("aws_s3_bucket.retagged") < app
    assert text.index('module.app.aws_sqs_queue.jobs["b"]') > app
    assert text.index("module.app.aws_sns_topic.alerts[0]") > app
    # a no-op resource is not listed
    assert "aws_s3_bucket.unchanged" not in text
    assert 'jobs["a"]' not in text


def test_update_lists_the_changed_attributes() -> None:
    text = md("mixed")
    line = next(ln for ln in text.splitlines() if "aws_s3_bucket.retagged" in ln)
    assert '`tags.stage`: "1" → "2"' in line


def test_large_module_group_is_collapsed() -> None:
    data = plan("create")
    template = data["resource_changes"][0]
    many = []
    for i in range(render.MAX_ROWS_OPEN + 1):
        rc = copy.deepcopy(template)
        rc["address"] = f"module.big.aws_s3_bucket.b{i}"
        rc["module_address"] = "module.big"
        many.append(rc)
    data["resource_changes"] += many
    text = render.render_markdown(data, "big")
    assert "<details><summary><b>module.big</b> (16 create)</summary>" in text
    assert "**root module** (5 create)\n" in text


def test_a_plan_longer_than_a_screen_folds_every_module() -> None:
    data = plan("create")
    template = data["resource_changes"][0]
    for m in range(4):
        for i in range(9):
            rc = copy.deepcopy(template)
            rc["address"] = f"module.m{m}.aws_s3_bucket.b{i}"
            rc["module_address"] = f"module.m{m}"
            data["resource_changes"].append(rc)
    text = render.render_markdown(data, "long")
    assert "<details><summary><b>root module</b> (5 create)</summary>" in text
    assert "<details><summary><b>module.m3</b> (9 create)</summary>" in text
    visible = [ln for ln in text.split("<details>")[0].splitlines() if ln.strip()]
    assert len(visible) < 12


# --- sensitive values ---------------------------------------------------------------------------


def test_fixtures_really_hold_the_secrets() -> None:
    # the masking tests below could not fail if the plans held no secret
    raw = (PLANS / "mixed.json").read_text()
    assert all(s in raw for s in SECRETS)


@pytest.mark.parametrize("name", ["create", "mixed", "destroy", "no_changes"])
def test_no_sensitive_value_is_printed(name: str) -> None:
    text = md(name)
    for secret in SECRETS:
        assert secret not in text


def test_sensitive_attribute_and_output_are_masked() -> None:
    text = md("mixed")
    token = next(ln for ln in text.splitlines() if "aws_ssm_parameter.token" in ln)
    assert "`value`: (sensitive value) → (sensitive value)" in token
    assert "- change `token_value` = (sensitive value)" in text


def test_a_secret_leaking_into_a_plain_attribute_is_redacted() -> None:
    data = plan("mixed")
    bucket = next(r for r in data["resource_changes"] if r["address"] == "aws_s3_bucket.retagged")
    bucket["change"]["after"]["tags"]["stage"] = "fixture-secret-two"
    text = render.render_markdown(data, "leak")
    assert "fixture-secret-two" not in text
    assert '`tags.stage`: "1" → "(sensitive)"' in text


def _activation_replaced(code: str) -> dict[str, Any]:
    """A plan replacing a hybrid activation (a rotation) as hashicorp/aws 5.x writes it: the
    activation code in ``before`` with no sensitive mark."""
    return {
        "format_version": "1.2",
        "terraform_version": "1.11.4",
        "resource_changes": [
            {
                "address": 'module.hybrid.aws_ssm_activation.this["web"]',
                "module_address": "module.hybrid",
                "mode": "managed",
                "type": "aws_ssm_activation",
                "name": "this",
                "index": "web",
                "action_reason": "replace_because_cannot_update",
                "change": {
                    "actions": ["delete", "create"],
                    "before": {
                        "activation_code": code,
                        "expiration_date": "2026-12-01T00:00:00Z",
                        "iam_role": "sec-ssm-hybrid-node",
                    },
                    "after": {
                        "expiration_date": "2026-12-31T00:00:00Z",
                        "iam_role": "sec-ssm-hybrid-node",
                    },
                    "after_unknown": {"activation_code": True, "id": True},
                    "before_sensitive": {},
                    "after_sensitive": {},
                    "replace_paths": [["expiration_date"]],
                },
            }
        ],
        "resource_drift": [
            {
                "address": 'module.hybrid.aws_ssm_activation.this["db"]',
                "type": "aws_ssm_activation",
                "change": {
                    "actions": ["update"],
                    "before": {"activation_code": code + "-db", "registration_count": 1},
                    "after": {"activation_code": code + "-db", "registration_count": 2},
                    "before_sensitive": {},
                    "after_sensitive": {},
                },
            }
        ],
        "output_changes": {
            "leaked": {"actions": ["update"], "before": "x", "after": code, "after_unknown": False}
        },
    }


def test_an_activation_code_the_provider_leaves_unmarked_is_never_printed() -> None:
    code = "AbCdEfGhIjKlMnOpQrSt+/=="
    text = render.render_markdown(_activation_replaced(code), "security")
    assert code not in text
    assert '- change `leaked` = "(sensitive)"' in text, "redacted wherever else it occurs"
    assert 'aws_ssm_activation.this["web"]' in text, "the address itself is untouched"
    assert 'aws_ssm_activation.this["db"]: registration_count' in text, "drift: only the count"
    unmarked = copy.deepcopy(_activation_replaced(code))
    unmarked["resource_changes"][0]["type"] = "aws_other_thing"
    unmarked["resource_drift"] = []
    assert code in render.render_markdown(unmarked, "control"), "the control plan does show it"


def test_sensitive_variable_values_are_collected_as_secrets() -> None:
    review = render.build_review(plan("mixed"))
    assert "fixture-secret-two" in review.secrets


def test_attribute_changes_masks_nested_sensitive_paths() -> None:
    change = {
        "actions": ["update"],
        "before": {"conn": {"user": "admin", "password": "hunter2-old"}},
        "after": {"conn": {"user": "admin2", "password": "hunter2-new"}},
        "after_unknown": {},
        "before_sensitive": {"conn": {"password": True}},
        "after_sensitive": {"conn": {"password": True}},
    }
    changes = render.attribute_changes(change)
    assert [(c.path, c.before, c.after) for c in changes] == [
        ("conn.password", render.SENSITIVE, render.SENSITIVE),
        ("conn.user", '"admin"', '"admin2"'),
    ]


def test_unchanged_sensitive_value_is_not_reported_as_changed() -> None:
    change = {
        "before": {"password": "same-secret"},
        "after": {"password": "same-secret"},
        "before_sensitive": {"password": True},
        "after_sensitive": {"password": True},
    }
    assert render.attribute_changes(change) == []


# --- bad input ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json", "not JSON"),
        ("[]", "a plan is a JSON object"),
        ('{"format_version": "0.1"}', "format_version '0.1' is not 1.x"),
        ('{"format_version": "1.0", "values": {}}', "this is a state, not a plan"),
        ('{"format_version": "1.2", "resource_changes": [{"address": "x"}]}', "lacks address"),
    ],
)
def test_bad_plans_are_rejected_with_a_clear_error(text: str, message: str) -> None:
    with pytest.raises(render.PlanError, match=message):
        render.load_plan(text)


def test_unknown_action_combination_is_rejected() -> None:
    data = plan("create")
    data["resource_changes"][0]["change"]["actions"] = ["update", "delete"]
    with pytest.raises(render.PlanError, match="unknown action combination"):
        render.build_review(data)


# --- policy results -----------------------------------------------------------------------------


def test_compliance_report_with_one_failed_feature() -> None:
    result = policy.parse_compliance_output((POLICY / "compliance_tls_failed.txt").read_text())
    assert len(result.checks) == 9
    failed = [c for c in result.checks if c.status == "failed"]
    assert [c.source for c in failed] == ["s3_tls_only"]
    assert failed[0].failures == [
        "aws_s3_bucket_policy.reports (aws_s3_bucket_policy) does not have Condition property."
    ]
    assert (result.passed, result.failed, result.ok) == (8, 1, False)


def test_compliance_report_all_passed() -> None:
    result = policy.parse_compliance_output((POLICY / "compliance_passed.txt").read_text())
    assert result.ok
    assert result.passed == 9
    assert {c.source for c in result.checks} >= {
        "s3_tls_only",
        "required_tags",
        "cron_associations",
    }


def test_compliance_report_that_never_ran_is_an_error() -> None:
    with pytest.raises(policy.PolicyError, match="did not run its features"):
        policy.parse_compliance_output("terraform_compliance v1.16.0 initiated\nERROR: bad plan\n")


def test_checkov_json_is_summarised_per_check_id() -> None:
    result = policy.parse_checkov_json((POLICY / "checkov_failed.json").read_text())
    assert result.tool == "checkov"
    assert [c.source for c in result.checks] == [
        "CKV_AWS_117",
        "CKV_AWS_158",
        "CKV_AWS_338",
        "CKV_TF_2",
    ]
    assert result.failed == 4
    assert result.passed == 63
    kms = next(c for c in result.checks if c.source == "CKV_AWS_158")
    assert kms.failures == ["aws_cloudwatch_log_group.role_check (/main.tf:104)"]


def test_checkov_list_of_reports_and_bad_json() -> None:
    report = json.loads((POLICY / "checkov_failed.json").read_text())
    clean = {"check_type": "terraform", "summary": {"passed": 5, "failed": 0, "skipped": 1}}
    result = policy.parse_checkov_json(json.dumps([report, clean]))
    assert (result.passed, result.skipped, result.failed) == (68, 3, 4)
    with pytest.raises(policy.PolicyError, match="without a summary"):
        policy.parse_checkov_json('{"results": {}}')
    with pytest.raises(policy.PolicyError, match="not JSON"):
        policy.parse_checkov_json("nope")


def test_policy_section_is_rendered_under_the_plan() -> None:
    failed = policy.parse_compliance_output((POLICY / "compliance_tls_failed.txt").read_text())
    text = md("mixed", policy_sections=policy.render_results([failed]))
    assert text.index("### Policy checks") > text.index("Changes by module")
    assert "- :x: **terraform-compliance**: 8 passed, 1 failed" in text
    assert "  - :x: `s3_tls_only` S3 buckets accept TLS requests only" in text


def test_passing_policy_is_one_line() -> None:
    ok = policy.parse_compliance_output((POLICY / "compliance_passed.txt").read_text())
    assert policy.render_results([ok]) == [
        "- :white_check_mark: **terraform-compliance**: 9 passed, 0 failed"
    ]


# --- command line -------------------------------------------------------------------------------


def test_cli_render_writes_markdown_with_marker_and_policy(tmp_path: Path) -> None:
    results = tmp_path / "compliance.json"
    failed = policy.parse_compliance_output((POLICY / "compliance_tls_failed.txt").read_text())
    results.write_text(failed.to_json())
    out = tmp_path / "plan.md"
    argv = ["render", str(PLANS / "mixed.json"), "--title", "local", "-o", str(out)]
    argv += ["--policy", str(results), "--policy", str(POLICY / "checkov_failed.json")]
    assert cli.main(argv) == 0
    text = out.read_text()
    assert text.startswith("<!-- fleetpatch-plan-review:local -->\n## Terraform plan: `local`")
    assert "**terraform-compliance**: 8 passed, 1 failed" in text
    assert "**checkov**: 63 passed, 4 failed, 2 skipped" in text


def test_cli_checkov_converts_and_fails_on_failed_checks(tmp_path: Path) -> None:
    out = tmp_path / "checkov.json"
    assert cli.main(["checkov", str(POLICY / "checkov_failed.json"), "-o", str(out)]) == 1
    assert policy.load_result(out).failed == 4


def test_cli_bad_plan_exits_2_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "state.json"
    bad.write_text('{"format_version": "1.0", "values": {}}')
    out = tmp_path / "plan.md"
    assert cli.main(["render", str(bad), "-o", str(out)]) == 2
    assert not out.exists()
    assert "this is a state, not a plan" in capsys.readouterr().err
    assert cli.main(["render", str(tmp_path / "missing.json")]) == 2


def test_cli_compliance_without_the_tool_exits_2(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    argv = [
        "compliance",
        str(PLANS / "create.json"),
        "-o",
        str(out),
        "--bin",
        str(tmp_path / "nope"),
    ]
    assert cli.main(argv) == 2
    assert not out.exists()


def fake_policy_venv(tmp_path: Path, compliance_out: str, checkov_out: str, code: int = 1) -> Path:
    """A .venv-policy whose tools print the given (real, captured) reports and exit ``code``."""
    bin_dir = tmp_path / "venv" / "bin"
    bin_dir.mkdir(parents=True)
    for name, out in (("terraform-compliance", compliance_out), ("checkov", checkov_out)):
        report = tmp_path / f"{name}.out"
        report.write_text(out)
        script = bin_dir / name
        script.write_text(f"#!/bin/sh\ncat '{report}'\nexit {code}\n")
        script.chmod(0o755)
    return tmp_path / "venv"


def test_cli_review_writes_results_and_plan_md(tmp_path: Path) -> None:
    plan_dir = tmp_path / "build" / "local"
    plan_dir.mkdir(parents=True)
    (plan_dir / "plan.json").write_text((PLANS / "mixed.json").read_text())
    venv = fake_policy_venv(
        tmp_path,
        (POLICY / "compliance_tls_failed.txt").read_text(),
        (POLICY / "checkov_failed.json").read_text(),
    )
    argv = ["review", str(plan_dir), "--title", "local", "--checkov-dir", str(tmp_path)]
    argv += ["--policy-venv", str(venv), "--features", str(tmp_path)]
    assert cli.main(argv) == 1
    text = (plan_dir / "plan.md").read_text()
    assert text.startswith("<!-- fleetpatch-plan-review:local -->")
    assert "- :x: **terraform-compliance**: 8 passed, 1 failed" in text
    assert "- :x: **checkov**: 63 passed, 4 failed, 2 skipped" in text
    assert policy.load_result(plan_dir / "compliance.json").failed == 1
    assert policy.load_result(plan_dir / "checkov.json").failed == 4


def test_cli_review_redacts_secrets_a_policy_failure_quotes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A failing check that quotes a planned value: compliance.json is an artifact and its
    # lines reach the job log, so both get plan.md's redaction (here a sensitive value of the
    # plan, also JSON-escaped-looking text around it).
    plan_dir = tmp_path / "build" / "local"
    plan_dir.mkdir(parents=True)
    (plan_dir / "plan.json").write_text((PLANS / "mixed.json").read_text())
    quoting = (
        (POLICY / "compliance_tls_failed.txt")
        .read_text()
        .replace(
            "does not have Condition property.",
            'does not have Condition property (policy "fixture-secret-one").',
        )
    )
    assert "fixture-secret-one" in quoting
    venv = fake_policy_venv(tmp_path, quoting, (POLICY / "checkov_failed.json").read_text())
    argv = ["review", str(plan_dir), "--title", "local", "--checkov-dir", str(tmp_path)]
    assert cli.main([*argv, "--policy-venv", str(venv), "--features", str(tmp_path)]) == 1
    written = (plan_dir / "compliance.json").read_text()
    assert "fixture-secret-one" not in written
    assert "(sensitive)" in written, "the failure is kept, the secret replaced"
    assert policy.load_result(plan_dir / "compliance.json").failed == 1
    assert "fixture-secret-one" not in capsys.readouterr().out
    assert "fixture-secret-one" not in (plan_dir / "plan.md").read_text()


def test_redact_json_reaches_keys_and_nested_strings() -> None:
    text = json.dumps({"a": ["x fixture-secret-two y", {"fixture-secret-two": 1}], "n": 2})
    out = json.loads(cli.redact_json(text, ["fixture-secret-two"]))
    assert out == {"a": ["x (sensitive) y", {"(sensitive)": 1}], "n": 2}


def test_cli_review_passes_when_every_check_passes(tmp_path: Path) -> None:
    plan_dir = tmp_path / "plan"
    plan_dir.mkdir()
    (plan_dir / "plan.json").write_text((PLANS / "no_changes.json").read_text())
    clean = json.dumps({"check_type": "terraform", "summary": {"passed": 3, "failed": 0}})
    venv = fake_policy_venv(tmp_path, (POLICY / "compliance_passed.txt").read_text(), clean, 0)
    argv = ["review", str(plan_dir), "--title", "x", "--checkov-dir", str(tmp_path)]
    assert cli.main([*argv, "--policy-venv", str(venv), "--features", str(tmp_path)]) == 0
    assert (
        ":white_check_mark: **checkov**: 3 passed, 0 failed" in (plan_dir / "plan.md").read_text()
    )


def test_cli_review_shows_a_tool_that_cannot_run(tmp_path: Path) -> None:
    plan_dir = tmp_path / "plan"
    plan_dir.mkdir()
    (plan_dir / "plan.json").write_text((PLANS / "create.json").read_text())
    argv = ["review", str(plan_dir), "--title", "x", "--checkov-dir", str(tmp_path)]
    assert cli.main([*argv, "--policy-venv", str(tmp_path / "missing")]) == 2
    text = (plan_dir / "plan.md").read_text()
    assert "`error` could not run: terraform-compliance not found" in text
    assert "`error` could not run: checkov not found" in text


def test_mark_unknowns_fills_known_after_apply_attributes() -> None:
    data = plan("mixed")
    marked = policy.mark_unknowns(data)
    queue = next(
        r
        for r in marked["planned_values"]["root_module"]["resources"]
        if r["address"] == "aws_sqs_queue.renamed"
    )
    change = next(r for r in marked["resource_changes"] if r["address"] == "aws_sqs_queue.renamed")
    assert queue["values"]["arn"] == policy.UNKNOWN_VALUE
    assert change["change"]["after"]["url"] == policy.UNKNOWN_VALUE
    assert queue["values"]["name"] == "fp-fixture-queue-2"  # known values are kept
    # the input plan is not modified
    original = next(
        r
        for r in data["planned_values"]["root_module"]["resources"]
        if r["address"] == "aws_sqs_queue.renamed"
    )
    assert "arn" not in original["values"]


def test_mark_unknowns_reaches_nested_blocks_and_child_modules() -> None:
    data = {
        "format_version": "1.2",
        "planned_values": {
            "root_module": {
                "child_modules": [
                    {
                        "address": "module.m",
                        "resources": [
                            {"address": "module.m.aws_lambda_function.f", "values": {"dlq": [{}]}}
                        ],
                    }
                ]
            }
        },
        "resource_changes": [
            {
                "address": "module.m.aws_lambda_function.f",
                "change": {
                    "actions": ["create"],
                    "after": {"dlq": [{}]},
                    "after_unknown": {"dlq": [{"target_arn": True}], "arn": True},
                },
            }
        ],
    }
    marked = policy.mark_unknowns(data)
    values = marked["planned_values"]["root_module"]["child_modules"][0]["resources"][0]["values"]
    assert values == {"dlq": [{"target_arn": policy.UNKNOWN_VALUE}], "arn": policy.UNKNOWN_VALUE}


def test_cli_review_can_skip_checkov(tmp_path: Path) -> None:
    plan_dir = tmp_path / "plan"
    plan_dir.mkdir()
    (plan_dir / "plan.json").write_text((PLANS / "create.json").read_text())
    venv = fake_policy_venv(tmp_path, (POLICY / "compliance_passed.txt").read_text(), "junk", 0)
    argv = ["review", str(plan_dir), "--title", "x", "--checkov-dir", str(tmp_path)]
    argv += ["--policy-venv", str(venv), "--features", str(tmp_path), "--skip-checkov"]
    assert cli.main(argv) == 0
    text = (plan_dir / "plan.md").read_text()
    assert "**terraform-compliance**: 9 passed" in text
    assert "checkov" not in text
    assert not (plan_dir / "checkov.json").exists()


def test_a_review_over_the_size_budget_keeps_one_line_per_module() -> None:
    full = md("mixed")
    short = render.render_markdown(plan("mixed"), "mixed", max_chars=len(full) - 1)
    assert len(short) < len(full)
    assert "- **root module** (2 update)" in short
    assert "- **module.app** (2 create)" in short
    assert "aws_s3_bucket.retagged" not in short  # per-resource lines are gone
    assert "| **REPLACE** | `aws_sqs_queue.renamed`" in short  # destroys and replacements stay
    assert "Per-resource lists left out" in short and "terraform show" in short
