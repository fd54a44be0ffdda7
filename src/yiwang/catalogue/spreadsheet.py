"""Spreadsheet (.xlsx) import of implementation items, with a row-by-row error report.

Layout of a workbook (``write_template`` writes one to start from):

* sheet ``items``: one row per item; columns for every scalar field of the exchange format, nested
  objects flattened with an underscore (``implementing_body_name``, ``statutory_value``, ``fees_charged`` …).
* one sheet per list of objects: ``conditions``, ``materials``, ``process``, ``legal_basis``, ``fees``
  (fee items), ``faqs``, ``results``, ``special_procedures`` and ``co_implementing_bodies``. Each row
  starts with ``implementation_code`` and belongs to the item with that code on the ``items`` sheet;
  rows keep their sheet order.
* sheet ``readme``: what each column means (ignored on import).

Headers read like ``事项名称 (name)``: a column is identified by the key in brackets, so the Chinese
label may be reworded; a header holding only the key or only the label works too, and columns may come
in any order. Sheets are identified the same way (``items``, ``事项 (items)`` or ``事项``).

Cells: yes/no cells take 是/否 (or true/false, yes/no, 1/0); code lists (``service_objects`` …) are
separated by commas, name lists (themes, business types) by 、 or commas, sentence lists (common
errors, intermediary services) by line breaks; dates are ``2025-01-31`` (or a date cell). Codes typed
as numbers are read as digits (a numeric ``item_type`` gets its leading zero back). Blank cells leave
the field out. Rows whose implementation code is ``EXAMPLE`` are the template's worked example and are
never imported.

Reading collects every problem of every row (unknown columns and sheets, bad values, missing cells,
rows of other sheets that name no item, and exchange-format violations mapped back to their cell);
importing happens only when there is none, all or nothing, through ``services.import_items``.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import sys
import unicodedata
import warnings
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from django.core.management.base import BaseCommand, CommandError
from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiwang.audit.actors import Actor
from yiwang.catalogue import constants, services
from yiwang.catalogue.rules import ERROR
from yiwang.catalogue.schema import exchange_schema, json_path, schema_errors
from yiwang.common.errors import DomainError, InvalidInput, PermissionDenied
from yiwang.common.validators import build_uscc

__all__ = [
    "EXAMPLE_CODE",
    "SHEETS",
    "RowError",
    "WorkbookResult",
    "import_workbook",
    "import_workbook_command",
    "read_workbook",
    "write_template",
]

# --- layout ---------------------------------------------------------------------------------------

# How a cell is read and written.
TEXT = "text"  # free text, kept verbatim
CODE = "code"  # a code, enum value, phone number or address: surrounding spaces dropped
INT = "int"  # a whole number
BOOL = "bool"  # 是/否
DATE = "date"  # an ISO date
AMOUNT = "amount"  # yuan as a decimal string, e.g. "120" or "12.50"
CODES = "codes"  # a list of codes separated by commas
NAMES = "names"  # a list of names separated by 、 or commas
LINES = "lines"  # a list of sentences, one per line

YES, NO = "是", "否"
_TRUE_WORDS = frozenset({"是", "true", "yes", "y", "t", "1", "√", "✓", "对"})
_FALSE_WORDS = frozenset({"否", "false", "no", "n", "f", "0", "×", "✗", "不"})
_SPLIT = {
    CODES: re.compile(r"[,，、;；\s]+"),
    NAMES: re.compile(r"[、,，;；\r\n]+"),
    LINES: re.compile(r"[\r\n]+"),
}
_JOIN = {CODES: ",", NAMES: "、", LINES: "\n"}

EXAMPLE_CODE = "EXAMPLE"
README = "readme"
README_LABEL = "说明"
MAX_SHOWN = 60  # characters of a bad value quoted back in a message


@dataclass(frozen=True)
class Column:
    key: str  # the English key in brackets in the header
    label: str  # the Chinese label before it
    path: tuple[str, ...]  # where the value goes, relative to the item (items sheet) or to the row's object
    kind: str = TEXT
    required: bool = False  # every row must fill it
    required_in_group: bool = False  # required once another cell of the same object is filled
    width: int = 0  # a code typed as a number is zero-padded to this width
    choices: type[models.TextChoices] | None = None  # labels for the readme sheet

    @property
    def header(self) -> str:
        return f"{self.label} ({self.key})"


@dataclass(frozen=True)
class SheetSpec:
    name: str
    label: str
    path: tuple[str, ...]  # () for the items sheet, else the list in the item its rows append to
    columns: tuple[Column, ...]

    def column(self, key: str) -> Column | None:
        return next((c for c in self.columns if c.key == key), None)


def _col(key: str, label: str, kind: str = TEXT, *, path: tuple[str, ...] | None = None, **options: Any) -> Column:
    return Column(key=key, label=label, path=(key,) if path is None else path, kind=kind, **options)


def _body(prefix: str, label: str, *, required: bool = False) -> tuple[Column, ...]:
    return (
        _col(
            f"{prefix}_name", f"{label}名称", path=(prefix, "name"), required=required, required_in_group=not required
        ),
        _col(f"{prefix}_uscc", f"{label}统一社会信用代码", CODE, path=(prefix, "uscc")),
        _col(f"{prefix}_nature", f"{label}性质", CODE, path=(prefix, "nature"), choices=constants.BodyNature),
    )


def _time_limit(prefix: str, label: str, path: tuple[str, ...]) -> tuple[Column, ...]:
    return (
        _col(f"{prefix}_value", f"{label}", INT, path=(*path, "value")),
        _col(
            f"{prefix}_unit",
            f"{label}单位",
            CODE,
            path=(*path, "unit"),
            required_in_group=True,
            choices=constants.TimeUnit,
        ),
        _col(f"{prefix}_note", f"{label}说明", path=(*path, "note")),
    )


LINK = _col("implementation_code", "实施编码", CODE, path=(), required=True)  # first column of child sheets

ITEMS = SheetSpec(
    "items",
    "事项",
    (),
    (
        _col("implementation_code", "实施编码", CODE, required=True),
        _col("basic_code", "基本编码", CODE),
        _col("handling_item_code", "业务办理项编码", CODE),
        _col("name", "事项名称", required=True),
        _col("handling_item_name", "业务办理项名称"),
        _col("item_type", "事项类型", CODE, required=True, width=2, choices=constants.ItemType),
        _col("exercise_level", "行使层级", CODE, choices=constants.ExerciseLevel),
        _col("region_code", "行政区划代码", CODE, required=True),
        *_body("implementing_body", "实施主体", required=True),
        *_body("handling_body", "承办机构"),
        *_body("entrusting_body", "委托部门"),
        _col("service_objects", "服务对象", CODES, choices=constants.ServiceObject),
        _col("natural_person_themes", "自然人主题", NAMES, path=("themes", "natural_person")),
        _col("legal_person_themes", "法人主题", NAMES, path=("themes", "legal_person")),
        _col("handling_forms", "办理形式", CODES, choices=constants.HandlingForm),
        _col("case_type", "办件类型", CODE, choices=constants.CaseType),
        *_time_limit("statutory", "法定办结时限", ("time_limits", "statutory")),
        *_time_limit("promised", "承诺办结时限", ("time_limits", "promised")),
        _col("fees_charged", "是否收费", BOOL, path=("fees", "charged"), required=True),
        _col("fees_text", "收费说明", path=("fees", "text")),
        _col("fees_basis", "收费依据", path=("fees", "basis")),
        _col("online_depth", "网上办理深度", CODE, path=("online", "depth"), choices=constants.OnlineDepth),
        _col(
            "online_capabilities",
            "网上办理能力",
            CODES,
            path=("online", "capabilities"),
            choices=constants.OnlineCapability,
        ),
        _col("online_url", "网上办理地址", CODE, path=("online", "url")),
        _col("online_single_sign_on", "是否单点登录", BOOL, path=("online", "single_sign_on")),
        _col("max_visits", "到办事现场次数", INT),
        _col("visits_reason", "必须现场办理原因"),
        _col("supports_appointment", "是否支持预约办理", BOOL, path=("supports", "appointment")),
        _col("supports_online_payment", "是否支持网上支付", BOOL, path=("supports", "online_payment")),
        _col("supports_delivery", "是否支持物流快递", BOOL, path=("supports", "delivery")),
        _col("supports_postal_application", "是否支持邮寄申请", BOOL, path=("supports", "postal_application")),
        _col("cross_region_scope", "通办范围", CODE, choices=constants.CrossRegionScope),
        _col("location", "办理地点"),
        _col("hours", "办理时间"),
        _col("consultation_phone", "咨询电话", CODE, path=("contacts", "consultation_phone")),
        _col("supervision_phone", "监督投诉电话", CODE, path=("contacts", "supervision_phone")),
        _col("contacts_other", "其他联系方式", path=("contacts", "other")),
        _col("quantity_limit", "数量限制"),
        _col("intermediary_services", "中介服务", LINES),
        _col("effective_date", "计划生效日期", DATE),
        _col("cancel_date", "计划取消日期", DATE),
        _col("source_url", "来源网址", CODE, path=("source", "url")),
        _col("source_published", "来源发布日期", CODE, path=("source", "published")),
        _col("source_note", "来源说明", path=("source", "note")),
    ),
)

CHILD_SHEETS: tuple[SheetSpec, ...] = (
    SheetSpec(
        "conditions",
        "受理条件",
        ("conditions",),
        (
            LINK,
            _col("business_type", "业务类型"),
            _col("text", "条件内容", required=True),
        ),
    ),
    SheetSpec(
        "materials",
        "申请材料",
        ("materials",),
        (
            LINK,
            _col("name", "材料名称", required=True),
            _col("required", "是否必备", BOOL),
            _col("originals", "原件份数", INT),
            _col("copies", "复印件份数", INT),
            _col("medium", "材料形式", CODE, choices=constants.MaterialMedium),
            _col("source", "来源渠道", CODE, choices=constants.MaterialSource),
            _col("issuing_body", "出具机构"),
            _col("licence_type_code", "电子证照类型代码", CODE),
            _col("shared_resource", "共享数据资源"),
            _col("business_types", "适用业务类型", NAMES),
            _col("requirements", "材料要求"),
            _col("legal_basis", "材料依据"),
            _col("blank_form", "空白表格"),
            _col("sample", "示例样表"),
            _col("common_errors", "常见错误", LINES),
        ),
    ),
    SheetSpec(
        "process",
        "办理流程",
        ("process",),
        (
            LINK,
            _col("name", "环节名称", required=True),
            _col("description", "环节说明"),
            *_time_limit("time_limit", "环节时限", ("time_limit",)),
            _col("handled_by", "办理人员"),
        ),
    ),
    SheetSpec(
        "legal_basis",
        "法律依据",
        ("legal_basis",),
        (
            LINK,
            _col("title", "法律法规名称", required=True),
            _col("articles", "条款号"),
            _col("text", "条款内容"),
            _col("role", "依据类型", CODE),
        ),
    ),
    SheetSpec(
        "fees",
        "收费项目",
        ("fees", "items"),
        (
            LINK,
            _col("name", "收费项目名称", required=True),
            _col("amount_yuan", "收费标准（元）", AMOUNT, required=True),
            _col("basis", "收费依据"),
        ),
    ),
    SheetSpec(
        "faqs",
        "常见问题",
        ("faqs",),
        (
            LINK,
            _col("question", "问题", required=True),
            _col("answer", "解答", required=True),
        ),
    ),
    SheetSpec(
        "results",
        "办理结果",
        ("results",),
        (
            LINK,
            _col("name", "结果名称", required=True),
            _col("kind", "结果类型", CODE, choices=constants.ResultKind),
            _col("licence_type_code", "证照类型代码", CODE),
            _col("sample", "结果样本"),
        ),
    ),
    SheetSpec(
        "special_procedures",
        "特别程序",
        ("special_procedures",),
        (
            LINK,
            _col("name", "特别程序名称", required=True),
            _col("kind", "特别程序种类", CODE, choices=constants.SpecialProcedureKind),
            *_time_limit("max_duration", "时限", ("max_duration",)),
            _col("counts_in_time_limit", "是否计入办结时限", BOOL),
        ),
    ),
    SheetSpec(
        "co_implementing_bodies",
        "共同实施部门",
        ("co_implementing_bodies",),
        (
            LINK,
            _col("name", "部门名称", required=True),
            _col("uscc", "统一社会信用代码", CODE),
            _col("nature", "性质", CODE, choices=constants.BodyNature),
        ),
    ),
)
SHEETS: tuple[SheetSpec, ...] = (ITEMS, *CHILD_SHEETS)

# The lists an item always has, even when no row of their sheet names it.
_ALWAYS: dict[str, Any] = {"time_limits": {}, "materials": [], "process": []}

# The template's worked example (never imported: see EXAMPLE_CODE).
_EXAMPLE_USCC = build_uscc("11", "330106", "MB000001")
EXAMPLE_ITEM: dict[str, Any] = {
    "implementation_code": EXAMPLE_CODE,
    "basic_code": "000131128000",
    "handling_item_code": "00013112800001",
    "name": "个体工商户登记",
    "handling_item_name": "设立",
    "item_type": "01",
    "exercise_level": "4",
    "region_code": "330106",
    "implementing_body": {"name": "杭州市西湖区市场监督管理局", "uscc": _EXAMPLE_USCC, "nature": "1"},
    "legal_basis": [{"title": "《促进个体工商户发展条例》", "articles": "第八条", "role": "establishing"}],
    "service_objects": ["1"],
    "themes": {"natural_person": ["就业创业"], "legal_person": ["设立变更"]},
    "handling_forms": ["1", "2", "3"],
    "case_type": "2",
    "time_limits": {"statutory": {"value": 15, "unit": "working_day"}, "promised": {"value": 3, "unit": "working_day"}},
    "conditions": [{"business_type": "设立", "text": "有经营能力的自然人，有固定的经营场所。"}],
    "materials": [
        {
            "name": "个体工商户登记（备案）申请书",
            "required": True,
            "originals": 1,
            "copies": 0,
            "source": "applicant",
            "medium": "either",
            "common_errors": ["经营者未签字", "经营场所地址不完整"],
        },
        {
            "name": "经营者身份证明",
            "required": True,
            "originals": 1,
            "copies": 1,
            "source": "government",
            "shared_resource": "人口库:居民身份信息",
        },
    ],
    "process": [
        {"name": "申请"},
        {"name": "受理", "time_limit": {"value": 1, "unit": "working_day"}, "handled_by": "窗口工作人员"},
        {"name": "审查"},
        {"name": "决定"},
        {"name": "办结"},
        {"name": "送达"},
    ],
    "fees": {"charged": False, "text": "不收费"},
    "online": {"depth": "IV", "capabilities": ["1", "2", "3", "4", "5", "6", "7"]},
    "max_visits": 0,
    "supports": {"appointment": True, "online_payment": False, "delivery": True, "postal_application": True},
    "cross_region_scope": "city",
    "location": "杭州市西湖区文三路市民之家二楼市场监管窗口",
    "hours": "工作日 9:00–17:00",
    "contacts": {"consultation_phone": "0571-87000001", "supervision_phone": "12345"},
    "faqs": [{"question": "可以网上办理吗？", "answer": "可以，全程网办。"}],
    "results": [{"name": "营业执照", "kind": "licence", "sample": "samples/licence.pdf"}],
}


# --- results --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    sheet: str  # the sheet's title as in the workbook
    row: int  # the spreadsheet row number (the header is row 1)
    column: str  # the column's key (e.g. "copies"), or the header as written for an unknown column
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"sheet": self.sheet, "row": self.row, "column": self.column, "message": self.message}


@dataclass
class WorkbookResult:
    items: list[dict[str, Any]]
    row_errors: list[RowError]
    report: services.ImportReport | None = None
    example_rows: int = 0  # rows of the template's example that were skipped


# --- cells ----------------------------------------------------------------------------------------


class _CellError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _shown(value: Any) -> str:
    text = value.isoformat() if isinstance(value, dt.date) else str(value)
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "…"


def _number_text(value: int | float) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, float):
        return format(Decimal(repr(value)).normalize(), "f")
    return str(value)


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return YES if value else NO
    if isinstance(value, int | float):
        return _number_text(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time.min else value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.isoformat()
    return str(value)


def _to_int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d+\s*", value):
        return int(value)
    raise ValueError


def _to_date(value: Any) -> str:
    if isinstance(value, dt.datetime):
        if value.time() != dt.time.min:
            raise ValueError
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = _as_text(value).strip()
    if re.fullmatch(r"\d{8}", text):  # GB/T 7408 basic format, as in STANDARDS.md §1
        text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
    match = re.fullmatch(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?", text)
    if not match:
        raise ValueError
    year, month, day = (int(part) for part in match.groups())
    return dt.date(year, month, day).isoformat()


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    word = _as_text(value).strip().lower()
    if word in _TRUE_WORDS:
        return True
    if word in _FALSE_WORDS:
        return False
    raise ValueError


def _to_amount(value: Any) -> str:
    if isinstance(value, bool):
        raise ValueError
    text = _as_text(value).strip()  # a float cell as typed (12.5), never rounded
    if not re.fullmatch(r"[0-9]+(\.[0-9]{1,2})?", text):
        raise ValueError
    return text


def _convert(column: Column, value: Any) -> Any:
    """A cell's value in the exchange format; raises _CellError with a message for the manager."""
    kind = column.kind
    try:
        if kind == INT:
            return _to_int(value)
        if kind == BOOL:
            return _to_bool(value)
        if kind == DATE:
            return _to_date(value)
        if kind == AMOUNT:
            return _to_amount(value)
    except ValueError:
        messages = {
            INT: _('Expected a whole number, found "%(value)s".'),
            BOOL: _('Expected 是 or 否 (yes or no), found "%(value)s".'),
            DATE: _('Expected a date such as 2025-01-31, found "%(value)s".'),
            AMOUNT: _('Expected an amount in yuan such as 120 or 12.50, found "%(value)s".'),
        }
        raise _CellError(messages[kind] % {"value": _shown(value)}) from None
    if kind in _SPLIT:
        if isinstance(value, bool):
            raise _CellError(_('Expected a list of values, found "%(value)s".') % {"value": _shown(value)})
        parts = [part.strip() for part in _SPLIT[kind].split(_as_text(value))]
        return [part for part in parts if part]
    if kind == TEXT:
        return value if isinstance(value, str) else _as_text(value)
    text = _as_text(value).strip()  # CODE
    if column.width and isinstance(value, int | float) and not isinstance(value, bool) and text.isdigit():
        text = text.zfill(column.width)
    return text


