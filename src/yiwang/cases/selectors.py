"""Reads of cases, scoped: applicants see their own (and their principals'), staff their department's work,
supervisors their region. Objects outside scope are "not found": their existence is itself information."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.cases import supervision
from yiwang.cases.constants import CaseStatus, NoticeKind, SupervisionStatus, TaskStatus
from yiwang.cases.models import (
    Bundle,
    BundleApplication,
    Case,
    CaseMaterial,
    CaseTask,
    CaseTransition,
    Notice,
    SpecialProcedure,
    SupervisionRecord,
)
from yiwang.cases.services import case_owner_q, staff_may_see
from yiwang.cases.services import current_materials as current_materials  # the services' reading, for the pages
from yiwang.common.errors import NotFound
from yiwang.identity import authz


def my_cases(actor: Any, *, drafts: bool = False) -> QuerySet[Case]:
    """The applicant's cases, newest first (drafts only when asked)."""
    cases = Case.objects.filter(case_owner_q(actor))
    cases = cases.filter(status=CaseStatus.DRAFT) if drafts else cases.exclude(status=CaseStatus.DRAFT)
    # Lists show none of the encrypted columns: not decrypting them is a third of a list's Django time.
    return (
        cases.select_related("bundle_application__bundle")
        .defer("applicant_id_number", "data", "auto_findings")
        .order_by("-created_at", "-id")
    )


def case_for_applicant(actor: Any, number_or_id: str | int) -> Case:
    lookup = {"pk": number_or_id} if isinstance(number_or_id, int) else {"number": number_or_id}
    case = (
        Case.objects.filter(case_owner_q(actor), **lookup)
        .select_related("version", "department", "enterprise", "bundle_application")
        .first()
    )
    if case is None:
        raise NotFound(_("No such case."))
    return case


def case_for_staff(actor: Any, number: str) -> Case:
    case = Case.objects.filter(number=number).select_related("version", "department", "enterprise").first()
    if case is None or not staff_may_see(actor, case):
        raise NotFound(_("No such case."))
    return case


def task_for_staff(actor: Any, task_id: int) -> CaseTask:
    task = CaseTask.objects.filter(pk=task_id).select_related("case", "department").first()
    subject = authz.subject_of(actor)
    if task is None or not (subject.is_admin or task.department_id == subject.department_id):
        raise NotFound(_("No such task."))
    return task


@dataclass(frozen=True)
class QueueFilter:
    colour: str = ""  # red | yellow | green
    step: str = ""
    mine: bool = False


def staff_queue(actor: Any, flt: QueueFilter | None = None, *, today: dt.date | None = None) -> QuerySet[CaseTask]:
    """The department's open tasks for the roles the actor holds, most urgent first."""
    flt = flt or QueueFilter()
    subject = authz.subject_of(actor)
    if not authz.allowed(actor, "cases.handle") or subject.department_id is None:
        return CaseTask.objects.none()
    tasks = CaseTask.objects.filter(department_id=subject.department_id, status=TaskStatus.OPEN)
    if not subject.is_admin:
        tasks = tasks.filter(role__in=sorted(subject.roles))
    today = today or timezone.localdate()
    if flt.colour:
        # A case whose clock stands still (a non-counting special procedure) has no deadline colour: its row says
        # "clock stopped" and supervision raises no warning for it (cases.progress, cases.supervision).
        tasks = tasks.filter(case__paused_since__isnull=True)
    if flt.colour == "red":
        tasks = tasks.filter(due__lt=today)
    elif flt.colour == "yellow":
        tasks = tasks.filter(due__gte=today, due__lte=supervision.threshold(today))
    elif flt.colour == "green":
        tasks = tasks.filter(Q(due__gt=supervision.threshold(today)) | Q(due__isnull=True))
    if flt.step:
        tasks = tasks.filter(step_code=flt.step)
    if flt.mine:
        tasks = tasks.filter(assignee_id=subject.user.pk if subject.user else None)
    # Queues show the ID number masked (its clear-text masked column): nothing encrypted is loaded or decrypted.
    return (
        tasks.select_related("case", "assignee")
        .defer("case__data", "case__auto_findings", "case__applicant_id_number")
        .order_by("due", "id")
    )


