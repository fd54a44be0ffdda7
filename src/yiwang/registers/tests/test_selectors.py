"""Verification answers: found, matches (names compared without whitespace), status."""

from __future__ import annotations

import pytest

from yiwang.common.crypto import id_number_index
from yiwang.common.errors import InvalidInput
from yiwang.common.validators import resident_id_check_char
from yiwang.registers import selectors
from yiwang.registers.demo import (
    DEMO_CANCELLED_NAME,
    DEMO_CANCELLED_USCC,
    DEMO_CITIZEN_ID,
    DEMO_CITIZEN_NAME,
    DEMO_ENTERPRISE_NAME,
    DEMO_ENTERPRISE_USCC,
    DEMO_REPRESENTATIVE_ID,
    DEMO_SECOND_ENTERPRISE_USCC,
)
from yiwang.registers.models import LegalEntity

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo", "english")]

# Valid, but not in the register.
UNKNOWN_ID = "11010520000101002" + resident_id_check_char("11010520000101002")


@pytest.mark.parametrize("name", ["张三", " 张 三 ", "张\u3000三", "\t张三\n"])
def test_a_person_matches_whatever_the_whitespace(name: str) -> None:
    assert selectors.verify_person(DEMO_CITIZEN_ID, name) == {"found": True, "matches": True, "status": "registered"}


def test_a_person_under_another_name_is_found_but_does_not_match() -> None:
    assert selectors.verify_person(DEMO_CITIZEN_ID, "张四") == {"found": True, "matches": False, "status": "registered"}
    assert selectors.verify_person(DEMO_CITIZEN_ID, "") == {"found": True, "matches": False, "status": "registered"}


def test_an_unknown_person_is_not_found() -> None:
    assert selectors.verify_person(UNKNOWN_ID, DEMO_CITIZEN_NAME) == {"found": False, "matches": False, "status": None}
    assert selectors.find_person(UNKNOWN_ID) is None


def test_a_malformed_id_number_is_invalid_input() -> None:
    with pytest.raises(InvalidInput) as caught:
        selectors.verify_person(DEMO_CITIZEN_ID[:17] + "X", DEMO_CITIZEN_NAME)
    assert str(caught.value.message) == "The check digit (character 18) is wrong."
    assert DEMO_CITIZEN_ID[:17] not in str(caught.value.as_dict())


def test_entities_answer_with_their_status() -> None:
    assert selectors.verify_entity(DEMO_ENTERPRISE_USCC, DEMO_ENTERPRISE_NAME) == {
        "found": True,
        "matches": True,
        "status": "active",
    }
    cancelled = selectors.verify_entity(DEMO_CANCELLED_USCC.lower(), f" {DEMO_CANCELLED_NAME} ")
    assert cancelled == {"found": True, "matches": True, "status": "cancelled"}
    assert selectors.verify_entity(DEMO_ENTERPRISE_USCC, "别的公司")["matches"] is False


def test_full_width_brackets_and_name_dots_compare_alike() -> None:
    assert selectors.names_match("杭州恒达投资合伙企业（有限合伙）", "杭州恒达投资合伙企业(有限合伙)")
    assert selectors.names_match("买买提·艾力", "买买提•艾力")
    assert not selectors.names_match("", "")


def test_a_malformed_uscc_is_invalid_input() -> None:
    with pytest.raises(InvalidInput) as caught:
        selectors.verify_entity(DEMO_ENTERPRISE_USCC[:17] + "0", DEMO_ENTERPRISE_NAME)
    assert caught.value.details[0]["code"] == "uscc_check"


def test_representatives_and_their_entities() -> None:
    represented = {
        e.uscc for e in LegalEntity.objects.filter(legal_representative_index=id_number_index(DEMO_REPRESENTATIVE_ID))
    }
    assert represented == {DEMO_ENTERPRISE_USCC, DEMO_SECOND_ENTERPRISE_USCC}
    assert selectors.registered_names([DEMO_CITIZEN_ID, UNKNOWN_ID]) == {DEMO_CITIZEN_ID: DEMO_CITIZEN_NAME}
