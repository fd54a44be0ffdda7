"""Shapes of the cases API.

Input serializers check only the *shape* of a request (types, and what the columns impose); the rules of the
domain — a reason that must be given, a slot the item has, an outcome, a delivery address for mail — are the
services', so an API client gets the same translated messages as the portal and the workbench.

Output serializers read what the selectors return. Personal identifiers (ID and phone numbers in the applicant
block, in form data and in reasons typed by staff) leave in clear only when the serializer context says
``clear``, which the views decide once per request with ``authz.may_see_identifiers``; without it they are
masked (``common.masking``), so a serializer used without a request fails safe.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from django.db.models import TextChoices
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from yiwang.cases import machine, rules, selectors, services, supervision
from yiwang.cases.constants import (
    CaseStatus,
    DeliveryMethod,
    NoticeKind,
    Outcome,
    ProcedureKind,
    Provenance,
    StepCode,
    SupervisionStatus,
    TaskStatus,
    TrustLevel,
    WarningLevel,
)
from yiwang.cases.models import (
    Case,
    CaseMaterial,
    CaseTask,
    CaseTransition,
    Notice,
    SpecialProcedure,
    SupervisionRecord,
)
from yiwang.catalogue.handling import ID_NUMBER_PATTERN, PHONE_PATTERN, handling_for
from yiwang.catalogue.models import ItemVersion, Organisation
from yiwang.common.masking import mask_id_number, mask_phone, mask_text
from yiwang.identity.constants import Role

# ---------------------------------------------------------------------------------------------------------
# Helpers shared by the output shapes
# ---------------------------------------------------------------------------------------------------------


class CodeLabelSerializer(serializers.Serializer[Any]):
    """A coded value with its label in the request's language, e.g. ``{"code": "accepted", "label": "办理中"}``."""

    code = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]  # the key "label" shadows Field.label (unused here)


@extend_schema_field(CodeLabelSerializer)
class CodeLabelField(serializers.Field[Any, Any, Any, Any]):
    """A ``TextChoices`` column as ``{code, label}``; an empty value is ``null``."""

    def __init__(self, choices: type[TextChoices], **kwargs: Any) -> None:
        kwargs["read_only"] = True
        super().__init__(**kwargs)
        self.labels = dict(choices.choices)

    def to_representation(self, value: Any) -> dict[str, str] | None:
        if not value:
            return None
        return {"code": str(value), "label": str(self.labels.get(str(value), value))}


def _many(serializer_class: type[serializers.BaseSerializer[Any]], items: Any, context: Any) -> list[dict[str, Any]]:
    return list(serializer_class(items, many=True, context=context).data)


def _department_name(department: Organisation | None) -> str | None:
    return department.display_name(get_language()) if department is not None else None


def _person_name(user: Any) -> str | None:
    if user is None:
        return None
    account = getattr(user, "account", None)
    return (account.real_name if account is not None else "") or user.get_username()


def _clear(serializer: serializers.Field[Any, Any, Any, Any]) -> bool:
    return bool(serializer.context.get("clear", False))


def _maybe_masked_text(serializer: serializers.Field[Any, Any, Any, Any], text: str) -> str:
    return text if _clear(serializer) else mask_text(text)


def _identifier_kind(prop: Mapping[str, Any]) -> str:
    """Which kind of personal identifier a form field holds (by its register source or its pattern), if any."""
    if prop.get("x-prefill") == "person.id_number" or prop.get("pattern") == ID_NUMBER_PATTERN:
        return "id_number"
    if prop.get("x-prefill") == "account.phone" or prop.get("pattern") == PHONE_PATTERN:
        return "phone"
    return ""


def masked_form_data(version: ItemVersion, data: Mapping[str, Any]) -> dict[str, Any]:
    """Form data with ID and phone numbers masked: fields declared as such, and any found in other texts."""
    properties = handling_for(version).properties
    masked: dict[str, Any] = {}
    for name, value in data.items():
        kind = _identifier_kind(properties.get(name, {}))
        if isinstance(value, str):
            if kind == "id_number":
                value = mask_id_number(value)
            elif kind == "phone":
                value = mask_phone(value)
            else:
                value = mask_text(value)
        masked[name] = value
    return masked


