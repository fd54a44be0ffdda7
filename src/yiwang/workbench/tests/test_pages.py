"""The staff workbench pages: who gets in, what each role sees, and that lookups are scoped and audited."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import translation

from yiwang.audit.actors import SystemActor
from yiwang.audit.models import AuditRecord
from yiwang.catalogue import services
from yiwang.catalogue.models import ItemVersion, Organisation
from yiwang.catalogue.tests.factories import OTHER_BODY_USCC, item_content
from yiwang.common.masking import mask_id_number
from yiwang.identity.tests.people import PEOPLE, make_register_person
from yiwang.workbench import views

pytestmark = pytest.mark.django_db

StaffClient = Callable[[User], Client]
ZHANG = PEOPLE["citizen"]
SYSTEM = SystemActor("test")
PAGES = ["workbench:home", "workbench:items", "workbench:persons", "workbench:audit", "workbench:region"]


def en_url(name: str) -> str:
    """The English page (/en/…): unprefixed URLs are Chinese whatever the browser asks for."""
    with translation.override("en"):
        return reverse(name)


def a_version(**overrides: Any) -> ItemVersion:
    return services.save_draft(actor=SYSTEM, content=item_content(**overrides))


def b_version(department_b: Organisation) -> ItemVersion:
    body = {"name": department_b.name, "uscc": OTHER_BODY_USCC, "nature": "1"}
    return services.save_draft(
        actor=SYSTEM,
        content=item_content(
            region_code="370811",
            implementing_body=body,
            basic_code="000131129000",
            handling_item_code="00013112900001",
            name="任城区专属事项",
        ),
    )


def published(version: ItemVersion) -> ItemVersion:
    services.submit_for_review(actor=SYSTEM, version=version)
    return services.publish(actor=SYSTEM, version=ItemVersion.objects.get(pk=version.pk))


@pytest.mark.parametrize("name", PAGES)
def test_anonymous_visitors_are_sent_to_sign_in_and_back(client: Client, name: str) -> None:
    url = reverse(name)
    response = client.get(url)
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert location.path == reverse("portal:login")
    assert parse_qs(location.query)["next"] == [url]


@pytest.mark.parametrize("name", PAGES)
def test_citizens_get_the_forbidden_page(client: Client, citizen: User, name: str) -> None:
    client.force_login(citizen)
    response = client.get(en_url(name))
    assert response.status_code == 403
    assert "The workbench is for government staff." in response.content.decode()


def test_staff_must_pass_the_second_factor_first(client: Client, reviewer_a: User) -> None:
    client.force_login(reviewer_a)
    response = client.get(reverse("workbench:home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("portal:totp"))


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("clerk", {"workbench:items", "workbench:persons", "workbench:sharing"}),
        (
            "reviewer_a",
            {
                "workbench:items",
                "workbench:persons",
                "workbench:licences",
                "workbench:access_log",
                "workbench:sharing",
                "workbench:sharing_inbox",
                "workbench:sharing_mine",
            },
        ),
        (
            "manager",
            {
                "workbench:items",
                "workbench:access_log",
                "workbench:once_only",
                "workbench:sharing",
                "workbench:sharing_inbox",
                "workbench:sharing_mine",
            },
        ),
        ("supervisor", {"workbench:region", "workbench:once_only", "workbench:sharing"}),
        ("auditor", {"workbench:audit", "workbench:access_log", "workbench:sharing"}),
        (
            "admin",
            {
                "workbench:items",
                "workbench:persons",
                "workbench:region",
                "workbench:licences",
                "workbench:audit",
                "workbench:access_log",
                "workbench:once_only",
                "workbench:sharing",
                "workbench:sharing_inbox",
                "workbench:sharing_mine",
            },
        ),
    ],
)
def test_the_home_page_lists_what_the_role_can_do(
    request: pytest.FixtureRequest, staff_client: StaffClient, persona: str, expected: set[str]
) -> None:
    user = request.getfixturevalue(persona)
    assert {t.url_name for t in views.tasks_for(user)} == expected
    html = staff_client(user).get(reverse("workbench:home")).content.decode()
    for name in PAGES[1:]:
        assert (f'href="{reverse(name)}"' in html) is (name in expected), name


def test_staff_of_another_role_get_the_forbidden_page(staff_client: StaffClient, supervisor: User) -> None:
    response = staff_client(supervisor).get(en_url("workbench:audit"))
    assert response.status_code == 403
    assert "Your roles do not include this page." in response.content.decode()


def test_the_items_page_shows_the_departments_latest_versions_with_status(
    staff_client: StaffClient, reviewer_a: User, reviewer_b: User, department_b: Organisation
) -> None:
    live = published(a_version())
    draft = a_version()
    foreign = b_version(department_b)
    html = staff_client(reviewer_a).get(en_url("workbench:items")).content.decode()
    assert live.implementation_code in html and draft.implementation_code in html
    assert 'class="badge status-published"' in html and 'class="badge status-draft"' in html
    assert foreign.implementation_code not in html and "任城区专属事项" not in html
    assert "/admin/" not in html  # reviewers do not edit the catalogue: no links into the admin
    html_b = staff_client(reviewer_b).get(reverse("workbench:items")).content.decode()
    assert foreign.implementation_code in html_b
    assert live.implementation_code not in html_b and "杭州市西湖区市场监督管理局" not in html_b


def test_a_new_draft_of_a_published_item_shows_once_as_its_latest_version(
    staff_client: StaffClient, manager: User
) -> None:
    live = published(a_version())
    services.save_draft(actor=manager, content={**live.content, "hours": "工作日 8:30–17:00"}, item=live.item)
    html = staff_client(manager).get(reverse("workbench:items")).content.decode()
    assert html.count(live.implementation_code) == 1
    assert 'class="badge status-draft"' in html and 'class="badge status-published"' not in html
    assert reverse("admin:catalogue_itemversion_change", args=[live.pk + 1]) in html  # managers edit there


def test_the_person_lookup_page_finds_people_of_the_region_and_records_it(
    staff_client: StaffClient, clerk: User, reviewer_b: User
) -> None:
    make_register_person(ZHANG)
    url = reverse("workbench:persons")
    assert staff_client(clerk).get(url).status_code == 200
    found = staff_client(clerk).post(url, {"id_number": ZHANG.id_number})
    assert found.status_code == 200
    html = found.content.decode()
    assert "张三" in html and ZHANG.id_number in html and "浙江省杭州市西湖区" in html
    elsewhere = staff_client(reviewer_b).post(en_url("workbench:persons"), {"id_number": ZHANG.id_number})
    assert elsewhere.status_code == 404
    assert "No person with this ID number was found in your region." in elsewhere.content.decode()
    assert "张三" not in elsewhere.content.decode()
    results = [(r.after or {})["result"] for r in AuditRecord.objects.filter(action="registers.person_lookup")]
    assert results == ["out_of_scope", "found"]


def test_the_person_lookup_page_reports_a_malformed_number(staff_client: StaffClient, clerk: User) -> None:
    response = staff_client(clerk).post(en_url("workbench:persons"), {"id_number": "33010619900307123"})
    assert response.status_code == 200
    assert "An ID number has 17 digits followed by a digit or X." in response.content.decode()
    assert not AuditRecord.objects.filter(action="registers.person_lookup").exists()


def test_the_audit_page_pages_and_filters_by_action(staff_client: StaffClient, auditor: User) -> None:
    make_register_person(ZHANG)
    for _ in range(views.PAGE_SIZE + 1):
        a_version()
    client = staff_client(auditor)
    html = client.get(reverse("workbench:audit"), {"action": "catalogue.version.save_draft"}).content.decode()
    assert html.count("<code>catalogue.version.save_draft</code>") == views.PAGE_SIZE
    assert "page=2" in html and "action=catalogue.version.save_draft" in html
    second = client.get(reverse("workbench:audit"), {"action": "catalogue.version.save_draft", "page": "2"})
    assert second.content.decode().count("<code>catalogue.version.save_draft</code>") == 1
    assert '<option value="identity.staff_created">' in html


def test_audit_records_on_the_page_carry_no_clear_identifiers(
    staff_client: StaffClient, auditor: User, clerk: User
) -> None:
    make_register_person(ZHANG)
    staff_client(clerk).post(reverse("workbench:persons"), {"id_number": ZHANG.id_number})
    html = staff_client(auditor).get(reverse("workbench:audit")).content.decode()
    assert mask_id_number(ZHANG.id_number) in html and ZHANG.id_number not in html


def test_the_region_overview_counts_items_and_staff_by_county(
    staff_client: StaffClient, supervisor: User, reviewer_a: User, reviewer_b: User, department_b: Organisation
) -> None:
    published(a_version())
    published(a_version())
    published(b_version(department_b))  # in 济宁: outside 杭州市
    a_version()  # a draft is not in force
    response = staff_client(supervisor).get(reverse("workbench:region"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    overview = response.context["overview"]
    rows = {row.division.code: (row.items, row.staff) for row in overview.rows}
    assert rows["330106"] == (2, 1)  # 西湖区: two items in force; reviewer_a (supervisor sits at city level)
    assert all(code.startswith("3301") for code in rows)
    assert overview.total_items == 2 and "370811" not in rows
    html = response.content.decode()
    assert "<svg" in html and "西湖区" in html and "任城区" not in html


def test_the_region_overview_of_a_county_shows_that_county(
    roles: None, staff_client: StaffClient, department_a: Organisation
) -> None:
    from yiwang.identity import services as identity

    county = identity.create_staff(
        actor=SYSTEM,
        username="xihu-supervisor",
        name="西湖监察",
        department=department_a,
        division_code="330106",
        roles=["supervisor"],
        password="correct horse battery staple",
    )
    published(a_version())
    overview = staff_client(county).get(reverse("workbench:region")).context["overview"]
    assert [(r.division.code, r.items, r.staff) for r in overview.rows] == [("330106", 1, 1)]
