"""Writes to reference data."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from django.db import transaction

from yiwang.audit import services as audit
from yiwang.audit.actors import Actor
from yiwang.common.models import Division


def packaged_divisions() -> list[dict[str, Any]]:
    text = resources.files("yiwang.common").joinpath("data", "divisions.json").read_text(encoding="utf-8")
    rows: list[dict[str, Any]] = json.loads(text)
    return rows


def load_divisions(*, actor: Actor, rows: list[dict[str, Any]] | None = None) -> int:
    """Insert or update divisions (parents first); returns how many rows changed."""
    rows = packaged_divisions() if rows is None else rows
    changed = 0
    with transaction.atomic():
        existing = {d.code: d for d in Division.objects.all()}
        for row in sorted(rows, key=lambda r: (r["level"], r["code"])):
            wanted = {
                "name": row["name"],
                "name_en": row.get("name_en", ""),
                "level": row["level"],
                "parent_id": row.get("parent"),
            }
            current = existing.get(row["code"])
            if current is None:
                existing[row["code"]] = Division.objects.create(code=row["code"], **wanted)
                changed += 1
            elif any(getattr(current, key) != value for key, value in wanted.items()):
                Division.objects.filter(code=row["code"]).update(**wanted)
                changed += 1
        if changed:
            audit.record(
                actor=actor,
                action="reference.divisions.load",
                object_type="common.division",
                object_id="*",
                after={"changed": changed, "total": len(rows)},
            )
    return changed
