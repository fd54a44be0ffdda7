"""Once-only in applications (一次不用跑, 材料免提交): a material that a granted shared resource supplies is fetched
into the case with the applicant's consent, instead of being uploaded (docs/sharing-once-only.md).

A read needs a case number and a purpose (the access log refuses an answer without them), and a draft has no
number yet. So the applicant consents on the draft page — the consent is recorded and the slot is held for the
read — and the read happens when the case is submitted, inside ``cases.services.submit``'s transaction, right
after the number is assigned: the access record, the material and the submitted case commit together or not
at all. On a case awaiting corrections (it has its number) the read happens at once, in the consent's
transaction. A refusal of the exchange rolls the whole step back and is then logged again on its own, so the
attempt stays in the log although nothing else changed.

Which grant covers a case: an approved grant of the case's department on the resource, valid today, whose items
are empty or name the case's basic or implementation code. Its fields are read; its purpose is the one that
names the item, else its first.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from yiwang.audit import services as audit
from yiwang.cases import services as cases
from yiwang.cases.constants import CaseStatus, Provenance
from yiwang.cases.models import Case, CaseMaterial
from yiwang.common.errors import InvalidInput, InvalidTransition, PermissionDenied, invalid_field
from yiwang.registers import selectors as registers
from yiwang.sharing import accesslog, exchange, log_selectors
from yiwang.sharing.constants import AccessChannel, Backend, GrantStatus, Refusal, SharingType, SubjectKind
from yiwang.sharing.models import AccessRecord, Consent, Grant, Resource, ResourceField
from yiwang.sharing.selectors import resource_for_material


class FetchRefused(InvalidInput):
    """The exchange refused a read made for a case (or the subject is not in the register). Raised out of the
    transaction that tried it; ``log_again`` writes the logged refusal anew once that transaction is rolled
    back (the refusal must stay in the log although the case did not change)."""

    def __init__(self, message: str, *, slot: int, refused: exchange.Refused | None = None) -> None:
        code = refused.code if refused is not None else "not_found"
        super().__init__(message, details=[{"field": f"material-{slot}", "code": code, "message": message}])
        self.code = code
        self.refused = refused

    def log_again(self) -> AccessRecord | None:
        record = self.refused.record if self.refused is not None else None
        if record is None:
            return None
        values = {key: getattr(record, key) for key in accesslog.CONTENT}
        return accesslog.append(**values)


# ---------------------------------------------------------------------------------------------------------
# What a slot can be fetched from
# ---------------------------------------------------------------------------------------------------------


def _item_codes(case: Case) -> set[str]:
    return {code for code in (case.basic_code, case.version.implementation_code) if code}


def covering_grant(case: Case, resource: Resource) -> Grant | None:
    """The grant under which ``case``'s department reads ``resource`` for this case, or None."""
    today = timezone.localdate()
    items = _item_codes(case)
    grants = Grant.objects.filter(
        consumer_id=case.department_id, resource=resource, status=GrantStatus.APPROVED
    ).order_by("-decided_at", "-id")
    for grant in grants:
        # The exchange's own validity rule: what is offered here is what it will accept at the read.
        if exchange.valid_on(grant, today) and grant.purposes and (not grant.items or items & set(grant.items)):
            return grant
    return None


def purpose_for(case: Case, grant: Grant) -> str:
    """The grant's purpose that names the case's item (grants list one per item), else its first."""
    for purpose in grant.purposes:
        if case.item_name and case.item_name in purpose:
            return str(purpose)
    return str(grant.purposes[0])


def _fields(resource: Resource, grant: Grant) -> list[ResourceField]:
    granted = set(grant.fields)
    return [f for f in ResourceField.objects.filter(resource=resource).order_by("position", "id") if f.code in granted]


def _subject(case: Case, resource: Resource) -> str:
    """The identifier the resource is searched by: the person applicant's ID number or the enterprise's USCC."""
    if resource.subject_kind == SubjectKind.PERSON:
        return "" if case.enterprise_id is not None else (case.applicant_id_number or "")
    return case.enterprise.uscc if case.enterprise is not None else ""


def _provider(resource: Resource) -> str:
    if resource.provider is not None:
        return resource.provider.name
    return resource.provider_system or _("the platform's data administration")


