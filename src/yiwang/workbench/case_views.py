"""Staff pages for cases (办件): the queue, the department's cases, the case file with its actions, walk-in
applications at the window and the supervisors' page.

The views are thin: what a viewer reaches is decided by ``cases.selectors`` and ``cases.services`` (role and
scope through ``identity.authz``); a case or task outside the viewer's scope answers 404 as if it did not
exist. Anonymous visitors are sent to sign in; signed-in people whose roles include no case page get the
workbench's 403 page. Every action is a POST to its own URL that calls one service: on success it redirects
back with a message, on a refusal the page is shown again with the service's translated error beside the form
(and summarised at the top) and nothing has changed.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.models import User
from django.contrib.auth.views import redirect_to_login
from django.core.files.uploadedfile import UploadedFile
from django.core.paginator import Page, Paginator
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from yiwang.cases import documents, history, progress, selectors, services
from yiwang.cases.constants import CaseStatus, Outcome, StepCode, SupervisionStatus, WarningLevel
from yiwang.cases.models import Case, CaseTask
from yiwang.cases.services import MAX_REASON, Problem
from yiwang.catalogue import forms as item_forms
from yiwang.catalogue.handling import handling_for
from yiwang.catalogue.models import ItemVersion
from yiwang.common.errors import DomainError, InvalidInput, NotFound, invalid_field
from yiwang.common.masking import mask_id_number
from yiwang.identity import authz
from yiwang.portal.account_forms import show_domain_error
from yiwang.portal.views import not_found
from yiwang.workbench import case_display as display
from yiwang.workbench.views import PAGE_SIZE, forbidden, tasks_for

HANDLE = "cases.handle"
ACCEPT = "cases.accept"
SUPERVISE = "cases.supervise"
# Who may open a case file: the departments involved in it, and supervisors of its region.
READERS = (HANDLE, SUPERVISE)
View = Callable[..., HttpResponseBase]


def _guard(*actions: str) -> Callable[[View], View]:
    """Anonymous → sign in (and back to the page, or to the case an action was posted for); signed in but
    holding none of ``actions`` → 403; a case, task or record out of scope (``NotFound``) → 404."""

    def decorate(view: View) -> View:
        @wraps(view)
        def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.is_authenticated:
                back = request.get_full_path()
                if request.method == "POST":
                    number = kwargs.get("number")
                    back = reverse("workbench:case", args=[number]) if number else reverse("workbench:home")
                return redirect_to_login(back)
            if not any(authz.allowed(request.user, action) for action in actions):
                return forbidden(request)
            try:
                return view(request, *args, **kwargs)
            except NotFound as exc:
                return not_found(request, str(exc.message))

        return guarded

    return decorate


def _context(request: HttpRequest, current: str, **extra: Any) -> dict[str, Any]:
    return {"tasks": tasks_for(request.user), "current": current, "nav": "workbench", **extra}


def _page(request: HttpRequest, rows: Any) -> Page[Any]:
    return Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))


def _language(request: HttpRequest) -> str:
    return str(getattr(request, "LANGUAGE_CODE", "") or "zh-hans")


def _case_url(case: Case, anchor: str = "") -> str:
    return reverse("workbench:case", args=[case.number]) + (f"#{anchor}" if anchor else "")


# ---------------------------------------------------------------------------------------------------------
# Forms (shape only: the services judge the content and give the messages)
# ---------------------------------------------------------------------------------------------------------


def _text(label: Any, *, required: bool = True, rows: int = 2) -> forms.CharField:
    # Not required for Django: the service decides and says why in its own words; the browser is told.
    attrs: dict[str, Any] = {"rows": rows, "maxlength": MAX_REASON}
    if required:
        attrs["required"] = True
    return forms.CharField(label=label, required=False, strip=False, widget=forms.Textarea(attrs=attrs))


class NoteForm(forms.Form):
    note = _text(gettext_lazy("Note (optional)"), required=False)


class ReasonsForm(forms.Form):
    reasons = _text(gettext_lazy("Reasons and remedy"), rows=3)


class OpinionForm(forms.Form):
    opinion = _text(gettext_lazy("Opinion"), rows=3)


class ReasonForm(forms.Form):
    reason = _text(gettext_lazy("Reason"))


class ResultForm(forms.Form):
    result = _text(gettext_lazy("Result"))


class DecideForm(forms.Form):
    outcome = forms.ChoiceField(label=gettext_lazy("Decision"), choices=Outcome.choices, widget=forms.RadioSelect)
    reasons = _text(gettext_lazy("Reasons (required for a denial)"), required=False, rows=3)


class DeliverForm(forms.Form):
    tracking_number = forms.CharField(
        label=gettext_lazy("Tracking number"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "maxlength": 40}),
    )


class ExtendForm(forms.Form):
    days = forms.IntegerField(label=gettext_lazy("Days"), min_value=1, max_value=365)
    reason = _text(gettext_lazy("Reason"))


class ProcedureStartForm(forms.Form):
    name = forms.ChoiceField(label=gettext_lazy("Special procedure"))
    reason = _text(gettext_lazy("Reason"))

    def __init__(self, *args: Any, names: tuple[str, ...] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["name"].choices = [(n, n) for n in names]  # type: ignore[attr-defined]


class AssignForm(forms.Form):
    assignee = forms.ChoiceField(label=gettext_lazy("Colleague"))

    def __init__(self, *args: Any, colleagues: tuple[User, ...] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.colleagues = {str(u.pk): u for u in colleagues}
        self.fields["assignee"].choices = [  # type: ignore[attr-defined]
            (key, u.get_full_name() or u.get_username()) for key, u in self.colleagues.items()
        ]


class FollowUpForm(forms.Form):
    note = _text(gettext_lazy("Follow-up"), rows=2)


def _form(cls: type[forms.Form], key: str, data: Any = None, **kwargs: Any) -> forms.Form:
    # Ids unique on a page that holds many forms (one per task and action).
    return cls(data, auto_id=f"{key}-%s", **kwargs)


# ---------------------------------------------------------------------------------------------------------
# The queue and the department's cases
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueRow:
    task: CaseTask
    step: str
    deadline: progress.Deadline
    applicant_id: str  # masked: lists never show identifiers in full


@dataclass(frozen=True)
class FilterLink:
    label: str
    url: str
    count: int | None
    current: bool
    colour: str = ""


def _query(**params: Any) -> str:
    kept = {k: v for k, v in params.items() if v not in ("", None, False)}
    return urlencode(kept)


def _link(base: str, **params: Any) -> str:
    query = _query(**params)
    return f"{base}?{query}" if query else base


@require_http_methods(["GET", "HEAD"])
@_guard(HANDLE)
def queue(request: HttpRequest) -> HttpResponse:
    now = progress.clock()
    colour = request.GET.get("colour", "")
    colour = colour if colour in display.COLOURS and (now.covered or colour == "red") else ""
    step = request.GET.get("step", "")
    step = step if step in StepCode.values else ""
    mine = request.GET.get("mine") == "1"
    flt = selectors.QueueFilter(colour=colour, step=step, mine=mine)
    counts = display.queue_counts(request.user, flt, now)
    paginator = Paginator(selectors.queue_page(request.user, flt, today=now.today), PAGE_SIZE)
    paginator.count = counts[colour]  # known already: the paginator need not count again
    page = paginator.get_page(request.GET.get("page"))
    language = _language(request)
    rows = [
        QueueRow(
            task,
            task.display_step(language),
            progress.step(task, task.case, now),
            task.case.applicant_id_masked,
        )
        for task in page.object_list
    ]
    base = reverse("workbench:queue")
    colour_links = [
        FilterLink(
            str(display.COLOUR_LABELS[c]) if c else _("All"),
            _link(base, colour=c, step=step, mine="1" if mine else ""),
            counts[c],
            c == colour,
            c,
        )
        for c in ("", *display.COLOURS)
        if now.covered or c in ("", "red")
    ]
    step_links = [
        FilterLink(
            str(label) if value else _("All steps"),
            _link(base, colour=colour, step=value, mine="1" if mine else ""),
            None,
            value == step,
        )
        for value, label in [("", ""), *StepCode.choices]
    ]
    mine_links = [
        FilterLink(_("Everyone's"), _link(base, colour=colour, step=step), None, not mine),
        FilterLink(_("Mine"), _link(base, colour=colour, step=step, mine="1"), None, mine),
    ]
    context = _context(
        request,
        "workbench:queue",
        page=page,
        rows=rows,
        colour_links=colour_links,
        step_links=step_links,
        mine_links=mine_links,
        query=_query(colour=colour, step=step, mine="1" if mine else ""),
        clock=now,
        me=request.user.pk,
    )
    return render(request, "workbench/cases/queue.html", context)


@require_POST
@_guard(HANDLE)
def task_claim(request: HttpRequest, task_id: int) -> HttpResponse:
    task = selectors.task_for_staff(request.user, task_id)
    to_case = request.POST.get("next") == "case"
    try:
        services.claim(actor=request.user, task=task)
    except NotFound:
        raise
    except DomainError as exc:
        messages.error(request, str(exc.message))
    else:
        step = task.display_step(_language(request))
        messages.success(
            request, _("You took the task “%(step)s” of case %(number)s.") % {"step": step, "number": task.case.number}
        )
    return redirect(_case_url(task.case, "actions") if to_case else reverse("workbench:queue"))


@dataclass(frozen=True)
class CaseRow:
    case: Case
    deadline: progress.Deadline


@require_http_methods(["GET", "HEAD"])
@_guard(HANDLE)
def cases(request: HttpRequest) -> HttpResponse:
    status = request.GET.get("status", "")
    status = status if status in CaseStatus.values and status != CaseStatus.DRAFT else ""
    # Case numbers are not personal data: searching by one in a GET query is fine.
    number = request.GET.get("number", "").strip()[:30]
    found = selectors.department_cases(request.user).select_related("department", "enterprise")
    if status:
        found = found.filter(status=status)
    if number:
        found = found.filter(number=number)
    page = _page(request, found)
    now = progress.clock()
    rows = [CaseRow(case, progress.current(case, now)) for case in page.object_list]
    statuses = [(value, label) for value, label in CaseStatus.choices if value != CaseStatus.DRAFT]
    context = _context(
        request,
        "workbench:cases",
        page=page,
        rows=rows,
        statuses=statuses,
        status=status,
        number=number,
        query=_query(status=status, number=number),
        clock=now,
    )
    return render(request, "workbench/cases/cases.html", context)


# ---------------------------------------------------------------------------------------------------------
# The case file
# ---------------------------------------------------------------------------------------------------------


@dataclass
class TaskPanel:
    actions: display.TaskActions
    step: str
    department: str
    deadline: progress.Deadline
    complete: forms.Form | None
    send_back: forms.Form | None
    decide: forms.Form | None
    assign: forms.Form | None

    @property
    def task(self) -> CaseTask:
        return self.actions.task


@dataclass(frozen=True)
class TaskRow:
    task: CaseTask
    step: str
    department: str
    deadline: progress.Deadline


@dataclass(frozen=True)
class NoticeRow:
    number: str
    title: str
    issued_at: Any


@dataclass
class Failure:
    """The form a refused action came from, to show again with its errors (and the posted values)."""

    key: str
    form: forms.Form | None = None
    errors: tuple[str, ...] = ()
    posted: Mapping[str, Any] | None = None

    @property
    def messages(self) -> list[str]:
        if self.form is None:
            return list(self.errors)
        return [str(e) for errors in self.form.errors.values() for e in errors]


def _bound(failure: Failure | None, key: str, cls: type[forms.Form], **kwargs: Any) -> forms.Form:
    if failure is not None and failure.key == key and failure.form is not None:
        return failure.form
    return _form(cls, key, **kwargs)


def _render_case(
    request: HttpRequest, case: Case, *, failure: Failure | None = None, status: int = 200
) -> HttpResponse:
    user = request.user
    language = _language(request)
    now = progress.clock()
    identifiers = authz.may_see_identifiers(user)
    # Each part of the case is read once here and handed to whatever shows it.
    handling = handling_for(case.version)
    tasks = selectors.case_tasks(case)
    procedures = selectors.special_procedures(case)
    events = history.events(case, language, handling=handling)
    actions = display.actions(user, case, tasks, procedures)
    panels = [
        TaskPanel(
            actions=t,
            step=t.task.display_step(language),
            department=t.task.department.display_name(language),
            deadline=progress.step(t.task, case, now),
            complete=_bound(failure, f"complete-{t.task.pk}", OpinionForm) if t.complete else None,
            send_back=_bound(failure, f"return-{t.task.pk}", ReasonForm) if t.send_back else None,
            decide=_bound(failure, f"decide-{t.task.pk}", DecideForm) if t.decide else None,
            assign=(
                _bound(failure, f"assign-{t.task.pk}", AssignForm, colleagues=t.colleagues)
                if t.assign and t.colleagues
                else None
            ),
        )
        for t in actions.tasks
    ]
    material_rows = display.material_rows(case, selectors.current_materials(case), language)
    changed = history.changed_fields(case, events)
    form_rows = display.form_rows(case, handling, language, identifiers=identifiers, changed=changed)
    posted = failure.posted if failure is not None and failure.key == "correction" else None
    material_problems, field_problems = display.correction_rows(case, material_rows, form_rows, posted=posted)
    applicant_id = case.applicant_id_number or ""
    context = _context(
        request,
        "workbench:cases",
        case=case,
        clock=now,
        deadlines={
            "acceptance": progress.acceptance(case, now),
            "promised": progress.promised(case, now),
            "statutory": progress.statutory(case, now),
        },
        applicant_id=applicant_id if identifiers else mask_id_number(applicant_id),
        identifiers=identifiers,
        department_name=case.department.display_name(language),
        flow=display.flow(case, language, tasks, handling),
        form_rows=form_rows,
        changed_count=sum(1 for r in form_rows if r.changed),
        material_rows=material_rows,
        may_open_materials=authz.allowed(request.user, HANDLE),
        superseded=selectors.superseded_materials(case),
        findings=display.findings(case),
        timeline=display.timeline(events, language),
        notices=[NoticeRow(n.number, documents.notice_title(n.kind), n.issued_at) for n in selectors.notices(case)],
        supervision=selectors.case_supervision(case),
        procedures=procedures,
        task_rows=[
            TaskRow(t, t.display_step(language), t.department.display_name(language), progress.step(t, case, now))
            for t in tasks
        ],
        actions=actions,
        panels=panels,
        material_problems=material_problems,
        field_problems=field_problems,
        accept_form=_bound(failure, "accept", NoteForm),
        refuse_form=_bound(failure, "refuse", ReasonsForm),
        procedure_start_form=_bound(failure, "procedure_start", ProcedureStartForm, names=actions.procedure_names),
        procedure_end_form=_bound(failure, "procedure_end", ResultForm),
        extend_form=_bound(failure, "extend", ExtendForm),
        deliver_form=_bound(failure, "deliver", DeliverForm),
        failure=failure,
    )
    return render(request, "workbench/cases/case.html", context, status=status)


@require_http_methods(["GET", "HEAD"])
@_guard(*READERS)
def case(request: HttpRequest, number: str) -> HttpResponse:
    return _render_case(request, selectors.case_for_staff(request.user, number))


def _act(
    request: HttpRequest,
    case: Case,
    key: str,
    form: forms.Form,
    run: Callable[[dict[str, Any]], str],
    *,
    anchor: str = "actions",
) -> HttpResponse:
    """Run one action: the service's refusal is shown beside the form (nothing changed); success redirects."""
    if form.is_valid():
        try:
            message = run(form.cleaned_data)
        except NotFound:
            raise
        except DomainError as exc:
            show_domain_error(form, exc)
            return _render_case(request, case, failure=Failure(key, form), status=exc.http_status)
        messages.success(request, message)
        return redirect(_case_url(case, anchor))
    return _render_case(request, case, failure=Failure(key, form), status=400)


