"""Applying: drafts pre-filled from the registers, materials by upload, reuse or pledge, idempotent submission."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.utils import translation

from yiwang.audit.models import AuditRecord
from yiwang.cases import services
from yiwang.cases.constants import CaseStatus, NoticeKind, Provenance, StepCode, TaskStatus, TrustLevel
from yiwang.cases.models import Case, CaseMaterial, MaterialFile
from yiwang.cases.tests.conftest import PNG, pdf, start
from yiwang.catalogue import services as catalogue
from yiwang.catalogue.models import ItemVersion
from yiwang.common.errors import DomainError, InvalidInput, NotFound, PermissionDenied
from yiwang.identity.models import Agency
from yiwang.identity.tests.people import PEOPLE

pytestmark = pytest.mark.django_db


def test_it_opens_a_draft_prefilled_from_the_population_register(citizen: User, item: ItemVersion) -> None:
    case = start(citizen, item)
    assert case.status == CaseStatus.DRAFT
    assert case.number is None
    assert case.applicant_name == PEOPLE["citizen"].name
    assert PEOPLE["citizen"].name in case.data.values()


def test_unverified_people_cannot_apply(unverified: User, item: ItemVersion) -> None:
    with pytest.raises(PermissionDenied):
        start(unverified, item)
    assert not Case.objects.exists()


def test_staff_cannot_apply_as_citizens(clerk: User, item: ItemVersion) -> None:
    with pytest.raises(PermissionDenied):
        start(clerk, item)


def test_submission_numbers_receipts_and_queues_the_case(citizen: User, submitted: Callable[..., Case]) -> None:
    case = submitted()
    assert case.status == CaseStatus.SUBMITTED
    # 办件编号: region + date of receipt + serial.
    assert re.fullmatch(r"33010620250926\d{10}", case.number or "")
    assert case.received_on is not None and case.acceptance_due is not None
    assert case.received_on.isoformat() == "2025-09-26"
    # 5 working days after Fri Sep 26 across National Day: Sep 28 (调休), 29, 30, Oct 9, Oct 10.
    assert case.acceptance_due.isoformat() == "2025-10-10"
    receipt = case.notices.get()
    assert receipt.kind == NoticeKind.RECEIPT
    assert [m["trust_level"] for m in receipt.content["materials"]] == ["C", "C"]
    task = case.tasks.get()
    assert (task.step_code, task.status, task.role) == (StepCode.ACCEPT, TaskStatus.OPEN, "window_clerk")
    assert task.due == case.acceptance_due
    assert AuditRecord.objects.filter(action="cases.submitted", object_id=str(case.pk)).count() == 1


def test_a_retried_submit_with_the_same_key_returns_the_same_case(citizen: User, item: ItemVersion) -> None:
    case = start(citizen, item)
    services.attach_material(actor=citizen, case=case, slot=0, upload=pdf())
    first = services.submit(actor=citizen, case=case, idempotency_key="k-1")
    again = services.submit(actor=citizen, case=case, idempotency_key="k-1")
    assert again.pk == first.pk and again.number == first.number
    assert Case.objects.exclude(status=CaseStatus.DRAFT).count() == 1
    assert first.notices.count() == 1


def test_apply_in_one_call_is_idempotent(citizen: User, item: ItemVersion) -> None:
    data = start(citizen, item).data
    first = services.apply(actor=citizen, version=item, data=data, idempotency_key="api-7", pledged_slots=[1])
    second = services.apply(actor=citizen, version=item, data=data, idempotency_key="api-7", pledged_slots=[1])
    assert first.pk == second.pk
    assert Case.objects.filter(status=CaseStatus.SUBMITTED).count() == 1


def test_a_retried_apply_returns_its_case_even_when_the_item_has_closed_since(
    citizen: User, item: ItemVersion, publisher: User
) -> None:
    # A lost response is retried after the item was withdrawn: the retry still answers with the case it made.
    data = start(citizen, item).data
    first = services.apply(actor=citizen, version=item, data=data, idempotency_key="api-8", pledged_slots=[1])
    catalogue.withdraw(actor=publisher, version=item, reason="事项暂停")
    item.refresh_from_db()
    again = services.apply(actor=citizen, version=item, data=data, idempotency_key="api-8", pledged_slots=[1])
    assert again.pk == first.pk
    with pytest.raises(InvalidInput):  # a new key is a new application, and the item is closed
        services.apply(actor=citizen, version=item, data=data, idempotency_key="api-9", pledged_slots=[1])
    assert Case.objects.exclude(status=CaseStatus.DRAFT).count() == 1


def test_apply_receipts_and_checks_the_materials_it_was_given(citizen: User, item: ItemVersion) -> None:
    data = start(citizen, item).data
    case = services.apply(actor=citizen, version=item, data=data, pledged_slots=[1])
    # Slot 0 (required) was not given: pre-review finds it missing; slot 1 was pledged (告知承诺, level D).
    assert [(f["code"], f["slot"]) for f in case.auto_findings] == [("material_missing", 0)]
    receipt = case.notices.get(kind=NoticeKind.RECEIPT)
    assert receipt.number.endswith("-1")
    assert [(m["provenance"], m["trust_level"]) for m in receipt.content["materials"]] == [
        (Provenance.PLEDGE, TrustLevel.D)
    ]
    [material] = case.materials.all()
    assert (material.slot, material.trust_level, bool(material.pledge_text)) == (1, TrustLevel.D, True)
    assert case.applicant_id_masked == PEOPLE["citizen"].id_number[:4] + "*" * 10 + PEOPLE["citizen"].id_number[-4:]


@pytest.mark.parametrize(
    ("pledged", "reused"),
    [([1, 1], {}), ([1], {1: 0})],
    ids=["pledged twice", "pledged and reused"],
)
def test_apply_refuses_a_material_given_twice_and_changes_nothing(
    citizen: User, item: ItemVersion, pledged: list[int], reused: dict[int, int]
) -> None:
    data = start(citizen, item).data
    with pytest.raises(InvalidInput) as refused, translation.override("en"):
        services.apply(actor=citizen, version=item, data=data, pledged_slots=pledged, reused=reused)
    assert "given once" in refused.value.details[0]["message"]
    assert not Case.objects.exclude(status=CaseStatus.DRAFT).exists()
    assert not CaseMaterial.objects.exists()


def test_a_second_submit_without_a_key_is_refused(citizen: User, submitted: Callable[..., Case]) -> None:
    case = submitted()
    with pytest.raises(DomainError):
        services.submit(actor=citizen, case=case)
    assert Case.objects.get(pk=case.pk).revision == case.revision


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.pdf", b"", "empty"),
        ("virus.pdf", b"MZ\x90\x00 this is a windows program", "PDF, JPEG, PNG or OFD"),
        ("page.pdf", b"<html><script>alert(1)</script></html>", "PDF, JPEG, PNG or OFD"),
    ],
)
def test_bad_uploads_are_refused_and_change_nothing(
    citizen: User, item: ItemVersion, name: str, content: bytes, message: str
) -> None:
    case = start(citizen, item)
    with pytest.raises(InvalidInput) as refused, translation.override("en"):
        services.attach_material(actor=citizen, case=case, slot=0, upload=SimpleUploadedFile(name, content))
    assert message in str(refused.value.message) or message in refused.value.details[0]["message"]
    assert not CaseMaterial.objects.exists() and not MaterialFile.objects.exists()


@override_settings(YIWANG_MATERIAL_MAX_BYTES=1024)
def test_an_oversized_upload_is_refused_with_its_size(citizen: User, item: ItemVersion) -> None:
    case = start(citizen, item)
    with pytest.raises(InvalidInput) as refused:
        services.attach_material(actor=citizen, case=case, slot=0, upload=pdf(body=b"x" * 4096))
    assert "MB" in str(refused.value.message)
    assert not CaseMaterial.objects.exists()


def test_a_png_is_accepted_by_its_bytes_even_when_misnamed(citizen: User, item: ItemVersion) -> None:
    case = start(citizen, item)
    material = services.attach_material(actor=citizen, case=case, slot=0, upload=SimpleUploadedFile("photo.pdf", PNG))
    assert material.file is not None and material.file.content_type == "image/png"


def test_a_slot_the_item_does_not_have_is_refused(citizen: User, item: ItemVersion) -> None:
    case = start(citizen, item)
    with pytest.raises(InvalidInput):
        services.attach_material(actor=citizen, case=case, slot=9, upload=pdf())


def test_a_pledged_material_is_level_d_with_the_pledge_on_record(citizen: User, item: ItemVersion) -> None:
    case = start(citizen, item)
    material = services.pledge_material(actor=citizen, case=case, slot=1)
    assert (material.provenance, material.trust_level) == (Provenance.PLEDGE, TrustLevel.D)
    assert material.pledge_text and material.pledged_at is not None
    with pytest.raises(InvalidInput):  # the application form itself cannot be pledged away
        services.pledge_material(actor=citizen, case=case, slot=0)


def test_a_material_on_file_is_reused_not_uploaded_again(
    citizen: User, item: ItemVersion, submitted: Callable[..., Case]
) -> None:
    earlier = submitted()
    on_file = services.reusable_materials(citizen, start(citizen, item))
    assert {m.case_id for m in on_file} == {earlier.pk}
    draft = Case.objects.filter(status=CaseStatus.DRAFT).get()
    reused = services.reuse_material(actor=citizen, case=draft, slot=0, material_id=on_file[0].pk)
    assert reused.provenance == Provenance.REUSE
    assert reused.file_id == on_file[0].file_id
    assert MaterialFile.objects.count() == 2  # the two files of the earlier case, nothing new


def test_nobody_reuses_another_persons_material(
    citizen: User, agent: User, item: ItemVersion, submitted: Callable[..., Case]
) -> None:
    earlier = submitted()
    theirs = earlier.materials.first()
    assert theirs is not None
    draft = start(agent, item)  # 李四 for himself
    with pytest.raises(InvalidInput):
        services.reuse_material(actor=agent, case=draft, slot=0, material_id=theirs.pk)


def test_others_cannot_touch_a_draft(citizen: User, agent: User, item: ItemVersion) -> None:
    case = start(citizen, item)
    with pytest.raises(NotFound):
        services.attach_material(actor=agent, case=case, slot=0, upload=pdf())
    with pytest.raises(NotFound):
        services.submit(actor=agent, case=case)


def test_an_agent_applies_for_the_enterprise_and_both_identities_are_recorded(
    agent: User, enterprise: Any, enterprise_rep: User, item: ItemVersion
) -> None:
    agency = Agency.objects.get(agent=agent)
    case = start(agent, item, agency_id=agency.pk)
    services.attach_material(actor=agent, case=case, slot=0, upload=pdf())
    case = services.submit(actor=agent, case=case)
    assert case.enterprise_id == enterprise.pk and case.applicant_name == enterprise.name
    record = AuditRecord.objects.get(action="cases.submitted")
    assert record.actor_id == agent.pk and record.on_behalf_of == f"enterprise:{enterprise.uscc}"
    # The representative sees the enterprise's case too.
    from yiwang.cases.selectors import my_cases

    assert list(my_cases(enterprise_rep)) == [case]


def test_a_revoked_agency_stops_the_agent_at_the_next_act(agent: User, enterprise_rep: User, item: ItemVersion) -> None:
    from yiwang.identity import services as identity

    agency = Agency.objects.get(agent=agent)
    case = start(agent, item, agency_id=agency.pk)
    identity.revoke_agency(actor=enterprise_rep, agency=agency)
    # The enterprise's draft is no longer the agent's to see, let alone change.
    with pytest.raises(NotFound):
        services.attach_material(actor=agent, case=case, slot=0, upload=pdf())
    with pytest.raises(NotFound):
        services.submit(actor=agent, case=case)
    assert Case.objects.get(pk=case.pk).status == CaseStatus.DRAFT


def test_missing_required_materials_become_findings_for_pre_review(citizen: User, item: ItemVersion) -> None:
    case = start(citizen, item)
    services.attach_material(actor=citizen, case=case, slot=0, upload=pdf())
    case = services.submit(actor=citizen, case=case)
    assert [(f["code"], f["slot"]) for f in case.auto_findings] == [("material_missing", 1)]


def test_the_same_file_for_two_materials_is_a_finding(citizen: User, item: ItemVersion) -> None:
    case = start(citizen, item)
    services.attach_material(actor=citizen, case=case, slot=0, upload=pdf(body=b"same"))
    services.attach_material(actor=citizen, case=case, slot=1, upload=pdf(body=b"same"))
    case = services.submit(actor=citizen, case=case)
    assert [f["code"] for f in case.auto_findings] == ["same_file_twice"]


def test_a_draft_can_be_discarded_but_a_case_only_withdrawn(
    citizen: User, item: ItemVersion, submitted: Callable[..., Case]
) -> None:
    draft = start(citizen, item)
    services.discard_draft(actor=citizen, case=draft)
    assert not Case.objects.filter(pk=draft.pk).exists()
    case = submitted()
    with pytest.raises(DomainError):
        services.discard_draft(actor=citizen, case=case)
    services.withdraw(actor=citizen, case=case, reason="")
    case.refresh_from_db()
    assert case.status == CaseStatus.WITHDRAWN
    assert not case.tasks.filter(status=TaskStatus.OPEN).exists()


def test_removing_a_material_the_item_does_not_have_is_refused(citizen: User, item: ItemVersion) -> None:
    case = start(citizen, item)
    with pytest.raises(InvalidInput):
        services.remove_material(actor=citizen, case=case, slot=5)


def test_the_representative_corrects_a_case_an_agent_filed(
    agent: User, enterprise_rep: User, clerk: User, item: ItemVersion
) -> None:
    from yiwang.cases.services import Problem

    agency = Agency.objects.get(agent=agent)
    case = start(agent, item, agency_id=agency.pk)
    services.attach_material(actor=agent, case=case, slot=0, upload=pdf())
    case = services.submit(actor=agent, case=case)
    services.request_correction(actor=clerk, case=case, problems=[Problem("请上传清晰件", slot=0)])
    services.attach_material(actor=enterprise_rep, case=case, slot=0, upload=pdf(body=b"clear"))
    assert services.resubmit(actor=enterprise_rep, case=case).status == CaseStatus.SUBMITTED
