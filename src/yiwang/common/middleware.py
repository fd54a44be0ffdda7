"""API language negotiation.

Pages carry their language in the URL (Chinese at ``/``, English at ``/en/``), so Django's
LocaleMiddleware treats every unprefixed path as Chinese. API clients have no URL prefix to choose
with; they ask with ``Accept-Language``, which this middleware honours for ``/api/`` paths.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import translation

API_PREFIX = "/api/"


class ApiLanguageMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info.startswith(API_PREFIX):
            language = translation.get_language_from_request(request, check_path=False)
            translation.activate(language)
            request.LANGUAGE_CODE = language
        response = self.get_response(request)
        if request.path_info.startswith(API_PREFIX):
            response.headers.setdefault("Content-Language", translation.get_language())
            response.headers["Vary"] = ", ".join(filter(None, [response.headers.get("Vary"), "Accept-Language"]))
        return response
