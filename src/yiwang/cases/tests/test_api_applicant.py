"""The applicant side of the cases API: apply in one call (idempotent), drafts and materials, the case page's
data (timeline, notices, materials, what next), notices as PDF, withdrawal and corrections; every bad input
refused with a 400 naming the field, and nothing changed."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from yiwang.audit.models import AuditRecord
from yiwang.cases import services
from yiwang.cases.constants import CaseStatus
from yiwang.cases.models import Case, CaseMaterial, MaterialFile
from yiwang.cases.services import Problem
from yiwang.cases.tests.conftest import PDF, pdf
from yiwang.catalogue.models import ItemVersion
from yiwang.identity.models import Agency
from yiwang.identity.tests import people
from yiwang.identity.tests.people import PEOPLE

pytestmark = pytest.mark.django_db

ADDRESS = "浙江省杭州市西湖区文三路1号"
CASES = "/api/v1/cases/"
DRAFTS = "/api/v1/drafts/"


def signed_in(user: User) -> APIClient:
    """A person's session (the API authenticates sessions only)."""
    client = APIClient()
    client.force_login(user)
    return client


def form(person: people.TestPerson = PEOPLE["citizen"], **changes: Any) -> dict[str, Any]:
    """A complete form for the test item (the default form of a 自然人 item)."""
    return {
        "applicant_name": person.name,
        "applicant_id_number": person.id_number,
        "phone": person.phone,
        "address": ADDRESS,
        **changes,
    }


def apply(client: APIClient, item: ItemVersion, key: str | None = None, **body: Any) -> Any:
    payload = {"item": item.implementation_code, "data": form(), "pledged_slots": [1], **body}
    headers: dict[str, Any] = {"HTTP_ACCEPT_LANGUAGE": "en"}
    if key is not None:
        headers["HTTP_IDEMPOTENCY_KEY"] = key
    return client.post(CASES, payload, format="json", **headers)


def new_key() -> str:
    return str(uuid.uuid4())


# --- apply in one call ----------------------------------------------------------------------------------------


def test_apply_creates_submits_and_receipts_in_one_call(citizen: User, item: ItemVersion) -> None:
    response = apply(signed_in(citizen), item, new_key())
    assert response.status_code == 201, response.content
    body = response.json()
    assert re.fullmatch(r"33010620250926\d{10}", body["number"])
    assert body["status"] == {"code": "submitted", "label": "Awaiting pre-review"}
    assert body["item_name"] == item.name and body["basic_code"] == item.basic_code
    assert [n["kind"]["code"] for n in body["notices"]] == ["receipt"]
    assert [(m["slot"], m["provenance"]["code"], m["trust_level"]["code"]) for m in body["materials"]] == [
        (1, "pledge", "D")
    ]
    # Five working days across National Day for the window to answer.
    assert body["next"]["code"] == "submitted" and body["next"]["due"] == "2025-10-10"
    assert body["next"]["actions"] == ["withdraw"]
    assert body["applicant"]["id_number"] == PEOPLE["citizen"].id_number  # the applicant's own, in clear
    case = Case.objects.get()
    assert case.channel == "api" and case.submitted_by == citizen
    assert AuditRecord.objects.filter(action="cases.submitted", object_id=str(case.pk)).exists()


def test_a_retry_with_the_same_key_returns_the_same_case_with_200(citizen: User, item: ItemVersion) -> None:
    client, key = signed_in(citizen), new_key()
    first = apply(client, item, key)
    again = apply(client, item, key)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert Case.objects.count() == 1
    assert Case.objects.get().notices.count() == 1


def test_a_different_body_with_a_used_key_gets_the_first_case_unchanged(
    citizen: User, item: ItemVersion, published: Callable[..., ItemVersion]
) -> None:
    client, key = signed_in(citizen), new_key()
    first = apply(client, item, key).json()
    other_item = published()
    again = apply(client, other_item, key, data=form(phone="not a phone"), pledged_slots=[])
    assert again.status_code == 200
    assert again.json()["number"] == first["number"] and again.json()["item_name"] == item.name
    assert Case.objects.count() == 1


