"""Admin search by an exact ID or phone number without putting the number in a URL.

The admin's search box is a GET form: whatever is typed lands in the query string, and from there in proxy and
web-server access logs and browser history, which our log filter does not reach. Changelists that hold personal
identifiers therefore refuse number-shaped search terms and offer "Find by number" instead: a POST form whose
answer is rendered directly (links to the matching records by primary key).
"""

from __future__ import annotations

import re
from typing import Any, Generic, TypeVar

from django.contrib import messages
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.translation import gettext as _

M = TypeVar("M", bound=Model)

_NUMBER_SHAPED = re.compile(r"^\s*(?:[0-9]{17}[0-9Xx]|\+?(?:86)?1[3-9][0-9]{9})\s*$")


def number_shaped(term: str) -> bool:
    """An 18-character ID number or a mainland mobile number."""
    return bool(_NUMBER_SHAPED.match(term or ""))


class FindByNumberMixin(Generic[M]):
    """For a ModelAdmin: implement ``find_by_number`` and use (or extend) the changelist template
    ``admin/find_by_number_change_list.html``, which links to the POST form."""

    def find_by_number(self, queryset: QuerySet[M], number: str) -> QuerySet[M]:
        raise NotImplementedError

    def get_urls(self) -> list[Any]:
        opts = self.model._meta  # type: ignore[attr-defined]
        name = f"{opts.app_label}_{opts.model_name}_find"
        site = self.admin_site  # type: ignore[attr-defined]
        return [path("find/", site.admin_view(self.find_view), name=name), *super().get_urls()]  # type: ignore[misc]

    def find_view(self, request: HttpRequest) -> HttpResponse:
        results: list[M] | None = None
        number = ""
        if request.method == "POST":
            number = request.POST.get("number", "").strip()
            queryset = self.get_queryset(request)  # type: ignore[attr-defined]  # the admin's own scoping
            results = list(self.find_by_number(queryset, number)[:50])
        context = {
            **self.admin_site.each_context(request),  # type: ignore[attr-defined]
            "opts": self.model._meta,  # type: ignore[attr-defined]
            "title": _("Find by number"),
            "results": results,
            "searched": number != "",
        }
        return TemplateResponse(request, "admin/find_by_number.html", context)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[M], search_term: str
    ) -> tuple[QuerySet[M], bool]:
        if number_shaped(search_term):
            messages.warning(request, _("Numbers are not searched through the address bar; use “Find by number”."))
            return queryset.none(), False
        return super().get_search_results(request, queryset, search_term)  # type: ignore[misc,no-any-return]
