"""Staff reading the population register: the person lookup of window clerks, reviewers and approvers.

A lookup is a read of someone's personal data, and that read is evidence: each one writes an audit record
(who asked, the masked number, and whether a record was shown) in its own transaction. Reach is the
``registers.lookup`` rule: the person's registered region must lie in the staff member's region. A person
outside it is answered exactly like an unknown number, so a lookup never reveals that someone exists
elsewhere.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy

from yiwang.audit import services as audit
from yiwang.common.masking import mask_id_number
from yiwang.identity import authz
from yiwang.identity.services import clean_id_number

LOOKUP = "registers.lookup"


@dataclass(frozen=True)
class PersonRecord:
    """What a lookup shows. ``id_number`` is the clear number: render it only through ``shown_id_number``."""

    name: str
    sex: str
    sex_label: str
    birth_date: dt.date
    region_code: str
    region_name: str
    address: str
    id_number: str
    identifiers_in_clear: bool  # decided for the viewer who asked (authz.may_see_identifiers)

    @property
    def shown_id_number(self) -> str:
        return self.id_number if self.identifiers_in_clear else mask_id_number(self.id_number)


def look_up_person(*, actor: Any, id_number: str) -> PersonRecord | None:
    """The register's record of this ID number, if it lies in ``actor``'s region; ``None`` otherwise.

    A malformed number is refused (``InvalidInput``) before anything is read or recorded: it names no one.
    """
    from yiwang.registers import selectors as registers

    authz.check(actor, LOOKUP, message=gettext_lazy("You do not have permission to look people up in the register."))
    number = clean_id_number(id_number)
    person = registers.find_person(number)
    in_scope = person is not None and authz.allowed(actor, LOOKUP, division_code=person.division_id)
    clear = authz.may_see_identifiers(actor)
    outcome = "found" if in_scope else "out_of_scope" if person is not None else "not_found"
    with transaction.atomic():
        audit.record(
            actor=actor,
            action="registers.person_lookup",
            object_type="registers.person",
            object_id=person.pk if person is not None else "",
            object_label=mask_id_number(number),
            after={"result": outcome, "identifiers": "clear" if clear and in_scope else "masked"},
        )
    if not in_scope:
        return None
    assert person is not None
    return PersonRecord(
        name=person.name,
        sex=person.sex,
        sex_label=str(person.get_sex_display()),
        birth_date=person.birth_date,
        region_code=person.division_id,
        region_name=person.division.full_name,
        address=person.address,
        id_number=person.id_number,
        identifiers_in_clear=clear,
    )
