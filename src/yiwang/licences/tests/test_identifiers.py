"""GB/T 36904 identifiers: the three real identifiers of STANDARDS.md §8 verify; any single-character change of
them does not; malformed ones get a clear, translated reason."""

from __future__ import annotations

import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from yiwang.licences import identifiers
from yiwang.licences.identifiers import CHARSET, InvalidIdentifier

REAL = [
    "1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F",
    "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U",
    "1.2.156.3005.2.11100000000013338W009.11330105002500287C.2025052201.002.0",
]


@pytest.mark.parametrize("text", REAL)
def test_the_real_identifiers_verify_and_read_back_into_their_parts(text: str) -> None:
    parsed = identifiers.parse(text)
    assert str(parsed) == text
    assert parsed.defining_authority == "11100000000013338W"
    assert identifiers.build(parsed.type_code, parsed.issuer, parsed.serial, parsed.version_number) == parsed


def test_the_parts_of_one_real_identifier() -> None:
    parsed = identifiers.parse(REAL[2])
    assert (parsed.type_number, parsed.issuer, parsed.serial, parsed.version, parsed.check) == (
        "009",
        "11330105002500287C",
        "2025052201",
        "002",
        "0",
    )


def _single_changes(text: str) -> list[str]:
    changed = []
    for position, original in enumerate(text):
        if original == ".":
            continue
        for replacement in CHARSET + ".":
            if replacement != original:
                changed.append(text[:position] + replacement + text[position + 1 :])
    return changed


@pytest.mark.parametrize("text", REAL)
def test_every_single_character_change_of_a_real_identifier_is_refused(text: str) -> None:
    variants = _single_changes(text)
    assert len(variants) > 1500
    accepted = [v for v in variants if identifiers.is_valid(v)]
    assert accepted == []


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "must begin with 1.2.156.3005.2"),
        ("1.2.156.3005.3.11100000000013338W032.11220000013544541J.2430599.001.F", "must begin"),
        ("1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001", "five parts"),
        ("1.2.156.3005.2.11100000000013338W32.11220000013544541J.2430599.001.F", "type code"),
        ("1.2.156.3005.2.11100000000013338X032.11220000013544541J.2430599.001.F", "check character"),
        ("1.2.156.3005.2.11100000000013338W032.11220000013544541K.2430599.001.F", "issuer part"),
        ("1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430-99.001.F", "licence number"),
        ("1.2.156.3005.2.11100000000013338W032.11220000013544541J..001.F", "licence number"),
        ("1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.01.F", "three digits"),
        ("1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.FF", "one check character"),
        ("1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.G", "check character does not match"),
    ],
)
def test_malformed_identifiers_say_what_is_wrong(text: str, reason: str) -> None:
    with translation.override("en"), pytest.raises(InvalidIdentifier) as refused:
        identifiers.parse(text)
    assert reason in str(refused.value.message)
    assert refused.value.details[0]["field"] == "identifier"


def test_a_wrong_check_character_is_not_revealed() -> None:
    wrong = REAL[0][:-1] + "G"
    with translation.override("en"), pytest.raises(InvalidIdentifier) as refused:
        identifiers.parse(wrong)
    assert "F" not in str(refused.value.message).rsplit(":", 1)[1]


def test_spaces_lower_case_and_full_width_characters_as_typed_are_accepted() -> None:
    assert str(identifiers.parse("  " + REAL[0].lower() + "\n")) == REAL[0]
    full_width = REAL[0].translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ."})
    assert str(identifiers.parse(full_width)) == REAL[0]


def test_messages_are_translated() -> None:
    with translation.override("zh-hans"), pytest.raises(InvalidIdentifier) as refused:
        identifiers.parse("x")
    assert "电子证照标识" in str(refused.value.message)


def test_next_version_keeps_type_issuer_and_serial() -> None:
    parsed = identifiers.parse(REAL[2])
    following = parsed.next_version()
    assert (following.type_code, following.issuer, following.serial) == (parsed.type_code, parsed.issuer, parsed.serial)
    assert following.version == "003"
    assert identifiers.is_valid(str(following))
    last = identifiers.build(parsed.type_code, parsed.issuer, parsed.serial, 999)
    with pytest.raises(Exception, match="999"):
        last.next_version()


@given(
    serial=st.text(alphabet=CHARSET, min_size=1, max_size=20),
    version=st.integers(1, 999),
    where=st.integers(0, 10**6),
    replacement=st.sampled_from(CHARSET),
)
def test_built_identifiers_verify_and_any_single_substitution_is_caught(
    serial: str, version: int, where: int, replacement: str
) -> None:
    # ISO/IEC 7064 MOD 37,36 catches every single substitution (not every transposition: "001" and "010" can share
    # a check character), which is what the standard promises and the issue asks.
    built = identifiers.build("11100000000013338W032", "11220000013544541J", serial, version)
    text = str(built)
    assert identifiers.parse(text) == built
    body = [i for i, ch in enumerate(text) if i > len(identifiers.PREFIX) and ch != "."]
    position = body[where % len(body)]
    if text[position] != replacement:
        assert not identifiers.is_valid(text[:position] + replacement + text[position + 1 :])