# --- headers and sheets ---------------------------------------------------------------------------

_BRACKETED = re.compile(r"[(（]\s*([A-Za-z][A-Za-z0-9_]*)\s*[)）]\s*$")


def _identify(title: Any, keys: Collection[str], labels: dict[str, str]) -> tuple[str | None, str]:
    """The key a header or sheet title names (by the key in brackets, the key alone or the label alone),
    and the text it was recognised from."""
    text = _as_text(title).strip() if title is not None else ""
    match = _BRACKETED.search(text)
    if match:
        key = match.group(1).lower()
        return (key if key in keys else None), text
    if text.lower() in keys:
        return text.lower(), text
    return labels.get(text), text


def _sheet_key(title: str) -> str | None:
    keys = {spec.name for spec in SHEETS} | {README}
    labels = {spec.label: spec.name for spec in SHEETS} | {README_LABEL: README}
    return _identify(title, keys, labels)[0]


def _letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return str(get_column_letter(index + 1))


@dataclass
class _Sheet:
    spec: SheetSpec
    worksheet: Any
    rank: int
    columns: dict[int, Column] = field(default_factory=dict)  # 0-based column index → column
    ignored: set[int] = field(default_factory=set)  # columns already reported at the header
    missing: set[str] = field(default_factory=set)  # keys of required columns the sheet lacks

    @property
    def title(self) -> str:
        return str(self.worksheet.title)


