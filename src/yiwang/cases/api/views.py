"""Cases API views: thin — check the request's shape, call a selector or a service, shape the answer.

Applicant endpoints (``/cases/``, ``/drafts/``) are for signed-in persons; staff endpoints (``/staff/…``,
``/supervision/…``) for staff who passed TOTP (identity.middleware answers 403 before these views otherwise).
Authentication is the session (settings.REST_FRAMEWORK); no view here accepts bearer tokens.

Scope is the selectors' and services' business: a case, draft, task or record outside the caller's reach is
404 (its existence is itself information); holding the wrong role is 403. Every error has the shape of
``common.api.exception_handler``: ``{"code", "message", "errors": [{"field", "message"}]}``.
"""

from __future__ import annotations

import re
from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, permissions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from yiwang.cases import selectors, services, supervision
from yiwang.cases.api import serializers as s
from yiwang.cases.constants import StepCode, SupervisionStatus, WarningLevel
from yiwang.cases.documents import render_notice
from yiwang.cases.models import Case, CaseMaterial, CaseTask, SupervisionRecord
from yiwang.catalogue import selectors as catalogue
from yiwang.catalogue.models import ItemVersion
from yiwang.common.errors import InvalidInput, NotFound, invalid_field
from yiwang.identity import authz
from yiwang.identity.constants import AccountKind

# ---------------------------------------------------------------------------------------------------------
# Permissions, input and context
# ---------------------------------------------------------------------------------------------------------


class IsApplicant(permissions.BasePermission):
    """A signed-in person (citizen, representative, agent): staff use the staff endpoints."""

    message = gettext_lazy("These endpoints are for applicants signed in with a personal account.")

    def has_permission(self, request: Request, view: Any) -> bool:
        return authz.subject_of(request.user).kind == AccountKind.PERSON


class Allowed(permissions.BasePermission):
    """Any of the view's ``authz_actions`` somewhere (role and a department or region); objects are scoped later."""

    message = gettext_lazy("You do not have permission to do this here.")

    def has_permission(self, request: Request, view: Any) -> bool:
        return any(authz.allowed(request.user, action) for action in view.authz_actions)


def _details(errors: Any, path: str = "") -> list[dict[str, str]]:
    """DRF's nested error structure as a flat list of ``{"field": "problems[0].reason", "message": …}``."""
    if isinstance(errors, dict):
        found = []
        for key, value in errors.items():
            if isinstance(key, int):
                child = f"{path}[{key}]"
            elif key == "non_field_errors":
                child = path
            else:
                child = f"{path}.{key}" if path else str(key)
            found += _details(value, child)
        return found
    if isinstance(errors, list):
        if all(isinstance(e, str) for e in errors):
            return [{"field": path, "message": str(e)} for e in errors]
        found = []
        for index, value in enumerate(errors):
            if value:
                found += _details(value, f"{path}[{index}]")
        return found
    return [{"field": path, "message": str(errors)}]


def validated(serializer_class: type[serializers.Serializer[Any]], data: Any) -> dict[str, Any]:
    """The request's data checked for shape, or a 400 in the common error shape naming every field at fault."""
    serializer = serializer_class(data=data)
    if not serializer.is_valid():
        raise InvalidInput(_("Some values are missing or malformed."), details=_details(serializer.errors))
    return dict(serializer.validated_data)


# Idempotency-Key: 1–64 visible ASCII characters (a UUID fits); stored with the case it created.
_KEY = re.compile(r"[\x21-\x7e]{1,64}")

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=True,
    description=(
        "1–64 visible ASCII characters, unique per request you mean (a UUID). A retry with the same key returns "
        "the case the first request made, with 200 instead of 201, whatever the retry's body."
    ),
)


def idempotency_key(request: Request) -> str:
    key = request.headers.get("Idempotency-Key", "")
    if not _KEY.fullmatch(key):
        raise invalid_field(
            "Idempotency-Key",
            _("Send an Idempotency-Key header of 1 to 64 visible characters (a UUID, for example)."),
        )
    return key


