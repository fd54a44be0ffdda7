"""The staff workbench (工作台): pages for government staff, each guarded by one authz action.

Every page answers the same way to the wrong visitor: anonymous → the sign-in page (and back here after);
signed in but not allowed (a citizen, or staff whose roles do not include the page) → a 403 page. What a
page lists is scoped by the selectors it calls, never by the view.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django import forms
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Page, Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from yiwang.audit import selectors as audit_selectors
from yiwang.catalogue import selectors as catalogue
from yiwang.catalogue import services as catalogue_services
from yiwang.common.errors import InvalidInput
from yiwang.identity import authz, lookups
from yiwang.identity.constants import Role
from yiwang.portal.account_forms import show_domain_error
from yiwang.workbench import case_display, selectors

PAGE_SIZE = 50
View = Callable[..., HttpResponse]


@dataclass(frozen=True)
class Task:
    action: str  # the authz action that opens the page
    url_name: str
    title: str | Promise
    description: str | Promise


TASKS = [
    Task(
        "staff.workbench",
        "workbench:items",
        gettext_lazy("My department's catalogue items"),
        gettext_lazy("The service items of your department in your region, with the status of their latest version."),
    ),
    Task(
        lookups.LOOKUP,
        "workbench:persons",
        gettext_lazy("Person lookup"),
        gettext_lazy("Look a person up in the population register by ID number. Every lookup is recorded."),
    ),
    Task(
        selectors.SUPERVISE,
        "workbench:region",
        gettext_lazy("Region overview"),
        gettext_lazy("Service items in force and staff in each area of your region."),
    ),
    Task(
        "licences.manage",
        "workbench:licences",
        gettext_lazy("Licences issued by my department"),
        gettext_lazy("Suspend, reinstate, revoke, re-issue or change the electronic licences your department issued."),
    ),
    # Two actions open each of these pages; a member holding both sees the page once (tasks_for).
    Task(
        "sharing.audit",
        "workbench:access_log",
        gettext_lazy("Data access log"),
        gettext_lazy("Every read of personal or enterprise data through data sharing; check the log's chain."),
    ),
    Task(
        "sharing.consume",
        "workbench:access_log",
        gettext_lazy("Data access log"),
        gettext_lazy("The reads your department made through data sharing, and those of its resources."),
    ),
    Task(
        "catalogue.manage",
        "workbench:once_only",
        gettext_lazy("Materials not handed in"),
        gettext_lazy("Per service item, the share of materials supplied by data sharing or licences."),
    ),
    Task(
        "supervision.view",
        "workbench:once_only",
        gettext_lazy("Materials not handed in"),
        gettext_lazy("Per service item, the share of materials supplied by data sharing or licences."),
    ),
    Task(
        "sharing.browse",
        "workbench:sharing",
        gettext_lazy("Data resource catalogue"),
        gettext_lazy("The data resources departments share, their fields and conditions; ask for a grant."),
    ),
    Task(
        "sharing.provide",
        "workbench:sharing_inbox",
        gettext_lazy("Grants on my department's data"),
        gettext_lazy("Approve, narrow, refuse or revoke other departments' use of the data your department provides."),
    ),
    Task(
        "sharing.consume",
        "workbench:sharing_mine",
        gettext_lazy("My department's data grants"),
        gettext_lazy("The shared data your department may use, and its pending requests."),
    ),
    Task(
        audit_selectors.READ,
        "workbench:audit",
        gettext_lazy("Audit log"),
        gettext_lazy("Who did what, and when, across the platform."),
    ),
]


def tasks_for(user: Any) -> list[Task]:
    tasks: list[Task] = []
    for task in TASKS:
        if all(t.url_name != task.url_name for t in tasks) and authz.allowed(user, task.action):
            tasks.append(task)
    return tasks


def forbidden(request: HttpRequest) -> HttpResponse:
    subject = authz.subject_of(request.user)
    if subject.is_staff_member or subject.is_admin:
        message = _("Your roles do not include this page. Ask your administrator if you need it.")
    else:
        message = _("The workbench is for government staff. Citizens and enterprises use their own account pages.")
    return render(
        request,
        "workbench/forbidden.html",
        {"message": message, "tasks": tasks_for(request.user), "nav": "workbench"},
        status=403,
    )


def staff_page(action: str) -> Callable[[View], View]:
    """Guard a page by ``action``: anonymous visitors sign in first; anyone else not allowed gets 403."""

    def decorate(view: View) -> View:
        @wraps(view)
        def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if not authz.allowed(request.user, action):
                return forbidden(request)
            return view(request, *args, **kwargs)

        return guarded

    return decorate


def _context(request: HttpRequest, current: str, **extra: Any) -> dict[str, Any]:
    return {"tasks": tasks_for(request.user), "current": current, "nav": "workbench", **extra}


def _page(request: HttpRequest, rows: Any) -> Page[Any]:
    return Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))


@require_http_methods(["GET", "HEAD"])
@staff_page("workbench.enter")
def home(request: HttpRequest) -> HttpResponse:
    subject = authz.subject_of(request.user)
    labels = [str(Role(r).label) for r in sorted(subject.roles) if r in Role.values]  # 审查人员, not "reviewer"
    # The case queue at a glance (staff who handle cases): how much waits and how much is late or nearly so.
    summary = case_display.queue_summary(request.user)
    return render(request, "workbench/home.html", _context(request, "home", roles=labels, queue_summary=summary))


@require_http_methods(["GET", "HEAD"])
@staff_page("staff.workbench")
def items(request: HttpRequest) -> HttpResponse:
    page = _page(request, catalogue.department_items(request.user))
    # Links into the catalogue admin only for those who may edit there (role, scope and the admin permission).
    user: Any = request.user
    may_edit = catalogue_services.can(user, catalogue_services.MANAGE) and user.has_perm(
        catalogue_services.MANAGE_PERMISSION
    )
    return render(request, "workbench/items.html", _context(request, "workbench:items", page=page, may_edit=may_edit))


class PersonLookupForm(forms.Form):
    id_number = forms.CharField(
        label=gettext_lazy("ID number"),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "inputmode": "text"}),
    )


# POST, not GET: an ID number must not end up in a URL, the browser history or an access log.
@require_http_methods(["GET", "HEAD", "POST"])
@staff_page(lookups.LOOKUP)
def persons(request: HttpRequest) -> HttpResponse:
    form = PersonLookupForm(request.POST or None)
    record = None
    searched = False
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            record = lookups.look_up_person(actor=request.user, id_number=form.cleaned_data["id_number"])
        except InvalidInput as exc:
            show_domain_error(form, exc)
        else:
            searched = True
            # As the API answers: "not here" for unknown and out-of-region alike.
            status = 200 if record is not None else 404
    context = _context(request, "workbench:persons", form=form, record=record, searched=searched)
    return render(request, "workbench/persons.html", context, status=status)


@require_http_methods(["GET", "HEAD"])
@staff_page(audit_selectors.READ)
def audit(request: HttpRequest) -> HttpResponse:
    action = request.GET.get("action", "")[:80]
    page = _page(request, audit_selectors.audit_log(request.user, action=action))
    context = _context(request, "workbench:audit", page=page, action=action, actions=audit_selectors.actions_in_log())
    return render(request, "workbench/audit.html", context)


@dataclass(frozen=True)
class Bar:
    label: str
    items: int
    staff: int
    y: int
    items_width: float
    staff_width: float

    @property
    def items_end(self) -> float:  # where the bar's number is written
        return CHART_LABEL_WIDTH + self.items_width + 6

    @property
    def staff_end(self) -> float:
        return CHART_LABEL_WIDTH + self.staff_width + 6


CHART_LABEL_WIDTH = 150
CHART_BAR_SPACE = 380  # the longest bar; numbers follow it
CHART_ROW_HEIGHT = 40


@require_http_methods(["GET", "HEAD"])
@staff_page(selectors.SUPERVISE)
def region(request: HttpRequest) -> HttpResponse:
    overview = selectors.region_overview(request.user)
    language = request.LANGUAGE_CODE
    most = max([1, *(max(r.items, r.staff) for r in overview.rows)])
    bars = []
    for index, row in enumerate(overview.rows):
        name = row.division.display_name(language)
        label = _("%(name)s (own level)") % {"name": name} if row.own_level else name
        bars.append(
            Bar(
                label=label,
                items=row.items,
                staff=row.staff,
                y=index * CHART_ROW_HEIGHT,
                items_width=round(row.items / most * CHART_BAR_SPACE, 1),
                staff_width=round(row.staff / most * CHART_BAR_SPACE, 1),
            )
        )
    context = _context(
        request,
        "workbench:region",
        overview=overview,
        division_name=overview.division.display_name(language),
        bars=bars,
        chart_height=max(1, len(bars)) * CHART_ROW_HEIGHT + 10,
        bar_x=CHART_LABEL_WIDTH,
    )
    return render(request, "workbench/region.html", context)
