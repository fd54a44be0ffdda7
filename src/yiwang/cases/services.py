"""Every write to cases: apply → pre-review → accept → steps → decide → deliver (and the detours).

Each function takes a keyword-only ``actor``, runs in one transaction, writes an audit record inside it,
moves the case only through ``cases.machine.transition`` and sends notifications through the outbox, so a
rollback sends nothing. Permissions are asked of ``identity.authz`` (role **and** scope).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import posixpath
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.base import ContentFile, File
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiwang.audit import services as audit
from yiwang.audit.actors import Actor
from yiwang.cases import deadlines, machine, notify, rules
from yiwang.cases.constants import (
    TRUST_OF_PROVENANCE,
    CaseStatus,
    Channel,
    DeliveryMethod,
    NoticeKind,
    Outcome,
    ProcedureKind,
    Provenance,
    StepCode,
    SupervisionStatus,
    TaskStatus,
    TrustLevel,
)
from yiwang.cases.models import (
    Bundle,
    BundleApplication,
    Case,
    CaseMaterial,
    CaseTask,
    MaterialFile,
    Notice,
    SpecialProcedure,
    SupervisionRecord,
)
from yiwang.catalogue import forms as item_forms
from yiwang.catalogue.handling import HandlingDefinition, handling_for
from yiwang.catalogue.models import ItemVersion, Organisation
from yiwang.catalogue.services import detect_file_type
from yiwang.common import crypto
from yiwang.common.errors import (
    DomainError,
    InvalidInput,
    InvalidTransition,
    NotFound,
    PermissionDenied,
    invalid_field,
)
from yiwang.common.masking import mask_id_number
from yiwang.identity import authz
from yiwang.identity.constants import Role
from yiwang.identity.models import Agency, Enterprise, account_of
from yiwang.identity.services import agency_for_act, can_apply
from yiwang.licences import issuance
from yiwang.licences.constants import LicenceStatus
from yiwang.licences.models import Licence

logger = logging.getLogger(__name__)

# Materials are PDF, JPEG, PNG or OFD (GB/T 33190), judged by their bytes, never by their names.
MATERIAL_TYPES = {"pdf": "application/pdf", "jpeg": "image/jpeg", "png": "image/png", "ofd": "application/ofd"}
MAX_REASON = 2000
PLEDGE_TEXT = gettext_lazy(
    "I pledge that this material is true, complete and valid, and I accept the legal consequences if it is not."
)


def _today() -> dt.date:
    return timezone.localdate()


def _max_material_bytes() -> int:
    return int(settings.YIWANG_MATERIAL_MAX_BYTES)


def _clean_reason(reason: str, field: str = "reason", *, required: bool = True) -> str:
    reason = (reason or "").strip()
    if required and not reason:
        raise invalid_field(field, _("Give the reason."))
    if len(reason) > MAX_REASON:
        raise invalid_field(field, _("Keep it under %(n)s characters.") % {"n": MAX_REASON})
    return reason


# ---------------------------------------------------------------------------------------------------------
# Who may act on what
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Applicant:
    """Whom an application is for, and under which authority the actor files it."""

    user: User | None
    name: str
    id_number: str
    enterprise: Enterprise | None
    agency: Agency | None

    @property
    def on_behalf_of(self) -> str:
        return self.agency.principal_label if self.agency is not None else ""


def applicant_for(actor: Any, *, version: ItemVersion, agency_id: int | None = None) -> Applicant:
    """The applicant when ``actor`` applies for ``version``: themselves, or the principal of an agency in force.

    Real-name rule: only verified persons apply (unverified accounts can browse). An agent's agency is
    checked for this item on every act (identity.services.agency_for_act).
    """
    authz.require_authenticated(actor)
    if not can_apply(actor):
        raise PermissionDenied(_("Only a verified person can apply. Verify your real name on My account first."))
    if agency_id is not None:
        agency = agency_for_act(agent=actor, agency_id=agency_id, basic_code=version.basic_code or None)
        if agency.enterprise is not None:
            enterprise = agency.enterprise
            return Applicant(None, enterprise.name, "", enterprise, agency)
        principal = agency.principal_user
        assert principal is not None
        account = account_of(principal)
        assert account is not None
        return Applicant(principal, account.real_name, account.id_number, None, agency)
    account = account_of(actor)
    assert account is not None
    return Applicant(actor, account.real_name, account.id_number, None, None)


def _owns(actor: Any, case: Case) -> bool:
    """Whether the applicant side may act on ``case``: its applicant, or an agent/representative for it."""
    subject = authz.subject_of(actor)
    if subject.user is None or subject.kind != "person":
        return False
    account = account_of(actor)
    if account is not None and case.applicant_index and account.id_number_index == case.applicant_index:
        return True
    principals = authz.principals_of(actor)
    if case.enterprise_id is not None and case.enterprise_id in principals.enterprise_ids:
        return True
    return case.applicant_id is not None and case.applicant_id in principals.user_ids


def may_follow(user: Any, case: Case) -> bool:
    """Whether a person may still see ``case`` (its applicant side, through agencies in force)."""
    return _owns(user, case)


def require_owner(actor: Any, case: Case) -> None:
    if not _owns(actor, case):
        raise NotFound(_("No such case."))


def _staff_department_ids(case: Case) -> set[int]:
    return {case.department_id, *CaseTask.objects.filter(case=case).values_list("department_id", flat=True)}


def staff_may_see(actor: Any, case: Case) -> bool:
    """Staff see a case only when their department is involved (accepting it, or holding one of its tasks)."""
    subject = authz.subject_of(actor)
    if subject.is_admin:
        return True
    if authz.allowed(actor, "cases.supervise", division_code=case.region_code):
        return True
    if not authz.allowed(actor, "cases.handle"):
        return False
    return subject.department_id in _staff_department_ids(case)


def _check_task(actor: Any, task: CaseTask) -> None:
    """The actor works in the task's department and holds the task's role."""
    department = task.department
    if not authz.allowed(actor, "cases.handle", department_id=department.pk, division_code=department.division_id):
        raise NotFound(_("No such task."))
    if not authz.has_role(actor, task.role):
        raise PermissionDenied(_("This step needs the role “%(role)s”.") % {"role": Role(task.role).label})


def _close_warnings(records: Any) -> None:
    """Warnings about work that is over (a task done, a case finished) are closed, not left for supervisors."""
    records.filter(status__in=[SupervisionStatus.OPEN, SupervisionStatus.FOLLOWED_UP]).update(
        status=SupervisionStatus.CLOSED
    )


def _finish_task(task_id: int, actor: Any, opinion: str) -> None:
    CaseTask.objects.filter(pk=task_id).update(
        status=TaskStatus.DONE,
        completed_at=timezone.now(),
        completed_by=actor if isinstance(actor, User) else None,
        opinion=opinion,
    )
    _close_warnings(SupervisionRecord.objects.filter(task_id=task_id))


def _locked_task(task_id: int) -> CaseTask:
    task = CaseTask.objects.select_for_update().select_related("case", "department").filter(pk=task_id).first()
    if task is None:
        raise NotFound(_("No such task."))
    return task


def _open_task(actor: Any, task: CaseTask | int, *, step: str | None = None) -> CaseTask:
    # The row lock serialises two members of one department acting on one task; the case's conditional
    # update (machine.transition) then refuses whichever of two different tasks comes second.
    locked = _locked_task(task if isinstance(task, int) else task.pk)
    _check_task(actor, locked)
    if locked.status != TaskStatus.OPEN:
        raise InvalidTransition(_("This task is already done."))
    if step is not None and locked.step_code != step:
        raise InvalidTransition(_("This task is not at that step."))
    return locked


# ---------------------------------------------------------------------------------------------------------
# Drafts and materials (the applicant's side)
# ---------------------------------------------------------------------------------------------------------


def _published(version: ItemVersion) -> None:
    if not ItemVersion.objects.current().filter(pk=version.pk).exists():
        raise InvalidInput(_("This item is not open for applications."))


def start_application(
    *,
    actor: Any,
    version: ItemVersion,
    agency_id: int | None = None,
    data: Mapping[str, Any] | None = None,
) -> Case:
    """Open a draft for ``version`` (pre-filled from the registers when ``data`` is not given)."""
    _published(version)
    applicant = applicant_for(actor, version=version, agency_id=agency_id)
    handling = handling_for(version)
    if data is None:
        data = _prefill(actor, handling, applicant)
    with transaction.atomic():
        case = _new_case(actor, version, applicant, dict(data), channel=Channel.ONLINE)
        # Once-only: a material an e-licence the applicant holds can stand in for is attached at once (the
        # newest valid one; the applicant may pick another or upload instead).
        attached = {}
        for slot, held in licence_candidates(case).items():
            attached[slot] = _use_licence(case, slot, held[0].pk, fresh=True, held=held).source_reference
        audit.record(
            actor=actor,
            action="cases.draft_started",
            object_type="cases.case",
            object_id=case.pk,
            object_label=case.item_name,
            on_behalf_of=applicant.on_behalf_of,
            after={"licences": attached} if attached else None,
        )
    return case


def _prefill(actor: Any, handling: HandlingDefinition, applicant: Applicant) -> dict[str, Any]:
    """Register facts for the form: the applicant's, or for an enterprise its own and the filer's as contact."""
    from yiwang.registers.selectors import find_entity, find_person

    if applicant.enterprise is not None:
        filer = account_of(actor)
        person = find_person(filer.id_number) if filer is not None and filer.id_number else None
        entity = find_entity(applicant.enterprise.uscc)
        return item_forms.prefill(handling, person=person, entity=entity, account=filer)
    person = find_person(applicant.id_number) if applicant.id_number else None
    account = account_of(applicant.user) if applicant.user is not None else None
    return item_forms.prefill(handling, person=person, account=account)


def _new_case(
    actor: Any, version: ItemVersion, applicant: Applicant, data: dict[str, Any], *, channel: str, **fields: Any
) -> Case:
    return Case.objects.create(
        version=version,
        item_name=version.name,
        basic_code=version.basic_code,
        department=version.department,
        region_code=version.region_code,
        applicant=applicant.user,
        applicant_name=applicant.name,
        applicant_id_number=applicant.id_number,
        applicant_id_masked=mask_id_number(applicant.id_number),
        applicant_index=crypto.id_number_index(applicant.id_number) if applicant.id_number else "",
        enterprise=applicant.enterprise,
        submitted_by=actor if isinstance(actor, User) else None,
        agency=applicant.agency,
        channel=channel,
        data=data,
        **fields,
    )


def require_act(actor: Any, case: Case) -> None:
    """The applicant side may *act* on ``case`` (not only see it): the applicant, an enterprise's
    representative, or an agent under an agency in force that covers the case's item — checked on every act,
    since seeing a principal's cases needs any agency but acting needs one for this item."""
    require_owner(actor, case)
    account = account_of(actor)
    if account is not None and case.applicant_index and account.id_number_index == case.applicant_index:
        return
    if case.enterprise_id is not None and case.enterprise.representative_id == actor.pk:  # type: ignore[union-attr]
        return
    basic_code = case.basic_code or None
    if case.agency_id is not None and case.agency.agent_id == actor.pk:  # type: ignore[union-attr]
        agency_for_act(agent=actor, agency_id=case.agency_id, basic_code=basic_code)
        return
    held = Agency.objects.in_force().filter(agent=actor)
    held = (
        held.filter(enterprise_id=case.enterprise_id)
        if case.enterprise_id
        else held.filter(principal_user_id=case.applicant_id)
    )
    for agency in held:
        if agency.covers(basic_code):
            agency_for_act(agent=actor, agency_id=agency.pk, basic_code=basic_code)
            return
    raise PermissionDenied(_("Your agency does not cover this item."))


