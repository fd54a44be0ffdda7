"""Staff must pass the TOTP second factor before any page or API call other than signing in."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from yiwang.identity.authz import subject_of

# Paths a staff member without a verified second factor may still reach: the factor pages themselves,
# signing out, static files and language switching.
_OPEN_PREFIXES = ("/static/", "/i18n/", "/media/")


class StaffSecondFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if settings.YIWANG_STAFF_REQUIRE_TOTP and self._needs_second_factor(request):
            path = request.path_info
            allowed = [reverse("portal:totp"), reverse("portal:logout")]
            if not path.startswith(_OPEN_PREFIXES) and not any(path.endswith(a.lstrip("/")) for a in allowed):
                if path.startswith("/api/"):
                    return JsonResponse({"detail": _("Staff must confirm the second factor (TOTP) first.")}, status=403)
                return HttpResponseRedirect(reverse("portal:totp") + "?next=" + request.get_full_path())
        return self.get_response(request)

    @staticmethod
    def _needs_second_factor(request: HttpRequest) -> bool:
        user = getattr(request, "user", None)
        # Token-authenticated machine calls carry no session user here; DRF authenticates them later.
        if user is None or not user.is_authenticated:
            return False
        subject = subject_of(user)
        if not (subject.is_staff_member or user.is_staff or user.is_superuser):
            return False
        return not user.is_verified()  # set by django_otp's OTPMiddleware from the session
