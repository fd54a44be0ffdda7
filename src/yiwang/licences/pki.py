"""The platform's public-key infrastructure, as pure functions over ``cryptography`` objects.

One platform certificate authority (the root every verifier trusts) issues one seal certificate per issuing
department (电子印章 for licences it issues) and one for the platform's time-stamp service (RFC 3161). Keys are
ECDSA P-256 or RSA-3072 (the issue's choice; SM2 needs an OFD stack, STANDARDS.md §8), signatures SHA-256.

Storage, rotation, revocation and who may do what are the services' business (``licences.services``); this module
only builds and reads certificates, keys and CRLs. Private keys leave it only as PKCS#8 PEM for encryption at rest.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

ECDSA_P256 = "ecdsa-p256"
RSA_3072 = "rsa-3072"
ALGORITHMS = (ECDSA_P256, RSA_3072)
ORGANIZATION_IDENTIFIER = x509.ObjectIdentifier("2.5.4.97")  # X.520 organizationIdentifier: here the USCC
PLATFORM = "一网通办"

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


def new_key(algorithm: str) -> PrivateKey:
    if algorithm == ECDSA_P256:
        return ec.generate_private_key(ec.SECP256R1())
    if algorithm == RSA_3072:
        return rsa.generate_private_key(public_exponent=65537, key_size=3072)
    raise ValueError(f"algorithm must be one of {ALGORITHMS}, not {algorithm!r}")


def algorithm_of(key: PrivateKey) -> str:
    return ECDSA_P256 if isinstance(key, ec.EllipticCurvePrivateKey) else RSA_3072


def key_to_pem(key: PrivateKey) -> str:
    """PKCS#8 PEM without a passphrase: the caller encrypts it at rest (an encrypted database field)."""
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def key_from_pem(pem: str) -> PrivateKey:
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise ValueError("only ECDSA and RSA keys are used here")
    return key


def certificate_to_pem(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def certificate_from_pem(pem: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem.encode())


def _name(common_name: str, organisation: str, uscc: str = "") -> x509.Name:
    attributes = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
    ]
    if uscc:
        attributes.append(x509.NameAttribute(ORGANIZATION_IDENTIFIER, uscc))
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attributes)


@dataclass(frozen=True)
class Validity:
    not_before: dt.datetime
    not_after: dt.datetime

    @classmethod
    def years_from(cls, start: dt.datetime, years: int) -> Validity:
        # A minute of slack backwards: a verifier whose clock is slightly behind must not see "not yet valid".
        return cls(start - dt.timedelta(minutes=1), start + dt.timedelta(days=365 * years))


def root_certificate(key: PrivateKey, *, name: str, serial: int, validity: Validity) -> x509.Certificate:
    """The platform CA: self-signed, may sign certificates (no intermediate below it) and CRLs."""
    subject = _name(name, PLATFORM)
    public = key.public_key()
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(public)
        .serial_number(serial)
        .not_valid_before(validity.not_before)
        .not_valid_after(validity.not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
        .sign(key, hashes.SHA256())
    )


def _usage(*, cert_sign: bool = False, signing: bool = False) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=signing,
        content_commitment=signing,  # non-repudiation: a seal commits its department to the document
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def issued_certificate(
    *,
    issuer: x509.Certificate,
    issuer_key: PrivateKey,
    public_key: ec.EllipticCurvePublicKey | rsa.RSAPublicKey,
    common_name: str,
    organisation: str,
    uscc: str,
    serial: int,
    validity: Validity,
    crl_url: str,
    time_stamping: bool = False,
) -> x509.Certificate:
    """A seal certificate (a department's, to seal licences) or, with ``time_stamping``, the time-stamp service's
    (its extended key usage must be exactly timeStamping and critical, RFC 3161 §2.3)."""
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name, organisation, uscc))
        .issuer_name(issuer.subject)
        .public_key(public_key)
        .serial_number(serial)
        .not_valid_before(validity.not_before)
        .not_valid_after(min(validity.not_after, issuer.not_valid_after_utc))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(signing=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
        .add_extension(
            x509.CRLDistributionPoints(
                [x509.DistributionPoint([x509.UniformResourceIdentifier(crl_url)], None, None, None)]
            ),
            critical=False,
        )
    )
    if time_stamping:
        builder = builder.add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
    return builder.sign(issuer_key, hashes.SHA256())


@dataclass(frozen=True)
class Revoked:
    serial: int
    at: dt.datetime
    reason: x509.ReasonFlags = x509.ReasonFlags.unspecified


def revocation_list(
    *,
    issuer: x509.Certificate,
    issuer_key: PrivateKey,
    revoked: Sequence[Revoked],
    number: int,
    this_update: dt.datetime,
    next_update: dt.datetime,
) -> x509.CertificateRevocationList:
    """The CA's CRL: every revoked certificate with the time it stopped being trusted and why."""
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.subject)
        .last_update(this_update)
        .next_update(next_update)
        .add_extension(x509.CRLNumber(number), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False)
    )
    for entry in revoked:
        revoked_certificate = (
            x509.RevokedCertificateBuilder()
            .serial_number(entry.serial)
            .revocation_date(entry.at)
            .add_extension(x509.CRLReason(entry.reason), critical=False)
            .build()
        )
        builder = builder.add_revoked_certificate(revoked_certificate)
    return builder.sign(issuer_key, hashes.SHA256())


def crl_to_der(crl: x509.CertificateRevocationList) -> bytes:
    return crl.public_bytes(serialization.Encoding.DER)


def random_serial() -> int:
    # RFC 5280: positive, at most 20 octets; CA/B forum practice: at least 64 bits of randomness.
    return x509.random_serial_number()
