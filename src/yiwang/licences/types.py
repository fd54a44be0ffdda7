"""Defining licence types (证照类型): administrators mirror the defining authorities' definitions.

Every problem of a definition is reported at once with its path (``fields[2].source``), so an administrator fixes
a definition in one pass; a definition with any problem changes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from yiwang.audit import services as audit
from yiwang.common.errors import InvalidInput, PermissionDenied
from yiwang.identity import authz
from yiwang.licences.constants import HolderKind
from yiwang.licences.identifiers import type_code_problems
from yiwang.licences.models import LicenceType

MANAGE = "licences.manage_types"
_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_SOURCE = re.compile(r"^(form|case):([a-z_][a-z0-9_]{0,59})$")
# What a licence may take from its case (besides the applicant's form answers).
CASE_SOURCES = frozenset({"applicant_name", "item_name", "number", "department", "region_code"})
MAX_FIELDS = 40


def _problem(problems: list[dict[str, str]], field: str, message: str) -> None:
    problems.append({"field": field, "message": message})


def _text(problems: list[dict[str, str]], data: Mapping[str, Any], key: str, limit: int, *, required: bool) -> str:
    value = data.get(key, "")
    if not isinstance(value, str):
        _problem(problems, key, _("Enter text."))
        return ""
    text = str(value).strip()
    if required and not text:
        _problem(problems, key, _("This is required."))
    elif len(text) > limit:
        _problem(problems, key, _("Keep it under %(n)s characters.") % {"n": limit})
    return text


def _fields(problems: list[dict[str, str]], raw: Any) -> list[dict[str, str]]:
    if raw in (None, ""):
        return []
    if not isinstance(raw, list):
        _problem(problems, "fields", _("The fields are a list."))
        return []
    if len(raw) > MAX_FIELDS:
        _problem(problems, "fields", _("A licence type has at most %(n)s fields.") % {"n": MAX_FIELDS})
    cleaned: list[dict[str, str]] = []
    seen: set[str] = set()
    for index, item in enumerate(raw):
        path = f"fields[{index}]"
        if not isinstance(item, Mapping):
            _problem(problems, path, _("Each field is an object with a key, a label and a source."))
            continue
        key = str(item.get("key", ""))
        if not _KEY.match(key):
            _problem(problems, f"{path}.key", _("A key is lower-case letters, digits and _, starting with a letter."))
        elif key in seen:
            _problem(problems, f"{path}.key", _("The key “%(key)s” is used twice.") % {"key": key})
        seen.add(key)
        label = item.get("label")
        label = label.strip() if isinstance(label, str) else ""  # a null label is no label, not "None"
        if not label or len(label) > 60:
            _problem(problems, f"{path}.label", _("Give a label of at most 60 characters."))
        raw_source = item.get("source")
        source: str = raw_source if isinstance(raw_source, str) else ""
        matched = _SOURCE.match(source)
        if matched is None:
            _problem(problems, f"{path}.source", _("A source is form:<field> or case:<attribute>."))
        elif matched.group(1) == "case" and matched.group(2) not in CASE_SOURCES:
            _problem(
                problems,
                f"{path}.source",
                _("A licence can take from its case only: %(names)s.") % {"names": ", ".join(sorted(CASE_SOURCES))},
            )
        cleaned.append(
            {
                "key": key,
                "label": label,
                "label_en": item["label_en"].strip()[:120] if isinstance(item.get("label_en"), str) else "",
                "source": source,
            }
        )
    return cleaned


def _layout(problems: list[dict[str, str]], raw: Any, keys: set[str]) -> dict[str, Any]:
    if raw in (None, ""):
        return {"title": "", "title_en": "", "rows": sorted(keys)}
    if not isinstance(raw, Mapping):
        _problem(problems, "layout", _("The layout is an object with a title and rows."))
        return {}
    rows = raw.get("rows", [])
    if not isinstance(rows, list) or any(not isinstance(r, str) for r in rows):
        _problem(problems, "layout.rows", _("The rows are a list of field keys."))
        rows = []
    for index, row in enumerate(rows):
        if row not in keys:
            _problem(problems, f"layout.rows[{index}]", _("“%(key)s” is not one of the type's fields.") % {"key": row})
    return {
        "title": str(raw.get("title", "")).strip()[:60],
        "title_en": str(raw.get("title_en", "")).strip()[:120],
        "rows": rows,
    }


def define(*, actor: Any, definition: Mapping[str, Any]) -> LicenceType:
    """Create a licence type, or update the one with the same code (its identifiers and issued licences keep it)."""
    if not authz.allowed(actor, MANAGE):
        raise PermissionDenied(_("Only an administrator defines licence types."))
    problems: list[dict[str, str]] = []
    code = str(definition.get("code", "")).strip().upper()
    for message in type_code_problems(code):
        _problem(problems, "code", message)
    name = _text(problems, definition, "name", 100, required=True)
    name_en = _text(problems, definition, "name_en", 200, required=False)
    authority = _text(problems, definition, "defining_authority", 200, required=True)
    holder = str(definition.get("holder_kind", ""))
    if holder not in HolderKind.values:
        _problem(problems, "holder_kind", _("The holder is 111 (a person) or 049 (an organisation)."))
    years = definition.get("validity_years")
    if years not in (None, "") and (isinstance(years, bool) or not isinstance(years, int) or not 1 <= years <= 100):
        _problem(problems, "validity_years", _("Give whole years from 1 to 100, or nothing for no expiry."))
    fields = _fields(problems, definition.get("fields"))
    layout = _layout(problems, definition.get("layout"), {f["key"] for f in fields})
    if problems:
        raise InvalidInput(
            _("The licence type has %(n)s problem(s).") % {"n": len(problems)},
            details=problems,
        )
    values = {
        "name": name,
        "name_en": name_en,
        "defining_authority": authority,
        "holder_kind": holder,
        "validity_years": years or None,
        "fields": fields,
        "layout": layout,
    }
    with transaction.atomic():
        existing = LicenceType.objects.select_for_update().filter(code=code).first()
        before = None
        if existing is None:
            licence_type = LicenceType.objects.create(code=code, **values)
        else:
            before = {k: getattr(existing, k) for k in values}
            for k, v in values.items():
                setattr(existing, k, v)
            existing.save()
            licence_type = existing
        audit.record(
            actor=actor,
            action="licences.type_defined",
            object_type="licences.licencetype",
            object_id=licence_type.pk,
            object_label=str(licence_type),
            before=before,
            after=values,
        )
    return licence_type
