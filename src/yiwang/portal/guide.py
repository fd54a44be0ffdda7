"""The service guide (办事指南) as citizens read it, built from one version's exchange-format content.

Templates get ready-to-show text: every code-set value through its translated label, time limits with
translated units, URLs only when they are safe to link. Nothing here queries the database beyond the
version's already loaded region, department and the region's parents; the item's attachments come in as
a map loaded by the view in one query.
"""

from __future__ import annotations

import posixpath
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.urls import reverse
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from yiwang.catalogue.models import Attachment, ItemVersion
from yiwang.portal import flow
from yiwang.portal.labels import (
    LEGAL_ROLE_LABELS,
    content_label,
    content_labels,
    division_label,
    language,
    safe_url,
    theme_label,
    time_limit_text,
)


@dataclass(frozen=True)
class Reference:
    """A blank form, a sample or any other document reference: a link when it is a safe URL, or a
    download link when a file is attached for it (then with the file's type and size)."""

    text: str
    url: str
    file_type: str = ""
    size: int | None = None


# The item's attachments by reference, and the implementation code their download links name.
Attachments = tuple[str, Mapping[str, Attachment]]


@dataclass(frozen=True)
class Material:
    number: int
    name: str
    required: bool | None
    originals: int | None
    copies: int | None
    medium: str
    source: str
    issuing_body: str
    requirements: str
    legal_basis: str
    business_types: list[str]
    can_be_replaced: bool
    licence_type_code: str
    shared_resource: str
    blank_form: Reference | None
    sample: Reference | None
    common_errors: list[str]


@dataclass(frozen=True)
class ConditionGroup:
    business_type: str
    texts: list[str]


@dataclass(frozen=True)
class Fee:
    name: str
    amount: str
    basis: str


@dataclass
class Guide:
    name: str
    handling_item_name: str
    implementation_code: str
    basic_code: str
    handling_item_code: str
    item_type: str
    case_type: str
    exercise_level: str
    statutory_limit: str
    statutory_note: str
    promised_limit: str
    promised_note: str
    charged: bool
    fee_text: str
    fees: list[Fee]
    fee_basis: str
    visits: str
    visits_reason: str
    online_depth: str
    online_capabilities: list[str]
    online_url: str
    single_sign_on: bool | None
    service_objects: list[str]
    handling_forms: list[str]
    themes: list[str]
    department: str
    implementing_body_nature: str
    handling_body: str
    entrusting_body: str
    co_implementing_bodies: list[str]
    region: str
    conditions: list[ConditionGroup]
    materials: list[Material]
    materials_have_medium: bool
    steps: list[flow.FlowStep]
    flow_svg: SafeString
    flow_svg_narrow: SafeString
    steps_have_details: bool
    special_procedures: list[dict[str, str]]
    legal_basis: list[dict[str, str]]
    location: str
    hours: str
    consultation_phone: str
    supervision_phone: str
    other_contact: str
    faqs: list[dict[str, str]]
    results: list[dict[str, Any]]
    supports: list[tuple[str, bool]]
    cross_region_scope: str
    quantity_limit: str
    intermediary_services: list[str]
    source_url: str


def _reference(value: Any, attachments: Attachments) -> Reference | None:
    text = str(value or "").strip()
    if not text:
        return None
    code, files = attachments
    attachment = files.get(text)
    if attachment is not None:
        return Reference(
            text=text,
            url=reverse("portal:file", args=[code, text]),
            file_type=posixpath.splitext(text)[1].lstrip(".").upper(),
            size=attachment.size,
        )
    return Reference(text=text, url=safe_url(text))


def _amount(value: Any) -> str:
    try:
        return f"{Decimal(str(value)):.2f}"
    except (InvalidOperation, ValueError):
        return str(value)