def _form_data(serializer: serializers.Field[Any, Any, Any, Any], case: Case) -> dict[str, Any]:
    data = dict(case.data or {})
    return data if _clear(serializer) else masked_form_data(case.version, data)


# ---------------------------------------------------------------------------------------------------------
# Cases: list, detail (applicant), case file (staff)
# ---------------------------------------------------------------------------------------------------------


class CaseSummarySerializer(serializers.Serializer[Case]):
    number = serializers.CharField(
        allow_null=True, help_text=gettext_lazy("Case number: region, date of receipt, serial")
    )
    item_name = serializers.CharField()
    basic_code = serializers.CharField()
    status = CodeLabelField(CaseStatus)
    submitted_at = serializers.DateTimeField(allow_null=True)
    received_on = serializers.DateField(allow_null=True)
    accepted_on = serializers.DateField(allow_null=True)
    promised_due = serializers.DateField(allow_null=True, help_text=gettext_lazy("Promised deadline (inclusive)"))
    statutory_due = serializers.DateField(allow_null=True, help_text=gettext_lazy("Statutory deadline (inclusive)"))
    outcome = CodeLabelField(Outcome, allow_null=True)
    delivery_method = CodeLabelField(DeliveryMethod)
    tracking_number = serializers.CharField()
    bundle_number = serializers.SerializerMethodField(help_text=gettext_lazy("The one-thing bundle's number"))

    def get_bundle_number(self, obj: Case) -> str | None:
        application = obj.bundle_application
        return application.number if application is not None else None


class ApplicantSerializer(serializers.Serializer[Any]):
    name = serializers.CharField()
    id_number = serializers.CharField(help_text=gettext_lazy("Masked unless the viewer may see it"))
    enterprise_name = serializers.CharField(allow_null=True)
    enterprise_uscc = serializers.CharField(allow_null=True)
    on_behalf_of = serializers.CharField(help_text=gettext_lazy("The principal an agent filed it for"))


class TransitionSerializer(serializers.Serializer[CaseTransition]):
    action = serializers.CharField()
    action_label = serializers.SerializerMethodField()
    at = serializers.DateTimeField()
    from_status = CodeLabelField(CaseStatus, allow_null=True)
    to_status = CodeLabelField(CaseStatus)
    step = CodeLabelField(StepCode, allow_null=True)
    department = serializers.SerializerMethodField()
    reason = serializers.SerializerMethodField()

    def get_action_label(self, obj: CaseTransition) -> str:
        rule = machine.TRANSITIONS.get(obj.action)
        return str(rule.label) if rule is not None else obj.action

    def get_department(self, obj: CaseTransition) -> str | None:
        return _department_name(obj.department)

    def get_reason(self, obj: CaseTransition) -> str:
        return _maybe_masked_text(self, obj.reason)


class StaffTransitionSerializer(TransitionSerializer):
    actor = serializers.CharField(source="actor_label")
    on_behalf_of = serializers.CharField()


class NoticeSerializer(serializers.Serializer[Notice]):
    kind = CodeLabelField(NoticeKind)
    number = serializers.CharField()
    issued_at = serializers.DateTimeField()
    pdf_url = serializers.SerializerMethodField()

    def get_pdf_url(self, obj: Notice) -> str:
        name = "api-staff-case-notice" if self.context.get("side") == "staff" else "api-case-notice"
        case = obj.case  # the case the notices were read through (no query)
        return reverse(name, kwargs={"number": case.number if case else "", "notice_number": obj.number})


class MaterialSerializer(serializers.Serializer[CaseMaterial]):
    id = serializers.IntegerField(help_text=gettext_lazy("Pass as `reuse` to fill a slot of a later application"))
    slot = serializers.IntegerField()
    name = serializers.CharField()
    provenance = CodeLabelField(Provenance)
    trust_level = CodeLabelField(TrustLevel)
    size = serializers.SerializerMethodField()
    content_type = serializers.SerializerMethodField()
    round = serializers.IntegerField(help_text=gettext_lazy("The submission round it was added in"))
    added_at = serializers.DateTimeField()

    def get_size(self, obj: CaseMaterial) -> int | None:
        return obj.file.size if obj.file is not None else None

    def get_content_type(self, obj: CaseMaterial) -> str | None:
        return obj.file.content_type if obj.file is not None else None


