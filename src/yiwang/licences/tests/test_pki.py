"""The PKI building blocks, checked by an independent tool: OpenSSL verifies the chain, the key usages and the
CRL; a certificate on the CRL fails OpenSSL's CRL check."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from yiwang.licences import pki
from yiwang.licences.tests.tools import openssl

NOW = dt.datetime(2026, 11, 30, 8, 0, tzinfo=dt.UTC)
DEPARTMENT = "杭州市西湖区市场监督管理局"
USCC = "11330105002500287C"


def _write(path: Path, text: str | bytes) -> Path:
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    return path


Chain = tuple[x509.Certificate, pki.PrivateKey, x509.Certificate]


@pytest.fixture(params=pki.ALGORITHMS)
def chain(request: pytest.FixtureRequest) -> Chain:
    root_key = pki.new_key(request.param)
    root = pki.root_certificate(root_key, name="一网通办根证书", serial=1, validity=pki.Validity.years_from(NOW, 20))
    seal_key = pki.new_key(request.param)
    seal = pki.issued_certificate(
        issuer=root,
        issuer_key=root_key,
        public_key=seal_key.public_key(),
        common_name=f"{DEPARTMENT}电子印章",
        organisation=DEPARTMENT,
        uscc=USCC,
        serial=pki.random_serial(),
        validity=pki.Validity.years_from(NOW, 5),
        crl_url="https://yiwang.example/licences/pki/crl.der",
    )
    return root, root_key, seal


def test_openssl_verifies_a_seal_certificate_against_the_root(chain: Chain, tmp_path: Path) -> None:
    root, _key, seal = chain
    ca = _write(tmp_path / "root.pem", pki.certificate_to_pem(root))
    leaf = _write(tmp_path / "seal.pem", pki.certificate_to_pem(seal))
    checked = openssl(
        "verify", "-attime", str(int((NOW + dt.timedelta(days=1)).timestamp())), "-CAfile", str(ca), str(leaf)
    )
    assert checked.returncode == 0, checked.stderr
    assert f"{leaf}: OK" in checked.stdout
    text = openssl("x509", "-in", str(leaf), "-noout", "-text").stdout
    assert "CA:FALSE" in text
    assert "Digital Signature, Non Repudiation" in text
    assert "crl.der" in text


def test_a_certificate_signed_by_another_root_does_not_verify(chain: Chain, tmp_path: Path) -> None:
    _root, _key, seal = chain
    other_key = pki.new_key(pki.ECDSA_P256)
    other = pki.root_certificate(other_key, name="别的根证书", serial=2, validity=pki.Validity.years_from(NOW, 20))
    ca = _write(tmp_path / "other.pem", pki.certificate_to_pem(other))
    leaf = _write(tmp_path / "seal.pem", pki.certificate_to_pem(seal))
    assert openssl("verify", "-CAfile", str(ca), str(leaf)).returncode != 0


def test_a_revoked_seal_fails_openssls_crl_check(chain: Chain, tmp_path: Path) -> None:
    root, root_key, seal = chain
    crl = pki.revocation_list(
        issuer=root,
        issuer_key=root_key,
        revoked=[pki.Revoked(seal.serial_number, NOW, x509.ReasonFlags.key_compromise)],
        number=7,
        this_update=NOW,
        next_update=NOW + dt.timedelta(days=7),
    )
    ca = _write(tmp_path / "root.pem", pki.certificate_to_pem(root))
    der = _write(tmp_path / "crl.der", pki.crl_to_der(crl))
    pem = tmp_path / "crl.pem"
    assert openssl("crl", "-inform", "DER", "-in", str(der), "-out", str(pem)).returncode == 0
    assert openssl("crl", "-in", str(pem), "-CAfile", str(ca), "-noout").returncode == 0  # the CRL's signature
    listed = openssl("crl", "-in", str(pem), "-noout", "-text").stdout
    assert f"{seal.serial_number:X}" in listed.replace(":", "").upper()
    assert "Key Compromise" in listed
    leaf = _write(tmp_path / "seal.pem", pki.certificate_to_pem(seal))
    at = str(int((NOW + dt.timedelta(days=1)).timestamp()))
    refused = openssl("verify", "-attime", at, "-crl_check", "-CAfile", str(ca), "-CRLfile", str(pem), str(leaf))
    assert refused.returncode != 0
    assert "revoked" in (refused.stdout + refused.stderr)
    empty = pki.revocation_list(
        issuer=root, issuer_key=root_key, revoked=[], number=8, this_update=NOW, next_update=NOW + dt.timedelta(days=7)
    )
    _write(der, pki.crl_to_der(empty))
    assert openssl("crl", "-inform", "DER", "-in", str(der), "-out", str(pem)).returncode == 0
    passed = openssl("verify", "-attime", at, "-crl_check", "-CAfile", str(ca), "-CRLfile", str(pem), str(leaf))
    assert passed.returncode == 0, passed.stdout + passed.stderr


def test_the_time_stamp_certificate_is_for_time_stamping_only(tmp_path: Path) -> None:
    root_key = pki.new_key(pki.ECDSA_P256)
    root = pki.root_certificate(root_key, name="根", serial=1, validity=pki.Validity.years_from(NOW, 20))
    tsa_key = pki.new_key(pki.ECDSA_P256)
    tsa = pki.issued_certificate(
        issuer=root,
        issuer_key=root_key,
        public_key=tsa_key.public_key(),
        common_name="一网通办时间戳服务",
        organisation=pki.PLATFORM,
        uscc="",
        serial=5,
        validity=pki.Validity.years_from(NOW, 30),
        crl_url="https://yiwang.example/licences/pki/crl.der",
        time_stamping=True,
    )
    usage = tsa.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert usage.critical and list(usage.value) == [x509.oid.ExtendedKeyUsageOID.TIME_STAMPING]
    # A leaf never outlives its root.
    assert tsa.not_valid_after_utc == root.not_valid_after_utc
    leaf = _write(tmp_path / "tsa.pem", pki.certificate_to_pem(tsa))
    ca = _write(tmp_path / "root.pem", pki.certificate_to_pem(root))
    at = str(int((NOW + dt.timedelta(days=1)).timestamp()))
    assert openssl("verify", "-attime", at, "-purpose", "timestampsign", "-CAfile", str(ca), str(leaf)).returncode == 0


@pytest.mark.parametrize(
    ("algorithm", "kind"), [(pki.ECDSA_P256, ec.EllipticCurvePrivateKey), (pki.RSA_3072, rsa.RSAPrivateKey)]
)
def test_keys_round_trip_through_pem_and_have_the_required_strength(algorithm: str, kind: type) -> None:
    key = pki.new_key(algorithm)
    again = pki.key_from_pem(pki.key_to_pem(key))
    assert isinstance(again, kind)
    assert pki.algorithm_of(again) == algorithm
    if isinstance(again, rsa.RSAPrivateKey):
        assert again.key_size == 3072
    else:
        assert isinstance(again, ec.EllipticCurvePrivateKey) and again.curve.name == "secp256r1"


def test_an_unknown_algorithm_is_refused() -> None:
    with pytest.raises(ValueError, match="algorithm must be one of"):
        pki.new_key("rsa-1024")
