"""Cases end to end in a real browser (issue 4).

A citizen applies online for a 承诺件, gets ONE correction notice listing two problems, fixes both and resubmits;
the window clerk accepts, the reviewer reviews and (as approver) decides, and the citizen sees the result. Then
a joint item (联办): two departments review in parallel and the decision opens only when both are done.

Every person has their own browser context (own cookies, so own session); staff sign in with the TOTP second
factor, the code computed here as their authenticator app would. The clock is fixed (ticking) on Friday
2025-09-26 for the whole process, the live server's thread included, because deadlines need a year the
working-day calendar covers; it is the cases tests' date, so every deadline crosses the National Day holiday.
Setup and fixtures: browser.py and conftest.py in this folder.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import User
from django.utils import translation
from django.utils.translation import gettext
from pypdf import PdfReader

from yiwang.cases import services
from yiwang.cases.constants import CaseStatus, NoticeKind, Outcome, StepCode, TaskStatus
from yiwang.cases.models import Case, CaseTask
from yiwang.cases.tests.conftest import FRIDAY_BEFORE_NATIONAL_DAY, pdf, start
from yiwang.catalogue.models import ItemVersion, Organisation
from yiwang.catalogue.tests.factories import OTHER_BODY_USCC
from yiwang.conftest import PASSWORD
from yiwang.identity.tests.people import PEOPLE
from yiwang.portal.tests.browser import ARTIFACTS, TIMEOUT_MS, VIEWPORT, require_chromium

require_chromium()

from django_otp.oath import totp  # noqa: E402 - after the skip, like the Playwright import
from django_otp.plugins.otp_totp.models import TOTPDevice  # noqa: E402
from playwright.sync_api import Browser, Locator, Page, expect  # noqa: E402

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
ADDRESS = "浙江省杭州市西湖区文三路1号"
# Friday 2025-09-26 plus working days, across the holiday (Oct 1–8 off; Sun Sep 28 and Sat Oct 11 worked).
PRE_REVIEW_DUE = dt.date(2025, 10, 10)  # 5 working days
PROMISED_DUE = dt.date(2025, 9, 30)  # 3 working days
STATUTORY_DUE = dt.date(2025, 10, 23)  # 15 working days


def zh(message: str) -> str:
    """A message as the Chinese pages show it (its msgid until the zh-Hans catalogue has it)."""
    with translation.override("zh-hans"):
        return gettext(message)


@pytest.fixture(autouse=True)
def clock() -> Iterator[time_machine.Traveller]:
    # time_machine patches the process, so the live server's thread runs on this clock too. The browser keeps
    # the real date: Django's cookies carry Max-Age, which Chromium prefers to their (past) Expires date.
    with time_machine.travel(FRIDAY_BEFORE_NATIONAL_DAY, tick=True) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def _artifacts() -> None:
    ARTIFACTS.mkdir(exist_ok=True)


@pytest.fixture
def third_page(browser: Browser) -> Iterator[Page]:
    """A third person's browser (conftest.py gives two)."""
    context = browser.new_context(viewport=VIEWPORT, locale="zh-CN")  # type: ignore[arg-type]
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def pdfs(tmp_path: Path) -> Callable[[str, bytes], Path]:
    """A small PDF file on disk to choose in a file input; a different ``body`` makes a different file."""

    def write(name: str, body: bytes) -> Path:
        path = tmp_path / name
        path.write_bytes(PDF + body)
        return path

    return write


# --- signing in and the pages' parts ----------------------------------------------------------------------


def sign_in(page: Page, base: str, login: str, *, next_path: str = "") -> None:
    page.goto(f"{base}/login/" + (f"?next={next_path}" if next_path else ""))
    page.get_by_label(zh("ID number or staff user name")).fill(login)
    page.get_by_label(zh("Password"), exact=True).fill(PASSWORD)
    page.locator("form.stack-form button[type=submit]").click()


def sign_in_staff(page: Page, base: str, user: User, *, next_path: str = "/workbench/queue/") -> None:
    """Password, then the six-digit code of the staff member's authenticator (enrolled beforehand)."""
    device, _created = TOTPDevice.objects.get_or_create(user=user, defaults={"name": "phone", "confirmed": True})
    sign_in(page, base, user.get_username(), next_path=next_path)
    page.wait_for_url(f"{base}/account/totp/**")
    page.get_by_label(zh("Six-digit code from the authenticator app")).fill(f"{totp(device.bin_key):06d}")
    page.get_by_role("button", name=zh("Continue")).click()
    page.wait_for_url(f"{base}{next_path}")


def flash(page: Page) -> Locator:
    return page.locator(".message-success")