class StaffMaterialSerializer(MaterialSerializer):
    superseded = serializers.BooleanField(help_text=gettext_lazy("Replaced in a later round (kept)"))
    source_reference = serializers.CharField()
    checked_at = serializers.DateTimeField(allow_null=True)
    pledged_at = serializers.DateTimeField(allow_null=True)


class ProblemOutSerializer(serializers.Serializer[Any]):
    subject = serializers.CharField()
    reason = serializers.CharField()


class NextStepSerializer(serializers.Serializer[Any]):
    code = serializers.CharField()
    text = serializers.CharField()
    due = serializers.DateField(allow_null=True)
    actions = serializers.ListField(
        child=serializers.CharField(),
        help_text=gettext_lazy("What the applicant may do now: edit, submit, discard, resubmit, withdraw"),
    )
    problems = ProblemOutSerializer(many=True, help_text=gettext_lazy("What the correction notice asks for"))
    draft_id = serializers.IntegerField(
        allow_null=True, help_text=gettext_lazy("Edit the application at /api/v1/drafts/{draft_id}/")
    )


def next_step(case: Case) -> dict[str, Any]:
    """What the applicant should do (or wait for) now, in words, with the actions the case allows."""
    status = case.status
    actions = [a for a in ("resubmit", "withdraw") if machine.can(case, a)]
    step: dict[str, Any] = {"code": status, "due": None, "problems": [], "draft_id": None}
    if status == CaseStatus.DRAFT:
        step.update(text=_("Complete the form and the materials, then submit."), draft_id=case.pk)
        actions = ["edit", "submit", "discard"]
    elif status == CaseStatus.SUBMITTED:
        step.update(
            text=_("The department is checking your application and answers by %(date)s.")
            % {"date": case.acceptance_due.isoformat() if case.acceptance_due else "—"},
            due=case.acceptance_due,
        )
    elif status == CaseStatus.CORRECTION:
        correction = case.notices.filter(kind=NoticeKind.CORRECTION).order_by("-issued_at", "-id").first()
        problems = correction.content.get("problems", []) if correction is not None else []
        step.update(
            text=_("Correct everything listed, then resubmit. The time limit waits until you do."),
            problems=[{"subject": p.get("subject", ""), "reason": p.get("reason", "")} for p in problems],
            draft_id=case.pk,
        )
        actions = ["edit", *actions]
    elif status == CaseStatus.ACCEPTED:
        due = case.promised_due or case.statutory_due
        if case.paused_since is not None:
            text = _("A special procedure is running; the time limit is paused until it ends.")
        else:
            text = _("The department is handling your application and has promised a decision by %(date)s.") % {
                "date": due.isoformat() if due else "—"
            }
        step.update(text=text, due=due)
    elif status == CaseStatus.DECIDED:
        if case.delivery_method == DeliveryMethod.MAIL:
            text = _("The result will be mailed to %(address)s.") % {"address": case.delivery_address}
        else:
            text = _("Collect the result at the window: %(place)s.") % {
                "place": case.version.content.get("location") or case.department.name
            }
        step.update(text=text)
    elif status == CaseStatus.DELIVERED:
        if case.outcome == Outcome.DENIED:
            text = _("Decided: the application was denied. The decision gives the reasons and how to appeal.")
        else:
            text = _("Done: the result has been delivered.")
        step.update(text=text)
    elif status == CaseStatus.REFUSED:
        step.update(text=_("Not accepted: the notice gives the reasons and what you can do."))
    else:
        step.update(text=_("You withdrew this application."))
    step["actions"] = actions
    return step