def _editable(actor: Any, case: Case) -> None:
    require_act(actor, case)
    if case.status not in (CaseStatus.DRAFT, CaseStatus.CORRECTION):
        raise InvalidTransition(_("This application has been submitted; it can no longer be changed."))


def require_editable(actor: Any, case: Case) -> None:
    """The applicant side may change ``case`` now: a draft, or a case awaiting corrections (for other apps'
    services that fill a slot, such as sharing.once_only)."""
    _editable(actor, case)


def save_draft(*, actor: Any, case: Case, data: Mapping[str, Any], delivery: Mapping[str, str] | None = None) -> Case:
    """Autosave: keep what the applicant typed, valid or not (validation happens on submit)."""
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        _editable(actor, case)
        fields: dict[str, Any] = {"data": dict(data)}
        if delivery is not None:
            fields.update(_clean_delivery(delivery))
        for name, value in fields.items():
            setattr(case, name, value)
        case.save(update_fields=[*fields, "updated_at"])
        audit.record(actor=actor, action="cases.draft_saved", object_type="cases.case", object_id=case.pk)
    return case


def _clean_delivery(delivery: Mapping[str, str]) -> dict[str, str]:
    method = delivery.get("method") or DeliveryMethod.ELECTRONIC
    if method not in DeliveryMethod.values:
        raise invalid_field("delivery_method", _("Choose how the result reaches you."))
    address = (delivery.get("address") or "").strip()
    if method == DeliveryMethod.MAIL and not address:
        raise invalid_field("delivery_address", _("Enter the address the result is mailed to."))
    if len(address) > 300:
        raise invalid_field("delivery_address", _("Keep it under %(n)s characters.") % {"n": 300})
    return {"delivery_method": method, "delivery_address": address}


def discard_draft(*, actor: Any, case: Case) -> None:
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        require_act(actor, case)
        if case.status != CaseStatus.DRAFT:
            raise InvalidTransition(_("Only a draft can be discarded; withdraw a submitted application instead."))
        audit.record(actor=actor, action="cases.draft_discarded", object_type="cases.case", object_id=case.pk)
        case.materials.all().delete()
        case.delete()


def material_slots(case: Case) -> list[dict[str, Any]]:
    """The item's material list for this case's version (the slots materials fill)."""
    return list(case.version.content.get("materials", []))


def _slot(case: Case, slot: int) -> dict[str, Any]:
    slots = material_slots(case)
    if not 0 <= slot < len(slots):
        raise invalid_field("slot", _("This item has no such material."))
    return slots[slot]


def _owner_index(case: Case) -> str:
    if case.enterprise_id is not None:
        return crypto.blind_index(case.enterprise.uscc, purpose="uscc")  # type: ignore[union-attr]
    return case.applicant_index


def _clean_filename(name: str) -> str:
    name = unicodedata.normalize("NFC", posixpath.basename((name or "").replace("\\", "/"))).strip()
    name = "".join(ch for ch in name if ch.isprintable() and ch not in '<>:"|?*/').strip()
    if not name.strip("."):  # "", ".", ".." — names storage refuses as path tricks
        return "material"
    return name[:150]


def check_upload(upload: File[Any]) -> str:
    """The upload's content type if it is an acceptable material (by its bytes and size), else InvalidInput."""
    size = upload.size or 0
    if size == 0:
        raise invalid_field("file", _("The file is empty."))
    limit = _max_material_bytes()
    if size > limit:
        raise invalid_field(
            "file",
            _("The file is %(size)s MB; the limit is %(limit)s MB.")
            % {"size": f"{size / 1048576:.1f}", "limit": f"{limit / 1048576:.0f}"},
        )
    detected = detect_file_type(upload)
    if detected not in MATERIAL_TYPES:
        raise invalid_field("file", _("Upload a PDF, JPEG, PNG or OFD file; this file is none of these."))
    upload.seek(0)
    return MATERIAL_TYPES[detected]


def store_file(*, owner_index: str, upload: File[Any], uploaded_by: Any) -> MaterialFile:
    """Check an upload, then keep it (inside the caller's transaction).

    Storage is not transactional: a file written here stays on disk if the transaction later rolls back.
    Callers that take several files check them all first (``check_upload``), so a bad one refuses the lot
    before any is written; ``MaterialFile`` rows are the record of which stored files are in use.
    """
    content_type = check_upload(upload)
    size = upload.size or 0
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    stored = MaterialFile(
        owner_index=owner_index,
        original_name=_clean_filename(getattr(upload, "name", "") or ""),
        content_type=content_type,
        size=size,
        sha256=digest.hexdigest(),
        uploaded_by=uploaded_by if isinstance(uploaded_by, User) else None,
    )
    stored.file.save(stored.original_name, upload, save=False)
    stored.save()
    return stored


def _replace_slot(case: Case, slot: int) -> None:
    """A new material for a slot supersedes the old one (kept, so staff see what changed)."""
    current = case.materials.filter(slot=slot, superseded=False)
    if case.status == CaseStatus.DRAFT:
        current.delete()
    else:
        current.update(superseded=True)


def _add_material(case: Case, slot: int, *, fresh: bool = False, **fields: Any) -> CaseMaterial:
    """A material for ``slot``; ``fresh``: the case was made in this transaction and this slot is still empty."""
    if not fresh:
        _replace_slot(case, slot)
    return CaseMaterial.objects.create(
        case=case, slot=slot, name=_slot(case, slot)["name"], round=case.round + 1, **fields
    )


def put_shared_material(
    case: Case, slot: int, *, reference: str, data: Mapping[str, Any] | None = None, record: Any = None
) -> CaseMaterial:
    """Fill ``slot`` from shared data, inside the caller's transaction (``sharing.once_only`` checks the consent
    and makes the read). Without ``record`` the slot is held for the read the case's submission makes."""
    _slot(case, slot)
    return _add_material(
        case,
        slot,
        provenance=Provenance.SHARED,
        trust_level=TRUST_OF_PROVENANCE[Provenance.SHARED],
        source_reference=reference[:200],
        shared_data=dict(data or {}),
        access_record=record,
    )


