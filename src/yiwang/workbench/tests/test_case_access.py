"""Who reaches the staff case pages: each page renders for its personas in Chinese and English; anonymous
visitors sign in first, citizens are refused, and department B sees nothing of department A's cases."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from yiwang.audit.actors import SCHEDULER
from yiwang.cases import services, supervision
from yiwang.cases.constants import CaseStatus, StepCode, TaskStatus
from yiwang.cases.models import Case, CaseTask, Notice, SupervisionRecord
from yiwang.catalogue.models import ItemVersion, Organisation
from yiwang.catalogue.tests.factories import OTHER_BODY_USCC
from yiwang.common.masking import mask_id_number
from yiwang.identity.tests.people import PEOPLE
from yiwang.workbench.tests.case_world import (
    FRIDAY_BEFORE_NATIONAL_DAY,
    accepted,
    en,
    html,
    open_task,
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


@dataclass(frozen=True)
class World:
    """Department A's case in review (with a supervision warning on it), as the pages' arguments."""

    case: Case
    task: CaseTask
    material_id: int
    notice: str
    record_id: int


@pytest.fixture
def world(citizen: User, clerk: User, item: ItemVersion) -> World:
    case = accepted(citizen, clerk, item)
    supervision.raise_warnings(actor=SCHEDULER, today=dt.date(2025, 10, 20))
    return World(
        case=case,
        task=open_task(case, StepCode.REVIEW),
        material_id=case.materials.get(slot=0).pk,
        notice=case.notices.get(kind="acceptance").number,
        record_id=SupervisionRecord.objects.filter(case=case).first().pk,  # type: ignore[union-attr]
    )


def pages(w: World) -> dict[str, tuple[str, ...]]:
    """Every GET page with its arguments."""
    number = w.case.number or ""
    return {
        "queue": (),
        "cases": (),
        "case": (number,),
        "case_material": (number, str(w.material_id)),
        "case_notice": (number, w.notice),
        "walk_in": (),
        "supervision": (),
    }


def actions(w: World) -> dict[str, tuple[tuple[Any, ...], dict[str, str]]]:
    """Every POST action with its arguments and a form that would succeed for the right persona."""
    number, task = w.case.number or "", w.task.pk
    return {
        "task_claim": ((task,), {"next": "queue"}),
        "case_correction": ((number,), {"problem-slot-0": "1", "reason-slot-0": "签名缺失"}),
        "case_accept": ((number,), {"note": ""}),
        "case_refuse": ((number,), {"reasons": "不属于本机关职权"}),
        "task_complete": ((number, task), {"opinion": "同意"}),
        "task_return": ((number, task), {"reason": "退回"}),
        "task_decide": ((number, task), {"outcome": "approved", "reasons": ""}),
        "task_assign": ((number, task), {"assignee": "1"}),
        "case_procedure_start": ((number,), {"name": "现场核查", "reason": "核查"}),
        "case_procedure_end": ((number,), {"result": "属实"}),
        "case_extend": ((number,), {"days": "2", "reason": "复杂"}),
        "case_deliver": ((number,), {"tracking_number": "SF1"}),
        "supervision_follow_up": ((w.record_id,), {"note": "督办"}),
    }


def _snapshot(w: World) -> tuple[Any, ...]:
    case = Case.objects.get(pk=w.case.pk)
    tasks = tuple(CaseTask.objects.filter(case=case).order_by("id").values_list("status", "assignee_id"))
    records = tuple(SupervisionRecord.objects.order_by("id").values_list("status", "follow_up"))
    return case.status, case.revision, case.paused_since, tasks, records, Notice.objects.count()


ALL_PAGES = ["queue", "cases", "case", "case_material", "case_notice", "walk_in", "supervision"]
ALL_ACTIONS = [
    "task_claim",
    "case_correction",
    "case_accept",
    "case_refuse",
    "task_complete",
    "task_return",
    "task_decide",
    "task_assign",
    "case_procedure_start",
    "case_procedure_end",
    "case_extend",
    "case_deliver",
    "supervision_follow_up",
]


@pytest.mark.parametrize("name", ALL_PAGES)
def test_anonymous_visitors_sign_in_first(client: Client, world: World, name: str) -> None:
    path = url(name, *pages(world)[name])
    response = client.get(path)
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert location.path == reverse("portal:login") and parse_qs(location.query)["next"] == [path]


@pytest.mark.parametrize("name", ALL_ACTIONS)
def test_anonymous_posts_change_nothing_and_lead_to_sign_in(client: Client, world: World, name: str) -> None:
    args, data = actions(world)[name]
    before = _snapshot(world)
    response = client.post(url(name, *args), data)
    assert response.status_code == 302 and urlsplit(response["Location"]).path == reverse("portal:login")
    assert _snapshot(world) == before


@pytest.mark.parametrize("name", ALL_PAGES)
def test_citizens_are_refused_every_page(client: Client, citizen: User, world: World, name: str) -> None:
    client.force_login(citizen)
    response = client.get(en(name, *pages(world)[name]))
    assert response.status_code == 403
    assert "The workbench is for government staff." in response.content.decode()


@pytest.mark.parametrize("name", ALL_ACTIONS)
def test_citizens_are_refused_every_action(client: Client, citizen: User, world: World, name: str) -> None:
    client.force_login(citizen)
    args, data = actions(world)[name]
    before = _snapshot(world)
    assert client.post(url(name, *args), data).status_code == 403
    assert _snapshot(world) == before


@pytest.mark.parametrize("name", ["case", "case_material", "case_notice"])
def test_department_b_does_not_find_department_a_cases(
    staff_client: StaffClient, reviewer_b: User, world: World, name: str
) -> None:
    assert staff_client(reviewer_b).get(url(name, *pages(world)[name])).status_code == 404


@pytest.mark.parametrize("name", [n for n in ALL_ACTIONS if n != "supervision_follow_up"])
def test_department_b_cannot_act_on_department_a_cases(
    staff_client: StaffClient, reviewer_b: User, world: World, name: str
) -> None:
    args, data = actions(world)[name]
    before = _snapshot(world)
    assert staff_client(reviewer_b).post(url(name, *args), data).status_code == 404
    assert _snapshot(world) == before


def test_department_b_lists_show_nothing_of_department_a(
    staff_client: StaffClient, reviewer_b: User, world: World
) -> None:
    client = staff_client(reviewer_b)
    number = world.case.number or ""
    assert number not in html(client, url("queue"))
    assert number not in html(client, url("cases"))
    searched = html(client, en("cases") + f"?number={number}")
    assert f"No case numbered {number} among your department" in searched
    assert url("case", number) not in searched
    assert client.get(url("walk_in")).status_code == 403  # not a window clerk
    assert client.get(url("supervision")).status_code == 403  # not a supervisor
    assert client.post(url("supervision_follow_up", world.record_id), {"note": "x"}).status_code == 403


@pytest.mark.parametrize(
    ("persona", "allowed"),
    [
        ("clerk", {"queue", "cases", "case", "case_material", "case_notice", "walk_in"}),
        ("reviewer_a", {"queue", "cases", "case", "case_material", "case_notice"}),
        ("supervisor", {"case", "case_notice", "supervision"}),
        ("auditor", set()),
    ],
)
def test_each_page_renders_for_its_personas_in_both_languages(
    request: pytest.FixtureRequest, staff_client: StaffClient, world: World, persona: str, allowed: set[str]
) -> None:
    client = staff_client(request.getfixturevalue(persona))
    for name, args in pages(world).items():
        for path, lang in ((url(name, *args), "zh-Hans"), (en(name, *args), "en")):
            response = client.get(path)
            expected = 200 if name in allowed else 403
            assert response.status_code == expected, (persona, path, response.status_code)
            if expected == 200 and response["Content-Type"].startswith("text/html"):
                assert f'<html lang="{lang}">' in response.content.decode(), path


def test_english_pages_are_in_english(staff_client: StaffClient, reviewer_a: User, world: World) -> None:
    client = staff_client(reviewer_a)
    queue = html(client, en("queue"))
    assert "My queue" in queue and "Case number" in queue and "Review" in queue
    page = html(client, en("case", world.case.number))
    for text in ("Process flow of this case", "Application form", "Materials", "Timeline", "Notices", "Your actions"):
        assert text in page, text
    assert "Notice of acceptance" in page and "Applicant&#x27;s name" in page


def test_the_navigation_links_follow_the_roles(
    staff_client: StaffClient, clerk: User, reviewer_a: User, supervisor: User, world: World
) -> None:
    links = {name: f'href="{url(name)}"' for name in ("queue", "cases", "walk_in", "supervision")}
    expected = {
        clerk: {"queue", "cases", "walk_in"},
        reviewer_a: {"queue", "cases"},
        supervisor: {"supervision"},
    }
    for user, names in expected.items():
        page = html(staff_client(user), url("home"))
        assert {n for n, link in links.items() if link in page} == names, user.username


def test_supervisors_see_the_case_file_with_identifiers_masked_and_no_actions(
    staff_client: StaffClient, supervisor: User, clerk: User, world: World
) -> None:
    number = PEOPLE["citizen"].id_number
    page = html(staff_client(supervisor), en("case", world.case.number))
    assert number not in page and mask_id_number(number) in page
    assert "Your actions" not in page
    assert number in html(staff_client(clerk), en("case", world.case.number))


def test_a_joint_step_shows_each_department_and_each_acts_only_on_its_own(
    staff_client: StaffClient,
    citizen: User,
    clerk: User,
    reviewer_a: User,
    reviewer_b: User,
    published: Callable[..., ItemVersion],
    department_a: Organisation,
    department_b: Organisation,
) -> None:
    joint = published(co_implementing_bodies=[{"name": department_b.name, "uscc": OTHER_BODY_USCC, "nature": "1"}])
    case = submitted(citizen, joint)
    assert staff_client(reviewer_b).get(url("case", case.number)).status_code == 404  # not involved yet
    services.accept(actor=clerk, case=case)
    a_task = open_task(case, StepCode.REVIEW, department_a)
    b_task = open_task(case, StepCode.REVIEW, department_b)

    page = html(staff_client(reviewer_b), en("case", case.number))
    # The flow's joint step: a box per department, both in progress, named in the description.
    assert page.count('class="flow-box state-current"') == 2
    assert f"Review ({department_a.name}: In progress; {department_b.name}: In progress)" in page
    assert f'action="{en("task_complete", case.number, b_task.pk)}"' in page
    assert f'action="{en("task_complete", case.number, a_task.pk)}"' not in page
    response = staff_client(reviewer_b).post(url("task_complete", case.number, a_task.pk), {"opinion": "同意"})
    assert response.status_code == 404
    assert CaseTask.objects.get(pk=a_task.pk).status == TaskStatus.OPEN

    assert (
        staff_client(reviewer_b).post(url("task_complete", case.number, b_task.pk), {"opinion": "会签同意"}).status_code
        == 302
    )
    page = html(staff_client(reviewer_a), en("case", case.number))
    assert f"Review ({department_a.name}: In progress; {department_b.name}: Done)" in page
    assert Case.objects.get(pk=case.pk).status == CaseStatus.ACCEPTED