def _case_and_task(request: HttpRequest, number: str, task_id: int) -> tuple[Case, CaseTask]:
    case = selectors.case_for_staff(request.user, number)
    task = selectors.task_for_staff(request.user, task_id)
    if task.case_id != case.pk:
        raise NotFound(_("No such task."))
    return case, task


# Posted names of the correction form: problem-slot-<n> / reason-slot-<n>, problem-field-<name> / reason-field-<name>.
PROBLEM_KEY = re.compile(r"^problem-(slot|field)-(.{1,64})$")
MAX_PROBLEMS = 300


def parse_problems(posted: Mapping[str, Any]) -> list[Problem]:
    """The ticked problems in the order the form lists them; a slot that is not a number is no slot at all."""
    problems: list[Problem] = []
    for key in posted:
        match = PROBLEM_KEY.match(key)
        if match is None:
            continue
        kind, name = match.groups()
        reason = str(posted.get(f"reason-{kind}-{name}", ""))
        if kind == "slot":
            if not name.isdigit():
                raise invalid_field("slot", _("This item has no such material."))
            problems.append(Problem(reason, slot=int(name)))
        else:
            problems.append(Problem(reason, field=name))
        if len(problems) > MAX_PROBLEMS:
            raise InvalidInput(_("Too many problems in one notice."))
    return problems


