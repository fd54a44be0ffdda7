"""Staff pages for the licences a department issued: the list, and one licence with its versions, its history and
the approvers' actions — suspend (暂扣), reinstate, revoke (吊销/撤销), re-issue (补证), change (变更).

The views are thin: what an approver reaches is decided by ``licences.staff`` (scoped by ``identity.authz``), what
they may do by ``licences.lifecycle``. Anonymous visitors are sent to sign in; signed-in people without
``licences.manage`` get the workbench's 403 page; another department's licence answers 404 as if it did not exist.
Every action is a POST to its own URL that calls one service: on success it redirects to the licence (the new
version's page after a re-issue or change) with a message; on a refusal the page is shown again with the service's
translated error beside the form (and summarised at the top), and nothing has changed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from yiwang.common.errors import DomainError, NotFound, invalid_field
from yiwang.common.masking import mask_id_number
from yiwang.identity import authz
from yiwang.licences import lifecycle, staff, wallet
from yiwang.licences.constants import LicenceStatus, Verdict
from yiwang.licences.models import Licence
from yiwang.licences.verification import mask_holder_name
from yiwang.portal.account_forms import show_domain_error
from yiwang.portal.labels import is_chinese
from yiwang.portal.views import not_found
from yiwang.workbench.views import PAGE_SIZE, forbidden, tasks_for

MANAGE = lifecycle.MANAGE
View = Callable[..., HttpResponseBase]

# The portal's status badges (portal.css): a colour always beside the words, never alone (WCAG 1.4.1).
STATUS_CLASS = {
    Verdict.VALID: "status-in_force",
    Verdict.SUSPENDED: "status-pending",
    Verdict.REVOKED: "status-revoked",
    Verdict.EXPIRED: "status-expired",
    Verdict.SUPERSEDED: "status-expired",
}

HISTORY_LABELS = {
    "licences.issued": gettext_lazy("Issued"),
    "licences.suspended": gettext_lazy("Suspended"),
    "licences.reinstated": gettext_lazy("Reinstated"),
    "licences.revoked": gettext_lazy("Revoked"),
    "licences.expiry_reminded": gettext_lazy("Expiry reminder sent to the holder"),
}


def _guard(view: View) -> View:
    """Anonymous → sign in (and back to the page, or to the licence an action was posted for); signed in without
    ``licences.manage`` → 403; a licence outside the actor's scope (``NotFound``) → 404."""

    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if not request.user.is_authenticated:
            back = request.get_full_path()
            if request.method == "POST":
                pk = kwargs.get("pk")
                back = reverse("workbench:licence", args=[pk]) if pk else reverse("workbench:licences")
            return redirect_to_login(back)
        if not authz.allowed(request.user, MANAGE):
            return forbidden(request)
        try:
            return view(request, *args, **kwargs)
        except NotFound as exc:
            return not_found(request, str(exc.message))

    return guarded


def _context(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    return {"tasks": tasks_for(request.user), "current": "workbench:licences", "nav": "workbench", **extra}


def _type_name(licence: Licence) -> str:
    licence_type = licence.licence_type
    return licence_type.name_en if not is_chinese() and licence_type.name_en else licence_type.name


@dataclass(frozen=True)
class State:
    value: str
    label: str
    css: str


def _state(licence: Licence) -> State:
    verdict = wallet.state_of(licence)
    return State(str(verdict), str(verdict.label), STATUS_CLASS[verdict])


# ---------------------------------------------------------------------------------------------------------
# The list
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListRow:
    licence: Licence
    type_name: str
    holder_name: str  # masked: a list never names a holder in full
    state: State


@require_http_methods(["GET", "HEAD"])
@_guard
def licences(request: HttpRequest) -> HttpResponse:
    status = str(request.GET.get("status") or "")
    query = str(request.GET.get("q") or "").strip()[: staff.QUERY_LIMIT]
    try:
        found = staff.department_licences(request.user, query=query, status=status)
    except DomainError as exc:
        messages.error(request, str(exc.message))
        status = ""
        found = staff.department_licences(request.user, query=query)
    page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        ListRow(
            licence, _type_name(licence), mask_holder_name(licence.holder_name, licence.holder_kind), _state(licence)
        )
        for licence in page.object_list
    ]
    kept = {k: v for k, v in {"status": status, "q": query}.items() if v}
    context = _context(
        request,
        page=page,
        rows=rows,
        status=status,
        q=query,
        statuses=[(str(v), str(v.label)) for v in staff.FILTERS],
        query=urlencode(kept),
    )
    return render(request, "workbench/licences/list.html", context)