Location = tuple[str, int, str]  # sheet title, row, column key


class _Reader:
    def __init__(self, workbook: Any, *, progress: bool) -> None:
        self.workbook = workbook
        self.progress = progress
        self.errors: dict[Location, tuple[tuple[int, int, int], RowError]] = {}
        self.items: list[dict[str, Any]] = []
        self.rows: list[int] = []  # the items-sheet row of each item
        self.provenance: list[dict[str, Location]] = []  # per item: JSON path → cell
        self.by_code: dict[str, int] = {}  # implementation code → item index
        self.code_rows: dict[str, int] = {}
        self.example_rows = 0
        self.sheets: dict[str, _Sheet] = {}

    # errors are kept once per cell (the first problem found there), sorted by sheet, row and column
    def error(self, sheet: _Sheet | None, title: str, row: int, column: str, message: str) -> None:
        location = (title, row, column)
        if location in self.errors:
            return
        if sheet is not None:
            order = next((i for i, c in enumerate(sheet.spec.columns) if c.key == column), -1)
            rank = sheet.rank
        else:
            order, rank = -1, len(SHEETS)
        self.errors[location] = ((rank, row, order), RowError(title, row, column, message))

    def read(self) -> WorkbookResult:
        self._find_sheets()
        order = [self.sheets[spec.name] for spec in SHEETS if spec.name in self.sheets]
        for sheet in order:
            self._read_header(sheet)
        total = sum(max(int(sheet.worksheet.max_row or 1) - 1, 0) for sheet in order)
        from tqdm import tqdm

        with tqdm(
            total=total, unit=_("rows"), desc=_("Reading rows"), file=sys.stderr, disable=not self.progress, leave=False
        ) as bar:
            for sheet in order:
                for number, values in self._rows(sheet):
                    bar.update(1)
                    if sheet.spec is ITEMS:
                        self._item_row(sheet, number, values)
                    else:
                        self._child_row(sheet, number, values)
        for item in self.items:
            for key, empty in _ALWAYS.items():
                item.setdefault(key, type(empty)())
        self._schema_errors()
        errors = [error for _key, error in sorted(self.errors.values(), key=lambda pair: pair[0])]
        return WorkbookResult(items=self.items, row_errors=errors, example_rows=self.example_rows)

    def _find_sheets(self) -> None:
        names = ", ".join(spec.name for spec in SHEETS)
        for worksheet in self.workbook.worksheets:
            key = _sheet_key(worksheet.title)
            if key == README:
                continue
            spec = next((s for s in SHEETS if s.name == key), None)
            if spec is None:
                self.error(
                    None, worksheet.title, 1, "", _("Unknown sheet; the sheets are %(sheets)s.") % {"sheets": names}
                )
            elif spec.name in self.sheets:
                self.error(
                    None,
                    worksheet.title,
                    1,
                    "",
                    _("A second %(sheet)s sheet; merge it into %(first)s.")
                    % {"sheet": spec.name, "first": self.sheets[spec.name].title},
                )
            else:
                self.sheets[spec.name] = _Sheet(spec, worksheet, rank=SHEETS.index(spec))
        if ITEMS.name not in self.sheets:
            found = ", ".join(str(ws.title) for ws in self.workbook.worksheets)
            raise InvalidInput(
                gettext_lazy('The workbook has no "items" sheet (its sheets: %(sheets)s).') % {"sheets": found}
            )

    def _read_header(self, sheet: _Sheet) -> None:
        spec = sheet.spec
        keys = {c.key for c in spec.columns}
        labels = {c.label: c.key for c in spec.columns}
        header = next(sheet.worksheet.iter_rows(min_row=1, max_row=1, values_only=True), ())
        seen: dict[str, int] = {}
        for index, title in enumerate(header):
            if _blank(title):
                continue
            key, text = _identify(title, keys, labels)
            if key is None:
                sheet.ignored.add(index)
                self.error(
                    sheet,
                    sheet.title,
                    1,
                    text,
                    _(
                        "Unknown column %(column)s: a header ends with a column key in brackets, e.g. "
                        "%(example)s (the readme sheet lists the columns of every sheet)."
                    )
                    % {"column": text, "example": spec.columns[1].header},
                )
            elif key in seen:
                sheet.ignored.add(index)
                self.error(
                    sheet,
                    sheet.title,
                    1,
                    key,
                    _("Column %(column)s appears twice (columns %(first)s and %(second)s).")
                    % {"column": key, "first": _letter(seen[key]), "second": _letter(index)},
                )
            else:
                seen[key] = index
                column = spec.column(key)
                assert column is not None
                sheet.columns[index] = column
        has_rows = int(sheet.worksheet.max_row or 1) > 1
        for column in spec.columns:
            if column.required and column.key not in seen and (has_rows or spec is ITEMS):
                sheet.missing.add(column.key)
                self.error(
                    sheet,
                    sheet.title,
                    1,
                    column.key,
                    _("The required column %(header)s is missing.") % {"header": column.header},
                )

    def _rows(self, sheet: _Sheet) -> Iterator[tuple[int, tuple[Any, ...]]]:
        reported: set[int] = set()
        for number, values in enumerate(sheet.worksheet.iter_rows(min_row=2, values_only=True), start=2):
            if all(_blank(v) for v in values):
                continue
            for index, value in enumerate(values):
                if index in sheet.columns or index in sheet.ignored or index in reported or _blank(value):
                    continue
                reported.add(index)
                self.error(
                    sheet,
                    sheet.title,
                    1,
                    _letter(index),
                    _("Column %(letter)s has values (first on row %(row)d) but no header.")
                    % {"letter": _letter(index), "row": number},
                )
            yield number, values

    def _cells(self, sheet: _Sheet, number: int, values: Sequence[Any]) -> dict[Column, Any]:
        """The row's filled cells converted, after reporting bad and missing ones."""
        found: dict[Column, Any] = {}
        filled: set[str] = set()
        for index, column in sheet.columns.items():
            raw = values[index] if index < len(values) else None
            if _blank(raw):
                continue
            filled.add(column.key)
            try:
                found[column] = _convert(column, raw)
            except _CellError as exc:
                self.error(sheet, sheet.title, number, column.key, exc.message)
        for column in sheet.columns.values():
            if column.key in filled:
                continue
            if column.required:
                self.error(sheet, sheet.title, number, column.key, _("This cell is required."))
            elif column.required_in_group:
                others = [
                    c.key
                    for c in sheet.spec.columns
                    if c.path[:-1] == column.path[:-1] and c is not column and c.key in filled
                ]
                if others:
                    self.error(
                        sheet,
                        sheet.title,
                        number,
                        column.key,
                        _("Required when %(columns)s is filled.") % {"columns": ", ".join(others)},
                    )
        return found

    def _fill(
        self,
        sheet: _Sheet,
        number: int,
        cells: dict[Column, Any],
        target: dict[str, Any],
        base: str,
        provenance: dict[str, Location],
    ) -> None:
        provenance[base] = (sheet.title, number, "")
        for column in sheet.spec.columns:  # absent columns too: their errors are reported at the header
            if column.path:
                provenance[json_path(column.path, base)] = (sheet.title, number, column.key)
        for column, value in cells.items():
            if column.path:
                _set(target, column.path, value)

    @staticmethod
    def _is_example(sheet: _Sheet, values: tuple[Any, ...]) -> bool:
        index = next((i for i, c in sheet.columns.items() if c.key == LINK.key), None)
        return index is not None and index < len(values) and _as_text(values[index]).strip() == EXAMPLE_CODE

    def _item_row(self, sheet: _Sheet, number: int, values: tuple[Any, ...]) -> None:
        if self._is_example(sheet, values):
            self.example_rows += 1
            return
        cells = self._cells(sheet, number, values)
        code = next((v for c, v in cells.items() if c.key == LINK.key), None)
        if code is not None and code in self.by_code:
            self.error(
                sheet,
                sheet.title,
                number,
                "implementation_code",
                _("The implementation code %(code)s is already used on row %(row)d.")
                % {"code": code, "row": self.code_rows[code]},
            )
            return
        item: dict[str, Any] = {}
        provenance: dict[str, Location] = {}
        self._fill(sheet, number, cells, item, "$", provenance)
        if code is not None:
            self.by_code[code] = len(self.items)
            self.code_rows[code] = number
        self.items.append(item)
        self.rows.append(number)
        self.provenance.append(provenance)

    def _child_row(self, sheet: _Sheet, number: int, values: tuple[Any, ...]) -> None:
        if self._is_example(sheet, values):
            return
        cells = self._cells(sheet, number, values)
        code = next((v for c, v in cells.items() if c.key == LINK.key), None)
        if code is None:
            return  # reported: the code is a required cell
        index = self.by_code.get(code)
        if index is None:
            self.error(
                sheet,
                sheet.title,
                number,
                LINK.key,
                _("No row of the items sheet has the implementation code %(code)s.") % {"code": code},
            )
            return
        item = self.items[index]
        container = _list_at(item, sheet.spec.path)
        child: dict[str, Any] = {}
        self._fill(
            sheet, number, cells, child, json_path([*sheet.spec.path, len(container)], "$"), self.provenance[index]
        )
        container.append(child)

    def _schema_errors(self) -> None:
        by_title = {sheet.title: sheet for sheet in self.sheets.values()}
        for item, row, provenance in zip(self.items, self.rows, self.provenance, strict=True):
            for problem in schema_errors(item):
                title, number, key = _locate(problem.path, problem.message, provenance) or (
                    self.sheets[ITEMS.name].title,
                    row,
                    "",
                )
                sheet = by_title[title]
                if key in sheet.missing:
                    continue  # reported once, at the header
                if key == "" and any(t == title and n == number for t, n, _k in self.errors):
                    continue  # the row already has a more precise error
                self.error(
                    sheet,
                    title,
                    number,
                    key,
                    _("Not allowed by the exchange format: %(error)s") % {"error": problem.message},
                )


