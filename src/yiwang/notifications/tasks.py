"""Background tasks of the notifications app (thin wrappers; idempotent)."""

from __future__ import annotations

from celery import shared_task

from yiwang.notifications import delivery


@shared_task(name="yiwang.notifications.tasks.retry_deliveries")
def retry_deliveries() -> int:
    return delivery.retry_failed()