def _earlier(request: Request, key: str) -> Case | None:
    """The case this account already made with ``key`` (a retry), as far as the account may still see it."""
    return selectors.my_cases(request.user).filter(submitted_by_id=request.user.pk, idempotency_key=key).first()


def _version(code: str) -> ItemVersion:
    version = catalogue.current_version_of(code.strip())
    if version is None:
        raise invalid_field("item", _("No item with this code is open for applications."))
    return version


def _applicant_context(request: Request, case: Case) -> dict[str, Any]:
    # The applicant, and whoever filed the application for them, see its identifiers in clear.
    clear = authz.may_see_identifiers(request.user, owner=case.applicant) or authz.may_see_identifiers(
        request.user, owner=case.submitted_by
    )
    return {"request": request, "clear": clear, "side": "applicant"}


def _staff_context(request: Request) -> dict[str, Any]:
    today = timezone.localdate()
    return {
        "request": request,
        "clear": authz.may_see_identifiers(request.user),
        "side": "staff",
        "today": today,
        "threshold": supervision.threshold(today),
    }


def case_detail(request: Request, case: Case, code: int = status.HTTP_200_OK) -> Response:
    """The applicant's view of ``case``, read again through the scoped selector."""
    case = selectors.case_for_applicant(request.user, case.pk)
    return Response(s.CaseDetailSerializer(case, context=_applicant_context(request, case)).data, status=code)


def draft_detail(request: Request, case: Case, code: int = status.HTTP_200_OK) -> Response:
    case = selectors.case_for_applicant(request.user, case.pk)
    return Response(s.DraftSerializer(case, context=_applicant_context(request, case)).data, status=code)


def case_file(request: Request, number: str) -> Response:
    case = selectors.case_for_staff(request.user, number)
    return Response(s.CaseFileSerializer(case, context=_staff_context(request)).data)


def notice_pdf(case: Case, notice_number: str) -> HttpResponse:
    notice = next((n for n in selectors.notices(case) if n.number == notice_number), None)
    if notice is None:
        raise NotFound(_("No such notice."))
    response = HttpResponse(render_notice(notice.content), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{notice.number}.pdf"'
    # A notice names the applicant: no shared cache may keep it.
    response["Cache-Control"] = "private, no-store"
    return response


PDF_RESPONSE = {(200, "application/pdf"): OpenApiTypes.BINARY}
NO_CONTENT = {204: OpenApiResponse(description="Done")}


# ---------------------------------------------------------------------------------------------------------
# Applicant: cases
# ---------------------------------------------------------------------------------------------------------


class CaseListView(generics.ListAPIView[Case]):
    permission_classes = [IsApplicant]
    serializer_class = s.CaseSummarySerializer

    def get_queryset(self) -> QuerySet[Case]:
        return selectors.my_cases(self.request.user).select_related("bundle_application")

    @extend_schema(summary="My cases (and my principals'), newest first", operation_id="cases_list")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Apply in one call: create and submit (idempotent)",
        operation_id="cases_apply",
        parameters=[IDEMPOTENCY_KEY],
        request=s.ApplyInput,
        responses={201: s.CaseDetailSerializer, 200: s.CaseDetailSerializer},
    )
    def post(self, request: Request) -> Response:
        key = idempotency_key(request)
        earlier = _earlier(request, key)
        if earlier is not None:
            return case_detail(request, earlier)
        payload = validated(s.ApplyInput, request.data)
        case = services.apply(
            actor=request.user,
            version=_version(payload["item"]),
            data=payload["data"],
            idempotency_key=key,
            agency_id=payload.get("agency"),
            pledged_slots=payload["pledged_slots"],
            reused=payload["reused"],
            delivery=payload.get("delivery"),
        )
        return case_detail(request, case, status.HTTP_201_CREATED)


class CaseDetailView(APIView):
    permission_classes = [IsApplicant]

    @extend_schema(
        summary="A case: timeline, notices, materials, what to do next",
        operation_id="cases_retrieve",
        responses=s.CaseDetailSerializer,
    )
    def get(self, request: Request, number: str) -> Response:
        return case_detail(request, selectors.case_for_applicant(request.user, number))


