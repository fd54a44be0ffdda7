"""Outbound text messages (SMS) through a pluggable provider.

The platform never talks to an SMS gateway directly: ``send_sms`` records the message in the outbox inside
the caller's transaction, and after commit the configured provider (``YIWANG_MESSAGE_PROVIDER``) sends it.
The default ``ConsoleProvider`` prints to the console so nothing real is sent in development; a real
gateway is a class with the same ``send`` method. Phone and text travel encrypted through the outbox table.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from typing import Any, Protocol

from django.conf import settings
from django.utils.module_loading import import_string

from yiwang.common import crypto, outbox

TOPIC = "identity.sms"
logger = logging.getLogger(__name__)


class MessageProvider(Protocol):
    def send(self, phone: str, text: str) -> None: ...


@dataclass(frozen=True)
class SentMessage:
    phone: str
    text: str


class ConsoleProvider:
    """Development provider: writes the message to standard output (the phone masked by nothing — it is a
    developer's console, not a log file)."""

    def send(self, phone: str, text: str) -> None:
        sys.stdout.write(f"[SMS to {phone}] {text}\n")
        sys.stdout.flush()


class MemoryProvider:
    """A FAKE SMS gateway for tests: keeps messages in ``MemoryProvider.sent`` instead of sending them."""

    sent: list[SentMessage] = []

    def send(self, phone: str, text: str) -> None:
        MemoryProvider.sent.append(SentMessage(phone, text))


def provider() -> MessageProvider:
    cls = import_string(settings.YIWANG_MESSAGE_PROVIDER)
    return cls()  # type: ignore[no-any-return]


def send_sms(phone: str, text: str) -> None:
    """Queue a text message; must run inside the transaction of the write that causes it."""
    outbox.enqueue(TOPIC, {"phone": crypto.encrypt(phone), "text": crypto.encrypt(text)})


def deliver(message: dict[str, Any]) -> None:
    """Outbox handler (subscribed in IdentityConfig.ready)."""
    payload = message["payload"]
    provider().send(crypto.decrypt(payload["phone"]), crypto.decrypt(payload["text"]))
