"""The staff queue and the applicant's list cost the same number of queries for 2 rows as for 6 (no N+1), and
the queue's colour counts are one aggregate (and one over paused cases), whatever the number of colours."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from yiwang.cases import selectors, services
from yiwang.cases.models import Case
from yiwang.cases.tests.conftest import pdf, start
from yiwang.catalogue.models import ItemVersion

pytestmark = pytest.mark.django_db


def _queries(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_queue_page_does_not_grow_with_its_rows(
    clerk: User, submitted: Callable[..., Case], staff_client: Callable[[User], Client]
) -> None:
    client = staff_client(clerk)
    for _ in range(2):
        submitted()
    few = _queries(client, "/workbench/queue/")
    for _ in range(4):
        submitted()
    assert _queries(client, "/workbench/queue/") == few


def test_my_cases_does_not_grow_with_its_rows(citizen: User, submitted: Callable[..., Case]) -> None:
    client = Client()
    client.force_login(citizen)
    for _ in range(2):
        submitted()
    few = _queries(client, "/my/cases/")
    for _ in range(4):
        submitted()
    assert _queries(client, "/my/cases/") == few


def test_queue_counts_are_two_queries_and_agree_with_the_filters(clerk: User, submitted: Callable[..., Case]) -> None:
    for _ in range(3):
        submitted()
    today = dt.date(2025, 10, 9)  # the acceptance tasks (due Oct 10) are yellow that day
    with CaptureQueriesContext(connection) as captured:
        counts = selectors.queue_counts(clerk, selectors.QueueFilter(), today=today)
    assert len([q for q in captured if "COUNT" in q["sql"].upper()]) == 2
    for colour in ("red", "yellow", "green"):
        listed = selectors.staff_queue(clerk, selectors.QueueFilter(colour=colour), today=today).count()
        assert counts[colour] == listed, colour
    assert counts[""] == 3 and counts["yellow"] == 3


def test_a_paused_case_is_in_the_queue_but_in_no_colour(
    clerk: User, reviewer_a: User, citizen: User, published: Callable[..., ItemVersion]
) -> None:
    item = published(special_procedures=[{"name": "现场核查", "kind": "2", "counts_in_time_limit": False}])
    cases = []
    for _ in range(2):
        case = start(citizen, item)
        services.attach_material(actor=citizen, case=case, slot=0, upload=pdf())
        case = services.submit(actor=citizen, case=case)
        services.accept(actor=clerk, case=case)
        cases.append(case)
    paused = cases[0]
    services.start_special_procedure(actor=reviewer_a, case=paused, name="现场核查", reason="核查经营场所")
    for today in (dt.date(2025, 9, 26), dt.date(2025, 12, 31)):  # both review tasks green, then both overdue
        counts = selectors.queue_counts(reviewer_a, selectors.QueueFilter(), today=today)
        assert counts[""] == 2
        assert counts["red"] + counts["yellow"] + counts["green"] == 1
        for colour in ("red", "yellow", "green"):
            listed = selectors.staff_queue(reviewer_a, selectors.QueueFilter(colour=colour), today=today)
            assert counts[colour] == listed.count(), colour
            assert paused.pk not in {task.case_id for task in listed}
        everything = selectors.staff_queue(reviewer_a, selectors.QueueFilter(), today=today)
        assert {task.case_id for task in everything} == {c.pk for c in cases}