_REQUIRED_PROPERTY = re.compile(r"^'([^']+)' is a required property$")


def _locate(path: str, message: str, provenance: dict[str, Location]) -> Location | None:
    """The cell a schema error at ``path`` came from: the exact column, else the row of the nearest object."""
    match = _REQUIRED_PROPERTY.match(message)
    if match and f"{path}.{match.group(1)}" in provenance:
        return provenance[f"{path}.{match.group(1)}"]
    while path:
        if path in provenance:
            return provenance[path]
        path = re.sub(r"(\.[^.\[]+|\[\d+\])$", "", path) if path != "$" else ""
    return None


def _set(target: dict[str, Any], path: Sequence[str], value: Any) -> None:
    for part in path[:-1]:
        target = target.setdefault(part, {})
    target[path[-1]] = value


def _list_at(target: dict[str, Any], path: Sequence[str]) -> list[Any]:
    for part in path[:-1]:
        target = target.setdefault(part, {})
    found: list[Any] = target.setdefault(path[-1], [])
    return found


# --- reading and importing ------------------------------------------------------------------------


def _open(source: str | Path | IO[bytes]) -> Any:
    from openpyxl import load_workbook

    if isinstance(source, str | Path):
        try:
            data = Path(source).read_bytes()
        except OSError as exc:
            raise InvalidInput(
                gettext_lazy("Cannot read %(path)s: %(error)s")
                % {"path": str(source), "error": exc.strerror or str(exc)}
            ) from None
    else:
        if hasattr(source, "seek"):
            source.seek(0)
        data = source.read()
    if not isinstance(data, bytes):
        raise InvalidInput(gettext_lazy("The file is not a spreadsheet: it was opened as text."))
    if data.startswith(b"\xd0\xcf\x11\xe0"):  # OLE2: an old .xls workbook, or an encrypted one
        raise InvalidInput(
            gettext_lazy(
                "The file is not a spreadsheet in the .xlsx format: it is an old .xls workbook or is password "
                "protected. Save it as .xlsx (Excel Workbook) without a password."
            )
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # unsupported extensions (e.g. from WPS) are harmless
            return load_workbook(io.BytesIO(data), data_only=True)
    except Exception as exc:  # openpyxl raises many types on malformed files; all mean the same
        raise InvalidInput(
            gettext_lazy("The file is not a spreadsheet in the .xlsx format (%(error)s).")
            % {"error": f"{type(exc).__name__}: {exc}"}
        ) from None


def read_workbook(source: str | Path | IO[bytes], *, progress: bool = False) -> WorkbookResult:
    """Convert a workbook's rows to exchange-format items, collecting every row error. Writes nothing.

    Raises ``InvalidInput`` when the file is not an .xlsx workbook or has no ``items`` sheet."""
    workbook = _open(source)
    try:
        return _Reader(workbook, progress=progress).read()
    finally:
        workbook.close()


def import_workbook(
    *, actor: Actor, source: str | Path | IO[bytes], publish: bool = False, progress: bool = False
) -> WorkbookResult:
    """Read a workbook and, if no row has an error, import its items as drafts all or nothing
    (``publish`` also publishes the items that pass every quality rule). With row errors nothing is
    written and the result lists them."""
    if not services.can(actor, services.PUBLISH if publish else services.MANAGE):
        raise PermissionDenied(gettext_lazy("You do not have permission to change the catalogue."))
    result = read_workbook(source, progress=progress)
    if result.row_errors:
        return result
    if not result.items:
        raise InvalidInput(
            gettext_lazy(
                'The workbook has no items: fill in the "items" sheet (rows with the implementation code %(code)s '
                "are the template's example and are never imported)."
            )
            % {"code": EXAMPLE_CODE}
        )
    items = services.parse_document({"items": result.items})
    result.report = services.import_items(actor=actor, items=items, publish_clean=publish)
    return result


def _display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _display_width(text))


