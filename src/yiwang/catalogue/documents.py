"""Generated documents for the demo catalogue: a simple, real one-page A4 PDF for every blank form
(空白表格), material sample (示例样表) and result sample (结果样本) that the demo items reference.

The PDFs use reportlab's built-in CID font ``STSong-Light`` (Adobe-GB1): PDF readers supply the glyphs,
so no font file is shipped or embedded. Output is deterministic (``invariant``), so the same document
always has the same bytes and hash.
"""

from __future__ import annotations

import io
import posixpath
from collections.abc import Iterable

from django.core.files.base import ContentFile
from reportlab.lib.colors import Color, HexColor
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

from yiwang.audit.actors import Actor
from yiwang.catalogue import services
from yiwang.catalogue.models import Attachment, ItemVersion
from yiwang.catalogue.selectors import DocumentReference, document_references

FONT = "STSong-Light"
KIND_LINES = {"blank_form": "空白表格", "sample": "示例样表", "result_sample": "结果样本"}

# (label, example value shown on samples)
FORM_FIELDS = [
    ("申请人（单位）名称", "杭州示例科技有限公司"),
    ("统一社会信用代码／证件号码", "91330106MA0000000X"),
    ("住所（地址）", "浙江省杭州市西湖区示例路1号"),
    ("联系人", "张三"),
    ("联系电话", "0571-00000000"),
    ("申请内容", "按本事项办事指南申请办理"),
    ("申请人签字（盖章）", "张三"),
    ("日期", "2025年1月1日"),
]
RESULT_FIELDS = [
    ("编号", "示例 No. 0000001"),
    ("名称（持有人）", "杭州示例科技有限公司"),
    ("统一社会信用代码／证件号码", "91330106MA0000000X"),
    ("住所（地址）", "浙江省杭州市西湖区示例路1号"),
    ("许可（批准）内容", "按本事项办事指南核准的内容"),
    ("有效期限", "2025年1月1日至2030年12月31日"),
    ("发证日期", "2025年1月1日"),
]

_WIDTH, _HEIGHT = A4
_MARGIN = 64.0
_INK = HexColor("#1f2933")
_FILLED = HexColor("#1d4ed8")  # example values on samples, as if written in
_RULE = HexColor("#9aa5b1")


def _font() -> str:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def _wrap(text: str, size: float, width: float) -> list[str]:
    """Break text to fit ``width``; Chinese has no spaces, so break between any two characters."""
    lines: list[str] = []
    line = ""
    for char in text:
        if line and pdfmetrics.stringWidth(line + char, FONT, size) > width:
            lines.append(line)
            line = ""
        line += char
    return [*lines, line] if line else lines


def render_document(*, title: str, item_name: str, body: str, kind: str) -> bytes:
    """One A4 page: the title, the item and its implementing body, the kind of document and labelled
    lines; samples have example values filled in and a "样本" watermark."""
    font = _font()
    is_sample = kind != "blank_form"
    buffer = io.BytesIO()
    pdf = Canvas(buffer, pagesize=A4, invariant=True)
    pdf.setTitle(title)
    pdf.setSubject(f"{item_name} · {KIND_LINES[kind]}")
    pdf.setAuthor(body)
    pdf.setCreator("Yiwang demo")

    if is_sample:
        pdf.saveState()
        pdf.setFillColor(Color(0.85, 0.15, 0.15, alpha=0.12))
        pdf.setFont(font, 150)
        pdf.translate(_WIDTH / 2, _HEIGHT / 2 - 40)
        pdf.rotate(35)
        pdf.drawCentredString(0, -50, "样本")
        pdf.restoreState()

    y = _HEIGHT - _MARGIN - 10
    pdf.setFillColor(_INK)
    for line in _wrap(title, 20, _WIDTH - 2 * _MARGIN):
        pdf.setFont(font, 20)
        pdf.drawCentredString(_WIDTH / 2, y, line)
        y -= 28
    y -= 4
    pdf.setFont(font, 11)
    for line in [*_wrap(f"事项：{item_name}", 11, _WIDTH - 2 * _MARGIN), f"实施主体：{body}"]:
        pdf.drawCentredString(_WIDTH / 2, y, line)
        y -= 17
    y -= 6
    label = KIND_LINES[kind]
    pdf.setFont(font, 13)
    box_width = pdfmetrics.stringWidth(label, font, 13) + 20
    pdf.setStrokeColor(_INK)
    pdf.rect(_WIDTH / 2 - box_width / 2, y - 6, box_width, 22)
    pdf.drawCentredString(_WIDTH / 2, y, label)
    y -= 48

    fields = RESULT_FIELDS if kind == "result_sample" else FORM_FIELDS
    for name, example in fields:
        pdf.setFillColor(_INK)
        pdf.setFont(font, 12)
        pdf.drawString(_MARGIN, y, f"{name}：")
        start = _MARGIN + 190
        pdf.setStrokeColor(_RULE)
        pdf.line(start, y - 4, _WIDTH - _MARGIN, y - 4)
        if is_sample:
            pdf.setFillColor(_FILLED)
            pdf.drawString(start + 6, y, example)
        y -= 40
    if kind == "result_sample":
        pdf.setFillColor(_INK)
        pdf.setFont(font, 12)
        pdf.drawString(_MARGIN, y, f"发证机关：{body}（印章）")
        y -= 40

    pdf.setFillColor(_RULE)
    pdf.setFont(font, 9)
    pdf.drawCentredString(_WIDTH / 2, _MARGIN / 2, "一网通办演示数据生成，仅供演示，不作为办事依据。")
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def attach_generated_documents(*, actor: Actor, implementation_codes: Iterable[str]) -> int:
    """Attach a generated PDF for every document reference in the latest version of each item that has no
    file yet (idempotent: attached references are left alone). Returns how many were attached."""
    latest: dict[int, ItemVersion] = {}
    versions = ItemVersion.objects.filter(implementation_code__in=list(implementation_codes)).select_related(
        "item", "department"
    )
    for version in versions.order_by("item_id", "number"):
        latest[version.item_id] = version
    attached = set(Attachment.objects.filter(item_id__in=latest).values_list("item_id", "reference"))
    count = 0
    for version in latest.values():
        first: dict[str, DocumentReference] = {}
        for ref in document_references(version.content):
            first.setdefault(ref.reference, ref)
        for ref in first.values():
            if (version.item_id, ref.reference) in attached or not ref.reference.lower().endswith(".pdf"):
                continue
            pdf = render_document(title=ref.title, item_name=version.name, body=version.department.name, kind=ref.kind)
            services.attach_document(
                actor=actor,
                item=version.item,
                reference=ref.reference,
                upload=ContentFile(pdf, name=posixpath.basename(ref.reference)),
            )
            count += 1
    return count
