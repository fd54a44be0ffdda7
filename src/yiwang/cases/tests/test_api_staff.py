"""The staff side of the cases API: the queue, the case file, every handling action and supervision, with the
second factor required; each bad input refused with a 400 naming the field and the case left as it was."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from yiwang.audit.actors import SCHEDULER
from yiwang.cases import services, supervision
from yiwang.cases.constants import CaseStatus, DeliveryMethod, StepCode, SupervisionStatus, TaskStatus
from yiwang.cases.models import Case, CaseTask, CaseTransition, Notice, SupervisionRecord
from yiwang.cases.tests.conftest import pdf, start
from yiwang.catalogue.models import ItemVersion
from yiwang.identity.tests.people import PEOPLE

pytestmark = pytest.mark.django_db

TASKS = "/api/v1/staff/tasks/"
STAFF_CASES = "/api/v1/staff/cases/"


class Staff:
    """A staff member's session with TOTP passed, speaking JSON (English unless asked otherwise)."""

    def __init__(self, client: Client) -> None:
        self.client = client

    def get(self, url: str, **extra: Any) -> Any:
        return self.client.get(url, HTTP_ACCEPT_LANGUAGE="en", **extra)

    def post(self, url: str, data: dict[str, Any] | None = None) -> Any:
        return self.client.post(url, data or {}, content_type="application/json", HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture
def as_staff(staff_client: Callable[[User], Client]) -> Callable[[User], Staff]:
    return lambda user: Staff(staff_client(user))


def _open_task(case: Case, step: str) -> CaseTask:
    return case.tasks.get(step_code=step, status=TaskStatus.OPEN)


def _accepted(clerk: User, submitted: Callable[..., Case], **kwargs: Any) -> Case:
    case = submitted(**kwargs)
    services.accept(actor=clerk, case=case)
    case.refresh_from_db()
    return case


def _fields(response: Any) -> list[str]:
    return [e["field"] for e in response.json()["errors"]]


# --- second factor, queue, case file --------------------------------------------------------------------------


def test_staff_without_the_second_factor_are_refused(clerk: User) -> None:
    client = Client()
    client.force_login(clerk)  # password only
    response = client.get(TASKS, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 403
    assert response.json()["detail"] == "Staff must confirm the second factor (TOTP) first."


def test_the_queue_lists_my_departments_tasks_with_colour_and_filters(
    clerk: User, as_staff: Callable[[User], Staff], submitted: Callable[..., Case]
) -> None:
    case = submitted()
    staff = as_staff(clerk)
    body = staff.get(TASKS).json()
    assert body["count"] == 1
    task = body["results"][0]
    assert (task["case_number"], task["item_name"]) == (case.number, case.item_name)
    assert task["step"] == {"code": "accept", "label": "Pre-review and acceptance"}
    assert task["due"] == "2025-10-10" and task["colour"] == "green" and task["assignee"] is None
    assert staff.get(TASKS, data={"colour": "red"}).json()["count"] == 0
    assert staff.get(TASKS, data={"step": "review"}).json()["count"] == 0
    assert staff.get(TASKS, data={"mine": "true"}).json()["count"] == 0
    claimed = staff.post(f"{TASKS}{task['id']}/claim/")
    assert claimed.status_code == 200
    mine = staff.get(TASKS, data={"mine": "true"}).json()["results"]
    assert [t["assignee"] for t in mine] == ["clerk"]
    bad = staff.get(TASKS, data={"colour": "purple"})
    assert bad.status_code == 400 and _fields(bad) == ["colour"]


def test_the_queue_turns_yellow_then_red_as_the_deadline_nears(
    clerk: User, as_staff: Callable[[User], Staff], submitted: Callable[..., Case], clock: Any
) -> None:
    submitted()
    # Signed in on the day: staff sessions last 30 minutes (YIWANG_SESSION_SECONDS).
    clock.move_to(dt.datetime(2025, 10, 9, 10, 0, tzinfo=dt.UTC))  # one working day before Oct 10
    assert [t["colour"] for t in as_staff(clerk).get(TASKS).json()["results"]] == ["yellow"]
    clock.move_to(dt.datetime(2025, 10, 13, 10, 0, tzinfo=dt.UTC))
    assert [t["colour"] for t in as_staff(clerk).get(TASKS, data={"colour": "red"}).json()["results"]] == ["red"]


def test_the_case_file_shows_identifiers_to_handlers_and_masks_them_for_supervisors(
    clerk: User, supervisor: User, as_staff: Callable[[User], Staff], citizen: User, item: ItemVersion
) -> None:
    case = start(citizen, item)
    services.attach_material(actor=citizen, case=case, slot=0, upload=pdf())
    case = services.submit(actor=citizen, case=case)  # slot 1 missing: an automatic finding
    number, phone = PEOPLE["citizen"].id_number, PEOPLE["citizen"].phone
    handled = as_staff(clerk).get(f"{STAFF_CASES}{case.number}/").json()
    assert handled["data"]["applicant_id_number"] == number and handled["data"]["phone"] == phone
    assert handled["applicant"]["id_number"] == number
    assert handled["auto_findings"] == [
        {"code": "material_missing", "slot": 1, "message": "The required material “经营者身份证明” is missing."}
    ]
    assert [(t["step"]["code"], t["status"]["code"], t["department"]) for t in handled["tasks"]] == [
        ("accept", "open", "杭州市西湖区市场监督管理局")
    ]
    assert handled["timeline"][0]["actor"] == citizen.get_username()
    assert handled["notices"][0]["pdf_url"].startswith(f"{STAFF_CASES}{case.number}/notices/")
    supervised = as_staff(supervisor).get(f"{STAFF_CASES}{case.number}/").json()
    assert supervised["data"]["applicant_id_number"] == number[:4] + "*" * 10 + number[-4:]
    assert supervised["data"]["phone"] == phone[:3] + "****" + phone[-4:]
    assert supervised["applicant"]["id_number"] == number[:4] + "*" * 10 + number[-4:]
    assert number not in str(supervised) and phone not in str(supervised)


def test_staff_download_the_notices_of_cases_they_see(
    clerk: User, reviewer_b: User, as_staff: Callable[[User], Staff], submitted: Callable[..., Case]
) -> None:
    case = submitted()
    url = f"{STAFF_CASES}{case.number}/notices/{case.notices.get().number}.pdf"
    response = as_staff(clerk).get(url)
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert as_staff(reviewer_b).get(url).status_code == 404


# --- the window: corrections, acceptance, refusal, delivery ---------------------------------------------------


def test_one_correction_notice_through_the_api(
    clerk: User, as_staff: Callable[[User], Staff], submitted: Callable[..., Case]
) -> None:
    case = submitted()
    problems = [{"slot": 0, "reason": "签名缺失"}, {"field": "phone", "reason": "无法接通"}]
    response = as_staff(clerk).post(f"{STAFF_CASES}{case.number}/correction/", {"problems": problems})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"]["code"] == "correction"
    correction = Notice.objects.get(case=case, kind="correction")
    # The notice names each subject as the form and the material list do (frozen in the notice).
    assert [p["subject"] for p in correction.content["problems"]] == ["个体工商户登记（备案）申请书", "联系电话"]


@pytest.mark.parametrize(
    ("problems", "field"),
    [
        ([], "problems"),
        ([{"slot": 0, "reason": "  "}], "reason"),
        ([{"slot": 0}], "problems[0].reason"),
        ([{"slot": 7, "reason": "x"}], "slot"),
        ([{"field": "nope", "reason": "x"}], "field"),
        ([{"reason": "x"}], "problems"),  # names neither a material nor a field
        ([{"slot": 0, "reason": "a"}, {"slot": 0, "reason": "b"}], "problems"),
        ("all of them", "problems"),
    ],
)
def test_bad_corrections_are_refused_and_change_nothing(
    clerk: User, as_staff: Callable[[User], Staff], submitted: Callable[..., Case], problems: Any, field: str
) -> None:
    case = submitted()
    response = as_staff(clerk).post(f"{STAFF_CASES}{case.number}/correction/", {"problems": problems})
    assert response.status_code == 400, response.content
    assert field in _fields(response)
    case.refresh_from_db()
    assert case.status == CaseStatus.SUBMITTED and not case.notices.filter(kind="correction").exists()
    assert _open_task(case, StepCode.ACCEPT)


def test_acceptance_and_refusal_at_the_window(
    clerk: User, as_staff: Callable[[User], Staff], submitted: Callable[..., Case]
) -> None:
    staff = as_staff(clerk)
    accepted = staff.post(f"{STAFF_CASES}{submitted().number}/accept/", {"note": "材料齐全"}).json()
    assert accepted["status"]["code"] == "accepted" and accepted["promised_due"] == "2025-09-30"
    assert [t["step"]["code"] for t in accepted["tasks"]] == ["accept", "review"]

    case = submitted()
    blank = staff.post(f"{STAFF_CASES}{case.number}/refuse/", {"reasons": " "})
    assert blank.status_code == 400 and _fields(blank) == ["reasons"]
    missing = staff.post(f"{STAFF_CASES}{case.number}/refuse/", {})
    assert missing.status_code == 400 and _fields(missing) == ["reasons"]
    assert Case.objects.get(pk=case.pk).status == CaseStatus.SUBMITTED
    refused = staff.post(f"{STAFF_CASES}{case.number}/refuse/", {"reasons": "不属于本机关职权范围"}).json()
    assert refused["status"]["code"] == "refused"
    assert [n["kind"]["code"] for n in refused["notices"]] == ["receipt", "refusal"]
    twice = staff.post(f"{STAFF_CASES}{case.number}/accept/", {})
    assert twice.status_code == 409


def test_a_mailed_result_is_delivered_with_its_tracking_number(
    clerk: User, reviewer_a: User, as_staff: Callable[[User], Staff], citizen: User, item: ItemVersion
) -> None:
    case = start(citizen, item)
    services.save_draft(
        actor=citizen,
        case=case,
        data=case.data,
        delivery={"method": DeliveryMethod.MAIL, "address": "杭州市西湖区文三路1号"},
    )
    services.attach_material(actor=citizen, case=case, slot=0, upload=pdf())
    case = services.submit(actor=citizen, case=case)
    services.accept(actor=clerk, case=case)
    services.complete_step(actor=reviewer_a, task=_open_task(case, StepCode.REVIEW), opinion="同意")
    services.decide(actor=reviewer_a, task=_open_task(case, StepCode.DECIDE), outcome="approved")
    staff = as_staff(clerk)
    for tracking in ("", "SF 123", "x" * 41):
        bad = staff.post(f"{STAFF_CASES}{case.number}/deliver/", {"tracking_number": tracking})
        assert bad.status_code == 400 and _fields(bad) == ["tracking_number"]
    assert Case.objects.get(pk=case.pk).status == CaseStatus.DECIDED
    delivered = staff.post(f"{STAFF_CASES}{case.number}/deliver/", {"tracking_number": "SF1234567890"}).json()
    assert delivered["status"]["code"] == "delivered" and delivered["tracking_number"] == "SF1234567890"


# --- steps: complete, return, decide --------------------------------------------------------------------------


def test_review_return_and_decision_through_the_api(
    clerk: User, reviewer_a: User, as_staff: Callable[[User], Staff], submitted: Callable[..., Case]
) -> None:
    case = _accepted(clerk, submitted)
    staff = as_staff(reviewer_a)
    review = _open_task(case, StepCode.REVIEW)
    blank = staff.post(f"{TASKS}{review.pk}/complete/", {"opinion": ""})
    assert blank.status_code == 400 and _fields(blank) == ["opinion"]
    assert staff.post(f"{TASKS}{review.pk}/claim/").json()["tasks"][1]["assignee"] == "reviewer-a"
    done = staff.post(f"{TASKS}{review.pk}/complete/", {"opinion": "材料齐全，符合条件"})
    assert done.status_code == 200
    assert [t["step"]["code"] for t in done.json()["tasks"] if t["status"]["code"] == "open"] == ["decide"]

    decide = _open_task(case, StepCode.DECIDE)
    blank = staff.post(f"{TASKS}{decide.pk}/return/", {"reason": ""})
    assert blank.status_code == 400 and _fields(blank) == ["reason"]
    returned = staff.post(f"{TASKS}{decide.pk}/return/", {"reason": "请补充审查意见"})
    assert returned.status_code == 200
    assert returned.json()["timeline"][-1]["action"] == "return"
    staff.post(f"{TASKS}{_open_task(case, StepCode.REVIEW).pk}/complete/", {"opinion": "已补充"})

    decide = _open_task(case, StepCode.DECIDE)
    for body, field in (
        ({"outcome": "maybe"}, "outcome"),
        ({}, "outcome"),
        ({"outcome": "denied", "reasons": " "}, "reasons"),
    ):
        bad = staff.post(f"{TASKS}{decide.pk}/decide/", body)
        assert bad.status_code == 400 and _fields(bad) == [field], body
    assert Case.objects.get(pk=case.pk).status == CaseStatus.ACCEPTED
    decided = staff.post(f"{TASKS}{decide.pk}/decide/", {"outcome": "approved"}).json()
    # An electronic result is delivered the moment it is issued.
    assert decided["status"]["code"] == "delivered" and decided["outcome"]["code"] == "approved"
    assert staff.post(f"{TASKS}{decide.pk}/decide/", {"outcome": "approved"}).status_code == 409


def test_a_task_of_another_role_is_forbidden_and_of_another_department_not_found(
    clerk: User, reviewer_b: User, as_staff: Callable[[User], Staff], submitted: Callable[..., Case]
) -> None:
    case = _accepted(clerk, submitted)
    review = _open_task(case, StepCode.REVIEW)
    assert as_staff(clerk).post(f"{TASKS}{review.pk}/complete/", {"opinion": "ok"}).status_code == 403
    assert as_staff(reviewer_b).post(f"{TASKS}{review.pk}/complete/", {"opinion": "ok"}).status_code == 404
    assert as_staff(reviewer_b).get(f"{STAFF_CASES}{case.number}/").status_code == 404
    assert _open_task(case, StepCode.REVIEW).pk == review.pk


# --- special procedures and extensions ------------------------------------------------------------------------


def test_special_procedures_through_the_api(
    clerk: User, reviewer_a: User, as_staff: Callable[[User], Staff], citizen: User, published: Any
) -> None:
    item = published(special_procedures=[{"name": "现场核查", "kind": "2", "counts_in_time_limit": False}])
    case = start(citizen, item)
    services.attach_material(actor=citizen, case=case, slot=0, upload=pdf())
    case = services.submit(actor=citizen, case=case)
    services.accept(actor=clerk, case=case)
    staff = as_staff(reviewer_a)
    url = f"{STAFF_CASES}{case.number}/procedures/"
    for body, field in (({"name": "听证", "reason": "x"}, "name"), ({"name": "现场核查", "reason": ""}, "reason")):
        bad = staff.post(url, body)
        assert bad.status_code == 400 and _fields(bad) == [field]
    assert not case.special_procedures.exists()
    started = staff.post(url, {"name": "现场核查", "reason": "核查经营场所"}).json()
    assert started["paused_since"] == "2025-09-26"
    assert started["special_procedures"][0]["name"] == "现场核查"
    blank = staff.post(f"{url}end/", {"result": ""})
    assert blank.status_code == 400 and _fields(blank) == ["result"]
    ended = staff.post(f"{url}end/", {"result": "场所符合要求"}).json()
    assert ended["paused_since"] is None and ended["special_procedures"][0]["result"] == "场所符合要求"
    assert staff.post(f"{url}end/", {"result": "again"}).status_code == 409


def test_extensions_by_approvers_only(
    clerk: User, reviewer_a: User, as_staff: Callable[[User], Staff], submitted: Callable[..., Case]
) -> None:
    case = _accepted(clerk, submitted)
    url = f"{STAFF_CASES}{case.number}/extend/"
    assert as_staff(clerk).post(url, {"days": 2, "reason": "复杂"}).status_code == 403
    staff = as_staff(reviewer_a)
    for body, field in (
        ({"days": 0, "reason": "复杂"}, "days"),
        ({"days": 11, "reason": "复杂"}, "days"),
        ({"days": "two", "reason": "复杂"}, "days"),
        ({"days": 2, "reason": ""}, "reason"),
    ):
        bad = staff.post(url, body)
        assert bad.status_code == 400 and _fields(bad) == [field], body
    assert Case.objects.get(pk=case.pk).extension_days == 0
    extended = staff.post(url, {"days": 2, "reason": "情况复杂，经负责人批准"}).json()
    assert extended["extension_days"] == 2 and extended["promised_due"] == "2025-10-10"


# --- supervision ----------------------------------------------------------------------------------------------


def test_supervisors_list_and_follow_up_warnings_in_their_region(
    supervisor: User,
    reviewer_b: User,
    as_staff: Callable[[User], Staff],
    clerk: User,
    submitted: Callable[..., Case],
) -> None:
    case = _accepted(clerk, submitted)
    supervision.raise_warnings(actor=SCHEDULER, today=dt.date(2025, 10, 20))
    staff = as_staff(supervisor)
    records = staff.get("/api/v1/supervision/records/", data={"level": "red"}).json()["results"]
    assert {r["case_number"] for r in records} == {case.number}
    assert {r["level"]["code"] for r in records} == {"red"}
    assert staff.get("/api/v1/supervision/records/", data={"status": "followed_up"}).json()["count"] == 0
    bad = staff.get("/api/v1/supervision/records/", data={"level": "orange"})
    assert bad.status_code == 400 and _fields(bad) == ["level"]
    record = records[0]
    url = f"/api/v1/supervision/records/{record['id']}/follow-up/"
    blank = staff.post(url, {"note": " "})
    assert blank.status_code == 400 and _fields(blank) == ["note"]
    assert SupervisionRecord.objects.get(pk=record["id"]).status == SupervisionStatus.OPEN
    done = staff.post(url, {"note": "已电话督办，要求今日办结"}).json()
    assert done["status"]["code"] == "followed_up" and done["followed_by"] == "supervisor"
    assert as_staff(reviewer_b).post(url, {"note": "x"}).status_code == 403
    assert as_staff(reviewer_b).get("/api/v1/supervision/records/").status_code == 403


def test_only_the_window_moves_acceptance(
    reviewer_a: User, as_staff: Callable[[User], Staff], submitted: Callable[..., Case]
) -> None:
    case = submitted()
    staff = as_staff(reviewer_a)
    for action, body in (("accept", {}), ("refuse", {"reasons": "x"}), ("correction", {"problems": []})):
        assert staff.post(f"{STAFF_CASES}{case.number}/{action}/", body).status_code == 403
    assert not CaseTransition.objects.filter(case=case).exclude(action="submit").exists()


def test_the_queue_costs_the_same_queries_for_one_task_or_many(
    clerk: User, as_staff: Callable[[User], Staff], submitted: Callable[..., Case]
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    staff = as_staff(clerk)
    services.claim(actor=clerk, task=_open_task(submitted(), StepCode.ACCEPT))
    with CaptureQueriesContext(connection) as one:
        assert staff.get(TASKS).json()["count"] == 1
    for _ in range(2):
        services.claim(actor=clerk, task=_open_task(submitted(), StepCode.ACCEPT))
    with CaptureQueriesContext(connection) as three:
        assert staff.get(TASKS).json()["count"] == 3
    assert len(three) == len(one)
