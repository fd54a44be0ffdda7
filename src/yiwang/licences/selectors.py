"""Reads of the licences app. Verification is public: it answers for anyone; a page or API that shows its licence
must mask the holder (common.masking)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from yiwang.licences import identifiers
from yiwang.licences.constants import LicenceStatus, Verdict
from yiwang.licences.models import Licence

_BY_STATUS = {
    LicenceStatus.SUSPENDED: Verdict.SUSPENDED,
    LicenceStatus.REVOKED: Verdict.REVOKED,
    LicenceStatus.SUPERSEDED: Verdict.SUPERSEDED,
}


@dataclass(frozen=True)
class Verification:
    verdict: str
    licence: Licence | None = None
    reason: str = ""  # why an identifier is invalid (translated), for the person who typed it


def verify_identifier(text: str, *, today: dt.date | None = None) -> Verification:
    """The verdict on an identifier as typed or scanned (issue 5): invalid, unknown, or the licence's state."""
    try:
        parsed = identifiers.parse(text)
    except identifiers.InvalidIdentifier as exc:
        return Verification(Verdict.INVALID, reason=exc.details[0]["message"] if exc.details else str(exc.message))
    licence = (
        Licence.objects.select_related("licence_type", "issuer")
        # The holder's code is read: verification shows it masked (licences.verification.public_record).
        .defer("data")
        .filter(identifier=str(parsed))
        .first()
    )
    if licence is None:
        return Verification(Verdict.UNKNOWN)
    return Verification(state_of(licence, today), licence)


def state_of(licence: Licence, today: dt.date | None = None) -> Verdict:
    """What a licence is now: its recorded status, or expired when its validity has run out (a date, not a row
    change: nothing needs to run at midnight for a licence to expire). The one reading for verification and wallet."""
    if licence.status in _BY_STATUS:
        return _BY_STATUS[LicenceStatus(licence.status)]
    today = today or timezone.localdate()
    if licence.valid_until is not None and licence.valid_until < today:
        return Verdict.EXPIRED
    return Verdict.VALID
