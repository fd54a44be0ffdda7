"""The applicant's case pages (我要办, 我的办件): apply, the draft editor, my cases, a case, its notices and
materials, and one-thing bundles (一件事一次办).

Views stay thin: every write is one ``cases.services`` call and every read of a case goes through
``cases.selectors`` (scoped to the applicant side), so another person's case is simply "not found". Pages are
for persons only: staff accounts get "not found" too (they work on cases in the workbench). When the signed-in
person acts for a principal (``identity.acting``), applications are made for that principal.

What is computed here is presentation only: the progress diagram (inline SVG), "what to do next", who the
timeline names, the merged form and material list of a bundle. Deadline states come from ``cases.progress`` and
the history from ``cases.history``, as on the staff pages; the templates put them in the applicant's words.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import wraps
from typing import Any, cast
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import escape
from django.utils.http import content_disposition_header
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import pgettext, pgettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from yiwang.cases import documents, history, machine, progress, selectors, services
from yiwang.cases.constants import (
    CaseStatus,
    DeliveryMethod,
    NoticeKind,
    Provenance,
    TaskStatus,
    TrustLevel,
)
from yiwang.cases.models import Bundle, BundleApplication, Case, CaseMaterial, CaseTransition, Notice
from yiwang.catalogue import forms as item_forms
from yiwang.catalogue import selectors as catalogue_selectors
from yiwang.catalogue.handling import HandlingDefinition, handling_for
from yiwang.catalogue.models import ItemVersion
from yiwang.common.errors import DomainError, InvalidInput, NotFound
from yiwang.common.masking import mask_name
from yiwang.identity import acting, authz
from yiwang.identity.constants import AccountKind
from yiwang.identity.models import account_of
from yiwang.licences.models import Licence
from yiwang.portal.flow import wrap
from yiwang.portal.labels import language
from yiwang.portal.views import not_found
from yiwang.sharing import once_only

View = Callable[..., HttpResponseBase]

PAGE_SIZE = 25
EDITABLE = (CaseStatus.DRAFT, CaseStatus.CORRECTION)
# What the upload inputs offer; the service judges the bytes, never the name (cases.services.store_file).
UPLOAD_ACCEPT = ".pdf,.jpg,.jpeg,.png,.ofd"
DELIVERY_FIELDS = frozenset({"delivery_method", "delivery_address"})
MAX_KEY_LENGTH = 64  # Case.idempotency_key
# Actions the applicant side takes themselves; every other move of a case is a department's (or the law's).
APPLICANT_ACTIONS = frozenset({"submit", "resubmit", "withdraw"})


# --- access -------------------------------------------------------------------------------------------


def _user(request: HttpRequest) -> User:
    # Only called behind login_required: a signed-in auth.User (wrapped lazily by django-otp).
    return cast(User, request.user)


def _is_person(user: Any) -> bool:
    return authz.subject_of(user).kind == AccountKind.PERSON


def applicant_page(view: View) -> View:
    """Signed-in persons only; staff accounts are told the page does not exist (it is not for them)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not _is_person(request.user):
            return not_found(request)
        return view(request, *args, **kwargs)

    return never_cache(login_required(wrapper))


def _agency_id(request: HttpRequest) -> int | None:
    """The agency the person acts under now (re-checked on every request), or None when acting for oneself."""
    agency = acting.current_agency(request)
    return agency.pk if agency is not None else None


def _error_text(exc: DomainError) -> str:
    """Every message of a refusal once, in order: the details name what is wrong, else the message does."""
    texts = list(dict.fromkeys(str(d.get("message") or "") for d in exc.details if d.get("message")))
    return " ".join(texts) if texts else str(exc.message)


def _case_url(case: Case) -> str:
    if case.number:
        return reverse("portal:case", args=[case.number])
    return reverse("portal:draft", args=[case.pk])


def _int(value: Any) -> int | None:
    text = str(value or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) < 10 else None


# --- "what next" ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class NextStep:
    text: str
    url: str = ""
    link_text: str = ""


def next_step(case: Case) -> NextStep:
    """What the applicant should do (or expect) now, in one sentence, with a link when there is something to do."""
    status = case.status
    if status == CaseStatus.DRAFT:
        return NextStep(
            _("Finish the form and the materials, then submit."),
            reverse("portal:draft", args=[case.pk]),
            _("Continue"),
        )
    if status == CaseStatus.CORRECTION:
        return NextStep(
            _("The department asks for corrections: correct everything the notice lists and resubmit."),
            reverse("portal:draft", args=[case.pk]),
            _("Make the corrections"),
        )
    if status == CaseStatus.SUBMITTED:
        if case.acceptance_due:
            return NextStep(
                _("Nothing to do: the department pre-reviews your application by %(date)s.")
                % {"date": _day(case.acceptance_due)}
            )
        return NextStep(_("Nothing to do: the department pre-reviews your application."))
    if status == CaseStatus.ACCEPTED:
        if case.paused_since is not None:
            return NextStep(_("Nothing to do: a special procedure is running and the time limit is paused."))
        if case.promised_due:
            return NextStep(
                _("Nothing to do: your application is being handled; the decision is promised by %(date)s.")
                % {"date": _day(case.promised_due)}
            )
        return NextStep(_("Nothing to do: your application is being handled."))
    if status == CaseStatus.DECIDED:
        if case.delivery_method == DeliveryMethod.PICKUP:
            return NextStep(_("A decision is made: collect the result at the service window."))
        if case.delivery_method == DeliveryMethod.MAIL:
            return NextStep(_("A decision is made: the result is being prepared for mailing to you."))
        return NextStep(_("A decision is made: the result will be delivered shortly."))
    if status == CaseStatus.DELIVERED:
        return NextStep(_("Done: the decision has reached you. Its notice is below."))
    if status == CaseStatus.REFUSED:
        return NextStep(_("Not accepted: the notice below gives the reasons and how to seek a remedy."))
    return NextStep(_("This application was withdrawn; nothing more happens to it."))


