"""Notifying: message-centre rows and one outbox event for e-mail and SMS, inside the caller's transaction;
programming errors refused."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import transaction

from yiwang.common.models import OutboxEvent
from yiwang.notifications import kinds, services
from yiwang.notifications.models import Message
from yiwang.notifications.tests.conftest import CASES, PARAMS, with_email

pytestmark = pytest.mark.django_db


def events() -> list[OutboxEvent]:
    return list(OutboxEvent.objects.filter(topic="notifications.deliver").order_by("id"))


def queue(recipients: list[User], kind: str = "case.submitted", params: dict[str, Any] | None = None, **kw: Any):
    with transaction.atomic():
        services.notify(actor=CASES, recipients=recipients, kind=kind, params=params or PARAMS, **kw)


def messages() -> list[tuple[int, str, dict[str, Any], str]]:
    return list(Message.objects.order_by("recipient_id").values_list("recipient_id", "kind", "params", "link"))


def test_each_recipient_gets_a_message_in_the_transaction_and_one_event_carries_the_outside_channels(
    citizen: User, clerk: User
) -> None:
    params = {**PARAMS, "promised_due": "2026-12-01"}
    with transaction.atomic():
        services.notify(
            actor=CASES, recipients=[clerk, citizen, citizen], kind="case.accepted", params=params, link="/my/cases/1/"
        )
        # Written with the change, before any commit: the message centre needs no delivery.
        assert messages() == sorted(
            [(citizen.pk, "case.accepted", params, "/my/cases/1/"), (clerk.pk, "case.accepted", params, "/my/cases/1/")]
        )
    assert {m.event_id for m in Message.objects.all()} == {None}
    [event] = events()
    # Only the citizen can be reached outside (a confirmed phone); the clerk has neither phone nor e-mail.
    assert event.payload == {
        "recipients": [citizen.pk],
        "kind": "case.accepted",
        "params": params,
        "link": "/my/cases/1/",
        "channels": ["email", "sms"],
    }
    assert event.sent_at is None  # sent after commit, not here


def test_a_recipient_with_an_email_address_is_in_the_event(citizen: User, clerk: User) -> None:
    with_email(clerk, "clerk@example.gov.cn")
    queue([clerk], channels=["email"])
    assert events()[0].payload["recipients"] == [clerk.pk]
    assert events()[0].payload["channels"] == ["email"]
    assert messages() == []  # the inbox was not among the channels


def test_a_notification_nobody_can_receive_outside_queues_no_event(citizen: User, clerk: User) -> None:
    queue([citizen, clerk], channels=["inbox"])
    assert events() == []
    assert len(messages()) == 2
    queue([clerk])  # every channel, but the clerk has no e-mail address and no confirmed phone
    assert events() == []
    assert len(messages()) == 3


def test_dates_are_stored_as_iso_text_in_local_time(citizen: User) -> None:
    moment = dt.datetime(2026, 3, 1, 1, 30, tzinfo=dt.UTC)  # 09:30 in Shanghai
    queue([citizen], "case.warning_red", {**PARAMS, "due": moment})
    assert events()[0].payload["params"]["due"] == "2026-03-01 09:30"
    assert Message.objects.get().params["due"] == "2026-03-01 09:30"
    queue([citizen], "case.accepted", {**PARAMS, "promised_due": dt.date(2026, 3, 2)})
    assert events()[1].payload["params"]["promised_due"] == "2026-03-02"


def test_a_rolled_back_change_leaves_no_notification(citizen: User) -> None:
    with pytest.raises(RuntimeError, match="the change failed"), transaction.atomic():
        services.notify(actor=CASES, recipients=[citizen], kind="case.submitted", params=PARAMS)
        raise RuntimeError("the change failed")
    assert events() == []
    assert not Message.objects.exists()


def test_no_recipients_queue_nothing(citizen: User) -> None:
    queue([])
    assert events() == []
    assert not Message.objects.exists()


@pytest.mark.django_db(transaction=True)  # a test's own transaction would hide the missing one
def test_notify_outside_a_transaction_is_refused(citizen: User) -> None:
    with pytest.raises(RuntimeError, match="inside the transaction"):
        services.notify(actor=CASES, recipients=[citizen], kind="case.submitted", params=PARAMS)
    assert events() == []
    assert not Message.objects.exists()


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
    assert not Message.objects.exists()


def test_an_unsaved_recipient_is_refused(citizen: User) -> None:
    with pytest.raises(ValueError, match="saved user"):
        queue([citizen, User(username="ghost")])
    assert events() == []
    assert not Message.objects.exists()
