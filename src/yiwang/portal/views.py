"""Public pages: home, search (我要查), service guides (办事指南), versions, departments and regions.

Views only parse the request, call the catalogue's selectors and hand the result to a template; the
guide's presentation lives in ``portal.guide`` and its flow diagram in ``portal.flow``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import QuerySet
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import render
from django.utils.translation import gettext as _

from yiwang.catalogue import selectors
from yiwang.catalogue.constants import LEGAL_PERSON_THEMES, NATURAL_PERSON_THEMES, ItemType, VersionStatus
from yiwang.catalogue.models import ItemVersion, Organisation
from yiwang.catalogue.notes import display_note
from yiwang.common.models import Division, DivisionLevel
from yiwang.identity import authz
from yiwang.portal.caching import GUIDE_SECONDS, cached_list_page, cached_or_render
from yiwang.portal.guide import build_guide
from yiwang.portal.labels import (
    AUDIENCE_LABELS,
    CONTENT_CODE_SETS,
    LEGAL_ROLE_LABELS,
    code_label,
    content_label,
    division_label,
    language,
    theme_label,
    yes_no,
)

PAGE_SIZE = 20
MAX_QUERY_LENGTH = 100
_DIVISION_CODE = re.compile(r"^[0-9]{6}([0-9]{3})?$")
_ITEM_TYPE = re.compile(r"^[0-9]{2}$")


def not_found(request: HttpRequest, message: str | None = None) -> HttpResponse:
    return render(
        request,
        "portal/not_found.html",
        {"message": message or _("The page you asked for does not exist or is no longer published.")},
        status=404,
    )


# --- search -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchParams:
    query: str = ""
    region: str = ""
    department: int | None = None
    theme: str = ""
    audience: str = ""
    item_type: str = ""
    page: int = 1

    @classmethod
    def from_request(cls, request: HttpRequest, **fixed: Any) -> SearchParams:
        get = request.GET
        region = get.get("region", "").strip()
        department = get.get("department", "").strip()
        item_type = get.get("type", "").strip()
        page = get.get("page", "")
        values: dict[str, Any] = {
            "query": " ".join(get.get("q", "").split())[:MAX_QUERY_LENGTH],
            "region": region if _DIVISION_CODE.match(region) else "",
            "department": int(department) if department.isdigit() and len(department) < 12 else None,
            "theme": get.get("theme", "").strip()[:50],
            "audience": get.get("audience", "") if get.get("audience") in AUDIENCE_LABELS else "",
            "item_type": item_type if _ITEM_TYPE.match(item_type) else "",
            "page": max(1, min(int(page), 10_000)) if page.isdigit() and len(page) < 6 else 1,
        }
        values.update(fixed)
        return cls(**values)

    def as_query(self, **changes: Any) -> dict[str, str]:
        """The URL parameters of these filters, with ``changes`` applied (a falsy value drops one)."""
        params = {
            "q": self.query,
            "region": self.region,
            "department": str(self.department or ""),
            "theme": self.theme,
            "audience": self.audience,
            "type": self.item_type,
        }
        params.update({k: str(v or "") for k, v in changes.items()})
        return {k: v for k, v in params.items() if v}

    @property
    def is_empty(self) -> bool:
        return not (self.query or self.region or self.department or self.theme or self.audience or self.item_type)

    @property
    def terms(self) -> list[str]:
        return self.query.split()


def search_queryset(params: SearchParams) -> QuerySet[ItemVersion]:
    filters = selectors.Filters(
        query=params.query,
        region=params.region,
        department=params.department,
        theme=params.theme,
        audience=params.audience,
        item_type=params.item_type,
    )
    # The region's parent names the county's city in each result.
    return selectors.search(filters).select_related("region__parent", "department")


@dataclass(frozen=True)
class Page:
    results: list[ItemVersion]
    total: int
    number: int
    size: int = PAGE_SIZE

    @property
    def num_pages(self) -> int:
        return max(1, (self.total + self.size - 1) // self.size)

    @property
    def first_index(self) -> int:
        return (self.number - 1) * self.size + 1 if self.results else 0

    @property
    def last_index(self) -> int:
        return (self.number - 1) * self.size + len(self.results)

    @property
    def window(self) -> list[int | None]:
        """Page numbers to link, ``None`` for an ellipsis: 1 … 4 5 [6] 7 8 … 20."""
        shown = {1, self.num_pages, *range(max(1, self.number - 2), min(self.num_pages, self.number + 2) + 1)}
        pages: list[int | None] = []
        for n in sorted(shown):
            previous = pages[-1] if pages else None
            if previous is not None and n - previous > 1:
                pages.append(None)
            pages.append(n)
        return pages


def run_search(params: SearchParams) -> Page:
    qs = search_queryset(params)
    offset = (params.page - 1) * PAGE_SIZE
    results, total = selectors.page_with_total(qs, offset=offset, limit=PAGE_SIZE)
    return Page(results=results, total=total, number=params.page, size=PAGE_SIZE)


def result_rows(results: list[ItemVersion]) -> list[dict[str, Any]]:
    lang = language()
    return [
        {
            "name": v.name,
            "code": v.implementation_code,
            "department": v.department.display_name(lang),
            "region": division_label(v.region),
            "item_type": content_label("item_type", v.item_type),
        }
        for v in results
    ]


@dataclass(frozen=True)
class Chip:
    label: str
    value: str
    remove_url: str


def _chips(params: SearchParams, base_url: str) -> list[Chip]:
    def without(name: str) -> str:
        query = urlencode(params.as_query(**{name: ""}))
        return f"{base_url}?{query}" if query else base_url

    chips = []
    if params.query:
        chips.append(Chip(_("Search"), params.query, without("q")))
    if params.audience:
        chips.append(Chip(_("For"), str(AUDIENCE_LABELS[params.audience]), without("audience")))
    if params.theme:
        chips.append(Chip(_("Theme"), theme_label(params.theme), without("theme")))
    if params.item_type:
        chips.append(Chip(_("Item type"), content_label("item_type", params.item_type), without("type")))
    if params.department:
        department = Organisation.objects.filter(pk=params.department).first()
        name = department.display_name(language()) if department else str(params.department)
        chips.append(Chip(_("Department"), name, without("department")))
    if params.region:
        region = Division.objects.select_related("parent").filter(code=params.region).first()
        chips.append(Chip(_("Region"), division_label(region) if region else params.region, without("region")))
    return chips


def _theme_tiles(audience: str) -> list[dict[str, Any]]:
    counts = selectors.theme_counts(audience)
    standard = LEGAL_PERSON_THEMES if audience == "enterprise" else NATURAL_PERSON_THEMES
    keys = [key for key, _label in standard]
    keys += sorted(k for k in counts if k not in keys)  # free-text themes some items carry
    return [{"key": k, "label": theme_label(k), "count": counts.get(k, 0)} for k in keys]


@cached_list_page
def home(request: HttpRequest) -> HttpResponse:
    lang = language()
    departments = [
        {"pk": d.pk, "name": d.display_name(lang), "count": n}
        for d, n in sorted(selectors.departments_with_items(), key=lambda pair: -pair[1])
    ]
    recent = selectors.current_versions().defer("content", "search_text").order_by("-published_at", "name")[:6]
    return render(
        request,
        "portal/home.html",
        {
            "nav": "home",
            "person_themes": _theme_tiles("person"),
            "enterprise_themes": _theme_tiles("enterprise"),
            "departments": departments[:12],
            "department_total": len(departments),
            "regions": _region_tree(selectors.regions_with_items()),
            "recent": list(recent),
        },
    )


@cached_list_page
def search(request: HttpRequest) -> HttpResponse:
    params = SearchParams.from_request(request)
    page = run_search(params)
    base_url = request.path
    return render(
        request,
        "portal/search.html",
        {
            "nav": {"person": "person", "enterprise": "enterprise"}.get(params.audience, "search"),
            "params": params,
            "page": page,
            "rows": result_rows(page.results),
            "chips": _chips(params, base_url),
            "page_base": urlencode(params.as_query()),
            "theme_tiles": _theme_tiles(params.audience) if params.audience and not params.theme else [],
            "item_types": ItemType.choices,
            "audiences": list(AUDIENCE_LABELS.items()),
        },
    )


# --- the service guide ------------------------------------------------------------------------------


def guide(request: HttpRequest, code: str) -> HttpResponse:
    version = selectors.current_version_of(code)
    if version is None:
        return not_found(request, _("There is no service guide in force with this code."))
    return _render_guide(request, version, current_number=version.number)


def version_detail(request: HttpRequest, code: str, number: int) -> HttpResponse:
    version = selectors.public_version(code, number)
    if version is None:
        return not_found(request, _("This version of the service guide is not published."))
    return _render_guide(request, version, current_number=selectors.current_number(version.item_id))


def _render_guide(request: HttpRequest, version: ItemVersion, *, current_number: int | None) -> HttpResponse:
    # The version is immutable, so its page depends only on it, which version is current, the language and,
    # for the version in force, its item's attachments (the only page linking them: they are current files).
    is_current = version.number == current_number
    return cached_or_render(
        request,
        (
            "guide",
            version.pk,
            version.status,
            current_number,
            is_current and selectors.attachments_generation(version.item_id),
        ),
        GUIDE_SECONDS if settings.YIWANG_PAGE_CACHE_SECONDS else 0,
        lambda: render(
            request,
            "portal/guide.html",
            {
                "version": version,
                "guide": build_guide(version, selectors.attachments_for(version.item_id) if is_current else None),
                "is_current": is_current,
                "current_number": current_number,
                "status_label": code_label(VersionStatus, version.status),
            },
        ),
    )


def attachment(request: HttpRequest, code: str, reference: str) -> HttpResponseBase:
    """A blank form or sample of an item in force, shown in the browser (PDFs and images open inline)."""
    found = selectors.public_attachment(code, reference) if len(code) <= 36 and len(reference) <= 300 else None
    if found is None:
        return not_found(request, _("There is no such document for a service guide in force."))
    try:
        handle = found.file.open("rb")
    except FileNotFoundError:
        return not_found(request, _("There is no such document for a service guide in force."))
    response = FileResponse(handle, content_type=found.content_type, filename=found.filename)
    response["X-Content-Type-Options"] = "nosniff"
    return response


def history(request: HttpRequest, code: str) -> HttpResponse:
    item = selectors.public_item(code)
    versions = list(selectors.version_history(item).defer("content").prefetch_related("transitions")) if item else []
    if not versions:
        return not_found(request, _("There is no published service guide with this code."))
    current_number = selectors.current_number(versions[0].item_id)
    rows = [
        {
            "version": v,
            "status": code_label(VersionStatus, v.status),
            "notes": [display_note(n) for n in [v.status_note, *(t.note for t in v.transitions.all())] if n],
            "previous": versions[i + 1].number if i + 1 < len(versions) else None,
        }
        for i, v in enumerate(versions)
    ]
    return render(
        request,
        "portal/history.html",
        {
            "code": code,
            "name": versions[0].name,
            "rows": rows,
            "current_number": current_number,
            "can_compare": len(versions) > 1,
            "numbers": [v.number for v in versions],
        },
    )


def _diff_value(path: str, value: str) -> str:
    if value in ("true", "false"):
        return yes_no(value == "true")
    plain = re.sub(r"\[\d+\]", "", path)
    if plain == "legal_basis.role" and value in LEGAL_ROLE_LABELS:
        return str(LEGAL_ROLE_LABELS[value])
    choices = CONTENT_CODE_SETS.get(plain)
    if choices is None or not value:
        return value
    return "、".join(code_label(choices, part) for part in value.split("、"))


def _diff_detail(path: str) -> str:
    """``materials[1].copies`` → ``#2 › copies``: where in the element the change is."""
    rest = re.sub(r"^[^.\[]+", "", path).lstrip(".")
    rest = re.sub(r"\[(\d+)\]", lambda m: f" #{int(m.group(1)) + 1} ", rest)
    return " › ".join(part.strip() for part in rest.split(".") if part.strip())


