"""The licence wallet (我的证照): the reads of the holder side, scoped to the licences the actor holds or acts for.

A licence names its holder by a blind index (``Licence.holder_index``: the ID number's index for a person, the USCC's
for an organisation, ``issuance.holder_index``), so a wallet is the set of indexes the actor may answer for and one
indexed query over ``licence_holder_idx`` (holder_index, -issued_on). Whose indexes: the person's own, every
enterprise they represent or are an agent (经办人) of, and every person who appointed them proxy (委托代办) — the
principals ``identity.authz.principals_of`` knows, with agencies in force now.

Staff accounts and anonymous visitors hold no licences here: their set is empty, and every lookup is "not found"
(never "forbidden": whether a licence of someone else exists is not theirs to learn).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.common.errors import NotFound, invalid_field
from yiwang.identity import authz
from yiwang.identity.constants import AccountKind, RealNameStatus
from yiwang.identity.models import Account, Enterprise, account_of
from yiwang.licences import issuance, selectors
from yiwang.licences.constants import HolderKind, LicenceStatus, Verdict
from yiwang.licences.models import Licence, LicenceShare

# The statuses a wallet can be narrowed to: a licence's recorded status, or "expired" (valid, but past its date).
FILTERS = (Verdict.VALID, Verdict.EXPIRED, Verdict.SUSPENDED, Verdict.REVOKED, Verdict.SUPERSEDED)


def holder_indexes(actor: Any) -> frozenset[str]:
    """The blind indexes of every holder whose licences ``actor`` may see (empty for staff and the anonymous)."""
    subject = authz.subject_of(actor)
    if subject.user is None or subject.kind != AccountKind.PERSON:
        return frozenset()
    indexes: set[str] = set()
    account = account_of(actor)
    # Only a verified account answers for its ID number: an unverified one has not proved the number is theirs,
    # and a licence (unlike a case) exists whether or not this account ever applied for it.
    if account is not None and account.is_verified and account.id_number_index:
        indexes.add(account.id_number_index)
    principals = authz.principals_of(actor)
    if principals.enterprise_ids:
        codes = Enterprise.objects.filter(pk__in=sorted(principals.enterprise_ids)).values_list("uscc", flat=True)
        indexes.update(issuance.holder_index(HolderKind.ORGANISATION, code) for code in codes)
    if principals.user_ids:
        # A proxy answers for a verified principal only (granting a proxy needs a verified principal anyway).
        people = Account.objects.filter(
            user_id__in=sorted(principals.user_ids),
            id_number_index__isnull=False,
            real_name_status=RealNameStatus.VERIFIED,
        ).values_list("id_number_index", flat=True)
        indexes.update(index for index in people if index)
    return frozenset(indexes)


state_of = selectors.state_of  # the wallet's callers read it from here


def _status_q(status: str, today: dt.date) -> Q:
    if status not in FILTERS:
        raise invalid_field("status", _("Choose a status from the list."))
    unexpired = Q(valid_until__isnull=True) | Q(valid_until__gte=today)
    if status == Verdict.VALID:
        return Q(status=LicenceStatus.VALID) & unexpired
    if status == Verdict.EXPIRED:
        return Q(status=LicenceStatus.VALID, valid_until__lt=today)
    return Q(status=status)


def wallet(actor: Any, *, status: str | None = None) -> QuerySet[Licence]:
    """The actor's licences and those of the holders they act for, newest first, with type and issuer.

    ``status`` narrows to one of ``FILTERS``; anything else is refused (``InvalidInput``) rather than ignored.
    """
    indexes = holder_indexes(actor)
    if not indexes:
        return Licence.objects.none()
    licences = Licence.objects.filter(holder_index__in=sorted(indexes))
    if status:
        licences = licences.filter(_status_q(status, timezone.localdate()))
    # Lists show none of the encrypted columns (the holder's code, the licence data): decrypting them is wasted.
    return licences.select_related("licence_type", "issuer").defer("data", "holder_code").order_by("-issued_on", "-id")


def licence_for_holder(actor: Any, pk: int) -> Licence:
    """One licence of the actor's wallet, or ``NotFound`` — the same answer whether it exists for another holder
    or not at all."""
    indexes = holder_indexes(actor)
    licence = (
        Licence.objects.filter(pk=pk, holder_index__in=sorted(indexes)).select_related("licence_type", "issuer").first()
        if indexes
        else None
    )
    if licence is None:
        raise NotFound(_("No such licence."))
    return licence


def versions(actor: Any, licence: Licence) -> list[Licence]:
    """Every version of the licence in the actor's wallet, oldest first (a change or re-issue keeps the type,
    issuer and serial and takes the next version; ``licence_version_uniq``)."""
    return list(
        Licence.objects.filter(
            licence_type_id=licence.licence_type_id,
            issuer_id=licence.issuer_id,
            serial=licence.serial,
            holder_index__in=sorted(holder_indexes(actor)),
        )
        .defer("data", "holder_code")
        .order_by("version")
    )


def shares_of(actor: Any, licence: Licence) -> QuerySet[LicenceShare]:
    """The licence's share links with their view logs, newest first (the licence must be the actor's)."""
    licence = licence_for_holder(actor, licence.pk)
    return LicenceShare.objects.filter(licence=licence).select_related("created_by").prefetch_related("views")


def share_for_holder(actor: Any, pk: int) -> LicenceShare:
    """One share link of a licence in the actor's wallet, or ``NotFound``."""
    indexes = holder_indexes(actor)
    link = (
        LicenceShare.objects.filter(pk=pk, licence__holder_index__in=sorted(indexes)).select_related("licence").first()
        if indexes
        else None
    )
    if link is None:
        raise NotFound(_("No such share link."))
    return link
