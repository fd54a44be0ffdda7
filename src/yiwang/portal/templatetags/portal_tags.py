"""Template helpers of the public portal: search-term highlighting and the language switcher."""

from __future__ import annotations

import re
from typing import Any

from django import template
from django.conf import settings
from django.urls import translate_url
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language, get_language_info

register = template.Library()


@register.filter
def highlight(text: Any, terms: list[str] | None) -> SafeString:
    """``text`` escaped, each case-insensitive occurrence of a search term wrapped in ``<mark>``."""
    value = str(text or "")
    spans: list[tuple[int, int]] = []
    for term in terms or []:
        if term:
            spans.extend((m.start(), m.end()) for m in re.finditer(re.escape(term), value, flags=re.IGNORECASE))
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    parts: list[str] = []
    position = 0
    for start, end in merged:
        parts.append(escape(value[position:start]))
        parts.append(f"<mark>{escape(value[start:end])}</mark>")
        position = end
    parts.append(escape(value[position:]))
    return mark_safe("".join(parts))  # noqa: S308 - every piece of text is escaped above


@register.filter
def join_list(values: Any) -> str:
    """A list as a language reads it: 甲、乙、丙 in Chinese, "a, b, c" otherwise (auto-escaped by the caller)."""
    separator = "、" if (get_language() or settings.LANGUAGE_CODE).startswith("zh") else ", "
    return separator.join(str(v) for v in values or [])


@register.simple_tag(takes_context=True)
def language_links(context: dict[str, Any]) -> list[dict[str, Any]]:
    """The current page in every configured language: code, native name, URL and whether it is current."""
    request = context.get("request")
    path = request.get_full_path() if request is not None else "/"
    current = get_language() or settings.LANGUAGE_CODE
    links = []
    for code, _name in settings.LANGUAGES:
        info = get_language_info(code)
        links.append(
            {
                "code": code,
                "tag": bcp47(code),
                "name": info["name_local"],
                "url": translate_url(path, code),
                "current": code == current,
            }
        )
    return links


def bcp47(code: str) -> str:
    """Django's language code as a BCP 47 tag: ``zh-hans`` → ``zh-Hans``."""
    language, _sep, script = code.partition("-")
    return f"{language}-{script.title()}" if len(script) == 4 else code


@register.simple_tag
def html_lang() -> str:
    """The BCP 47 tag of the active language for ``<html lang>``."""
    return bcp47(get_language() or settings.LANGUAGE_CODE)