def diff(request: HttpRequest, code: str) -> HttpResponse:
    item = selectors.public_item(code)
    versions = {v.number: v for v in selectors.version_history(item)} if item else {}
    if not versions:
        return not_found(request, _("There is no published service guide with this code."))
    numbers = sorted(versions)
    raw_from, raw_to = request.GET.get("from", ""), request.GET.get("to", "")
    if not raw_from and not raw_to:
        new_n = numbers[-1]
        old_n = numbers[-2] if len(numbers) > 1 else numbers[-1]
    elif raw_from.isdigit() and raw_to.isdigit() and int(raw_from) in versions and int(raw_to) in versions:
        old_n, new_n = int(raw_from), int(raw_to)
    else:
        return not_found(request, _("Choose two published versions of this guide to compare."))
    old, new = versions[old_n], versions[new_n]
    rows = [
        {
            "element": str(r.element),
            "detail": _diff_detail(r.path),
            "kind": r.kind,
            "old": _diff_value(r.path, r.old),
            "new": _diff_value(r.path, r.new),
        }
        for r in selectors.diff_versions(old, new)
    ]
    return render(
        request,
        "portal/diff.html",
        {
            "code": code,
            "name": new.name,
            "old": old,
            "new": new,
            "rows": rows,
            "numbers": numbers,
            "kind_labels": {"added": _("Added"), "removed": _("Removed"), "changed": _("Changed")},
        },
    )


