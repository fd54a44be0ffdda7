"""The exchange's caches as production runs them: on the machine's real Redis, shared by every worker.

The rest of the suite runs on the per-process memory cache; here the cache is Redis, so the paths that only
run there are exercised: the generation token set with INCR on the cache's kept client, and the grant's rate
counted with one INCR + EXPIRE NX pipeline. Redis is required (CI starts one), as for the broker tests.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest
from django.contrib.auth.models import User
from django.core.cache import caches
from django.test import override_settings

from yiwang.cases.models import Case
from yiwang.catalogue.models import ItemVersion, Organisation
from yiwang.identity.tests.people import PEOPLE
from yiwang.sharing import caching, exchange
from yiwang.sharing.constants import GrantStatus, Refusal
from yiwang.sharing.exchange import Caller, Request
from yiwang.sharing.tests.factories import OFFICIAL, PURPOSE, make_grant, platform_resource, submit_case

pytestmark = [pytest.mark.broker, pytest.mark.django_db]

REDIS_URL = os.environ.get("YIWANG_TEST_SHARING_REDIS_URL", "redis://127.0.0.1:6379/8")


@pytest.fixture
def on_redis() -> Iterator[None]:
    cache = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL, "KEY_PREFIX": "t-sharing"}
    with override_settings(CACHES={"default": cache}):
        caches["default"].clear()
        yield
        caches["default"].clear()


@pytest.fixture
def case(citizen: User, published: Callable[..., ItemVersion]) -> Case:
    return submit_case(citizen, published())


def test_the_generation_is_a_redis_counter_that_every_change_moves(on_redis: None, department_a: Organisation) -> None:
    assert caching.redis() is not None
    first = caching._generation()
    grant = make_grant(platform_resource("population"), department_a)
    second = caching._generation()
    assert second != first
    grant.status = GrantStatus.REVOKED
    grant.save(update_fields=["status"])
    assert caching._generation() != second


def test_a_revoked_grant_stops_answering_at_once_on_redis(
    on_redis: None, department_a: Organisation, case: Case
) -> None:
    grant = make_grant(platform_resource("population"), department_a)
    request = Request("population", PEOPLE["citizen"].id_number, PURPOSE, str(case.number))
    assert exchange.query(Caller(department_a, OFFICIAL), request).found
    grant.status = GrantStatus.REVOKED
    grant.save(update_fields=["status"])
    with pytest.raises(exchange.Refused) as refused:
        exchange.query(Caller(department_a, OFFICIAL), request)
    assert refused.value.refusal == Refusal.NO_GRANT


def test_the_rate_is_counted_in_redis_and_the_window_expires(
    on_redis: None, department_a: Organisation, case: Case
) -> None:
    grant = make_grant(platform_resource("population"), department_a, rate_per_minute=2)
    request = Request("population", PEOPLE["citizen"].id_number, PURPOSE, str(case.number))
    for _ in range(2):
        exchange.query(Caller(department_a, OFFICIAL), request)
    with pytest.raises(exchange.Refused) as refused:
        exchange.query(Caller(department_a, OFFICIAL), request)
    assert refused.value.refusal == Refusal.RATE_LIMITED
    client = caching.redis()
    assert client is not None
    keys = list(client.scan_iter(match=f"*sharing:rate:{grant.pk}:*"))
    assert len(keys) == 1 and 0 < client.ttl(keys[0]) <= 90
