"""The generator: valid, consistent, unique, deterministic by seed, and safe to run twice."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from hypothesis import given, settings
from hypothesis import strategies as st

from yiwang.audit.actors import SystemActor
from yiwang.audit.models import AuditRecord
from yiwang.common.crypto import id_number_index
from yiwang.common.models import Division, DivisionLevel
from yiwang.common.services import packaged_divisions
from yiwang.common.validators import resident_id_problems, uscc_problems
from yiwang.registers import selectors
from yiwang.registers.generator import (
    BIRTH_FIRST,
    BIRTH_LAST,
    USCC_PREFIX,
    County,
    RegisterGenerator,
    generate_registers,
    load_counties,
)
from yiwang.registers.models import EntityStatus, EntityType, LegalEntity, Person, Sex
from yiwang.registers.services import EntityData, PersonData

pytestmark = pytest.mark.django_db


def make(seed: int, people: int, entities: int) -> tuple[list[PersonData], list[EntityData]]:
    generator = RegisterGenerator(seed, load_counties())
    population = [generator.person() for _ in range(people)]
    adults = [p for p in population if p.birth_date <= dt.date(2007, 12, 31)]
    return population, [generator.entity(generator.rng.choice(adults)) for _ in range(entities)]


@pytest.fixture
def county_codes(db: Any) -> set[str]:
    return set(Division.objects.filter(level=DivisionLevel.COUNTY).values_list("code", flat=True))


def test_two_thousand_people_are_valid_consistent_and_unique(county_codes: set[str]) -> None:
    people, _entities = make(7, 2000, 0)
    assert len({p.id_number for p in people}) == 2000
    for person in people:
        number = person.id_number
        assert resident_id_problems(number) == [], number
        assert number[:6] == person.division_code and person.division_code in county_codes
        assert number[6:14] == person.birth_date.strftime("%Y%m%d")
        assert BIRTH_FIRST <= person.birth_date <= BIRTH_LAST
        assert (int(number[16]) % 2 == 1) == (person.sex == Sex.MALE)
        assert number[14:17] != "000"
        assert 2 <= len(person.name) <= 4
        assert person.address.startswith(Division.objects.get(code=person.division_code).full_name)
    sexes = Counter(p.sex for p in people)
    assert 800 < sexes[Sex.MALE] < 1200  # roughly half and half


def test_two_thousand_entities_are_valid_and_unique(county_codes: set[str]) -> None:
    people, entities = make(11, 500, 2000)
    by_id = {p.id_number: p for p in people}
    assert len({e.uscc for e in entities}) == 2000
    assert len({e.uscc[8:16] for e in entities}) == 2000  # organisation-code bodies never repeat
    assert len({e.name for e in entities}) == 2000
    for entity in entities:
        assert uscc_problems(entity.uscc) == [], entity.uscc
        assert entity.uscc[:2] == USCC_PREFIX[EntityType(entity.entity_type)]
        assert entity.uscc[2:8] == entity.division_code and entity.division_code in county_codes
        representative = by_id[entity.legal_representative_id_number]
        assert entity.legal_representative == representative.name
        eighteen = representative.birth_date.replace(year=representative.birth_date.year + 18)
        assert eighteen <= entity.established <= dt.date(2025, 12, 31)
        assert entity.business_scope
    statuses = Counter(e.status for e in entities)
    assert statuses[EntityStatus.ACTIVE] > 0.8 * len(entities)
    assert set(Counter(e.entity_type for e in entities)) == set(EntityType.values)


def test_the_same_seed_gives_the_same_registers_and_another_seed_others() -> None:
    assert make(3, 300, 50) == make(3, 300, 50)
    assert make(3, 300, 50)[0] != make(4, 300, 50)[0]


def test_generate_writes_registers_that_verify_and_a_second_run_skips(system: SystemActor) -> None:
    report = generate_registers(actor=system, people=120, entities=30, seed=5, batch_size=50)
    assert (report.people.created, report.entities.created) == (120, 30)
    assert (Person.objects.count(), LegalEntity.objects.count()) == (120, 30)
    # One audit record per batch (3 of people, 1 of entities), naming counts only.
    assert AuditRecord.objects.filter(action="registers.person.bulk_create").count() == 3
    assert AuditRecord.objects.filter(action="registers.entity.bulk_create").count() == 1
    for entity in LegalEntity.objects.all():
        person = selectors.find_person(entity.legal_representative_id_number)
        assert person is not None and person.name == entity.legal_representative
        assert selectors.verify_entity(entity.uscc, entity.name)["matches"]

    again = generate_registers(actor=system, people=120, entities=30, seed=5, batch_size=50)
    assert (again.people.created, again.people.skipped, again.entities.created) == (0, 120, 0)
    assert (Person.objects.count(), LegalEntity.objects.count()) == (120, 30)


def test_representatives_take_the_registered_name_when_an_id_number_was_already_there(system: SystemActor) -> None:
    population, _entities = make(5, 120, 0)
    first = population[0]
    from yiwang.registers import services

    services.upsert_person(
        actor=system,
        id_number=first.id_number,
        name="早已登记",
        sex=first.sex,
        birth_date=first.birth_date,
        division_code=first.division_code,
    )
    generate_registers(actor=system, people=120, entities=60, seed=5)
    assert Person.objects.get(id_number_index=id_number_index(first.id_number)).name == "早已登记"
    for entity in LegalEntity.objects.filter(legal_representative_index=id_number_index(first.id_number)):
        assert entity.legal_representative == "早已登记"


def test_the_command_writes_n_people_and_m_entities(capsys: pytest.CaptureFixture[str]) -> None:
    from django.utils import translation

    with translation.override("en"):
        call_command("registers_generate", "--people", "40", "--entities", "8", "--seed", "1", "--no-progress")
        assert "40 people added" in capsys.readouterr().out
        call_command("registers_generate", "--people", "40", "--entities", "8", "--seed", "1", "--no-progress")
        assert "0 people added, 40 already there" in capsys.readouterr().out
    assert (Person.objects.count(), LegalEntity.objects.count()) == (40, 8)


def test_the_command_needs_people_for_entities() -> None:
    with pytest.raises(CommandError):
        call_command("registers_generate", "--people", "0", "--entities", "3", "--no-progress")


def _packaged_counties() -> list[County]:
    # From the packaged reference data, without a database, so hypothesis can try many seeds quickly.
    rows = {row["code"]: row for row in packaged_divisions()}

    def full_name(code: str | None) -> str:
        row = rows.get(code or "")
        return "" if row is None or row["level"] == 0 else full_name(row["parent"]) + row["name"]

    return [
        County(code, row["name"], rows[row["parent"]]["name"].removesuffix("市"), full_name(code))
        for code, row in sorted(rows.items())
        if row["level"] == DivisionLevel.COUNTY
    ]


COUNTIES = _packaged_counties()


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**64))
def test_any_seed_gives_valid_numbers(seed: int) -> None:
    generator = RegisterGenerator(seed, COUNTIES)
    people = [generator.person() for _ in range(30)]
    assert all(resident_id_problems(p.id_number) == [] for p in people)
    adults = [p for p in people if p.birth_date <= dt.date(2007, 12, 31)] or [people[0]]
    for _ in range(10):
        entity = generator.entity(generator.rng.choice(adults))
        assert uscc_problems(entity.uscc) == []
