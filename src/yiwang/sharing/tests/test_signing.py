"""The signed texts of exchange requests and answers, the platform's key, and the client's signing and checking."""

from __future__ import annotations

import hashlib
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from yiwang.sharing import signing
from yiwang.sharing.client import ExchangeClient


def test_the_request_text_names_every_signed_part_and_the_body_digest() -> None:
    text = signing.request_text(
        method="post", path="/api/v1/sharing/query", timestamp="1700000000", nonce="n" * 16, official="王芳", body=b"{}"
    )
    assert (
        text
        == (
            "YIWANG-REQ-1\nPOST\n/api/v1/sharing/query\n1700000000\n"
            + "n" * 16
            + "\n王芳\n"
            + hashlib.sha256(b"{}").hexdigest()
        ).encode()
    )


@pytest.mark.parametrize("part", ["path", "nonce", "official", "timestamp"])
def test_a_newline_in_a_signed_part_is_refused(part: str) -> None:
    parts = {"method": "POST", "path": "/p", "timestamp": "1", "nonce": "n" * 16, "official": "x", "body": b""}
    parts[part] = "a\nb"
    with pytest.raises(ValueError):
        signing.request_text(**parts)  # type: ignore[arg-type]


def test_the_answer_text_binds_request_time_record_and_body() -> None:
    text = signing.answer_text(request_digest="r" * 64, timestamp="1", record_hash="h" * 64, body=b"x")
    assert text.split(b"\n") == [b"YIWANG-ANS-1", b"r" * 64, b"1", b"h" * 64, hashlib.sha256(b"x").hexdigest().encode()]


def test_a_signature_verifies_only_for_its_key_and_text() -> None:
    private = Ed25519PrivateKey.generate()
    pem = signing.public_pem(private.public_key())
    signature = signing.b64(private.sign(b"text"))
    assert signing.verify(pem, signature, b"text")
    assert not signing.verify(pem, signature, b"texT")
    assert not signing.verify(signing.public_pem(Ed25519PrivateKey.generate().public_key()), signature, b"text")
    assert not signing.verify(pem, "***", b"text")
    assert not signing.verify(pem, signing.b64(b"short"), b"text")
    assert not signing.verify("garbage", signature, b"text")


def test_the_key_id_is_stable_and_32_hex_digits() -> None:
    key = Ed25519PrivateKey.generate().public_key()
    assert signing.key_id_of(key) == signing.key_id_of(signing.load_public_pem(signing.public_pem(key)))  # type: ignore[arg-type]
    assert len(signing.key_id_of(key)) == 32 and int(signing.key_id_of(key), 16) >= 0


@pytest.mark.parametrize("official", ["王芳", "staff-0042", "张 伟 (窗口)", "a%b"])
def test_the_official_survives_the_header_encoding(official: str) -> None:
    encoded = signing.encode_official(official)
    assert encoded.isascii()
    assert signing.decode_official(encoded) == official


def test_a_header_that_is_not_utf8_is_not_an_official() -> None:
    assert signing.decode_official("%FF") is None


def test_nonces_are_fresh_and_well_formed() -> None:
    nonces = {signing.new_nonce() for _ in range(100)}
    assert len(nonces) == 100
    assert all(signing.NONCE_PATTERN.fullmatch(n) for n in nonces)


