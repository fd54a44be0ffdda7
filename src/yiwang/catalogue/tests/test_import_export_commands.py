"""``yiwang catalogue import|check|export``: all-or-nothing, idempotent, lossless, clear errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from yiwang.audit.models import AuditRecord
from yiwang.catalogue.constants import VersionStatus
from yiwang.catalogue.models import ImplementationItem, ItemVersion
from yiwang.catalogue.tests.factories import item_content

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    # Commands speak the default language (zh-Hans); these tests match English messages.
    with translation.override("en"):
        yield


def write(tmp_path: Path, data: Any, name: str = "items.json") -> str:
    path = tmp_path / name
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return str(path)


def counts() -> tuple[int, int, int]:
    return ImplementationItem.objects.count(), ItemVersion.objects.count(), AuditRecord.objects.count()


def test_import_creates_drafts_and_again_is_idempotent(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    items = [item_content(), item_content()]
    path = write(tmp_path, {"items": items})
    call_command("catalogue", "import", path)
    assert ItemVersion.objects.filter(status=VersionStatus.DRAFT).count() == 2
    assert "2 new, 0 updated" in capsys.readouterr().out
    call_command("catalogue", "import", path)
    assert "0 new, 2 updated" in capsys.readouterr().out
    assert ImplementationItem.objects.count() == 2
    assert ItemVersion.objects.count() == 2  # the open drafts were updated, not duplicated


def test_importing_a_published_item_again_opens_a_new_draft_version(tmp_path: Path) -> None:
    item = item_content()
    path = write(tmp_path, item)
    call_command("catalogue", "import", path, "--publish")
    call_command("catalogue", "import", path)
    versions = list(ItemVersion.objects.order_by("number").values_list("number", "status"))
    assert versions == [(1, "published"), (2, "draft")]


def test_a_malformed_file_names_the_bad_path_and_writes_nothing(tmp_path: Path) -> None:
    good, bad = item_content(), item_content()
    bad["materials"][1]["copies"] = "two"
    path = write(tmp_path, {"items": [good, bad]})
    before = counts()
    with pytest.raises(CommandError, match=r"\$\.items\[1\]\.materials\[1\]\.copies"):
        call_command("catalogue", "import", path)
    assert counts() == before


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "not valid JSON"),
        ('{"items": 3}', "must be a list"),
        ('{"name": "x", "surprise": 1}', "exchange format"),
    ],
)
def test_bad_files_get_clear_errors(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text, encoding="utf-8")
    before = counts()
    with pytest.raises(CommandError, match=message):
        call_command("catalogue", "import", str(path))
    assert counts() == before


def test_missing_file_is_a_clear_error() -> None:
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("catalogue", "import", "/nonexistent/items.json")


def test_duplicate_codes_in_one_file_are_refused(tmp_path: Path) -> None:
    item = item_content()
    with pytest.raises(CommandError, match="more than once"):
        call_command("catalogue", "import", write(tmp_path, {"items": [item, item]}))
    assert ImplementationItem.objects.count() == 0


def test_check_lists_every_violation_as_json_and_exits_non_zero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = item_content(faqs=[], fees={"charged": False, "text": "无"})
    path = write(tmp_path, {"items": [item_content(), bad]})
    capsys.readouterr()
    with pytest.raises(SystemExit) as exit_info:
        call_command("catalogue", "check", path, "--json")
    assert exit_info.value.code == 1
    rows = json.loads(capsys.readouterr().out)
    assert {(r["rule"], r["item"]) for r in rows} == {
        ("Q5", bad["implementation_code"]),
        ("Q3", bad["implementation_code"]),
    }
    assert all({"rule", "item", "message", "element"} <= set(r) for r in rows)


def test_check_of_a_clean_file_exits_zero(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    call_command("catalogue", "check", write(tmp_path, item_content()))
    assert "0 violations" in capsys.readouterr().out


def test_export_round_trips_losslessly(tmp_path: Path) -> None:
    items = [item_content(), item_content(region_code="330106", hours="全天")]
    call_command("catalogue", "import", write(tmp_path, {"items": items}), "--publish")
    out = tmp_path / "export.json"
    call_command("catalogue", "export", "--format", "json", "--out", str(out))
    exported = json.loads(out.read_text(encoding="utf-8"))
    assert sorted(exported["items"], key=lambda i: i["implementation_code"]) == sorted(
        items, key=lambda i: i["implementation_code"]
    )
    # Importing the export changes no published content: it opens drafts equal to what is published.
    call_command("catalogue", "import", str(out))
    for draft in ItemVersion.objects.filter(status=VersionStatus.DRAFT):
        assert draft.content == ItemVersion.objects.get(item=draft.item, status=VersionStatus.PUBLISHED).content


def test_the_spreadsheet_template_round_trips_the_catalogue(tmp_path: Path) -> None:
    items = [item_content(), item_content()]
    call_command("catalogue", "import", write(tmp_path, {"items": items}), "--publish")
    out = tmp_path / "catalogue.xlsx"
    call_command("catalogue", "xlsx-template", "--out", str(out), "--with-items")
    call_command("catalogue", "import-xlsx", str(out))
    # Re-importing the published catalogue opens drafts identical to what is published.
    drafts = ItemVersion.objects.filter(status=VersionStatus.DRAFT)
    assert drafts.count() == 2
    for draft in drafts:
        assert draft.content == ItemVersion.objects.get(item=draft.item, status=VersionStatus.PUBLISHED).content
