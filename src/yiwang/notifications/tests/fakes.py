"""FAKE SMS gateways for the notification tests (an outside system, behind identity.messaging's interface)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from django.utils import translation

FAKE_SMS_FILE_ENV = "YIWANG_FAKE_SMS_FILE"


@dataclass(frozen=True)
class FakeText:
    phone: str
    text: str
    language: str


class FakeRecordingSmsGateway:
    """FAKE: keeps each text with the language that was active when it was sent."""

    sent: ClassVar[list[FakeText]] = []

    def send(self, phone: str, text: str) -> None:
        FakeRecordingSmsGateway.sent.append(FakeText(phone, text, translation.get_language() or ""))


class FakeBrokenSmsGateway:
    """FAKE: a gateway that is down."""

    def send(self, phone: str, text: str) -> None:
        raise ConnectionError("FAKE SMS gateway is down")


class FakeFileSmsGateway:
    """FAKE for a Celery worker in another process: appends one line per text to the file named by
    ``YIWANG_FAKE_SMS_FILE`` (a line per send, so duplicates show)."""

    def send(self, phone: str, text: str) -> None:
        path = Path(os.environ[FAKE_SMS_FILE_ENV])
        with path.open("a", encoding="utf-8") as out:
            out.write(f"{phone}\t{' '.join(text.split())}\n")