def complete_shared_material(material: CaseMaterial, *, reference: str, data: Mapping[str, Any], record: Any) -> None:
    """A held slot gets what the read at submission returned (inside the submission's transaction)."""
    material.source_reference = reference[:200]
    material.shared_data = dict(data)
    material.access_record = record
    material.added_at = timezone.now()
    material.save(update_fields=["source_reference", "shared_data", "access_record", "added_at"])


def attach_material(*, actor: Any, case: Case, slot: int, upload: File[Any]) -> CaseMaterial:
    """Upload a file into a material slot (trust level C: staff check the original before use)."""
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        _editable(actor, case)
        _slot(case, slot)
        stored = store_file(owner_index=_owner_index(case), upload=upload, uploaded_by=actor)
        material = _add_material(
            case, slot, file=stored, provenance=Provenance.UPLOAD, trust_level=TRUST_OF_PROVENANCE[Provenance.UPLOAD]
        )
        audit.record(
            actor=actor,
            action="cases.material_uploaded",
            object_type="cases.case",
            object_id=case.pk,
            after={"slot": slot, "sha256": stored.sha256, "size": stored.size},
        )
    return material


def reusable_materials(actor: Any, case: Case) -> list[CaseMaterial]:
    """Materials of the same applicant's earlier cases that can fill this case's slots (newest first)."""
    index = _owner_index(case)
    if not index:
        return []
    return list(
        CaseMaterial.objects.filter(file__owner_index=index, superseded=False, file__isnull=False)
        .exclude(case=case)
        .exclude(case__status=CaseStatus.DRAFT)
        .select_related("file", "case")
        .order_by("-added_at")[:50]
    )


def reuse_material(*, actor: Any, case: Case, slot: int, material_id: int) -> CaseMaterial:
    """Fill a slot with a material already on file from the applicant's earlier case (never uploaded twice).

    The copy keeps the trust it had: a B-level original checked at a window stays B.
    """
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        _editable(actor, case)
        material = _reuse(case, slot, material_id)
        audit.record(
            actor=actor,
            action="cases.material_reused",
            object_type="cases.case",
            object_id=case.pk,
            after={"slot": slot, "from": material_id},
        )
    return material


def _reuse(case: Case, slot: int, material_id: int, *, fresh: bool = False) -> CaseMaterial:
    _slot(case, slot)
    earlier = CaseMaterial.objects.select_related("file").filter(pk=material_id).first()
    if earlier is None or earlier.file is None or earlier.file.owner_index != _owner_index(case):
        raise invalid_field("material", _("No such material on file for this applicant."))
    return _add_material(
        case,
        slot,
        fresh=fresh,
        file=earlier.file,
        provenance=Provenance.REUSE,
        trust_level=earlier.trust_level,
        reused_from=earlier,
    )


def licence_candidates(case: Case) -> dict[int, list[Licence]]:
    """For each slot a licence type can stand in for, the applicant's valid licences of that type (once-only:
    never upload what the government issued). One query for all slots."""
    wanted = {
        index: str(slot["licence_type_code"])
        for index, slot in enumerate(material_slots(case))
        if slot.get("licence_type_code")
    }
    index = _owner_index(case)
    if not wanted or not index:
        return {}
    today = _today()
    held = list(
        Licence.objects.filter(
            holder_index=index, status=LicenceStatus.VALID, licence_type__code__in=set(wanted.values())
        )
        .filter(Q(valid_until__isnull=True) | Q(valid_until__gte=today))
        .select_related("licence_type", "issuer")
        .order_by("-issued_on", "-id")
    )
    return {
        slot: [lic for lic in held if lic.licence_type.code == code]
        for slot, code in wanted.items()
        if any(lic.licence_type.code == code for lic in held)
    }


def _use_licence(
    case: Case, slot: int, licence_id: int, *, fresh: bool = False, held: Sequence[Licence] | None = None
) -> CaseMaterial:
    """``held``: the slot's candidates when the caller has just read them (a draft opening), so not read again."""
    entry = _slot(case, slot)
    code = entry.get("licence_type_code")
    if not code:
        raise invalid_field("slot", _("No electronic licence can stand in for this material; provide it."))
    candidates = licence_candidates(case).get(slot, []) if held is None else held
    licence = next((lic for lic in candidates if lic.pk == licence_id), None)
    if licence is None:
        raise invalid_field("licence", _("No such valid licence of the required type is held by this applicant."))
    # The annotation's own expiry: a reuse copy is not a licence for ever (STANDARDS.md §8).
    until = _today() + dt.timedelta(days=settings.YIWANG_LICENCE_ANNOTATION_DAYS)
    if licence.valid_until is not None:
        until = min(until, licence.valid_until)
    copy = issuance.annotated_copy(licence, until=until, purpose=case.item_name)
    digest = hashlib.sha256(copy).hexdigest()
    stored = MaterialFile(
        owner_index=_owner_index(case),
        original_name=f"{licence.licence_type.name}（加注件）.pdf",
        content_type="application/pdf",
        size=len(copy),
        sha256=digest,
    )
    stored.file.save(f"{licence.serial}-{digest[:8]}.pdf", ContentFile(copy), save=False)
    stored.save()
    return _add_material(
        case,
        slot,
        fresh=fresh,
        file=stored,
        provenance=Provenance.LICENCE,
        trust_level=TrustLevel.A,
        source_reference=licence.identifier,
        annotation=issuance.annotation_text(licence, until, purpose=case.item_name),
        annotation_expires_on=until,
    )


def use_licence(*, actor: Any, case: Case, slot: int, licence_id: int) -> CaseMaterial:
    """Fill a slot with an e-licence the applicant holds: an annotated reuse copy (加注件), trust level A, sealed
    by the issuer — the applicant uploads nothing."""
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        _editable(actor, case)
        material = _use_licence(case, slot, licence_id)
        audit.record(
            actor=actor,
            action="cases.licence_used",
            object_type="cases.case",
            object_id=case.pk,
            after={"slot": slot, "licence": material.source_reference, "until": str(material.annotation_expires_on)},
        )
    return material


def pledgeable(material: Mapping[str, Any]) -> bool:
    """证明事项告知承诺制 (国办发〔2020〕42号): a certificate that a government body or an intermediary issues
    may be replaced by the applicant's pledge; what the applicant makes themselves (a form) cannot."""
    return material.get("source") in ("government", "intermediary")


def _pledge(case: Case, slot: int, *, fresh: bool = False) -> CaseMaterial:
    if not pledgeable(_slot(case, slot)):
        raise invalid_field("slot", _("This material cannot be replaced by a pledge; provide it."))
    return _add_material(
        case,
        slot,
        fresh=fresh,
        provenance=Provenance.PLEDGE,
        trust_level=TrustLevel.D,
        pledge_text=str(PLEDGE_TEXT),
        pledged_at=timezone.now(),
    )


def pledge_material(*, actor: Any, case: Case, slot: int) -> CaseMaterial:
    """告知承诺: the applicant pledges instead of providing the material (trust level D, pledge recorded)."""
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        _editable(actor, case)
        material = _pledge(case, slot)
        audit.record(
            actor=actor,
            action="cases.material_pledged",
            object_type="cases.case",
            object_id=case.pk,
            after={"slot": slot},
        )
    return material


def remove_material(*, actor: Any, case: Case, slot: int) -> None:
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        _editable(actor, case)
        _slot(case, slot)
        if case.status == CaseStatus.DRAFT:
            case.materials.filter(slot=slot).delete()
        else:
            case.materials.filter(slot=slot, superseded=False).update(superseded=True)
        audit.record(
            actor=actor,
            action="cases.material_removed",
            object_type="cases.case",
            object_id=case.pk,
            after={"slot": slot},
        )


# ---------------------------------------------------------------------------------------------------------
# Submission
# ---------------------------------------------------------------------------------------------------------


def _validate_form(case: Case) -> None:
    problems = item_forms.validate_submission(handling_for(case.version), case.data)
    if problems:
        raise InvalidInput(
            _("The form has %(n)s problem(s); correct them and submit again.") % {"n": len(problems)},
            details=[{"field": p.field, "message": str(p.message)} for p in problems],
        )


def case_number(region_code: str, day: dt.date, pk: int) -> str:
    """办件编号: region (GB/T 2260, 6 digits) + date of receipt + the case's own serial (decision 0008).

    The serial is the row id, so numbering needs no shared counter that every submission would queue on.
    """
    return f"{region_code[:6]}{day:%Y%m%d}{pk:010d}"


def current_materials(case: Case) -> list[CaseMaterial]:
    """The case's materials in force, by slot, their files loaded."""
    return list(case.materials.filter(superseded=False).select_related("file").order_by("slot"))


def _receipt(case: Case, actor: Any, materials: Sequence[CaseMaterial], *, sequence: int | None = None) -> None:
    _issue(
        case,
        NoticeKind.RECEIPT,
        actor,
        sequence=sequence,
        received_at=timezone.localtime(case.submitted_at).isoformat() if case.submitted_at else "",
        acceptance_due=case.acceptance_due.isoformat() if case.acceptance_due else "",
        materials=[
            {"name": m.name, "provenance": m.provenance, "trust_level": m.trust_level}
            for m in sorted(materials, key=lambda m: m.slot)
        ],
    )


