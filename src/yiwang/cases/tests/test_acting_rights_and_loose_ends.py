"""Defects a review found, each pinned: acting rights per item, the lead decides, nothing left open behind a
finished case, a warning backlog never hides new work, a job that goes on past one bad case."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.utils import timezone

from yiwang.audit.actors import SCHEDULER
from yiwang.cases import services, supervision
from yiwang.cases.constants import CaseStatus, StepCode, SupervisionStatus, TaskStatus
from yiwang.cases.models import Case, SupervisionRecord
from yiwang.cases.services import _clean_filename
from yiwang.cases.tests.conftest import pdf, start
from yiwang.catalogue.models import ItemVersion
from yiwang.common import outbox
from yiwang.common.errors import PermissionDenied
from yiwang.identity import services as identity
from yiwang.identity.constants import Role
from yiwang.identity.tests.people import PEOPLE
from yiwang.notifications.models import Message

pytestmark = pytest.mark.django_db


def _proxy(citizen: User, agent: User, *, items: list[str]) -> None:
    """张三 appoints 李四 his proxy (委托代办) for the listed items only."""
    identity.grant_agency(
        actor=citizen,
        agent_id_number=PEOPLE["agent"].id_number,
        agent_name=PEOPLE["agent"].name,
        item_codes=items,
        valid_until=timezone.now() + dt.timedelta(days=30),
    )


def test_a_proxy_acts_only_for_the_items_the_agency_covers(
    citizen: User, agent: User, submitted: Callable[..., Case], item: ItemVersion, published: Callable[..., ItemVersion]
) -> None:
    other = published(name="食品经营许可", basic_code="000131017000", handling_item_code="00013101700001")
    case = submitted()
    draft = start(citizen, item)
    _proxy(citizen, agent, items=[other.basic_code])
    for act in (
        lambda: services.withdraw(actor=agent, case=case),
        lambda: services.attach_material(actor=agent, case=draft, slot=0, upload=pdf()),
        lambda: services.discard_draft(actor=agent, case=draft),
    ):
        with pytest.raises(PermissionDenied):
            act()
    assert Case.objects.get(pk=case.pk).status == CaseStatus.SUBMITTED
    from yiwang.identity.models import Agency

    identity.revoke_agency(actor=citizen, agency=Agency.objects.get(agent=agent, principal_user=citizen))
    _proxy(citizen, agent, items=[item.basic_code])
    services.withdraw(actor=agent, case=case)
    assert Case.objects.get(pk=case.pk).status == CaseStatus.WITHDRAWN


def test_a_former_agent_hears_no_more_of_the_case(
    agent: User, enterprise_rep: User, clerk: User, item: ItemVersion
) -> None:
    from yiwang.identity.models import Agency

    agency = Agency.objects.get(agent=agent)
    case = start(agent, item, agency_id=agency.pk)
    services.attach_material(actor=agent, case=case, slot=0, upload=pdf())
    case = services.submit(actor=agent, case=case)
    identity.revoke_agency(actor=enterprise_rep, agency=agency)
    services.accept(actor=clerk, case=case)
    outbox.relay()
    assert Message.objects.filter(recipient=agent, kind="case.submitted").exists()
    assert not Message.objects.filter(recipient=agent, kind="case.accepted").exists()
    assert Message.objects.filter(recipient=enterprise_rep, kind="case.accepted").exists()


def test_withdrawing_during_a_special_procedure_ends_it_and_warnings_close(
    citizen: User, clerk: User, reviewer_a: User, published: Callable[..., ItemVersion]
) -> None:
    item = published(special_procedures=[{"name": "现场核查", "kind": "2", "counts_in_time_limit": True}])
    case = start(citizen, item)
    services.attach_material(actor=citizen, case=case, slot=0, upload=pdf())
    case = services.submit(actor=citizen, case=case)
    services.accept(actor=clerk, case=case)
    services.start_special_procedure(actor=reviewer_a, case=case, name="现场核查", reason="核查")
    assert supervision.raise_warnings(actor=SCHEDULER, today=dt.date(2025, 10, 20)) == 2
    services.withdraw(actor=citizen, case=case)
    case.refresh_from_db()
    assert case.paused_since is None
    assert not case.special_procedures.filter(ended_on__isnull=True).exists()
    assert set(SupervisionRecord.objects.values_list("status", flat=True)) == {SupervisionStatus.CLOSED}


def test_a_done_task_closes_its_warnings(
    citizen: User, clerk: User, reviewer_a: User, submitted: Callable[..., Case]
) -> None:
    case = submitted()
    services.accept(actor=clerk, case=case)
    supervision.raise_warnings(actor=SCHEDULER, today=dt.date(2025, 9, 28))
    review = case.tasks.get(step_code=StepCode.REVIEW)
    assert SupervisionRecord.objects.get(task=review).status == SupervisionStatus.OPEN
    services.complete_step(actor=reviewer_a, task=review, opinion="同意")
    assert SupervisionRecord.objects.get(task=review).status == SupervisionStatus.CLOSED


def test_a_backlog_of_warned_work_does_not_hide_new_work(
    citizen: User, clerk: User, submitted: Callable[..., Case]
) -> None:
    first, second = submitted(), submitted()
    for case in (first, second):
        services.accept(actor=clerk, case=case)
    today = dt.date(2025, 10, 20)
    # One row per run: the oldest overdue task, then the next one, never the first again.
    assert supervision.raise_warnings(actor=SCHEDULER, today=today, batch=1) == 2  # a task and a case
    assert supervision.raise_warnings(actor=SCHEDULER, today=today, batch=1) == 2
    assert supervision.raise_warnings(actor=SCHEDULER, today=today, batch=1) == 0
    assert {r.case_id for r in SupervisionRecord.objects.filter(task__isnull=False)} == {first.pk, second.pk}


def test_the_decision_is_the_lead_departments(
    citizen: User, clerk: User, reviewer_a: User, reviewer_b: User, published: Callable[..., ItemVersion]
) -> None:
    from yiwang.cases.models import CaseTask

    item = published()
    case = start(citizen, item)
    services.attach_material(actor=citizen, case=case, slot=0, upload=pdf())
    case = services.submit(actor=citizen, case=case)
    services.accept(actor=clerk, case=case)
    services.complete_step(actor=reviewer_a, task=case.tasks.get(step_code=StepCode.REVIEW), opinion="同意")
    # A decide task that somehow belongs to another department (e.g. an old parallel plan) cannot decide.
    decide = case.tasks.get(step_code=StepCode.DECIDE)
    CaseTask.objects.filter(pk=decide.pk).update(department=reviewer_b.account.department)
    with pytest.raises(PermissionDenied):
        services.decide(actor=reviewer_b, task=decide, outcome="denied", reasons="不同意")
    assert Case.objects.get(pk=case.pk).status == CaseStatus.ACCEPTED


def test_an_approver_without_the_reviewer_role_extends_at_the_review_step(
    system: object, clerk: User, submitted: Callable[..., Case]
) -> None:
    case = submitted()
    services.accept(actor=clerk, case=case)
    head = identity.create_staff(
        actor=system,  # type: ignore[arg-type]
        username="head",
        name="孙主任",
        department=case.department,
        division_code="330106",
        roles=[str(Role.APPROVER)],
        password="Another-Passw0rd!",
    )
    services.extend(actor=head, case=case, days=3, reason="情况复杂，经负责人批准")
    assert Case.objects.get(pk=case.pk).extension_days == 3
    review = case.tasks.get(step_code=StepCode.REVIEW, status=TaskStatus.OPEN)
    reviewer = identity.create_staff(
        actor=system,  # type: ignore[arg-type]
        username="reviewer-2",
        name="李审",
        department=case.department,
        division_code="330106",
        roles=[str(Role.REVIEWER)],
        password="Another-Passw0rd!",
    )
    assert services.assign(actor=head, task=review, assignee=reviewer).assignee_id == reviewer.pk


def test_one_case_the_calendar_cannot_cover_does_not_stop_the_others(
    citizen: User, published: Callable[..., ItemVersion]
) -> None:
    import time_machine

    from yiwang.cases.tests.conftest import SHANGHAI
    from yiwang.common.calendar import library_covers

    year = 2004
    while library_covers(dt.date(year + 1, 1, 1)):
        year += 1
    with time_machine.travel(dt.datetime(year, 12, 15, 10, 0, tzinfo=SHANGHAI), tick=False):
        long = published(
            time_limits={
                "statutory": {"value": 30, "unit": "working_day"},
                "promised": {"value": 20, "unit": "working_day"},
            }
        )
        short = published(
            time_limits={
                "statutory": {"value": 3, "unit": "working_day"},
                "promised": {"value": 2, "unit": "working_day"},
            }
        )
        cases = []
        for item in (long, short):  # the one reaching into next year is first in line
            case = start(citizen, item)
            services.attach_material(actor=citizen, case=case, slot=0, upload=pdf())
            cases.append(services.submit(actor=citizen, case=case))
        assert services.deem_overdue_acceptances(actor=SCHEDULER, today=dt.date(year, 12, 29)) == 1
    stuck, fine = (Case.objects.get(pk=c.pk) for c in cases)
    assert stuck.status == CaseStatus.SUBMITTED
    assert fine.status == CaseStatus.ACCEPTED and fine.deemed_accepted


@pytest.mark.parametrize("name", ["..", ".", "..?", "", "///", "a/../b.pdf"])
def test_path_like_file_names_become_a_plain_name(name: str) -> None:
    cleaned = _clean_filename(name)
    assert cleaned.strip(".") and "/" not in cleaned


def test_a_material_named_dot_dot_is_stored_safely(citizen: User, item: ItemVersion) -> None:
    case = start(citizen, item)
    material = services.attach_material(actor=citizen, case=case, slot=0, upload=pdf("..?"))
    assert material.file is not None and material.file.original_name == "material"
