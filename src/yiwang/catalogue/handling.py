"""Application forms and handling steps of catalogue items (``ItemHandling``), kept beside the exchange content.

Each version may store a form definition (a JSON Schema 2020-12 subset with layout hints) and the handling
steps after acceptance (审查 → 审核 → 决定, or none: 即办). A version without one uses ``default_handling``,
derived from its content, so every published item can be applied for. Catalogue managers set it on an open
version; it is copied to the next draft and frozen with its version (docs/decisions/0007, docs/catalogue.md).

Writes follow the catalogue's rule: keyword-only ``actor``, role and scope checked through ``identity.authz``
(as ``catalogue.services`` checks drafts), one transaction, an audit record inside it.
"""

from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from yiwang.audit import services as audit
from yiwang.audit.actors import Actor, actor_label
from yiwang.catalogue.constants import VersionStatus
from yiwang.catalogue.forms import PREFILL_FACTS, TEXT_LIMIT, text_in
from yiwang.catalogue.models import ItemHandling, ItemVersion
from yiwang.catalogue.schema import json_path
from yiwang.common.errors import InvalidInput, InvalidTransition, PermissionDenied
from yiwang.identity import authz

if TYPE_CHECKING:
    from yiwang.catalogue.services import ImportReport

MANAGE = "catalogue.manage"  # the same authz action as catalogue.services.MANAGE

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
# 审查 → 审核 → 决定 (STANDARDS.md §4 Q5: a licensing process has 审查(审核) and 决定(审批) after 受理).
STEP_CODES = ("review", "audit", "decide")
ROLES = ("reviewer", "approver")
OPEN_STATUSES = (VersionStatus.DRAFT, VersionStatus.IN_REVIEW)

MAX_FIELDS = 200
MAX_CHOICES = 200
MAX_PATTERN_LENGTH = 500
FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$", re.ASCII)  # a JSON key, an HTML name and part of an id
LAYOUT_KEYS = frozenset({"title", "title_en", "fields", "columns"})
STEP_KEYS = frozenset({"code", "name", "name_en", "role", "days", "parallel"})
_TOP_KEYS = frozenset(
    {"$schema", "type", "properties", "required", "additionalProperties", "title", "x-title-en", "description"}
    | {"x-description-en"}
)
_FIELD_KEYS = frozenset({"type", "title", "x-title-en", "description", "x-description-en", "x-prefill"})
_KEYS_BY_TYPE: dict[str, frozenset[str]] = {
    "string": frozenset(
        {"maxLength", "minLength", "pattern", "format", "enum", "x-enum-labels", "x-enum-labels-en", "x-widget"}
    ),
    "integer": frozenset({"minimum", "maximum"}),
    "number": frozenset({"minimum", "maximum"}),
    "boolean": frozenset({"const"}),
    "array": frozenset({"items", "minItems", "maxItems", "uniqueItems"}),
}
_ITEM_KEYS = frozenset({"type", "enum", "x-enum-labels", "x-enum-labels-en"})

_NO_PERMISSION = _("You do not have permission to change the catalogue.")
_OUT_OF_SCOPE = _("You may change only catalogue items of your own department and region.")


# --- the definition as callers read it ------------------------------------------------------------------------


@dataclass(frozen=True)
class SectionSpec:
    """A section of the form as the layout defines it (``only``: the one untitled section of a form without
    layout)."""

    title: str
    title_en: str
    fields: tuple[str, ...]
    columns: int
    only: bool = False


