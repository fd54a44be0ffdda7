"""Automatic pre-review (预审) rules, run on every submission.

They never refuse a submission: they are findings the window clerk sees first, ticked in the correction
form, so the one correction notice lists them together with the clerk's own (一次性告知). Each finding is
stored language-neutrally (a code and parameters) and translated when shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yiwang.cases.constants import Provenance
from yiwang.cases.models import Case, CaseMaterial

MESSAGES = {
    "material_missing": _("The required material “%(material)s” is missing."),
    "same_file_twice": _("The same file was given for “%(material)s” and “%(other)s”."),
    "entity_not_active": _("The register shows the enterprise is not in business."),
    "annotation_expired": _("The reuse copy of “%(material)s” was valid until %(until)s; attach the licence again."),
}


def describe(finding: dict[str, Any]) -> str:
    params: dict[str, Any] = finding.get("params", {})
    return str(MESSAGES[finding["code"]]) % params


def run(case: Case, current: Sequence[CaseMaterial]) -> list[dict[str, Any]]:
    """Findings on ``case`` with its ``current`` (not superseded) materials, their files loaded."""
    findings: list[dict[str, Any]] = []
    slots = case.version.content.get("materials", [])
    by_slot = {m.slot: m for m in current}
    for index, slot in enumerate(slots):
        if slot.get("required") and index not in by_slot:
            findings.append({"code": "material_missing", "slot": index, "params": {"material": slot["name"]}})
    seen: dict[str, int] = {}
    for material in sorted(current, key=lambda m: m.slot):
        if material.file is None or material.provenance == Provenance.REUSE:
            continue
        other = seen.get(material.file.sha256)
        if other is not None and other != material.slot:
            findings.append(
                {
                    "code": "same_file_twice",
                    "slot": material.slot,
                    "params": {"material": material.name, "other": slots[other]["name"] if other < len(slots) else ""},
                }
            )
        seen.setdefault(material.file.sha256, material.slot)
    today = timezone.localdate()
    for material in current:
        # A 加注件 may be used only until its annotation's date (STANDARDS.md §8), whatever the licence's own.
        if material.annotation_expires_on is not None and material.annotation_expires_on < today:
            findings.append(
                {
                    "code": "annotation_expired",
                    "slot": material.slot,
                    "params": {"material": material.name, "until": material.annotation_expires_on.isoformat()},
                }
            )
    if case.enterprise_id is not None:
        from yiwang.registers.models import EntityStatus
        from yiwang.registers.selectors import find_entity

        entity = find_entity(case.enterprise.uscc)  # type: ignore[union-attr]
        if entity is None or entity.status != EntityStatus.ACTIVE:
            findings.append({"code": "entity_not_active", "slot": None, "params": {}})
    return findings
