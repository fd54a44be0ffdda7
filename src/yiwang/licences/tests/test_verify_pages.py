"""The public verification page (/licences/verify/, /licences/v/<identifier>/ that the QR code opens) and API
(/api/v1/licences/verify/): open to anonymous visitors, the verdict in words with a colour and an icon, the holder
masked for everyone, signed in or not; in Chinese and English; the rate limit answers 429 on both, one budget."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.urls import include, path, reverse
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

from yiwang.identity.tests.people import ENTERPRISE, PEOPLE
from yiwang.licences import issuance, selectors, verification
from yiwang.licences.api.urls import urlpatterns as api_urlpatterns
from yiwang.licences.models import Licence
from yiwang.licences.tests.test_identifiers import REAL
from yiwang.licences.tests.tools import flip_a_stream_byte

pytestmark = pytest.mark.django_db

VERIFY = "/licences/verify/"
API = "/api/v1/licences/verify/"


def _qr_path(licence: Licence) -> str:
    """The page the licence's QR code opens, as a path on this site."""
    url = issuance.verify_url(licence.identifier)
    return url[url.index("/licences/") :]


def _upload(data: bytes, name: str = "licence.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/pdf")


# --- the page ----------------------------------------------------------------------------------------------------


def test_the_qr_code_opens_the_verdict_for_anonymous_visitors(client: Client, enterprise_licence: Licence) -> None:
    response = client.get(_qr_path(enterprise_licence))
    assert response.status_code == 200
    record = response.context["record"]
    assert record["status"] == "valid" and record["identifier"] == enterprise_licence.identifier
    html = response.content.decode()
    assert 'class="verdict verdict-ok"' in html and 'class="verdict-icon"' in html  # colour and icon…
    assert f">{record['label']}</h2>" in html  # …and words
    for shown in (enterprise_licence.identifier, enterprise_licence.issuer.name, record["holder_name"]):
        assert shown in html
    assert response["Cache-Control"].startswith("max-age=0") and "no-cache" in response["Cache-Control"]


def test_the_form_page_is_open_and_linked_from_every_portal_page(client: Client, db: Any) -> None:
    form = client.get(VERIFY)
    assert form.status_code == 200 and "record" not in form.context
    html = form.content.decode()
    assert 'name="identifier"' in html and 'type="file"' in html and 'enctype="multipart/form-data"' in html
    assert reverse("licence_check:verify") in client.get("/").content.decode()


@pytest.mark.parametrize(
    ("typed", "status", "tone"),
    [(REAL[0], "unknown", "neutral"), (REAL[0][:-1] + "G", "invalid", "bad"), ("garbage", "invalid", "bad")],
)
def test_typed_identifiers_not_issued_here_get_their_verdict(
    client: Client, db: Any, typed: str, status: str, tone: str
) -> None:
    response = client.get(VERIFY, {"identifier": typed})
    assert response.status_code == 200
    assert response.context["record"]["status"] == status and response.context["record"]["reason"]
    assert f'class="verdict verdict-{tone}"' in response.content.decode()


def test_an_empty_identifier_or_no_file_is_a_form_error_and_no_verification(client: Client, db: Any) -> None:
    empty = client.get(VERIFY, {"identifier": "  "})
    assert empty.status_code == 400 and empty.context["identifier_error"] and "record" not in empty.context
    no_file = client.post(VERIFY, {})
    assert no_file.status_code == 400 and no_file.context["file_error"] and "record" not in no_file.context


def test_uploaded_files_get_the_seals_verdict(client: Client, enterprise_licence: Licence) -> None:
    data = issuance.sealed_bytes(enterprise_licence)
    answers = {
        "valid": data,
        "tampered": flip_a_stream_byte(data),
        "invalid": b"this is a text file",
    }
    for status, content in answers.items():
        response = client.post(VERIFY, {"file": _upload(content)})
        assert response.status_code == 200, status
        assert response.context["record"]["status"] == status
        assert response.context["source"] == "file"


def test_the_holder_is_masked_on_the_page(client: Client, licence: Licence) -> None:
    person = PEOPLE["citizen"]
    html = client.get(_qr_path(licence)).content.decode()
    assert person.id_number not in html and person.name not in html
    assert verification.mask_holder_name(person.name, "111") in html


def test_the_enterprise_holder_is_masked_on_the_page(client: Client, enterprise_licence: Licence) -> None:
    html = client.get(_qr_path(enterprise_licence)).content.decode()
    assert ENTERPRISE.name not in html and ENTERPRISE.uscc not in html


@pytest.mark.parametrize("persona", ["citizen", "enterprise_rep", "agent"])
def test_signed_in_people_even_the_holder_see_only_the_masked_record(
    persona: str, request: pytest.FixtureRequest, enterprise_licence: Licence
) -> None:
    client = Client()
    client.force_login(request.getfixturevalue(persona))
    response = client.get(_qr_path(enterprise_licence))
    assert response.status_code == 200
    assert response.context["record"]["holder_code"] != ENTERPRISE.uscc
    assert ENTERPRISE.uscc not in response.content.decode()


@pytest.mark.parametrize("persona", ["reviewer_b", "reviewer_a", "auditor"])
def test_staff_of_any_department_see_the_same_public_record(
    persona: str, request: pytest.FixtureRequest, staff_client: Callable[[User], Client], enterprise_licence: Licence
) -> None:
    response = staff_client(request.getfixturevalue(persona)).get(_qr_path(enterprise_licence))
    assert response.status_code == 200 and response.context["record"]["status"] == "valid"
    assert ENTERPRISE.uscc not in response.content.decode()


