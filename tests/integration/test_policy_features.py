"""Each terraform-compliance feature of tests/policy/features can fail, and fails alone.

The good configuration (tests/policy/fixtures/good) must pass every feature. Each other folder
of tests/policy/fixtures is named after one feature and holds ``*_override.tf`` files that break
exactly that feature on top of the good configuration.

All variants are planned at once against the embedded AWS emulator, each as its own module
(``module.good``, ``module.s3_tls_only``, ...; see :func:`tests.policy.planner.prepare_variants`):
one provider start instead of ten keeps ``make policy`` within its time budget. Every failure
terraform-compliance reports names the resource address, so each failure is attributed to its
variant; the test asserts that the failures under ``module.<feature>`` belong to that feature
and no other, and that ``module.good`` has none. ``make policy`` runs this module.
"""

from __future__ import annotations

import json
import re

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
VARIANT_RE = re.compile(r"\bmodule\.([a-z0-9_]+)\.")


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> PolicyResult:
    """Plan every variant in one plan and run terraform-compliance on it once."""
    assert COMPLIANCE.exists(), "terraform-compliance is missing: run `make setup`"
    out_dir = tmp_path_factory.mktemp("policy")
    with planner.moto_server() as endpoint:
        overrides = {name: FIXTURES / name for name in BAD_FIXTURES}
        work = planner.prepare_variants(FIXTURES / "good", overrides, out_dir / "work", endpoint)
        plan = planner.plan_json(work)
    plan_path = out_dir / "plan.json"
    plan_path.write_text(json.dumps(plan))
    return run_compliance(plan_path, FEATURES, COMPLIANCE)


def failing_variants(result: PolicyResult) -> dict[str, set[str]]:
    """Map each variant (module name) to the features with a failure naming one of its resources."""
    found: dict[str, set[str]] = {}
    for check in result.checks:
        for message in check.failures:
            variants = set(VARIANT_RE.findall(message))
            assert variants, f"failure of {check.source} names no variant: {message}"
            for variant in variants:
                found.setdefault(variant, set()).add(check.source)
    return found


def test_every_feature_has_exactly_one_bad_fixture() -> None:
    assert len(FEATURE_NAMES) >= 9
    assert BAD_FIXTURES == FEATURE_NAMES


def test_every_feature_ran(result: PolicyResult) -> None:
    assert sorted(c.source for c in result.checks) == FEATURE_NAMES


def test_good_configuration_passes_every_feature(result: PolicyResult) -> None:
    assert "good" not in failing_variants(result)


@pytest.mark.parametrize("feature", BAD_FIXTURES)
def test_bad_fixture_fails_exactly_its_feature(result: PolicyResult, feature: str) -> None:
    assert failing_variants(result).get(feature) == {feature}


def test_only_bad_fixtures_fail(result: PolicyResult) -> None:
    assert set(failing_variants(result)) == set(BAD_FIXTURES)
