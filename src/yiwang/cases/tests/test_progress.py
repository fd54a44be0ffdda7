"""Deadline states as both case pages show them (``cases.progress``): colours by the supervision rule, a stopped
clock (special procedure or corrections awaited), a calendar that does not cover the warning window, which
deadline matters now, and working days left across the National Day holiday.

Today is Friday 2025-09-26 (the cases tests' clock); with one warning day the window ends on Sunday Sep 28, a
调休 working day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User

from yiwang.cases import progress, services
from yiwang.cases.constants import CaseStatus, TaskStatus
from yiwang.cases.models import Case, CaseTask
from yiwang.cases.services import Problem

pytestmark = pytest.mark.django_db

D = dt.date
TODAY = D(2025, 9, 26)


@pytest.fixture
def now() -> progress.Clock:
    found = progress.clock(TODAY)
    assert found == progress.Clock(TODAY, D(2025, 9, 28))
    return found


def test_the_colours_follow_the_supervision_rule(now: progress.Clock) -> None:
    assert now.deadline(D(2025, 9, 25)).state == "red"
    assert now.deadline(TODAY).state == "yellow"  # due today is not overdue yet
    assert now.deadline(D(2025, 9, 28)).state == "yellow"
    assert now.deadline(D(2025, 9, 29)).state == "green"
    assert now.deadline(None).state == "none"
    for day, colour in ((D(2025, 9, 25), "red"), (D(2025, 9, 29), "green")):
        assert now.deadline(day).colour == colour


def test_a_deadline_that_does_not_run_keeps_its_date_without_colour(now: progress.Clock) -> None:
    stopped = now.deadline(D(2025, 9, 1), running=False)
    assert (stopped.date, stopped.state, stopped.colour) == (D(2025, 9, 1), "none", "none")


def test_a_stopped_clock_outweighs_an_overdue_date(now: progress.Clock) -> None:
    paused = now.deadline(D(2025, 9, 1), paused=True)
    assert paused.state == "paused" and paused.paused and paused.colour == "none"


def test_without_calendar_cover_only_overdue_is_known() -> None:
    uncovered = progress.clock(D(2099, 6, 1))  # a year no holiday notice covers yet
    assert not uncovered.covered and uncovered.warn_until is None
    assert uncovered.deadline(D(2099, 5, 29)).state == "red"
    for day in (D(2099, 6, 1), D(2099, 6, 2), D(2099, 12, 31)):
        shown = uncovered.deadline(day)
        assert shown.state == "uncovered" and shown.uncovered and shown.colour == "none", day
    # A stopped clock and a deadline that does not run say so even then.
    assert uncovered.deadline(D(2099, 5, 29), paused=True).state == "paused"
    assert uncovered.deadline(D(2099, 5, 29), running=False).state == "none"


def _case(**fields: object) -> Case:
    return Case(**fields)


def test_each_deadline_runs_in_its_own_phase(now: progress.Clock) -> None:
    due = {"acceptance_due": D(2025, 9, 29), "promised_due": D(2025, 9, 30), "statutory_due": D(2025, 10, 23)}
    submitted = _case(status=CaseStatus.SUBMITTED, **due)
    assert progress.acceptance(submitted, now).state == "green"
    assert progress.promised(submitted, now).state == "none"
    accepted = _case(status=CaseStatus.ACCEPTED, **due)
    assert progress.acceptance(accepted, now).state == "none"
    assert (progress.promised(accepted, now).state, progress.statutory(accepted, now).state) == ("green", "green")
    inspected = _case(status=CaseStatus.ACCEPTED, paused_since=TODAY, **due)
    assert progress.promised(inspected, now).paused and progress.statutory(inspected, now).paused
    decided = _case(status=CaseStatus.DECIDED, **due)
    assert progress.promised(decided, now).state == "none" and progress.promised(decided, now).date == D(2025, 9, 30)


def test_while_corrections_are_awaited_the_pre_review_clock_stands_still(now: progress.Clock) -> None:
    waiting = _case(status=CaseStatus.CORRECTION, acceptance_due=D(2025, 9, 1))
    assert progress.is_paused(waiting)
    shown = progress.acceptance(waiting, now)
    # The correction notice closed the old window (no date); the resubmission opens a new one.
    assert (shown.date, shown.state, shown.kind) == (None, "paused", "acceptance")
    assert progress.current(waiting, now) == shown


def test_the_current_deadline(now: progress.Clock) -> None:
    submitted = _case(status=CaseStatus.SUBMITTED, acceptance_due=D(2025, 9, 25))
    assert (progress.current(submitted, now).kind, progress.current(submitted, now).state) == ("acceptance", "red")
    accepted = _case(status=CaseStatus.ACCEPTED, promised_due=D(2025, 9, 30), statutory_due=D(2025, 10, 23))
    assert progress.current(accepted, now).kind == "promised"
    # An item that promises nothing: the statutory limit is the one that runs.
    statutory_only = _case(status=CaseStatus.ACCEPTED, statutory_due=D(2025, 9, 28))
    assert (progress.current(statutory_only, now).kind, progress.current(statutory_only, now).state) == (
        "statutory",
        "yellow",
    )
    delivered = _case(status=CaseStatus.DELIVERED, promised_due=D(2025, 9, 1))
    assert (progress.current(delivered, now).date, progress.current(delivered, now).state) == (D(2025, 9, 1), "none")
    refused = _case(status=CaseStatus.REFUSED, acceptance_due=D(2025, 9, 29))
    assert progress.current(refused, now).date is None


def test_a_step_runs_while_open_and_stops_with_the_case(now: progress.Clock) -> None:
    case = _case(status=CaseStatus.ACCEPTED)
    task = CaseTask(status=TaskStatus.OPEN, due=D(2025, 9, 25))
    assert progress.step(task, case, now).state == "red"
    case.paused_since = TODAY
    assert progress.step(task, case, now).state == "paused"
    task.status = TaskStatus.DONE
    assert progress.step(task, case, now).state == "none"


def test_real_cases_through_their_phases(
    now: progress.Clock, citizen: User, clerk: User, reviewer_a: User, submitted: Callable[..., Case]
) -> None:
    case = submitted()
    assert progress.current(case, now).date == D(2025, 10, 10)  # 5 working days across National Day
    services.request_correction(actor=clerk, case=case, problems=[Problem("签名缺失", slot=0)])
    case.refresh_from_db()
    assert progress.current(case, now).paused
    case = services.resubmit(actor=citizen, case=case)
    assert progress.current(case, now).state == "green"
    services.accept(actor=clerk, case=case)
    case.refresh_from_db()
    review = case.tasks.get(status=TaskStatus.OPEN)
    assert progress.current(case, now).date == D(2025, 9, 30)
    assert progress.step(review, case, now).state in ("yellow", "green")
