"""Identity API: who am I, my agencies (any signed-in user); the register person lookup (window clerks,
reviewers, approvers, in their region) and the audit log (auditors). Permissions come from
``yiwang.identity.authz``; the views only validate input and call selectors and services."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, permissions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from yiwang.audit import selectors as audit_selectors
from yiwang.audit.models import AuditRecord
from yiwang.common.errors import NotFound
from yiwang.identity import authz, lookups, selectors
from yiwang.identity.api import serializers as s


class Allowed(permissions.BasePermission):
    """The view's ``authz_action`` (role, and a department or region to work in); objects are scoped later."""

    message = gettext_lazy("You do not have permission to do this here.")

    def has_permission(self, request: Request, view: Any) -> bool:
        return authz.allowed(request.user, view.authz_action)


@extend_schema(summary="Who am I: account kind, masked identifiers, roles, department, region, enterprises, agencies")
class MeView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses=s.MeSerializer)
    def get(self, request: Request) -> Response:
        return Response(s.MeSerializer(selectors.profile(request.user)).data)


@extend_schema(summary="Agencies I granted and agencies I hold")
class MyAgenciesView(APIView):
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(responses=s.MyAgenciesSerializer)
    def get(self, request: Request) -> Response:
        data = {
            "granted": selectors.agencies_granted_by(request.user),
            "held": selectors.agencies_held_by(request.user),
        }
        return Response(s.MyAgenciesSerializer(data).data)


class PersonLookupView(APIView):
    """A person in the population register, for staff who handle applicants, within their region."""

    permission_classes = [Allowed]
    authz_action = lookups.LOOKUP

    # POST, not GET: an ID number in a query string would land in proxy and web-server access logs, which
    # our log filter does not reach (docs/identity.md, personal data).
    @extend_schema(
        summary="Look a person up in the population register (audited; 404 outside your region)",
        request=s.PersonQuerySerializer,
        responses=s.PersonSerializer,
    )
    def post(self, request: Request) -> Response:
        query = s.PersonQuerySerializer(data=request.data)
        query.is_valid(raise_exception=True)
        record = lookups.look_up_person(actor=request.user, id_number=query.validated_data["id_number"])
        if record is None:
            # The same answer for "unknown" and "elsewhere": existence outside one's region is not disclosed.
            raise NotFound(gettext_lazy("No person with this ID number was found in your region."))
        return Response(s.PersonSerializer(record, context={"request": request}).data)


@extend_schema(
    summary="The audit log (auditors), newest first",
    parameters=[
        OpenApiParameter("action", str, description="An action, or a dotted prefix such as catalogue.version"),
        OpenApiParameter("object_type", str),
        OpenApiParameter("object_id", str),
    ],
)
class AuditLogView(generics.ListAPIView[AuditRecord]):
    permission_classes = [Allowed]
    authz_action = audit_selectors.READ
    serializer_class = s.AuditRecordSerializer

    def get_queryset(self) -> Any:
        params = self.request.query_params
        return audit_selectors.audit_log(
            self.request.user,
            action=params.get("action", "")[:80],
            object_type=params.get("object_type", "")[:80],
            object_id=params.get("object_id", "")[:64],
        )
