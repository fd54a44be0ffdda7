"""Catalogue management in the admin goes through the services and respects roles."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from yiwang.audit.models import AuditRecord
from yiwang.catalogue.constants import VersionStatus
from yiwang.catalogue.models import ItemVersion
from yiwang.catalogue.tests.factories import item_content

pytestmark = pytest.mark.django_db


# Catalogue staff sign in with the TOTP second factor (staff_client); without it every admin page sends them to it.
StaffClient = Callable[[User], Client]


def test_a_manager_creates_a_draft_with_violations_and_sees_them(staff_client: StaffClient, manager: User) -> None:
    client = staff_client(manager)
    response = client.post(
        reverse("admin:catalogue_itemversion_new"), {"content": json.dumps(item_content(faqs=[]), ensure_ascii=False)}
    )
    version = ItemVersion.objects.get()
    assert response.status_code == 302
    assert version.status == VersionStatus.DRAFT and version.violation_count == 1
    page = client.get(reverse("admin:catalogue_itemversion_change", args=[version.pk])).content.decode()
    assert "Q5" in page
    # Submitting is refused with the violation listed; nothing changes.
    client.post(reverse("admin:catalogue_itemversion_act", args=[version.pk, "submit"]), follow=True)
    version.refresh_from_db()
    assert version.status == VersionStatus.DRAFT
    assert AuditRecord.objects.filter(action="catalogue.version.save_draft", actor=manager).exists()


def test_bad_json_in_the_editor_is_an_error_and_saves_nothing(staff_client: StaffClient, manager: User) -> None:
    client = staff_client(manager)
    response = client.post(reverse("admin:catalogue_itemversion_new"), {"content": "{not json"})
    assert response.status_code == 200
    assert ItemVersion.objects.count() == 0


def test_a_publisher_publishes_from_the_admin(staff_client: StaffClient, publisher: User, manager: User) -> None:
    from yiwang.catalogue import services

    draft = services.save_draft(actor=manager, content=item_content())
    services.submit_for_review(actor=manager, version=draft)
    staff_client(manager).post(reverse("admin:catalogue_itemversion_act", args=[draft.pk, "publish"]))
    draft.refresh_from_db()
    assert draft.status == VersionStatus.IN_REVIEW  # managers cannot publish
    staff_client(publisher).post(reverse("admin:catalogue_itemversion_act", args=[draft.pk, "publish"]))
    draft.refresh_from_db()
    assert draft.status == VersionStatus.PUBLISHED


@pytest.mark.parametrize("name", ["changelist", "new", "import"])
def test_staff_without_catalogue_roles_and_citizens_are_kept_out(
    client: Client, staff_client: StaffClient, citizen: User, reviewer_a: User, admin: User, name: str
) -> None:
    url = reverse(f"admin:catalogue_itemversion_{name}")
    client.force_login(citizen)
    assert client.get(url).status_code == 302  # not staff: sent to the admin login
    assert staff_client(reviewer_a).get(url).status_code == 302  # staff, but not of the admin site
    citizen.is_staff = True
    citizen.save()
    assert staff_client(citizen).get(url).status_code == 403  # admin site, but no catalogue role
    # Administrators pass authz everywhere, and their group carries the admin site's catalogue permissions.
    assert staff_client(admin).get(url).status_code == 200


def test_json_import_through_the_admin(staff_client: StaffClient, manager: User, tmp_path: Any) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = staff_client(manager)
    upload = SimpleUploadedFile("items.json", json.dumps({"items": [item_content()]}).encode(), "application/json")
    client.post(reverse("admin:catalogue_itemversion_import"), {"file": upload})
    assert ItemVersion.objects.filter(status=VersionStatus.DRAFT).count() == 1


@pytest.mark.parametrize("state", ["draft", "in_review", "published"])
def test_lifecycle_forms_are_not_nested_in_the_change_form(
    staff_client: StaffClient, publisher: User, state: str
) -> None:
    # Browsers ignore a <form> inside another: its button would submit the outer change form instead.
    from html.parser import HTMLParser

    from yiwang.catalogue import services

    version = services.save_draft(actor=publisher, content=item_content())
    if state != "draft":
        version = services.submit_for_review(actor=publisher, version=version)
    if state == "published":
        version = services.publish(actor=publisher, version=version)
    html = (
        staff_client(publisher).get(reverse("admin:catalogue_itemversion_change", args=[version.pk])).content.decode()
    )

    class FormNesting(HTMLParser):
        depth = 0
        deepest = 0
        actions: list[str] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag == "form":
                self.depth += 1
                self.deepest = max(self.deepest, self.depth)
                self.actions.append(dict(attrs).get("action") or "")

        def handle_endtag(self, tag: str) -> None:
            if tag == "form":
                self.depth -= 1

    parser = FormNesting()
    parser.feed(html)
    assert parser.deepest == 1
    action = {"draft": "submit", "in_review": "publish", "published": "withdraw"}[state]
    assert reverse("admin:catalogue_itemversion_act", args=[version.pk, action]) in parser.actions
