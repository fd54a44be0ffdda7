"""A licence's life after issuance: suspension (暂扣) and its end, revocation (吊销/撤销), re-issue (补证) and change
(变更), and the advance reminder before it expires.

Suspension and revocation change the status of the current version; re-issue and change make the next version
(same serial, version + 1, sealed anew) and leave the old one ``superseded``, so a copy of the old file verifies as
superseded and never as valid. Only the issuing department's approvers act on its licences (``licences.manage``);
the holder is told each time, in the transaction of the change (notifications, decision 0009).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiwang.audit import services as audit
from yiwang.common.errors import InvalidInput, InvalidTransition, invalid_field
from yiwang.identity import authz
from yiwang.identity.constants import RealNameStatus
from yiwang.identity.models import Agency, Enterprise
from yiwang.licences import issuance
from yiwang.licences.constants import HolderKind, LicenceStatus
from yiwang.licences.models import Licence
from yiwang.notifications import kinds
from yiwang.notifications import services as notifications

MANAGE = "licences.manage"
REASON_LIMIT = 500

kinds.register(
    "licence.suspended",
    gettext_lazy("Licence %(licence_name)s suspended"),
    gettext_lazy("Your licence %(licence_name)s (%(identifier)s) has been suspended by %(issuer)s: %(reason)s"),
)
kinds.register(
    "licence.reinstated",
    gettext_lazy("Licence %(licence_name)s valid again"),
    gettext_lazy("The suspension of your licence %(licence_name)s (%(identifier)s) has ended: it is valid again."),
)
kinds.register(
    "licence.revoked",
    gettext_lazy("Licence %(licence_name)s revoked"),
    gettext_lazy("Your licence %(licence_name)s (%(identifier)s) has been revoked by %(issuer)s: %(reason)s"),
)
kinds.register(
    "licence.new_version",
    gettext_lazy("New version of licence %(licence_name)s"),
    gettext_lazy(
        "%(issuer)s has issued version %(version)s of your licence %(licence_name)s (%(identifier)s); "
        "the earlier version no longer verifies as valid. Your wallet has the new file."
    ),
)
kinds.register(
    "licence.expiring",
    gettext_lazy("Licence %(licence_name)s expires on %(valid_until)s"),
    gettext_lazy(
        "Your licence %(licence_name)s (%(identifier)s) expires on %(valid_until)s. "
        "Apply for its renewal in time to keep it valid."
    ),
)


def holders(licence: Licence) -> list[User]:
    """Who receives news of a licence: the person it names, or the enterprise's representative and its agents."""
    if licence.holder_kind == HolderKind.PERSON:
        # A verified account only, as the wallet: an unverified one has not proved the ID number is theirs.
        return list(
            User.objects.filter(
                account__id_number_index=licence.holder_index,
                account__real_name_status=RealNameStatus.VERIFIED,
                is_active=True,
            )
        )
    enterprise = Enterprise.objects.filter(uscc=licence.holder_code).first()
    if enterprise is None:
        return []
    now = timezone.now()
    agents = Agency.objects.filter(
        enterprise=enterprise, revoked_at__isnull=True, valid_from__lte=now, valid_until__gte=now
    ).values_list("agent_id", flat=True)
    return list(
        User.objects.filter(Q(pk=enterprise.representative_id) | Q(pk__in=list(agents)), is_active=True).distinct()
    )


def _notify(licence: Licence, kind: str, actor: Any, **params: Any) -> None:
    recipients = holders(licence)
    if recipients:
        notifications.notify(
            actor=actor,
            recipients=recipients,
            kind=kind,
            params={"licence_name": licence.licence_type.name, "identifier": licence.identifier, **params},
            link=f"/licences/wallet/{licence.pk}/",
        )


def _reason(reason: str) -> str:
    text = (reason or "").strip()
    if not text:
        raise invalid_field("reason", _("Give the reason: the holder is told it."))
    if len(text) > REASON_LIMIT:
        raise invalid_field("reason", _("Keep the reason under %(limit)s characters.") % {"limit": REASON_LIMIT})
    return text


def _locked(actor: Any, licence: Licence) -> Licence:
    locked = Licence.objects.select_for_update().select_related("licence_type", "issuer").get(pk=licence.pk)
    authz.check(
        actor,
        MANAGE,
        department_id=locked.issuer_id,
        message=_("Only the issuing department's approvers act on its licences."),
    )
    return locked


def _set_status(actor: Any, licence: Licence, status: str, reason: str, action: str) -> Licence:
    Licence.objects.filter(pk=licence.pk).update(status=status, status_changed_at=timezone.now(), status_reason=reason)
    before = licence.status
    licence.refresh_from_db()
    audit.record(
        actor=actor,
        action=action,
        object_type="licences.licence",
        object_id=licence.pk,
        object_label=licence.identifier,
        before={"status": before},
        after={"status": status, "reason": reason},
    )
    return licence


def suspend(*, actor: Any, licence: Licence, reason: str) -> Licence:
    """暂扣: the licence verifies as ``suspended`` until reinstated."""
    reason = _reason(reason)
    with transaction.atomic():
        locked = _locked(actor, licence)
        if locked.status != LicenceStatus.VALID:
            raise InvalidTransition(_("Only a valid licence can be suspended."))
        locked = _set_status(actor, locked, LicenceStatus.SUSPENDED, reason, "licences.suspended")
        _notify(locked, "licence.suspended", actor, issuer=locked.issuer.name, reason=reason)
    return locked