# ---------------------------------------------------------------------------------------------------------
# Forms (shape only: the services judge the content and give the messages)
# ---------------------------------------------------------------------------------------------------------


def _reason_field() -> forms.CharField:
    # Not required for Django: the service decides and says why in its own words; the browser is told.
    return forms.CharField(
        label=gettext_lazy("Reason"),
        required=False,
        strip=False,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": lifecycle.REASON_LIMIT, "required": True}),
    )


class ReasonForm(forms.Form):
    reason = _reason_field()


class RevokeForm(forms.Form):
    reason = _reason_field()
    confirm = forms.BooleanField(
        label=gettext_lazy("I understand that revocation is final: the licence can never be valid again."),
        required=False,  # the view refuses an unticked box in words; the browser is told as well
        widget=forms.CheckboxInput(attrs={"required": True}),
    )


FIELD_PREFIX = "data_"
VALUE_LIMIT = 500  # lifecycle.change keeps at most 500 characters of a value: longer is refused here, not cut
HOLDER_NAME_LIMIT = 200


class ChangeForm(forms.Form):
    """The reason, one input per field of the licence's type (pre-filled with the current value) and the holder."""

    reason = _reason_field()
    holder_name = forms.CharField(
        label=gettext_lazy("Holder"),
        required=False,
        max_length=HOLDER_NAME_LIMIT,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )

    def __init__(self, *args: Any, licence: Licence, **kwargs: Any) -> None:
        data = licence.data or {}
        initial = {"holder_name": licence.holder_name}
        initial.update({f"{FIELD_PREFIX}{f['key']}": str(data.get(f["key"], "")) for f in licence.licence_type.fields})
        super().__init__(*args, **{**kwargs, "initial": initial})
        english = not is_chinese()
        self.keys: list[str] = []
        for field in licence.licence_type.fields:
            key = str(field["key"])
            self.keys.append(key)
            self.fields[f"{FIELD_PREFIX}{key}"] = forms.CharField(
                label=str((english and field.get("label_en")) or field.get("label") or key),
                required=False,
                max_length=VALUE_LIMIT,
                widget=forms.TextInput(attrs={"autocomplete": "off"}),
            )
        # The reason first, then the holder, then the type's fields (the order a reader checks them in).
        self.order_fields(["reason", "holder_name", *(f"{FIELD_PREFIX}{k}" for k in self.keys)])

    def changes(self) -> dict[str, str]:
        return {key: self.cleaned_data[f"{FIELD_PREFIX}{key}"] for key in self.keys}

    def service_fields(self) -> dict[str, str]:
        """The service's names for this form's fields (``changes.<key>``), for its errors to land beside them."""
        return {f"changes.{key}": f"{FIELD_PREFIX}{key}" for key in self.keys}


# Posted field names the type does not have (a stale page after the type changed, a hand-made request): they reach
# the service, which refuses them in its own words, instead of being dropped without a word.
POSTED_FIELD = re.compile(rf"^{FIELD_PREFIX}([a-z][a-z0-9_]{{0,63}})$")
MAX_POSTED_FIELDS = 100


def _unknown_changes(posted: Mapping[str, Any], known: list[str]) -> dict[str, str]:
    found: dict[str, str] = {}
    for name in list(posted)[:MAX_POSTED_FIELDS]:
        match = POSTED_FIELD.match(name)
        if match is not None and match.group(1) not in known:
            found[match.group(1)] = str(posted.get(name, ""))
    return found