@dataclass(frozen=True)
class HandlingDefinition:
    """An item version's form and steps: the stored ``ItemHandling`` or, when none is stored, the default."""

    form_schema: dict[str, Any]
    form_layout: list[dict[str, Any]]
    # In order, each ``{"code", "name", "name_en", "role", "days", "parallel"}`` (all keys present). ``days`` are
    # working days; ``parallel``: on a joint item (联办) the step goes to the lead department and to every
    # co-implementing body at once, each with its own step deadline inside the one joint deadline.
    steps: list[dict[str, Any]]
    stored: bool = False

    @property
    def properties(self) -> dict[str, dict[str, Any]]:
        properties: dict[str, dict[str, Any]] = self.form_schema.get("properties") or {}
        return properties

    @property
    def required(self) -> frozenset[str]:
        return frozenset(self.form_schema.get("required") or ())

    @property
    def field_names(self) -> list[str]:
        return list(self.properties)

    def label(self, name: str, language: str | None = None) -> str:
        return text_in(self.properties.get(name, {}), "title", language) or name

    @property
    def immediate(self) -> bool:
        """即办: decided on the spot at acceptance (no steps)."""
        return not self.steps

    @property
    def total_days(self) -> int:
        return sum(int(step["days"]) for step in self.steps)

    @property
    def joint(self) -> bool:
        return any(step["parallel"] for step in self.steps)

    def step(self, code: str) -> dict[str, Any] | None:
        return next((s for s in self.steps if s["code"] == code), None)

    @staticmethod
    def step_label(step: Mapping[str, Any], language: str | None = None) -> str:
        return text_in({"name": step.get("name"), "x-name-en": step.get("name_en")}, "name", language)

    def sections(self) -> list[SectionSpec]:
        """The layout's sections, then one section of the fields no section names (in the form's order)."""
        specs: list[SectionSpec] = []
        placed: set[str] = set()
        for section in self.form_layout:
            fields = tuple(f for f in section.get("fields") or () if f in self.properties and f not in placed)
            placed.update(fields)
            if fields:
                columns = 2 if section.get("columns") == 2 else 1
                specs.append(SectionSpec(section.get("title", ""), section.get("title_en", ""), fields, columns))
        rest = tuple(name for name in self.properties if name not in placed)
        if rest:
            specs.append(SectionSpec("", "", rest, 1, only=not specs))
        return specs

    def as_json(self) -> dict[str, Any]:
        return {
            "form_schema": copy.deepcopy(self.form_schema),
            "form_layout": copy.deepcopy(self.form_layout),
            "steps": copy.deepcopy(self.steps),
        }


def _definition(data: Mapping[str, Any], *, stored: bool) -> HandlingDefinition:
    steps = [
        {
            "code": str(s["code"]),
            "name": str(s.get("name", "")),
            "name_en": str(s.get("name_en", "")),
            "role": str(s["role"]),
            "days": int(s.get("days", 0)),
            "parallel": bool(s.get("parallel", False)),
        }
        for s in data.get("steps") or ()
    ]
    return HandlingDefinition(
        form_schema=copy.deepcopy(dict(data.get("form_schema") or {})),
        form_layout=copy.deepcopy(list(data.get("form_layout") or [])),
        steps=steps,
        stored=stored,
    )


def handling_for(version: ItemVersion) -> HandlingDefinition:
    """The version's stored form and steps, or the default derived from its content."""
    stored = ItemHandling.objects.filter(version_id=version.pk).first() if version.pk else None
    if stored is None:
        return _definition(default_handling(version), stored=False)
    return _definition(_snapshot(stored), stored=True)


# --- defaults from the content --------------------------------------------------------------------------------

# GB 11643 shape (17 digits and a digit or X); the check digit is the registers' business, not the form's.
ID_NUMBER_PATTERN = "^[0-9]{17}[0-9X]$"
# GB 32100 shape: the 31-character set (no I, O, S, V, Z), digits 3–8 a region code.
USCC_PATTERN = "^[0-9A-HJ-NP-RTUW-Y]{2}[0-9]{6}[0-9A-HJ-NP-RTUW-Y]{10}$"
# A mobile number, or a landline with its area code (0571-87000001).
PHONE_PATTERN = "^(1[3-9][0-9]{9}|0[0-9]{2,3}-?[0-9]{7,8})$"
# 行政许可法 art. 42 (STANDARDS.md §6): decide within 20 working days of acceptance — the fallback when the
# content states no limit in working days.
STATUTORY_DEFAULT_DAYS = 20


def _text_field(title: str, title_en: str, *, max_length: int, prefill: str = "", **extra: Any) -> dict[str, Any]:
    field: dict[str, Any] = {"type": "string", "title": title, "x-title-en": title_en, "maxLength": max_length}
    if prefill:
        field["x-prefill"] = prefill
    field.update(extra)
    return field


