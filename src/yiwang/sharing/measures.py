"""材料免提交率: the share of an item's materials the applicant did not have to hand in.

Over the submitted cases of each service item, a filled material slot counts as *supplied* when it came by
data sharing or from an electronic licence (``Provenance.SHARED``, ``Provenance.LICENCE``) and as *submitted*
otherwise: uploaded, checked at the window, pledged, or reused from the applicant's own earlier upload (reuse
spares a second upload, but the applicant still supplied the paper once; the once-only rule is about what
government already holds). Rows a correction replaced are not counted: the case's material is what it holds now.

Catalogue managers see their department's items (``catalogue.manage``), supervisors their region's
(``supervision.view``); the figures come from one grouped query over case materials, plus one for item names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q

from yiwang.cases.constants import Provenance
from yiwang.cases.models import CaseMaterial
from yiwang.catalogue.selectors import latest_versions
from yiwang.identity import authz

MANAGE = "catalogue.manage"
SUPERVISE = "supervision.view"
SUPPLIED = (Provenance.SHARED, Provenance.LICENCE)
SORTS = ("rate", "-rate", "name", "slots", "-slots")


@dataclass(frozen=True)
class ItemMeasure:
    item_id: int
    code: str
    name: str
    department: str
    cases: int
    slots: int  # material slots filled in those cases
    supplied: int  # of which by sharing or licences

    @property
    def rate(self) -> float:
        return self.supplied / self.slots if self.slots else 0.0

    @property
    def percent(self) -> float:
        return round(self.rate * 100, 1)


@dataclass(frozen=True)
class Measure:
    rows: list[ItemMeasure]
    cases: int
    slots: int
    supplied: int

    @property
    def rate(self) -> float:
        return self.supplied / self.slots if self.slots else 0.0

    @property
    def percent(self) -> float:
        return round(self.rate * 100, 1)


def may_view(actor: Any) -> bool:
    return authz.allowed(actor, MANAGE) or authz.allowed(actor, SUPERVISE)


def _scope(actor: Any) -> Q:
    return authz.scope_q(
        actor, MANAGE, department_field="case__version__department", division_field="case__version__region_code"
    ) | authz.scope_q(actor, SUPERVISE, division_field="case__version__region_code")


def exemption_rates(actor: Any, *, sort: str = "-rate") -> Measure:
    """The measure per item ``actor`` may see, sorted by ``sort`` (one of ``SORTS``; others mean "-rate")."""
    grouped = (
        CaseMaterial.objects.filter(superseded=False, case__submitted_at__isnull=False)
        .filter(_scope(actor))
        .values("case__version__item_id")
        .annotate(
            cases=Count("case_id", distinct=True),
            slots=Count("id"),
            supplied=Count("id", filter=Q(provenance__in=SUPPLIED)),
        )
        .order_by()
    )
    figures = {row["case__version__item_id"]: row for row in grouped}
    names = {
        v.item_id: v
        for v in latest_versions()
        .filter(item_id__in=sorted(figures))
        .select_related("department")
        .only("item_id", "name", "implementation_code", "department__name")
    }
    rows = [
        ItemMeasure(
            item_id=item_id,
            code=names[item_id].implementation_code if item_id in names else "",
            name=names[item_id].name if item_id in names else str(item_id),
            department=names[item_id].department.name if item_id in names else "",
            cases=row["cases"],
            slots=row["slots"],
            supplied=row["supplied"],
        )
        for item_id, row in figures.items()
    ]
    if sort == "name":
        rows.sort(key=lambda r: (r.name, r.code))
    elif sort == "slots":
        rows.sort(key=lambda r: (r.slots, r.name))
    elif sort == "-slots":
        rows.sort(key=lambda r: (-r.slots, r.name))
    elif sort == "rate":
        rows.sort(key=lambda r: (r.rate, r.name))
    else:
        rows.sort(key=lambda r: (-r.rate, r.name))
    return Measure(
        rows=rows,
        cases=sum(r.cases for r in rows),
        slots=sum(r.slots for r in rows),
        supplied=sum(r.supplied for r in rows),
    )
