"""Background tasks of the catalogue (Celery; eager in the embedded default)."""

from __future__ import annotations

from celery import shared_task

from yiwang.audit.actors import SCHEDULER
from yiwang.catalogue import services


@shared_task(name="yiwang.catalogue.tasks.apply_schedule")
def apply_schedule() -> int:
    """Planned effective and cancel dates: bring status labels in line (idempotent; see decision 0003)."""
    return services.apply_schedule(actor=SCHEDULER)