ACTION_KEYS = ("suspend", "reinstate", "revoke", "reissue", "change")


def _forms(licence: Licence, failure: Failure | None) -> dict[str, forms.Form]:
    """The actions the licence's status allows, each form fresh or — for the one refused — as posted."""
    status = licence.status
    keys: list[str] = []
    if status == LicenceStatus.VALID:
        keys = ["suspend", "revoke", "reissue", "change"]
    elif status == LicenceStatus.SUSPENDED:
        keys = ["reinstate", "revoke"]
    found: dict[str, forms.Form] = {}
    for key in keys:
        if failure is not None and failure.key == key:
            found[key] = failure.form
        elif key == "change":
            found[key] = ChangeForm(licence=licence, auto_id="change-%s")
        else:
            found[key] = (RevokeForm if key == "revoke" else ReasonForm)(auto_id=f"{key}-%s")
    return found


# ---------------------------------------------------------------------------------------------------------
# One licence
# ---------------------------------------------------------------------------------------------------------


@dataclass
class Failure:
    """The form a refused action came from, to show again with its errors and the posted values."""

    key: str
    form: forms.Form

    @property
    def messages(self) -> list[str]:
        return [str(e) for errors in self.form.errors.values() for e in errors]


@dataclass(frozen=True)
class VersionRow:
    licence: Licence
    state: State
    current: bool


@dataclass(frozen=True)
class HistoryRow:
    at: Any
    who: str
    what: str
    reason: str
    link: Licence | None  # the version a row names (the one this one was replaced by)


def _data_rows(licence: Licence) -> list[tuple[str, str]]:
    """Every value the licence holds: the type's fields in the layout's order, labelled in the page's language,
    then anything else the record carries (the item code of the case it came from)."""
    fields = {str(f["key"]): f for f in licence.licence_type.fields}
    order = [str(k) for k in (licence.licence_type.layout or {}).get("rows") or []]
    keys = [*order, *(k for k in fields if k not in order)]
    data = licence.data or {}
    keys += [k for k in data if k not in keys]
    english = not is_chinese()
    rows = []
    for key in keys:
        field = fields.get(key)
        if field is not None:
            label = str((english and field.get("label_en")) or field.get("label") or key)
        else:
            label = _("Item code") if key == "item_code" else key
        rows.append((label, str(data.get(key, ""))))
    return rows


def _history_rows(licence: Licence) -> list[HistoryRow]:
    rows = []
    for entry in staff.history(licence):
        record = entry.record
        after = record.after or {}
        if entry.successor is not None:
            what = _("Superseded by version %(version)s") % {"version": entry.successor.version}
        elif record.action == "licences.new_version":
            what = _("Issued as version %(version)s") % {"version": after.get("version", licence.version)}
        else:
            what = str(HISTORY_LABELS.get(record.action, record.action))
        rows.append(HistoryRow(record.at, record.actor_label, what, str(after.get("reason") or ""), entry.successor))
    return rows


def _render_detail(
    request: HttpRequest, licence: Licence, *, failure: Failure | None = None, status: int = 200
) -> HttpResponse:
    versions = staff.versions(request.user, licence)
    context = _context(
        request,
        licence=licence,
        type_name=_type_name(licence),
        issuer_name=licence.issuer.display_name("en" if not is_chinese() else None),
        state=_state(licence),
        # The brief of the workbench: identifiers masked on pages; the sealed file carries the full code.
        holder_code=mask_id_number(licence.holder_code),
        data_rows=_data_rows(licence),
        case_number=staff.case_number(licence),
        versions=[VersionRow(v, _state(v), v.pk == licence.pk) for v in versions],
        newest=versions[-1] if versions and versions[-1].pk != licence.pk else None,
        history=_history_rows(licence),
        forms=_forms(licence, failure),
        failure=failure,
    )
    return render(request, "workbench/licences/detail.html", context, status=status)