class CaseNoticeView(APIView):
    permission_classes = [IsApplicant]

    @extend_schema(summary="A notice of the case as PDF", operation_id="cases_notice_pdf", responses=PDF_RESPONSE)
    def get(self, request: Request, number: str, notice_number: str) -> HttpResponse:
        return notice_pdf(selectors.case_for_applicant(request.user, number), notice_number)


class CaseWithdrawView(APIView):
    permission_classes = [IsApplicant]

    @extend_schema(
        summary="Withdraw an application not yet decided",
        operation_id="cases_withdraw",
        request=s.ReasonInput,
        responses=s.CaseDetailSerializer,
    )
    def post(self, request: Request, number: str) -> Response:
        payload = validated(s.ReasonInput, request.data)
        case = selectors.case_for_applicant(request.user, number)
        return case_detail(request, services.withdraw(actor=request.user, case=case, reason=payload["reason"]))


class CaseResubmitView(APIView):
    permission_classes = [IsApplicant]

    @extend_schema(
        summary="Send the corrections (change data and materials first through /drafts/{id}/)",
        operation_id="cases_resubmit",
        request=None,
        responses=s.CaseDetailSerializer,
    )
    def post(self, request: Request, number: str) -> Response:
        case = selectors.case_for_applicant(request.user, number)
        return case_detail(request, services.resubmit(actor=request.user, case=case))


# ---------------------------------------------------------------------------------------------------------
# Applicant: drafts (an application while it can be edited — before submission, and during corrections)
# ---------------------------------------------------------------------------------------------------------


def _draft(request: Request, pk: int) -> Case:
    return selectors.case_for_applicant(request.user, pk)


class DraftListView(generics.ListAPIView[Case]):
    permission_classes = [IsApplicant]
    serializer_class = s.CaseSummarySerializer

    def get_queryset(self) -> QuerySet[Case]:
        return selectors.my_cases(self.request.user, drafts=True).select_related("bundle_application")

    @extend_schema(summary="My drafts, newest first", operation_id="drafts_list")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)

    @extend_schema(
        summary="Start a draft, pre-filled from the base registers",
        operation_id="drafts_create",
        request=s.DraftStartInput,
        responses={201: s.DraftSerializer},
    )
    def post(self, request: Request) -> Response:
        payload = validated(s.DraftStartInput, request.data)
        case = services.start_application(
            actor=request.user, version=_version(payload["item"]), agency_id=payload.get("agency")
        )
        return draft_detail(request, case, status.HTTP_201_CREATED)


