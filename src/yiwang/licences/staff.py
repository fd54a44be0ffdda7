"""Reads of the staff side of licences: the licences a department issued, as its approvers see them in the workbench.

Scoped like every staff read (``identity.authz.scope_q``): ``licences.manage`` reaches the licences the actor's own
department issued (``issuer``) in the actor's region and its sub-regions (``region_code``); administrators reach
all. Anything outside is "not found" — whether another department issued a licence is not this department's to
learn. Writes are ``licences.lifecycle``'s.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.audit import selectors as audit_selectors
from yiwang.audit.models import AuditRecord
from yiwang.common.errors import NotFound, invalid_field
from yiwang.identity import authz
from yiwang.licences.constants import LicenceStatus, Verdict
from yiwang.licences.lifecycle import MANAGE
from yiwang.licences.models import Licence

OBJECT_TYPE = "licences.licence"  # how the audit log names a licence (issuance, lifecycle)
QUERY_LIMIT = 120  # the longest identifier is ~80 characters; anything longer matches nothing anyway

# What a list can be narrowed to: a recorded status, or "expired" (valid, but past its date: nothing changes the row
# when a licence expires, so it is a date comparison).
FILTERS = (Verdict.VALID, Verdict.EXPIRED, Verdict.SUSPENDED, Verdict.REVOKED, Verdict.SUPERSEDED)


def _scope(actor: Any) -> Q:
    return authz.scope_q(actor, MANAGE, department_field="issuer_id", division_field="region_code")


def _status_q(status: str, today: dt.date) -> Q:
    if status not in FILTERS:
        raise invalid_field("status", _("Choose a status from the list."))
    unexpired = Q(valid_until__isnull=True) | Q(valid_until__gte=today)
    if status == Verdict.VALID:
        return Q(status=LicenceStatus.VALID) & unexpired
    if status == Verdict.EXPIRED:
        return Q(status=LicenceStatus.VALID, valid_until__lt=today)
    return Q(status=status)


def department_licences(actor: Any, *, query: str = "", status: str = "") -> QuerySet[Licence]:
    """The licences the actor's department issued, newest first, optionally narrowed.

    ``query`` matches part of the identifier, the licence number or the holder's name (the holder's code is
    encrypted: it cannot be searched, and an ID number has no place in a URL anyway); ``status`` is one of
    ``FILTERS`` — anything else is refused (``InvalidInput``) rather than ignored.
    """
    licences = Licence.objects.filter(_scope(actor))
    if status:
        licences = licences.filter(_status_q(status, timezone.localdate()))
    text = query.strip()[:QUERY_LIMIT]
    if text:
        licences = licences.filter(
            Q(identifier__icontains=text) | Q(serial__icontains=text) | Q(holder_name__icontains=text)
        )
    # A list shows no encrypted column (the holder's code, the licence data): decrypting them would be wasted.
    return licences.select_related("licence_type").defer("data", "holder_code").order_by("-issued_on", "-id")


def licence_for_staff(actor: Any, pk: int) -> Licence:
    """One licence of the actor's department, or ``NotFound`` — the same answer for another department's licence
    and for none at all."""
    licence = Licence.objects.filter(_scope(actor), pk=pk).select_related("licence_type", "issuer").first()
    if licence is None:
        raise NotFound(_("No such licence."))
    return licence


def case_number(licence: Licence) -> str | None:
    """The number of the case the licence was issued on (None for a later version, or one issued without a case).

    Only the number: loading the case itself would decrypt its applicant's identifiers for nothing."""
    if licence.case_id is None:
        return None
    number: str | None = Licence.objects.filter(pk=licence.pk).values_list("case__number", flat=True).first()
    return number


def versions(actor: Any, licence: Licence) -> list[Licence]:
    """Every version of the licence, oldest first (a re-issue or change keeps type, issuer and serial and takes the
    next version: ``licence_version_uniq``)."""
    return list(
        Licence.objects.filter(
            _scope(actor), licence_type_id=licence.licence_type_id, issuer_id=licence.issuer_id, serial=licence.serial
        )
        .defer("data", "holder_code")
        .order_by("version")
    )


@dataclass(frozen=True)
class HistoryEntry:
    record: AuditRecord
    # The licence a record belongs to when it is not this one: the next version, whose issue superseded this one.
    successor: Licence | None = None


def history(licence: Licence) -> list[HistoryEntry]:
    """What happened to the licence, oldest first, from the audit log: its issue, suspensions, reinstatements,
    revocation, reminders — and its replacement, which the log records on the next version."""
    entries = [HistoryEntry(r) for r in audit_selectors.records_for(OBJECT_TYPE, licence.pk)]
    successor = Licence.objects.filter(previous=licence).only("pk", "version", "identifier").first()
    if successor is not None:
        entries += [
            HistoryEntry(r, successor)
            for r in audit_selectors.records_for(OBJECT_TYPE, successor.pk).filter(action="licences.new_version")
        ]
    return sorted(entries, key=lambda e: (e.record.at, e.record.pk))