@require_POST
@_guard(HANDLE)
def case_correction(request: HttpRequest, number: str) -> HttpResponse:
    case = selectors.case_for_staff(request.user, number)
    try:
        problems = parse_problems(request.POST)
        notice = services.request_correction(actor=request.user, case=case, problems=problems)
    except NotFound:
        raise
    except DomainError as exc:
        errors = [str(d.get("message")) for d in exc.details if d.get("message")] or [str(exc.message)]
        failure = Failure("correction", errors=tuple(dict.fromkeys(errors)), posted=request.POST)
        return _render_case(request, case, failure=failure, status=exc.http_status)
    messages.success(
        request,
        _("The correction notice %(number)s lists %(count)s problem(s); the applicant has been told.")
        % {"number": notice.number, "count": len(problems)},
    )
    return redirect(_case_url(case))


@require_POST
@_guard(HANDLE)
def case_accept(request: HttpRequest, number: str) -> HttpResponse:
    case = selectors.case_for_staff(request.user, number)

    def run(data: dict[str, Any]) -> str:
        notice = services.accept(actor=request.user, case=case, note=data["note"])
        return _("Case accepted; notice of acceptance %(number)s issued.") % {"number": notice.number}

    return _act(request, case, "accept", _form(NoteForm, "accept", request.POST), run)