# What a queue page shows of a task, its case and who took it: loading only these makes a 50-row page's Django
# time 40 % shorter (docs/performance.md). The query-count test of the queue page fails if a row needs more.
QUEUE_PAGE_FIELDS = (
    "id", "case_id", "step_index", "step_code", "step_name", "step_name_en", "role", "department_id", "status",
    "assignee_id", "claimed_at", "started_on", "days", "due", "parallel", "revision",
    "case__number", "case__status", "case__paused_since", "case__item_name", "case__applicant_name",
    "case__applicant_id_masked",
    "assignee__username", "assignee__first_name", "assignee__last_name",
)  # fmt: skip


def queue_page(actor: Any, flt: QueueFilter | None = None, *, today: dt.date | None = None) -> QuerySet[CaseTask]:
    """``staff_queue`` for a page of rows: the same tasks in the same order, only the columns a row shows."""
    return staff_queue(actor, flt, today=today).only(*QUEUE_PAGE_FIELDS)


def queue_counts(actor: Any, flt: QueueFilter, *, today: dt.date, covered: bool = True) -> dict[str, int]:
    """How many tasks ``flt``'s queue holds in all and per deadline colour (one aggregate, not one per colour).

    Without calendar cover (``covered`` false) yellow and green are unknown and counted as 0.
    """
    tasks = staff_queue(actor, QueueFilter(step=flt.step, mine=flt.mine), today=today).order_by()
    counts: dict[str, Any] = {"all": Count("id"), "red": Count("id", filter=Q(due__lt=today))}
    if covered:
        limit = supervision.threshold(today)
        counts["yellow"] = Count("id", filter=Q(due__gte=today, due__lte=limit))
        counts["green"] = Count("id", filter=Q(due__gt=limit) | Q(due__isnull=True))
    found = tasks.aggregate(**counts)
    # Paused cases' tasks count in "all" but in no colour (as the colour filters above). They are few: a second
    # query from the small partial index of paused cases keeps the main count an index-only scan of tasks.
    colours = [c for c in ("red", "yellow", "green") if c in counts]
    paused = tasks.filter(case__paused_since__isnull=False).aggregate(**{c: counts[c] for c in colours})
    for colour in colours:
        found[colour] -= paused[colour]
    return {"": found["all"], "red": found["red"], "yellow": found.get("yellow", 0), "green": found.get("green", 0)}


def department_cases(actor: Any) -> QuerySet[Case]:
    """Every case the actor's department is involved in (accepting it or holding a task), newest first."""
    subject = authz.subject_of(actor)
    if subject.is_admin:
        return Case.objects.exclude(status=CaseStatus.DRAFT).order_by("-created_at")
    if not authz.allowed(actor, "cases.handle") or subject.department_id is None:
        return Case.objects.none()
    involved = CaseTask.objects.filter(department_id=subject.department_id).values("case_id")
    return (
        Case.objects.filter(Q(department_id=subject.department_id) | Q(pk__in=involved))
        .exclude(status=CaseStatus.DRAFT)
        .order_by("-created_at", "-id")
    )


def timeline(case: Case) -> list[Any]:
    # The actor's account too: both timelines name who acted (an agent, a department) per row.
    return list(case.transitions.select_related("department", "actor__account").order_by("at", "id"))


def notices(case: Case) -> list[Notice]:
    return list(case.notices.order_by("issued_at", "id"))


def supervision_records(actor: Any, *, level: str = "", status: str = "") -> QuerySet[SupervisionRecord]:
    if not authz.allowed(actor, "cases.supervise"):
        return SupervisionRecord.objects.none()
    records = SupervisionRecord.objects.filter(
        authz.scope_q(actor, "cases.supervise", division_field="region_code")
    ).select_related("case", "department", "task")
    if level:
        records = records.filter(level=level)
    if status:
        records = records.filter(status=status)
    return records.order_by("-raised_at", "-id")


def supervision_record(actor: Any, record_id: int) -> SupervisionRecord:
    record = supervision_records(actor).filter(pk=record_id).first()
    if record is None:
        raise NotFound(_("No such supervision record."))
    return record


@dataclass(frozen=True)
class DepartmentLoad:
    department_id: int
    department_name: str
    open_tasks: int
    yellow: int
    red: int


