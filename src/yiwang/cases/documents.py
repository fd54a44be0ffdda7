"""Case notices as PDF: 收件回执, 一次性告知书, 受理通知书, 不予受理通知书, 准予/不予决定书 and 督办单.

A notice is rendered from the JSON snapshot (``Notice.content``) frozen when it was issued, never from the
live case, so the document never changes after issue. Output is deterministic (reportlab ``invariant``):
the same content in the same language always gives the same bytes, so a re-download has the same hash.

Text uses reportlab's built-in CID font ``STSong-Light`` (Adobe-GB1) like ``catalogue/documents.py``: PDF
readers supply the glyphs, so no font file is shipped or embedded. The document speaks the active language
(zh-Hans by default); the snapshot's own values (names, reasons) are printed as issued.

The verification QR code is drawn with the ``qrcode`` package (already used for TOTP enrolment), so the
project has one QR encoder; its module matrix is drawn as vector rectangles in a form XObject, which keeps
the output deterministic and needs no raster image (no Pillow).
"""

from __future__ import annotations

import datetime as dt
import io
import itertools
from collections.abc import Callable, Mapping, Sequence
from typing import Any
from xml.sax.saxutils import escape

import qrcode
import qrcode.constants
import reportlab.lib.textsplit as rl_textsplit
import reportlab.platypus.paragraph as rl_paragraph
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, pgettext
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, KeepTogether, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from yiwang.cases.constants import NoticeKind, Provenance, TrustLevel, WarningLevel
from yiwang.common.masking import mask_id_number

NOTICE_KINDS = ("receipt", "correction", "acceptance", "refusal", "approval", "denial", "supervision")

FONT = "STSong-Light"
LATIN_FONT = "Times-Roman"
QR_FORM = "verify_qr"  # the form XObject holding the QR code (PDF name /FormXob.verify_qr)

_COMMON_KEYS = ("number", "case_number", "item_name", "department_name", "applicant_name", "issued_on")
_DELIVERY_METHODS = ("electronic", "pickup", "mail")

# GB/T 15834-2011 (标点符号用法): closing punctuation never starts a line. reportlab's CJK line breakers only
# know the Japanese set, so a line could begin with "，" or "。"; they let one character from this set hang
# into the margin instead. Both breakers read a module-level copy (multi-fragment paragraphs use
# platypus.paragraph's, single-fragment ones lib.textsplit's). Appending is idempotent and only affects
# CJK wrapping.
_CHINESE_CANNOT_START = "，。、；：！？）》〉」』】〕〗”’…—·％"
for _module in (rl_paragraph, rl_textsplit):
    if not _module.ALL_CANNOT_START.endswith(_CHINESE_CANNOT_START):
        _module.ALL_CANNOT_START += _CHINESE_CANNOT_START

_PAGE_WIDTH, _PAGE_HEIGHT = A4
_MARGIN = 25 * mm
_TEXT_WIDTH = _PAGE_WIDTH - 2 * _MARGIN
_INK = colors.HexColor("#1f2933")
_RULE = colors.HexColor("#9aa5b1")
_SHADE = colors.HexColor("#eef1f4")
_QR_SIZE = 34 * mm  # with its quiet zone


# ---------------------------------------------------------------------------------------------------------
# Content checks. A malformed snapshot is a programming error in the service that built it: ValueError.


