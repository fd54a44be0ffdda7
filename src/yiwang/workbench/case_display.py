"""What the staff case pages show, read from the cases domain: the process flow diagram, the form data with its
labels, the materials and what changed, the timeline as staff see it, and which actions the viewer has on a case.

Reads only. Which cases and tasks a viewer reaches is decided by ``cases.selectors`` (and the services they
call); this module only shapes what those return for the templates. Which actions are *offered* mirrors the
checks the services make (role, department, step), so a button is never shown that the service would refuse
for who the viewer is — the services remain the authority and refuse anyway.

Deadline states come from ``cases.progress`` and the history from ``cases.history``, as on the applicant's
pages. The case page reads each part of a case once (its tasks, materials, history, procedures) and hands the
lists to the functions here.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence, Set
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from yiwang.cases import history, notify, progress, rules, selectors, services
from yiwang.cases.constants import (
    CaseStatus,
    DeliveryMethod,
    ProcedureKind,
    StepCode,
    TaskStatus,
)
from yiwang.cases.models import Case, CaseMaterial, CaseTask, CaseTransition, SpecialProcedure
from yiwang.catalogue import forms as item_forms
from yiwang.catalogue.handling import ID_NUMBER_PATTERN, PHONE_PATTERN, HandlingDefinition
from yiwang.catalogue.models import ItemVersion, Organisation
from yiwang.common.masking import mask_id_number, mask_phone
from yiwang.identity import authz
from yiwang.identity.constants import AccountKind, Role
from yiwang.identity.models import account_of
from yiwang.portal.flow import wrap
from yiwang.sharing import once_only

# ---------------------------------------------------------------------------------------------------------
# Deadline colours (电子监察: red overdue, yellow within the warning window, green otherwise; cases.progress)
# ---------------------------------------------------------------------------------------------------------

COLOUR_LABELS: dict[str, Promise] = {
    "red": gettext_lazy("Overdue"),
    "yellow": gettext_lazy("Due soon"),
    "green": gettext_lazy("On time"),
}
COLOURS = progress.COLOURS


# ---------------------------------------------------------------------------------------------------------
# Navigation and the home page
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PageLink:
    url_name: str
    title: Promise
    action: str  # the authz action that opens the page


CASE_PAGES = (
    PageLink("workbench:queue", gettext_lazy("My queue"), "cases.handle"),
    PageLink("workbench:cases", gettext_lazy("Cases"), "cases.handle"),
    PageLink("workbench:walk_in", gettext_lazy("Walk-in application"), "cases.accept"),
    PageLink("workbench:supervision", gettext_lazy("Supervision"), "cases.supervise"),
)


def case_pages_for(user: Any) -> list[PageLink]:
    return [p for p in CASE_PAGES if authz.allowed(user, p.action)]


@dataclass(frozen=True)
class QueueSummary:
    total: int
    red: int
    yellow: int


def queue_summary(actor: Any) -> QueueSummary | None:
    """How many open tasks wait in the actor's queue, and how many are overdue or near their deadline."""
    if not authz.allowed(actor, "cases.handle"):
        return None
    now = progress.clock()
    counts = queue_counts(actor, selectors.QueueFilter(), now)
    return QueueSummary(counts[""], counts["red"], counts["yellow"])


def queue_counts(actor: Any, flt: selectors.QueueFilter, now: progress.Clock) -> dict[str, int]:
    """How many tasks the queue holds with ``flt``'s step and owner, in all and per deadline colour."""
    return selectors.queue_counts(actor, flt, today=now.today, covered=now.covered)


# ---------------------------------------------------------------------------------------------------------
# The process flow diagram
# ---------------------------------------------------------------------------------------------------------

STATE_LABELS: dict[str, Promise] = {
    "done": pgettext_lazy("flow state", "Done"),
    "current": pgettext_lazy("flow state", "In progress"),
    "waiting": gettext_lazy("Awaiting corrections"),
    "pending": pgettext_lazy("flow state", "Not started"),
    "returned": pgettext_lazy("flow state", "Returned"),
    "cancelled": pgettext_lazy("flow state", "Cancelled"),
    "stopped": pgettext_lazy("flow state", "Stopped"),
}

