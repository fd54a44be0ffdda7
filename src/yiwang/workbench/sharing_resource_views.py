"""Staff pages where a department registers, edits and retires the data resources it provides (docs/sharing.md).

Who may: the catalogue managers and approvers of the providing department (``sharing.provide``), and
administrators, who choose the providing department when registering. The platform's own resources (the base
registers and the licence library) come from the migration and are not registered here; administrators may
still edit or retire them. The pages follow ``sharing_views``: anonymous visitors are sent to sign in, members
without ``sharing.provide`` get the 403 page, and so does a member of another department, since every resource
of the catalogue is visible to all staff and hiding it would only confuse. The services decide everything
else; their errors are shown beside the fields they name, and nothing is saved.
"""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.contrib import messages
from django.forms import BaseFormSet, formset_factory
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from yiwang.catalogue.models import Organisation
from yiwang.common.errors import DomainError, NotFound
from yiwang.identity import authz
from yiwang.portal import labels
from yiwang.sharing import selectors, services
from yiwang.sharing.constants import FieldType, GrantStatus, Sensitivity, SharingType, SubjectKind, UpdateCycle
from yiwang.sharing.models import Resource
from yiwang.workbench.sharing_views import guard, page_context, provider_name
from yiwang.workbench.views import forbidden

PREFIX = "fields"
EXTRA_ROWS = 3  # empty rows under a new resource's (or an edited resource's) fields
ADD_ROWS = 1  # rows the "add a row" button adds
FIELD_ERROR = re.compile(r"^fields\.(\d+)(?:\.(\w+))?$")
ROW_FIELDS = ("code", "name", "name_en", "data_type", "sensitivity")
# What the form passes to both register_resource and update_resource.
DESCRIPTION = [
    "name",
    "name_en",
    "description",
    "provider_system",
    "subject_kind",
    "sharing_type",
    "sharing_conditions",
    "update_cycle",
    "legal_basis",
]


def may_register(actor: Any) -> bool:
    """Whether ``actor`` registers resources: for their own department, or (administrators) for any."""
    if authz.unscoped(actor, services.PROVIDE):
        return True
    department_id = authz.subject_of(actor).department_id
    return department_id is not None and authz.allowed(actor, services.PROVIDE, department_id=department_id)


def may_manage(actor: Any, resource: Resource) -> bool:
    """Whether ``actor`` edits or retires ``resource`` (an active one)."""
    return resource.is_active and services.may_provide(actor, resource.provider_id)


# ---------------------------------------------------------------------------------------------------------
# Forms: only the shape of the input; the service decides what is required and allowed, in its own words.
# ---------------------------------------------------------------------------------------------------------


def _choices(values: Any) -> list[tuple[str, Any]]:
    return [("", "—"), *((str(v), v.label) for v in values)]


def _text(label: Any, limit: int, **attrs: Any) -> forms.CharField:
    return forms.CharField(
        label=label, required=False, widget=forms.TextInput(attrs={"maxlength": limit, "autocomplete": "off", **attrs})
    )


def _area(label: Any, rows: int = 3) -> forms.CharField:
    return forms.CharField(
        label=label,
        required=False,
        widget=forms.Textarea(attrs={"rows": rows, "maxlength": services.TEXT_LIMIT}),
    )


def _select(label: Any, values: Any) -> forms.ChoiceField:
    return forms.ChoiceField(label=label, required=False, choices=_choices(values))


