"""Spreadsheet import: lossless round trip, every bad row reported with its cell, all or nothing.

Workbooks are built at run time with ``write_template`` (and edited with openpyxl where a test needs a
cell no exchange-format value could produce)."""

from __future__ import annotations

import copy
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.utils import translation
from openpyxl import Workbook, load_workbook
from openpyxl.utils import get_column_letter

from yiwang.audit.actors import SystemActor
from yiwang.audit.models import AuditRecord
from yiwang.catalogue import spreadsheet
from yiwang.catalogue.constants import VersionStatus
from yiwang.catalogue.models import ImplementationItem, ItemVersion
from yiwang.catalogue.schema import exchange_schema, schema_errors
from yiwang.catalogue.spreadsheet import (
    EXAMPLE_ITEM,
    SHEETS,
    RowError,
    import_workbook,
    read_workbook,
    write_template,
)
from yiwang.catalogue.tests.factories import OTHER_BODY_USCC, item_content
from yiwang.common.errors import InvalidInput, PermissionDenied

pytestmark = pytest.mark.django_db

CLI = SystemActor("test")


@pytest.fixture(autouse=True)
def english() -> Iterator[None]:
    """Messages are matched in English (zh-Hans is the default language and gets its own catalogue)."""
    with translation.override("en"):
        yield


def counts() -> tuple[int, int, int]:
    return ImplementationItem.objects.count(), ItemVersion.objects.count(), AuditRecord.objects.count()


def workbook_of(tmp_path: Path, items: list[dict[str, Any]] | None, name: str = "items.xlsx") -> Path:
    path = tmp_path / name
    write_template(path, items)
    return path


def edit(path: Path, sheet: str, cells: dict[str, Any]) -> None:
    """Set cells (e.g. {"B3": 5}) of one sheet, as a manager typing into the workbook would."""
    workbook = load_workbook(path)
    for ref, value in cells.items():
        workbook[sheet][ref] = value
    workbook.save(path)


def column_letter(sheet: str, key: str) -> str:
    spec = next(s for s in SHEETS if s.name == sheet)
    index = next(i for i, c in enumerate(spec.columns) if c.key == key)
    return str(get_column_letter(index + 1))


def cells_of(errors: list[RowError]) -> set[tuple[str, int, str]]:
    return {(e.sheet, e.row, e.column) for e in errors}


