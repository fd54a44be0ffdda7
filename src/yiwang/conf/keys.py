"""The OIDC signing key: read from a file, or created there on first start (development)."""

from __future__ import annotations

import os
from pathlib import Path


def load_or_create_rsa_key(path: Path, *, create: bool = True) -> str:
    """PEM of the RSA private key at ``path``; a 2048-bit key is generated when the file does not exist.

    Production mounts the key file (and rotates it as docs/identity.md describes); a generated key lets
    ``make run`` and the tests work on a fresh machine. The file is created owner-readable only.
    """
    if path.exists():
        return path.read_text()
    if not create:
        # In production every worker must sign with the same mounted key; a key made here would differ per
        # container and tokens signed by one would fail against another's JWKS.
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured(f"the OIDC signing key file {path} does not exist (YIWANG_OIDC_KEY_FILE)")
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    path.parent.mkdir(parents=True, exist_ok=True)
    # Two processes starting at once: the first writer wins and both use its key.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text()
    with os.fdopen(fd, "w") as handle:
        handle.write(pem)
    return pem