def default_form(content: Mapping[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Applicant contact fields (name, ID number, phone, address), and the organisation's (name, USCC, legal
    representative, address) when the item serves organisations (服务对象 other than 1 自然人), each pre-filled
    from the registers. An item for organisations only asks the person for the contact person's (经办人) data."""
    objects = set(content.get("service_objects") or ["1"])
    persons, organisations = "1" in objects, bool(objects - {"1"})
    contact = not persons  # the person filling in is the organisation's contact person (经办人)
    properties: dict[str, Any] = {
        "applicant_name": _text_field(
            "经办人姓名" if contact else "申请人姓名",
            "Contact person's name" if contact else "Applicant's name",
            max_length=100,
            prefill="person.name",
        ),
        "applicant_id_number": _text_field(
            "经办人身份证号码" if contact else "申请人身份证号码",
            "Contact person's resident ID number" if contact else "Applicant's resident ID number",
            max_length=18,
            prefill="person.id_number",
            pattern=ID_NUMBER_PATTERN,
            description="18位居民身份证号码",
            **{"x-description-en": "The 18-character resident ID number"},
        ),
        "phone": _text_field(
            "联系电话",
            "Phone number",
            max_length=20,
            prefill="account.phone",
            pattern=PHONE_PATTERN,
            description="手机号码，或带区号的固定电话",
            **{"x-description-en": "A mobile number, or a landline with its area code"},
        ),
    }
    person_fields = ["applicant_name", "applicant_id_number", "phone"]
    if persons:
        properties["address"] = _text_field("联系地址", "Address", max_length=300, prefill="person.address")
        person_fields.append("address")
    required = list(person_fields)
    layout = [
        {
            "title": "经办人信息" if contact else "申请人信息",
            "title_en": "Contact person" if contact else "Applicant",
            "fields": person_fields,
            "columns": 2,
        }
    ]
    if organisations:
        properties.update(
            {
                "entity_name": _text_field("单位名称", "Organisation's name", max_length=200, prefill="entity.name"),
                "entity_uscc": _text_field(
                    "统一社会信用代码",
                    "Unified social credit code",
                    max_length=18,
                    prefill="entity.uscc",
                    pattern=USCC_PATTERN,
                ),
                "legal_representative": _text_field(
                    "法定代表人", "Legal representative", max_length=100, prefill="entity.legal_representative"
                ),
                "entity_address": _text_field(
                    "单位住所", "Registered address", max_length=300, prefill="entity.address"
                ),
            }
        )
        entity_fields = ["entity_name", "entity_uscc", "legal_representative", "entity_address"]
        if not persons:
            required += entity_fields
        layout.insert(
            0 if contact else 1,
            {
                "title": "申请单位信息" if contact else "申请单位信息（单位申请时填写）",
                "title_en": "Applicant organisation" if contact else "Applicant organisation (when applying for one)",
                "fields": entity_fields,
                "columns": 2,
            },
        )
    schema = {"$schema": SCHEMA_DIALECT, "type": "object", "properties": properties, "required": required}
    return schema, layout


def _working_days(limit: Any) -> int | None:
    if isinstance(limit, Mapping) and limit.get("unit") == "working_day" and isinstance(limit.get("value"), int):
        return int(limit["value"])
    return None


def default_steps(content: Mapping[str, Any]) -> list[dict[str, Any]]:
    """即办件 (case type 1): none, decided at acceptance. Otherwise 审查 by a reviewer, then 决定 by an approver
    on the last day of the promised limit; on a joint item the review goes to every body at once."""
    if content.get("case_type") == "1":
        return []
    limits = content.get("time_limits") or {}
    promised = limits.get("promised") or {}
    total: int | None = 0 if promised.get("unit") == "immediate" else _working_days(promised)
    if total is None:
        total = _working_days(limits.get("statutory"))
    if total is None:
        total = STATUTORY_DEFAULT_DAYS
    decide = min(1, total)
    joint = bool(content.get("co_implementing_bodies"))
    review = {"code": "review", "name": "审查", "name_en": "Review", "role": "reviewer", "days": total - decide}
    decision = {"code": "decide", "name": "决定", "name_en": "Decision", "role": "approver", "days": decide}
    return [{**review, "parallel": joint}, {**decision, "parallel": False}]


def default_handling(version: ItemVersion) -> dict[str, Any]:
    """A sensible form and steps derived from the version's content (what an item without its own uses)."""
    return default_for_content(version.content)


def default_for_content(content: Mapping[str, Any]) -> dict[str, Any]:
    schema, layout = default_form(content)
    return {"form_schema": schema, "form_layout": layout, "steps": default_steps(content)}


# --- checking a definition ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DefinitionProblem:
    path: str  # e.g. ``form_schema.properties.phone.pattern``, ``steps[1].days``
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message}


