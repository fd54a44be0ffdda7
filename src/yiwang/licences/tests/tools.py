"""Helpers of the licence tests: the independent tools that check our certificates and seals."""

from __future__ import annotations

import subprocess


def openssl(*args: str) -> subprocess.CompletedProcess[str]:
    """Run OpenSSL (the machine's, not ours): its verdicts are the independent check of the PKI."""
    return subprocess.run(["openssl", *args], capture_output=True, text=True, check=False)
