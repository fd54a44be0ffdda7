"""The admin screens of data sharing are read only: changes go through the services (the workbench pages)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from yiwang.catalogue.models import Organisation
from yiwang.sharing import keys, signing
from yiwang.sharing.models import AccessRecord, Grant, Resource, SigningKey
from yiwang.sharing.tests import catalogue_world, log_world
from yiwang.sharing.tests.factories import machine_client

pytestmark = pytest.mark.django_db

resource_a = catalogue_world.resource_a
request_b = catalogue_world.request_b

StaffClient = Callable[[User], Client]
MODELS = ["resource", "grant", "accessrecord", "signingkey", "consent"]
ID_NUMBER = "11010519491231002X"


@pytest.fixture
def record(department_b: Organisation, resource_a: Resource) -> AccessRecord:
    return log_world.read(department_b, resource_a, id_number=ID_NUMBER)


@pytest.fixture
def key(admin: User, department_a: Organisation) -> SigningKey:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    pem = signing.public_pem(Ed25519PrivateKey.generate().public_key())
    return keys.register_signing_key(actor=admin, application=machine_client(admin, department_a), public_key_pem=pem)


@pytest.fixture
def rows(request_b: Grant, record: AccessRecord, key: SigningKey) -> dict[str, Any]:
    return {"resource": request_b.resource, "grant": request_b, "accessrecord": record, "signingkey": key}


def test_administrators_read_every_changelist_and_none_offers_add_or_delete(
    admin: User, staff_client: StaffClient, rows: dict[str, Any]
) -> None:
    client = staff_client(admin)
    index = client.get(reverse("admin:index")).content.decode()
    for model in MODELS:
        changelist = reverse(f"admin:sharing_{model}_changelist")
        assert changelist in index, model
        page = client.get(changelist)
        assert page.status_code == 200, model
        html = page.content.decode()
        assert reverse(f"admin:sharing_{model}_add") not in html, model
        assert "delete_selected" not in html, model
        assert client.get(reverse(f"admin:sharing_{model}_add")).status_code == 403, model


def test_change_pages_are_read_only_and_posts_change_nothing(
    admin: User, staff_client: StaffClient, rows: dict[str, Any]
) -> None:
    client = staff_client(admin)
    for model, row in rows.items():
        page = client.get(reverse(f"admin:sharing_{model}_change", args=[row.pk]))
        assert page.status_code == 200, model
        assert 'name="_save"' not in page.content.decode(), model
        assert client.get(reverse(f"admin:sharing_{model}_delete", args=[row.pk])).status_code == 403, model
        posted = client.post(reverse(f"admin:sharing_{model}_change", args=[row.pk]), {"name": "changed"})
        assert posted.status_code == 403, model
    resource = rows["resource"]
    resource.refresh_from_db()
    assert resource.name == catalogue_world.resource_data()["name"]
    assert AccessRecord.objects.count() == 1


def test_a_resource_shows_its_fields_and_links_to_the_workbench(
    admin: User, staff_client: StaffClient, resource_a: Resource
) -> None:
    html = staff_client(admin).get(reverse("admin:sharing_resource_change", args=[resource_a.pk])).content.decode()
    assert reverse("workbench:sharing_resource", args=[resource_a.pk]) in html
    for field in resource_a.fields.all():
        assert field.name in html


def test_the_access_log_filters_and_shows_masked_subjects_only(
    admin: User, staff_client: StaffClient, record: AccessRecord
) -> None:
    client = staff_client(admin)
    changelist = reverse("admin:sharing_accessrecord_changelist")
    assert client.get(changelist, {"outcome__exact": "answered"}).context["cl"].result_count == 1
    assert client.get(changelist, {"outcome__exact": "refused"}).context["cl"].result_count == 0
    page = client.get(reverse("admin:sharing_accessrecord_change", args=[record.pk])).content.decode()
    assert record.subject_masked in page
    assert record.subject_index not in page
    assert ID_NUMBER not in page


def test_only_administrators_reach_the_sharing_admin(
    client: Client, staff_client: StaffClient, manager: User, reviewer_a: User, rows: dict[str, Any]
) -> None:
    for model in MODELS:
        url = reverse(f"admin:sharing_{model}_changelist")
        assert client.get(url).status_code == 302, model  # anonymous: to the admin's sign-in
        assert staff_client(reviewer_a).get(url).status_code == 302, model  # not a member of the admin site
        # A catalogue manager uses the admin for items, but reads sharing rows in the workbench, scoped.
        assert staff_client(manager).get(url).status_code == 403, model
    assert (
        reverse("admin:sharing_resource_changelist")
        not in staff_client(manager).get(reverse("admin:index")).content.decode()
    )
