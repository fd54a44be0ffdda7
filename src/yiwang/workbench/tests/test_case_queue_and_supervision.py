"""Deadline colours in the queue and on the home page, and the supervisors' page: their region only, a chart
with the same numbers in a table, and follow-ups that refuse an empty note."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import User
from django.test import Client

from yiwang.audit.actors import SCHEDULER
from yiwang.cases import services, supervision
from yiwang.cases.constants import SupervisionStatus, WarningLevel
from yiwang.cases.models import Case, SupervisionRecord
from yiwang.cases.tests.conftest import SHANGHAI
from yiwang.catalogue.models import ItemVersion, Organisation
from yiwang.identity import services as identity
from yiwang.identity.constants import Role
from yiwang.workbench.tests.case_world import (
    FRIDAY_BEFORE_NATIONAL_DAY,
    SYSTEM,
    accepted,
    department_b_item,
    en,
    html,
    submitted,
    url,
)

pytestmark = pytest.mark.django_db

StaffClient = Callable[[User], Client]


@pytest.fixture(autouse=True)
def clock() -> Iterator[Any]:
    with time_machine.travel(FRIDAY_BEFORE_NATIONAL_DAY, tick=True) as traveller:
        yield traveller


def at(day: dt.date) -> Any:
    return time_machine.travel(dt.datetime(day.year, day.month, day.day, 10, 0, tzinfo=SHANGHAI), tick=True)


@pytest.fixture
def three_colours(citizen: User, published: Callable[..., ItemVersion]) -> dict[str, Case]:
    """Three applications awaiting pre-review, seen on Thursday 2025-10-09 (the warning window ends on Oct 10):
    received Sep 22 (answer due Sep 28: overdue), Sep 26 (due Oct 10: due soon), Oct 9 (due Oct 15: in time)."""
    with at(dt.date(2025, 9, 22)):
        item = published()
        red = submitted(citizen, item)
    with at(dt.date(2025, 9, 26)):
        yellow = submitted(citizen, item)
    with at(dt.date(2025, 10, 9)):
        green = submitted(citizen, item)
    assert (red.acceptance_due, yellow.acceptance_due, green.acceptance_due) == (
        dt.date(2025, 9, 28),
        dt.date(2025, 10, 10),
        dt.date(2025, 10, 15),
    )
    return {"red": red, "yellow": yellow, "green": green}


def test_the_queue_filters_by_deadline_colour_with_counts(
    staff_client: StaffClient, clerk: User, three_colours: dict[str, Case]
) -> None:
    with at(dt.date(2025, 10, 9)):
        window = staff_client(clerk)
        everything = html(window, en("queue"))
        for colour, case in three_colours.items():
            assert str(case.number) in everything
            page = html(window, en("queue") + f"?colour={colour}")
            shown = {c for c, other in three_colours.items() if str(other.number) in page}
            assert shown == {colour}, colour
            assert f'class="deadline deadline-{colour}"' in page
        for label, count in (("All", 3), ("Overdue", 1), ("Due soon", 1), ("On time", 1)):
            assert f'{label} <span class="filter-count">{count}</span>' in everything, label
        # Filters combine: the step filter keeps the colour counts to that step.
        review_only = html(window, en("queue") + "?step=review")
        assert "No open tasks match these filters." in review_only
        assert 'All <span class="filter-count">0</span>' in review_only
        # Unknown filter values are ignored, not errors.
        assert html(window, en("queue") + "?colour=purple&step=nope").count("deadline-label") == 3


def test_mine_lists_only_the_tasks_i_took(
    staff_client: StaffClient, clerk: User, three_colours: dict[str, Case]
) -> None:
    with at(dt.date(2025, 10, 9)):
        task = three_colours["yellow"].tasks.get()
        services.claim(actor=clerk, task=task)
        page = html(staff_client(clerk), en("queue") + "?mine=1")
        assert str(three_colours["yellow"].number) in page
        assert str(three_colours["red"].number) not in page and str(three_colours["green"].number) not in page


def test_the_home_page_counts_my_queue_by_colour(
    staff_client: StaffClient, clerk: User, supervisor: User, three_colours: dict[str, Case]
) -> None:
    with at(dt.date(2025, 10, 9)):
        page = html(staff_client(clerk), en("home"))
        assert "3 open tasks wait for your department." in page
        assert "1 overdue" in page and "1 due soon" in page
        assert "open tasks wait" not in html(staff_client(supervisor), en("home"))  # supervisors have no queue


@pytest.fixture
def warnings(
    citizen: User, clerk: User, item_b_clerk: User, published: Callable[..., ItemVersion], department_b: Organisation
) -> dict[str, Case]:
    """An accepted case in 西湖区 (杭州) and one in 任城区 (济宁), both overdue on Oct 20 and warned about."""
    a_case = accepted(citizen, clerk, published())
    b_case = accepted(citizen, item_b_clerk, department_b_item(department_b))
    supervision.raise_warnings(actor=SCHEDULER, today=dt.date(2025, 10, 20))
    assert SupervisionRecord.objects.filter(case=b_case).exists()
    return {"a": a_case, "b": b_case}


@pytest.fixture
def item_b_clerk(roles: None, department_b: Organisation) -> User:
    return identity.create_staff(
        actor=SYSTEM,
        username="clerk-b",
        name="clerk-b",
        department=department_b,
        division_code="370811",
        roles=[str(Role.WINDOW_CLERK)],
        password="correct horse battery staple",
    )


def test_supervisors_see_warnings_and_load_of_their_region_only(
    staff_client: StaffClient, supervisor: User, warnings: dict[str, Case], department_a: Organisation
) -> None:
    with at(dt.date(2025, 10, 20)):
        page = html(staff_client(supervisor), en("supervision"))
    assert str(warnings["a"].number) in page
    assert str(warnings["b"].number) not in page
    assert "济宁" not in page
    # The chart has a title, and the same numbers stand in a table: A's review is overdue, nothing else open.
    assert '<title id="load-chart-title">Open tasks by department: overdue, due soon and other</title>' in page
    row = (
        f'<tr><th scope="row">{department_a.name}</th><td class="num">1</td><td class="num">0</td>'
        '<td class="num">0</td><td class="num">1</td></tr>'
    )
    assert row in page
    # The supervisor may open the warned case.
    assert staff_client(supervisor).get(url("case", warnings["a"].number)).status_code == 200
    assert staff_client(supervisor).get(url("case", warnings["b"].number)).status_code == 404


def test_the_warnings_filter_by_level_and_status(
    staff_client: StaffClient, supervisor: User, warnings: dict[str, Case]
) -> None:
    client = staff_client(supervisor)
    red = html(client, en("supervision") + "?level=red")
    assert str(warnings["a"].number) in red and "2 warnings" in red  # the review task's and the case's
    assert "No warnings match these filters." in html(client, en("supervision") + "?level=yellow")
    assert "No warnings match these filters." in html(client, en("supervision") + "?status=followed_up")


def test_a_follow_up_needs_a_note_and_is_recorded(
    staff_client: StaffClient, supervisor: User, warnings: dict[str, Case]
) -> None:
    client = staff_client(supervisor)
    record = SupervisionRecord.objects.filter(case=warnings["a"]).order_by("id").first()
    assert record is not None
    response = client.post(en("supervision_follow_up", record.pk), {"note": "  ", "level": "red"})
    assert response.status_code == 400
    assert "Give the reason." in response.content.decode()
    record.refresh_from_db()
    assert record.status == SupervisionStatus.OPEN and record.follow_up == ""

    response = client.post(
        url("supervision_follow_up", record.pk), {"note": "已电话督办，要求今日办结", "level": "red"}
    )
    assert response.status_code == 302 and response["Location"] == url("supervision") + "?level=red"
    record.refresh_from_db()
    assert record.status == SupervisionStatus.FOLLOWED_UP
    assert record.follow_up == "已电话督办，要求今日办结" and record.followed_by == supervisor
    assert "已电话督办" in html(client, en("case", warnings["a"].number))  # the case file shows it too


def test_a_follow_up_outside_the_region_is_not_found(
    staff_client: StaffClient, supervisor: User, warnings: dict[str, Case]
) -> None:
    record = SupervisionRecord.objects.filter(case=warnings["b"], level=WarningLevel.RED).first()
    assert record is not None
    response = staff_client(supervisor).post(url("supervision_follow_up", record.pk), {"note": "越权督办"})
    assert response.status_code == 404
    record.refresh_from_db()
    assert record.status == SupervisionStatus.OPEN and record.follow_up == ""


def test_without_the_working_day_calendar_only_overdue_is_marked(staff_client: StaffClient, clerk: User) -> None:
    from yiwang.cases import progress

    now = progress.clock(dt.date(2099, 6, 1))  # a year no holiday notice covers yet
    assert not now.covered
    assert now.deadline(dt.date(2099, 5, 29)).colour == "red"
    # Whether a later date is near is unknown: neither yellow nor green is guessed.
    assert now.deadline(dt.date(2099, 6, 1)).state == now.deadline(dt.date(2099, 6, 30)).state == "uncovered"
    with at(dt.date(2099, 6, 1)):
        page = html(staff_client(clerk), en("queue") + "?colour=yellow")
    assert "The working-day calendar does not yet cover the coming days." in page
    assert 'class="filter filter-yellow"' not in page and 'class="filter filter-red"' in page


def test_a_stopped_clock_is_said_instead_of_a_colour(
    staff_client: StaffClient, citizen: User, clerk: User, reviewer_a: User, published: Callable[..., ItemVersion]
) -> None:
    """While a non-counting special procedure runs, or corrections are awaited, no deadline is coloured (not even
    one whose stored date has passed): the clock stands still, as the supervision job sees it too."""
    item = published(special_procedures=[{"name": "现场核查", "kind": "2", "counts_in_time_limit": False}])
    case = accepted(citizen, clerk, item)
    services.start_special_procedure(actor=reviewer_a, case=case, name="现场核查", reason="核查经营场所")
    waiting = submitted(citizen, item)
    services.request_correction(actor=clerk, case=waiting, problems=[services.Problem("签名缺失", slot=0)])
    with at(dt.date(2025, 10, 20)):  # the promised date (Sep 30) and the review step's are long past
        reviewer = staff_client(reviewer_a)
        page = html(reviewer, en("case", case.number))
        assert "deadline-red" not in page and "Overdue" not in page
        assert page.count('<span class="deadline-label">Clock stopped</span>') >= 3  # promised, statutory, step
        queue = html(reviewer, en("queue"))
        assert str(case.number) in queue and "Clock stopped" in queue and "deadline-red" not in queue
        listed = html(staff_client(clerk), en("cases"))
        assert listed.count('<span class="deadline-label">Clock stopped</span>') == 2  # both cases
    assert supervision.raise_warnings(actor=SYSTEM, today=dt.date(2025, 10, 20)) == 0