class DraftDetailView(APIView):
    permission_classes = [IsApplicant]

    @extend_schema(summary="An editable application", operation_id="drafts_retrieve", responses=s.DraftSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return draft_detail(request, _draft(request, pk))

    @extend_schema(
        summary="Save form data and delivery (kept as typed; checked on submit)",
        operation_id="drafts_update",
        request=s.DraftUpdateInput,
        responses=s.DraftSerializer,
    )
    def patch(self, request: Request, pk: int) -> Response:
        payload = validated(s.DraftUpdateInput, request.data)
        case = _draft(request, pk)
        # JSON merge patch (RFC 7396) at the top level: given fields replace, null removes, the rest stays.
        data = dict(case.data or {})
        for name, value in (payload.get("data") or {}).items():
            if value is None:
                data.pop(name, None)
            else:
                data[name] = value
        case = services.save_draft(actor=request.user, case=case, data=data, delivery=payload.get("delivery"))
        return draft_detail(request, case)

    @extend_schema(summary="Discard a draft", operation_id="drafts_destroy", responses=NO_CONTENT)
    def delete(self, request: Request, pk: int) -> Response:
        services.discard_draft(actor=request.user, case=_draft(request, pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class DraftMaterialsView(APIView):
    permission_classes = [IsApplicant]

    @extend_schema(
        summary="Fill a material slot: upload a file, reuse one on file, or pledge",
        operation_id="drafts_materials_create",
        request={"multipart/form-data": s.UploadInput, "application/json": s.LinkInput},
        responses={201: s.MaterialSerializer},
    )
    def post(self, request: Request, pk: int) -> Response:
        case = _draft(request, pk)
        material: CaseMaterial
        if "file" in request.FILES:
            upload = validated(s.UploadInput, request.data)
            material = services.attach_material(
                actor=request.user, case=case, slot=upload["slot"], upload=upload["file"]
            )
        else:
            link = validated(s.LinkInput, request.data)
            if link.get("reuse") is not None and link["pledge"]:
                raise invalid_field("pledge", _("Either reuse a material or pledge, not both."))
            if link.get("reuse") is not None:
                material = services.reuse_material(
                    actor=request.user, case=case, slot=link["slot"], material_id=link["reuse"]
                )
            elif link["pledge"]:
                material = services.pledge_material(actor=request.user, case=case, slot=link["slot"])
            else:
                raise invalid_field("file", _("Send a file, the id of a material on file (reuse), or pledge: true."))
        return Response(s.MaterialSerializer(material).data, status=status.HTTP_201_CREATED)


class DraftMaterialView(APIView):
    permission_classes = [IsApplicant]

    @extend_schema(summary="Empty a material slot", operation_id="drafts_materials_destroy", responses=NO_CONTENT)
    def delete(self, request: Request, pk: int, slot: int) -> Response:
        services.remove_material(actor=request.user, case=_draft(request, pk), slot=slot)
        return Response(status=status.HTTP_204_NO_CONTENT)


class DraftSubmitView(APIView):
    permission_classes = [IsApplicant]

    @extend_schema(
        summary="Submit a draft (idempotent)",
        operation_id="drafts_submit",
        parameters=[IDEMPOTENCY_KEY],
        request=None,
        responses={201: s.CaseDetailSerializer, 200: s.CaseDetailSerializer},
    )
    def post(self, request: Request, pk: int) -> Response:
        key = idempotency_key(request)
        earlier = _earlier(request, key)
        if earlier is not None:
            return case_detail(request, earlier)
        case = services.submit(actor=request.user, case=_draft(request, pk), idempotency_key=key)
        return case_detail(request, case, status.HTTP_201_CREATED)


# ---------------------------------------------------------------------------------------------------------
# Staff: queue, case file, actions
# ---------------------------------------------------------------------------------------------------------

HANDLE = ("cases.handle",)
WINDOW = ("cases.accept",)


class StaffView(APIView):
    permission_classes = [Allowed]
    authz_actions: tuple[str, ...] = HANDLE


@extend_schema_view(
    get=extend_schema(
        summary="My department's open tasks for my roles, most urgent first",
        operation_id="staff_tasks_list",
        parameters=[
            OpenApiParameter("colour", str, enum=["red", "yellow", "green"], description="Deadline colour"),
            OpenApiParameter("step", str, enum=[c for c, _label in StepCode.choices]),
            OpenApiParameter("mine", bool, description="Only tasks I claimed"),
        ],
    )
)
class TaskQueueView(generics.ListAPIView[CaseTask]):
    permission_classes = [Allowed]
    authz_actions = HANDLE
    serializer_class = s.TaskSerializer

    def get_queryset(self) -> QuerySet[CaseTask]:
        query = validated(s.QueueQuery, self.request.query_params)
        flt = selectors.QueueFilter(colour=query.get("colour", ""), step=query.get("step", ""), mine=query["mine"])
        return selectors.staff_queue(self.request.user, flt).select_related("assignee__account")

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), **_staff_context(self.request)}


class StaffCaseView(StaffView):
    authz_actions = ("cases.handle", "cases.supervise")

    @extend_schema(
        summary="The case file: form data, findings, tasks, timeline, notices, materials",
        operation_id="staff_cases_retrieve",
        responses=s.CaseFileSerializer,
    )
    def get(self, request: Request, number: str) -> Response:
        return case_file(request, number)


class StaffCaseNoticeView(StaffView):
    authz_actions = ("cases.handle", "cases.supervise")

    @extend_schema(summary="A notice of the case as PDF", operation_id="staff_cases_notice_pdf", responses=PDF_RESPONSE)
    def get(self, request: Request, number: str, notice_number: str) -> HttpResponse:
        return notice_pdf(selectors.case_for_staff(request.user, number), notice_number)


class TaskAction(StaffView):
    """POST /staff/tasks/{id}/<action>/: the task is found in the caller's department (else 404), then acted on."""

    input_class: type[serializers.Serializer[Any]] | None = None

    def act(self, request: Request, task: CaseTask, payload: dict[str, Any]) -> None:
        raise NotImplementedError

    def post(self, request: Request, pk: int) -> Response:
        payload = validated(self.input_class, request.data) if self.input_class is not None else {}
        task = selectors.task_for_staff(request.user, pk)
        self.act(request, task, payload)
        return case_file(request, task.case.number or "")


@extend_schema_view(
    post=extend_schema(
        summary="Claim a task", operation_id="staff_tasks_claim", request=None, responses=s.CaseFileSerializer
    )
)
class TaskClaimView(TaskAction):
    def act(self, request: Request, task: CaseTask, payload: dict[str, Any]) -> None:
        services.claim(actor=request.user, task=task)


@extend_schema_view(
    post=extend_schema(
        summary="Complete a review or audit step with an opinion",
        operation_id="staff_tasks_complete",
        request=s.OpinionInput,
        responses=s.CaseFileSerializer,
    )
)
class TaskCompleteView(TaskAction):
    input_class = s.OpinionInput

    def act(self, request: Request, task: CaseTask, payload: dict[str, Any]) -> None:
        services.complete_step(actor=request.user, task=task, opinion=payload["opinion"])


@extend_schema_view(
    post=extend_schema(
        summary="Return the case to the previous step",
        operation_id="staff_tasks_return",
        request=s.RequiredReasonInput,
        responses=s.CaseFileSerializer,
    )
)
class TaskReturnView(TaskAction):
    input_class = s.RequiredReasonInput

    def act(self, request: Request, task: CaseTask, payload: dict[str, Any]) -> None:
        services.return_step(actor=request.user, task=task, reason=payload["reason"])


@extend_schema_view(
    post=extend_schema(
        summary="Decide: approve or deny (a denial with reasons)",
        operation_id="staff_tasks_decide",
        request=s.DecideInput,
        responses=s.CaseFileSerializer,
    )
)
class TaskDecideView(TaskAction):
    input_class = s.DecideInput

    def act(self, request: Request, task: CaseTask, payload: dict[str, Any]) -> None:
        services.decide(actor=request.user, task=task, outcome=payload["outcome"], reasons=payload["reasons"])


class CaseAction(StaffView):
    """POST /staff/cases/{number}/<action>/: the case is found among those the caller may see, then acted on."""

    input_class: type[serializers.Serializer[Any]] | None = None

    def act(self, request: Request, case: Case, payload: dict[str, Any]) -> None:
        raise NotImplementedError

    def post(self, request: Request, number: str) -> Response:
        payload = validated(self.input_class, request.data) if self.input_class is not None else {}
        case = selectors.case_for_staff(request.user, number)
        self.act(request, case, payload)
        return case_file(request, number)


@extend_schema_view(
    post=extend_schema(
        summary="Ask for corrections: every problem in one notice",
        operation_id="staff_cases_correction",
        request=s.CorrectionInput,
        responses=s.CaseFileSerializer,
    )
)
class CorrectionView(CaseAction):
    authz_actions = WINDOW
    input_class = s.CorrectionInput

    def act(self, request: Request, case: Case, payload: dict[str, Any]) -> None:
        problems = [
            services.Problem(reason=p["reason"], slot=p.get("slot"), field=p.get("field", ""))
            for p in payload["problems"]
        ]
        services.request_correction(actor=request.user, case=case, problems=problems)


@extend_schema_view(
    post=extend_schema(
        summary="Accept the application (受理)",
        operation_id="staff_cases_accept",
        request=s.NoteInput,
        responses=s.CaseFileSerializer,
    )
)
class AcceptView(CaseAction):
    authz_actions = WINDOW
    input_class = s.NoteInput

    def act(self, request: Request, case: Case, payload: dict[str, Any]) -> None:
        services.accept(actor=request.user, case=case, note=payload["note"])


@extend_schema_view(
    post=extend_schema(
        summary="Refuse to accept, with reasons (不予受理)",
        operation_id="staff_cases_refuse",
        request=s.ReasonsInput,
        responses=s.CaseFileSerializer,
    )
)
class RefuseView(CaseAction):
    authz_actions = WINDOW
    input_class = s.ReasonsInput

    def act(self, request: Request, case: Case, payload: dict[str, Any]) -> None:
        services.refuse(actor=request.user, case=case, reasons=payload["reasons"])


@extend_schema_view(
    post=extend_schema(
        summary="Start a special procedure the item names",
        operation_id="staff_cases_procedure_start",
        request=s.ProcedureStartInput,
        responses=s.CaseFileSerializer,
    )
)
class ProcedureStartView(CaseAction):
    input_class = s.ProcedureStartInput

    def act(self, request: Request, case: Case, payload: dict[str, Any]) -> None:
        services.start_special_procedure(actor=request.user, case=case, name=payload["name"], reason=payload["reason"])


@extend_schema_view(
    post=extend_schema(
        summary="End the running special procedure with its result",
        operation_id="staff_cases_procedure_end",
        request=s.ProcedureEndInput,
        responses=s.CaseFileSerializer,
    )
)
class ProcedureEndView(CaseAction):
    input_class = s.ProcedureEndInput

    def act(self, request: Request, case: Case, payload: dict[str, Any]) -> None:
        services.end_special_procedure(actor=request.user, case=case, result=payload["result"])


@extend_schema_view(
    post=extend_schema(
        summary="Extend the time limit (approvers)",
        operation_id="staff_cases_extend",
        request=s.ExtendInput,
        responses=s.CaseFileSerializer,
    )
)
class ExtendView(CaseAction):
    input_class = s.ExtendInput

    def act(self, request: Request, case: Case, payload: dict[str, Any]) -> None:
        services.extend(actor=request.user, case=case, days=payload["days"], reason=payload["reason"])


@extend_schema_view(
    post=extend_schema(
        summary="Record delivery of the result (pickup, or mail with its tracking number)",
        operation_id="staff_cases_deliver",
        request=s.DeliverInput,
        responses=s.CaseFileSerializer,
    )
)
class DeliverView(CaseAction):
    authz_actions = WINDOW
    input_class = s.DeliverInput

    def act(self, request: Request, case: Case, payload: dict[str, Any]) -> None:
        services.deliver(actor=request.user, case=case, tracking_number=payload["tracking_number"])


# ---------------------------------------------------------------------------------------------------------
# Supervision
# ---------------------------------------------------------------------------------------------------------

SUPERVISE = ("cases.supervise",)


@extend_schema_view(
    get=extend_schema(
        summary="Deadline warnings in my region, newest first",
        operation_id="supervision_records_list",
        parameters=[
            OpenApiParameter("level", str, enum=[c for c, _label in WarningLevel.choices]),
            OpenApiParameter("status", str, enum=[c for c, _label in SupervisionStatus.choices]),
        ],
    )
)
class SupervisionListView(generics.ListAPIView[SupervisionRecord]):
    permission_classes = [Allowed]
    authz_actions = SUPERVISE
    serializer_class = s.SupervisionRecordSerializer

    def get_queryset(self) -> QuerySet[SupervisionRecord]:
        query = validated(s.SupervisionQuery, self.request.query_params)
        return selectors.supervision_records(
            self.request.user, level=query.get("level", ""), status=query.get("status", "")
        ).select_related("followed_by__account")


class FollowUpView(StaffView):
    authz_actions = SUPERVISE

    @extend_schema(
        summary="Follow a warning up (督办) with a note",
        operation_id="supervision_records_follow_up",
        request=s.RequiredNoteInput,
        responses=s.SupervisionRecordSerializer,
    )
    def post(self, request: Request, pk: int) -> Response:
        payload = validated(s.RequiredNoteInput, request.data)
        record = selectors.supervision_record(request.user, pk)
        services.follow_up(actor=request.user, record=record, note=payload["note"])
        return Response(s.SupervisionRecordSerializer(selectors.supervision_record(request.user, pk)).data)
