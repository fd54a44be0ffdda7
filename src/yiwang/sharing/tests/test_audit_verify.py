"""``yiwang audit verify``: an intact chain passes; a record changed, deleted or forged afterwards (with raw SQL,
as an intruder with database access would: the model refuses) is named as the first broken record."""

from __future__ import annotations

import json
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection

from yiwang.catalogue.models import Organisation
from yiwang.sharing import accesslog
from yiwang.sharing.models import AccessRecord
from yiwang.sharing.tests.log_world import read, resource

pytestmark = pytest.mark.django_db

TABLE = AccessRecord._meta.db_table
COUNT = 5


@pytest.fixture
def chain(department_a: Organisation) -> list[AccessRecord]:
    res = resource(department_a)
    return [read(department_a, res, id_number="11010519491231002X", case_number=f"C-{n}") for n in range(COUNT)]


def verify(*args: str) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("audit", "verify", "--no-progress", *args, stdout=out)
    except SystemExit as exc:
        return int(exc.code or 0), out.getvalue()
    return 0, out.getvalue()


def verdict() -> dict[str, Any]:
    code, text = verify("--json")
    result: dict[str, Any] = json.loads(text)
    assert code == (0 if result["intact"] else 1)
    return result


def sql(statement: str, params: list[Any] | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])


def copy_as(source_seq: int, *, seq: int, prev_hash: str, digest: str) -> None:
    """Insert a copy of record ``source_seq`` under a new sequence number, link and hash (a forged record)."""
    skip = {"id", "seq", "prev_hash", "hash"}
    columns = [str(f.column) for f in AccessRecord._meta.concrete_fields if f.column not in skip]
    names = ", ".join(columns)
    sql(
        f"INSERT INTO {TABLE} (seq, prev_hash, hash, {names}) SELECT %s, %s, %s, {names} FROM {TABLE} WHERE seq = %s",  # noqa: S608 - names from the model
        [seq, prev_hash, digest, source_seq],
    )


def values_of(seq: int) -> dict[str, Any]:
    return dict(AccessRecord.objects.filter(seq=seq).values(*accesslog.CHAINED).get())


def test_an_intact_chain_passes_with_its_count(chain: list[AccessRecord]) -> None:
    code, text = verify()
    assert code == 0 and str(COUNT) in text
    assert verdict() == {"intact": True, "checked": COUNT, "head": COUNT}


def test_an_empty_log_is_intact(db: Any) -> None:
    assert verdict() == {"intact": True, "checked": 0, "head": 0}


def test_a_changed_field_is_named_by_its_record(chain: list[AccessRecord]) -> None:
    sql(f"UPDATE {TABLE} SET purpose = %s WHERE seq = 3", ["查看邻居"])  # noqa: S608
    result = verdict()
    assert result["broken"]["seq"] == 3 and result["broken"]["reason"] == "content"
    assert result["broken"]["at"] is not None and result["checked"] == 2


def test_a_changed_record_with_a_recomputed_hash_breaks_the_next_link(chain: list[AccessRecord]) -> None:
    changed = {**values_of(3), "purpose": "查看邻居"}
    digest = accesslog.record_hash(chain[1].hash, changed)
    sql(f"UPDATE {TABLE} SET purpose = %s, hash = %s WHERE seq = 3", ["查看邻居", digest])  # noqa: S608
    result = verdict()
    assert (result["broken"]["seq"], result["broken"]["reason"]) == (4, "link")


def test_a_deleted_middle_record_is_named_as_missing(chain: list[AccessRecord]) -> None:
    sql(f"DELETE FROM {TABLE} WHERE seq = 3")  # noqa: S608
    code, text = verify()
    assert code == 1 and "3" in text and "missing" in text
    result = verdict()
    assert (result["broken"]["seq"], result["broken"]["reason"]) == (3, "missing")
    assert result["broken"]["at"] is None and result["broken"]["after"] is not None


def test_a_deleted_first_record_is_named(chain: list[AccessRecord]) -> None:
    sql(f"DELETE FROM {TABLE} WHERE seq = 1")  # noqa: S608
    assert (verdict()["broken"]["seq"], verdict()["broken"]["reason"]) == (1, "missing")


def test_a_deleted_last_record_shows_as_truncated(chain: list[AccessRecord]) -> None:
    sql(f"DELETE FROM {TABLE} WHERE seq = %s", [COUNT])  # noqa: S608
    result = verdict()
    assert (result["broken"]["seq"], result["broken"]["reason"]) == (COUNT, "truncated")
    assert result["checked"] == COUNT - 1


def test_a_forged_record_past_the_head_is_found_even_with_a_valid_hash(chain: list[AccessRecord]) -> None:
    forged = {**values_of(COUNT), "seq": COUNT + 1}
    copy_as(COUNT, seq=COUNT + 1, prev_hash=chain[-1].hash, digest=accesslog.record_hash(chain[-1].hash, forged))
    result = verdict()
    assert (result["broken"]["seq"], result["broken"]["reason"]) == (COUNT + 1, "link")


def test_a_forged_record_replacing_the_last_one_is_found(chain: list[AccessRecord]) -> None:
    sql(f"DELETE FROM {TABLE} WHERE seq = %s", [COUNT])  # noqa: S608
    forged = {**values_of(COUNT - 1), "seq": COUNT}
    copy_as(COUNT - 1, seq=COUNT, prev_hash=chain[-2].hash, digest=accesslog.record_hash(chain[-2].hash, forged))
    result = verdict()
    assert (result["broken"]["seq"], result["broken"]["reason"]) == (COUNT, "link")


def test_a_record_inserted_into_a_gap_with_its_own_hash_breaks_its_link(chain: list[AccessRecord]) -> None:
    sql(f"DELETE FROM {TABLE} WHERE seq = 3")  # noqa: S608
    copy_as(2, seq=3, prev_hash="f" * 64, digest="e" * 64)
    result = verdict()
    assert (result["broken"]["seq"], result["broken"]["reason"]) == (3, "link")


def test_the_first_break_is_named_when_there_are_several(chain: list[AccessRecord]) -> None:
    sql(f"UPDATE {TABLE} SET official = %s WHERE seq = 4", ["某人"])  # noqa: S608
    sql(f"UPDATE {TABLE} SET official = %s WHERE seq = 2", ["某人"])  # noqa: S608
    assert verdict()["broken"]["seq"] == 2


def test_the_walk_reports_progress_in_chunks(chain: list[AccessRecord]) -> None:
    steps: list[int] = []
    report = accesslog.verify_chain(chunk=2, progress=steps.append)
    assert report.broken is None and steps == [2, 2, 1]