class _CaseBaseSerializer(CaseSummarySerializer):
    id = serializers.IntegerField()
    department = serializers.SerializerMethodField()
    applicant = serializers.SerializerMethodField()
    delivery_address = serializers.SerializerMethodField()
    acceptance_due = serializers.DateField(allow_null=True)
    deemed_accepted = serializers.BooleanField(
        help_text=gettext_lazy("Accepted by operation of law (no answer within 5 working days)")
    )
    paused_since = serializers.DateField(allow_null=True, help_text=gettext_lazy("Clock stopped since"))
    extension_days = serializers.IntegerField()
    decided_at = serializers.DateTimeField(allow_null=True)
    delivered_at = serializers.DateTimeField(allow_null=True)
    notices = serializers.SerializerMethodField()

    def get_department(self, obj: Case) -> str | None:
        return _department_name(obj.department)

    @extend_schema_field(ApplicantSerializer)
    def get_applicant(self, obj: Case) -> dict[str, Any]:
        enterprise = obj.enterprise
        id_number = obj.applicant_id_number or ""
        return {
            "name": obj.applicant_name,
            "id_number": id_number if _clear(self) else mask_id_number(id_number),
            "enterprise_name": enterprise.name if enterprise is not None else None,
            "enterprise_uscc": enterprise.uscc if enterprise is not None else None,
            "on_behalf_of": obj.agency.principal_label if obj.agency is not None else "",
        }

    def get_delivery_address(self, obj: Case) -> str:
        return _maybe_masked_text(self, obj.delivery_address)

    @extend_schema_field(NoticeSerializer(many=True))
    def get_notices(self, obj: Case) -> list[dict[str, Any]]:
        return _many(NoticeSerializer, selectors.notices(obj), self.context)


class CaseDetailSerializer(_CaseBaseSerializer):
    """A case as its applicant (or the agent who filed it) sees it."""

    timeline = serializers.SerializerMethodField()
    materials = serializers.SerializerMethodField()
    next = serializers.SerializerMethodField()

    @extend_schema_field(TransitionSerializer(many=True))
    def get_timeline(self, obj: Case) -> list[dict[str, Any]]:
        return _many(TransitionSerializer, selectors.timeline(obj), self.context)

    @extend_schema_field(MaterialSerializer(many=True))
    def get_materials(self, obj: Case) -> list[dict[str, Any]]:
        return _many(MaterialSerializer, selectors.current_materials(obj), self.context)

    @extend_schema_field(NextStepSerializer)
    def get_next(self, obj: Case) -> dict[str, Any]:
        return next_step(obj)


def _colour(serializer: serializers.Field[Any, Any, Any, Any], due: dt.date | None) -> str:
    today = serializer.context.get("today") or timezone.localdate()
    threshold = serializer.context.get("threshold") or supervision.threshold(today)
    return supervision.colour(due, today, threshold)


class TaskSerializer(serializers.Serializer[CaseTask]):
    id = serializers.IntegerField()
    case_number = serializers.CharField(source="case.number")
    item_name = serializers.CharField(source="case.item_name")
    step = CodeLabelField(StepCode, source="step_code")
    step_name = serializers.SerializerMethodField()
    role = CodeLabelField(Role)
    status = CodeLabelField(TaskStatus)
    started_on = serializers.DateField()
    due = serializers.DateField(allow_null=True)
    colour = serializers.SerializerMethodField(help_text=gettext_lazy("red overdue, yellow near, green, or none"))
    assignee = serializers.SerializerMethodField()
    claimed_at = serializers.DateTimeField(allow_null=True)
    parallel = serializers.BooleanField(help_text=gettext_lazy("One of a joint step's parallel tasks"))

    def get_step_name(self, obj: CaseTask) -> str:
        return obj.display_step(get_language())

    def get_colour(self, obj: CaseTask) -> str:
        return _colour(self, obj.due) if obj.status == TaskStatus.OPEN else "none"

    def get_assignee(self, obj: CaseTask) -> str | None:
        return _person_name(obj.assignee)


class CaseTaskSerializer(TaskSerializer):
    """A task inside a case file: also whose department, and how it ended."""

    department = serializers.SerializerMethodField()
    completed_at = serializers.DateTimeField(allow_null=True)
    completed_by = serializers.SerializerMethodField()
    opinion = serializers.SerializerMethodField()
    returned = serializers.BooleanField()

    def get_department(self, obj: CaseTask) -> str | None:
        return _department_name(obj.department)

    def get_completed_by(self, obj: CaseTask) -> str | None:
        return _person_name(obj.completed_by)

    def get_opinion(self, obj: CaseTask) -> str:
        return _maybe_masked_text(self, obj.opinion)


