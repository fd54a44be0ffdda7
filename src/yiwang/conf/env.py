"""Typed readers for environment variables.

Each reader fails loudly (``ImproperlyConfigured`` naming the variable and the bad value) rather than
falling back silently: a typo in production configuration must stop the process at start-up, not
surface later as odd behaviour. Every variable read here is documented in docs/configuration.md.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def _raw(name: str) -> str | None:
    value = os.environ.get(name)
    return value.strip() if value is not None else None


def env_str(name: str, default: str) -> str:
    value = _raw(name)
    return default if value is None or value == "" else value


def env_bool(name: str, default: bool) -> bool:
    value = _raw(name)
    if value is None:
        return default
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean; use one of 1/0, true/false, yes/no, on/off")


def env_int(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    value = _raw(name)
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not an integer") from None
    if minimum is not None and number < minimum:
        raise ImproperlyConfigured(f"{name}={number} is below the minimum {minimum}")
    if maximum is not None and number > maximum:
        raise ImproperlyConfigured(f"{name}={number} is above the maximum {maximum}")
    return number


def env_list(name: str, default: Sequence[str]) -> list[str]:
    value = _raw(name)
    if value is None or value == "":
        return list(default)
    return [part.strip() for part in value.split(",") if part.strip()]


def env_choice(name: str, default: str, choices: Sequence[str]) -> str:
    value = env_str(name, default)
    if value not in choices:
        raise ImproperlyConfigured(f"{name}={value!r} is not one of {', '.join(choices)}")
    return value


def env_database(name: str, default_sqlite_path: str) -> dict[str, Any]:
    """Parse ``DATABASE_URL``; without it, the embedded SQLite database at ``default_sqlite_path``."""
    value = _raw(name)
    if not value:
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": default_sqlite_path,
            # SQLite serialises writers; a short busy timeout turns "database is locked" under the
            # development server's threads into a brief wait instead of an error.
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        }
    if not value.startswith(("postgres://", "postgresql://", "sqlite://")):
        raise ImproperlyConfigured(f"{name} must be a postgres:// or sqlite:// URL, got {value.split(':', 1)[0]!r}")
    try:
        config: dict[str, Any] = dict(dj_database_url.parse(value, conn_max_age=60))
    except ValueError as exc:  # dj-database-url raises ValueError for unparseable URLs
        raise ImproperlyConfigured(f"{name} could not be parsed: {exc}") from None
    return config


def env_cache(name: str) -> dict[str, Any]:
    """``redis://host:6379/1`` for a cache shared by all workers; without it, a per-process memory cache."""
    value = _raw(name)
    if not value:
        return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "yiwang"}
    if not value.startswith(("redis://", "rediss://")):
        raise ImproperlyConfigured(f"{name} must be a redis:// URL, got {value.split(':', 1)[0]!r}")
    return {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": value}