def _open_acceptance_task(case: Case, today: dt.date) -> CaseTask:
    return CaseTask.objects.create(
        case=case,
        step_index=0,
        step_code=StepCode.ACCEPT,
        step_name="预审受理",
        step_name_en="Pre-review and acceptance",
        role=Role.WINDOW_CLERK,
        department=case.department,
        started_on=today,
        days=deadlines.ACCEPTANCE_WINDOW_DAYS,
        due=case.acceptance_due,
    )


def submit(*, actor: Any, case: Case, idempotency_key: str | None = None) -> Case:
    """Submit a draft: validated, numbered, receipted, queued for pre-review — atomically.

    Idempotent: a retried submit with the same key (a double-click, a lost response) returns the case the
    first one made instead of failing or making a second.
    """
    from yiwang.sharing.once_only import FetchRefused

    if idempotency_key:
        earlier = _by_key(actor, idempotency_key)
        if earlier is not None:
            return earlier
    try:
        with transaction.atomic():
            case = Case.objects.select_for_update().select_related("version", "department").get(pk=case.pk)
            _editable(actor, case)
            if case.status != CaseStatus.DRAFT:
                raise InvalidTransition(_("This application has already been submitted."))
            _published(case.version)
            _validate_form(case)
            return _submit_locked(actor, case, idempotency_key)
    except FetchRefused as exc:
        # The exchange logged its refusal inside the submission's transaction, now rolled back: log it again.
        exc.log_again()
        raise
    except IntegrityError:
        # Two submits with one key raced: the other committed first. Return its case.
        earlier = _by_key(actor, idempotency_key) if idempotency_key else None
        if earlier is None:
            raise
        return earlier


def _by_key(actor: Any, key: str) -> Case | None:
    if not isinstance(actor, User) or len(key) > 64:
        return None
    return Case.objects.filter(submitted_by=actor, idempotency_key=key).exclude(status=CaseStatus.DRAFT).first()


def _submit_locked(
    actor: Any, case: Case, idempotency_key: str | None, materials: Sequence[CaseMaterial] | None = None
) -> Case:
    """Submit ``case`` (locked or made in this transaction). ``materials``: its current materials when the caller
    has just made them all (a case created and submitted in one go), so they are not read back."""
    now = timezone.now()
    today = timezone.localdate(now)
    if materials is None:
        materials = current_materials(case)
    findings = rules.run(case, materials)
    machine.transition(
        case,
        "submit",
        actor=actor,
        # Fingerprints of what was submitted (never the answers: transitions are kept for ever), so a
        # resubmission can show staff exactly which fields changed.
        details={"fields": fingerprints(case.data)},
        on_behalf_of=case.agency.principal_label if case.agency_id else "",  # type: ignore[union-attr]
        number=case_number(case.region_code, today, case.pk),
        submitted_at=now,
        received_on=today,
        acceptance_due=deadlines.acceptance_due(today),
        round=case.round + 1,
        auto_findings=findings,
        idempotency_key=(idempotency_key or None) if idempotency_key and len(idempotency_key) <= 64 else None,
    )
    if any(m.provenance == Provenance.SHARED and m.access_record_id is None for m in materials):
        # Once-only: slots the applicant consented to fill from shared data are read now that the case has its
        # number (the access log names it), in this transaction: the reads and the case commit together.
        from yiwang.sharing import once_only

        once_only.fetch_consented(actor=actor, case=case, materials=materials)
    _open_acceptance_task(case, today)
    _receipt(case, actor, materials, sequence=1)  # a case is submitted once (a resubmission is another move)
    audit.record(
        actor=actor,
        action="cases.submitted",
        object_type="cases.case",
        object_id=case.pk,
        object_label=case.number or "",
        on_behalf_of=case.agency.principal_label if case.agency_id else "",  # type: ignore[union-attr]
        after={"findings": len(findings)},
    )
    notify.applicant(case, "case.submitted", actor=actor)
    notify.department(case, case.department, Role.WINDOW_CLERK, "case.task_assigned", actor=actor)
    return case


def apply(
    *,
    actor: Any,
    version: ItemVersion,
    data: Mapping[str, Any],
    idempotency_key: str | None = None,
    agency_id: int | None = None,
    pledged_slots: Iterable[int] = (),
    reused: Mapping[int, int] | None = None,
    delivery: Mapping[str, str] | None = None,
) -> Case:
    """Create and submit in one go (department systems' API, and retries): the same rules as the portal.

    A retried call with the same key returns the first call's case; nothing is created twice. The key is looked up
    only when the call fails (the unique key refuses the second case, or a check refuses the retry): a first call,
    by far the most common, pays nothing for it.
    """
    try:
        return _apply(
            actor,
            version,
            data,
            idempotency_key=idempotency_key,
            agency_id=agency_id,
            pledged_slots=list(pledged_slots),
            reused=dict(reused or {}),
            delivery=delivery,
        )
    except (IntegrityError, DomainError):
        earlier = _by_key(actor, idempotency_key) if idempotency_key else None
        if earlier is None:
            raise
        return earlier


def _apply(
    actor: Any,
    version: ItemVersion,
    data: Mapping[str, Any],
    *,
    idempotency_key: str | None,
    agency_id: int | None,
    pledged_slots: list[int],
    reused: dict[int, int],
    delivery: Mapping[str, str] | None,
) -> Case:
    _published(version)
    applicant = applicant_for(actor, version=version, agency_id=agency_id)
    slots = pledged_slots + list(reused)
    if len(set(slots)) != len(slots):
        raise invalid_field("materials", _("Each material can be given once: a slot was pledged or reused twice."))
    with transaction.atomic():
        case = _new_case(actor, version, applicant, dict(data), channel=Channel.API, **_clean_delivery(delivery or {}))
        _validate_form(case)
        materials = [_pledge(case, slot, fresh=True) for slot in pledged_slots]
        materials += [_reuse(case, slot, material_id, fresh=True) for slot, material_id in reused.items()]
        return _submit_locked(actor, case, idempotency_key, materials)


def withdraw(*, actor: Any, case: Case, reason: str = "") -> Case:
    """The applicant withdraws an application that is not yet decided (撤回)."""
    reason = _clean_reason(reason, required=False)
    with transaction.atomic():
        case = Case.objects.select_for_update().get(pk=case.pk)
        require_act(actor, case)
        machine.transition(case, "withdraw", actor=actor, reason=reason, paused_since=None)
        case.tasks.filter(status=TaskStatus.OPEN).update(status=TaskStatus.CANCELLED)
        # A procedure running when the applicant withdraws ends with the case (its clock has nothing left to do).
        case.special_procedures.filter(ended_on__isnull=True).update(
            ended_on=_today(), ended_by=actor, result=str(_("Ended: the application was withdrawn."))
        )
        audit.record(actor=actor, action="cases.withdrawn", object_type="cases.case", object_id=case.pk)
        notify.applicant(case, "case.withdrawn", actor=actor)
    return case


# ---------------------------------------------------------------------------------------------------------
# Notices
# ---------------------------------------------------------------------------------------------------------

NOTICE_PREFIX = {
    NoticeKind.RECEIPT: "RC",
    NoticeKind.CORRECTION: "CN",
    NoticeKind.ACCEPTANCE: "AC",
    NoticeKind.REFUSAL: "RF",
    NoticeKind.APPROVAL: "AP",
    NoticeKind.DENIAL: "DN",
    NoticeKind.SUPERVISION: "SV",
}


def _issue(case: Case, kind: str, actor: Any, *, sequence: int | None = None, **content: Any) -> Notice:
    """Freeze a notice's content now: a re-download years later shows what was issued, not today's data.

    ``sequence``: the notice's number among the case's notices of its kind, when the caller knows it (the first
    receipt); otherwise counted.
    """
    if sequence is None:
        sequence = Notice.objects.filter(case=case, kind=kind).count() + 1
    number = f"{NOTICE_PREFIX[NoticeKind(kind)]}{case.number}-{sequence}"
    department = case.department
    snapshot = {
        "kind": kind,
        "number": number,
        "case_number": case.number,
        "item_name": case.item_name,
        "department_name": department.name,
        "applicant_name": case.applicant_name,
        "applicant_id_masked": case.applicant_id_masked,
        "issued_on": _today().isoformat(),
        **content,
    }
    return Notice.objects.create(
        case=case,
        kind=kind,
        number=number,
        content=snapshot,
        issued_by=actor if isinstance(actor, User) else None,
    )


# ---------------------------------------------------------------------------------------------------------
# Pre-review and acceptance (the window)
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    """One deficiency for the correction notice: a material slot or a form field, and why."""

    reason: str
    slot: int | None = None
    field: str = ""


def _acceptance_task(case: Case) -> CaseTask | None:
    return case.tasks.filter(step_code=StepCode.ACCEPT, status=TaskStatus.OPEN).first()


