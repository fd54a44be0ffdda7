"""Catalogue staff reach their own department's items inside their own region, and nothing else.

``manager`` and ``publisher`` are staff of department A (西湖区); department B (任城区) items are made by the
``admin`` persona, whom nothing narrows.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import translation

from yiwang.audit.models import AuditRecord
from yiwang.catalogue import selectors, services
from yiwang.catalogue.constants import VersionStatus
from yiwang.catalogue.models import ImplementationItem, ItemVersion, Organisation
from yiwang.catalogue.tests.factories import OTHER_BODY_USCC, item_content
from yiwang.common.errors import PermissionDenied

pytestmark = pytest.mark.django_db

B_BODY = {"name": "济宁市任城区行政审批服务局", "uscc": OTHER_BODY_USCC, "nature": "1"}


def b_content(**overrides: Any) -> dict[str, Any]:
    return item_content(region_code="370811", implementing_body=B_BODY, **overrides)


@pytest.fixture
def b_draft(admin: User, department_b: Organisation) -> ItemVersion:
    return services.save_draft(actor=admin, content=b_content())


@pytest.fixture
def b_in_review(admin: User, b_draft: ItemVersion) -> ItemVersion:
    return services.submit_for_review(actor=admin, version=b_draft)


@pytest.fixture
def b_published(admin: User, b_in_review: ItemVersion) -> ItemVersion:
    return services.publish(actor=admin, version=b_in_review)


def state() -> tuple[int, int, int, list[tuple[int, str]]]:
    """Everything a refused write must leave as it was."""
    return (
        ImplementationItem.objects.count(),
        ItemVersion.objects.count(),
        AuditRecord.objects.count(),
        list(ItemVersion.objects.order_by("pk").values_list("pk", "status")),
    )


# --- services -------------------------------------------------------------------------------------


def test_a_manager_cannot_save_a_draft_for_another_departments_body(manager: User, department_b: Organisation) -> None:
    before = state()
    with pytest.raises(PermissionDenied) as excinfo:
        services.save_draft(actor=manager, content=b_content())
    with translation.override("en"):
        assert "own department and region" in str(excinfo.value.message)
    assert state() == before


def test_a_manager_cannot_introduce_a_body_the_catalogue_does_not_know(manager: User) -> None:
    before = state()
    unknown = {"name": "某某不存在的局", "uscc": OTHER_BODY_USCC, "nature": "1"}
    with pytest.raises(PermissionDenied):
        services.save_draft(actor=manager, content=item_content(implementing_body=unknown))
    assert state() == before
    assert not Organisation.objects.filter(uscc=OTHER_BODY_USCC).exists()


def test_a_manager_cannot_place_their_departments_item_outside_their_region(manager: User) -> None:
    before = state()
    with pytest.raises(PermissionDenied):
        services.save_draft(actor=manager, content=item_content(region_code="370811"))
    assert state() == before


def test_a_manager_cannot_take_another_departments_item_over(
    manager: User, department_a: Organisation, b_draft: ItemVersion
) -> None:
    # The B item's content rewritten to name department A: the item itself still belongs to B.
    hijack = {
        **b_draft.content,
        "region_code": "330106",
        "implementing_body": {"name": department_a.name, "uscc": department_a.uscc},
    }
    before = state()
    with pytest.raises(PermissionDenied):
        services.save_draft(actor=manager, content=hijack, item=b_draft.item)
    with pytest.raises(PermissionDenied):
        services.save_draft(actor=manager, content=hijack)  # found by its implementation code, too
    assert state() == before
    b_draft.refresh_from_db()
    assert b_draft.department.uscc == OTHER_BODY_USCC


def test_a_manager_cannot_submit_another_departments_draft(manager: User, b_draft: ItemVersion) -> None:
    before = state()
    with pytest.raises(PermissionDenied):
        services.submit_for_review(actor=manager, version=b_draft)
    assert state() == before


@pytest.mark.parametrize("action", ["return", "publish"])
def test_a_publisher_cannot_return_or_publish_another_departments_version(
    publisher: User, b_in_review: ItemVersion, action: str
) -> None:
    before = state()
    with pytest.raises(PermissionDenied):
        services.act_on_version(actor=publisher, version=b_in_review, action=action, reason="不是我们的事项")
    assert state() == before


def test_a_publisher_cannot_withdraw_another_departments_item(publisher: User, b_published: ItemVersion) -> None:
    before = state()
    with pytest.raises(PermissionDenied):
        services.withdraw(actor=publisher, version=b_published, reason="不是我们的事项")
    assert state() == before
    assert selectors.current_version_of(b_published.implementation_code) is not None


def test_the_stored_department_decides_not_the_callers_copy(
    publisher: User, department_a: Organisation, b_in_review: ItemVersion
) -> None:
    b_in_review.department = department_a  # an edited in-memory copy must not open B's version
    b_in_review.region_code = "330106"
    with pytest.raises(PermissionDenied):
        services.publish(actor=publisher, version=b_in_review)
    assert ItemVersion.objects.get(pk=b_in_review.pk).status == VersionStatus.IN_REVIEW


def test_own_department_work_goes_through(manager: User, publisher: User) -> None:
    draft = services.save_draft(actor=manager, content=item_content())
    services.submit_for_review(actor=manager, version=draft)
    assert services.publish(actor=publisher, version=ItemVersion.objects.get(pk=draft.pk)).status == "published"


def test_an_import_with_one_foreign_item_is_refused_whole_naming_it(manager: User, department_b: Organisation) -> None:
    own, foreign = item_content(), b_content()
    before = state()
    with pytest.raises(PermissionDenied) as excinfo:
        services.import_items(actor=manager, items=[own, foreign])
    assert state() == before
    message = str(excinfo.value.message)
    assert foreign["implementation_code"] in message and own["implementation_code"] not in message
    assert [d["item"] for d in excinfo.value.details] == [foreign["implementation_code"]]


def test_an_import_of_own_items_goes_through(manager: User) -> None:
    report = services.import_items(actor=manager, items=[item_content(), item_content()])
    assert report.created == 2


def test_a_manager_cannot_attach_files_to_another_departments_item(manager: User, b_draft: ItemVersion) -> None:
    from django.core.files.base import ContentFile

    upload = ContentFile(b"%PDF-1.4\n%%EOF\n", name="application.pdf")
    with pytest.raises(PermissionDenied):
        services.attach_document(actor=manager, item=b_draft.item, reference="forms/application.pdf", upload=upload)
    assert not b_draft.item.attachments.exists()


def test_a_manager_keeps_only_their_own_departments_organisation_record(
    manager: User, department_a: Organisation, department_b: Organisation
) -> None:
    services.upsert_organisation(actor=manager, name=department_a.name, uscc=department_a.uscc, name_en="Xihu AMR")
    with pytest.raises(PermissionDenied):
        services.upsert_organisation(actor=manager, name="改名", uscc=department_b.uscc)
    with pytest.raises(PermissionDenied):
        services.upsert_organisation(actor=manager, name="新机构", uscc=None, division_code="330106")
    department_b.refresh_from_db()
    assert department_b.name == "济宁市任城区行政审批服务局"


def test_staff_of_other_roles_and_regions_reach_no_catalogue_writes(
    reviewer_b: User, supervisor: User, department_b: Organisation
) -> None:
    for actor in (reviewer_b, supervisor):
        with pytest.raises(PermissionDenied) as excinfo:
            services.save_draft(actor=actor, content=b_content())
        with translation.override("en"):  # the role is missing, before any question of scope
            assert "permission to change the catalogue" in str(excinfo.value.message)


# --- API ------------------------------------------------------------------------------------------


def test_a_managers_list_shows_only_their_departments_versions(
    api_as: Callable[[User], Any], manager: User, admin: User, b_draft: ItemVersion
) -> None:
    own = services.save_draft(actor=manager, content=item_content())
    rows = api_as(manager).get("/api/v1/manage/versions/").json()
    assert [r["id"] for r in rows] == [own.pk]
    assert b_draft.implementation_code not in str(rows)
    assert {r["id"] for r in api_as(admin).get("/api/v1/manage/versions/").json()} == {own.pk, b_draft.pk}


def test_another_departments_version_is_not_found_over_the_api(
    api_as: Callable[[User], Any], publisher: User, b_in_review: ItemVersion
) -> None:
    client = api_as(publisher)
    assert client.get(f"/api/v1/manage/versions/{b_in_review.pk}/").status_code == 404
    assert (
        client.put(f"/api/v1/manage/versions/{b_in_review.pk}/", {"content": b_content()}, format="json").status_code
        == 404
    )
    for action in ("return", "publish"):
        assert client.post(f"/api/v1/manage/versions/{b_in_review.pk}/{action}/", {"reason": "x"}).status_code == 404
    assert ItemVersion.objects.get(pk=b_in_review.pk).status == VersionStatus.IN_REVIEW


def test_creating_a_foreign_draft_over_the_api_is_forbidden(
    api_as: Callable[[User], Any], manager: User, department_b: Organisation
) -> None:
    response = api_as(manager).post("/api/v1/manage/versions/", {"content": b_content()}, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert ItemVersion.objects.count() == 0


def test_a_foreign_import_over_the_api_is_forbidden_and_names_the_items(
    api_as: Callable[[User], Any], manager: User, department_b: Organisation
) -> None:
    foreign = b_content()
    response = api_as(manager).post(
        "/api/v1/manage/import/", {"content": {"items": [item_content(), foreign]}}, format="json"
    )
    assert response.status_code == 403
    assert foreign["implementation_code"] in response.json()["message"]
    assert ItemVersion.objects.count() == 0


# --- admin ----------------------------------------------------------------------------------------


def test_the_admin_changelist_and_pages_show_only_the_managers_department(
    staff_client: Callable[[User], Client], manager: User, b_draft: ItemVersion
) -> None:
    own = services.save_draft(actor=manager, content=item_content())
    client = staff_client(manager)
    page = client.get(reverse("admin:catalogue_itemversion_changelist")).content.decode()
    assert own.implementation_code in page
    assert b_draft.implementation_code not in page
    # Another department's version is "not there": the change page redirects, the edit page is a 404.
    assert client.get(reverse("admin:catalogue_itemversion_change", args=[b_draft.pk])).status_code == 302
    assert client.get(reverse("admin:catalogue_itemversion_edit", args=[b_draft.pk])).status_code == 404
    response = client.post(reverse("admin:catalogue_itemversion_act", args=[b_draft.pk, "submit"]))
    assert response.status_code == 404
    assert ItemVersion.objects.get(pk=b_draft.pk).status == VersionStatus.DRAFT


def test_admin_bulk_actions_reach_only_the_managers_department(
    staff_client: Callable[[User], Client], manager: User, b_draft: ItemVersion
) -> None:
    own = services.save_draft(actor=manager, content=item_content())
    staff_client(manager).post(
        reverse("admin:catalogue_itemversion_changelist"),
        {"action": "submit_selected", "_selected_action": [own.pk, b_draft.pk]},
    )
    assert ItemVersion.objects.get(pk=own.pk).status == VersionStatus.IN_REVIEW
    assert ItemVersion.objects.get(pk=b_draft.pk).status == VersionStatus.DRAFT


def test_the_item_changelist_is_scoped_too(
    staff_client: Callable[[User], Client], manager: User, b_draft: ItemVersion
) -> None:
    from django.contrib.auth.models import Permission

    own = services.save_draft(actor=manager, content=item_content())
    manager.user_permissions.add(Permission.objects.get(codename="view_implementationitem"))
    page = staff_client(manager).get(reverse("admin:catalogue_implementationitem_changelist")).content.decode()
    assert own.implementation_code in page
    assert b_draft.implementation_code not in page