class ProcedureSerializer(serializers.Serializer[SpecialProcedure]):
    kind = CodeLabelField(ProcedureKind)
    name = serializers.CharField()
    counts_in_time_limit = serializers.BooleanField()
    days = serializers.IntegerField()
    reason = serializers.CharField()
    started_on = serializers.DateField()
    ended_on = serializers.DateField(allow_null=True)
    result = serializers.CharField()


class FindingSerializer(serializers.Serializer[Any]):
    """An automatic pre-review finding (cases.rules), translated for the reader."""

    code = serializers.CharField()
    slot = serializers.IntegerField(allow_null=True)
    message = serializers.CharField()


class CaseFileSerializer(_CaseBaseSerializer):
    """The staff case file: the applicant's view plus form data, automatic findings, tasks and procedures."""

    channel = serializers.CharField()
    round = serializers.IntegerField()
    region_code = serializers.CharField()
    data = serializers.SerializerMethodField(  # type: ignore[assignment]  # the key "data" shadows Serializer.data; the metaclass pops declared fields
        help_text=gettext_lazy("Form data; identifiers masked for supervisors")
    )
    auto_findings = serializers.SerializerMethodField()
    timeline = serializers.SerializerMethodField()
    materials = serializers.SerializerMethodField()
    tasks = serializers.SerializerMethodField()
    special_procedures = serializers.SerializerMethodField()

    def get_data(self, obj: Case) -> dict[str, Any]:
        return _form_data(self, obj)

    @extend_schema_field(FindingSerializer(many=True))
    def get_auto_findings(self, obj: Case) -> list[dict[str, Any]]:
        return [
            {"code": f.get("code", ""), "slot": f.get("slot"), "message": rules.describe(f)}
            for f in obj.auto_findings or []
        ]

    @extend_schema_field(StaffTransitionSerializer(many=True))
    def get_timeline(self, obj: Case) -> list[dict[str, Any]]:
        return _many(StaffTransitionSerializer, selectors.timeline(obj), self.context)

    @extend_schema_field(StaffMaterialSerializer(many=True))
    def get_materials(self, obj: Case) -> list[dict[str, Any]]:
        # Superseded materials too: staff compare what a correction changed.
        materials = obj.materials.select_related("file").order_by("slot", "id")
        return _many(StaffMaterialSerializer, materials, self.context)

    @extend_schema_field(CaseTaskSerializer(many=True))
    def get_tasks(self, obj: Case) -> list[dict[str, Any]]:
        tasks = obj.tasks.select_related("department", "assignee__account", "completed_by__account").order_by(
            "step_index", "id"
        )
        return _many(CaseTaskSerializer, tasks, self.context)

    @extend_schema_field(ProcedureSerializer(many=True))
    def get_special_procedures(self, obj: Case) -> list[dict[str, Any]]:
        procedures = obj.special_procedures.order_by("started_on", "id")
        return _many(ProcedureSerializer, procedures, self.context)


# ---------------------------------------------------------------------------------------------------------
# Drafts (the editable application)
# ---------------------------------------------------------------------------------------------------------


class ItemRefSerializer(serializers.Serializer[Any]):
    code = serializers.CharField(help_text=gettext_lazy("Implementation code"))
    name = serializers.CharField()
    version = serializers.IntegerField()


class DeliverySerializer(serializers.Serializer[Any]):
    method = CodeLabelField(DeliveryMethod)
    address = serializers.CharField()


class SlotSerializer(serializers.Serializer[Any]):
    slot = serializers.IntegerField()
    name = serializers.CharField()
    required = serializers.BooleanField()  # type: ignore[assignment]  # the key shadows Field.required (unused here)
    pledgeable = serializers.BooleanField(help_text=gettext_lazy("May be replaced by a truthfulness pledge"))
    material = MaterialSerializer(allow_null=True)


class ReusableSerializer(serializers.Serializer[CaseMaterial]):
    id = serializers.IntegerField()
    name = serializers.CharField()
    case_number = serializers.CharField(source="case.number")
    trust_level = CodeLabelField(TrustLevel)
    added_at = serializers.DateTimeField()


