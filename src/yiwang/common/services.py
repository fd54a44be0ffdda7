"""Writes to reference data."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from django.db import transaction

from yiwang.audit import services as audit
from yiwang.audit.actors import Actor
from yiwang.common.crypto import ID_NUMBER, PHONE
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


# --- key rotation for encrypted fields ------------------------------------------------------------

# Blind-index columns and the encrypted value and purpose each is computed from (see yiwang.common.crypto).
BLIND_INDEXES: dict[str, list[tuple[str, str, str]]] = {
    "identity.Account": [("id_number_index", "id_number", ID_NUMBER), ("phone_index", "phone", PHONE)],
    "registers.Person": [("id_number_index", "id_number", ID_NUMBER)],
    "registers.LegalEntity": [("legal_representative_index", "legal_representative_id_number", ID_NUMBER)],
}


def rotate_keys(*, actor: Actor, reindex: bool = False, batch_size: int = 500, progress: bool = False) -> int:
    """Re-encrypt every encrypted column under the newest field key; with ``reindex`` also recompute every
    blind index under the current index key. Batches commit one by one, so a stopped run can simply be run
    again (a value already under the newest key is re-encrypted harmlessly). Returns the rows rewritten."""
    from tqdm import tqdm

    from yiwang.common.crypto import blind_index, decrypt, encrypted_fields, reencrypt

    total = 0
    for model, names in encrypted_fields():
        label = f"{model._meta.app_label}.{model.__name__}"
        indexes = BLIND_INDEXES.get(label, []) if reindex else []
        table = model._meta.db_table
        columns = [_column(model, n) for n in names]
        pk_column = str(model._meta.pk.column)
        ids = list(model._default_manager.order_by("pk").values_list("pk", flat=True))
        bar = tqdm(total=len(ids), desc=label, unit="rows", disable=not progress)
        for start in range(0, len(ids), batch_size):
            chunk = ids[start : start + batch_size]
            with transaction.atomic():
                # Raw tokens: the model field would decrypt on read and encrypt anew on write.
                raw = _raw_tokens(table, pk_column, columns, chunk)
                for pk, tokens in raw.items():
                    updates: dict[str, str | None] = {
                        c: reencrypt(t) for c, t in zip(columns, tokens, strict=True) if t
                    }
                    # The clear values come from the tokens already read: no query per row.
                    clear = {n: decrypt(t) if t else "" for n, t in zip(names, tokens, strict=True)}
                    for index_field, value_field, purpose in indexes:
                        value = clear[value_field]
                        # An absent value keeps an absent index (NULL where the column allows it: a unique
                        # index must not turn every staff account's missing ID number into the same "").
                        empty = None if model._meta.get_field(index_field).null else ""
                        updates[_column(model, index_field)] = blind_index(value, purpose=purpose) if value else empty
                    _write_raw(table, pk_column, pk, updates)
                total += len(raw)
            bar.update(len(chunk))
        bar.close()
    with transaction.atomic():
        audit.record(
            actor=actor,
            action="common.keys_rotated",
            object_type="crypto",
            object_id="*",
            after={"rows": total, "reindexed": reindex},
        )
    return total


def _column(model: Any, name: str) -> str:
    return str(model._meta.get_field(name).column)


def _raw_tokens(table: str, pk_column: str, columns: list[str], ids: list[Any]) -> dict[Any, list[str | None]]:
    from django.db import connection

    qn = connection.ops.quote_name
    placeholders = ", ".join(["%s"] * len(ids))
    selected = ", ".join(qn(c) for c in [pk_column, *columns])
    sql = f"SELECT {selected} FROM {qn(table)} WHERE {qn(pk_column)} IN ({placeholders})"  # noqa: S608 - identifiers quoted, values bound
    with connection.cursor() as cursor:
        cursor.execute(sql, ids)
        return {row[0]: list(row[1:]) for row in cursor.fetchall()}


def _write_raw(table: str, pk_column: str, pk: Any, updates: dict[str, str | None]) -> None:
    from django.db import connection

    if not updates:
        return
    qn = connection.ops.quote_name
    assignments = ", ".join(f"{qn(c)} = %s" for c in updates)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {qn(table)} SET {assignments} WHERE {qn(pk_column)} = %s", [*updates.values(), pk])  # noqa: S608 - identifiers quoted, values bound


# --- the working-day calendar (common/calendar.py) ------------------------------------------------


def set_calendar_day(*, actor: Actor, day: Any, working: bool, note: str = "") -> None:
    """Record a holiday or a 调休 working day from a State Council notice (wins over chinesecalendar)."""
    from yiwang.common.models import CalendarDay
    from yiwang.identity import authz  # identity builds on common; imported here to keep the layers acyclic

    authz.check(actor, "calendar.manage")
    with transaction.atomic():
        before = CalendarDay.objects.filter(date=day).values("working", "note").first()
        CalendarDay.objects.update_or_create(date=day, defaults={"working": working, "note": note[:200]})
        audit.record(
            actor=actor,
            action="common.calendar_day_set",
            object_type="common.calendarday",
            object_id=str(day),
            before=before,
            after={"working": working, "note": note[:200]},
        )


def check_calendar_year(*, year: int, source: str) -> None:
    """What ``enter_calendar_year`` refuses (also run by the admin form, to show it beside the fields)."""
    from django.utils.translation import gettext as _

    from yiwang.common.errors import InvalidInput

    if not 2000 <= year <= 2200:
        raise InvalidInput(_("The year %(year)d is out of range.") % {"year": year})
    if not source.strip():
        raise InvalidInput(_("Name the notice the days come from (e.g. 国办发明电〔2026〕7号)."))


def enter_calendar_year(*, actor: Actor, year: int, source: str) -> None:
    """Declare that a year's holiday notice has been entered, so its other days follow the weekday rule."""

    from yiwang.common.models import CalendarYear
    from yiwang.identity import authz

    authz.check(actor, "calendar.manage")
    check_calendar_year(year=year, source=source)
    with transaction.atomic():
        CalendarYear.objects.update_or_create(year=year, defaults={"source": source.strip()[:200]})
        audit.record(
            actor=actor,
            action="common.calendar_year_entered",
            object_type="common.calendaryear",
            object_id=year,
            after={"source": source.strip()[:200]},
        )
