"""The licence as a PDF: one A4 page from the type's layout, in Chinese, with the CJK font embedded and a QR code
that opens the verification page. Sealing (``sealing.seal_pdf``) comes after.

Why an embedded TrueType font: a licence must look the same in every reader, years from now. reportlab's built-in
CJK fonts (STSong-Light) are references the reader substitutes, and the Noto CJK collections Debian ships are CFF
outlines reportlab cannot embed, so the font is a TrueType (glyf) CJK font: ``YIWANG_LICENCE_FONT`` if set, else
the first of ``FONT_CANDIDATES`` present (Debian: fonts-wqy-zenhei; Droid Sans Fallback has no Latin digits).
Only the glyphs used are embedded (a subset), which keeps a licence near 25 KB.

Why the QR code is drawn here and not with reportlab's widget: the widget builds one shape object per module and
cost ~55 ms a page; the matrix from ``qrcode`` drawn as one path costs ~3 ms.
"""

from __future__ import annotations

import datetime as dt
import io
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import qrcode
from django.conf import settings
from django.utils.translation import gettext as _
from reportlab.lib.colors import Color, black
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from yiwang.common.errors import InvalidTransition

FONT_NAME = "YiwangLicenceCJK"
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
)
# Where a verifier finds the licence in a PDF without reading its page: the document information's Subject.
IDENTIFIER_KEY = "/Subject"
SEAL_RED = Color(0.80, 0.07, 0.07)
GREY = Color(0.35, 0.35, 0.35)


class NoLicenceFont(InvalidTransition):
    pass


def font_path() -> Path | None:
    configured = getattr(settings, "YIWANG_LICENCE_FONT", "")
    candidates = [configured] if configured else list(FONT_CANDIDATES)
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    return None


@lru_cache(maxsize=1)
def _register(path: str) -> str:
    # Parsing a CJK font takes ~80 ms: once per process.
    pdfmetrics.registerFont(TTFont(FONT_NAME, path, subfontIndex=0))
    return FONT_NAME


def font() -> str:
    path = font_path()
    if path is None:
        raise NoLicenceFont(
            _(
                "No CJK TrueType font to embed in licences: install fonts-wqy-zenhei, "
                "or set YIWANG_LICENCE_FONT to a .ttf/.ttc file."
            )
        )
    return _register(str(path))


@dataclass(frozen=True)
class LicenceDocument:
    """What one licence page shows (already in the language of the licence: Chinese)."""

    title: str
    identifier: str
    serial: str
    holder_label: str
    holder_name: str
    holder_code_label: str
    holder_code: str
    rows: Sequence[tuple[str, str]]
    issuer_name: str
    issued_on: dt.date
    valid_from: dt.date
    valid_until: dt.date | None
    verify_url: str
    # A reuse copy (加注件): the annotation printed across the top, STANDARDS.md §8.
    annotation: str = ""
    extra: dict[str, str] = field(default_factory=dict)


def _date(day: dt.date | None) -> str:
    return f"{day.year}年{day.month}月{day.day}日" if day else "长期"


def _wrap(text: str, font_name: str, size: float, width: float) -> list[str]:
    lines: list[str] = []
    current = ""
    for char in text:
        if pdfmetrics.stringWidth(current + char, font_name, size) > width and current:
            lines.append(current)
            current = char
        else:
            current += char
    if current:
        lines.append(current)
    return lines or [""]


def _qr(canvas: Canvas, data: str, x: float, y: float, size: float) -> None:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0, mask_pattern=0)
    code.add_data(data)
    code.make(fit=True)
    matrix = code.get_matrix()
    cell = size / len(matrix)
    path = canvas.beginPath()
    top = y + size
    for r, row in enumerate(matrix):
        c = 0
        while c < len(row):
            if row[c]:
                start = c
                while c < len(row) and row[c]:
                    c += 1
                path.rect(x + start * cell, top - (r + 1) * cell, (c - start) * cell, cell)
            else:
                c += 1
    canvas.setFillColor(black)
    canvas.drawPath(path, stroke=0, fill=1)


