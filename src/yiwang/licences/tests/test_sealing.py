"""Sealed PDFs (PAdES B-T) verified by two independent validators — pyHanko's and poppler's ``pdfsig`` (NSS) —
against the platform root; one changed byte, a foreign root and a revocation before the seal each fail."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable

import pytest
import time_machine
from cryptography import x509
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from reportlab.pdfgen import canvas

from yiwang.licences import pki, sealing
from yiwang.licences.tests.tools import pdfsig_trusting

NOW = dt.datetime.now(dt.UTC)
CRL_URL = "http://127.0.0.1:8000/licences/pki/crl.der"


class World:
    def __init__(self, algorithm: str) -> None:
        self.root_key = pki.new_key(algorithm)
        self.root = pki.root_certificate(
            self.root_key, name="一网通办根证书", serial=1, validity=pki.Validity.years_from(NOW, 20)
        )
        self.seal_key = pki.new_key(algorithm)
        self.seal = pki.issued_certificate(
            issuer=self.root,
            issuer_key=self.root_key,
            public_key=self.seal_key.public_key(),
            common_name="杭州市西湖区市场监督管理局电子印章",
            organisation="杭州市西湖区市场监督管理局",
            uscc="11330105002500287C",
            serial=pki.random_serial(),
            validity=pki.Validity(NOW - dt.timedelta(hours=2), NOW + dt.timedelta(days=365)),
            crl_url=CRL_URL,
        )
        self.tsa_key = pki.new_key(algorithm)
        self.tsa = pki.issued_certificate(
            issuer=self.root,
            issuer_key=self.root_key,
            public_key=self.tsa_key.public_key(),
            common_name="一网通办时间戳服务",
            organisation=pki.PLATFORM,
            uscc="",
            serial=pki.random_serial(),
            validity=pki.Validity(NOW - dt.timedelta(hours=2), NOW + dt.timedelta(days=365)),
            crl_url=CRL_URL,
            time_stamping=True,
        )
        self.keys = sealing.SealingKeys(self.seal, self.seal_key, self.tsa, self.tsa_key, self.root)

    def crl(self, *revoked: pki.Revoked) -> bytes:
        return pki.crl_to_der(
            pki.revocation_list(
                issuer=self.root,
                issuer_key=self.root_key,
                revoked=list(revoked),
                number=1,
                this_update=NOW,
                next_update=NOW + dt.timedelta(days=7),
            )
        )


def a_pdf(text: str = "营业执照 Business licence") -> bytes:
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer, pageCompression=0)  # plain content, so a test can change one byte of it
    page.drawString(72, 720, text.encode("ascii", "replace").decode())
    page.save()
    return buffer.getvalue()


@pytest.fixture(scope="module", params=pki.ALGORITHMS)
def world(request: pytest.FixtureRequest) -> World:
    return World(request.param)


@pytest.fixture(scope="module")
def sealed(world: World) -> bytes:
    return sealing.seal_pdf(a_pdf(), world.keys, reason="电子证照", location="杭州")


def _flip_a_content_byte(pdf: bytes) -> bytes:
    data = bytearray(pdf)
    at = data.index(b"Business")
    data[at] = ord("b")
    return bytes(data)


def test_pyhanko_finds_the_seal_valid_time_stamped_and_by_the_department(world: World, sealed: bytes) -> None:
    check = sealing.check_pdf(sealed, root=world.root, crl_der=world.crl())
    assert check.verdict == sealing.VALID, check.detail
    assert check.signer_serial == f"{world.seal.serial_number:x}"
    assert "杭州市西湖区市场监督管理局" in check.signer_subject
    assert check.sealed_at is not None and abs(check.sealed_at - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=5)


def test_one_changed_byte_makes_it_tampered(world: World, sealed: bytes) -> None:
    check = sealing.check_pdf(_flip_a_content_byte(sealed), root=world.root, crl_der=world.crl())
    assert check.verdict == sealing.TAMPERED


def test_an_unsigned_or_foreign_file_is_not_valid(world: World, sealed: bytes) -> None:
    assert sealing.check_pdf(a_pdf(), root=world.root, crl_der=world.crl()).verdict == sealing.UNSIGNED
    assert sealing.check_pdf(b"%PDF-1.7 not really", root=world.root, crl_der=None).verdict == sealing.UNSIGNED
    stranger = World(pki.ECDSA_P256)
    foreign = sealing.seal_pdf(a_pdf(), stranger.keys)
    assert sealing.check_pdf(foreign, root=world.root, crl_der=world.crl()).verdict == sealing.UNTRUSTED


def test_a_revision_added_after_sealing_is_tampering(world: World, sealed: bytes) -> None:
    # A later revision that changes what the document says (its language) after the seal was applied.
    writer = IncrementalPdfFileWriter(io.BytesIO(sealed))
    writer.root["/Lang"] = generic.TextStringObject("en")
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)
    assert sealing.check_pdf(out.getvalue(), root=world.root, crl_der=world.crl()).verdict == sealing.TAMPERED


def test_a_seal_still_verifies_after_its_certificate_has_expired(world: World, sealed: bytes) -> None:
    # A long-term licence outlives the seal certificate (5 years) and the time-stamp certificate that made it.
    later = max(world.seal.not_valid_after_utc, world.tsa.not_valid_after_utc) + dt.timedelta(days=30)
    with time_machine.travel(later, tick=False):
        check = sealing.check_pdf(sealed, root=world.root, crl_der=world.crl())
    assert check.verdict == sealing.VALID, check.detail


def test_a_crl_from_elsewhere_is_not_taken_for_a_revocation(world: World, sealed: bytes) -> None:
    stranger = World(pki.ECDSA_P256)
    listed = pki.Revoked(world.seal.serial_number, NOW - dt.timedelta(hours=1))
    check = sealing.check_pdf(sealed, root=world.root, crl_der=stranger.crl(listed))
    assert check.verdict == sealing.UNTRUSTED, check.detail


def test_revocation_counts_from_its_time(world: World, sealed: bytes) -> None:
    before = pki.Revoked(world.seal.serial_number, NOW - dt.timedelta(hours=1), x509.ReasonFlags.key_compromise)
    after = pki.Revoked(world.seal.serial_number, dt.datetime.now(dt.UTC) + dt.timedelta(minutes=10))
    assert sealing.check_pdf(sealed, root=world.root, crl_der=world.crl(before)).verdict == sealing.REVOKED
    assert sealing.check_pdf(sealed, root=world.root, crl_der=world.crl(after)).verdict == sealing.VALID


@pytest.fixture(scope="module")
def nss(world: World, tmp_path_factory: pytest.TempPathFactory) -> Callable[[bytes], str]:
    """poppler's pdfsig with an NSS database that trusts only the platform root."""
    return pdfsig_trusting(pki.certificate_to_pem(world.root), tmp_path_factory.mktemp("nss"))


def test_pdfsig_validates_the_seal_against_the_platform_root(nss: Callable[[bytes], str], sealed: bytes) -> None:
    report = nss(sealed)
    assert "Signature Validation: Signature is Valid." in report
    assert "Certificate Validation: Certificate is Trusted." in report
    assert "Total document signed" in report
    assert "11330105002500287C" in report


def test_pdfsig_reports_one_changed_byte(nss: Callable[[bytes], str], sealed: bytes) -> None:
    report = nss(_flip_a_content_byte(sealed))
    assert "Signature is Valid" not in report
    assert "Digest Mismatch" in report