class ResourceForm(forms.Form):
    provider = forms.ModelChoiceField(
        label=gettext_lazy("Providing department"),
        required=False,
        queryset=Organisation.objects.order_by("name"),
        empty_label="—",
    )
    code = _text(gettext_lazy("Resource code"), services.CODE_LIMIT, spellcheck="false")
    name = _text(gettext_lazy("Name"), services.NAME_LIMIT)
    name_en = _text(gettext_lazy("Name (English)"), services.NAME_LIMIT)
    description = _area(gettext_lazy("Description"))
    provider_system = _text(gettext_lazy("Provider system"), services.SYSTEM_LIMIT)
    subject_kind = _select(gettext_lazy("Subject"), SubjectKind)
    sharing_type = _select(gettext_lazy("Sharing type"), SharingType)
    sharing_conditions = _area(gettext_lazy("Sharing conditions"))
    update_cycle = _select(gettext_lazy("Update cycle"), UpdateCycle)
    legal_basis = _area(gettext_lazy("Legal basis"))

    def __init__(self, *args: Any, choose_provider: bool, new: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not choose_provider:
            del self.fields["provider"]
        if not new:
            del self.fields["code"]  # a resource's code is its reference in the catalogue and in items: it stays


class FieldRowForm(forms.Form):
    code = _text(gettext_lazy("Field code"), services.FIELD_CODE_LIMIT, spellcheck="false")
    name = _text(gettext_lazy("Field name"), services.FIELD_NAME_LIMIT)
    name_en = _text(gettext_lazy("Field name (English)"), services.FIELD_NAME_LIMIT)
    data_type = forms.ChoiceField(
        label=gettext_lazy("Type"), required=False, choices=[(str(v), v.label) for v in FieldType]
    )
    sensitivity = _select(gettext_lazy("Sensitivity"), Sensitivity)

    def is_blank(self) -> bool:
        data = getattr(self, "cleaned_data", {})
        # The type has a default: a row is blank when nothing else was typed or chosen.
        return not any(str(data.get(name) or "").strip() for name in ROW_FIELDS if name != "data_type")


def _formset_class(extra: int) -> type[BaseFormSet[FieldRowForm]]:
    return formset_factory(
        FieldRowForm, extra=extra, max_num=services.MAX_FIELDS, absolute_max=services.MAX_FIELDS, validate_max=True
    )


def _with_another_row(data: QueryDict) -> QueryDict:
    copied = data.copy()
    total = f"{PREFIX}-TOTAL_FORMS"
    try:
        count = int(copied.get(total) or 0)
    except ValueError:
        count = 0
    copied[total] = str(max(0, min(count + ADD_ROWS, services.MAX_FIELDS)))
    return copied


# ---------------------------------------------------------------------------------------------------------
# The form page, shared by register and edit
# ---------------------------------------------------------------------------------------------------------


def _rows(formset: BaseFormSet[FieldRowForm]) -> tuple[list[dict[str, str]], list[int]]:
    """The filled-in rows, for the service, and the index of each in the formset (to put errors back)."""
    rows: list[dict[str, str]] = []
    places: list[int] = []
    for index, row in enumerate(formset.forms):
        if row.is_blank():
            continue
        data = row.cleaned_data
        rows.append({name: str(data.get(name) or "") for name in ROW_FIELDS})
        places.append(index)
    return rows, places


def _show_error(
    exc: DomainError, form: ResourceForm, formset: BaseFormSet[FieldRowForm], places: list[int]
) -> list[str]:
    """Put the service's error beside the field it names; returns the errors about the fields table as a whole."""
    table: list[str] = []
    for detail in exc.details:
        field = str(detail.get("field", ""))
        message = str(detail.get("message") or exc.message)
        match = FIELD_ERROR.match(field)
        if match and int(match[1]) < len(places):
            row = formset.forms[places[int(match[1])]]
            row.add_error(match[2] if match[2] in row.fields else None, message)
        elif field == PREFIX or match:
            table.append(message)
        else:
            form.add_error(field if field in form.fields else None, message)
    if not exc.details:
        form.add_error(None, str(exc.message))
    return table


def _initial(resource: Resource) -> dict[str, Any]:
    return {name: getattr(resource, name) for name in DESCRIPTION}


def _render_form(
    request: HttpRequest,
    *,
    form: ResourceForm,
    formset: BaseFormSet[FieldRowForm],
    resource: Resource | None,
    table_errors: list[str],
    failed: bool,
    status: int,
) -> HttpResponse:
    context = page_context(
        request,
        "workbench:sharing",
        form=form,
        formset=formset,
        resource=resource,
        name=resource.display_name(labels.language()) if resource is not None else "",
        provider=provider_name(resource) if resource is not None else _own_department_name(request.user),
        table_errors=table_errors,
        failed=failed,
        unconditional=str(SharingType.UNCONDITIONAL),
    )
    return render(request, "workbench/sharing/resource_form.html", context, status=status)


def _own_department(actor: Any) -> Organisation | None:
    department_id = authz.subject_of(actor).department_id
    return Organisation.objects.filter(pk=department_id).first() if department_id is not None else None


def _own_department_name(actor: Any) -> str:
    department = _own_department(actor)
    return department.display_name(labels.language()) if department is not None else ""


def _handle(request: HttpRequest, resource: Resource | None) -> HttpResponse:
    """GET shows the form; POST with ``add_row`` shows it again with one more row; POST saves through the service."""
    choose_provider = resource is None and authz.unscoped(request.user, services.PROVIDE)
    options = {"choose_provider": choose_provider, "new": resource is None}
    if request.method != "POST":
        initial_rows = (
            [{name: getattr(f, name) for name in ROW_FIELDS} for f in resource.fields.all()]
            if resource is not None
            else []
        )
        form = ResourceForm(initial=_initial(resource) if resource is not None else {}, **options)
        formset = _formset_class(EXTRA_ROWS)(prefix=PREFIX, initial=initial_rows)
        return _render_form(
            request, form=form, formset=formset, resource=resource, table_errors=[], failed=False, status=200
        )
    if "add_row" in request.POST:
        form = ResourceForm(request.POST, **options)
        formset = _formset_class(0)(_with_another_row(request.POST), prefix=PREFIX)
        return _render_form(
            request, form=form, formset=formset, resource=resource, table_errors=[], failed=False, status=200
        )
    form = ResourceForm(request.POST, **options)
    formset = _formset_class(0)(request.POST, prefix=PREFIX)
    if not (form.is_valid() and formset.is_valid()):
        table = [str(e) for e in formset.non_form_errors()]
        return _render_form(
            request, form=form, formset=formset, resource=resource, table_errors=table, failed=True, status=400
        )
    data = form.cleaned_data
    rows, places = _rows(formset)
    values = {name: str(data.get(name) or "") for name in DESCRIPTION}
    try:
        if resource is None:
            provider = _provider(request, data)
            if provider is None:
                form.add_error("provider", _("Choose the department that provides the resource."))
                return _render_form(
                    request, form=form, formset=formset, resource=None, table_errors=[], failed=True, status=400
                )
            saved = services.register_resource(
                actor=request.user, provider=provider, code=str(data.get("code") or ""), fields=rows, **values
            )
            messages.success(request, _("The resource is in the catalogue."))
        else:
            saved = services.update_resource(
                actor=request.user,
                resource=resource,
                fields=rows,
                licence_type_code=resource.licence_type_code,
                **values,
            )
            messages.success(request, _("The resource is saved."))
    except NotFound:
        raise
    except DomainError as exc:
        table = _show_error(exc, form, formset, places)
        return _render_form(
            request,
            form=form,
            formset=formset,
            resource=resource,
            table_errors=table,
            failed=True,
            status=exc.http_status,
        )
    return redirect(reverse("workbench:sharing_resource", args=[saved.pk]))


def _provider(request: HttpRequest, data: dict[str, Any]) -> Organisation | None:
    if "provider" in data:
        chosen = data["provider"]
        return chosen if isinstance(chosen, Organisation) else None
    return _own_department(request.user)


@require_http_methods(["GET", "HEAD", "POST"])
@guard(services.PROVIDE, "workbench:sharing")
def register(request: HttpRequest) -> HttpResponse:
    if not may_register(request.user):
        return forbidden(request)
    return _handle(request, None)


def _managed(request: HttpRequest, pk: int) -> Resource | HttpResponse:
    """The resource, or the page to answer instead: 403 for another department's, back to it when retired."""
    found = selectors.resource_for_staff(request.user, pk)
    if not services.may_provide(request.user, found.provider_id):
        return forbidden(request)
    if not found.is_active:
        messages.error(request, _("A retired resource cannot be changed."))
        return redirect(reverse("workbench:sharing_resource", args=[found.pk]))
    return found


@require_http_methods(["GET", "HEAD", "POST"])
@guard(services.PROVIDE, "workbench:sharing")
def edit(request: HttpRequest, pk: int) -> HttpResponse:
    found = _managed(request, pk)
    if isinstance(found, HttpResponse):
        return found
    return _handle(request, found)


# ---------------------------------------------------------------------------------------------------------
# Retiring
# ---------------------------------------------------------------------------------------------------------


class RetireForm(forms.Form):
    # Not required for Django: the service says why in its own words; the browser is told it is required.
    reason = forms.CharField(
        label=gettext_lazy("Reason"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": services.REASON_LIMIT, "required": True}),
    )


@require_http_methods(["GET", "HEAD", "POST"])
@guard(services.PROVIDE, "workbench:sharing")
def retire(request: HttpRequest, pk: int) -> HttpResponse:
    found = _managed(request, pk)
    if isinstance(found, HttpResponse):
        return found
    form = RetireForm(request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                services.retire_resource(actor=request.user, resource=found, reason=form.cleaned_data["reason"])
            except NotFound:
                raise
            except DomainError as exc:
                for detail in exc.details or [{"message": exc.message}]:
                    field = str(detail.get("field", ""))
                    form.add_error(field if field in form.fields else None, str(detail.get("message") or exc.message))
                status = exc.http_status
            else:
                messages.success(request, _("The resource is retired; its grants are revoked."))
                return redirect(reverse("workbench:sharing_resource", args=[found.pk]))
        else:
            status = 400
    grants = selectors.grants_on(request.user, found)
    approved = grants.filter(status=GrantStatus.APPROVED).count() if grants is not None else 0
    requested = grants.filter(status=GrantStatus.REQUESTED).count() if grants is not None else 0
    context = page_context(
        request,
        "workbench:sharing",
        resource=found,
        name=found.display_name(labels.language()),
        provider=provider_name(found),
        form=form,
        approved=approved,
        requested=requested,
        failed=status != 200,
    )
    return render(request, "workbench/sharing/retire.html", context, status=status)