def visits_text(max_visits: Any) -> str:
    if max_visits is None or max_visits == "":
        return ""
    count = int(max_visits)
    if count == 0:
        return _("No visit needed")
    return ngettext("At most %(count)d visit", "At most %(count)d visits", count) % {"count": count}


def _conditions(content: Mapping[str, Any]) -> list[ConditionGroup]:
    """Conditions grouped by business type, groups in the order they first appear."""
    groups: dict[str, list[str]] = {}
    for condition in content.get("conditions") or []:
        groups.setdefault(str(condition.get("business_type") or ""), []).append(str(condition["text"]))
    return [ConditionGroup(business_type=key, texts=texts) for key, texts in groups.items()]


def _materials(content: Mapping[str, Any], attachments: Attachments) -> list[Material]:
    rows = []
    for number, m in enumerate(content.get("materials") or [], start=1):
        rows.append(
            Material(
                number=number,
                name=str(m["name"]),
                required=m.get("required"),
                originals=m.get("originals"),
                copies=m.get("copies"),
                medium=content_label("materials.medium", m.get("medium")),
                source=content_label("materials.source", m.get("source")),
                issuing_body=str(m.get("issuing_body", "")),
                requirements=str(m.get("requirements", "")),
                legal_basis=str(m.get("legal_basis", "")),
                business_types=[str(t) for t in m.get("business_types") or []],
                can_be_replaced=bool(m.get("licence_type_code") or m.get("shared_resource")),
                licence_type_code=str(m.get("licence_type_code", "")),
                shared_resource=str(m.get("shared_resource", "")),
                blank_form=_reference(m.get("blank_form"), attachments),
                sample=_reference(m.get("sample"), attachments),
                common_errors=[str(e) for e in m.get("common_errors") or []],
            )
        )
    return rows


def _special_procedures(content: Mapping[str, Any]) -> list[dict[str, str]]:
    rows = []
    for p in content.get("special_procedures") or []:
        counts = p.get("counts_in_time_limit")
        rows.append(
            {
                "name": str(p["name"]),
                "kind": content_label("special_procedures.kind", p.get("kind")),
                "max_duration": time_limit_text(p.get("max_duration")),
                "counts": ""
                if counts is None
                else (_("Counted in the time limit") if counts else _("Not counted in the time limit")),
            }
        )
    return rows


def _legal_basis(content: Mapping[str, Any]) -> list[dict[str, str]]:
    return [
        {
            "title": str(ref["title"]),
            "articles": str(ref.get("articles", "")),
            "text": str(ref.get("text", "")),
            "role": str(LEGAL_ROLE_LABELS[ref["role"]]) if ref.get("role") in LEGAL_ROLE_LABELS else "",
        }
        for ref in content.get("legal_basis") or []
    ]


def _results(content: Mapping[str, Any], attachments: Attachments) -> list[dict[str, Any]]:
    return [
        {
            "name": str(r["name"]),
            "kind": content_label("results.kind", r.get("kind")),
            "licence_type_code": str(r.get("licence_type_code", "")),
            "sample": _reference(r.get("sample"), attachments),
        }
        for r in content.get("results") or []
    ]


def _fees(content: Mapping[str, Any]) -> tuple[bool, str, list[Fee], str]:
    fees = content.get("fees") or {}
    charged = bool(fees.get("charged"))
    items = [
        Fee(name=str(f["name"]), amount=_amount(f["amount_yuan"]), basis=str(f.get("basis", "")))
        for f in fees.get("items") or []
    ]
    text = str(fees.get("text") or "")
    if not charged and (not text or language() == "en"):
        text = _("Free of charge")
    return charged, text, items, str(fees.get("basis", ""))


def _org(data: Any) -> str:
    return str(data.get("name", "")) if isinstance(data, Mapping) else ""


