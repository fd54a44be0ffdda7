"""The catalogue API: public reads for everyone, writes for catalogue managers only."""

from __future__ import annotations

import pytest
from django.urls import reverse

from yiwang.catalogue.constants import VersionStatus
from yiwang.catalogue.models import ItemVersion
from yiwang.catalogue.tests.factories import item_content

pytestmark = pytest.mark.django_db


def test_public_reads_work_anonymously(api, published) -> None:
    version = published()
    code = version.implementation_code
    listing = api.get("/api/v1/items/", {"q": "个体"})
    assert listing.status_code == 200
    assert [row["implementation_code"] for row in listing.json()["results"]] == [code]
    detail = api.get(f"/api/v1/items/{code}/")
    assert detail.status_code == 200
    assert detail.json()["content"] == version.content
    assert api.get(f"/api/v1/items/{code}/versions/").json()[0]["version"] == 1
    assert api.get(f"/api/v1/items/{code}/versions/1/").status_code == 200
    assert api.get(f"/api/v1/items/{code}/diff/", {"from": 1, "to": 1}).json() == []
    assert api.get("/api/v1/departments/").json()[0]["item_count"] == 1


def test_drafts_are_not_public(api, manager) -> None:
    from yiwang.catalogue import services

    draft = services.save_draft(actor=manager, content=item_content())
    assert api.get(f"/api/v1/items/{draft.implementation_code}/").status_code == 404
    assert api.get(f"/api/v1/items/{draft.implementation_code}/versions/1/").status_code == 404
    assert api.get("/api/v1/items/").json()["count"] == 0


MANAGE_ENDPOINTS = [
    ("get", "/api/v1/manage/versions/"),
    ("post", "/api/v1/manage/versions/"),
    ("post", "/api/v1/manage/check/"),
    ("post", "/api/v1/manage/import/"),
]


@pytest.mark.parametrize(("method", "url"), MANAGE_ENDPOINTS)
def test_anonymous_users_cannot_reach_management(api, method: str, url: str) -> None:
    response = getattr(api, method)(url, {"content": item_content()}, format="json")
    assert response.status_code in (401, 403)
    assert ItemVersion.objects.count() == 0


@pytest.mark.parametrize(("method", "url"), MANAGE_ENDPOINTS)
def test_non_managers_cannot_reach_management(api_as, citizen, method: str, url: str) -> None:
    response = getattr(api_as(citizen), method)(url, {"content": item_content()}, format="json")
    assert response.status_code == 403
    assert ItemVersion.objects.count() == 0


def test_non_managers_cannot_act_on_versions(api_as, citizen, manager, published) -> None:
    version = published()
    client = api_as(citizen)
    for action in ("submit", "publish", "withdraw", "return"):
        assert client.post(f"/api/v1/manage/versions/{version.pk}/{action}/", {"reason": "x"}).status_code == 403
    assert (
        client.put(f"/api/v1/manage/versions/{version.pk}/", {"content": item_content()}, format="json").status_code
        == 403
    )
    # A manager may not publish or withdraw (publishers only).
    assert api_as(manager).post(f"/api/v1/manage/versions/{version.pk}/withdraw/", {"reason": "x"}).status_code == 403
    version.refresh_from_db()
    assert version.status == VersionStatus.PUBLISHED


def test_manager_and_publisher_workflow_over_the_api(api_as, manager, publisher) -> None:
    created = api_as(manager).post("/api/v1/manage/versions/", {"content": item_content()}, format="json")
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    assert api_as(manager).post(f"/api/v1/manage/versions/{pk}/submit/").json()["status"] == "in_review"
    assert api_as(publisher).post(f"/api/v1/manage/versions/{pk}/publish/").json()["status"] == "published"


def test_invalid_content_gets_a_translated_error_with_paths(api_as, manager) -> None:
    response = api_as(manager).post(
        "/api/v1/manage/versions/", {"content": item_content(item_type="1")}, format="json", HTTP_ACCEPT_LANGUAGE="en"
    )
    assert response.status_code == 400
    body = response.json()
    assert body["errors"][0]["path"] == "$.item_type"
    assert "exchange format" in body["message"]
    assert ItemVersion.objects.count() == 0


def test_publishing_with_violations_is_refused_with_every_violation(api_as, manager, publisher) -> None:
    created = api_as(manager).post(
        "/api/v1/manage/versions/", {"content": item_content(faqs=[], contacts={})}, format="json"
    )
    pk = created.json()["id"]
    response = api_as(manager).post(f"/api/v1/manage/versions/{pk}/submit/")
    assert response.status_code == 400
    assert {(e["rule"], e["element"]) for e in response.json()["errors"]} == {
        ("Q5", "faqs"),
        ("Q4", "contacts.consultation_phone"),
        ("Q4", "contacts.supervision_phone"),
    }


def test_openapi_schema_is_served(api) -> None:
    response = api.get(reverse("api-schema"))
    assert response.status_code == 200
    assert b"/api/v1/items/" in response.content


def test_an_unknown_action_is_not_found_and_changes_nothing(api_as, manager, published) -> None:
    version = published()
    assert api_as(manager).post(f"/api/v1/manage/versions/{version.pk}/explode/").status_code == 404
    version.refresh_from_db()
    assert version.status == VersionStatus.PUBLISHED


def test_department_counts_and_translated_permission_errors(api, api_as, citizen, published) -> None:
    published()
    published()
    rows = api.get("/api/v1/departments/").json()
    assert [(row["name"], row["item_count"]) for row in rows] == [("杭州市西湖区市场监督管理局", 2)]
    zh = api_as(citizen).get("/api/v1/manage/versions/", HTTP_ACCEPT_LANGUAGE="zh-hans").json()["detail"]
    en = api_as(citizen).get("/api/v1/manage/versions/", HTTP_ACCEPT_LANGUAGE="en").json()["detail"]
    assert en == "You do not have permission to change the catalogue."
    assert zh != en
