"""Share links (issue 5): a holder shows a third party the annotated copy (加注件) of a licence for a few days.

The link carries a random token (``secrets.token_urlsafe(32)``, 256 bits: unguessable, so the public page needs no
sign-in). The database keeps its SHA-256 digest to look it up by and an encrypted copy so the wallet can show the
link again; a leaked table yields no working link. The annotated copy is sealed once, when the link is made, with
the annotation's expiry set to the link's (capped at the licence's own): a view costs no signature, and the copy
says itself how long it may be relied on (STANDARDS.md §8).

Every opening is logged (``LicenceShareView``: when, the masked address, the browser) and shown to the holder. An
opening writes that row and nothing else — it is the record of the view, and an anonymous visitor must not be able
to grow the audit log. A refused opening (unknown, expired or withdrawn link, or a licence no longer valid) writes
nothing at all.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import secrets
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from yiwang.audit import services as audit
from yiwang.common.errors import DomainError, InvalidInput, InvalidTransition, NotFound
from yiwang.identity.models import account_of
from yiwang.licences import issuance, wallet
from yiwang.licences.constants import Verdict
from yiwang.licences.models import Licence, LicenceShare, LicenceShareView

MIN_DAYS = 1
MAX_DAYS = 30
DEFAULT_DAYS = 7
MAX_TEXT = 100  # LicenceShare.purpose / recipient
TOKEN_BYTES = 32
# token_urlsafe(32) is 43 characters; anything much longer is not one of ours and is not worth hashing.
MAX_TOKEN_LENGTH = 64
USER_AGENT_LENGTH = 200  # LicenceShareView.user_agent


class ShareGone(DomainError):
    """The link existed but no longer shows anything (expired, withdrawn, or its licence is no longer valid)."""

    code = "gone"
    http_status = 410


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def share_url(token: str) -> str:
    """The public address of a link, in the default language (the recipient picks theirs on the page)."""
    with translation.override(settings.LANGUAGE_CODE):
        path = reverse("wallet:shared", args=[token])
    return f"{settings.YIWANG_PUBLIC_BASE_URL.rstrip('/')}{path}"


def annotation_until(licence: Licence, expires_at: dt.datetime) -> dt.date:
    """The date the copy's annotation names: the link's last day, never past the licence's own validity."""
    until = timezone.localtime(expires_at).date()
    if licence.valid_until is not None and licence.valid_until < until:
        return licence.valid_until
    return until


def annotation_of(share: LicenceShare) -> str:
    """The annotation printed on the share's copy (加注件), as the page shows it beside the licence."""
    return issuance.annotation_text(
        share.licence, annotation_until(share.licence, share.expires_at), purpose=share.purpose
    )


def mask_client(address: str) -> str:
    """A viewer's address as the holder sees it: the network, not the machine (IPv4 /24, IPv6 /48).

    Enough to tell "my bank's office" from "somewhere abroad"; not enough to single out a person's device.
    """
    try:
        ip = ipaddress.ip_address((address or "").strip())
    except ValueError:
        return ""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    prefix = 24 if ip.version == 4 else 48
    network = ipaddress.ip_network(f"{ip}/{prefix}", strict=False)
    return str(network)


def _on_behalf_of(actor: Any, licence: Licence) -> str:
    # An enterprise's agent or a proxy shares for the holder: the audit names both, as agency acts do.
    account = account_of(actor)
    own = account.id_number_index if account is not None else None
    return "" if own and own == licence.holder_index else licence.holder_name


def _clean_share_input(purpose: Any, recipient: Any, days: Any) -> tuple[str, str, int]:
    """Every problem of the form at once, each naming its field."""
    problems: list[dict[str, str]] = []
    purpose_text = str(purpose or "").strip()
    recipient_text = str(recipient or "").strip()
    if not purpose_text:
        problems.append({"field": "purpose", "message": _("Say what the licence is shared for.")})
    elif len(purpose_text) > MAX_TEXT:
        problems.append(
            {"field": "purpose", "message": _("The purpose may be at most %(max)d characters.") % {"max": MAX_TEXT}}
        )
    if len(recipient_text) > MAX_TEXT:
        problems.append(
            {
                "field": "recipient",
                "message": _("The recipient may be at most %(max)d characters.") % {"max": MAX_TEXT},
            }
        )
    number: int | None
    try:
        number = int(str(days).strip()) if not isinstance(days, bool) else None
    except (TypeError, ValueError):
        number = None
    if number is None or not MIN_DAYS <= number <= MAX_DAYS:
        problems.append(
            {
                "field": "days",
                "message": _("A share link lasts from %(min)d to %(max)d days.") % {"min": MIN_DAYS, "max": MAX_DAYS},
            }
        )
    if problems:
        raise InvalidInput(problems[0]["message"], details=problems)
    assert number is not None
    return purpose_text, recipient_text, number


