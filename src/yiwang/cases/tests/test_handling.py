"""Handling: one correction notice, acceptance (or not), steps, special procedures, decision and delivery."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import User

from yiwang.audit.actors import SCHEDULER
from yiwang.cases import services
from yiwang.cases.constants import (
    CaseStatus,
    DeliveryMethod,
    NoticeKind,
    Outcome,
    StepCode,
    TaskStatus,
)
from yiwang.cases.models import Case, CaseTask, CaseTransition
from yiwang.cases.services import Problem
from yiwang.cases.tests.conftest import SHANGHAI, pdf, start
from yiwang.catalogue.models import ItemVersion
from yiwang.common.errors import DomainError, InvalidInput, InvalidTransition, NotFound, PermissionDenied

pytestmark = pytest.mark.django_db


def _task(case: Case, step: str) -> CaseTask:
    return case.tasks.get(step_code=step, status=TaskStatus.OPEN)


def test_one_correction_notice_lists_every_problem_and_the_applicant_fixes_them(
    citizen: User, clerk: User, submitted: Callable[..., Case]
) -> None:
    case = submitted()
    notice = services.request_correction(
        actor=clerk,
        case=case,
        problems=[Problem("签名缺失", slot=0), Problem("复印件不清晰", slot=1)],
    )
    case.refresh_from_db()
    assert case.status == CaseStatus.CORRECTION
    assert notice.kind == NoticeKind.CORRECTION
    assert [p["reason"] for p in notice.content["problems"]] == ["签名缺失", "复印件不清晰"]
    assert case.notices.filter(kind=NoticeKind.CORRECTION).count() == 1
    # The applicant replaces both materials and resubmits: a new receipt and a new acceptance window.
    services.attach_material(actor=citizen, case=case, slot=0, upload=pdf("signed.pdf", b"signed"))
    services.attach_material(actor=citizen, case=case, slot=1, upload=pdf("clear.pdf", b"clear"))
    case = services.resubmit(actor=citizen, case=case)
    assert case.status == CaseStatus.SUBMITTED
    assert case.round == 2
    change = case.transitions.get(action="resubmit")
    assert change.details["changed_slots"] == [0, 1]
    assert change.details["changed_fields"] == []  # the form was not touched
    # Staff see what changed: the old materials are kept, superseded.
    assert case.materials.filter(superseded=True).count() == 2
    assert case.notices.filter(kind=NoticeKind.RECEIPT).count() == 2


def test_a_correction_must_name_something_real_and_give_a_reason(clerk: User, submitted: Callable[..., Case]) -> None:
    case = submitted()
    for problems in ([], [Problem("", slot=0)], [Problem("x", slot=7)], [Problem("x")], [Problem("x", field="nope")]):
        with pytest.raises(InvalidInput):
            services.request_correction(actor=clerk, case=case, problems=problems)
    with pytest.raises(InvalidInput):
        services.request_correction(actor=clerk, case=case, problems=[Problem("a", slot=0), Problem("b", slot=0)])
    assert Case.objects.get(pk=case.pk).status == CaseStatus.SUBMITTED
    assert not case.notices.filter(kind=NoticeKind.CORRECTION).exists()


def test_accepting_fixes_the_deadlines_across_the_national_day(clerk: User, submitted: Callable[..., Case]) -> None:
    case = submitted()
    notice = services.accept(actor=clerk, case=case)
    case.refresh_from_db()
    assert case.status == CaseStatus.ACCEPTED
    assert case.accepted_on == dt.date(2025, 9, 26)
    # Promised 3 working days: Sep 28 (Sunday worked, 调休), Sep 29, Sep 30.
    assert case.promised_due == dt.date(2025, 9, 30)
    # Statutory 15 working days: … Oct 9, 10, 11 (Saturday worked), 13 … 23.
    assert case.statutory_due == dt.date(2025, 10, 23)
    assert notice.content["promised_due"] == "2025-09-30"
    review = _task(case, StepCode.REVIEW)
    assert case.promised_due is not None and review.due is not None
    assert review.department_id == case.department_id and review.due <= case.promised_due


def test_refusal_gives_reasons_and_closes_the_case(clerk: User, submitted: Callable[..., Case]) -> None:
    case = submitted()
    with pytest.raises(InvalidInput):
        services.refuse(actor=clerk, case=case, reasons="  ")
    notice = services.refuse(actor=clerk, case=case, reasons="不属于本机关职权范围")
    case.refresh_from_db()
    assert case.status == CaseStatus.REFUSED and notice.kind == NoticeKind.REFUSAL
    assert notice.content["reasons"] == "不属于本机关职权范围"


def test_staff_of_another_department_or_role_cannot_accept(
    reviewer_b: User, reviewer_a: User, citizen: User, submitted: Callable[..., Case]
) -> None:
    case = submitted()
    with pytest.raises(NotFound):
        services.accept(actor=reviewer_b, case=case)
    with pytest.raises(PermissionDenied):
        services.accept(actor=reviewer_a, case=case)  # a reviewer, not a window clerk
    with pytest.raises(DomainError):
        services.accept(actor=citizen, case=case)
    assert Case.objects.get(pk=case.pk).status == CaseStatus.SUBMITTED


def test_a_double_click_accepts_once(clerk: User, submitted: Callable[..., Case]) -> None:
    case = submitted()
    stale = Case.objects.get(pk=case.pk)
    services.accept(actor=clerk, case=case)
    with pytest.raises(InvalidTransition):
        services.accept(actor=clerk, case=stale)
    assert CaseTransition.objects.filter(case=case, action="accept").count() == 1
    assert case.notices.filter(kind=NoticeKind.ACCEPTANCE).count() == 1


def test_the_machine_refuses_a_stale_revision(clerk: User, submitted: Callable[..., Case]) -> None:
    from django.db import transaction

    from yiwang.cases import machine

    case = submitted()
    stale = Case.objects.get(pk=case.pk)
    with transaction.atomic():
        machine.transition(case, "refuse", actor=clerk, reason="x")
    with pytest.raises(InvalidTransition), transaction.atomic():
        machine.transition(stale, "refuse", actor=clerk, reason="y")
    assert CaseTransition.objects.filter(case=case, action="refuse").count() == 1


def test_transition_records_are_immutable(clerk: User, submitted: Callable[..., Case]) -> None:
    record = submitted().transitions.get()
    record.reason = "changed"
    with pytest.raises(ValueError, match="immutable"):
        record.save()
    with pytest.raises(ValueError, match="immutable"):
        record.delete()


def test_no_answer_within_five_working_days_counts_as_accepted_from_receipt(
    submitted: Callable[..., Case], clock: Any
) -> None:
    case = submitted()
    # Oct 10 is the 5th working day: still within the window.
    assert services.deem_overdue_acceptances(actor=SCHEDULER, today=dt.date(2025, 10, 10)) == 0
    assert services.deem_overdue_acceptances(actor=SCHEDULER, today=dt.date(2025, 10, 11)) == 1
    assert services.deem_overdue_acceptances(actor=SCHEDULER, today=dt.date(2025, 10, 11)) == 0  # idempotent
    case.refresh_from_db()
    assert case.status == CaseStatus.ACCEPTED and case.deemed_accepted
    assert case.accepted_on == dt.date(2025, 9, 26)  # 行政许可法 art. 32: from the day of receipt
    assert case.notices.get(kind=NoticeKind.ACCEPTANCE).content["deemed"] is True


def _accepted(clerk: User, submitted: Callable[..., Case], **kwargs: Any) -> Case:
    case = submitted(**kwargs)
    services.accept(actor=clerk, case=case)
    case.refresh_from_db()
    return case


def test_review_then_decision_then_electronic_delivery(
    clerk: User, reviewer_a: User, citizen: User, submitted: Callable[..., Case]
) -> None:
    case = _accepted(clerk, submitted)
    with pytest.raises(InvalidInput):
        services.complete_step(actor=reviewer_a, task=_task(case, StepCode.REVIEW), opinion="")
    services.claim(actor=reviewer_a, task=_task(case, StepCode.REVIEW))
    services.complete_step(actor=reviewer_a, task=_task(case, StepCode.REVIEW), opinion="材料齐全，符合条件")
    decide = _task(case, StepCode.DECIDE)
    with pytest.raises(InvalidInput):
        services.decide(actor=reviewer_a, task=decide, outcome=Outcome.DENIED, reasons="")
    with pytest.raises(InvalidInput):
        services.decide(actor=reviewer_a, task=decide, outcome="maybe")
    notice = services.decide(actor=reviewer_a, task=decide, outcome=Outcome.APPROVED)
    case.refresh_from_db()
    assert notice.kind == NoticeKind.APPROVAL and notice.content["result_name"] == "营业执照"
    assert case.status == CaseStatus.DELIVERED and case.outcome == Outcome.APPROVED
    assert [t.action for t in case.transitions.all()] == ["submit", "accept", "advance", "decide", "deliver"]


def test_a_denial_needs_reasons_and_carries_the_remedy_notice(
    clerk: User, reviewer_a: User, submitted: Callable[..., Case]
) -> None:
    case = _accepted(clerk, submitted)
    services.complete_step(actor=reviewer_a, task=_task(case, StepCode.REVIEW), opinion="不符合条件")
    notice = services.decide(
        actor=reviewer_a, task=_task(case, StepCode.DECIDE), outcome=Outcome.DENIED, reasons="经营场所不符合要求"
    )
    assert notice.kind == NoticeKind.DENIAL and notice.content["reasons"] == "经营场所不符合要求"


def test_return_to_the_previous_step_with_reasons(
    clerk: User, reviewer_a: User, submitted: Callable[..., Case]
) -> None:
    case = _accepted(clerk, submitted)
    with pytest.raises(InvalidTransition):
        services.return_step(actor=reviewer_a, task=_task(case, StepCode.REVIEW), reason="x")
    services.complete_step(actor=reviewer_a, task=_task(case, StepCode.REVIEW), opinion="ok")
    with pytest.raises(InvalidInput):
        services.return_step(actor=reviewer_a, task=_task(case, StepCode.DECIDE), reason="")
    services.return_step(actor=reviewer_a, task=_task(case, StepCode.DECIDE), reason="请补充审查意见")
    assert _task(case, StepCode.REVIEW).step_index == 1
    assert case.transitions.filter(action="return", reason="请补充审查意见").exists()
    assert not case.tasks.filter(step_code=StepCode.DECIDE, status=TaskStatus.OPEN).exists()


def test_reviewer_of_another_department_sees_and_does_nothing(
    clerk: User, reviewer_b: User, submitted: Callable[..., Case]
) -> None:
    case = _accepted(clerk, submitted)
    with pytest.raises(NotFound):
        services.complete_step(actor=reviewer_b, task=_task(case, StepCode.REVIEW), opinion="ok")
    with pytest.raises(NotFound):
        services.claim(actor=reviewer_b, task=_task(case, StepCode.REVIEW))
    assert not services.staff_may_see(reviewer_b, case)


def test_a_non_counting_special_procedure_stops_the_clock(
    clerk: User, reviewer_a: User, published: Callable[..., ItemVersion], citizen: User, clock: Any
) -> None:
    item = published(special_procedures=[{"name": "现场核查", "kind": "2", "counts_in_time_limit": False}])
    case = start(citizen, item)
    services.attach_material(actor=citizen, case=case, slot=0, upload=pdf())
    case = services.submit(actor=citizen, case=case)
    services.accept(actor=clerk, case=case)
    case.refresh_from_db()
    assert case.promised_due == dt.date(2025, 9, 30)
    with pytest.raises(InvalidInput):
        services.start_special_procedure(actor=reviewer_a, case=case, name="听证", reason="x")
    services.start_special_procedure(actor=reviewer_a, case=case, name="现场核查", reason="核查经营场所")
    with pytest.raises(InvalidTransition):
        services.complete_step(actor=reviewer_a, task=_task(case, StepCode.REVIEW), opinion="ok")
    # The inspection ends on Thu Oct 9: Sep 28, 29, 30 and Oct 9 did not count; the deadline moves by 4.
    clock.move_to(dt.datetime(2025, 10, 9, 16, 0, tzinfo=SHANGHAI))
    services.end_special_procedure(actor=reviewer_a, case=case, result="场所符合要求")
    case.refresh_from_db()
    assert case.paused_since is None
    assert case.promised_due == dt.date(2025, 10, 13)  # Oct 10, 11 (调休), 13


def test_an_extension_moves_the_deadline_by_the_approved_days(
    clerk: User, reviewer_a: User, submitted: Callable[..., Case]
) -> None:
    case = _accepted(clerk, submitted)
    with pytest.raises(InvalidInput):
        services.extend(actor=reviewer_a, case=case, days=11, reason="复杂")
    with pytest.raises(InvalidInput):
        services.extend(actor=reviewer_a, case=case, days=0, reason="复杂")
    services.extend(actor=reviewer_a, case=case, days=2, reason="情况复杂，经负责人批准")
    case.refresh_from_db()
    assert case.extension_days == 2
    assert case.promised_due == dt.date(2025, 10, 10)  # 3 + 2 working days: Sep 28, 29, 30, Oct 9, 10
    assert case.statutory_due == dt.date(2025, 10, 27)


def test_mail_delivery_needs_a_tracking_number(clerk: User, reviewer_a: User, citizen: User, item: ItemVersion) -> None:
    case = start(citizen, item)
    services.save_draft(
        actor=citizen, case=case, data=case.data, delivery={"method": "mail", "address": "杭州市西湖区文三路1号"}
    )
    services.attach_material(actor=citizen, case=case, slot=0, upload=pdf())
    case = services.submit(actor=citizen, case=case)
    services.accept(actor=clerk, case=case)
    services.complete_step(actor=reviewer_a, task=_task(case, StepCode.REVIEW), opinion="ok")
    services.decide(actor=reviewer_a, task=_task(case, StepCode.DECIDE), outcome=Outcome.APPROVED)
    case.refresh_from_db()
    assert case.status == CaseStatus.DECIDED
    for bad in ("", "SF 123", "x" * 41):
        with pytest.raises(InvalidInput):
            services.deliver(actor=clerk, case=case, tracking_number=bad)
    services.deliver(actor=clerk, case=case, tracking_number="SF1234567890")
    case.refresh_from_db()
    assert case.status == CaseStatus.DELIVERED and case.tracking_number == "SF1234567890"
    assert case.delivery_method == DeliveryMethod.MAIL


def test_mail_without_an_address_is_refused(citizen: User, item: ItemVersion) -> None:
    case = start(citizen, item)
    with pytest.raises(InvalidInput):
        services.save_draft(actor=citizen, case=case, data=case.data, delivery={"method": "mail"})
    with pytest.raises(InvalidInput):
        services.save_draft(actor=citizen, case=case, data=case.data, delivery={"method": "pigeon"})
    assert Case.objects.get(pk=case.pk).delivery_method == DeliveryMethod.ELECTRONIC


def test_an_on_the_spot_item_is_decided_by_the_window(
    clerk: User, citizen: User, published: Callable[..., ItemVersion]
) -> None:
    item = published(
        case_type="1",
        time_limits={"statutory": {"value": 3, "unit": "working_day"}, "promised": {"unit": "immediate"}},
    )
    case = start(citizen, item)
    services.attach_material(actor=citizen, case=case, slot=0, upload=pdf())
    case = services.submit(actor=citizen, case=case)
    services.accept(actor=clerk, case=case)
    decide = _task(case, StepCode.DECIDE)
    assert decide.role == "window_clerk" and decide.due == dt.date(2025, 9, 26)
    services.decide(actor=clerk, task=decide, outcome=Outcome.APPROVED)
    assert Case.objects.get(pk=case.pk).status == CaseStatus.DELIVERED


def test_a_deadline_into_an_uncovered_year_is_refused_until_the_year_is_entered(
    clerk: User, admin: User, citizen: User, published: Callable[..., ItemVersion]
) -> None:
    from yiwang.common.calendar import CalendarNotCovered, library_covers
    from yiwang.common.services import enter_calendar_year

    year = 2004
    while library_covers(dt.date(year + 1, 1, 1)):
        year += 1
    uncovered = year + 1
    with time_machine.travel(dt.datetime(year, 12, 20, 10, 0, tzinfo=SHANGHAI), tick=False):
        item = published(
            time_limits={
                "statutory": {"value": 30, "unit": "working_day"},
                "promised": {"value": 20, "unit": "working_day"},
            }
        )
        case = start(citizen, item)
        services.attach_material(actor=citizen, case=case, slot=0, upload=pdf())
        case = services.submit(actor=citizen, case=case)
        with pytest.raises(CalendarNotCovered):
            services.accept(actor=clerk, case=case)
        assert Case.objects.get(pk=case.pk).status == CaseStatus.SUBMITTED
        enter_calendar_year(actor=admin, year=uncovered, source="国办发明电〔示例〕号")
        services.accept(actor=clerk, case=case)
        case.refresh_from_db()
        assert case.promised_due is not None and case.promised_due.year == uncovered


def test_the_jobs_command_runs_both_jobs_once(submitted: Callable[..., Case]) -> None:
    import io

    from django.core.management import CommandError, call_command
    from django.utils import translation

    case = submitted()
    out = io.StringIO()
    with translation.override("en"):
        call_command("cases_jobs", "--today", "2025-10-13", stdout=out)
        assert "1 application(s) accepted by operation of law" in out.getvalue()
        with pytest.raises(CommandError):
            call_command("cases_jobs", "--today", "13/10/2025")
    assert Case.objects.get(pk=case.pk).status == CaseStatus.ACCEPTED


def test_the_applicant_is_told_of_each_step_in_their_message_centre(
    citizen: User, clerk: User, reviewer_a: User, submitted: Callable[..., Case]
) -> None:
    from yiwang.common import outbox
    from yiwang.notifications.models import Message

    case = _accepted(clerk, submitted)
    services.complete_step(actor=reviewer_a, task=_task(case, StepCode.REVIEW), opinion="ok")
    services.decide(actor=reviewer_a, task=_task(case, StepCode.DECIDE), outcome=Outcome.APPROVED)
    outbox.relay()
    kinds = list(Message.objects.filter(recipient=citizen).order_by("id").values_list("kind", flat=True))
    assert kinds == [
        "case.submitted",
        "case.accepted",
        "case.step_advanced",
        "case.decided_approved",
        "case.delivered_electronic",
    ]
    assert Message.objects.filter(recipient=clerk, kind="case.task_assigned").exists()