def queue_rows(page: Page, number: str) -> Locator:
    """The rows of the staff member's queue for case ``number`` (one per open task of theirs)."""
    return page.locator("table.case-table tbody tr").filter(has=page.get_by_role("link", name=number, exact=True))


def upload(page: Page, slot: int, path: Path) -> None:
    """Choose ``path`` for material ``slot`` of the draft editor and upload it."""
    material = page.locator(f"#material-{slot}")
    material.locator(f"#file-{slot}").set_input_files(str(path))
    material.locator("form:has(input[name=action][value=upload]) button[type=submit]").click()
    expect(page.locator(f"#material-{slot} .material-current")).to_contain_text(path.name)


def fetch_pdf(page: Page, base: str, link: Locator) -> bytes:
    """The document behind ``link``, fetched with the page's cookies (a PDF would open a viewer, not a page)."""
    response = page.request.get(base + str(link.get_attribute("href")))
    assert response.status == 200, response.status
    assert response.headers["content-type"] == "application/pdf"
    return response.body()


def pdf_text(document: bytes) -> str:
    """The document's text without whitespace (pypdf reads reportlab's Chinese CID font; lines wrap anywhere)."""
    return "".join("".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(document)).pages)


def open_task(case: Case, step: str, department: Organisation | None = None) -> CaseTask:
    tasks = case.tasks.filter(step_code=step, status=TaskStatus.OPEN)
    return tasks.get(department=department) if department is not None else tasks.get()


def complete_in_browser(page: Page, task: CaseTask, opinion: str) -> None:
    """On the open case page: take the task, write the opinion, complete the step."""
    panel = page.locator(f"#task-{task.pk}")
    step = task.display_step("zh-hans")
    panel.get_by_role("button", name=zh("Take this task")).click()
    expect(flash(page)).to_contain_text(
        zh("You took the task “%(step)s” of case %(number)s.") % {"step": step, "number": task.case.number}
    )
    panel.get_by_label(zh("Opinion")).fill(opinion)
    panel.get_by_role("button", name=zh("Complete the step")).click()
    expect(flash(page)).to_contain_text(zh("Step “%(step)s” completed.") % {"step": step})


def decide_in_browser(page: Page, task: CaseTask) -> None:
    panel = page.locator(f"#task-{task.pk}")
    panel.get_by_label(zh("Approved")).check()
    panel.get_by_role("button", name=zh("Record the decision")).click()
    # Not just any message: the one before this (step completed) is still on the page until the answer comes.
    expect(flash(page)).to_contain_text(zh("Decision to approve"))


# --- scenario 1: a 承诺件 with one correction round ----------------------------------------------------------


@pytest.fixture
def item(published: Callable[..., ItemVersion]) -> ItemVersion:
    """个体工商户登记 of department A as a 承诺件 (promised 3, statutory 15 working days), two required materials."""
    return published()


