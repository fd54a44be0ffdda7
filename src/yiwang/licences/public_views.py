"""The public verification page (issue 5): type an identifier, upload the PDF, or scan the licence's QR code
(which opens ``/licences/v/<identifier>/``). Open to everyone, signed in or not; rate-limited per client address
(``verification.take_slot``), the same budget as the API's.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_safe

from yiwang.identity.services import client_ip
from yiwang.licences import verification
from yiwang.licences.constants import Verdict
from yiwang.licences.selectors import Verification, verify_identifier

TEMPLATE = "licences/verify.html"
# How each verdict looks: a tone (colour) and an icon, always beside the verdict's words.
TONES = {
    Verdict.VALID: "ok",
    Verdict.EXPIRED: "warn",
    Verdict.SUSPENDED: "warn",
    Verdict.SUPERSEDED: "warn",
    Verdict.REVOKED: "bad",
    Verdict.TAMPERED: "bad",
    Verdict.INVALID: "bad",
    Verdict.UNKNOWN: "neutral",
}


def _page(request: HttpRequest, status: int = 200, **context: Any) -> HttpResponse:
    context.setdefault("identifier", "")
    context.setdefault("max_mb", verification.MAX_PDF_BYTES // (1024 * 1024))
    return render(request, TEMPLATE, context, status=status)


def _throttled(request: HttpRequest) -> HttpResponse | None:
    wait = verification.take_slot(client_ip(request))
    if not wait:
        return None
    response = _page(
        request,
        status=429,
        throttled=verification.throttled_message(wait),
    )
    response["Retry-After"] = str(wait)
    return response


def _result(request: HttpRequest, found: Verification, *, identifier: str = "", source: str) -> HttpResponse:
    record = verification.public_record(found)
    return _page(
        request,
        identifier=identifier,
        record=record,
        tone=TONES[Verdict(found.verdict)],
        source=source,
        checked_at=timezone.localtime(),
    )


@never_cache  # a verdict changes when the licence does: no copy may be served later
@require_http_methods(["GET", "HEAD", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    """The form; with ``?identifier=`` the verdict on it, and on POST the verdict on the uploaded file."""
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            return _page(request, status=400, file_error=_("Choose the licence's PDF file."))
        refused = _throttled(request)
        if refused is not None:
            return refused
        if upload.size is not None and upload.size > verification.MAX_PDF_BYTES:
            found = verification.too_large()  # refused unread: the size is known before the content is touched
        else:
            found = verification.verify_pdf(upload.read())
        return _result(request, found, source="file")
    if "identifier" not in request.GET:
        return _page(request)
    identifier = request.GET["identifier"].strip()[: verification.IDENTIFIER_MAX]
    if not identifier:
        return _page(request, status=400, identifier_error=_("Type the licence identifier."))
    return _by_identifier(request, identifier)


@never_cache
@require_safe
def by_identifier(request: HttpRequest, identifier: str) -> HttpResponse:
    """What the QR code on a licence opens: the verdict on its identifier."""
    return _by_identifier(request, identifier[: verification.IDENTIFIER_MAX])


def _by_identifier(request: HttpRequest, identifier: str) -> HttpResponse:
    refused = _throttled(request)
    if refused is not None:
        return refused
    return _result(request, verify_identifier(identifier), identifier=identifier, source="identifier")
