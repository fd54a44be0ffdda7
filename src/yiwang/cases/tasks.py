"""Scheduled jobs of the cases app (Celery beat; each idempotent)."""

from __future__ import annotations

from celery import shared_task

from yiwang.audit.actors import SCHEDULER
from yiwang.cases import services, supervision


@shared_task(name="yiwang.cases.tasks.deem_acceptances")
def deem_acceptances() -> int:
    return services.deem_overdue_acceptances(actor=SCHEDULER)


@shared_task(name="yiwang.cases.tasks.raise_warnings")
def raise_warnings() -> int:
    return supervision.raise_warnings(actor=SCHEDULER)
