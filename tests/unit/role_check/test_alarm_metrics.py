"""The role-check failure alarm (modules/role_check) watches every failure metric the function
emits, and every metric the function emits is either watched or known to be informational."""

from __future__ import annotations

import re
from pathlib import Path

import hcl2
from ssm_role_check import handler
from ssm_role_check.summary import FAILED_OUTCOMES, Outcome

ROOT = Path(__file__).resolve().parents[3]
SOURCE = ROOT / "lambda_src" / "ssm_role_check"
MAIN_TF = ROOT / "modules" / "role_check" / "main.tf"

# Metrics emitted with a literal name (add_metric(name="...")) that are failures: a refused
# event (no instance checked), a sweep continuation that could not be sent or was refused (the
# rest of the Region stays unchecked until the next scheduled sweep).
EVENT_FAILURES = {"InvalidEvents", "SweepContinuationsFailed", "SweepContinuationsRefused"}
# Emitted and deliberately not in the failure alarm: counts of changes and of normal sweep
# progress; ConfigErrors comes with a raised ConfigError, which the Errors alarm (AWS/Lambda)
# already counts.
INFORMATIONAL = {"Changes", "SweepDeadlineStops", "SweepContinuations", "ConfigErrors"}
# Outcomes that are not failures: fixed, already fine, left alone by design (opt-out, outside
# the roles the check may modify), not yet checkable, or gone.
NOT_FAILED = set(Outcome) - set(FAILED_OUTCOMES)


def _literal_metric_names() -> set[str]:
    names: set[str] = set()
    for path in SOURCE.glob("*.py"):
        names |= set(re.findall(r'add_metric\(\s*name="(\w+)"', path.read_text()))
    return names


def _alarm_metric_names() -> list[str]:
    with MAIN_TF.open() as handle:
        parsed = hcl2.load(handle)
    locals_ = {k: v for block in parsed["locals"] for k, v in block.items()}
    # python-hcl2 keeps the quotes of string literals.
    return [str(name).strip('"') for name in locals_["failure_metric_names"]]


def test_every_emitted_metric_is_classified() -> None:
    emitted = set(handler.METRIC_NAMES.values()) | _literal_metric_names()
    outcome_failures = {handler.METRIC_NAMES[o] for o in FAILED_OUTCOMES}
    outcome_other = {handler.METRIC_NAMES[o] for o in NOT_FAILED}
    classified = outcome_failures | outcome_other | EVENT_FAILURES | INFORMATIONAL
    assert emitted == classified, (
        f"metrics neither alarmed nor informational: {sorted(emitted - classified)}; "
        f"classified but no longer emitted: {sorted(classified - emitted)}"
    )


def test_failure_alarm_watches_every_failure_metric() -> None:
    expected = {handler.METRIC_NAMES[o] for o in FAILED_OUTCOMES} | EVENT_FAILURES
    watched = _alarm_metric_names()
    assert len(watched) == len(set(watched))
    assert set(watched) == expected
    # CloudWatch: an alarm on a metric math expression references at most 10 metrics.
    assert len(watched) <= 10


def test_failure_outcomes_include_access_denied_and_explicit_deny() -> None:
    watched = set(_alarm_metric_names())
    assert {"InstancesAccessDenied", "InstancesBlockedByDeny", "InstancesFailed"} <= watched
