"""Password sign-in for every kind of account, with throttling and lockout (identity.services.sign_in)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import User
from django.http import HttpRequest

from yiwang.common.errors import DomainError


class IdentityBackend(ModelBackend):
    """Accepts a citizen's ID number or a staff user name as the login, checks lockout and records the attempt."""

    def authenticate(
        self, request: HttpRequest | None, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> User | None:
        from yiwang.identity import services

        if username is None or password is None:
            return None
        try:
            return services.sign_in(login=username, password=password, client_ip=services.client_ip(request))
        except DomainError:
            # Django's login forms show their own generic message; the reason is in the audit log.
            return None