class _Content:
    def __init__(self, content: Mapping[str, Any]) -> None:
        if not isinstance(content, Mapping):
            raise ValueError(f"notice content must be a mapping, not {type(content).__name__}")
        kind = content.get("kind")
        if kind not in NOTICE_KINDS:
            raise ValueError(f"notice content: unknown kind {kind!r} (expected one of {', '.join(NOTICE_KINDS)})")
        self.kind: str = kind
        self._content = content

    def _raw(self, key: str) -> Any:
        if key not in self._content:
            raise ValueError(f"{self.kind} notice content: {key!r} is missing")
        return self._content[key]

    def text(self, key: str, *, allow_empty: bool = False) -> str:
        value = self._raw(key)
        if not isinstance(value, str):
            raise ValueError(f"{self.kind} notice content: {key!r} must be a string, not {type(value).__name__}")
        if not allow_empty and not value.strip():
            raise ValueError(f"{self.kind} notice content: {key!r} is empty")
        return value.strip()

    def optional_text(self, key: str) -> str:
        return self.text(key, allow_empty=True) if self._content.get(key) is not None else ""

    def choice(self, key: str, allowed: Sequence[str]) -> str:
        value = self.text(key)
        if value not in allowed:
            raise ValueError(f"{self.kind} notice content: {key!r} is {value!r}, expected one of {', '.join(allowed)}")
        return value

    def day(self, key: str) -> dt.date:
        return _parse_date(self.kind, key, self.text(key))

    def optional_day(self, key: str) -> dt.date | None:
        value = self.text(key, allow_empty=True)
        return _parse_date(self.kind, key, value) if value else None

    def moment(self, key: str) -> dt.datetime:
        value = self.text(key)
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{self.kind} notice content: {key!r} is not an ISO 8601 datetime: {value!r}") from None
        if parsed.tzinfo is None:
            raise ValueError(f"{self.kind} notice content: {key!r} has no UTC offset: {value!r}")
        return parsed

    def flag(self, key: str) -> bool:
        value = self._raw(key)
        if not isinstance(value, bool):
            raise ValueError(f"{self.kind} notice content: {key!r} must be a boolean, not {type(value).__name__}")
        return value

    def rows(self, key: str, fields: Sequence[str]) -> list[dict[str, str]]:
        value = self._raw(key)
        if not isinstance(value, list):
            raise ValueError(f"{self.kind} notice content: {key!r} must be a list, not {type(value).__name__}")
        rows: list[dict[str, str]] = []
        for index, row in enumerate(value):
            if not isinstance(row, Mapping):
                raise ValueError(f"{self.kind} notice content: {key}[{index}] must be a mapping")
            for field in fields:
                if not isinstance(row.get(field), str) or not row[field].strip():
                    raise ValueError(f"{self.kind} notice content: {key}[{index}].{field} is missing or empty")
            rows.append({field: row[field].strip() for field in fields})
        return rows


def _parse_date(kind: str, key: str, value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{kind} notice content: {key!r} is not an ISO date (YYYY-MM-DD): {value!r}") from None


# ---------------------------------------------------------------------------------------------------------
# Text helpers. Every value from the snapshot is escaped before it goes into Paragraph markup.


def _mixed(text: str) -> str:
    """Plain text as Paragraph markup: escaped, line breaks kept, ASCII runs set in Times-Roman.

    STSong-Light's Latin glyphs come from whatever CJK font the reader substitutes, with metrics that rarely
    match; a standard-14 font has metrics every reader knows (and 宋体 with a Latin serif is the usual pairing).
    """
    parts: list[str] = []
    for latin, run in itertools.groupby("\n".join(text.splitlines()), key=lambda char: " " <= char <= "~"):
        segment = escape("".join(run))
        parts.append(f'<font face="{LATIN_FONT}">{segment}</font>' if latin else segment.replace("\n", "<br/>"))
    return "".join(parts)


def _markup(template: str, **values: str) -> str:
    """A translated sentence as Paragraph markup, its named placeholders filled in (and escaped)."""
    return _mixed(template % values if values else template)


def _paragraphs(text: str, style: ParagraphStyle) -> list[Flowable]:
    """Free text written by staff (reasons, remarks): one paragraph per line, each indented like the prose."""
    return [Paragraph(_mixed(line), style) for line in text.splitlines() if line.strip()]


def _date(value: dt.date) -> str:
    return date_format(value, "DATE_FORMAT")


def _datetime(value: dt.datetime) -> str:
    # Planned dates and times are shown in the platform's zone (Asia/Shanghai), whatever offset was stored.
    return date_format(timezone.localtime(value, timezone.get_default_timezone()), "DATETIME_FORMAT")


class _Styles:
    def __init__(self) -> None:
        chinese = (translation.get_language() or "").startswith("zh")
        # Chinese breaks between any two characters and indents each paragraph by two characters (首行缩进).
        wrap = "CJK" if chinese else None
        body = ParagraphStyle(
            "notice-body", fontName=FONT, fontSize=11, leading=19, textColor=_INK, spaceAfter=6, wordWrap=wrap
        )
        self.body = body
        self.prose = ParagraphStyle("notice-prose", parent=body, firstLineIndent=22 if chinese else 0)
        self.title = ParagraphStyle(
            "notice-title", parent=body, fontSize=20, leading=28, alignment=TA_CENTER, spaceBefore=6, spaceAfter=14
        )
        self.heading = ParagraphStyle("notice-heading", parent=body, fontSize=12, spaceBefore=4, spaceAfter=2)
        self.cell = ParagraphStyle("notice-cell", parent=body, fontSize=10, leading=15, spaceAfter=0)
        self.small = ParagraphStyle("notice-small", parent=self.cell, fontSize=8, leading=11, textColor=_RULE)
        self.header = ParagraphStyle("notice-header", parent=self.cell, fontSize=9, alignment=TA_RIGHT)
        self.footer = ParagraphStyle("notice-footer", parent=self.small, alignment=TA_CENTER)
        self.signature = ParagraphStyle("notice-signature", parent=body, alignment=TA_RIGHT, spaceAfter=2)


def _table(rows: list[list[Any]], widths: Sequence[float], *, header: bool) -> Table:
    table = Table(rows, colWidths=list(widths), repeatRows=1 if header else 0, hAlign="LEFT")
    commands: list[tuple[Any, ...]] = [
        ("GRID", (0, 0), (-1, -1), 0.5, _RULE),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 4),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 5),
    ]
    if header:
        commands.append(("BACKGROUND", (0, 0), (-1, 0), _SHADE))
    else:
        commands.append(("BACKGROUND", (0, 0), (0, -1), _SHADE))
    table.setStyle(TableStyle(commands))
    return table


