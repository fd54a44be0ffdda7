"""Display helpers shared by the portal's views, the guide presenter and the flow diagram.

Code-set values are always shown through their translated labels from ``catalogue.constants``; a code
the code set does not know (an extensible range, a newer standard) falls back to the raw code so that
nothing is silently hidden.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from django.db.models import TextChoices
from django.utils.functional import Promise
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from yiwang.catalogue.constants import (
    LEGAL_PERSON_THEMES,
    NATURAL_PERSON_THEMES,
    BodyNature,
    CaseType,
    CrossRegionScope,
    ExerciseLevel,
    HandlingForm,
    ItemType,
    MaterialMedium,
    MaterialSource,
    OnlineCapability,
    OnlineDepth,
    ResultKind,
    ServiceObject,
    SpecialProcedureKind,
    TimeUnit,
)
from yiwang.common.models import Division, DivisionLevel

THEME_LABELS: dict[str, str | Promise] = {**dict(NATURAL_PERSON_THEMES), **dict(LEGAL_PERSON_THEMES)}

LEGAL_ROLE_LABELS: dict[str, Promise] = {
    "establishing": gettext_lazy("Establishing basis"),
    "implementing": gettext_lazy("Implementing basis"),
    "supervising": gettext_lazy("Supervising basis"),
}

AUDIENCE_LABELS: dict[str, Promise] = {
    "person": gettext_lazy("Personal services"),
    "enterprise": gettext_lazy("Enterprise services"),
}


def language() -> str:
    return get_language() or "zh-hans"


def is_chinese() -> bool:
    return language().startswith("zh")


def code_label(choices: type[TextChoices], code: Any) -> str:
    """The translated label of ``code`` in ``choices``, or the code itself when the set lacks it."""
    if code is None or code == "":
        return ""
    try:
        return str(choices(str(code)).label)
    except ValueError:
        return str(code)


def code_labels(choices: type[TextChoices], codes: Iterable[Any] | None) -> list[str]:
    return [code_label(choices, code) for code in codes or []]


# The code set of every coded element of an item's content, by its path without list indices: the guide shows
# their labels, and so do the differences between two versions.
CONTENT_CODE_SETS: dict[str, type[TextChoices]] = {
    "item_type": ItemType,
    "exercise_level": ExerciseLevel,
    "case_type": CaseType,
    "implementing_body.nature": BodyNature,
    "handling_body.nature": BodyNature,
    "entrusting_body.nature": BodyNature,
    "co_implementing_bodies.nature": BodyNature,
    "service_objects": ServiceObject,
    "handling_forms": HandlingForm,
    "time_limits.statutory.unit": TimeUnit,
    "time_limits.promised.unit": TimeUnit,
    "special_procedures.max_duration.unit": TimeUnit,
    "process.time_limit.unit": TimeUnit,
    "special_procedures.kind": SpecialProcedureKind,
    "online.depth": OnlineDepth,
    "online.capabilities": OnlineCapability,
    "cross_region_scope": CrossRegionScope,
    "materials.source": MaterialSource,
    "materials.medium": MaterialMedium,
    "results.kind": ResultKind,
}


def content_label(path: str, code: Any) -> str:
    """The translated label of the content element at ``path`` (``materials.medium``) holding ``code``."""
    return code_label(CONTENT_CODE_SETS[path], code)


def content_labels(path: str, codes: Iterable[Any] | None) -> list[str]:
    return code_labels(CONTENT_CODE_SETS[path], codes)


def theme_label(theme: str) -> str:
    """Themes are keyed by their canonical Chinese name, which Chinese pages show as is."""
    if is_chinese() or theme not in THEME_LABELS:
        return theme
    return str(THEME_LABELS[theme])


def time_limit_text(limit: Mapping[str, Any] | None) -> str:
    """``20 working days``, ``on the spot``; empty when the limit is absent."""
    if not limit or not limit.get("unit"):
        return ""
    unit = limit["unit"]
    label = code_label(TimeUnit, unit)
    if unit == TimeUnit.IMMEDIATE or limit.get("value") is None:
        return label
    return f"{limit['value']} {label}"


def division_label(division: Division | None) -> str:
    """A county with its prefecture (杭州市西湖区 / Xihu District, Hangzhou); callers load the parent."""
    if division is None:
        return ""
    lang = language()
    name = division.display_name(lang)
    parent = division.parent if division.parent_id else None
    if parent is None or division.level < DivisionLevel.COUNTY or parent.level == DivisionLevel.NATIONAL:
        return name
    parent_name = parent.display_name(lang)
    return f"{name}, {parent_name}" if lang == "en" and division.name_en else f"{parent_name}{name}"


def safe_url(value: Any) -> str:
    """The value if it is an http(s) URL or a site-relative path; content never injects other schemes."""
    text = str(value or "").strip()
    if text.startswith("/") and not text.startswith("//"):
        return text
    parts = urlsplit(text)
    return text if parts.scheme in ("http", "https") and parts.netloc else ""


def yes_no(value: Any) -> str:
    return _("Yes") if value else _("No")
