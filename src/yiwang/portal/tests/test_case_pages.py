"""The applicant's case pages through the test client: apply, the draft editor, my cases, a case, its notices
and materials, persona by persona, in both languages.

Time is fixed on Friday 2025-09-26 (as in the cases tests), a day the working-day calendar covers. Chinese
expectations are computed with ``gettext`` under zh-Hans, so they hold before and after the catalogue is
translated; English pages are checked against literal English text.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterator
from html import unescape
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.utils import translation
from django.utils.translation import gettext

from yiwang.cases import services
from yiwang.cases.constants import CaseStatus, NoticeKind, Provenance, TrustLevel
from yiwang.cases.models import Case, CaseMaterial, CaseTransition, MaterialFile, Notice
from yiwang.cases.services import Problem
from yiwang.cases.tests.conftest import FRIDAY_BEFORE_NATIONAL_DAY, PDF, SHANGHAI, pdf, start
from yiwang.catalogue.models import ItemVersion
from yiwang.identity.acting import SESSION_KEY
from yiwang.identity.models import Agency
from yiwang.identity.tests.people import ENTERPRISE

pytestmark = pytest.mark.django_db


# --- helpers and fixtures -----------------------------------------------------------------------------


def zh(message: str) -> str:
    with translation.override("zh-hans"):
        return gettext(message)


def html(response: Any, status: int = 200) -> str:
    assert response.status_code == status, (response.status_code, response.get("Location"))
    return unescape(response.content.decode())


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture(autouse=True)
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(FRIDAY_BEFORE_NATIONAL_DAY, tick=True) as traveller:
        yield traveller


@pytest.fixture
def item(published: Callable[..., ItemVersion]) -> ItemVersion:
    """个体工商户登记 of department A: promised 3, statutory 15 working days; two required materials, the second
    (经营者身份证明) issued by the government, so it may be pledged, and held in the shared population data."""
    return published()


def _submitted(actor: User, version: ItemVersion, **kwargs: Any) -> Case:
    case = start(actor, version, **kwargs)
    services.attach_material(actor=actor, case=case, slot=0, upload=pdf("application.pdf", b"a"))
    services.attach_material(actor=actor, case=case, slot=1, upload=pdf("id.pdf", b"b"))
    return services.submit(actor=actor, case=case)


@pytest.fixture
def submitted(citizen: User, item: ItemVersion) -> Case:
    return _submitted(citizen, item)


@pytest.fixture
def draft(citizen: User, item: ItemVersion) -> Case:
    return start(citizen, item)


def _form(case: Case, **changes: Any) -> dict[str, Any]:
    """The editor's form as a browser posts it: the draft's data, the delivery choice and an idempotency key."""
    data = {**case.data, "delivery_method": "electronic", "delivery_address": "", "idempotency_key": "key-1"}
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def _urls(case: Case) -> list[str]:
    """Every page and download of the applicant side for one submitted case (and the notice and material)."""
    notice = case.notices.get(kind=NoticeKind.RECEIPT)
    material = case.materials.first()
    assert material is not None
    return [
        "/my/cases/",
        f"/my/cases/{case.number}/",
        f"/my/cases/{case.number}/notices/{notice.number}.pdf",
        f"/my/cases/{case.number}/materials/{material.pk}/",
    ]


# --- access -------------------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(client: Client, submitted: Case, draft: Case) -> None:
    for url in [*_urls(submitted), f"/my/cases/drafts/{draft.pk}/"]:
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/login/?next="), url
    for url in [
        f"/my/cases/drafts/{draft.pk}/save/",
        f"/my/cases/drafts/{draft.pk}/submit/",
        f"/my/cases/drafts/{draft.pk}/material/",
        f"/my/cases/{submitted.number}/withdraw/",
        f"/items/{submitted.version.implementation_code}/apply/",
    ]:
        response = client.post(url)
        assert response.status_code == 302 and "/login/" in response["Location"], url
    assert Case.objects.get(pk=draft.pk).status == CaseStatus.DRAFT


def test_another_citizen_finds_nothing(enterprise_rep: User, submitted: Case, draft: Case) -> None:
    services.attach_material(actor=draft.applicant, case=draft, slot=0, upload=pdf("mine.pdf"))
    material = draft.materials.get()
    other = signed_in(enterprise_rep)
    for url in [
        *_urls(submitted)[1:],
        f"/my/cases/drafts/{draft.pk}/",
        f"/my/cases/drafts/{draft.pk}/materials/{material.pk}/",
    ]:
        assert other.get(url).status_code == 404, url
    posts = {
        f"/my/cases/drafts/{draft.pk}/save/": _form(draft, applicant_name="冒名"),
        f"/my/cases/drafts/{draft.pk}/submit/": _form(draft),
        f"/my/cases/drafts/{draft.pk}/material/": {"action": "remove", "slot": "0"},
        f"/my/cases/drafts/{draft.pk}/discard/": {},
        f"/my/cases/{submitted.number}/withdraw/": {"reason": "不想办了"},
    }
    for url, data in posts.items():
        assert other.post(url, data).status_code == 404, url
    assert draft.materials.get() == material
    assert Case.objects.get(pk=draft.pk).data == draft.data
    assert Case.objects.get(pk=submitted.pk).status == CaseStatus.SUBMITTED
    # Their own list does not show it either.
    assert str(submitted.number) not in html(other.get("/en/my/cases/"))


def test_staff_are_told_the_applicant_pages_do_not_exist(
    clerk: User, staff_client: Callable[[User], Client], submitted: Case, draft: Case
) -> None:
    staff = staff_client(clerk)
    for url in [*_urls(submitted), f"/my/cases/drafts/{draft.pk}/", f"/my/bundles/{submitted.number}/"]:
        assert staff.get(url).status_code == 404, url
    assert staff.post(f"/my/cases/{submitted.number}/withdraw/").status_code == 404
    assert Case.objects.get(pk=submitted.pk).status == CaseStatus.SUBMITTED
    # The guide offers staff no application, and the service refuses one posted anyway.
    code = submitted.version.implementation_code
    assert "Apply online" not in html(staff.get(f"/en/items/{code}/"))
    refused = staff.post(f"/en/items/{code}/apply/")
    assert refused.status_code == 302 and refused["Location"] == f"/en/items/{code}/"
    assert "Only a verified person can apply." in html(staff.get(refused["Location"]))
    assert Case.objects.count() == 2


# --- my cases and the case page ------------------------------------------------------------------------


def test_my_cases_lists_cases_and_drafts_in_both_languages(
    citizen: User, item: ItemVersion, submitted: Case, draft: Case
) -> None:
    client = signed_in(citizen)
    english = html(client.get("/en/my/cases/"))
    assert "<h1>My cases</h1>" in english
    assert str(submitted.number) in english and "Awaiting pre-review" in english
    assert "Drafts" in english and f"/en/my/cases/drafts/{draft.pk}/" in english
    # The pre-review window runs 5 working days across National Day: due Oct 10, on time today.
    assert "2025-10-10" in english and "On time" in english
    assert "Nothing to do: the department pre-reviews your application by 2025-10-10." in english
    chinese = html(client.get("/my/cases/"))
    assert 'lang="zh-Hans"' in chinese
    assert zh("My cases") in chinese and zh("Drafts") in chinese and zh("What to do next") in chinese
    assert str(submitted.number) in chinese
    # The header links here for signed-in people.
    assert 'href="/my/cases/"' in html(client.get("/account/"))


def test_my_cases_pages_25_at_a_time(citizen: User, item: ItemVersion, submitted: Case) -> None:
    data = submitted.data
    for key in range(25):
        services.apply(actor=citizen, version=item, data=data, idempotency_key=f"bulk-{key}")
    client = signed_in(citizen)
    first = html(client.get("/en/my/cases/"))
    assert "Page 1 of 2" in first and str(submitted.number) not in first  # newest first: the first case is on page 2
    second = html(client.get("/en/my/cases/?page=2"))
    assert str(submitted.number) in second


def test_the_case_page_shows_everything_the_applicant_needs(citizen: User, clerk: User, submitted: Case) -> None:
    services.accept(actor=clerk, case=submitted)
    client = signed_in(citizen)
    page = html(client.get(f"/en/my/cases/{submitted.number}/"))
    assert "In progress" in page and str(submitted.number) in page
    assert "杭州市西湖区市场监督管理局" in page  # the accepting department, also as who accepted it
    # Dates: received and accepted today; promised 3 working days later (Sunday 28th is worked, 调休),
    # statutory 15 working days later across National Day.
    assert "Received on" in page and "Accepted on" in page and "2025-09-26" in page
    assert "Promised decision date" in page and "2025-09-30" in page and "On time" in page
    assert "Statutory decision date" in page and "2025-10-23" in page
    assert "Pre-review due" not in page
    # The progress diagram: application and acceptance done, the review current.
    assert '<svg class="case-flow-diagram"' in page
    assert page.count('class="node node-done"') == 2 and page.count('class="node node-current"') == 1
    assert 'Review <span class="step-state">(current step)</span>' in page
    # The timeline names the department, never the clerk.
    assert (
        "<strong>Accept</strong> · <span>杭州市西湖区市场监督管理局</span>" in page and clerk.get_username() not in page
    )
    assert "You" in page
    # Notices (receipt and acceptance) with PDF links; materials with their trust level.
    receipt = submitted.notices.get(kind=NoticeKind.RECEIPT)
    assert f"/en/my/cases/{submitted.number}/notices/{receipt.number}.pdf" in page
    assert "Notice of acceptance" in page
    assert "application.pdf" in page and "C: uploaded by the applicant" in page
    assert "Withdraw the application" in page
    chinese = html(client.get(f"/my/cases/{submitted.number}/"))
    assert zh("Progress") in chinese and zh("What to do next") in chinese and zh("In progress") in chinese


def test_an_overdue_case_shows_red_with_words(
    citizen: User, clerk: User, submitted: Case, clock: time_machine.Traveller
) -> None:
    services.accept(actor=clerk, case=submitted)
    clock.move_to(dt.datetime(2025, 10, 15, 10, 0, tzinfo=SHANGHAI))
    page = html(signed_in(citizen).get(f"/en/my/cases/{submitted.number}/"))
    assert 'class="deadline deadline-red"' in page and "Overdue" in page


def test_the_owner_withdraws_after_confirming(citizen: User, submitted: Case) -> None:
    client = signed_in(citizen)
    assert client.get(f"/my/cases/{submitted.number}/withdraw/").status_code == 405
    response = client.post(f"/en/my/cases/{submitted.number}/withdraw/", {"reason": "不需要了"})
    assert response.status_code == 302 and response["Location"] == f"/en/my/cases/{submitted.number}/"
    submitted.refresh_from_db()
    assert submitted.status == CaseStatus.WITHDRAWN
    page = html(client.get(response["Location"]))
    assert f"Your application {submitted.number} is withdrawn." in page
    assert "Withdraw the application" not in page and "ended here" in page and "不需要了" in page
    again = client.post(f"/en/my/cases/{submitted.number}/withdraw/")
    assert "it is not possible to withdraw now" in html(client.get(again["Location"]))


# --- notices and materials -----------------------------------------------------------------------------


def test_the_notice_pdf_is_for_the_owner_only(citizen: User, enterprise_rep: User, submitted: Case) -> None:
    notice = submitted.notices.get(kind=NoticeKind.RECEIPT)
    url = f"/my/cases/{submitted.number}/notices/{notice.number}.pdf"
    response = signed_in(citizen).get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert response["Content-Disposition"] == f'inline; filename="{notice.number}.pdf"'
    english = signed_in(citizen).get(f"/en{url}")
    assert english.content.startswith(b"%PDF") and english.content != response.content  # in the page's language
    assert signed_in(enterprise_rep).get(url).status_code == 404
    assert signed_in(citizen).get(f"/my/cases/{submitted.number}/notices/RC0-1.pdf").status_code == 404


def test_a_supervision_notice_is_not_the_applicants(citizen: User, submitted: Case) -> None:
    receipt = submitted.notices.get(kind=NoticeKind.RECEIPT)
    internal = Notice.objects.create(
        case=submitted, kind=NoticeKind.SUPERVISION, number=f"SV{submitted.number}-1", content=receipt.content
    )
    client = signed_in(citizen)
    assert client.get(f"/my/cases/{submitted.number}/notices/{internal.number}.pdf").status_code == 404
    assert internal.number not in html(client.get(f"/my/cases/{submitted.number}/"))


def test_a_material_downloads_for_the_owner_only(citizen: User, enterprise_rep: User, submitted: Case) -> None:
    material = submitted.materials.get(slot=0)
    url = f"/my/cases/{submitted.number}/materials/{material.pk}/"
    response = signed_in(citizen).get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF + b"a"  # type: ignore[attr-defined]
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"].startswith("attachment;")
    assert signed_in(enterprise_rep).get(url).status_code == 404
    # Another case's material through this case's URL is not found either.
    other = _submitted(enterprise_rep, submitted.version)
    foreign = other.materials.get(slot=0)
    assert signed_in(citizen).get(f"/my/cases/{submitted.number}/materials/{foreign.pk}/").status_code == 404


# --- applying and the draft editor ----------------------------------------------------------------------


def test_apply_opens_a_prefilled_draft(citizen: User, item: ItemVersion) -> None:
    client = signed_in(citizen)
    guide = html(client.get(f"/en/items/{item.implementation_code}/"))
    assert f'action="/en/items/{item.implementation_code}/apply/"' in guide and "Apply online" in guide
    response = client.post(f"/en/items/{item.implementation_code}/apply/")
    case = Case.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/en/my/cases/drafts/{case.pk}/"
    page = html(client.get(response["Location"]))
    assert "Application draft" in page and "张三" in page  # pre-filled from the population register
    assert 'name="idempotency_key"' in page and 'accept=".pdf,.jpg,.jpeg,.png,.ofd"' in page
    # 经营者身份证明 is issued by the government: it may be pledged, and the shared data holds it.
    assert page.count("Pledge instead of providing it") == 1
    assert "Once the data-sharing service is connected" in page
    chinese = html(client.get(f"/my/cases/drafts/{case.pk}/"))
    assert zh("Application draft") in chinese and zh("Save draft") in chinese


def test_visitors_are_asked_to_sign_in_to_apply(client: Client, item: ItemVersion) -> None:
    guide = html(client.get(f"/en/items/{item.implementation_code}/"))
    assert "Sign in to apply online" in guide and "csrfmiddlewaretoken" not in guide
    assert not Case.objects.exists()


def test_an_unverified_person_is_told_why_on_the_guide(unverified: User, item: ItemVersion) -> None:
    client = signed_in(unverified)
    response = client.post(f"/en/items/{item.implementation_code}/apply/")
    assert response.status_code == 302 and response["Location"] == f"/en/items/{item.implementation_code}/"
    assert "Only a verified person can apply." in html(client.get(response["Location"]))
    assert not Case.objects.exists()


def test_apply_for_an_item_not_in_force_is_not_found(citizen: User) -> None:
    assert signed_in(citizen).post("/en/items/NOSUCHCODE/apply/").status_code == 404


def test_save_draft_without_script_and_autosave_with_it(citizen: User, draft: Case) -> None:
    client = signed_in(citizen)
    url = f"/en/my/cases/drafts/{draft.pk}/save/"
    response = client.post(url, _form(draft, address="浙江省杭州市西湖区文三路2号"))
    assert response.status_code == 302
    assert "Your draft was saved at 10:0" in html(client.get(response["Location"]))
    assert Case.objects.get(pk=draft.pk).data["address"] == "浙江省杭州市西湖区文三路2号"
    auto = client.post(url, _form(draft, address="三号"), HTTP_X_REQUESTED_WITH="fetch")
    answer = json.loads(auto.content)
    assert auto.status_code == 200 and answer["saved"] is True and answer["message"].startswith("Saved at 10:0")
    assert Case.objects.get(pk=draft.pk).data["address"] == "三号"


def test_mail_without_an_address_keeps_the_form_and_says_so(citizen: User, draft: Case) -> None:
    client = signed_in(citizen)
    url = f"/en/my/cases/drafts/{draft.pk}/save/"
    auto = client.post(url, _form(draft, address="四号", delivery_method="mail"), HTTP_X_REQUESTED_WITH="fetch")
    answer = json.loads(auto.content)
    assert answer["saved"] is True and "Enter the address the result is mailed to." in answer["message"]
    stored = Case.objects.get(pk=draft.pk)
    assert stored.data["address"] == "四号" and stored.delivery_method == "electronic"
    page = html(client.post(url, _form(draft, delivery_method="mail")))
    assert 'id="delivery-address-error"' in page and 'href="#delivery-address"' in page
    saved = client.post(url, _form(draft, delivery_method="mail", delivery_address="杭州市文三路1号"))
    assert saved.status_code == 302
    stored.refresh_from_db()
    assert (stored.delivery_method, stored.delivery_address) == ("mail", "杭州市文三路1号")


def test_a_bad_form_shows_each_problem_beside_its_field_and_submits_nothing(citizen: User, draft: Case) -> None:
    services.attach_material(actor=citizen, case=draft, slot=0, upload=pdf())
    client = signed_in(citizen)
    page = html(client.post(f"/en/my/cases/drafts/{draft.pk}/submit/", _form(draft, address="", phone="12345")))
    assert 'class="error-summary"' in page and "The form has 2 problem(s)" in page
    assert 'id="field-phone-error"' in page and 'id="field-address-error"' in page
    assert 'href="#field-phone"' in page and 'href="#field-address"' in page
    assert "This field is required." in page
    case = Case.objects.get(pk=draft.pk)
    assert case.status == CaseStatus.DRAFT and case.number is None
    assert not Notice.objects.exists() and not CaseTransition.objects.exists()
    # What was typed stays on the page and in the draft, to be corrected.
    assert 'value="12345"' in page and case.data["phone"] == "12345"


def test_submit_twice_with_one_key_makes_one_case(citizen: User, draft: Case) -> None:
    client = signed_in(citizen)
    url = f"/en/my/cases/drafts/{draft.pk}/submit/"
    form = _form(draft, idempotency_key="same-key")
    first = client.post(url, form)
    case = Case.objects.get(pk=draft.pk)
    assert case.status == CaseStatus.SUBMITTED and case.number
    assert first.status_code == 302 and first["Location"] == f"/en/my/cases/{case.number}/"
    again = client.post(url, form)
    assert again.status_code == 302 and again["Location"] == first["Location"]
    assert Case.objects.exclude(status=CaseStatus.DRAFT).count() == 1
    assert case.notices.count() == 1 and case.transitions.count() == 1
    page = html(client.get(again["Location"]))
    assert f"Your application is submitted. Its case number is {case.number}." in page
    # The editor of a submitted case goes to the case page.
    assert client.get(f"/en/my/cases/drafts/{draft.pk}/")["Location"] == first["Location"]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("virus.pdf", b"MZ\x90\x00 this is a windows program", "Upload a PDF, JPEG, PNG or OFD file"),
        ("page.pdf", b"<html><script>alert(1)</script></html>", "Upload a PDF, JPEG, PNG or OFD file"),
        ("empty.pdf", b"", "The file is empty."),
    ],
)
def test_a_disguised_or_empty_upload_is_refused_with_its_reason(
    citizen: User, draft: Case, name: str, content: bytes, message: str
) -> None:
    client = signed_in(citizen)
    response = client.post(
        f"/en/my/cases/drafts/{draft.pk}/material/",
        {"action": "upload", "slot": "0", "file": SimpleUploadedFile(name, content)},
    )
    assert response.status_code == 302 and response["Location"].endswith("#material-0")
    page = html(client.get(response["Location"]))
    assert message in page and "个体工商户登记（备案）申请书: " in page
    assert not CaseMaterial.objects.exists() and not MaterialFile.objects.exists()


@override_settings(YIWANG_MATERIAL_MAX_BYTES=1024)
def test_an_oversized_upload_is_refused(citizen: User, draft: Case) -> None:
    client = signed_in(citizen)
    response = client.post(
        f"/en/my/cases/drafts/{draft.pk}/material/",
        {"action": "upload", "slot": "0", "file": pdf(body=b"x" * 4096)},
    )
    assert "the limit is 0 MB." in html(client.get(response["Location"]))
    assert not CaseMaterial.objects.exists()


def test_no_file_or_no_such_slot_is_refused(citizen: User, draft: Case) -> None:
    client = signed_in(citizen)
    url = f"/en/my/cases/drafts/{draft.pk}/material/"
    page = html(client.get(client.post(url, {"action": "upload", "slot": "0"})["Location"]))
    assert "Choose a file to upload." in page
    page = html(client.get(client.post(url, {"action": "upload", "slot": "9", "file": pdf()})["Location"]))
    assert "This item has no such material." in page
    page = html(client.get(client.post(url, {"action": "explode", "slot": "0"})["Location"]))
    assert "Choose what to do with the material." in page
    assert not CaseMaterial.objects.exists()


def test_upload_pledge_reuse_and_remove(citizen: User, item: ItemVersion, submitted: Case, draft: Case) -> None:
    client = signed_in(citizen)
    url = f"/en/my/cases/drafts/{draft.pk}/material/"
    client.post(url, {"action": "upload", "slot": "0", "file": pdf("mine.pdf", b"new")})
    material = draft.materials.get(slot=0)
    assert material.provenance == Provenance.UPLOAD and material.file is not None
    page = html(client.get(f"/en/my/cases/drafts/{draft.pk}/"))
    assert "mine.pdf" in page and f"/en/my/cases/drafts/{draft.pk}/materials/{material.pk}/" in page
    assert client.get(f"/my/cases/drafts/{draft.pk}/materials/{material.pk}/").status_code == 200
    # A pledge needs the box ticked; the first material (the applicant's own form) cannot be pledged at all.
    unticked = client.post(url, {"action": "pledge", "slot": "1"})
    assert "Tick the box to make the pledge." in html(client.get(unticked["Location"]))
    refused = client.post(url, {"action": "pledge", "slot": "0", "confirm": "yes"})
    assert "cannot be replaced by a pledge" in html(client.get(refused["Location"]))
    client.post(url, {"action": "pledge", "slot": "1", "confirm": "yes"})
    assert draft.materials.get(slot=1).trust_level == TrustLevel.D
    # Reuse the earlier case's application form: offered on the page, kept at its level.
    earlier = submitted.materials.get(slot=0)
    assert f'<option value="{earlier.pk}">' in html(client.get(f"/en/my/cases/drafts/{draft.pk}/"))
    client.post(url, {"action": "reuse", "slot": "0", "material": str(earlier.pk)})
    reused = draft.materials.get(slot=0)
    assert reused.provenance == Provenance.REUSE and reused.file_id == earlier.file_id
    client.post(url, {"action": "remove", "slot": "0"})
    assert not draft.materials.filter(slot=0).exists()


def test_discard_a_draft(citizen: User, draft: Case) -> None:
    client = signed_in(citizen)
    response = client.post(f"/en/my/cases/drafts/{draft.pk}/discard/")
    assert response.status_code == 302 and response["Location"] == "/en/my/cases/"
    assert not Case.objects.filter(pk=draft.pk).exists()
    assert "is discarded" in html(client.get(response["Location"]))


# --- corrections ----------------------------------------------------------------------------------------


def test_the_applicant_sees_the_corrections_and_resubmits(citizen: User, clerk: User, submitted: Case) -> None:
    services.request_correction(
        actor=clerk, case=submitted, problems=[Problem("签名缺失", slot=0), Problem("电话号码有误", field="phone")]
    )
    client = signed_in(citizen)
    case_page = html(client.get(f"/en/my/cases/{submitted.number}/"))
    assert "Awaiting corrections" in case_page and f"/en/my/cases/drafts/{submitted.pk}/" in case_page
    assert "签名缺失" in case_page
    editor = html(client.get(f"/en/my/cases/drafts/{submitted.pk}/"))
    assert "The department asks for these corrections" in editor
    assert "签名缺失" in editor and "电话号码有误" in editor and "To correct: 签名缺失" in editor
    assert "Resubmit with the corrections" in editor
    client.post(
        f"/en/my/cases/drafts/{submitted.pk}/material/",
        {"action": "upload", "slot": "0", "file": pdf("signed.pdf", b"signed")},
    )
    response = client.post(f"/en/my/cases/drafts/{submitted.pk}/submit/", _form(submitted, phone="13900000001"))
    assert response.status_code == 302 and response["Location"] == f"/en/my/cases/{submitted.number}/"
    submitted.refresh_from_db()
    assert submitted.status == CaseStatus.SUBMITTED and submitted.round == 2
    assert submitted.data["phone"] == "13900000001"
    assert submitted.transitions.get(action="resubmit").details["changed_slots"] == [0]
    page = html(client.get(response["Location"]))
    assert "Your corrections are sent." in page and "<strong>Resubmit</strong> · <span>You</span>" in page
    # Sent again: nothing more happens.
    again = client.post(f"/en/my/cases/drafts/{submitted.pk}/submit/", _form(submitted))
    assert "already been submitted" in html(client.get(again["Location"]))
    assert submitted.transitions.filter(action="resubmit").count() == 1


# --- acting for an enterprise ---------------------------------------------------------------------------


def test_an_agent_acting_for_the_enterprise_applies_for_it(
    agent: User, enterprise_rep: User, item: ItemVersion
) -> None:
    client = signed_in(agent)
    agency = Agency.objects.get(agent=agent)
    session = client.session
    session[SESSION_KEY] = agency.pk
    session.save()
    response = client.post(f"/en/items/{item.implementation_code}/apply/")
    case = Case.objects.get()
    assert response["Location"] == f"/en/my/cases/drafts/{case.pk}/"
    assert case.enterprise is not None and case.enterprise.uscc == ENTERPRISE.uscc and case.agency_id == agency.pk
    assert case.applicant_name == ENTERPRISE.name
    assert ENTERPRISE.name in html(client.get(response["Location"]))
    client.post(f"/en/my/cases/drafts/{case.pk}/material/", {"action": "upload", "slot": "0", "file": pdf()})
    form = _form(case, address="浙江省杭州市西湖区文三路1号")
    submitted = client.post(f"/en/my/cases/drafts/{case.pk}/submit/", form)
    case.refresh_from_db()
    assert submitted.status_code == 302 and case.status == CaseStatus.SUBMITTED
    # The representative sees the enterprise's case, filed by the agent (named, masked).
    page = html(signed_in(enterprise_rep).get(f"/en/my/cases/{case.number}/"))
    assert ENTERPRISE.name in page and "Agent 李*" in page


def test_timeline_and_progress_of_a_decided_case(citizen: User, clerk: User, reviewer_a: User, submitted: Case) -> None:
    from yiwang.cases.constants import Outcome, StepCode, TaskStatus

    services.accept(actor=clerk, case=submitted)
    services.complete_step(
        actor=reviewer_a,
        task=submitted.tasks.get(step_code=StepCode.REVIEW, status=TaskStatus.OPEN),
        opinion="材料齐全，符合条件",
    )
    services.decide(
        actor=reviewer_a,
        task=submitted.tasks.get(step_code=StepCode.DECIDE, status=TaskStatus.OPEN),
        outcome=Outcome.APPROVED,
    )
    page = html(signed_in(citizen).get(f"/en/my/cases/{submitted.number}/"))
    assert "Delivered" in page and "Approved" in page and "Decision to approve" in page
    assert page.count('class="node node-done"') == 6 and "node-current" not in page
    assert "材料齐全，符合条件" in page
    for staff in (clerk, reviewer_a):
        assert staff.get_username() not in page
    assert re.search(r"Done: the decision has reached you", page)


def test_my_cases_costs_the_same_queries_for_few_or_many_cases(
    citizen: User, item: ItemVersion, submitted: Case
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = signed_in(citizen)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/en/my/cases/").status_code == 200
        return len(captured)

    client.get("/en/my/cases/")  # sessions and caches warm
    few = queries()
    for key in range(4):
        services.apply(actor=citizen, version=item, data=submitted.data, idempotency_key=f"more-{key}")
    assert queries() == few


# --- deadline states (cases.progress) --------------------------------------------------------------------


def test_a_paused_time_limit_is_said_not_coloured(
    citizen: User, clerk: User, reviewer_a: User, published: Callable[..., ItemVersion], clock: time_machine.Traveller
) -> None:
    item = published(special_procedures=[{"name": "现场核查", "kind": "2", "counts_in_time_limit": False}])
    case = _submitted(citizen, item)
    services.accept(actor=clerk, case=case)
    case.refresh_from_db()
    services.start_special_procedure(actor=reviewer_a, case=case, name="现场核查", reason="核查经营场所")
    clock.move_to(dt.datetime(2025, 10, 20, 10, 0, tzinfo=SHANGHAI))  # the stored promised date has passed
    client = signed_in(citizen)
    page = html(client.get(f"/en/my/cases/{case.number}/"))
    assert "Time limit paused since" in page and '<span class="deadline-label">Time limit paused</span>' in page
    assert "deadline-red" not in page and "Overdue" not in page
    listed = html(client.get("/en/my/cases/"))
    assert "Promised by" in listed and "Time limit paused" in listed and "Overdue" not in listed


def test_while_corrections_are_awaited_the_pre_review_waits(citizen: User, clerk: User, submitted: Case) -> None:
    services.request_correction(actor=clerk, case=submitted, problems=[Problem("签名缺失", slot=0)])
    listed = html(signed_in(citizen).get("/en/my/cases/"))
    assert "Pre-review due" in listed and '<span class="deadline-label">Time limit paused</span>' in listed


def test_without_calendar_cover_an_overdue_date_is_still_marked(
    citizen: User, submitted: Case, clock: time_machine.Traveller
) -> None:
    clock.move_to(dt.datetime(2099, 6, 1, 10, 0, tzinfo=SHANGHAI))  # no holiday notice covers 2099 yet
    page = html(signed_in(citizen).get(f"/en/my/cases/{submitted.number}/"))
    assert 'class="deadline deadline-red"' in page and "Overdue" in page
