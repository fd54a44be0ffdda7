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

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

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
_NULLABLE = frozenset({"consumer_id", "resource_id", "grant_id"})
_RELATED = ("consumer", "resource", "grant")


def _canonical(values: dict[str, Any]) -> bytes:
    def plain(value: Any) -> Any:
        if isinstance(value, dt.datetime):
            # Microseconds and UTC: the same instant hashes the same on SQLite and PostgreSQL.
            return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        return value

    return json.dumps({k: plain(values[k]) for k in CHAINED}, sort_keys=True, ensure_ascii=False).encode()


def record_hash(prev_hash: str, values: dict[str, Any]) -> str:
    return hashlib.sha256(prev_hash.encode() + b"\n" + _canonical(values)).hexdigest()


def append(**values: Any) -> AccessRecord:
    """Append one record to the chain, in the caller's transaction (or a transaction of its own).

    The head row is locked for the append, so two appends never take the same sequence number or link to
    the same predecessor; on SQLite the database's single writer orders them the same way.
    """
    with transaction.atomic():
        head = ChainHead.objects.select_for_update().filter(pk=1).first()
        if head is None:
            # The first append ever. Two racing first appends collide on the primary key: the loser waits for
            # the winner's commit, rolls back only its savepoint and then locks the winner's row like any append.
            try:
                with transaction.atomic():
                    ChainHead.objects.create(pk=1, seq=0, hash=GENESIS)
            except IntegrityError:
                pass
            head = ChainHead.objects.select_for_update().get(pk=1)
        # Related rows may be passed as objects (consumer=org) or ids (consumer_id=…): the hash covers the ids,
        # and an object beside a defaulted None id would otherwise be stored as NULL.
        for name in _RELATED:
            if name in values:
                related = values.pop(name)
                values[f"{name}_id"] = related.pk if related is not None else None
        values.setdefault("at", timezone.now())
        values["seq"] = head.seq + 1
        for key in CHAINED:
            values.setdefault(key, [] if key == "fields" else None if key in _NULLABLE else "")
        digest = record_hash(head.hash, values)
        record = AccessRecord.objects.create(prev_hash=head.hash, hash=digest, **values)
        ChainHead.objects.filter(pk=1).update(seq=values["seq"], hash=digest)
    return record


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
        expected_prev = row["hash"]
        expected_seq += 1
        checked += 1
        if progress is not None and checked % chunk == 0:
            progress(chunk)
    if progress is not None and checked % chunk:
        progress(checked % chunk)
    if checked < head_seq:
        return ChainReport(checked, ChainBreak(checked + 1, "truncated"), head_seq)
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
