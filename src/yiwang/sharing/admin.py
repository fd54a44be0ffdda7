"""Admin screens of data sharing: read only.

Every change to the catalogue and to grants goes through ``sharing.services`` (permission check, audit record,
revocation of grants on retirement), so the admin offers no add, change or delete: a resource's page links to
the workbench, where its provider registers, edits and retires it. The access log is a hash chain and is never
changed or deleted. Who reads these screens is decided by ``identity.authz``, not by the admin's permission
tables: administrators read everything; auditors (``sharing.audit``) read the access log.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from yiwang.identity import authz
from yiwang.sharing.models import AccessRecord, Consent, Grant, Resource, ResourceField, SigningKey
from yiwang.sharing.services import PROVIDE

AUDIT = "sharing.audit"


def _readable(request: HttpRequest, action: str) -> bool:
    # Unscoped only: the admin lists every department's rows, so a department-scoped member reads them in the
    # workbench, where selectors narrow what they see.
    return authz.unscoped(request.user, action)


class ReadOnlyAdmin(admin.ModelAdmin[Any]):
    read_action = PROVIDE  # whose unscoped holders read the screen

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _readable(request, self.read_action)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _readable(request, self.read_action)

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ResourceFieldInline(admin.TabularInline[ResourceField, Resource]):
    model = ResourceField
    fields = ("position", "code", "name", "name_en", "data_type", "sensitivity")
    readonly_fields = ("position", "code", "name", "name_en", "data_type", "sensitivity")
    extra = 0
    can_delete = False
    show_change_link = False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _readable(request, PROVIDE)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Resource)
class ResourceAdmin(ReadOnlyAdmin):
    list_display = ["code", "name", "provider", "subject_kind", "sharing_type", "update_cycle", "backend", "is_active"]
    list_filter = ["sharing_type", "subject_kind", "backend", "update_cycle", "is_active"]
    search_fields = ["code", "name", "name_en", "provider__name"]
    list_select_related = ["provider"]
    inlines = [ResourceFieldInline]
    readonly_fields = ["workbench_page"]

    @admin.display(description=_("workbench page"))
    def workbench_page(self, obj: Resource) -> SafeString:
        return format_html(
            '<a href="{}">{}</a>',
            reverse("workbench:sharing_resource", args=[obj.pk]),
            _("Register, edit and retire resources in the workbench"),
        )

    def view_on_site(self, obj: Resource) -> str:
        return reverse("workbench:sharing_resource", args=[obj.pk])


@admin.register(Grant)
class GrantAdmin(ReadOnlyAdmin):
    list_display = ["resource", "consumer", "status", "requested_at", "valid_from", "valid_until", "decided_at"]
    list_filter = ["status"]
    search_fields = ["resource__code", "resource__name", "consumer__name"]
    list_select_related = ["resource", "consumer"]
    date_hierarchy = "requested_at"


@admin.register(AccessRecord)
class AccessRecordAdmin(ReadOnlyAdmin):
    read_action = AUDIT
    list_display = [
        "seq",
        "at",
        "channel",
        "outcome",
        "refusal",
        "consumer_label",
        "resource_code",
        "subject_masked",
        "purpose",
        "case_number",
    ]
    list_filter = ["outcome", "channel", "refusal", "subject_kind"]
    search_fields = ["consumer_label", "resource_code", "case_number", "request_id", "client_id"]
    date_hierarchy = "at"
    # The blind index identifies a person across records; the admin shows the masked form only.
    exclude = ["subject_index"]
    show_full_result_count = False  # the log grows without end; counting it all on every page is wasted work


@admin.register(SigningKey)
class SigningKeyAdmin(ReadOnlyAdmin):
    list_display = ["key_id", "application", "created_at", "retired_at"]
    list_filter = ["retired_at"]
    search_fields = ["key_id", "application__name", "application__client_id"]
    list_select_related = ["application"]


@admin.register(Consent)
class ConsentAdmin(ReadOnlyAdmin):
    list_display = ["case", "resource", "given_by", "given_at"]
    list_filter = ["resource"]
    list_select_related = ["case", "resource", "given_by"]
    exclude = ["subject_index"]
    date_hierarchy = "given_at"
