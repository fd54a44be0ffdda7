"""Template tags of the staff case pages: the navigation links a viewer's roles open."""

from __future__ import annotations

from typing import Any

from django import template

from yiwang.workbench import case_display

register = template.Library()


@register.simple_tag
def case_pages(user: Any) -> list[case_display.PageLink]:
    """The case pages (queue, cases, walk-in, supervision) that ``user``'s roles open, in menu order."""
    return case_display.case_pages_for(user)
