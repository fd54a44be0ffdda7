"""The people and enterprises of the test world, with valid ID numbers and codes computed, not typed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from yiwang.common.crypto import id_number_index
from yiwang.common.validators import build_uscc, resident_id_check_char
from yiwang.registers import demo


def id_number(region: str, birth: dt.date, sequence: int, *, male: bool) -> str:
    """A GB 11643 number: region, birth date, a 3-digit sequence whose parity is the sex, the check digit."""
    seq = sequence * 2 + (1 if male else 0)
    body = f"{region}{birth:%Y%m%d}{seq % 1000:03d}"
    return body + resident_id_check_char(body)


@dataclass(frozen=True)
class TestPerson:
    name: str
    id_number: str
    phone: str
    region: str
    birth: dt.date
    male: bool


@dataclass(frozen=True)
class TestEntity:
    uscc: str
    name: str
    region: str


def _p(name: str, region: str, birth: dt.date, seq: int, male: bool, phone: str) -> TestPerson:
    return TestPerson(name, id_number(region, birth, seq, male=male), phone, region, birth, male)


def _demo(number: str, name: str, phone: str) -> TestPerson:
    # The same people as the registers' demo set (yiwang.registers.demo), so personas and demo agree.
    birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    return TestPerson(name, number, phone, number[:6], birth, int(number[16]) % 2 == 1)


PEOPLE = {
    "citizen": _demo(demo.DEMO_CITIZEN_ID, demo.DEMO_CITIZEN_NAME, "13800135678"),
    "agent": _demo(demo.DEMO_AGENT_ID, demo.DEMO_AGENT_NAME, "13900139001"),
    "representative": _demo(demo.DEMO_REPRESENTATIVE_ID, demo.DEMO_REPRESENTATIVE_NAME, "13700137002"),
    # In the demo registers, but the ``unverified`` persona is registered before the register knows her.
    "unverified": _demo(demo.DEMO_SECOND_CITIZEN_ID, demo.DEMO_SECOND_CITIZEN_NAME, "13600136003"),
    "stranger": _p("孙七", "370811", dt.date(2000, 8, 8), 12, True, "13500135004"),
}
ENTERPRISE = TestEntity(demo.DEMO_ENTERPRISE_USCC, demo.DEMO_ENTERPRISE_NAME, "330106")
CANCELLED_ENTITY = TestEntity(demo.DEMO_CANCELLED_USCC, demo.DEMO_CANCELLED_NAME, "330106")
OTHER_UNREGISTERED_USCC = build_uscc("91", "330106", "MA2A0777")


def make_register_person(person: TestPerson) -> None:
    from yiwang.registers.models import Person

    Person.objects.get_or_create(
        id_number_index=id_number_index(person.id_number),
        defaults={
            "id_number": person.id_number,
            "name": person.name,
            "sex": "1" if person.male else "2",
            "birth_date": person.birth,
            "division_id": person.region,
            "address": "",
        },
    )


def make_register_entity(entity: TestEntity, representative: TestPerson, *, status: str = "active") -> None:
    from yiwang.registers.models import LegalEntity

    make_register_person(representative)
    LegalEntity.objects.get_or_create(
        uscc=entity.uscc,
        defaults={
            "name": entity.name,
            "entity_type": "company",
            "legal_representative": representative.name,
            "legal_representative_id_number": representative.id_number,
            "legal_representative_index": id_number_index(representative.id_number),
            "registered_address": "",
            "division_id": entity.region,
            "established": dt.date(2015, 5, 20),
            "status": status,
        },
    )
