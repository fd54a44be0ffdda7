"""All writes to the base registers.

Every function takes a keyword-only ``actor``, checks ``registers.manage`` (yiwang.identity.authz), validates
everything before it writes, runs in one transaction and writes its audit record inside it. ID numbers never
reach the audit log in clear: snapshots carry the masked form (yiwang.common.masking).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from functools import partial
from typing import Any, Literal, TypeVar

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yiwang.audit import services as audit
from yiwang.audit.actors import Actor
from yiwang.common.crypto import id_number_index
from yiwang.common.errors import InvalidInput, invalid_field
from yiwang.common.masking import mask_id_number
from yiwang.common.models import Division
from yiwang.identity import authz
from yiwang.registers import selectors
from yiwang.registers.models import EntityStatus, EntityType, LegalEntity, Person, Sex

MANAGE = "registers.manage"
# Rows per INSERT and per existence query: below SQLite's bound-parameter limit and PostgreSQL's comfort.
BATCH_SIZE = 500
_T = TypeVar("_T")


@dataclass(frozen=True)
class PersonData:
    """One population-register row as written (the input of upsert_person and bulk_create_people)."""

    id_number: str
    name: str
    sex: str
    birth_date: dt.date
    division_code: str
    address: str = ""


@dataclass(frozen=True)
class EntityData:
    """One legal-entity-register row as written (the input of upsert_entity and bulk_create_entities)."""

    uscc: str
    name: str
    entity_type: str
    legal_representative: str
    legal_representative_id_number: str
    registered_address: str
    division_code: str
    established: dt.date
    business_scope: str = ""
    status: str = EntityStatus.ACTIVE


@dataclass(frozen=True)
class BulkResult:
    created: int
    skipped: int  # already in the register (or repeated in the input); left unchanged


# --- validation -----------------------------------------------------------------------------------


def _invalid(field: str, code: str, message: Any) -> InvalidInput:
    return invalid_field(field, message, code=code)


def _text(value: str, model: type[Person | LegalEntity], field: str, *, required: bool = True) -> str:
    # str.strip() removes every Unicode space, the full-width U+3000 included.
    text = (value or "").strip()
    model_field = model._meta.get_field(field)
    label = getattr(model_field, "verbose_name", field)
    if required and not text:
        raise _invalid(field, "required", _("The %(field)s is required.") % {"field": label})
    max_length = getattr(model_field, "max_length", None)
    if max_length is not None and len(text) > max_length:
        raise _invalid(
            field,
            "too_long",
            _("The %(field)s is longer than %(max)d characters.") % {"field": label, "max": max_length},
        )
    return text


class _Divisions:
    """Division lookups cached for one call (a bulk call names the same few counties many times)."""

    def __init__(self) -> None:
        self._known: dict[str, Division | None] = {}

    def get(self, code: str, field: str = "division_code") -> Division:
        if code not in self._known:
            self._known[code] = Division.objects.filter(code=code).first()
        division = self._known[code]
        if division is None:
            raise _invalid(field, "unknown_division", _("Unknown administrative division %(code)s.") % {"code": code})
        return division


def _clean_person(data: PersonData, divisions: _Divisions) -> tuple[PersonData, Division]:
    number = selectors.require_id_number(data.id_number)
    name = _text(data.name, Person, "name")
    if data.sex not in Sex.values:
        raise _invalid("sex", "invalid_choice", _("The sex must be 1 (male) or 2 (female)."))
    # GB 11643: digit 17 is odd for men and even for women; digits 7–14 are the birth date. The register
    # refuses a row that contradicts its own ID number rather than guess which side is right.
    if (int(number[16]) % 2 == 1) != (data.sex == Sex.MALE):
        raise _invalid("sex", "sex_mismatch", _("The sex does not match the ID number (digit 17 is odd for men)."))
    if not isinstance(data.birth_date, dt.date) or data.birth_date.strftime("%Y%m%d") != number[6:14]:
        raise _invalid("birth_date", "birth_date_mismatch", _("The birth date does not match the ID number."))
    division = divisions.get(data.division_code)
    address = _text(data.address, Person, "address", required=False)
    cleaned = PersonData(number, name, data.sex, data.birth_date, division.code, address)
    return cleaned, division


def _clean_entity(data: EntityData, divisions: _Divisions) -> tuple[EntityData, Division]:
    uscc = selectors.require_uscc(data.uscc)
    name = _text(data.name, LegalEntity, "name")
    if data.entity_type not in EntityType.values:
        message = _("Unknown entity type %(value)s.") % {"value": data.entity_type}
        raise _invalid("entity_type", "invalid_choice", message)
    representative = _text(data.legal_representative, LegalEntity, "legal_representative")
    representative_id = selectors.require_id_number(
        data.legal_representative_id_number, field="legal_representative_id_number"
    )
    address = _text(data.registered_address, LegalEntity, "registered_address")
    division = divisions.get(data.division_code)
    if not isinstance(data.established, dt.date) or data.established > timezone.localdate():
        raise _invalid("established", "invalid_date", _("The date established must be a date not in the future."))
    if data.status not in EntityStatus.values:
        raise _invalid("status", "invalid_choice", _("Unknown entity status %(value)s.") % {"value": data.status})
    cleaned = EntityData(
        uscc=uscc,
        name=name,
        entity_type=data.entity_type,
        legal_representative=representative,
        legal_representative_id_number=representative_id,
        registered_address=address,
        division_code=division.code,
        established=data.established,
        business_scope=(data.business_scope or "").strip(),
        status=data.status,
    )
    return cleaned, division


# --- audit snapshots (identifiers masked) ---------------------------------------------------------


def _person_snapshot(person: Person) -> dict[str, Any]:
    return {
        "id_number": mask_id_number(person.id_number),
        "name": person.name,
        "sex": person.sex,
        "birth_date": person.birth_date.isoformat(),
        "division": person.division_id,
        "address": person.address,
    }


def _entity_snapshot(entity: LegalEntity) -> dict[str, Any]:
    return {
        "uscc": entity.uscc,
        "name": entity.name,
        "entity_type": entity.entity_type,
        "legal_representative": entity.legal_representative,
        "legal_representative_id_number": mask_id_number(entity.legal_representative_id_number),
        "registered_address": entity.registered_address,
        "division": entity.division_id,
        "established": entity.established.isoformat(),
        "business_scope": entity.business_scope,
        "status": entity.status,
    }


def _entity_state(entity: LegalEntity) -> tuple[Any, ...]:
    # The snapshot masks the representative's ID number, so two different numbers can look alike there;
    # whether anything changed is decided on the blind index instead.
    return (*_entity_snapshot(entity).values(), entity.legal_representative_index)


# --- single records -------------------------------------------------------------------------------


def upsert_person(
    *,
    actor: Actor,
    id_number: str,
    name: str,
    sex: str,
    birth_date: dt.date,
    division_code: str,
    address: str = "",
) -> Person:
    """Create the person with this ID number, or update their name, sex, birth date, region and address.

    Raises InvalidInput (nothing written) for a malformed ID number, a wrong check digit, a sex or birth
    date that contradicts the ID number, or an unknown division. Writes no audit record when nothing changed.
    """
    authz.check(actor, MANAGE)
    data, division = _clean_person(
        PersonData(id_number, name, sex, birth_date, division_code, address),
        _Divisions(),
    )
    index = id_number_index(data.id_number)
    with transaction.atomic():
        person = Person.objects.select_for_update().filter(id_number_index=index).first()
        before = _person_snapshot(person) if person is not None else None
        if person is None:
            person = Person(id_number=data.id_number, id_number_index=index)
        person.name, person.sex, person.birth_date = data.name, data.sex, data.birth_date
        person.division, person.address = division, data.address
        after = _person_snapshot(person)
        if before == after:
            return person
        person.save()
        audit.record(
            actor=actor,
            action="registers.person.create" if before is None else "registers.person.update",
            object_type="registers.person",
            object_id=person.pk,
            object_label=f"{person.name} {after['id_number']}",
            before=before,
            after=after,
        )
        return person


def upsert_entity(
    *,
    actor: Actor,
    uscc: str,
    name: str,
    entity_type: str,
    legal_representative: str,
    legal_representative_id_number: str,
    registered_address: str,
    division_code: str,
    established: dt.date,
    business_scope: str = "",
    status: str = EntityStatus.ACTIVE,
) -> LegalEntity:
    """Create the entity with this USCC, or update everything else about it (status changes included).

    Raises InvalidInput (nothing written) for a malformed USCC or one whose check characters fail (unless
    YIWANG_USCC_POLICY is ``warn``), a malformed representative ID number, an unknown division, type or
    status. The representative need not be in the population register (foreign nationals are not).
    """
    authz.check(actor, MANAGE)
    data, division = _clean_entity(
        EntityData(
            uscc=uscc,
            name=name,
            entity_type=entity_type,
            legal_representative=legal_representative,
            legal_representative_id_number=legal_representative_id_number,
            registered_address=registered_address,
            division_code=division_code,
            established=established,
            business_scope=business_scope,
            status=status,
        ),
        _Divisions(),
    )
    with transaction.atomic():
        entity = LegalEntity.objects.select_for_update().filter(uscc=data.uscc).first()
        before_state = _entity_state(entity) if entity is not None else None
        before = _entity_snapshot(entity) if entity is not None else None
        if entity is None:
            entity = LegalEntity(uscc=data.uscc)
        _apply_entity(entity, data, division)
        if before_state == _entity_state(entity):
            return entity
        entity.save()
        audit.record(
            actor=actor,
            action="registers.entity.create" if before is None else "registers.entity.update",
            object_type="registers.entity",
            object_id=entity.pk,
            object_label=f"{entity.uscc} {entity.name}",
            before=before,
            after=_entity_snapshot(entity),
        )
        return entity


def _apply_entity(entity: LegalEntity, data: EntityData, division: Division) -> None:
    entity.name = data.name
    entity.entity_type = data.entity_type
    entity.legal_representative = data.legal_representative
    entity.legal_representative_id_number = data.legal_representative_id_number
    entity.legal_representative_index = id_number_index(data.legal_representative_id_number)
    entity.registered_address = data.registered_address
    entity.division = division
    entity.established = data.established
    entity.business_scope = data.business_scope
    entity.status = data.status


# --- bulk loading (generator, imports) ------------------------------------------------------------


def _chunks(values: Sequence[str], size: int = BATCH_SIZE) -> Iterable[Sequence[str]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def bulk_create_people(*, actor: Actor, people: Iterable[PersonData]) -> BulkResult:
    """Add many people at once: all validated first (InvalidInput names the first bad row, nothing is
    written), then inserted in batches; people already registered are skipped, not updated. One audit
    record names the count, none of the ID numbers."""
    authz.check(actor, MANAGE)
    divisions = _Divisions()
    cleaned: dict[str, tuple[PersonData, Division]] = {}
    total = 0
    for row_number, row in enumerate(people, start=1):
        total += 1
        data, division = _on_row(row_number, partial(_clean_person, row, divisions))
        cleaned.setdefault(id_number_index(data.id_number), (data, division))
    with transaction.atomic():
        existing: set[str] = set()
        for chunk in _chunks(list(cleaned)):
            existing.update(Person.objects.filter(id_number_index__in=chunk).values_list("id_number_index", flat=True))
        rows = [
            Person(
                id_number=data.id_number,
                id_number_index=index,
                name=data.name,
                sex=data.sex,
                birth_date=data.birth_date,
                division=division,
                address=data.address,
            )
            for index, (data, division) in cleaned.items()
            if index not in existing
        ]
        Person.objects.bulk_create(rows, batch_size=BATCH_SIZE)
        result = BulkResult(created=len(rows), skipped=total - len(rows))
        if rows:
            audit.record(
                actor=actor,
                action="registers.person.bulk_create",
                object_type="registers.person",
                object_id="*",
                after=asdict(result),  # the counts only: a batch record must not list who was added
            )
    return result


def bulk_create_entities(*, actor: Actor, entities: Iterable[EntityData]) -> BulkResult:
    """Add many entities at once, like bulk_create_people: validated first, existing USCCs skipped, one audit
    record naming the count."""
    authz.check(actor, MANAGE)
    divisions = _Divisions()
    cleaned: dict[str, tuple[EntityData, Division]] = {}
    total = 0
    for row_number, row in enumerate(entities, start=1):
        total += 1
        data, division = _on_row(row_number, partial(_clean_entity, row, divisions))
        cleaned.setdefault(data.uscc, (data, division))
    with transaction.atomic():
        existing: set[str] = set()
        for chunk in _chunks(list(cleaned)):
            existing.update(LegalEntity.objects.filter(uscc__in=chunk).values_list("uscc", flat=True))
        rows = []
        for uscc, (data, division) in cleaned.items():
            if uscc in existing:
                continue
            entity = LegalEntity(uscc=uscc)
            _apply_entity(entity, data, division)
            rows.append(entity)
        LegalEntity.objects.bulk_create(rows, batch_size=BATCH_SIZE)
        result = BulkResult(created=len(rows), skipped=total - len(rows))
        if rows:
            audit.record(
                actor=actor,
                action="registers.entity.bulk_create",
                object_type="registers.entity",
                object_id="*",
                after=asdict(result),
            )
    return result


def _on_row(row_number: int, clean: Callable[[], _T]) -> _T:
    # A bulk caller needs to know which row was wrong; the message says so, the details keep the row.
    try:
        return clean()
    except InvalidInput as exc:
        raise InvalidInput(
            _("Row %(row)d: %(message)s") % {"row": row_number, "message": exc.message},
            details=[{**detail, "row": row_number} for detail in exc.details],
        ) from exc


# --- verification log -----------------------------------------------------------------------------


def record_verification(
    *, actor: Actor, kind: Literal["person", "entity"], identifier: str, result: selectors.Verification
) -> None:
    """Log that ``actor`` (a department system) checked someone against a register, and the answer.

    Lookups of personal data are accounted for like writes; the ID number is logged masked. No permission
    check here: the caller (the verify API) has already established who may ask.
    """
    label = mask_id_number(selectors.normalise_id_number(identifier)) if kind == "person" else identifier
    with transaction.atomic():
        audit.record(
            actor=actor,
            action=f"registers.{kind}.verify",
            object_type=f"registers.{kind}",
            object_id=label[:64],
            object_label=label,
            after=dict(result),
        )