@require_POST
@_guard(HANDLE)
def case_refuse(request: HttpRequest, number: str) -> HttpResponse:
    case = selectors.case_for_staff(request.user, number)

    def run(data: dict[str, Any]) -> str:
        notice = services.refuse(actor=request.user, case=case, reasons=data["reasons"])
        return _("Application not accepted; notice %(number)s issued.") % {"number": notice.number}

    return _act(request, case, "refuse", _form(ReasonsForm, "refuse", request.POST), run)


@require_POST
@_guard(HANDLE)
def task_complete(request: HttpRequest, number: str, task_id: int) -> HttpResponse:
    case, task = _case_and_task(request, number, task_id)

    def run(data: dict[str, Any]) -> str:
        services.complete_step(actor=request.user, task=task, opinion=data["opinion"])
        return _("Step “%(step)s” completed.") % {"step": task.display_step(_language(request))}

    return _act(request, case, f"complete-{task.pk}", _form(OpinionForm, f"complete-{task.pk}", request.POST), run)


@require_POST
@_guard(HANDLE)
def task_return(request: HttpRequest, number: str, task_id: int) -> HttpResponse:
    case, task = _case_and_task(request, number, task_id)

    def run(data: dict[str, Any]) -> str:
        services.return_step(actor=request.user, task=task, reason=data["reason"])
        return _("The case went back to the previous step.")

    return _act(request, case, f"return-{task.pk}", _form(ReasonForm, f"return-{task.pk}", request.POST), run)


