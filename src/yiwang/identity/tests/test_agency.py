"""Enterprises bound by their legal representative, agency grants and revocation, acting on behalf."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import time_machine
from django.utils import timezone, translation

from yiwang.audit.models import AuditRecord
from yiwang.common.errors import InvalidInput, NotFound, PermissionDenied
from yiwang.identity import services
from yiwang.identity.models import Agency, Enterprise
from yiwang.identity.tests.people import CANCELLED_ENTITY, ENTERPRISE, PEOPLE, make_register_entity

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


def in_a_year() -> dt.datetime:
    return timezone.now() + dt.timedelta(days=365)


def test_the_representative_binds_the_enterprise(enterprise, enterprise_rep):
    assert enterprise.representative == enterprise_rep
    assert enterprise.name == ENTERPRISE.name
    record = AuditRecord.objects.get(action="identity.enterprise_bound")
    assert record.actor == enterprise_rep and record.on_behalf_of == f"enterprise:{ENTERPRISE.uscc}"


@pytest.mark.parametrize(
    ("uscc", "name", "error", "message"),
    [
        ("91330106MA2A0001", ENTERPRISE.name, InvalidInput, "not valid"),  # too short
        (
            ENTERPRISE.uscc[:17] + ("0" if ENTERPRISE.uscc[17] != "0" else "1"),
            ENTERPRISE.name,
            InvalidInput,
            "not valid",
        ),
        ("91330106MA2A0009" + "XX", ENTERPRISE.name, InvalidInput, "not valid"),
        (ENTERPRISE.uscc, "杭州别的公司", InvalidInput, "does not match"),
        (CANCELLED_ENTITY.uscc, CANCELLED_ENTITY.name, InvalidInput, "not in business"),
    ],
)
def test_bad_bindings_are_refused(enterprise_rep, uscc, name, error, message):
    make_register_entity(ENTERPRISE, PEOPLE["representative"])
    make_register_entity(CANCELLED_ENTITY, PEOPLE["representative"], status="cancelled")
    with pytest.raises(error, match=message):
        services.bind_enterprise(actor=enterprise_rep, uscc=uscc, name=name)
    assert not Enterprise.objects.exists()


def test_an_unregistered_code_is_refused(enterprise_rep):
    from yiwang.common.validators import build_uscc

    with pytest.raises(InvalidInput, match="no entity"):
        services.bind_enterprise(actor=enterprise_rep, uscc=build_uscc("91", "330106", "MA2A0777"), name="X")


def test_only_the_legal_representative_binds(citizen):
    make_register_entity(ENTERPRISE, PEOPLE["representative"])
    with pytest.raises(PermissionDenied, match="legal representative"):
        services.bind_enterprise(actor=citizen, uscc=ENTERPRISE.uscc, name=ENTERPRISE.name)
    assert not Enterprise.objects.exists()


def test_binding_twice_is_refused(enterprise, enterprise_rep):
    with pytest.raises(InvalidInput, match="already bound"):
        services.bind_enterprise(actor=enterprise_rep, uscc=ENTERPRISE.uscc, name=ENTERPRISE.name)


def test_grant_act_and_revoke(agent, enterprise, enterprise_rep):
    agency = Agency.objects.get(agent=agent)
    assert agency.all_items and agency.in_force_at(timezone.now())
    acting = services.start_acting(actor=agent, agency_id=agency.pk)
    record = AuditRecord.objects.filter(action="identity.acting_started").get()
    # Both identities are on record: the agent as actor, the enterprise as principal.
    assert record.actor == agent and record.on_behalf_of == f"enterprise:{ENTERPRISE.uscc}"
    assert acting == agency
    services.revoke_agency(actor=enterprise_rep, agency=agency)
    with pytest.raises(PermissionDenied, match="revoked"):
        services.agency_for_act(agent=agent, agency_id=agency.pk)
    with pytest.raises(InvalidInput, match="already been revoked"):
        services.revoke_agency(actor=enterprise_rep, agency=agency)
    assert (
        AuditRecord.objects.filter(action="identity.agency_revoked", on_behalf_of__startswith="enterprise:").count()
        == 1
    )


def test_an_expired_agency_cannot_be_used(agent):
    agency = Agency.objects.get(agent=agent)
    with time_machine.travel(agency.valid_until + dt.timedelta(seconds=1)):
        with pytest.raises(PermissionDenied, match="expired"):
            services.agency_for_act(agent=agent, agency_id=agency.pk)
        with pytest.raises(PermissionDenied, match="expired"):
            services.start_acting(actor=agent, agency_id=agency.pk)


def test_an_agency_for_listed_items_covers_only_them(system, enterprise, enterprise_rep, published):
    from yiwang.conftest import PASSWORD

    version = published()
    code = version.basic_code
    make = PEOPLE["agent"]
    from yiwang.identity.tests.people import make_register_person

    make_register_person(make)
    agent = services.register_person(
        actor=system, id_number=make.id_number, name=make.name, phone=make.phone, password=PASSWORD
    )
    agency = services.grant_agency(
        actor=enterprise_rep,
        enterprise=enterprise,
        agent_id_number=make.id_number,
        agent_name=make.name,
        item_codes=[code],
        valid_until=in_a_year(),
    )
    assert services.agency_for_act(agent=agent, agency_id=agency.pk, basic_code=code)
    with pytest.raises(PermissionDenied, match="does not cover"):
        services.agency_for_act(agent=agent, agency_id=agency.pk, basic_code="000000000000")


def test_someone_else_cannot_use_an_agency(agent, citizen):
    agency = Agency.objects.get(agent=agent)
    with pytest.raises(NotFound):
        services.agency_for_act(agent=citizen, agency_id=agency.pk)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"agent_id_number": "330106"}, "not valid"),
        ({"agent_name": "王八"}, "does not match"),
        ({"agent_id_number": PEOPLE["stranger"].id_number, "agent_name": PEOPLE["stranger"].name}, "must register"),
        ({"valid_until": "past"}, "after its start"),
        ({"valid_until": "far"}, "at most three years"),
        ({"all_items": False}, "at least one item"),
        ({"all_items": False, "item_codes": ["999999999999"]}, "Unknown item codes"),
    ],
)
def test_bad_grants_are_refused_and_change_nothing(agent, enterprise, enterprise_rep, changes, message):
    data = {
        "enterprise": enterprise,
        "agent_id_number": PEOPLE["agent"].id_number,
        "agent_name": PEOPLE["agent"].name,
        "all_items": True,
        "valid_until": in_a_year(),
    }
    data.update(changes)
    if data["valid_until"] == "past":
        data["valid_until"] = timezone.now() - dt.timedelta(days=1)
    elif data["valid_until"] == "far":
        data["valid_until"] = timezone.now() + dt.timedelta(days=5 * 365)
    before = (Agency.objects.count(), AuditRecord.objects.count())
    with pytest.raises(InvalidInput, match=message):
        services.grant_agency(actor=enterprise_rep, **data)
    assert (Agency.objects.count(), AuditRecord.objects.count()) == before


def test_only_the_representative_grants_for_the_enterprise(agent, enterprise):
    with pytest.raises(PermissionDenied):
        services.grant_agency(
            actor=agent,
            enterprise=enterprise,
            agent_id_number=PEOPLE["agent"].id_number,
            agent_name=PEOPLE["agent"].name,
            all_items=True,
            valid_until=in_a_year(),
        )


def test_a_person_appoints_a_proxy_and_cannot_appoint_themselves(citizen, agent):
    proxy = services.grant_agency(
        actor=citizen,
        agent_id_number=PEOPLE["agent"].id_number,
        agent_name=PEOPLE["agent"].name,
        all_items=True,
        valid_until=in_a_year(),
    )
    assert proxy.principal_user == citizen and proxy.principal_label == f"person:{citizen.username}"
    with pytest.raises(InvalidInput, match="yourself"):
        services.grant_agency(
            actor=citizen,
            agent_id_number=PEOPLE["citizen"].id_number,
            agent_name=PEOPLE["citizen"].name,
            all_items=True,
            valid_until=in_a_year(),
        )
    # The agent may renounce; a third person may not end it.
    with pytest.raises(PermissionDenied):
        services.revoke_agency(actor=Enterprise.objects.get().representative, agency=proxy)
    services.revoke_agency(actor=agent, agency=proxy)


def test_an_unverified_person_cannot_appoint_a_proxy(unverified, agent):
    with pytest.raises(PermissionDenied, match="Verify"):
        services.grant_agency(
            actor=unverified,
            agent_id_number=PEOPLE["agent"].id_number,
            agent_name=PEOPLE["agent"].name,
            all_items=True,
            valid_until=in_a_year(),
        )


def test_a_second_agency_for_the_same_agent_and_principal_is_refused(agent, enterprise, enterprise_rep):
    with pytest.raises(InvalidInput, match="already holds"):
        services.grant_agency(
            actor=enterprise_rep,
            enterprise=enterprise,
            agent_id_number=PEOPLE["agent"].id_number,
            agent_name=PEOPLE["agent"].name,
            all_items=True,
            valid_until=in_a_year(),
        )


def test_an_agency_cannot_start_in_the_past(citizen, agent):
    with pytest.raises(InvalidInput, match="cannot start in the past"):
        services.grant_agency(
            actor=citizen,
            agent_id_number=PEOPLE["agent"].id_number,
            agent_name=PEOPLE["agent"].name,
            all_items=True,
            valid_from=timezone.now() - dt.timedelta(days=10),
            valid_until=in_a_year(),
        )


def test_stopping_to_act_is_recorded(agent):
    agency = Agency.objects.get(agent=agent)
    services.stop_acting(actor=agent, agency=agency)
    record = AuditRecord.objects.get(action="identity.acting_stopped")
    assert record.actor == agent and record.on_behalf_of.startswith("enterprise:")
