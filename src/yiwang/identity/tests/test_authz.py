"""The authorisation layer on its own: region prefixes, each scope kind in ``allowed``/``check``/``scope_q``,
who sees identifiers in clear, and that a role without a department and region reaches nothing."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser, Group, User
from django.db.models import Q
from django.utils import timezone, translation

from yiwang.audit.actors import SystemActor
from yiwang.catalogue.models import Organisation
from yiwang.common.errors import PermissionDenied
from yiwang.common.models import Division
from yiwang.identity import authz
from yiwang.identity import services as identity
from yiwang.identity.constants import Role
from yiwang.identity.models import Enterprise
from yiwang.identity.tests.people import PEOPLE

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"


@pytest.mark.parametrize(
    ("code", "prefix"),
    [
        ("330000", "33"),  # a province covers its prefectures and counties
        ("330100", "3301"),  # a prefecture (杭州市) its counties
        ("330106", "330106"),  # a county only itself (and its townships)
        ("330106000", "330106"),  # a 9-digit code of a whole county
        ("330106001", "330106001"),  # a township
        ("100000", ""),  # the nation covers every code
    ],
)
def test_region_prefix(code: str, prefix: str) -> None:
    assert authz.region_prefix(code) == prefix


def test_every_rule_names_known_roles_and_every_staff_role_can_enter_the_workbench() -> None:
    for rule in authz.ACTIONS.values():
        assert rule.roles <= set(Role.values)
    assert authz.ACTIONS["workbench.enter"].roles == set(Role.values) - {Role.ADMINISTRATOR}


# --- DEPARTMENT scope -----------------------------------------------------------------------------


def test_department_scope_needs_the_department_and_the_region(
    manager: User, department_a: Organisation, department_b: Organisation
) -> None:
    a, b = department_a.pk, department_b.pk
    assert authz.allowed(manager, "catalogue.manage")  # somewhere: the list may be opened
    assert authz.allowed(manager, "catalogue.manage", department_id=a, division_code="330106")
    assert not authz.allowed(manager, "catalogue.manage", department_id=b, division_code="370811")
    assert not authz.allowed(manager, "catalogue.manage", department_id=a, division_code="370811")
    assert not authz.allowed(manager, "catalogue.manage", department_id=b, division_code="330106")
    assert not authz.allowed(manager, "catalogue.publish", department_id=a, division_code="330106")  # no role


def test_department_scope_q_keeps_the_departments_rows_in_the_region(
    manager: User, reviewer_b: User, department_a: Organisation, department_b: Organisation
) -> None:
    # Organisations stand in for any table with a department and a division column.
    rows = Organisation.objects.all()
    q = authz.scope_q(manager, "catalogue.manage", department_field="pk", division_field="division__code")
    assert list(rows.filter(q)) == [department_a]
    q = authz.scope_q(reviewer_b, "staff.workbench", department_field="pk", division_field="division__code")
    assert list(rows.filter(q)) == [department_b]
    assert not rows.filter(authz.scope_q(reviewer_b, "catalogue.manage", department_field="pk")).exists()


# --- REGION scope ---------------------------------------------------------------------------------


def test_region_scope_reaches_sub_regions_only(supervisor: User, reviewer_a: User, reviewer_b: User) -> None:
    assert authz.allowed(supervisor, "supervision.view", division_code="330106")  # a county of 杭州市
    assert authz.allowed(supervisor, "supervision.view", division_code="330100")
    assert not authz.allowed(supervisor, "supervision.view", division_code="330000")  # the province is above
    assert not authz.allowed(supervisor, "supervision.view", division_code="370811")
    assert authz.allowed(reviewer_a, "registers.lookup", division_code="330106")
    assert not authz.allowed(reviewer_b, "registers.lookup", division_code="330106")
    # Region scope ignores the department: any person in the region, whoever's department.
    assert authz.allowed(reviewer_a, "registers.lookup", department_id=-1, division_code="330106")


def test_region_scope_q(supervisor: User, reviewer_b: User) -> None:
    def codes(actor: Any) -> set[str]:
        q = authz.scope_q(actor, "supervision.view", division_field="code")
        return set(Division.objects.filter(q).values_list("code", flat=True))

    hangzhou = codes(supervisor)
    assert "330106" in hangzhou and "330100" in hangzhou
    assert all(code.startswith("3301") for code in hangzhou)
    assert codes(reviewer_b) == set()  # no supervisor role


def test_national_staff_reach_every_region(roles: None, system: SystemActor, department_a: Organisation) -> None:
    national = identity.create_staff(
        actor=system,
        username="national-supervisor",
        name="国家监察",
        department=department_a,
        division_code="100000",
        roles=[Role.SUPERVISOR],
        password=PASSWORD,
    )
    assert authz.allowed(national, "supervision.view", division_code="370811")
    assert authz.allowed(national, "supervision.view", division_code="330106")
    q = authz.scope_q(national, "supervision.view", division_field="code")
    assert Division.objects.filter(q).count() == Division.objects.count()


# --- ALL scope ------------------------------------------------------------------------------------


def test_all_scope_needs_only_the_role(auditor: User, supervisor: User, admin: User) -> None:
    assert authz.allowed(auditor, "audit.read")
    assert authz.allowed(auditor, "audit.read", division_code="370811")  # nothing narrows it
    assert authz.scope_q(auditor, "audit.read") == Q()
    assert not authz.allowed(supervisor, "audit.read")
    assert not Division.objects.filter(authz.scope_q(supervisor, "audit.read")).exists()
    assert not authz.allowed(auditor, "identity.manage_staff")  # administrators only
    assert authz.allowed(admin, "identity.manage_staff")


# --- OWN scope ------------------------------------------------------------------------------------


def test_own_scope_reaches_oneself_and_ones_principals(
    citizen: User, agent: User, enterprise_rep: User, enterprise: Enterprise, reviewer_a: User
) -> None:
    rule = "account.records"
    assert authz.allowed(citizen, rule, owner_id=citizen.pk)
    assert not authz.allowed(citizen, rule, owner_id=agent.pk)
    # The agent (经办人) reaches the enterprise's records; its representative does too.
    assert authz.allowed(agent, rule, enterprise_id=enterprise.pk)
    assert authz.allowed(enterprise_rep, rule, enterprise_id=enterprise.pk)
    assert not authz.allowed(citizen, rule, enterprise_id=enterprise.pk)
    # A record made by the agent for the enterprise is reachable through either.
    assert authz.allowed(enterprise_rep, rule, owner_id=agent.pk, enterprise_id=enterprise.pk)
    # Staff are not applicants: no own records through this rule.
    assert not authz.allowed(reviewer_a, rule, owner_id=reviewer_a.pk)


def test_own_scope_q_matches_owner_and_enterprise_fields(
    citizen: User, agent: User, enterprise_rep: User, enterprise: Enterprise, reviewer_a: User, admin: User
) -> None:
    def visible(actor: Any) -> list[Enterprise]:
        q = authz.scope_q(actor, "account.records", owner_fields=["representative"], enterprise_fields=["pk"])
        return list(Enterprise.objects.filter(q))

    assert visible(enterprise_rep) == [enterprise]
    assert visible(agent) == [enterprise]
    assert visible(citizen) == []
    assert visible(reviewer_a) == []
    assert visible(admin) == [enterprise]
    only_own = authz.scope_q(agent, "account.records", enterprise_fields=["pk"], with_principals=False)
    assert not Enterprise.objects.filter(only_own).exists()


def test_a_proxy_reaches_the_principal_person_while_the_agency_is_in_force(citizen: User, enterprise_rep: User) -> None:
    agency = identity.grant_agency(
        actor=citizen,
        agent_id_number=PEOPLE["representative"].id_number,
        agent_name=PEOPLE["representative"].name,
        all_items=True,
        valid_until=timezone.now() + dt.timedelta(days=30),
    )
    authz.forget(enterprise_rep)
    assert authz.allowed(enterprise_rep, "account.records", owner_id=citizen.pk)
    assert authz.principals_of(enterprise_rep).user_ids == {citizen.pk}
    later = timezone.now() + dt.timedelta(days=31)
    assert authz.principals_of(enterprise_rep, now=later).user_ids == frozenset()
    identity.revoke_agency(actor=citizen, agency=agency)
    assert not authz.allowed(enterprise_rep, "account.records", owner_id=citizen.pk)


# --- check, unscoped, has_role --------------------------------------------------------------------


def test_check_raises_a_translated_permission_error(reviewer_b: User, department_a: Organisation) -> None:
    with translation.override("en"), pytest.raises(PermissionDenied) as excinfo:
        authz.check(reviewer_b, "staff.workbench", department_id=department_a.pk)
    assert str(excinfo.value.message) == "You do not have permission to do this here."
    with translation.override("zh-hans"), pytest.raises(PermissionDenied) as excinfo:
        authz.check(reviewer_b, "staff.workbench", department_id=department_a.pk)
    assert str(excinfo.value.message) == "您无权在此执行该操作。"
    with pytest.raises(PermissionDenied) as excinfo:
        authz.check(reviewer_b, "audit.read", message="custom")
    assert excinfo.value.message == "custom"
    authz.check(reviewer_b, "registers.lookup", division_code="370811")  # allowed: no error


def test_unscoped_actors(admin: User, system: SystemActor, auditor: User, manager: User) -> None:
    assert authz.unscoped(admin, "catalogue.manage")
    assert authz.unscoped(system, "catalogue.manage")
    assert authz.unscoped(auditor, "audit.read")
    assert not authz.unscoped(manager, "catalogue.manage")
    assert not authz.unscoped(manager, "audit.read")


def test_has_role(clerk: User, admin: User, citizen: User) -> None:
    assert authz.has_role(clerk, Role.WINDOW_CLERK)
    assert not authz.has_role(clerk, Role.REVIEWER, Role.SUPERVISOR)
    assert authz.has_role(admin, Role.SUPERVISOR)  # administrators hold every role
    assert not authz.has_role(citizen, Role.WINDOW_CLERK)


def test_the_anonymous_and_the_inactive_reach_nothing(db: Any) -> None:
    anonymous = AnonymousUser()
    for action in authz.ACTIONS:
        assert not authz.allowed(anonymous, action)
    assert not Division.objects.filter(authz.scope_q(None, "supervision.view", division_field="code")).exists()
    with pytest.raises(PermissionDenied):
        authz.require_authenticated(anonymous)


# --- a role alone reaches nothing -----------------------------------------------------------------


def test_a_role_without_a_staff_account_reaches_nothing(roles: None) -> None:
    bare = User.objects.create_user(username="bare-reviewer", password=PASSWORD)
    bare.groups.add(Group.objects.get(name=Role.REVIEWER))
    assert authz.has_role(bare, Role.REVIEWER)
    assert not authz.allowed(bare, "registers.lookup")
    assert not authz.allowed(bare, "staff.workbench")
    assert not Division.objects.filter(authz.scope_q(bare, "registers.lookup", division_field="code")).exists()


def test_a_citizen_given_a_staff_role_reaches_nothing(roles: None, citizen: User) -> None:
    citizen.groups.add(Group.objects.get(name=Role.SUPERVISOR))
    authz.forget(citizen)
    assert not authz.allowed(citizen, "supervision.view", division_code="330106")
    assert not Division.objects.filter(authz.scope_q(citizen, "supervision.view", division_field="code")).exists()


def test_staff_without_department_or_region_reach_nothing(reviewer_a: User, manager: User) -> None:
    # The database refuses such accounts (account_staff_has_scope); the layer does not rely on that alone.
    for user in (reviewer_a, manager):
        real = authz.subject_of(user)
        user._yiwang_subject = authz.Subject(  # type: ignore[attr-defined]
            user=user,
            is_admin=False,
            is_system=False,
            roles=real.roles,
            kind=real.kind,
            department_id=None,
            division_code=None,
            verified=True,
        )
    assert not authz.allowed(reviewer_a, "registers.lookup")
    assert not authz.allowed(manager, "catalogue.manage")
    assert not authz.allowed(reviewer_a, "workbench.enter")
    assert not Organisation.objects.filter(
        authz.scope_q(manager, "catalogue.manage", department_field="pk", division_field="division__code")
    ).exists()


def test_staff_without_a_department_reach_no_department_scoped_rows(reviewer_a: User) -> None:
    real = authz.subject_of(reviewer_a)
    reviewer_a._yiwang_subject = authz.Subject(  # type: ignore[attr-defined]
        user=reviewer_a,
        is_admin=False,
        is_system=False,
        roles=real.roles,
        kind=real.kind,
        department_id=None,
        division_code="330106",
        verified=True,
    )
    assert authz.allowed(reviewer_a, "registers.lookup", division_code="330106")  # region scope: still fine
    assert not authz.allowed(reviewer_a, "staff.workbench")
    assert not Organisation.objects.filter(authz.scope_q(reviewer_a, "staff.workbench", department_field="pk")).exists()


# --- identifiers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "clear"),
    [
        ("clerk", True),
        ("reviewer_a", True),
        ("reviewer_b", True),
        ("supervisor", False),
        ("auditor", False),
        ("admin", False),
        ("citizen", False),
        ("manager", False),
    ],
)
def test_may_see_identifiers_of_others(request: pytest.FixtureRequest, persona: str, clear: bool) -> None:
    viewer = request.getfixturevalue(persona)
    other = User.objects.create_user(username="someone-else")
    assert authz.may_see_identifiers(viewer, owner=other) is clear
    assert authz.may_see_identifiers(viewer) is clear


def test_everyone_sees_their_own_identifiers_and_the_anonymous_nothing(citizen: User, supervisor: User) -> None:
    assert authz.may_see_identifiers(citizen, owner=citizen)
    assert authz.may_see_identifiers(supervisor, owner=supervisor)
    assert not authz.may_see_identifiers(AnonymousUser(), owner=citizen)
    assert authz.may_see_identifiers(SystemActor("export"))