@require_http_methods(["GET", "HEAD"])
@_guard
def licence(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_detail(request, staff.licence_for_staff(request.user, pk))


def _act(
    request: HttpRequest,
    licence: Licence,
    key: str,
    form: forms.Form,
    run: Callable[[dict[str, Any]], tuple[Licence, str]],
    *,
    fields: Mapping[str, str] | None = None,
) -> HttpResponse:
    """Run one action: the service's refusal is shown beside the form (nothing changed); success redirects."""
    if not form.is_valid():
        return _render_detail(request, licence, failure=Failure(key, form), status=400)
    try:
        result, message = run(form.cleaned_data)
    except NotFound:
        raise
    except DomainError as exc:
        show_domain_error(form, exc, fields)
        return _render_detail(request, licence, failure=Failure(key, form), status=exc.http_status)
    messages.success(request, message)
    return redirect(reverse("workbench:licence", args=[result.pk]))


@require_POST
@_guard
def licence_suspend(request: HttpRequest, pk: int) -> HttpResponse:
    licence = staff.licence_for_staff(request.user, pk)

    def run(data: dict[str, Any]) -> tuple[Licence, str]:
        done = lifecycle.suspend(actor=request.user, licence=licence, reason=data["reason"])
        return done, _("Licence %(identifier)s suspended.") % {"identifier": done.identifier}

    return _act(request, licence, "suspend", ReasonForm(request.POST, auto_id="suspend-%s"), run)


@require_POST
@_guard
def licence_reinstate(request: HttpRequest, pk: int) -> HttpResponse:
    licence = staff.licence_for_staff(request.user, pk)

    def run(data: dict[str, Any]) -> tuple[Licence, str]:
        done = lifecycle.reinstate(actor=request.user, licence=licence, reason=data["reason"])
        return done, _("Licence %(identifier)s is valid again.") % {"identifier": done.identifier}

    return _act(request, licence, "reinstate", ReasonForm(request.POST, auto_id="reinstate-%s"), run)


@require_POST
@_guard
def licence_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    licence = staff.licence_for_staff(request.user, pk)

    def run(data: dict[str, Any]) -> tuple[Licence, str]:
        # Asked here, before the service: a revocation cannot be undone, so an unticked box changes nothing.
        if not data["confirm"]:
            raise invalid_field("confirm", _("Tick the box to confirm: a revoked licence can never be valid again."))
        done = lifecycle.revoke(actor=request.user, licence=licence, reason=data["reason"])
        return done, _("Licence %(identifier)s revoked.") % {"identifier": done.identifier}

    return _act(request, licence, "revoke", RevokeForm(request.POST, auto_id="revoke-%s"), run)


@require_POST
@_guard
def licence_reissue(request: HttpRequest, pk: int) -> HttpResponse:
    licence = staff.licence_for_staff(request.user, pk)

    def run(data: dict[str, Any]) -> tuple[Licence, str]:
        new = lifecycle.reissue(actor=request.user, licence=licence, reason=data["reason"])
        return new, _("Version %(version)s issued; the earlier version is superseded.") % {"version": new.version}

    return _act(request, licence, "reissue", ReasonForm(request.POST, auto_id="reissue-%s"), run)


@require_POST
@_guard
def licence_change(request: HttpRequest, pk: int) -> HttpResponse:
    licence = staff.licence_for_staff(request.user, pk)
    form = ChangeForm(request.POST, licence=licence, auto_id="change-%s")

    def run(data: dict[str, Any]) -> tuple[Licence, str]:
        changes = {**form.changes(), **_unknown_changes(request.POST, form.keys)}
        new = lifecycle.change(
            actor=request.user, licence=licence, reason=data["reason"], changes=changes, holder_name=data["holder_name"]
        )
        return new, _("Version %(version)s issued with the changes; the earlier version is superseded.") % {
            "version": new.version
        }

    return _act(request, licence, "change", form, run, fields=form.service_fields())
