"""The admin shows messages and deliveries read-only: no adding, changing or deleting."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from yiwang.notifications.models import Delivery, Message
from yiwang.notifications.tests.conftest import Notify

pytestmark = pytest.mark.django_db


@pytest.fixture
def root(db: None) -> User:
    return User.objects.create_superuser("root", password="x" * 20)


def test_messages_can_be_listed_and_viewed_but_not_added_changed_or_deleted(
    notify: Notify, staff_client: Callable[[User], Client], root: User, citizen: User
) -> None:
    notify([citizen], channels=["inbox"])
    message = Message.objects.get()
    client = staff_client(root)
    assert client.get(reverse("admin:notifications_message_changelist")).status_code == 200
    view = client.get(reverse("admin:notifications_message_change", args=[message.pk]))
    assert view.status_code == 200
    assert 'name="_save"' not in view.content.decode()
    assert client.get(reverse("admin:notifications_message_add")).status_code == 403
    client.post(reverse("admin:notifications_message_change", args=[message.pk]), {"kind": "case.refused"})
    assert client.get(reverse("admin:notifications_message_delete", args=[message.pk])).status_code == 403
    message.refresh_from_db()
    assert message.kind == "case.submitted"


def test_deliveries_are_read_only_too(staff_client: Callable[[User], Client], root: User) -> None:
    client = staff_client(root)
    assert client.get(reverse("admin:notifications_delivery_changelist")).status_code == 200
    assert client.get(reverse("admin:notifications_delivery_add")).status_code == 403
    assert not Delivery.objects.exists()
