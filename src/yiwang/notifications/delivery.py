"""Sending notifications out (e-mail, SMS): the outbox handler, and the job that retries failed sends.

The handler runs inside the outbox's delivery transaction (common/outbox.py), once per event, at least once:

- message-centre rows are written by ``services.notify`` in the change's own transaction; an event queued before
  that (its channels include ``inbox``) still makes them here, keyed by (event, recipient) so a redelivered
  event makes no second message;
- an e-mail or SMS send writes its ``Delivery`` row in a savepoint together with the send, so once that
  commits a redelivery skips it; a crash after the send and before the commit sends once more, which no
  outside channel can rule out;
- a send that fails does not fail the event (the other recipients' sends would be repeated on every retry):
  it is recorded as failed and retried by ``retry_failed`` with growing pauses, then given up.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from yiwang.common.models import OutboxEvent
from yiwang.identity import messaging
from yiwang.identity.models import account_of
from yiwang.notifications import kinds
from yiwang.notifications.constants import TOPIC, Channel, DeliveryStatus
from yiwang.notifications.models import Delivery, Message

__all__ = ["TOPIC", "address_of", "deliver", "recipient_language", "retry_failed"]

logger = logging.getLogger(__name__)
# The registered SMS signature (短信签名) that carriers require in front of every text; it is a name, not prose.
SMS_SIGNATURE = "【一网通办】"
# Pauses before the 2nd, 3rd, 4th and 5th try of a failed send; after the 5th failure it is given up.
RETRY_DELAYS = (dt.timedelta(minutes=1), dt.timedelta(minutes=5), dt.timedelta(minutes=30), dt.timedelta(hours=2))
MAX_ATTEMPTS = len(RETRY_DELAYS) + 1


def recipient_language(user: User) -> str:
    """The language of e-mail and SMS for ``user``. Accounts hold no language preference (yet), so messages that
    leave the platform are in Chinese (zh-Hans), the platform's first language."""
    return settings.LANGUAGE_CODE


def address_of(user: Any, channel: str) -> str:
    """Where ``channel`` reaches ``user`` now: an e-mail address, a confirmed phone, or "" for nowhere."""
    if channel == Channel.EMAIL:
        return (user.email or "").strip()
    if channel == Channel.SMS:
        account = account_of(user)
        # Only a confirmed number: one typed at registration and never proved may belong to someone else.
        if account is not None and account.phone and account.phone_confirmed_at is not None:
            return str(account.phone)
    return ""


def _url(link: str) -> str:
    return f"{settings.YIWANG_PUBLIC_BASE_URL.rstrip('/')}{link}" if link else ""


def _send(channel: str, address: str, user: User, payload: dict[str, Any]) -> None:
    with translation.override(recipient_language(user)):
        subject, body = kinds.get(payload["kind"]).render(payload["params"])
        url = _url(payload.get("link", ""))
        if channel == Channel.EMAIL:
            text = body
            if url:
                text += "\n\n" + _("Open: %(url)s") % {"url": url}
            text += "\n\n" + _("This message was sent by Yiwang, the online government service platform.")
            # A parameter with a line break must not break the header (Django refuses such subjects).
            EmailMessage(" ".join(subject.split()), text, settings.DEFAULT_FROM_EMAIL, [address]).send()
        else:
            messaging.provider().send(address, f"{SMS_SIGNATURE}{body}{' ' + url if url else ''}")


def _send_once(event_id: int, user: User, channel: str, payload: dict[str, Any]) -> None:
    address = address_of(user, channel)
    if not address:
        return
    now = timezone.now()
    try:
        with transaction.atomic():
            # Unique per (event, recipient, channel): a redelivered event finds the row of the earlier delivery
            # (sent, or failed and left to the retry job) and sends nothing.
            Delivery.objects.create(
                event_id=event_id, recipient=user, channel=channel, status=DeliveryStatus.SENT, sent_at=now
            )
            _send(channel, address, user, payload)
    except IntegrityError:
        return
    except Exception as exc:  # an unreachable gateway or a refused address: record it and retry later
        logger.warning("notification %s by %s to user %s failed; will retry", event_id, channel, user.pk, exc_info=True)
        Delivery.objects.create(
            event_id=event_id,
            recipient=user,
            channel=channel,
            status=DeliveryStatus.FAILED,
            last_error=str(exc)[:2000],
            next_attempt_at=now + RETRY_DELAYS[0],
        )


def deliver(message: dict[str, Any]) -> None:
    """Outbox handler of ``notifications.deliver`` (subscribed in NotificationsConfig.ready)."""
    event_id = int(message["id"])
    payload = message["payload"]
    kinds.get(payload["kind"])  # a kind unknown here (an app not installed) keeps the event pending, visibly
    channels = set(payload["channels"])
    created_at = dt.datetime.fromisoformat(message["created_at"])
    for user in User.objects.filter(pk__in=payload["recipients"]).select_related("account").order_by("pk"):
        if Channel.INBOX in channels:
            Message.objects.get_or_create(
                event_id=event_id,
                recipient=user,
                defaults={
                    "kind": payload["kind"],
                    "params": payload["params"],
                    "link": payload.get("link", ""),
                    "created_at": created_at,  # when the change happened, however late the delivery
                },
            )
        for channel in (Channel.EMAIL, Channel.SMS):
            if channel in channels:
                _send_once(event_id, user, channel, payload)


def _retry(delivery_id: int, now: dt.datetime) -> bool:
    with transaction.atomic():
        found = (
            Delivery.objects.select_for_update()
            .select_related("recipient")
            .filter(pk=delivery_id, status=DeliveryStatus.FAILED)
            .first()
        )
        if found is None:
            return False  # another run took it
        payload = OutboxEvent.objects.filter(pk=found.event_id).values_list("payload", flat=True).first()
        address = address_of(found.recipient, found.channel)
        attempts = found.attempts + 1
        if payload is None or not address:
            Delivery.objects.filter(pk=found.pk).update(
                status=DeliveryStatus.ABANDONED, next_attempt_at=None, last_error="event or address no longer exists"
            )
            return False
        try:
            _send(found.channel, address, found.recipient, payload)
        except Exception as exc:
            logger.warning("retry %s of delivery %s failed", attempts, found.pk, exc_info=True)
            given_up = attempts >= MAX_ATTEMPTS
            Delivery.objects.filter(pk=found.pk).update(
                attempts=attempts,
                last_error=str(exc)[:2000],
                status=DeliveryStatus.ABANDONED if given_up else DeliveryStatus.FAILED,
                next_attempt_at=None if given_up else now + RETRY_DELAYS[attempts - 1],
            )
            return False
        Delivery.objects.filter(pk=found.pk).update(
            status=DeliveryStatus.SENT, attempts=attempts, sent_at=now, next_attempt_at=None
        )
        return True


def retry_failed(limit: int = 200) -> int:
    """Try failed sends whose pause is over; returns how many went out (beat: notifications-retry)."""
    now = timezone.now()
    due = list(
        Delivery.objects.filter(status=DeliveryStatus.FAILED, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(1 for pk in due if _retry(pk, now))