FLOW_COLUMN = 176
FLOW_GAP = 40
FLOW_MARGIN = 8
FLOW_LANE_GAP = 10
NAME_SIZE = 13
NAME_LINE = 17
DETAIL_SIZE = 11
DETAIL_LINE = 15
TEXT_WIDTH = FLOW_COLUMN - 16


@dataclass(frozen=True)
class FlowText:
    x: int
    y: int
    text: str
    css: str


@dataclass(frozen=True)
class FlowBox:
    name: str
    department: str
    state: str
    x: int
    y: int
    width: int
    height: int
    texts: tuple[FlowText, ...]

    @property
    def state_label(self) -> str:
        return str(STATE_LABELS[self.state])

    @property
    def current(self) -> bool:
        return self.state in ("current", "waiting")


@dataclass(frozen=True)
class FlowArrow:
    path: str


@dataclass(frozen=True)
class FlowStage:
    """One column: a step and, for a joint step, one box per department (the parallel lanes)."""

    name: str
    boxes: tuple[FlowBox, ...]


@dataclass(frozen=True)
class Flow:
    stages: tuple[FlowStage, ...]
    arrows: tuple[FlowArrow, ...]
    width: int
    height: int

    @property
    def boxes(self) -> list[FlowBox]:
        return [box for stage in self.stages for box in stage.boxes]

    @property
    def summary(self) -> str:
        """The whole diagram in words, for the SVG's description (screen readers) and print."""
        parts = []
        for stage in self.stages:
            if len(stage.boxes) > 1:
                lanes = "; ".join(f"{b.department}: {b.state_label}" for b in stage.boxes)
                parts.append(f"{stage.name} ({lanes})")
            else:
                parts.append(f"{stage.name}: {stage.boxes[0].state_label}")
        return " → ".join(parts)


@dataclass(frozen=True)
class _Lane:
    department: str
    state: str


def _steps(case: Case, handling: HandlingDefinition) -> list[dict[str, Any]]:
    steps = list(handling.steps)
    return steps or [dict(services.ON_THE_SPOT)]  # 即办: one decision on the spot at the window


def _acceptance_state(case: Case) -> str:
    if case.status == CaseStatus.SUBMITTED:
        return "current"
    if case.status == CaseStatus.CORRECTION:
        return "waiting"
    if case.status == CaseStatus.REFUSED or (case.status == CaseStatus.WITHDRAWN and case.accepted_on is None):
        return "stopped"
    return "done" if case.accepted_on is not None else "pending"


def _task_state(task: CaseTask) -> str:
    if task.status == TaskStatus.OPEN:
        return "current"
    if task.status == TaskStatus.DONE:
        return "done"
    return "returned" if task.returned else "cancelled"


def _lanes(case: Case, index: int, step: Mapping[str, Any], tasks: Sequence[CaseTask], language: str) -> list[_Lane]:
    """Each department's latest task of step ``index`` (a returned step is opened again: the latest counts)."""
    latest: dict[int, CaseTask] = {}
    for task in tasks:
        if task.step_index == index and (task.department_id not in latest or task.pk > latest[task.department_id].pk):
            latest[task.department_id] = task
    if not latest:
        lead = case.department.display_name(language)
        if step.get("parallel"):
            others = [str(b.get("name", "")) for b in case.version.content.get("co_implementing_bodies") or []]
            return [_Lane(name, "pending") for name in [lead, *(o for o in others if o and o != case.department.name)]]
        return [_Lane(lead, "pending")]
    # The lead department first, then the co-implementing bodies by name.
    ordered = sorted(latest.values(), key=lambda t: (t.department_id != case.department_id, t.department.name))
    return [_Lane(t.department.display_name(language), _task_state(t)) for t in ordered]


