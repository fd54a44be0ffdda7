"""Electronic licence identifiers (电子证照标识, GB/T 36904-2018; STANDARDS.md §8).

``1.2.156.3005.2.{type}.{issuer}.{serial}.{version}.{check}``:

- ``1.2.156.3005.2`` — the object-identifier arc of China's electronic licences;
- ``type`` — the licence type code: the defining authority's unified social credit code (GB 32100) and a
  three-digit type number that authority assigns;
- ``issuer`` — the issuing body's unified social credit code;
- ``serial`` — the licence's number within its type and issuer (digits and capital letters);
- ``version`` — three digits, 001 for the first issue; a change or re-issue is a new version;
- ``check`` — one character, ISO/IEC 7064 MOD 37,36 over type + issuer + serial + version without the dots.

A single changed character always changes the check (a pure system over 36 characters detects every
substitution), so a mistyped identifier is refused as malformed and never looked up as someone else's licence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from yiwang.common.crypto import normalise_identifier
from yiwang.common.errors import InvalidInput
from yiwang.common.validators import uscc_problems

PREFIX = "1.2.156.3005.2"
CHARSET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
SERIAL_MAX = 40  # the standard bounds the whole identifier, not the serial; longer serials are mistakes here
_SERIAL = re.compile(rf"^[0-9A-Z]{{1,{SERIAL_MAX}}}$")
_VERSION = re.compile(r"^[0-9]{3}$")
_TYPE_NUMBER = re.compile(r"^[0-9]{3}$")


def check_character(body: str) -> str:
    """The ISO/IEC 7064 MOD 37,36 check character of ``body`` (characters of ``CHARSET`` only)."""
    product = 36
    for ch in body:
        value = CHARSET.index(ch)
        total = (product + value) % 36 or 36
        product = (2 * total) % 37
    return CHARSET[(37 - product) % 36]


@dataclass(frozen=True)
class LicenceIdentifier:
    type_code: str  # defining authority's USCC (18) + type number (3)
    issuer: str  # issuing body's USCC
    serial: str
    version: str  # three digits
    check: str

    def __str__(self) -> str:
        return f"{PREFIX}.{self.type_code}.{self.issuer}.{self.serial}.{self.version}.{self.check}"

    @property
    def defining_authority(self) -> str:
        return self.type_code[:18]

    @property
    def type_number(self) -> str:
        return self.type_code[18:]

    @property
    def version_number(self) -> int:
        return int(self.version)

    def next_version(self) -> LicenceIdentifier:
        """The identifier of the licence's next version (a change or re-issue): same type, issuer and serial."""
        number = self.version_number + 1
        if number > 999:
            raise InvalidInput(_("This licence has reached its last version number (999)."))
        return build(self.type_code, self.issuer, self.serial, number)


class InvalidIdentifier(InvalidInput):
    code = "invalid_identifier"


def _refuse(message: object) -> InvalidIdentifier:
    return InvalidIdentifier(
        _("This is not a valid electronic licence identifier: %(reason)s") % {"reason": message},
        details=[{"field": "identifier", "message": str(message)}],
    )


def type_code_problems(type_code: str) -> list[str]:
    """What is wrong with a licence type code (USCC of the defining authority + 3 digits), as messages."""
    if len(type_code) != 21 or not _TYPE_NUMBER.match(type_code[18:]):
        return [str(_("the licence type code is the defining authority's 18-character code and 3 digits."))]
    return [str(p.message) for p in uscc_problems(type_code[:18])]


def build(type_code: str, issuer: str, serial: str, version: int) -> LicenceIdentifier:
    """The identifier of a licence; raises InvalidIdentifier when a part is malformed."""
    if not 1 <= version <= 999:
        raise _refuse(_("the version is a number from 001 to 999."))
    version_text = f"{version:03d}"
    _check_parts(type_code, issuer, serial, version_text)
    return LicenceIdentifier(
        type_code, issuer, serial, version_text, check_character(type_code + issuer + serial + version_text)
    )


def _check_parts(type_code: str, issuer: str, serial: str, version: str) -> None:
    problems = type_code_problems(type_code)
    if problems:
        raise _refuse(problems[0])
    if uscc_problems(issuer):
        raise _refuse(_("the issuer part is not a valid unified social credit code."))
    if not _SERIAL.match(serial):
        raise _refuse(
            _("the licence number is 1 to %(n)d digits and capital letters.") % {"n": SERIAL_MAX},
        )
    if not _VERSION.match(version):
        raise _refuse(_("the version is three digits."))


def parse(text: str) -> LicenceIdentifier:
    """Read an identifier as people type or scan it (spaces around it ignored, letters in either case).

    Raises InvalidIdentifier with the first thing wrong; a wrong check character is reported as such, without
    saying what it should be (that would turn the validator into a generator of plausible identifiers)."""
    value = normalise_identifier(text)  # full-width characters from Chinese input methods, spaces, lower case
    if not value.startswith(PREFIX + "."):
        raise _refuse(_("it must begin with %(prefix)s.") % {"prefix": PREFIX})
    parts = value[len(PREFIX) + 1 :].split(".")
    if len(parts) != 5:
        raise _refuse(_("it has five parts after %(prefix)s, separated by dots.") % {"prefix": PREFIX})
    type_code, issuer, serial, version, check = parts
    _check_parts(type_code, issuer, serial, version)
    if len(check) != 1 or check not in CHARSET:
        raise _refuse(_("the last part is one check character (a digit or a capital letter)."))
    if check_character(type_code + issuer + serial + version) != check:
        raise _refuse(_("the check character does not match; the identifier was probably mistyped."))
    return LicenceIdentifier(type_code, issuer, serial, version, check)


def is_valid(text: str) -> bool:
    try:
        parse(text)
    except InvalidIdentifier:
        return False
    return True