def _locked_case_for_window(actor: Any, case: Case) -> tuple[Case, CaseTask]:
    locked = Case.objects.select_for_update().select_related("department", "version").get(pk=case.pk)
    task = _acceptance_task(locked)
    if task is None:
        machine.require(locked, "accept")  # explains the status
        raise InvalidTransition(_("This case is not waiting for acceptance."))
    _check_task(actor, task)
    return locked, task


def _problem_subject(case: Case, problem: Problem, handling: HandlingDefinition) -> str:
    if problem.slot is not None:
        return str(_slot(case, problem.slot)["name"])
    if problem.field:
        prop = handling.form_schema.get("properties", {}).get(problem.field)
        if prop is None:
            raise invalid_field("field", _("The form has no field “%(field)s”.") % {"field": problem.field})
        return str(prop.get("title") or problem.field)
    raise invalid_field("problems", _("Each problem must name a material or a form field."))


def request_correction(*, actor: Any, case: Case, problems: Sequence[Problem]) -> Notice:
    """一次性告知: every deficiency in ONE notice (行政许可法 art. 32); the applicant's clock waits."""
    if not problems:
        raise invalid_field("problems", _("List at least one problem to correct."))
    with transaction.atomic():
        case, task = _locked_case_for_window(actor, case)
        items = []
        handling = handling_for(case.version)
        seen: set[tuple[int | None, str]] = set()
        for problem in problems:
            key = (problem.slot, problem.field)
            if key in seen:
                raise invalid_field("problems", _("Name each material or field once, with all its problems."))
            seen.add(key)
            items.append(
                {
                    "subject": _problem_subject(case, problem, handling),
                    "reason": _clean_reason(problem.reason),
                    "slot": problem.slot,
                    "field": problem.field,
                }
            )
        machine.transition(
            case,
            "request_correction",
            actor=actor,
            step=StepCode.ACCEPT,
            department=task.department,
            details={"problems": items},
        )
        _finish_task(task.pk, actor, "")
        notice = _issue(
            case,
            NoticeKind.CORRECTION,
            actor,
            problems=[{"subject": i["subject"], "reason": i["reason"]} for i in items],
            received_on=case.received_on.isoformat() if case.received_on else "",
        )
        audit.record(
            actor=actor,
            action="cases.correction_requested",
            object_type="cases.case",
            object_id=case.pk,
            object_label=case.number or "",
            after={"problems": len(items)},
        )
        notify.applicant(case, "case.correction_requested", actor=actor, problem_count=len(items))
    return notice


def resubmit(*, actor: Any, case: Case) -> Case:
    """The applicant sends the corrections: a new receipt, a new acceptance window, staff see what changed."""
    with transaction.atomic():
        case = Case.objects.select_for_update().select_related("version", "department").get(pk=case.pk)
        _editable(actor, case)
        if case.status != CaseStatus.CORRECTION:
            raise InvalidTransition(_("No corrections were asked for."))
        _validate_form(case)
        today = _today()
        previous = case.transitions.filter(action__in=["submit", "resubmit"]).order_by("-at", "-id").first()
        changed_fields = _changed_fields(
            previous.details.get("fields", {}) if previous else {}, fingerprints(case.data)
        )
        materials = current_materials(case)
        changed_slots = sorted(set(case.materials.filter(round=case.round + 1).values_list("slot", flat=True)))
        machine.transition(
            case,
            "resubmit",
            actor=actor,
            on_behalf_of=case.agency.principal_label if case.agency_id else "",  # type: ignore[union-attr]
            details={
                "changed_fields": changed_fields,
                "changed_slots": changed_slots,
                "fields": fingerprints(case.data),
            },
            received_on=today,
            acceptance_due=deadlines.acceptance_due(today),
            round=case.round + 1,
            auto_findings=rules.run(case, materials),
        )
        _open_acceptance_task(case, today)
        _receipt(case, actor, materials)
        audit.record(
            actor=actor,
            action="cases.resubmitted",
            object_type="cases.case",
            object_id=case.pk,
            object_label=case.number or "",
            after={"changed_fields": changed_fields, "changed_slots": changed_slots},
        )
        notify.applicant(case, "case.resubmitted", actor=actor)
        notify.department(case, case.department, Role.WINDOW_CLERK, "case.task_assigned", actor=actor)
    return case


def fingerprints(data: Mapping[str, Any]) -> dict[str, str]:
    """Each answer as a keyed hash: equal answers compare equal, and nothing of them can be read back."""
    key = crypto.blind_index_key()
    return {
        name: hmac.new(key, json.dumps(["form-answer", value], sort_keys=True).encode(), hashlib.sha256).hexdigest()
        for name, value in data.items()
    }


def _changed_fields(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    return sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))


def refuse(*, actor: Any, case: Case, reasons: str) -> Notice:
    """不予受理: not within the department's remit or not an application it can accept; reasons and remedy."""
    reasons = _clean_reason(reasons, "reasons")
    with transaction.atomic():
        case, task = _locked_case_for_window(actor, case)
        machine.transition(
            case, "refuse", actor=actor, step=StepCode.ACCEPT, department=task.department, reason=reasons
        )
        _finish_task(task.pk, actor, reasons)
        notice = _issue(case, NoticeKind.REFUSAL, actor, reasons=reasons)
        audit.record(
            actor=actor,
            action="cases.refused",
            object_type="cases.case",
            object_id=case.pk,
            object_label=case.number or "",
        )
        notify.applicant(case, "case.refused", actor=actor)
    return notice


def _limits(case: Case) -> tuple[Mapping[str, Any] | None, Mapping[str, Any] | None]:
    limits = case.version.content.get("time_limits") or {}
    return limits.get("promised"), limits.get("statutory")


def _pauses(case: Case) -> list[deadlines.Pause]:
    return [
        deadlines.Pause(p.started_on, p.ended_on)
        for p in case.special_procedures.filter(counts_in_time_limit=False).order_by("started_on")
    ]


def _case_dues(case: Case, accepted_on: dt.date, today: dt.date) -> dict[str, Any]:
    promised, statutory = _limits(case)
    pauses = _pauses(case)
    return {
        "promised_due": deadlines.due_date(
            accepted_on, promised, extension_days=case.extension_days, pauses=pauses, today=today
        ),
        "statutory_due": deadlines.due_date(
            accepted_on, statutory, extension_days=case.extension_days, pauses=pauses, today=today
        ),
    }


def _effective_due(case: Case) -> dt.date | None:
    return case.promised_due or case.statutory_due


# 即办件: the window decides at once; a clerk of the accepting department holds the decision.
ON_THE_SPOT = {
    "code": StepCode.DECIDE,
    "name": "当场决定",
    "name_en": "Decision on the spot",
    "role": "window_clerk",
    "days": 0,
}


def _steps(case: Case) -> list[dict[str, Any]]:
    """The handling steps after acceptance; 即办 (no steps) becomes one on-the-spot decision at the window."""
    steps = list(handling_for(case.version).steps)
    if not steps:
        return [ON_THE_SPOT]
    return steps


def _co_departments(case: Case) -> list[Organisation]:
    """Co-implementing bodies (联办) of a joint item, as catalogue organisations."""
    found: list[Organisation] = []
    for body in case.version.content.get("co_implementing_bodies") or []:
        org = None
        if body.get("uscc"):
            org = Organisation.objects.filter(uscc=body["uscc"]).first()
        if org is None and body.get("name"):
            org = Organisation.objects.filter(name=body["name"]).first()
        if org is not None and org.pk != case.department_id and org not in found:
            found.append(org)
    return found


def _open_step(case: Case, index: int, actor: Any, today: dt.date) -> list[CaseTask]:
    steps = _steps(case)
    step = steps[index - 1]
    departments = [case.department]
    if step.get("parallel"):
        departments += _co_departments(case)
    tasks = []
    pauses = _pauses(case)
    for department in departments:
        task = CaseTask.objects.create(
            case=case,
            step_index=index,
            step_code=step["code"],
            step_name=str(step.get("name") or StepCode(step["code"]).label),
            step_name_en=step.get("name_en", ""),
            role=step["role"],
            department=department,
            started_on=today,
            days=int(step.get("days") or 0),
            due=deadlines.step_due(
                today, int(step.get("days") or 0), case_due=_effective_due(case), pauses=pauses, today=today
            ),
            parallel=bool(step.get("parallel")) and len(departments) > 1,
        )
        tasks.append(task)
        notify.department(case, department, step["role"], "case.task_assigned", actor=actor)
    return tasks


def accept(*, actor: Any, case: Case, note: str = "") -> Notice:
    """受理: the clock starts the day after today; the promised and statutory deadlines are fixed now."""
    note = _clean_reason(note, "note", required=False)
    with transaction.atomic():
        case, task = _locked_case_for_window(actor, case)
        return _accept_locked(actor, case, task, today=_today(), deemed=False, note=note)