def consent_wording(
    case: Case, resource: Resource, grant: Grant, fields: Sequence[ResourceField], language: str | None
) -> str:
    """What the applicant agrees to, stored with the consent exactly as shown."""
    values = {
        "department": case.department.name,
        "fields": ", ".join(f.display_name(language) for f in fields),
        "resource": resource.display_name(language),
        "provider": _provider(resource),
        "item": case.item_name,
        "purpose": purpose_for(case, grant),
    }
    if case.number:
        text = _(
            "I agree that %(department)s reads %(fields)s about me from “%(resource)s” (provided by %(provider)s) "
            "now, for this application for “%(item)s” and the purpose “%(purpose)s”, and uses it instead of a "
            "material I would upload. The read is logged, and I can see it on my page “Who read my data”."
        )
    else:
        text = _(
            "I agree that %(department)s reads %(fields)s about me from “%(resource)s” (provided by %(provider)s) "
            "when I submit this application for “%(item)s”, for the purpose “%(purpose)s”, and uses it instead of "
            "a material I would upload. The read is logged, and I can see it on my page “Who read my data”."
        )
    return text % values


@dataclass(frozen=True)
class Offer:
    """A slot the case's department can fill from shared data, as the draft page offers it."""

    slot: int
    resource: Resource
    resource_name: str
    grant: Grant
    provider: str
    fields: list[str]
    wording: str
    pending: bool  # consented; read when the case is submitted
    consented_at: dt.datetime | None = None


def _resolve(case: Case, slot: int, spec: Mapping[str, Any]) -> tuple[Resource, Grant]:
    """The resource and grant that fill ``slot``, or InvalidInput saying why not (nothing is read)."""
    reference = str(spec.get("shared_resource") or "").strip()
    if not reference:
        raise invalid_field("slot", _("This material is not held in shared data; provide it."), code="not_shared")
    resource = resource_for_material(reference)
    if resource is None:
        raise invalid_field(
            "slot",
            _("The shared data this material names is not in the resource catalogue; provide it."),
            code="unknown_resource",
        )
    if resource.sharing_type == SharingType.NOT_SHARED:
        raise invalid_field("slot", _("This shared data is not shared; provide the material."), code="not_shared")
    if resource.backend == Backend.EXTERNAL:
        raise invalid_field(
            "slot",
            _("This data is held in its provider's own system, which is not connected; provide the material."),
            code="not_held",
        )
    grant = covering_grant(case, resource)
    if grant is None:
        raise invalid_field(
            "slot",
            _("The department has no grant to read this data for this item; provide the material."),
            code="no_grant",
        )
    return resource, grant


def offers(case: Case, current: Iterable[CaseMaterial], language: str | None) -> dict[int, Offer]:
    """Slot → what it can be fetched from, for the slots the case's department can fill (nothing is read)."""
    held = {m.slot: m for m in current if m.provenance == Provenance.SHARED and m.access_record_id is None}
    consents = {c.resource_id: c.given_at for c in Consent.objects.filter(case=case)}
    found: dict[int, Offer] = {}
    for index, spec in enumerate(cases.material_slots(case)):
        if not spec.get("shared_resource"):
            continue
        try:
            resource, grant = _resolve(case, index, spec)
        except InvalidInput:
            continue
        if not _subject(case, resource):
            continue
        fields = _fields(resource, grant)
        found[index] = Offer(
            slot=index,
            resource=resource,
            resource_name=resource.display_name(language),
            grant=grant,
            provider=_provider(resource),
            fields=[f.display_name(language) for f in fields],
            wording=consent_wording(case, resource, grant, fields, language),
            pending=index in held,
            consented_at=consents.get(resource.pk) if index in held else None,
        )
    return found


# ---------------------------------------------------------------------------------------------------------
# Consent, withdrawal, and the read
# ---------------------------------------------------------------------------------------------------------


def _in_register(resource: Resource, subject: str) -> bool:
    """Whether the register knows the subject (only whether: no value leaves it, and the subject is the
    applicant). Licence-library resources are answered at the read: an empty list is "not found" there."""
    if resource.backend == Backend.POPULATION:
        return registers.find_person(subject) is not None
    if resource.backend == Backend.LEGAL_ENTITY:
        return registers.find_entity(subject) is not None
    return True


def _not_found(slot: int) -> FetchRefused:
    return FetchRefused(_("The register holds no record of the applicant; provide the material yourself."), slot=slot)


