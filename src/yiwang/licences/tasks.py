"""Scheduled jobs of the licences app (Celery beat; each idempotent)."""

from __future__ import annotations

from celery import shared_task

from yiwang.audit.actors import SCHEDULER
from yiwang.licences import lifecycle


@shared_task(name="yiwang.licences.tasks.remind_expiring")
def remind_expiring() -> int:
    return lifecycle.send_expiry_reminders(actor=SCHEDULER)