def test_a_citizen_applies_corrects_once_and_gets_the_decision(
    page: Page,
    second_page: Page,
    third_page: Page,
    live_server: Any,
    citizen: User,
    clerk: User,
    reviewer_a: User,
    item: ItemVersion,
    pdfs: Callable[[str, bytes], Path],
) -> None:
    base = live_server.url
    person = PEOPLE["citizen"]
    slots = [m["name"] for m in item.content["materials"]]

    # 张三 signs in, opens the guide and applies online: a draft opens, pre-filled from the registers.
    applicant = page
    sign_in(applicant, base, person.id_number)
    applicant.wait_for_url(f"{base}/account/")
    applicant.goto(f"{base}/items/{item.implementation_code}/")
    applicant.get_by_role("button", name=zh("Apply online")).click()
    applicant.wait_for_url(f"{base}/my/cases/drafts/*/")
    expect(flash(applicant)).to_contain_text(zh("A draft application is open. It is saved as you type."))
    expect(applicant.locator("#field-applicant_name")).to_have_value(person.name)
    expect(applicant.locator("#field-applicant_id_number")).to_have_value(person.id_number)
    expect(applicant.locator("#field-phone")).to_have_value(person.phone)
    expect(applicant.locator("#field-address")).to_have_value("")  # the register has no address: he types it
    applicant.locator("#field-address").fill(ADDRESS)

    # Two PDFs; the first upload also saves the address typed just before it (the script flushes the autosave).
    upload(applicant, 0, pdfs("申请书.pdf", b"application"))
    expect(applicant.locator("#field-address")).to_have_value(ADDRESS)
    upload(applicant, 1, pdfs("身份证明.pdf", b"identity"))
    applicant.screenshot(path=str(ARTIFACTS / "cases-draft-zh.png"), full_page=True)
    applicant.get_by_role("button", name=zh("Submit the application")).click()

    # The case page: its number, awaiting pre-review by Friday 10 October, the receipt among the notices.
    applicant.wait_for_url(f"{base}/my/cases/*/")
    case = Case.objects.get(applicant=citizen)
    assert case.number and case.status == CaseStatus.SUBMITTED and case.data["address"] == ADDRESS
    assert case.acceptance_due == PRE_REVIEW_DUE
    expect(flash(applicant)).to_contain_text(
        zh("Your application is submitted. Its case number is %(number)s.") % {"number": case.number}
    )
    expect(applicant.locator(".case-facts")).to_contain_text(case.number)
    expect(applicant.locator(".case-facts")).to_contain_text(PRE_REVIEW_DUE.isoformat())
    expect(applicant.locator(".case-status-line")).to_contain_text(zh("Awaiting pre-review"))
    receipt = case.notices.get(kind=NoticeKind.RECEIPT)
    notices = applicant.locator("section[aria-labelledby=notices-heading] tbody tr")
    expect(notices).to_have_count(1)
    expect(notices).to_contain_text(zh("Receipt of application"))
    expect(notices).to_contain_text(receipt.number)

    # The clerk finds it in the queue, takes the pre-review and opens the case.
    window = second_page
    sign_in_staff(window, base, clerk)
    row = queue_rows(window, case.number)
    expect(row).to_contain_text(open_task(case, StepCode.ACCEPT).display_step("zh-hans"))
    row.get_by_role("button").click()  # Take
    expect(flash(window)).to_contain_text(case.number)
    expect(queue_rows(window, case.number)).to_contain_text(zh("You"))
    queue_rows(window, case.number).get_by_role("link", name=case.number).click()
    window.wait_for_url(f"{base}/workbench/cases/{case.number}/")

    # One-time notice: nothing ticked in advance (the automatic pre-review found nothing); the clerk ticks both
    # materials, each with its reason.
    correction = window.locator("#action-correction")
    expect(correction.locator("input[type=checkbox]:checked")).to_have_count(0)
    correction.locator("#problem-slot-0").check()
    correction.locator("#reason-slot-0").fill("申请书未签名")
    correction.locator("#problem-slot-1").check()
    correction.locator("#reason-slot-1").fill("身份证明复印件不清晰")
    window.screenshot(path=str(ARTIFACTS / "cases-workbench-correction-zh.png"), full_page=True)
    correction.get_by_role("button", name=zh("Issue the correction notice")).click()
    expect(flash(window)).to_be_visible()
    notice = case.notices.get(kind=NoticeKind.CORRECTION)
    expect(flash(window)).to_contain_text(
        zh("The correction notice %(number)s lists %(count)s problem(s); the applicant has been told.")
        % {"number": notice.number, "count": 2}
    )

    # 张三 reloads: awaiting corrections; the editor shows ONE notice listing both problems, and its PDF.
    applicant.reload()
    expect(applicant.locator(".case-status-line")).to_contain_text(zh("Awaiting corrections"))
    applicant.get_by_role("link", name=zh("Make the corrections")).click()
    applicant.wait_for_url(f"{base}/my/cases/drafts/{case.pk}/")
    box = applicant.locator(".correction-box")
    expect(box).to_contain_text(notice.number)
    problems = box.locator("ol.correction-list li")
    expect(problems).to_have_count(2)
    expect(problems.nth(0)).to_contain_text(slots[0])
    expect(problems.nth(0)).to_contain_text("申请书未签名")
    expect(problems.nth(1)).to_contain_text(slots[1])
    expect(problems.nth(1)).to_contain_text("身份证明复印件不清晰")
    expect(applicant.locator("#material-0 .inline-error")).to_contain_text("申请书未签名")
    expect(applicant.locator("#material-1 .inline-error")).to_contain_text("身份证明复印件不清晰")
    link = box.get_by_role("link", name=zh("Read the correction notice (PDF)"))
    document = fetch_pdf(applicant, base, link)
    assert document.startswith(b"%PDF")
    text = pdf_text(document)
    assert all(part in text for part in (notice.number, case.number, "申请书未签名", "身份证明复印件不清晰")), text
    applicant.screenshot(path=str(ARTIFACTS / "cases-correction-zh.png"), full_page=True)

    # He replaces both materials and resubmits.
    upload(applicant, 0, pdfs("申请书-已签名.pdf", b"application, signed"))
    upload(applicant, 1, pdfs("身份证明-清晰.pdf", b"identity, legible"))
    applicant.get_by_role("button", name=zh("Resubmit with the corrections")).click()
    applicant.wait_for_url(f"{base}/my/cases/{case.number}/")
    expect(flash(applicant)).to_contain_text(zh("Your corrections are sent. The department pre-reviews them again."))
    expect(applicant.locator(".case-status-line")).to_contain_text(zh("Awaiting pre-review"))

    # The clerk sees both replaced materials marked new in this round (the first files kept aside), and accepts.
    window.goto(f"{base}/workbench/cases/{case.number}/")
    new_rows = window.locator("section[aria-labelledby=materials-title] tbody tr.changed")
    expect(new_rows).to_have_count(2)
    expect(new_rows.nth(0)).to_contain_text("申请书-已签名.pdf")
    expect(new_rows.nth(1)).to_contain_text("身份证明-清晰.pdf")
    expect(new_rows.locator(".badge-changed")).to_have_count(2)
    expect(window.locator("details.superseded li")).to_have_count(2)
    # He changed no form field, so none is marked changed.
    expect(window.locator("section[aria-labelledby=form-title] tr")).to_have_count(4)
    expect(window.locator("section[aria-labelledby=form-title] tr.changed")).to_have_count(0)
    expect(window.locator(".changed-note")).to_have_count(0)
    window.locator("#action-accept").get_by_role("button", name=zh("Accept the application")).click()
    expect(flash(window)).to_be_visible()
    acceptance = case.notices.get(kind=NoticeKind.ACCEPTANCE)
    expect(flash(window)).to_contain_text(
        zh("Case accepted; notice of acceptance %(number)s issued.") % {"number": acceptance.number}
    )

    # The reviewer (also approver of department A) reviews from the queue, then decides.
    reviewer = third_page
    sign_in_staff(reviewer, base, reviewer_a)
    review = open_task(case, StepCode.REVIEW)
    row = queue_rows(reviewer, case.number)
    expect(row).to_have_count(1)
    expect(row).to_contain_text(review.display_step("zh-hans"))
    row.get_by_role("link", name=case.number).click()
    reviewer.wait_for_url(f"{base}/workbench/cases/{case.number}/")
    complete_in_browser(reviewer, review, "材料齐全，符合条件，同意。")
    decide = open_task(case, StepCode.DECIDE)
    decide_in_browser(reviewer, decide)
    approval = case.notices.get(kind=NoticeKind.APPROVAL)
    expect(flash(reviewer)).to_contain_text(approval.number)

    # 张三 sees the result: delivered (electronically), approved, the promised and statutory dates, the decision.
    applicant.reload()
    expect(applicant.locator(".case-status-line")).to_contain_text(zh("Delivered"))
    expect(applicant.locator(".case-status-line")).to_contain_text(zh("Approved"))
    expect(applicant.locator(".case-facts")).to_contain_text(PROMISED_DUE.isoformat())
    expect(applicant.locator(".case-facts")).to_contain_text(STATUTORY_DUE.isoformat())
    row = notices.filter(has_text=zh("Decision to approve"))
    expect(row).to_contain_text(approval.number)
    assert fetch_pdf(applicant, base, row.get_by_role("link")).startswith(b"%PDF")
    expect(notices.filter(has_text=zh("One-time correction notice"))).to_have_count(1)
    applicant.screenshot(path=str(ARTIFACTS / "cases-delivered-zh.png"), full_page=True)

    # The database agrees.
    case.refresh_from_db()
    assert case.status == CaseStatus.DELIVERED and case.outcome == Outcome.APPROVED and case.round == 2
    assert (case.promised_due, case.statutory_due) == (PROMISED_DUE, STATUTORY_DUE)
    assert case.notices.filter(kind=NoticeKind.CORRECTION).count() == 1
    assert [(p["subject"], p["reason"]) for p in notice.content["problems"]] == [
        (slots[0], "申请书未签名"),
        (slots[1], "身份证明复印件不清晰"),
    ]
    assert list(case.transitions.order_by("at", "id").values_list("action", flat=True)) == [
        "submit",
        "request_correction",
        "resubmit",
        "accept",
        "advance",
        "decide",
        "deliver",
    ]
    resubmission = case.transitions.get(action="resubmit").details
    assert (resubmission["changed_slots"], resubmission["changed_fields"]) == ([0, 1], [])
    current = case.materials.filter(superseded=False).order_by("slot")
    assert [m.file.original_name for m in current if m.file] == ["申请书-已签名.pdf", "身份证明-清晰.pdf"]
    assert list(case.tasks.order_by("id").values_list("step_code", "status", "completed_by__username")) == [
        (StepCode.ACCEPT, TaskStatus.DONE, "clerk"),  # ended by the correction notice
        (StepCode.ACCEPT, TaskStatus.DONE, "clerk"),  # the second round's pre-review: accepted
        (StepCode.REVIEW, TaskStatus.DONE, "reviewer-a"),
        (StepCode.DECIDE, TaskStatus.DONE, "reviewer-a"),
    ]


