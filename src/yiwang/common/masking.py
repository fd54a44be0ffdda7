"""Masking of personal identifiers for display and logs (e.g. 3405**********001X, 138****5678).

Pages, API responses, exports and logs show the masked form unless the viewer's role needs the value
(decided by ``yiwang.identity.authz.may_see_identifiers``).
"""

from __future__ import annotations

import logging
import re


def mask_id_number(value: str | None) -> str:
    """First 4 and last 4 characters of an 18-character ID number; everything between hidden."""
    if not value:
        return ""
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_phone(value: str | None) -> str:
    """A mainland mobile number as 138****5678 (the carrier prefix and last four remain)."""
    if not value:
        return ""
    if len(value) < 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_name(value: str | None) -> str:
    """A Chinese name keeps its first character (张**); shown where a name must not identify."""
    if not value:
        return ""
    return value[0] + "*" * (len(value) - 1)


# 18-character ID numbers and 11-digit mainland mobile numbers, not embedded in longer digit runs.
_ID_RE = re.compile(r"(?<![0-9A-Za-z])([1-9][0-9]{5})([0-9]{8})([0-9]{3}[0-9Xx])(?![0-9A-Za-z])")
_PHONE_RE = re.compile(r"(?<![0-9])(1[3-9][0-9])([0-9]{4})([0-9]{4})(?![0-9])")


def mask_text(text: str) -> str:
    """Mask every ID number and mobile number found in free text (log lines)."""
    text = _ID_RE.sub(lambda m: mask_id_number(m.group(0)), text)
    return _PHONE_RE.sub(lambda m: mask_phone(m.group(0)), text)


class MaskPersonalDataFilter(logging.Filter):
    """A logging filter that rewrites each record's message with identifiers masked.

    Installed on every handler (settings.LOGGING) so that no code path, ours or a library's, writes an ID
    number or phone number to a log in clear.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_text(message)
        if masked != message:
            record.msg = masked
            record.args = None
        if record.exc_info and not record.exc_text:
            # Tracebacks carry values too (an exception message naming an ID number): format once, masked.
            record.exc_text = mask_text(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = mask_text(record.exc_text)
        return True
