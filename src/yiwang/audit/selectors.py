"""Reading the audit log."""

from __future__ import annotations

from django.db.models import QuerySet

from yiwang.audit.models import AuditRecord


def records_for(object_type: str, object_id: str | int) -> QuerySet[AuditRecord]:
    return AuditRecord.objects.filter(object_type=object_type, object_id=str(object_id)).order_by("at", "id")