def _facts(rows: list[tuple[str, str]], styles: _Styles) -> Table:
    """The label/value table under the title: case number, item, applicant …"""
    cells = [[Paragraph(_mixed(label), styles.cell), Paragraph(_mixed(value), styles.cell)] for label, value in rows]
    return _table(cells, [32 * mm, _TEXT_WIDTH - 32 * mm], header=False)


# ---------------------------------------------------------------------------------------------------------
# The QR code: the notice's verification address, drawn as vector modules and clickable.


class _QrCode(Flowable):
    def __init__(self, url: str, size: float) -> None:
        super().__init__()
        # The quiet zone of four modules (ISO/IEC 18004) is part of the flowable, so captions keep clear of it.
        code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
        code.add_data(url)
        code.make(fit=True)
        self.url = url
        self.matrix: list[list[bool]] = code.get_matrix()
        self.size = size
        self.width = self.height = size

    def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
        return self.size, self.size

    def draw(self) -> None:
        canvas: Canvas = self.canv
        count = len(self.matrix)
        module = self.size / count
        canvas.beginForm(QR_FORM, 0, 0, self.size, self.size)
        canvas.setFillColor(colors.black)
        path = canvas.beginPath()
        for row_index, row in enumerate(self.matrix):
            y = (count - 1 - row_index) * module  # row 0 is the top row of the code
            column = 0
            while column < count:  # one rectangle per horizontal run of dark modules
                if not row[column]:
                    column += 1
                    continue
                start = column
                while column < count and row[column]:
                    column += 1
                path.rect(start * module, y, (column - start) * module, module)
        canvas.drawPath(path, stroke=0, fill=1)
        canvas.endForm()
        canvas.doForm(QR_FORM)
        canvas.linkURL(self.url, (0, 0, self.size, self.size), relative=1, thickness=0)


# ---------------------------------------------------------------------------------------------------------
# The bodies, one per kind.

_PROVENANCES = tuple(Provenance.values)
_TRUST_LEVELS = tuple(TrustLevel.values)
_WARNING_LEVELS = tuple(WarningLevel.values)