def test_the_english_page(client: Client, enterprise_licence: Licence) -> None:
    response = client.get(f"/en{_qr_path(enterprise_licence)}")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="en">' in html and ">Valid</h2>" in html and "Business licence" in html
    assert "Verify an electronic licence" in html
    assert client.get("/en/licences/verify/").status_code == 200


def test_the_qr_page_answers_only_reads(client: Client, enterprise_licence: Licence) -> None:
    assert client.post(_qr_path(enterprise_licence)).status_code == 405


# --- the API -----------------------------------------------------------------------------------------------------


def test_the_api_gives_the_same_record_to_anonymous_callers(api: APIClient, enterprise_licence: Licence) -> None:
    response = api.get(API, {"identifier": enterprise_licence.identifier})
    assert response.status_code == 200
    body = response.json()
    assert body == verification.public_record(selectors.verify_identifier(enterprise_licence.identifier))
    assert body["status"] == "valid" and ENTERPRISE.uscc not in response.content.decode()


def test_the_api_checks_an_uploaded_file(api: APIClient, enterprise_licence: Licence) -> None:
    data = issuance.sealed_bytes(enterprise_licence)
    for status, content in {"valid": data, "tampered": flip_a_stream_byte(data), "invalid": b"GIF89a"}.items():
        response = api.post(API, {"file": _upload(content)}, format="multipart")
        assert response.status_code == 200 and response.json()["status"] == status, status


def test_a_signed_in_browser_uploads_without_a_csrf_token(citizen: User, enterprise_licence: Licence) -> None:
    # The API reads no session: a page of any origin may post a file, and the answer is the public one.
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(citizen)
    response = client.post(API, {"file": _upload(issuance.sealed_bytes(enterprise_licence))}, format="multipart")
    assert response.status_code == 200 and response.json()["status"] == "valid"


def test_the_api_refuses_a_request_without_an_identifier_or_file(api: APIClient, db: Any) -> None:
    for response in (api.get(API), api.get(API, {"identifier": " "}), api.post(API, {}, format="multipart")):
        assert response.status_code == 400
        body = response.json()
        assert body["code"] == "invalid" and body["errors"][0]["field"] in ("identifier", "file")


def test_the_api_speaks_the_callers_language(api: APIClient, db: Any) -> None:
    response = api.get(API, {"identifier": REAL[0]}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.json()["label"] == "Well-formed but not issued here"


def test_the_api_is_in_the_openapi_schema_without_warnings(api: APIClient) -> None:
    GENERATOR_STATS.reset()
    generator = SchemaGenerator(patterns=[path("api/v1/", include(api_urlpatterns))])  # type: ignore[no-untyped-call]  # drf-spectacular is untyped
    schema: dict[str, Any] = generator.get_schema(request=None, public=True)  # type: ignore[no-untyped-call]  # untyped
    validate_schema(schema)  # type: ignore[no-untyped-call]  # untyped
    assert not GENERATOR_STATS._warn_cache and not GENERATOR_STATS._error_cache, dict(GENERATOR_STATS._warn_cache)
    operations = schema["paths"]["/api/v1/licences/verify/"]
    assert {"get", "post"} <= set(operations)
    assert "multipart/form-data" in operations["post"]["requestBody"]["content"]
    assert {"200", "400", "429"} <= set(operations["get"]["responses"])
    assert b"/api/v1/licences/verify/" in api.get("/api/schema/").content


# --- the rate limit ----------------------------------------------------------------------------------------------


@override_settings(YIWANG_VERIFY_RATE="3/600")
def test_page_and_api_share_one_budget_per_address_and_answer_429(
    client: Client, api: APIClient, enterprise_licence: Licence
) -> None:
    identifier = enterprise_licence.identifier
    assert client.get(_qr_path(enterprise_licence)).status_code == 200
    assert api.get(API, {"identifier": identifier}).status_code == 200
    assert client.post(VERIFY, {"file": _upload(b"not a pdf")}).status_code == 200  # uploads count too
    page = client.get(VERIFY, {"identifier": identifier})
    assert page.status_code == 429 and page.context["throttled"] and "record" not in page.context
    assert 0 < int(page["Retry-After"]) <= 600
    answer = api.post(API, {"file": _upload(b"%PDF-1.7")}, format="multipart")
    assert answer.status_code == 429 and answer.json()["code"] == "throttled" and answer.json()["message"]
    assert int(answer["Retry-After"]) > 0
    # Another address has its own budget; the form without a query is no verification.
    assert client.get(VERIFY, {"identifier": identifier}, REMOTE_ADDR="203.0.113.9").status_code == 200
    assert client.get(VERIFY).status_code == 200


@override_settings(YIWANG_VERIFY_RATE="1/600")
def test_the_429_page_is_translated(client: Client, db: Any) -> None:
    client.get("/en/licences/verify/", {"identifier": REAL[0]})
    response = client.get("/en/licences/verify/", {"identifier": REAL[0]})
    assert response.status_code == 429 and "Too many verifications" in response.content.decode()


def test_a_file_over_the_limit_is_refused_unread(
    client: Client, enterprise_licence: Licence, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(verification, "MAX_PDF_BYTES", 1000)
    read: list[bytes] = []
    monkeypatch.setattr(verification, "verify_pdf", lambda data, **kw: read.append(data))
    response = client.post(VERIFY, {"file": _upload(b"%PDF-1.7\n" + b"0" * 2000)})
    assert response.status_code == 200 and response.context["record"]["status"] == "invalid" and not read
