"""Sealing licence PDFs (PAdES B-T) and verifying them, with pyHanko.

A seal is a PAdES signature (ETSI.CAdES.detached, SHA-256) by the department's seal certificate, carrying an
RFC 3161 time-stamp token from the platform's time-stamp service: the trusted time at which the document existed
(PAdES B-T). Verification answers four questions in order:

1. Is there a seal, and does it cover the whole file?  (no → ``unsigned`` / ``tampered``)
2. Is it cryptographically intact?                     (no → ``tampered``)
3. Does the certificate chain end in the platform's root?  (no → ``untrusted``)
4. Was the seal certificate revoked *before the time-stamp's time*?  (yes → ``revoked``)

The check of (4) is point-in-time: the certificate's status is judged at the time-stamp's moment against the
current CRL, so a licence sealed before a revocation still verifies and one sealed after it does not. The CRL is
treated as retroactively valid (``retroactive_revinfo``): this CA never puts a certificate on hold, so a
revocation listed now is final and its own date says when it took effect.

The time-stamp service runs inside the platform (``PlatformTimeStamper``): it answers RFC 3161 requests with a
TSTInfo (the imprint, the server's clock — kept on NTP in production — a random serial, the request's nonce) signed
as CMS SignedData by the platform's time-stamp certificate, through pyHanko's public CMS signing API.

Keys are held as ``cryptography`` objects and used directly (``_KeySigner``): pyHanko's stock signers re-parse
the key for every signature, which for RSA-3072 re-validates it (~65 ms each, four times per seal) and made a seal
cost 330–630 ms of CPU instead of ~80 ms (docs/performance.md).
"""

from __future__ import annotations

import datetime as dt
import io
import secrets
from dataclasses import dataclass
from typing import Any

from asn1crypto import cms, tsp
from asn1crypto import crl as asn1_crl
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from django.utils.translation import gettext as _
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.misc import PdfReadError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import signers
from pyhanko.sign.fields import SigSeedSubFilter
from pyhanko.sign.signers.pdf_signer import PdfSignatureMetadata, PdfSigner
from pyhanko.sign.timestamps.api import TimeStamper
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.errors import SignatureValidationError
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.registry import SimpleCertificateStore

from yiwang.licences.pki import PrivateKey

