"""Verifying a licence file and what anyone may see of a verification: the seal decides first (tampered, foreign,
unsigned, revoked before sealing), then the licence the file names (valid, expired, suspended, revoked, superseded);
a file that is no PDF or too large is invalid; the public record masks the holder; an identifier costs one query;
the rate limit counts per address."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import User
from django.test import override_settings
from django.utils import timezone, translation

from yiwang.catalogue.models import Organisation
from yiwang.common.masking import mask_id_number
from yiwang.identity.tests.people import ENTERPRISE, PEOPLE
from yiwang.licences import issuance, lifecycle, render, sealing, selectors, services, verification
from yiwang.licences.constants import Verdict
from yiwang.licences.models import Licence
from yiwang.licences.tests.test_identifiers import REAL
from yiwang.licences.tests.test_sealing import World, a_pdf
from yiwang.licences.tests.tools import flip_a_stream_byte

pytestmark = pytest.mark.django_db


def _file(licence: Licence) -> bytes:
    return issuance.sealed_bytes(licence)


def _sealed_by_platform(department: Organisation, identifier: str) -> bytes:
    """A page sealed with the platform's own keys (department's seal) whose document information names
    ``identifier``: what only the platform itself could make."""
    _seal, keys = issuance.sealing_keys(department)
    page = render.render(
        render.LicenceDocument(
            title="营业执照",
            identifier=identifier,
            serial="1",
            holder_label="名称",
            holder_name="某公司",
            holder_code_label="统一社会信用代码",
            holder_code="91330106MA2B0XYZ0J",
            rows=[],
            issuer_name=department.name,
            issued_on=dt.date(2026, 1, 5),
            valid_from=dt.date(2026, 1, 5),
            valid_until=None,
            verify_url="http://127.0.0.1:8000/",
        )
    )
    return sealing.seal_pdf(page, keys)


# --- the seal decides first --------------------------------------------------------------------------------------


def test_a_licence_file_as_issued_is_valid_and_names_its_licence(enterprise_licence: Licence) -> None:
    found = verification.verify_pdf(_file(enterprise_licence))
    assert (found.verdict, found.licence) == (Verdict.VALID, enterprise_licence), found.reason
    record = verification.public_record(found)
    assert record["status"] == "valid" and record["identifier"] == enterprise_licence.identifier
    assert record["licence_type_code"] == "11100000000013338W032"
    assert record["issuer_uscc"] == enterprise_licence.issuer.uscc
    assert record["issuer_name"] == enterprise_licence.issuer.name
    assert record["valid_until"] is None  # the business licence type is long-term
    assert record["version"] == 1 and record["issued_on"] == enterprise_licence.issued_on.isoformat()


def test_one_changed_byte_is_tampered_and_names_no_licence(enterprise_licence: Licence) -> None:
    found = verification.verify_pdf(flip_a_stream_byte(_file(enterprise_licence)))
    assert found.verdict == Verdict.TAMPERED and found.licence is None and found.reason
    assert verification.public_record(found)["identifier"] is None


def test_a_foreign_seal_or_no_seal_is_unknown_with_the_reason(platform_pki: Any) -> None:
    with translation.override("en"):
        foreign = verification.verify_pdf(sealing.seal_pdf(a_pdf(), World("ecdsa-p256").keys))
        unsigned = verification.verify_pdf(a_pdf())
    assert foreign.verdict == Verdict.UNKNOWN and "does not trust" in foreign.reason
    assert unsigned.verdict == Verdict.UNKNOWN and "not sealed by this platform" in unsigned.reason


def test_a_seal_revoked_before_the_licence_was_sealed_makes_it_revoked(
    enterprise_licence: Licence, platform_pki: Any, admin: User
) -> None:
    services.revoke(actor=admin, certificate=platform_pki, reason="key_compromise", at=platform_pki.not_before)
    found = verification.verify_pdf(_file(enterprise_licence))
    assert found.verdict == Verdict.REVOKED and found.licence is None and found.reason


def test_a_seal_revoked_after_the_licence_was_sealed_leaves_it_valid(
    enterprise_licence: Licence, platform_pki: Any, admin: User
) -> None:
    # A few seconds later: a CRL names times to the second, and a seal in the revocation's own second counts as
    # made after it.
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=5), tick=False):
        services.revoke(actor=admin, certificate=platform_pki, reason="cessation_of_operation")
        assert verification.verify_pdf(_file(enterprise_licence)).verdict == Verdict.VALID


def test_our_seal_on_a_file_naming_no_licence_of_ours_is_unknown(department_a: Organisation, platform_pki: Any) -> None:
    for named in (REAL[0], "not an identifier", ""):
        found = verification.verify_pdf(_sealed_by_platform(department_a, named))
        assert found.verdict == Verdict.UNKNOWN and found.licence is None and found.reason, named


def test_a_licence_sealed_by_another_department_is_unknown(
    enterprise_licence: Licence, department_b: Organisation, admin: User
) -> None:
    services.issue_seal(actor=admin, department=department_b)
    forged = _sealed_by_platform(department_b, enterprise_licence.identifier)
    found = verification.verify_pdf(forged)
    assert found.verdict == Verdict.UNKNOWN and found.licence is None


def test_without_the_platform_ca_nothing_verifies_as_ours(db: Any) -> None:
    assert verification.verify_pdf(a_pdf()).verdict == Verdict.UNKNOWN


@pytest.mark.parametrize(
    "data",
    [b"", b"hello, this is not a PDF", b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, b"%PDF-1.7\n garbage without structure"],
)
def test_what_is_not_a_readable_pdf_is_invalid(data: bytes, platform_pki: Any) -> None:
    found = verification.verify_pdf(data)
    assert found.verdict == Verdict.INVALID and found.reason and found.licence is None


def test_a_file_over_the_limit_is_invalid_unread(platform_pki: Any) -> None:
    found = verification.verify_pdf(b"%PDF-1.7\n" + b"0" * verification.MAX_PDF_BYTES)
    assert found.verdict == Verdict.INVALID and "MB" in found.reason


# --- then the licence it names -----------------------------------------------------------------------------------


def test_the_file_of_an_expired_licence_is_expired(enterprise_licence: Licence) -> None:
    last_day = dt.date(2027, 1, 4)
    Licence.objects.filter(pk=enterprise_licence.pk).update(valid_until=last_day)
    data = _file(enterprise_licence)
    assert verification.verify_pdf(data, today=last_day).verdict == Verdict.VALID
    found = verification.verify_pdf(data, today=last_day + dt.timedelta(days=1))
    assert found.verdict == Verdict.EXPIRED
    record = verification.public_record(found)
    assert record["valid_until"] == "2027-01-04" and "2027-01-04" in record["reason"]


def test_an_identifier_expires_with_the_calendar(enterprise_licence: Licence) -> None:
    Licence.objects.filter(pk=enterprise_licence.pk).update(valid_until=dt.date(2027, 1, 4))
    with time_machine.travel(dt.datetime(2027, 1, 5, 9, tzinfo=dt.UTC), tick=False):
        found = selectors.verify_identifier(enterprise_licence.identifier)
    assert verification.public_record(found)["status"] == "expired"


def test_a_suspended_or_revoked_licence_says_so_from_its_file(enterprise_licence: Licence, reviewer_a: User) -> None:
    data = _file(enterprise_licence)
    lifecycle.suspend(actor=reviewer_a, licence=enterprise_licence, reason="暂扣待查")
    suspended = verification.public_record(verification.verify_pdf(data))
    assert suspended["status"] == "suspended" and suspended["reason"] and suspended["status_changed_on"]
    lifecycle.reinstate(actor=reviewer_a, licence=enterprise_licence, reason="核查完毕")
    lifecycle.revoke(actor=reviewer_a, licence=enterprise_licence, reason="依法撤销")
    revoked = verification.public_record(verification.verify_pdf(data))
    assert revoked["status"] == "revoked" and revoked["identifier"] == enterprise_licence.identifier
    # The staff's reason may name people: it is not published.
    assert "依法撤销" not in json.dumps(revoked, ensure_ascii=False)


def test_the_old_file_of_a_reissued_licence_is_superseded_and_the_new_one_valid(
    enterprise_licence: Licence, reviewer_a: User
) -> None:
    old = _file(enterprise_licence)
    newer = lifecycle.reissue(actor=reviewer_a, licence=enterprise_licence, reason="遗失补证")
    found = verification.verify_pdf(old)
    assert (found.verdict, found.licence) == (Verdict.SUPERSEDED, enterprise_licence)
    assert verification.public_record(found)["version"] == 1
    again = verification.verify_pdf(_file(newer))
    assert (again.verdict, again.licence) == (Verdict.VALID, newer)
    assert verification.public_record(again)["version"] == 2


@pytest.mark.parametrize(
    ("text", "verdict"),
    [(REAL[0], Verdict.UNKNOWN), (REAL[0][:-1] + "G", Verdict.INVALID), ("garbage", Verdict.INVALID)],
)
def test_identifiers_not_issued_here_get_a_reason(text: str, verdict: str) -> None:
    record = verification.public_record(selectors.verify_identifier(text))
    assert record["status"] == verdict and record["reason"] and record["identifier"] is None


# --- what anyone may see -----------------------------------------------------------------------------------------


def test_a_persons_name_and_id_number_are_masked(licence: Licence) -> None:
    person = PEOPLE["citizen"]
    record = verification.public_record(selectors.verify_identifier(licence.identifier))
    assert record["holder_name"] == person.name[0] + "*" * (len(person.name) - 1)
    assert record["holder_code"] == mask_id_number(person.id_number) and record["holder_code_type"] == "111"
    text = json.dumps(record, ensure_ascii=False)
    assert person.id_number not in text and person.name not in text


def test_an_enterprises_name_and_code_are_masked(enterprise_licence: Licence) -> None:
    record = verification.public_record(selectors.verify_identifier(enterprise_licence.identifier))
    text = json.dumps(record, ensure_ascii=False)
    assert ENTERPRISE.name not in text and ENTERPRISE.uscc not in text
    assert record["holder_name"].startswith(ENTERPRISE.name[:2]) and record["holder_name"].endswith(
        ENTERPRISE.name[-4:]
    )
    assert "*" in record["holder_name"] and record["holder_code"] == mask_id_number(ENTERPRISE.uscc)


def test_every_record_has_the_same_keys(enterprise_licence: Licence) -> None:
    full = verification.public_record(selectors.verify_identifier(enterprise_licence.identifier))
    empty = verification.public_record(selectors.verify_identifier("garbage"))
    assert set(full) == set(empty)
    assert {"status", "identifier", "licence_type_code", "licence_type_name", "issuer_name", "issuer_uscc"} <= set(full)
    assert {"holder_name", "holder_code", "valid_from", "valid_until", "issued_on", "version", "reason"} <= set(full)


def test_english_names_in_english(enterprise_licence: Licence) -> None:
    with translation.override("en"):
        record = verification.public_record(selectors.verify_identifier(enterprise_licence.identifier))
    licence_type = enterprise_licence.licence_type
    assert record["licence_type_name"] == (licence_type.name_en or licence_type.name)
    assert record["label"] == "Valid"


# --- cost --------------------------------------------------------------------------------------------------------


def test_verifying_an_identifier_is_one_query(enterprise_licence: Licence, django_assert_num_queries: Any) -> None:
    with django_assert_num_queries(1):
        verification.public_record(selectors.verify_identifier(enterprise_licence.identifier))


# --- rate limit --------------------------------------------------------------------------------------------------


@override_settings(YIWANG_VERIFY_RATE="3/60")
def test_the_rate_limit_counts_per_address_per_window() -> None:
    start = 1_800_000_000.0  # a window boundary (divisible by 60)
    assert [verification.take_slot("198.51.100.7", now=start + i) for i in range(3)] == [0, 0, 0]
    wait = verification.take_slot("198.51.100.7", now=start + 10)
    assert wait == 50
    assert verification.take_slot("198.51.100.8", now=start + 10) == 0  # another address has its own budget
    assert verification.take_slot("198.51.100.7", now=start + 60) == 0  # the next window
