"""Caching of public pages.

A published version never changes (docs/decisions/0003), so its rendered guide can be kept as long as
it is in the cache; only *which* version is current is looked up on each request. List pages (home,
search, browse) depend on what is current, so their keys carry the catalogue generation, which each
publication moves on, and they expire after ``YIWANG_PAGE_CACHE_SECONDS`` in any case (planned dates
take effect without a publication event). Only anonymous GET requests are served from the cache: a page
for a signed-in user may carry personal content.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.utils.translation import get_language

from yiwang.catalogue.selectors import catalogue_generation

GUIDE_SECONDS = 24 * 3600
View = Callable[..., HttpResponse]


def _cacheable(request: HttpRequest) -> bool:
    return request.method == "GET" and not request.user.is_authenticated


def _key(prefix: str, request: HttpRequest, *parts: object) -> str:
    raw = "|".join([get_language() or "", request.get_full_path(), *map(str, parts)])
    return f"portal:{prefix}:{hashlib.sha256(raw.encode()).hexdigest()}"


def cached_or_render(request: HttpRequest, key_parts: tuple[object, ...], seconds: int, render: View) -> HttpResponse:
    if not _cacheable(request) or seconds <= 0:
        return render()
    key = _key("page", request, *key_parts)
    content = cache.get(key)
    if content is not None:
        return HttpResponse(content)
    response = render()
    if response.status_code == 200:
        cache.set(key, response.content, seconds)
    return response


def cached_list_page(view: View) -> View:
    """Cache a page that lists current items, keyed by the catalogue generation."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return cached_or_render(
            request,
            (view.__name__, catalogue_generation()),
            settings.YIWANG_PAGE_CACHE_SECONDS,
            lambda: view(request, *args, **kwargs),
        )

    return wrapper
