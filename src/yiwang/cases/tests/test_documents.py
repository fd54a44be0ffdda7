"""Case notices rendered as PDF from their frozen content: every kind, both languages, the remedy paragraph,
escaping, determinism, bad content and the verification QR code.

pypdf extracts reportlab's CID-font (STSong-Light, UniGB-UCS2-H) Chinese text directly, so Chinese values
are checked in the extracted text just like English ones. Fixed wording is asserted in English (the msgids);
the zh-Hans default is checked through the snapshot's own values and Django's Chinese date format.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import Any, cast

import pytest
import qrcode
import qrcode.constants
from django.utils import translation
from pypdf import PdfReader
from pypdf.generic import ArrayObject, ContentStream, DictionaryObject

from yiwang.cases.constants import NoticeKind
from yiwang.cases.documents import NOTICE_KINDS, QR_FORM, notice_title, render_notice

VERIFY_URL = "https://yiwang.example.gov.cn/verify/SL-330106-20261130-000123?token=a1b2&lang=zh"

COMMON: dict[str, Any] = {
    "number": "SL-330106-20261130-000123",
    "case_number": "330106-20261130-000123",
    "item_name": "食品经营许可证核发",
    "department_name": "杭州市西湖区市场监督管理局",
    "applicant_name": "张三",
    "applicant_id_masked": "3301**********0137",
    "issued_on": "2026-11-30",
}

KIND_CONTENT: dict[str, dict[str, Any]] = {
    "receipt": {
        # 01:15 UTC is 09:15 in Shanghai: the printed time is the platform's zone, not the stored offset.
        "received_at": "2026-11-30T01:15:00+00:00",
        "acceptance_due": "2026-12-07",
        "materials": [
            {"name": "营业执照", "provenance": "licence", "trust_level": "A"},
            {"name": "食品安全管理制度文本", "provenance": "upload", "trust_level": "C"},
            {"name": "经营场所承诺书", "provenance": "pledge", "trust_level": "D"},
        ],
    },
    "correction": {
        "received_on": "2026-11-30",
        "problems": [
            {"subject": "经营场所平面图", "reason": "未标注各功能区面积"},
            {"subject": "联系电话", "reason": "号码位数不正确"},
        ],
    },
    "acceptance": {
        "accepted_on": "2026-12-01",
        "promised_due": "2026-12-08",
        "statutory_due": "2026-12-29",
        "deemed": False,
    },
    "refusal": {"reasons": "申请事项不属于本机关职权范围"},
    "approval": {
        "decided_on": "2026-12-04",
        "result_name": "食品经营许可证",
        "reasons": "",
        "delivery_method": "electronic",
    },
    "denial": {"decided_on": "2026-12-04", "reasons": "经现场核查，经营场所与申请材料不符"},
    "supervision": {
        "level": "yellow",
        "due": "2026-12-08",
        "handler_department": "西湖区市场监管局食品经营许可科",
        "note": "请于两个工作日内办结",
    },
}


def content(kind: str, **changes: Any) -> dict[str, Any]:
    return {"kind": kind, **COMMON, **KIND_CONTENT[kind], **changes}


def reader(pdf: bytes) -> PdfReader:
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    return PdfReader(io.BytesIO(pdf), strict=True)


def lines(pdf: bytes) -> list[str]:
    return [line for page in reader(pdf).pages for line in page.extract_text().splitlines()]


def squashed(text: str) -> str:
    """Text without whitespace: line breaks fall anywhere in wrapped text."""
    return re.sub(r"\s+", "", text)


def text_of(pdf: bytes) -> str:
    return squashed("".join(lines(pdf)))


def has(pdf_text: str, *expected: str) -> bool:
    missing = [text for text in expected if squashed(text) not in pdf_text]
    assert not missing, f"not in the PDF: {missing}"
    return True


@pytest.fixture
def english() -> Iterator[None]:
    with translation.override("en"):
        yield


# --- every kind, in both languages ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", NOTICE_KINDS)
def test_it_renders_every_kind_in_chinese_by_default(kind: str) -> None:
    pdf = render_notice(content(kind))
    text = text_of(pdf)
    assert len(reader(pdf).pages) == 1
    assert has(text, "SL-330106-20261130-000123", "330106-20261130-000123", "食品经营许可证核发", "张三")
    assert has(text, "杭州市西湖区市场监督管理局", "3301**********0137", "2026年11月30日")  # issued on


@pytest.mark.parametrize("kind", NOTICE_KINDS)
def test_it_renders_every_kind_in_english(english: None, kind: str) -> None:
    text = text_of(render_notice(content(kind)))
    assert has(text, notice_title(kind), "No.: SL-330106-20261130-000123", "Case number", "ID number")
    assert has(text, "食品经营许可证核发", "(Seal)", "Nov. 30, 2026")


def test_the_document_speaks_the_active_language() -> None:
    chinese = render_notice(content("receipt"))
    with translation.override("en"):
        english = render_notice(content("receipt"))
        title = notice_title("receipt")
    assert chinese != english
    assert "2026年12月7日" in text_of(chinese) and "Dec. 7, 2026" not in text_of(chinese)
    assert has(text_of(english), title, "Dec. 7, 2026")


def test_the_title_of_each_kind_is_the_notice_kind_label(english: None) -> None:
    assert tuple(NoticeKind.values) == NOTICE_KINDS
    assert notice_title("receipt") == "Receipt of application"
    assert notice_title("correction") == "One-time correction notice"
    with pytest.raises(ValueError, match="unknown notice kind 'notice'"):
        notice_title("notice")


# --- what each kind says -------------------------------------------------------------------------------


def test_a_receipt_lists_the_materials_and_the_acceptance_deadline(english: None) -> None:
    text = text_of(render_notice(content("receipt")))
    assert has(text, "Nov. 30, 2026, 9:15 a.m.", "营业执照", "食品安全管理制度文本", "经营场所承诺书")
    assert has(text, "Electronic licence", "Uploaded by the applicant", "Truthfulness pledge")
    assert has(text, "A: issued by a government body under its e-seal", "D: made by the applicant under a pledge")
    assert has(text, "Within five working days of receipt, that is by Dec. 7, 2026")
    assert has(text, "counts as accepted from the day the materials were received")
    assert has(text, "Administrative Licensing Law, art. 32", "it is not a decision to accept")


def test_a_receipt_without_materials_says_so(english: None) -> None:
    assert has(text_of(render_notice(content("receipt", materials=[]))), "No materials were received.")


def test_a_correction_notice_lists_every_problem_once_and_stops_the_clock(english: None) -> None:
    pdf = render_notice(content("correction"))
    text = text_of(pdf)
    assert has(text, "received on Nov. 30, 2026", "经营场所平面图", "未标注各功能区面积", "联系电话", "号码位数不正确")
    assert has(text, "article 32 of the Administrative Licensing Law", "everything that must be corrected")
    assert has(text, "This list is complete", "(one-time notice)")
    assert has(text, "Handling waits until this office receives them", "does not count towards any time limit")
    # Numbered in the order given, one row each.
    assert has(text, "1经营场所平面图未标注各功能区面积2联系电话号码位数不正确")


def test_an_acceptance_notice_gives_the_promised_and_statutory_dates(english: None) -> None:
    text = text_of(render_notice(content("acceptance")))
    assert has(text, "This office accepted it on Dec. 1, 2026.")
    assert has(text, "complete your case by Dec. 8, 2026; the statutory time limit ends on Dec. 29, 2026.")
    assert has(text, "Administrative Licensing Law, art. 45")
    assert "operation" not in text and "counts as accepted" not in text

    without_statutory = text_of(render_notice(content("acceptance", statutory_due="")))
    assert has(without_statutory, "complete your case by Dec. 8, 2026.")
    assert "statutory time limit" not in without_statutory


def test_a_deemed_acceptance_says_it_is_by_operation_of_law(english: None) -> None:
    text = text_of(render_notice(content("acceptance", deemed=True, accepted_on="2026-11-30")))
    assert has(text, "within five working days of receiving it", "counts as accepted from Nov. 30, 2026")
    assert has(text, "the day the materials were received (Administrative Licensing Law, art. 32)")
    assert "This office accepted it" not in text


def test_an_approval_names_the_result_and_how_it_is_delivered(english: None) -> None:
    text = text_of(render_notice(content("approval")))
    assert has(text, "On Dec. 4, 2026 this office decided to approve it.", "Result: 食品经营许可证")
    assert has(text, "issued electronically")
    assert "Reasons" not in text  # none were given

    pickup = text_of(render_notice(content("approval", delivery_method="pickup", reasons="材料齐全，符合条件")))
    assert has(
        pickup, "Please collect the 食品经营许可证 from 杭州市西湖区市场监督管理局", "Reasons", "材料齐全，符合条件"
    )
    assert has(text_of(render_notice(content("approval", delivery_method="mail"))), "sent to you by post")


def test_a_supervision_notice_is_addressed_to_the_handling_department(english: None) -> None:
    text = text_of(render_notice(content("supervision")))
    assert has(text, "To: 西湖区市场监管局食品经营许可科", "must be completed by Dec. 8, 2026")
    assert has(text, "close to its time limit", "Remarks", "请于两个工作日内办结")
    red = text_of(render_notice(content("supervision", level="red", note="")))
    assert has(red, "has passed its time limit") and "Remarks" not in red


# --- the remedy paragraph (行政复议法 art. 20, 行政诉讼法 art. 46, 行政许可法 art. 38) --------------------


@pytest.mark.parametrize("kind", ["refusal", "denial"])
def test_refusals_and_denials_give_reasons_and_the_generic_remedy(english: None, kind: str) -> None:
    text = text_of(render_notice(content(kind)))
    assert has(text, str(KIND_CONTENT[kind]["reasons"]))
    document = "notice" if kind == "refusal" else "decision"
    assert has(text, f"If you do not accept this {document}, you may apply for administrative reconsideration")
    assert has(text, "to the people's government at the same level as this office or to its superior department")
    assert has(text, "within 60 days of receiving it (Administrative Reconsideration Law, art. 20)")
    assert has(text, "before the people's court with jurisdiction within six months of receiving it")
    assert has(text, "(Administrative Litigation Law, art. 46)")


@pytest.mark.parametrize("kind", ["refusal", "denial"])
def test_the_remedy_names_the_review_body_and_court_when_known(english: None, kind: str) -> None:
    both = text_of(render_notice(content(kind, review_body="杭州市西湖区人民政府", court="杭州市西湖区人民法院")))
    assert has(both, "apply to 杭州市西湖区人民政府 for administrative reconsideration within 60 days")
    assert has(both, "lawsuit before 杭州市西湖区人民法院 within six months")
    assert "same level" not in both and "with jurisdiction" not in both

    court_only = text_of(render_notice(content(kind, court="杭州铁路运输法院")))
    assert has(court_only, "same level as this office", "lawsuit before 杭州铁路运输法院 within six months")

    body_only = text_of(render_notice(content(kind, review_body="杭州市人民政府")))
    assert has(body_only, "apply to 杭州市人民政府 for administrative", "the people's court with jurisdiction")


@pytest.mark.parametrize("kind", ["receipt", "correction", "acceptance", "approval", "supervision"])
def test_other_notices_carry_no_remedy_paragraph(english: None, kind: str) -> None:
    assert "reconsideration" not in text_of(render_notice(content(kind)))


# --- layout, typography, escaping, determinism -----------------------------------------------------------


def test_the_same_content_gives_the_same_bytes() -> None:
    first = render_notice(content("denial", verify_url=VERIFY_URL))
    assert render_notice(content("denial", verify_url=VERIFY_URL)) == first
    assert render_notice(content("denial", verify_url=VERIFY_URL, reasons="另一理由")) != first


def test_user_text_is_escaped_not_interpreted(english: None) -> None:
    name = "<b>A & B</b> <font size=40>C</font> 公司"
    reasons = "材料 <不全> & 过期\n第二行 &amp; <br/>"
    pdf = render_notice(content("denial", applicant_name=name, reasons=reasons, court="<i>法院</i>"))
    text = text_of(pdf)
    assert has(text, name, "材料 <不全> & 过期", "第二行 &amp; <br/>", "lawsuit before <i>法院</i>")


def test_a_long_notice_runs_over_pages_with_its_number_and_page_numbers(english: None) -> None:
    problems = [{"subject": f"材料{i}", "reason": "请补充盖章页，并提供原件扫描件。" * 3} for i in range(1, 41)]
    pdf = render_notice(content("correction", problems=problems))
    pages = reader(pdf).pages
    assert len(pages) >= 3
    for number, page in enumerate(pages, start=1):
        page_text = squashed(page.extract_text())
        assert has(page_text, "No.: SL-330106-20261130-000123", f"Page {number}")
    assert has(text_of(pdf), "材料1", "材料40", "This list is complete")


def test_chinese_lines_never_start_with_closing_punctuation() -> None:
    # GB/T 15834: "，" "。" "、" "；" "：" and closing quotes or brackets do not begin a line.
    reason = (
        "经现场核查，经营场所与申请材料不符，面积、布局、设施设备均与平面图所示不一致，"
        "不符合《食品经营许可和备案管理办法》第十二条规定的条件；依法不予许可。"
    )
    for width_padding in range(12):  # shift the break points through the sentence
        pdf = render_notice(content("denial", reasons="一" * width_padding + reason * 4))
        starts = [line.strip()[:1] for line in lines(pdf) if line.strip()]
        assert not set(starts) & set("，。、；：）》”"), starts


def test_dates_of_the_snapshot_are_printed_in_chinese_form() -> None:
    text = text_of(render_notice(content("acceptance")))
    assert has(text, "2026年12月1日", "2026年12月8日", "2026年12月29日")


def test_a_full_id_number_in_the_snapshot_is_masked_anyway() -> None:
    text = text_of(render_notice(content("receipt", applicant_id_masked="330106199001010137")))
    assert has(text, "3301**********0137") and "330106199001010137" not in text


# --- the verification QR code ----------------------------------------------------------------------------


def qr_modules(pdf: bytes) -> list[list[bool]] | None:
    """The QR code's module matrix rebuilt from the rectangles of its form XObject, or None without one."""
    document = reader(pdf)
    forms: list[DictionaryObject] = []
    for page in document.pages:
        resources = cast(DictionaryObject, page["/Resources"].get_object())
        objects = cast(DictionaryObject, resources.get("/XObject", DictionaryObject()).get_object())
        if f"/FormXob.{QR_FORM}" in objects:
            forms.append(cast(DictionaryObject, objects[f"/FormXob.{QR_FORM}"].get_object()))
    if not forms:
        return None
    assert len(forms) == 1
    form = forms[0]
    size = float(cast(ArrayObject, form["/BBox"])[2])
    rectangles = [
        [float(value) for value in operands]
        for operands, operator in ContentStream(form, document).operations
        if operator == b"re"
    ]
    module = min(height for _x, _y, _width, height in rectangles)  # every rectangle is one module high
    count = round(size / module)
    matrix = [[False] * count for _ in range(count)]
    for x, y, width, height in rectangles:
        assert round(height / module) == 1
        row = count - 1 - round(y / module)
        for column in range(round(x / module), round((x + width) / module)):
            matrix[row][column] = True
    return matrix


