"""Writes of the notifications app: notify, mark messages read.

``notify`` runs inside the caller's transaction (a case's status change, say). The message centre is this
platform's own database, so its rows are written right there: they commit with the change they report or not at
all (decision 0009). What leaves the platform (e-mail, SMS) is one outbox event, sent after commit by
``delivery.py``; nothing is sent if the change rolls back.
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
from yiwang.notifications.delivery import address_of
from yiwang.notifications.models import Message

ALL_CHANNELS: tuple[str, ...] = (Channel.INBOX, Channel.EMAIL, Channel.SMS)
EXTERNAL_CHANNELS = (Channel.EMAIL, Channel.SMS)


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
    """Tell each of ``recipients`` of ``kind`` on ``channels`` (inbox, email, sms).

    Must run inside the caller's transaction: message-centre rows are written in it, and e-mail and SMS leave
    through one outbox event only if it commits. The event names only the recipients with an address for one of
    its channels (an e-mail address, a confirmed phone): a notification nobody can receive outside costs no
    delivery. ``actor`` is who caused it; the caller's own audit record says what happened.
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
    people: dict[int, AbstractBaseUser] = {}
    for user in recipients:
        if user.pk is None:
            raise ValueError("a message recipient must be a saved user")
        people.setdefault(int(user.pk), user)
    if not people:
        return
    if Channel.INBOX in chosen:
        now = timezone.now()
        Message.objects.bulk_create(
            Message(recipient_id=pk, kind=kind, params=values, link=link, created_at=now) for pk in sorted(people)
        )
    external = [c for c in chosen if c in EXTERNAL_CHANNELS]
    reachable = sorted(pk for pk, user in people.items() if any(address_of(user, c) for c in external))
    if reachable:
        outbox.enqueue(
            TOPIC, {"recipients": reachable, "kind": kind, "params": values, "link": link, "channels": external}
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
