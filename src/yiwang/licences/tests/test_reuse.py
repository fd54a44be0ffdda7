"""Once-only: a material an e-licence stands in for enters the case as an A-level annotated reuse copy (加注件)
from the applicant's wallet — attached at once when the draft opens, or picked — and the copy's annotation has
its own expiry, which pre-review enforces."""

from __future__ import annotations

import datetime as dt
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from yiwang.cases import services as cases
from yiwang.cases.constants import Provenance, TrustLevel
from yiwang.cases.models import CaseMaterial
from yiwang.catalogue.models import ItemVersion
from yiwang.catalogue.tests.factories import item_content
from yiwang.common.errors import InvalidInput
from yiwang.licences import lifecycle, pki, sealing, services
from yiwang.licences.models import Licence
from yiwang.workbench.tests import case_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def needs_licence(published: Callable[..., ItemVersion]) -> ItemVersion:
    """An item whose second material is the business licence (an e-licence type stands in for it)."""
    materials = item_content()["materials"]
    materials[1] = {**materials[1], "name": "营业执照", "licence_type_code": "11100000000013338W032"}
    return published(materials=materials)


def _annotated(material: CaseMaterial, tmp_path: Path) -> str:
    assert material.file is not None
    with material.file.file.open("rb") as handle:
        data = handle.read()
    root = services.active_root()
    assert root is not None
    assert sealing.check_pdf(data, root=pki.certificate_from_pem(root.certificate_pem), crl_der=None).verdict == "valid"
    path = tmp_path / "copy.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


def test_the_licence_is_attached_when_the_draft_opens(
    licence: Licence, citizen: User, needs_licence: ItemVersion, tmp_path: Path
) -> None:
    case = cases.start_application(actor=citizen, version=needs_licence)
    material = CaseMaterial.objects.get(case=case, slot=1)
    assert (material.provenance, material.trust_level) == (Provenance.LICENCE, TrustLevel.A)
    assert material.source_reference == licence.identifier
    today = timezone.localdate()
    assert material.annotation_expires_on == today + dt.timedelta(days=90)
    assert material.annotation.startswith(f"此件由{licence.issuer.name}提供，仅供办理政务服务事项时使用，有效期至")
    text = _annotated(material, tmp_path).replace(" ", "").replace("\n", "")
    assert "此件由" in text and "仅供办理政务服务事项时使用" in text
    assert not CaseMaterial.objects.filter(case=case, slot=0).exists()  # the form is still the applicant's


def test_another_applicant_cannot_use_it_and_bad_slots_are_refused(
    licence: Licence, citizen: User, enterprise_rep: User, needs_licence: ItemVersion
) -> None:
    theirs = cases.start_application(actor=enterprise_rep, version=needs_licence)
    assert not theirs.materials.exists()  # holds no licence: nothing attached
    with pytest.raises(InvalidInput):
        cases.use_licence(actor=enterprise_rep, case=theirs, slot=1, licence_id=licence.pk)
    mine = cases.start_application(actor=citizen, version=needs_licence)
    with pytest.raises(InvalidInput):
        cases.use_licence(actor=citizen, case=mine, slot=0, licence_id=licence.pk)  # no licence stands in there
    with pytest.raises(InvalidInput):
        cases.use_licence(actor=citizen, case=mine, slot=9, licence_id=licence.pk)
    assert not theirs.materials.exists() and mine.materials.count() == 1


def test_a_suspended_licence_is_not_offered(
    licence: Licence, citizen: User, reviewer_a: User, needs_licence: ItemVersion
) -> None:
    lifecycle.suspend(actor=reviewer_a, licence=licence, reason="暂扣待查")
    case = cases.start_application(actor=citizen, version=needs_licence)
    assert cases.licence_candidates(case) == {} and not case.materials.exists()
    with pytest.raises(InvalidInput):
        cases.use_licence(actor=citizen, case=case, slot=1, licence_id=licence.pk)


def test_an_expired_annotation_is_a_pre_review_finding(
    licence: Licence, citizen: User, needs_licence: ItemVersion
) -> None:
    case = case_world.start(citizen, needs_licence)
    cases.attach_material(actor=citizen, case=case, slot=0, upload=case_world.pdf("application.pdf", b"a"))
    # The draft waited past the copy's annotation date (the working calendar covers only entered years, so the
    # date is moved instead of the clock).
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    CaseMaterial.objects.filter(case=case, slot=1).update(annotation_expires_on=yesterday)
    submitted = cases.submit(actor=citizen, case=case)
    found = [f for f in submitted.auto_findings if f["code"] == "annotation_expired"]
    assert found and found[0]["slot"] == 1 and found[0]["params"]["until"] == yesterday.isoformat()


def test_the_draft_page_offers_the_wallet_and_shows_the_annotation(
    licence: Licence, citizen: User, enterprise_rep: User, needs_licence: ItemVersion, client: Client
) -> None:
    case = cases.start_application(actor=citizen, version=needs_licence)
    client.force_login(citizen)
    page = client.get(reverse("portal:draft", args=[case.pk])).content.decode()
    assert "此件由" in page and "Use this licence" not in page  # zh-Hans first
    assert 'name="action" value="licence"' in page and f'value="{licence.pk}"' in page
    # Someone else's draft cannot take this licence through the page either.
    theirs = cases.start_application(actor=enterprise_rep, version=needs_licence)
    client.force_login(enterprise_rep)
    response = client.post(
        reverse("portal:draft_material", args=[theirs.pk]), {"action": "licence", "slot": "1", "licence": licence.pk}
    )
    assert response.status_code == 302 and not theirs.materials.exists()
    client.force_login(citizen)
    response = client.post(
        reverse("portal:draft_material", args=[theirs.pk]), {"action": "licence", "slot": "1", "licence": licence.pk}
    )
    assert response.status_code == 404 and not theirs.materials.exists()


def test_the_case_page_links_to_the_licence_in_the_wallet(licence: Licence, citizen: User, client: Client) -> None:
    assert licence.case is not None
    client.force_login(citizen)
    page = client.get(reverse("portal:case", args=[licence.case.number])).content.decode()
    assert reverse("wallet:licence", args=[licence.pk]) in page and licence.identifier in page
