"""The public licence verification API: the same verdict and record as the page (``licences.verification``).

Anonymous by design: no authentication is read at all, so no session (and no CSRF token) is needed to upload a
file, and a signed-in caller learns nothing more than a stranger would. The rate limit is the page's, per client
address: the two share one budget.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import permissions
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from yiwang.common.errors import invalid_field
from yiwang.identity.services import client_ip
from yiwang.licences import verification
from yiwang.licences.api.serializers import ErrorSerializer, UploadInput, VerificationSerializer
from yiwang.licences.selectors import verify_identifier

_ANSWERS: dict[int | str, Any] = {
    200: OpenApiResponse(
        VerificationSerializer,
        description="The verdict, whatever it is (also `invalid` and `unknown`), with what may be shown publicly.",
    ),
    400: OpenApiResponse(ErrorSerializer, description="The identifier or the file is missing."),
    429: OpenApiResponse(
        ErrorSerializer,
        description="Too many verifications from this address (YIWANG_VERIFY_RATE); `Retry-After` says when to "
        "try again.",
    ),
}


def _throttled(request: Request) -> Response | None:
    wait = verification.take_slot(client_ip(request))
    if not wait:
        return None
    body = {
        "code": "throttled",
        "message": verification.throttled_message(wait),
        "errors": [],
    }
    return Response(body, status=429, headers={"Retry-After": str(wait)})


class VerifyView(APIView):
    authentication_classes: list[type[Any]] = []
    permission_classes = [permissions.AllowAny]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        summary="Verify a licence by its identifier",
        description="The identifier as printed or scanned (spaces, full-width characters and lower case are "
        "accepted). Anonymous; rate-limited per client address.",
        operation_id="licences_verify_identifier",
        parameters=[
            OpenApiParameter(
                "identifier", str, OpenApiParameter.QUERY, required=True, description="GB/T 36904 identifier."
            )
        ],
        responses=_ANSWERS,
        auth=[],
    )
    def get(self, request: Request) -> Response:
        identifier = str(request.query_params.get("identifier", "")).strip()
        if not identifier:
            raise invalid_field("identifier", _("Give the licence identifier (?identifier=…)."))
        refused = _throttled(request)
        if refused is not None:
            return refused
        found = verify_identifier(identifier[: verification.IDENTIFIER_MAX])
        return Response(verification.public_record(found))

    @extend_schema(
        summary="Verify a licence file",
        description="Upload the licence's PDF as `file` (multipart): its seal is checked against the platform's "
        "root and revocation list, then the licence it names. The file is not kept. Anonymous; rate-limited per "
        "client address.",
        operation_id="licences_verify_file",
        request={"multipart/form-data": UploadInput},
        responses=_ANSWERS,
        auth=[],
    )
    def post(self, request: Request) -> Response:
        upload = request.FILES.get("file")
        if upload is None:
            raise invalid_field("file", _("Send the licence's PDF as the multipart field file."))
        refused = _throttled(request)
        if refused is not None:
            return refused
        if upload.size is not None and upload.size > verification.MAX_PDF_BYTES:
            found = verification.too_large()  # refused unread
        else:
            found = verification.verify_pdf(upload.read())
        return Response(verification.public_record(found))
