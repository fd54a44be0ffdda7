"""The applicant's case page reads each part of a case once: its query count has a ceiling (just above what it
costs now, so a regression fails) and does not grow with the case's history or materials."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import time_machine
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from yiwang.cases import services
from yiwang.cases.constants import StepCode, TaskStatus
from yiwang.cases.models import Case
from yiwang.cases.services import Problem
from yiwang.cases.tests.conftest import FRIDAY_BEFORE_NATIONAL_DAY, pdf, start
from yiwang.catalogue.models import ItemVersion

pytestmark = pytest.mark.django_db

# What the page costs (the session, the person and their principals, the case, its open tasks, history,
# notices and materials), plus a little room: more is a part read twice or once a row.
CASE_PAGE_QUERIES = 19


@pytest.fixture(autouse=True)
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(FRIDAY_BEFORE_NATIONAL_DAY, tick=True) as traveller:
        yield traveller


def queries(client: Client, path: str) -> int:
    client.get(path)  # sessions, caches and the calendar warm
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return len(captured)


def test_the_case_page(citizen: User, clerk: User, reviewer_a: User, published: Callable[..., ItemVersion]) -> None:
    case = start(citizen, published())
    services.attach_material(actor=citizen, case=case, slot=0, upload=pdf("application.pdf", b"a"))
    services.attach_material(actor=citizen, case=case, slot=1, upload=pdf("id.pdf", b"b"))
    case = services.submit(actor=citizen, case=case)
    services.request_correction(actor=clerk, case=case, problems=[Problem("签名缺失", slot=0)])
    case.refresh_from_db()
    services.attach_material(actor=citizen, case=case, slot=0, upload=pdf("signed.pdf", b"signed"))
    case = services.resubmit(actor=citizen, case=case)
    services.accept(actor=clerk, case=case)
    client = Client()
    client.force_login(citizen)
    page = f"/en/my/cases/{case.number}/"
    count = queries(client, page)
    assert count <= CASE_PAGE_QUERIES
    case.refresh_from_db()
    services.extend(actor=reviewer_a, case=case, days=2, reason="情况复杂")
    services.complete_step(
        actor=reviewer_a, task=case.tasks.get(step_code=StepCode.REVIEW, status=TaskStatus.OPEN), opinion="同意"
    )
    assert queries(client, page) == count
    assert Case.objects.get(pk=case.pk).status == "accepted"
