"""The unread-message count that the portal and workbench headers show to signed-in people."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import cached_property

from yiwang.notifications import selectors


class InboxState:
    """Counted only when a template reads ``unread``: most pages never ask, visitors never do."""

    def __init__(self, user: Any) -> None:
        self._user = user

    @cached_property
    def unread(self) -> int:
        return selectors.unread_count(self._user)


def inbox(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    # Nothing for visitors: their pages may be cached and served to everyone (portal.caching).
    if user is None or not user.is_authenticated:
        return {}
    return {"inbox": InboxState(user)}
