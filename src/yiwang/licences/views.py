"""Public downloads of the platform's trust anchors: the root certificate and the current CRL.

Anyone verifying a licence offline (pdfsig, Adobe, pyHanko) needs both; neither is secret.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

from yiwang.licences import services

# The published CRL is re-signed when a revocation changes it, else hourly; verifiers may keep it an hour (its
# nextUpdate is days ahead).
CRL_MAX_AGE = 3600


@require_safe
@cache_control(public=True, max_age=86400)
def root_certificate(request: HttpRequest) -> HttpResponse:
    root = services.active_root()
    if root is None:
        return HttpResponse(_("The platform has no certificate authority yet."), status=404, content_type="text/plain")
    response = HttpResponse(root.certificate_pem, content_type="application/x-pem-file")
    response["Content-Disposition"] = 'attachment; filename="yiwang-root.pem"'
    return response


@require_safe
@cache_control(public=True, max_age=CRL_MAX_AGE)
def revocation_list(request: HttpRequest) -> HttpResponse:
    crl = services.published_crl()
    if crl is None:
        return HttpResponse(_("The platform has no certificate authority yet."), status=404, content_type="text/plain")
    response = HttpResponse(crl, content_type="application/pkix-crl")
    response["Content-Disposition"] = 'attachment; filename="yiwang.crl"'
    return response