def reinstate(*, actor: Any, licence: Licence, reason: str) -> Licence:
    """The end of a suspension: valid again (unless it has expired meanwhile, which verification tells)."""
    reason = _reason(reason)
    with transaction.atomic():
        locked = _locked(actor, licence)
        if locked.status != LicenceStatus.SUSPENDED:
            raise InvalidTransition(_("Only a suspended licence can be reinstated."))
        locked = _set_status(actor, locked, LicenceStatus.VALID, reason, "licences.reinstated")
        _notify(locked, "licence.reinstated", actor)
    return locked


def revoke(*, actor: Any, licence: Licence, reason: str) -> Licence:
    """吊销 / 撤销: final; the licence verifies as ``revoked`` from now on."""
    reason = _reason(reason)
    with transaction.atomic():
        locked = _locked(actor, licence)
        if locked.status not in (LicenceStatus.VALID, LicenceStatus.SUSPENDED):
            raise InvalidTransition(_("This licence is no longer current: it cannot be revoked."))
        locked = _set_status(actor, locked, LicenceStatus.REVOKED, reason, "licences.revoked")
        _notify(locked, "licence.revoked", actor, issuer=locked.issuer.name, reason=reason)
    return locked


def _next_version(actor: Any, licence: Licence, *, reason: str, data: Mapping[str, str], holder_name: str) -> Licence:
    with transaction.atomic():
        locked = _locked(actor, licence)
        if locked.status != LicenceStatus.VALID:
            raise InvalidTransition(_("Only a valid licence gets a new version; reinstate a suspended one first."))
        holder = issuance.Holder(holder_name, locked.holder_kind, locked.holder_code)
        new = issuance.issue(
            actor=actor,
            licence_type=locked.licence_type,
            issuer=locked.issuer,
            holder=holder,
            data=data,
            region_code=locked.region_code,
            previous=locked,
            # A new version carries the same validity: a re-issue or a change does not renew the licence.
            valid_from=locked.valid_from,
            valid_until=locked.valid_until,
            reason=reason,
        )
        _notify(new, "licence.new_version", actor, issuer=new.issuer.name, version=new.version)
    return new


def reissue(*, actor: Any, licence: Licence, reason: str) -> Licence:
    """补证: the same licence again (lost, damaged), as the next version; the old file verifies as superseded."""
    reason = _reason(reason)
    return _next_version(actor, licence, reason=reason, data=dict(licence.data), holder_name=licence.holder_name)


def change(*, actor: Any, licence: Licence, reason: str, changes: Mapping[str, str], holder_name: str = "") -> Licence:
    """变更: the next version with some of the type's fields (or the holder's name) changed."""
    reason = _reason(reason)
    keys = {str(f["key"]) for f in licence.licence_type.fields}
    problems = [
        {"field": f"changes.{key}", "message": _("“%(key)s” is not a field of this licence type.") % {"key": key}}
        for key in changes
        if key not in keys
    ]
    cleaned = {key: str(value).strip()[:500] for key, value in changes.items() if key in keys}
    name = holder_name.strip()[:200]
    if problems:
        raise InvalidInput(_("Correct the changes."), details=problems)
    data = {**licence.data, **cleaned}
    if data == licence.data and (not name or name == licence.holder_name):
        raise invalid_field("changes", _("Nothing would change: give at least one new value."))
    return _next_version(actor, licence, reason=reason, data=data, holder_name=name or licence.holder_name)


def reminder_days() -> int:
    return int(settings.YIWANG_LICENCE_REMINDER_DAYS)


def send_expiry_reminders(*, actor: Any, today: dt.date | None = None) -> int:
    """主动服务: tell holders ``YIWANG_LICENCE_REMINDER_DAYS`` days ahead that a licence expires (once per expiry
    date: ``reminded_for`` remembers it, so the daily job never repeats itself and a renewal gets its own)."""
    today = today or timezone.localdate()
    horizon = today + dt.timedelta(days=reminder_days())
    due: Iterable[Licence] = (
        Licence.objects.filter(status=LicenceStatus.VALID, valid_until__gte=today, valid_until__lte=horizon)
        .exclude(reminded_for=F("valid_until"))
        .select_related("licence_type")
        .order_by("valid_until", "pk")
    )
    sent = 0
    for licence in due:
        with transaction.atomic():
            # Claimed by a conditional update: two runs at once never remind twice.
            claimed = (
                Licence.objects.filter(pk=licence.pk, status=LicenceStatus.VALID)
                .exclude(reminded_for=F("valid_until"))
                .update(reminded_for=licence.valid_until)
            )
            if not claimed:
                continue
            assert licence.valid_until is not None
            _notify(licence, "licence.expiring", actor, valid_until=licence.valid_until.isoformat())
            audit.record(
                actor=actor,
                action="licences.expiry_reminded",
                object_type="licences.licence",
                object_id=licence.pk,
                object_label=licence.identifier,
                after={"valid_until": licence.valid_until.isoformat()},
            )
            sent += 1
    return sent