def error_table(errors: Sequence[RowError]) -> str:
    """The row errors as an aligned plain-text table (sheet, row, column, problem)."""
    rows = [[_("Sheet"), _("Row"), _("Column"), _("Problem")]]
    rows += [[e.sheet, str(e.row), e.column, e.message] for e in errors]
    widths = [max(_display_width(row[i]) for row in rows) for i in range(3)]
    return "\n".join("  ".join(_pad(cell, widths[i]) for i, cell in enumerate(row[:3])) + "  " + row[3] for row in rows)


def import_workbook_command(command: BaseCommand, actor: Actor, path: str, *, publish: bool) -> None:
    """``yiwang catalogue import-xlsx FILE [--publish]``: import, or print every row error and fail."""
    try:
        result = import_workbook(actor=actor, source=path, publish=publish, progress=True)
    except DomainError as exc:
        lines = [str(exc.message)]
        lines += [f"  {d.get('path') or d.get('element', '')}: {d.get('message', '')}" for d in exc.details]
        raise CommandError("\n".join(lines)) from None
    if result.row_errors:
        summary = _("%(count)d problems in %(path)s; nothing was imported.") % {
            "count": len(result.row_errors),
            "path": path,
        }
        raise CommandError(summary + "\n" + error_table(result.row_errors))
    report = result.report
    assert report is not None
    blocked = sum(1 for found in report.violations.values() if any(v.severity == ERROR for v in found))
    command.stdout.write(
        _(
            "Imported %(total)d items: %(created)d new, %(updated)d updated, %(published)d published, "
            "%(blocked)d with violations."
        )
        % {
            "total": len(result.items),
            "created": report.created,
            "updated": report.updated,
            "published": report.published,
            "blocked": blocked,
        }
    )


