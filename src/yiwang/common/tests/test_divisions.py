"""Reference divisions: loaded on migrate, upserted by ``yiwang load_divisions``, with an audit record."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.management import call_command

from yiwang.audit.models import AuditRecord
from yiwang.common.models import Division, DivisionLevel

pytestmark = pytest.mark.django_db


def test_reference_divisions_are_there_after_migrate() -> None:
    assert Division.objects.filter(level=DivisionLevel.PROVINCE).count() == 34
    xihu = Division.objects.get(code="330106")
    assert xihu.full_name == "浙江省杭州市西湖区"
    assert Division.objects.get(code="370811").parent_id == "370800"


def test_loading_a_file_adds_and_updates(tmp_path: Path) -> None:
    path = tmp_path / "more.json"
    rows = [
        {"code": "330200", "name": "宁波市", "name_en": "Ningbo City", "level": 2, "parent": "330000"},
        {"code": "330203", "name": "海曙区", "name_en": "Haishu District", "level": 3, "parent": "330200"},
    ]
    path.write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")
    before = AuditRecord.objects.filter(action="reference.divisions.load").count()
    call_command("load_divisions", str(path))
    assert Division.objects.get(code="330203").full_name == "浙江省宁波市海曙区"
    call_command("load_divisions", str(path))  # unchanged: nothing written, no audit record
    assert AuditRecord.objects.filter(action="reference.divisions.load").count() == before + 1