@require_POST
@_guard(HANDLE)
def task_decide(request: HttpRequest, number: str, task_id: int) -> HttpResponse:
    case, task = _case_and_task(request, number, task_id)

    def run(data: dict[str, Any]) -> str:
        notice = services.decide(actor=request.user, task=task, outcome=data["outcome"], reasons=data["reasons"])
        return _("Decision made; %(title)s %(number)s issued.") % {
            "title": documents.notice_title(notice.kind),
            "number": notice.number,
        }

    return _act(request, case, f"decide-{task.pk}", _form(DecideForm, f"decide-{task.pk}", request.POST), run)


@require_POST
@_guard(HANDLE)
def task_assign(request: HttpRequest, number: str, task_id: int) -> HttpResponse:
    case, task = _case_and_task(request, number, task_id)
    key = f"assign-{task.pk}"
    form = _form(AssignForm, key, request.POST, colleagues=tuple(display.colleagues(task, request.user)))

    def run(data: dict[str, Any]) -> str:
        colleague = form.colleagues[data["assignee"]]  # type: ignore[attr-defined]
        services.assign(actor=request.user, task=task, assignee=colleague)
        return _("Task handed to %(name)s.") % {"name": colleague.get_full_name() or colleague.get_username()}

    return _act(request, case, key, form, run)


