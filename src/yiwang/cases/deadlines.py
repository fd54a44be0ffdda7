"""Deadlines of cases and steps, from the item's time limits and the case's clock events.

Rules (STANDARDS.md §6, 行政许可法 arts. 32, 42, 45):
- The acceptance window is 5 working days after receipt (``ACCEPTANCE_WINDOW_DAYS``); the day of receipt
  does not count. Corrected materials are a new receipt and open a new window.
- Time limits run from acceptance; the day of acceptance does not count (``add_working_days``).
- Time in special procedures that the catalogue says do not count stops the clock: the working days after
  the procedure starts, up to and including the day it ends, are added back. An open procedure is counted
  as if it ended today, so the shown deadline moves on while the clock stands still.
- An approved extension (延长审批) moves the deadline by the approved days, in the limit's own unit.
- A deadline that needs a day the working-day calendar does not cover raises ``CalendarNotCovered``:
  refused loudly, never guessed (common/calendar.py).
"""

from __future__ import annotations

import calendar as month_calendar
import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from yiwang.common.calendar import add_working_days, working_days_between

ACCEPTANCE_WINDOW_DAYS = 5  # 行政许可法 art. 32: tell every correction at once within 5 days, or it is accepted


@dataclass(frozen=True)
class Pause:
    start: dt.date
    end: dt.date | None  # None: still running


def _add_months(day: dt.date, months: int) -> dt.date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return dt.date(year, month, min(day.day, month_calendar.monthrange(year, month)[1]))


def paused_days(pauses: Iterable[Pause], today: dt.date, *, working: bool, after: dt.date) -> int:
    """Days the clock stood still after ``after`` (working or natural days)."""
    total = 0
    for pause in pauses:
        start = max(pause.start, after)
        end = pause.end or today
        if end <= start:
            continue
        total += working_days_between(start, end) if working else (end - start).days
    return total


def due_date(
    start: dt.date,
    limit: Mapping[str, Any] | None,
    *,
    extension_days: int = 0,
    pauses: Iterable[Pause] = (),
    today: dt.date | None = None,
) -> dt.date | None:
    """The last day of a time limit (``{"value": n, "unit": …}`` from the item content) that starts at ``start``.

    ``None`` when the item states no limit (or no value for a unit that needs one).
    """
    if not limit:
        return None
    unit = limit.get("unit")
    value = limit.get("value")
    today = today or start
    pauses = list(pauses)
    if unit == "immediate":
        return start
    if not isinstance(value, int):
        return None
    if unit == "working_day":
        stopped = paused_days(pauses, today, working=True, after=start)
        return add_working_days(start, value + extension_days + stopped)
    stopped = paused_days(pauses, today, working=False, after=start)
    if unit == "natural_day":
        return start + dt.timedelta(days=value + extension_days + stopped)
    if unit == "month":
        return _add_months(start, value) + dt.timedelta(days=extension_days + stopped)
    if unit == "year":
        return _add_months(start, 12 * value) + dt.timedelta(days=extension_days + stopped)
    return None


def acceptance_due(received_on: dt.date) -> dt.date:
    return add_working_days(received_on, ACCEPTANCE_WINDOW_DAYS)


def step_due(
    started_on: dt.date, days: int, *, case_due: dt.date | None, pauses: Iterable[Pause] = (), today: dt.date
) -> dt.date:
    """A step's own deadline: its working days from its start, never later than the case's."""
    own = add_working_days(started_on, days + paused_days(pauses, today, working=True, after=started_on))
    return min(own, case_due) if case_due is not None else own
