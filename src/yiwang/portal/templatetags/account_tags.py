"""The signed-in state every page's header shows: who is signed in (masked), and for whom they act."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import Resolver404, resolve

from yiwang.common.masking import mask_name
from yiwang.identity import acting

register = template.Library()

# After signing in from these pages, going back to them makes no sense: the sign-in link carries no ``next``.
_NO_RETURN = frozenset({"portal:login", "portal:logout", "portal:register", "portal:password_reset", "portal:totp"})


def _return_path(request: Any) -> str:
    try:
        name = resolve(request.path_info).view_name
    except Resolver404:
        return ""
    return "" if name in _NO_RETURN else str(request.get_full_path())


@register.simple_tag(takes_context=True)
def account_state(context: dict[str, Any]) -> dict[str, Any]:
    """``signed_in``, the masked ``name``, the ``acting`` agency (re-checked) and its ``principal``'s name;
    for visitors, the ``login_next`` path to come back to after signing in.

    Anonymous pages may be cached and shared (portal.caching), so for them this reads nothing personal.
    """
    request = context.get("request")
    user = getattr(request, "user", None)
    if request is None or user is None or not user.is_authenticated:
        return {"signed_in": False, "login_next": _return_path(request) if request is not None else ""}
    # A missing account raises RelatedObjectDoesNotExist, an AttributeError: getattr's default covers it.
    account = getattr(user, "account", None)
    name = (account.real_name if account is not None else "") or user.first_name or user.get_username()
    agency = acting.current_agency(request)
    return {
        "signed_in": True,
        "name": mask_name(name),
        "acting": agency,
        "principal": acting.principal_name(agency) if agency is not None else "",
    }
