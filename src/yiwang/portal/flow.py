"""The process flow diagram of a service guide, drawn server-side as inline SVG.

Each step of ``content["process"]`` becomes a numbered box with its name (wrapped onto up to three
lines), its time limit and who handles it; boxes are joined by arrows left to right and wrap into
further rows when there are more than fit, the connector running down and back to the start of the
next row so the diagram always reads in the same direction. The SVG scales with its container
(``viewBox``), needs no script or font download, and carries a ``<title>`` naming every step; the guide
page also lists the steps as an ordered list for screen readers and print.
"""

from __future__ import annotations

import itertools
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from yiwang.portal.labels import time_limit_text

BOX_WIDTH = 168
H_GAP = 40  # room for the arrow between two boxes
V_GAP = 44  # room for the connector between two rows
MARGIN = 8
NAME_SIZE = 15
NAME_LINE = 20
DETAIL_SIZE = 12
DETAIL_LINE = 17
PADDING_TOP = 34  # below the step number badge
PADDING_BOTTOM = 12
TEXT_WIDTH = BOX_WIDTH - 20
MAX_NAME_LINES = 3


@dataclass(frozen=True)
class FlowStep:
    number: int
    name: str
    time_limit: str
    handled_by: str
    description: str


@dataclass(frozen=True)
class Placed:
    step: FlowStep
    x: int
    y: int
    row: int


def steps_from_process(
    process: Sequence[Mapping[str, Any]] | None,
    *,
    limit_text: Callable[[Mapping[str, Any] | None], str] = time_limit_text,
) -> list[FlowStep]:
    return [
        FlowStep(
            number=index,
            name=str(step.get("name", "")),
            time_limit=limit_text(step.get("time_limit")),
            handled_by=str(step.get("handled_by", "")),
            description=str(step.get("description", "")),
        )
        for index, step in enumerate(process or [], start=1)
    ]


def _char_width(char: str, size: int) -> float:
    """An estimate good enough for wrapping: CJK and full-width glyphs are one em, Latin about half."""
    if unicodedata.east_asian_width(char) in ("W", "F"):
        return float(size)
    if char in "iljtf.,:;'|!() ":
        return size * 0.32
    if char.isupper() or char in "mwMW":
        return size * 0.7
    return size * 0.55


def text_width(text: str, size: int) -> float:
    return sum(_char_width(c, size) for c in text)


def wrap(text: str, size: int, width: float = TEXT_WIDTH, max_lines: int = MAX_NAME_LINES) -> list[str]:
    """Break ``text`` into lines no wider than ``width``: at spaces for Latin text, anywhere for CJK."""
    lines: list[str] = []
    current = ""
    for token in _tokens(text):
        candidate = current + token
        if current and text_width(candidate.rstrip(), size) > width:
            lines.append(current.rstrip())
            current = token.lstrip()
        else:
            current = candidate
        while text_width(current.rstrip(), size) > width:  # a single token longer than a line
            cut = _fit(current, size, width)
            lines.append(current[:cut])
            current = current[cut:]
    if current.strip():
        lines.append(current.rstrip())
    if len(lines) > max_lines:
        last = lines[max_lines - 1]
        while last and text_width(last + "…", size) > width:
            last = last[:-1]
        lines = [*lines[: max_lines - 1], last + "…"]
    return lines or [""]


def _tokens(text: str) -> list[str]:
    """Words with their trailing space for Latin text; each wide character on its own."""
    tokens: list[str] = []
    word = ""
    for char in " ".join(text.split()):
        if unicodedata.east_asian_width(char) in ("W", "F"):
            if word:
                tokens.append(word)
                word = ""
            tokens.append(char)
        elif char == " ":
            tokens.append(word + " ")
            word = ""
        else:
            word += char
    if word:
        tokens.append(word)
    return tokens


def _fit(text: str, size: int, width: float) -> int:
    used = 0.0
    for index, char in enumerate(text):
        used += _char_width(char, size)
        if used > width:
            return max(index, 1)
    return len(text)


def _box_height(steps: Sequence[FlowStep]) -> int:
    name_lines = max(len(wrap(s.name, NAME_SIZE)) for s in steps)
    details = max(int(bool(s.time_limit)) + int(bool(s.handled_by)) for s in steps)
    return PADDING_TOP + name_lines * NAME_LINE + details * DETAIL_LINE + PADDING_BOTTOM