class _Problems:
    def __init__(self) -> None:
        self.found: list[DefinitionProblem] = []

    def add(self, parts: Sequence[str | int], message: Any) -> None:
        self.found.append(DefinitionProblem(json_path(parts[1:], str(parts[0])), str(message)))


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool)) and math.isfinite(value)


def _nonblank(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _check_unknown_keys(
    problems: _Problems, path: list[str | int], data: Mapping[str, Any], known: Iterable[str]
) -> None:
    allowed = set(known)
    for key in data:
        if key not in allowed:
            problems.add([*path, key], _("%(key)s is not supported here.") % {"key": key})


def _check_texts(problems: _Problems, path: list[str | int], data: Mapping[str, Any], *keys: str) -> None:
    for key in keys:
        if key in data and not isinstance(data[key], str):
            problems.add([*path, key], _("Must be text."))


def _check_choices(problems: _Problems, path: list[str | int], data: Mapping[str, Any]) -> None:
    enum = data.get("enum")
    if enum is not None and (
        not isinstance(enum, list)
        or not enum
        or len(enum) > MAX_CHOICES
        or not all(_nonblank(v) for v in enum)
        or len(set(enum)) != len(enum)
    ):
        problems.add(
            [*path, "enum"],
            _("The choices must be a list of 1 to %(max)d different, non-empty texts.") % {"max": MAX_CHOICES},
        )
        enum = None
    for key in ("x-enum-labels", "x-enum-labels-en"):
        if key not in data:
            continue
        labels = data[key]
        if enum is None and data.get("enum") is None:
            problems.add([*path, key], _("Labels need choices (enum) beside them."))
        elif not isinstance(labels, dict) or not all(_nonblank(v) for v in labels.values()):
            problems.add([*path, key], _("Labels must map each choice to a non-empty text."))
        elif enum is not None:
            for value in labels:
                if value not in enum:
                    problems.add([*path, key, value], _("%(value)s is not one of the choices.") % {"value": value})


def _check_string(problems: _Problems, path: list[str | int], prop: Mapping[str, Any]) -> None:
    lengths = {}
    for key in ("minLength", "maxLength"):
        if key in prop:
            value = prop[key]
            if not _is_int(value) or value < (1 if key == "maxLength" else 0) or value > TEXT_LIMIT:
                problems.add(
                    [*path, key],
                    _("Must be a whole number from %(min)d to %(max)d.")
                    % {"min": 1 if key == "maxLength" else 0, "max": TEXT_LIMIT},
                )
            else:
                lengths[key] = value
    if len(lengths) == 2 and lengths["minLength"] > lengths["maxLength"]:
        problems.add([*path, "minLength"], _("The minimum length is greater than the maximum length."))
    if "pattern" in prop:
        pattern = prop["pattern"]
        if not isinstance(pattern, str) or not pattern or len(pattern) > MAX_PATTERN_LENGTH:
            problems.add(
                [*path, "pattern"],
                _("The pattern must be a regular expression of at most %(max)d characters.")
                % {"max": MAX_PATTERN_LENGTH},
            )
        else:
            try:
                re.compile(pattern)
            except re.error as exc:
                problems.add([*path, "pattern"], _("Not a valid regular expression: %(error)s") % {"error": exc})
    if "format" in prop and prop["format"] not in ("date", "email"):
        problems.add([*path, "format"], _("The format must be date or email."))
    if "x-widget" in prop and prop["x-widget"] != "textarea":
        problems.add([*path, "x-widget"], _("The only widget hint is textarea."))
    _check_choices(problems, path, prop)


def _check_number(problems: _Problems, path: list[str | int], prop: Mapping[str, Any]) -> None:
    bounds = {}
    for key in ("minimum", "maximum"):
        if key in prop:
            if _is_number(prop[key]):
                bounds[key] = prop[key]
            else:
                problems.add([*path, key], _("Must be a number."))
    if len(bounds) == 2 and bounds["minimum"] > bounds["maximum"]:
        problems.add([*path, "minimum"], _("The minimum is greater than the maximum."))


def _check_array(problems: _Problems, path: list[str | int], prop: Mapping[str, Any]) -> None:
    items = prop.get("items")
    if not isinstance(items, dict) or items.get("type") != "string" or "enum" not in items:
        problems.add(
            [*path, "items"],
            _('A multiple choice field lists its choices in items: {"type": "string", "enum": [...]}.'),
        )
    else:
        _check_unknown_keys(problems, [*path, "items"], items, _ITEM_KEYS)
        _check_choices(problems, [*path, "items"], items)
    counts = {}
    for key in ("minItems", "maxItems"):
        if key in prop:
            if _is_int(prop[key]) and prop[key] >= 0:
                counts[key] = prop[key]
            else:
                problems.add([*path, key], _("Must be a whole number of at least 0."))
    if len(counts) == 2 and counts["minItems"] > counts["maxItems"]:
        problems.add([*path, "minItems"], _("The minimum is greater than the maximum."))
    if "uniqueItems" in prop and prop["uniqueItems"] is not True:
        problems.add([*path, "uniqueItems"], _("Choices are always distinct: only true is supported."))


def _check_field(problems: _Problems, name: Any, prop: Any) -> None:
    path: list[str | int] = ["form_schema", "properties", name]
    if not isinstance(name, str) or not FIELD_NAME.match(name):
        problems.add(
            path,
            _("A field name starts with a lower-case letter and has only a–z, 0–9 and _ (at most 63 characters)."),
        )
    if not isinstance(prop, dict):
        problems.add(path, _("A field must be a JSON object."))
        return
    kind = prop.get("type")
    if kind not in _KEYS_BY_TYPE:
        problems.add([*path, "type"], _("The type must be string, integer, number, boolean or array."))
        return
    _check_unknown_keys(problems, path, prop, _FIELD_KEYS | _KEYS_BY_TYPE[kind])
    if not _nonblank(prop.get("title")):
        problems.add([*path, "title"], _("Every field needs a title (in Chinese)."))
    _check_texts(problems, path, prop, "x-title-en", "description", "x-description-en")
    if "x-prefill" in prop:
        fact = prop["x-prefill"]
        if fact not in PREFILL_FACTS:
            problems.add(
                [*path, "x-prefill"],
                _("%(fact)s is not a register fact; use one of: %(facts)s")
                % {"fact": fact, "facts": ", ".join(PREFILL_FACTS)},
            )
        elif kind != "string":
            problems.add([*path, "x-prefill"], _("A register fact can fill only a text field."))
    if kind == "string":
        _check_string(problems, path, prop)
    elif kind in ("integer", "number"):
        _check_number(problems, path, prop)
    elif kind == "boolean":
        if "const" in prop and prop["const"] is not True:
            problems.add([*path, "const"], _("Only true is supported: a box that must be ticked (a pledge)."))
    else:
        _check_array(problems, path, prop)


def _check_schema(problems: _Problems, schema: Any) -> list[str]:
    """Problems of the form schema; returns its field names (for the layout's checks)."""
    if not isinstance(schema, dict):
        problems.add(["form_schema"], _("The form must be a JSON object."))
        return []
    _check_unknown_keys(problems, ["form_schema"], schema, _TOP_KEYS)
    if "$schema" in schema and schema["$schema"] != SCHEMA_DIALECT:
        problems.add(
            ["form_schema", "$schema"], _("Only JSON Schema %(dialect)s is supported.") % {"dialect": SCHEMA_DIALECT}
        )
    if schema.get("type") != "object":
        problems.add(["form_schema", "type"], _('A form is "type": "object".'))
    if "additionalProperties" in schema and schema["additionalProperties"] is not False:
        problems.add(["form_schema", "additionalProperties"], _("A form never accepts fields it does not define."))
    _check_texts(problems, ["form_schema"], schema, "title", "x-title-en", "description", "x-description-en")
    properties = schema.get("properties")
    if not isinstance(properties, dict) or not properties:
        problems.add(["form_schema", "properties"], _("The form has no fields."))
        properties = {}
    elif len(properties) > MAX_FIELDS:
        problems.add(["form_schema", "properties"], _("A form has at most %(max)d fields.") % {"max": MAX_FIELDS})
    for name, prop in properties.items():
        _check_field(problems, name, prop)
    required = schema.get("required", [])
    if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
        problems.add(["form_schema", "required"], _("Must be a list of field names."))
    else:
        seen: set[str] = set()
        for index, name in enumerate(required):
            path: list[str | int] = ["form_schema", "required", index]
            if name not in properties:
                problems.add(path, _("%(field)s is not a field of the form.") % {"field": name})
            elif name in seen:
                problems.add(path, _("%(field)s is listed more than once.") % {"field": name})
            seen.add(name)
    return list(properties)


def _check_layout(problems: _Problems, layout: Any, fields: Sequence[str]) -> None:
    if not isinstance(layout, list):
        problems.add(["form_layout"], _("The layout must be a list of sections."))
        return
    placed: set[str] = set()
    for index, section in enumerate(layout):
        path: list[str | int] = ["form_layout", index]
        if not isinstance(section, dict):
            problems.add(path, _("A section must be a JSON object."))
            continue
        _check_unknown_keys(problems, path, section, LAYOUT_KEYS)
        if not _nonblank(section.get("title")):
            problems.add([*path, "title"], _("Every section needs a title (in Chinese)."))
        _check_texts(problems, path, section, "title_en")
        if "columns" in section and (isinstance(section["columns"], bool) or section["columns"] not in (1, 2)):
            problems.add([*path, "columns"], _("Columns must be 1 or 2."))
        names = section.get("fields")
        if not isinstance(names, list) or not names:
            problems.add([*path, "fields"], _("A section lists at least one field."))
            continue
        for position, name in enumerate(names):
            if not isinstance(name, str) or name not in fields:
                problems.add([*path, "fields", position], _("%(field)s is not a field of the form.") % {"field": name})
            elif name in placed:
                problems.add([*path, "fields", position], _("%(field)s is listed more than once.") % {"field": name})
            else:
                placed.add(name)


def _check_steps(problems: _Problems, steps: Any, content: Mapping[str, Any]) -> None:
    if not isinstance(steps, list):
        problems.add(["steps"], _("The steps must be a list."))
        return
    joint = bool(content.get("co_implementing_bodies"))
    codes: list[str] = []
    days: list[int] = []
    for index, step in enumerate(steps):
        path: list[str | int] = ["steps", index]
        if not isinstance(step, dict):
            problems.add(path, _("A step must be a JSON object."))
            continue
        _check_unknown_keys(problems, path, step, STEP_KEYS)
        code = step.get("code")
        if code not in STEP_CODES:
            problems.add([*path, "code"], _("The code must be review, audit or decide."))
        elif code in codes:
            problems.add([*path, "code"], _("The step %(code)s appears more than once.") % {"code": code})
        else:
            codes.append(code)
        if not _nonblank(step.get("name")):
            problems.add([*path, "name"], _("Every step needs a name (in Chinese), e.g. 审查."))
        _check_texts(problems, path, step, "name_en")
        if step.get("role") not in ROLES:
            problems.add([*path, "role"], _("The role must be reviewer or approver."))
        if not _is_int(step.get("days")) or step["days"] < 0:
            problems.add([*path, "days"], _("The days must be a whole number of at least 0."))
        else:
            days.append(step["days"])
        if "parallel" in step and not isinstance(step["parallel"], bool):
            problems.add([*path, "parallel"], _("Must be true or false."))
        elif step.get("parallel") and not joint:
            problems.add(
                [*path, "parallel"],
                _("Only a joint item (its content names co-implementing bodies, 共同实施部门) has parallel steps."),
            )
        elif step.get("parallel") and step.get("code") == "decide":
            # One body decides (the implementing body, 实施主体); co-implementing bodies review beside it.
            problems.add([*path, "parallel"], _("The decision is taken by the lead department alone."))
    if codes != sorted(codes, key=STEP_CODES.index):
        problems.add(["steps"], _("The steps must follow the order review (审查), audit (审核), decide (决定)."))
    if not steps:
        if content.get("case_type") != "1":
            problems.add(
                ["steps"],
                _(
                    "No steps means decided on the spot at acceptance: only an item of case type 即办件 (1) "
                    "may have none."
                ),
            )
        return
    last = steps[-1]
    if isinstance(last, dict) and (last.get("code") != "decide" or last.get("role") != "approver"):
        problems.add(["steps", len(steps) - 1], _("The last step must be the decision (decide) by an approver."))
    if len(days) != len(steps):
        return
    total = sum(days)
    promised = (content.get("time_limits") or {}).get("promised") or {}
    limit = _working_days(promised)
    if promised.get("unit") == "immediate" and total > 0:
        problems.add(
            ["steps"],
            _("The promised time limit is on the spot (即办): the steps may take 0 working days, not %(days)d.")
            % {"days": total},
        )
    elif limit is not None and total > limit:
        problems.add(
            ["steps"],
            _("The steps take %(days)d working days, more than the promised time limit of %(limit)d working days.")
            % {"days": total, "limit": limit},
        )


def definition_problems(
    form_schema: Any, form_layout: Any, steps: Any, content: Mapping[str, Any]
) -> list[DefinitionProblem]:
    """Every problem of a form definition and its steps (against the item's content), each with its path."""
    problems = _Problems()
    fields = _check_schema(problems, form_schema)
    _check_layout(problems, form_layout, fields)
    _check_steps(problems, steps, content)
    return problems.found


def handling_problems(version: ItemVersion) -> list[DefinitionProblem]:
    """Problems of the stored handling against the version's current content (which may have changed since the
    handling was set or copied forward: a shorter promised limit, a different case type)."""
    stored = ItemHandling.objects.filter(version_id=version.pk).first()
    if stored is None:
        return []
    return definition_problems(stored.form_schema, stored.form_layout, stored.steps, version.content)


def refusal(problems: list[DefinitionProblem]) -> InvalidInput:
    return InvalidInput(
        _("The application form or the handling steps have %(count)d problems; first: %(path)s: %(message)s")
        % {"count": len(problems), "path": problems[0].path, "message": problems[0].message},
        details=[p.as_dict() for p in problems],
    )


# --- writes ---------------------------------------------------------------------------------------------------


def _require_manage(actor: Actor, version: ItemVersion) -> None:
    """Role, then scope, as catalogue.services checks a draft: the stored department and region decide."""
    if not authz.allowed(actor, MANAGE):
        raise PermissionDenied(_NO_PERMISSION)
    if authz.unscoped(actor, MANAGE):
        return
    stored = ItemVersion.objects.filter(pk=version.pk).values_list("department_id", "region_code").first()
    department_id, region_code = stored or (version.department_id, version.region_code)
    authz.check(actor, MANAGE, department_id=department_id, division_code=region_code, message=_OUT_OF_SCOPE)


def _ordered(schema: Any, order: Sequence[str]) -> Any:
    """The schema with its fields in the stored order (the database may have returned them in another)."""
    if not isinstance(schema, dict) or not isinstance(schema.get("properties"), dict):
        return schema
    properties = schema["properties"]
    names = [n for n in order if n in properties] + [n for n in properties if n not in order]
    return {**schema, "properties": {name: properties[name] for name in names}}


def _field_order(schema: Any) -> list[str]:
    properties = schema.get("properties") if isinstance(schema, dict) else None
    return list(properties) if isinstance(properties, dict) else []


def _snapshot(handling: ItemHandling) -> dict[str, Any]:
    return {
        "form_schema": _ordered(handling.form_schema, handling.field_order),
        "form_layout": handling.form_layout,
        "steps": handling.steps,
    }


def set_handling(*, actor: Actor, version: ItemVersion, form_schema: Any, form_layout: Any, steps: Any) -> ItemHandling:
    """Store the application form and handling steps of an open (draft or in-review) version.

    Every problem is reported at once, each with its path; nothing is saved then. Published, superseded and
    withdrawn versions are frozen: change the next draft instead.
    """
    _require_manage(actor, version)
    with transaction.atomic():
        locked = ItemVersion.objects.select_for_update().get(pk=version.pk)
        if locked.status not in OPEN_STATUSES:
            raise InvalidTransition(
                _("Version %(number)d is %(status)s: its form and steps are frozen. Start a new draft to change them.")
                % {"number": locked.number, "status": VersionStatus(locked.status).label}
            )
        problems = definition_problems(form_schema, form_layout, steps, locked.content)
        if problems:
            raise refusal(problems)
        handling = ItemHandling.objects.filter(version=locked).first()
        before = _snapshot(handling) if handling else None
        handling = handling or ItemHandling(version=locked)
        handling.form_schema, handling.form_layout, handling.steps = form_schema, form_layout, steps
        handling.field_order = _field_order(form_schema)
        handling.updated_by = actor_label(actor)
        handling.save()
        audit.record(
            actor=actor,
            action="catalogue.handling.set",
            object_type="catalogue.handling",
            object_id=locked.pk,
            object_label=str(locked),
            before=before,
            after=_snapshot(handling),
        )
        return handling


def copy_forward(*, actor: Actor, version: ItemVersion) -> ItemHandling | None:
    """Give a new draft the stored handling of the version before it (called by catalogue.services when it
    opens a new version). A predecessor without stored handling used the default, and so does the draft."""
    previous = (
        ItemVersion.objects.filter(item_id=version.item_id, number__lt=version.number).order_by("-number").first()
    )
    source = ItemHandling.objects.filter(version=previous).first() if previous else None
    if source is None or ItemHandling.objects.filter(version_id=version.pk).exists():
        return None
    handling = ItemHandling.objects.create(
        version=version,
        form_schema=copy.deepcopy(source.form_schema),
        form_layout=copy.deepcopy(source.form_layout),
        steps=copy.deepcopy(source.steps),
        field_order=list(source.field_order),
        updated_by=actor_label(actor),
    )
    assert previous is not None
    audit.record(
        actor=actor,
        action="catalogue.handling.copy",
        object_type="catalogue.handling",
        object_id=version.pk,
        object_label=str(version),
        after=_snapshot(handling),
        note=f"v{previous.number}",
    )
    return handling


# --- demo -----------------------------------------------------------------------------------------------------


def demo_handlings() -> dict[str, dict[str, Any]]:
    """The demo catalogue's forms and steps (demo/handling.json), by implementation code."""
    text = resources.files("yiwang.catalogue").joinpath("demo", "handling.json").read_text(encoding="utf-8")
    data: dict[str, dict[str, Any]] = json.loads(text)["items"]
    return data


def import_demo_items(*, actor: Actor, items: Sequence[dict[str, Any]]) -> ImportReport:
    """``catalogue.services.import_items(publish_clean=True)`` for the demo, with the demo forms and steps set
    on each draft before it is published (published versions are frozen, so they cannot come afterwards)."""
    from yiwang.catalogue import services  # services calls copy_forward: imported here, not at module load
    from yiwang.catalogue.rules import blocking

    handlings = demo_handlings()
    with transaction.atomic():
        report = services.import_items(actor=actor, items=items)
        missing = set(handlings) - {v.implementation_code for v in report.versions}
        if missing:
            raise InvalidInput(
                _("The demo forms name items that are not in the demo: %(codes)s")
                % {"codes": ", ".join(sorted(missing))}
            )
        versions = []
        for version in report.versions:
            if version.implementation_code in handlings:
                set_handling(actor=actor, version=version, **handlings[version.implementation_code])
            if not blocking(report.violations[version.implementation_code or version.name]):
                version = services.submit_for_review(actor=actor, version=version)
                version = services.publish(actor=actor, version=version)
                report.published += 1
            versions.append(version)
        report.versions = versions
    return report
