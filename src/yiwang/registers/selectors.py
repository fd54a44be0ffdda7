"""Reads of the base registers: lookups by ID number (through the blind index) and by USCC, and the
verification answers that identity services and department systems (the verify API) rely on.

A verification answers only *whether* a record exists, whether the name matches and the record's status;
it never returns the record, so a caller who knows an ID number learns no more than it asked about.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from typing import TypedDict

from django.conf import settings

from yiwang.common.crypto import id_number_index, normalise_identifier
from yiwang.common.errors import invalid_problems
from yiwang.common.validators import Problem, resident_id_problems, uscc_problems
from yiwang.registers.models import LegalEntity, Person

# A person found in the population register; the register keeps no deaths or migrations yet, so a found
# person is always "registered" (entities carry their own EntityStatus values).
PERSON_REGISTERED = "registered"

# Check-character failures a lenient USCC policy tolerates (GB 32100 codes in the wild that fail the check).
USCC_CHECK_PROBLEMS = frozenset({"uscc_check", "uscc_org_check"})

# Separators written between the parts of minority and foreign names (买买提·艾力): several look-alikes
# are typed in practice; they compare as one.
_NAME_DOTS = str.maketrans(dict.fromkeys("•‧・･．.∙⋅", "·"))


class Verification(TypedDict):
    """The answer to "is this person / entity in the register under this name?"."""

    found: bool
    matches: bool
    status: str | None


# --- normalisation --------------------------------------------------------------------------------


def normalise_name(name: str) -> str:
    """A name as compared: NFKC (full-width letters and brackets become half-width), every whitespace
    character removed (the full-width space U+3000 included) and name separators unified."""
    folded = unicodedata.normalize("NFKC", name or "")
    return "".join(folded.split()).translate(_NAME_DOTS)


def names_match(registered: str, given: str) -> bool:
    expected = normalise_name(registered)
    return bool(expected) and expected == normalise_name(given)


# People type a lower-case x, spaces and full-width digits; the register holds 17 digits and a digit or X.
normalise_id_number = normalise_identifier
normalise_uscc = normalise_identifier


# --- validation of identifiers --------------------------------------------------------------------


def uscc_blocking_problems(uscc: str) -> list[Problem]:
    """USCC problems that make a code unacceptable under the configured policy (YIWANG_USCC_POLICY).

    Under ``warn`` a code whose check characters fail is still accepted, because the register must be able
    to hold codes that were issued that way; malformed codes are refused under either policy.
    """
    problems = uscc_problems(uscc)
    if settings.YIWANG_USCC_POLICY == "warn":
        problems = [p for p in problems if p.code not in USCC_CHECK_PROBLEMS]
    return problems


def require_id_number(id_number: str, field: str = "id_number") -> str:
    """The normalised ID number, or InvalidInput with a translated message (GB 11643 format and check)."""
    number = normalise_id_number(id_number)
    problems = resident_id_problems(number)
    if problems:
        raise invalid_problems(field, problems)
    return number


def require_uscc(uscc: str, field: str = "uscc") -> str:
    """The normalised USCC, or InvalidInput with a translated message (GB 32100, under the USCC policy)."""
    code = normalise_uscc(uscc)
    problems = uscc_blocking_problems(code)
    if problems:
        raise invalid_problems(field, problems)
    return code


def looks_like_id_number(term: str) -> bool:
    """Whether a search term is shaped like an ID number (then it is searched through the blind index)."""
    number = normalise_id_number(term)
    return len(number) == 18 and number[:17].isdigit() and (number[17].isdigit() or number[17] == "X")


# --- lookups --------------------------------------------------------------------------------------


def find_person(id_number: str) -> Person | None:
    """The person with this ID number, found through the blind index (the column itself is encrypted)."""
    return Person.objects.select_related("division").filter(id_number_index=id_number_index(id_number)).first()


def find_entity(uscc: str) -> LegalEntity | None:
    return LegalEntity.objects.select_related("division").filter(uscc=normalise_uscc(uscc)).first()


def registered_names(id_numbers: Iterable[str]) -> dict[str, str]:
    """The registered name of each of these ID numbers that is in the population register."""
    by_index = {id_number_index(n): n for n in id_numbers}
    indexes = list(by_index)
    names: dict[str, str] = {}
    for start in range(0, len(indexes), 500):  # bounded IN lists (SQLite's parameter limit)
        rows = Person.objects.filter(id_number_index__in=indexes[start : start + 500])
        names.update((by_index[index], name) for index, name in rows.values_list("id_number_index", "name"))
    return names


# --- verification ---------------------------------------------------------------------------------


def verify_person(id_number: str, name: str) -> Verification:
    """Is there a person with this ID number, and is this their name? InvalidInput for a malformed number."""
    person = find_person(require_id_number(id_number))
    if person is None:
        return Verification(found=False, matches=False, status=None)
    return Verification(found=True, matches=names_match(person.name, name), status=PERSON_REGISTERED)


def verify_entity(uscc: str, name: str) -> Verification:
    """Is there an entity with this USCC, is this its name, and what is its status (active, revoked,
    cancelled)? A match says nothing about status: callers decide whether a cancelled entity will do."""
    entity = find_entity(require_uscc(uscc))
    if entity is None:
        return Verification(found=False, matches=False, status=None)
    return Verification(found=True, matches=names_match(entity.name, name), status=entity.status)
