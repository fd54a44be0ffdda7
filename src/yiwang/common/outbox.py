"""Transactional outbox: enqueue inside the write's transaction, deliver after commit.

Handlers subscribe by topic (``subscribe("catalogue.item.published", fn)``). Delivery happens on
commit (in process, or by a Celery task in production) and again by the periodic relay for anything
left pending by a crash or by a broker that could not be reached. Handlers must be idempotent: delivery
is at least once.

Handing an event to the task queue happens after the write has committed, so it never fails the request:
when the broker is down the event is logged and stays pending, and the relay (the beat task
``yiwang.common.tasks.relay_outbox``) delivers it later.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils import timezone

from yiwang.common.models import OutboxEvent

logger = logging.getLogger(__name__)
Handler = Callable[[dict[str, Any]], None]
_handlers: dict[str, list[Handler]] = defaultdict(list)


def subscribe(topic: str, handler: Handler) -> None:
    if handler not in _handlers[topic]:
        _handlers[topic].append(handler)


def enqueue(topic: str, payload: dict[str, Any]) -> OutboxEvent:
    """Record an event; must be called inside the transaction of the write it describes."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("outbox.enqueue must run inside the write's transaction")
    event = OutboxEvent.objects.create(topic=topic, payload=payload)
    transaction.on_commit(lambda: _schedule_delivery(event.pk))
    return event


# After a failed publish, skip the broker for this long: a request that commits many events must not wait on a
# dead broker once per event; the relay delivers what was skipped.
PUBLISH_PAUSE_SECONDS = 5.0
_publish_paused_until = 0.0


def _schedule_delivery(event_id: int) -> None:
    global _publish_paused_until
    from yiwang.common.tasks import deliver_event

    eager = bool(deliver_event.app.conf.task_always_eager)
    if not eager and time.monotonic() < _publish_paused_until:
        logger.warning("outbox event %s left for the relay: the task broker failed moments ago", event_id)
        return
    try:
        deliver_event.delay(event_id)
    except Exception:
        # The write has committed: raising here would turn a saved change into an error page. The event stays
        # pending and the relay delivers it (settings bound how long a publish may wait).
        if not eager:
            _publish_paused_until = time.monotonic() + PUBLISH_PAUSE_SECONDS
        logger.warning("outbox event %s left for the relay: the task broker refused it", event_id, exc_info=True)


def deliver(event_id: int) -> bool:
    """Deliver one pending event to its handlers; returns whether it is now sent."""
    with transaction.atomic():
        event = OutboxEvent.objects.select_for_update().filter(pk=event_id, sent_at__isnull=True).first()
        if event is None:
            return True  # already delivered by another relay run
        try:
            # A savepoint: a failing handler's writes roll back (and on PostgreSQL the transaction stays usable
            # for recording the failure below).
            with transaction.atomic():
                for handler in _handlers.get(event.topic, []):
                    handler(event.as_message())
        except Exception as exc:  # a handler's failure must not lose the event: record and retry later
            logger.exception("outbox delivery failed for %s", event)
            OutboxEvent.objects.filter(pk=event.pk).update(attempts=event.attempts + 1, last_error=str(exc)[:2000])
            return False
        OutboxEvent.objects.filter(pk=event.pk).update(sent_at=timezone.now(), attempts=event.attempts + 1)
        return True


def relay(limit: int = 500) -> int:
    """Deliver pending events in order; returns how many were delivered."""
    pending = list(OutboxEvent.objects.filter(sent_at__isnull=True).order_by("id").values_list("id", flat=True)[:limit])
    return sum(1 for event_id in pending if deliver(event_id))
