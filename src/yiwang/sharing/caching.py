"""What every exchange query needs and rarely changes — the resource with its fields, a consumer's grants on it,
a system's signing keys —
kept in the process, and dropped everywhere at once when any of them changes.

A generation token in the shared cache (Redis in production) names the current state; every query reads it
(one round trip) and a process whose copy was made under another token reloads. Any save or delete of a
resource, field, grant or key sets a new token at once and again after its transaction commits: at once, so the
writing process never answers from its old copy; after the commit, so no process can have cached, under the
new token, what it read before the commit. A revoked grant therefore stops answering on every worker with the
commit. With the per-process memory cache (no YIWANG_CACHE_URL, development) other processes see a change only
when their copy's age passes ``LOCAL_SECONDS``; production sets the cache URL (docs/configuration.md).
"""

from __future__ import annotations

import time
import uuid
from typing import Any

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import transaction
from django.db.models.signals import post_delete, post_save

from yiwang.sharing.constants import GrantStatus
from yiwang.sharing.models import Grant, Resource, ResourceField, SigningKey

GENERATION_KEY = "sharing:generation"
LOCAL_SECONDS = 30.0


class _Local:
    generation: object = None
    client: Any = None
    client_for: Any = None
    since = 0.0
    resources: dict[str, tuple[Resource, list[str]] | None] = {}
    grants: dict[tuple[int, int], list[Grant]] = {}
    keys: dict[tuple[int, str], SigningKey | None] = {}


def redis() -> Any | None:
    """The shared cache's Redis client, kept for the process; None when the cache is not Redis.

    Django's Redis cache makes a new client object for every call, and redis-py rebuilds its table of response
    callbacks each time: more CPU than the round trip itself, on every exchange query. The client draws on the
    cache's own connection pool (which redis-py makes fork-safe). Not public API of Django's cache; the values
    written through it (integers) are stored as the cache itself stores integers."""
    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        return None
    if _Local.client_for is not backend:
        _Local.client, _Local.client_for = backend._cache.get_client(write=True), backend
    return _Local.client


def _key() -> str:
    return str(caches["default"].make_and_validate_key(GENERATION_KEY))


def bump() -> None:
    client = redis()
    if client is not None:
        client.incr(_key())  # atomic; any change of value is a new generation
    else:
        caches["default"].set(GENERATION_KEY, uuid.uuid4().hex, timeout=None)


def _changed(**_kwargs: Any) -> None:
    bump()
    transaction.on_commit(bump)


for _model in (Resource, ResourceField, Grant, SigningKey):
    post_save.connect(_changed, sender=_model, dispatch_uid=f"sharing-cache-{_model.__name__}-save")
    post_delete.connect(_changed, sender=_model, dispatch_uid=f"sharing-cache-{_model.__name__}-delete")


def _generation() -> object:
    client = redis()
    if client is not None:
        key = _key()
        generation = client.get(key)
        if generation is None:  # a flushed or restarted Redis: a new generation (every process reloads)
            client.incr(key)
            generation = client.get(key)
        return generation
    cache = caches["default"]
    generation = cache.get(GENERATION_KEY)
    if generation is None:  # a cleared cache: start a new generation (everyone reloads)
        cache.add(GENERATION_KEY, uuid.uuid4().hex, timeout=None)
        generation = cache.get(GENERATION_KEY)
    return generation


def _current() -> type[_Local]:
    generation = _generation()
    now = time.monotonic()
    if generation != _Local.generation or now - _Local.since > LOCAL_SECONDS:
        _Local.generation, _Local.since = generation, now
        _Local.resources, _Local.grants, _Local.keys = {}, {}, {}
    return _Local


def resource(code: str) -> tuple[Resource, list[str]] | None:
    """The active resource with this code and its field codes in order, or None."""
    local = _current()
    if code not in local.resources:
        row = Resource.objects.filter(code=code, is_active=True).first()
        local.resources[code] = (
            None if row is None else (row, list(row.fields.order_by("position", "id").values_list("code", flat=True)))
        )
    return local.resources[code]


def approved_grants(consumer_id: int, resource_id: int) -> list[Grant]:
    """The consumer's approved grants on the resource (their dates are checked by the caller, on each query)."""
    local = _current()
    key = (consumer_id, resource_id)
    if key not in local.grants:
        rows = Grant.objects.filter(consumer_id=consumer_id, resource_id=resource_id, status=GrantStatus.APPROVED)
        local.grants[key] = list(rows.order_by("pk"))
    return local.grants[key]


def signing_key(application_id: int, key_id: str) -> SigningKey | None:
    """The client's current (not retired) key with this id, or None."""
    local = _current()
    key = (application_id, key_id)
    if key not in local.keys:
        local.keys[key] = SigningKey.objects.filter(
            application_id=application_id, key_id=key_id, retired_at__isnull=True
        ).first()
    return local.keys[key]
