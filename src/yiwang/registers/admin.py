"""The base registers in the admin: read-only lists and records, ID numbers always masked.

Register rows change only through ``services`` (the generator, the demo set, future register feeds), so
the admin offers no add, change or delete. Who may look is decided by yiwang.identity.authz
(``registers.lookup``: clerks, reviewers and approvers within their region; administrators everywhere).
An exact ID number typed into the search box is found through the blind index, as the column is encrypted.
"""

from __future__ import annotations

from typing import TypeVar

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from yiwang.common.admin_tools import FindByNumberMixin, number_shaped
from yiwang.common.crypto import id_number_index
from yiwang.common.masking import mask_id_number
from yiwang.identity import authz
from yiwang.registers import selectors
from yiwang.registers.models import LegalEntity, Person

LOOKUP = "registers.lookup"
MANAGE = "registers.manage"
M = TypeVar("M", bound=Model)


class RegisterAdmin(admin.ModelAdmin[M]):
    """Read-only, authz-scoped by the record's division."""

    list_select_related = ["division"]
    show_full_result_count = False  # counting a large register on every search is needlessly slow

    def _may_look(self, request: HttpRequest, division_code: str | None = None) -> bool:
        user = request.user
        return authz.allowed(user, LOOKUP, division_code=division_code) or authz.allowed(user, MANAGE)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._may_look(request)

    def has_view_permission(self, request: HttpRequest, obj: M | None = None) -> bool:
        return self._may_look(request, getattr(obj, "division_id", None))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: M | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: M | None = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[M]:
        queryset = super().get_queryset(request)
        if authz.allowed(request.user, MANAGE):
            return queryset
        return queryset.filter(authz.scope_q(request.user, LOOKUP, division_field="division__code"))


@admin.register(Person)
class PersonAdmin(FindByNumberMixin[Person], RegisterAdmin[Person]):
    change_list_template = "admin/find_by_number_change_list.html"
    list_display = ["name", "masked_id_number", "sex", "birth_date", "division", "updated_at"]
    list_filter = ["sex"]
    search_fields = ["name"]
    fields = readonly_fields = ("name", "masked_id_number", "sex", "birth_date", "division", "address", "updated_at")

    @admin.display(description=_("ID number"))
    def masked_id_number(self, obj: Person) -> str:
        return mask_id_number(obj.id_number)

    def find_by_number(self, queryset: QuerySet[Person], number: str) -> QuerySet[Person]:
        if not selectors.looks_like_id_number(number):
            return queryset.none()
        return queryset.filter(id_number_index=id_number_index(number))


@admin.register(LegalEntity)
class LegalEntityAdmin(FindByNumberMixin[LegalEntity], RegisterAdmin[LegalEntity]):
    change_list_template = "admin/find_by_number_change_list.html"
    list_display = ["uscc", "name", "entity_type", "status", "legal_representative", "masked_representative_id"]
    list_filter = ["status", "entity_type"]
    search_fields = ["=uscc", "name", "legal_representative"]
    fields = readonly_fields = (
        "uscc",
        "name",
        "entity_type",
        "status",
        "legal_representative",
        "masked_representative_id",
        "registered_address",
        "division",
        "established",
        "business_scope",
        "updated_at",
    )

    @admin.display(description=_("legal representative's ID number"))
    def masked_representative_id(self, obj: LegalEntity) -> str:
        return mask_id_number(obj.legal_representative_id_number)

    def find_by_number(self, queryset: QuerySet[LegalEntity], number: str) -> QuerySet[LegalEntity]:
        # The entities a person represents, found by the representative's ID number through the blind index.
        if not selectors.looks_like_id_number(number):
            return queryset.none()
        return queryset.filter(legal_representative_index=id_number_index(number))

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[LegalEntity], search_term: str
    ) -> tuple[QuerySet[LegalEntity], bool]:
        # A USCC (not personal data) is searched in the box, upper-cased for the exact match.
        term = search_term.strip()
        if len(term) == 18 and term.isalnum() and not number_shaped(term):
            term = selectors.normalise_uscc(term)
        return super().get_search_results(request, queryset, term)
