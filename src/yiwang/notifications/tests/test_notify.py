"""Queueing a notification: one outbox event inside the caller's transaction, programming errors refused."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import transaction

from yiwang.audit.models import AuditRecord
from yiwang.common.models import OutboxEvent
from yiwang.notifications import kinds, services
from yiwang.notifications.models import Message
from yiwang.notifications.tests.conftest import CASES, PARAMS

pytestmark = pytest.mark.django_db


def events() -> list[OutboxEvent]:
    return list(OutboxEvent.objects.filter(topic="notifications.deliver").order_by("id"))


def queue(recipients: list[User], kind: str = "case.submitted", params: dict[str, Any] | None = None, **kw: Any):
    with transaction.atomic():
        services.notify(actor=CASES, recipients=recipients, kind=kind, params=params or PARAMS, **kw)


def test_one_event_carries_every_recipient_the_kind_params_link_and_channels(citizen: User, clerk: User) -> None:
    queue([clerk, citizen, citizen], "case.accepted", {**PARAMS, "promised_due": "2026-12-01"}, link="/my/cases/1/")
    [event] = events()
    assert event.payload == {
        "recipients": sorted([citizen.pk, clerk.pk]),
        "kind": "case.accepted",
        "params": {**PARAMS, "promised_due": "2026-12-01"},
        "link": "/my/cases/1/",
        "channels": ["email", "inbox", "sms"],
    }
    assert event.sent_at is None  # delivered after commit, not here
    assert not Message.objects.exists()


def test_the_queueing_is_audited_in_the_same_transaction(citizen: User) -> None:
    queue([citizen], channels=["inbox"])
    record = AuditRecord.objects.get(action="notifications.queued")
    assert record.actor_label == "system:test:cases"
    assert record.object_label == "case.submitted"
    assert record.object_id == str(events()[0].pk)
    assert record.after == {"recipients": [citizen.pk], "channels": ["inbox"]}


def test_dates_are_stored_as_iso_text_in_local_time(citizen: User) -> None:
    moment = dt.datetime(2026, 3, 1, 1, 30, tzinfo=dt.UTC)  # 09:30 in Shanghai
    queue([citizen], "case.warning_red", {**PARAMS, "due": moment})
    assert events()[0].payload["params"]["due"] == "2026-03-01 09:30"
    queue([citizen], "case.accepted", {**PARAMS, "promised_due": dt.date(2026, 3, 2)})
    assert events()[1].payload["params"]["promised_due"] == "2026-03-02"


def test_a_rolled_back_change_leaves_no_notification(citizen: User) -> None:
    with pytest.raises(RuntimeError, match="the change failed"), transaction.atomic():
        services.notify(actor=CASES, recipients=[citizen], kind="case.submitted", params=PARAMS)
        raise RuntimeError("the change failed")
    assert events() == []
    assert not AuditRecord.objects.filter(action="notifications.queued").exists()


def test_no_recipients_queue_nothing(citizen: User) -> None:
    queue([])
    assert events() == []


@pytest.mark.django_db(transaction=True)  # a test's own transaction would hide the missing one
def test_notify_outside_a_transaction_is_refused(citizen: User) -> None:
    with pytest.raises(RuntimeError, match="inside the transaction"):
        services.notify(actor=CASES, recipients=[citizen], kind="case.submitted", params=PARAMS)
    assert events() == []


@pytest.mark.parametrize(
    ("kind", "params", "options", "error", "match"),
    [
        ("case.nonexistent", PARAMS, {}, kinds.UnknownKind, "unknown message kind"),
        ("case.accepted", PARAMS, {}, ValueError, "needs the parameters \\['promised_due'\\]"),
        ("case.submitted", {**PARAMS, "promise_due": "x"}, {}, ValueError, "takes no parameters \\['promise_due'\\]"),
        ("case.submitted", {**PARAMS, "case_number": True}, {}, TypeError, "text, a number or a date"),
        ("case.submitted", {**PARAMS, "case_number": None}, {}, TypeError, "text, a number or a date"),
        ("case.submitted", {**PARAMS, "case_number": ["a"]}, {}, TypeError, "not list"),
        ("case.warning_red", {**PARAMS, "due": dt.datetime(2026, 1, 1)}, {}, ValueError, "naive"),  # noqa: DTZ001
        ("case.submitted", PARAMS, {"channels": ["pigeon"]}, ValueError, "channels must be"),
        ("case.submitted", PARAMS, {"channels": []}, ValueError, "channels must be"),
        ("case.submitted", PARAMS, {"link": "https://evil.example/"}, ValueError, "path on this site"),
        ("case.submitted", PARAMS, {"link": "//evil.example/"}, ValueError, "path on this site"),
        ("case.submitted", PARAMS, {"link": "/\\evil.example/"}, ValueError, "path on this site"),
        ("case.submitted", PARAMS, {"link": "my/cases/1/"}, ValueError, "path on this site"),
    ],
)
def test_programming_errors_are_refused_and_queue_nothing(
    citizen: User, kind: str, params: dict[str, Any], options: dict[str, Any], error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match):
        queue([citizen], kind, params, **options)
    assert events() == []
    assert not AuditRecord.objects.filter(action="notifications.queued").exists()


def test_an_unsaved_recipient_is_refused(citizen: User) -> None:
    with pytest.raises(ValueError, match="saved user"):
        queue([citizen, User(username="ghost")])
    assert events() == []