def _day(value: dt.date) -> str:
    return value.isoformat()


# --- the progress diagram -----------------------------------------------------------------------------


@dataclass(frozen=True)
class FlowNode:
    name: str
    state: str  # done, current, todo, stopped
    state_label: str


STATE_LABELS = {
    "done": pgettext_lazy("case progress", "done"),
    "current": pgettext_lazy("case progress", "current step"),
    "todo": pgettext_lazy("case progress", "still to come"),
    "stopped": pgettext_lazy("case progress", "ended here"),
}


def _step_names(handling: HandlingDefinition) -> list[str]:
    names = [pgettext("case progress", "Application"), pgettext("case progress", "Pre-review and acceptance")]
    if handling.immediate:
        names.append(pgettext("case progress", "Decided on the spot"))  # 即办件: decided at acceptance
    else:
        names += [handling.step_label(step, language()) for step in handling.steps]
    names += [pgettext("case progress", "Concluded"), pgettext("case progress", "Delivery")]
    return names


def _first_step(case: Case, status: str) -> int | None:
    """The lowest step index among the case's tasks in ``status``."""
    return min((t.step_index for t in selectors.case_tasks(case) if t.status == status), default=None)


def progress_nodes(case: Case, handling: HandlingDefinition) -> list[FlowNode]:
    """申请 → 预审受理 → the item's steps (or 当场决定) → 办结 → 送达, each done, current, to come or where it ended.

    Node ``1 + task.step_index`` is a task's step (0 is the window's pre-review), so the open task says where
    an accepted case is; a withdrawn case ended where its tasks were cancelled.
    """
    names = _step_names(handling)
    last = len(names) - 1
    status = case.status
    stopped = False
    if status == CaseStatus.DRAFT:
        current = 0
    elif status in (CaseStatus.SUBMITTED, CaseStatus.CORRECTION):
        current = 1
    elif status == CaseStatus.ACCEPTED:
        first = _first_step(case, TaskStatus.OPEN)
        current = min(1 + first, last - 2) if first is not None else 2
    elif status == CaseStatus.DECIDED:
        current = last
    elif status == CaseStatus.DELIVERED:
        current = last + 1
    elif status == CaseStatus.REFUSED:
        current, stopped = 1, True
    else:  # withdrawn
        first = _first_step(case, TaskStatus.CANCELLED)
        current, stopped = (min(1 + first, last - 2) if first is not None else 1), True
    nodes = []
    for index, name in enumerate(names):
        if index < current:
            state = "done"
        elif index == current:
            state = "stopped" if stopped else "current"
        else:
            state = "todo"
        nodes.append(FlowNode(name, state, str(STATE_LABELS[state])))
    return nodes


BOX_WIDTH = 132
BOX_GAP = 30
NAME_SIZE = 14
NAME_LINE = 18
BOX_PADDING = 34  # room for the tick or the step number above the name


def progress_svg(nodes: Sequence[FlowNode], *, title: str) -> SafeString:
    """The progress as boxes joined by arrows; the current box filled, done ones ticked, an ended one crossed.

    Drawn server-side (no script, no font download); the page also lists the steps as text for screen readers
    and narrow screens, so the drawing itself is one labelled image.
    """
    lines = [wrap(node.name, NAME_SIZE, width=BOX_WIDTH - 16, max_lines=3) for node in nodes]
    box_height = BOX_PADDING + max(len(x) for x in lines) * NAME_LINE + 10
    width = len(nodes) * BOX_WIDTH + (len(nodes) - 1) * BOX_GAP + 4
    height = box_height + 4
    summary = "; ".join(f"{node.name}: {node.state_label}" for node in nodes)
    parts = [
        f'<svg class="case-flow-diagram" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-labelledby="case-flow-title" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="case-flow-title">{escape(title)}: {escape(summary)}</title>',
        '<defs><marker id="case-flow-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse"><path d="M0 0L10 5L0 10z" fill="#556274"/></marker></defs>',
    ]
    for index, (node, name_lines) in enumerate(zip(nodes, lines, strict=True)):
        x = 2 + index * (BOX_WIDTH + BOX_GAP)
        y = 2
        parts.append(f'<g class="node node-{node.state}">')
        parts.append(f'<rect x="{x}" y="{y}" width="{BOX_WIDTH}" height="{box_height}" rx="10"/>')
        centre = f"{x + BOX_WIDTH / 2:g}"
        mark = {"done": "✓", "stopped": "✕"}.get(node.state, str(index + 1))
        parts.append(f'<text class="mark" x="{centre}" y="{y + 24}" text-anchor="middle">{mark}</text>')
        for number, text in enumerate(name_lines):
            baseline = y + BOX_PADDING + 14 + number * NAME_LINE
            parts.append(f'<text class="name" x="{centre}" y="{baseline}" text-anchor="middle">{escape(text)}</text>')
        parts.append("</g>")
        if index < len(nodes) - 1:
            x1, x2 = x + BOX_WIDTH + 2, x + BOX_WIDTH + BOX_GAP - 3
            mid = f"{y + box_height / 2:g}"
            parts.append(
                f'<line class="arrow" x1="{x1}" y1="{mid}" x2="{x2}" y2="{mid}" marker-end="url(#case-flow-arrow)"/>'
            )
    parts.append("</svg>")
    # Every text above is escaped; the rest is our own markup.
    return mark_safe("".join(parts))  # noqa: S308


