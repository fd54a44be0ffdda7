"""Managing the platform's certificates: administrators only; keys encrypted at rest and never shown; rotation
retires, revocation lists on the CRL (checked with OpenSSL); each bad request refused, changing nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.utils import timezone, translation

from yiwang.audit.models import AuditRecord
from yiwang.catalogue.models import Organisation
from yiwang.common.errors import InvalidInput, InvalidTransition, PermissionDenied
from yiwang.licences import pki, services
from yiwang.licences.constants import KeyStatus, Purpose
from yiwang.licences.models import SigningCertificate
from yiwang.licences.tests.tools import openssl

pytestmark = pytest.mark.django_db


@pytest.fixture
def ca(admin: User) -> SigningCertificate:
    return services.create_platform_ca(actor=admin)


@pytest.mark.parametrize("persona", ["clerk", "reviewer_a", "supervisor", "auditor", "citizen", "manager"])
def test_only_administrators_manage_keys(persona: str, request: pytest.FixtureRequest, department_a: Any) -> None:
    actor = request.getfixturevalue(persona)
    with pytest.raises(PermissionDenied):
        services.create_platform_ca(actor=actor)
    with pytest.raises(PermissionDenied):
        services.issue_seal(actor=actor, department=department_a)
    with pytest.raises(PermissionDenied):
        services.issue_timestamp_certificate(actor=actor)
    assert not SigningCertificate.objects.exists()


def test_the_private_key_rests_encrypted_and_is_never_shown(ca: SigningCertificate, admin: User) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT private_key FROM licences_signingcertificate WHERE id = %s", [ca.pk])
        row = cursor.fetchone()
    assert row is not None
    (stored,) = row
    assert "PRIVATE KEY" not in stored and stored.startswith("gAAAA")  # a Fernet token
    assert "PRIVATE KEY" in SigningCertificate.objects.get(pk=ca.pk).private_key  # readable by the service only
    for text in (str(ca), repr(ca)):
        assert "PRIVATE" not in text and stored not in text
    record = AuditRecord.objects.get(action="licences.ca_created")
    assert "PRIVATE" not in str(record.after) and stored not in str(record.after)
    assert record.after is not None and record.after["serial"] == ca.serial


def test_a_second_certificate_authority_is_refused(ca: SigningCertificate, admin: User) -> None:
    with pytest.raises(InvalidTransition):
        services.create_platform_ca(actor=admin)
    assert SigningCertificate.objects.filter(purpose=Purpose.ROOT).count() == 1


def test_a_seal_needs_the_certificate_authority_first(admin: User, department_a: Organisation) -> None:
    with translation.override("en"), pytest.raises(InvalidTransition, match="certificate authority first"):
        services.issue_seal(actor=admin, department=department_a)
    assert not SigningCertificate.objects.exists()


def test_bad_choices_are_refused_with_a_reason(ca: SigningCertificate, admin: User, department_a: Organisation) -> None:
    with translation.override("en"), pytest.raises(InvalidInput, match="ECDSA P-256 or RSA 3072"):
        services.issue_seal(actor=admin, department=department_a, algorithm="rsa-1024")
    nameless = Organisation.objects.create(name="无代码的机构")
    with translation.override("en"), pytest.raises(InvalidInput, match="no unified social credit code"):
        services.issue_seal(actor=admin, department=nameless)
    assert SigningCertificate.objects.count() == 1


def test_rotation_retires_the_old_seal_which_still_verifies(
    ca: SigningCertificate, admin: User, department_a: Organisation, tmp_path: Path
) -> None:
    first = services.issue_seal(actor=admin, department=department_a)
    second = services.issue_seal(actor=admin, department=department_a, algorithm=pki.RSA_3072)
    first.refresh_from_db()
    assert (first.status, second.status) == (KeyStatus.RETIRED, KeyStatus.ACTIVE)
    assert first.retired_at is not None
    assert second.algorithm == pki.RSA_3072
    root = tmp_path / "root.pem"
    root.write_text(ca.certificate_pem)
    for seal in (first, second):
        leaf = tmp_path / f"{seal.serial}.pem"
        leaf.write_text(seal.certificate_pem)
        checked = openssl("verify", "-CAfile", str(root), str(leaf))
        assert checked.returncode == 0, checked.stdout + checked.stderr
    text = openssl("x509", "-in", str(tmp_path / f"{second.serial}.pem"), "-noout", "-subject").stdout
    assert department_a.uscc is not None and department_a.uscc in text


def test_revocation_puts_the_seal_on_the_crl_which_openssl_checks(
    ca: SigningCertificate, admin: User, department_a: Organisation, tmp_path: Path
) -> None:
    seal = services.issue_seal(actor=admin, department=department_a)
    services.revoke(actor=admin, certificate=seal, reason="key_compromise")
    seal.refresh_from_db()
    assert seal.status == KeyStatus.REVOKED and seal.revoked_at is not None
    crl = tmp_path / "crl.der"
    crl.write_bytes(services.current_crl())
    pem = tmp_path / "crl.pem"
    assert openssl("crl", "-inform", "DER", "-in", str(crl), "-out", str(pem)).returncode == 0
    root = tmp_path / "root.pem"
    root.write_text(ca.certificate_pem)
    leaf = tmp_path / "seal.pem"
    leaf.write_text(seal.certificate_pem)
    refused = openssl("verify", "-crl_check", "-CAfile", str(root), "-CRLfile", str(pem), str(leaf))
    assert refused.returncode != 0 and "revoked" in refused.stdout + refused.stderr
    with pytest.raises(InvalidTransition):
        services.revoke(actor=admin, certificate=seal, reason="superseded")


def test_revocation_bad_input_changes_nothing(ca: SigningCertificate, admin: User, department_a: Organisation) -> None:
    seal = services.issue_seal(actor=admin, department=department_a)
    future = timezone.now() + dt.timedelta(days=1)
    long_ago = timezone.now() - dt.timedelta(days=3650)
    with translation.override("en"):
        with pytest.raises(InvalidInput, match="Choose why"):
            services.revoke(actor=admin, certificate=seal, reason="bored")
        with pytest.raises(InvalidInput, match="future"):
            services.revoke(actor=admin, certificate=seal, reason="superseded", at=future)
        with pytest.raises(InvalidInput, match="not valid yet"):
            services.revoke(actor=admin, certificate=seal, reason="superseded", at=long_ago)
        with pytest.raises(InvalidInput, match="signs the CRL itself"):
            services.revoke(actor=admin, certificate=ca, reason="superseded")
    seal.refresh_from_db()
    assert seal.status == KeyStatus.ACTIVE
    assert not AuditRecord.objects.filter(action="licences.certificate_revoked").exists()


def test_the_time_stamp_certificate_is_issued_by_the_platform(ca: SigningCertificate, admin: User) -> None:
    tsa = services.issue_timestamp_certificate(actor=admin)
    assert tsa.issuer_id == ca.pk and tsa.purpose == Purpose.TIMESTAMP
    again = services.issue_timestamp_certificate(actor=admin)
    tsa.refresh_from_db()
    assert (tsa.status, again.status) == (KeyStatus.RETIRED, KeyStatus.ACTIVE)
