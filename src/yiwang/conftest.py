"""The shared fixture world: named personas, API clients and valid catalogue items."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Group, User
from django.core.cache import cache
from rest_framework.test import APIClient

from yiwang.audit.actors import SystemActor
from yiwang.catalogue import services
from yiwang.catalogue.tests.factories import item_content

PASSWORD = "correct horse battery staple"  # noqa: S105 - a test fixture password


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Each test starts with an empty cache: cached pages must not leak between tests."""
    cache.clear()


@pytest.fixture
def system() -> SystemActor:
    return SystemActor("test")


@pytest.fixture
def roles(db: Any, system: SystemActor) -> None:
    services.ensure_roles(actor=system)


def _user(username: str, group: str | None = None, **extra: Any) -> User:
    user = User.objects.create_user(username=username, password=PASSWORD, **extra)
    if group:
        user.groups.add(Group.objects.get(name=group))
    return user


@pytest.fixture
def manager(roles: None) -> User:
    """Catalogue manager: edits, imports and submits items; cannot publish."""
    return _user("manager", services.CATALOGUE_MANAGERS)


@pytest.fixture
def publisher(roles: None) -> User:
    """Catalogue publisher: everything a manager can do, plus publish and withdraw."""
    return _user("publisher", services.CATALOGUE_PUBLISHERS)


@pytest.fixture
def citizen(db: Any) -> User:
    """A logged-in member of the public: reads everything public, changes nothing."""
    return _user("citizen")


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture
def api_as() -> Callable[[User], APIClient]:
    def make(user: User) -> APIClient:
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make


@pytest.fixture
def content() -> Callable[..., dict[str, Any]]:
    return item_content


@pytest.fixture
def published(publisher: User) -> Callable[..., Any]:
    """Publish a valid item (optionally with overrides) and return its version."""

    def make(**overrides: Any) -> Any:
        draft = services.save_draft(actor=publisher, content=item_content(**overrides))
        services.submit_for_review(actor=publisher, version=draft)
        draft.refresh_from_db()
        return services.publish(actor=publisher, version=draft)

    return make
