"""Domain errors raised by service functions, carrying translated messages and structured details."""

from __future__ import annotations

from typing import Any

from django.utils.functional import Promise


class DomainError(Exception):
    code = "domain_error"
    http_status = 400

    def __init__(self, message: str | Promise, *, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(str(message))
        self.message = message
        self.details = details or []

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": str(self.message), "errors": self.details}


class InvalidInput(DomainError):
    code = "invalid"


class InvalidTransition(DomainError):
    code = "invalid_transition"
    http_status = 409


class PermissionDenied(DomainError):
    code = "permission_denied"
    http_status = 403


class NotFound(DomainError):
    code = "not_found"
    http_status = 404


def invalid_field(field: str, message: str | Promise, *, code: str = "") -> InvalidInput:
    """An InvalidInput whose one detail names the field, so forms can show it beside that field."""
    detail = {"field": field, "message": str(message)}
    if code:
        detail["code"] = code
    return InvalidInput(message, details=[detail])


def invalid_problems(field: str, problems: list[Any], message: str | Promise | None = None) -> InvalidInput:
    """Every problem of one value at once (validators' ``Problem``s), headed by ``message`` or the first one."""
    return InvalidInput(
        message if message is not None else problems[0].message,
        details=[{"field": field, "code": p.code, "message": str(p.message)} for p in problems],
    )
