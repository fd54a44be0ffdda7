"""The server-side flow diagram: layout, wrapping, escaping (no database)."""

from __future__ import annotations

import re

from yiwang.portal import flow


def _steps(*names: str) -> list[flow.FlowStep]:
    return flow.steps_from_process([{"name": n} for n in names])


def test_rows_are_balanced_and_wrap_with_a_connector_back_to_the_next_row() -> None:
    assert [flow.balanced_columns(n, 5) for n in (1, 4, 5, 6, 7, 11)] == [1, 4, 5, 3, 4, 4]
    svg = str(flow.flow_svg(_steps("申请", "受理", "审查", "决定", "办结", "送达", "归档"), title="流程"))
    boxes = re.findall(r'<rect class="flow-box" x="(\d+)" y="(\d+)"', svg)
    assert len(boxes) == 7
    assert len({y for _x, y in boxes}) == 2  # two rows: 4 + 3
    assert boxes[4][0] == boxes[0][0]  # the second row starts under the first
    arrows = re.findall(r'class="flow-arrow" d="([^"]*)"', svg)
    assert len(arrows) == 6
    assert sum(" V" in d for d in arrows) == 1  # one connector turns down into the next row


def test_long_names_wrap_and_are_cut_with_an_ellipsis() -> None:
    assert flow.wrap("申请", 15) == ["申请"]
    lines = flow.wrap("建设工程规划许可证核发之现场踏勘与专家评审及公示环节的办理", 15)
    assert len(lines) == 3 and lines[-1].endswith("…")
    assert all(flow.text_width(line, 15) <= flow.TEXT_WIDTH for line in lines)
    english = flow.wrap("Acceptance of the application", 15)
    assert english == ["Acceptance of the", "application"]


def test_step_details_and_escaping() -> None:
    steps = flow.steps_from_process(
        [
            {"name": "<b>受理</b>", "time_limit": {"value": 2, "unit": "working_day"}, "handled_by": "窗口 & 科室"},
            {"name": "办结"},
        ]
    )
    svg = str(flow.flow_svg(steps, title="Process <x>", variant="narrow"))
    assert "<b>" not in svg and "&lt;b&gt;受理&lt;/b&gt;" in svg
    assert "窗口 &amp; 科室" in svg
    assert 'id="flow-title-narrow"' in svg and "url(#flow-arrowhead-narrow)" in svg
    assert "Process &lt;x&gt;" in svg
    assert str(flow.flow_svg([], title="Process")) == ""
