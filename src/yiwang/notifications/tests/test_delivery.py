"""Delivering a queued notification: message centre, e-mail and SMS, once each, however often the event comes."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth.models import User
from django.core import mail
from django.db import transaction
from django.test import override_settings
from django.utils import timezone, translation

from yiwang.common import outbox
from yiwang.common.models import OutboxEvent
from yiwang.identity.models import Account
from yiwang.notifications import delivery, tasks
from yiwang.notifications.constants import DeliveryStatus
from yiwang.notifications.models import Delivery, Message
from yiwang.notifications.tests.conftest import PARAMS, Notify, with_email
from yiwang.notifications.tests.fakes import FakeText

pytestmark = pytest.mark.django_db
BROKEN_SMS = "yiwang.notifications.tests.fakes.FakeBrokenSmsGateway"


def deliveries() -> set[tuple[int, str, str]]:
    return set(Delivery.objects.values_list("recipient_id", "channel", "status"))


def the_event() -> OutboxEvent:
    return OutboxEvent.objects.get(topic="notifications.deliver")


def test_each_recipient_gets_a_message_an_email_and_an_sms(
    notify: Notify, sms: list[FakeText], citizen: User, clerk: User
) -> None:
    with_email(citizen, "zhangsan@example.cn")
    with_email(clerk, "clerk@example.gov.cn")
    notify([citizen, clerk], link="/my/cases/330106-2026-000001/")
    event = the_event()
    assert event.sent_at is not None

    messages = {m.recipient_id: m for m in Message.objects.all()}
    assert set(messages) == {citizen.pk, clerk.pk}
    for message in messages.values():
        assert (message.kind, message.params, message.link) == ("case.submitted", PARAMS, event.payload["link"])
        # Written with the change (no event id), so it is dated when the change happened however late the sending.
        assert message.event_id is None
        assert message.created_at <= event.created_at
        assert message.read_at is None

    assert sorted(m.to[0] for m in mail.outbox) == ["clerk@example.gov.cn", "zhangsan@example.cn"]
    email = mail.outbox[0]
    assert email.from_email == settings.DEFAULT_FROM_EMAIL
    assert PARAMS["case_number"] in email.subject
    assert f"{settings.YIWANG_PUBLIC_BASE_URL}/my/cases/330106-2026-000001/" in email.body

    # Only the citizen has a confirmed phone (staff here were created without one).
    assert [t.phone for t in sms] == [citizen.account.phone]
    assert sms[0].text.startswith("【一网通办】")
    assert PARAMS["case_number"] in sms[0].text
    assert deliveries() == {
        (citizen.pk, "email", "sent"),
        (clerk.pk, "email", "sent"),
        (citizen.pk, "sms", "sent"),
    }


def test_a_redelivered_event_makes_no_second_message_email_or_sms(
    notify: Notify, sms: list[FakeText], citizen: User
) -> None:
    with_email(citizen, "zhangsan@example.cn")
    notify([citizen])
    event = the_event()
    # As after a crash between the handler's commit and the event being marked sent, or a second relay run.
    OutboxEvent.objects.filter(pk=event.pk).update(sent_at=None)
    assert outbox.relay() == 1
    with transaction.atomic():
        delivery.deliver(event.as_message())  # a task delivered twice by the broker
    assert Message.objects.count() == 1
    assert len(mail.outbox) == 1
    assert len(sms) == 1
    assert Delivery.objects.count() == 2


def test_an_event_queued_before_messages_were_written_with_the_change_still_makes_them_once(
    sms: list[FakeText], citizen: User
) -> None:
    # Events queued by the previous version carry "inbox" among their channels: their messages are made on delivery.
    with transaction.atomic():
        event = outbox.enqueue(
            "notifications.deliver",
            {"recipients": [citizen.pk], "kind": "case.submitted", "params": PARAMS, "link": "", "channels": ["inbox"]},
        )
    assert outbox.relay() == 1
    with transaction.atomic():
        delivery.deliver(event.as_message())  # delivered twice
    [message] = Message.objects.all()
    assert (message.event_id, message.recipient_id, message.params) == (event.pk, citizen.pk, PARAMS)
    assert message.created_at == event.created_at


def test_external_texts_are_in_chinese_whatever_language_the_sender_used(
    notify: Notify, sms: list[FakeText], citizen: User
) -> None:
    with translation.override("en"):
        notify([citizen])
    assert [t.language for t in sms] == ["zh-hans"]
    assert delivery.recipient_language(citizen) == settings.LANGUAGE_CODE == "zh-hans"


def test_an_unconfirmed_phone_gets_no_sms_and_no_address_gets_no_email(
    notify: Notify, sms: list[FakeText], citizen: User
) -> None:
    Account.objects.filter(user=citizen).update(phone_confirmed_at=None)
    notify([citizen])
    assert Message.objects.filter(recipient=citizen).count() == 1
    assert sms == []
    assert mail.outbox == []
    assert deliveries() == set()


def test_only_the_chosen_channels_are_used(notify: Notify, sms: list[FakeText], citizen: User) -> None:
    with_email(citizen, "zhangsan@example.cn")
    notify([citizen], channels=["inbox"])
    assert Message.objects.count() == 1
    assert (sms, mail.outbox) == ([], [])
    notify([citizen], channels=["sms"])
    assert Message.objects.count() == 1
    assert len(sms) == 1
    assert mail.outbox == []


def test_a_kind_unknown_to_the_worker_keeps_the_event_pending_with_the_error(citizen: User) -> None:
    with transaction.atomic():
        outbox.enqueue(
            "notifications.deliver",
            {"recipients": [citizen.pk], "kind": "gone.kind", "params": {}, "link": "", "channels": ["inbox"]},
        )
    assert outbox.relay() == 0
    event = the_event()
    assert event.sent_at is None and event.attempts == 1
    assert "unknown message kind 'gone.kind'" in event.last_error
    assert not Message.objects.exists()


def _at(moment: dt.datetime) -> Any:
    return time_machine.travel(moment, tick=False)


def test_a_failed_sms_is_recorded_and_does_not_hold_up_the_other_channels(
    notify: Notify, sms: list[FakeText], citizen: User
) -> None:
    with_email(citizen, "zhangsan@example.cn")
    with override_settings(YIWANG_MESSAGE_PROVIDER=BROKEN_SMS):
        notify([citizen])
    assert the_event().sent_at is not None  # the event is done: a retry would repeat the e-mail
    assert Message.objects.count() == 1
    assert len(mail.outbox) == 1
    failed = Delivery.objects.get(channel="sms")
    assert failed.status == DeliveryStatus.FAILED
    assert failed.attempts == 1
    assert "FAKE SMS gateway is down" in failed.last_error
    assert failed.next_attempt_at is not None
    pause = failed.next_attempt_at - failed.created_at
    assert delivery.RETRY_DELAYS[0] - dt.timedelta(seconds=1) < pause <= delivery.RETRY_DELAYS[0]

    # Redelivering the event sends nothing again: the failed send belongs to the retry job now.
    OutboxEvent.objects.filter(pk=the_event().pk).update(sent_at=None)
    outbox.relay()
    assert (len(mail.outbox), len(sms)) == (1, 0)

    assert delivery.retry_failed() == 0  # its pause is not over yet
    with _at(failed.next_attempt_at + dt.timedelta(seconds=1)):
        assert tasks.retry_deliveries.delay().get() == 1  # the beat task (eager in the embedded default)
        assert delivery.retry_failed() == 0
    assert len(sms) == 1 and sms[0].phone == citizen.account.phone
    sent = Delivery.objects.get(pk=failed.pk)
    assert (sent.status, sent.attempts, sent.next_attempt_at) == (DeliveryStatus.SENT, 2, None)
    assert len(mail.outbox) == 1


def test_a_send_that_keeps_failing_is_given_up_after_the_last_attempt(notify: Notify, citizen: User) -> None:
    with override_settings(YIWANG_MESSAGE_PROVIDER=BROKEN_SMS):
        notify([citizen], channels=["sms"])
        failed = Delivery.objects.get()
        for attempt in range(2, delivery.MAX_ATTEMPTS + 1):
            assert failed.next_attempt_at is not None
            with _at(failed.next_attempt_at):
                assert delivery.retry_failed() == 0
            failed.refresh_from_db()
            assert failed.attempts == attempt
        assert failed.status == DeliveryStatus.ABANDONED
        assert failed.next_attempt_at is None
        with _at(timezone.now() + dt.timedelta(days=30)):
            assert delivery.retry_failed() == 0
    failed.refresh_from_db()
    assert failed.attempts == delivery.MAX_ATTEMPTS


def test_a_retry_whose_address_is_gone_is_given_up(notify: Notify, sms: list[FakeText], citizen: User) -> None:
    with override_settings(YIWANG_MESSAGE_PROVIDER=BROKEN_SMS):
        notify([citizen], channels=["sms"])
    Account.objects.filter(user=citizen).update(phone_confirmed_at=None)
    failed = Delivery.objects.get()
    assert failed.next_attempt_at is not None
    with _at(failed.next_attempt_at + dt.timedelta(seconds=1)):
        assert delivery.retry_failed() == 0
    failed.refresh_from_db()
    assert failed.status == DeliveryStatus.ABANDONED
    assert sms == []