def test_keys_belong_to_one_account(citizen: User, enterprise_rep: User, item: ItemVersion) -> None:
    key = new_key()
    assert apply(signed_in(citizen), item, key).status_code == 201
    theirs = apply(signed_in(enterprise_rep), item, key, data=form(PEOPLE["representative"]))
    assert theirs.status_code == 201
    assert Case.objects.count() == 2


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"key": None}, "Idempotency-Key"),
        ({"key": ""}, "Idempotency-Key"),
        ({"key": "k" * 65}, "Idempotency-Key"),
        ({"key": "two words"}, "Idempotency-Key"),
        ({"item": "11330106MB0000010000000009999"}, "item"),
        ({"item": ""}, "item"),
        ({"pledged_slots": [9]}, "slot"),
        ({"pledged_slots": [0]}, "slot"),  # the application form itself cannot be pledged away
        ({"pledged_slots": ["one"]}, "pledged_slots[0]"),
        ({"data": form(phone="call me")}, "phone"),
        ({"data": form(applicant_name="")}, "applicant_name"),
        ({"data": form(favourite_colour="blue")}, "favourite_colour"),
        ({"data": ["not", "an", "object"]}, "data"),
        ({"reused": {"first": 1}}, "reused"),
        ({"reused": {"0": 999999}}, "material"),
        ({"delivery": {"method": "mail"}}, "delivery_address"),
        ({"delivery": {"method": "pigeon"}}, "delivery.method"),
    ],
)
def test_bad_applications_are_refused_naming_the_field_and_change_nothing(
    citizen: User, item: ItemVersion, change: dict[str, Any], field: str
) -> None:
    change = dict(change)
    key = change.pop("key", new_key())
    body = {"item": item.implementation_code, "data": form(), "pledged_slots": [1], **change}
    headers: dict[str, Any] = {"HTTP_ACCEPT_LANGUAGE": "en"}
    if key is not None:
        headers["HTTP_IDEMPOTENCY_KEY"] = key
    response = signed_in(citizen).post(CASES, body, format="json", **headers)
    assert response.status_code == 400, response.content
    error = response.json()
    assert error["code"] == "invalid" and error["message"]
    assert field in [e["field"] for e in error["errors"]], error
    assert not Case.objects.exists() and not CaseMaterial.objects.exists()
    assert not AuditRecord.objects.filter(action__startswith="cases.").exists()


