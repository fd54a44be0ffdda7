"""The exchange API: signed queries and yes/no verifications by department systems, and every refusal — each
answered with its status and code, signed by the platform, and written to the access log (docs/sharing-exchange.md)."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from yiwang.cases.models import Case
from yiwang.catalogue.models import ItemVersion, Organisation
from yiwang.common.crypto import id_number_index
from yiwang.identity import clients
from yiwang.identity.tests.people import ENTERPRISE, PEOPLE, make_register_entity, make_register_person
from yiwang.sharing import keys, signing
from yiwang.sharing.client import ExchangeAnswer, ExchangeClient, django_transport
from yiwang.sharing.constants import REQUEST_WINDOW_SECONDS, GrantStatus, Outcome, SharingType
from yiwang.sharing.models import AccessRecord, Nonce
from yiwang.sharing.tests.factories import (
    OFFICIAL,
    PURPOSE,
    client_key,
    filed_for_enterprise,
    machine_client,
    make_grant,
    make_resource,
    platform_resource,
    submit_case,
    token_for,
)

pytestmark = pytest.mark.django_db

QUERY = "/api/v1/sharing/query"
VERIFY = "/api/v1/sharing/verify"
CITIZEN = PEOPLE["citizen"]
REPRESENTATIVE = PEOPLE["representative"]


@pytest.fixture(autouse=True)
def platform_key_file(tmp_path: Any, settings: Any) -> Iterator[None]:
    settings.YIWANG_SHARING_KEY_FILE = tmp_path / "sharing-key.pem"
    settings.YIWANG_SHARING_CREATE_KEY = True
    signing.platform_key.cache_clear()
    yield
    signing.platform_key.cache_clear()


@dataclass
class World:
    admin: User
    department: Organisation
    application: Any
    key: Ed25519PrivateKey
    platform_pem: str
    token: str

    def client(self, *, key: Ed25519PrivateKey | None = None, official: str = OFFICIAL) -> ExchangeClient:
        return ExchangeClient(
            django_transport(Client()),
            client_id=self.application.client_id,
            private_key=key or self.key,
            platform_public_pem=self.platform_pem,
            token=self.token,
            official=official,
        )


def _world(admin: User, department: Organisation, name: str) -> World:
    application = machine_client(admin, department, name=name)
    key = client_key(admin, application)
    published = Client().get("/api/v1/sharing/keys").json()["keys"][0]
    return World(admin, department, application, key, published["public_key"], token_for(application))


@pytest.fixture
def world(admin: User, department_a: Organisation) -> World:
    return _world(admin, department_a, "市场监管局登记系统")


@pytest.fixture
def person(db: Any) -> str:
    make_register_person(CITIZEN)
    return CITIZEN.id_number


@pytest.fixture
def case(citizen: User, published: Callable[..., ItemVersion]) -> Case:
    return submit_case(citizen, published())


@pytest.fixture
def population_grant(world: World) -> Any:
    return make_grant(platform_resource("population"), world.department, fields=["name", "birth_date", "division"])


def ask(client: ExchangeClient, case_number: str | None = "330106-NO-CASE", **overrides: Any) -> ExchangeAnswer:
    payload: dict[str, Any] = {
        "resource": "population",
        "subject": CITIZEN.id_number,
        "purpose": PURPOSE,
        "case_number": case_number,
        **overrides,
    }
    return client.post("query", payload)


def assert_refused(answer: ExchangeAnswer, status: int, code: str) -> AccessRecord:
    """The status and code, a signed answer, and the refusal in the access log under the answer's record hash."""
    assert answer.status == status, answer.body
    body = answer.json()
    assert body["code"] == code
    assert body["errors"][0]["code"] == code
    assert body["message"]
    assert answer.verified
    record = AccessRecord.objects.get(hash=answer.record_hash)
    assert (record.outcome, record.refusal) == (Outcome.REFUSED, code)
    assert body["record"] == {"seq": record.seq, "hash": record.hash}
    assert record.request_id == signing.request_digest(answer.request_text)
    return record


# --- answers --------------------------------------------------------------------------------------