def _accept_locked(actor: Any, case: Case, task: CaseTask | None, *, today: dt.date, deemed: bool, note: str) -> Notice:
    # Deemed acceptance counts from the day the materials were received (行政许可法 art. 32).
    accepted_on = case.received_on if deemed and case.received_on else today
    dues = _case_dues(case, accepted_on, today)  # CalendarNotCovered propagates: refused, never guessed
    machine.transition(
        case,
        "deem_accepted" if deemed else "accept",
        actor=actor,
        step=StepCode.ACCEPT,
        department=case.department,
        reason=note,
        accepted_on=accepted_on,
        deemed_accepted=deemed,
        **dues,
    )
    if task is not None:
        _finish_task(task.pk, None if deemed else actor, note)
    _open_step(case, 1, actor, today)
    notice = _issue(
        case,
        NoticeKind.ACCEPTANCE,
        actor,
        accepted_on=accepted_on.isoformat(),
        promised_due=dues["promised_due"].isoformat() if dues["promised_due"] else "",
        statutory_due=dues["statutory_due"].isoformat() if dues["statutory_due"] else "",
        deemed=deemed,
    )
    audit.record(
        actor=actor,
        action="cases.deemed_accepted" if deemed else "cases.accepted",
        object_type="cases.case",
        object_id=case.pk,
        object_label=case.number or "",
        after={k: v.isoformat() if v else None for k, v in dues.items()},
    )
    due = dues["promised_due"] or dues["statutory_due"]
    if deemed:
        notify.applicant(case, "case.deemed_accepted", actor=actor)
    else:
        notify.applicant(case, "case.accepted", actor=actor, promised_due=due.isoformat() if due else "")
    return notice


def deem_overdue_acceptances(*, actor: Actor, today: dt.date | None = None, limit: int = 500) -> int:
    """The scheduled job: applications nobody answered within 5 working days count as accepted from receipt.

    Idempotent: each case moves once (the conditional update refuses a second run or a clerk acting at once).
    """
    today = today or _today()
    done = 0
    ids = list(
        Case.objects.filter(status=CaseStatus.SUBMITTED, acceptance_due__lt=today)
        .order_by("acceptance_due", "id")
        .values_list("pk", flat=True)[:limit]
    )
    for case_id in ids:
        try:
            with transaction.atomic():
                case = Case.objects.select_for_update().select_related("department", "version").get(pk=case_id)
                if case.status != CaseStatus.SUBMITTED or not case.acceptance_due or case.acceptance_due >= today:
                    continue
                _accept_locked(actor, case, _acceptance_task(case), today=today, deemed=True, note="")
                done += 1
        except DomainError as exc:
            # One case the calendar cannot cover yet (or that moved meanwhile) must not stop the others.
            logger.warning("deemed acceptance of case %s refused: %s", case_id, exc)
            continue
    return done


# ---------------------------------------------------------------------------------------------------------
# Steps: claim, complete, return; special procedures; extension
# ---------------------------------------------------------------------------------------------------------


def claim(*, actor: Any, task: CaseTask | int) -> CaseTask:
    """Take a task from the department's queue (only one member holds it)."""
    with transaction.atomic():
        locked = _open_task(actor, task)
        if locked.assignee_id not in (None, getattr(actor, "pk", None)):
            raise InvalidTransition(_("This task is already taken by a colleague."))
        locked.assignee = actor
        locked.claimed_at = timezone.now()
        locked.save(update_fields=["assignee", "claimed_at"])
        audit.record(actor=actor, action="cases.task_claimed", object_type="cases.task", object_id=locked.pk)
    return locked


def assign(*, actor: Any, task: CaseTask | int, assignee: User) -> CaseTask:
    """An approver hands a task to a colleague in the same department who holds the step's role."""
    with transaction.atomic():
        locked = _locked_task(task if isinstance(task, int) else task.pk)
        department = locked.department
        if not authz.allowed(actor, "cases.handle", department_id=department.pk, division_code=department.division_id):
            raise NotFound(_("No such task."))
        if not authz.has_role(actor, Role.APPROVER):
            raise PermissionDenied(_("Only an approver assigns tasks to colleagues."))
        if locked.status != TaskStatus.OPEN:
            raise InvalidTransition(_("This task is already done."))
        colleague = account_of(assignee)
        if (
            colleague is None
            or colleague.department_id != locked.department_id
            or not authz.has_role(assignee, locked.role)
        ):
            raise invalid_field("assignee", _("Choose a colleague of this department who holds the step's role."))
        locked.assignee = assignee
        locked.claimed_at = timezone.now()
        locked.save(update_fields=["assignee", "claimed_at"])
        audit.record(
            actor=actor,
            action="cases.task_assigned",
            object_type="cases.task",
            object_id=locked.pk,
            after={"assignee": assignee.get_username()},
        )
        notify.users(locked.case, [assignee], "case.task_assigned", actor=actor)
    return locked


def complete_step(*, actor: Any, task: CaseTask | int, opinion: str) -> CaseTask:
    """Pass a review/audit step with an opinion; when every parallel task of the step is done, the next opens."""
    opinion = _clean_reason(opinion, "opinion")
    with transaction.atomic():
        locked = _open_task(actor, task)
        if locked.step_code in (StepCode.ACCEPT, StepCode.DECIDE):
            raise InvalidTransition(_("This step ends with its own action (accept or decide), not by completing it."))
        case = Case.objects.select_for_update().select_related("version", "department").get(pk=locked.case_id)
        if case.paused_since is not None:
            raise InvalidTransition(_("A special procedure is running; end it first."))
        _finish_task(locked.pk, actor, opinion)
        others_open = case.tasks.filter(step_index=locked.step_index, status=TaskStatus.OPEN).exists()
        machine.transition(
            case,
            "advance",
            actor=actor,
            step=locked.step_code,
            department=locked.department,
            reason=opinion,
            details={"task": locked.pk, "step_complete": not others_open},
        )
        if not others_open:
            _open_step(case, locked.step_index + 1, actor, _today())
            notify.applicant(case, "case.step_advanced", actor=actor, step=locked.step_name)
        audit.record(
            actor=actor,
            action="cases.step_completed",
            object_type="cases.case",
            object_id=case.pk,
            object_label=case.number or "",
            after={"step": locked.step_code, "department": locked.department_id},
        )
    return locked


def return_step(*, actor: Any, task: CaseTask | int, reason: str) -> list[CaseTask]:
    """Send the case back to the previous step with reasons (退回); the previous step's departments redo it."""
    reason = _clean_reason(reason)
    with transaction.atomic():
        locked = _open_task(actor, task)
        if locked.step_index <= 1:
            raise InvalidTransition(_("The first step after acceptance has no previous step to return to."))
        case = Case.objects.select_for_update().select_related("version", "department").get(pk=locked.case_id)
        returned = case.tasks.filter(step_index=locked.step_index, status=TaskStatus.OPEN)
        _close_warnings(SupervisionRecord.objects.filter(task__in=returned))
        returned.update(
            status=TaskStatus.CANCELLED, returned=True, completed_at=timezone.now(), completed_by=actor, opinion=reason
        )
        machine.transition(
            case, "return", actor=actor, step=locked.step_code, department=locked.department, reason=reason
        )
        reopened = _open_step(case, locked.step_index - 1, actor, _today())
        audit.record(
            actor=actor,
            action="cases.step_returned",
            object_type="cases.case",
            object_id=case.pk,
            object_label=case.number or "",
            after={"from": locked.step_code},
            note=reason,
        )
    return reopened


def _procedures_of_item(case: Case) -> dict[str, bool]:
    return {
        p["name"]: bool(p.get("counts_in_time_limit", False))
        for p in case.version.content.get("special_procedures") or []
        if p.get("name")
    }


def _recompute(case: Case, today: dt.date) -> None:
    """Recompute the case's and its open steps' deadlines after a clock event."""
    if case.accepted_on is None:
        return
    dues = _case_dues(case, case.accepted_on, today)
    Case.objects.filter(pk=case.pk).update(**dues)
    for name, value in dues.items():
        setattr(case, name, value)
    pauses = _pauses(case)
    for task in case.tasks.filter(status=TaskStatus.OPEN).exclude(step_code=StepCode.ACCEPT):
        due = deadlines.step_due(task.started_on, task.days, case_due=_effective_due(case), pauses=pauses, today=today)
        if due != task.due:
            CaseTask.objects.filter(pk=task.pk).update(due=due)


def _handling_task_for(actor: Any, case: Case) -> CaseTask:
    """The open task of the actor's department on ``case`` (special procedures are run by the handlers)."""
    subject = authz.subject_of(actor)
    task = (
        case.tasks.filter(status=TaskStatus.OPEN, department_id=subject.department_id)
        .exclude(step_code=StepCode.ACCEPT)
        .select_related("department", "case")
        .first()
    )
    if task is None and subject.is_admin:
        task = case.tasks.filter(status=TaskStatus.OPEN).select_related("department", "case").first()
    if task is None:
        raise NotFound(_("No such task."))
    _check_task(actor, task)
    return task


