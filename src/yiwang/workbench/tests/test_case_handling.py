"""Handling a case through the staff pages: one correction notice, acceptance, review, decision, delivery —
with the database asserted after every POST, and every refused input changing nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import User
from django.test import Client

from yiwang.cases import services
from yiwang.cases.constants import (
    CaseStatus,
    DeliveryMethod,
    NoticeKind,
    Outcome,
    Provenance,
    StepCode,
    TaskStatus,
    TrustLevel,
)
from yiwang.cases.models import Case, CaseTask, Notice, SpecialProcedure
from yiwang.catalogue.models import ItemVersion
from yiwang.identity import services as identity
from yiwang.identity.constants import Role
from yiwang.identity.tests.people import PEOPLE
from yiwang.workbench.tests.case_world import (
    FRIDAY_BEFORE_NATIONAL_DAY,
    PDF,
    SYSTEM,
    accepted,
    decided,
    en,
    html,
    open_task,
    pdf,
    submitted,
    url,
)

pytestmark = pytest.mark.django_db

StaffClient = Callable[[User], Client]


@pytest.fixture(autouse=True)
def clock() -> Iterator[Any]:
    with time_machine.travel(FRIDAY_BEFORE_NATIONAL_DAY, tick=True) as traveller:
        yield traveller


@pytest.fixture
def item(published: Callable[..., ItemVersion]) -> ItemVersion:
    return published(special_procedures=[{"name": "现场核查", "kind": "2", "counts_in_time_limit": False}])


def _state(case: Case) -> tuple[Any, ...]:
    """Everything an action may change: a refused one must leave all of it as it was."""
    fresh = Case.objects.get(pk=case.pk)
    tasks = tuple(CaseTask.objects.filter(case=case).order_by("id").values_list("status", "assignee_id", "opinion"))
    return (
        fresh.status,
        fresh.revision,
        fresh.tracking_number,
        fresh.extension_days,
        fresh.paused_since,
        tasks,
        Notice.objects.filter(case=case).count(),
        SpecialProcedure.objects.filter(case=case).count(),
    )


def test_the_whole_way_through_the_pages(
    staff_client: StaffClient, citizen: User, clerk: User, reviewer_a: User, item: ItemVersion
) -> None:
    case = submitted(citizen, item)
    window = staff_client(clerk)

    # Pre-review: the correction form lists every material and every form field.
    page = html(window, en("case", case.number))
    assert 'name="problem-slot-0"' in page and 'name="problem-slot-1"' in page
    assert 'name="problem-field-phone"' in page
    assert "Accept the application" in page

    # One notice with two problems: a material and a form field.
    response = window.post(
        url("case_correction", case.number),
        {
            "problem-slot-0": "1",
            "reason-slot-0": "申请书缺少签名",
            "problem-field-phone": "1",
            "reason-field-phone": "联系电话无法接通",
            "reason-slot-1": "not ticked, so not sent",
        },
    )
    assert response.status_code == 302 and response["Location"].startswith(url("case", case.number))
    case.refresh_from_db()
    assert case.status == CaseStatus.CORRECTION
    notice = case.notices.get(kind=NoticeKind.CORRECTION)
    assert [(p["subject"], p["reason"]) for p in notice.content["problems"]] == [
        ("个体工商户登记（备案）申请书", "申请书缺少签名"),
        ("联系电话", "联系电话无法接通"),
    ]
    assert not case.tasks.filter(status=TaskStatus.OPEN).exists()

    # The applicant corrects both and resubmits; the clerk sees what changed.
    services.attach_material(actor=citizen, case=case, slot=0, upload=pdf("signed.pdf", b"signed"))
    services.save_draft(actor=citizen, case=case, data={**case.data, "phone": "13900000000"})
    case = services.resubmit(actor=citizen, case=case)
    page = html(window, en("case", case.number))
    assert "new in this round" in page
    # The fields the resubmission recorded as changed (the phone among them) are marked, and only those.
    changed = case.transitions.get(action="resubmit").details["changed_fields"]
    assert "phone" in changed
    assert page.count('class="badge badge-changed">changed<') == len(changed)
    assert "1 replaced material" in page and "application.pdf" in page and "signed.pdf" in page

    # Acceptance.
    response = window.post(url("case_accept", case.number), {"note": "材料齐全"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.ACCEPTED and case.promised_due is not None
    review = open_task(case, StepCode.REVIEW)

    # Review: the reviewer's page offers to complete the step; the clerk's no longer offers anything.
    assert "Your actions" not in html(window, en("case", case.number))
    reviewer = staff_client(reviewer_a)
    page = html(reviewer, en("case", case.number))
    assert f'action="{en("task_complete", case.number, review.pk)}"' in page
    response = reviewer.post(url("task_complete", case.number, review.pk), {"opinion": "材料真实，符合条件"})
    assert response.status_code == 302
    review.refresh_from_db()
    assert review.status == TaskStatus.DONE and review.opinion == "材料真实，符合条件"
    decide = open_task(case, StepCode.DECIDE)

    # Decision: approved; an electronic result is delivered at once.
    response = reviewer.post(url("task_decide", case.number, decide.pk), {"outcome": "approved", "reasons": ""})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.DELIVERED and case.outcome == Outcome.APPROVED
    approval = case.notices.get(kind=NoticeKind.APPROVAL)

    # The file tells the whole story, and the notices download as PDF.
    page = html(reviewer, en("case", case.number))
    for label in ("Ask for corrections", "Resubmit", "Accept", "Complete a step", "Decide", "Deliver the result"):
        assert f"<strong>{label}</strong>" in page, label
    assert "申请书缺少签名" in page  # the correction's problems in the timeline
    response = reviewer.get(url("case_notice", case.number, approval.number))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF") and response["X-Content-Type-Options"] == "nosniff"


def test_automatic_findings_come_ticked_with_their_reason(
    staff_client: StaffClient, citizen: User, clerk: User, item: ItemVersion
) -> None:
    from yiwang.cases.tests.conftest import start

    case = start(citizen, item)
    services.attach_material(actor=citizen, case=case, slot=0, upload=pdf())
    case = services.submit(actor=citizen, case=case)  # the second material is missing
    page = html(staff_client(clerk), en("case", case.number))
    assert "The required material “经营者身份证明” is missing." in page
    assert 'id="problem-slot-1" name="problem-slot-1" value="1" checked' in page
    assert 'name="reason-slot-1" value="The required material “经营者身份证明” is missing."' in page
    assert 'id="problem-slot-0" name="problem-slot-0" value="1">' in page  # provided: not ticked


@pytest.mark.parametrize(
    ("posted", "message"),
    [
        ({}, "List at least one problem to correct."),
        ({"problem-slot-0": "1", "reason-slot-0": "   "}, "Give the reason."),
        ({"problem-slot-7": "1", "reason-slot-7": "no such slot"}, "This item has no such material."),
        ({"problem-slot-x": "1", "reason-slot-x": "not a slot"}, "This item has no such material."),
        ({"problem-field-nope": "1", "reason-field-nope": "no such field"}, "The form has no field “nope”."),
    ],
)
def test_a_bad_correction_shows_its_error_and_changes_nothing(
    staff_client: StaffClient, citizen: User, clerk: User, item: ItemVersion, posted: dict[str, str], message: str
) -> None:
    case = submitted(citizen, item)
    before = _state(case)
    response = staff_client(clerk).post(en("case_correction", case.number), posted)
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page
    assert 'id="action-correction"' in page and "Nothing was changed" in page
    assert _state(case) == before


def test_a_refused_correction_keeps_what_the_clerk_ticked_and_typed(
    staff_client: StaffClient, citizen: User, clerk: User, item: ItemVersion
) -> None:
    case = submitted(citizen, item)
    response = staff_client(clerk).post(
        en("case_correction", case.number),
        {"problem-slot-0": "1", "reason-slot-0": "签名缺失", "problem-field-phone": "1", "reason-field-phone": ""},
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert 'id="problem-slot-0" name="problem-slot-0" value="1" checked' in page
    assert 'value="签名缺失"' in page
    assert 'id="problem-field-phone" name="problem-field-phone" value="1" checked' in page


def test_refusal_needs_reasons_and_then_closes_the_case(
    staff_client: StaffClient, citizen: User, clerk: User, item: ItemVersion
) -> None:
    case = submitted(citizen, item)
    window = staff_client(clerk)
    before = _state(case)
    response = window.post(en("case_refuse", case.number), {"reasons": "  "})
    assert response.status_code == 400 and "Give the reason." in response.content.decode()
    assert _state(case) == before
    response = window.post(url("case_refuse", case.number), {"reasons": "不属于本机关职权范围"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.REFUSED
    assert case.notices.get(kind=NoticeKind.REFUSAL).content["reasons"] == "不属于本机关职权范围"


def test_a_reviewer_cannot_accept_and_is_told_why(
    staff_client: StaffClient, citizen: User, reviewer_a: User, item: ItemVersion
) -> None:
    case = submitted(citizen, item)
    before = _state(case)
    page = html(staff_client(reviewer_a), en("case", case.number))
    assert "Accept the application" not in page  # not offered to a reviewer
    response = staff_client(reviewer_a).post(en("case_accept", case.number), {"note": ""})
    assert response.status_code == 403
    assert "This step needs the role “Window clerk”." in response.content.decode()
    assert _state(case) == before


def test_steps_refuse_empty_opinions_and_denials_without_reasons(
    staff_client: StaffClient, citizen: User, clerk: User, reviewer_a: User, item: ItemVersion
) -> None:
    case = accepted(citizen, clerk, item)
    reviewer = staff_client(reviewer_a)
    review = open_task(case, StepCode.REVIEW)
    before = _state(case)
    response = reviewer.post(en("task_complete", case.number, review.pk), {"opinion": ""})
    assert response.status_code == 400 and "Give the reason." in response.content.decode()
    assert _state(case) == before

    services.complete_step(actor=reviewer_a, task=review, opinion="同意")
    decide = open_task(case, StepCode.DECIDE)
    before = _state(case)
    response = reviewer.post(en("task_decide", case.number, decide.pk), {"outcome": "denied", "reasons": ""})
    assert response.status_code == 400 and "Give the reason." in response.content.decode()
    response = reviewer.post(en("task_decide", case.number, decide.pk), {"outcome": "maybe", "reasons": "x"})
    assert response.status_code == 400
    assert _state(case) == before

    response = reviewer.post(url("task_decide", case.number, decide.pk), {"outcome": "denied", "reasons": "不符合条件"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.DELIVERED and case.outcome == Outcome.DENIED


def test_returning_a_step_reopens_the_previous_one(
    staff_client: StaffClient, citizen: User, clerk: User, reviewer_a: User, item: ItemVersion
) -> None:
    case = accepted(citizen, clerk, item)
    services.complete_step(actor=reviewer_a, task=open_task(case, StepCode.REVIEW), opinion="同意")
    decide = open_task(case, StepCode.DECIDE)
    reviewer = staff_client(reviewer_a)
    before = _state(case)
    response = reviewer.post(en("task_return", case.number, decide.pk), {"reason": ""})
    assert response.status_code == 400 and _state(case) == before
    response = reviewer.post(url("task_return", case.number, decide.pk), {"reason": "请补充核查意见"})
    assert response.status_code == 302
    decide.refresh_from_db()
    assert decide.status == TaskStatus.CANCELLED and decide.returned
    assert open_task(case, StepCode.REVIEW).step_index == 1
    assert "Returned" in html(reviewer, en("case", case.number))  # the flow shows the returned step


def test_special_procedures_stop_and_restart_the_clock(
    staff_client: StaffClient, citizen: User, clerk: User, reviewer_a: User, item: ItemVersion
) -> None:
    case = accepted(citizen, clerk, item)
    reviewer = staff_client(reviewer_a)
    page = html(reviewer, en("case", case.number))
    assert '<option value="现场核查">现场核查</option>' in page
    before = _state(case)
    response = reviewer.post(en("case_procedure_start", case.number), {"name": "听证", "reason": "需要听证"})
    assert response.status_code == 400 and "This item has no special procedure “听证”." in response.content.decode()
    response = reviewer.post(en("case_procedure_start", case.number), {"name": "现场核查", "reason": ""})
    assert response.status_code == 400
    assert _state(case) == before

    response = reviewer.post(url("case_procedure_start", case.number), {"name": "现场核查", "reason": "核查经营场所"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.paused_since is not None
    assert "Clock stopped since" in html(reviewer, en("case", case.number))

    response = reviewer.post(url("case_procedure_end", case.number), {"result": "场所属实"})
    assert response.status_code == 302
    assert Case.objects.get(pk=case.pk).paused_since is None
    assert case.special_procedures.get().result == "场所属实"


def test_an_approver_extends_the_time_limit_within_the_law(
    staff_client: StaffClient, citizen: User, clerk: User, reviewer_a: User, item: ItemVersion
) -> None:
    case = accepted(citizen, clerk, item)
    reviewer = staff_client(reviewer_a)
    before = _state(case)
    refusals = [
        ({"days": "0", "reason": "复杂"}, "Ensure this value is greater than or equal to 1."),
        ({"days": "11", "reason": "复杂"}, "Extensions may add at most 10 days in all; 0 are already approved."),
        ({"days": "3", "reason": ""}, "Give the reason."),
    ]
    for posted, message in refusals:
        response = reviewer.post(en("case_extend", case.number), posted)
        assert response.status_code == 400, posted
        assert message in response.content.decode(), posted
    assert _state(case) == before
    response = reviewer.post(url("case_extend", case.number), {"days": "3", "reason": "情况复杂，需要延长"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.extension_days == 3


def test_mail_delivery_needs_a_real_tracking_number(
    staff_client: StaffClient, citizen: User, clerk: User, reviewer_a: User, item: ItemVersion
) -> None:
    case = decided(citizen, clerk, reviewer_a, item, method=DeliveryMethod.MAIL, address="杭州市西湖区文三路1号")
    assert case.status == CaseStatus.DECIDED
    window = staff_client(clerk)
    assert "Record the delivery" in html(window, en("case", case.number))
    before = _state(case)
    for tracking in ("", "SF 123-456", "x" * 41):
        response = window.post(en("case_deliver", case.number), {"tracking_number": tracking})
        assert response.status_code == 400, tracking
        assert "Enter the mail&#x27;s tracking number (letters and digits)." in response.content.decode()
    assert _state(case) == before
    assert "Record the delivery" not in html(staff_client(reviewer_a), en("case", case.number))  # the window's job

    response = window.post(url("case_deliver", case.number), {"tracking_number": "SF1234567890"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.DELIVERED and case.tracking_number == "SF1234567890"


def test_claiming_from_the_queue_and_assigning_to_a_colleague(
    staff_client: StaffClient, citizen: User, clerk: User, reviewer_a: User, item: ItemVersion, department_a: Any
) -> None:
    case = accepted(citizen, clerk, item)
    review = open_task(case, StepCode.REVIEW)
    reviewer = staff_client(reviewer_a)
    response = reviewer.post(url("task_claim", review.pk), {"next": "queue"})
    assert response.status_code == 302 and response["Location"] == url("queue")
    review.refresh_from_db()
    assert review.assignee == reviewer_a

    colleague = identity.create_staff(
        actor=SYSTEM,
        username="reviewer-a2",
        name="王审查",
        department=department_a,
        division_code="330106",
        roles=[str(Role.REVIEWER)],
        password="correct horse battery staple",
    )
    page = html(reviewer, en("case", case.number))
    assert f'<option value="{colleague.pk}">' in page
    before = _state(case)
    response = reviewer.post(en("task_assign", case.number, review.pk), {"assignee": str(clerk.pk)})
    assert response.status_code == 400  # not a colleague holding the step's role
    assert _state(case) == before
    response = reviewer.post(url("task_assign", case.number, review.pk), {"assignee": str(colleague.pk)})
    assert response.status_code == 302
    review.refresh_from_db()
    assert review.assignee == colleague


def test_materials_download_as_attachments_for_staff_who_see_the_case(
    staff_client: StaffClient, citizen: User, clerk: User, item: ItemVersion
) -> None:
    case = submitted(citizen, item)
    material = case.materials.get(slot=0)
    response = staff_client(clerk).get(url("case_material", case.number, material.pk))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF + b"a"  # type: ignore[attr-defined]
    assert response["Content-Disposition"].startswith("attachment")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "no-store" in response["Cache-Control"]
    assert staff_client(clerk).get(url("case_material", case.number, 999999)).status_code == 404


def test_the_case_file_shows_materials_with_provenance_and_trust(
    staff_client: StaffClient, citizen: User, clerk: User, item: ItemVersion
) -> None:
    case = submitted(citizen, item)
    page = html(staff_client(clerk), en("case", case.number))
    assert str(Provenance.UPLOAD.label) in page
    assert str(TrustLevel.C.label) in page
    assert PEOPLE["citizen"].id_number in page  # a clerk handles applicants: identifiers in clear


def test_a_double_submit_acts_once(staff_client: StaffClient, citizen: User, clerk: User, item: ItemVersion) -> None:
    case = submitted(citizen, item)
    window = staff_client(clerk)
    assert window.post(url("case_accept", case.number), {"note": ""}).status_code == 302
    response = window.post(en("case_accept", case.number), {"note": ""})
    assert response.status_code == 409
    assert Case.objects.get(pk=case.pk).transitions.filter(action="accept").count() == 1


def test_an_on_the_spot_item_is_decided_by_the_window_clerk(
    staff_client: StaffClient, citizen: User, clerk: User, reviewer_a: User, published: Callable[..., ItemVersion]
) -> None:
    on_the_spot = published(
        case_type="1",
        time_limits={"statutory": {"value": 15, "unit": "working_day"}, "promised": {"unit": "immediate"}},
    )
    case = accepted(citizen, clerk, on_the_spot)
    decide = open_task(case, StepCode.DECIDE)
    assert decide.role == Role.WINDOW_CLERK
    window = staff_client(clerk)
    page = html(window, en("case", case.number))
    assert f'action="{en("task_decide", case.number, decide.pk)}"' in page
    assert "Decision on the spot" in page  # the flow names the step
    assert "Record the decision" not in html(staff_client(reviewer_a), en("case", case.number))
    response = window.post(url("task_decide", case.number, decide.pk), {"outcome": "approved"})
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.status == CaseStatus.DELIVERED and case.outcome == Outcome.APPROVED