def _box_texts(
    x: int, y: int, height: int, name: str, department: str, state: str, show_department: bool
) -> list[FlowText]:
    centre = x + FLOW_COLUMN // 2
    texts = []
    lines = wrap(name, NAME_SIZE, TEXT_WIDTH, max_lines=2)
    content = _box_height(len(lines), show_department) - 16
    line_y = y + (height - content) // 2 + NAME_SIZE  # the text block centred in the box
    for line in lines:
        texts.append(FlowText(centre, line_y, line, "flow-name"))
        line_y += NAME_LINE
    if show_department:
        texts.append(FlowText(centre, line_y, wrap(department, DETAIL_SIZE, TEXT_WIDTH, 1)[0], "flow-department"))
        line_y += DETAIL_LINE
    texts.append(FlowText(centre, line_y, str(STATE_LABELS[state]), "flow-state"))
    return texts


def _box_height(name_lines: int, show_department: bool) -> int:
    return 8 + name_lines * NAME_LINE + (DETAIL_LINE if show_department else 0) + DETAIL_LINE + 8


def flow(case: Case, language: str, tasks: Sequence[CaseTask], handling: HandlingDefinition) -> Flow:
    """Acceptance → the item's steps (joint steps as parallel lanes, one per department) → delivery.

    ``tasks``: every task of the case (``selectors.case_tasks``); ``handling``: its item's (``handling_for``)."""
    columns: list[tuple[str, list[_Lane], bool]] = [
        (str(StepCode.ACCEPT.label), [_Lane(case.department.display_name(language), _acceptance_state(case))], False)
    ]
    for index, step in enumerate(_steps(case, handling), start=1):
        lanes = _lanes(case, index, step, tasks, language)
        columns.append((HandlingDefinition.step_label(step, language), lanes, len(lanes) > 1))
    if case.status == CaseStatus.DELIVERED:
        delivery = "done"
    elif case.status == CaseStatus.DECIDED:
        delivery = "current"
    else:
        delivery = "pending"
    columns.append((_("Delivery of the result"), [_Lane(case.department.display_name(language), delivery)], False))

    name_lines = max(len(wrap(name, NAME_SIZE, TEXT_WIDTH, max_lines=2)) for name, _lanes, _shown in columns)
    any_lanes = any(shown for _name, _lanes, shown in columns)
    box_height = _box_height(name_lines, any_lanes)
    tallest = max(len(lanes) for _name, lanes, _shown in columns)
    inner = tallest * box_height + (tallest - 1) * FLOW_LANE_GAP
    stages = []
    for position, (name, lanes, shown) in enumerate(columns):
        x = FLOW_MARGIN + position * (FLOW_COLUMN + FLOW_GAP)
        column_height = len(lanes) * box_height + (len(lanes) - 1) * FLOW_LANE_GAP
        top = FLOW_MARGIN + (inner - column_height) // 2
        boxes = []
        for lane_index, lane in enumerate(lanes):
            y = top + lane_index * (box_height + FLOW_LANE_GAP)
            texts = _box_texts(x, y, box_height, name, lane.department, lane.state, shown)
            boxes.append(FlowBox(name, lane.department, lane.state, x, y, FLOW_COLUMN, box_height, tuple(texts)))
        stages.append(FlowStage(name, tuple(boxes)))
    arrows = []
    for left, right in itertools.pairwise(stages):
        for a in left.boxes:
            for b in right.boxes:
                start_x, start_y = a.x + a.width, a.y + a.height // 2
                end_x, end_y = b.x - 3, b.y + b.height // 2
                middle = start_x + FLOW_GAP // 2
                arrows.append(FlowArrow(f"M{start_x} {start_y} H{middle} V{end_y} H{end_x}"))
    width = 2 * FLOW_MARGIN + len(stages) * FLOW_COLUMN + (len(stages) - 1) * FLOW_GAP
    return Flow(tuple(stages), tuple(arrows), width, inner + 2 * FLOW_MARGIN)


# ---------------------------------------------------------------------------------------------------------
# The form data, materials and what changed
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldRow:
    name: str
    label: str
    value: str
    changed: bool
    masked: bool


