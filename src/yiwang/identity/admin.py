"""Admin screens for identity: accounts (masked), staff creation through the service, enterprises and agencies
read-only (they are changed by their principals in the portal, never behind their backs)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from yiwang.catalogue.models import Organisation
from yiwang.common.admin_tools import FindByNumberMixin
from yiwang.common.crypto import id_number_index, phone_index
from yiwang.common.errors import DomainError
from yiwang.identity import (
    admin_oidc,  # noqa: F401 - department systems: replaces DOT's Application admin
    authz,
    services,
)
from yiwang.identity.constants import Role
from yiwang.identity.models import Account, Agency, Enterprise

# Authenticators change only through services.reset_totp (audited); django-otp's own device admin would let
# administrators add, edit or read devices directly.
if admin.site.is_registered(TOTPDevice):
    admin.site.unregister(TOTPDevice)


class RolesForm(forms.Form):
    roles = forms.MultipleChoiceField(label=_("Roles"), choices=Role.choices, widget=forms.CheckboxSelectMultiple)


class StaffForm(forms.Form):
    username = forms.CharField(label=_("User name"), max_length=60)
    name = forms.CharField(label=_("Name"), max_length=100)
    department = forms.ModelChoiceField(label=_("Department"), queryset=Organisation.objects.all())
    division_code = forms.CharField(label=_("Region code"), max_length=9)
    roles = forms.MultipleChoiceField(label=_("Roles"), choices=Role.choices, widget=forms.CheckboxSelectMultiple)
    phone = forms.CharField(label=_("Phone number"), max_length=20, required=False)
    password = forms.CharField(label=_("Initial password"), widget=forms.PasswordInput)


@admin.register(Account)
class AccountAdmin(FindByNumberMixin[Account], admin.ModelAdmin[Account]):
    list_display = [
        "__str__",
        "kind",
        "masked_id",
        "masked_phone_display",
        "real_name_status",
        "department",
        "division",
    ]
    list_filter = ["kind", "real_name_status"]
    search_fields = ["real_name", "user__username"]
    list_select_related = ["user", "department", "division"]
    # Encrypted identifiers are never shown in clear here; administrators see the masked form.
    readonly_fields = [
        "user",
        "kind",
        "real_name",
        "id_type",
        "masked_id",
        "masked_phone_display",
        "real_name_status",
        "verified_at",
        "department",
        "division",
        "failed_logins",
        "locked_until",
        "created_at",
    ]
    fields = tuple(readonly_fields)
    change_list_template = "admin/identity/account/change_list.html"  # extends the find-by-number list
    actions = ["reset_authenticator"]

    @admin.action(description=_("Reset the TOTP authenticator (lost phone): enrol again at next sign-in"))
    def reset_authenticator(self, request: HttpRequest, queryset: QuerySet[Account]) -> None:
        for account in queryset.select_related("user"):
            try:
                services.reset_totp(actor=request.user, user=account.user)  # type: ignore[arg-type]
            except DomainError as exc:
                messages.error(request, str(exc.message))
                return
        messages.success(request, _("Authenticators reset: %(count)d.") % {"count": queryset.count()})

    def roles_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        account = Account.objects.select_related("user").filter(pk=pk).first()
        if account is None or not authz.allowed(request.user, "identity.manage_staff"):
            messages.error(request, _("You do not have permission to do this here."))
            return HttpResponseRedirect(reverse("admin:index"))
        current = list(account.user.groups.values_list("name", flat=True))
        form = RolesForm(request.POST or None, initial={"roles": current})
        if request.method == "POST" and form.is_valid():
            try:
                services.set_staff_roles(actor=request.user, user=account.user, roles=form.cleaned_data["roles"])  # type: ignore[arg-type]
            except DomainError as exc:
                form.add_error(None, str(exc.message))
            else:
                messages.success(request, _("Roles changed."))
                return HttpResponseRedirect(reverse("admin:identity_account_change", args=[pk]))
        context = {
            **self.admin_site.each_context(request),
            "form": form,
            "title": _("Roles of %(name)s") % {"name": account},
        }
        return TemplateResponse(request, "admin/identity/account/add_staff.html", context)

    @admin.display(description=_("ID number"))
    def masked_id(self, obj: Account) -> str:
        return obj.masked_id_number

    @admin.display(description=_("phone number"))
    def masked_phone_display(self, obj: Account) -> str:
        return obj.masked_phone

    def find_by_number(self, queryset: QuerySet[Account], number: str) -> QuerySet[Account]:
        # An exact ID number or phone number is found through its blind index; the clear value is not stored.
        term = number.strip()
        if len(term) == 18:
            return queryset.filter(id_number_index=id_number_index(term))
        return queryset.filter(phone_index=phone_index(term))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # persons register themselves; staff are created with the form below

    def has_delete_permission(self, request: HttpRequest, obj: Account | None = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Account | None = None) -> bool:
        return authz.allowed(request.user, "identity.manage_staff")

    def get_urls(self) -> list[Any]:
        return [
            path("add-staff/", self.admin_site.admin_view(self.add_staff_view), name="identity_account_add_staff"),
            path("<int:pk>/roles/", self.admin_site.admin_view(self.roles_view), name="identity_account_roles"),
            *super().get_urls(),
        ]

    def add_staff_view(self, request: HttpRequest) -> HttpResponse:
        if not authz.allowed(request.user, "identity.manage_staff"):
            messages.error(request, _("You do not have permission to do this here."))
            return HttpResponseRedirect(reverse("admin:index"))
        form = StaffForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                services.create_staff(actor=request.user, **data)  # type: ignore[arg-type]
            except DomainError as exc:
                for detail in exc.details or [{"message": str(exc.message)}]:
                    form.add_error(None, detail["message"])
            else:
                messages.success(
                    request, _("Staff account created; the TOTP second factor is enrolled at first sign-in.")
                )
                return HttpResponseRedirect(reverse("admin:identity_account_changelist"))
        context = {**self.admin_site.each_context(request), "form": form, "title": _("Add a staff member")}
        return TemplateResponse(request, "admin/identity/account/add_staff.html", context)


@admin.register(Enterprise)
class EnterpriseAdmin(admin.ModelAdmin[Enterprise]):
    list_display = ["name", "uscc", "representative", "bound_at"]
    search_fields = ["name", "uscc"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Enterprise | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Enterprise | None = None) -> bool:
        return False


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin[Agency]):
    list_display = ["__str__", "all_items", "valid_from", "valid_until", "revoked_at"]
    list_filter = ["principal_kind", "all_items"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Agency | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Agency | None = None) -> bool:
        return False
