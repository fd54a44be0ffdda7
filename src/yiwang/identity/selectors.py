"""Reads of the identity domain: who the signed-in user is, their enterprises and agencies, staff per region.

"Mine" reads (``profile``, ``agencies_granted_by``, ``agencies_held_by``) filter by the user themselves, never
by ``authz.scope_q``: an administrator asking for *their* agencies must get theirs, not everyone's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet

from yiwang.catalogue.models import Organisation
from yiwang.common.masking import mask_id_number, mask_phone
from yiwang.common.models import Division
from yiwang.identity import authz, services
from yiwang.identity.constants import AccountKind
from yiwang.identity.models import Account, Agency, AgencyQuerySet, Enterprise


@dataclass(frozen=True)
class Profile:
    """Who the signed-in user is, with identifiers already masked (nothing here is shown in clear)."""

    username: str
    kind: str | None  # AccountKind, or None for a bare login (a superuser created by createsuperuser)
    name: str
    masked_id_number: str
    masked_phone: str
    real_name_status: str | None
    can_apply: bool
    roles: list[str]
    department: Organisation | None
    region: Division | None
    enterprises: list[Enterprise] = field(default_factory=list)
    agencies: list[Agency] = field(default_factory=list)  # held by the user, in force now


def _account(user: Any) -> Account | None:
    return Account.objects.select_related("department", "division").filter(user=user).first()


def profile(user: Any) -> Profile:
    account = _account(user)
    subject = authz.subject_of(user)
    return Profile(
        username=user.get_username(),
        kind=account.kind if account else None,
        name=(account.real_name if account else "") or user.get_full_name() or user.get_username(),
        masked_id_number=mask_id_number(account.id_number) if account else "",
        masked_phone=mask_phone(account.phone) if account else "",
        real_name_status=account.real_name_status if account else None,
        can_apply=services.can_apply(user),  # the national platform's real-name rule, decided in one place
        roles=sorted(subject.roles),
        department=account.department if account else None,
        region=account.division if account else None,
        enterprises=list(enterprises_represented_by(user)),
        agencies=list(agencies_held_by(user).in_force()),
    )


def enterprises_represented_by(user: Any) -> QuerySet[Enterprise]:
    return Enterprise.objects.filter(representative=user).order_by("name")


def agencies_granted_by(user: Any) -> AgencyQuerySet:
    """Agencies the user granted: as a person appointing a proxy, or as an enterprise's representative."""
    return (
        Agency.objects.filter(Q(principal_user=user) | Q(enterprise__representative=user))
        .select_related("enterprise", "principal_user__account", "agent__account")
        .order_by("-granted_at", "-id")
    )


def agencies_held_by(user: Any) -> AgencyQuerySet:
    return (
        Agency.objects.filter(agent=user)
        .select_related("enterprise", "principal_user__account", "agent__account")
        .order_by("-granted_at", "-id")
    )


def staff_counts_by_region(prefix: str) -> dict[str, int]:
    """Active staff accounts per region code, for every region code under ``prefix`` ("" for the country)."""
    qs = Account.objects.filter(kind=AccountKind.STAFF, user__is_active=True, division__code__startswith=prefix)
    return dict(qs.order_by().values_list("division_id").annotate(n=Count("id")))