# --- the case page pieces -----------------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineEntry:
    event: history.Event
    who: str


def _who(transition: CaseTransition, case: Case, viewer: User) -> str:
    """Who moved the case, as the applicant side may know it: themselves, the agent (masked name), or the
    department. Staff names are never shown to applicants: a department acts, not a clerk."""
    if transition.action in APPLICANT_ACTIONS:
        if transition.actor_id == viewer.pk:
            return _("You")
        if transition.on_behalf_of and transition.actor_id is not None:
            account = account_of(transition.actor)
            name = account.real_name if account is not None else ""
            return _("Agent %(name)s") % {"name": mask_name(name)} if name else _("An agent")
        return _("The applicant")
    if transition.actor_id is None:
        return _("Automatically, by law") if transition.action == "deem_accepted" else _("The system")
    department = transition.department or case.department
    return department.display_name(language())


def timeline(case: Case, viewer: User, handling: HandlingDefinition | None = None) -> list[TimelineEntry]:
    events = history.events(case, language(), handling=handling)
    return [TimelineEntry(event, _who(event.transition, case, viewer)) for event in events]


@dataclass(frozen=True)
class NoticeRow:
    notice: Notice
    title: str


def applicant_notices(case: Case) -> list[NoticeRow]:
    """The notices issued to the applicant (a supervision notice is the department's, not theirs)."""
    return [
        NoticeRow(n, documents.notice_title(n.kind))
        for n in selectors.notices(case)
        if n.kind != NoticeKind.SUPERVISION
    ]


@dataclass(frozen=True)
class MaterialRow:
    material: CaseMaterial
    provenance: str
    trust: str
    trust_level: str
    shared: once_only.SharedProvenance | None = None  # fetched from shared data: what, from where, when


def material_rows(case: Case) -> list[MaterialRow]:
    materials = selectors.current_materials(case)
    shared = once_only.provenance_of(materials, language())
    return [
        MaterialRow(
            m,
            str(Provenance(m.provenance).label),
            str(TrustLevel(m.trust_level).label),
            m.trust_level,
            shared.get(m.pk),
        )
        for m in materials
    ]


def _latest_correction(case: Case) -> Notice | None:
    if case.status != CaseStatus.CORRECTION:
        return None
    return selectors.latest_notice(case, NoticeKind.CORRECTION)


def _correction_by_slot(case: Case) -> dict[int, list[str]]:
    """The reasons the latest correction request gave per material slot (the transition keeps the slots)."""
    if case.status != CaseStatus.CORRECTION:
        return {}
    request = selectors.latest_transition(case, "request_correction")
    found: dict[int, list[str]] = {}
    for problem in (request.details.get("problems") or []) if request is not None else []:
        if isinstance(problem.get("slot"), int):
            found.setdefault(problem["slot"], []).append(str(problem.get("reason", "")))
    return found


# --- 1. apply -----------------------------------------------------------------------------------------


@never_cache
@require_POST
def apply(request: HttpRequest, code: str) -> HttpResponseBase:
    """Start a draft for the item's version in force; refusals (not verified, not covered by the agency, not
    open) are shown on the guide."""
    if not request.user.is_authenticated:
        return redirect_to_login(reverse("portal:guide", args=[code]))
    version = catalogue_selectors.current_version_of(code)
    if version is None:
        return not_found(request, _("There is no service guide in force with this code."))
    try:
        case = services.start_application(actor=_user(request), version=version, agency_id=_agency_id(request))
    except DomainError as exc:
        messages.error(request, _error_text(exc))
        return redirect("portal:guide", code=code)
    messages.success(request, _("A draft application is open. It is saved as you type."))
    return redirect("portal:draft", pk=case.pk)


# --- 2. my cases --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseRow:
    case: Case
    status_label: str
    deadline: progress.Deadline
    next: NextStep


@dataclass
class CaseGroup:
    """One case, or the cases of one bundle application shown together under its combined status."""

    rows: list[CaseRow]
    application: BundleApplication | None = None
    bundle_name: str = ""
    combined_status: str = ""
    combined_label: str = ""


def _group(cases: Iterable[Case], now: progress.Clock) -> list[CaseGroup]:
    groups: list[CaseGroup] = []
    by_application: dict[int, CaseGroup] = {}
    cases = list(cases)
    statuses = selectors.combined_statuses({c.bundle_application_id for c in cases if c.bundle_application_id})
    for case in cases:
        row = CaseRow(case, case.get_status_display(), progress.current(case, now), next_step(case))
        application = case.bundle_application
        if application is None:
            groups.append(CaseGroup([row]))
            continue
        group = by_application.get(application.pk)
        if group is None:
            combined = statuses[application.pk]
            group = CaseGroup(
                [],
                application,
                application.bundle.display_name(language()),
                combined,
                str(CaseStatus(combined).label),
            )
            by_application[application.pk] = group
            groups.append(group)
        group.rows.append(row)
    return groups