def _refusal_message(refused: exchange.Refused, name: str) -> str:
    reasons = {
        Refusal.RATE_LIMITED: _("the shared-data service is busy; try again in a minute"),
        Refusal.NO_GRANT: _("the department's grant to read it has ended"),
        Refusal.GRANT_EXPIRED: _("the department's grant to read it is not valid today"),
    }
    reason = reasons.get(refused.refusal, refused.message)
    return _(
        "“%(material)s” could not be fetched from shared data (%(reason)s). Withdraw your consent and provide the "
        "material yourself, or try again later."
    ) % {"material": name, "reason": reason}


def _read(
    *, case: Case, slot: int, name: str, resource: Resource, grant: Grant | None
) -> tuple[dict[str, Any], AccessRecord]:
    """Read the slot's data through the exchange for ``case`` (numbered), in the caller's transaction."""
    subject = _subject(case, resource)
    if not subject or not _in_register(resource, subject):
        raise _not_found(slot)
    if grant is not None:
        purpose = purpose_for(case, grant)
        wanted: list[str] | None = [f.code for f in _fields(resource, grant)]
    else:
        # The grant ended since the consent: the exchange refuses and logs that, naming the case.
        purpose, wanted = _("Handling %(item)s") % {"item": case.item_name}, None
    caller = exchange.Caller(case.department, "", channel=AccessChannel.CASE)
    request = exchange.Request(resource.code, subject, purpose[:200], case.number or "", fields=wanted or None)
    try:
        answer = exchange.query(caller, request)
    except exchange.Refused as exc:
        raise FetchRefused(_refusal_message(exc, name), slot=slot, refused=exc) from exc
    if not answer.found:
        raise _not_found(slot)
    return answer.data, answer.record


def _reference(resource: Resource, record: AccessRecord) -> str:
    return f"{resource.code}#{record.seq}"


def fetch_shared_material(*, actor: Any, case: Case, slot: int, consent: bool) -> CaseMaterial:
    """The applicant (or their representative or agent) asks to fill ``slot`` from the shared resource its
    material names, consenting to the read. On a draft the consent is recorded and the slot held: the read
    happens when the case is submitted. On a case awaiting corrections the read happens now."""
    if not isinstance(actor, User):
        raise PermissionDenied(_("Only the applicant can consent to fetching their data."))
    try:
        with transaction.atomic():
            case = Case.objects.select_for_update().select_related("version", "department").get(pk=case.pk)
            cases.require_editable(actor, case)
            if not consent:
                raise invalid_field(
                    "consent",
                    _("Tick the box to consent to fetching the data; or provide the material."),
                    code="no_consent",
                )
            slots = cases.material_slots(case)
            if not 0 <= slot < len(slots):
                raise invalid_field("slot", _("This item has no such material."))
            spec = slots[slot]
            resource, grant = _resolve(case, slot, spec)
            subject = _subject(case, resource)
            if not subject:
                raise invalid_field(
                    "slot",
                    _("This data is about someone other than the applicant; provide the material."),
                    code="invalid_subject",
                )
            if not _in_register(resource, subject):
                raise _not_found(slot)
            fields = _fields(resource, grant)
            wording = consent_wording(case, resource, grant, fields, get_language())
            Consent.objects.update_or_create(
                case=case,
                resource=resource,
                defaults={
                    "subject_index": log_selectors.subject_index(resource.subject_kind, subject),
                    "given_by": actor,
                    "given_at": timezone.now(),
                    "wording": wording,
                },
            )
            after: dict[str, Any] = {"slot": slot, "resource": resource.code, "grant": grant.pk}
            if case.status == CaseStatus.DRAFT:
                material = cases.put_shared_material(case, slot, reference=resource.code)
            else:
                name = str(spec.get("name", ""))
                data, record = _read(case=case, slot=slot, name=name, resource=resource, grant=grant)
                material = cases.put_shared_material(
                    case, slot, reference=_reference(resource, record), data=data, record=record
                )
                after["access_record"] = record.seq
            audit.record(
                actor=actor,
                action="sharing.consent_given",
                object_type="cases.case",
                object_id=case.pk,
                object_label=case.number or case.item_name,
                on_behalf_of=case.agency.principal_label if case.agency_id else "",  # type: ignore[union-attr]
                after=after,
            )
    except FetchRefused as exc:
        exc.log_again()
        raise
    return material


