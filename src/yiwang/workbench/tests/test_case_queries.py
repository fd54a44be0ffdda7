"""The staff case page reads each part of a case once: its query count has a ceiling (just above what it costs
now, so a regression fails) and does not grow with the case's history, materials or steps."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from yiwang.cases import services
from yiwang.cases.constants import StepCode
from yiwang.cases.models import Case
from yiwang.cases.services import Problem
from yiwang.catalogue.models import ItemVersion
from yiwang.workbench.tests.case_world import FRIDAY_BEFORE_NATIONAL_DAY, en, open_task, pdf, submitted

pytestmark = pytest.mark.django_db

StaffClient = Callable[[User], Client]

# What the page costs (sessions, the viewer's roles and account, the case, its tasks, materials, history,
# notices, procedures, warnings, colleagues), plus a little room: more is a part read twice or once a row.
PRE_REVIEW_QUERIES = 21
IN_REVIEW_QUERIES = 22


@pytest.fixture(autouse=True)
def clock() -> Iterator[Any]:
    with time_machine.travel(FRIDAY_BEFORE_NATIONAL_DAY, tick=True) as traveller:
        yield traveller


@pytest.fixture
def item(published: Callable[..., ItemVersion]) -> ItemVersion:
    return published(special_procedures=[{"name": "现场核查", "kind": "2", "counts_in_time_limit": False}])


def corrected(citizen: User, clerk: User, item: ItemVersion) -> Case:
    """Sent back once for a material and the phone, corrected and resubmitted: awaiting pre-review again."""
    case = submitted(citizen, item)
    services.request_correction(
        actor=clerk, case=case, problems=[Problem("签名缺失", slot=0), Problem("电话有误", field="phone")]
    )
    case.refresh_from_db()
    services.attach_material(actor=citizen, case=case, slot=0, upload=pdf("signed.pdf", b"signed"))
    services.save_draft(actor=citizen, case=case, data={**case.data, "phone": "13900000001"})
    return services.resubmit(actor=citizen, case=case)


def queries(client: Client, path: str) -> int:
    client.get(path)  # sessions, caches and the calendar warm
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return len(captured)


def test_the_case_page_at_pre_review(staff_client: StaffClient, citizen: User, clerk: User, item: ItemVersion) -> None:
    case = corrected(citizen, clerk, item)
    window = staff_client(clerk)
    count = queries(window, en("case", case.number))
    assert count <= PRE_REVIEW_QUERIES


def test_the_case_page_in_review(
    staff_client: StaffClient, citizen: User, clerk: User, reviewer_a: User, item: ItemVersion
) -> None:
    case = corrected(citizen, clerk, item)
    services.accept(actor=clerk, case=case)
    reviewer = staff_client(reviewer_a)
    page = en("case", case.number)
    count = queries(reviewer, page)
    assert count <= IN_REVIEW_QUERIES
    # More history, another procedure and a step returned and redone cost nothing more.
    case.refresh_from_db()
    services.extend(actor=reviewer_a, case=case, days=2, reason="情况复杂")
    services.start_special_procedure(actor=reviewer_a, case=case, name="现场核查", reason="核查经营场所")
    services.end_special_procedure(actor=reviewer_a, case=case, result="场所符合要求")
    services.complete_step(actor=reviewer_a, task=open_task(case, StepCode.REVIEW), opinion="同意")
    services.return_step(actor=reviewer_a, task=open_task(case, StepCode.DECIDE), reason="再核")
    assert queries(reviewer, page) == count
