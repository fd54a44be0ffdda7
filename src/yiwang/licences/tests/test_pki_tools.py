"""The operators' command (`yiwang licences pki …`) and the public trust-anchor downloads."""

from __future__ import annotations

import subprocess
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import translation

from yiwang.audit.models import AuditRecord
from yiwang.catalogue.models import Organisation
from yiwang.licences.constants import KeyStatus, Purpose
from yiwang.licences.models import SigningCertificate

pytestmark = pytest.mark.django_db


def run(*args: str) -> str:
    out = StringIO()
    with translation.override("en"):
        call_command("licences", *args, stdout=out)
    return out.getvalue()


def test_operators_set_up_revoke_and_publish_with_the_command(department_a: Organisation, tmp_path: Path) -> None:
    assert "Certificate authority created" in run("pki", "init")
    assert "Seal certificate issued" in run("pki", "seal", str(department_a.uscc).lower(), "--algorithm", "rsa-3072")
    assert "Time-stamp certificate issued" in run("pki", "timestamp")
    seal = SigningCertificate.objects.get(purpose=Purpose.SEAL)
    listing = run("pki", "list")
    assert seal.serial in listing and "PRIVATE" not in listing
    assert "Revoked" in run("pki", "revoke", seal.serial, "--reason", "key_compromise")
    assert SigningCertificate.objects.get(pk=seal.pk).status == KeyStatus.REVOKED
    out = tmp_path / "yiwang.crl"
    run("pki", "crl", "--out", str(out))
    listed = subprocess.run(
        ["openssl", "crl", "-inform", "DER", "-in", str(out), "-noout", "-text"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert seal.serial.upper() in listed.replace(":", "").upper()
    assert set(AuditRecord.objects.filter(actor_label="system:cli:licences").values_list("action", flat=True)) == {
        "licences.ca_created",
        "licences.seal_issued",
        "licences.timestamp_certificate_issued",
        "licences.certificate_revoked",
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("pki", "seal", "91330106MA2XXXXX0X"), "No department has the code"),
        (("pki", "revoke", "abc123", "--reason", "superseded"), "No certificate has the serial number"),
        (
            (
                "pki",
                "timestamp",
            ),
            "certificate authority first",
        ),
    ],
)
def test_the_command_refuses_bad_requests_with_a_reason(args: tuple[str, ...], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        run(*args)
    assert not SigningCertificate.objects.exists()


def test_a_revocation_time_without_a_zone_is_refused(department_a: Organisation) -> None:
    run("pki", "init")
    run("pki", "seal", str(department_a.uscc))
    seal = SigningCertificate.objects.get(purpose=Purpose.SEAL)
    with pytest.raises(CommandError, match="time zone"):
        run("pki", "revoke", seal.serial, "--reason", "superseded", "--at", "2026-12-01T09:30")
    assert SigningCertificate.objects.get(pk=seal.pk).status == KeyStatus.ACTIVE


def test_anyone_downloads_the_root_certificate_and_the_crl(department_a: Organisation) -> None:
    client = Client()
    assert client.get("/licences/pki/root.pem").status_code == 404
    assert client.get("/licences/pki/crl.der").status_code == 404
    run("pki", "init")
    root = client.get("/licences/pki/root.pem")
    assert root.status_code == 200 and b"BEGIN CERTIFICATE" in root.content
    assert root.content.decode() == SigningCertificate.objects.get(purpose=Purpose.ROOT).certificate_pem
    crl = client.get("/licences/pki/crl.der")
    assert crl.status_code == 200 and crl["Content-Type"] == "application/pkix-crl"
    assert crl.content[:1] == b"\x30"  # a DER SEQUENCE
    assert "max-age=3600" in crl["Cache-Control"]
    assert client.post("/licences/pki/crl.der").status_code == 405
    # Signed once per revocation state, not per request (ECDSA signatures differ on every signing).
    assert client.get("/licences/pki/crl.der").content == crl.content
    run("pki", "seal", str(department_a.uscc))
    seal = SigningCertificate.objects.get(purpose=Purpose.SEAL)
    run("pki", "revoke", seal.serial, "--reason", "superseded")
    after = client.get("/licences/pki/crl.der").content
    assert after != crl.content
    listed = subprocess.run(
        ["openssl", "crl", "-inform", "DER", "-noout", "-text"], input=after, capture_output=True, check=True
    ).stdout.decode()
    assert seal.serial.upper() in listed.replace(":", "").upper()
