"""Template tags of the staff case pages: the navigation links a viewer's roles open, and table columns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import template

from yiwang.workbench import case_display

register = template.Library()


@register.simple_tag
def case_pages(user: Any) -> list[case_display.PageLink]:
    """The case pages (queue, cases, walk-in, supervision) that ``user``'s roles open, in menu order."""
    return case_display.case_pages_for(user)


@dataclass(frozen=True)
class Column:
    label: str
    numeric: bool = False  # right-aligned figures
    hidden: bool = False  # named for screen readers only (a column of buttons)


@register.simple_tag
def columns(*labels: Any, numeric: int = 0, hidden: Any = "") -> list[Column]:
    """The header of a table (``table_head.html``), written where the table is:
    ``{% columns _("Step") _("Due") as head %}``. ``numeric``: how many of the last labels head figures;
    ``hidden``: a last column named for screen readers only."""
    first_numeric = len(labels) - numeric
    found = [Column(str(label), numeric=index >= first_numeric) for index, label in enumerate(labels)]
    return [*found, Column(str(hidden), hidden=True)] if hidden else found
