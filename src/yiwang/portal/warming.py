"""Rendering guides into the page cache ahead of the first visitor.

A published version never changes, so its guide page can be rendered once, when it is published, into
the shared cache (``YIWANG_CACHE_URL``): visitors then get it without template rendering. The page is
rendered through the guide view itself with an anonymous request for the public URL, so the cached entry
is exactly the one a visitor's request looks up (decision 0005).
"""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory
from django.urls import reverse
from django.utils import translation

from yiwang.catalogue import selectors

logger = logging.getLogger(__name__)


def warm_guide(implementation_code: str, language: str) -> bool:
    """Render the current guide of an item in one language into the cache; False if there is none."""
    if not settings.YIWANG_PAGE_CACHE_SECONDS:
        return False
    from yiwang.portal import views  # the view module imports this app's caching helpers

    host = urlsplit(settings.YIWANG_PUBLIC_BASE_URL).netloc or "localhost"
    with translation.override(language):
        path = reverse("portal:guide", args=[implementation_code])
        request = RequestFactory(HTTP_HOST=host).get(path)
        request.user = AnonymousUser()
        request.LANGUAGE_CODE = language
        response = views.guide(request, implementation_code)
    return response.status_code == 200


def warm_published_version(message: dict[str, Any]) -> None:
    """Outbox handler for ``catalogue.version.published``: pre-render the guide if it is now in force."""
    code = message["payload"].get("implementation_code")
    if not code or selectors.current_version_of(code) is None:
        return  # published for a later date: rendered by its first visitor instead
    for language, _name in settings.LANGUAGES:
        try:
            warm_guide(code, language)
        except Exception:  # warming is an optimisation: never fail the delivery of the event for it
            logger.exception("could not pre-render the guide of %s", code)