def full_item() -> dict[str, Any]:
    """An item with a value in every field the exchange format has."""
    return item_content(
        handling_body={"name": "西湖区市民之家市场监管窗口", "nature": "1"},
        entrusting_body={"name": "杭州市市场监督管理局", "uscc": OTHER_BODY_USCC, "nature": "1"},
        co_implementing_bodies=[{"name": "杭州市西湖区税务局", "nature": "1"}, {"name": "西湖区人社局"}],
        legal_basis=[
            {
                "title": "《促进个体工商户发展条例》",
                "articles": "第八条",
                "text": "个体工商户登记……",
                "role": "establishing",
            },
            {"title": "《市场主体登记管理条例》", "role": "implementing"},
        ],
        service_objects=["1", "2"],
        time_limits={
            "statutory": {"value": 15, "unit": "working_day", "note": "可延长十五日"},
            "promised": {"value": 0, "unit": "immediate"},
        },
        special_procedures=[
            {
                "name": "现场核查",
                "kind": "2",
                "max_duration": {"value": 5, "unit": "natural_day", "note": "不含路途"},
                "counts_in_time_limit": False,
            },
            {"name": "延长审批", "kind": "1"},
        ],
        conditions=[{"business_type": "设立", "text": "第一行\n第二行"}, {"text": "无其他条件"}],
        materials=[
            {
                "name": "申请书",
                "required": True,
                "originals": 1,
                "copies": 2,
                "medium": "paper",
                "source": "applicant",
                "issuing_body": "申请人",
                "licence_type_code": "11100000000013338W011",
                "shared_resource": "人口库",
                "business_types": ["设立", "变更"],
                "requirements": "=A4 纸，签字",
                "legal_basis": "条例第八条",
                "blank_form": "forms/a.pdf",
                "sample": "samples/a.pdf",
                "common_errors": ["未签字", "日期写错，重填"],
            },
            {"name": "身份证明", "required": False},
        ],
        process=[
            {
                "name": "受理",
                "description": "窗口受理",
                "handled_by": "窗口",
                "time_limit": {"value": 1, "unit": "working_day", "note": "当场"},
            },
            {"name": "办结", "time_limit": {"unit": "immediate"}},
        ],
        fees={
            "charged": True,
            "basis": "发改价格〔2019〕1号",
            "text": "按件收费",
            "items": [
                {"name": "工本费", "amount_yuan": "10.50", "basis": "物价文件"},
                {"name": "副本", "amount_yuan": "5"},
            ],
        },
        online={
            "depth": "III",
            "capabilities": ["1", "2"],
            "url": "https://zwfw.example.gov.cn/item/1",
            "single_sign_on": True,
        },
        max_visits=1,
        visits_reason="需核验原件",
        supports={"appointment": False, "online_payment": True, "delivery": False, "postal_application": False},
        contacts={"consultation_phone": "0571-87000001", "supervision_phone": "12345", "other": "微信公众号"},
        faqs=[{"question": "要多久？", "answer": "当场办结。"}, {"question": "收费吗？", "answer": "收工本费。"}],
        results=[
            {
                "name": "营业执照",
                "kind": "licence",
                "licence_type_code": "11100000000013338W032",
                "sample": "samples/licence.pdf",
            },
            {"name": "受理通知书", "kind": "other"},
        ],
        quantity_limit="无数量限制",
        intermediary_services=["房产测绘", "环境影响评价，报告书"],
        effective_date="2025-01-01",
        cancel_date="2099-12-31",
        source={"url": "https://example.gov.cn/guide", "published": "2024-06-01", "note": "抄录"},
    )


# --- layout ------------------------------------------------------------------------------------


def _schema_leaves(node: dict[str, Any], path: tuple[str, ...], schema: dict[str, Any]) -> Iterator[tuple[str, ...]]:
    if "$ref" in node:
        node = schema["$defs"][node["$ref"].rsplit("/", 1)[-1]]
    if node.get("type") == "array" and "properties" in _deref(node["items"], schema):
        node = _deref(node["items"], schema)
    if "properties" in node:
        for key, child in node["properties"].items():
            yield from _schema_leaves(child, (*path, key), schema)
    else:
        yield path


