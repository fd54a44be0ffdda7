"""The workbench pages of the catalogue and grants, and who reaches them."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation

from yiwang.catalogue.models import Organisation
from yiwang.sharing import services
from yiwang.sharing.constants import GrantStatus
from yiwang.sharing.models import Grant, Resource
from yiwang.sharing.tests import catalogue_world
from yiwang.sharing.tests.catalogue_world import in_days, resource_data

pytestmark = pytest.mark.django_db

resource_a = catalogue_world.resource_a
request_b = catalogue_world.request_b

StaffClient = Callable[[User], Client]


def _pages(resource: Resource, grant: Grant) -> list[tuple[str, str]]:
    return [
        ("get", reverse("workbench:sharing")),
        ("get", reverse("workbench:sharing_export")),
        ("get", reverse("workbench:sharing_resource", args=[resource.pk])),
        ("get", reverse("workbench:sharing_request", args=[resource.pk])),
        ("get", reverse("workbench:sharing_inbox")),
        ("get", reverse("workbench:sharing_grant", args=[grant.pk])),
        ("post", reverse("workbench:sharing_approve", args=[grant.pk])),
        ("post", reverse("workbench:sharing_refuse", args=[grant.pk])),
        ("post", reverse("workbench:sharing_revoke", args=[grant.pk])),
        ("get", reverse("workbench:sharing_mine")),
        ("post", reverse("workbench:sharing_withdraw", args=[grant.pk])),
    ]


def test_anonymous_visitors_are_sent_to_sign_in(resource_a: Resource, request_b: Grant) -> None:
    client = Client()
    for method, url in _pages(resource_a, request_b):
        response = getattr(client, method)(url)
        assert response.status_code == 302, url
        assert "login" in response["Location"] or "sign" in response["Location"], url


def test_citizens_get_the_forbidden_page(
    citizen: User, staff_client: StaffClient, resource_a: Resource, request_b: Grant
) -> None:
    client = Client()
    client.force_login(citizen)
    for method, url in _pages(resource_a, request_b):
        assert getattr(client, method)(url).status_code == 403, url
    request_b.refresh_from_db()
    assert request_b.status == GrantStatus.REQUESTED


def test_staff_browse_filter_and_download_the_catalogue(
    clerk: User, staff_client: StaffClient, resource_a: Resource
) -> None:
    client = staff_client(clerk)
    page = client.get(reverse("workbench:sharing"))
    assert page.status_code == 200
    assert "人口库:居民身份信息".encode() in page.content
    assert resource_a.name.encode() in page.content
    filtered = client.get(reverse("workbench:sharing"), {"provider": "platform", "sharing_type": "conditional"})
    assert resource_a.name.encode() not in filtered.content
    assert "法人库".encode() in filtered.content
    searched = client.get(reverse("workbench:sharing"), {"q": "坐落"})  # a field's name
    assert resource_a.name.encode() in searched.content
    assert "人口库".encode() not in searched.content
    exported = client.get(reverse("workbench:sharing_export"))
    assert "attachment" in exported["Content-Disposition"]
    assert "property_rights" in [r["code"] for r in json.loads(exported.content)["resources"]]
    csv = client.get(reverse("workbench:sharing_export"), {"format": "csv"})
    assert csv["Content-Type"].startswith("text/csv")


def test_a_resource_page_shows_its_grants_to_the_provider_only(
    reviewer_a: User, reviewer_b: User, clerk: User, staff_client: StaffClient, resource_a: Resource, request_b: Grant
) -> None:
    url = reverse("workbench:sharing_resource", args=[resource_a.pk])
    grant_url = reverse("workbench:sharing_grant", args=[request_b.pk]).encode()
    provider = staff_client(reviewer_a).get(url)
    assert provider.status_code == 200
    assert grant_url in provider.content
    for other in (reviewer_b, clerk):
        page = staff_client(other).get(url)
        assert page.status_code == 200
        assert grant_url not in page.content
    assert staff_client(clerk).get(reverse("workbench:sharing_resource", args=[999999])).status_code == 404


def test_a_member_asks_for_a_grant_for_their_own_department(
    reviewer_b: User, staff_client: StaffClient, department_b: Any, resource_a: Resource
) -> None:
    client = staff_client(reviewer_b)
    url = reverse("workbench:sharing_request", args=[resource_a.pk])
    assert client.get(url).status_code == 200
    bad = client.post(url, {"fields_": ["owner"], "purposes": "", "until": in_days(30).isoformat(), "rate": "60"})
    assert bad.status_code == 400
    assert not Grant.objects.exists()
    done = client.post(
        url,
        {"fields_": ["owner"], "purposes": "办理登记\n\n核验权属", "until": in_days(30).isoformat(), "rate": "60"},
    )
    assert done.status_code == 302
    grant = Grant.objects.get()
    assert (grant.consumer, grant.requested_purposes) == (department_b, ["办理登记", "核验权属"])


def test_staff_without_a_grant_role_cannot_ask(clerk: User, staff_client: StaffClient, resource_a: Resource) -> None:
    url = reverse("workbench:sharing_request", args=[resource_a.pk])
    assert staff_client(clerk).get(url).status_code == 403
    assert staff_client(clerk).get(reverse("workbench:sharing_inbox")).status_code == 403


def test_the_provider_approves_a_narrowed_grant_from_its_inbox(
    reviewer_a: User, staff_client: StaffClient, request_b: Grant
) -> None:
    client = staff_client(reviewer_a)
    inbox = client.get(reverse("workbench:sharing_inbox"), {"status": "requested"})
    assert reverse("workbench:sharing_grant", args=[request_b.pk]).encode() in inbox.content
    assert client.get(reverse("workbench:sharing_grant", args=[request_b.pk])).status_code == 200
    url = reverse("workbench:sharing_approve", args=[request_b.pk])
    widened = client.post(url, {"fields_": ["owner"], "purposes": [request_b.requested_purposes[0]], "rate": "500"})
    assert widened.status_code == 400
    request_b.refresh_from_db()
    assert request_b.status == GrantStatus.REQUESTED
    done = client.post(
        url,
        {
            "fields_": ["owner"],
            "purposes": [request_b.requested_purposes[0]],
            "until": in_days(10).isoformat(),
            "rate": "30",
        },
    )
    assert done.status_code == 302
    request_b.refresh_from_db()
    assert (request_b.status, request_b.fields, request_b.rate_per_minute) == (GrantStatus.APPROVED, ["owner"], 30)
    assert request_b.valid_until == in_days(10)
    assert client.post(reverse("workbench:sharing_revoke", args=[request_b.pk]), {"reason": ""}).status_code == 400
    revoked = client.post(reverse("workbench:sharing_revoke", args=[request_b.pk]), {"reason": "不再需要"})
    assert revoked.status_code == 302
    request_b.refresh_from_db()
    assert request_b.status == GrantStatus.REVOKED


def test_reviewer_b_cannot_see_or_decide_department_as_grants(
    reviewer_b: User, staff_client: StaffClient, request_b: Grant
) -> None:
    client = staff_client(reviewer_b)
    assert client.get(reverse("workbench:sharing_grant", args=[request_b.pk])).status_code == 404
    for name in ("sharing_approve", "sharing_refuse", "sharing_revoke"):
        assert client.post(reverse(f"workbench:{name}", args=[request_b.pk]), {"reason": "x"}).status_code == 404
    assert (
        reverse("workbench:sharing_grant", args=[request_b.pk]).encode()
        not in client.get(reverse("workbench:sharing_inbox")).content
    )
    request_b.refresh_from_db()
    assert request_b.status == GrantStatus.REQUESTED


def test_the_provider_refuses_with_a_reason(reviewer_a: User, staff_client: StaffClient, request_b: Grant) -> None:
    client = staff_client(reviewer_a)
    url = reverse("workbench:sharing_refuse", args=[request_b.pk])
    assert client.post(url, {"reason": "  "}).status_code == 400
    assert client.post(url, {"reason": "用途不明确"}).status_code == 302
    request_b.refresh_from_db()
    assert (request_b.status, request_b.decision_note) == (GrantStatus.REFUSED, "用途不明确")


def test_the_consumer_lists_and_withdraws_its_own_requests_only(
    reviewer_a: User, reviewer_b: User, staff_client: StaffClient, request_b: Grant
) -> None:
    provider = staff_client(reviewer_a)
    assert provider.post(reverse("workbench:sharing_withdraw", args=[request_b.pk])).status_code == 404
    consumer = staff_client(reviewer_b)
    mine = consumer.get(reverse("workbench:sharing_mine"))
    assert mine.status_code == 200
    assert reverse("workbench:sharing_withdraw", args=[request_b.pk]).encode() in mine.content
    assert consumer.post(reverse("workbench:sharing_withdraw", args=[request_b.pk])).status_code == 302
    request_b.refresh_from_db()
    assert request_b.status == GrantStatus.WITHDRAWN


def test_the_pages_speak_english_under_en(clerk: User, staff_client: StaffClient, resource_a: Resource) -> None:
    with translation.override("en"):
        url = reverse("workbench:sharing")
    page = staff_client(clerk).get(url)
    assert page.status_code == 200
    assert b"Population register: resident identity" in page.content


def test_the_consumers_list_names_the_fields(reviewer_b: User, staff_client: StaffClient, request_b: Grant) -> None:
    html = staff_client(reviewer_b).get(reverse("workbench:sharing_mine")).content.decode()
    assert "权利人, 坐落" in html  # owner, location: the names, not the codes


def test_list_pages_query_the_same_however_many_rows(
    manager: User,
    reviewer_a: User,
    reviewer_b: User,
    clerk: User,
    department_a: Organisation,
    department_b: Organisation,
    staff_client: StaffClient,
    request_b: Grant,
) -> None:
    pages = [
        (staff_client(reviewer_a), reverse("workbench:sharing_inbox")),
        (staff_client(reviewer_b), reverse("workbench:sharing_mine")),
        (staff_client(clerk), reverse("workbench:sharing")),
        (staff_client(reviewer_a), reverse("workbench:sharing_resource", args=[request_b.resource_id])),
    ]

    def counts() -> list[int]:
        found = []
        for client, url in pages:
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url).status_code == 200, url
            found.append(len(queries.captured_queries))
        return found

    before = counts()
    for i in range(3):
        more = services.register_resource(
            actor=manager, provider=department_a, **resource_data(code=f"more_{i}", name=f"更多资源{i}")
        )
        services.request_grant(
            actor=reviewer_b,
            resource=more,
            consumer=department_b,
            fields=["owner"],
            purposes=["核验"],
            until=in_days(9),
        )
    assert counts() == before
