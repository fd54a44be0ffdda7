"""A case's history for both timelines (``cases.history``): read in one query with who acted, each move's label,
status and step, and what it changed in words."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from yiwang.cases import history, services
from yiwang.cases.constants import Outcome, StepCode, TaskStatus
from yiwang.cases.models import Case
from yiwang.cases.services import Problem
from yiwang.cases.tests.conftest import pdf
from yiwang.catalogue.handling import handling_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def decided(citizen: User, clerk: User, reviewer_a: User, submitted: Callable[..., Case]) -> Case:
    """Corrected once (a material and the phone), accepted, extended, approved and delivered electronically."""
    case = submitted()
    services.request_correction(
        actor=clerk, case=case, problems=[Problem("签名缺失", slot=0), Problem("电话有误", field="phone")]
    )
    case.refresh_from_db()
    services.attach_material(actor=citizen, case=case, slot=0, upload=pdf("signed.pdf", b"signed"))
    services.save_draft(actor=citizen, case=case, data={**case.data, "phone": "13900000001"})
    case = services.resubmit(actor=citizen, case=case)
    services.accept(actor=clerk, case=case)
    case.refresh_from_db()
    services.extend(actor=reviewer_a, case=case, days=2, reason="情况复杂")
    services.complete_step(
        actor=reviewer_a, task=case.tasks.get(step_code=StepCode.REVIEW, status=TaskStatus.OPEN), opinion="同意"
    )
    services.decide(
        actor=reviewer_a,
        task=case.tasks.get(step_code=StepCode.DECIDE, status=TaskStatus.OPEN),
        outcome=Outcome.APPROVED,
    )
    return Case.objects.select_related("version", "department").get(pk=case.pk)


def test_every_move_in_order_with_its_words(decided: Case, reviewer_a: User) -> None:
    with translation.override("en"):
        events = history.events(decided, "en")
    assert [e.action for e in events] == [
        "submit",
        "request_correction",
        "resubmit",
        "accept",
        "extend",
        "advance",
        "decide",
        "deliver",
    ]
    by_action = {e.action: e for e in events}
    assert by_action["submit"].label == "submit" and by_action["submit"].status == "Awaiting pre-review"
    correction = by_action["request_correction"]
    assert correction.label == "ask for corrections" and correction.step == "Pre-review and acceptance"
    assert [p["reason"] for p in correction.problems] == ["签名缺失", "电话有误"]
    assert correction.details == ("个体工商户登记（备案）申请书: 签名缺失", "联系电话: 电话有误")
    resubmitted = by_action["resubmit"].details
    assert any(line.startswith("Changed fields: ") and "Phone number" in line for line in resubmitted)
    assert "New materials: 个体工商户登记（备案）申请书" in resubmitted
    assert by_action["extend"].details == ("Extended by 2 days",)
    assert by_action["extend"].reason == "情况复杂"
    assert by_action["decide"].outcome == "Approved" and by_action["decide"].details == ("Approved",)
    assert by_action["advance"].transition.actor == reviewer_a


def test_read_once_with_who_acted(decided: Case) -> None:
    handling = handling_for(decided.version)  # a page has the item's form already
    with CaptureQueriesContext(connection) as captured:
        events = history.events(decided, handling=handling)
        names = [e.transition.actor.account.real_name if e.transition.actor else "" for e in events]
        departments = [e.transition.department.name if e.transition.department else "" for e in events]
    assert len(captured) == 1
    with CaptureQueriesContext(connection) as captured:
        history.events(decided)
    assert len(captured) == 2  # the form too, once, to name the fields the resubmission changed
    assert any(names) and any(departments)


def test_the_fields_the_last_resubmission_changed(decided: Case, submitted: Callable[..., Case]) -> None:
    events = history.events(decided)
    assert "phone" in history.changed_fields(decided, events)
    assert history.latest(events, "resubmit") is not None
    first_round = submitted()
    assert history.changed_fields(first_round, history.events(first_round)) == set()
