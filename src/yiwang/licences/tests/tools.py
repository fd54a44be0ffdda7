"""Helpers of the licence tests: the independent tools that check our certificates and seals."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path


def openssl(*args: str) -> subprocess.CompletedProcess[str]:
    """Run OpenSSL (the machine's, not ours): its verdicts are the independent check of the PKI."""
    return subprocess.run(["openssl", *args], capture_output=True, text=True, check=False)


def pdfsig_trusting(root_pem: str, folder: Path) -> Callable[[bytes], str]:
    """poppler's pdfsig with an NSS database (in ``folder``) that trusts only ``root_pem``: the second, independent
    validator of sealed licences. Returns a function from a PDF to pdfsig's report."""
    database = f"sql:{folder}"
    root = folder / "root.pem"
    root.write_text(root_pem)
    for command in (
        ["certutil", "-N", "-d", database, "--empty-password"],
        ["certutil", "-A", "-n", "yiwang-root", "-t", "CT,C,C", "-i", str(root), "-d", database],
    ):
        subprocess.run(command, check=True, capture_output=True)

    def pdfsig(pdf: bytes) -> str:
        path = folder / "checked.pdf"
        path.write_bytes(pdf)
        done = subprocess.run(["pdfsig", "-nssdir", database, str(path)], capture_output=True, text=True, check=False)
        return done.stdout + done.stderr

    return pdfsig


def flip_a_stream_byte(pdf: bytes) -> bytes:
    """The file with one byte changed inside its first content stream (same length: the structure still parses)."""
    data = bytearray(pdf)
    at = data.index(b"stream\n") + len(b"stream\n") + 20
    data[at] ^= 0x01
    return bytes(data)