def test_a_query_answers_only_the_granted_fields_asked_for(
    world: World, person: str, case: Case, population_grant: Any
) -> None:
    answer = ask(world.client(), case.number, fields=["name", "birth_date"])
    assert answer.status == 200, answer.body
    assert answer.verified
    body = answer.json()
    assert body["resource"] == "population"
    assert body["found"] is True
    assert body["data"] == {"name": CITIZEN.name, "birth_date": CITIZEN.birth.isoformat()}
    assert CITIZEN.id_number not in answer.body.decode()
    record = AccessRecord.objects.get(hash=answer.record_hash)
    assert body["record"] == {"seq": record.seq, "hash": record.hash}
    assert body["subject"] == record.subject_masked
    assert record.outcome == Outcome.ANSWERED
    assert record.fields == ["name", "birth_date"]
    assert (record.case_number, record.purpose, record.official) == (case.number, PURPOSE, OFFICIAL)
    assert record.client_id == world.application.client_id
    assert record.consumer_id == world.department.pk
    assert record.grant_id == population_grant.pk
    assert record.request_id == signing.request_digest(answer.request_text)


def test_without_fields_every_granted_field_is_answered(
    world: World, person: str, case: Case, population_grant: Any
) -> None:
    body = ask(world.client(), case.number).json()
    assert list(body["data"]) == ["name", "birth_date", "division"]  # the resource's order, nothing ungranted


def test_a_subject_not_in_the_register_is_not_found_and_still_logged(
    world: World, case: Case, population_grant: Any
) -> None:
    # A walk-in case of someone the population register does not know (yet).
    Case.objects.filter(pk=case.pk).update(applicant_index=id_number_index(PEOPLE["stranger"].id_number))
    answer = ask(world.client(), case.number, subject=PEOPLE["stranger"].id_number)
    assert answer.status == 200
    assert answer.json()["found"] is False and answer.json()["data"] == {}
    assert AccessRecord.objects.get(hash=answer.record_hash).outcome == Outcome.ANSWERED


def test_a_chinese_official_name_is_signed_and_logged_as_written(
    world: World, person: str, case: Case, population_grant: Any
) -> None:
    answer = ask(world.client(official="窗口 张 伟"), case.number)
    assert answer.status == 200
    assert AccessRecord.objects.get(hash=answer.record_hash).official == "窗口 张 伟"


def test_the_answer_signature_verifies_with_the_published_key_and_fails_when_one_byte_changes(
    world: World, person: str, case: Case, population_grant: Any
) -> None:
    client = world.client()
    answer = ask(client, case.number)
    assert answer.headers["content-type"] == "application/json"
    published = signing.load_public_pem(world.platform_pem)
    assert published is not None
    assert answer.headers[signing.KEY_ID_HEADER.lower()] == signing.key_id_of(published)
    assert client.verify_answer(answer.request_text, answer.headers, answer.body)
    changed = bytearray(answer.body)
    changed[-2] ^= 0x01
    assert not client.verify_answer(answer.request_text, answer.headers, bytes(changed))
    other_request = answer.request_text.replace(b"POST", b"PUT")
    assert not client.verify_answer(other_request, answer.headers, answer.body)
    other_record = {**answer.headers, signing.RECORD_HEADER.lower(): "0" * 64}
    assert not client.verify_answer(answer.request_text, other_record, answer.body)


def test_the_token_endpoint_issues_a_token_the_exchange_accepts(
    admin: User, department_a: Organisation, person: str, case: Case
) -> None:
    from yiwang.identity import clients

    application, secret = clients.register_client(
        actor=admin, name="登记系统", kind="machine", allowed_scopes=["sharing:exchange"], department=department_a
    )
    key = client_key(admin, application)
    make_grant(platform_resource("population"), department_a, fields=["name"])
    client = ExchangeClient(
        django_transport(Client()),
        client_id=application.client_id,
        client_secret=secret,
        private_key=key,
        platform_public_pem=signing.platform_key().public_pem,
        official=OFFICIAL,
    )
    answer = ask(client, case.number)
    assert answer.status == 200 and answer.verified
    assert answer.json()["data"] == {"name": CITIZEN.name}


