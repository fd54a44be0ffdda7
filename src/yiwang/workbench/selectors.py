"""Reads for the staff workbench that combine apps: the supervisor's region overview.

Each app answers for its own tables (catalogue: items in force per region; identity: staff per region); this
module only adds them up per sub-region of the viewer's region, as far as authz lets the viewer see.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from yiwang.catalogue import selectors as catalogue
from yiwang.common.models import Division
from yiwang.identity import authz
from yiwang.identity import selectors as identity

SUPERVISE = "supervision.view"


@dataclass(frozen=True)
class RegionRow:
    division: Division
    items: int  # service items in force whose region lies here
    staff: int  # active staff accounts whose region lies here
    own_level: bool = False  # the viewer's division itself (e.g. 市本级 items of a city), not a sub-region


@dataclass(frozen=True)
class RegionOverview:
    division: Division
    rows: list[RegionRow]

    @property
    def total_items(self) -> int:
        return sum(r.items for r in self.rows)

    @property
    def total_staff(self) -> int:
        return sum(r.staff for r in self.rows)


def _sum_under(counts: dict[str, int], prefix: str) -> int:
    return sum(n for code, n in counts.items() if code.startswith(prefix))


def region_overview(actor: Any) -> RegionOverview:
    """Counts per direct sub-region of the actor's region (a city's counties, a province's prefectures).

    Administrators without a region of their own see the country by province.
    """
    authz.check(actor, SUPERVISE)
    code = authz.subject_of(actor).division_code or authz.NATIONAL_CODE
    division = Division.objects.get(code=code)
    prefix = authz.region_prefix(code)
    items = catalogue.current_counts_by_region(prefix)
    staff = identity.staff_counts_by_region(prefix)
    children = list(division.children.order_by("code"))
    if not children:
        return RegionOverview(division, [RegionRow(division, _sum_under(items, prefix), _sum_under(staff, prefix))])
    rows = [
        RegionRow(
            child,
            _sum_under(items, authz.region_prefix(child.code)),
            _sum_under(staff, authz.region_prefix(child.code)),
        )
        for child in children
    ]
    # Items and staff of the division's own level belong to no sub-region; shown as their own row when present.
    own = RegionRow(division, items.get(code, 0), staff.get(code, 0), own_level=True)
    return RegionOverview(division, [own, *rows] if own.items or own.staff else rows)
