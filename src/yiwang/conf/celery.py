"""The Celery application. In the embedded default (no broker configured) tasks run eagerly in process."""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.conf.settings")

app = Celery("yiwang")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.conf.beat_schedule = {
    "catalogue-apply-schedule": {"task": "yiwang.catalogue.tasks.apply_schedule", "schedule": 300.0},
    "outbox-relay": {"task": "yiwang.common.tasks.relay_outbox", "schedule": 10.0},
}
