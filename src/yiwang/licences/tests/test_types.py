"""Licence types: administrators define them (every problem reported at once, nothing changed by a bad one)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import translation

from yiwang.audit.models import AuditRecord
from yiwang.common.errors import InvalidInput, PermissionDenied
from yiwang.licences import types
from yiwang.licences.models import LicenceType

pytestmark = pytest.mark.django_db

# 营业执照 as the market regulator defines it (the type code of a real identifier, STANDARDS.md §8).
BUSINESS_LICENCE: dict[str, Any] = {
    "code": "11100000000013338W032",
    "name": "营业执照",
    "name_en": "Business licence",
    "defining_authority": "国家市场监督管理总局",
    "holder_kind": "049",
    "validity_years": None,
    "fields": [
        {"key": "holder", "label": "名称", "label_en": "Name", "source": "case:applicant_name"},
        {"key": "address", "label": "住所", "label_en": "Address", "source": "form:address"},
        {"key": "scope", "label": "经营范围", "label_en": "Business scope", "source": "form:business_scope"},
    ],
    "layout": {"title": "营业执照", "title_en": "Business licence", "rows": ["holder", "address", "scope"]},
}


def test_an_administrator_defines_and_redefines_a_type(admin: User) -> None:
    created = types.define(actor=admin, definition=BUSINESS_LICENCE)
    assert (created.code, created.holder_kind, created.validity_years) == ("11100000000013338W032", "049", None)
    assert created.defining_authority_code == "11100000000013338W"
    assert [f["key"] for f in created.fields] == ["holder", "address", "scope"]
    changed = types.define(actor=admin, definition={**BUSINESS_LICENCE, "validity_years": 10})
    assert changed.pk == created.pk and changed.validity_years == 10
    records = AuditRecord.objects.filter(action="licences.type_defined").order_by("id")
    assert [r.before is None for r in records] == [True, False]
    assert records[1].before is not None and records[1].before["validity_years"] is None


@pytest.mark.parametrize("persona", ["clerk", "reviewer_a", "supervisor", "auditor", "manager", "publisher", "citizen"])
def test_only_administrators_define_types(persona: str, request: pytest.FixtureRequest) -> None:
    with pytest.raises(PermissionDenied):
        types.define(actor=request.getfixturevalue(persona), definition=BUSINESS_LICENCE)
    assert not LicenceType.objects.exists()


def test_every_problem_is_reported_at_once_with_its_path_and_nothing_changes(admin: User) -> None:
    bad = {
        "code": "11100000000013338X032",  # a USCC with a wrong check character
        "name": "",
        "defining_authority": "x" * 201,
        "holder_kind": "112",
        "validity_years": 0,
        "fields": [
            {"key": "Holder", "label": "名称", "source": "case:applicant_name"},
            {"key": "addr", "label": "", "source": "form:address"},
            {"key": "addr", "label": "住所", "source": "case:applicant_id_number"},
            {"key": "x", "label": "x", "source": "registers:person"},
            "not a field",
            {"key": "y", "label": None, "source": None},
        ],
        "layout": {"rows": ["holder", "nowhere"]},
    }
    with translation.override("en"), pytest.raises(InvalidInput) as refused:
        types.define(actor=admin, definition=bad)
    where = {d["field"] for d in refused.value.details}
    assert where >= {
        "code",
        "name",
        "defining_authority",
        "holder_kind",
        "validity_years",
        "fields[0].key",
        "fields[1].label",
        "fields[2].key",
        "fields[2].source",
        "fields[3].source",
        "fields[4]",
        "fields[5].label",
        "fields[5].source",
        "layout.rows[0]",
        "layout.rows[1]",
    }
    messages = " ".join(d["message"] for d in refused.value.details)
    assert "used twice" in messages and "only: applicant_name" in messages
    assert not LicenceType.objects.exists()
    assert not AuditRecord.objects.filter(action="licences.type_defined").exists()


def test_a_malformed_type_code_is_explained_in_chinese_by_default(admin: User) -> None:
    with pytest.raises(InvalidInput) as refused:
        types.define(actor=admin, definition={**BUSINESS_LICENCE, "code": "123"})
    assert "证照类型代码" in refused.value.details[0]["message"]
