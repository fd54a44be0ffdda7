"""Where a case's deadlines stand today, as both case pages show them (the applicant's and the staff's).

One state per deadline; the pages only put it in their own words. The rule, in order:

1. **not running** (``none``): the deadline's phase is over or has not begun — the pre-review deadline outside
   ``submitted`` (but see 2); the promised and statutory deadlines outside ``accepted`` (before acceptance, after
   the decision, once withdrawn); a step that is done, returned or cancelled. The date is kept (for the record),
   without colour.
2. **paused** (``paused``): the clock stands still — a special procedure that does not count in the time limit
   runs (``case.paused_since``), or the applicant is asked for corrections (``correction``). No colour: a stored
   due date does not run out while the clock stands still, and ``cases.supervision`` raises no warnings for
   such cases either. While corrections are awaited the pre-review deadline has no date at all: the correction
   notice closed the old window and the resubmission opens a new one.
3. **no date** (``none``): the item states no such limit.
4. **overdue** (``red``): the due date is before today. Known without the working-day calendar, so it is shown
   even when the calendar is not covered.
5. **calendar not covered** (``uncovered``): the working-day calendar does not reach the end of the warning
   window (an administrator has not entered that year's holiday notice). Whether a date is near is then
   unknown, and it is never guessed: no yellow or green, no working days left.
6. **due soon** (``yellow``): within ``YIWANG_WARNING_DAYS`` working days (``cases.supervision.colour``);
   **on time** (``green``) otherwise.

The one deadline that matters for a case now (``current``): the pre-review deadline while the case awaits
pre-review or corrections; the promised date (or the statutory one when the item promises nothing) from
acceptance on, kept without colour once the case is finished.

Working days left are counted lazily (the calendar is a query): only a page that shows them pays for them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.utils import timezone

from yiwang.cases import supervision
from yiwang.cases.constants import CaseStatus, TaskStatus
from yiwang.cases.models import Case, CaseTask
from yiwang.common.calendar import CalendarNotCovered

COLOURS = ("red", "yellow", "green")
PAUSED = "paused"
UNCOVERED = "uncovered"
NONE = "none"

# What each deadline is: pages name them in their own words.
ACCEPTANCE = "acceptance"
PROMISED = "promised"
STATUTORY = "statutory"
STEP = "step"


@dataclass(frozen=True)
class Clock:
    """Today and the last day of its warning window, read once per page (the calendar is a query)."""

    today: dt.date
    warn_until: dt.date | None  # None: the working-day calendar does not reach the window's end

    @property
    def covered(self) -> bool:
        return self.warn_until is not None

    def deadline(self, due: dt.date | None, *, kind: str = "", running: bool = True, paused: bool = False) -> Deadline:
        """The state of ``due`` by the rule of the module docstring."""
        if not running:
            state = NONE
        elif paused:
            state = PAUSED
        elif due is None:
            state = NONE
        elif due < self.today:
            state = "red"
        elif self.warn_until is None:
            state = UNCOVERED
        else:
            state = supervision.colour(due, self.today, self.warn_until)
        return Deadline(due, state, kind, self.today)


def clock(today: dt.date | None = None) -> Clock:
    today = today or timezone.localdate()
    try:
        return Clock(today, supervision.threshold(today))
    except CalendarNotCovered:
        return Clock(today, None)


@dataclass(frozen=True)
class Deadline:
    date: dt.date | None
    state: str  # red | yellow | green | paused | uncovered | none
    kind: str = ""  # acceptance | promised | statutory | step
    today: dt.date = field(default_factory=timezone.localdate, compare=False)

    @property
    def colour(self) -> str:
        """The supervision colour (red, yellow, green), or ``none``: never a colour that is not known."""
        return self.state if self.state in COLOURS else NONE

    @property
    def paused(self) -> bool:
        return self.state == PAUSED

    @property
    def uncovered(self) -> bool:
        return self.state == UNCOVERED


def is_paused(case: Case) -> bool:
    """Whether the case's clock stands still: a non-counting special procedure, or corrections awaited."""
    return case.paused_since is not None or case.status == CaseStatus.CORRECTION


def acceptance(case: Case, now: Clock) -> Deadline:
    """The pre-review deadline (5 working days from receipt): runs while the case awaits pre-review."""
    if case.status == CaseStatus.CORRECTION:
        return now.deadline(None, kind=ACCEPTANCE, paused=True)
    return now.deadline(case.acceptance_due, kind=ACCEPTANCE, running=case.status == CaseStatus.SUBMITTED)


def _handling(case: Case, due: dt.date | None, kind: str, now: Clock) -> Deadline:
    return now.deadline(
        due, kind=kind, running=case.status == CaseStatus.ACCEPTED, paused=case.paused_since is not None
    )


def promised(case: Case, now: Clock) -> Deadline:
    return _handling(case, case.promised_due, PROMISED, now)


def statutory(case: Case, now: Clock) -> Deadline:
    return _handling(case, case.statutory_due, STATUTORY, now)


def current(case: Case, now: Clock) -> Deadline:
    """The one deadline that matters now (see the module docstring)."""
    if case.status in (CaseStatus.DRAFT, CaseStatus.SUBMITTED, CaseStatus.CORRECTION):
        return acceptance(case, now)
    if case.promised_due is None and case.statutory_due is not None:
        return statutory(case, now)
    return promised(case, now)


def step(task: CaseTask, case: Case, now: Clock) -> Deadline:
    """A step's own deadline: runs while the task is open, stands still while the case's clock does."""
    return now.deadline(task.due, kind=STEP, running=task.status == TaskStatus.OPEN, paused=is_paused(case))
