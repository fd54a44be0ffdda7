"""Writes of the notifications app: queue a notification, mark messages read.

``notify`` runs inside the caller's transaction (a case's status change, say) and records one outbox event;
nothing is sent until that transaction commits, and nothing at all if it rolls back. Delivery to the message
centre, e-mail and SMS happens afterwards, in ``delivery.py``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.audit import services as audit
from yiwang.audit.actors import Actor
from yiwang.common import outbox
from yiwang.common.errors import NotFound, PermissionDenied
from yiwang.notifications import kinds
from yiwang.notifications.constants import TOPIC, Channel
from yiwang.notifications.models import Message

ALL_CHANNELS: tuple[str, ...] = (Channel.INBOX, Channel.EMAIL, Channel.SMS)


def _param_value(name: str, value: Any) -> str | int | float:
    """Parameters are stored as JSON and shown in any language: plain text and numbers, dates as ISO text."""
    if isinstance(value, bool) or value is None:
        raise TypeError(f"message parameter {name!r} must be text, a number or a date, not {value!r}")
    if isinstance(value, dt.datetime):
        if timezone.is_naive(value):
            raise ValueError(f"message parameter {name!r} is a naive datetime; pass an aware one")
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, str | int | float):
        return value
    raise TypeError(f"message parameter {name!r} must be text, a number or a date, not {type(value).__name__}")


def _clean_link(link: str) -> str:
    # A path on this site only: a message must never carry someone to another host (phishing by notification).
    if link and (not link.startswith("/") or link.startswith("//") or "\\" in link or len(link) > 500):
        raise ValueError(f"a message link is a path on this site such as '/my/cases/1/', got {link!r}")
    return link


def notify(
    *,
    actor: Actor,
    recipients: Iterable[AbstractBaseUser],
    kind: str,
    params: dict[str, Any],
    link: str = "",
    channels: Iterable[str] = ALL_CHANNELS,
) -> None:
    """Queue a message of ``kind`` to each of ``recipients``, on ``channels`` (inbox, email, sms).

    Must run inside the caller's transaction: the message leaves only if the change it reports commits.
    Errors here are programming errors (unknown kind, missing parameter, unknown channel), never the user's.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("notifications.notify must run inside the transaction of the change it reports")
    link = _clean_link(link)
    entry = kinds.get(kind)
    missing = entry.params - set(params)
    if missing:
        raise ValueError(f"message kind {kind!r} needs the parameters {sorted(missing)}")
    unexpected = set(params) - entry.params
    if unexpected:
        raise ValueError(f"message kind {kind!r} takes no parameters {sorted(unexpected)}")
    values = {name: _param_value(name, value) for name, value in sorted(params.items())}
    chosen = sorted(set(channels))
    unknown = set(chosen) - set(Channel.values)
    if unknown or not chosen:
        raise ValueError(f"channels must be some of {list(Channel.values)}, got {chosen}")
    recipient_ids: list[int] = []
    for user in recipients:
        if user.pk is None:
            raise ValueError("a message recipient must be a saved user")
        recipient_ids.append(int(user.pk))
    recipient_ids = sorted(set(recipient_ids))
    if not recipient_ids:
        return
    event = outbox.enqueue(
        TOPIC,
        {
            "recipients": recipient_ids,
            "kind": kind,
            "params": values,
            "link": link,
            "channels": chosen,
        },
    )
    audit.record(
        actor=actor,
        action="notifications.queued",
        object_type="common.outboxevent",
        object_id=event.pk,
        object_label=kind,
        after={"recipients": recipient_ids, "channels": chosen},
    )


def _reader(actor: Any) -> User:
    if not isinstance(actor, User) or not actor.is_authenticated:
        raise PermissionDenied(_("Only the recipient can mark messages read."))
    return actor


def mark_read(*, actor: User, message_ids: Iterable[int | str]) -> int:
    """Mark some of one's own messages read; returns how many were unread. A message id that is not one of the
    actor's messages changes nothing at all (and is reported as not found, whether it exists or not)."""
    reader = _reader(actor)
    try:
        ids = sorted({int(i) for i in message_ids})
    except (TypeError, ValueError):
        raise NotFound(_("There is no such message among yours.")) from None
    if any(not 0 < i < 2**63 for i in ids):  # beyond any row id (and SQLite's integers): no such message
        raise NotFound(_("There is no such message among yours."))
    if not ids:
        return 0
    with transaction.atomic():
        own = set(Message.objects.filter(recipient=reader, pk__in=ids).values_list("pk", flat=True))
        if own != set(ids):
            raise NotFound(_("There is no such message among yours."))
        changed = Message.objects.filter(pk__in=ids, read_at__isnull=True).update(read_at=timezone.now())
        if changed:
            audit.record(
                actor=reader,
                action="notifications.read",
                object_type="notifications.message",
                object_id=ids[0] if len(ids) == 1 else "",
                after={"messages": ids},
            )
    return changed


def mark_all_read(*, actor: User) -> int:
    """Mark all of one's own messages read; returns how many were unread."""
    reader = _reader(actor)
    with transaction.atomic():
        changed = Message.objects.filter(recipient=reader, read_at__isnull=True).update(read_at=timezone.now())
        if changed:
            audit.record(
                actor=reader,
                action="notifications.read_all",
                object_type="auth.user",
                object_id=reader.pk,
                after={"count": changed},
            )
    return changed
