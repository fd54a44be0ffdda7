"""Template tags of the staff case pages: the navigation links a viewer's roles open, and table columns."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from yiwang.cases.progress import Deadline
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


# Per-row cells of the case tables, written in Python: a 50-row queue rendered them through two template includes
# per row, which cost ~20 ms of the page's ~50 ms of CPU (docs/performance.md).


@register.simple_tag
def case_link(number: str) -> SafeString:
    """A case number linking to its case file."""
    return format_html('<a href="{}"><code>{}</code></a>', reverse("workbench:case", args=[number]), number)


@register.simple_tag
def deadline_badge(deadline: Deadline) -> SafeString:
    """A deadline (cases.progress) in the staff's words: the due date with its colour, which is never the only
    signal (the label says it too). A stopped clock is said; without calendar cover only overdue is marked (the page
    says why)."""
    stopped = format_html('<span class="deadline-label">{}</span>', _("Clock stopped"))
    if deadline.date:
        label = str(case_display.COLOUR_LABELS.get(deadline.state, ""))
        shown = format_html(' <span class="deadline-label">{}</span>', label) if label else ""
        if not label and deadline.paused:
            shown = format_html(" {}", stopped)
        day = f"{deadline.date:%Y-%m-%d}"
        return format_html(
            '<span class="deadline deadline-{}"><span class="deadline-dot" aria-hidden="true"></span>'
            '<time datetime="{}">{}</time>{}</span>',
            deadline.colour,
            day,
            day,
            shown,
        )
    if deadline.paused:
        return format_html(
            '<span class="deadline deadline-none"><span class="deadline-dot" aria-hidden="true"></span>{}</span>',
            stopped,
        )
    return mark_safe('<span class="muted">—</span>')
