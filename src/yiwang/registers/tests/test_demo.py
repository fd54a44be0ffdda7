"""The fixed demo registers: valid, as documented, and idempotent."""

from __future__ import annotations

import datetime as dt

import pytest

from yiwang.audit.actors import SystemActor
from yiwang.audit.models import AuditRecord
from yiwang.common.crypto import id_number_index
from yiwang.common.validators import resident_id_problems, uscc_problems
from yiwang.registers import demo, selectors
from yiwang.registers.models import EntityStatus, LegalEntity, Person, Sex

pytestmark = pytest.mark.django_db

IDS = [demo.DEMO_CITIZEN_ID, demo.DEMO_AGENT_ID, demo.DEMO_REPRESENTATIVE_ID, demo.DEMO_SECOND_CITIZEN_ID]
USCCS = [demo.DEMO_ENTERPRISE_USCC, demo.DEMO_SECOND_ENTERPRISE_USCC, demo.DEMO_CANCELLED_USCC]


@pytest.mark.parametrize("number", IDS)
def test_demo_id_numbers_are_valid(number: str) -> None:
    assert resident_id_problems(number) == []


@pytest.mark.parametrize("code", USCCS)
def test_demo_usccs_are_valid(code: str) -> None:
    assert uscc_problems(code) == []


def test_the_people_are_who_the_documentation_says() -> None:
    expected = {
        demo.DEMO_CITIZEN_ID: ("张三", Sex.MALE, dt.date(1990, 3, 7), "330106"),
        demo.DEMO_AGENT_ID: ("李四", Sex.FEMALE, dt.date(1985, 11, 20), "330106"),
        demo.DEMO_REPRESENTATIVE_ID: ("王五", Sex.MALE, dt.date(1978, 6, 15), "370811"),
        demo.DEMO_SECOND_CITIZEN_ID: ("赵六", Sex.FEMALE, dt.date(1995, 1, 30), "330106"),
    }
    for number, (_name, sex, birth, region) in expected.items():
        assert number[:6] == region and number[6:14] == birth.strftime("%Y%m%d")
        assert (int(number[16]) % 2 == 1) == (sex == Sex.MALE)
        assert number in (demo.__doc__ or "")
    assert {p.id_number: (p.name, p.sex, p.birth_date, p.division_code) for p in demo.DEMO_PEOPLE} == expected


def test_loading_twice_changes_nothing_the_second_time(system: SystemActor) -> None:
    people, entities = demo.load_demo_registers(actor=system)
    assert [p.name for p in people] == ["张三", "李四", "王五", "赵六"]
    assert [e.uscc for e in entities] == USCCS
    records = AuditRecord.objects.count()
    demo.load_demo_registers(actor=system)
    assert (Person.objects.count(), LegalEntity.objects.count(), AuditRecord.objects.count()) == (4, 3, records)


def test_the_enterprises_and_their_representatives(system: SystemActor) -> None:
    demo.load_demo_registers(actor=system)
    enterprise = selectors.find_entity(demo.DEMO_ENTERPRISE_USCC)
    second = selectors.find_entity(demo.DEMO_SECOND_ENTERPRISE_USCC)
    cancelled = selectors.find_entity(demo.DEMO_CANCELLED_USCC)
    assert enterprise is not None and second is not None and cancelled is not None
    assert (enterprise.name, enterprise.division_id, enterprise.status) == (
        "杭州西湖云栖科技有限公司",
        "330106",
        EntityStatus.ACTIVE,
    )
    assert (second.name, second.division_id) == ("济宁任城运河物流有限公司", "370811")
    assert cancelled.status == EntityStatus.CANCELLED
    for entity in (enterprise, second):
        assert entity.legal_representative == demo.DEMO_REPRESENTATIVE_NAME
        assert entity.legal_representative_index == id_number_index(demo.DEMO_REPRESENTATIVE_ID)
    assert selectors.verify_person(demo.DEMO_REPRESENTATIVE_ID, "王五")["matches"]


def test_the_command_loads_the_demo_set_idempotently(capsys: pytest.CaptureFixture[str]) -> None:
    from django.core.management import call_command
    from django.utils import translation

    with translation.override("en"):
        call_command("registers_demo")
        call_command("registers_demo")
    assert "4 people, 3 legal entities" in capsys.readouterr().out
    assert (Person.objects.count(), LegalEntity.objects.count()) == (4, 3)
