"""Once-only in applications: consent on the draft, the read at submission naming the real case number, the
material attached at trust level A, and every refusal changing nothing (sharing.once_only)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import User

from yiwang.audit.models import AuditRecord
from yiwang.cases import services as cases
from yiwang.cases.constants import CaseStatus, Provenance, TrustLevel
from yiwang.cases.models import Case, CaseMaterial
from yiwang.catalogue.models import ItemVersion, Organisation
from yiwang.common import crypto
from yiwang.common.errors import InvalidInput, InvalidTransition, NotFound
from yiwang.identity.models import Agency
from yiwang.registers.models import Person
from yiwang.sharing import accesslog, exchange, once_only
from yiwang.sharing import services as sharing
from yiwang.sharing.constants import AccessChannel, Outcome, Refusal, SharingType
from yiwang.sharing.models import AccessRecord, Consent, Grant
from yiwang.sharing.tests.once_only_world import (
    FORM_SLOT,
    ID_SLOT,
    NOW,
    PERSON_FIELDS,
    PROPERTY,
    PURPOSE,
    Publish,
    department_resource,
    draft,
    grant,
    upload_form,
    with_material,
)


@pytest.fixture(autouse=True)
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(NOW, tick=True) as traveller:
        yield traveller


@pytest.fixture
def item(published: Publish) -> ItemVersion:
    return published()


@pytest.fixture
def population_grant(manager: User, admin: User, department_a: Organisation, item: ItemVersion) -> Grant:
    return grant(manager, admin, department_a, items=[item.implementation_code])


def consented(citizen: User, item: ItemVersion) -> Case:
    case = draft(citizen, item)
    upload_form(citizen, case)
    once_only.fetch_shared_material(actor=citizen, case=case, slot=ID_SLOT, consent=True)
    return case


def answered() -> Any:
    return AccessRecord.objects.filter(outcome=Outcome.ANSWERED)


def refused_with(exc: pytest.ExceptionInfo[Any]) -> str:
    return str(exc.value.details[0].get("code", ""))


def assert_nothing_changed(case: Case) -> None:
    assert not Consent.objects.filter(case=case).exists()
    assert not case.materials.filter(slot=ID_SLOT).exists()
    assert not answered().exists()


# --- consent and the read at submission ---------------------------------------------------------------------


def test_consent_on_a_draft_is_recorded_and_holds_the_slot_without_reading(
    citizen: User, item: ItemVersion, population_grant: Grant
) -> None:
    case = consented(citizen, item)
    consent = Consent.objects.get(case=case)
    assert consent.resource.code == "population"
    assert consent.given_by == citizen
    assert consent.subject_index == crypto.id_number_index(case.applicant_id_number)
    assert "人口库:居民身份信息" in consent.wording and PURPOSE in consent.wording
    held = case.materials.get(slot=ID_SLOT)
    assert (held.provenance, held.trust_level, held.access_record_id) == (Provenance.SHARED, TrustLevel.A, None)
    assert not AccessRecord.objects.exists()  # a draft has no case number: nothing is read yet
    assert AuditRecord.objects.filter(action="sharing.consent_given", object_id=str(case.pk)).exists()


def test_submission_reads_the_register_under_the_real_case_number(
    citizen: User, item: ItemVersion, population_grant: Grant, department_a: Organisation
) -> None:
    case = cases.submit(actor=citizen, case=consented(citizen, item))
    record = answered().get()
    assert record.case_number == case.number and case.number
    assert record.purpose == PURPOSE
    assert record.consumer == department_a
    assert record.channel == AccessChannel.CASE
    assert record.grant == population_grant
    assert record.fields == PERSON_FIELDS
    material = case.materials.get(slot=ID_SLOT)
    assert material.access_record == record
    assert (material.provenance, material.trust_level) == (Provenance.SHARED, TrustLevel.A)
    assert material.source_reference == f"population#{record.seq}"
    assert material.file is None  # nothing uploaded
    assert material.shared_data["name"] == citizen.account.real_name
    assert material.shared_data["birth_date"] == "1990-03-07"
    assert accesslog.verify_chain().broken is None


def test_the_fetched_material_is_encrypted_at_rest(citizen: User, item: ItemVersion, population_grant: Grant) -> None:
    case = cases.submit(actor=citizen, case=consented(citizen, item))
    raw = CaseMaterial.objects.filter(case=case, slot=ID_SLOT).values_list("shared_data", flat=True)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT shared_data FROM cases_casematerial WHERE case_id = %s AND slot = %s", [case.pk, ID_SLOT]
        )
        stored = cursor.fetchone()[0]
    assert citizen.account.real_name not in stored
    assert raw[0]["name"] == citizen.account.real_name


def test_no_upload_is_required_the_material_check_passes(
    citizen: User, item: ItemVersion, population_grant: Grant
) -> None:
    case = cases.submit(actor=citizen, case=consented(citizen, item))
    assert case.status == CaseStatus.SUBMITTED
    assert not [f for f in case.auto_findings if f["code"] == "material_missing"]
    receipt = case.notices.get()
    assert {"name": "经营者身份证明", "provenance": "shared", "trust_level": "A"} in receipt.content["materials"]


def test_the_purpose_is_the_grants_purpose_naming_the_item(
    citizen: User, item: ItemVersion, manager: User, admin: User, department_a: Organisation
) -> None:
    grant(manager, admin, department_a, purposes=["办理其他事项", PURPOSE])
    cases.submit(actor=citizen, case=consented(citizen, item))
    assert answered().get().purpose == PURPOSE


def test_an_agent_fetches_the_enterprise_register_entry_by_its_uscc(
    agent: User, enterprise: Any, published: Publish, manager: User, admin: User, department_a: Organisation
) -> None:
    version = published(**with_material("营业执照", "法人库:市场主体登记信息"))
    grant(manager, admin, department_a, code="legal_entity")
    agency = Agency.objects.in_force().get(agent=agent)
    case = draft(agent, version, agency_id=agency.pk)
    slot = len(version.content["materials"]) - 1
    once_only.fetch_shared_material(actor=agent, case=case, slot=slot, consent=True)
    upload_form(agent, case)
    case = cases.submit(actor=agent, case=case)
    record = answered().get()
    assert record.subject_masked == enterprise.uscc
    assert record.case_number == case.number
    assert case.materials.get(slot=slot).shared_data["name"] == enterprise.name


def test_on_a_case_awaiting_corrections_the_read_happens_at_once(
    citizen: User, item: ItemVersion, population_grant: Grant, clerk: User
) -> None:
    case = draft(citizen, item)
    upload_form(citizen, case)
    from django.core.files.uploadedfile import SimpleUploadedFile

    scan = SimpleUploadedFile("id.pdf", b"%PDF-1.4\n%%EOF\nid", content_type="application/pdf")
    cases.attach_material(actor=citizen, case=case, slot=ID_SLOT, upload=scan)
    case = cases.submit(actor=citizen, case=case)
    cases.request_correction(actor=clerk, case=case, problems=[cases.Problem("复印件不清晰", slot=ID_SLOT)])
    material = once_only.fetch_shared_material(actor=citizen, case=case, slot=ID_SLOT, consent=True)
    record = answered().get()
    assert material.access_record == record and record.case_number == case.number
    assert case.materials.filter(slot=ID_SLOT, superseded=True, provenance=Provenance.UPLOAD).exists()


def test_a_refusal_of_the_read_on_a_case_awaiting_corrections_is_logged_though_the_consent_rolls_back(
    citizen: User, item: ItemVersion, population_grant: Grant, clerk: User
) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    case = draft(citizen, item)
    upload_form(citizen, case)
    scan = SimpleUploadedFile("id.pdf", b"%PDF-1.4\n%%EOF\nid", content_type="application/pdf")
    cases.attach_material(actor=citizen, case=case, slot=ID_SLOT, upload=scan)
    case = cases.submit(actor=citizen, case=case)
    cases.request_correction(actor=clerk, case=case, problems=[cases.Problem("复印件不清晰", slot=ID_SLOT)])
    for _ in range(population_grant.rate_per_minute):
        assert exchange._take_rate(population_grant)

    with pytest.raises(once_only.FetchRefused) as exc:
        once_only.fetch_shared_material(actor=citizen, case=case, slot=ID_SLOT, consent=True)

    assert exc.value.code == Refusal.RATE_LIMITED
    assert not Consent.objects.filter(case=case).exists()
    assert case.materials.get(slot=ID_SLOT, superseded=False).provenance == Provenance.UPLOAD
    refusal = AccessRecord.objects.get()
    assert (refusal.outcome, refusal.refusal, refusal.case_number) == (
        Outcome.REFUSED,
        Refusal.RATE_LIMITED,
        case.number,
    )
    assert accesslog.verify_chain().broken is None


# --- withdrawing the consent ----------------------------------------------------------------------------------


def test_consent_withdrawn_before_submission_empties_the_slot(
    citizen: User, item: ItemVersion, population_grant: Grant
) -> None:
    case = consented(citizen, item)
    once_only.withdraw_consent(actor=citizen, case=case, slot=ID_SLOT)
    assert not Consent.objects.filter(case=case).exists()
    assert not case.materials.filter(slot=ID_SLOT).exists()
    case = cases.submit(actor=citizen, case=case)
    assert [f["slot"] for f in case.auto_findings if f["code"] == "material_missing"] == [ID_SLOT]
    assert not AccessRecord.objects.exists()
    assert AuditRecord.objects.filter(action="sharing.consent_withdrawn").exists()


def test_consent_cannot_be_withdrawn_once_the_data_is_read(
    citizen: User, item: ItemVersion, population_grant: Grant
) -> None:
    case = cases.submit(actor=citizen, case=consented(citizen, item))
    with pytest.raises(InvalidTransition):
        once_only.withdraw_consent(actor=citizen, case=case, slot=ID_SLOT)
    assert case.materials.get(slot=ID_SLOT).access_record_id is not None


def test_withdrawing_a_consent_that_was_never_given_is_refused(
    citizen: User, item: ItemVersion, population_grant: Grant
) -> None:
    case = draft(citizen, item)
    with pytest.raises(InvalidTransition):
        once_only.withdraw_consent(actor=citizen, case=case, slot=ID_SLOT)


def test_discarding_the_draft_discards_the_consent(citizen: User, item: ItemVersion, population_grant: Grant) -> None:
    case = consented(citizen, item)
    cases.discard_draft(actor=citizen, case=case)
    assert not Consent.objects.exists()


# --- refusals change nothing ----------------------------------------------------------------------------------


def test_refused_without_consent(citizen: User, item: ItemVersion, population_grant: Grant) -> None:
    case = draft(citizen, item)
    with pytest.raises(InvalidInput) as exc:
        once_only.fetch_shared_material(actor=citizen, case=case, slot=ID_SLOT, consent=False)
    assert refused_with(exc) == "no_consent"
    assert_nothing_changed(case)


def test_refused_without_a_grant(citizen: User, item: ItemVersion) -> None:
    case = draft(citizen, item)
    with pytest.raises(InvalidInput) as exc:
        once_only.fetch_shared_material(actor=citizen, case=case, slot=ID_SLOT, consent=True)
    assert refused_with(exc) == "no_grant"
    assert_nothing_changed(case)


def test_refused_when_the_grant_is_for_other_items(
    citizen: User, item: ItemVersion, published: Publish, manager: User, admin: User, department_a: Organisation
) -> None:
    grant(manager, admin, department_a, items=[published().implementation_code])
    case = draft(citizen, item)
    with pytest.raises(InvalidInput) as exc:
        once_only.fetch_shared_material(actor=citizen, case=case, slot=ID_SLOT, consent=True)
    assert refused_with(exc) == "no_grant"
    assert_nothing_changed(case)


def test_refused_when_only_another_department_holds_the_grant(
    citizen: User, item: ItemVersion, admin: User, department_b: Organisation
) -> None:
    grant(admin, admin, department_b, items=[item.implementation_code])
    case = draft(citizen, item)
    with pytest.raises(InvalidInput) as exc:
        once_only.fetch_shared_material(actor=citizen, case=case, slot=ID_SLOT, consent=True)
    assert refused_with(exc) == "no_grant"
    assert_nothing_changed(case)


def test_refused_for_a_material_not_held_in_shared_data(
    citizen: User, item: ItemVersion, population_grant: Grant
) -> None:
    case = draft(citizen, item)
    with pytest.raises(InvalidInput) as exc:
        once_only.fetch_shared_material(actor=citizen, case=case, slot=FORM_SLOT, consent=True)
    assert refused_with(exc) == "not_shared"
    assert not Consent.objects.exists()


@pytest.mark.parametrize(
    ("reference", "code"),
    [("无此资源库:某信息", "unknown_resource"), (PROPERTY, "not_held")],
)
def test_refused_for_unknown_and_unconnected_resources(
    citizen: User, published: Publish, manager: User, department_a: Organisation, reference: str, code: str
) -> None:
    department_resource(manager, department_a)
    version = published(**with_material("权属证明", reference))
    case = draft(citizen, version)
    with pytest.raises(InvalidInput) as exc:
        once_only.fetch_shared_material(actor=citizen, case=case, slot=2, consent=True)
    assert refused_with(exc) == code
    assert not Consent.objects.exists() and not case.materials.exists()


def test_refused_for_a_resource_that_is_not_shared(
    citizen: User, published: Publish, manager: User, department_a: Organisation
) -> None:
    department_resource(manager, department_a, sharing_type=SharingType.NOT_SHARED)
    version = published(**with_material("权属证明", PROPERTY))
    case = draft(citizen, version)
    with pytest.raises(InvalidInput) as exc:
        once_only.fetch_shared_material(actor=citizen, case=case, slot=2, consent=True)
    assert refused_with(exc) == "not_shared"


def test_refused_when_the_register_does_not_know_the_applicant(
    citizen: User, item: ItemVersion, population_grant: Grant
) -> None:
    case = draft(citizen, item)
    Person.objects.filter(id_number_index=case.applicant_index).delete()
    with pytest.raises(InvalidInput) as exc:
        once_only.fetch_shared_material(actor=citizen, case=case, slot=ID_SLOT, consent=True)
    assert refused_with(exc) == "not_found"
    assert_nothing_changed(case)


def test_another_citizen_cannot_fetch_into_someone_elses_draft(
    citizen: User, enterprise_rep: User, item: ItemVersion, population_grant: Grant
) -> None:
    case = draft(citizen, item)
    with pytest.raises(NotFound):
        once_only.fetch_shared_material(actor=enterprise_rep, case=case, slot=ID_SLOT, consent=True)
    assert_nothing_changed(case)
    consented_case = consented(citizen, item)
    with pytest.raises(NotFound):
        once_only.withdraw_consent(actor=enterprise_rep, case=consented_case, slot=ID_SLOT)
    assert Consent.objects.filter(case=consented_case).exists()


def test_a_submitted_case_cannot_take_a_new_consent(citizen: User, item: ItemVersion, population_grant: Grant) -> None:
    case = draft(citizen, item)
    upload_form(citizen, case)
    case = cases.submit(actor=citizen, case=case)
    with pytest.raises(InvalidTransition):
        once_only.fetch_shared_material(actor=citizen, case=case, slot=ID_SLOT, consent=True)
    assert not Consent.objects.exists()


# --- crash safety -----------------------------------------------------------------------------------------------


def test_a_refusal_after_a_read_inside_submission_leaves_neither_material_nor_access_record(
    citizen: User, published: Publish, manager: User, admin: User, department_a: Organisation
) -> None:
    """Two slots consented; between consent and submission the second grant is revoked. The submission reads
    the first slot (a record and a material in its transaction), then the exchange refuses the second: the
    whole submission rolls back, and only the refusal is logged, again, on its own."""
    version = published(**with_material("持有的证照", "电子证照库:个人证照信息"))
    grant(manager, admin, department_a)
    licences = grant(manager, admin, department_a, code="licences_person")
    case = draft(citizen, version)
    upload_form(citizen, case)
    once_only.fetch_shared_material(actor=citizen, case=case, slot=ID_SLOT, consent=True)
    once_only.fetch_shared_material(actor=citizen, case=case, slot=2, consent=True)
    sharing.revoke_grant(actor=admin, grant=licences, reason="测试撤销")

    with pytest.raises(once_only.FetchRefused) as exc:
        cases.submit(actor=citizen, case=case)

    assert exc.value.code == "no_grant"
    case.refresh_from_db()
    assert case.status == CaseStatus.DRAFT and case.number is None
    assert not answered().exists()
    assert not case.materials.filter(access_record__isnull=False).exists()
    assert case.materials.get(slot=ID_SLOT).access_record_id is None  # still held for the next submission
    refusal = AccessRecord.objects.get()
    assert (refusal.outcome, refusal.refusal, refusal.resource_code) == (Outcome.REFUSED, "no_grant", "licences_person")
    assert accesslog.verify_chain().broken is None
    assert Consent.objects.filter(case=case).count() == 2


def test_a_submission_after_a_refusal_succeeds_once_the_consent_is_withdrawn(
    citizen: User, published: Publish, manager: User, admin: User, department_a: Organisation
) -> None:
    version = published(**with_material("持有的证照", "电子证照库:个人证照信息"))
    grant(manager, admin, department_a)
    licences = grant(manager, admin, department_a, code="licences_person")
    case = draft(citizen, version)
    upload_form(citizen, case)
    once_only.fetch_shared_material(actor=citizen, case=case, slot=ID_SLOT, consent=True)
    once_only.fetch_shared_material(actor=citizen, case=case, slot=2, consent=True)
    sharing.revoke_grant(actor=admin, grant=licences, reason="测试撤销")
    with pytest.raises(once_only.FetchRefused):
        cases.submit(actor=citizen, case=case)
    once_only.withdraw_consent(actor=citizen, case=case, slot=2)
    case = cases.submit(actor=citizen, case=case)
    assert answered().get().case_number == case.number
    assert case.materials.get(slot=ID_SLOT).access_record is not None
