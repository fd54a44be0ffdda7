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
    if licence.status in _BY_STATUS:
        return Verification(_BY_STATUS[LicenceStatus(licence.status)], licence)
    today = today or timezone.localdate()
    if licence.valid_until is not None and licence.valid_until < today:
        return Verification(Verdict.EXPIRED, licence)
    return Verification(Verdict.VALID, licence)