FIELD_NAME = "YiwangSeal"
# The policy under which the platform's time-stamps are issued (RFC 3161 requires one): an OID minted from a UUID
# (ITU-T X.667, arc 2.25), since the platform has no registered arc of its own.
TSA_POLICY = "2.25.118150694482179977221360179611025339556"
_HASHES: dict[str, type[hashes.SHA256 | hashes.SHA384 | hashes.SHA512]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


def _certificate(certificate: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(certificate.public_bytes(serialization.Encoding.DER))


def _key(key: PrivateKey) -> asn1_keys.PrivateKeyInfo:
    return asn1_keys.PrivateKeyInfo.load(
        key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )


@dataclass(frozen=True)
class SealingKeys:
    """What sealing needs: the department's seal, the time-stamp service's certificate, and the root above both."""

    seal_certificate: x509.Certificate
    seal_key: PrivateKey
    timestamp_certificate: x509.Certificate
    timestamp_key: PrivateKey
    root_certificate: x509.Certificate


class _KeySigner(signers.SimpleSigner):
    """pyHanko's signer with the key kept as a ``cryptography`` object (see the module docstring)."""

    def __init__(self, certificate: x509.Certificate, key: PrivateKey, chain: SimpleCertificateStore) -> None:
        super().__init__(signing_cert=_certificate(certificate), signing_key=_key(key), cert_registry=chain)
        self._private_key = key

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        digest = _HASHES[digest_algorithm.lower()]()
        if isinstance(self._private_key, ec.EllipticCurvePrivateKey):
            return self._private_key.sign(data, ec.ECDSA(digest))
        return self._private_key.sign(data, padding.PKCS1v15(), digest)  # pyHanko's default RSA mechanism


class PlatformTimeStamper(TimeStamper):
    """The platform's RFC 3161 time-stamp authority, in process."""

    def __init__(self, signer: _KeySigner) -> None:
        super().__init__()
        self._signer = signer

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        nonce = req["nonce"].native
        info = tsp.TSTInfo(
            {
                "version": "v1",
                "policy": TSA_POLICY,
                "message_imprint": req["message_imprint"],
                "serial_number": secrets.randbits(63),
                "gen_time": dt.datetime.now(dt.UTC),
                **({"nonce": nonce} if nonce is not None else {}),
            }
        )
        content = cms.EncapsulatedContentInfo(
            {"content_type": "tst_info", "content": cms.ParsableOctetString(info.dump())}
        )
        token = await self._signer.async_sign_general_data(content, "sha256", detached=False)
        return tsp.TimeStampResp({"status": {"status": "granted"}, "time_stamp_token": token})


def seal_pdf(pdf: bytes, keys: SealingKeys, *, reason: str = "", location: str = "") -> bytes:
    """The PDF with the department's seal and a time-stamp (PAdES B-T), as a new revision of the file."""
    chain = SimpleCertificateStore.from_certs([_certificate(keys.root_certificate)])
    signer = _KeySigner(keys.seal_certificate, keys.seal_key, chain)
    timestamper = PlatformTimeStamper(_KeySigner(keys.timestamp_certificate, keys.timestamp_key, chain))
    metadata = PdfSignatureMetadata(
        field_name=FIELD_NAME,
        subfilter=SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        reason=reason or None,
        location=location or None,
    )
    out = io.BytesIO()
    PdfSigner(metadata, signer=signer, timestamper=timestamper).sign_pdf(
        IncrementalPdfFileWriter(io.BytesIO(pdf)), output=out, bytes_reserved=_reserved(keys)
    )
    return out.getvalue()


def _reserved(keys: SealingKeys) -> int:
    """Room for the signature container, counted instead of estimated.

    pyHanko estimates it by signing the whole thing once as a dry run — time-stamp request included — which was a
    third of a seal's cost. The container holds the seal and root certificates, the time-stamp token (which holds
    the time-stamp and root certificates), two signatures and their attributes: the certificates' sizes plus a
    margin that covers RSA-3072 signatures and the attributes with room to spare. Hex in the file: twice the bytes.
    """
    certificates = sum(
        len(c.public_bytes(serialization.Encoding.DER))
        for c in (keys.seal_certificate, keys.timestamp_certificate, keys.root_certificate, keys.root_certificate)
    )
    return 2 * (certificates + 4096)


# Verdicts of a sealed file (the licence's own status — expired, superseded… — is the caller's business).
VALID = "valid"
UNSIGNED = "unsigned"
TAMPERED = "tampered"
UNTRUSTED = "untrusted"
REVOKED = "revoked"


@dataclass(frozen=True)
class SealCheck:
    verdict: str
    signer_subject: str = ""
    signer_serial: str = ""  # hex, as SigningCertificate.serial
    sealed_at: dt.datetime | None = None  # the time-stamp's time when trusted, else None
    detail: str = ""

    @property
    def valid(self) -> bool:
        return self.verdict == VALID


def _context(root: x509.Certificate, crl_der: bytes | None, moment: dt.datetime | None) -> ValidationContext:
    options: dict[str, Any] = {"trust_roots": [_certificate(root)], "allow_fetching": False}
    if crl_der is not None:
        options.update(
            crls=[asn1_crl.CertificateList.load(crl_der)], revocation_mode="hard-fail", retroactive_revinfo=True
        )
    if moment is not None:
        options["moment"] = moment
    return ValidationContext(**options)


def _crl_of(root: x509.Certificate, crl_der: bytes) -> bool:
    """Whether ``crl_der`` is a CRL the platform root signed (checked before pyHanko relies on it)."""
    try:
        crl = x509.load_der_x509_crl(crl_der)
    except ValueError:
        return False
    key = root.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey):  # the platform's roots are ECDSA or RSA
        return False
    return crl.issuer == root.subject and crl.is_signature_valid(key)


def check_pdf(pdf: bytes, *, root: x509.Certificate, crl_der: bytes | None) -> SealCheck:
    """Verify the platform seal on ``pdf`` against ``root`` and the CRL (see the module docstring).

    Trust is judged at the time-stamp's moment, not now: a long-term licence sealed by a certificate that has since
    expired (or been retired) still verifies.
    """
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        signatures = reader.embedded_signatures
    except (PdfReadError, ValueError, KeyError, TypeError):
        return SealCheck(UNSIGNED, detail=str(_("The file is not a readable PDF.")))
    if not signatures:
        return SealCheck(UNSIGNED, detail=str(_("The file carries no seal.")))
    signature = signatures[-1]
    try:
        # Integrity only (no trust, no revocation): whether the bytes are what was sealed, and the token's time.
        first = validate_pdf_signature(signature, signer_validation_context=_context(root, None, None))
    except (SignatureValidationError, ValueError, KeyError):
        return SealCheck(TAMPERED, detail=str(_("The seal cannot be read.")))
    subject = signature.signer_cert.subject.human_friendly
    serial = f"{signature.signer_cert.serial_number:x}"
    if not first.intact or not first.valid or signature.coverage != SignatureCoverageLevel.ENTIRE_FILE:
        return SealCheck(TAMPERED, subject, serial, detail=str(_("The file was changed after it was sealed.")))
    if crl_der is not None and not _crl_of(root, crl_der):
        return SealCheck(UNTRUSTED, subject, serial, detail=str(_("The revocation list is not this platform's.")))
    stamp = first.timestamp_validity
    if stamp is None or not (stamp.intact and stamp.valid):
        return SealCheck(UNTRUSTED, subject, serial, detail=str(_("The seal has no valid time-stamp.")))
    sealed_at = stamp.timestamp
    at_the_time = validate_pdf_signature(
        signature,
        signer_validation_context=_context(root, crl_der, sealed_at),
        ts_validation_context=_context(root, crl_der, sealed_at),
    )
    if at_the_time.revoked:
        return SealCheck(
            REVOKED, subject, serial, sealed_at, str(_("The seal's certificate was revoked before it sealed this."))
        )
    stamp_then = at_the_time.timestamp_validity
    if not at_the_time.trusted or stamp_then is None or not stamp_then.trusted:
        return SealCheck(
            UNTRUSTED, subject, serial, detail=str(_("The seal does not come from this platform's certificates."))
        )
    return SealCheck(VALID, subject, serial, sealed_at)
