"""Reads of the catalogue: the public current versions, search, history and diffs, management views."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import Case, Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When, Window
from django.db.models.functions import Length
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from yiwang.catalogue.constants import VersionStatus
from yiwang.catalogue.models import Attachment, ImplementationItem, ItemVersion, Organisation
from yiwang.common.models import Division
from yiwang.identity import authz

GENERATION_KEY = "catalogue:generation"


def catalogue_generation() -> int:
    """A number that changes whenever publication changes what the public sees (for cache keys)."""
    # add() keeps a value another worker stored first; the start time makes a restarted cache never
    # reuse an old generation.
    cache.add(GENERATION_KEY, int(timezone.now().timestamp() * 1000), timeout=None)
    return int(cache.get(GENERATION_KEY))


def attachments_generation_key(item_id: int) -> str:
    return f"catalogue:attachments:{item_id}"


def attachments_generation(item_id: int) -> int:
    """A number that changes whenever an attachment of the item changes (for the guide page's cache key)."""
    key = attachments_generation_key(item_id)
    value = cache.get(key)
    if value is None:
        value = int(timezone.now().timestamp() * 1000)
        cache.add(key, value, timeout=None)
    return int(cache.get(key, value))


def current_versions() -> QuerySet[ItemVersion]:
    return ItemVersion.objects.current().select_related("region", "department")


# County → prefecture → province → nation: a guide names the full region (浙江省杭州市西湖区).
REGION_CHAIN = "region__parent__parent__parent"


def current_version_of(implementation_code: str) -> ItemVersion | None:
    if len(implementation_code) > 36:
        return None
    return current_versions().select_related(REGION_CHAIN).filter(implementation_code=implementation_code).first()


def current_number(item_id: int) -> int | None:
    """The number of the item's version in force, if any."""
    return current_versions().filter(item_id=item_id).values_list("number", flat=True).first()


def public_item(implementation_code: str) -> ImplementationItem | None:
    if len(implementation_code) > 36:
        return None
    return ImplementationItem.objects.filter(implementation_code=implementation_code).first()


def public_version(implementation_code: str, number: int) -> ItemVersion | None:
    """A version the public may read (published once: in force, superseded or withdrawn)."""
    item = public_item(implementation_code)
    if item is None or not 0 < number < 1_000_000:
        return None
    return version_history(item).select_related(REGION_CHAIN, "department").filter(number=number).first()


def version_history(item: ImplementationItem, *, public: bool = True) -> QuerySet[ItemVersion]:
    versions = item.versions.all().order_by("-number")
    if public:
        versions = versions.filter(
            status__in=[VersionStatus.PUBLISHED, VersionStatus.SUPERSEDED, VersionStatus.WITHDRAWN]
        )
    return versions


@dataclass(frozen=True)
class Filters:
    query: str = ""
    region: str = ""  # a division code; counties below a city or province are included
    department: int | None = None
    theme: str = ""
    audience: str = ""  # "person" or "enterprise"
    item_type: str = ""


def _region_prefix(code: str) -> str:
    # GB/T 2260: trailing "00" pairs mean "the whole province/prefecture", so match on the prefix.
    if len(code) == 6:
        if code.endswith("0000"):
            return code[:2]
        if code.endswith("00"):
            return code[:4]
    return code


def _whole_theme(field: str, theme: str) -> Q:
    # Theme columns hold "|"-joined names.
    return (
        Q(**{field: theme})
        | Q(**{f"{field}__startswith": f"{theme}|"})
        | Q(**{f"{field}__endswith": f"|{theme}"})
        | Q(**{f"{field}__contains": f"|{theme}|"})
    )


# Basic codes are 12 characters and implementation codes up to 36 (STANDARDS.md §2).
_CODE_RE = re.compile(r"^[0-9A-Z]{12,36}$")


def _terms(query: str) -> list[str]:
    return [t for t in query.replace("\u3000", " ").split() if t][:8]


def search(filters: Filters, *, moment: dt.datetime | None = None) -> QuerySet[ItemVersion]:
    """Current versions matching every term, ranked: exact name, name prefix, name, codes, department,
    then anything else in the item's search text. Works the same on SQLite and PostgreSQL (plain
    case-insensitive containment, which suits Chinese: there are no word boundaries to tokenise on)."""
    # Lists never show the whole document; leave the large columns in the database.
    qs = ItemVersion.objects.visible_at(moment or timezone.now()).defer("content", "search_text")
    if filters.region:
        qs = qs.filter(region_code__startswith=_region_prefix(filters.region))
    if filters.department:
        qs = qs.filter(department_id=filters.department)
    if filters.item_type:
        qs = qs.filter(item_type=filters.item_type)
    if filters.theme:
        # A theme is picked from the personal or the enterprise theme list (服务主题); it matches a whole
        # theme name in that list, exactly as theme_counts() counts the tiles.
        fields = {"person": ["natural_person_themes"], "enterprise": ["legal_person_themes"]}.get(
            filters.audience, ["natural_person_themes", "legal_person_themes"]
        )
        matches = Q()
        for field in fields:
            matches |= _whole_theme(field, filters.theme)
        qs = qs.filter(matches)
    elif filters.audience == "person":
        qs = qs.filter(service_objects__contains=",1,")
    elif filters.audience == "enterprise":
        # Enterprise, institution, social organisation and other organisation are all "legal persons".
        qs = qs.filter(
            Q(service_objects__contains=",2,")
            | Q(service_objects__contains=",3,")
            | Q(service_objects__contains=",4,")
            | Q(service_objects__contains=",6,")
        )
    terms = _terms(filters.query)
    if not terms:
        return qs.order_by("name", "region_code")
    if len(terms) == 1 and _CODE_RE.match(terms[0].upper()):
        # Someone typing an item code means that item: answer from the indexed code columns when they
        # match, instead of scanning every item's text (a handling sub-item code falls through to it).
        code = terms[0].upper()
        by_code = qs.filter(Q(implementation_code__startswith=code) | Q(basic_code__startswith=code))
        if by_code.exists():
            exact = Case(
                When(Q(implementation_code=code) | Q(basic_code=code), then=Value(90)),
                default=Value(30),
                output_field=IntegerField(),
            )
            return by_code.annotate(score=exact).order_by("-score", "implementation_code")
    score: Any = Value(0)
    for term in terms:
        # search_text is stored lower-cased; codes are upper-case; Chinese has no case at all.
        code = term.upper()
        qs = qs.filter(search_text__contains=term.lower())
        score = score + Case(
            When(name=term, then=Value(100)),
            When(Q(implementation_code=code) | Q(basic_code=code), then=Value(90)),
            When(name__startswith=term, then=Value(60)),
            When(name__contains=term, then=Value(40)),
            When(Q(implementation_code__startswith=code) | Q(basic_code__startswith=code), then=Value(30)),
            When(department__name__contains=term, then=Value(20)),
            default=Value(5),
            output_field=IntegerField(),
        )
    return qs.annotate(score=score, name_length=Length("name")).order_by("-score", "name_length", "name", "region_code")


def search_page(filters: Filters, *, offset: int = 0, limit: int = 20) -> tuple[list[ItemVersion], int]:
    """One page of results and the total, in one query (the total as a window over the matches)."""
    limit = min(limit, settings.YIWANG_SEARCH_MAX_RESULTS)
    return page_with_total(search(filters).select_related("region", "department"), offset=offset, limit=limit)


def page_with_total(qs: QuerySet[ItemVersion], *, offset: int, limit: int) -> tuple[list[ItemVersion], int]:
    rows: list[Any] = list(qs.annotate(total_matches=Window(Count("id")))[offset : offset + limit])
    if rows:
        return rows, int(rows[0].total_matches)
    return [], qs.count() if offset else 0


def departments_with_items() -> list[tuple[Organisation, int]]:
    current = ItemVersion.objects.current()
    counts = dict(current.order_by().values_list("department_id").annotate(n=Count("id")))
    departments = (
        Organisation.objects.filter(pk__in=current.values("department_id"))
        .select_related("division")
        .order_by("division_id", "name")
    )
    return [(d, counts[d.pk]) for d in departments]


def regions_with_items() -> list[tuple[Division, int]]:
    counts: dict[str, int] = dict(
        ItemVersion.objects.current().order_by().values_list("region_code").annotate(n=Count("id"))
    )
    divisions = {d.code: d for d in Division.objects.filter(code__in=counts).select_related("parent")}
    return [(divisions[c], n) for c, n in sorted(counts.items()) if c in divisions]


def theme_counts(audience: str) -> dict[str, int]:
    field = "legal_person_themes" if audience == "enterprise" else "natural_person_themes"
    counts: dict[str, int] = {}
    for themes in current_versions().exclude(**{field: ""}).values_list(field, flat=True):
        for theme in themes.split("|"):
            counts[theme] = counts.get(theme, 0) + 1
    return counts


# --- diffs ----------------------------------------------------------------------------------------

ELEMENT_LABELS: dict[str, str | Promise] = {
    "name": _("Name"),
    "basic_code": _("Basic code"),
    "implementation_code": _("Implementation code"),
    "handling_item_code": _("Handling sub-item code"),
    "handling_item_name": _("Handling sub-item"),
    "item_type": _("Item type"),
    "exercise_level": _("Exercise level"),
    "region_code": _("Region"),
    "implementing_body": _("Implementing body"),
    "handling_body": _("Handling body"),
    "entrusting_body": _("Entrusting body"),
    "co_implementing_bodies": _("Co-implementing bodies"),
    "legal_basis": _("Legal basis"),
    "service_objects": _("Service objects"),
    "themes": _("Themes"),
    "handling_forms": _("Handling forms"),
    "case_type": _("Case type"),
    "time_limits": _("Time limits"),
    "special_procedures": _("Special procedures"),
    "conditions": _("Conditions"),
    "materials": _("Materials"),
    "process": _("Process"),
    "fees": _("Fees"),
    "online": _("Online handling"),
    "max_visits": _("Visits to the service site"),
    "visits_reason": _("Reason for visits"),
    "supports": _("Appointment, payment and delivery"),
    "cross_region_scope": _("Cross-region handling"),
    "location": _("Location"),
    "hours": _("Opening hours"),
    "contacts": _("Contacts"),
    "faqs": _("FAQs"),
    "results": _("Results"),
    "quantity_limit": _("Quantity limit"),
    "intermediary_services": _("Intermediary services"),
    "effective_date": _("Planned effective date"),
    "cancel_date": _("Planned cancel date"),
    "source": _("Source"),
}


def _flatten(value: Any, path: str = "") -> dict[str, str]:
    if isinstance(value, dict):
        flat: dict[str, str] = {}
        for key, sub in value.items():
            flat.update(_flatten(sub, f"{path}.{key}" if path else key))
        return flat
    if isinstance(value, list):
        if all(not isinstance(v, dict | list) for v in value):
            return {path: "、".join(str(v) for v in value)}
        flat = {}
        for index, sub in enumerate(value):
            flat.update(_flatten(sub, f"{path}[{index}]"))
        return flat
    return {path: json.dumps(value, ensure_ascii=False) if isinstance(value, bool) else str(value)}


@dataclass(frozen=True)
class DiffRow:
    element: str | Promise  # translated label of the top-level element
    path: str
    kind: str  # "added", "removed", "changed"
    old: str
    new: str


def diff_contents(old: dict[str, Any], new: dict[str, Any]) -> list[DiffRow]:
    a, b = _flatten(old), _flatten(new)
    rows: list[DiffRow] = []
    for path in sorted(set(a) | set(b), key=_path_order(new, old)):
        top = path.split(".")[0].split("[")[0]
        label = ELEMENT_LABELS.get(top, top)
        if path not in a:
            rows.append(DiffRow(label, path, "added", "", b[path]))
        elif path not in b:
            rows.append(DiffRow(label, path, "removed", a[path], ""))
        elif a[path] != b[path]:
            rows.append(DiffRow(label, path, "changed", a[path], b[path]))
    return rows


def _path_order(*documents: dict[str, Any]) -> Any:
    order = {key: i for i, key in enumerate(ELEMENT_LABELS)}

    def key(path: str) -> tuple[int, str]:
        return (order.get(path.split(".")[0].split("[")[0], len(order)), path)

    return key


def diff_versions(old: ItemVersion, new: ItemVersion) -> list[DiffRow]:
    return diff_contents(old.content, new.content)


# --- attachments ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DocumentReference:
    """One place in an item's content that names a document: a material's blank form or sample, or a
    result's sample. ``title`` is the material's or result's name."""

    reference: str
    kind: str  # "blank_form", "sample" (of a material) or "result_sample"
    title: str


def document_references(content: dict[str, Any]) -> list[DocumentReference]:
    """Every document reference in the content, in document order (a path may appear more than once)."""
    found: list[DocumentReference] = []
    for material in content.get("materials") or []:
        for key in ("blank_form", "sample"):
            reference = str(material.get(key) or "").strip()
            if reference:
                found.append(DocumentReference(reference, key, str(material.get("name", ""))))
    for result in content.get("results") or []:
        reference = str(result.get("sample") or "").strip()
        if reference:
            found.append(DocumentReference(reference, "result_sample", str(result.get("name", ""))))
    return found


def attachments_for(item: ImplementationItem | int) -> dict[str, Attachment]:
    """The item's attachments by reference, in one query."""
    item_id = item if isinstance(item, int) else item.pk
    return {a.reference: a for a in Attachment.objects.filter(item_id=item_id)}


def public_attachment(implementation_code: str, reference: str) -> Attachment | None:
    """The attachment the public may download: the item has a version in force whose content references
    it. Drafts, withdrawn items and references only a draft names stay private."""
    row = (
        ItemVersion.objects.current()
        .filter(implementation_code=implementation_code)
        .values_list("content", "item_id")
        .first()
    )
    if row is None or reference not in {r.reference for r in document_references(row[0])}:
        return None
    return Attachment.objects.filter(item_id=row[1], reference=reference).first()


# --- management -----------------------------------------------------------------------------------


MANAGE = "catalogue.manage"  # the authz action of catalogue managers (services.MANAGE)


def version_scope(actor: Any, action: str = MANAGE) -> Q:
    """The versions ``actor`` reaches for ``action``: its department's, inside its region (all for admins)."""
    return authz.scope_q(actor, action, department_field="department", division_field="region_code")


def versions_for_management(actor: Any, statuses: Iterable[str] | None = None) -> QuerySet[ItemVersion]:
    """Every version ``actor`` may manage, newest change first; other departments' rows are never listed."""
    qs = ItemVersion.objects.filter(version_scope(actor)).select_related("department", "region")
    if statuses:
        qs = qs.filter(status__in=list(statuses))
    return qs.order_by("-updated_at")


def items_for_management(actor: Any) -> QuerySet[ImplementationItem]:
    """Items whose latest version ``actor`` may manage (an item belongs where its latest version says)."""
    qs = ImplementationItem.objects.all()
    if authz.unscoped(actor, MANAGE):
        return qs
    return qs.filter(pk__in=latest_versions().filter(version_scope(actor)).values("item_id"))


def latest_versions() -> QuerySet[ItemVersion]:
    """The latest version of every item (one row per item)."""
    latest = ItemVersion.objects.filter(item=OuterRef("item")).order_by("-number").values("pk")[:1]
    return ItemVersion.objects.filter(pk=Subquery(latest))


def department_items(actor: Any, action: str = "staff.workbench") -> QuerySet[ItemVersion]:
    """The latest version of each item of ``actor``'s department in their region, by name (the workbench)."""
    return (
        latest_versions()
        .filter(version_scope(actor, action))
        .select_related("department", "region")
        .defer("content", "search_text")
        .order_by("name", "implementation_code")
    )


def current_counts_by_region(prefix: str) -> dict[str, int]:
    """Items in force per region code, for every region code under ``prefix`` ("" for the whole country)."""
    qs = ItemVersion.objects.current().filter(region_code__startswith=prefix).order_by()
    return dict(qs.values_list("region_code").annotate(n=Count("id")))


def export_contents(*, include_drafts: bool = False) -> list[dict[str, Any]]:
    """The current published content of every item (or the latest version with ``include_drafts``)."""
    if not include_drafts:
        return [v.content for v in current_versions().order_by("implementation_code", "id")]
    latest: dict[int, ItemVersion] = {}
    for version in ItemVersion.objects.order_by("item_id", "number"):
        latest[version.item_id] = version
    return [v.content for v in sorted(latest.values(), key=lambda v: (v.implementation_code, v.pk))]
