"""The permission matrix: every persona against every staff page and endpoint, each cell its own test.

A row is one request (page or endpoint, method, payload); a column is a persona. Each cell states the outcome:
an HTTP status, or ``LOGIN`` (sent to the portal sign-in page) or ``ADMIN_LOGIN`` (sent to the admin's own).
Staff personas sign in with the TOTP second factor passed (``staff_client``); everyone else with
``force_login``. Wherever ``reviewer_b`` (department B, 任城区) is the visitor, the response must carry nothing
of department A: not its name, its items' codes or names, nor the 西湖区 person looked up; and department A's
staff (and 杭州市's supervisor) see nothing of department B.

The world: department A (西湖区) has a draft, a version in review and a published item; department B (任城区)
has a draft of an item of its own; 张三 (西湖区) is in the population register.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from yiwang.audit.actors import SystemActor
from yiwang.catalogue import services
from yiwang.catalogue.models import ItemVersion, Organisation
from yiwang.catalogue.tests.factories import OTHER_BODY_USCC, item_content
from yiwang.identity.constants import AccountKind
from yiwang.identity.tests.people import PEOPLE, make_register_person

pytestmark = pytest.mark.django_db

SYSTEM = SystemActor("matrix")
LOGIN = "login"  # 302 to portal:login, coming back afterwards
ADMIN_LOGIN = "admin-login"  # 302 to the admin site's login page

PERSONAS = [
    "anonymous",
    "citizen",
    "agent",
    "enterprise_rep",
    "clerk",
    "reviewer_a",
    "reviewer_b",
    "supervisor",
    "auditor",
    "admin",
    "manager",  # catalogue manager of department A
    "publisher",  # catalogue publisher of department A
]
APPLICANTS = {"citizen", "agent", "enterprise_rep"}
A_SIDE = {"clerk", "reviewer_a", "manager", "publisher", "supervisor"}  # staff of department A or of 杭州市
STAFF = set(PERSONAS) - APPLICANTS - {"anonymous"}

A_DEPARTMENT = "杭州市西湖区市场监督管理局"
A_ITEM_NAME = "个体工商户登记"
B_ITEM_NAME = "任城区专属事项"
ZHANG = PEOPLE["citizen"]  # registered in 西湖区 (330106): in reach of clerk and reviewer_a, not reviewer_b


@dataclass
class World:
    a_draft: ItemVersion
    a_in_review: ItemVersion
    a_published: ItemVersion
    b_draft: ItemVersion
    a_markers: list[str] = field(default_factory=list)  # strings that betray department A
    b_markers: list[str] = field(default_factory=list)  # … and department B

    def markers_for(self, row: Row, persona: str) -> list[str]:
        """What ``persona`` must not see in this row's response: the other department's things."""
        markers = self.a_markers if persona == "reviewer_b" else self.b_markers if persona in A_SIDE else []
        return [m for m in markers if not (row.shows_basic_items and m in (A_ITEM_NAME, B_ITEM_NAME))]


@pytest.fixture
def world(department_a: Organisation, department_b: Organisation) -> World:
    a_draft = services.save_draft(actor=SYSTEM, content=item_content())
    a_in_review = services.submit_for_review(
        actor=SYSTEM, version=services.save_draft(actor=SYSTEM, content=item_content())
    )
    a_published = services.publish(
        actor=SYSTEM,
        version=services.submit_for_review(
            actor=SYSTEM, version=services.save_draft(actor=SYSTEM, content=item_content())
        ),
    )
    b_draft = services.save_draft(
        actor=SYSTEM,
        content=item_content(
            region_code="370811",
            implementing_body={"name": department_b.name, "uscc": OTHER_BODY_USCC, "nature": "1"},
            basic_code="000131129000",
            handling_item_code="00013112900001",
            name=B_ITEM_NAME,
        ),
    )
    make_register_person(ZHANG)
    versions = [a_draft, a_in_review, a_published]
    markers = [A_DEPARTMENT, A_ITEM_NAME, ZHANG.name, *(v.implementation_code for v in versions)]
    b_markers = [department_b.name, B_ITEM_NAME, b_draft.implementation_code]
    return World(a_draft, a_in_review, a_published, b_draft, markers, b_markers)


@dataclass(frozen=True)
class Row:
    id: str
    method: str
    url: Callable[[World], str]
    expected: dict[str, int | str]
    data: Callable[[World], dict[str, Any]] | None = None
    json: bool = False  # send ``data`` as JSON (API writes) rather than as a form
    # Portal pages may list the national basic items (e.g. to choose an agency's items); an A item's name is
    # its basic item's name (同一事项、同一标准), public there, so only A's codes and department count as A's.
    shows_basic_items: bool = False


def page(url_name: str) -> Callable[[World], str]:
    def url(world: World) -> str:
        return reverse(url_name)

    return url


def staff_page(allowed: set[str], **overrides: int | str) -> dict[str, int | str]:
    """A workbench page: anonymous → sign in; applicants → 403; staff → 200 if allowed, else 403."""
    cells: dict[str, int | str] = {p: 200 if p in allowed else 403 for p in PERSONAS}
    cells["anonymous"] = LOGIN
    return {**cells, **overrides}


def api(allowed: set[str], ok: int = 200, **overrides: int | str) -> dict[str, int | str]:
    """An API endpoint: ``ok`` for the allowed, 403 for everyone else (the anonymous included: session auth)."""
    cells: dict[str, int | str] = {p: ok if p in allowed else 403 for p in PERSONAS}
    return {**cells, **overrides}


def everyone_signed_in(ok: int = 200, anonymous: int | str = LOGIN) -> dict[str, int | str]:
    return {p: (anonymous if p == "anonymous" else ok) for p in PERSONAS}


LOOKERS = {"clerk", "reviewer_a", "reviewer_b", "admin"}  # registers.lookup (reviewer_b: only 任城区)
CATALOGUE = {"manager", "publisher", "admin"}
DEPARTMENT_READERS = {"clerk", "reviewer_a", "reviewer_b", "manager", "publisher", "admin"}  # staff.workbench


def _versions(world: World) -> str:
    return "/api/v1/manage/versions/"


ROWS = [
    # --- workbench pages ---
    Row("workbench-home", "get", page("workbench:home"), staff_page(STAFF)),
    Row("workbench-items", "get", page("workbench:items"), staff_page(DEPARTMENT_READERS)),
    Row("workbench-persons", "get", page("workbench:persons"), staff_page(LOOKERS)),
    Row(
        "workbench-persons-lookup",
        "post",
        page("workbench:persons"),
        staff_page(LOOKERS, reviewer_b=404),
        data=lambda w: {"id_number": ZHANG.id_number},
    ),
    Row("workbench-audit", "get", page("workbench:audit"), staff_page({"auditor", "admin"})),
    Row("workbench-region", "get", page("workbench:region"), staff_page({"supervisor", "admin"})),
    # --- identity API ---
    Row("api-me", "get", lambda w: "/api/v1/me/", everyone_signed_in(anonymous=403)),
    Row("api-my-agencies", "get", lambda w: "/api/v1/me/agencies/", everyone_signed_in(anonymous=403)),
    Row(
        "api-person-lookup",
        "post",
        lambda w: "/api/v1/staff/persons/",
        api(LOOKERS, reviewer_b=404),
        data=lambda w: {"id_number": ZHANG.id_number},
    ),
    Row("api-audit", "get", lambda w: "/api/v1/audit/", api({"auditor", "admin"})),
    # --- catalogue management API ---
    Row("api-manage-list", "get", _versions, api(CATALOGUE)),
    Row(
        "api-manage-create",
        "post",
        _versions,
        api(CATALOGUE, ok=201),
        data=lambda w: {"content": item_content()},
        json=True,
    ),
    Row("api-manage-detail-a", "get", lambda w: f"/api/v1/manage/versions/{w.a_draft.pk}/", api(CATALOGUE)),
    Row(
        "api-manage-detail-b",
        "get",
        lambda w: f"/api/v1/manage/versions/{w.b_draft.pk}/",
        api({"admin"}, manager=404, publisher=404),
    ),
    Row("api-manage-submit-a", "post", lambda w: f"/api/v1/manage/versions/{w.a_draft.pk}/submit/", api(CATALOGUE)),
    Row(
        "api-manage-submit-b",
        "post",
        lambda w: f"/api/v1/manage/versions/{w.b_draft.pk}/submit/",
        api({"admin"}, manager=404, publisher=404),
    ),
    Row(
        "api-manage-publish-a",
        "post",
        lambda w: f"/api/v1/manage/versions/{w.a_in_review.pk}/publish/",
        api({"publisher", "admin"}),  # the manager holds the role to manage, not to publish: 403
    ),
    Row(
        "api-manage-withdraw-a",
        "post",
        lambda w: f"/api/v1/manage/versions/{w.a_published.pk}/withdraw/",
        api({"publisher", "admin"}),
        data=lambda w: {"reason": "事项取消"},
    ),
    # --- portal account pages (signed-in users) ---
    Row("portal-account", "get", page("portal:account"), everyone_signed_in()),
    Row("portal-agencies", "get", page("portal:agencies"), everyone_signed_in(), shows_basic_items=True),
    Row("portal-enterprises", "get", page("portal:enterprises"), everyone_signed_in()),
    # --- admin site ---
    Row(
        "admin-index",
        "get",
        page("admin:index"),
        # Only admin-site users (catalogue staff, administrators) get in; everyone else meets its login page.
        {p: 200 if p in CATALOGUE else ADMIN_LOGIN for p in PERSONAS},
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


CELLS = [pytest.param(row, persona, id=f"{row.id}-{persona}") for row, persona in itertools.product(ROWS, PERSONAS)]


def test_the_matrix_covers_every_persona_in_every_row() -> None:
    for row in ROWS:
        assert set(row.expected) == set(PERSONAS), row.id


@pytest.mark.parametrize(("row", "persona"), CELLS)
def test_permission_matrix(request: pytest.FixtureRequest, world: World, row: Row, persona: str) -> None:
    url = row.url(world)
    client = client_for(request, persona)
    data = row.data(world) if row.data else None
    send: Any = getattr(client, row.method)
    if row.json:
        response = send(url, data, content_type="application/json")
    else:
        response = send(url, data) if data is not None else send(url)
    expected = row.expected[persona]
    body = response.content.decode(errors="replace") if not response.streaming else ""
    where = f"{row.method.upper()} {url} as {persona}: {response.status_code} {body[:300]}"
    if expected == LOGIN:
        assert response.status_code == 302, where
        location = urlsplit(response["Location"])
        assert location.path == reverse("portal:login"), where
        assert parse_qs(location.query)["next"] == [url], where
    elif expected == ADMIN_LOGIN:
        assert response.status_code == 302, where
        assert urlsplit(response["Location"]).path == reverse("admin:login"), where
    else:
        assert response.status_code == expected, where
    for marker in world.markers_for(row, persona):
        assert marker not in body, f"{where}: the other department's {marker!r} shown"
