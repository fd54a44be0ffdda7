"""Signatures on exchange requests and answers (Ed25519, RFC 8032).

A department system signs each request with its registered key; the platform signs each answer with its own
key. Both sign a short canonical text, never the raw HTTP message, so proxies that re-order headers do not
break them:

    request:  "YIWANG-REQ-1\\n{METHOD}\\n{path}\\n{timestamp}\\n{nonce}\\n{official}\\n{sha256(body)}"
    answer:   "YIWANG-ANS-1\\n{sha256(request text)}\\n{timestamp}\\n{access record hash}\\n{sha256(body)}"

The answer's text includes the request's digest and the access-log record's hash, so a consumer holding an
answer can prove what it asked, what it received, and which log record the platform wrote for it.
Headers: ``Yiwang-Key-Id``, ``Yiwang-Timestamp`` (Unix seconds), ``Yiwang-Nonce``, ``Yiwang-Official``,
``Yiwang-Signature`` (base64); answers carry ``Yiwang-Key-Id``, ``Yiwang-Timestamp``, ``Yiwang-Record`` and
``Yiwang-Signature``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import secrets
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote, unquote

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.conf import settings

REQUEST_PREFIX = "YIWANG-REQ-1"
ANSWER_PREFIX = "YIWANG-ANS-1"

KEY_ID_HEADER = "Yiwang-Key-Id"
TIMESTAMP_HEADER = "Yiwang-Timestamp"
NONCE_HEADER = "Yiwang-Nonce"
OFFICIAL_HEADER = "Yiwang-Official"
SIGNATURE_HEADER = "Yiwang-Signature"
RECORD_HEADER = "Yiwang-Record"
ALGORITHM = "Ed25519"

# A nonce is 16–64 characters of the URL-safe base64 alphabet: enough entropy, and nothing a header mangles.
NONCE_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,64}")


def new_nonce() -> str:
    return secrets.token_urlsafe(24)  # 32 characters, 192 random bits


def encode_official(official: str) -> str:
    """The official's name as the header carries it: UTF-8, percent-encoded (RFC 3986), because HTTP header
    values are Latin-1 and a Chinese name would not survive a proxy otherwise. The signed text holds the name
    itself, not this form."""
    return quote(official, safe="")


def decode_official(value: str) -> str | None:
    try:
        return unquote(value, errors="strict")
    except UnicodeDecodeError:
        return None


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def request_text(*, method: str, path: str, timestamp: str, nonce: str, official: str, body: bytes) -> bytes:
    # The official's name may be Chinese: UTF-8 throughout; newlines in any part would make two texts equal.
    parts = [REQUEST_PREFIX, method.upper(), path, timestamp, nonce, official, sha256_hex(body)]
    if any("\n" in p for p in parts):
        raise ValueError("a signed part contains a newline")
    return "\n".join(parts).encode()


def request_digest(text: bytes) -> str:
    """What an answer names its request by (and the access record's ``request_id``)."""
    return sha256_hex(text)


def answer_text(*, request_digest: str, timestamp: str, record_hash: str, body: bytes) -> bytes:
    return "\n".join([ANSWER_PREFIX, request_digest, timestamp, record_hash, sha256_hex(body)]).encode()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def unb64(text: str) -> bytes | None:
    try:
        return base64.b64decode(text.encode(), validate=True)
    except (binascii.Error, ValueError):
        return None


def public_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def key_id_of(key: Ed25519PublicKey) -> str:
    """A key's id: the first 32 hex digits of SHA-256 over its raw public bytes (stable, not secret)."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:32]


def load_public_pem(pem: str) -> Ed25519PublicKey | None:
    """The Ed25519 key in ``pem``, or None when it is not one (RSA, garbage, a private key)."""
    try:
        key = serialization.load_pem_public_key(pem.encode())
    except (ValueError, TypeError):
        return None
    return key if isinstance(key, Ed25519PublicKey) else None


@lru_cache(maxsize=1024)
def _public(pem: str) -> Ed25519PublicKey | None:
    return load_public_pem(pem)


def verify(pem: str, signature_b64: str, text: bytes) -> bool:
    key = _public(pem)
    signature = unb64(signature_b64)
    if key is None or signature is None or len(signature) != 64:
        return False
    try:
        key.verify(signature, text)
    except InvalidSignature:
        return False
    return True


# --- the platform's key ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PlatformKey:
    private: Ed25519PrivateKey
    key_id: str
    public_pem: str

    def sign(self, text: bytes) -> str:
        return b64(self.private.sign(text))


def _load_or_create(path: Path, create: bool) -> Ed25519PrivateKey:
    if not path.exists():
        if not create:
            from django.core.exceptions import ImproperlyConfigured

            raise ImproperlyConfigured(f"the sharing signing key file {path} does not exist (YIWANG_SHARING_KEY_FILE)")
        pem = Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        path.parent.mkdir(parents=True, exist_ok=True)
        try:  # two processes starting at once: the first writer wins and both use its key
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "wb") as handle:
                handle.write(pem)
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(f"{path} does not hold an Ed25519 private key")
    return key


@lru_cache(maxsize=1)
def platform_key() -> PlatformKey:
    private = _load_or_create(Path(settings.YIWANG_SHARING_KEY_FILE), settings.YIWANG_SHARING_CREATE_KEY)
    public = private.public_key()
    return PlatformKey(private, key_id_of(public), public_pem(public))