def _kind_of_identifier(name: str, prop: Mapping[str, Any]) -> str:
    """Whether a form field holds an ID number or a phone number (shown masked to those who may not see them)."""
    if prop.get("x-prefill") == "person.id_number" or prop.get("pattern") == ID_NUMBER_PATTERN:
        return "id"
    if name.endswith("id_number"):
        return "id"
    if prop.get("x-prefill") == "account.phone" or prop.get("pattern") == PHONE_PATTERN or name == "phone":
        return "phone"
    return ""


def _shown(prop: Mapping[str, Any], value: Any, language: str) -> str:
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    labels = dict(item_forms.choice_labels(prop, language))
    if isinstance(value, list):
        return ", ".join(labels.get(str(v), str(v)) for v in value)
    return labels.get(str(value), str(value))


def form_rows(
    case: Case, handling: HandlingDefinition, language: str, *, identifiers: bool, changed: Set[str] = frozenset()
) -> list[FieldRow]:
    """The form's fields (``handling``: the item's, ``handling_for``) with the case's values; ``changed``: those
    the latest resubmission changed (``history.changed_fields``)."""
    rows = []
    for name, prop in handling.properties.items():
        value = case.data.get(name)
        kind = _kind_of_identifier(name, prop)
        masked = bool(kind) and not identifiers and isinstance(value, str) and bool(value)
        if masked:
            text = mask_id_number(value) if kind == "id" else mask_phone(value)
        else:
            text = _shown(prop, value, language)
        rows.append(FieldRow(name, handling.label(name, language), text, name in changed, masked))
    return rows


@dataclass(frozen=True)
class MaterialRow:
    slot: int
    name: str
    required: bool
    material: CaseMaterial | None
    new_in_round: bool  # arrived in this submission round, after a correction notice
    shared: once_only.SharedProvenance | None = None  # fetched from shared data: resource, grant, access record

    @property
    def provided(self) -> bool:
        return self.material is not None


def material_rows(case: Case, materials: Iterable[CaseMaterial], language: str | None = None) -> list[MaterialRow]:
    """One row per material slot of the item, with what fills it now (``materials``: the case's current
    materials, ``selectors.current_materials``) or nothing; a material fetched from shared data with where
    it came from."""
    current = {m.slot: m for m in materials}
    shared = once_only.provenance_of(current.values(), language)
    rows = []
    for slot, spec in enumerate(services.material_slots(case)):
        material = current.pop(slot, None)
        new = material is not None and case.round > 1 and material.round == case.round
        found = shared.get(material.pk) if material is not None else None
        rows.append(MaterialRow(slot, str(spec.get("name", "")), bool(spec.get("required")), material, new, found))
    return rows


@dataclass(frozen=True)
class Finding:
    text: str
    slot: int | None


def findings(case: Case) -> list[Finding]:
    return [Finding(rules.describe(f), f.get("slot")) for f in case.auto_findings or []]


# ---------------------------------------------------------------------------------------------------------
# The correction form (一次性告知: every problem in one notice)
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProblemRow:
    key: str  # "slot-0", "field-phone": the posted names are problem-<key> and reason-<key>
    subject: str
    detail: str  # what is there now: the file's name, or the field's value
    checked: bool
    reason: str
    automatic: bool  # ticked by the automatic pre-review


def correction_rows(
    case: Case,
    material_rows: Sequence[MaterialRow],
    form_rows: Sequence[FieldRow],
    *,
    posted: Mapping[str, Any] | None = None,
) -> tuple[list[ProblemRow], list[ProblemRow]]:
    """The material and form-field rows of the correction form (from the page's ``material_rows`` and
    ``form_rows``): automatic findings pre-ticked with their text as the reason; after a refused attempt, what
    the clerk posted."""
    auto: dict[int, list[str]] = {}
    for finding in findings(case):
        if finding.slot is not None:
            auto.setdefault(finding.slot, []).append(finding.text)

    def row(key: str, subject: str, detail: str, default_reasons: list[str]) -> ProblemRow:
        if posted is not None:
            return ProblemRow(
                key,
                subject,
                detail,
                f"problem-{key}" in posted,
                str(posted.get(f"reason-{key}", "")),
                bool(default_reasons),
            )
        automatic = bool(default_reasons)
        return ProblemRow(key, subject, detail, automatic, "；".join(default_reasons), automatic)

    materials = []
    for material in material_rows:
        detail = ""
        if material.material is not None:
            file = material.material.file
            detail = file.original_name if file is not None else material.material.get_provenance_display()
        else:
            detail = _("Not provided")
        materials.append(row(f"slot-{material.slot}", material.name, detail, auto.get(material.slot, [])))
    fields = [row(f"field-{r.name}", r.label, r.value, []) for r in form_rows]
    return materials, fields