class DraftSerializer(serializers.Serializer[Case]):
    """An application while it can be edited: a draft, or a case awaiting corrections."""

    id = serializers.IntegerField()
    number = serializers.CharField(allow_null=True)
    status = CodeLabelField(CaseStatus)
    item = serializers.SerializerMethodField()
    agency = serializers.IntegerField(source="agency_id", allow_null=True)
    data = serializers.SerializerMethodField()  # type: ignore[assignment]  # the key "data" shadows Serializer.data; the metaclass pops declared fields
    delivery = serializers.SerializerMethodField()
    slots = serializers.SerializerMethodField()
    reusable = serializers.SerializerMethodField(
        help_text=gettext_lazy("Materials of the applicant's earlier cases that can fill a slot")
    )
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()

    @extend_schema_field(ItemRefSerializer)
    def get_item(self, obj: Case) -> dict[str, Any]:
        return {"code": obj.version.implementation_code, "name": obj.item_name, "version": obj.version.number}

    def get_data(self, obj: Case) -> dict[str, Any]:
        return _form_data(self, obj)

    @extend_schema_field(DeliverySerializer)
    def get_delivery(self, obj: Case) -> dict[str, Any]:
        return DeliverySerializer(
            {"method": obj.delivery_method, "address": _maybe_masked_text(self, obj.delivery_address)}
        ).data

    @extend_schema_field(SlotSerializer(many=True))
    def get_slots(self, obj: Case) -> list[dict[str, Any]]:
        current = {m.slot: m for m in selectors.current_materials(obj)}
        rows = [
            {
                "slot": index,
                "name": slot.get("name", ""),
                "required": bool(slot.get("required")),
                "pledgeable": services.pledgeable(slot),
                "material": current.get(index),
            }
            for index, slot in enumerate(services.material_slots(obj))
        ]
        return _many(SlotSerializer, rows, self.context)

    @extend_schema_field(ReusableSerializer(many=True))
    def get_reusable(self, obj: Case) -> list[dict[str, Any]]:
        request = self.context.get("request")
        if request is None:
            return []
        materials = services.reusable_materials(request.user, obj)
        return _many(ReusableSerializer, materials, self.context)


# ---------------------------------------------------------------------------------------------------------
# Supervision
# ---------------------------------------------------------------------------------------------------------


class SupervisionRecordSerializer(serializers.Serializer[SupervisionRecord]):
    id = serializers.IntegerField()
    case_number = serializers.CharField(source="case.number")
    item_name = serializers.CharField(source="case.item_name")
    department = serializers.SerializerMethodField()
    step = serializers.SerializerMethodField()
    level = CodeLabelField(WarningLevel)
    due = serializers.DateField()
    raised_at = serializers.DateTimeField()
    status = CodeLabelField(SupervisionStatus)
    follow_up = serializers.CharField()
    followed_by = serializers.SerializerMethodField()
    followed_at = serializers.DateTimeField(allow_null=True)

    def get_department(self, obj: SupervisionRecord) -> str | None:
        return _department_name(obj.department)

    @extend_schema_field(CodeLabelSerializer(allow_null=True))
    def get_step(self, obj: SupervisionRecord) -> dict[str, str] | None:
        if obj.task is None:
            return None
        return {"code": obj.task.step_code, "label": obj.task.display_step(get_language())}

    def get_followed_by(self, obj: SupervisionRecord) -> str | None:
        return _person_name(obj.followed_by)


# ---------------------------------------------------------------------------------------------------------
# Inputs (shapes only; the services judge the content)
# ---------------------------------------------------------------------------------------------------------


class DeliveryInput(serializers.Serializer[Any]):
    method = serializers.ChoiceField(choices=DeliveryMethod.choices, required=False)
    address = serializers.CharField(required=False, allow_blank=True, trim_whitespace=False)


class ApplyInput(serializers.Serializer[Any]):
    item = serializers.CharField(max_length=36, help_text=gettext_lazy("The item's implementation code"))
    data = serializers.DictField(help_text=gettext_lazy("The form's fields, by name"))  # type: ignore[assignment]  # the key "data" shadows Serializer.data; the metaclass pops declared fields
    pledged_slots = serializers.ListField(
        child=serializers.IntegerField(), required=False, default=list, max_length=100
    )
    reused = serializers.DictField(
        child=serializers.IntegerField(),
        required=False,
        default=dict,
        help_text=gettext_lazy("Slot → id of a material on file from an earlier case"),
    )
    delivery = DeliveryInput(required=False)
    agency = serializers.IntegerField(
        required=False, allow_null=True, help_text=gettext_lazy("Act for a principal under this agency")
    )

    def validate_reused(self, value: Mapping[str, int]) -> dict[int, int]:
        slots: dict[int, int] = {}
        for key, material_id in value.items():
            if not str(key).isdigit():
                raise serializers.ValidationError(_("Material slots are whole numbers."))
            slots[int(key)] = material_id
        return slots


