"""Writes of the licences app: the platform's certificate authority, department seals, the time-stamp service's
certificate, rotation and revocation. Administrators only (``licences.manage_keys``); every change audited, never
with key material."""

from __future__ import annotations

import datetime as dt
from typing import Any

from cryptography import x509
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Max
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.audit import services as audit
from yiwang.catalogue.models import Organisation
from yiwang.common.errors import InvalidInput, InvalidTransition, PermissionDenied, invalid_field
from yiwang.identity import authz
from yiwang.licences import pki
from yiwang.licences.constants import Algorithm, KeyStatus, Purpose, RevocationReason
from yiwang.licences.models import SigningCertificate

ROOT_YEARS = 20
SEAL_YEARS = 5
TIMESTAMP_YEARS = 10
CRL_DAYS = 7  # a CRL's nextUpdate: verifiers fetch a fresh one at least this often
MANAGE = "licences.manage_keys"
_REASONS = {
    RevocationReason.KEY_COMPROMISE: x509.ReasonFlags.key_compromise,
    RevocationReason.SUPERSEDED: x509.ReasonFlags.superseded,
    RevocationReason.CESSATION: x509.ReasonFlags.cessation_of_operation,
    RevocationReason.UNSPECIFIED: x509.ReasonFlags.unspecified,
}


def _require_admin(actor: Any) -> None:
    if not authz.allowed(actor, MANAGE):
        raise PermissionDenied(_("Only an administrator manages the platform's certificates and seals."))


def _algorithm(value: str) -> str:
    if value not in Algorithm.values:
        raise invalid_field("algorithm", _("Choose ECDSA P-256 or RSA 3072."))
    return value


def crl_url() -> str:
    return f"{settings.YIWANG_PUBLIC_BASE_URL.rstrip('/')}/licences/pki/crl.der"


def active_root() -> SigningCertificate | None:
    # Without the private key: every public verification asks for the root, and the key column is decrypted on load.
    return SigningCertificate.objects.filter(purpose=Purpose.ROOT, status=KeyStatus.ACTIVE).defer("private_key").first()


def _root_or_refuse() -> tuple[SigningCertificate, x509.Certificate, pki.PrivateKey]:
    root = SigningCertificate.objects.filter(purpose=Purpose.ROOT, status=KeyStatus.ACTIVE).first()
    if root is None:
        raise InvalidTransition(_("Create the platform's certificate authority first (yiwang licences pki init)."))
    return root, pki.certificate_from_pem(root.certificate_pem), pki.key_from_pem(root.private_key)


def _store(
    *,
    actor: Any,
    purpose: str,
    certificate: x509.Certificate,
    key: pki.PrivateKey,
    issuer: SigningCertificate | None,
    organisation: Organisation | None = None,
) -> SigningCertificate:
    subject = certificate.subject.get_attributes_for_oid(x509.oid.NameOID.COMMON_NAME)[0].value
    return SigningCertificate.objects.create(
        purpose=purpose,
        organisation=organisation,
        issuer=issuer,
        subject=str(subject),
        serial=f"{certificate.serial_number:x}",
        algorithm=pki.algorithm_of(key),
        certificate_pem=pki.certificate_to_pem(certificate),
        private_key=pki.key_to_pem(key),
        not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc,
        created_by=actor if getattr(actor, "is_authenticated", False) and getattr(actor, "pk", None) else None,
    )


def _audit(actor: Any, action: str, stored: SigningCertificate, **after: Any) -> None:
    audit.record(
        actor=actor,
        action=action,
        object_type="licences.signingcertificate",
        object_id=stored.pk,
        object_label=str(stored),
        after={"serial": stored.serial, "purpose": stored.purpose, "algorithm": stored.algorithm, **after},
    )


def create_platform_ca(*, actor: Any, algorithm: str = pki.ECDSA_P256, name: str = "") -> SigningCertificate:
    """The platform's root certificate authority (once; its own rotation is a key ceremony outside this tool)."""
    _require_admin(actor)
    algorithm = _algorithm(algorithm)
    name = (name or _("Yiwang platform root certificate authority")).strip()[:64]
    key = pki.new_key(algorithm)  # outside the transaction: RSA key generation takes a while
    certificate = pki.root_certificate(
        key, name=name, serial=pki.random_serial(), validity=pki.Validity.years_from(timezone.now(), ROOT_YEARS)
    )
    with transaction.atomic():
        if SigningCertificate.objects.select_for_update().filter(purpose=Purpose.ROOT, status=KeyStatus.ACTIVE):
            raise InvalidTransition(_("The platform already has a certificate authority."))
        stored = _store(actor=actor, purpose=Purpose.ROOT, certificate=certificate, key=key, issuer=None)
        _audit(actor, "licences.ca_created", stored)
    return stored


def _retire(purpose: str, **scope: Any) -> list[str]:
    now = timezone.now()
    current = SigningCertificate.objects.select_for_update().filter(purpose=purpose, status=KeyStatus.ACTIVE, **scope)
    serials = list(current.values_list("serial", flat=True))
    current.update(status=KeyStatus.RETIRED, retired_at=now)
    return serials


