"""Staff must pass the TOTP second factor before any page or API call other than signing in."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import Resolver404, resolve, reverse
from django.utils.translation import gettext as _

from yiwang.identity.authz import subject_of

# Paths a staff member without a verified second factor may still reach: static files and language switching…
_OPEN_PREFIXES = ("/static/", "/i18n/", "/media/")
# …and these views, whatever the language prefix (/en/…): the factor page itself and signing out. Matched by
# resolving the path, not by its text, so that no other URL ending the same way slips through.
_OPEN_VIEWS = frozenset({"portal:totp", "portal:logout", "oauth2_provider:rp-initiated-logout"})


def requires_second_factor(user: Any) -> bool:
    """Whether this signed-in user must pass TOTP: staff, admin-site users, and anyone holding a role at all
    (a role is what grants reach; a person account given one by mistake must not skip the factor)."""
    if user is None or not user.is_authenticated:
        return False
    subject = subject_of(user)
    return subject.is_staff_member or subject.is_admin or bool(subject.roles or user.is_staff or user.is_superuser)


def _is_open(path: str) -> bool:
    if path.startswith(_OPEN_PREFIXES):
        return True
    try:
        match = resolve(path)
    except Resolver404:
        return False
    return match.view_name in _OPEN_VIEWS


class StaffSecondFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if settings.YIWANG_STAFF_REQUIRE_TOTP and self._needs_second_factor(request):
            path = request.path_info
            if not _is_open(path):
                if path.startswith("/api/"):
                    return JsonResponse({"detail": _("Staff must confirm the second factor (TOTP) first.")}, status=403)
                # reverse() follows the active language, so an English page leads to the English factor page;
                # the way back is URL-encoded so that its own query string survives.
                query = urlencode({"next": request.get_full_path()})
                return HttpResponseRedirect(f"{reverse('portal:totp')}?{query}")
        return self.get_response(request)

    @staticmethod
    def _needs_second_factor(request: HttpRequest) -> bool:
        user = getattr(request, "user", None)
        # Token-authenticated machine calls carry no session user here; DRF authenticates them later.
        if user is None or not requires_second_factor(user):
            return False
        return not user.is_verified()  # set by django_otp's OTPMiddleware
