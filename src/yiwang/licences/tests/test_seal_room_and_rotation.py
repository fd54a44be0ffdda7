"""What sealing's speed-ups must not change: the counted room for the signature holds any seal (the longest names a
certificate may carry, either algorithm), a new key set seals with its own certificate (signers are kept per key
set), and the container names its certificate the way the CAdES baseline profile asks."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from cryptography import x509
from pyhanko.pdf_utils.reader import PdfFileReader

from yiwang.licences import pki, sealing
from yiwang.licences.tests.test_sealing import a_pdf

NOW = dt.datetime.now(dt.UTC)
LONGEST = "省" * 21  # a common name is at most 64 bytes (cryptography, after X.520); three UTF-8 bytes each
ORGANISATION = "省" * 100


def _keys(
    algorithm: str, *, name: str = "一网通办根证书", organisation: str = "杭州市西湖区市场监督管理局"
) -> tuple[sealing.SealingKeys, bytes]:
    root_key = pki.new_key(algorithm)
    root = pki.root_certificate(
        root_key, name=name, serial=pki.random_serial(), validity=pki.Validity.years_from(NOW, 20)
    )

    def issued(common_name: str, *, uscc: str, time_stamping: bool) -> tuple[x509.Certificate, pki.PrivateKey]:
        key = pki.new_key(algorithm)
        certificate = pki.issued_certificate(
            issuer=root,
            issuer_key=root_key,
            public_key=key.public_key(),
            common_name=common_name,
            organisation=organisation,
            uscc=uscc,
            serial=pki.random_serial(),
            validity=pki.Validity(NOW - dt.timedelta(hours=1), NOW + dt.timedelta(days=365)),
            crl_url="http://127.0.0.1:8000/licences/pki/crl.der",
            time_stamping=time_stamping,
        )
        return certificate, key

    seal, seal_key = issued(name, uscc="11330105002500287C", time_stamping=False)
    tsa, tsa_key = issued(name, uscc="", time_stamping=True)
    crl = pki.revocation_list(
        issuer=root, issuer_key=root_key, revoked=[], number=1, this_update=NOW, next_update=NOW + dt.timedelta(days=7)
    )
    return sealing.SealingKeys(seal, seal_key, tsa, tsa_key, root), pki.crl_to_der(crl)


@pytest.mark.parametrize("algorithm", pki.ALGORITHMS)
def test_the_longest_names_still_fit_the_counted_room(algorithm: str) -> None:
    keys, crl = _keys(algorithm, name=LONGEST, organisation=ORGANISATION)
    sealed = sealing.seal_pdf(a_pdf(), keys, reason="电子证照" * 20, location=LONGEST)
    check = sealing.check_pdf(sealed, root=keys.root_certificate, crl_der=crl)
    assert check.verdict == sealing.VALID, check.detail


def test_a_new_key_set_seals_with_its_own_certificate() -> None:
    first, crl_first = _keys(pki.ECDSA_P256)
    second, crl_second = _keys(pki.ECDSA_P256)
    for keys, crl in ((first, crl_first), (second, crl_second), (first, crl_first)):
        check = sealing.check_pdf(sealing.seal_pdf(a_pdf(), keys), root=keys.root_certificate, crl_der=crl)
        assert check.verdict == sealing.VALID
        assert check.signer_serial == f"{keys.seal_certificate.serial_number:x}"


def test_the_container_names_the_seal_by_its_hash_and_carries_no_root() -> None:
    keys, _crl = _keys(pki.ECDSA_P256)
    signature = PdfFileReader(io.BytesIO(sealing.seal_pdf(a_pdf(), keys))).embedded_signatures[-1]
    carried = [c.chosen.subject.human_friendly for c in signature.signed_data["certificates"]]
    assert carried == [signature.signer_cert.subject.human_friendly]  # verifiers hold the root
    attributes = {a["type"].native: a for a in signature.signer_info["signed_attrs"]}
    certificate_id = attributes["signing_certificate_v2"]["values"][0]["certs"][0]
    assert certificate_id["issuer_serial"].native is None  # ETSI EN 319 122-1, 6.3 g