# Administrative reconsideration within 60 days (行政复议法 art. 20) or a lawsuit within six months
# (行政诉讼法 art. 46) of receiving the document; 行政许可法 art. 38 requires a denial to say so. One whole
# sentence per case (kind, review body named?, court named?) so translators never see fragments.
_REMEDIES = {
    ("refusal", True, True): gettext_noop(
        "If you do not accept this notice, you may apply to %(review_body)s for administrative reconsideration "
        "within 60 days of receiving it (Administrative Reconsideration Law, art. 20), or bring an "
        "administrative lawsuit before %(court)s within six months of receiving it (Administrative Litigation "
        "Law, art. 46)."
    ),
    ("refusal", True, False): gettext_noop(
        "If you do not accept this notice, you may apply to %(review_body)s for administrative reconsideration "
        "within 60 days of receiving it (Administrative Reconsideration Law, art. 20), or bring an "
        "administrative lawsuit before the people's court with jurisdiction within six months of receiving it "
        "(Administrative Litigation Law, art. 46)."
    ),
    ("refusal", False, True): gettext_noop(
        "If you do not accept this notice, you may apply for administrative reconsideration to the people's "
        "government at the same level as this office or to its superior department within 60 days of receiving "
        "it (Administrative Reconsideration Law, art. 20), or bring an administrative lawsuit before %(court)s "
        "within six months of receiving it (Administrative Litigation Law, art. 46)."
    ),
    ("refusal", False, False): gettext_noop(
        "If you do not accept this notice, you may apply for administrative reconsideration to the people's "
        "government at the same level as this office or to its superior department within 60 days of receiving "
        "it (Administrative Reconsideration Law, art. 20), or bring an administrative lawsuit before the "
        "people's court with jurisdiction within six months of receiving it (Administrative Litigation Law, "
        "art. 46)."
    ),
    ("denial", True, True): gettext_noop(
        "If you do not accept this decision, you may apply to %(review_body)s for administrative "
        "reconsideration within 60 days of receiving it (Administrative Reconsideration Law, art. 20), or bring "
        "an administrative lawsuit before %(court)s within six months of receiving it (Administrative "
        "Litigation Law, art. 46)."
    ),
    ("denial", True, False): gettext_noop(
        "If you do not accept this decision, you may apply to %(review_body)s for administrative "
        "reconsideration within 60 days of receiving it (Administrative Reconsideration Law, art. 20), or bring "
        "an administrative lawsuit before the people's court with jurisdiction within six months of receiving "
        "it (Administrative Litigation Law, art. 46)."
    ),
    ("denial", False, True): gettext_noop(
        "If you do not accept this decision, you may apply for administrative reconsideration to the people's "
        "government at the same level as this office or to its superior department within 60 days of receiving "
        "it (Administrative Reconsideration Law, art. 20), or bring an administrative lawsuit before %(court)s "
        "within six months of receiving it (Administrative Litigation Law, art. 46)."
    ),
    ("denial", False, False): gettext_noop(
        "If you do not accept this decision, you may apply for administrative reconsideration to the people's "
        "government at the same level as this office or to its superior department within 60 days of receiving "
        "it (Administrative Reconsideration Law, art. 20), or bring an administrative lawsuit before the "
        "people's court with jurisdiction within six months of receiving it (Administrative Litigation Law, "
        "art. 46)."
    ),
}

_DELIVERY = {
    "electronic": gettext_noop(
        "The %(result)s is issued electronically: you can view and download it in your account on this platform."
    ),
    "pickup": gettext_noop(
        "Please collect the %(result)s from %(department)s, bringing this decision and your identity document."
    ),
    "mail": gettext_noop("The %(result)s will be sent to you by post, to the address given in your application."),
}

_WARNINGS = {
    WarningLevel.YELLOW.value: gettext_noop(
        "The case is close to its time limit. Please handle it promptly so that it is completed in time."
    ),
    WarningLevel.RED.value: gettext_noop(
        "The case has passed its time limit. Please complete it at once and explain the delay in writing to "
        "the issuing body."
    ),
}


def _remedy(content: _Content, styles: _Styles) -> Paragraph:
    review_body, court = content.optional_text("review_body"), content.optional_text("court")
    template = _(_REMEDIES[(content.kind, bool(review_body), bool(court))])
    values = {name: value for name, value in (("review_body", review_body), ("court", court)) if value}
    return Paragraph(_markup(template, **values), styles.prose)


