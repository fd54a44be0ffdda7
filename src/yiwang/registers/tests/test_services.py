"""Writes to the registers: validation before anything changes, blind indexes, encryption, masked audit."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.utils import translation

from yiwang.audit.actors import SystemActor
from yiwang.audit.models import AuditRecord
from yiwang.common.crypto import id_number_index
from yiwang.common.errors import InvalidInput, PermissionDenied
from yiwang.common.masking import mask_id_number
from yiwang.common.validators import build_uscc, resident_id_check_char, uscc_check_char
from yiwang.registers import selectors, services
from yiwang.registers.demo import DEMO_AGENT_ID, DEMO_CITIZEN_ID
from yiwang.registers.models import EntityStatus, EntityType, LegalEntity, Person, Sex

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]

CITIZEN: dict[str, Any] = {
    "id_number": DEMO_CITIZEN_ID,
    "name": "张三",
    "sex": Sex.MALE,
    "birth_date": dt.date(1990, 3, 7),
    "division_code": "330106",
    "address": "浙江省杭州市西湖区文三路90号",
}
USCC = build_uscc("91", "330106", "MA2TEQT1")
ENTITY: dict[str, Any] = {
    "uscc": USCC,
    "name": "杭州测试科技有限公司",
    "entity_type": EntityType.COMPANY,
    "legal_representative": "张三",
    "legal_representative_id_number": DEMO_CITIZEN_ID,
    "registered_address": "浙江省杭州市西湖区文三路1号",
    "division_code": "330106",
    "established": dt.date(2020, 1, 2),
    "business_scope": "技术服务。",
}


def state() -> tuple[int, int, int]:
    return Person.objects.count(), LegalEntity.objects.count(), AuditRecord.objects.count()


def raw_column(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608 - fixed names
        value: str = cursor.fetchone()[0]
    return value


def test_a_person_is_stored_encrypted_found_by_blind_index_and_audited_masked(system: SystemActor) -> None:
    person = services.upsert_person(actor=system, **CITIZEN)
    raw = raw_column("registers_person", "id_number", person.pk)
    assert DEMO_CITIZEN_ID not in raw and DEMO_CITIZEN_ID[:6] + DEMO_CITIZEN_ID[6:14] not in raw
    assert person.id_number_index == id_number_index(DEMO_CITIZEN_ID)
    found = selectors.find_person(DEMO_CITIZEN_ID)
    assert found is not None and found.pk == person.pk and found.id_number == DEMO_CITIZEN_ID
    record = AuditRecord.objects.get(action="registers.person.create")
    assert DEMO_CITIZEN_ID not in str([record.object_label, record.before, record.after])
    assert (record.after or {}).get("id_number") == mask_id_number(DEMO_CITIZEN_ID)


def test_upsert_person_updates_and_is_silent_when_nothing_changed(system: SystemActor) -> None:
    services.upsert_person(actor=system, **CITIZEN)
    services.upsert_person(actor=system, **CITIZEN)
    assert AuditRecord.objects.filter(action__startswith="registers.person").count() == 1
    services.upsert_person(actor=system, **{**CITIZEN, "address": "浙江省杭州市西湖区古墩路1号", "name": " 张三　"})
    person = Person.objects.get()
    assert person.name == "张三" and person.address == "浙江省杭州市西湖区古墩路1号"
    update = AuditRecord.objects.get(action="registers.person.update")
    assert (update.before or {}).get("address") != (update.after or {}).get("address")


def test_lower_case_x_and_spaces_find_the_same_person(system: SystemActor) -> None:
    services.upsert_person(
        actor=system,
        id_number=DEMO_AGENT_ID.lower(),
        name="李四",
        sex=Sex.FEMALE,
        birth_date=dt.date(1985, 11, 20),
        division_code="330106",
    )
    person = selectors.find_person(f" {DEMO_AGENT_ID} ")
    assert person is not None and person.id_number == DEMO_AGENT_ID  # stored normalised, upper-case X
    # Full-width digits, as some input methods type them.
    assert selectors.find_person(DEMO_AGENT_ID.translate(str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")))


def _wrong_check(number: str) -> str:
    return number[:17] + ("0" if number[17] != "0" else "1")


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"id_number": "33010619900307013"}, "id_format"),
        ({"id_number": "3301061990030701AB"}, "id_format"),
        ({"id_number": _wrong_check(DEMO_CITIZEN_ID)}, "id_check"),
        ({"id_number": "330106199002300137"}, "id_birth_date"),
        ({"division_code": "330199"}, "unknown_division"),
        ({"sex": Sex.FEMALE}, "sex_mismatch"),
        ({"sex": "M"}, "invalid_choice"),
        ({"birth_date": dt.date(1990, 3, 8)}, "birth_date_mismatch"),
        ({"name": "  "}, "required"),
        ({"name": "张" * 101}, "too_long"),
    ],
)
def test_bad_person_input_is_refused_and_changes_nothing(
    system: SystemActor, changes: dict[str, Any], code: str
) -> None:
    before = state()
    with pytest.raises(InvalidInput) as caught:
        services.upsert_person(actor=system, **{**CITIZEN, **changes})
    assert caught.value.details[0]["code"] == code
    assert str(caught.value.message)  # a message for people, not only a code
    assert state() == before


def test_messages_are_translated(system: SystemActor) -> None:
    with pytest.raises(InvalidInput) as caught:
        services.upsert_person(actor=system, **{**CITIZEN, "id_number": _wrong_check(DEMO_CITIZEN_ID)})
    assert str(caught.value.message) == "The check digit (character 18) is wrong."
    with pytest.raises(InvalidInput) as caught:
        services.upsert_person(actor=system, **{**CITIZEN, "division_code": "330199"})
    assert str(caught.value.message) == "Unknown administrative division 330199."
    with translation.override("zh-hans"):
        with pytest.raises(InvalidInput) as caught:
            services.upsert_person(actor=system, **{**CITIZEN, "id_number": _wrong_check(DEMO_CITIZEN_ID)})
        assert str(caught.value.message) == "校验码（第 18 位）错误。"


def test_an_entity_is_stored_with_its_representative_encrypted_and_indexed(system: SystemActor) -> None:
    entity = services.upsert_entity(actor=system, **{**ENTITY, "uscc": USCC.lower()})
    assert entity.uscc == USCC
    assert DEMO_CITIZEN_ID not in raw_column("registers_legalentity", "legal_representative_id_number", entity.pk)
    assert entity.legal_representative_index == id_number_index(DEMO_CITIZEN_ID) != id_number_index(DEMO_AGENT_ID)
    record = AuditRecord.objects.get(action="registers.entity.create")
    assert DEMO_CITIZEN_ID not in str([record.object_label, record.before, record.after])


def _masks_alike(number: str) -> str:
    """Another valid ID number with the same first four and last four characters (the same mask)."""
    for day in range(1, 29):
        body = f"{number[:6]}{number[6:12]}{day:02d}{number[14:17]}"
        if body != number[:17] and resident_id_check_char(body) == number[17]:
            return body + number[17]
    raise AssertionError("no look-alike found")


def test_changing_only_the_representative_id_number_is_an_update(system: SystemActor) -> None:
    services.upsert_entity(actor=system, **ENTITY)
    twin = _masks_alike(DEMO_CITIZEN_ID)
    assert mask_id_number(twin) == mask_id_number(DEMO_CITIZEN_ID)
    # The masks are equal, so only the blind index can tell the change: it must still be seen and audited.
    services.upsert_entity(actor=system, **{**ENTITY, "legal_representative_id_number": twin})
    entity = LegalEntity.objects.get()
    assert entity.legal_representative_id_number == twin
    assert entity.legal_representative_index == id_number_index(twin)
    assert AuditRecord.objects.filter(action="registers.entity.update").count() == 1


def test_status_change_is_audited(system: SystemActor) -> None:
    services.upsert_entity(actor=system, **ENTITY)
    services.upsert_entity(actor=system, **{**ENTITY, "status": EntityStatus.CANCELLED})
    record = AuditRecord.objects.get(action="registers.entity.update")
    assert ((record.before or {}).get("status"), (record.after or {}).get("status")) == ("active", "cancelled")


def _wrong_uscc_check(code: str) -> str:
    return code[:17] + next(ch for ch in "0123456789" if ch != code[17])


def _wrong_org_check(code: str) -> str:
    org_check = next(ch for ch in "0123456789" if ch != code[16])
    first17 = code[:16] + org_check
    return first17 + uscc_check_char(first17)


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"uscc": USCC[:17]}, "uscc_length"),
        ({"uscc": USCC[:10] + "IO" + USCC[12:]}, "uscc_charset"),
        ({"uscc": _wrong_uscc_check(USCC)}, "uscc_check"),
        ({"uscc": _wrong_org_check(USCC)}, "uscc_org_check"),
        ({"legal_representative_id_number": _wrong_check(DEMO_CITIZEN_ID)}, "id_check"),
        ({"division_code": "000000"}, "unknown_division"),
        ({"entity_type": "llc"}, "invalid_choice"),
        ({"status": "dormant"}, "invalid_choice"),
        ({"established": dt.date(2999, 1, 1)}, "invalid_date"),
        ({"registered_address": ""}, "required"),
    ],
)
def test_bad_entity_input_is_refused_and_changes_nothing(
    system: SystemActor, changes: dict[str, Any], code: str
) -> None:
    before = state()
    with pytest.raises(InvalidInput) as caught:
        services.upsert_entity(actor=system, **{**ENTITY, **changes})
    assert caught.value.details[0]["code"] == code
    assert state() == before


def test_lenient_uscc_policy_accepts_a_failing_check_but_not_a_malformed_code(
    system: SystemActor, settings: Any
) -> None:
    settings.YIWANG_USCC_POLICY = "warn"
    entity = services.upsert_entity(actor=system, **{**ENTITY, "uscc": _wrong_uscc_check(USCC)})
    assert entity.pk is not None
    with pytest.raises(InvalidInput):
        services.upsert_entity(actor=system, **{**ENTITY, "uscc": USCC[:17]})


def test_only_register_managers_write(db: Any) -> None:
    user = User.objects.create_user("someone", password="x" * 20)
    before = state()
    with pytest.raises(PermissionDenied):
        services.upsert_person(actor=user, **CITIZEN)
    with pytest.raises(PermissionDenied):
        services.bulk_create_people(actor=user, people=[services.PersonData(**CITIZEN)])
    assert state() == before


def test_bulk_create_skips_existing_and_writes_one_audit_record(system: SystemActor) -> None:
    services.upsert_person(actor=system, **CITIZEN)
    agent = services.PersonData(DEMO_AGENT_ID, "李四", Sex.FEMALE, dt.date(1985, 11, 20), "330106")
    result = services.bulk_create_people(actor=system, people=[services.PersonData(**CITIZEN), agent, agent])
    assert (result.created, result.skipped) == (1, 2)
    record = AuditRecord.objects.get(action="registers.person.bulk_create")
    assert record.after == {"created": 1, "skipped": 2}
    assert DEMO_AGENT_ID not in str([record.object_label, record.after])


def test_bulk_create_with_one_bad_row_writes_nothing(system: SystemActor) -> None:
    good = services.PersonData(**CITIZEN)
    bad = services.PersonData(**{**CITIZEN, "id_number": _wrong_check(DEMO_AGENT_ID)})
    before = state()
    with pytest.raises(InvalidInput) as caught:
        services.bulk_create_people(actor=system, people=[good, bad])
    assert caught.value.details[0]["row"] == 2
    assert str(caught.value.message).startswith("Row 2: ")
    assert state() == before
    entity = services.EntityData(**{**ENTITY, "uscc": _wrong_uscc_check(USCC)})
    with pytest.raises(InvalidInput):
        services.bulk_create_entities(actor=system, entities=[entity])
    assert state() == before
