"""Acting for a principal within a browser session (an enterprise's 经办人, or a person's proxy).

The session keeps only the agency's id. Whether the agent may still act is decided again on every request
by ``services.agency_for_act``: an agency can be revoked by the principal, or run out, while the agent is
signed in, and the session must not outlive it. When the check fails the session forgets the agency and
the agent is told why on the next page they see.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest
from django.utils.translation import gettext as _

from yiwang.common.errors import DomainError
from yiwang.identity import services
from yiwang.identity.models import Agency

SESSION_KEY = "yiwang.acting_agency"
# The result of the check, kept on the request so a page that asks several times checks (and warns) once.
_REQUEST_CACHE = "_yiwang_acting_agency"
_UNCHECKED = object()


def set_acting(request: HttpRequest, agency: Agency) -> None:
    """Remember in the session that this agent now acts under ``agency`` (already checked by start_acting)."""
    request.session[SESSION_KEY] = agency.pk
    setattr(request, _REQUEST_CACHE, agency)


def stop_acting(request: HttpRequest) -> None:
    session = getattr(request, "session", None)
    if session is not None:
        session.pop(SESSION_KEY, None)
    setattr(request, _REQUEST_CACHE, None)


def current_agency(request: HttpRequest) -> Agency | None:
    """The agency the signed-in user acts under now, re-validated; ``None`` when acting for oneself."""
    cached = getattr(request, _REQUEST_CACHE, _UNCHECKED)
    if cached is not _UNCHECKED:
        return cached  # type: ignore[return-value]
    agency = _check(request)
    setattr(request, _REQUEST_CACHE, agency)
    return agency


def _check(request: HttpRequest) -> Agency | None:
    session = getattr(request, "session", None)  # absent on requests built for cache warming
    user = getattr(request, "user", None)
    if session is None or user is None or not user.is_authenticated:
        return None
    raw = session.get(SESSION_KEY)
    if raw is None:
        return None
    try:
        agency_id = int(raw)
    except (TypeError, ValueError):
        session.pop(SESSION_KEY, None)  # not written by set_acting: drop it silently
        return None
    try:
        return services.agency_for_act(agent=user, agency_id=agency_id)
    except DomainError as exc:
        session.pop(SESSION_KEY, None)
        # Read without the validity checks, only to name the principal in the notice.
        stale = (
            Agency.objects.select_related("enterprise", "principal_user__account")
            .filter(pk=agency_id, agent=user)
            .first()
        )
        if stale is not None:
            text = _("You no longer act for %(principal)s: %(reason)s") % {
                "principal": principal_name(stale),
                "reason": exc.message,
            }
        else:
            text = _("You no longer act for another person or enterprise: %(reason)s") % {"reason": exc.message}
        messages.warning(request, text, fail_silently=True)
        return None


def principal_name(agency: Agency) -> str:
    """The principal as the agent knows them: the enterprise's registered name, or the person's name.

    Never an ID number: the banner and lists that use this are seen over the agent's shoulder too.
    """
    if agency.enterprise is not None:
        return agency.enterprise.name
    principal: Any = agency.principal_user
    account = getattr(principal, "account", None)
    if account is not None and account.real_name:
        return str(account.real_name)
    return str(principal.first_name or principal.get_username()) if principal is not None else ""