def _deref(node: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    return schema["$defs"][node["$ref"].rsplit("/", 1)[-1]] if "$ref" in node else node


def test_the_layout_has_a_column_for_every_field_of_the_exchange_format() -> None:
    schema = exchange_schema()
    leaves = set(_schema_leaves(schema, (), schema))
    columns = {(*sheet.path, *column.path) for sheet in SHEETS for column in sheet.columns if column.path}
    assert leaves == columns
    keys = [(sheet.name, column.key) for sheet in SHEETS for column in sheet.columns]
    assert len(keys) == len(set(keys))


def test_the_template_example_is_a_valid_item_and_is_never_imported(tmp_path: Path, manager: Any) -> None:
    assert schema_errors(EXAMPLE_ITEM) == []
    path = workbook_of(tmp_path, None)
    assert load_workbook(path).sheetnames[0] == "items"
    result = read_workbook(path)
    assert (result.items, result.row_errors, result.example_rows) == ([], [], 1)
    before = counts()
    with pytest.raises(InvalidInput, match="no items"):
        import_workbook(actor=manager, source=path)
    assert counts() == before


def test_write_template_refuses_to_drop_a_value_it_has_no_column_for(tmp_path: Path) -> None:
    item = item_content()
    item["materials"][0]["colour"] = "blue"
    with pytest.raises(ValueError, match=r"\$\.materials\[0\]\.colour"):
        write_template(tmp_path / "x.xlsx", [item])


# --- round trip and import -----------------------------------------------------------------------


def test_round_trip_is_lossless_and_creates_drafts(tmp_path: Path, manager: Any) -> None:
    items = [item_content(), full_item()]
    path = workbook_of(tmp_path, copy.deepcopy(items))
    result = import_workbook(actor=manager, source=path)
    assert result.row_errors == []
    assert result.items == items
    assert result.report is not None and (result.report.created, result.report.published) == (2, 0)
    versions = ItemVersion.objects.order_by("item__implementation_code")
    assert [v.status for v in versions] == [VersionStatus.DRAFT] * 2
    by_code = {v.implementation_code: v.content for v in versions}
    assert by_code == {item["implementation_code"]: item for item in items}


def test_empty_lists_and_blank_values_come_back_absent(tmp_path: Path) -> None:
    item = item_content(faqs=[], results=[], quantity_limit="", themes={"natural_person": []})
    expected = {k: v for k, v in item.items() if k not in {"faqs", "results", "quantity_limit", "themes"}}
    assert read_workbook(workbook_of(tmp_path, [item])).items == [expected]


def test_importing_the_same_workbook_again_updates_the_drafts(tmp_path: Path, manager: Any) -> None:
    path = workbook_of(tmp_path, [item_content(), item_content()])
    import_workbook(actor=manager, source=path)
    result = import_workbook(actor=manager, source=path)
    assert result.report is not None and (result.report.created, result.report.updated) == (0, 2)
    assert (ImplementationItem.objects.count(), ItemVersion.objects.count()) == (2, 2)


def test_an_uploaded_file_is_imported_like_a_path(tmp_path: Path, manager: Any) -> None:
    item = item_content()
    stream = io.BytesIO()
    write_template(stream, [item])
    upload = SimpleUploadedFile("items.xlsx", stream.getvalue())
    upload.read(10)  # a view may have peeked at it already
    result = import_workbook(actor=manager, source=upload)
    assert result.items == [item] and result.report is not None
    assert ItemVersion.objects.get().content == item


def test_the_command_imports_and_reports_counts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = workbook_of(tmp_path, [item_content(), item_content(faqs=[])])
    call_command("catalogue", "import-xlsx", str(path))
    out = capsys.readouterr().out
    assert "Imported 2 items: 2 new, 0 updated, 0 published, 1 with violations." in out
    assert ItemVersion.objects.filter(status=VersionStatus.DRAFT).count() == 2


def test_publish_publishes_clean_items_only(tmp_path: Path, publisher: Any) -> None:
    clean, faulty = item_content(), item_content(faqs=[])  # Q5: a 行政许可 needs an FAQ
    path = workbook_of(tmp_path, [clean, faulty])
    result = import_workbook(actor=publisher, source=path, publish=True)
    assert result.report is not None and result.report.published == 1
    status = dict(ItemVersion.objects.values_list("implementation_code", "status"))
    assert status == {
        clean["implementation_code"]: VersionStatus.PUBLISHED,
        faulty["implementation_code"]: VersionStatus.DRAFT,
    }


def test_the_command_publishes_with_the_flag(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    call_command("catalogue", "import-xlsx", str(workbook_of(tmp_path, [item_content()])), "--publish")
    assert "1 published" in capsys.readouterr().out
    assert ItemVersion.objects.get().status == VersionStatus.PUBLISHED


def test_publishing_needs_the_publish_permission_and_nothing_is_read_without_it(
    tmp_path: Path, manager: Any, citizen: Any
) -> None:
    path = workbook_of(tmp_path, [item_content()])
    before = counts()
    with pytest.raises(PermissionDenied):
        import_workbook(actor=manager, source=path, publish=True)
    with pytest.raises(PermissionDenied):
        import_workbook(actor=citizen, source=tmp_path / "does-not-matter.xlsx")
    assert counts() == before


# --- what managers type --------------------------------------------------------------------------


def test_headers_may_be_chinese_or_english_in_any_order(tmp_path: Path) -> None:
    item = item_content()
    path = workbook_of(tmp_path, [item])
    workbook = load_workbook(path)
    items, materials = workbook["items"], workbook["materials"]
    items["D1"] = "事项名称"  # the label alone
    items["A1"] = "implementation_code"  # the key alone
    items["B1"], items["C1"] = items["C1"].value, items["B1"].value  # swap two headers …
    for row in range(2, items.max_row + 1):  # … and their columns
        items.cell(row, 2).value, items.cell(row, 3).value = items.cell(row, 3).value, items.cell(row, 2).value
    items.title = "事项 (items)"
    materials.title = "申请材料"
    materials["B1"] = "材料名称（NAME）"
    workbook.save(path)
    result = read_workbook(path)
    assert result.row_errors == []
    assert result.items == [item]


def test_cells_typed_by_hand_are_understood(tmp_path: Path) -> None:
    item = item_content(effective_date="2025-03-01")
    path = workbook_of(tmp_path, [item])
    typed = {
        "item_type": 1,  # Excel dropped the leading zero
        "region_code": 330106,
        "fees_charged": "FALSE",
        "supports_appointment": "yes",
        "service_objects": 1,
        "handling_forms": "1，2、3",
        "effective_date": "2025/3/1",
        "max_visits": 0.0,
        "consultation_phone": " 0571-87000001 ",
    }
    edit(path, "items", {f"{column_letter('items', key)}2": value for key, value in typed.items()})
    edit(path, "materials", {f"{column_letter('materials', 'copies')}3": "1"})
    result = read_workbook(path)
    assert result.row_errors == []
    assert result.items == [item]


def test_fee_amounts_typed_as_numbers_become_yuan_strings(tmp_path: Path) -> None:
    item = item_content(fees={"charged": True, "basis": "文件", "items": [{"name": "工本费", "amount_yuan": "12.5"}]})
    path = workbook_of(tmp_path, [item])
    edit(path, "fees", {f"{column_letter('fees', 'amount_yuan')}2": 12.5})
    assert read_workbook(path).items == [item]


# --- errors --------------------------------------------------------------------------------------


def test_every_bad_row_is_reported_with_its_cell_and_nothing_is_written(tmp_path: Path, manager: Any) -> None:
    good, bad, worse = item_content(), item_content(), item_content()
    bad["fees"]["charged"] = "maybe"  # items row 3: not a yes/no
    bad["effective_date"] = "2025-02-30"  # items row 3: no such day
    bad["materials"][1]["copies"] = "two"  # materials row 5 (good has rows 2–3, bad 4–5)
    bad["materials"][0]["medium"] = "wood"  # materials row 4: not in the exchange format's enum
    worse["item_type"] = "1x"  # items row 4: fails the schema pattern
    worse["time_limits"]["statutory"] = {"value": 15}  # items row 4: a value without its unit
    worse["process"][0]["name"] = ""  # process row 14 (6 steps per item): a required cell left blank
    path = workbook_of(tmp_path, [good, bad, worse])
    workbook = load_workbook(path)
    workbook["items"].cell(1, 80, "备注 (remarks)")  # a column nobody knows
    workbook["materials"].append([OTHER_BODY_USCC + "0000000000099", "无主材料"])  # row 8: no such item
    workbook["faqs"].append([good["implementation_code"], "问题？"])  # row 5: an FAQ without its answer
    workbook.save(path)

    before = counts()
    result = import_workbook(actor=manager, source=path)
    assert result.report is None
    assert counts() == before
    expected = {
        ("items", 1, "备注 (remarks)"),
        ("items", 3, "fees_charged"),
        ("items", 3, "effective_date"),
        ("items", 4, "item_type"),
        ("items", 4, "statutory_unit"),
        ("materials", 4, "medium"),
        ("materials", 5, "copies"),
        ("materials", 8, "implementation_code"),
        ("process", 14, "name"),
        ("faqs", 5, "answer"),
    }
    assert cells_of(result.row_errors) == expected
    messages = {(e.sheet, e.row, e.column): e.message for e in result.row_errors}
    assert messages[("materials", 5, "copies")] == 'Expected a whole number, found "two".'
    assert "wood" in messages[("materials", 4, "medium")]
    assert "no row of the items sheet" in messages[("materials", 8, "implementation_code")].lower()
    assert result.row_errors[0].as_dict() == {
        "sheet": "items",
        "row": 1,
        "column": "备注 (remarks)",
        "message": messages[("items", 1, "备注 (remarks)")],
    }
    assert [(e.sheet, e.row) for e in result.row_errors] == sorted(
        ((e.sheet, e.row) for e in result.row_errors), key=lambda p: ([s.name for s in SHEETS].index(p[0]), p[1])
    )

    with pytest.raises(CommandError) as excinfo:
        call_command("catalogue", "import-xlsx", str(path))
    text = str(excinfo.value)
    assert text.startswith(f"10 problems in {path}; nothing was imported.")
    assert "materials  5    copies" in text
    assert counts() == before


def test_an_unknown_implementation_code_in_the_materials_sheet_is_a_row_error(tmp_path: Path, manager: Any) -> None:
    item = item_content()
    path = workbook_of(tmp_path, [item])
    edit(path, "materials", {"A3": "NO-SUCH-ITEM"})
    before = counts()
    result = import_workbook(actor=manager, source=path)
    assert result.row_errors == [
        RowError(
            "materials", 3, "implementation_code", "No row of the items sheet has the implementation code NO-SUCH-ITEM."
        )
    ]
    assert counts() == before


def test_duplicate_codes_and_missing_required_columns_are_reported(tmp_path: Path) -> None:
    item = item_content()
    path = workbook_of(tmp_path, [item, item])
    workbook = load_workbook(path)
    workbook["faqs"].delete_cols(3)  # the answer column
    workbook.save(path)
    errors = cells_of(read_workbook(path).row_errors)
    assert errors == {("items", 3, "implementation_code"), ("faqs", 1, "answer")}


def test_unknown_sheets_and_headerless_values_are_reported(tmp_path: Path) -> None:
    path = workbook_of(tmp_path, [item_content()])
    workbook = load_workbook(path)
    workbook.create_sheet("material")  # a typo: its rows would otherwise be lost
    workbook["conditions"].cell(2, 9, "stray note")
    workbook.save(path)
    assert cells_of(read_workbook(path).row_errors) == {("material", 1, ""), ("conditions", 1, "I")}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"implementation_code,name\nX,Y\n", "not a spreadsheet"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500), "old .xls workbook"),
        (b"PK\x05\x06" + bytes(18), "not a spreadsheet"),  # an empty zip archive
    ],
)
def test_a_file_that_is_not_an_xlsx_gets_a_clear_error(
    tmp_path: Path, manager: Any, content: bytes, message: str
) -> None:
    path = tmp_path / "items.xlsx"
    path.write_bytes(content)
    before = counts()
    with pytest.raises(InvalidInput, match=message):
        import_workbook(actor=manager, source=path)
    with pytest.raises(CommandError, match=message):
        call_command("catalogue", "import-xlsx", str(path))
    assert counts() == before


def test_a_missing_file_and_a_missing_items_sheet_get_clear_errors(tmp_path: Path) -> None:
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("catalogue", "import-xlsx", str(tmp_path / "nope.xlsx"))
    workbook = Workbook()
    workbook.active.title = "materials"
    workbook.save(tmp_path / "no-items.xlsx")
    with pytest.raises(CommandError, match='no "items" sheet'):
        call_command("catalogue", "import-xlsx", str(tmp_path / "no-items.xlsx"))


def test_errors_and_messages_have_the_shape_the_admin_shows(tmp_path: Path) -> None:
    item = item_content()
    item["materials"][0]["originals"] = -1
    errors = read_workbook(workbook_of(tmp_path, [item])).row_errors
    assert [e.as_dict() for e in errors] == [
        {
            "sheet": "materials",
            "row": 2,
            "column": "originals",
            "message": "Not allowed by the exchange format: -1 is less than the minimum of 0",
        }
    ]
    assert spreadsheet.error_table(errors).splitlines()[0].split() == ["Sheet", "Row", "Column", "Problem"]
