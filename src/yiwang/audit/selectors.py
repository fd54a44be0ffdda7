"""Reading the audit log."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy

from yiwang.audit.models import AuditRecord

READ = "audit.read"  # the authz action of auditors (administrators hold every action)


def records_for(object_type: str, object_id: str | int) -> QuerySet[AuditRecord]:
    return AuditRecord.objects.filter(object_type=object_type, object_id=str(object_id)).order_by("at", "id")


def audit_log(actor: Any, *, action: str = "", object_type: str = "", object_id: str = "") -> QuerySet[AuditRecord]:
    """The log as ``actor`` may read it (auditors and administrators: all of it), newest first.

    ``action`` matches an action or a family of them by its dotted prefix (``catalogue`` →
    ``catalogue.version.publish`` …). Anyone else gets ``PermissionDenied``: supervisors watch indicators,
    not who did what.
    """
    from yiwang.identity import authz  # identity builds on audit, not the other way round at import time

    authz.check(actor, READ, message=gettext_lazy("Only auditors read the audit log."))
    qs = AuditRecord.objects.filter(authz.scope_q(actor, READ))
    if action:
        qs = qs.filter(Q(action=action) | Q(action__startswith=f"{action.rstrip('.')}."))
    if object_type:
        qs = qs.filter(object_type=object_type)
    if object_id:
        qs = qs.filter(object_id=object_id)
    return qs.order_by("-at", "-id")


def actions_in_log() -> list[str]:
    """Every action name the log holds (for a filter menu)."""
    return list(AuditRecord.objects.order_by("action").values_list("action", flat=True).distinct())
