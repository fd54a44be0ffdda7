"""Background tasks of the common app (Celery; eager in the embedded default)."""

from __future__ import annotations

from celery import shared_task

from yiwang.common import outbox


@shared_task(name="yiwang.common.tasks.deliver_event")
def deliver_event(event_id: int) -> bool:
    return outbox.deliver(event_id)


@shared_task(name="yiwang.common.tasks.relay_outbox")
def relay_outbox() -> int:
    return outbox.relay()