# ---------------------------------------------------------------------------------------------------------
# The timeline
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineEntry:
    event: history.Event
    who: str
    department: str


def _who(transition: CaseTransition) -> str:
    """A person by their real name (their user name is a pseudonym); staff by name; the system by its label."""
    user = transition.actor
    if user is None:
        return transition.actor_label
    account = account_of(user)
    if account is not None and account.kind == AccountKind.PERSON and account.real_name:
        return account.real_name
    return user.get_full_name() or transition.actor_label


def timeline(events: Iterable[history.Event], language: str) -> list[TimelineEntry]:
    """The case's history as staff see it: who acted by name, for whom, and in which department."""
    return [
        TimelineEntry(
            event,
            _who(event.transition),
            event.transition.department.display_name(language) if event.transition.department else "",
        )
        for event in events
    ]


# ---------------------------------------------------------------------------------------------------------
# What the viewer may do on the case
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskActions:
    task: CaseTask
    claim: bool
    pre_review: bool  # correction notice, accept, refuse (the window's acceptance task)
    complete: bool
    send_back: bool
    decide: bool
    assign: bool
    colleagues: tuple[User, ...] = ()


@dataclass(frozen=True)
class CaseActions:
    tasks: tuple[TaskActions, ...] = ()
    procedure_names: tuple[str, ...] = ()
    start_procedure: bool = False
    end_procedure: bool = False
    running_procedure: SpecialProcedure | None = None
    extend: bool = False
    deliver: bool = False
    mail: bool = False
    max_extension_days: int = field(default_factory=services.max_extension_days)

    @property
    def any(self) -> bool:
        return bool(self.tasks or self.start_procedure or self.end_procedure or self.extend or self.deliver)

    @property
    def pre_review(self) -> TaskActions | None:
        return next((t for t in self.tasks if t.pre_review), None)


def _may_work_on(actor: Any, task: CaseTask) -> bool:
    """As ``cases.services._check_task``: the task's department (in the actor's region) and its role."""
    department = task.department
    return authz.allowed(
        actor, "cases.handle", department_id=department.pk, division_code=department.division_id
    ) and authz.has_role(actor, task.role)


def colleagues(task: CaseTask, actor: Any) -> list[User]:
    """Members of the task's department holding the step's role (whom an approver may hand it to)."""
    return [u for u in notify.department_staff(task.department, task.role) if u.pk not in (task.assignee_id, actor.pk)]


def procedure_names(case: Case) -> tuple[str, ...]:
    """The special procedures the item lists, by name."""
    listed = case.version.content.get("special_procedures") or []
    return tuple(str(p["name"]) for p in listed if isinstance(p, dict) and p.get("name"))