# --- verification questions ----------------------------------------------------------------------


@pytest.fixture
def entity(db: Any) -> str:
    make_register_entity(ENTERPRISE, REPRESENTATIVE)
    return ENTERPRISE.uscc


def test_is_this_person_the_legal_representative_answers_yes_or_no_and_reveals_nothing(
    world: World, entity: str, case: Case, citizen: User
) -> None:
    filed_for_enterprise(case, ENTERPRISE.uscc, ENTERPRISE.name, citizen)
    make_grant(platform_resource("legal_entity"), world.department, fields=["legal_representative"])
    client = world.client()
    payload = {"question": "legal_representative", "subject": entity, "purpose": PURPOSE, "case_number": case.number}
    yes = client.post("verify", {**payload, "about": REPRESENTATIVE.id_number})
    no = client.post("verify", {**payload, "about": CITIZEN.id_number})
    assert (yes.status, no.status) == (200, 200)
    assert yes.verified and no.verified
    assert yes.json()["answer"] is True
    assert no.json()["answer"] is False
    assert set(yes.json()) == {"question", "subject", "answer", "record"}
    for answer in (yes, no):
        text = answer.body.decode()
        assert REPRESENTATIVE.id_number not in text and REPRESENTATIVE.name not in text
        assert ENTERPRISE.name not in text and CITIZEN.id_number not in text
    record = AccessRecord.objects.get(hash=yes.record_hash)
    assert (record.channel, record.fields) == ("verify", ["legal_representative"])
    # The person asked about sees the check on their own page too.
    assert AccessRecord.objects.filter(request_id=record.request_id, subject_kind="person").count() == 1


def test_is_this_id_number_registered_under_this_name(world: World, person: str, case: Case) -> None:
    make_grant(platform_resource("population"), world.department, fields=["name"])
    client = world.client()
    payload = {"question": "person_name", "subject": person, "purpose": PURPOSE, "case_number": case.number}
    assert client.post("verify", {**payload, "about": CITIZEN.name}).json()["answer"] is True
    wrong = client.post("verify", {**payload, "about": "李四"})
    assert wrong.json()["answer"] is False
    assert CITIZEN.name not in wrong.body.decode()


def test_does_this_person_hold_a_valid_licence_of_a_type(world: World, person: str, case: Case) -> None:
    make_grant(platform_resource("licences_person"), world.department)
    payload = {
        "question": "holds_licence_person",
        "subject": person,
        "about": "11100000MB0123456X01",
        "purpose": PURPOSE,
        "case_number": case.number,
    }
    answer = world.client().post("verify", payload)
    assert answer.status == 200 and answer.json()["answer"] is False


def test_a_verification_needs_a_grant_of_the_fields_it_consults(world: World, person: str) -> None:
    make_grant(platform_resource("population"), world.department, fields=["birth_date"])
    payload = {"question": "person_name", "subject": person, "about": "张三", "purpose": PURPOSE, "case_number": "X"}
    record = assert_refused(world.client().post("verify", payload), 403, "field_not_granted")
    assert record.channel == "verify"


def test_an_unknown_question_is_a_400_of_shape(world: World) -> None:
    payload = {"question": "salary", "subject": CITIZEN.id_number, "purpose": PURPOSE, "case_number": "X"}
    answer = world.client().post("verify", payload)
    assert answer.status == 400 and answer.json()["code"] == "invalid"
    assert not AccessRecord.objects.exists()


# --- refusals of the grant and the case -----------------------------------------------------------


def test_no_grant_is_refused(world: World, person: str) -> None:
    record = assert_refused(ask(world.client()), 403, "no_grant")
    assert record.resource_code == "population"
    assert record.subject_masked and CITIZEN.id_number not in record.subject_masked
    assert record.consumer_id == world.department.pk


def test_a_grant_of_another_department_is_no_grant(world: World, person: str, department_b: Organisation) -> None:
    make_grant(platform_resource("population"), department_b)
    assert_refused(ask(world.client()), 403, "no_grant")