def _receipt(content: _Content, styles: _Styles) -> list[Flowable]:
    received_at = content.moment("received_at")
    materials = content.rows("materials", ("name", "provenance", "trust_level"))
    due = content.day("acceptance_due")
    for index, material in enumerate(materials):
        if material["provenance"] not in _PROVENANCES:
            raise ValueError(f"receipt notice content: materials[{index}].provenance is {material['provenance']!r}")
        if material["trust_level"] not in _TRUST_LEVELS:
            raise ValueError(f"receipt notice content: materials[{index}].trust_level is {material['trust_level']!r}")
    flowables: list[Flowable] = [
        Paragraph(
            _markup(
                _("On %(received_at)s this office received your application for %(item)s, with these materials:"),
                item=content.text("item_name"),
                received_at=_datetime(received_at),
            ),
            styles.prose,
        )
    ]
    header = [_("No."), _("Material"), _("Source"), _("Trust level")]
    rows: list[list[Any]] = [[Paragraph(_mixed(label), styles.cell) for label in header]]
    for position, material in enumerate(materials, start=1):
        rows.append(
            [
                Paragraph(_mixed(str(position)), styles.cell),
                Paragraph(_mixed(material["name"]), styles.cell),
                Paragraph(_mixed(str(Provenance(material["provenance"]).label)), styles.cell),
                Paragraph(_mixed(str(TrustLevel(material["trust_level"]).label)), styles.cell),
            ]
        )
    if not materials:
        rows.append(["", Paragraph(_mixed(_("No materials were received.")), styles.cell), "", ""])
    flowables += [
        _table(rows, [12 * mm, _TEXT_WIDTH - 96 * mm, 36 * mm, 48 * mm], header=True),
        Spacer(0, 8),
        # 行政许可法 art. 32 (and art. 82: its time limits are working days).
        Paragraph(
            _markup(
                _(
                    "Within five working days of receipt, that is by %(due)s, this office will accept the "
                    "application, refuse to accept it, or tell you at once everything that must be corrected. If "
                    "it does not tell you what to correct in time, the application counts as accepted from the "
                    "day the materials were received (Administrative Licensing Law, art. 32)."
                ),
                due=_date(due),
            ),
            styles.prose,
        ),
        Paragraph(
            _markup(
                _(
                    "This receipt confirms only that the materials were received; it is not a decision to accept "
                    "the application."
                )
            ),
            styles.prose,
        ),
    ]
    return flowables


def _correction(content: _Content, styles: _Styles) -> list[Flowable]:
    received_on = content.day("received_on")
    problems = content.rows("problems", ("subject", "reason"))
    if not problems:
        raise ValueError("correction notice content: 'problems' is empty (nothing to correct)")
    header = [_("No."), _("Material or field"), _("What to correct")]
    rows: list[list[Any]] = [[Paragraph(_mixed(label), styles.cell) for label in header]]
    for position, problem in enumerate(problems, start=1):
        rows.append(
            [
                Paragraph(_mixed(str(position)), styles.cell),
                Paragraph(_mixed(problem["subject"]), styles.cell),
                Paragraph(_mixed(problem["reason"]), styles.cell),
            ]
        )
    # 行政许可法 art. 32: everything to correct, told at once; the list is complete.
    return [
        Paragraph(
            _markup(
                _(
                    "The materials of your application for %(item)s, received on %(received_on)s, are incomplete "
                    "or not in the legally required form. As article 32 of the Administrative Licensing Law "
                    "requires, this notice tells you at once everything that must be corrected:"
                ),
                item=content.text("item_name"),
                received_on=_date(received_on),
            ),
            styles.prose,
        ),
        _table(rows, [12 * mm, 52 * mm, _TEXT_WIDTH - 64 * mm], header=True),
        Spacer(0, 8),
        Paragraph(
            _markup(
                _(
                    "This list is complete: this office will not ask you to correct anything that is not on it "
                    "(one-time notice)."
                )
            ),
            styles.prose,
        ),
        Paragraph(
            _markup(
                _(
                    "Please submit the corrected materials on this platform or at the service window. Handling "
                    "waits until this office receives them; the waiting time does not count towards any time "
                    "limit."
                )
            ),
            styles.prose,
        ),
    ]