def start_special_procedure(*, actor: Any, case: Case, name: str, reason: str) -> SpecialProcedure:
    """Start 现场核查, 听证, 检验, 专家评审 …; the clock stops when the catalogue says it does not count."""
    reason = _clean_reason(reason)
    name = (name or "").strip()
    with transaction.atomic():
        case = Case.objects.select_for_update().select_related("version", "department").get(pk=case.pk)
        if case.status != CaseStatus.ACCEPTED:
            machine.require(case, "procedure_start")
        task = _handling_task_for(actor, case)
        known = _procedures_of_item(case)
        if name not in known:
            raise invalid_field("name", _("This item has no special procedure “%(name)s”.") % {"name": name})
        if case.special_procedures.filter(ended_on__isnull=True, kind=ProcedureKind.OTHER).exists():
            raise InvalidTransition(_("A special procedure is already running; end it first."))
        today = _today()
        counts = known[name]
        pause: dict[str, Any] = {} if counts else {"paused_since": today}
        procedure = SpecialProcedure.objects.create(
            case=case,
            kind=ProcedureKind.OTHER,
            name=name,
            counts_in_time_limit=counts,
            reason=reason,
            started_on=today,
            started_by=actor,
        )
        machine.transition(
            case,
            "procedure_start",
            actor=actor,
            step=task.step_code,
            department=task.department,
            reason=reason,
            details={"procedure": name, "counts": counts},
            **pause,
        )
        _recompute(case, today)
        audit.record(
            actor=actor,
            action="cases.procedure_started",
            object_type="cases.case",
            object_id=case.pk,
            after={"procedure": name, "counts": counts},
        )
        notify.applicant(case, "case.special_procedure_started", actor=actor, procedure=name)
    return procedure


def end_special_procedure(*, actor: Any, case: Case, result: str) -> SpecialProcedure:
    result = _clean_reason(result, "result")
    with transaction.atomic():
        case = Case.objects.select_for_update().select_related("version", "department").get(pk=case.pk)
        task = _handling_task_for(actor, case)
        procedure = (
            case.special_procedures.select_for_update().filter(ended_on__isnull=True, kind=ProcedureKind.OTHER).first()
        )
        if procedure is None:
            raise InvalidTransition(_("No special procedure is running."))
        today = _today()
        procedure.ended_on = today
        procedure.ended_by = actor
        procedure.result = result
        procedure.save(update_fields=["ended_on", "ended_by", "result"])
        machine.transition(
            case,
            "procedure_end",
            actor=actor,
            step=task.step_code,
            department=task.department,
            reason=result,
            details={"procedure": procedure.name},
            paused_since=None,
        )
        _recompute(case, today)
        audit.record(
            actor=actor,
            action="cases.procedure_ended",
            object_type="cases.case",
            object_id=case.pk,
            after={"procedure": procedure.name},
        )
        notify.applicant(case, "case.special_procedure_ended", actor=actor, procedure=procedure.name)
    return procedure


def max_extension_days() -> int:
    # 行政许可法 art. 42: 20 days, extendable by 10 with the approval of the head of the body.
    return int(settings.YIWANG_MAX_EXTENSION_DAYS)


def extend(*, actor: Any, case: Case, days: int, reason: str) -> SpecialProcedure:
    """延长审批: an approver extends the time limit; the deadline moves by the approved days."""
    reason = _clean_reason(reason)
    with transaction.atomic():
        case = Case.objects.select_for_update().select_related("version", "department").get(pk=case.pk)
        if case.status != CaseStatus.ACCEPTED:
            machine.require(case, "extend")
        # 行政许可法 art. 42: the head of the deciding body approves an extension, so an approver of the lead
        # department extends, whichever step the case is at; co-implementing departments ask the lead.
        department = case.department
        lead = authz.allowed(actor, "cases.handle", department_id=department.pk, division_code=department.division_id)
        if not lead and not staff_may_see(actor, case):
            raise NotFound(_("No such case."))
        if not lead or not authz.has_role(actor, Role.APPROVER):
            raise PermissionDenied(_("Only an approver of the lead department can extend the time limit."))
        task = case.tasks.filter(status=TaskStatus.OPEN).exclude(step_code=StepCode.ACCEPT).first()
        if task is None:
            raise InvalidTransition(_("No step is open on this case."))
        if not isinstance(days, int) or days < 1:
            raise invalid_field("days", _("Enter a whole number of days, at least 1."))
        if case.extension_days + days > max_extension_days():
            raise invalid_field(
                "days",
                _("Extensions may add at most %(max)s days in all; %(used)s are already approved.")
                % {"max": max_extension_days(), "used": case.extension_days},
            )
        today = _today()
        procedure = SpecialProcedure.objects.create(
            case=case,
            kind=ProcedureKind.EXTENSION,
            name=str(ProcedureKind.EXTENSION.label),
            counts_in_time_limit=True,
            days=days,
            reason=reason,
            started_on=today,
            started_by=actor,
            ended_on=today,
            ended_by=actor,
        )
        machine.transition(
            case,
            "extend",
            actor=actor,
            step=task.step_code,
            department=task.department,
            reason=reason,
            details={"days": days},
            extension_days=case.extension_days + days,
        )
        _recompute(case, today)
        audit.record(
            actor=actor,
            action="cases.extended",
            object_type="cases.case",
            object_id=case.pk,
            after={"days": days, "promised_due": case.promised_due.isoformat() if case.promised_due else None},
        )
        notify.applicant(case, "case.special_procedure_started", actor=actor, procedure=procedure.name)
    return procedure


# ---------------------------------------------------------------------------------------------------------
# Decision and delivery
# ---------------------------------------------------------------------------------------------------------


def _result_name(case: Case) -> str:
    results = case.version.content.get("results") or []
    return str(results[0]["name"]) if results else case.item_name


def decide(*, actor: Any, task: CaseTask | int, outcome: str, reasons: str = "") -> Notice:
    """准予 / 不予: the decision with reasons (a denial always with reasons and the remedy)."""
    if outcome not in Outcome.values:
        raise invalid_field("outcome", _("Choose approve or deny."))
    reasons = _clean_reason(reasons, "reasons", required=outcome == Outcome.DENIED)
    with transaction.atomic():
        locked = _open_task(actor, task, step=StepCode.DECIDE)
        case = Case.objects.select_for_update().select_related("version", "department").get(pk=locked.case_id)
        if locked.department_id != case.department_id:
            raise PermissionDenied(_("The decision is taken by the lead department alone."))
        if case.paused_since is not None:
            raise InvalidTransition(_("A special procedure is running; end it first."))
        now = timezone.now()
        machine.transition(
            case,
            "decide",
            actor=actor,
            step=StepCode.DECIDE,
            department=locked.department,
            reason=reasons,
            details={"outcome": outcome},
            outcome=outcome,
            decided_at=now,
        )
        _finish_task(locked.pk, actor, reasons)
        if outcome == Outcome.APPROVED:
            # The licence is issued in the decision's transaction: both commit or neither (issue 5). A department
            # without a seal is refused here, before anything is written.
            licence = issuance.issue_for_case(case, actor=actor)
            named: dict[str, Any] = {"licence_identifier": licence.identifier} if licence else {}
            notice = _issue(
                case,
                NoticeKind.APPROVAL,
                actor,
                decided_on=timezone.localdate(now).isoformat(),
                result_name=_result_name(case),
                reasons=reasons,
                delivery_method=case.delivery_method,
                **named,
            )
        else:
            notice = _issue(
                case, NoticeKind.DENIAL, actor, decided_on=timezone.localdate(now).isoformat(), reasons=reasons
            )
        audit.record(
            actor=actor,
            action="cases.decided",
            object_type="cases.case",
            object_id=case.pk,
            object_label=case.number or "",
            after={"outcome": outcome},
        )
        notify.applicant(
            case, "case.decided_approved" if outcome == Outcome.APPROVED else "case.decided_denied", actor=actor
        )
        # An electronic result (and any denial, whose notice is online) is delivered the moment it is issued.
        if outcome == Outcome.DENIED or case.delivery_method == DeliveryMethod.ELECTRONIC:
            _deliver_locked(actor, case, method=DeliveryMethod.ELECTRONIC, tracking_number="")
    return notice


def _deliver_locked(actor: Any, case: Case, *, method: str, tracking_number: str) -> None:
    machine.transition(
        case,
        "deliver",
        actor=actor,
        details={"method": method, "tracking_number": tracking_number},
        delivered_at=timezone.now(),
        tracking_number=tracking_number,
    )
    audit.record(
        actor=actor,
        action="cases.delivered",
        object_type="cases.case",
        object_id=case.pk,
        object_label=case.number or "",
        after={"method": method},
    )
    if method == DeliveryMethod.MAIL:
        notify.applicant(case, "case.delivered_mail", actor=actor, tracking_number=tracking_number)
    else:
        notify.applicant(case, f"case.delivered_{method}", actor=actor)