@applicant_page
def my_cases(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    cases = selectors.my_cases(user).select_related("bundle_application__bundle")
    paginator = Paginator(cases, PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    drafts = list(selectors.my_cases(user, drafts=True))
    return render(
        request,
        "portal/cases/my_cases.html",
        {
            "nav": "my_cases",
            "page": page,
            "groups": _group(page.object_list, progress.clock()),
            "drafts": drafts,
        },
    )


# --- 3. the draft editor ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ReuseChoice:
    material_id: int
    label: str


@dataclass
class SlotView:
    index: int
    name: str
    required: bool
    requirements: str
    originals: Any
    copies: Any
    current: MaterialRow | None
    pledgeable: bool
    fetched_from: str  # "licence", "shared" or ""
    reuse: list[ReuseChoice] = field(default_factory=list)
    correction: list[str] = field(default_factory=list)
    licences: list[ReuseChoice] = field(default_factory=list)  # e-licences in the applicant's wallet that fit
    shared: once_only.Offer | None = None  # the department can fetch it from shared data, with consent


def _reuse_choices(slot_name: str, candidates: Sequence[CaseMaterial]) -> list[ReuseChoice]:
    """Materials on file, those of the same name first (most likely what fits), each file once."""
    ordered = sorted(candidates, key=lambda m: m.name != slot_name)  # stable: newest first within each group
    seen: set[int] = set()
    choices = []
    for material in ordered:
        if material.file_id is None or material.file_id in seen:
            continue
        seen.add(material.file_id)
        assert material.file is not None
        label = _("%(material)s: %(file)s (case %(number)s, level %(level)s)") % {
            "material": material.name,
            "file": material.file.original_name,
            "number": material.case.number or "",
            "level": material.trust_level,
        }
        choices.append(ReuseChoice(material.pk, label))
    return choices


def _licence_choice(licence: Licence) -> ReuseChoice:
    until = _("long-term") if licence.valid_until is None else date_format(licence.valid_until, "DATE_FORMAT")
    label = _("%(type)s no. %(serial)s by %(issuer)s (valid until %(until)s)") % {
        "type": licence.licence_type.name,
        "serial": licence.serial,
        "issuer": licence.issuer.name,
        "until": until,
    }
    return ReuseChoice(licence.pk, label)


def slot_views(actor: User, case: Case) -> list[SlotView]:
    current = {row.material.slot: row for row in material_rows(case)}
    candidates = services.reusable_materials(actor, case)
    held = services.licence_candidates(case)
    corrections = _correction_by_slot(case)
    shared = once_only.offers(case, [row.material for row in current.values()], language())
    views = []
    for index, slot in enumerate(services.material_slots(case)):
        fetched = "licence" if slot.get("licence_type_code") else "shared" if slot.get("shared_resource") else ""
        views.append(
            SlotView(
                index=index,
                name=str(slot.get("name", "")),
                required=bool(slot.get("required")),
                requirements=str(slot.get("requirements", "")),
                originals=slot.get("originals"),
                copies=slot.get("copies"),
                current=current.get(index),
                pledgeable=services.pledgeable(slot),
                fetched_from=fetched,
                reuse=_reuse_choices(str(slot.get("name", "")), candidates),
                correction=corrections.get(index, []),
                licences=[_licence_choice(licence) for licence in held.get(index, [])],
                shared=shared.get(index),
            )
        )
    return views


@dataclass(frozen=True)
class SummaryError:
    target: str  # the id of the control to jump to
    label: str
    message: str


def _problems_from(exc: InvalidInput, handling: HandlingDefinition) -> list[item_forms.FieldProblem]:
    """The service's per-field details as the form renderer's problems (fields of the form only)."""
    problems = []
    for detail in exc.details:
        name = str(detail.get("field", ""))
        if name in handling.properties:
            problems.append(
                item_forms.FieldProblem(name, handling.label(name, language()), str(detail.get("message", "")))
            )
    return problems


def _delivery_errors(exc: InvalidInput | None) -> dict[str, str]:
    if exc is None:
        return {}
    return {
        str(d["field"]): str(d.get("message", "")) for d in exc.details if str(d.get("field", "")) in DELIVERY_FIELDS
    }


def _posted(case: Case, handling: HandlingDefinition, request: HttpRequest) -> tuple[dict[str, Any], dict[str, str]]:
    data = item_forms.coerce(handling, request.POST)
    delivery = {
        "method": request.POST.get("delivery_method", "") or case.delivery_method,
        "address": request.POST.get("delivery_address", ""),
    }
    return data, delivery


def _render_editor(
    request: HttpRequest,
    case: Case,
    *,
    data: Mapping[str, Any] | None = None,
    delivery: Mapping[str, str] | None = None,
    error: InvalidInput | None = None,
    status: int = 200,
) -> HttpResponse:
    user = _user(request)
    handling = handling_for(case.version)
    problems = _problems_from(error, handling) if error is not None else []
    delivery_errors = _delivery_errors(error)
    summary = [SummaryError(f"field-{p.field}", p.label, p.message) for p in problems]
    delivery_labels = {"delivery_method": _("How the result reaches you"), "delivery_address": _("Mailing address")}
    summary += [
        SummaryError(
            "delivery-address" if name == "delivery_address" else "delivery-electronic", delivery_labels[name], message
        )
        for name, message in delivery_errors.items()
    ]
    placed = {p.field for p in problems} | set(delivery_errors)
    others = [
        str(d.get("message", ""))
        for d in (error.details if error is not None else [])
        if str(d.get("field", "")) not in placed and d.get("message")
    ]
    if error is not None and not error.details:
        others.append(str(error.message))
    method = (delivery or {}).get("method") or case.delivery_method
    correction = _latest_correction(case)
    context = {
        "nav": "my_cases",
        "case": case,
        "department": case.department.display_name(language()),
        "is_correction": case.status == CaseStatus.CORRECTION,
        "correction": correction,
        "sections": item_forms.render_fields(handling, data if data is not None else case.data, problems, language()),
        "error": error,
        "error_message": str(error.message) if error is not None else "",
        "summary": summary,
        "other_errors": others,
        "delivery_methods": [
            {"value": value, "label": label, "checked": value == method, "id": f"delivery-{value}"}
            for value, label in DeliveryMethod.choices
        ],
        "delivery_address": (delivery or {}).get("address", case.delivery_address),
        "delivery_errors": delivery_errors,
        "slots": slot_views(user, case),
        "upload_accept": UPLOAD_ACCEPT,
        "pledge_text": str(services.PLEDGE_TEXT),
        "idempotency_key": uuid.uuid4().hex,
        "saved_at": case.updated_at,
    }
    return render(request, "portal/cases/draft.html", context, status=status)


def _editable_case(request: HttpRequest, pk: int) -> Case:
    return selectors.case_for_applicant(_user(request), pk)


@applicant_page
def draft(request: HttpRequest, pk: int) -> HttpResponseBase:
    try:
        case = _editable_case(request, pk)
    except NotFound as exc:
        return not_found(request, str(exc.message))
    if case.status not in EDITABLE:
        return redirect(_case_url(case))
    return _render_editor(request, case)


def _wants_json(request: HttpRequest) -> bool:
    return request.headers.get("X-Requested-With") == "fetch"


def _save(
    request: HttpRequest, case: Case, data: dict[str, Any], delivery: dict[str, str]
) -> tuple[Case, InvalidInput | None]:
    """Save what was typed. A delivery choice the service refuses (mail without an address) does not lose the
    form: the form is saved without it and the refusal is returned to show."""
    user = _user(request)
    try:
        return services.save_draft(actor=user, case=case, data=data, delivery=delivery), None
    except InvalidInput as exc:
        if not {str(d.get("field", "")) for d in exc.details} <= DELIVERY_FIELDS or not exc.details:
            raise
        return services.save_draft(actor=user, case=case, data=data, delivery=None), exc


@applicant_page
@require_POST
def draft_save(request: HttpRequest, pk: int) -> HttpResponseBase:
    """Autosave (a script posts the form on change and gets JSON) and the "Save draft" button (no script)."""
    try:
        case = _editable_case(request, pk)
    except NotFound as exc:
        if _wants_json(request):
            return JsonResponse({"saved": False, "message": str(exc.message)}, status=404)
        return not_found(request, str(exc.message))
    handling = handling_for(case.version)
    data, delivery = _posted(case, handling, request)
    try:
        case, refused = _save(request, case, data, delivery)
    except DomainError as exc:
        if _wants_json(request):
            return JsonResponse({"saved": False, "message": _error_text(exc)}, status=409)
        messages.error(request, _error_text(exc))
        return redirect(_case_url(case))
    saved_at = f"{timezone.localtime(case.updated_at):%H:%M}"
    if _wants_json(request):
        message = _("Saved at %(time)s") % {"time": saved_at}
        if refused is not None:
            message = f"{message}. {_error_text(refused)}"
        return JsonResponse({"saved": True, "message": message, "errors": refused.details if refused else []})
    if refused is not None:
        return _render_editor(request, case, data=data, delivery=delivery, error=refused)
    messages.success(request, _("Your draft was saved at %(time)s.") % {"time": saved_at})
    return redirect("portal:draft", pk=case.pk)


def _already_submitted(request: HttpRequest, case: Case, key: str) -> HttpResponseBase:
    """A repeated submit (a double click, a reload, a lost response): with the same key the service answers
    with the case the first one made; otherwise the applicant is told it was already sent."""
    if key and case.status == CaseStatus.SUBMITTED:
        try:
            earlier = services.submit(actor=_user(request), case=case, idempotency_key=key)
        except DomainError:
            earlier = None
        if earlier is not None and earlier.number:
            messages.success(request, _submitted_message(earlier))
            return redirect("portal:case", number=earlier.number)
    messages.info(request, _("This application has already been submitted."))
    return redirect(_case_url(case) if case.number else reverse("portal:my_cases"))


def _submitted_message(case: Case) -> str:
    return _("Your application is submitted. Its case number is %(number)s.") % {"number": case.number}


@applicant_page
@require_POST
def draft_submit(request: HttpRequest, pk: int) -> HttpResponseBase:
    """Save what was typed, then submit (or resubmit corrections). Form problems show beside their fields and
    the application stays as it was: not submitted, no number, nothing sent."""
    try:
        case = _editable_case(request, pk)
    except NotFound as exc:
        return not_found(request, str(exc.message))
    key = request.POST.get("idempotency_key", "").strip()[:MAX_KEY_LENGTH]
    if case.status not in EDITABLE:
        return _already_submitted(request, case, key)
    handling = handling_for(case.version)
    data, delivery = _posted(case, handling, request)
    user = _user(request)
    try:
        case, refused = _save(request, case, data, delivery)
    except DomainError as exc:
        case.refresh_from_db()
        if case.status not in EDITABLE:
            return _already_submitted(request, case, key)
        messages.error(request, _error_text(exc))
        return redirect("portal:draft", pk=case.pk)
    if refused is not None:
        return _render_editor(request, case, data=data, delivery=delivery, error=refused)
    correcting = case.status == CaseStatus.CORRECTION
    try:
        if correcting:
            case = services.resubmit(actor=user, case=case)
        else:
            case = services.submit(actor=user, case=case, idempotency_key=key or None)
    except InvalidInput as exc:
        return _render_editor(request, case, data=data, delivery=delivery, error=exc)
    except DomainError as exc:
        case.refresh_from_db()
        if case.status not in EDITABLE:
            return _already_submitted(request, case, key)
        messages.error(request, _error_text(exc))
        return redirect("portal:draft", pk=case.pk)
    if correcting:
        messages.success(request, _("Your corrections are sent. The department pre-reviews them again."))
    else:
        messages.success(request, _submitted_message(case))
    return redirect("portal:case", number=case.number)


MATERIAL_ACTIONS = ("upload", "reuse", "licence", "shared", "withdraw_consent", "pledge", "remove")


@applicant_page
@require_POST
def draft_material(request: HttpRequest, pk: int) -> HttpResponseBase:
    """Upload, reuse, pledge or remove one material slot; refusals (type, size, empty) come back as a notice."""
    try:
        case = _editable_case(request, pk)
    except NotFound as exc:
        return not_found(request, str(exc.message))
    user = _user(request)
    action = request.POST.get("action", "")
    slot = _int(request.POST.get("slot"))
    slot = -1 if slot is None else slot
    slots = services.material_slots(case)
    name = str(slots[slot].get("name", "")) if 0 <= slot < len(slots) else ""
    try:
        if action == "upload":
            upload = request.FILES.get("file")
            if upload is None:
                raise InvalidInput(_("Choose a file to upload."))
            services.attach_material(actor=user, case=case, slot=slot, upload=upload)
            done = _("“%(material)s” is uploaded.")
        elif action == "reuse":
            material_id = _int(request.POST.get("material"))
            if material_id is None:
                raise InvalidInput(_("Choose a material on file."))
            services.reuse_material(actor=user, case=case, slot=slot, material_id=material_id)
            done = _("“%(material)s” is filled with the material on file.")
        elif action == "licence":
            licence_id = _int(request.POST.get("licence"))
            if licence_id is None:
                raise InvalidInput(_("Choose a licence from your wallet."))
            services.use_licence(actor=user, case=case, slot=slot, licence_id=licence_id)
            done = _("“%(material)s” is filled with your electronic licence (an annotated reuse copy).")
        elif action == "shared":
            once_only.fetch_shared_material(
                actor=user, case=case, slot=slot, consent=request.POST.get("consent") == "yes"
            )
            if case.status == CaseStatus.DRAFT:
                done = _("“%(material)s” will be fetched from shared data when you submit; you upload nothing.")
            else:
                done = _("“%(material)s” is fetched from shared data; you upload nothing.")
        elif action == "withdraw_consent":
            once_only.withdraw_consent(actor=user, case=case, slot=slot)
            done = _("You withdrew your consent: provide “%(material)s” yourself.")
        elif action == "pledge":
            if request.POST.get("confirm") != "yes":
                raise InvalidInput(_("Tick the box to make the pledge."))
            services.pledge_material(actor=user, case=case, slot=slot)
            done = _("You pledged instead of providing “%(material)s”.")
        elif action == "remove":
            services.remove_material(actor=user, case=case, slot=slot)
            done = _("“%(material)s” is removed.")
        else:
            raise InvalidInput(_("Choose what to do with the material."))
    except DomainError as exc:
        if name:
            messages.error(request, _("%(material)s: %(problem)s") % {"material": name, "problem": _error_text(exc)})
        else:
            messages.error(request, _error_text(exc))
    else:
        messages.success(request, done % {"material": name})
    anchor = f"#material-{slot}" if name else "#materials"
    return redirect(reverse("portal:draft", args=[case.pk]) + anchor)


@applicant_page
@require_POST
def draft_discard(request: HttpRequest, pk: int) -> HttpResponseBase:
    try:
        case = _editable_case(request, pk)
        services.discard_draft(actor=_user(request), case=case)
    except NotFound as exc:
        return not_found(request, str(exc.message))
    except DomainError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("The draft for “%(item)s” is discarded.") % {"item": case.item_name})
    return redirect("portal:my_cases")


# --- 4. the case page ---------------------------------------------------------------------------------


@applicant_page
def case_detail(request: HttpRequest, number: str) -> HttpResponseBase:
    user = _user(request)
    try:
        case = selectors.case_for_applicant(user, number)
    except NotFound as exc:
        return not_found(request, str(exc.message))
    now = progress.clock()
    handling = handling_for(case.version)
    nodes = progress_nodes(case, handling)
    dates = [progress.promised(case, now), progress.statutory(case, now)]
    if case.status == CaseStatus.SUBMITTED:  # the pre-review window matters only while it runs
        dates.insert(0, progress.acceptance(case, now))
    context = {
        "nav": "my_cases",
        "case": case,
        "department": case.department.display_name(language()),
        "status_label": case.get_status_display(),
        "dates": [d for d in dates if d.date is not None],
        "flow": nodes,
        "flow_svg": progress_svg(nodes, title=_("Progress of case %(number)s") % {"number": case.number}),
        "timeline": timeline(case, user, handling),
        "notices": applicant_notices(case),
        "materials": material_rows(case),
        "next": next_step(case),
        "can_withdraw": machine.can(case, "withdraw"),
        "delivery_label": case.get_delivery_method_display(),
        "outcome_label": case.get_outcome_display() if case.outcome else "",
        "bundle": case.bundle_application,
        # The licence the approval issued (decision 0011): its page in the wallet, with the sealed file.
        "licence": Licence.objects.filter(case=case)
        .only("pk", "identifier", "licence_type__name")
        .select_related("licence_type")
        .first()
        if case.outcome == "approved"
        else None,
    }
    return render(request, "portal/cases/case.html", context)


# --- 5.–7. notice PDF, material file, withdraw --------------------------------------------------------


@applicant_page
def notice_pdf(request: HttpRequest, number: str, notice_number: str) -> HttpResponseBase:
    try:
        case = selectors.case_for_applicant(_user(request), number)
    except NotFound as exc:
        return not_found(request, str(exc.message))
    notice = selectors.applicant_notice(case, notice_number)
    if notice is None:
        return not_found(request, _("This case has no such notice."))
    response = HttpResponse(documents.render_notice(notice.content), content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(False, f"{notice.number}.pdf") or "inline"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _material_file(request: HttpRequest, case: Case, material_id: int) -> HttpResponseBase:
    material = selectors.material_with_file(case, material_id)
    if material is None or material.file is None:
        return not_found(request, _("This case has no such material."))
    stored = material.file
    try:
        handle = stored.file.open("rb")
    except FileNotFoundError:
        return not_found(request, _("This case has no such material."))
    response = FileResponse(handle, content_type=stored.content_type, as_attachment=True, filename=stored.original_name)
    response["X-Content-Type-Options"] = "nosniff"
    return response


@applicant_page
def material_file(request: HttpRequest, number: str, material_id: int) -> HttpResponseBase:
    try:
        case = selectors.case_for_applicant(_user(request), number)
    except NotFound as exc:
        return not_found(request, str(exc.message))
    return _material_file(request, case, material_id)


@applicant_page
def draft_material_file(request: HttpRequest, pk: int, material_id: int) -> HttpResponseBase:
    """A material of a draft (which has no number yet), so the applicant can check what they uploaded."""
    try:
        case = _editable_case(request, pk)
    except NotFound as exc:
        return not_found(request, str(exc.message))
    return _material_file(request, case, material_id)


@applicant_page
@require_POST
def withdraw(request: HttpRequest, number: str) -> HttpResponseBase:
    try:
        case = selectors.case_for_applicant(_user(request), number)
    except NotFound as exc:
        return not_found(request, str(exc.message))
    try:
        services.withdraw(actor=_user(request), case=case, reason=request.POST.get("reason", ""))
    except DomainError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("Your application %(number)s is withdrawn.") % {"number": case.number})
    return redirect("portal:case", number=number)


# --- 8. one-thing bundles (一件事一次办) ----------------------------------------------------------------


@dataclass(frozen=True)
class BundleItemView:
    name: str
    department: str


@dataclass(frozen=True)
class BundleMaterial:
    index: int
    name: str
    required: bool
    requirements: str
    pledgeable: bool
    items: list[str]
    fetched_from: str


def merged_handling(versions: Sequence[ItemVersion]) -> HandlingDefinition:
    """One form for the bundle: the union of the items' fields by name (the first item's definition of a
    shared field wins), required where any item requires it, sections of the same title merged."""
    properties: dict[str, Any] = {}
    required: list[str] = []
    layout: list[dict[str, Any]] = []
    placed: set[str] = set()
    for version in versions:
        handling = handling_for(version)
        for name, prop in handling.properties.items():
            properties.setdefault(name, prop)
        required += [name for name in handling.form_schema.get("required") or () if name not in required]
        for section in handling.sections():
            fields = [f for f in section.fields if f not in placed]
            if not fields:
                continue
            placed.update(fields)
            same = next((s for s in layout if s["title"] == section.title and s["title_en"] == section.title_en), None)
            if same is not None:
                same["fields"] += fields
            else:
                layout.append(
                    {"title": section.title, "title_en": section.title_en, "fields": fields, "columns": section.columns}
                )
    schema = {"type": "object", "properties": properties, "required": required}
    return HandlingDefinition(form_schema=schema, form_layout=layout, steps=[])


def merged_materials(versions: Sequence[ItemVersion]) -> list[BundleMaterial]:
    """One list of materials for the bundle, by name (a file given once fills every item's slot of that name).
    A pledge is offered only where every item that asks for the material accepts one."""
    by_name: dict[str, dict[str, Any]] = {}
    for version in versions:
        for slot in version.content.get("materials") or []:
            name = str(slot.get("name", ""))
            entry = by_name.setdefault(
                name,
                {"required": False, "requirements": "", "pledgeable": True, "items": [], "fetched_from": ""},
            )
            entry["required"] = entry["required"] or bool(slot.get("required"))
            entry["requirements"] = entry["requirements"] or str(slot.get("requirements", ""))
            entry["pledgeable"] = entry["pledgeable"] and services.pledgeable(slot)
            if version.name not in entry["items"]:
                entry["items"].append(version.name)
            if slot.get("licence_type_code"):
                entry["fetched_from"] = "licence"
            elif slot.get("shared_resource") and not entry["fetched_from"]:
                entry["fetched_from"] = "shared"
    return [BundleMaterial(index, name, **entry) for index, (name, entry) in enumerate(by_name.items())]


@never_cache
def bundles(request: HttpRequest) -> HttpResponse:
    rows = []
    for bundle in selectors.active_bundles():
        try:
            versions = services.bundle_versions(bundle)
        except DomainError:
            versions = []
        rows.append(
            {
                "bundle": bundle,
                "name": bundle.display_name(language()),
                "items": [v.name for v in versions],
                "open": bool(versions),
            }
        )
    return render(request, "portal/cases/bundles.html", {"nav": "bundles", "rows": rows})


def _render_bundle(
    request: HttpRequest,
    bundle: Bundle,
    versions: Sequence[ItemVersion],
    *,
    data: Mapping[str, Any] | None = None,
    problems: Sequence[item_forms.FieldProblem] = (),
    other_errors: Sequence[str] = (),
    status: int = 200,
) -> HttpResponse:
    handling = merged_handling(versions)
    user = request.user
    signed_in = bool(user.is_authenticated)
    context = {
        "nav": "bundles",
        "bundle": bundle,
        "name": bundle.display_name(language()),
        "items": [BundleItemView(v.name, v.department.display_name(language())) for v in versions],
        "open": bool(versions),
        "signed_in": signed_in,
        "may_apply": signed_in and _is_person(user),
        "sections": item_forms.render_fields(handling, data or {}, problems, language()) if versions else [],
        "materials": merged_materials(versions),
        "summary": [SummaryError(f"field-{p.field}", p.label, p.message) for p in problems],
        "other_errors": list(other_errors),
        "upload_accept": UPLOAD_ACCEPT,
        "pledge_text": str(services.PLEDGE_TEXT),
        "idempotency_key": uuid.uuid4().hex,
        "login_url": f"{reverse('portal:login')}?{urlencode({'next': request.path})}",
    }
    return render(request, "portal/cases/bundle.html", context, status=status)


@never_cache
def bundle(request: HttpRequest, code: str) -> HttpResponseBase:
    found = selectors.active_bundle(code)
    if found is None:
        return not_found(request, _("There is no such one-thing bundle open for applications."))
    try:
        versions = services.bundle_versions(found)
    except DomainError as exc:
        messages.error(request, _error_text(exc))
        versions = []
    if request.method != "POST":
        return _render_bundle(request, found, versions)
    if not request.user.is_authenticated:
        return redirect_to_login(request.path)
    if not _is_person(request.user):
        return not_found(request)
    if not versions:
        return _render_bundle(request, found, versions)
    handling = merged_handling(versions)
    data = item_forms.coerce(handling, request.POST)
    # Every problem of the merged form at once (the service checks each item's form in turn, and would
    # report the second item's fields only after the first item's are right).
    problems = item_forms.validate_submission(handling, data)
    if problems:
        return _render_bundle(request, found, versions, data=data, problems=problems)
    materials = merged_materials(versions)
    files = {m.name: request.FILES.get(f"material-{m.index}") for m in materials}
    uploads = {name: upload for name, upload in files.items() if upload is not None}
    pledged = [m.name for m in materials if m.pledgeable and request.POST.get(f"pledge-{m.index}") == "yes"]
    key = request.POST.get("idempotency_key", "").strip()[:MAX_KEY_LENGTH]
    try:
        application = services.apply_bundle(
            actor=_user(request),
            bundle=found,
            data=data,
            uploads=uploads,
            pledged=pledged,
            agency_id=_agency_id(request),
            idempotency_key=key or None,
        )
    except InvalidInput as exc:
        problems = _problems_from(exc, handling)
        placed = {p.field for p in problems}
        others = [str(d.get("message", "")) for d in exc.details if str(d.get("field", "")) not in placed]
        return _render_bundle(
            request, found, versions, data=data, problems=problems, other_errors=others or [str(exc.message)]
        )
    except DomainError as exc:
        return _render_bundle(request, found, versions, data=data, other_errors=[_error_text(exc)])
    messages.success(
        request,
        _("Your one-thing application is submitted. Its number is %(number)s.") % {"number": application.number},
    )
    return redirect("portal:bundle_application", number=application.number)


@applicant_page
def bundle_application(request: HttpRequest, number: str) -> HttpResponseBase:
    """One bundle application: its combined status and each case with its department (the applicant's only)."""
    cases = list(
        selectors.my_cases(_user(request))
        .filter(bundle_application__number=number)
        .select_related("department", "bundle_application__bundle")
        .order_by("id")
    )
    if not cases or len(number) > 30:
        return not_found(request, _("No such case."))
    application = cases[0].bundle_application
    assert application is not None
    combined = selectors.combined_status(application)
    now = progress.clock()
    return render(
        request,
        "portal/cases/bundle_application.html",
        {
            "nav": "my_cases",
            "application": application,
            "name": application.bundle.display_name(language()),
            "combined_status": combined,
            "combined_label": str(CaseStatus(combined).label),
            "rows": [
                {
                    "case": case,
                    "department": case.department.display_name(language()),
                    "status_label": case.get_status_display(),
                    "deadline": progress.current(case, now),
                    "next": next_step(case),
                }
                for case in cases
            ],
        },
    )
