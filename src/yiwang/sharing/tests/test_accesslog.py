"""The access log's hash chain: appends number and link each record, the table refuses edits, an answered read
without a case or purpose cannot be stored, and concurrent appends (PostgreSQL) still make one unbroken chain."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction

from yiwang.catalogue.models import Organisation
from yiwang.sharing import accesslog
from yiwang.sharing.constants import Outcome, Refusal
from yiwang.sharing.models import AccessRecord, ChainHead
from yiwang.sharing.tests.log_world import read, resource

pytestmark = pytest.mark.django_db

ID_NUMBER = "11010519491231002X"


def test_appends_number_from_one_and_link_each_record_to_the_one_before(department_a: Organisation) -> None:
    res = resource(department_a)
    records = [read(department_a, res, id_number=ID_NUMBER, case_number=f"C-{n}") for n in range(3)]
    assert [r.seq for r in records] == [1, 2, 3]
    assert records[0].prev_hash == accesslog.GENESIS
    assert [r.prev_hash for r in records[1:]] == [r.hash for r in records[:2]]
    head = ChainHead.objects.get(pk=1)
    assert (head.seq, head.hash) == (3, records[-1].hash)
    assert accesslog.verify_chain() == accesslog.ChainReport(3, None, 3)


def test_the_hash_covers_the_stored_values_as_read_back(department_a: Organisation) -> None:
    res = resource(department_a)
    record = read(department_a, res, id_number=ID_NUMBER)
    row = AccessRecord.objects.filter(pk=record.pk).values(*accesslog.CHAINED).get()
    assert accesslog.record_hash(record.prev_hash, row) == record.hash
    assert accesslog.record_hash(record.prev_hash, {**row, "purpose": "别的用途"}) != record.hash


def test_records_refuse_to_be_changed_or_deleted(department_a: Organisation) -> None:
    record = read(department_a, resource(department_a), id_number=ID_NUMBER)
    record.purpose = "改过"
    with pytest.raises(TypeError):
        record.save()
    with pytest.raises(TypeError):
        record.delete()
    with pytest.raises(TypeError):
        AccessRecord.objects.filter(pk=record.pk).update(purpose="改过")
    with pytest.raises(TypeError):
        AccessRecord.objects.filter(pk=record.pk).delete()


@pytest.mark.parametrize("missing", ["case_number", "purpose"])
def test_an_answered_read_without_a_case_or_purpose_cannot_be_stored(department_a: Organisation, missing: str) -> None:
    res = resource(department_a)
    with pytest.raises(IntegrityError), transaction.atomic():
        read(department_a, res, id_number=ID_NUMBER, **{missing: ""})  # type: ignore[arg-type]
    assert not AccessRecord.objects.exists()
    assert ChainHead.objects.filter(seq__gt=0).count() == 0  # the head moved back with the refused insert


def test_a_refused_attempt_is_logged_without_a_case(department_a: Organisation) -> None:
    record = read(
        department_a,
        None,
        id_number=ID_NUMBER,
        outcome=Outcome.REFUSED,
        refusal=Refusal.NO_CASE,
        case_number="",
        purpose="",
    )
    assert record.seq == 1 and record.outcome == Outcome.REFUSED


PER_THREAD = 20


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL; SQLite has one writer")
def test_concurrent_appends_make_one_unbroken_chain(department_a: Organisation) -> None:
    """Two threads, each with its own connection, append from an empty log (so they also race to create the head)."""
    res = resource(department_a)
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def append_many(label: str) -> None:
        try:
            start.wait()
            for n in range(PER_THREAD):
                read(department_a, res, id_number=ID_NUMBER, case_number=f"{label}-{n}")
        except BaseException as exc:  # reported to the main thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=append_many, args=(label,)) for label in ("A", "B")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    seqs = list(AccessRecord.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, 2 * PER_THREAD + 1))
    report: Any = accesslog.verify_chain(chunk=7)
    assert report == accesslog.ChainReport(2 * PER_THREAD, None, 2 * PER_THREAD)