def layout(steps: Sequence[FlowStep], per_row: int) -> tuple[list[Placed], int, int, int]:
    """Positions of the boxes, and the box height and overall width and height of the drawing."""
    box_height = _box_height(steps)
    placed = []
    for index, step in enumerate(steps):
        row, column = divmod(index, per_row)
        x = MARGIN + column * (BOX_WIDTH + H_GAP)
        y = MARGIN + row * (box_height + V_GAP)
        placed.append(Placed(step, x, y, row))
    columns = min(len(steps), per_row)
    rows = (len(steps) + per_row - 1) // per_row
    width = 2 * MARGIN + columns * BOX_WIDTH + (columns - 1) * H_GAP
    height = 2 * MARGIN + rows * box_height + (rows - 1) * V_GAP
    return placed, box_height, width, height


def _box(placed: Placed, box_height: int) -> str:
    step, x, y = placed.step, placed.x, placed.y
    centre = x + BOX_WIDTH // 2
    parts = [
        f'<g class="flow-step" data-step="{step.number}">',
        f'<rect class="flow-box" x="{x}" y="{y}" width="{BOX_WIDTH}" height="{box_height}" rx="10" ry="10" '
        'fill="#ffffff" stroke="#1f5fa8" stroke-width="1.5"/>',
        f'<circle class="flow-badge" cx="{x + 18}" cy="{y + 18}" r="11" fill="#1f5fa8"/>',
        f'<text class="flow-number" x="{x + 18}" y="{y + 22}" text-anchor="middle" font-size="12" '
        f'font-weight="700" fill="#ffffff">{step.number}</text>',
    ]
    line_y = y + PADDING_TOP + NAME_SIZE - 2
    for line in wrap(step.name, NAME_SIZE):
        parts.append(
            f'<text class="flow-name" x="{centre}" y="{line_y}" text-anchor="middle" font-size="{NAME_SIZE}" '
            f'font-weight="600" fill="#0f2a4a">{escape(line)}</text>'
        )
        line_y += NAME_LINE
    for css, text, colour in (("flow-limit", step.time_limit, "#a34a00"), ("flow-handler", step.handled_by, "#4a5b70")):
        if text:
            short = wrap(text, DETAIL_SIZE, max_lines=1)[0]
            parts.append(
                f'<text class="{css}" x="{centre}" y="{line_y + 1}" text-anchor="middle" font-size="{DETAIL_SIZE}" '
                f'fill="{colour}">{escape(short)}</text>'
            )
            line_y += DETAIL_LINE
    parts.append("</g>")
    return "".join(parts)


def _connector(a: Placed, b: Placed, box_height: int, marker_id: str) -> str:
    if a.row == b.row:
        y = a.y + box_height // 2
        d = f"M{a.x + BOX_WIDTH} {y} H{b.x - 3}"
    else:  # down from the end of one row, back along the gap, down into the start of the next
        mid = a.y + box_height + V_GAP // 2
        d = f"M{a.x + BOX_WIDTH // 2} {a.y + box_height} V{mid} H{b.x + BOX_WIDTH // 2} V{b.y - 3}"
    return (
        f'<path class="flow-arrow" d="{d}" fill="none" stroke="#5b7fa8" stroke-width="2" '
        f'marker-end="url(#{marker_id})"/>'
    )


def balanced_columns(count: int, max_per_row: int) -> int:
    """Boxes per row so that rows are as even as possible: 6 steps at most 5 a row → 3 + 3, not 5 + 1."""
    rows = max(1, -(-count // max_per_row))
    return max(1, -(-count // rows))


def flow_svg(steps: Sequence[FlowStep], *, title: str, max_per_row: int = 5, variant: str = "wide") -> SafeString:
    """The diagram as inline SVG markup (empty when there are no steps). ``title`` names it for
    assistive technology; ``variant`` keeps element ids unique when a page holds a wide and a narrow
    drawing of the same process (shown by CSS media queries). Every string from the content is escaped."""
    if not steps:
        return mark_safe("")
    per_row = balanced_columns(len(steps), max_per_row)
    placed, box_height, width, height = layout(steps, per_row)
    summary = " → ".join(s.name for s in steps)
    title_id, marker_id = f"flow-title-{variant}", f"flow-arrowhead-{variant}"
    parts = [
        f'<svg class="flow-diagram flow-{variant}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" style="max-width: min(100%, {round(width * 1.2)}px)" '
        f'role="img" aria-labelledby="{title_id}" '
        "font-family=\"'Noto Sans CJK SC', 'PingFang SC', 'Microsoft YaHei', 'Source Han Sans SC', sans-serif\">",
        f'<title id="{title_id}">{escape(title)}: {escape(summary)}</title>',
        f'<defs><marker id="{marker_id}" viewBox="0 0 10 10" refX="8" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M0 0 L10 5 L0 10 z" fill="#5b7fa8"/></marker></defs>',
    ]
    parts.extend(_connector(a, b, box_height, marker_id) for a, b in itertools.pairwise(placed))
    parts.extend(_box(p, box_height) for p in placed)
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - built above from escaped content and numbers