def test_the_platform_key_is_created_once_then_reused(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "sharing.pem"
    try:
        with override_settings(YIWANG_SHARING_KEY_FILE=path, YIWANG_SHARING_CREATE_KEY=True):
            signing.platform_key.cache_clear()
            first = signing.platform_key()
            signing.platform_key.cache_clear()
            assert signing.platform_key().key_id == first.key_id
        assert path.stat().st_mode & 0o777 == 0o600
        assert signing.verify(first.public_pem, first.sign(b"x"), b"x")
    finally:
        signing.platform_key.cache_clear()


def test_a_missing_platform_key_is_a_configuration_error_in_production(tmp_path: Path) -> None:
    try:
        with override_settings(YIWANG_SHARING_KEY_FILE=tmp_path / "absent.pem", YIWANG_SHARING_CREATE_KEY=False):
            signing.platform_key.cache_clear()
            with pytest.raises(ImproperlyConfigured):
                signing.platform_key()
        rsa_file = tmp_path / "rsa.pem"
        from cryptography.hazmat.primitives.asymmetric import rsa

        rsa_file.write_bytes(
            rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        with override_settings(YIWANG_SHARING_KEY_FILE=rsa_file, YIWANG_SHARING_CREATE_KEY=False):
            signing.platform_key.cache_clear()
            with pytest.raises(ImproperlyConfigured):
                signing.platform_key()
    finally:
        signing.platform_key.cache_clear()


def test_the_client_signs_what_the_platform_checks() -> None:
    private = Ed25519PrivateKey.generate()
    platform = Ed25519PrivateKey.generate()
    client = ExchangeClient(
        lambda *args: (200, {}, b""),
        client_id="c",
        private_key=private,
        platform_public_pem=signing.public_pem(platform.public_key()),
        token="t",
    )
    headers = client.signed_headers(
        "POST", "/api/v1/sharing/query", b"{}", "王芳", timestamp="1700000000", nonce="n" * 20
    )
    assert headers[signing.KEY_ID_HEADER] == signing.key_id_of(private.public_key())
    text = signing.request_text(
        method="POST", path="/api/v1/sharing/query", timestamp="1700000000", nonce="n" * 20, official="王芳", body=b"{}"
    )
    assert signing.verify(client.public_pem, headers[signing.SIGNATURE_HEADER], text)
    # An answer the platform signed verifies; one signed by anybody else does not.
    answer_text = signing.answer_text(
        request_digest=signing.request_digest(text), timestamp="1700000001", record_hash="h" * 64, body=b"{}"
    )
    answer_headers = {
        "Yiwang-Key-Id": signing.key_id_of(platform.public_key()),
        "Yiwang-Timestamp": "1700000001",
        "Yiwang-Record": "h" * 64,
        "Yiwang-Signature": signing.b64(platform.sign(answer_text)),
    }
    assert client.verify_answer(text, answer_headers, b"{}")
    forged = {**answer_headers, "Yiwang-Signature": signing.b64(private.sign(answer_text))}
    assert not client.verify_answer(text, forged, b"{}")
    assert not client.verify_answer(text, {**answer_headers, "Yiwang-Key-Id": "0" * 32}, b"{}")


def test_the_client_refuses_keys_that_are_not_ed25519() -> None:
    pem = signing.public_pem(Ed25519PrivateKey.generate().public_key())
    with pytest.raises(ValueError):
        ExchangeClient(
            lambda *args: (200, {}, b""),
            client_id="c",
            private_key=Ed25519PrivateKey.generate(),
            platform_public_pem="x",
        )
    from cryptography.hazmat.primitives.asymmetric import rsa

    rsa_pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(ValueError):
        ExchangeClient(lambda *args: (200, {}, b""), client_id="c", private_key=rsa_pem, platform_public_pem=pem)


def test_openssl_verifies_a_platform_answer_and_rejects_it_after_one_changed_byte(tmp_path: Path) -> None:
    """An independent implementation (OpenSSL's Ed25519) checks what the platform signs, from the published key."""
    with override_settings(YIWANG_SHARING_KEY_FILE=tmp_path / "platform.pem", YIWANG_SHARING_CREATE_KEY=True):
        signing.platform_key.cache_clear()
        try:
            key = signing.platform_key()
            text = signing.answer_text(
                request_digest="a" * 64, timestamp="1764547200", record_hash="b" * 64, body='{"姓名":"张三"}'.encode()
            )
            signature = signing.unb64(key.sign(text))
        finally:
            signing.platform_key.cache_clear()
    assert signature is not None
    (tmp_path / "public.pem").write_text(key.public_pem)
    (tmp_path / "answer.txt").write_bytes(text)
    (tmp_path / "answer.sig").write_bytes(signature)
    command = ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", str(tmp_path / "public.pem"), "-rawin"]
    files = ["-in", str(tmp_path / "answer.txt"), "-sigfile", str(tmp_path / "answer.sig")]
    checked = subprocess.run([*command, *files], capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    (tmp_path / "answer.txt").write_bytes(text[:-1] + bytes([text[-1] ^ 1]))
    forged = subprocess.run([*command, *files], capture_output=True, text=True, check=False)
    assert forged.returncode != 0
