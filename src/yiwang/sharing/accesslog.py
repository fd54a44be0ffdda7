"""The access log's hash chain: appending a record and checking the chain.

Each record's hash is SHA-256 over the previous record's hash and the record's own content in a fixed
canonical form (sorted-key JSON of every logged column). Changing any logged value, deleting a record or
inserting one breaks the link at that record; ``verify_chain`` names the first record that does not match.
The first record links to ``GENESIS``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext_noop

from yiwang.sharing.models import AccessRecord, ChainHead

GENESIS = "0" * 64
# The columns a record's hash covers, in the canonical form's order (its keys are sorted anyway).
CHAINED = (
    "seq",
    "at",
    "channel",
    "outcome",
    "refusal",
    "consumer_id",
    "consumer_label",
    "client_id",
    "official",
    "subject_kind",
    "subject_index",
    "subject_masked",
    "resource_id",
    "resource_code",
    "fields",
    "purpose",
    "case_number",
    "grant_id",
    "request_id",
)
# The columns an append is given: every chained one but the sequence number, which the append itself assigns.
CONTENT = tuple(k for k in CHAINED if k != "seq")
_NULLABLE = frozenset({"consumer_id", "resource_id", "grant_id"})
_RELATED = ("consumer", "resource", "grant")


def _canonical(values: dict[str, Any]) -> bytes:
    def plain(value: Any) -> Any:
        if isinstance(value, dt.datetime):
            # Microseconds and UTC: the same instant hashes the same on SQLite and PostgreSQL.
            return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return value

    return json.dumps({k: plain(values[k]) for k in CONTENT}, sort_keys=True, ensure_ascii=False).encode()


def record_hash(prev_hash: str, values: dict[str, Any]) -> str:
    """SHA-256 (hex) of "previous hash, newline, sequence number, newline, the content's canonical JSON", UTF-8.

    The sequence number stands outside the JSON so PostgreSQL can compute the same hash in the append's one
    statement (where the number is known) from the JSON made here."""
    text = f"{prev_hash}\n{int(values['seq'])}\n".encode() + _canonical(values)
    return hashlib.sha256(text).hexdigest()


def append(**values: Any) -> AccessRecord:
    """Append one record to the chain, in the caller's transaction (or a transaction of its own).

    The head row is taken first with an UPDATE that moves its sequence on: that locks it (PostgreSQL) or
    takes the database's write lock (SQLite), so two appends never take the same sequence number or link to
    the same predecessor. The rest is one statement on PostgreSQL (the record and the head's new hash) and two
    on SQLite. Plain SQL rather than the ORM: this runs on every read of shared data, and the ORM's insert
    and update cost more CPU than the rest of an answer (bench/sharing.py).
    """
    # Related rows may be passed as objects (consumer=org) or ids (consumer_id=…): the hash covers the ids,
    # and an object beside a defaulted None id would otherwise be stored as NULL.
    for name in _RELATED:
        if name in values:
            related = values.pop(name)
            values[f"{name}_id"] = related.pk if related is not None else None
    values.setdefault("at", timezone.now())
    for key in CHAINED:
        values.setdefault(key, [] if key == "fields" else None if key in _NULLABLE else "")
    connection = transaction.get_connection()
    # No savepoint: an append that fails must fail the caller's transaction too (an answer without its record
    # must not leave), and a savepoint is two more round trips on every read.
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            pk, seq, prev_hash, digest = _append_pg(cursor, values, connection)
            values["seq"] = seq
        else:
            seq, prev_hash = _take_head(cursor)
            values["seq"] = seq
            digest = record_hash(prev_hash, values)
            params = [_db_value(name, values[name], connection) for name in CHAINED] + [prev_hash, digest]
            cursor.execute(_INSERT, params)
            pk = cursor.lastrowid
            cursor.execute(_HEAD_HASH, [digest])
    record = AccessRecord(pk=pk, prev_hash=prev_hash, hash=digest, **values)
    record._state.adding = False
    record._state.db = connection.alias
    return record


_TABLE = AccessRecord._meta.db_table
_HEAD_TABLE = ChainHead._meta.db_table
_COLUMNS = ", ".join([*CHAINED, "prev_hash", "hash"])
_PLACEHOLDERS = ", ".join(["%s"] * (len(CHAINED) + 2))
_INSERT = f"INSERT INTO {_TABLE} ({_COLUMNS}) VALUES ({_PLACEHOLDERS})"  # noqa: S608 - names are the model's
_HEAD_HASH = f"UPDATE {_HEAD_TABLE} SET hash = %s WHERE id = 1"  # noqa: S608
_MOVE_HEAD = f"UPDATE {_HEAD_TABLE} SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash"  # noqa: S608
_MAKE_HEAD = f"INSERT INTO {_HEAD_TABLE} (id, seq, hash) VALUES (1, 0, %s) ON CONFLICT DO NOTHING"  # noqa: S608
_FIELDS: dict[str, Any] = {name: AccessRecord._meta.get_field(name) for name in CHAINED if name not in _NULLABLE}
# PostgreSQL: lock the head, hash the record (record_hash's formula, in SQL), move the head and insert the record,
# in one statement: one round trip and one parse instead of three. FOR UPDATE in READ COMMITTED re-reads the head
# a concurrent append has just committed, so the chain never forks.
_VALUES = ", ".join(["%s"] * len(CONTENT))
_APPEND_PG = (
    f"WITH old AS (SELECT seq, hash FROM {_HEAD_TABLE} WHERE id = 1 FOR UPDATE), "  # noqa: S608 - the model's names
    "new AS (SELECT old.seq + 1 AS seq, old.hash AS prev, encode(sha256(convert_to("
    "old.hash || chr(10) || (old.seq + 1)::text || chr(10) || %s, 'UTF8')), 'hex') AS hash FROM old), "
    f"moved AS (UPDATE {_HEAD_TABLE} h SET seq = new.seq, hash = new.hash FROM new WHERE h.id = 1), "
    f"record AS (INSERT INTO {_TABLE} ({_COLUMNS}) SELECT new.seq, {_VALUES}, new.prev, new.hash FROM new "
    "RETURNING id, seq, prev_hash, hash) SELECT id, seq, prev_hash, hash FROM record"
)


def _append_pg(cursor: Any, values: dict[str, Any], connection: Any) -> tuple[int, int, str, str]:
    canonical = _canonical(values).decode()
    params = [canonical, *(_db_value(name, values[name], connection) for name in CONTENT)]
    cursor.execute(_APPEND_PG, params)
    row = cursor.fetchone()
    if row is None:  # the first append ever: make the head (racing first appends both insert "if absent")
        cursor.execute(_MAKE_HEAD, [GENESIS])
        cursor.execute(_APPEND_PG, params)
        row = cursor.fetchone()
    return int(row[0]), int(row[1]), str(row[2]), str(row[3])


def _take_head(cursor: Any) -> tuple[int, str]:
    """SQLite: the new record's sequence number and its predecessor's hash; the UPDATE takes the write lock.

    The first append ever makes the head first."""
    cursor.execute(_MOVE_HEAD)
    row = cursor.fetchone()
    if row is None:
        cursor.execute(_MAKE_HEAD, [GENESIS])
        cursor.execute(_MOVE_HEAD)
        row = cursor.fetchone()
    return int(row[0]), str(row[1])


def _db_value(name: str, value: Any, connection: Any) -> Any:
    if name in _NULLABLE:
        return value
    return _FIELDS[name].get_db_prep_save(value, connection)


# Why a chain check stopped, for people (translated where shown: the audit command, the workbench's check button).
REASONS = {
    "missing": gettext_noop("the record is missing (deleted): the sequence jumps past it"),
    "link": gettext_noop("the record does not link to the record before it (inserted or replaced)"),
    "content": gettext_noop("the record's content does not match its hash (changed after it was written)"),
    "truncated": gettext_noop("records from here to the head are missing (deleted from the end of the log)"),
    "anchor": gettext_noop(
        "the record is not the one anchored in the audit log: the chain was rewritten from here, its head included"
    ),
}


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    reason: str


@dataclass(frozen=True)
class ChainReport:
    checked: int
    broken: ChainBreak | None
    head_seq: int


def _rows(last_seq: int, chunk: int) -> Iterator[dict[str, Any]]:
    query = AccessRecord.objects.filter(seq__lte=last_seq).order_by("seq").values(*CHAINED, "prev_hash", "hash")
    yield from query.iterator(chunk_size=chunk)


def _head() -> tuple[int, str]:
    head = ChainHead.objects.filter(pk=1).values_list("seq", "hash").first()
    return head if head is not None else (0, GENESIS)


def verify_chain(*, chunk: int = 5000, progress: Callable[[int], None] | None = None) -> ChainReport:
    """Walk the chain in sequence order; the first record whose link or hash does not match is named.

    A missing record shows as a gap in the sequence, an edited one as a hash that does not match its content,
    a record inserted with its own hash as a link that does not match the record before it. The head is read
    first and the walk stops at it: appends that commit meanwhile (each moves the head in its own transaction)
    are not yet part of this check, so checking a live log reports no false break. Records removed from the
    end leave the head pointing past the last one ("truncated"); a record added past the head without moving
    it (a forgery that computed its own hash) is found by comparing the highest sequence with the head after
    the walk. ``progress`` is called with the number of records checked since its last call.
    """
    head_seq, head_hash = _head()
    anchors = _anchors()
    expected_prev = GENESIS
    expected_seq = 1
    checked = 0
    for row in _rows(head_seq, chunk):
        seq = row["seq"]
        if seq != expected_seq:
            return ChainReport(checked, ChainBreak(expected_seq, "missing"), head_seq)
        if row["prev_hash"] != expected_prev:
            return ChainReport(checked, ChainBreak(seq, "link"), head_seq)
        if record_hash(row["prev_hash"], row) != row["hash"]:
            return ChainReport(checked, ChainBreak(seq, "content"), head_seq)
        if anchors.get(seq, row["hash"]) != row["hash"]:
            # The chain is consistent but not the one anchored: it was rewritten from here on, head included.
            return ChainReport(checked, ChainBreak(seq, "anchor"), head_seq)
        expected_prev = row["hash"]
        expected_seq += 1
        checked += 1
        if progress is not None and checked % chunk == 0:
            progress(chunk)
    if progress is not None and checked % chunk:
        progress(checked % chunk)
    if checked < head_seq:
        return ChainReport(checked, ChainBreak(checked + 1, "truncated"), head_seq)
    if anchors and max(anchors) > head_seq:
        # An anchored record is gone, and the head was moved back to hide it.
        return ChainReport(checked, ChainBreak(head_seq + 1, "truncated"), head_seq)
    if head_hash != expected_prev:
        # The last record was replaced by one that links and hashes correctly but is not the one the head holds.
        return ChainReport(checked, ChainBreak(head_seq, "link"), head_seq)
    # The highest sequence first, the head after: a genuine append commits its record and the head together,
    # so the head read second is at least as high as any genuine record the first read saw.
    highest = AccessRecord.objects.aggregate(highest=Max("seq"))["highest"] or 0
    now_seq, _hash = _head()
    if highest > now_seq:
        return ChainReport(checked, ChainBreak(now_seq + 1, "link"), head_seq)
    return ChainReport(checked, None, head_seq)


# --- anchors: the head copied into the audit log ---------------------------------------------------------------

ANCHOR_ACTION = "sharing.access_log_anchored"


def _anchors() -> dict[int, str]:
    """Every anchored (sequence, hash) pair, from the audit log."""
    from yiwang.audit.models import AuditRecord

    rows = AuditRecord.objects.filter(action=ANCHOR_ACTION).values_list("after", flat=True)
    return {int(after["seq"]): str(after["hash"]) for after in rows if after}


def anchor(*, actor: Any) -> tuple[int, str] | None:
    """Copy the chain's head (sequence and hash) into the audit log; None when there is nothing new to anchor.

    The chain alone cannot show a rewrite of its tail made together with its head (recompute every later hash,
    move the head): it is consistent again. An anchor is a copy outside the chain — another table, written by
    the hourly job (``sharing.tasks.anchor_access_log``) — and ``verify_chain`` compares the anchored records
    with it, so a rewrite must now also rewrite the append-only audit log. Exported or mailed copies of the
    anchors take it further (docs/sharing.md).
    """
    from yiwang.audit import services as audit

    with transaction.atomic():
        seq, digest = _head()
        if seq == 0 or _anchors().get(seq) == digest:
            return None
        audit.record(
            actor=actor,
            action=ANCHOR_ACTION,
            object_type="sharing.access_log",
            object_id=seq,
            object_label=f"#{seq}",
            after={"seq": seq, "hash": digest},
        )
    return seq, digest