def actions(actor: Any, case: Case, tasks: Sequence[CaseTask], procedures: Sequence[SpecialProcedure]) -> CaseActions:
    """What ``actor`` may do on ``case``, given its tasks (``selectors.case_tasks``) and special procedures
    (``selectors.special_procedures``)."""
    subject = authz.subject_of(actor)
    open_tasks = [
        t
        for t in sorted(tasks, key=lambda t: t.pk)
        if t.status == TaskStatus.OPEN
        and (subject.is_admin or t.department_id == subject.department_id)
        and _may_work_on(actor, t)
    ]
    approver = authz.has_role(actor, Role.APPROVER)
    own = []
    for task in open_tasks:
        accepting = task.step_code == StepCode.ACCEPT
        handling = not accepting and task.step_code != StepCode.DECIDE
        own.append(
            TaskActions(
                task=task,
                claim=task.assignee_id is None,
                pre_review=accepting and case.status == CaseStatus.SUBMITTED,
                complete=handling,
                send_back=not accepting and task.step_index > 1,
                decide=task.step_code == StepCode.DECIDE,
                assign=approver,
                colleagues=tuple(colleagues(task, actor)) if approver else (),
            )
        )
    handling_tasks = [t for t in open_tasks if t.step_code != StepCode.ACCEPT]
    running = next((p for p in procedures if p.ended_on is None and p.kind == ProcedureKind.OTHER), None)
    names = procedure_names(case)
    accepted = case.status == CaseStatus.ACCEPTED
    delivering = case.status == CaseStatus.DECIDED and case.delivery_method in (
        DeliveryMethod.PICKUP,
        DeliveryMethod.MAIL,
    )
    return CaseActions(
        tasks=tuple(own),
        procedure_names=names,
        start_procedure=accepted and bool(handling_tasks) and bool(names) and running is None,
        end_procedure=accepted and bool(handling_tasks) and running is not None,
        running_procedure=running,
        extend=accepted and bool(handling_tasks) and approver,
        deliver=delivering
        and authz.allowed(actor, "cases.accept", department_id=case.department_id, division_code=case.region_code),
        mail=case.delivery_method == DeliveryMethod.MAIL,
    )


# ---------------------------------------------------------------------------------------------------------
# The walk-in application and the supervision chart
# ---------------------------------------------------------------------------------------------------------


def walk_in_items(actor: Any) -> list[ItemVersion]:
    """The items the clerk's department offers now (current published versions), by name."""
    department_id = authz.subject_of(actor).department_id
    if department_id is None or not authz.allowed(actor, "cases.accept"):
        return []
    return list(
        ItemVersion.objects.current().filter(department_id=department_id).select_related("department").order_by("name")
    )


CHART_LABEL_WIDTH = 210
CHART_BAR_SPACE = 330
CHART_ROW_HEIGHT = 34
CHART_LABEL_SIZE = 12


@dataclass(frozen=True)
class LoadBar:
    department: str
    label: str  # shortened to fit beside the bars
    red: int
    yellow: int
    other: int
    y: int
    red_width: float
    yellow_width: float
    other_width: float

    @property
    def total(self) -> int:
        return self.red + self.yellow + self.other

    @property
    def yellow_x(self) -> float:
        return CHART_LABEL_WIDTH + self.red_width

    @property
    def other_x(self) -> float:
        return CHART_LABEL_WIDTH + self.red_width + self.yellow_width

    @property
    def end_x(self) -> float:  # where the total is written
        return CHART_LABEL_WIDTH + self.red_width + self.yellow_width + self.other_width + 6


def load_bars(rows: Iterable[selectors.DepartmentLoad], language: str) -> list[LoadBar]:
    """Stacked bars of open tasks per department: overdue (red), near the deadline (yellow), the rest."""
    rows = list(rows)
    english = (
        dict(Organisation.objects.filter(pk__in=[r.department_id for r in rows]).values_list("pk", "name_en"))
        if language == "en"
        else {}
    )
    most = max([1, *(r.open_tasks for r in rows)])
    bars = []
    for index, row in enumerate(rows):
        name = english.get(row.department_id) or row.department_name
        other = max(row.open_tasks - row.red - row.yellow, 0)
        bars.append(
            LoadBar(
                department=name,
                label=wrap(name, CHART_LABEL_SIZE, CHART_LABEL_WIDTH - 10, max_lines=1)[0],
                red=row.red,
                yellow=row.yellow,
                other=other,
                y=index * CHART_ROW_HEIGHT,
                red_width=round(row.red / most * CHART_BAR_SPACE, 1),
                yellow_width=round(row.yellow / most * CHART_BAR_SPACE, 1),
                other_width=round(other / most * CHART_BAR_SPACE, 1),
            )
        )
    return bars
