"""Fixtures of the notification tests: FAKE SMS gateways, e-mail addresses for the personas, a quick notify."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import transaction
from django.test import override_settings

from yiwang.audit.actors import SystemActor
from yiwang.common import outbox
from yiwang.notifications import services
from yiwang.notifications.tests.fakes import FakeRecordingSmsGateway

CASES = SystemActor("test:cases")
PARAMS = {"case_number": "330106-2026-000001", "item_name": "个体工商户设立登记"}

Notify = Callable[..., None]


@pytest.fixture
def sms() -> Iterator[list[Any]]:
    """Texts sent through the FAKE recording gateway during the test."""
    FakeRecordingSmsGateway.sent.clear()
    with override_settings(YIWANG_MESSAGE_PROVIDER="yiwang.notifications.tests.fakes.FakeRecordingSmsGateway"):
        yield FakeRecordingSmsGateway.sent
    FakeRecordingSmsGateway.sent.clear()


def with_email(user: User, address: str) -> User:
    User.objects.filter(pk=user.pk).update(email=address)
    user.refresh_from_db()
    return user


@pytest.fixture
def notify() -> Notify:
    """Queue a notification in a committed write and deliver it as the relay would (test transactions never
    commit, so on-commit hand-over does not run)."""

    def send(
        recipients: Iterable[User],
        kind: str = "case.submitted",
        params: dict[str, Any] | None = None,
        *,
        relay: bool = True,
        **options: Any,
    ) -> None:
        with transaction.atomic():
            services.notify(actor=CASES, recipients=recipients, kind=kind, params=params or PARAMS, **options)
        if relay:
            outbox.relay()

    return send