def _acceptance(content: _Content, styles: _Styles) -> list[Flowable]:
    accepted_on = content.day("accepted_on")
    promised_due = content.day("promised_due")
    statutory_due = content.optional_day("statutory_due")
    item = content.text("item_name")
    if content.flag("deemed"):
        # 行政许可法 art. 32: not told what to correct within five (working) days of receipt, the application
        # counts as accepted from the day the materials were received.
        opening = _markup(
            _(
                "This office did not accept or refuse your application for %(item)s, nor tell you what to correct, "
                "within five working days of receiving it. By law the application therefore counts as accepted "
                "from %(accepted_on)s, the day the materials were received (Administrative Licensing Law, art. 32)."
            ),
            item=item,
            accepted_on=_date(accepted_on),
        )
    else:
        opening = _markup(
            _(
                "Your application for %(item)s is complete and in the legally required form. This office accepted "
                "it on %(accepted_on)s."
            ),
            item=item,
            accepted_on=_date(accepted_on),
        )
    if statutory_due:
        limits = _markup(
            _(
                "This office undertakes to complete your case by %(promised_due)s; the statutory time limit ends "
                "on %(statutory_due)s."
            ),
            promised_due=_date(promised_due),
            statutory_due=_date(statutory_due),
        )
    else:
        limits = _markup(
            _("This office undertakes to complete your case by %(promised_due)s."), promised_due=_date(promised_due)
        )
    return [
        Paragraph(opening, styles.prose),
        Paragraph(limits, styles.prose),
        # 行政许可法 art. 45: these procedures do not count, and the applicant is told their length in writing.
        Paragraph(
            _markup(
                _(
                    "Time needed by law for a hearing, tendering, auction, testing, inspection, quarantine, "
                    "appraisal or expert review does not count towards these time limits; if one is needed, you "
                    "will be told in writing how long it takes (Administrative Licensing Law, art. 45)."
                )
            ),
            styles.prose,
        ),
    ]


def _refusal(content: _Content, styles: _Styles) -> list[Flowable]:
    reasons = content.text("reasons")
    return [
        Paragraph(
            _markup(
                _("This office has decided not to accept your application for %(item)s, for these reasons:"),
                item=content.text("item_name"),
            ),
            styles.prose,
        ),
        *_paragraphs(reasons, styles.prose),
        _remedy(content, styles),
    ]


def _approval(content: _Content, styles: _Styles) -> list[Flowable]:
    decided_on = content.day("decided_on")
    result = content.text("result_name")
    reasons = content.text("reasons", allow_empty=True)
    delivery = content.choice("delivery_method", _DELIVERY_METHODS)
    flowables: list[Flowable] = [
        # 行政许可法 art. 38: an application meeting the statutory conditions and standards is granted in writing.
        Paragraph(
            _markup(
                _(
                    "Your application for %(item)s meets the statutory conditions and standards. On "
                    "%(decided_on)s this office decided to approve it."
                ),
                item=content.text("item_name"),
                decided_on=_date(decided_on),
            ),
            styles.prose,
        )
    ]
    if reasons:
        flowables += [Paragraph(_mixed(_("Reasons")), styles.heading), *_paragraphs(reasons, styles.prose)]
    flowables += [
        Paragraph(_markup(_("Result: %(result)s"), result=result), styles.prose),
        Paragraph(
            _markup(_(_DELIVERY[delivery]), result=result, department=content.text("department_name")),
            styles.prose,
        ),
    ]
    return flowables


def _denial(content: _Content, styles: _Styles) -> list[Flowable]:
    decided_on = content.day("decided_on")
    reasons = content.text("reasons")
    # 行政许可法 art. 38: a denial gives its reasons and tells the applicant of reconsideration and lawsuit.
    return [
        Paragraph(
            _markup(
                _(
                    "Having examined your application for %(item)s, this office decided on %(decided_on)s not to "
                    "approve it, for these reasons:"
                ),
                item=content.text("item_name"),
                decided_on=_date(decided_on),
            ),
            styles.prose,
        ),
        *_paragraphs(reasons, styles.prose),
        _remedy(content, styles),
    ]


def _supervision(content: _Content, styles: _Styles) -> list[Flowable]:
    level = content.choice("level", _WARNING_LEVELS)
    due = content.day("due")
    handler = content.text("handler_department")
    note = content.text("note", allow_empty=True)
    flowables: list[Flowable] = [
        Paragraph(_markup(_("To: %(department)s"), department=handler), styles.body),
        Paragraph(
            _markup(
                _(
                    "Case %(case_number)s (%(item)s, applicant %(applicant)s), handled by %(department)s, must be "
                    "completed by %(due)s."
                ),
                case_number=content.text("case_number"),
                item=content.text("item_name"),
                applicant=content.text("applicant_name"),
                department=handler,
                due=_date(due),
            ),
            styles.prose,
        ),
        Paragraph(_markup(_(_WARNINGS[level])), styles.prose),
    ]
    if note:
        flowables += [Paragraph(_mixed(_("Remarks")), styles.heading), *_paragraphs(note, styles.prose)]
    return flowables


