"""The transactional outbox: events commit with their write, survive a failed delivery, are delivered
once by the relay, and vanish with a rolled-back write."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import transaction

from yiwang.common import outbox
from yiwang.common.models import OutboxEvent

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def received() -> Iterator[list[dict[str, Any]]]:
    messages: list[dict[str, Any]] = []
    outbox._handlers.pop("test.topic", None)
    outbox.subscribe("test.topic", messages.append)
    yield messages
    outbox._handlers.pop("test.topic", None)


def test_an_event_is_delivered_after_commit(received: list[dict[str, Any]]) -> None:
    with transaction.atomic():
        event = outbox.enqueue("test.topic", {"n": 1})
        assert received == []  # nothing leaves before commit
    assert [m["payload"] for m in received] == [{"n": 1}]
    event.refresh_from_db()
    assert event.sent_at is not None


def test_a_rolled_back_write_sends_nothing(received: list[dict[str, Any]]) -> None:
    with pytest.raises(RuntimeError), transaction.atomic():
        outbox.enqueue("test.topic", {"n": 2})
        raise RuntimeError("the write failed")
    assert received == []
    assert not OutboxEvent.objects.exists()


def test_a_failed_delivery_is_kept_and_the_relay_delivers_it_once() -> None:
    calls: list[int] = []

    def flaky(message: dict[str, Any]) -> None:
        calls.append(message["id"])
        if len(calls) == 1:
            raise ConnectionError("department system down")

    outbox._handlers.pop("test.flaky", None)
    outbox.subscribe("test.flaky", flaky)
    try:
        with transaction.atomic():
            event = outbox.enqueue("test.flaky", {"n": 3})
        event.refresh_from_db()
        assert event.sent_at is None and event.attempts == 1 and "down" in event.last_error
        assert outbox.relay() == 1
        assert outbox.relay() == 0  # already sent: not delivered twice
        assert calls == [event.pk, event.pk]
    finally:
        outbox._handlers.pop("test.flaky", None)


def test_enqueue_outside_a_transaction_is_refused() -> None:
    with pytest.raises(RuntimeError, match="inside the write's transaction"):
        outbox.enqueue("test.topic", {})
