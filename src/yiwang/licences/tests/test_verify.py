"""Verifying an identifier: invalid, unknown, or the licence's state (valid, expired, suspended, revoked,
superseded). The licence rows here stand for issued ones (issuance itself is built next, issue 5)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.utils import translation

from yiwang.catalogue.models import Organisation
from yiwang.common import crypto
from yiwang.licences import identifiers, selectors, types
from yiwang.licences.constants import LicenceStatus, Verdict
from yiwang.licences.models import Licence, LicenceType
from yiwang.licences.tests.test_identifiers import REAL
from yiwang.licences.tests.test_types import BUSINESS_LICENCE

pytestmark = pytest.mark.django_db
TODAY = dt.date(2026, 11, 30)
HOLDER_USCC = "91330106MA2B0XYZ0J"


@pytest.fixture
def licence_type(admin: User) -> LicenceType:
    return types.define(actor=admin, definition=BUSINESS_LICENCE)


def _licence(
    licence_type: LicenceType, issuer: Organisation, serial: str, *, version: int = 1, **fields: object
) -> Licence:
    identifier = identifiers.build(licence_type.code, str(issuer.uscc), serial, version)
    values: dict[str, object] = {
        "identifier": str(identifier),
        "licence_type": licence_type,
        "serial": serial,
        "version": version,
        "issuer": issuer,
        "holder_name": "杭州西湖示例餐饮有限公司",
        "holder_kind": "049",
        "holder_code": HOLDER_USCC,
        "holder_index": crypto.blind_index(HOLDER_USCC, purpose="uscc"),
        "issued_on": dt.date(2026, 1, 5),
        "valid_from": dt.date(2026, 1, 5),
        "data": {"address": "浙江省杭州市西湖区文三路1号"},
        **fields,
    }
    return Licence.objects.create(**values)


def test_each_state_gives_its_verdict(licence_type: LicenceType, department_a: Organisation) -> None:
    rows = {
        Verdict.VALID: _licence(licence_type, department_a, "A1"),
        Verdict.EXPIRED: _licence(licence_type, department_a, "A2", valid_until=TODAY - dt.timedelta(days=1)),
        Verdict.SUSPENDED: _licence(licence_type, department_a, "A3", status=LicenceStatus.SUSPENDED),
        Verdict.REVOKED: _licence(licence_type, department_a, "A4", status=LicenceStatus.REVOKED),
        Verdict.SUPERSEDED: _licence(licence_type, department_a, "A5", status=LicenceStatus.SUPERSEDED),
    }
    for verdict, licence in rows.items():
        found = selectors.verify_identifier(licence.identifier, today=TODAY)
        assert (found.verdict, found.licence) == (verdict, licence), verdict
    # Valid on its last day; a revoked licence stays revoked whatever its dates.
    last_day = _licence(licence_type, department_a, "A6", valid_until=TODAY)
    assert selectors.verify_identifier(last_day.identifier, today=TODAY).verdict == Verdict.VALID


def test_typed_or_scanned_forms_of_an_identifier_are_found(
    licence_type: LicenceType, department_a: Organisation
) -> None:
    licence = _licence(licence_type, department_a, "B1")
    typed = f"  {licence.identifier.lower()} \n"
    assert selectors.verify_identifier(typed, today=TODAY).licence == licence


def test_a_well_formed_identifier_not_issued_here_is_unknown(licence_type: LicenceType) -> None:
    assert selectors.verify_identifier(REAL[0], today=TODAY).verdict == Verdict.UNKNOWN


@pytest.mark.parametrize("text", ["", "hello", REAL[0][:-1] + "G", REAL[0].replace(".001.", ".01.")])
def test_a_malformed_identifier_is_invalid_with_a_reason(text: str) -> None:
    with translation.override("en"):
        found = selectors.verify_identifier(text, today=TODAY)
    assert found.verdict == Verdict.INVALID and found.licence is None and found.reason


def test_the_holder_code_and_the_licence_data_rest_encrypted(
    licence_type: LicenceType, department_a: Organisation
) -> None:
    licence = _licence(licence_type, department_a, "C1")
    with connection.cursor() as cursor:
        cursor.execute("SELECT holder_code, data FROM licences_licence WHERE id = %s", [licence.pk])
        row = cursor.fetchone()
    assert row is not None
    assert HOLDER_USCC not in row[0] and "文三路" not in row[1]
    again = Licence.objects.get(pk=licence.pk)
    assert again.holder_code == HOLDER_USCC and again.data["address"] == "浙江省杭州市西湖区文三路1号"