def deliver(*, actor: Any, case: Case, tracking_number: str = "") -> Case:
    """The window hands over the result (pickup) or records the mail's tracking number (送达)."""
    tracking_number = (tracking_number or "").strip()
    with transaction.atomic():
        case = Case.objects.select_for_update().select_related("department").get(pk=case.pk)
        if not authz.allowed(actor, "cases.accept", department_id=case.department_id, division_code=case.region_code):
            if staff_may_see(actor, case):
                raise PermissionDenied(_("Results are handed over or mailed by the window."))
            raise NotFound(_("No such case."))
        machine.require(case, "deliver")
        if case.delivery_method == DeliveryMethod.MAIL and (
            not tracking_number or len(tracking_number) > 40 or not tracking_number.isalnum()
        ):
            raise invalid_field("tracking_number", _("Enter the mail's tracking number (letters and digits)."))
        _deliver_locked(actor, case, method=case.delivery_method, tracking_number=tracking_number)
    return case


# ---------------------------------------------------------------------------------------------------------
# Window: walk-in applications (线上线下一体)
# ---------------------------------------------------------------------------------------------------------


def window_apply(
    *,
    actor: Any,
    version: ItemVersion,
    id_number: str,
    name: str,
    data: Mapping[str, Any],
    uploads: Mapping[int, File[Any]],
    originals_checked: Iterable[int] = (),
    idempotency_key: str | None = None,
) -> Case:
    """A clerk enters a walk-in application for a person, checking originals (those materials become B-level)."""
    from yiwang.identity.models import Account
    from yiwang.registers.selectors import find_person, names_match, require_id_number

    department = version.department
    if not authz.allowed(actor, "cases.accept", department_id=department.pk, division_code=version.region_code):
        raise PermissionDenied(_("Only a window clerk of the item's department enters walk-in applications."))
    _published(version)
    id_number = require_id_number(id_number)
    person = find_person(id_number)
    if person is None or not names_match(person.name, name or ""):
        raise invalid_field("name", _("The population register does not confirm this name and ID number."))
    if idempotency_key:
        earlier = _by_key(actor, idempotency_key)
        if earlier is not None:
            return earlier
    index = crypto.id_number_index(id_number)
    account = Account.objects.filter(id_number_index=index).select_related("user").first()
    applicant = Applicant(account.user if account else None, person.name, id_number, None, None)
    checked = set(originals_checked)
    for upload in uploads.values():
        check_upload(upload)  # every file before any is stored
    with transaction.atomic():
        case = _new_case(actor, version, applicant, dict(data), channel=Channel.WINDOW)
        _validate_form(case)
        now = timezone.now()
        materials = []
        for slot, upload in uploads.items():
            _slot(case, slot)
            stored = store_file(owner_index=index, upload=upload, uploaded_by=actor)
            window = slot in checked
            material = _add_material(
                case,
                slot,
                fresh=True,  # one upload per slot: a mapping has each slot once
                file=stored,
                provenance=Provenance.WINDOW if window else Provenance.UPLOAD,
                trust_level=TrustLevel.B if window else TrustLevel.C,
                checked_by=actor if window else None,
                checked_at=now if window else None,
            )
            materials.append(material)
        _submit_locked(actor, case, idempotency_key, materials)
    return case


# ---------------------------------------------------------------------------------------------------------
# Supervision (电子监察)
# ---------------------------------------------------------------------------------------------------------


def follow_up(*, actor: Any, record: SupervisionRecord, note: str) -> SupervisionRecord:
    """A supervisor follows up a warning (督办) with a note."""
    note = _clean_reason(note, "note")
    with transaction.atomic():
        locked = SupervisionRecord.objects.select_for_update().get(pk=record.pk)
        authz.check(actor, "cases.supervise", division_code=locked.region_code)
        if locked.status == SupervisionStatus.CLOSED:
            raise InvalidTransition(_("This supervision record is closed."))
        locked.status = SupervisionStatus.FOLLOWED_UP
        locked.follow_up = note
        locked.followed_by = actor
        locked.followed_at = timezone.now()
        locked.save(update_fields=["status", "follow_up", "followed_by", "followed_at"])
        audit.record(
            actor=actor, action="cases.supervision_followed_up", object_type="cases.supervision", object_id=locked.pk
        )
    return locked


# ---------------------------------------------------------------------------------------------------------
# One-thing bundles (一件事一次办)
# ---------------------------------------------------------------------------------------------------------


def bundle_versions(bundle: Bundle) -> list[ItemVersion]:
    """The current published version of every item of the bundle, in the bundle's order."""
    versions: list[ItemVersion] = []
    for member in bundle.members.select_related("item").order_by("position"):
        version = ItemVersion.objects.current().filter(item=member.item).select_related("department").first()
        if version is None:
            raise InvalidInput(_("The bundle “%(bundle)s” is not open for applications now.") % {"bundle": bundle.name})
        versions.append(version)
    return versions


def apply_bundle(
    *,
    actor: Any,
    bundle: Bundle,
    data: Mapping[str, Any],
    uploads: Mapping[str, File[Any]],
    pledged: Iterable[str] = (),
    agency_id: int | None = None,
    idempotency_key: str | None = None,
) -> BundleApplication:
    """One form and one set of materials, fanned out to each item's department as its own case.

    Materials are matched by name across the items: a file uploaded once fills every item's slot of that
    name (and is stored once). The form's fields are the union of the items' fields; each case gets its own.
    """
    if not bundle.active:
        raise InvalidInput(_("The bundle “%(bundle)s” is not open for applications now.") % {"bundle": bundle.name})
    versions = bundle_versions(bundle)
    applicants = [applicant_for(actor, version=v, agency_id=agency_id) for v in versions]
    applicant = applicants[0]
    key = f"bundle:{idempotency_key}"[:64] if idempotency_key else None
    if key:
        earlier = _by_key(actor, key)
        if earlier is not None and earlier.bundle_application is not None:
            return earlier.bundle_application
    pledged_names = set(pledged)
    names = {str(m["name"]) for v in versions for m in v.content.get("materials", [])}
    unknown = (set(uploads) | pledged_names) - names
    if unknown:
        raise invalid_field("materials", _("The bundle has no material “%(name)s”.") % {"name": sorted(unknown)[0]})
    for version in versions:
        for material in version.content.get("materials", []):
            if str(material["name"]) in pledged_names and not pledgeable(material):
                raise invalid_field(
                    "materials",
                    _("“%(name)s” cannot be replaced by a pledge; provide it.") % {"name": material["name"]},
                )
    for upload in uploads.values():
        check_upload(upload)  # every file before any is stored
    with transaction.atomic():
        application = BundleApplication.objects.create(
            bundle=bundle,
            applicant=applicant.user,
            applicant_index=crypto.id_number_index(applicant.id_number) if applicant.id_number else "",
            enterprise=applicant.enterprise,
            data=dict(data),
            submitted_at=timezone.now(),
        )
        application.number = f"YJS{timezone.localdate():%Y%m%d}{application.pk:08d}"
        application.save(update_fields=["number"])
        stored: dict[str, MaterialFile] = {}
        for position, version in enumerate(versions):
            fields = set(handling_for(version).form_schema.get("properties", {}))
            case_data = {k: v for k, v in data.items() if k in fields}
            case = _new_case(
                actor,
                version,
                applicants[position],
                case_data,
                channel=Channel.ONLINE,
                bundle_application=application,
            )
            _validate_form(case)
            materials = []
            for slot, material in enumerate(version.content.get("materials", [])):
                material_name = str(material["name"])
                if material_name in uploads:
                    if material_name not in stored:
                        stored[material_name] = store_file(
                            owner_index=_owner_index(case), upload=uploads[material_name], uploaded_by=actor
                        )
                    materials.append(
                        _add_material(
                            case,
                            slot,
                            fresh=True,
                            file=stored[material_name],
                            provenance=Provenance.UPLOAD,
                            trust_level=TrustLevel.C,
                        )
                    )
                elif material_name in pledged_names:
                    materials.append(_pledge(case, slot, fresh=True))
            _submit_locked(actor, case, key if position == 0 else None, materials)
        audit.record(
            actor=actor,
            action="cases.bundle_submitted",
            object_type="cases.bundle_application",
            object_id=application.pk,
            object_label=application.number or "",
            on_behalf_of=applicant.on_behalf_of,
        )
    return application


def case_owner_q(actor: Any) -> Q:
    """Cases the applicant side may see: by the person's ID index, their enterprises and proxies' principals."""
    subject = authz.subject_of(actor)
    if subject.user is None or subject.kind != "person":
        return Q(pk__in=[])
    account = account_of(actor)
    q = Q(pk__in=[])
    if account is not None and account.id_number_index:
        q |= Q(applicant_index=account.id_number_index)
    principals = authz.principals_of(actor)
    if principals.enterprise_ids:
        q |= Q(enterprise_id__in=sorted(principals.enterprise_ids))
    if principals.user_ids:
        q |= Q(applicant_id__in=sorted(principals.user_ids))
    return q
