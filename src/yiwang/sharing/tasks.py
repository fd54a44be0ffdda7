"""Scheduled jobs of the sharing app (Celery beat; each idempotent)."""

from __future__ import annotations

from celery import shared_task

from yiwang.audit.actors import SCHEDULER
from yiwang.sharing import accesslog


@shared_task(name="yiwang.sharing.tasks.anchor_access_log")
def anchor_access_log() -> int:
    """Copy the access log's head into the audit log (accesslog.anchor); the sequence anchored, 0 if nothing new."""
    anchored = accesslog.anchor(actor=SCHEDULER)
    return anchored[0] if anchored else 0
