"""Reads of the resource catalogue and of grants, scoped by ``identity.authz``.

The catalogue itself is open to the staff of every department (``sharing.browse``): knowing what exists and
whom to ask is the point of a 政务信息资源目录. Grants are not: a department sees the grants it holds
(``sharing.consume``) and those on the resources it provides (``sharing.provide``); administrators see all,
and decide those on the platform's own resources.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from django.db.models import F, Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from yiwang.common.errors import NotFound
from yiwang.identity import authz
from yiwang.sharing.constants import GrantStatus, SharingType, SubjectKind
from yiwang.sharing.models import Grant, Resource, ResourceField
from yiwang.sharing.services import BROWSE, CONSUME, PROVIDE, may_provide

QUERY_LIMIT = 100
PLATFORM = "platform"  # the provider filter's value for the platform's own resources


@dataclass(frozen=True)
class CatalogueFilters:
    provider: str = ""  # an organisation id, PLATFORM, or "" for all
    sharing_type: str = ""
    subject_kind: str = ""
    query: str = ""
    include_retired: bool = False


def _with_fields(qs: QuerySet[Resource]) -> QuerySet[Resource]:
    return qs.select_related("provider").prefetch_related(
        Prefetch("fields", queryset=ResourceField.objects.order_by("position", "id"))
    )


def catalogue(actor: Any, filters: CatalogueFilters | None = None) -> QuerySet[Resource]:
    """The resources a staff member may browse, filtered; ordered by code."""
    authz.check(actor, BROWSE)
    filters = filters or CatalogueFilters()
    qs = Resource.objects.all()
    if not filters.include_retired:
        qs = qs.filter(is_active=True)
    if filters.provider == PLATFORM:
        qs = qs.filter(provider__isnull=True)
    elif filters.provider.isdigit():
        qs = qs.filter(provider_id=int(filters.provider))
    if filters.sharing_type in SharingType.values:
        qs = qs.filter(sharing_type=filters.sharing_type)
    if filters.subject_kind in SubjectKind.values:
        qs = qs.filter(subject_kind=filters.subject_kind)
    for term in filters.query.strip()[:QUERY_LIMIT].split():
        qs = qs.filter(
            Q(code__icontains=term)
            | Q(name__icontains=term)
            | Q(name_en__icontains=term)
            | Q(description__icontains=term)
            | Q(provider__name__icontains=term)
            | Q(fields__name__icontains=term)
            | Q(fields__code__icontains=term)
        )
    return _with_fields(qs.distinct().order_by("code"))


def providers(actor: Any) -> list[tuple[int, str]]:
    """The departments that provide at least one resource (for the catalogue's filter)."""
    authz.check(actor, BROWSE)
    rows = (
        Resource.objects.filter(is_active=True, provider__isnull=False)
        .values_list("provider_id", "provider__name")
        .distinct()
        .order_by("provider__name")
    )
    return [(int(pk), str(name)) for pk, name in rows]


def resource_for_staff(actor: Any, pk: int) -> Resource:
    authz.check(actor, BROWSE)
    found = _with_fields(Resource.objects.filter(pk=pk)).first()
    if found is None:
        raise NotFound(_("There is no such resource."))
    return found


def may_decide(actor: Any, resource: Resource) -> bool:
    """Whether ``actor`` decides grants on ``resource`` (and so sees every grant on it)."""
    return may_provide(actor, resource.provider_id)


def may_request(actor: Any) -> bool:
    """Whether ``actor`` may ask for grants for their own department."""
    subject = authz.subject_of(actor)
    return subject.department_id is not None and authz.allowed(actor, CONSUME, department_id=subject.department_id)


def grants_on(actor: Any, resource: Resource) -> QuerySet[Grant] | None:
    """Every grant on ``resource``, for its provider and administrators; ``None`` for anyone else."""
    if not may_decide(actor, resource):
        return None
    return resource.grants.select_related("consumer").order_by("-requested_at", "-id")


def _provided_q(actor: Any) -> Q:
    if not authz.allowed(actor, PROVIDE):
        return Q(pk__in=[])
    if authz.unscoped(actor, PROVIDE):
        return Q()
    return authz.scope_q(actor, PROVIDE, department_field="resource__provider")


def provided_grants(actor: Any, status: str = "") -> QuerySet[Grant]:
    """Grants on the resources the actor's department provides (all, for administrators); open requests first."""
    authz.check(actor, PROVIDE)
    qs = Grant.objects.filter(_provided_q(actor)).select_related("resource", "consumer", "resource__provider")
    if status in GrantStatus.values:
        qs = qs.filter(status=status)
    return qs.order_by("-requested_at", "-id")


def consumed_grants(actor: Any, status: str = "") -> QuerySet[Grant]:
    """Grants the actor's department holds or asked for."""
    authz.check(actor, CONSUME)
    qs = Grant.objects.filter(authz.scope_q(actor, CONSUME, department_field="consumer")).select_related(
        "resource", "consumer", "resource__provider"
    )
    if status in GrantStatus.values:
        qs = qs.filter(status=status)
    return qs.order_by("-requested_at", "-id")


def grant_for_provider(actor: Any, pk: int) -> Grant:
    """One grant its provider decides on; another department's answers as if it did not exist."""
    found = provided_grants(actor).filter(pk=pk).first()
    if found is None:
        raise NotFound(_("There is no such grant."))
    return found


def grant_for_consumer(actor: Any, pk: int) -> Grant:
    found = consumed_grants(actor).filter(pk=pk).first()
    if found is None:
        raise NotFound(_("There is no such grant."))
    return found


def resource_for_material(reference: str) -> Resource | None:
    """The active resource a material's ``shared_resource`` names: the one of that name, else one whose name
    starts with it ("人口库" → the population register), the platform's own before a department's."""
    text = (reference or "").strip()
    if not text:
        return None
    active = Resource.objects.filter(is_active=True)
    exact = active.filter(name=text).first()
    if exact is not None:
        return exact
    # The platform's registers first (provider NULL), then by code: one stable answer for a prefix.
    return active.filter(name__startswith=text).order_by(F("provider").asc(nulls_first=True), "code").first()


# ---------------------------------------------------------------------------------------------------------
# The machine-readable catalogue
# ---------------------------------------------------------------------------------------------------------

EXPORT_FORMAT_VERSION = 1
CSV_COLUMNS = [
    "resource_code",
    "resource_name",
    "resource_name_en",
    "provider",
    "provider_uscc",
    "provider_system",
    "subject_kind",
    "sharing_type",
    "sharing_conditions",
    "update_cycle",
    "legal_basis",
    "backend",
    "field_code",
    "field_name",
    "field_name_en",
    "field_type",
    "field_sensitivity",
]


def _export_resources() -> QuerySet[Resource]:
    return _with_fields(Resource.objects.filter(is_active=True).order_by("code"))


def export_catalogue() -> dict[str, Any]:
    """The whole active catalogue as plain data, in a stable order (resources by code, fields by position).

    Not scoped: the catalogue is what every department may read; callers check ``sharing.browse`` (pages) or
    run on the server (the command)."""
    resources = []
    for resource in _export_resources():
        provider = resource.provider
        resources.append(
            {
                "code": resource.code,
                "name": resource.name,
                "name_en": resource.name_en,
                "description": resource.description,
                "provider": (
                    {"name": provider.name, "uscc": provider.uscc, "division": provider.division_id}
                    if provider is not None
                    else None
                ),
                "provider_system": resource.provider_system,
                "subject_kind": resource.subject_kind,
                "sharing_type": resource.sharing_type,
                "sharing_conditions": resource.sharing_conditions,
                "update_cycle": resource.update_cycle,
                "legal_basis": resource.legal_basis,
                "backend": resource.backend,
                "licence_type_code": resource.licence_type_code,
                "fields": [
                    {
                        "code": f.code,
                        "name": f.name,
                        "name_en": f.name_en,
                        "data_type": f.data_type,
                        "sensitivity": f.sensitivity,
                    }
                    for f in resource.fields.all()
                ],
            }
        )
    return {"format": "yiwang-sharing-catalogue", "version": EXPORT_FORMAT_VERSION, "resources": resources}


def _cell(value: Any) -> str:
    # A cell a spreadsheet would run as a formula (OWASP "CSV injection") is kept as text.
    text = str(value or "")
    return f"'{text}" if text[:1] in {"=", "+", "-", "@", "\t", "\r"} else text


def export_catalogue_csv() -> str:
    """The catalogue as CSV: one row per field, the resource's columns repeated (for spreadsheets)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for resource in export_catalogue()["resources"]:
        provider = resource["provider"] or {"name": "", "uscc": ""}
        head = [
            resource["code"],
            resource["name"],
            resource["name_en"],
            provider["name"],
            provider["uscc"] or "",
            resource["provider_system"],
            resource["subject_kind"],
            resource["sharing_type"],
            resource["sharing_conditions"],
            resource["update_cycle"],
            resource["legal_basis"],
            resource["backend"],
        ]
        for field in resource["fields"]:
            row = [*head, field["code"], field["name"], field["name_en"], field["data_type"], field["sensitivity"]]
            writer.writerow([_cell(v) for v in row])
    return out.getvalue()
