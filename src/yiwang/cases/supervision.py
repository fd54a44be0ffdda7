"""Electronic supervision (电子监察): the scheduled job that raises deadline warnings.

Yellow: a step (or a case) is within ``YIWANG_WARNING_DAYS`` working days of its deadline; red: overdue.
The job may run any number of times: each warning is one ``SupervisionRecord`` per task (or case), level and
deadline (a unique constraint), and only a newly created record notifies the handler and the supervisors.
A deadline that moves (an extension, a pause) is a new deadline and may warn again.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.db.models.functions import Coalesce
from django.utils import timezone

from yiwang.audit import services as audit
from yiwang.audit.actors import Actor
from yiwang.cases import notify
from yiwang.cases.constants import CaseStatus, TaskStatus, WarningLevel
from yiwang.cases.models import Case, CaseTask, SupervisionRecord
from yiwang.common.calendar import add_working_days
from yiwang.identity import authz
from yiwang.identity.constants import Role


def warning_days() -> int:
    return int(settings.YIWANG_WARNING_DAYS)


def colour(due: dt.date | None, today: dt.date, threshold: dt.date) -> str:
    """The deadline colour of a due date: red overdue, yellow within the warning window, else green."""
    if due is None:
        return "none"
    if due < today:
        return "red"
    if due <= threshold:
        return "yellow"
    return "green"


def threshold(today: dt.date) -> dt.date:
    return add_working_days(today, warning_days())


def supervisors_of(region_code: str) -> list[User]:
    """Supervisors whose region contains ``region_code`` (their division code prefix)."""
    candidates = User.objects.filter(groups__name=Role.SUPERVISOR, is_active=True).select_related("account")
    found = []
    for user in candidates.distinct():
        division = getattr(getattr(user, "account", None), "division_id", None)
        if division and region_code.startswith(authz.region_prefix(division)):
            found.append(user)
    return found


def _record(actor: Actor, case: Case, task: CaseTask | None, level: str, due: dt.date) -> bool:
    try:
        with transaction.atomic():
            record = SupervisionRecord.objects.create(
                case=case,
                task=task,
                department=task.department if task is not None else case.department,
                region_code=case.region_code,
                level=level,
                due=due,
            )
            audit.record(
                actor=actor,
                action="cases.warning_raised",
                object_type="cases.supervision",
                object_id=record.pk,
                object_label=case.number or "",
                after={"level": level, "due": due.isoformat(), "task": task.pk if task else None},
            )
            handlers: list[User]
            if task is not None and task.assignee_id is not None:
                handlers = [task.assignee]  # type: ignore[list-item]
            else:
                handlers = notify.department_staff(record.department, task.role if task else Role.APPROVER)
            kind = "case.warning_red" if level == WarningLevel.RED else "case.warning_yellow"
            notify.users(case, [*handlers, *supervisors_of(case.region_code)], kind, actor=actor, due=due.isoformat())
        return True
    except IntegrityError:
        return False  # raised by an earlier run (or a concurrent one): nothing to do


def raise_warnings(*, actor: Actor, today: dt.date | None = None, batch: int = 1000) -> int:
    """Raise every due warning once; returns how many new records were made."""
    today = today or timezone.localdate()
    limit = threshold(today)
    made = 0
    # Rows already warned at their level and deadline are left out *before* the batch is cut, so a backlog of
    # warned, still-overdue work never hides newer work from the job.
    warned_red = SupervisionRecord.objects.filter(task=OuterRef("pk"), level=WarningLevel.RED, due=OuterRef("due"))
    warned_yellow = SupervisionRecord.objects.filter(
        task=OuterRef("pk"), level=WarningLevel.YELLOW, due=OuterRef("due")
    )
    tasks = (
        CaseTask.objects.filter(status=TaskStatus.OPEN, due__lte=limit, case__paused_since__isnull=True)
        .exclude(Q(due__lt=today) & Exists(warned_red))
        .exclude(Q(due__gte=today) & Exists(warned_yellow))
        .select_related("case", "department", "assignee")
        .order_by("due", "id")
    )
    for task in tasks[:batch]:
        due = task.due
        assert due is not None  # filtered on due__lte
        level = WarningLevel.RED if due < today else WarningLevel.YELLOW
        if not SupervisionRecord.objects.filter(task=task, level=level, due=due).exists():
            made += _record(actor, task.case, task, level, due)
    case_warned = SupervisionRecord.objects.filter(
        case=OuterRef("pk"),
        task__isnull=True,
        level=WarningLevel.RED,
        due=Coalesce(OuterRef("promised_due"), OuterRef("statutory_due")),
    )
    cases = (
        Case.objects.filter(status=CaseStatus.ACCEPTED, paused_since__isnull=True)
        .filter(Q(promised_due__lt=today) | Q(promised_due__isnull=True, statutory_due__lt=today))
        .exclude(Exists(case_warned))
        .select_related("department")
        .order_by("promised_due", "id")
    )
    for case in cases[:batch]:
        due = case.promised_due or case.statutory_due
        assert due is not None
        if not SupervisionRecord.objects.filter(case=case, task__isnull=True, level=WarningLevel.RED, due=due).exists():
            made += _record(actor, case, None, WarningLevel.RED, due)
    return made
