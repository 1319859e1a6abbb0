"""Schedule expression rules (tools/schedule_rules.py): the case table, and no drift anywhere.

The same CASES run in Terraform (modules/scan/tests/schedule_rules_*.tftest.hcl, one plan per
kind); here each case must break exactly the rules the table names, and every input of a kind
must carry the generated blocks unchanged.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tools import schedule_rules as sr

ROOT = Path(__file__).resolve().parents[2]

# Inputs that contain "schedule" in their name but take no AWS schedule expression.
NOT_SCHEDULE_EXPRESSIONS = {
    ("modules/azure_tag_enforcement", "scheduler"),  # "timer" | "cross_cloud"
    ("environments/azure", "scheduler"),
    ("modules/azure_tag_enforcement", "automation_schedule_start"),  # RFC 3339 time (Azure)
    ("modules/azure_tag_enforcement/settings", "automation_schedule_start"),
}


@pytest.mark.parametrize(("kind", "value", "broken"), sr.CASES, ids=[c[1] for c in sr.CASES])
def test_each_case_breaks_exactly_its_rules(kind: str, value: str, broken: tuple[str, ...]) -> None:
    assert tuple(sr.broken_rules(kind, value)) == broken


@pytest.mark.parametrize("kind", sorted(sr.KINDS))
def test_every_rule_of_a_kind_has_a_case_breaking_it(kind: str) -> None:
    covered = {name for k, _, broken in sr.CASES if k == kind for name in broken}
    assert covered == {rule.name for rule in sr.KINDS[kind]}


def test_eventbridge_accepts_the_documented_wildcards() -> None:
    accepted = [v for k, v, broken in sr.CASES if k == "eventbridge_rule" and not broken]
    for needle in ("L *", "LW", "3W", "6L", "#", "-", ",", "/"):
        assert any(needle in v for v in accepted), needle


def test_messages_name_the_rule_and_what_is_allowed() -> None:
    for kind, rules in sr.KINDS.items():
        assert len({r.name for r in rules}) == len(rules), kind
        for rule in rules:
            assert ":" in rule.message and len(rule.message) > 30, rule.name


@pytest.mark.parametrize(
    "path", sorted(sr.expected_files()), ids=lambda p: str(Path(p).relative_to(ROOT))
)
def test_generated_blocks_and_tests_have_not_drifted(path: Path) -> None:
    """Fails when any variables.tf block, fixture or test differs from what the rules generate:
    run `python -m tools.schedule_rules` and commit the result."""
    assert path.read_text(encoding="utf-8") == sr.expected_files()[path]


def test_a_changed_block_is_drift() -> None:
    target = sr.TARGETS[0]
    text = (ROOT / target.file).read_text(encoding="utf-8")
    tampered = text.replace("0?[1-9]|[12][0-9]|3[01]", "0?[1-9]|[12][0-9]|3[0-9]", 1)
    assert tampered != text
    assert sr.render(tampered, target) == text


def test_every_schedule_input_uses_its_kind() -> None:
    declared = set()
    for top in ("modules", "environments"):
        for tf in (ROOT / top).rglob("*.tf"):
            if "tests" in tf.parts or ".terraform" in tf.parts:
                continue
            directory = str(tf.parent.relative_to(ROOT))
            for name in re.findall(
                r'^variable "([a-z0-9_]*schedule[a-z0-9_]*)"', tf.read_text(), re.M
            ):
                declared.add((directory, name))
    targets = {(str(Path(t.file).parent), t.variable) for t in sr.TARGETS}
    assert declared - NOT_SCHEDULE_EXPRESSIONS == targets


# --- the policy feature's one regular expression per kind ----------------------------------------
@pytest.mark.parametrize(
    ("low", "high"), [(1, 1), (1, 9), (7, 123), (99, 100), (30, 44639), (1, 743)]
)
def test_integer_range_regex_matches_exactly_the_range(low: int, high: int) -> None:
    pattern = re.compile(f"^{sr.integer_range_regex(low, high)}$")
    for number in range(high + 2000):
        assert bool(pattern.match(str(number))) == (low <= number <= high), number
    assert not pattern.match(f"0{low}")  # no leading zeros


def test_integer_range_regex_refuses_an_empty_range() -> None:
    with pytest.raises(ValueError, match="no positive integers"):
        sr.integer_range_regex(5, 4)


def _variants(value: str) -> list[str]:
    # Near misses of a case value: each character dropped, doubled or swapped for a neighbour
    # from the alphabet the rules care about.
    alphabet = "0123456789 ?*,-/#LW()"
    out = [value + "\n", value + " ", "\n" + value]
    for i in range(len(value)):
        out.append(value[:i] + value[i + 1 :])
        out.append(value[:i] + value[i] + value[i:])
        out.append(
            value[:i] + alphabet[(alphabet.find(value[i]) + 1) % len(alphabet)] + value[i + 1 :]
        )
    return out


@pytest.mark.parametrize("kind", sorted(sr.KINDS))
def test_whole_regex_agrees_with_the_rules_on_cases_and_near_misses(kind: str) -> None:
    pattern = re.compile(sr.whole_regex(kind), flags=re.IGNORECASE)  # terraform-compliance's flag
    values = {v for k, v, _ in sr.CASES if k == kind}
    values |= {variant for v in list(values) for variant in _variants(v)}
    assert len(values) > 1500
    disagreements = [
        v for v in values if (pattern.match(v) is not None) != (sr.broken_rules(kind, v) == [])
    ]
    assert disagreements == []


def test_whole_regex_is_case_sensitive_under_ignorecase() -> None:
    pattern = re.compile(sr.whole_regex("eventbridge_rule"), flags=re.IGNORECASE)
    assert pattern.match("rate(1 day)")
    assert not pattern.match("RATE(1 DAY)")
    assert not pattern.match("cron(0 4 ? * sun *)")  # AWS's names are upper case


def test_policy_feature_checks_both_kinds_with_their_regex() -> None:
    text = sr.FEATURE_PATH.read_text(encoding="utf-8")
    for resource, _, kind, _ in sr.POLICY_RESOURCES:
        assert f"Given I have {resource} defined" in text
        assert f'must match the "{sr.whole_regex(kind)}" regex' in text
