"""Deadline arithmetic against hand-checked dates (2025 National Day and Spring Festival, with 调休)."""

from __future__ import annotations

import datetime as dt

import pytest

from yiwang.cases.deadlines import Pause, acceptance_due, due_date, step_due

pytestmark = pytest.mark.django_db

D = dt.date


def test_working_day_limits_skip_the_national_day_and_count_the_weekend_worked() -> None:
    # Accepted Fri Sep 26: Sun Sep 28 is worked (调休); Oct 1–8 rest; Sat Oct 11 worked.
    assert due_date(D(2025, 9, 26), {"value": 3, "unit": "working_day"}) == D(2025, 9, 30)
    assert due_date(D(2025, 9, 26), {"value": 4, "unit": "working_day"}) == D(2025, 10, 9)
    assert due_date(D(2025, 9, 26), {"value": 6, "unit": "working_day"}) == D(2025, 10, 11)


def test_spring_festival_2025() -> None:
    # Rest Jan 28 – Feb 4; Sun Jan 26 and Sat Feb 8 worked. From Fri Jan 24: Jan 26, 27, Feb 5, 6, 7, 8.
    assert due_date(D(2025, 1, 24), {"value": 2, "unit": "working_day"}) == D(2025, 1, 27)
    assert due_date(D(2025, 1, 24), {"value": 6, "unit": "working_day"}) == D(2025, 2, 8)
    assert acceptance_due(D(2025, 1, 24)) == D(2025, 2, 7)


def test_other_units() -> None:
    assert due_date(D(2025, 9, 26), {"unit": "immediate"}) == D(2025, 9, 26)
    assert due_date(D(2025, 9, 26), {"value": 20, "unit": "natural_day"}) == D(2025, 10, 16)
    assert due_date(D(2025, 1, 31), {"value": 1, "unit": "month"}) == D(2025, 2, 28)
    assert due_date(D(2024, 2, 29), {"value": 1, "unit": "year"}) == D(2025, 2, 28)
    assert due_date(D(2025, 9, 26), {"unit": "working_day"}) is None
    assert due_date(D(2025, 9, 26), None) is None


def test_extensions_and_pauses_move_the_deadline() -> None:
    limit = {"value": 3, "unit": "working_day"}
    assert due_date(D(2025, 9, 26), limit, extension_days=2) == D(2025, 10, 10)
    # Paused Mon Sep 29 → Tue Sep 30: one working day (Sep 30) did not count.
    paused = [Pause(D(2025, 9, 29), D(2025, 9, 30))]
    assert due_date(D(2025, 9, 26), limit, pauses=paused) == D(2025, 10, 9)
    # A pause still running counts as if it ended today: Sep 30 and Oct 9 stood still, so 3 + 2 working days.
    running = [Pause(D(2025, 9, 29), None)]
    assert due_date(D(2025, 9, 26), limit, pauses=running, today=D(2025, 10, 9)) == D(2025, 10, 10)
    # Natural-day limits add natural days.
    assert due_date(D(2025, 9, 26), {"value": 10, "unit": "natural_day"}, pauses=paused) == D(2025, 10, 7)


def test_a_step_never_ends_after_its_case() -> None:
    assert step_due(D(2025, 9, 26), 10, case_due=D(2025, 9, 30), today=D(2025, 9, 26)) == D(2025, 9, 30)
    assert step_due(D(2025, 9, 26), 1, case_due=D(2025, 10, 30), today=D(2025, 9, 26)) == D(2025, 9, 28)