def build_guide(version: ItemVersion, attachments: Mapping[str, Attachment] | None = None) -> Guide:
    """The guide of one version; ``attachments`` (by reference) turn document references into download
    links, so pass them only for the version in force (an attachment is the item's current file)."""
    content: dict[str, Any] = version.content
    files: Attachments = (version.implementation_code, attachments or {})
    lang = language()
    limits = content.get("time_limits") or {}
    statutory, promised = limits.get("statutory") or {}, limits.get("promised") or {}
    online = content.get("online") or {}
    supports = content.get("supports") or {}
    contacts = content.get("contacts") or {}
    themes = content.get("themes") or {}
    charged, fee_text, fees, fee_basis = _fees(content)
    materials = _materials(content, files)
    steps = flow.steps_from_process(content.get("process"))
    body = content.get("implementing_body") or {}
    return Guide(
        name=str(content["name"]),
        handling_item_name=str(content.get("handling_item_name", "")),
        implementation_code=version.implementation_code,
        basic_code=str(content.get("basic_code", "")),
        handling_item_code=str(content.get("handling_item_code", "")),
        item_type=content_label("item_type", content.get("item_type")),
        case_type=content_label("case_type", content.get("case_type")),
        exercise_level=content_label("exercise_level", content.get("exercise_level")),
        statutory_limit=time_limit_text(statutory),
        statutory_note=str(statutory.get("note", "")),
        promised_limit=time_limit_text(promised),
        promised_note=str(promised.get("note", "")),
        charged=charged,
        fee_text=fee_text,
        fees=fees,
        fee_basis=fee_basis,
        visits=visits_text(content.get("max_visits")),
        visits_reason=str(content.get("visits_reason", "")),
        online_depth=content_label("online.depth", online.get("depth")),
        online_capabilities=content_labels("online.capabilities", online.get("capabilities")),
        online_url=safe_url(online.get("url")),
        single_sign_on=online.get("single_sign_on"),
        service_objects=content_labels("service_objects", content.get("service_objects")),
        handling_forms=content_labels("handling_forms", content.get("handling_forms")),
        themes=[theme_label(t) for t in [*(themes.get("natural_person") or []), *(themes.get("legal_person") or [])]],
        department=version.department.display_name(lang),
        implementing_body_nature=content_label("implementing_body.nature", body.get("nature")),
        handling_body=_org(content.get("handling_body")),
        entrusting_body=_org(content.get("entrusting_body")),
        co_implementing_bodies=[_org(b) for b in content.get("co_implementing_bodies") or []],
        region=(version.region.full_name if lang != "en" else division_label(version.region)) if version.region else "",
        conditions=_conditions(content),
        materials=materials,
        materials_have_medium=any(m.medium for m in materials),
        steps=steps,
        flow_svg=flow.flow_svg(steps, title=_("Process")),
        flow_svg_narrow=flow.flow_svg(steps, title=_("Process"), max_per_row=2, variant="narrow"),
        steps_have_details=any(s.description or s.handled_by or s.time_limit for s in steps),
        special_procedures=_special_procedures(content),
        legal_basis=_legal_basis(content),
        location=str(content.get("location", "")),
        hours=str(content.get("hours", "")),
        consultation_phone=str(contacts.get("consultation_phone", "")),
        supervision_phone=str(contacts.get("supervision_phone", "")),
        other_contact=str(contacts.get("other", "")),
        faqs=[{"question": str(f["question"]), "answer": str(f["answer"])} for f in content.get("faqs") or []],
        results=_results(content, files),
        supports=[
            (_("Appointment"), bool(supports.get("appointment"))),
            (_("Online payment"), bool(supports.get("online_payment"))),
            (_("Delivery of the result"), bool(supports.get("delivery"))),
            (_("Application by post"), bool(supports.get("postal_application"))),
        ],
        cross_region_scope=content_label("cross_region_scope", content.get("cross_region_scope")),
        quantity_limit=str(content.get("quantity_limit", "")),
        intermediary_services=[str(s) for s in content.get("intermediary_services") or []],
        source_url=safe_url((content.get("source") or {}).get("url")),
    )