# --- scenario 2: a joint item, reviewed by two departments in parallel ------------------------------------


@pytest.fixture
def joint_item(published: Callable[..., ItemVersion], department_b: Organisation) -> ItemVersion:
    """The same item with department B (任城区) as co-implementing body: both review at once (联办)."""
    return published(co_implementing_bodies=[{"name": department_b.name, "uscc": OTHER_BODY_USCC, "nature": "1"}])


def test_a_joint_item_is_reviewed_by_both_departments_before_the_decision(
    page: Page,
    second_page: Page,
    live_server: Any,
    citizen: User,
    clerk: User,
    reviewer_a: User,
    reviewer_b: User,
    department_a: Organisation,
    department_b: Organisation,
    joint_item: ItemVersion,
) -> None:
    base = live_server.url
    case = start(citizen, joint_item)
    services.attach_material(actor=citizen, case=case, slot=0, upload=pdf("application.pdf", b"a"))
    services.attach_material(actor=citizen, case=case, slot=1, upload=pdf("id.pdf", b"b"))
    case = services.submit(actor=citizen, case=case)
    services.accept(actor=clerk, case=case)
    number = case.number
    assert number
    review_a = open_task(case, StepCode.REVIEW, department_a)
    review_b = open_task(case, StepCode.REVIEW, department_b)
    step = review_a.display_step("zh-hans")

    # Department B's reviewer has the case in the queue — its own review, marked joint — and goes first.
    b = page
    sign_in_staff(b, base, reviewer_b)
    row = queue_rows(b, number)
    expect(row).to_have_count(1)
    expect(row).to_contain_text(step)
    expect(row.locator(".badge")).to_have_text(zh("joint"))
    row.get_by_role("link", name=number).click()
    b.wait_for_url(f"{base}/workbench/cases/{number}/")
    # B's own task only: A's review is not B's to act on.
    expect(b.locator(".task-panel[id^=task-]")).to_have_count(1)
    expect(b.locator(f"#task-{review_a.pk}")).to_have_count(0)
    complete_in_browser(b, review_b, "同意（会签）")
    b.goto(f"{base}/workbench/queue/")
    expect(queue_rows(b, number)).to_have_count(0)

    # Department A's reviewer still sees only the review: the decision waits for it.
    a = second_page
    sign_in_staff(a, base, reviewer_a)
    row = queue_rows(a, number)
    expect(row).to_have_count(1)
    expect(row).to_contain_text(step)
    assert not case.tasks.filter(step_code=StepCode.DECIDE).exists()
    b.screenshot(path=str(ARTIFACTS / "cases-joint-queue-b-zh.png"), full_page=True)
    row.get_by_role("link", name=number).click()
    a.wait_for_url(f"{base}/workbench/cases/{number}/")
    complete_in_browser(a, review_a, "同意")

    # Both reviews done: the lead department's decision opens, in A's queue and nowhere in B's.
    decide = open_task(case, StepCode.DECIDE)
    assert decide.department_id == department_a.pk
    a.goto(f"{base}/workbench/queue/")
    row = queue_rows(a, number)
    expect(row).to_have_count(1)
    expect(row).to_contain_text(decide.display_step("zh-hans"))
    a.screenshot(path=str(ARTIFACTS / "cases-joint-decision-queue-a-zh.png"), full_page=True)
    b.reload()
    expect(queue_rows(b, number)).to_have_count(0)
    row.get_by_role("link", name=number).click()
    a.wait_for_url(f"{base}/workbench/cases/{number}/")
    decide_in_browser(a, decide)

    case.refresh_from_db()
    assert case.status == CaseStatus.DELIVERED and case.outcome == Outcome.APPROVED
    reviews = case.tasks.filter(step_code=StepCode.REVIEW).order_by("completed_at")
    assert [(t.department_id, t.parallel, t.status, t.opinion) for t in reviews] == [
        (department_b.pk, True, TaskStatus.DONE, "同意（会签）"),
        (department_a.pk, True, TaskStatus.DONE, "同意"),
    ]
    assert all(t.pk < decide.pk for t in reviews)  # the decision was opened after both
    decided = case.tasks.get(step_code=StepCode.DECIDE)
    assert (decided.status, decided.completed_by) == (TaskStatus.DONE, reviewer_a)