def test_a_field_not_granted_or_unknown_is_refused(world: World, person: str, population_grant: Any) -> None:
    client = world.client()
    for fields in (["address"], ["name", "address"], ["salary"]):  # ungranted, one of two, unknown
        record = assert_refused(ask(client, fields=fields), 403, "field_not_granted")
        assert record.fields == fields


def test_an_expired_grant_is_refused(world: World, person: str) -> None:
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    make_grant(platform_resource("population"), world.department, valid_until=yesterday)
    assert_refused(ask(world.client()), 403, "grant_expired")


def test_a_grant_not_yet_valid_is_refused(world: World, person: str) -> None:
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    make_grant(platform_resource("population"), world.department, valid_from=tomorrow)
    assert_refused(ask(world.client()), 403, "grant_expired")


def test_a_revoked_or_undecided_grant_answers_nothing(world: World, person: str) -> None:
    for status in (GrantStatus.REVOKED, GrantStatus.REQUESTED, GrantStatus.REFUSED):
        grant = make_grant(platform_resource("population"), world.department, status=status)
        assert_refused(ask(world.client()), 403, "no_grant")
        grant.delete()


def test_a_purpose_not_in_the_grant_is_refused(world: World, person: str, population_grant: Any) -> None:
    record = assert_refused(ask(world.client(), purpose="市场调查"), 403, "purpose_not_granted")
    assert record.purpose == "市场调查"


def test_a_case_whose_item_is_not_in_the_grant_is_refused(world: World, person: str, case: Case) -> None:
    make_grant(platform_resource("population"), world.department, items=["000000000000"])
    assert_refused(ask(world.client(), case.number), 403, "item_not_granted")


def test_a_grant_naming_the_case_item_answers(world: World, person: str, case: Case) -> None:
    make_grant(platform_resource("population"), world.department, items=[case.basic_code or "x"])
    assert ask(world.client(), case.number).status == 200


def test_a_query_without_case_number_or_purpose_is_refused(world: World, person: str) -> None:
    client = world.client()
    payload = {"resource": "population", "subject": CITIZEN.id_number, "purpose": PURPOSE, "case_number": "C-1"}
    for missing in ("case_number", "purpose"):
        assert_refused(client.post("query", {k: v for k, v in payload.items() if k != missing}), 400, "no_case")
        assert_refused(client.post("query", {**payload, missing: "  "}), 400, "no_case")


def test_an_unknown_case_is_refused(world: World, person: str, population_grant: Any) -> None:
    assert_refused(ask(world.client(), "330106-20990101-1"), 403, "case_out_of_scope")


def test_a_case_of_another_department_is_refused(
    admin: User, department_b: Organisation, person: str, case: Case
) -> None:
    other = _world(admin, department_b, "任城区审批系统")
    make_grant(platform_resource("population"), department_b)
    record = assert_refused(ask(other.client(), case.number), 403, "case_out_of_scope")
    assert record.consumer_id == department_b.pk


def test_over_the_rate_limit_is_429_with_retry_after(world: World, person: str, case: Case) -> None:
    make_grant(platform_resource("population"), world.department, rate_per_minute=2)
    client = world.client()
    if time.time() % 60 > 57:  # the three requests must fall in one minute's window
        time.sleep(3)
    assert [ask(client, case.number).status for _ in range(2)] == [200, 200]
    third = ask(client, case.number)
    assert_refused(third, 429, "rate_limited")
    assert 1 <= int(third.headers["retry-after"]) <= 60


# --- refusals of the resource and subject ---------------------------------------------------------


def test_an_unknown_resource_is_refused(world: World, person: str) -> None:
    assert_refused(ask(world.client(), resource="no_such_thing"), 404, "unknown_resource")


def test_a_resource_not_shared_is_refused(world: World, person: str) -> None:
    resource = make_resource("secret_files", sharing_type=SharingType.NOT_SHARED, backend="population")
    make_grant(resource, world.department)
    assert_refused(ask(world.client(), resource="secret_files"), 403, "not_shared")