def region_overview(actor: Any, *, today: dt.date | None = None) -> list[DepartmentLoad]:
    """Open tasks by department in the supervisor's region, with how many are near or past their deadline."""
    if not authz.allowed(actor, "cases.supervise"):
        return []
    today = today or timezone.localdate()
    limit = supervision.threshold(today)
    rows = (
        CaseTask.objects.filter(status=TaskStatus.OPEN)
        .filter(authz.scope_q(actor, "cases.supervise", division_field="case__region_code"))
        .values("department_id", "department__name")
        .annotate(
            open_tasks=Count("id"),
            red=Count("id", filter=Q(due__lt=today)),
            yellow=Count("id", filter=Q(due__gte=today, due__lte=limit)),
        )
        .order_by("-red", "-yellow", "department__name")
    )
    return [
        DepartmentLoad(r["department_id"], r["department__name"], r["open_tasks"], r["yellow"], r["red"]) for r in rows
    ]


def open_supervision_count(actor: Any) -> int:
    return supervision_records(actor, status=SupervisionStatus.OPEN).count()


_LEAST_ADVANCED_FIRST = (
    CaseStatus.CORRECTION,
    CaseStatus.SUBMITTED,
    CaseStatus.ACCEPTED,
    CaseStatus.DECIDED,
    CaseStatus.DELIVERED,
)


def combined_statuses(application_ids: Iterable[int]) -> dict[int, str]:
    """One status per bundle application across its cases (the least advanced one leads), in one query."""
    found: dict[int, set[str]] = {}
    rows = Case.objects.filter(bundle_application_id__in=list(application_ids)).values_list(
        "bundle_application_id", "status"
    )
    for application_id, status in rows:
        found.setdefault(application_id, set()).add(status)
    combined = {}
    for application_id, statuses in found.items():
        leading = next((s for s in _LEAST_ADVANCED_FIRST if s in statuses), None)
        combined[application_id] = str(leading or next(iter(statuses)))
    return combined


def combined_status(application: BundleApplication) -> str:
    """One status for the applicant across a bundle's cases: the least advanced one leads."""
    return combined_statuses([application.pk]).get(application.pk, str(CaseStatus.SUBMITTED))


# --- the parts of one case, for the case pages (the case itself is one the viewer may see) ---------------


def case_tasks(case: Case) -> list[CaseTask]:
    """Every task of the case, open or not, with its department and people, in step order."""
    return list(case.tasks.select_related("department", "assignee", "completed_by").order_by("step_index", "id"))


def superseded_materials(case: Case) -> list[CaseMaterial]:
    """Materials replaced by a correction: kept so that staff see what changed."""
    return list(case.materials.filter(superseded=True).select_related("file").order_by("slot", "id"))


def material_with_file(case: Case, material_id: int) -> CaseMaterial | None:
    """A material of ``case`` (current or superseded) that has a file, with the file."""
    return case.materials.filter(pk=material_id, file__isnull=False).select_related("file").first()


def applicant_notice(case: Case, number: str) -> Notice | None:
    """A notice of ``case`` issued to the applicant (a supervision notice is the department's)."""
    if len(number) > 40:  # Notice.number
        return None
    return case.notices.exclude(kind=NoticeKind.SUPERVISION).filter(number=number).first()


def latest_notice(case: Case, kind: str) -> Notice | None:
    return case.notices.filter(kind=kind).order_by("-issued_at", "-id").first()


def latest_transition(case: Case, action: str) -> CaseTransition | None:
    return case.transitions.filter(action=action).order_by("-at", "-id").first()


def special_procedures(case: Case) -> list[SpecialProcedure]:
    return list(case.special_procedures.order_by("started_on", "id"))


def case_supervision(case: Case) -> list[SupervisionRecord]:
    """The deadline warnings raised on ``case``, newest first, with who followed them up."""
    return list(case.supervision.select_related("department", "followed_by").order_by("-raised_at", "-id"))


def active_bundles() -> QuerySet[Bundle]:
    return Bundle.objects.filter(active=True).order_by("code")


def active_bundle(code: str) -> Bundle | None:
    return Bundle.objects.filter(code=code, active=True).first() if len(code) <= 60 else None  # Bundle.code
