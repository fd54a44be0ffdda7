"""The message centre pages: an applicant's at /my/messages/ (portal), a staff member's at /workbench/messages/.

Both list the signed-in user's own messages, newest first, each rendered in the page's language, and mark
them read by POST. Views stay thin: reads through ``selectors``, writes through ``services``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

from django.conf import settings
from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, translate_url
from django.utils import translation
from django.utils.translation import get_language, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from yiwang.common.errors import NotFound
from yiwang.notifications import kinds, selectors, services
from yiwang.notifications.models import Message
from yiwang.portal.views import not_found
from yiwang.workbench.views import staff_page, tasks_for

PAGE_SIZE = 20


@dataclass(frozen=True)
class Row:
    message: Message
    subject: str
    body: str
    link: str


def _row(message: Message) -> Row:
    subject, body = kinds.render(message.kind, message.params)
    link = ""
    if message.link:
        # Links are stored as the default language's (unprefixed) path: resolve it as such, then give the same
        # page in the reader's language (/en/… for English). A path Django cannot resolve stays as it is.
        reader = get_language()
        with translation.override(settings.LANGUAGE_CODE):
            link = translate_url(message.link, reader)
    return Row(message, subject, body, link)


def _list_context(request: HttpRequest, read_url: str) -> dict[str, Any]:
    unread_only = request.GET.get("unread") == "1"
    rows = selectors.inbox(request.user, unread_only=unread_only)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return {
        "page": page,
        "rows": [_row(m) for m in page.object_list],
        "unread_only": unread_only,
        "unread_total": selectors.unread_count(request.user),
        "read_url": read_url,
    }


def _mark_read(request: HttpRequest, list_url: str) -> HttpResponse:
    user = cast(User, request.user)  # behind login: a signed-in auth.User
    try:
        if request.POST.get("all"):
            count = services.mark_all_read(actor=user)
        else:
            count = services.mark_read(actor=user, message_ids=request.POST.getlist("message"))
    except NotFound as exc:
        return not_found(request, str(exc.message))
    if count:
        flash.success(
            request,
            ngettext("%(count)d message marked read.", "%(count)d messages marked read.", count) % {"count": count},
        )
    page = request.POST.get("page", "")
    return redirect(f"{list_url}?page={page}" if page.isdigit() else list_url)


@never_cache
@login_required
@require_http_methods(["GET", "HEAD"])
def portal_messages(request: HttpRequest) -> HttpResponse:
    context = _list_context(request, reverse("portal:messages_read"))
    return render(request, "notifications/portal_messages.html", context)


@never_cache
@login_required
@require_POST
def portal_mark_read(request: HttpRequest) -> HttpResponse:
    return _mark_read(request, reverse("portal:messages"))


@never_cache
@require_http_methods(["GET", "HEAD"])
@staff_page("workbench.enter")
def workbench_messages(request: HttpRequest) -> HttpResponse:
    context = _list_context(request, reverse("workbench:messages_read"))
    context.update({"tasks": tasks_for(request.user), "current": "messages", "nav": "workbench"})
    return render(request, "notifications/workbench_messages.html", context)


@never_cache
@require_POST
@staff_page("workbench.enter")
def workbench_mark_read(request: HttpRequest) -> HttpResponse:
    return _mark_read(request, reverse("workbench:messages"))