def test_a_verify_url_prints_a_qr_code_that_encodes_it(english: None) -> None:
    pdf = render_notice(content("acceptance", verify_url=VERIFY_URL))
    expected = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    expected.add_data(VERIFY_URL)
    expected.make(fit=True)
    assert qr_modules(pdf) == expected.get_matrix()
    # Readers can also click it, and the address is printed for those who cannot scan.
    (page,) = reader(pdf).pages
    annotations = cast(ArrayObject, page["/Annots"].get_object())
    actions = [cast(DictionaryObject, annotation.get_object())["/A"].get_object() for annotation in annotations]
    links = [str(cast(DictionaryObject, action)["/URI"]) for action in actions]
    assert links == [VERIFY_URL]
    assert has(text_of(pdf), "Scan the code to verify this notice", VERIFY_URL)


def test_without_a_verify_url_there_is_no_qr_code(english: None) -> None:
    pdf = render_notice(content("acceptance"))
    assert qr_modules(pdf) is None
    assert "/Annots" not in reader(pdf).pages[0]
    assert "Scan the code" not in text_of(pdf)


# --- bad content is a programming error --------------------------------------------------------------------


def test_an_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown kind 'notice'"):
        render_notice({**COMMON, "kind": "notice"})
    with pytest.raises(ValueError, match="unknown kind None"):
        render_notice(COMMON)
    with pytest.raises(ValueError, match="must be a mapping"):
        render_notice([("kind", "receipt")])  # type: ignore[arg-type]  # the check under test


