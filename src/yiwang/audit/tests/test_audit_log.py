"""The audit log is append-only and written inside the change's transaction."""

from __future__ import annotations

import pytest
from django.db import transaction

from yiwang.audit import services
from yiwang.audit.actors import SystemActor
from yiwang.audit.models import AuditRecord

pytestmark = pytest.mark.django_db


def test_records_cannot_be_changed_or_deleted() -> None:
    with transaction.atomic():
        record = services.record(actor=SystemActor("t"), action="x.y", object_type="x", object_id=1, after={"a": 1})
    record.note = "rewritten"
    with pytest.raises(TypeError):
        record.save()
    with pytest.raises(TypeError):
        record.delete()
    with pytest.raises(TypeError):
        AuditRecord.objects.all().update(note="rewritten")
    with pytest.raises(TypeError):
        AuditRecord.objects.all().delete()
    assert AuditRecord.objects.get(pk=record.pk).note == ""


@pytest.mark.django_db(transaction=True)
def test_recording_outside_a_transaction_is_refused() -> None:
    before = AuditRecord.objects.count()
    with pytest.raises(RuntimeError, match="inside the transaction"):
        services.record(actor=SystemActor("t"), action="x.y", object_type="x", object_id=1)
    assert AuditRecord.objects.count() == before


def test_the_actor_is_labelled(manager) -> None:
    with transaction.atomic():
        record = services.record(actor=manager, action="x.y", object_type="x", object_id=1)
    assert (record.actor, record.actor_label) == (manager, "manager")
