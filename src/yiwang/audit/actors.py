"""Who acts: a logged-in user, or a named system actor (a command, a scheduled job)."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser


@dataclass(frozen=True)
class SystemActor:
    """A non-human actor, e.g. ``SystemActor("scheduler")`` or ``SystemActor("cli:import")``."""

    name: str

    @property
    def is_authenticated(self) -> bool:
        return True

    def __str__(self) -> str:
        return f"system:{self.name}"


Actor = AbstractBaseUser | SystemActor

SCHEDULER = SystemActor("scheduler")


def actor_label(actor: Actor | AnonymousUser) -> str:
    if isinstance(actor, SystemActor):
        return str(actor)
    return actor.get_username() or "anonymous"