class DraftStartInput(serializers.Serializer[Any]):
    item = serializers.CharField(max_length=36, help_text=gettext_lazy("The item's implementation code"))
    agency = serializers.IntegerField(required=False, allow_null=True)


class DraftUpdateInput(serializers.Serializer[Any]):
    data = serializers.DictField(  # type: ignore[assignment]  # the key "data" shadows Serializer.data; the metaclass pops declared fields
        required=False,
        help_text=gettext_lazy("Merged into the saved form data field by field; a null value removes a field"),
    )
    delivery = DeliveryInput(required=False)


class UploadInput(serializers.Serializer[Any]):
    slot = serializers.IntegerField()
    file = serializers.FileField(allow_empty_file=True, help_text=gettext_lazy("PDF, JPEG, PNG or OFD"))


class LinkInput(serializers.Serializer[Any]):
    slot = serializers.IntegerField()
    reuse = serializers.IntegerField(required=False, help_text=gettext_lazy("Id of a material on file"))
    pledge = serializers.BooleanField(required=False, default=False)


class ReasonInput(serializers.Serializer[Any]):
    reason = serializers.CharField(required=False, allow_blank=True, default="", trim_whitespace=False)


class RequiredReasonInput(serializers.Serializer[Any]):
    reason = serializers.CharField(allow_blank=True, trim_whitespace=False)


class OpinionInput(serializers.Serializer[Any]):
    opinion = serializers.CharField(allow_blank=True, trim_whitespace=False)


class DecideInput(serializers.Serializer[Any]):
    outcome = serializers.ChoiceField(choices=Outcome.choices)
    reasons = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        trim_whitespace=False,
        help_text=gettext_lazy("Required for a denial"),
    )


class ProblemInput(serializers.Serializer[Any]):
    slot = serializers.IntegerField(required=False, allow_null=True, help_text=gettext_lazy("A material slot, or…"))
    field = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=100, help_text=gettext_lazy("…a form field")
    )
    reason = serializers.CharField(allow_blank=True, trim_whitespace=False)


class CorrectionInput(serializers.Serializer[Any]):
    problems = ProblemInput(many=True, allow_empty=True)


class NoteInput(serializers.Serializer[Any]):
    note = serializers.CharField(required=False, allow_blank=True, default="", trim_whitespace=False)


class RequiredNoteInput(serializers.Serializer[Any]):
    note = serializers.CharField(allow_blank=True, trim_whitespace=False)


class ReasonsInput(serializers.Serializer[Any]):
    reasons = serializers.CharField(allow_blank=True, trim_whitespace=False)


class ProcedureStartInput(serializers.Serializer[Any]):
    name = serializers.CharField(max_length=100, allow_blank=True, help_text=gettext_lazy("As the item names it"))
    reason = serializers.CharField(allow_blank=True, trim_whitespace=False)


class ProcedureEndInput(serializers.Serializer[Any]):
    result = serializers.CharField(allow_blank=True, trim_whitespace=False)


class ExtendInput(serializers.Serializer[Any]):
    days = serializers.IntegerField(help_text=gettext_lazy("Working days to add"))
    reason = serializers.CharField(allow_blank=True, trim_whitespace=False)


class DeliverInput(serializers.Serializer[Any]):
    tracking_number = serializers.CharField(
        required=False, allow_blank=True, default="", help_text=gettext_lazy("Required for mail")
    )


class QueueQuery(serializers.Serializer[Any]):
    colour = serializers.ChoiceField(choices=["red", "yellow", "green"], required=False)
    step = serializers.ChoiceField(choices=StepCode.choices, required=False)
    mine = serializers.BooleanField(required=False, default=False)


class SupervisionQuery(serializers.Serializer[Any]):
    level = serializers.ChoiceField(choices=WarningLevel.choices, required=False)
    status = serializers.ChoiceField(choices=SupervisionStatus.choices, required=False)