@require_POST
@_guard(HANDLE)
def case_procedure_start(request: HttpRequest, number: str) -> HttpResponse:
    case = selectors.case_for_staff(request.user, number)
    names = display.procedure_names(case)
    # Names the item does not list still reach the service, which says so in its words.
    names = tuple(dict.fromkeys([*names, request.POST.get("name", "")]))
    form = _form(ProcedureStartForm, "procedure_start", request.POST, names=names)

    def run(cleaned: dict[str, Any]) -> str:
        procedure = services.start_special_procedure(
            actor=request.user, case=case, name=cleaned["name"], reason=cleaned["reason"]
        )
        return _("Special procedure “%(name)s” started.") % {"name": procedure.name}

    return _act(request, case, "procedure_start", form, run)


@require_POST
@_guard(HANDLE)
def case_procedure_end(request: HttpRequest, number: str) -> HttpResponse:
    case = selectors.case_for_staff(request.user, number)

    def run(data: dict[str, Any]) -> str:
        procedure = services.end_special_procedure(actor=request.user, case=case, result=data["result"])
        return _("Special procedure “%(name)s” ended.") % {"name": procedure.name}

    return _act(request, case, "procedure_end", _form(ResultForm, "procedure_end", request.POST), run)


@require_POST
@_guard(HANDLE)
def case_extend(request: HttpRequest, number: str) -> HttpResponse:
    case = selectors.case_for_staff(request.user, number)

    def run(data: dict[str, Any]) -> str:
        services.extend(actor=request.user, case=case, days=data["days"], reason=data["reason"])
        return _("Time limit extended by %(days)s days.") % {"days": data["days"]}

    return _act(request, case, "extend", _form(ExtendForm, "extend", request.POST), run)


@require_POST
@_guard(HANDLE)
def case_deliver(request: HttpRequest, number: str) -> HttpResponse:
    case = selectors.case_for_staff(request.user, number)

    def run(data: dict[str, Any]) -> str:
        services.deliver(actor=request.user, case=case, tracking_number=data["tracking_number"])
        return _("Delivery of the result recorded.")

    return _act(request, case, "deliver", _form(DeliverForm, "deliver", request.POST), run)


@require_http_methods(["GET", "HEAD"])
# Material files are the applicant's documents (an ID card scan among them): the staff who handle the case
# open them; supervisors, who see masked identifiers everywhere, do not (authz.may_see_identifiers).
@_guard(HANDLE)
def case_material(request: HttpRequest, number: str, material_id: int) -> HttpResponseBase:
    case = selectors.case_for_staff(request.user, number)
    material = selectors.material_with_file(case, material_id)
    if material is None or material.file is None:
        raise NotFound(_("No such material."))
    try:
        handle = material.file.file.open("rb")
    except FileNotFoundError:
        raise NotFound(_("No such material.")) from None
    response = FileResponse(
        handle, as_attachment=True, filename=material.file.original_name, content_type=material.file.content_type
    )
    _private(response)
    return response


