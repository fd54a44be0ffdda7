"""The Celery application. In the embedded default (no broker configured) tasks run eagerly in process.

Production runs one worker with the beat scheduler inside it: ``celery -A yiwang.conf.celery worker -B``
(docs/notifications.md). Publishing is bounded by the broker settings in conf/settings.py.
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.conf.settings")

app = Celery("yiwang")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
app.conf.beat_schedule = {
    "catalogue-apply-schedule": {"task": "yiwang.catalogue.tasks.apply_schedule", "schedule": 300.0},
    # Events whose on-commit hand-over failed (broker down) or that a crash left pending.
    "outbox-relay": {"task": "yiwang.common.tasks.relay_outbox", "schedule": 10.0},
    # E-mail and SMS sends that failed, each after its own pause (notifications/delivery.py).
    "notifications-retry": {"task": "yiwang.notifications.tasks.retry_deliveries", "schedule": 60.0},
    # 行政许可法 art. 32 acceptance by operation of law, and deadline warnings (电子监察); both idempotent.
    "cases-deem-acceptances": {"task": "yiwang.cases.tasks.deem_acceptances", "schedule": 900.0},
    "cases-raise-warnings": {"task": "yiwang.cases.tasks.raise_warnings", "schedule": 900.0},
    # 主动服务: holders are told ahead that a licence expires (once per expiry date; safe to run often).
    "licences-remind-expiring": {"task": "yiwang.licences.tasks.remind_expiring", "schedule": 3600.0},
    # The data access log's head copied into the audit log: a rewrite of the chain's tail must then rewrite both.
    "sharing-anchor-access-log": {"task": "yiwang.sharing.tasks.anchor_access_log", "schedule": 3600.0},
}