@pytest.mark.parametrize("key", [*COMMON, "received_at", "materials", "acceptance_due"])
def test_a_missing_key_is_refused(key: str) -> None:
    broken = content("receipt")
    del broken[key]
    with pytest.raises(ValueError, match=f"receipt notice content: '{key}' is missing"):
        render_notice(broken)


@pytest.mark.parametrize(
    ("kind", "key"),
    [
        ("correction", "problems"),
        ("correction", "received_on"),
        ("acceptance", "deemed"),
        ("acceptance", "statutory_due"),
        ("refusal", "reasons"),
        ("approval", "delivery_method"),
        ("approval", "reasons"),
        ("denial", "decided_on"),
        ("supervision", "handler_department"),
        ("supervision", "note"),
    ],
)
def test_a_missing_key_of_a_kind_is_refused(kind: str, key: str) -> None:
    broken = content(kind)
    del broken[key]
    with pytest.raises(ValueError, match=f"{kind} notice content: '{key}' is missing"):
        render_notice(broken)


@pytest.mark.parametrize(
    ("kind", "changes", "message"),
    [
        ("receipt", {"number": ""}, "'number' is empty"),
        ("receipt", {"applicant_name": 7}, "'applicant_name' must be a string, not int"),
        ("receipt", {"issued_on": "30/11/2026"}, "'issued_on' is not an ISO date"),
        ("receipt", {"received_at": "2026-11-30T09:15:00"}, "'received_at' has no UTC offset"),
        ("receipt", {"received_at": "yesterday"}, "'received_at' is not an ISO 8601 datetime"),
        ("receipt", {"materials": "营业执照"}, "'materials' must be a list"),
        ("receipt", {"materials": ["营业执照"]}, r"materials\[0\] must be a mapping"),
        ("receipt", {"materials": [{"name": "营业执照", "provenance": "licence"}]}, r"trust_level is missing"),
        ("receipt", {"materials": [{"name": "x", "provenance": "fax", "trust_level": "A"}]}, "provenance is 'fax'"),
        ("receipt", {"materials": [{"name": "x", "provenance": "upload", "trust_level": "E"}]}, "trust_level is 'E'"),
        ("correction", {"problems": []}, "'problems' is empty"),
        ("correction", {"problems": [{"subject": "平面图", "reason": " "}]}, r"problems\[0\]\.reason is missing"),
        ("acceptance", {"deemed": "no"}, "'deemed' must be a boolean"),
        ("acceptance", {"statutory_due": "2026-02-30"}, "'statutory_due' is not an ISO date"),
        ("refusal", {"reasons": "  "}, "'reasons' is empty"),
        ("refusal", {"court": 3}, "'court' must be a string"),
        ("approval", {"delivery_method": "fax"}, "'delivery_method' is 'fax'"),
        ("denial", {"reasons": ""}, "'reasons' is empty"),
        ("supervision", {"level": "orange"}, "'level' is 'orange'"),
        ("supervision", {"verify_url": ["https://x"]}, "'verify_url' must be a string"),
    ],
)
def test_malformed_content_is_refused(kind: str, changes: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        render_notice(content(kind, **changes))