_BODIES: dict[str, Callable[[_Content, _Styles], list[Flowable]]] = {
    "receipt": _receipt,
    "correction": _correction,
    "acceptance": _acceptance,
    "refusal": _refusal,
    "approval": _approval,
    "denial": _denial,
    "supervision": _supervision,
}


# ---------------------------------------------------------------------------------------------------------
# Public API.


def notice_title(kind: str) -> str:
    """The translated title of a notice kind, as printed on the document (e.g. 收件回执)."""
    if kind not in NOTICE_KINDS:
        raise ValueError(f"unknown notice kind {kind!r} (expected one of {', '.join(NOTICE_KINDS)})")
    return str(NoticeKind(kind).label)


def _font() -> str:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def render_notice(content: Mapping[str, Any]) -> bytes:
    """The notice ``content`` (a frozen snapshot, see the module docstring) as an A4 PDF in the active
    language. Raises ValueError for an unknown kind or a missing or malformed key."""
    notice = _Content(content)
    for key in _COMMON_KEYS:
        notice.text(key)
    issued_on = notice.day("issued_on")
    # Already masked by the service; masking again is idempotent and keeps a full number off the page if not.
    applicant_id = mask_id_number(notice.text("applicant_id_masked", allow_empty=True))
    verify_url = notice.optional_text("verify_url")
    _font()
    styles = _Styles()
    title = notice_title(notice.kind)
    number = notice.text("number")
    department = notice.text("department_name")

    facts = [
        (_("Case number"), notice.text("case_number")),
        (_("Service item"), notice.text("item_name")),
        (_("Applicant"), notice.text("applicant_name")),
    ]
    if applicant_id:
        facts.append((pgettext("notice", "ID number"), applicant_id))  # a resident ID or a credit code
    story: list[Flowable] = [
        Paragraph(_mixed(title), styles.title),
        _facts(facts, styles),
        Spacer(0, 12),
        *_BODIES[notice.kind](notice, styles),
        Spacer(0, 18),
    ]

    # Issuing body and date at the bottom right. The real electronic seal (GB/T 38540) replaces the
    # placeholder when e-licences and seals arrive (licences issue); until then the text marks its place.
    signature: list[Flowable] = [
        Paragraph(_mixed(department), styles.signature),
        Paragraph(_mixed(_("(Seal)")), styles.signature),
        Paragraph(_mixed(_date(issued_on)), styles.signature),
    ]
    verification: list[Flowable] = []
    if verify_url:
        verification = [
            _QrCode(verify_url, _QR_SIZE),
            Paragraph(_mixed(_("Scan the code to verify this notice")), styles.small),
            Paragraph(_mixed(verify_url), styles.small),
        ]
    closing = Table([[verification, signature]], colWidths=[_TEXT_WIDTH / 2, _TEXT_WIDTH / 2], hAlign="LEFT")
    closing.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "BOTTOM"), ("LEFTPADDING", (0, 0), (0, -1), 0)]))
    story.append(KeepTogether([closing]))

    number_line = Paragraph(_markup(_("No.: %(number)s"), number=number), styles.header)

    def decorate(canvas: Canvas, document: SimpleDocTemplate) -> None:
        # The notice number at the top right and the page number at the foot of every page.
        page = Paragraph(_markup(_("Page %(page)s"), page=str(canvas.getPageNumber())), styles.footer)
        for paragraph, y in ((number_line, _PAGE_HEIGHT - _MARGIN + 6 * mm), (page, _MARGIN / 2)):
            paragraph.wrapOn(canvas, _TEXT_WIDTH, _MARGIN)
            paragraph.drawOn(canvas, _MARGIN, y)

    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=_MARGIN,
        rightMargin=_MARGIN,
        topMargin=_MARGIN + 6 * mm,
        bottomMargin=_MARGIN,
        title=title,
        author=department,
        subject=number,
        creator="Yiwang",
        invariant=1,
    )
    document.build(story, onFirstPage=decorate, onLaterPages=decorate)
    return buffer.getvalue()
