"""Working days (工作日) for legal deadlines (STANDARDS.md §6).

A day's status comes from, in order: an administrator's override (``CalendarDay``); the State Council's
notices as encoded by ``chinesecalendar``; for a year the library does not cover, the weekday rule, but only
once administrators have entered that year's notice (``CalendarYear``). Anything else raises
``CalendarNotCovered``: a deadline is never computed from a guess.

Counting follows 行政许可法 practice: the start day (acceptance, receipt) does not count; the deadline is the
N-th working day after it.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator

import chinese_calendar
from django.utils.translation import gettext as _

from yiwang.common.errors import DomainError
from yiwang.common.models import CalendarDay, CalendarYear

MAX_WORKING_DAYS = 3660  # ten years of working days: beyond that an input is a mistake, not a deadline


class CalendarNotCovered(DomainError):
    code = "calendar_not_covered"
    http_status = 409

    def __init__(self, day: dt.date) -> None:
        super().__init__(
            _(
                "The working-day calendar does not cover %(date)s yet: an administrator must enter the holiday "
                "notice for %(year)d (yiwang calendar add / cover)."
            )
            % {"date": f"{day:%Y-%m-%d}", "year": day.year}
        )
        self.day = day


@functools.lru_cache(maxsize=8192)
def _library_says(day: dt.date) -> bool | None:
    """Whether ``chinesecalendar`` makes ``day`` a working day; None for a year it does not cover. Its data is
    fixed for the life of the process (a new holiday notice comes with a new release), so answers are kept."""
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return None


def library_covers(day: dt.date) -> bool:
    return _library_says(day) is not None


class WorkingDays:
    """One calendar read for a range of dates: the overrides are fetched once, the entered years only if a day
    falls in a year the library does not cover (most deadlines never need them)."""

    def __init__(self, start: dt.date, end: dt.date) -> None:
        self.start, self.end = start, end
        self.overrides = dict(CalendarDay.objects.filter(date__gte=start, date__lte=end).values_list("date", "working"))
        self._entered_years: set[int] | None = None

    @property
    def entered_years(self) -> set[int]:
        if self._entered_years is None:
            self._entered_years = set(
                CalendarYear.objects.filter(year__gte=self.start.year, year__lte=self.end.year).values_list(
                    "year", flat=True
                )
            )
        return self._entered_years

    def is_working(self, day: dt.date) -> bool:
        if day in self.overrides:
            return bool(self.overrides[day])
        official = _library_says(day)
        if official is not None:
            return official
        if day.year in self.entered_years:
            return day.weekday() < 5
        raise CalendarNotCovered(day)


def is_working_day(day: dt.date) -> bool:
    return WorkingDays(day, day).is_working(day)


def _days_after(start: dt.date) -> Iterator[dt.date]:
    day = start
    while True:
        day += dt.timedelta(days=1)
        yield day


def add_working_days(start: dt.date, count: int) -> dt.date:
    """The ``count``-th working day after ``start`` (``start`` itself does not count; 0 gives ``start``)."""
    if count < 0 or count > MAX_WORKING_DAYS:
        raise ValueError(f"count must be between 0 and {MAX_WORKING_DAYS}")
    if count == 0:
        return start
    # Long holidays add at most ~9 rest days per 5 working days (Spring Festival): read a window that surely
    # holds the answer, once.
    calendar = WorkingDays(start, start + dt.timedelta(days=count * 3 + 30))
    remaining = count
    for day in _days_after(start):
        if calendar.is_working(day):
            remaining -= 1
            if remaining == 0:
                return day
    raise AssertionError("unreachable")  # pragma: no cover - the generator is endless


def working_days_between(start: dt.date, end: dt.date) -> int:
    """Working days after ``start`` up to and including ``end`` (0 when ``end`` is not after ``start``)."""
    if end <= start:
        return 0
    calendar = WorkingDays(start, end)
    return sum(1 for offset in range(1, (end - start).days + 1) if calendar.is_working(start + dt.timedelta(offset)))
