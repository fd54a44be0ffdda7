"""Staff pages of data sharing (docs/sharing.md): the resource catalogue (政务信息资源目录) and its download, one
resource, asking for a grant, the provider's requests (approve, narrowed or not; refuse; revoke) and the
consumer's grants (withdraw a pending request).

The views are thin: what a member reaches is decided by ``sharing.selectors`` (scoped by ``identity.authz``), what
they may do by ``sharing.services``. Anonymous visitors are sent to sign in; signed-in people without the page's
action get the workbench's 403 page; another department's grant answers 404 as if it did not exist. A refused
action shows the page again with the service's translated error beside the form, and nothing has changed.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
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

from yiwang.catalogue.models import Organisation
from yiwang.common.errors import DomainError, NotFound
from yiwang.identity import authz
from yiwang.portal import labels
from yiwang.portal.account_forms import show_domain_error
from yiwang.portal.views import not_found
from yiwang.sharing import selectors, services
from yiwang.sharing.constants import GrantStatus, SharingType, SubjectKind
from yiwang.sharing.models import Grant, Resource
from yiwang.workbench.views import PAGE_SIZE, forbidden, tasks_for

View = Callable[..., HttpResponseBase]

# The portal's status badges (portal.css): a colour always beside the words, never alone (WCAG 1.4.1).
SHARING_CLASS = {
    SharingType.UNCONDITIONAL: "status-in_force",
    SharingType.CONDITIONAL: "status-pending",
    SharingType.NOT_SHARED: "status-revoked",
}
GRANT_CLASS = {
    GrantStatus.REQUESTED: "status-pending",
    GrantStatus.APPROVED: "status-in_force",
    GrantStatus.REFUSED: "status-revoked",
    GrantStatus.REVOKED: "status-revoked",
    GrantStatus.WITHDRAWN: "status-expired",
}


def guard(action: str, current: str) -> Callable[[View], View]:
    """Anonymous → sign in (back to the page, or to its list after a POST); not allowed → 403; NotFound → 404."""

    def decorate(view: View) -> View:
        @wraps(view)
        def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.is_authenticated:
                back = request.get_full_path() if request.method != "POST" else reverse(current)
                return redirect_to_login(back)
            if not authz.allowed(request.user, action):
                return forbidden(request)
            try:
                return view(request, *args, **kwargs)
            except NotFound as exc:
                return not_found(request, str(exc.message))

        return guarded

    return decorate


def page_context(request: HttpRequest, current: str, **extra: Any) -> dict[str, Any]:
    return {"tasks": tasks_for(request.user), "current": current, "nav": "workbench", **extra}


def _badge(resource: Resource) -> tuple[str, str]:
    return str(resource.get_sharing_type_display()), SHARING_CLASS[SharingType(resource.sharing_type)]


def _grant_badge(grant: Grant) -> tuple[str, str]:
    return str(grant.get_status_display()), GRANT_CLASS[GrantStatus(grant.status)]


def provider_name(resource: Resource) -> str:
    if resource.provider is None:
        return _("The platform (data management office)")
    return resource.provider.display_name(labels.language())


# ---------------------------------------------------------------------------------------------------------
# The catalogue
# ---------------------------------------------------------------------------------------------------------


@require_http_methods(["GET", "HEAD"])
@guard(services.BROWSE, "workbench:sharing")
def catalogue(request: HttpRequest) -> HttpResponse:
    filters = selectors.CatalogueFilters(
        provider=str(request.GET.get("provider") or "")[:20],
        sharing_type=str(request.GET.get("sharing_type") or ""),
        subject_kind=str(request.GET.get("subject") or ""),
        query=str(request.GET.get("q") or "").strip()[: selectors.QUERY_LIMIT],
    )
    page = Paginator(selectors.catalogue(request.user, filters), PAGE_SIZE).get_page(request.GET.get("page"))
    language = labels.language()
    rows = [
        {
            "resource": r,
            "name": r.display_name(language),
            "provider": provider_name(r),
            "badge": _badge(r),
            "fields": len(r.fields.all()),
        }
        for r in page.object_list
    ]
    providers = [
        (selectors.PLATFORM, _("The platform")),
        *((str(pk), name) for pk, name in selectors.providers(request.user)),
    ]
    kept = {
        "provider": filters.provider,
        "sharing_type": filters.sharing_type,
        "subject": filters.subject_kind,
        "q": filters.query,
    }
    context = page_context(
        request,
        "workbench:sharing",
        page=page,
        rows=rows,
        filters=filters,
        providers=providers,
        sharing_types=[(str(v), str(v.label)) for v in SharingType],
        subjects=[(str(v), str(v.label)) for v in SubjectKind],
        query=urlencode({k: v for k, v in kept.items() if v}),
        may_request=selectors.may_request(request.user),
    )
    return render(request, "workbench/sharing/catalogue.html", context)


@require_http_methods(["GET", "HEAD"])
@guard(services.BROWSE, "workbench:sharing")
def export(request: HttpRequest) -> HttpResponse:
    if request.GET.get("format") == "csv":
        response = HttpResponse(selectors.export_catalogue_csv(), content_type="text/csv; charset=utf-8")
        name = "sharing-catalogue.csv"
    else:
        text = json.dumps(selectors.export_catalogue(), ensure_ascii=False, indent=2)
        response = HttpResponse(text, content_type="application/json; charset=utf-8")
        name = "sharing-catalogue.json"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@require_http_methods(["GET", "HEAD"])
@guard(services.BROWSE, "workbench:sharing")
def resource(request: HttpRequest, pk: int) -> HttpResponse:
    found = selectors.resource_for_staff(request.user, pk)
    language = labels.language()
    grants = selectors.grants_on(request.user, found)
    context = page_context(
        request,
        "workbench:sharing",
        resource=found,
        name=found.display_name(language),
        provider=provider_name(found),
        badge=_badge(found),
        fields=[(f, f.display_name(language)) for f in found.fields.all()],
        grants=[(g, _grant_badge(g)) for g in grants] if grants is not None else None,
        may_request=(
            selectors.may_request(request.user) and found.is_active and found.sharing_type != SharingType.NOT_SHARED
        ),
    )
    return render(request, "workbench/sharing/resource.html", context)


# ---------------------------------------------------------------------------------------------------------
# Asking for a grant
# ---------------------------------------------------------------------------------------------------------


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _choices(form: forms.Form, name: str) -> forms.ChoiceField:
    field = form.fields[name]
    assert isinstance(field, forms.ChoiceField)
    return field


class RequestForm(forms.Form):
    fields_ = forms.MultipleChoiceField(
        label=gettext_lazy("Fields"), required=False, widget=forms.CheckboxSelectMultiple
    )
    purposes = forms.CharField(
        label=gettext_lazy("Purposes (one a line)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "required": True}),
    )
    items = forms.CharField(
        label=gettext_lazy("Service item codes (one a line; none: any item)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "spellcheck": "false"}),
    )
    until = forms.DateField(
        label=gettext_lazy("Needed until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    rate = forms.IntegerField(
        label=gettext_lazy("Queries a minute"), required=False, initial=60, min_value=0, max_value=1_000_000
    )
    justification = forms.CharField(
        label=gettext_lazy("Justification"),
        required=False,
        max_length=services.JUSTIFICATION_LIMIT,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, resource: Resource, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        language = labels.language()
        _choices(self, "fields_").choices = [(f.code, f.display_name(language)) for f in resource.fields.all()]


REQUEST_FIELDS = {"fields": "fields_", "rate_per_minute": "rate", "resource": "__all__"}


@require_http_methods(["GET", "HEAD", "POST"])
@guard(services.CONSUME, "workbench:sharing")
def request_grant(request: HttpRequest, pk: int) -> HttpResponse:
    found = selectors.resource_for_staff(request.user, pk)
    department_id = authz.subject_of(request.user).department_id
    if not selectors.may_request(request.user) or department_id is None:
        return forbidden(request)
    consumer = Organisation.objects.get(pk=department_id)
    form = RequestForm(request.POST or None, resource=found, initial={"rate": 60})
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                grant = services.request_grant(
                    actor=request.user,
                    resource=found,
                    consumer=consumer,
                    fields=data["fields_"],
                    purposes=_lines(data["purposes"]),
                    items=_lines(data["items"]),
                    until=data["until"],
                    rate_per_minute=data["rate"] if data["rate"] is not None else 0,
                    justification=data["justification"],
                )
            except NotFound:
                raise
            except DomainError as exc:
                show_domain_error(form, exc, REQUEST_FIELDS)
                status = exc.http_status
            else:
                if grant.status == GrantStatus.APPROVED:
                    messages.success(request, _("Granted: the resource is shared without conditions."))
                else:
                    messages.success(request, _("Your request was sent to the provider."))
                return redirect(reverse("workbench:sharing_mine"))
        else:
            status = 400
    context = page_context(
        request,
        "workbench:sharing",
        resource=found,
        name=found.display_name(labels.language()),
        provider=provider_name(found),
        consumer=consumer.display_name(labels.language()),
        form=form,
    )
    return render(request, "workbench/sharing/request.html", context, status=status)


# ---------------------------------------------------------------------------------------------------------
# The provider's requests and decisions
# ---------------------------------------------------------------------------------------------------------


def _field_names(grant: Grant, language: str) -> dict[str, str]:
    return {f.code: f.display_name(language) for f in grant.resource.fields.all()}


def _held_fields(grant: Grant, language: str) -> list[str]:
    """The names of the fields the grant holds, or asks for while undecided (a removed field keeps its code)."""
    names = _field_names(grant, language)
    held = grant.status in (GrantStatus.APPROVED, GrantStatus.REVOKED)
    return [names.get(c, c) for c in (grant.fields if held else grant.requested_fields)]


def _status_filter(request: HttpRequest) -> str:
    status = str(request.GET.get("status") or "")
    return status if status in GrantStatus.values else ""


@require_http_methods(["GET", "HEAD"])
@guard(services.PROVIDE, "workbench:sharing_inbox")
def inbox(request: HttpRequest) -> HttpResponse:
    status = _status_filter(request)
    page = Paginator(selectors.provided_grants(request.user, status), PAGE_SIZE).get_page(request.GET.get("page"))
    language = labels.language()
    context = page_context(
        request,
        "workbench:sharing_inbox",
        page=page,
        rows=[
            (g, _grant_badge(g), g.resource.display_name(language), g.consumer.display_name(language))
            for g in page.object_list
        ],
        status=status,
        statuses=[(str(v), str(v.label)) for v in GrantStatus],
        query=urlencode({"status": status} if status else {}),
    )
    return render(request, "workbench/sharing/inbox.html", context)


class ApproveForm(forms.Form):
    fields_ = forms.MultipleChoiceField(
        label=gettext_lazy("Fields granted"), required=False, widget=forms.CheckboxSelectMultiple
    )
    purposes = forms.MultipleChoiceField(
        label=gettext_lazy("Purposes granted"), required=False, widget=forms.CheckboxSelectMultiple
    )
    items = forms.MultipleChoiceField(
        label=gettext_lazy("Service items granted"), required=False, widget=forms.CheckboxSelectMultiple
    )
    until = forms.DateField(
        label=gettext_lazy("Valid until"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    rate = forms.IntegerField(label=gettext_lazy("Queries a minute"), required=False, min_value=0, max_value=1_000_000)
    note = forms.CharField(
        label=gettext_lazy("Note to the consumer"),
        required=False,
        max_length=services.REASON_LIMIT,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args: Any, grant: Grant, **kwargs: Any) -> None:
        initial = {
            "fields_": grant.requested_fields,
            "purposes": grant.requested_purposes,
            "items": grant.requested_items,
            "until": grant.requested_until,
            "rate": grant.requested_rate,
        }
        super().__init__(*args, **{**kwargs, "initial": initial})
        names = _field_names(grant, labels.language())
        _choices(self, "fields_").choices = [(c, f"{names.get(c, c)} ({c})") for c in grant.requested_fields]
        _choices(self, "purposes").choices = [(p, p) for p in grant.requested_purposes]
        if grant.requested_items:
            _choices(self, "items").choices = [(i, i) for i in grant.requested_items]
        else:
            del self.fields["items"]  # asked for any item: nothing to untick


class ReasonForm(forms.Form):
    # Not required for Django: the service decides and says why in its own words; the browser is told.
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": services.REASON_LIMIT, "required": True}),
    )


def _render_grant(
    request: HttpRequest, grant: Grant, *, failed: tuple[str, forms.Form] | None = None, status: int = 200
) -> HttpResponse:
    forms_: dict[str, forms.Form] = {}
    if grant.status == GrantStatus.REQUESTED:
        forms_["approve"] = ApproveForm(grant=grant, auto_id="approve-%s")
        forms_["refuse"] = ReasonForm(auto_id="refuse-%s")
    elif grant.status == GrantStatus.APPROVED:
        forms_["revoke"] = ReasonForm(auto_id="revoke-%s")
    if failed is not None:
        forms_[failed[0]] = failed[1]
    language = labels.language()
    names = _field_names(grant, language)
    context = page_context(
        request,
        "workbench:sharing_inbox",
        grant=grant,
        badge=_grant_badge(grant),
        resource_name=grant.resource.display_name(language),
        consumer=grant.consumer.display_name(language),
        asked_fields=[names.get(c, c) for c in grant.requested_fields],
        granted_fields=[names.get(c, c) for c in grant.fields],
        forms=forms_,
        failed=failed[0] if failed else "",
    )
    return render(request, "workbench/sharing/grant.html", context, status=status)


@require_http_methods(["GET", "HEAD"])
@guard(services.PROVIDE, "workbench:sharing_inbox")
def grant(request: HttpRequest, pk: int) -> HttpResponse:
    return _render_grant(request, selectors.grant_for_provider(request.user, pk))


def _decide(
    request: HttpRequest,
    pk: int,
    key: str,
    make: Callable[[Grant], forms.Form],
    run: Callable[[Grant, dict[str, Any]], str],
) -> HttpResponse:
    found = selectors.grant_for_provider(request.user, pk)
    form = make(found)
    if not form.is_valid():
        return _render_grant(request, found, failed=(key, form), status=400)
    try:
        message = run(found, form.cleaned_data)
    except NotFound:
        raise
    except DomainError as exc:
        show_domain_error(form, exc, {"fields": "fields_", "rate_per_minute": "rate"})
        found.refresh_from_db()
        return _render_grant(request, found, failed=(key, form), status=exc.http_status)
    messages.success(request, message)
    return redirect(reverse("workbench:sharing_grant", args=[found.pk]))


@require_POST
@guard(services.PROVIDE, "workbench:sharing_inbox")
def approve(request: HttpRequest, pk: int) -> HttpResponse:
    def run(found: Grant, data: dict[str, Any]) -> str:
        until: dt.date | None = data["until"]
        services.approve_grant(
            actor=request.user,
            grant=found,
            fields=data["fields_"],
            purposes=data["purposes"],
            items=data.get("items"),
            until=until,
            rate_per_minute=data["rate"],
            note=data["note"],
        )
        return _("The grant is approved.")

    return _decide(request, pk, "approve", lambda g: ApproveForm(request.POST, grant=g, auto_id="approve-%s"), run)


@require_POST
@guard(services.PROVIDE, "workbench:sharing_inbox")
def refuse(request: HttpRequest, pk: int) -> HttpResponse:
    def run(found: Grant, data: dict[str, Any]) -> str:
        services.refuse_grant(actor=request.user, grant=found, reason=data["reason"])
        return _("The request is refused.")

    return _decide(request, pk, "refuse", lambda g: ReasonForm(request.POST, auto_id="refuse-%s"), run)


@require_POST
@guard(services.PROVIDE, "workbench:sharing_inbox")
def revoke(request: HttpRequest, pk: int) -> HttpResponse:
    def run(found: Grant, data: dict[str, Any]) -> str:
        services.revoke_grant(actor=request.user, grant=found, reason=data["reason"])
        return _("The grant is revoked.")

    return _decide(request, pk, "revoke", lambda g: ReasonForm(request.POST, auto_id="revoke-%s"), run)


# ---------------------------------------------------------------------------------------------------------
# The consumer's grants
# ---------------------------------------------------------------------------------------------------------


@require_http_methods(["GET", "HEAD"])
@guard(services.CONSUME, "workbench:sharing_mine")
def mine(request: HttpRequest) -> HttpResponse:
    status = _status_filter(request)
    # The resource's fields come in one query for the page, to name each grant's fields.
    grants = selectors.consumed_grants(request.user, status).prefetch_related("resource__fields")
    page = Paginator(grants, PAGE_SIZE).get_page(request.GET.get("page"))
    language = labels.language()
    context = page_context(
        request,
        "workbench:sharing_mine",
        page=page,
        rows=[
            (g, _grant_badge(g), g.resource.display_name(language), _held_fields(g, language)) for g in page.object_list
        ],
        status=status,
        statuses=[(str(v), str(v.label)) for v in GrantStatus],
        query=urlencode({"status": status} if status else {}),
        today=services.today(),
    )
    return render(request, "workbench/sharing/mine.html", context)


@require_POST
@guard(services.CONSUME, "workbench:sharing_mine")
def withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    found = selectors.grant_for_consumer(request.user, pk)
    try:
        services.withdraw_grant(actor=request.user, grant=found)
    except NotFound:
        raise
    except DomainError as exc:
        messages.error(request, str(exc.message))
        return redirect(reverse("workbench:sharing_mine"))
    messages.success(request, _("Your request is withdrawn."))
    return redirect(reverse("workbench:sharing_mine"))
