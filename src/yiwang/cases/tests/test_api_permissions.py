"""The cases API permission matrix: every endpoint × every persona.

A row is one request; a column a persona; a cell the expected HTTP status. Applicant endpoints are for persons:
the anonymous get 403 (session authentication, no challenge), staff 403, a person whose case it is not 404
(its existence is not disclosed). Staff endpoints: 403 for a role that does not reach the action, 404 for an
object of another department (``reviewer_b``, 任城区, must learn nothing of department A's cases) — staff
sign in with TOTP passed. The agent acts for the enterprise under its agency; the enterprise's
representative sees what the agent filed; neither sees 张三's cases.

Beyond the status, no response to someone outside a case may carry 张三's name or ID number, and supervisors
and auditors never receive his ID number in clear.

The world is built lazily: a row only makes the cases it needs (``World``'s cached properties).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from yiwang.audit.actors import SCHEDULER
from yiwang.cases import services, supervision
from yiwang.cases.constants import DeliveryMethod, StepCode, TaskStatus
from yiwang.cases.models import Case, CaseTask, SupervisionRecord
from yiwang.cases.services import Problem
from yiwang.cases.tests.conftest import pdf, start
from yiwang.cases.tests.test_api_applicant import form
from yiwang.catalogue.models import ItemVersion
from yiwang.identity.constants import AccountKind
from yiwang.identity.models import Agency
from yiwang.identity.tests.people import PEOPLE

pytestmark = pytest.mark.django_db

PERSONAS = [
    "anonymous",
    "citizen",  # 张三: the applicant of department A's cases
    "agent",  # 李四: another person to 张三; the enterprise's agent
    "enterprise_rep",  # 王五: the enterprise's legal representative
    "clerk",  # window clerk, department A
    "reviewer_a",  # reviewer and approver, department A
    "reviewer_b",  # reviewer and approver, department B (任城区)
    "supervisor",  # 杭州市
    "auditor",
    "admin",
]
PERSONS = {"citizen", "agent", "enterprise_rep"}
STAFF = set(PERSONAS) - PERSONS - {"anonymous"}
PEOPLE_KEY = {"citizen": "citizen", "agent": "agent", "enterprise_rep": "representative"}
ZHANG = PEOPLE["citizen"]
OUTSIDERS = {"agent", "enterprise_rep", "reviewer_b"}  # must see nothing of 张三's
MASKED = {"supervisor", "auditor"}  # see who and when, never ID numbers in clear


class World:
    """Department A's item and 张三's cases in every state a row needs, made on first use."""

    def __init__(self, request: pytest.FixtureRequest) -> None:
        self.request = request

    def user(self, name: str) -> User:
        user: User = self.request.getfixturevalue(name)
        return user

    @cached_property
    def item(self) -> ItemVersion:
        item: ItemVersion = self.request.getfixturevalue("item")
        return item

    def _submitted(self, item: ItemVersion | None = None, delivery: dict[str, str] | None = None) -> Case:
        citizen = self.user("citizen")
        case = start(citizen, item or self.item)
        if delivery is not None:
            case = services.save_draft(actor=citizen, case=case, data=case.data, delivery=delivery)
        services.attach_material(actor=citizen, case=case, slot=0, upload=pdf())
        return services.submit(actor=citizen, case=case)

    def _accepted(self, case: Case) -> Case:
        services.accept(actor=self.user("clerk"), case=case)
        case.refresh_from_db()
        return case

    @cached_property
    def case(self) -> Case:
        """Submitted, awaiting pre-review."""
        return self._submitted()

    @cached_property
    def acceptance_task(self) -> CaseTask:
        return self.case.tasks.get(step_code=StepCode.ACCEPT)

    @cached_property
    def correction(self) -> Case:
        case = self._submitted()
        services.request_correction(actor=self.user("clerk"), case=case, problems=[Problem("签名缺失", slot=0)])
        case.refresh_from_db()
        return case

    @cached_property
    def accepted(self) -> Case:
        return self._accepted(self._submitted())

    @cached_property
    def review_task(self) -> CaseTask:
        return self.accepted.tasks.get(step_code=StepCode.REVIEW, status=TaskStatus.OPEN)

    @cached_property
    def decide_task(self) -> CaseTask:
        services.complete_step(actor=self.user("reviewer_a"), task=self.review_task, opinion="同意")
        return self.accepted.tasks.get(step_code=StepCode.DECIDE, status=TaskStatus.OPEN)

    @cached_property
    def decided_for_pickup(self) -> Case:
        case = self._accepted(self._submitted(delivery={"method": DeliveryMethod.PICKUP}))
        reviewer = self.user("reviewer_a")
        services.complete_step(actor=reviewer, task=case.tasks.get(step_code=StepCode.REVIEW), opinion="同意")
        decide = case.tasks.get(step_code=StepCode.DECIDE)
        services.decide(actor=reviewer, task=decide, outcome="approved")
        return case

    @cached_property
    def with_procedures(self) -> Case:
        published: Callable[..., ItemVersion] = self.request.getfixturevalue("published")
        item = published(special_procedures=[{"name": "现场核查", "kind": "2", "counts_in_time_limit": False}])
        return self._accepted(self._submitted(item))

    @cached_property
    def in_procedure(self) -> Case:
        case = self.with_procedures
        services.start_special_procedure(actor=self.user("reviewer_a"), case=case, name="现场核查", reason="核查")
        return case

    @cached_property
    def draft(self) -> Case:
        return start(self.user("citizen"), self.item)

    @cached_property
    def warning(self) -> SupervisionRecord:
        case = self.accepted
        supervision.raise_warnings(actor=SCHEDULER, today=dt.date(2025, 10, 20))
        return SupervisionRecord.objects.filter(case=case).first()  # type: ignore[return-value]  # raised just now

    def agency_id(self) -> int:
        return Agency.objects.get(agent=self.user("agent")).pk

    @cached_property
    def enterprise_case(self) -> Case:
        agent = self.user("agent")
        case = start(agent, self.item, agency_id=self.agency_id())
        services.attach_material(actor=agent, case=case, slot=0, upload=pdf())
        return services.submit(actor=agent, case=case)


Body = Callable[[World, str], dict[str, Any]]


@dataclass(frozen=True)
class Row:
    id: str
    method: str
    url: Callable[[World], str]
    expected: dict[str, int]
    body: Body | None = None
    idempotency_key: bool = False


def applicants(ok: int = 200, *, owners: set[str] = PERSONS) -> dict[str, int]:
    """Persons whose case it is get ``ok``, other persons 404; staff and the anonymous 403."""
    return {p: ok if p in owners else 404 if p in PERSONS else 403 for p in PERSONAS}


def staff(ok: set[str], *, code: int = 200, **others: int) -> dict[str, int]:
    """``ok`` get ``code``; ``others`` as given (404 outside the department, 403 a role short); the rest 403."""
    return {p: code if p in ok else others.get(p, 403) for p in PERSONAS}


def _apply(world: World, persona: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "item": world.item.implementation_code,
        "data": form(PEOPLE[PEOPLE_KEY.get(persona, "citizen")]),
        "pledged_slots": [1],
    }
    if persona == "agent":
        body["agency"] = world.agency_id()  # 李四 applies for the enterprise
    return body


def _draft(world: World, persona: str) -> dict[str, Any]:
    body: dict[str, Any] = {"item": world.item.implementation_code}
    if persona == "agent":
        body["agency"] = world.agency_id()
    return body


def _with(attr: str, url: str) -> Callable[[World], str]:
    """A list's URL, with ``attr`` made first, so that outsiders' lists are shown not to contain it."""

    def make(world: World) -> str:
        getattr(world, attr)
        return url

    return make


def _case(url: str) -> Callable[[World], str]:
    return lambda w: f"/api/v1/cases/{w.case.number}/{url}"


def _staff_case(attr: str, url: str = "") -> Callable[[World], str]:
    return lambda w: f"/api/v1/staff/cases/{getattr(w, attr).number}/{url}"


def _task(attr: str, url: str) -> Callable[[World], str]:
    return lambda w: f"/api/v1/staff/tasks/{getattr(w, attr).pk}/{url}"


def _notice(prefix: str) -> Callable[[World], str]:
    return lambda w: f"{prefix}{w.case.number}/notices/{w.case.notices.get().number}.pdf"


HANDLERS_A = {"clerk", "reviewer_a", "admin"}
WINDOW = {"clerk", "admin"}
STEP_HANDLERS = {"reviewer_a", "admin"}
SEE_CASE = {"clerk", "reviewer_a", "supervisor", "admin"}

ROWS = [
    # --- applicants: cases ---
    Row("my-cases", "get", _with("case", "/api/v1/cases/"), applicants()),
    Row("apply", "post", lambda w: "/api/v1/cases/", applicants(201), body=_apply, idempotency_key=True),
    Row("case", "get", _case(""), applicants(owners={"citizen"})),
    Row(
        "enterprise-case",
        "get",
        lambda w: f"/api/v1/cases/{w.enterprise_case.number}/",
        applicants(owners={"agent", "enterprise_rep"}),
    ),
    Row("notice-pdf", "get", _notice("/api/v1/cases/"), applicants(owners={"citizen"})),
    Row("withdraw", "post", _case("withdraw/"), applicants(owners={"citizen"}), body=lambda w, p: {}),
    Row(
        "resubmit",
        "post",
        lambda w: f"/api/v1/cases/{w.correction.number}/resubmit/",
        applicants(owners={"citizen"}),
    ),
    # --- applicants: drafts ---
    Row("drafts", "get", _with("draft", "/api/v1/drafts/"), applicants()),
    Row("draft-start", "post", lambda w: "/api/v1/drafts/", applicants(201), body=_draft),
    Row("draft", "get", lambda w: f"/api/v1/drafts/{w.draft.pk}/", applicants(owners={"citizen"})),
    Row(
        "draft-save",
        "patch",
        lambda w: f"/api/v1/drafts/{w.draft.pk}/",
        applicants(owners={"citizen"}),
        body=lambda w, p: {"data": {"address": "浙江省杭州市西湖区文三路1号"}},
    ),
    Row(
        "draft-pledge",
        "post",
        lambda w: f"/api/v1/drafts/{w.draft.pk}/materials/",
        applicants(201, owners={"citizen"}),
        body=lambda w, p: {"slot": 1, "pledge": True},
    ),
    Row(
        "draft-empty-slot",
        "delete",
        lambda w: f"/api/v1/drafts/{w.draft.pk}/materials/1/",
        applicants(204, owners={"citizen"}),
    ),
    Row(
        "draft-submit",
        "post",
        lambda w: f"/api/v1/drafts/{w.draft.pk}/submit/",
        applicants(201, owners={"citizen"}),
        idempotency_key=True,
    ),
    Row("draft-discard", "delete", lambda w: f"/api/v1/drafts/{w.draft.pk}/", applicants(204, owners={"citizen"})),
    # --- staff: queue and case file ---
    Row(
        "tasks", "get", _with("accepted", "/api/v1/staff/tasks/"), staff({"clerk", "reviewer_a", "reviewer_b", "admin"})
    ),
    Row("case-file", "get", _staff_case("case"), staff(SEE_CASE, reviewer_b=404)),
    Row("staff-notice-pdf", "get", _notice("/api/v1/staff/cases/"), staff(SEE_CASE, reviewer_b=404)),
    # --- staff: the window ---
    Row("claim", "post", _task("acceptance_task", "claim/"), staff(WINDOW, reviewer_a=403, reviewer_b=404)),
    Row(
        "correction",
        "post",
        _staff_case("case", "correction/"),
        staff(WINDOW),
        body=lambda w, p: {"problems": [{"slot": 0, "reason": "签名缺失"}]},
    ),
    Row("accept", "post", _staff_case("case", "accept/"), staff(WINDOW), body=lambda w, p: {"note": ""}),
    Row("refuse", "post", _staff_case("case", "refuse/"), staff(WINDOW), body=lambda w, p: {"reasons": "不属于本机关"}),
    Row(
        "deliver",
        "post",
        _staff_case("decided_for_pickup", "deliver/"),
        staff(WINDOW),
        body=lambda w, p: {"tracking_number": ""},
    ),
    # --- staff: steps ---
    Row(
        "complete",
        "post",
        _task("review_task", "complete/"),
        staff(STEP_HANDLERS, reviewer_b=404),
        body=lambda w, p: {"opinion": "同意"},
    ),
    Row(
        "return",
        "post",
        _task("decide_task", "return/"),
        staff(STEP_HANDLERS, reviewer_b=404),
        body=lambda w, p: {"reason": "请补充"},
    ),
    Row(
        "decide",
        "post",
        _task("decide_task", "decide/"),
        staff(STEP_HANDLERS, reviewer_b=404),
        body=lambda w, p: {"outcome": "approved"},
    ),
    Row(
        "procedure-start",
        "post",
        _staff_case("with_procedures", "procedures/"),
        staff(STEP_HANDLERS, reviewer_b=404),
        body=lambda w, p: {"name": "现场核查", "reason": "核查经营场所"},
    ),
    Row(
        "procedure-end",
        "post",
        _staff_case("in_procedure", "procedures/end/"),
        staff(STEP_HANDLERS, reviewer_b=404),
        body=lambda w, p: {"result": "符合要求"},
    ),
    Row(
        "extend",
        "post",
        _staff_case("accepted", "extend/"),
        staff(STEP_HANDLERS, reviewer_b=404),
        body=lambda w, p: {"days": 2, "reason": "情况复杂"},
    ),
    # --- supervision ---
    Row("supervision", "get", _with("warning", "/api/v1/supervision/records/"), staff({"supervisor", "admin"})),
    Row(
        "follow-up",
        "post",
        lambda w: f"/api/v1/supervision/records/{w.warning.pk}/follow-up/",
        staff({"supervisor", "admin"}),
        body=lambda w, p: {"note": "已督办"},
    ),
]


def client_for(request: pytest.FixtureRequest, persona: str) -> Client:
    if persona == "anonymous":
        return Client()
    user: User = request.getfixturevalue(persona)
    if user.account.kind == AccountKind.STAFF:
        staff_client: Callable[[User], Client] = request.getfixturevalue("staff_client")
        return staff_client(user)
    client = Client()
    client.force_login(user)
    return client


def test_the_matrix_covers_every_persona_in_every_row() -> None:
    for row in ROWS:
        assert set(row.expected) == set(PERSONAS), row.id
    assert len({row.id for row in ROWS}) == len(ROWS)


def _refused_first(row: Row) -> list[str]:
    """Personas in the order the row is tried: every refusal before any success, so refusals meet the world
    as it was made (a success may change it: accept a case, withdraw it)."""
    return sorted(PERSONAS, key=lambda p: (row.expected[p] < 300, PERSONAS.index(p)))


@pytest.mark.parametrize("row", [pytest.param(row, id=row.id) for row in ROWS])
def test_cases_api_permission_matrix(request: pytest.FixtureRequest, row: Row) -> None:
    """One row, every persona (each cell reported on its own when it fails). The world is built once per row,
    and again before a second success of a request that changes it, instead of once per cell: the same cells,
    a tenth of the set-up."""
    world = World(request)
    changed = False
    mismatches: list[str] = []
    for persona in _refused_first(row):
        succeeds = row.expected[persona] < 300
        if succeeds and changed:
            world = World(request)
        url = row.url(world)
        body = row.body(world, persona) if row.body is not None else None
        client = client_for(request, persona)
        extra: dict[str, Any] = {"HTTP_ACCEPT_LANGUAGE": "en"}
        if row.idempotency_key:
            extra["HTTP_IDEMPOTENCY_KEY"] = str(uuid.uuid4())
        send = getattr(client, row.method)
        args = (url, body) if body is not None else (url,)
        response = send(*args, content_type="application/json", **extra)
        changed = changed or (succeeds and row.method != "get")
        pdf_body = response.get("Content-Type") == "application/pdf"
        content = "" if pdf_body else response.content.decode(errors="replace")
        where = f"{row.method.upper()} {url} as {persona}: {response.status_code} {content[:300]}"
        if response.status_code != row.expected[persona]:
            mismatches.append(f"expected {row.expected[persona]}: {where}")
        if persona in OUTSIDERS and (ZHANG.name in content or ZHANG.id_number in content):
            mismatches.append(f"{where}: 张三 shown")
        if persona in MASKED and ZHANG.id_number in content:
            mismatches.append(f"{where}: an ID number in clear")
    assert not mismatches, "\n".join(mismatches)