# --- departments and regions ------------------------------------------------------------------------


@cached_list_page
def departments(request: HttpRequest) -> HttpResponse:
    lang = language()
    groups: dict[str, list[dict[str, Any]]] = {}
    for department, count in selectors.departments_with_items():
        division = department.division.display_name(lang) if department.division else _("Other")
        groups.setdefault(division, []).append(
            {
                "name": department.display_name(lang),
                "count": count,
                "url_query": urlencode({"department": department.pk}),
            }
        )
    return render(request, "portal/departments.html", {"nav": "departments", "groups": list(groups.items())})


def _ancestor_codes(code: str) -> list[str]:
    return [code[:2] + "0000", code[:4] + "00", code[:6]]


def _region_tree(pairs: list[tuple[Division, int]]) -> list[dict[str, Any]]:
    """Provinces → prefectures → counties with item counts summed upwards (GB/T 2260 code prefixes)."""
    if not pairs:
        return []
    ancestors = {p for d, _n in pairs for p in _ancestor_codes(d.code) if p != d.code}
    known = {d.code: d for d, _n in pairs}
    known.update({d.code: d for d in Division.objects.filter(code__in=ancestors)})
    nodes: dict[str, dict[str, Any]] = {}

    def node(code: str) -> dict[str, Any] | None:
        division = known.get(code)
        if division is None:
            return None
        if code not in nodes:
            nodes[code] = {"division": division, "name": division.display_name(language()), "count": 0, "children": []}
        return nodes[code]

    roots: list[dict[str, Any]] = []
    for division, count in pairs:
        chain = list(dict.fromkeys([*_ancestor_codes(division.code), division.code]))
        parent: dict[str, Any] | None = None
        for code in chain:
            current = node(code)
            if current is None:
                continue
            current["count"] += count
            if parent is None:
                if current not in roots:
                    roots.append(current)
            elif current not in parent["children"]:
                parent["children"].append(current)
            parent = current
    return roots


@cached_list_page
def regions(request: HttpRequest) -> HttpResponse:
    return render(
        request, "portal/regions.html", {"nav": "regions", "tree": _region_tree(selectors.regions_with_items())}
    )


@cached_list_page
def region_detail(request: HttpRequest, code: str) -> HttpResponse:
    division = (
        Division.objects.select_related("parent").filter(code=code).first() if _DIVISION_CODE.match(code) else None
    )
    if division is None or division.level == DivisionLevel.NATIONAL:
        return not_found(request, _("There is no such administrative division."))
    params = SearchParams.from_request(request, region=code)
    page = run_search(params)
    prefix = authz.region_prefix(code)
    below = [(d, n) for d, n in selectors.regions_with_items() if d.code.startswith(prefix) and d.code != code]
    return render(
        request,
        "portal/region.html",
        {
            "nav": "regions",
            "division": division,
            "division_name": division.full_name if language() != "en" else division_label(division),
            "params": params,
            "page": page,
            "rows": result_rows(page.results),
            "page_base": urlencode(params.as_query(region="")),
            "subregions": [{"division": d, "name": division_label(d), "count": n} for d, n in below],
        },
    )
