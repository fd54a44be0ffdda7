"""Joint items (联办) in parallel, and electronic supervision: warnings raised once, followed up in scope."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User

from yiwang.audit.actors import SCHEDULER
from yiwang.cases import selectors, services, supervision
from yiwang.cases.constants import CaseStatus, Outcome, StepCode, SupervisionStatus, TaskStatus, WarningLevel
from yiwang.cases.models import Case, CaseTask, SupervisionRecord
from yiwang.cases.tests.conftest import pdf, start
from yiwang.catalogue.models import ItemVersion, Organisation
from yiwang.catalogue.tests.factories import OTHER_BODY_USCC
from yiwang.common.errors import DomainError, InvalidInput, InvalidTransition, PermissionDenied
from yiwang.notifications.models import Message

pytestmark = pytest.mark.django_db


@pytest.fixture
def joint_item(published: Callable[..., ItemVersion], department_b: Organisation) -> ItemVersion:
    return published(
        co_implementing_bodies=[{"name": department_b.name, "uscc": OTHER_BODY_USCC, "nature": "1"}],
        time_limits={
            "statutory": {"value": 15, "unit": "working_day"},
            "promised": {"value": 5, "unit": "working_day"},
        },
    )


def _submit(citizen: User, item: ItemVersion) -> Case:
    case = start(citizen, item)
    services.attach_material(actor=citizen, case=case, slot=0, upload=pdf())
    return services.submit(actor=citizen, case=case)


def test_a_joint_item_goes_to_both_departments_in_parallel_and_advances_when_both_are_done(
    citizen: User, clerk: User, reviewer_a: User, reviewer_b: User, joint_item: ItemVersion
) -> None:
    case = _submit(citizen, joint_item)
    assert not services.staff_may_see(reviewer_b, case)  # not involved yet
    services.accept(actor=clerk, case=case)
    case.refresh_from_db()
    reviews = list(case.tasks.filter(step_code=StepCode.REVIEW).order_by("department_id"))
    assert {t.department.uscc for t in reviews} == {joint_item.department.uscc, OTHER_BODY_USCC}
    promised = case.promised_due
    assert promised is not None
    assert all(t.parallel and t.due is not None and t.due <= promised for t in reviews)
    # Now department B is involved: its reviewer sees the case and its own task, not A's.
    assert services.staff_may_see(reviewer_b, case)
    b_task = selectors.staff_queue(reviewer_b).get()
    assert b_task.case_id == case.pk
    a_task = case.tasks.get(step_code=StepCode.REVIEW, department=joint_item.department)
    with pytest.raises(DomainError):
        services.complete_step(actor=reviewer_b, task=a_task, opinion="not mine")

    services.complete_step(actor=reviewer_a, task=a_task, opinion="同意")
    assert not case.tasks.filter(step_code=StepCode.DECIDE).exists()  # waits for B
    services.complete_step(actor=reviewer_b, task=b_task, opinion="同意（会签）")
    decide = case.tasks.get(step_code=StepCode.DECIDE, status=TaskStatus.OPEN)
    assert decide.department_id == case.department_id  # the lead department decides
    services.decide(actor=reviewer_a, task=decide, outcome=Outcome.APPROVED)
    assert Case.objects.get(pk=case.pk).status == CaseStatus.DELIVERED


def test_a_task_done_twice_is_refused(citizen: User, clerk: User, reviewer_a: User, item: ItemVersion) -> None:
    case = _submit(citizen, item)
    services.accept(actor=clerk, case=case)
    task = case.tasks.get(step_code=StepCode.REVIEW)
    services.complete_step(actor=reviewer_a, task=task, opinion="ok")
    with pytest.raises(InvalidTransition):
        services.complete_step(actor=reviewer_a, task=task, opinion="ok again")
    assert case.tasks.filter(step_code=StepCode.DECIDE).count() == 1


def test_warnings_are_raised_once_yellow_then_red_and_reach_handler_and_supervisor(
    citizen: User, clerk: User, reviewer_a: User, supervisor: User, item: ItemVersion
) -> None:
    from yiwang.common import outbox

    case = _submit(citizen, item)
    services.accept(actor=clerk, case=case)
    review = case.tasks.get(step_code=StepCode.REVIEW)
    services.claim(actor=reviewer_a, task=review)
    review.refresh_from_db()
    # The review's own deadline is 2 working days after acceptance: Sep 29 (Sep 28 is the first).
    assert review.due == dt.date(2025, 9, 29)
    assert supervision.raise_warnings(actor=SCHEDULER, today=dt.date(2025, 9, 26)) == 0
    assert supervision.raise_warnings(actor=SCHEDULER, today=dt.date(2025, 9, 28)) == 1  # 1 working day left
    assert supervision.raise_warnings(actor=SCHEDULER, today=dt.date(2025, 9, 28)) == 0
    made = supervision.raise_warnings(actor=SCHEDULER, today=dt.date(2025, 10, 9))  # task and case overdue
    assert made == 2
    levels = sorted((r.level, r.task_id is not None) for r in SupervisionRecord.objects.all())
    assert levels == [(WarningLevel.RED, False), (WarningLevel.RED, True), (WarningLevel.YELLOW, True)]
    outbox.relay()
    assert Message.objects.filter(recipient=reviewer_a, kind="case.warning_red").exists()
    assert Message.objects.filter(recipient=supervisor, kind="case.warning_yellow").exists()


def test_a_paused_case_raises_no_warning(
    citizen: User, clerk: User, reviewer_a: User, published: Callable[..., ItemVersion]
) -> None:
    item = published(special_procedures=[{"name": "现场核查", "kind": "2", "counts_in_time_limit": False}])
    case = _submit(citizen, item)
    services.accept(actor=clerk, case=case)
    services.start_special_procedure(actor=reviewer_a, case=case, name="现场核查", reason="核查")
    assert supervision.raise_warnings(actor=SCHEDULER, today=dt.date(2025, 10, 20)) == 0


def test_supervisors_see_and_follow_up_only_their_region(
    citizen: User, clerk: User, supervisor: User, reviewer_b: User, auditor: User, item: ItemVersion
) -> None:
    case = _submit(citizen, item)
    services.accept(actor=clerk, case=case)
    supervision.raise_warnings(actor=SCHEDULER, today=dt.date(2025, 10, 20))
    records = list(selectors.supervision_records(supervisor))
    assert records and all(r.region_code.startswith("3301") for r in records)
    assert list(selectors.supervision_records(reviewer_b)) == []
    assert list(selectors.supervision_records(auditor)) == []
    with pytest.raises(InvalidInput):
        services.follow_up(actor=supervisor, record=records[0], note=" ")
    with pytest.raises(PermissionDenied):
        services.follow_up(actor=reviewer_b, record=records[0], note="催办")
    done = services.follow_up(actor=supervisor, record=records[0], note="已电话督办，要求今日办结")
    assert done.status == SupervisionStatus.FOLLOWED_UP
    overview = selectors.region_overview(supervisor, today=dt.date(2025, 10, 20))
    assert [(row.department_name, row.red) for row in overview] == [(case.department.name, 1)]


def test_queue_colours(citizen: User, clerk: User, item: ItemVersion) -> None:
    _submit(citizen, item)
    today = dt.date(2025, 9, 26)
    assert selectors.staff_queue(clerk, selectors.QueueFilter(colour="green"), today=today).count() == 1
    assert selectors.staff_queue(clerk, selectors.QueueFilter(colour="red"), today=dt.date(2025, 10, 13)).count() == 1
    yellow = selectors.QueueFilter(colour="yellow")
    assert selectors.staff_queue(clerk, yellow, today=dt.date(2025, 10, 9)).count() == 1
    assert CaseTask.objects.count() == 1


def test_the_colour_of_a_due_date() -> None:
    today = dt.date(2025, 9, 26)
    limit = dt.date(2025, 9, 28)
    assert supervision.colour(dt.date(2025, 9, 25), today, limit) == "red"
    assert supervision.colour(dt.date(2025, 9, 26), today, limit) == "yellow"
    assert supervision.colour(dt.date(2025, 9, 29), today, limit) == "green"
    assert supervision.colour(None, today, limit) == "none"


def test_only_the_lead_department_extends_a_joint_case(
    citizen: User, clerk: User, reviewer_a: User, reviewer_b: User, joint_item: ItemVersion
) -> None:
    case = _submit(citizen, joint_item)
    services.accept(actor=clerk, case=case)
    with pytest.raises(PermissionDenied):
        services.extend(actor=reviewer_b, case=case, days=2, reason="协办部门需要更多时间")
    services.extend(actor=reviewer_a, case=case, days=2, reason="经负责人批准延长")
    assert Case.objects.get(pk=case.pk).extension_days == 2
