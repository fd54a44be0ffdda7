"""Public pages are cached for anonymous visitors and never served stale after a publication."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from yiwang.catalogue import services

pytestmark = pytest.mark.django_db


def test_search_page_is_cached_and_a_publication_refreshes_it(
    client: Client, published: Any, publisher: Any, content: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        first = published()
    page = client.get("/en/search/", {"q": "个体"}).content.decode()
    assert first.implementation_code in page
    # Served from the cache: no query at all.
    with CaptureQueriesContext(connection) as queries:
        again = client.get("/en/search/", {"q": "个体"}).content.decode()
    assert again == page
    assert len(queries.captured_queries) <= 1  # at most the session/auth lookup
    with django_capture_on_commit_callbacks(execute=True):
        second = published()
    fresh = client.get("/en/search/", {"q": "个体"}).content.decode()
    assert second.implementation_code in fresh


def test_guide_page_follows_the_current_version(
    client: Client, published: Any, publisher: Any, django_capture_on_commit_callbacks: Any
) -> None:
    version = published()
    url = f"/en/items/{version.implementation_code}/"
    assert "9:00–17:00" in client.get(url).content.decode()
    draft = services.save_draft(actor=publisher, content={**version.content, "hours": "全天 24 小时"})
    services.submit_for_review(actor=publisher, version=draft)
    draft.refresh_from_db()
    services.publish(actor=publisher, version=draft)
    # The cached render of version 1 is keyed by that version: version 2 shows at once.
    assert "全天 24 小时" in client.get(url).content.decode()


def test_signed_in_users_are_never_served_from_the_cache(client: Client, published: Any, citizen: Any) -> None:
    version = published()
    client.get(f"/en/items/{version.implementation_code}/")
    client.force_login(citizen)
    with CaptureQueriesContext(connection) as queries:
        client.get(f"/en/items/{version.implementation_code}/")
    assert any("catalogue_itemversion" in q["sql"] for q in queries.captured_queries)
