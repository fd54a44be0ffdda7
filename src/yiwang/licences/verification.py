"""Public verification of electronic licences (issue 5): an identifier as typed or scanned, or a licence's PDF.

One answer for the page, the API and ``yiwang licences verify``: a ``selectors.Verification`` and, from it,
``public_record`` — what anyone may see of a licence (the holder masked). No permission applies: verifying is
open to everyone, so what it shows is limited instead, and each client address is rate-limited (``take_slot``)
so that the open door is no way to walk the register.

A PDF is judged by its seal first and by its licence second: a seal that is broken, missing, foreign or revoked
decides the verdict alone, whatever the file says it is; an intact seal of this platform hands over to the
identifier in the document information (``render.IDENTIFIER_KEY``), whose licence may still be expired,
suspended, revoked or superseded.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import logging
import time
from typing import Any

from cryptography import x509
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.reader import PdfFileReader

from yiwang.common.masking import mask_id_number, mask_name
from yiwang.licences import pki, render, sealing, services
from yiwang.licences.constants import HolderKind, KeyStatus, Purpose, Verdict
from yiwang.licences.models import Licence, SigningCertificate
from yiwang.licences.selectors import Verification, verify_identifier

logger = logging.getLogger(__name__)

# A one-page licence is ~100 KB; ten megabytes leaves room for any honest file and bounds the work a stranger's
# upload can cause.
MAX_PDF_BYTES = 10 * 1024 * 1024
# PDF readers accept the header anywhere in the first kilobyte (ISO 32000-1, Annex H.3).
_HEADER_WINDOW = 1024
# An identifier is under 90 characters; what is typed beyond this is not one, and is not echoed back whole.
IDENTIFIER_MAX = 200


def verify_pdf(data: bytes, *, today: dt.date | None = None) -> Verification:
    """The verdict on a licence file: the seal's, or — when the seal is this platform's and intact — the
    licence's it names."""
    if len(data) > MAX_PDF_BYTES:
        return too_large()
    if b"%PDF-" not in data[:_HEADER_WINDOW]:
        return Verification(Verdict.INVALID, reason=_("The file is not a PDF."))
    root = _root_certificate()
    if root is None:
        # Nothing issued here can be checked without the platform's CA; nothing has been issued without it either.
        return Verification(Verdict.UNKNOWN, reason=_("This platform does not seal licences yet."))
    crl = services.published_crl()
    try:
        check = sealing.check_pdf(data, root=root, crl_der=crl)
    except Exception:  # a stranger's file meets a PDF parser: any failure to read it is an answer
        logger.warning("licence verification could not read an uploaded PDF", exc_info=True)
        return Verification(Verdict.INVALID, reason=_("The file could not be read as a PDF."))
    if check.verdict == sealing.TAMPERED:
        return Verification(Verdict.TAMPERED, reason=check.detail or _("The file was changed after it was sealed."))
    if check.verdict == sealing.REVOKED:
        return Verification(
            Verdict.REVOKED, reason=_("The seal's certificate had been revoked when this file was sealed.")
        )
    if check.verdict == sealing.UNTRUSTED:
        return Verification(
            Verdict.UNKNOWN, reason=_("The file is sealed by a certificate this platform does not trust.")
        )
    if check.verdict != sealing.VALID:
        # Unsigned: a PDF without a seal, or one that its header promised and its body did not deliver.
        if _identifier_in(data) is None:
            return Verification(Verdict.INVALID, reason=_("The file could not be read as a PDF."))
        return Verification(Verdict.UNKNOWN, reason=_("The file is not sealed by this platform."))
    identifier = _identifier_in(data) or ""
    found = verify_identifier(identifier, today=today)
    if found.verdict == Verdict.INVALID or found.licence is None:
        return Verification(
            Verdict.UNKNOWN, reason=_("The seal is this platform's, but the file names no licence issued here.")
        )
    if not _sealed_by_issuer(check.signer_serial, found.licence):
        # Every seal is the platform's own, so this means one department sealed what names another's licence.
        return Verification(
            Verdict.UNKNOWN, reason=_("The file is not sealed by the department that issued this licence.")
        )
    return found