# --- writing --------------------------------------------------------------------------------------


def _schema_node(path: Sequence[str]) -> dict[str, Any]:
    """The exchange-format schema of the value at ``path`` (list items stepped into)."""
    schema = exchange_schema()

    def deref(node: dict[str, Any]) -> dict[str, Any]:
        ref = node.get("$ref", "")
        return schema["$defs"][ref.rsplit("/", 1)[-1]] if ref else node

    node = schema
    for part in path:
        node = deref(node)
        if node.get("type") == "array":
            node = deref(node["items"])
        node = node["properties"][part]
    return deref(node)


def _allowed(spec: SheetSpec, column: Column) -> list[str]:
    if column.kind not in (CODE, CODES) or not column.path:
        return []
    node = _schema_node((*spec.path, *column.path))
    if node.get("type") == "array":
        node = node["items"]
    values: list[str] = list(node.get("enum", []))
    if not values and column.choices is not None:
        values = [str(v) for v in column.choices.values]
    return values


def _help(spec: SheetSpec, column: Column) -> tuple[str, str, str, str]:
    """Required, format, allowed values and description of a column, for the readme sheet."""
    formats = {
        TEXT: _("text"),
        CODE: _("code (text)"),
        INT: _("whole number"),
        BOOL: _("是 or 否"),
        DATE: _("date, e.g. 2025-01-31"),
        AMOUNT: _("yuan, e.g. 120 or 12.50"),
        CODES: _("codes separated by commas"),
        NAMES: _("names separated by 、"),
        LINES: _("one per line"),
    }
    if column.required:
        required = _("required")
    elif column.required_in_group:
        others = [c.key for c in spec.columns if c.path[:-1] == column.path[:-1] and c is not column]
        required = _("required with %(columns)s") % {"columns": ", ".join(others)}
    else:
        required = ""
    if column.choices is not None:
        allowed = "; ".join(f"{value} {label}" for value, label in column.choices.choices)
    else:
        allowed = ", ".join(_allowed(spec, column))
    if column is LINK:
        description = _("The implementation code of the item on the items sheet this row belongs to.")
    else:
        description = str(_schema_node((*spec.path, *column.path)).get("description", ""))
    return required, formats[column.kind], allowed, description


