"""National code validators, tested on the real codes of STANDARDS.md §7."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from yiwang.common.validators import (
    USCC_CHARSET,
    build_uscc,
    division_code_problems,
    is_valid_uscc,
    org_code_check_char,
    resident_id_problems,
    uscc_check_char,
    uscc_problems,
    validate_uscc,
)

REAL_USCCS = [
    "11100000000013338W",
    "11220000013544541J",
    "11430000006122244L",
    "11330105002500287C",
    "12441500196720244T",
    "11370800MB28559184",
    "91350200776049653A",
]


@pytest.mark.parametrize("code", REAL_USCCS)
def test_real_usccs_pass(code: str) -> None:
    assert uscc_problems(code) == []
    validate_uscc(code)


@pytest.mark.parametrize("code", REAL_USCCS)
def test_every_single_character_change_of_a_real_uscc_is_caught(code: str) -> None:
    for position in range(18):
        for replacement in USCC_CHARSET:
            if replacement == code[position]:
                continue
            changed = code[:position] + replacement + code[position + 1 :]
            assert not is_valid_uscc(changed), changed


def test_embedded_organisation_code_check_is_reported_separately() -> None:
    # Break only the GB 11714 check (character 17) and recompute the USCC check character, so the
    # outer check passes and only the embedded organisation-code check can catch it.
    first17 = "11370800MB2855918"[:16] + "5"
    code = first17 + uscc_check_char(first17)
    assert [p.code for p in uscc_problems(code)] == ["uscc_org_check"]


@pytest.mark.parametrize(
    ("code", "problem"),
    [
        ("1137080MB28559184", "uscc_length"),
        ("11370800MB2855918I", "uscc_charset"),
        ("11370800mb28559184", "uscc_charset"),
        ("11370800MB28559185", "uscc_check"),
        ("11990000006122244L", "uscc_region"),
    ],
)
def test_bad_usccs_name_their_problem(code: str, problem: str) -> None:
    assert problem in {p.code for p in uscc_problems(code)}
    with pytest.raises(ValidationError):
        validate_uscc(code)


def test_organisation_code_check_character_examples() -> None:
    # From the real USCCs: characters 9–17 are an organisation code with its own check.
    assert org_code_check_char("00001333") == "8"
    assert org_code_check_char("MB285591") == "8"
    assert org_code_check_char("77604965") == "3"


@given(
    region=st.sampled_from(["330106", "370811", "110000", "100000"]),
    body=st.text(alphabet="0123456789ABCDEFGHJKLMNPQRTUWXY", min_size=8, max_size=8),
)
def test_built_usccs_are_valid(region: str, body: str) -> None:
    assert is_valid_uscc(build_uscc("11", region, body))


@pytest.mark.parametrize("code", ["330106", "370811", "110000", "330106001"])
def test_valid_division_codes(code: str) -> None:
    assert division_code_problems(code) == []


@pytest.mark.parametrize(
    ("code", "problem"),
    [
        ("33010", "division_format"),
        ("3301061", "division_format"),
        ("990106", "division_province"),
        ("330006", "division_hierarchy"),
        ("33a106", "division_format"),
    ],
)
def test_bad_division_codes(code: str, problem: str) -> None:
    assert [p.code for p in division_code_problems(code)] == [problem]


def test_real_resident_id_passes_and_changes_fail() -> None:
    assert resident_id_problems("34052419800101001X") == []
    assert "id_check" in {p.code for p in resident_id_problems("340524198001010011")}
    assert "id_birth_date" in {p.code for p in resident_id_problems("34052419800231001X")}
    assert "id_format" in {p.code for p in resident_id_problems("3405241980010100")}
