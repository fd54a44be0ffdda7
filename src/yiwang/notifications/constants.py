"""Code sets of the notifications app."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

# The outbox topic of a queued notification (services.notify → delivery.deliver).
TOPIC = "notifications.deliver"


class Channel(models.TextChoices):
    INBOX = "inbox", _("Message centre")
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")


# The channels that leave the platform: each send is recorded as a Delivery, so a redelivered event sends once.
EXTERNAL_CHANNELS = frozenset({Channel.EMAIL, Channel.SMS})


class DeliveryStatus(models.TextChoices):
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed, to be retried")
    ABANDONED = "abandoned", _("Given up")
