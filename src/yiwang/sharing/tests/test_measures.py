"""材料免提交率: per item, the share of the materials in submitted cases that came by sharing or from a licence;
scoped to the catalogue manager's department and the supervisor's region, and shown as a bar per item."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import User
from django.test import Client

from yiwang.cases import services
from yiwang.cases.constants import Provenance, TrustLevel
from yiwang.cases.models import Case, CaseMaterial
from yiwang.catalogue.models import ItemVersion, Organisation
from yiwang.sharing import measures
from yiwang.workbench.tests.case_world import FRIDAY_BEFORE_NATIONAL_DAY, department_b_item, pdf, start, submitted

pytestmark = pytest.mark.django_db

PAGE = "/workbench/sharing/once-only/"


@pytest.fixture(autouse=True)
def clock() -> Iterator[None]:
    with time_machine.travel(FRIDAY_BEFORE_NATIONAL_DAY, tick=True):
        yield


def supply(case: Case, slot: int, provenance: str) -> None:
    """Stand in for the once-only fetch (built by the exchange): the slot's material came from elsewhere."""
    CaseMaterial.objects.filter(case=case, slot=slot, superseded=False).update(
        provenance=provenance, trust_level=TrustLevel.A
    )


@pytest.fixture
def world(citizen: User, published: Callable[..., ItemVersion], department_b: Organisation) -> dict[str, Any]:
    """Item A: two submitted cases (4 materials: one shared, one licence, plus a superseded shared row that does not
    count) and a draft that does not count; item B (department B, 济宁): one case, all uploaded."""
    item_a = published()
    first, second = submitted(citizen, item_a), submitted(citizen, item_a)
    supply(first, 1, Provenance.SHARED)
    supply(second, 1, Provenance.LICENCE)
    CaseMaterial.objects.create(
        case=second,
        slot=0,
        name="被更正替换的材料",
        provenance=Provenance.SHARED,
        trust_level=TrustLevel.A,
        superseded=True,
    )
    draft = start(citizen, item_a)
    services.attach_material(actor=citizen, case=draft, slot=0, upload=pdf("draft.pdf", b"d"))
    supply(draft, 0, Provenance.SHARED)
    item_b = department_b_item(department_b)
    submitted(citizen, item_b)
    return {"a": item_a, "b": item_b}


def by_item(actor: Any, **kwargs: Any) -> dict[int, measures.ItemMeasure]:
    return {row.item_id: row for row in measures.exemption_rates(actor, **kwargs).rows}


def test_counts_slots_and_supplied_materials_per_item(admin: User, world: dict[str, Any]) -> None:
    rows = by_item(admin)
    a, b = rows[world["a"].item_id], rows[world["b"].item_id]
    assert (a.cases, a.slots, a.supplied, a.rate, a.percent) == (2, 4, 2, 0.5, 50.0)
    assert (b.cases, b.slots, b.supplied, b.rate) == (1, 2, 0, 0.0)
    assert a.name == world["a"].name and a.code == world["a"].implementation_code
    measure = measures.exemption_rates(admin)
    assert (measure.cases, measure.slots, measure.supplied, measure.percent) == (3, 6, 2, 33.3)


def test_a_catalogue_manager_sees_their_department_and_a_supervisor_their_region(
    manager: User, supervisor: User, reviewer_b: User, clerk: User, world: dict[str, Any]
) -> None:
    assert list(by_item(manager)) == [world["a"].item_id]
    assert list(by_item(supervisor)) == [world["a"].item_id]
    assert by_item(reviewer_b) == {} and by_item(clerk) == {}
    assert not measures.may_view(reviewer_b) and measures.may_view(manager) and measures.may_view(supervisor)


def test_sorting_by_rate_name_and_slots(admin: User, world: dict[str, Any]) -> None:
    def order(sort: str) -> list[int]:
        return [row.item_id for row in measures.exemption_rates(admin, sort=sort).rows]

    assert order("-rate") == [world["a"].item_id, world["b"].item_id]
    assert order("rate") == [world["b"].item_id, world["a"].item_id]
    by_name = sorted(world.values(), key=lambda v: (v.name, v.implementation_code))
    assert order("name") == [v.item_id for v in by_name]
    assert order("-slots") == [world["a"].item_id, world["b"].item_id]  # 4 slots, then 2
    assert order("slots") == [world["b"].item_id, world["a"].item_id]


def test_the_figures_come_from_one_grouped_query_whatever_the_number_of_items(
    admin: User, world: dict[str, Any], django_assert_num_queries: Any
) -> None:
    measures.may_view(admin)  # reads the admin's roles once (cached on the user)
    with django_assert_num_queries(2):  # the grouped figures, then the items' names
        assert len(measures.exemption_rates(admin).rows) == 2


def test_no_cases_means_no_rows(manager: User) -> None:
    measure = measures.exemption_rates(manager)
    assert measure.rows == [] and measure.rate == 0.0


def test_the_page_shows_a_bar_per_item_with_the_rate(
    manager: User, staff_client: Callable[[User], Client], world: dict[str, Any]
) -> None:
    response = staff_client(manager).get(PAGE)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'style="width: 50.0%"' in body and world["a"].name in body and "任城区专属事项" not in body
    assert response.context["sort"] == "-rate"
    assert staff_client(manager).get(PAGE, {"sort": "nonsense"}).context["sort"] == "-rate"
    assert staff_client(manager).get(PAGE, {"sort": "rate"}).context["sort"] == "rate"
    assert "workbench:once_only" in [t.url_name for t in response.context["tasks"]]


def test_the_page_for_supervisors_and_admins_but_not_others(
    supervisor: User,
    admin: User,
    clerk: User,
    reviewer_b: User,
    auditor: User,
    citizen: User,
    staff_client: Callable[[User], Client],
    world: dict[str, Any],
) -> None:
    assert staff_client(supervisor).get(PAGE).status_code == 200
    assert len(staff_client(admin).get(PAGE).context["measure"].rows) == 2
    for user in (clerk, reviewer_b, auditor):
        assert staff_client(user).get(PAGE).status_code == 403
    client = Client()
    client.force_login(citizen)
    assert client.get(PAGE).status_code == 403
    anonymous = Client().get(PAGE)
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