def too_large() -> Verification:
    """The answer to a file over ``MAX_PDF_BYTES`` (callers that know an upload's size refuse it unread)."""
    return Verification(
        Verdict.INVALID,
        reason=_("The file is larger than %(size)d MB; a licence file is far smaller.")
        % {"size": MAX_PDF_BYTES // (1024 * 1024)},
    )


def _identifier_in(data: bytes) -> str | None:
    """The identifier in the document information (``render.IDENTIFIER_KEY``): "" when there is none, None when
    the file cannot be read. Read from the last revision, which an intact seal covers (``check_pdf``)."""
    try:
        info = PdfFileReader(io.BytesIO(data), strict=False).trailer_view["/Info"]
        value = info[render.IDENTIFIER_KEY] if isinstance(info, generic.DictionaryObject) else None
    except KeyError:
        return ""
    except Exception:  # as in verify_pdf: an unreadable file is an answer, not an error
        return None
    return str(value) if isinstance(value, generic.TextStringObject | generic.ByteStringObject) else ""


def _sealed_by_issuer(serial: str, licence: Licence) -> bool:
    """Whether the seal's certificate is one of the issuing department's (current or earlier: a rotated seal's
    licences still verify, and an annotated copy carries the seal current when it was made)."""
    return SigningCertificate.objects.filter(
        serial=serial, purpose=Purpose.SEAL, organisation_id=licence.issuer_id
    ).exists()


# Parsed root certificates by serial: a PEM parse per verification is work the answer does not need. Which root
# is active is asked every time.
_ROOTS: dict[str, x509.Certificate] = {}


def _root_certificate() -> x509.Certificate | None:
    # Only the certificate: a public request has no business decrypting the CA's private key.
    row = (
        SigningCertificate.objects.filter(purpose=Purpose.ROOT, status=KeyStatus.ACTIVE)
        .only("serial", "certificate_pem")
        .first()
    )
    if row is None:
        return None
    certificate = _ROOTS.get(row.serial)
    if certificate is None:
        certificate = pki.certificate_from_pem(row.certificate_pem)
        _ROOTS.clear()  # one active root at a time
        _ROOTS[row.serial] = certificate
    return certificate


# --- what anyone may see ----------------------------------------------------------------------------------------


def mask_holder_name(name: str, kind: str) -> str:
    """A person's name keeps its first character (张**); an organisation's keeps its first two and last four
    (杭州********有限公司), enough to match the paper in hand, too little to look the holder up."""
    if kind == HolderKind.PERSON or len(name) <= 8:
        return mask_name(name)
    return name[:2] + "*" * (len(name) - 6) + name[-4:]


def _reason(verification: Verification) -> str:
    if verification.reason:
        # An identifier's fault comes as the tail of a sentence ("the check character does not match; …").
        text = str(verification.reason)
        return text[:1].upper() + text[1:]
    licence = verification.licence
    verdict = verification.verdict
    if verdict == Verdict.UNKNOWN:
        return _("No licence with this identifier was issued on this platform.")
    if verdict == Verdict.EXPIRED and licence is not None and licence.valid_until is not None:
        return _("The licence expired after %(date)s.") % {"date": licence.valid_until.isoformat()}
    if verdict == Verdict.SUPERSEDED:
        return _("A newer version of this licence replaced it; verify the newer version.")
    if verdict == Verdict.REVOKED:
        return _("The issuing department revoked this licence.")
    if verdict == Verdict.SUSPENDED:
        return _("The issuing department suspended this licence.")
    return ""


def public_record(verification: Verification) -> dict[str, Any]:
    """What the page, the API and the command line show of a verification: one shape, every key always present
    (null when there is no licence). The holder's name and code are masked; the licence's own data is not shown."""
    licence = verification.licence
    record: dict[str, Any] = {
        "status": str(verification.verdict),
        "label": str(Verdict(verification.verdict).label),
        "reason": _reason(verification),
        "identifier": None,
        "licence_type_code": None,
        "licence_type_name": None,
        "issuer_name": None,
        "issuer_uscc": None,
        "holder_name": None,
        "holder_code": None,
        "holder_code_type": None,
        "issued_on": None,
        "valid_from": None,
        "valid_until": None,
        "version": None,
        "status_changed_on": None,
    }
    if licence is None:
        return record
    english = (get_language() or "").startswith("en")
    changed = licence.status_changed_at
    record.update(
        identifier=licence.identifier,
        licence_type_code=licence.licence_type.code,
        licence_type_name=(licence.licence_type.name_en if english else "") or licence.licence_type.name,
        issuer_name=licence.issuer.display_name("en" if english else None),
        issuer_uscc=licence.issuer.uscc,
        holder_name=mask_holder_name(licence.holder_name, licence.holder_kind),
        holder_code=mask_id_number(licence.holder_code),
        holder_code_type=licence.holder_kind,
        issued_on=licence.issued_on.isoformat(),
        valid_from=licence.valid_from.isoformat(),
        valid_until=licence.valid_until.isoformat() if licence.valid_until else None,  # None: long-term (长期)
        version=licence.version,
        status_changed_on=timezone.localdate(changed).isoformat() if changed else None,
    )
    return record


# --- rate limit -------------------------------------------------------------------------------------------------


def rate() -> tuple[int, int]:
    """``settings.YIWANG_VERIFY_RATE`` ("60/600": verifications per seconds), checked when settings load."""
    count, _sep, seconds = str(settings.YIWANG_VERIFY_RATE).partition("/")
    return int(count), int(seconds)


def take_slot(address: str, *, now: float | None = None) -> int:
    """Count one verification for a client address; 0 when it may go ahead, else the seconds until it may.

    A fixed window per address in the shared cache (the address hashed, as sign-in throttling keeps it): cheap,
    one round trip, and the same budget whether the address uses the page, the API or both.
    """
    limit, period = rate()
    now = time.time() if now is None else now
    window = int(now // period)
    digest = hashlib.sha256(address.encode()).hexdigest()[:32]
    key = f"licences:verify:{digest}:{window}"
    cache.add(key, 0, timeout=period)
    try:
        used = int(cache.incr(key))
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=period)
        used = 1
    if used <= limit:
        return 0
    return max(1, int((window + 1) * period - now))


def throttled_message(wait: int) -> str:
    """What the page and the API say to an address over the limit (``wait`` seconds from ``take_slot``)."""
    return _("Too many verifications from your address. Please wait %(minutes)d minutes and try again.") % {
        "minutes": max(1, (wait + 59) // 60)
    }
