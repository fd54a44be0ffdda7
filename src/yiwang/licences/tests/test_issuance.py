"""Issuance on approval: record, identifier, a Chinese PDF with its font embedded and a verification QR code,
sealed (PAdES B-T) — checked by pyHanko and by poppler's pdfsig against the platform root; idempotent per case;
refused, with nothing changed, when the department cannot seal."""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from django.contrib.auth.models import User
from django.test import override_settings

from yiwang.audit.models import AuditRecord
from yiwang.cases import services as cases
from yiwang.cases.constants import CaseStatus, StepCode
from yiwang.cases.models import Case, Notice
from yiwang.catalogue.models import ItemVersion, Organisation
from yiwang.common import crypto
from yiwang.common.errors import InvalidTransition
from yiwang.licences import identifiers, issuance, pki, render, sealing, services
from yiwang.licences.constants import HolderKind, LicenceStatus
from yiwang.licences.models import Licence, LicenceType, SigningCertificate
from yiwang.licences.tests.tools import flip_a_stream_byte, pdfsig_trusting
from yiwang.workbench.tests import case_world

pytestmark = pytest.mark.django_db


def _root() -> x509.Certificate:
    root = services.active_root()
    assert root is not None
    return pki.certificate_from_pem(root.certificate_pem)


def _run(*command: str, data: bytes, tmp_path: Path) -> str:
    """A poppler tool on the file (``{}`` in the command stands for its path)."""
    path = tmp_path / "licence.pdf"
    path.write_bytes(data)
    argv = [str(path) if part == "{}" else part for part in command]
    return subprocess.run(argv, capture_output=True, text=True, check=True).stdout


def test_approval_issues_a_sealed_licence_in_the_same_flow(licence: Licence, citizen: User, tmp_path: Path) -> None:
    case = licence.case
    assert case is not None and case.status in (CaseStatus.DECIDED, CaseStatus.DELIVERED)
    parsed = identifiers.parse(licence.identifier)
    assert (parsed.type_code, parsed.issuer, parsed.version) == ("11100000000013338W032", licence.issuer.uscc, "001")
    assert parsed.serial == licence.serial and licence.serial.startswith(str(licence.issued_on.year))
    assert (licence.holder_kind, licence.holder_name) == (HolderKind.PERSON, case.applicant_name)
    assert licence.holder_index == crypto.id_number_index(case.applicant_id_number)
    assert licence.data["address"] == case.data["address"] and licence.data["holder"] == case.applicant_name
    assert licence.status == LicenceStatus.VALID and licence.valid_until is None  # the type is long-term
    pdf = issuance.sealed_bytes(licence)
    assert pdf.startswith(b"%PDF") and hashlib.sha256(pdf).hexdigest() == licence.sha256
    # The approval notice names the licence.
    approval = Notice.objects.filter(case=case, kind="approval").get()
    assert approval.content["licence_identifier"] == licence.identifier
    assert AuditRecord.objects.filter(action="licences.issued", object_id=str(licence.pk)).count() == 1


def test_the_pdf_is_chinese_with_its_font_embedded(licence: Licence, tmp_path: Path) -> None:
    pdf = issuance.sealed_bytes(licence)
    fonts = _run("pdffonts", "{}", data=pdf, tmp_path=tmp_path)
    cjk = [line for line in fonts.splitlines() if "WenQuanYi" in line or "+" in line]
    assert cjk and all(" yes " in line for line in cjk), fonts  # embedded (and subset)
    text = _run("pdftotext", "-layout", "{}", "-", data=pdf, tmp_path=tmp_path).replace(" ", "")
    assert "营业执照" in text and licence.holder_name in text and licence.identifier in text
    info = _run("pdfinfo", "{}", data=pdf, tmp_path=tmp_path)
    assert licence.identifier in info  # Subject: where verifiers find the identifier


def test_pyhanko_and_pdfsig_validate_it_and_both_reject_one_changed_byte(licence: Licence, tmp_path: Path) -> None:
    pdf = issuance.sealed_bytes(licence)
    crl = services.current_crl()
    assert sealing.check_pdf(pdf, root=_root(), crl_der=crl).verdict == sealing.VALID
    root = services.active_root()
    assert root is not None
    pdfsig = pdfsig_trusting(root.certificate_pem, tmp_path)
    report = pdfsig(pdf)
    assert "Signature is Valid." in report and "Certificate is Trusted." in report, report
    changed = flip_a_stream_byte(pdf)
    assert sealing.check_pdf(changed, root=_root(), crl_der=crl).verdict == sealing.TAMPERED
    assert "Signature is Valid" not in pdfsig(changed)


def test_issuance_is_idempotent_per_case(licence: Licence, reviewer_a: User) -> None:
    case = licence.case
    assert case is not None
    assert issuance.issue_for_case(case, actor=reviewer_a) == licence
    assert Licence.objects.filter(case=case).count() == 1


def test_a_department_without_a_seal_cannot_approve_and_nothing_changes(
    citizen: User,
    clerk: User,
    reviewer_a: User,
    item: ItemVersion,
    admin: User,
    platform_pki: SigningCertificate,
    business_licence_type: LicenceType,
) -> None:
    services.revoke(actor=admin, certificate=platform_pki, reason="key_compromise")
    case = case_world.accepted(citizen, clerk, item)
    cases.complete_step(actor=reviewer_a, task=case_world.open_task(case, StepCode.REVIEW), opinion="同意")
    task = case_world.open_task(case, StepCode.DECIDE)
    before = Case.objects.get(pk=case.pk)
    with pytest.raises(InvalidTransition, match="没有电子印章"):
        cases.decide(actor=reviewer_a, task=task, outcome="approved")
    after = Case.objects.get(pk=case.pk)
    assert (after.status, after.revision, after.outcome) == (before.status, before.revision, "")
    assert not Licence.objects.exists() and not Notice.objects.filter(case=case, kind="approval").exists()
    assert case_world.open_task(case, StepCode.DECIDE).pk == task.pk


def test_a_result_type_not_defined_here_is_issued_elsewhere(approve: Callable[..., Case]) -> None:
    case = approve()  # no LicenceType row for the item's result: a national system issues it
    assert case.outcome == "approved" and not Licence.objects.exists()


def test_an_enterprise_licence_names_the_enterprise_by_its_code(enterprise_licence: Licence, enterprise: Any) -> None:
    assert enterprise_licence.holder_kind == HolderKind.ORGANISATION
    assert enterprise_licence.holder_index == crypto.blind_index(enterprise.uscc, purpose="uscc")
    assert (
        sealing.check_pdf(issuance.sealed_bytes(enterprise_licence), root=_root(), crl_der=None).verdict
        == sealing.VALID
    )


def test_no_font_is_a_clear_refusal(department_a: Organisation) -> None:
    with override_settings(YIWANG_LICENCE_FONT="/nonexistent/font.ttf"), pytest.raises(render.NoLicenceFont) as refused:
        render.font()
    assert "fonts-wqy-zenhei" in str(refused.value.message)