@require_http_methods(["GET", "HEAD"])
@_guard(*READERS)
def case_notice(request: HttpRequest, number: str, notice_number: str) -> HttpResponse:
    case = selectors.case_for_staff(request.user, number)
    notice = next((n for n in selectors.notices(case) if n.number == notice_number), None)
    if notice is None:
        raise NotFound(_("No such notice."))
    response = HttpResponse(documents.render_notice(notice.content), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{notice.number}.pdf"'
    _private(response)
    return response


def _private(response: HttpResponseBase) -> None:
    # Personal data: never sniffed into something executable, never kept by a shared cache.
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"


# ---------------------------------------------------------------------------------------------------------
# Walk-in applications at the window (线上线下一体)
# ---------------------------------------------------------------------------------------------------------

# Our own inputs carry hyphens: the item's form fields cannot (catalogue.handling.FIELD_NAME), so never collide.
ITEM_INPUT = "walk-in-item"
ID_INPUT = "person-id-number"
NAME_INPUT = "person-name"
KEY_INPUT = "idempotency-key"


@dataclass(frozen=True)
class UploadSlot:
    slot: int
    name: str
    required: bool
    checked: bool


@require_http_methods(["GET", "HEAD", "POST"])
@_guard(ACCEPT)
def walk_in(request: HttpRequest) -> HttpResponse:
    items = display.walk_in_items(request.user)
    chosen = request.POST.get(ITEM_INPUT) if request.method == "POST" else request.GET.get("item")
    version = next((v for v in items if str(v.pk) == chosen), None)
    if chosen and version is None:
        raise NotFound(_("Your department offers no such item now."))
    if version is None:
        return render(request, "workbench/cases/walk_in.html", _context(request, "workbench:walk_in", items=items))
    if request.method == "POST":
        return _walk_in_submit(request, version, items)
    return _walk_in_form(request, version, items, data={}, key=uuid.uuid4().hex)


def _walk_in_form(
    request: HttpRequest,
    version: ItemVersion,
    items: list[ItemVersion],
    *,
    data: Mapping[str, Any],
    key: str,
    problems: list[item_forms.FieldProblem] | None = None,
    errors: Mapping[str, list[str]] | None = None,
    status: int = 200,
) -> HttpResponse:
    handling = handling_for(version)
    language = _language(request)
    checked = {int(s) for s in request.POST.getlist("original") if s.isdigit()} if request.method == "POST" else set()
    slots = [
        UploadSlot(i, str(m.get("name", "")), bool(m.get("required")), i in checked)
        for i, m in enumerate(version.content.get("materials") or [])
    ]
    context = _context(
        request,
        "workbench:walk_in",
        items=items,
        version=version,
        sections=item_forms.render_fields(handling, data, problems or [], language),
        slots=slots,
        key=key,
        id_number=request.POST.get(ID_INPUT, "") if request.method == "POST" else "",
        name=request.POST.get(NAME_INPUT, "") if request.method == "POST" else "",
        errors=errors or {},
        inputs={"item": ITEM_INPUT, "id": ID_INPUT, "name": NAME_INPUT, "key": KEY_INPUT},
    )
    return render(request, "workbench/cases/walk_in.html", context, status=status)


def _walk_in_submit(request: HttpRequest, version: ItemVersion, items: list[ItemVersion]) -> HttpResponse:
    handling = handling_for(version)
    data = item_forms.coerce(handling, request.POST)
    id_number = request.POST.get(ID_INPUT, "").strip()
    name = request.POST.get(NAME_INPUT, "").strip()
    # What the clerk typed above fills the form's own applicant fields when they were left blank.
    for field, prop in handling.properties.items():
        fact = prop.get("x-prefill")
        if fact == "person.name" and not data.get(field) and name:
            data[field] = name
        elif fact == "person.id_number" and not data.get(field) and id_number:
            data[field] = id_number.upper()
    slots = range(len(version.content.get("materials") or []))
    uploads: dict[int, UploadedFile[Any]] = {}
    for slot in slots:
        upload = request.FILES.get(f"material-{slot}")
        if isinstance(upload, UploadedFile):
            uploads[slot] = upload
    originals = [slot for slot in slots if str(slot) in request.POST.getlist("original")]
    key = request.POST.get(KEY_INPUT, "")[:64] or None
    try:
        case = services.window_apply(
            actor=request.user,
            version=version,
            id_number=id_number,
            name=name,
            data=data,
            uploads=uploads,
            originals_checked=originals,
            idempotency_key=key,
        )
    except NotFound:
        raise
    except DomainError as exc:
        problems, errors = _walk_in_errors(exc, handling.properties, handling.label, _language(request))
        return _walk_in_form(
            request,
            version,
            items,
            data=data,
            key=key or uuid.uuid4().hex,
            problems=problems,
            errors=errors,
            status=exc.http_status,
        )
    messages.success(request, _("Walk-in application received as case %(number)s.") % {"number": case.number})
    return redirect(_case_url(case))


def _walk_in_errors(
    exc: DomainError, properties: Mapping[str, Any], label: Callable[[str, str | None], str], language: str
) -> tuple[list[item_forms.FieldProblem], dict[str, list[str]]]:
    """The service's details beside their inputs: the item's form fields, the person, or the top of the page."""
    problems: list[item_forms.FieldProblem] = []
    errors: dict[str, list[str]] = {"top": []}
    placed: set[str] = set()
    for detail in exc.details:
        field, message = str(detail.get("field", "")), str(detail.get("message") or exc.message)
        if field in properties:
            problems.append(item_forms.FieldProblem(field, label(field, language), message))
        elif field in ("id_number", "name"):
            errors.setdefault(field, []).append(message)
            placed.add(message)
        elif message not in errors["top"]:
            errors["top"].append(message)
    if str(exc.message) not in placed and str(exc.message) not in errors["top"]:
        errors["top"].insert(0, str(exc.message))
    return problems, errors


# ---------------------------------------------------------------------------------------------------------
# Supervision (电子监察)
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RecordRow:
    record: Any
    subject: str  # the step warned about, or the whole case (its promised or statutory limit)
    form: forms.Form | None


def _supervision_filters(source: Mapping[str, Any]) -> tuple[str, str]:
    level = str(source.get("level", ""))
    status = str(source.get("status", ""))
    return (
        level if level in WarningLevel.values else "",
        status if status in SupervisionStatus.values else "",
    )


def _render_supervision(
    request: HttpRequest, *, failed: int | None = None, form: forms.Form | None = None, status: int = 200
) -> HttpResponse:
    level, record_status = _supervision_filters(request.GET if request.method != "POST" else request.POST)
    page = _page(request, selectors.supervision_records(request.user, level=level, status=record_status))
    language = _language(request)
    rows = []
    for record in page.object_list:
        key = f"follow-up-{record.pk}"
        if record.status == SupervisionStatus.CLOSED:
            row_form = None
        elif failed == record.pk and form is not None:
            row_form = form
        else:
            row_form = _form(FollowUpForm, key)
        subject = record.task.display_step(language) if record.task is not None else _("The whole case")
        rows.append(RecordRow(record, subject, row_form))
    bars = display.load_bars(selectors.region_overview(request.user), language)
    context = _context(
        request,
        "workbench:supervision",
        page=page,
        rows=rows,
        level=level,
        status=record_status,
        levels=WarningLevel.choices,
        statuses=SupervisionStatus.choices,
        query=_query(level=level, status=record_status),
        bars=bars,
        chart_height=max(1, len(bars)) * display.CHART_ROW_HEIGHT + 10,
        bar_x=display.CHART_LABEL_WIDTH,
        failed=failed,
    )
    return render(request, "workbench/cases/supervision.html", context, status=status)


@require_http_methods(["GET", "HEAD"])
@_guard(SUPERVISE)
def supervision(request: HttpRequest) -> HttpResponse:
    return _render_supervision(request)


@require_POST
@_guard(SUPERVISE)
def supervision_follow_up(request: HttpRequest, record_id: int) -> HttpResponse:
    record = selectors.supervision_record(request.user, record_id)
    form = _form(FollowUpForm, f"follow-up-{record.pk}", request.POST)
    if form.is_valid():
        try:
            services.follow_up(actor=request.user, record=record, note=form.cleaned_data["note"])
        except NotFound:
            raise
        except DomainError as exc:
            show_domain_error(form, exc)
            return _render_supervision(request, failed=record.pk, form=form, status=exc.http_status)
        messages.success(request, _("Follow-up recorded for case %(number)s.") % {"number": record.case.number})
        level, record_status = _supervision_filters(request.POST)
        query = _query(level=level, status=record_status)
        return redirect(reverse("workbench:supervision") + (f"?{query}" if query else ""))
    return _render_supervision(request, failed=record.pk, form=form, status=400)
