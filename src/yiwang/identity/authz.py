"""The one authorisation layer: role **and** scope.

Every view, API endpoint, admin action and service that needs a permission asks here. A decision has two
parts: the actor holds a role that grants the action (``ACTIONS``), and the object lies inside the actor's
scope — the actor's own department, the actor's region and its sub-regions (by GB/T 2260 code prefix), the
actor's own records, or records of a principal the actor holds an agency for. Querysets are narrowed with
``scope_q`` so that lists never show what a detail view would refuse.

``allowed``/``check`` take the object's facts (department, region, owner) and judge each one *given*; with
none given they answer whether the actor may do the action somewhere at all (may open the list). A fact
that is unknown must therefore not be passed as ``None`` for a scoped actor: callers use ``unscoped`` for
objects that belong to nobody yet (e.g. a body the catalogue does not know).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from yiwang.audit.actors import SystemActor
from yiwang.common.errors import PermissionDenied
from yiwang.identity.constants import AccountKind, Role


class Scope(Enum):
    ALL = "all"  # nothing narrows it (public data, administrators, system actors)
    DEPARTMENT = "department"  # the actor's department, inside the actor's region
    REGION = "region"  # the actor's region and its sub-regions
    OWN = "own"  # the actor's own records and those of principals they act for


@dataclass(frozen=True)
class Rule:
    roles: frozenset[str]
    scope: Scope
    # Natural persons hold the rule by being persons: applicants have no staff role, only their own records.
    persons: bool = False


def _rule(scope: Scope, *roles: Role) -> Rule:
    return Rule(frozenset(str(r) for r in roles), scope)


# Every staff role but the administrator's (administrators pass every check anyway).
STAFF_ROLES = tuple(r for r in Role if r != Role.ADMINISTRATOR)


# Which roles may do what, and how far their reach goes. Administrators are unscoped everywhere (ALL).
ACTIONS: dict[str, Rule] = {
    "catalogue.manage": _rule(Scope.DEPARTMENT, Role.CATALOGUE_MANAGER, Role.CATALOGUE_PUBLISHER),
    "catalogue.publish": _rule(Scope.DEPARTMENT, Role.CATALOGUE_PUBLISHER),
    "registers.lookup": _rule(Scope.REGION, Role.WINDOW_CLERK, Role.REVIEWER, Role.APPROVER),
    # Reading one's own department's work in the workbench (its catalogue items; later its cases).
    "staff.workbench": _rule(
        Scope.DEPARTMENT,
        Role.WINDOW_CLERK,
        Role.REVIEWER,
        Role.APPROVER,
        Role.CATALOGUE_MANAGER,
        Role.CATALOGUE_PUBLISHER,
    ),
    "supervision.view": _rule(Scope.REGION, Role.SUPERVISOR),
    "audit.read": _rule(Scope.ALL, Role.AUDITOR),
    "identity.manage_staff": _rule(Scope.ALL),
    "identity.manage_clients": _rule(Scope.ALL),
    "registers.manage": _rule(Scope.ALL),
    "calendar.manage": _rule(Scope.ALL),  # administrators: a wrong day moves every deadline that crosses it
    # The platform's certificate authority, department seals, the time-stamp certificate: administrators only.
    "licences.manage_keys": _rule(Scope.ALL),
    "licences.manage_types": _rule(Scope.ALL),  # licence types are national definitions the platform mirrors
    # Suspending, revoking, re-issuing and changing the licences a department issued: its approvers (who decide).
    "licences.manage": _rule(Scope.DEPARTMENT, Role.APPROVER),
    # The staff workbench's home page: any staff role, as long as the member has a region to work in.
    "workbench.enter": _rule(Scope.REGION, *STAFF_ROLES),
    # Cases (办件): handling is by department (a case is visible to each department it involves); acceptance
    # and delivery at the window; steps by the role each step names; supervision by region.
    "cases.handle": _rule(Scope.DEPARTMENT, Role.WINDOW_CLERK, Role.REVIEWER, Role.APPROVER),
    "cases.accept": _rule(Scope.DEPARTMENT, Role.WINDOW_CLERK),
    "cases.supervise": _rule(Scope.REGION, Role.SUPERVISOR),
    # Data sharing (docs/sharing.md). The resource catalogue is open to the staff of every department; a
    # department registers its own resources and decides grants on them, and asks for grants for itself.
    # Grants on the platform's own registers (no provider department) are decided by administrators.
    "sharing.browse": _rule(Scope.ALL, *STAFF_ROLES),
    "sharing.provide": _rule(Scope.DEPARTMENT, Role.CATALOGUE_MANAGER, Role.APPROVER),
    "sharing.consume": _rule(Scope.DEPARTMENT, Role.CATALOGUE_MANAGER, Role.APPROVER),
    # Reading the whole access log (and checking its chain): auditors.
    "sharing.audit": _rule(Scope.ALL, Role.AUDITOR),
    # An applicant's own records and those of the principals they act for (agencies, later cases).
    "account.records": Rule(frozenset(), Scope.OWN, persons=True),
}


NATIONAL_CODE = "100000"  # the root of GB/T 2260 as common/data/divisions.json holds it


def region_prefix(code: str) -> str:
    """The code prefix shared by a division and all its sub-divisions (330000→33, 330100→3301, nation→"")."""
    if len(code) > 6 and code[6:].strip("0") == "":
        code = code[:6]
    if code == NATIONAL_CODE:
        # "10" would be read as a province prefix that no real code has: the nation covers every code.
        return ""
    if len(code) == 6:
        if code[2:] == "0000":
            return code[:2]
        if code[4:] == "00":
            return code[:4]
    return code


@dataclass(frozen=True)
class Subject:
    """Who is asking, with everything a decision needs read once."""

    user: AbstractBaseUser | None
    is_admin: bool
    is_system: bool
    roles: frozenset[str]
    kind: str | None
    department_id: int | None
    division_code: str | None
    verified: bool

    @property
    def is_staff_member(self) -> bool:
        return self.kind == AccountKind.STAFF

    @property
    def region(self) -> str | None:
        return region_prefix(self.division_code) if self.division_code else None


ANONYMOUS = Subject(None, False, False, frozenset(), None, None, None, False)


def subject_of(actor: Any) -> Subject:
    if isinstance(actor, SystemActor):
        return Subject(None, True, True, frozenset(), None, None, None, False)
    if actor is None or isinstance(actor, AnonymousUser) or not actor.is_authenticated:
        return ANONYMOUS
    cached = getattr(actor, "_yiwang_subject", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    from yiwang.identity.models import account_of  # models load after authz is imported by app modules

    account = account_of(actor)
    roles = frozenset(actor.groups.values_list("name", flat=True))
    subject = Subject(
        user=actor,
        is_admin=bool(actor.is_superuser) or str(Role.ADMINISTRATOR) in roles,
        is_system=False,
        roles=roles,
        kind=account.kind if account else None,
        department_id=account.department_id if account else None,
        division_code=account.division_id if account else None,
        verified=bool(account and account.is_verified),
    )
    actor._yiwang_subject = subject
    return subject


def forget(user: Any) -> None:
    """Drop the cached subject (after roles or the account changed within one request)."""
    if hasattr(user, "_yiwang_subject"):
        del user._yiwang_subject


def has_role(actor: Any, *roles: Role | str) -> bool:
    subject = subject_of(actor)
    return subject.is_admin or any(str(r) in subject.roles for r in roles)


def _holds(rule: Rule, subject: Subject) -> bool:
    if subject.user is None:
        return False
    return bool(rule.roles & subject.roles) or (rule.persons and subject.kind == AccountKind.PERSON)


@dataclass(frozen=True)
class Principals:
    """Whose records an applicant may see besides their own."""

    user_ids: frozenset[int]  # persons who appointed the actor their proxy (委托代办)
    enterprise_ids: frozenset[int]  # enterprises the actor represents or is an agent (经办人) of


NO_PRINCIPALS = Principals(frozenset(), frozenset())


def principals_of(actor: Any, now: dt.datetime | None = None) -> Principals:
    """The actor's principals through agencies in force now (and the enterprises they represent).

    Seeing a principal's records needs no particular item: an agency limited to some items still lets the
    agent follow what they handle; acting on an item is checked per act (identity.services.agency_for_act).
    """
    from yiwang.identity.models import Agency, Enterprise

    subject = subject_of(actor)
    if subject.user is None or subject.kind != AccountKind.PERSON:
        return NO_PRINCIPALS
    agencies = Agency.objects.in_force(now).filter(agent_id=subject.user.pk)
    users = agencies.filter(principal_user__isnull=False).values_list("principal_user_id", flat=True)
    held = agencies.filter(enterprise__isnull=False).values_list("enterprise_id", flat=True)
    represented = Enterprise.objects.filter(representative_id=subject.user.pk).values_list("pk", flat=True)
    return Principals(frozenset(users), frozenset(held) | frozenset(represented))


def allowed(
    actor: Any,
    action: str,
    *,
    department_id: int | None = None,
    division_code: str | None = None,
    owner_id: int | None = None,
    enterprise_id: int | None = None,
) -> bool:
    """May ``actor`` do ``action`` on an object of this department, region, owner or enterprise (each when given)?

    For own-records rules, an object given both an owner and an enterprise is reachable through either: it
    belongs to the person who made it and to the enterprise it was made for.
    """
    rule = ACTIONS[action]
    subject = subject_of(actor)
    if subject.is_admin:
        return True
    if not _holds(rule, subject):
        return False
    if rule.scope in {Scope.DEPARTMENT, Scope.REGION}:
        # Staff without a department and region reach nothing: a role alone grants no records.
        if not subject.is_staff_member or subject.region is None:
            return False
        if division_code is not None and not division_code.startswith(subject.region):
            return False
        if rule.scope is Scope.DEPARTMENT:
            if subject.department_id is None:
                return False
            if department_id is not None and department_id != subject.department_id:
                return False
    if rule.scope is Scope.OWN and (owner_id is not None or enterprise_id is not None):
        assert subject.user is not None  # _holds refuses the anonymous
        if owner_id is not None and owner_id == subject.user.pk:
            return True
        principals = principals_of(actor)
        return (owner_id is not None and owner_id in principals.user_ids) or (
            enterprise_id is not None and enterprise_id in principals.enterprise_ids
        )
    return True


def unscoped(actor: Any, action: str) -> bool:
    """Whether nothing narrows ``actor``'s reach for ``action`` (administrators, system actors, ALL rules).

    Objects that belong to no department or region yet may be created only by such actors.
    """
    subject = subject_of(actor)
    if subject.is_admin:
        return True
    rule = ACTIONS[action]
    return rule.scope is Scope.ALL and _holds(rule, subject)


def check(
    actor: Any,
    action: str,
    *,
    department_id: int | None = None,
    division_code: str | None = None,
    owner_id: int | None = None,
    enterprise_id: int | None = None,
    message: str | Promise | None = None,
) -> None:
    """``allowed`` or ``PermissionDenied`` (with ``message`` when the caller has a more precise one)."""
    if not allowed(
        actor,
        action,
        department_id=department_id,
        division_code=division_code,
        owner_id=owner_id,
        enterprise_id=enterprise_id,
    ):
        raise PermissionDenied(message or _("You do not have permission to do this here."))


def scope_q(
    actor: Any,
    action: str,
    *,
    department_field: str | None = None,
    division_field: str | None = None,
    owner_fields: Iterable[str] = (),
    enterprise_fields: Iterable[str] = (),
    with_principals: bool = True,
) -> Q:
    """A filter that keeps exactly the rows ``actor`` may see for ``action`` (``Q(pk__in=[])`` for none).

    Own-records rules match ``owner_fields`` (user foreign keys) against the actor and, ``with_principals``,
    against the persons the actor is proxy for; ``enterprise_fields`` against the actor's enterprises.
    Lists of the actor's own things only (e.g. the agencies they granted) pass ``with_principals=False``.
    """
    nothing = Q(pk__in=[])
    subject = subject_of(actor)
    if subject.is_admin:
        return Q()
    rule = ACTIONS[action]
    if not _holds(rule, subject):
        return nothing
    if rule.scope is Scope.ALL:
        return Q()
    if rule.scope is Scope.OWN:
        principals = principals_of(actor) if with_principals else NO_PRINCIPALS
        q = nothing
        for field in owner_fields:
            q |= Q(**{field: subject.user})
            if principals.user_ids:
                q |= Q(**{f"{field}__in": sorted(principals.user_ids)})
        for field in enterprise_fields:
            if principals.enterprise_ids:
                q |= Q(**{f"{field}__in": sorted(principals.enterprise_ids)})
        return q
    if not subject.is_staff_member or subject.region is None:
        return nothing
    if rule.scope is Scope.DEPARTMENT and subject.department_id is None:
        return nothing
    q = Q()
    if division_field is not None:
        q &= Q(**{f"{division_field}__startswith": subject.region})
    if rule.scope is Scope.DEPARTMENT and department_field is not None:
        q &= Q(**{department_field: subject.department_id})
    return q


def may_see_identifiers(viewer: Any, *, owner: Any = None) -> bool:
    """Whether ``viewer`` sees ID and phone numbers in clear: their own, or staff who handle applicants.

    Supervisors and auditors see masked values: their work needs who and when, not the numbers.
    """
    subject = subject_of(viewer)
    if owner is not None and subject.user is not None and subject.user.pk == getattr(owner, "pk", None):
        return True
    if subject.is_system:
        return True
    return subject.is_staff_member and bool(
        {str(Role.WINDOW_CLERK), str(Role.REVIEWER), str(Role.APPROVER)} & subject.roles
    )


def require_authenticated(actor: Any) -> None:
    if not subject_of(actor).user:
        raise PermissionDenied(_("Please sign in first."))
