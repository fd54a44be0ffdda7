"""Catalogue API: public reads under /api/v1/items, management writes under /api/v1/manage."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, permissions, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from yiwang.catalogue import selectors, services
from yiwang.catalogue.api import serializers as s
from yiwang.catalogue.constants import VersionStatus
from yiwang.catalogue.models import ImplementationItem, ItemVersion, Organisation
from yiwang.common.models import Division
from yiwang.identity import authz


def _int_or_none(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _filters(request: Request) -> selectors.Filters:
    params = request.query_params
    return selectors.Filters(
        query=params.get("q", "")[:100],
        region=params.get("region", "")[:9],
        department=_int_or_none(params.get("department")),
        theme=params.get("theme", "")[:50],
        audience=params.get("audience", "") if params.get("audience") in ("person", "enterprise") else "",
        item_type=params.get("item_type", "")[:2],
    )


FILTER_PARAMETERS = [
    OpenApiParameter(
        "q", str, description="Search terms (all must match), e.g. 营业执照, an item code or a department"
    ),
    OpenApiParameter("region", str, description="GB/T 2260 division code; a city or province includes its counties"),
    OpenApiParameter("department", int, description="Organisation id"),
    OpenApiParameter("theme", str, description="Service theme, e.g. 设立变更"),
    OpenApiParameter("audience", str, enum=["person", "enterprise"]),
    OpenApiParameter("item_type", str, description="Item type code, e.g. 01"),
]


@extend_schema(parameters=FILTER_PARAMETERS, summary="Search current service items")
class ItemListView(generics.ListAPIView[ItemVersion]):
    serializer_class = s.ItemSummarySerializer
    permission_classes = [permissions.AllowAny]

    def get_queryset(self) -> Any:
        return selectors.search(_filters(self.request)).select_related("region", "department")


@extend_schema(summary="The current version of an item (its service guide)")
class ItemDetailView(generics.RetrieveAPIView[ItemVersion]):
    serializer_class = s.ItemDetailSerializer
    permission_classes = [permissions.AllowAny]

    def get_object(self) -> ItemVersion:
        version = selectors.current_version_of(self.kwargs["code"])
        if version is None:
            raise Http404
        return version


@extend_schema(summary="Published versions of an item, newest first")
class ItemHistoryView(generics.ListAPIView[ItemVersion]):
    serializer_class = s.VersionHistorySerializer
    permission_classes = [permissions.AllowAny]
    pagination_class = None

    def get_queryset(self) -> Any:
        item = get_object_or_404(ImplementationItem, implementation_code=self.kwargs["code"])
        return selectors.version_history(item)


def _public_version(code: str, number: int) -> ItemVersion:
    version = selectors.public_version(code, number)
    if version is None:
        raise Http404
    return version


@extend_schema(summary="One published version of an item")
class ItemVersionView(generics.RetrieveAPIView[ItemVersion]):
    serializer_class = s.ItemDetailSerializer
    permission_classes = [permissions.AllowAny]

    def get_object(self) -> ItemVersion:
        return _public_version(self.kwargs["code"], self.kwargs["number"])


class ItemDiffView(APIView):
    permission_classes = [permissions.AllowAny]

    @extend_schema(
        summary="Differences between two published versions",
        parameters=[OpenApiParameter("from", int, required=True), OpenApiParameter("to", int, required=True)],
        responses=s.DiffRowSerializer(many=True),
    )
    def get(self, request: Request, code: str) -> Response:
        old = _public_version(code, _int_or_none(request.query_params.get("from")) or 0)
        new = _public_version(code, _int_or_none(request.query_params.get("to")) or 0)
        rows = [
            {"element": str(r.element), "path": r.path, "kind": r.kind, "old": r.old, "new": r.new}
            for r in selectors.diff_versions(old, new)
        ]
        return Response(s.DiffRowSerializer(rows, many=True).data)  # type: ignore[arg-type]  # many=True takes a list


@extend_schema(summary="Departments with current items")
class DepartmentListView(generics.ListAPIView[Organisation]):
    serializer_class = s.OrganisationSerializer
    permission_classes = [permissions.AllowAny]
    pagination_class = None

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        rows = []
        for department, count in sorted(selectors.departments_with_items(), key=lambda pair: pair[0].name):
            department.item_count = count  # type: ignore[attr-defined]  # read by the serializer
            rows.append(department)
        return Response(self.get_serializer(rows, many=True).data)


@extend_schema(summary="Administrative divisions (GB/T 2260)")
class DivisionListView(generics.ListAPIView[Division]):
    serializer_class = s.DivisionSerializer
    permission_classes = [permissions.AllowAny]
    pagination_class = None
    queryset = Division.objects.all()


# --- management -----------------------------------------------------------------------------------


class CanManageCatalogue(permissions.BasePermission):
    """A catalogue role (authz ``catalogue.manage``); which versions it reaches is the selectors' and services'
    business (department and region)."""

    message = gettext_lazy("You do not have permission to change the catalogue.")

    def has_permission(self, request: Request, view: Any) -> bool:
        return authz.allowed(request.user, services.MANAGE)


def _managed_version(request: Request, pk: int) -> ItemVersion:
    # Another department's version is "not found", as the list never shows it.
    return get_object_or_404(selectors.versions_for_management(request.user), pk=pk)


@extend_schema(summary="Versions of the caller's department and region (managers); POST saves a draft")
class ManagedVersionListView(APIView):
    permission_classes = [CanManageCatalogue]

    @extend_schema(
        responses=s.ManagedVersionSerializer(many=True),
        parameters=[OpenApiParameter("status", str, enum=[c for c, _ in VersionStatus.choices])],
    )
    def get(self, request: Request) -> Response:
        statuses = [request.query_params["status"]] if request.query_params.get("status") else None
        qs = selectors.versions_for_management(request.user, statuses)[:500]
        return Response(s.ManagedVersionSerializer(qs, many=True).data)

    @extend_schema(request=s.ContentInputSerializer, responses={201: s.ManagedVersionSerializer})
    def post(self, request: Request) -> Response:
        payload = s.ContentInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        version = services.save_draft(actor=request.user, content=payload.validated_data["content"])  # type: ignore[arg-type]
        return Response(s.ManagedVersionSerializer(version).data, status=status.HTTP_201_CREATED)


class ManagedVersionDetailView(APIView):
    permission_classes = [CanManageCatalogue]

    @extend_schema(responses=s.ManagedVersionSerializer)
    def get(self, request: Request, pk: int) -> Response:
        return Response(s.ManagedVersionSerializer(_managed_version(request, pk)).data)

    @extend_schema(request=s.ContentInputSerializer, responses=s.ManagedVersionSerializer)
    def put(self, request: Request, pk: int) -> Response:
        version = _managed_version(request, pk)
        payload = s.ContentInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        updated = services.save_draft(actor=request.user, content=payload.validated_data["content"], item=version.item)  # type: ignore[arg-type]
        return Response(s.ManagedVersionSerializer(updated).data)


class ManagedVersionActionView(APIView):
    """POST /manage/versions/{id}/{action}: submit, return, publish, withdraw."""

    permission_classes = [CanManageCatalogue]

    @extend_schema(request=s.ReasonSerializer, responses=s.ManagedVersionSerializer)
    def post(self, request: Request, pk: int, action: str) -> Response:
        if action not in services.LIFECYCLE_ACTIONS:
            raise Http404
        version = _managed_version(request, pk)
        reason = str(request.data.get("reason", "")) if hasattr(request.data, "get") else ""
        version = services.act_on_version(actor=request.user, version=version, action=action, reason=reason)  # type: ignore[arg-type]
        return Response(s.ManagedVersionSerializer(version).data)


class CheckView(APIView):
    permission_classes = [CanManageCatalogue]

    @extend_schema(
        request=s.ContentInputSerializer,
        responses=s.ViolationSerializer(many=True),
        summary="Check one item against the schema and every quality rule",
    )
    def post(self, request: Request) -> Response:
        payload = s.ContentInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        items = services.parse_document(payload.validated_data["content"])
        context = services.rule_context()
        rows = [
            v.as_dict(it.get("implementation_code", "")) for it in items for v in services.check_document(it, context)
        ]
        return Response(rows)


class ImportView(APIView):
    permission_classes = [CanManageCatalogue]

    @extend_schema(
        request=s.ContentInputSerializer,
        responses=s.ManagedVersionSerializer(many=True),
        summary='Import one item or {"items": [...]} as drafts, all or nothing',
    )
    def post(self, request: Request) -> Response:
        payload = s.ContentInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        items = services.parse_document(payload.validated_data["content"])
        report = services.import_items(actor=request.user, items=items)  # type: ignore[arg-type]
        return Response(s.ManagedVersionSerializer(report.versions, many=True).data, status=status.HTTP_201_CREATED)
