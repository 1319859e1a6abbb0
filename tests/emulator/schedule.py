"""State Manager schedule expressions, checked the way SSM checks an association's schedule.

Accepted (the forms of the Systems Manager user guide, "Cron and rate expressions"):

* ``cron(M H DoM Mon DoW [Y])`` — five required fields plus an optional year; ``?`` in
  day-of-month or day-of-week, ``L``/``W`` in day-of-month, ``L`` and ``#n`` in day-of-week,
  names ``JAN``-``DEC`` and ``SUN``-``SAT``;
* ``rate(N minute|minutes|hour|hours|day|days)`` — singular unit for 1, plural otherwise, and
  no more often than every 30 minutes;
* ``at(YYYY-MM-DDThh:mm:ss)`` — one run at a UTC time.
"""

from __future__ import annotations

import datetime as dt
import re

_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_AT = re.compile(r"^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$")
_CRON = re.compile(r"^cron\(([^()]+)\)$")
_MIN_RATE_MINUTES = 30


def _value(token: str, low: int, high: int, names: tuple[str, ...], first: int) -> bool:
    if token.isdigit():
        return low <= int(token) <= high
    return token.upper() in names and low <= names.index(token.upper()) + first <= high


def _field(text: str, low: int, high: int, names: tuple[str, ...] = (), first: int = 1) -> bool:
    for part in text.split(","):
        base, _, step = part.partition("/")
        if step and not (step.isdigit() and int(step) >= 1):
            return False
        if base == "*":
            continue
        start, dash, end = base.partition("-")
        if not _value(start, low, high, names, first):
            return False
        if dash and not _value(end, low, high, names, first):
            return False
    return True


def _day_of_month(text: str) -> bool:
    if text in ("?", "L", "LW"):
        return True
    if text.endswith("W") and text[:-1].isdigit():
        return 1 <= int(text[:-1]) <= 31
    return _field(text, 1, 31)


def _day_of_week(text: str) -> bool:
    if text in ("?", "L"):
        return True
    day, hash_, nth = text.partition("#")
    if hash_:
        return _value(day, 1, 7, _DAYS, 1) and nth.isdigit() and 1 <= int(nth) <= 5
    if text.endswith("L") and len(text) > 1:
        return _value(text[:-1], 1, 7, _DAYS, 1)
    return _field(text, 1, 7, _DAYS, 1)


def _cron_ok(body: str) -> bool:
    fields = body.split()
    if len(fields) not in (5, 6):
        return False
    minute, hour, dom, month, dow = fields[:5]
    checks = (
        _field(minute, 0, 59),
        _field(hour, 0, 23),
        _day_of_month(dom),
        _field(month, 1, 12, _MONTHS, 1),
        _day_of_week(dow),
        len(fields) == 5 or _field(fields[5], 1970, 2199),
    )
    return all(checks)


def _rate_problem(expression: str, count: int, unit: str) -> str | None:
    if count < 1 or (count == 1) != (not unit.endswith("s")):
        return f"Schedule expression {expression} is invalid: use a singular unit for 1 only."
    if unit.startswith("minute") and count < _MIN_RATE_MINUTES:
        return f"Schedule expression {expression} is invalid: the minimum rate is 30 minutes."
    return None


def _at_problem(expression: str, stamp: str) -> str | None:
    try:
        dt.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        return f"Schedule expression {expression} is invalid: not a valid UTC time."
    return None


def schedule_problem(expression: str) -> str | None:
    """Why ``expression`` is not a valid association schedule, or None when it is valid.

    Args:
        expression: e.g. ``"cron(0 2 ? * SUN *)"``, ``"rate(1 day)"`` or
            ``"at(2026-12-01T02:00:00)"``.

    Returns:
        A one-line reason (used as the ``InvalidSchedule`` error message), or None.
    """
    text = expression.strip()
    rate = _RATE.match(text)
    if rate:
        return _rate_problem(expression, int(rate.group(1)), rate.group(2))
    at = _AT.match(text)
    if at:
        return _at_problem(expression, at.group(1))
    cron = _CRON.match(text)
    if cron and _cron_ok(cron.group(1)):
        return None
    return (
        f"Schedule expression {expression} is invalid: expected cron(5 or 6 fields), "
        "rate(N unit) or at(YYYY-MM-DDThh:mm:ss)."
    )