def _seal_mark(canvas: Canvas, font_name: str, name: str, cx: float, cy: float) -> None:
    """The seal's visible mark (the signature itself is the PAdES seal): a red ring, a star and the issuer."""
    canvas.saveState()
    canvas.setStrokeColor(SEAL_RED)
    canvas.setFillColor(SEAL_RED)
    canvas.setLineWidth(2.2)
    canvas.circle(cx, cy, 21 * mm, stroke=1, fill=0)
    star = canvas.beginPath()
    for i in range(10):
        radius = 6 * mm if i % 2 == 0 else 2.4 * mm
        angle = math.pi / 2 + i * math.pi / 5
        point = (cx + radius * math.cos(angle), cy + 2 * mm + radius * math.sin(angle))
        star.moveTo(*point) if i == 0 else star.lineTo(*point)
    star.close()
    canvas.drawPath(star, stroke=0, fill=1)
    size = 9.0
    lines = _wrap(name, font_name, size, 34 * mm)[:2]
    for i, line in enumerate(lines):
        canvas.setFont(font_name, size)
        canvas.drawCentredString(cx, cy - 8 * mm - i * (size + 2), line)
    canvas.restoreState()


def render(doc: LicenceDocument) -> bytes:
    """One A4 page; the identifier also goes into the document information (``IDENTIFIER_KEY``), which the seal
    covers."""
    font_name = font()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, pageCompression=1, invariant=1)
    canvas.setTitle(doc.title)
    canvas.setSubject(doc.identifier)
    canvas.setAuthor(doc.issuer_name)
    canvas.setCreator("Yiwang")
    width, height = A4
    left, right = 25 * mm, width - 25 * mm

    canvas.setStrokeColor(SEAL_RED)
    canvas.setLineWidth(1.5)
    canvas.rect(15 * mm, 15 * mm, width - 30 * mm, height - 30 * mm)
    y = height - 32 * mm
    if doc.annotation:
        canvas.setFillColor(SEAL_RED)
        canvas.setFont(font_name, 10)
        for line in _wrap(doc.annotation, font_name, 10, right - left):
            canvas.drawString(left, y, line)
            y -= 14
        y -= 6
    canvas.setFillColor(black)
    canvas.setFont(font_name, 26)
    canvas.drawCentredString(width / 2, y - 14, doc.title)
    y -= 44
    canvas.setFont(font_name, 10)
    canvas.setFillColor(GREY)
    canvas.drawCentredString(width / 2, y, f"编号：{doc.serial}")
    y -= 34

    label_width = 42 * mm
    rows = [
        (doc.holder_label, doc.holder_name),
        (doc.holder_code_label, doc.holder_code),
        *doc.rows,
        ("有效期限", f"{_date(doc.valid_from)} 至 {_date(doc.valid_until)}"),
    ]
    for label, value in rows:
        canvas.setFillColor(GREY)
        canvas.setFont(font_name, 12)
        canvas.drawString(left, y, label)
        canvas.setFillColor(black)
        lines = _wrap(value or "—", font_name, 12, right - left - label_width)
        for line in lines:
            canvas.drawString(left + label_width, y, line)
            y -= 20
        y -= 6

    # Bottom block: issuer, date and seal on the right; QR code and identifier on the left.
    # Over the issuer and date, as a paper seal sits (its own text clear of theirs).
    _seal_mark(canvas, font_name, doc.issuer_name, right - 30 * mm, 68 * mm)
    canvas.setFillColor(black)
    canvas.setFont(font_name, 12)
    canvas.drawRightString(right - 5 * mm, 48 * mm, doc.issuer_name)
    canvas.drawRightString(right - 5 * mm, 41 * mm, f"发证日期：{_date(doc.issued_on)}")
    _qr(canvas, doc.verify_url, left, 35 * mm, 32 * mm)
    canvas.setFont(font_name, 8)
    canvas.setFillColor(GREY)
    canvas.drawString(left, 30 * mm, "扫码核验 · 电子证照标识")
    canvas.drawString(left, 25 * mm, doc.identifier)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
