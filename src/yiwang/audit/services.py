"""Writing audit records. Called by other apps' services inside their own transaction."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from yiwang.audit.actors import Actor, actor_label
from yiwang.audit.models import AuditRecord


def record(
    *,
    actor: Actor,
    action: str,
    object_type: str,
    object_id: str | int,
    object_label: str = "",
    before: Any = None,
    after: Any = None,
    note: str = "",
    on_behalf_of: str = "",
) -> AuditRecord:
    # An audit record outside a transaction could survive a rolled-back change (or vice versa).
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit.record must run inside the transaction of the change it records")
    return AuditRecord.objects.create(
        actor=actor if isinstance(actor, AbstractBaseUser) else None,  # type: ignore[misc]  # AUTH_USER_MODEL is a User
        actor_label=actor_label(actor)[:150],
        on_behalf_of=on_behalf_of[:150],
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        object_label=object_label[:300],
        before=before,
        after=after,
        note=note,
    )