def issue_seal(*, actor: Any, department: Organisation, algorithm: str = pki.ECDSA_P256) -> SigningCertificate:
    """A department's seal certificate; an earlier one is retired (rotation): it seals nothing more, and what it
    sealed still verifies."""
    _require_admin(actor)
    algorithm = _algorithm(algorithm)
    if not department.uscc:
        raise invalid_field(
            "department",
            _("%(department)s has no unified social credit code; a seal names its department by that code.")
            % {"department": department.name},
        )
    root, root_certificate, root_key = _root_or_refuse()
    key = pki.new_key(algorithm)
    certificate = pki.issued_certificate(
        issuer=root_certificate,
        issuer_key=root_key,
        public_key=key.public_key(),
        common_name=f"{department.name}电子印章"[:64],
        organisation=department.name[:64],
        uscc=department.uscc,
        serial=pki.random_serial(),
        validity=pki.Validity.years_from(timezone.now(), SEAL_YEARS),
        crl_url=crl_url(),
    )
    with transaction.atomic():
        retired = _retire(Purpose.SEAL, organisation=department)
        stored = _store(
            actor=actor, purpose=Purpose.SEAL, certificate=certificate, key=key, issuer=root, organisation=department
        )
        _audit(actor, "licences.seal_issued", stored, department=department.pk, retired=retired)
    return stored


def issue_timestamp_certificate(*, actor: Any, algorithm: str = pki.ECDSA_P256) -> SigningCertificate:
    """The certificate of the platform's RFC 3161 time-stamp service (an earlier one is retired)."""
    _require_admin(actor)
    algorithm = _algorithm(algorithm)
    root, root_certificate, root_key = _root_or_refuse()
    key = pki.new_key(algorithm)
    certificate = pki.issued_certificate(
        issuer=root_certificate,
        issuer_key=root_key,
        public_key=key.public_key(),
        common_name=_("Yiwang time-stamp service")[:64],
        organisation=pki.PLATFORM,
        uscc="",
        serial=pki.random_serial(),
        validity=pki.Validity.years_from(timezone.now(), TIMESTAMP_YEARS),
        crl_url=crl_url(),
        time_stamping=True,
    )
    with transaction.atomic():
        retired = _retire(Purpose.TIMESTAMP)
        stored = _store(actor=actor, purpose=Purpose.TIMESTAMP, certificate=certificate, key=key, issuer=root)
        _audit(actor, "licences.timestamp_certificate_issued", stored, retired=retired)
    return stored


def revoke(
    *, actor: Any, certificate: SigningCertificate, reason: str, at: dt.datetime | None = None
) -> SigningCertificate:
    """Put a seal or time-stamp certificate on the CRL from ``at`` (default now; earlier when a compromise is
    discovered late). What it signed after that time fails verification; what it signed before still verifies."""
    _require_admin(actor)
    if reason not in RevocationReason.values:
        raise invalid_field("reason", _("Choose why the certificate is revoked."))
    now = timezone.now()
    at = at or now
    if at > now:
        raise invalid_field("at", _("A revocation cannot take effect in the future."))
    with transaction.atomic():
        locked = SigningCertificate.objects.select_for_update().get(pk=certificate.pk)
        if locked.purpose == Purpose.ROOT:
            raise InvalidInput(_("The platform's certificate authority is not revoked here: it signs the CRL itself."))
        if locked.status == KeyStatus.REVOKED:
            raise InvalidTransition(_("This certificate is already revoked."))
        if at < locked.not_before:
            raise invalid_field("at", _("The certificate was not valid yet at that time."))
        SigningCertificate.objects.filter(pk=locked.pk).update(
            status=KeyStatus.REVOKED, revoked_at=at, revocation_reason=reason
        )
        locked.refresh_from_db()
        _audit(actor, "licences.certificate_revoked", locked, reason=reason, revoked_at=at.isoformat())
    return locked


def current_crl(now: dt.datetime | None = None) -> bytes:
    """The CA's CRL (DER), signed now: every revoked seal and time-stamp certificate. Refused without a CA."""
    now = now or timezone.now()
    root, root_certificate, root_key = _root_or_refuse()
    revoked = (
        SigningCertificate.objects.filter(issuer=root, status=KeyStatus.REVOKED)
        .order_by("revoked_at", "id")
        .values_list("serial", "revoked_at", "revocation_reason")
    )
    entries = [
        pki.Revoked(int(serial, 16), at, _REASONS[RevocationReason(reason)])
        for serial, at, reason in revoked
        if at is not None  # a revoked row always has its time (revoke sets both)
    ]
    # The CRL number must grow with each CRL issued (RFC 5280 §5.2.3): the signing time in seconds does.
    crl = pki.revocation_list(
        issuer=root_certificate,
        issuer_key=root_key,
        revoked=entries,
        number=int(now.timestamp()),
        this_update=now,
        next_update=now + dt.timedelta(days=CRL_DAYS),
    )
    return pki.crl_to_der(crl)


PUBLISHED_CRL_SECONDS = 3600


def published_crl() -> bytes | None:
    """The CRL anyone may download: signed once per revocation state (and at least hourly), not per request, so an
    anonymous client cannot make the platform load its root key and sign on every GET. None without a CA."""
    root = active_root()
    if root is None:
        return None
    state = SigningCertificate.objects.filter(issuer=root, status=KeyStatus.REVOKED).aggregate(
        n=Count("id"), last=Max("revoked_at")
    )
    last = state["last"].isoformat() if state["last"] else "-"
    key = f"licences:crl:{root.pk}:{state['n']}:{last}"
    crl: bytes | None = cache.get(key)
    if crl is None:
        crl = current_crl()
        cache.set(key, crl, PUBLISHED_CRL_SECONDS)
    return crl