def test_a_resource_held_in_the_providers_own_system_is_not_answered_here(
    world: World, person: str, department_b: Organisation
) -> None:
    resource = make_resource("property_rights", provider=department_b)
    make_grant(resource, world.department)
    assert_refused(ask(world.client(), resource="property_rights"), 404, "not_held")


def test_a_malformed_id_number_is_refused(world: World, population_grant: Any) -> None:
    client = world.client()
    for subject in ("110101199003077", "11010119900307001X", "not a number", ""):
        record = assert_refused(ask(client, subject=subject), 400, "invalid_subject")
        assert record.subject_index == ""


def test_a_malformed_uscc_is_refused(world: World) -> None:
    make_grant(platform_resource("legal_entity"), world.department)
    assert_refused(ask(world.client(), resource="legal_entity", subject="91330106MA2A0000"), 400, "invalid_subject")


# --- refusals of the signature, the time and the nonce --------------------------------------------


def send(world: World, headers: dict[str, str], body: bytes, path: str = QUERY) -> ExchangeAnswer:
    """A hand-made request: ``headers`` are the signature headers, possibly tampered with."""
    client = world.client()
    transport = django_transport(Client())
    full = {**headers, "Authorization": f"Bearer {client.bearer()}", "Content-Type": "application/json"}
    status, answer_headers, answer_body = transport("POST", path, full, body)
    official = signing.decode_official(headers.get(signing.OFFICIAL_HEADER, "")) or ""
    try:
        text = signing.request_text(
            method="POST",
            path=path,
            timestamp=headers.get(signing.TIMESTAMP_HEADER, ""),
            nonce=headers.get(signing.NONCE_HEADER, ""),
            official=official,
            body=body,
        )
    except ValueError:
        text = b""
    lower = {k.lower(): v for k, v in answer_headers.items()}
    return ExchangeAnswer(status, lower, answer_body, text, client.verify_answer(text, lower, answer_body))


BODY = json.dumps(
    {"resource": "population", "subject": CITIZEN.id_number, "purpose": PURPOSE, "case_number": "C"}
).encode()


def signed(world: World, body: bytes = BODY, path: str = QUERY, **kwargs: Any) -> dict[str, str]:
    return world.client().signed_headers("POST", path, body, OFFICIAL, **kwargs)


def test_a_request_signed_by_another_systems_key_is_refused(world: World, admin: User, population_grant: Any) -> None:
    other = machine_client(admin, world.department, name="另一个系统")
    other_key = client_key(admin, other)
    headers = world.client(key=other_key).signed_headers("POST", QUERY, BODY, OFFICIAL)
    record = assert_refused(send(world, headers, BODY), 401, "bad_signature")
    assert record.client_id == world.application.client_id
    assert record.resource_code == ""  # nothing of an unverified body is logged as asked


def test_a_request_signed_by_an_unregistered_key_is_refused(world: World, population_grant: Any) -> None:
    headers = world.client(key=Ed25519PrivateKey.generate()).signed_headers("POST", QUERY, BODY, OFFICIAL)
    assert_refused(send(world, headers, BODY), 401, "bad_signature")


def test_a_key_that_names_this_systems_key_id_but_signs_with_another_is_refused(world: World) -> None:
    headers = signed(world)
    forged = world.client(key=Ed25519PrivateKey.generate()).signed_headers("POST", QUERY, BODY, OFFICIAL)
    headers[signing.SIGNATURE_HEADER] = forged[signing.SIGNATURE_HEADER]
    assert_refused(send(world, headers, BODY), 401, "bad_signature")


def test_a_body_changed_after_signing_is_refused(world: World, population_grant: Any) -> None:
    headers = signed(world)
    changed = BODY.replace(b'"C"', b'"D"')
    assert_refused(send(world, headers, changed), 401, "bad_signature")


def test_a_request_signed_for_another_path_is_refused(world: World) -> None:
    headers = signed(world, path=VERIFY)
    assert_refused(send(world, headers, BODY, QUERY), 401, "bad_signature")


def test_another_official_than_the_one_signed_is_refused(world: World) -> None:
    headers = signed(world)
    headers[signing.OFFICIAL_HEADER] = signing.encode_official("另一个人")
    record = assert_refused(send(world, headers, BODY), 401, "bad_signature")
    assert record.official == "另一个人"  # who the request claimed, for the investigation


