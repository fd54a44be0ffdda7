"""Validators for national identifier codes.

Algorithms and facts: ../shared/docs/STANDARDS.md §7 (GB 32100-2015 USCC with its embedded GB 11714
organisation code, GB 11643-1999 resident ID, GB/T 2260 divisions). Each ``*_problems`` function returns
*every* problem it finds, so callers (quality rules, importers) can report all of them at once; the
``validate_*`` wrappers raise Django ``ValidationError`` for form and model fields.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

# GB 32100-2015: 31 characters, I O S V Z excluded; a character's value is its index.
USCC_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
# GB 32100 char 1: registration authority; char 2: category within it.
USCC_AUTHORITIES = {
    "1": "机构编制",
    "2": "外交",
    "3": "司法行政",
    "4": "文化",
    "5": "民政",
    "6": "旅游",
    "7": "宗教",
    "8": "工会",
    "9": "工商/市场监管",
    "A": "中央军委改革和编制办公室",
    "N": "农业",
    "Y": "其他",
}
# GB 11714 organisation code: 8 body characters (digits or capital letters) and a check character.
ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
# GB 11643-1999, ISO 7064 MOD 11-2.
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
# GB/T 2260 provincial-level codes (incl. 71 Taiwan, 81 Hong Kong, 82 Macao).
PROVINCE_PREFIXES = frozenset(str(code) for code in (
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46,
    50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82,
))  # fmt: skip

NATIONAL_DIVISION = "100000"

_DIVISION_RE = re.compile(r"^[0-9]{6}([0-9]{3})?$")


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a code: a stable machine code and a translated message."""

    code: str
    message: str | Promise


def resident_id_check_char(first17: str) -> str:
    """The 18th character of a resident ID number (GB 11643, ISO 7064 MOD 11-2)."""
    return ID_CHECK[sum(int(ch) * w for ch, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]


def uscc_check_char(first17: str) -> str:
    total = sum(USCC_CHARSET.index(ch) * w for ch, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_CHARSET[(31 - total % 31) % 31]


def org_code_check_char(body8: str) -> str:
    total = sum(_alnum_value(ch) * w for ch, w in zip(body8, ORG_CODE_WEIGHTS, strict=True))
    check = 11 - total % 11
    if check == 10:
        return "X"
    if check == 11:
        return "0"
    return str(check)


def _alnum_value(ch: str) -> int:
    # GB 11714: digits are their value, capital letters A..Z are 10..35.
    return int(ch) if ch.isdigit() else ord(ch) - ord("A") + 10


def uscc_problems(code: str) -> list[Problem]:
    """Every problem with a Unified Social Credit Code (GB 32100-2015)."""
    if not isinstance(code, str) or len(code) != 18:
        return [Problem("uscc_length", _("A unified social credit code has exactly 18 characters."))]
    bad = sorted({ch for ch in code if ch not in USCC_CHARSET})
    if bad:
        return [
            Problem(
                "uscc_charset",
                _("The unified social credit code contains characters that are not allowed: %(chars)s.")
                % {"chars": " ".join(bad)},
            )
        ]
    problems: list[Problem] = []
    if code[0] not in USCC_AUTHORITIES:
        problems.append(Problem("uscc_authority", _("The registration authority code (character 1) is unknown.")))
    # Central bodies register under 100000, the national code of GB/T 2260.
    if code[2:8] != NATIONAL_DIVISION and division_code_problems(code[2:8]):
        problems.append(Problem("uscc_region", _("Characters 3–8 are not a valid administrative division code.")))
    org = code[8:17]
    if org_code_check_char(org[:8]) != org[8]:
        problems.append(
            Problem("uscc_org_check", _("The embedded organisation code (characters 9–17) fails its check character."))
        )
    if uscc_check_char(code[:17]) != code[17]:
        problems.append(Problem("uscc_check", _("The check character (character 18) is wrong.")))
    return problems


def is_valid_uscc(code: str) -> bool:
    return not uscc_problems(code)


def division_code_problems(code: str) -> list[Problem]:
    """Format problems of a GB/T 2260 code (6 digits, optional 3-digit township extension)."""
    if not isinstance(code, str) or not _DIVISION_RE.match(code):
        return [Problem("division_format", _("A division code has 6 digits, or 9 with a township extension."))]
    if code[:2] not in PROVINCE_PREFIXES:
        return [Problem("division_province", _("The first two digits are not a provincial-level division."))]
    if code[2:4] == "00" and code[4:6] != "00":
        return [Problem("division_hierarchy", _("A county code needs a prefecture part (digits 3–4)."))]
    return []


def resident_id_problems(number: str, *, today: dt.date | None = None) -> list[Problem]:
    """Problems of an 18-character resident identity number (GB 11643-1999)."""
    if not isinstance(number, str) or not re.fullmatch(r"[0-9]{17}[0-9X]", number):
        return [Problem("id_format", _("An ID number has 17 digits followed by a digit or X."))]
    problems = [p for p in division_code_problems(number[:6]) if p.code != "division_hierarchy"]
    try:
        birth = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        problems.append(Problem("id_birth_date", _("The birth date in the ID number does not exist.")))
    else:
        if birth.year < 1900 or birth > (today or dt.date.today()):  # noqa: DTZ011 - a calendar date, not an instant
            problems.append(Problem("id_birth_date", _("The birth date in the ID number is out of range.")))
    if resident_id_check_char(number[:17]) != number[17]:
        problems.append(Problem("id_check", _("The check digit (character 18) is wrong.")))
    return problems


def _raise(problems: list[Problem]) -> None:
    if problems:
        raise ValidationError([ValidationError(str(p.message), code=p.code) for p in problems])


def validate_uscc(code: str) -> None:
    _raise(uscc_problems(code))


def validate_division_code(code: str) -> None:
    _raise(division_code_problems(code))


def validate_resident_id(number: str) -> None:
    _raise(resident_id_problems(number))


def build_uscc(prefix2: str, region: str, org_body8: str) -> str:
    """Compose a valid USCC from its parts, computing both check characters (for generators and tests)."""
    org = org_body8 + org_code_check_char(org_body8)
    first17 = prefix2 + region + org
    return first17 + uscc_check_char(first17)
