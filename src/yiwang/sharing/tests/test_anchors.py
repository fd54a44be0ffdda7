"""Anchors: the access log's head copied into the audit log, so a rewrite of the chain's tail *with* its head — which
the chain alone cannot show — is found at the first anchored record it changed."""

from __future__ import annotations

from typing import Any

import pytest

from yiwang.audit.actors import SCHEDULER
from yiwang.audit.models import AuditRecord
from yiwang.catalogue.models import Organisation
from yiwang.sharing import accesslog, tasks
from yiwang.sharing.models import AccessRecord, ChainHead
from yiwang.sharing.tests.log_world import read, resource
from yiwang.sharing.tests.test_audit_verify import TABLE, sql, values_of, verdict

pytestmark = pytest.mark.django_db

HEAD = ChainHead._meta.db_table


@pytest.fixture
def chain(department_a: Organisation) -> list[AccessRecord]:
    res = resource(department_a)
    return [read(department_a, res, id_number="11010519491231002X", case_number=f"C-{n}") for n in range(4)]


def rewrite_from(seq: int, purpose: str) -> None:
    """What an intruder with database access would do: change record ``seq``, recompute its hash and every later
    link and hash, and move the head — the chain is then consistent again."""
    last = AccessRecord.objects.order_by("-seq").values_list("seq", flat=True).first() or 0
    prev = AccessRecord.objects.filter(seq=seq).values_list("prev_hash", flat=True).get()
    for n in range(seq, last + 1):
        values = values_of(n)
        if n == seq:
            values["purpose"] = purpose
            sql(f"UPDATE {TABLE} SET purpose = %s WHERE seq = %s", [purpose, n])  # noqa: S608
        digest = accesslog.record_hash(prev, values)
        sql(f"UPDATE {TABLE} SET prev_hash = %s, hash = %s WHERE seq = %s", [prev, digest, n])  # noqa: S608
        prev = digest
    sql(f"UPDATE {HEAD} SET hash = %s WHERE id = 1", [prev])  # noqa: S608


def test_the_job_anchors_the_head_once_until_it_moves(chain: list[AccessRecord], department_a: Organisation) -> None:
    assert tasks.anchor_access_log() == 4
    assert tasks.anchor_access_log() == 0  # nothing new: no second anchor of the same head
    anchors = AuditRecord.objects.filter(action=accesslog.ANCHOR_ACTION)
    assert [a.after for a in anchors] == [{"seq": 4, "hash": chain[-1].hash}]
    read(department_a, resource(department_a, code="other_resource"), id_number="11010519491231002X")
    assert accesslog.anchor(actor=SCHEDULER) is not None
    assert verdict()["intact"] is True


def test_an_empty_log_has_nothing_to_anchor(db: Any) -> None:
    assert accesslog.anchor(actor=SCHEDULER) is None


def test_without_an_anchor_a_rewrite_with_its_head_is_consistent(chain: list[AccessRecord]) -> None:
    # The gap anchors close: the chain checks out after a careful rewrite.
    rewrite_from(2, "别的用途")
    assert verdict()["intact"] is True


def test_a_rewrite_of_anchored_records_is_named_at_the_first_one_changed(chain: list[AccessRecord]) -> None:
    accesslog.anchor(actor=SCHEDULER)
    rewrite_from(4, "别的用途")
    result = verdict()
    assert result["broken"]["seq"] == 4 and result["broken"]["reason"] == "anchor"


def test_cutting_anchored_records_and_moving_the_head_back_is_found(chain: list[AccessRecord]) -> None:
    accesslog.anchor(actor=SCHEDULER)
    last = chain[-1]
    sql(f"DELETE FROM {TABLE} WHERE seq = %s", [last.seq])  # noqa: S608
    sql(f"UPDATE {HEAD} SET seq = %s, hash = %s WHERE id = 1", [last.seq - 1, chain[-2].hash])  # noqa: S608
    result = verdict()
    assert result["broken"] == {"seq": last.seq, "reason": "truncated", "at": None, "after": result["broken"]["after"]}


def test_the_command_anchors_and_says_when_there_is_nothing_new(chain: list[AccessRecord]) -> None:
    from io import StringIO

    from django.core.management import call_command

    first, second = StringIO(), StringIO()
    call_command("audit", "anchor", stdout=first)
    call_command("audit", "anchor", stdout=second)
    assert chain[-1].hash in first.getvalue()
    assert chain[-1].hash not in second.getvalue()
    assert AuditRecord.objects.filter(action=accesslog.ANCHOR_ACTION).count() == 1