def _cell_value(column: Column, value: Any) -> Any:
    if value is None:
        return None
    if column.kind == BOOL and isinstance(value, bool):
        return YES if value else NO
    if column.kind == DATE and isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return value
    if column.kind in _JOIN and isinstance(value, list):
        return _JOIN[column.kind].join(str(v) for v in value)
    if isinstance(value, dict | list):
        return str(value)
    return value


def _put(worksheet: Any, row: int, index: int, column: Column, value: Any) -> None:
    from openpyxl.styles import Alignment

    cell = worksheet.cell(row=row, column=index + 1)
    cell.value = _cell_value(column, value)
    if isinstance(cell.value, str):
        cell.data_type = "s"  # never a formula, even when the text starts with "="
    if isinstance(cell.value, dt.date):
        cell.number_format = "yyyy-mm-dd"
    elif column.kind not in (INT, DATE):
        cell.number_format = "@"
    if column.kind == LINES or (isinstance(cell.value, str) and "\n" in cell.value):
        cell.alignment = Alignment(wrap_text=True, vertical="top")


def _get(source: dict[str, Any], path: Sequence[str]) -> Any:
    value: Any = source
    for part in path:
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _uncovered(item: dict[str, Any]) -> list[str]:
    """Paths of values in ``item`` that no column of the layout holds."""
    children = {spec.path: spec for spec in CHILD_SHEETS}
    missing: list[str] = []

    def walk(node: Any, path: tuple[str, ...], spec: SheetSpec, base: str) -> None:
        if spec is ITEMS and path in children:
            child = children[path]
            for index, element in enumerate(node if isinstance(node, list) else [node]):
                walk(element, (), child, json_path([*path, index]))
            return
        if path and any(c.path == path for c in spec.columns):
            return
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, (*path, key), spec, base)
            return
        missing.append(json_path(path, base))

    walk(item, (), ITEMS, "$")
    return missing


