"""Each terraform-compliance feature of tests/policy/features can fail, and fails alone.

The good configuration (tests/policy/fixtures/good) must pass every feature. Each other folder
of tests/policy/fixtures is named after one feature and holds ``*_override.tf`` files that break
exactly that feature on top of the good configuration; its plan must fail that feature and no
other.

All variants are planned at once against the embedded AWS emulator, each as its own module
(:func:`tests.policy.planner.prepare_variants`): one provider start instead of ten keeps
``make policy`` within its time budget. The plan is then cut into one plan per variant
(:func:`tests.policy.planner.split_plan`), so terraform-compliance sees each variant exactly as
if it had been planned on its own. ``make policy`` runs this module.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.policy import planner
from tools.plan_review.policy import PolicyResult, run_compliance

pytestmark = pytest.mark.policy

POLICY = planner.ROOT / "tests" / "policy"
FEATURES = POLICY / "features"
FIXTURES = POLICY / "fixtures"
COMPLIANCE = planner.ROOT / ".venv-policy" / "bin" / "terraform-compliance"
FEATURE_NAMES = sorted(p.stem for p in FEATURES.glob("*.feature"))
BAD_FIXTURES = sorted(d.name for d in FIXTURES.iterdir() if d.is_dir() and d.name != "good")


@pytest.fixture(scope="module")
def plans(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Plan every variant in one plan; return variant name -> its own plan JSON file."""
    out_dir = tmp_path_factory.mktemp("policy")
    overrides = {name: FIXTURES / name for name in BAD_FIXTURES}
    with planner.moto_server() as endpoint:
        work = planner.prepare_variants(FIXTURES / "good", overrides, out_dir / "work", endpoint)
        plan = planner.plan_json(work)
    paths = {}
    for name in ["good", *BAD_FIXTURES]:
        paths[name] = out_dir / f"{name}.json"
        paths[name].write_text(json.dumps(planner.split_plan(plan, name)))
    return paths


def compliance(plan: Path) -> PolicyResult:
    assert COMPLIANCE.exists(), "terraform-compliance is missing: run `make setup`"
    return run_compliance(plan, FEATURES, COMPLIANCE)


def test_every_feature_has_exactly_one_bad_fixture() -> None:
    assert len(FEATURE_NAMES) >= 9
    assert BAD_FIXTURES == FEATURE_NAMES


def test_good_configuration_passes_every_feature(plans: dict[str, Path]) -> None:
    result = compliance(plans["good"])
    assert sorted(c.source for c in result.checks) == FEATURE_NAMES
    assert [(c.source, c.failures) for c in result.checks if c.status == "failed"] == []


def test_split_plan_holds_only_its_variant(plans: dict[str, Path]) -> None:
    plan = json.loads(plans["s3_tls_only"].read_text())
    addresses = {rc["address"] for rc in plan["resource_changes"]}
    assert "aws_s3_bucket_policy.reports" in addresses
    assert 'module.log_buckets.aws_s3_bucket.this["inventory"]' in addresses
    assert not any(a.startswith("module.s3_tls_only") or "good" in a for a in addresses)
    policy = next(
        r
        for r in plan["planned_values"]["root_module"]["resources"]
        if r["address"] == "aws_s3_bucket_policy.reports"
    )
    assert "SecureTransport" not in policy["values"]["policy"]


@pytest.mark.parametrize("feature", BAD_FIXTURES)
def test_bad_fixture_fails_exactly_its_feature(plans: dict[str, Path], feature: str) -> None:
    result = compliance(plans[feature])
    failed = [c for c in result.checks if c.status == "failed"]
    assert [c.source for c in failed] == [feature], [c.failures for c in failed]
    assert failed[0].failures, "a failed feature names the resources that failed it"