def share(
    *, actor: Any, licence: Licence, purpose: str, recipient: str = "", days: int | str = DEFAULT_DAYS
) -> tuple[LicenceShare, str]:
    """Make a share link for a valid licence of the actor's wallet: the link and its token (shown once here; the
    wallet can show it again). Refused, with nothing changed, for a licence outside the wallet, a licence that
    is not valid, or bad input."""
    # Permission first: someone else's licence is "not found" whatever else is wrong with the request.
    held = wallet.licence_for_holder(actor, licence.pk)
    purpose_text, recipient_text, number = _clean_share_input(purpose, recipient, days)
    state = wallet.state_of(held)
    if state != Verdict.VALID:
        raise InvalidTransition(
            _("Only a valid licence can be shared. This licence's status: %(state)s.") % {"state": state.label}
        )
    token = secrets.token_urlsafe(TOKEN_BYTES)
    now = timezone.now()
    expires_at = now + dt.timedelta(days=number)
    # Sealed before the transaction opens (tens of milliseconds of signing and time-stamping need no row locked);
    # a department without a seal is refused here, before anything is written.
    copy = issuance.annotated_copy(held, until=annotation_until(held, expires_at), purpose=purpose_text)
    with transaction.atomic():
        link = LicenceShare(
            licence=held,
            token_digest=digest(token),
            token=token,
            purpose=purpose_text,
            recipient=recipient_text,
            expires_at=expires_at,
            created_by=actor,
            created_at=now,
        )
        # The file is named by chance, never by the token: a storage listing must not hand out working links.
        link.file.save(f"{held.serial}-v{held.version}-{secrets.token_hex(8)}.pdf", ContentFile(copy), save=True)
        audit.record(
            actor=actor,
            action="licences.shared",
            object_type="licences.licenceshare",
            object_id=link.pk,
            object_label=held.identifier,
            after={
                "purpose": purpose_text,
                "recipient": recipient_text,
                "expires_at": expires_at.isoformat(),
                "sha256": hashlib.sha256(copy).hexdigest(),
            },
            on_behalf_of=_on_behalf_of(actor, held),
        )
    return link, token


def withdraw(*, actor: Any, share: LicenceShare) -> LicenceShare:
    """End a link before its time (the holder side only); what it showed can no longer be opened."""
    held = wallet.licence_for_holder(actor, share.licence_id)
    now = timezone.now()
    with transaction.atomic():
        # Conditional update: two withdrawals racing (two tabs) leave one record, and the second is told.
        changed = LicenceShare.objects.filter(
            pk=share.pk, licence=held, revoked_at__isnull=True, expires_at__gt=now
        ).update(revoked_at=now)
        if not changed:
            current = LicenceShare.objects.filter(pk=share.pk).values_list("revoked_at", flat=True).first()
            if current is not None:
                raise InvalidTransition(_("This share link is already withdrawn."))
            raise InvalidTransition(_("This share link has already expired."))
        audit.record(
            actor=actor,
            action="licences.share_withdrawn",
            object_type="licences.licenceshare",
            object_id=share.pk,
            object_label=held.identifier,
            before={"expires_at": share.expires_at.isoformat()},
            after={"revoked_at": now.isoformat()},
            on_behalf_of=_on_behalf_of(actor, held),
        )
    share.revoked_at = now
    return share


def open_share(token: str, *, client_ip: str, user_agent: str, download: bool = False) -> LicenceShare:
    """The share behind ``token``, after logging this view; ``NotFound`` or ``ShareGone`` (nothing logged)."""
    token = (token or "").strip()
    link = (
        LicenceShare.objects.select_related("licence__licence_type", "licence__issuer")
        .filter(token_digest=digest(token))
        .first()
        if 0 < len(token) <= MAX_TOKEN_LENGTH
        else None
    )
    if link is None:
        raise NotFound(_("There is no such share link. Check that the whole address was copied."))
    if link.revoked_at is not None:
        raise ShareGone(_("The holder has withdrawn this share link."))
    if link.expires_at <= timezone.now():
        raise ShareGone(_("This share link has expired. Ask the holder for a new one."))
    if wallet.state_of(link.licence) != Verdict.VALID:
        raise ShareGone(_("The licence shared through this link is no longer valid."))
    with transaction.atomic():
        LicenceShareView.objects.create(
            share=link,
            client=mask_client(client_ip),
            user_agent=(user_agent or "")[:USER_AGENT_LENGTH],
            downloaded=download,
        )
    return link
