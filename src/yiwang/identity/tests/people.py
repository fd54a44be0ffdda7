"""The people and enterprises of the test world, with valid ID numbers and codes computed, not typed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from yiwang.common.crypto import blind_index
from yiwang.common.validators import ID_CHECK, ID_WEIGHTS, build_uscc


def id_number(region: str, birth: dt.date, sequence: int, *, male: bool) -> str:
    """A GB 11643 number: region, birth date, a 3-digit sequence whose parity is the sex, the check digit."""
    seq = sequence * 2 + (1 if male else 0)
    body = f"{region}{birth:%Y%m%d}{seq % 1000:03d}"
    total = sum(int(ch) * w for ch, w in zip(body, ID_WEIGHTS, strict=True))
    return body + ID_CHECK[total % 11]


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


PEOPLE = {
    "citizen": _p("张三", "330106", dt.date(1990, 3, 7), 21, True, "13800135678"),
    "agent": _p("李四", "330106", dt.date(1985, 11, 20), 42, False, "13900139001"),
    "representative": _p("王五", "370811", dt.date(1978, 6, 15), 7, True, "13700137002"),
    "unverified": _p("赵六", "330106", dt.date(1995, 1, 30), 63, False, "13600136003"),
    "stranger": _p("孙七", "370811", dt.date(2000, 8, 8), 12, True, "13500135004"),
}
ENTERPRISE = TestEntity(build_uscc("91", "330106", "MA2A0001"), "杭州西湖云栖科技有限公司", "330106")
CANCELLED_ENTITY = TestEntity(build_uscc("91", "330106", "MA2A0002"), "杭州已注销贸易有限公司", "330106")


def make_register_person(person: TestPerson) -> None:
    from yiwang.registers.models import Person

    Person.objects.get_or_create(
        id_number_index=blind_index(person.id_number, purpose="id_number"),
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
            "legal_representative_index": blind_index(representative.id_number, purpose="id_number"),
            "registered_address": "",
            "division_id": entity.region,
            "established": dt.date(2015, 5, 20),
            "status": status,
        },
    )
