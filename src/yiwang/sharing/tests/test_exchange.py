"""The exchange's core, called as the platform's own code calls it (once-only fetches, the bench): answers and
refusals in the access log, replay protection, and the consumer's grants."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from yiwang.cases.models import Case
from yiwang.catalogue.models import ItemVersion, Organisation
from yiwang.identity.tests.people import ENTERPRISE, PEOPLE, make_register_entity
from yiwang.sharing import accesslog, exchange
from yiwang.sharing.constants import REQUEST_WINDOW_SECONDS, AccessChannel, Outcome, Refusal
from yiwang.sharing.exchange import Caller, Request
from yiwang.sharing.models import AccessRecord, Nonce
from yiwang.sharing.tests.factories import (
    OFFICIAL,
    PURPOSE,
    filed_for_enterprise,
    make_grant,
    platform_resource,
    submit_case,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def case(citizen: User, published: Callable[..., ItemVersion]) -> Case:
    return submit_case(citizen, published())


def test_every_refusal_has_an_http_status() -> None:
    for refusal in Refusal:
        assert 400 <= exchange.Refused(refusal, "m").http_status < 500


def test_a_fetch_into_a_case_is_logged_on_the_case_channel_without_a_system(
    department_a: Organisation, case: Case
) -> None:
    make_grant(platform_resource("population"), department_a, fields=["name", "sex"])
    caller = Caller(department_a, OFFICIAL, channel=AccessChannel.CASE)
    answer = exchange.query(caller, Request("population", PEOPLE["citizen"].id_number, PURPOSE, str(case.number)))
    assert answer.found and answer.data == {"name": PEOPLE["citizen"].name, "sex": "1"}
    assert (answer.record.channel, answer.record.client_id) == (AccessChannel.CASE, "")


def test_an_entity_is_read_from_the_legal_entity_register(
    department_a: Organisation, case: Case, citizen: User
) -> None:
    make_register_entity(ENTERPRISE, PEOPLE["representative"])
    case = filed_for_enterprise(case, ENTERPRISE.uscc, ENTERPRISE.name, citizen)
    make_grant(platform_resource("legal_entity"), department_a, fields=["name", "status"])
    answer = exchange.query(
        Caller(department_a, OFFICIAL), Request("legal_entity", ENTERPRISE.uscc.lower(), PURPOSE, str(case.number))
    )
    assert answer.data == {"name": ENTERPRISE.name, "status": "active"}
    assert answer.record.subject_kind == "entity" and answer.record.subject_masked == ENTERPRISE.uscc


def test_a_subject_without_licences_is_not_found(department_a: Organisation, case: Case) -> None:
    make_grant(platform_resource("licences_person"), department_a)
    answer = exchange.query(
        Caller(department_a, OFFICIAL),
        Request("licences_person", PEOPLE["citizen"].id_number, PURPOSE, str(case.number)),
    )
    assert (answer.found, answer.data) == (False, {"licences": []})


def test_a_refusal_is_logged_and_raised_with_its_record(department_a: Organisation) -> None:
    with pytest.raises(exchange.Refused) as caught:
        exchange.query(
            Caller(department_a, OFFICIAL), Request("population", PEOPLE["citizen"].id_number, PURPOSE, "C-1")
        )
    refused = caught.value
    assert (refused.code, refused.http_status) == ("no_grant", 403)
    assert refused.record is not None
    assert AccessRecord.objects.get(pk=refused.record.pk).outcome == Outcome.REFUSED
    assert refused.as_dict()["code"] == "no_grant"


def test_answers_and_refusals_keep_the_chain_intact(department_a: Organisation, case: Case) -> None:
    make_grant(platform_resource("population"), department_a, fields=["name"])
    caller = Caller(department_a, OFFICIAL, "client-1")
    number = PEOPLE["citizen"].id_number
    exchange.query(caller, Request("population", number, PURPOSE, str(case.number)))
    for bad in (
        Request("population", number, "", ""),
        Request("population", number, PURPOSE, str(case.number), ["sex"]),
    ):
        with pytest.raises(exchange.Refused):
            exchange.query(caller, bad)
    report = accesslog.verify_chain()
    assert report.broken is None and report.checked == 3


def test_a_nonce_is_taken_once_per_client() -> None:
    assert exchange.take_nonce("client-1", "n" * 20)
    assert not exchange.take_nonce("client-1", "n" * 20)
    assert exchange.take_nonce("client-2", "n" * 20)


def test_nonces_older_than_two_windows_are_swept(db: Any) -> None:
    old = timezone.now() - dt.timedelta(seconds=2 * REQUEST_WINDOW_SECONDS + 1)
    recent = timezone.now() - dt.timedelta(seconds=REQUEST_WINDOW_SECONDS)
    Nonce.objects.create(client_id="c", nonce="old-nonce-0123456789", seen_at=old)
    Nonce.objects.create(client_id="c", nonce="recent-nonce-0123456", seen_at=recent)
    assert exchange.take_nonce("c", "new-nonce-0123456789")
    assert set(Nonce.objects.values_list("nonce", flat=True)) == {"recent-nonce-0123456", "new-nonce-0123456789"}


def test_the_consumers_grants_are_those_valid_today(department_a: Organisation, department_b: Organisation) -> None:
    make_grant(platform_resource("population"), department_a, fields=["name"], items=["330106001000"])
    make_grant(platform_resource("legal_entity"), department_b)
    make_grant(
        platform_resource("licences_person"), department_a, valid_until=timezone.localdate() - dt.timedelta(days=1)
    )
    (grant,) = exchange.grants_of(department_a)
    assert grant["resource"] == "population"
    assert (grant["fields"], grant["items"], grant["purposes"]) == (["name"], ["330106001000"], [PURPOSE])


def test_a_person_who_is_not_a_party_to_the_case_cannot_be_read_for_it(department_a: Organisation, case: Case) -> None:
    make_grant(platform_resource("population"), department_a)
    with pytest.raises(exchange.Refused) as refused:
        stranger = PEOPLE["stranger"].id_number
        exchange.query(Caller(department_a, OFFICIAL), Request("population", stranger, PURPOSE, str(case.number)))
    assert refused.value.refusal == Refusal.SUBJECT_NOT_IN_CASE and refused.value.http_status == 403
    assert refused.value.record is not None
    record = AccessRecord.objects.get(seq=refused.value.record.seq)
    assert (record.outcome, record.refusal, record.case_number) == (Outcome.REFUSED, "subject_not_in_case", case.number)


def test_the_legal_representative_of_the_applicant_enterprise_is_a_party(
    department_a: Organisation, case: Case, citizen: User
) -> None:
    make_register_entity(ENTERPRISE, PEOPLE["representative"])
    case = filed_for_enterprise(case, ENTERPRISE.uscc, ENTERPRISE.name, citizen)
    make_grant(platform_resource("population"), department_a, fields=["name"])
    answer = exchange.query(
        Caller(department_a, OFFICIAL),
        Request("population", PEOPLE["representative"].id_number, PURPOSE, str(case.number)),
    )
    assert answer.data == {"name": PEOPLE["representative"].name}


def test_a_case_no_longer_being_handled_entitles_no_read(department_a: Organisation, case: Case) -> None:
    make_grant(platform_resource("population"), department_a)
    Case.objects.filter(pk=case.pk).update(status="withdrawn")
    with pytest.raises(exchange.Refused) as refused:
        citizen = PEOPLE["citizen"].id_number
        exchange.query(Caller(department_a, OFFICIAL), Request("population", citizen, PURPOSE, str(case.number)))
    assert refused.value.refusal == Refusal.CASE_CLOSED
    assert AccessRecord.objects.filter(outcome=Outcome.ANSWERED).count() == 0


def test_a_revoked_grant_stops_answering_at_once_although_the_grants_are_cached(
    department_a: Organisation, case: Case
) -> None:
    grant = make_grant(platform_resource("population"), department_a)
    request = Request("population", PEOPLE["citizen"].id_number, PURPOSE, str(case.number))
    assert exchange.query(Caller(department_a, OFFICIAL), request).found
    grant.status = "revoked"
    grant.save(update_fields=["status"])
    with pytest.raises(exchange.Refused) as refused:
        exchange.query(Caller(department_a, OFFICIAL), request)
    assert refused.value.refusal == Refusal.NO_GRANT
