"""The message centre (站内消息) and the record of what left the platform by e-mail and SMS."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yiwang.notifications.constants import Channel, DeliveryStatus


class Message(models.Model):
    """One message in one person's message centre.

    Stored language-neutrally (kind + params, rendered by ``kinds.render`` in the reader's language). Written
    in the transaction of the change it reports (``services.notify``); ``event_id`` is set only on messages an
    outbox event made (queued before decision 0009), unique with the recipient so a redelivery makes no second.
    """

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="inbox_messages", verbose_name=_("recipient")
    )
    kind = models.CharField(_("kind"), max_length=60)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    link = models.CharField(_("link"), max_length=500, blank=True)
    event_id = models.PositiveBigIntegerField(_("outbox event"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["event_id", "recipient"], name="notification_message_once"),
        ]
        indexes = [
            # "My messages, newest first" and, partial, "my unread messages newest first" (the header badge
            # counts them on every signed-in page).
            models.Index(fields=["recipient", "-created_at", "-id"], name="notification_inbox_idx"),
            models.Index(
                fields=["recipient", "-created_at"], condition=Q(read_at__isnull=True), name="notification_unread_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} → {self.recipient_id}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class Delivery(models.Model):
    """One message sent (or tried) to one recipient on one external channel for one outbox event.

    Written in the same transaction as the send, so a redelivered event whose earlier delivery committed
    sends nothing again; a crash between the send and the commit sends once more (at least once).
    """

    event_id = models.PositiveBigIntegerField(_("outbox event"))
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("recipient")
    )
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    status = models.CharField(_("status"), max_length=10, choices=DeliveryStatus.choices)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=1)
    last_error = models.TextField(_("last error"), blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["event_id", "recipient", "channel"], name="notification_delivery_once"),
        ]
        indexes = [
            models.Index(fields=["next_attempt_at"], condition=Q(status="failed"), name="notification_retry_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} #{self.event_id} → {self.recipient_id} ({self.status})"