def withdraw_consent(*, actor: Any, case: Case, slot: int) -> None:
    """Before submission the applicant may take back the consent: the slot is empty again (provide the material)."""
    with transaction.atomic():
        case = Case.objects.select_for_update().select_related("version").get(pk=case.pk)
        cases.require_editable(actor, case)
        held = case.materials.filter(
            slot=slot, superseded=False, provenance=Provenance.SHARED, access_record__isnull=True
        ).first()
        if case.status != CaseStatus.DRAFT or held is None:
            raise InvalidTransition(
                _("There is no consent to withdraw for this material: it is not waiting to be fetched.")
            )
        code = held.source_reference
        held.delete()
        others = case.materials.filter(
            provenance=Provenance.SHARED, access_record__isnull=True, source_reference=code
        ).exists()
        if not others:
            Consent.objects.filter(case=case, resource__code=code).delete()
        audit.record(
            actor=actor,
            action="sharing.consent_withdrawn",
            object_type="cases.case",
            object_id=case.pk,
            object_label=case.item_name,
            on_behalf_of=case.agency.principal_label if case.agency_id else "",  # type: ignore[union-attr]
            before={"slot": slot, "resource": code},
        )


def fetch_consented(*, actor: Any, case: Case, materials: Sequence[CaseMaterial]) -> list[CaseMaterial]:
    """Read every held slot of ``case``, which was just numbered inside the submission's transaction (called by
    ``cases.services`` there). A refusal raises ``FetchRefused``: the submission rolls back with it."""
    filled = []
    slots = cases.material_slots(case)
    for material in sorted(materials, key=lambda m: m.slot):
        if material.provenance != Provenance.SHARED or material.access_record_id is not None:
            continue
        resource = Resource.objects.filter(code=material.source_reference).first()
        name = str(slots[material.slot].get("name", "")) if material.slot < len(slots) else material.name
        if resource is None or not Consent.objects.filter(case=case, resource=resource).exists():
            raise FetchRefused(
                _("“%(material)s” has no consent to fetch it; consent again or provide the material.")
                % {"material": name},
                slot=material.slot,
            )
        data, record = _read(
            case=case, slot=material.slot, name=name, resource=resource, grant=covering_grant(case, resource)
        )
        cases.complete_shared_material(material, reference=_reference(resource, record), data=data, record=record)
        filled.append(material)
    if filled:
        audit.record(
            actor=actor,
            action="sharing.materials_fetched",
            object_type="cases.case",
            object_id=case.pk,
            object_label=case.number or "",
            after={"materials": [{"slot": m.slot, "reference": m.source_reference} for m in filled]},
        )
    return filled


# ---------------------------------------------------------------------------------------------------------
# Showing where a fetched material came from
# ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FetchedValue:
    label: str
    value: str


@dataclass(frozen=True)
class SharedProvenance:
    """Where a fetched material came from, as staff and the applicant see it."""

    resource: str
    provider: str
    fetched_at: dt.datetime
    grant_id: int | None
    seq: int
    purpose: str
    case_number: str
    values: list[FetchedValue] = field(default_factory=list)


def _shown(value: Any) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, list):
        return "; ".join(_shown(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {_shown(v)}" for k, v in value.items())
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    return str(value)


def provenance_of(materials: Iterable[CaseMaterial], language: str | None) -> dict[int, SharedProvenance]:
    """Material id → its shared-data provenance, for the fetched ones among ``materials`` (two queries)."""
    fetched = [m for m in materials if m.access_record_id is not None]
    if not fetched:
        return {}
    records = {
        r.pk: r
        for r in AccessRecord.objects.filter(pk__in={m.access_record_id for m in fetched}).select_related(
            "resource__provider"
        )
    }
    labels: dict[tuple[int | None, str], str] = {
        (f.resource_id, f.code): f.display_name(language)
        for f in ResourceField.objects.filter(resource_id__in={r.resource_id for r in records.values()})
    }
    shown = {}
    for material in fetched:
        record = records[material.access_record_id]  # type: ignore[index]
        resource = record.resource
        data = material.shared_data or {}
        shown[material.pk] = SharedProvenance(
            resource=resource.display_name(language) if resource is not None else record.resource_code,
            provider=_provider(resource) if resource is not None else "",
            fetched_at=record.at,
            grant_id=record.grant_id,
            seq=record.seq,
            purpose=record.purpose,
            case_number=record.case_number,
            values=[
                FetchedValue(labels.get((record.resource_id, str(code)), str(code)), _shown(data.get(code)))
                for code in record.fields
            ],
        )
    return shown