def test_a_garbage_signature_is_refused(world: World) -> None:
    for signature in ("not base64!!", "AAAA", "A" * 86 + "=="):  # garbage, too short, 64 zero bytes
        headers = {**signed(world), signing.SIGNATURE_HEADER: signature}
        assert_refused(send(world, headers, BODY), 401, "bad_signature")


def test_a_request_missing_a_signature_header_is_refused(world: World) -> None:
    required = (signing.KEY_ID_HEADER, signing.TIMESTAMP_HEADER, signing.NONCE_HEADER, signing.SIGNATURE_HEADER)
    for header in (*required, signing.OFFICIAL_HEADER):
        headers = {k: v for k, v in signed(world).items() if k != header}
        assert_refused(send(world, headers, BODY), 401, "bad_signature")


def test_an_official_missing_too_long_or_malformed_is_refused(world: World) -> None:
    # Blank, longer than 150 characters, a newline, not UTF-8: the request names nobody who can answer for it.
    for official in ("   ", "x" * 151, "a%0Ab", "%FF%FE"):
        headers = {**signed(world), signing.OFFICIAL_HEADER: official}
        assert_refused(send(world, headers, BODY), 401, "bad_signature")


def test_a_malformed_nonce_is_refused(world: World) -> None:
    for nonce in ("short", "x" * 65, "has space in it 0123", "ünïcode-nonce-123456"):
        assert_refused(send(world, signed(world, nonce=nonce), BODY), 401, "bad_signature")


def test_a_retired_key_is_refused(world: World, person: str, population_grant: Any) -> None:
    from yiwang.sharing.models import SigningKey

    keys.retire_signing_key(actor=world.admin, key=SigningKey.objects.get(application=world.application))
    assert_refused(ask(world.client()), 401, "bad_signature")


def test_a_timestamp_outside_the_window_is_stale(world: World) -> None:
    for offset in (-(REQUEST_WINDOW_SECONDS + 5), REQUEST_WINDOW_SECONDS + 5):  # too old, from the future
        headers = signed(world, timestamp=str(int(time.time()) + offset))
        assert_refused(send(world, headers, BODY), 401, "stale")
    assert not Nonce.objects.exists()  # a stale request's nonce is not kept


def test_a_timestamp_that_is_not_unix_seconds_is_stale(world: World) -> None:
    headers = signed(world, timestamp="2025-09-26T10:00:00Z")
    assert_refused(send(world, headers, BODY), 401, "stale")


def test_a_replayed_request_is_refused(world: World, person: str, case: Case, population_grant: Any) -> None:
    body = json.dumps(
        {"resource": "population", "subject": CITIZEN.id_number, "purpose": PURPOSE, "case_number": case.number}
    ).encode()
    headers = signed(world, body)
    first = send(world, headers, body)
    again = send(world, headers, body)
    assert first.status == 200
    assert_refused(again, 409, "replay")
    assert AccessRecord.objects.filter(outcome=Outcome.ANSWERED).count() == 1


def test_a_nonce_is_per_system(admin: User, world: World, department_a: Organisation) -> None:
    other = _world(admin, department_a, "另一个系统")
    nonce = signing.new_nonce()
    first = send(world, signed(world, nonce=nonce), BODY)
    second = send(other, other.client().signed_headers("POST", QUERY, BODY, OFFICIAL, nonce=nonce), BODY)
    assert first.json()["code"] == second.json()["code"] == "no_grant"  # both got past the nonce check


# --- who may call ---------------------------------------------------------------------------------


def test_a_token_without_the_exchange_scope_is_403_and_not_logged(admin: User, department_a: Organisation) -> None:
    application = machine_client(admin, department_a, scopes=["registers:verify"])
    key = Ed25519PrivateKey.generate()
    token = token_for(application, "registers:verify")
    world = World(admin, department_a, application, key, signing.platform_key().public_pem, token)
    answer = ask(world.client())
    assert answer.status == 403
    assert not AccessRecord.objects.exists()


