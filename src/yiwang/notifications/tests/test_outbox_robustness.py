"""The outbox when things go wrong: a broker that is down, a handler that fails halfway.

The broker here is a closed local port, so these run everywhere; test_broker_outage.py does the same against
the machine's real Redis with a real worker.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import transaction

from yiwang.common import outbox
from yiwang.common.models import OutboxEvent
from yiwang.notifications import services
from yiwang.notifications.models import Message
from yiwang.notifications.tests.broker import closed_port, using_broker
from yiwang.notifications.tests.conftest import CASES, PARAMS

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def broker_down() -> Iterator[None]:
    with using_broker(f"redis://127.0.0.1:{closed_port()}/9"):
        yield


def test_a_commit_with_the_broker_down_succeeds_and_leaves_the_event_to_the_relay(
    citizen: User, broker_down: None, sms: list[Any], caplog: pytest.LogCaptureFixture
) -> None:
    started = time.monotonic()
    for _ in range(5):
        with transaction.atomic():
            services.notify(actor=CASES, recipients=[citizen], kind="case.submitted", params=PARAMS)
    assert time.monotonic() - started < 5  # no request waits on a dead broker
    events = OutboxEvent.objects.filter(topic="notifications.deliver")
    assert events.count() == 5
    assert all(e.sent_at is None and e.attempts == 0 for e in events)
    assert Message.objects.count() == 5  # the message centre is written with the change, broker or not
    assert sms == []
    assert "left for the relay" in caplog.text

    # The first failure pauses publishing briefly: the other four did not try the broker again.
    assert caplog.text.count("the task broker refused it") == 1
    assert caplog.text.count("the task broker failed moments ago") == 4

    assert outbox.relay() == 5
    assert len(sms) == 5
    assert Message.objects.count() == 5


def test_a_handler_that_fails_halfway_leaves_none_of_its_writes(citizen: User) -> None:
    def half(message: dict[str, Any]) -> None:
        Message.objects.create(recipient=citizen, kind="case.submitted", params=PARAMS, event_id=message["id"])
        raise ConnectionError("department system down")

    outbox._handlers.pop("test.half", None)
    outbox.subscribe("test.half", half)
    try:
        with transaction.atomic():
            event = outbox.enqueue("test.half", {})
        event.refresh_from_db()
        assert event.sent_at is None and event.attempts == 1 and "down" in event.last_error
        assert not Message.objects.exists()  # rolled back with the failed handler, not committed half-done
    finally:
        outbox._handlers.pop("test.half", None)


def test_on_commit_delivery_runs_in_process_in_the_embedded_default(citizen: User, sms: list[Any]) -> None:
    with transaction.atomic():
        services.notify(actor=CASES, recipients=[citizen], kind="case.submitted", params=PARAMS, channels=["sms"])
        assert sms == []
    assert OutboxEvent.objects.get(topic="notifications.deliver").sent_at is not None
    assert [text.phone for text in sms] == [citizen.account.phone]