def test_form_problems_come_back_per_field_in_the_requested_language(citizen: User, item: ItemVersion) -> None:
    body = {"item": item.implementation_code, "data": form(phone="x", address="")}
    response = signed_in(citizen).post(
        CASES, body, format="json", HTTP_IDEMPOTENCY_KEY=new_key(), HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400
    errors = {e["field"]: e["message"] for e in response.json()["errors"]}
    assert errors == {"phone": "This is not in the expected form.", "address": "This field is required."}


def test_an_agent_applies_for_the_enterprise_under_the_agency(
    agent: User, enterprise: Any, enterprise_rep: User, item: ItemVersion
) -> None:
    agency = Agency.objects.get(agent=agent)
    response = apply(signed_in(agent), item, new_key(), data=form(PEOPLE["agent"]), agency=agency.pk)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["applicant"]["enterprise_uscc"] == enterprise.uscc
    assert body["applicant"]["on_behalf_of"] == f"enterprise:{enterprise.uscc}"
    # The representative sees the enterprise's case among theirs.
    listed = signed_in(enterprise_rep).get(CASES).json()["results"]
    assert [c["number"] for c in listed] == [body["number"]]


def test_an_agent_without_that_agency_cannot_apply_for_its_principal(
    agent: User, enterprise_rep: User, item: ItemVersion
) -> None:
    from yiwang.identity import services as identity

    agency = Agency.objects.get(agent=agent)
    identity.revoke_agency(actor=enterprise_rep, agency=agency)
    response = apply(signed_in(agent), item, new_key(), data=form(PEOPLE["agent"]), agency=agency.pk)
    assert response.status_code == 403
    assert not Case.objects.exists()


def test_unverified_people_cannot_apply(unverified: User, item: ItemVersion) -> None:
    response = apply(signed_in(unverified), item, new_key(), data=form(PEOPLE["unverified"]))
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert not Case.objects.exists()


# --- my cases and the case page -------------------------------------------------------------------------------


def test_my_cases_newest_first_with_their_summary(
    citizen: User, agent: User, item: ItemVersion, clock: Any, submitted: Callable[..., Case]
) -> None:
    older = submitted()
    clock.shift(60)
    newer = submitted()
    submitted(actor=agent)  # 李四's own case: not 张三's
    services.start_application(actor=citizen, version=item)  # a draft is not a case yet
    response = signed_in(citizen).get(CASES, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [c["number"] for c in body["results"]] == [newer.number, older.number]
    row = body["results"][0]
    assert set(row) == {
        "number",
        "item_name",
        "basic_code",
        "status",
        "submitted_at",
        "received_on",
        "accepted_on",
        "promised_due",
        "statutory_due",
        "outcome",
        "delivery_method",
        "tracking_number",
        "bundle_number",
    }
    assert row["status"]["label"] == "Awaiting pre-review" and row["received_on"] == "2025-09-26"
    assert row["delivery_method"]["code"] == "electronic" and row["outcome"] is None


def test_the_case_page_shows_timeline_notices_materials_and_what_next(
    citizen: User, clerk: User, submitted: Callable[..., Case]
) -> None:
    case = submitted()
    services.accept(actor=clerk, case=case, note="材料齐全")
    body = signed_in(citizen).get(f"{CASES}{case.number}/", HTTP_ACCEPT_LANGUAGE="en").json()
    assert [(t["action"], t["action_label"], t["to_status"]["code"]) for t in body["timeline"]] == [
        ("submit", "submit", "submitted"),
        ("accept", "accept", "accepted"),
    ]
    accept = body["timeline"][1]
    assert accept["from_status"]["code"] == "submitted" and accept["step"]["code"] == "accept"
    assert accept["department"] == "杭州市西湖区市场监督管理局" and accept["reason"] == "材料齐全"
    assert "actor" not in accept  # staff names stay on the staff side
    assert [n["kind"]["label"] for n in body["notices"]] == ["Receipt of application", "Notice of acceptance"]
    assert body["notices"][1]["pdf_url"] == f"{CASES}{case.number}/notices/{body['notices'][1]['number']}.pdf"
    material = body["materials"][0]
    assert material["name"] == "个体工商户登记（备案）申请书" and material["slot"] == 0
    assert material["provenance"]["code"] == "upload" and material["trust_level"]["code"] == "C"
    assert material["content_type"] == "application/pdf" and material["size"] == len(PDF) + 1
    assert material["round"] == 1
    assert (body["accepted_on"], body["promised_due"], body["statutory_due"]) == (
        "2025-09-26",
        "2025-09-30",
        "2025-10-23",
    )
    assert body["next"]["code"] == "accepted" and body["next"]["due"] == "2025-09-30"
    assert "2025-09-30" in body["next"]["text"]


def test_notices_download_as_pdf(citizen: User, agent: User, submitted: Callable[..., Case]) -> None:
    case = submitted()
    receipt = case.notices.get()
    url = f"{CASES}{case.number}/notices/{receipt.number}.pdf"
    response = signed_in(citizen).get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf" and response.content.startswith(b"%PDF")
    assert "no-store" in response["Cache-Control"]
    assert signed_in(citizen).get(f"{CASES}{case.number}/notices/RC-nope.pdf").status_code == 404
    assert signed_in(agent).get(url).status_code == 404


def test_withdrawing_cancels_the_work_and_cannot_be_repeated(citizen: User, submitted: Callable[..., Case]) -> None:
    case = submitted()
    client = signed_in(citizen)
    response = client.post(f"{CASES}{case.number}/withdraw/", {"reason": "不办了"}, format="json")
    assert response.status_code == 200
    assert response.json()["status"]["code"] == "withdrawn" and response.json()["next"]["actions"] == []
    again = client.post(f"{CASES}{case.number}/withdraw/", {}, format="json")
    assert again.status_code == 409 and again.json()["code"] == "invalid_transition"
    assert case.transitions.filter(action="withdraw").count() == 1


# --- drafts ---------------------------------------------------------------------------------------------------


def test_a_draft_from_start_to_submission(citizen: User, item: ItemVersion) -> None:
    client = signed_in(citizen)
    started = client.post(DRAFTS, {"item": item.implementation_code}, format="json")
    assert started.status_code == 201, started.content
    draft = started.json()
    assert draft["status"]["code"] == "draft" and draft["number"] is None
    assert draft["data"]["applicant_name"] == PEOPLE["citizen"].name  # pre-filled from the register
    assert draft["data"]["applicant_id_number"] == PEOPLE["citizen"].id_number
    assert [(s["slot"], s["required"], s["pledgeable"], s["material"]) for s in draft["slots"]] == [
        (0, True, False, None),
        (1, True, True, None),
    ]
    url = f"{DRAFTS}{draft['id']}/"

    saved = client.patch(url, {"data": {"address": ADDRESS}, "delivery": {"method": "pickup"}}, format="json")
    assert saved.status_code == 200
    assert saved.json()["data"]["address"] == ADDRESS
    assert saved.json()["data"]["applicant_name"] == PEOPLE["citizen"].name  # merged, not replaced
    assert saved.json()["delivery"]["method"]["code"] == "pickup"
    assert "phone" not in client.patch(url, {"data": {"phone": None}}, format="json").json()["data"]
    client.patch(url, {"data": {"phone": PEOPLE["citizen"].phone}}, format="json")

    upload = client.post(f"{url}materials/", {"slot": 0, "file": pdf("申请书.pdf")}, format="multipart")
    assert upload.status_code == 201, upload.content
    assert (upload.json()["provenance"]["code"], upload.json()["trust_level"]["code"]) == ("upload", "C")
    pledge = client.post(f"{url}materials/", {"slot": 1, "pledge": True}, format="json")
    assert pledge.status_code == 201 and pledge.json()["trust_level"]["code"] == "D"
    assert client.delete(f"{url}materials/1/").status_code == 204
    assert [s["material"] is not None for s in client.get(url).json()["slots"]] == [True, False]

    refused = client.post(f"{url}submit/", format="json")
    assert refused.status_code == 400 and refused.json()["errors"][0]["field"] == "Idempotency-Key"
    key = new_key()
    submitted = client.post(f"{url}submit/", format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert submitted.status_code == 201, submitted.content
    retried = client.post(f"{url}submit/", format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert retried.status_code == 200 and retried.json() == submitted.json()
    assert submitted.json()["delivery_method"]["code"] == "pickup"
    assert Case.objects.get().status == CaseStatus.SUBMITTED
    # Submitted: no longer a draft to edit.
    late = client.patch(url, {"data": {"address": "elsewhere"}}, format="json")
    assert late.status_code == 409
    assert Case.objects.get().data["address"] == ADDRESS


@pytest.mark.parametrize(
    ("body", "fmt", "field"),
    [
        (
            {"slot": 0, "file": SimpleUploadedFile("page.pdf", b"<html><script>alert(1)</script></html>")},
            "multipart",
            "file",
        ),
        ({"slot": 0, "file": SimpleUploadedFile("tool.pdf", b"MZ\x90\x00 a windows program")}, "multipart", "file"),
        ({"slot": 0, "file": SimpleUploadedFile("empty.pdf", b"")}, "multipart", "file"),
        ({"slot": 7, "file": pdf()}, "multipart", "slot"),
        ({"slot": "first", "file": pdf()}, "multipart", "slot"),
        ({"slot": 0, "pledge": True}, "json", "slot"),  # the form itself cannot be pledged
        ({"slot": 9, "pledge": True}, "json", "slot"),
        ({"slot": 1}, "json", "file"),  # neither a file, a reuse nor a pledge
        ({"slot": 1, "reuse": 1, "pledge": True}, "json", "pledge"),
        ({"slot": 1, "reuse": 999999}, "json", "material"),
    ],
)
def test_bad_materials_are_refused_and_nothing_is_stored(
    citizen: User, item: ItemVersion, body: dict[str, Any], fmt: str, field: str
) -> None:
    draft = services.start_application(actor=citizen, version=item)
    response = signed_in(citizen).post(f"{DRAFTS}{draft.pk}/materials/", body, format=fmt)
    assert response.status_code == 400, response.content
    assert field in [e["field"] for e in response.json()["errors"]]
    assert not CaseMaterial.objects.exists() and not MaterialFile.objects.exists()


def test_a_material_on_file_is_reused_by_its_id(
    citizen: User, item: ItemVersion, submitted: Callable[..., Case]
) -> None:
    earlier = submitted()
    client = signed_in(citizen)
    on_file = client.get(f"{CASES}{earlier.number}/").json()["materials"][1]
    draft = client.post(DRAFTS, {"item": item.implementation_code}, format="json").json()
    assert on_file["id"] in [m["id"] for m in draft["reusable"]]
    reused = client.post(f"{DRAFTS}{draft['id']}/materials/", {"slot": 1, "reuse": on_file["id"]}, format="json")
    assert reused.status_code == 201
    assert reused.json()["provenance"]["code"] == "reuse"
    assert MaterialFile.objects.count() == 2  # nothing uploaded twice


def test_others_never_reach_a_draft(citizen: User, agent: User, item: ItemVersion) -> None:
    draft = services.start_application(actor=citizen, version=item)
    other = signed_in(agent)
    url = f"{DRAFTS}{draft.pk}/"
    assert other.get(url).status_code == 404
    assert other.patch(url, {"data": {"address": "x"}}, format="json").status_code == 404
    assert other.post(f"{url}materials/", {"slot": 1, "pledge": True}, format="json").status_code == 404
    assert other.post(f"{url}submit/", format="json", HTTP_IDEMPOTENCY_KEY=new_key()).status_code == 404
    assert other.delete(url).status_code == 404
    assert Case.objects.get(pk=draft.pk).status == CaseStatus.DRAFT and not draft.materials.exists()


def test_a_draft_can_be_discarded(citizen: User, item: ItemVersion) -> None:
    draft = services.start_application(actor=citizen, version=item)
    client = signed_in(citizen)
    assert [d["item_name"] for d in client.get(DRAFTS).json()["results"]] == [item.name]
    assert client.delete(f"{DRAFTS}{draft.pk}/").status_code == 204
    assert not Case.objects.exists()


def test_identifiers_in_someone_elses_filing_are_masked(agent: User, enterprise_rep: User, item: ItemVersion) -> None:
    """The representative sees the enterprise's draft, but not the agent's ID and phone numbers in it."""
    agency = Agency.objects.get(agent=agent)
    draft = signed_in(agent).post(DRAFTS, {"item": item.implementation_code, "agency": agency.pk}, format="json")
    assert draft.status_code == 201
    assert draft.json()["data"]["applicant_id_number"] == PEOPLE["agent"].id_number  # the filer's own
    seen = signed_in(enterprise_rep).get(f"{DRAFTS}{draft.json()['id']}/").json()["data"]
    number, phone = PEOPLE["agent"].id_number, PEOPLE["agent"].phone
    assert seen["applicant_id_number"] == number[:4] + "*" * 10 + number[-4:]
    assert seen["phone"] == phone[:3] + "****" + phone[-4:]


# --- corrections ----------------------------------------------------------------------------------------------


def test_corrections_are_made_through_the_draft_endpoints_then_resubmitted(
    citizen: User, clerk: User, submitted: Callable[..., Case]
) -> None:
    case = submitted()
    services.request_correction(actor=clerk, case=case, problems=[Problem("签名缺失", slot=0)])
    client = signed_in(citizen)
    page = client.get(f"{CASES}{case.number}/", HTTP_ACCEPT_LANGUAGE="en").json()
    assert page["status"]["code"] == "correction"
    assert page["next"]["problems"] == [{"subject": "个体工商户登记（备案）申请书", "reason": "签名缺失"}]
    assert page["next"]["actions"] == ["edit", "resubmit", "withdraw"]
    assert page["next"]["draft_id"] == case.pk
    draft_url = f"{DRAFTS}{page['next']['draft_id']}/"
    assert client.get(draft_url).json()["number"] == case.number
    replaced = client.post(
        f"{draft_url}materials/", {"slot": 0, "file": pdf("signed.pdf", b"signed")}, format="multipart"
    )
    assert replaced.status_code == 201 and replaced.json()["round"] == 2
    response = client.post(f"{CASES}{case.number}/resubmit/", format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"]["code"] == "submitted"
    assert [n["kind"]["code"] for n in body["notices"]] == ["receipt", "correction", "receipt"]
    assert [m["round"] for m in body["materials"]] == [2, 1]
    again = client.post(f"{CASES}{case.number}/resubmit/", format="json")
    assert again.status_code == 409


def test_resubmitting_an_invalid_form_is_refused_per_field(
    citizen: User, clerk: User, submitted: Callable[..., Case]
) -> None:
    case = submitted()
    services.request_correction(actor=clerk, case=case, problems=[Problem("电话号码有误", field="phone")])
    client = signed_in(citizen)
    client.patch(f"{DRAFTS}{case.pk}/", {"data": {"phone": "wrong"}}, format="json")
    response = client.post(f"{CASES}{case.number}/resubmit/", format="json")
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["errors"]] == ["phone"]
    assert Case.objects.get(pk=case.pk).status == CaseStatus.CORRECTION


def test_my_cases_cost_the_same_queries_for_one_case_or_many(citizen: User, submitted: Callable[..., Case]) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = signed_in(citizen)
    submitted()
    with CaptureQueriesContext(connection) as one:
        assert client.get(CASES).json()["count"] == 1
    submitted()
    submitted()
    with CaptureQueriesContext(connection) as three:
        assert client.get(CASES).json()["count"] == 3
    assert len(three) == len(one)