def test_a_client_without_a_department_is_403_with_a_clear_error(admin: User) -> None:
    application = machine_client(admin, None)
    pem = signing.platform_key().public_pem
    world = World(admin, None, application, Ed25519PrivateKey.generate(), pem, token_for(application))  # type: ignore[arg-type]
    answer = ask(world.client())
    assert answer.status == 403
    assert answer.json()["code"] == "permission_denied"
    assert not AccessRecord.objects.exists()


def test_a_token_outlives_no_removal_of_the_exchange_scope(world: World, person: str, population_grant: Any) -> None:
    """Changing a client's policy keeps its tokens: the exchange reads the policy as it is now."""
    clients.update_client(actor=world.admin, application=world.application, allowed_scopes=["registers:verify"])
    answer = ask(world.client())
    assert answer.status == 403
    assert answer.json()["code"] == "permission_denied"
    assert not AccessRecord.objects.exists()
    resources = Client().get("/api/v1/sharing/resources", headers={"Authorization": f"Bearer {world.token}"})
    assert resources.status_code == 403


def test_no_token_is_401_and_a_staff_session_is_not_accepted(
    staff_client: Callable[[User], Client], reviewer_a: User
) -> None:
    for client in (Client(), staff_client(reviewer_a)):
        response = client.post(QUERY, BODY, content_type="application/json")
        assert response.status_code == 401
    assert not AccessRecord.objects.exists()


def test_a_body_that_is_not_json_is_a_400_of_shape_and_not_logged(world: World) -> None:
    body = b"resource=population"
    answer = send(world, signed(world, body), body)
    assert answer.status == 400 and answer.json()["code"] == "invalid"
    assert not AccessRecord.objects.exists()


# --- public key and catalogue ---------------------------------------------------------------------


def test_the_platform_key_is_published_without_authentication(db: Any) -> None:
    response = Client().get("/api/v1/sharing/keys")
    assert response.status_code == 200
    (key,) = response.json()["keys"]
    assert key["algorithm"] == "Ed25519"
    assert key["key_id"] == signing.platform_key().key_id
    assert signing.load_public_pem(key["public_key"]) is not None


def test_the_catalogue_lists_resources_and_the_departments_current_grants(
    world: World, population_grant: Any, department_b: Organisation
) -> None:
    make_grant(platform_resource("legal_entity"), department_b)
    make_grant(
        platform_resource("licences_person"), world.department, valid_until=timezone.localdate() - dt.timedelta(days=1)
    )
    response = Client().get("/api/v1/sharing/resources", headers={"Authorization": f"Bearer {world.token}"})
    assert response.status_code == 200
    body = response.json()
    assert {"population", "legal_entity", "licences_person"} <= {r["code"] for r in body["resources"]}
    assert [(g["resource"], g["fields"]) for g in body["grants"]] == [
        ("population", ["name", "birth_date", "division"])
    ]
    assert Client().get("/api/v1/sharing/resources").status_code == 401


def test_the_schema_documents_the_exchange(db: Any) -> None:
    from django.urls import include, path
    from drf_spectacular.drainage import GENERATOR_STATS
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.validation import validate_schema

    from yiwang.sharing.api.urls import urlpatterns

    GENERATOR_STATS.reset()
    generator = SchemaGenerator(patterns=[path("api/v1/sharing/", include(urlpatterns))])  # type: ignore[no-untyped-call]  # untyped
    schema = generator.get_schema(request=None, public=True)  # type: ignore[no-untyped-call]  # untyped
    validate_schema(schema)  # type: ignore[no-untyped-call]  # untyped
    assert not GENERATOR_STATS._warn_cache and not GENERATOR_STATS._error_cache, dict(GENERATOR_STATS._warn_cache)
    query = schema["paths"]["/api/v1/sharing/query"]["post"]
    assert {p["name"] for p in query["parameters"] if p["in"] == "header"} == {
        "Yiwang-Key-Id",
        "Yiwang-Timestamp",
        "Yiwang-Nonce",
        "Yiwang-Official",
        "Yiwang-Signature",
    }
    assert {"200", "401", "403", "429"} <= set(query["responses"])
