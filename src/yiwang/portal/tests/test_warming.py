"""Guides are rendered into the cache when published, so the first visitor gets them without rendering."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings
from django.utils import translation

pytestmark = pytest.mark.django_db


def rendered_on_request(client: Client, url: str) -> bool:
    # A cached guide costs the current-version lookup and no rendering; rendering adds the attachments query.
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return any("catalogue_attachment" in q["sql"] and "SELECT" in q["sql"] for q in queries.captured_queries)


def test_publishing_renders_the_guide_in_both_languages(
    client: Client, published: Any, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        version = published()
    code = version.implementation_code
    assert not rendered_on_request(client, f"/items/{code}/")
    assert not rendered_on_request(client, f"/en/items/{code}/")


def test_without_warming_the_first_visit_renders(client: Client, published: Any) -> None:
    version = published()  # on-commit callbacks (and so the outbox) do not run here
    assert rendered_on_request(client, f"/items/{version.implementation_code}/")


def test_the_command_warms_every_current_guide(
    client: Client, published: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    codes = [published().implementation_code for _ in range(3)]
    with translation.override("en"):
        call_command("warm_guides", "--language", "zh-hans")
    assert "3 guide pages rendered into the cache." in capsys.readouterr().out
    for code in codes:
        assert not rendered_on_request(client, f"/items/{code}/")
    assert rendered_on_request(client, f"/en/items/{codes[0]}/")


@override_settings(YIWANG_PAGE_CACHE_SECONDS=0)
def test_nothing_is_warmed_when_page_caching_is_off(published: Any) -> None:
    from yiwang.portal.warming import warm_guide

    assert warm_guide(published().implementation_code, "zh-hans") is False