def write_template(path_or_stream: str | Path | IO[bytes], items: list[dict[str, Any]] | None = None) -> None:
    """Write a workbook in the import layout: with ``items`` (exchange-format dicts) one row per item and
    per element of its lists, else an empty template holding the worked example (code EXAMPLE).

    Values are written as they are (a wrong value stays wrong, so tests can build bad workbooks); a value
    with no column in the layout raises ValueError rather than being dropped."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    rows_of = [EXAMPLE_ITEM] if items is None else items
    for item in rows_of:
        lost = _uncovered(item)
        if lost:
            raise ValueError(f"no column of the workbook holds {', '.join(lost)}")
    workbook = Workbook()
    workbook.remove(workbook.active)
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDEBF7")
    readme_rows: list[list[str]] = []
    for spec in SHEETS:
        worksheet = workbook.create_sheet(spec.name)
        worksheet.freeze_panes = "B2"
        for index, column in enumerate(spec.columns):
            letter = _letter(index)
            cell = worksheet.cell(row=1, column=index + 1, value=column.header)
            cell.font, cell.fill = bold, fill
            required, fmt, allowed, description = _help(spec, column)
            note = "\n".join(part for part in (description, fmt, required, allowed) if part)
            cell.comment = Comment(note, "Yiwang", width=320, height=160)
            worksheet.column_dimensions[letter].width = max(12, min(40, _display_width(column.header) + 2))
            if column.kind not in (INT, DATE):
                worksheet.column_dimensions[letter].number_format = "@"
            choices = [YES, NO] if column.kind == BOOL else _allowed(spec, column) if column.kind == CODE else []
            if choices and column.key != "item_type":
                validation = DataValidation(type="list", formula1='"' + ",".join(choices) + '"', allow_blank=True)
                validation.add(f"{letter}2:{letter}1048576")
                worksheet.add_data_validation(validation)
            readme_rows.append([spec.name, column.header, required, fmt, allowed, description])
        row = 2
        for item in rows_of:
            elements = [item] if spec is ITEMS else _get(item, spec.path) or []
            for element in elements if isinstance(elements, list) else [elements]:
                for index, column in enumerate(spec.columns):
                    value = item.get("implementation_code") if column is LINK else _get(element, column.path)
                    _put(worksheet, row, index, column, value)
                row += 1
    _write_readme(workbook.create_sheet(README), readme_rows, bold, fill)
    workbook.active = 0
    if isinstance(path_or_stream, str | Path):
        workbook.save(str(path_or_stream))
    else:
        workbook.save(path_or_stream)


def _write_readme(worksheet: Any, rows: list[list[str]], bold: Any, fill: Any) -> None:
    from openpyxl.styles import Alignment

    intro = [
        _("How to fill in this workbook"),
        _(
            "One row per item on the items sheet. A row of another sheet belongs to the item with the same "
            "implementation code; rows keep their order (materials, process steps …)."
        ),
        _(
            "Columns are recognised by the key in brackets, or by the key or the Chinese name alone; their "
            "order does not matter and optional columns may be deleted. A blank cell leaves the field out."
        ),
        _(
            "Yes/no cells take 是 or 否. Code lists are separated by commas, names by 、, sentences by line breaks. "
            "Dates look like 2025-01-31."
        ),
        _(
            "Rows with the implementation code %(code)s are the worked example: they are never imported; "
            "replace them with your items."
        )
        % {"code": EXAMPLE_CODE},
        _(
            "Import with: yiwang catalogue import-xlsx FILE (or in the admin). Nothing is imported while any "
            "row has an error; every error names its sheet, row and column."
        ),
    ]
    for text in intro:
        worksheet.append([text])
    worksheet["A1"].font = bold
    worksheet.append([])
    worksheet.append([_("Sheet"), _("Column"), _("Required"), _("Format"), _("Allowed values"), _("Meaning")])
    for cell in worksheet[worksheet.max_row]:
        cell.font, cell.fill = bold, fill
    for row in rows:
        worksheet.append(row)
    for letter, width in zip("ABCDEF", (20, 34, 22, 26, 50, 60), strict=True):
        worksheet.column_dimensions[letter].width = width
    for row in worksheet.iter_rows(min_row=len(intro) + 2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
