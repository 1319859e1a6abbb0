"""Schedule expressions, checked the way the AWS parsers check them, from fleetpatch's one rule set.

The rules are :mod:`tools.schedule_rules` — the same rule set the Terraform inputs carry as
generated ``validation`` blocks, each rule cited there from the AWS page of its parser:

* :func:`schedule_problem` — a State Manager association's ``ScheduleExpression``
  (CreateAssociation / UpdateAssociation; "Reference: Cron and rate expressions for Systems
  Manager", https://docs.aws.amazon.com/systems-manager/latest/userguide/reference-cron-and-rate-expressions.html):
  the ``ssm_association`` rules, except ``single_run``, which is fleetpatch's own refusal of
  ``at()`` for its recurring inputs — AWS accepts ``at(YYYY-MM-DDThh:mm:ss)`` single-run
  schedules, so the emulator does too and checks the timestamp.
* :func:`rule_schedule_problem` — an EventBridge rule's ``ScheduleExpression`` (PutRule;
  https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-scheduled-rule-pattern.html):
  the ``eventbridge_rule`` rules.

Where we are not faithful: AWS's parsers are not published, so an expression the rule set
refuses is refused here even if AWS would take it (the rule set follows the documented forms
only; it is never more permissive than the pages). AWS answers a bad rule schedule with one
fixed message ("Parameter ScheduleExpression is not valid.") and a bad association schedule
with ``InvalidSchedule``; the emulator adds the broken rule's name and message after it.
"""

from __future__ import annotations

import datetime as dt
import re

from tools import schedule_rules

_AT = re.compile(r"at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)")  # used with fullmatch
_FLEETPATCH_ONLY = frozenset({"single_run"})  # fleetpatch's choice, not an AWS rule


def _explain(expression: str, kind: str, broken: list[str]) -> str:
    rules = {rule.name: rule for rule in schedule_rules.KINDS[kind]}
    first = rules[broken[0]]
    return f"Schedule expression {expression} is invalid: {first.name}: {first.message}."


def schedule_problem(expression: str) -> str | None:
    """Why ``expression`` is not a valid State Manager association schedule, or None.

    Args:
        expression: e.g. ``"cron(0 2 ? * SUN *)"``, ``"rate(1 day)"`` or
            ``"at(2026-12-01T02:00:00)"`` (a UTC time).

    Returns:
        A one-line reason naming the broken rule (the ``InvalidSchedule`` error message), or
        None when State Manager accepts the expression.
    """
    at = _AT.fullmatch(expression)
    if at:
        try:
            dt.datetime.strptime(at.group(1), "%Y-%m-%dT%H:%M:%S")
        except ValueError:
            return f"Schedule expression {expression} is invalid: at(): not a valid UTC time."
        return None
    broken = [
        name
        for name in schedule_rules.broken_rules("ssm_association", expression)
        if name not in _FLEETPATCH_ONLY
    ]
    if broken:
        return _explain(expression, "ssm_association", broken)
    if expression.startswith("at("):
        return (
            f"Schedule expression {expression} is invalid: at(): expected at(YYYY-MM-DDThh:mm:ss)."
        )
    return None


def rule_schedule_problem(expression: str) -> str | None:
    """Why ``expression`` is not a valid EventBridge rule schedule, or None when PutRule takes it.

    Args:
        expression: e.g. ``"cron(0 4 ? * SUN *)"`` or ``"rate(14 days)"``.

    Returns:
        ``"Parameter ScheduleExpression is not valid."`` (AWS's message) followed by the broken
        rule's name and message, or None.
    """
    broken = schedule_rules.broken_rules("eventbridge_rule", expression)
    if not broken:
        return None
    return "Parameter ScheduleExpression is not valid. " + _explain(
        expression, "eventbridge_rule", broken
    )
