"""State Manager schedule expressions as the emulator checks them (tools/schedule_rules, minus
fleetpatch's own at() refusal)."""

from __future__ import annotations

import pytest

from tests.emulator.schedule import schedule_problem

VALID = [
    "cron(0 2 ? * SUN *)",
    "cron(0 2 ? * SUN)",
    "cron(30 23 ? * TUE#3 *)",
    "cron(0 0 ? * THU#2 *)",
    "cron(15 10 ? * 6 2027)",
    "cron(0 */4 * * ? *)",
    "cron(0/30 * * * ? *)",
    "rate(30 minutes)",
    "rate(1 hour)",
    "rate(12 hours)",
    "rate(1 day)",
    "rate(7 days)",
    "at(2026-12-01T02:00:00)",
]

INVALID = [
    "",
    "weekly",
    "cron(0 2 * *)",
    "cron(0 2 ? * SUN * * *)",
    "cron(60 2 ? * SUN *)",
    "cron(0 24 ? * SUN *)",
    "cron(0 2 32 * ? *)",
    "cron(0 2 ? 13 * *)",
    "cron(0 2 ? * FUNDAY *)",
    "cron(0 2 ? * MON#6 *)",
    "cron(0 2 ? * SUN 1969)",
    "rate(15 minutes)",
    "rate(1 hours)",
    "rate(2 hour)",
    "rate(0 days)",
    "rate(1 week)",
    "at(2026-13-01T02:00:00)",
    "at(tomorrow)",
    # State Manager refuses what EventBridge takes: months, intervals other than every 30
    # minutes or 1, 2, 4, 8, 12 hours, weekday ranges.
    "cron(0 1-5 1,15 JAN-MAR ? *)",
    "cron(0 */6 * * ? *)",
    "cron(0 2 ? * MON-FRI *)",
    "cron(0 4 L * ? *)",
    "cron(15 10 ? * 6L 2027)",
    "rate(31 days)",
    # A trailing newline: not the documented form (and RE2, Terraform's regex, agrees).
    "rate(30 minutes)\n",
    "cron(0 2 ? * SUN *)\n",
    "at(2026-12-01T02:00:00)\n",
]


@pytest.mark.parametrize("expression", VALID)
def test_valid_schedules_pass(expression: str) -> None:
    assert schedule_problem(expression) is None


@pytest.mark.parametrize("expression", INVALID)
def test_invalid_schedules_are_explained(expression: str) -> None:
    problem = schedule_problem(expression)
    assert problem is not None
    assert problem.startswith(f"Schedule expression {expression} is invalid")


def test_single_run_is_accepted_by_the_emulator_as_by_state_manager() -> None:
    # tools.schedule_rules refuses at() for fleetpatch's recurring inputs; AWS takes it.
    from tools.schedule_rules import broken_rules  # noqa: PLC0415

    assert broken_rules("ssm_association", "at(2026-12-01T02:00:00)") == ["single_run"]
    assert schedule_problem("at(2026-12-01T02:00:00)") is None


def test_the_problem_names_the_broken_rule() -> None:
    problem = schedule_problem("rate(15 minutes)")
    assert problem is not None
    assert "rate_interval" in problem
    assert "at least 30 minutes" in problem
