"""Notifications through the real machinery: the machine's Redis as broker and a Celery worker in another process.

- Worker down: tasks wait in Redis; once a worker starts, every e-mail and SMS is sent exactly once (the message
  centre rows were written with the change, decision 0009).
- Broker down: the committing request is not held up or failed; events stay pending; the relay (the beat task)
  delivers them once the broker is back, exactly once.
- Rolled back: a notification queued in a transaction that rolls back is never delivered.

The worker shares this test run's database (a file on SQLite, see conf/settings.py; the test database on
PostgreSQL). SMS go to a FAKE gateway that appends to a file (a memory fake cannot cross processes); e-mail
goes through Django's file-based backend. Redis is required: without it these tests fail, they never skip.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import redis
from django.contrib.auth.models import User
from django.db import connection, transaction

from yiwang.common import outbox
from yiwang.common.models import OutboxEvent
from yiwang.common.tasks import relay_outbox
from yiwang.notifications import services
from yiwang.notifications.models import Delivery, Message
from yiwang.notifications.tests.broker import closed_port, using_broker
from yiwang.notifications.tests.conftest import CASES, PARAMS, with_email
from yiwang.notifications.tests.fakes import FAKE_SMS_FILE_ENV

pytestmark = [pytest.mark.broker, pytest.mark.django_db(transaction=True)]

REDIS_URL = os.environ.get("YIWANG_TEST_REDIS_URL", "redis://127.0.0.1:6379/9")
QUEUE = "celery"  # Celery's default queue: a Redis list of that name
WAIT_SECONDS = 25.0
CITIZEN_EMAIL = "zhangsan@example.cn"
CLERK_EMAIL = "clerk@example.gov.cn"


@pytest.fixture
def broker() -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2, socket_timeout=5)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.fail(
            f"Redis is not answering at {REDIS_URL} ({exc}). The broker tests need a real Redis: "
            "start one with `redis-server --daemonize yes` (CI's .ci/run does), or point YIWANG_TEST_REDIS_URL at one."
        )
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


def _database_url() -> str:
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        if ":memory:" in str(settings["NAME"]) or "mode=memory" in str(settings["NAME"]):
            pytest.fail("the test database is in memory: a worker process cannot see it (conf/settings.py TEST NAME)")
        return f"sqlite:///{Path(settings['NAME']).resolve()}"
    if connection.vendor == "postgresql":
        user = quote(settings.get("USER") or "")
        password = f":{quote(settings['PASSWORD'])}" if settings.get("PASSWORD") else ""
        host = settings.get("HOST") or "127.0.0.1"
        port = settings.get("PORT") or 5432
        return f"postgres://{user}{password}@{host}:{port}/{settings['NAME']}"
    pytest.fail(f"no worker database URL for {connection.vendor}")


class Worker:
    """A real ``celery worker`` process on this test's database and broker."""

    def __init__(self, tmp_path: Path) -> None:
        self.sms_file = tmp_path / "sms.txt"
        self.mail_dir = tmp_path / "mail"
        self.log_file = tmp_path / "worker.log"
        self.sms_file.touch()
        self.mail_dir.mkdir()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "yiwang.conf.settings",
            "DATABASE_URL": _database_url(),
            "CELERY_BROKER_URL": REDIS_URL,
            "YIWANG_TASKS_EAGER": "false",
            "YIWANG_MESSAGE_PROVIDER": "yiwang.notifications.tests.fakes.FakeFileSmsGateway",
            FAKE_SMS_FILE_ENV: str(self.sms_file),
            "YIWANG_EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "YIWANG_EMAIL_FILE_PATH": str(self.mail_dir),
        }
        command = [
            str(Path(sys.executable).with_name("celery")),
            "-A",
            "yiwang.conf.celery",
            "worker",
            "--pool=solo",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "--loglevel=INFO",
            f"--hostname=yiwang-test-{os.getpid()}@%h",
            f"--queues={QUEUE}",
        ]
        with self.log_file.open("ab") as log:
            self.process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()  # warm shutdown: the task in hand finishes first
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None

    def log(self) -> str:
        return self.log_file.read_text(errors="replace")[-4000:] if self.log_file.exists() else ""

    def sms_lines(self) -> list[str]:
        return self.sms_file.read_text(encoding="utf-8").splitlines()

    def emails(self) -> list[str]:
        """One entry per e-mail message written by the file-based backend (a file may hold several)."""
        texts = [p.read_text(encoding="utf-8", errors="replace") for p in sorted(self.mail_dir.iterdir())]
        separator = "\n" + "-" * 79 + "\n"  # what the backend writes after each message
        return [chunk for text in texts for chunk in text.split(separator) if "Message-ID: " in chunk]

    def wait_for(self, what: str, condition: Callable[[], bool]) -> None:
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            if condition():
                return
            if self.process is not None and self.process.poll() is not None:
                pytest.fail(f"the worker exited ({self.process.returncode}) before {what}:\n{self.log()}")
            time.sleep(0.1)
        pytest.fail(f"timed out waiting for {what}:\n{self.log()}")


@pytest.fixture
def worker(tmp_path: Path, broker: redis.Redis) -> Iterator[Worker]:
    started = Worker(tmp_path)
    try:
        yield started
    finally:
        started.stop()  # before the database is flushed (or dropped) under it


@pytest.fixture
def people(citizen: User, clerk: User) -> tuple[User, User]:
    """The citizen has a confirmed phone and both have e-mail: 1 message + 1 e-mail each, 1 SMS per event."""
    return with_email(citizen, CITIZEN_EMAIL), with_email(clerk, CLERK_EMAIL)


def numbered(n: int) -> dict[str, Any]:
    return {**PARAMS, "case_number": f"N-{n:03d}"}


def notify_committed(people: tuple[User, User], n: int) -> None:
    with transaction.atomic():
        services.notify(
            actor=CASES, recipients=people, kind="case.submitted", params=numbered(n), link=f"/my/cases/N-{n:03d}/"
        )


def pending() -> int:
    return OutboxEvent.objects.filter(topic="notifications.deliver", sent_at__isnull=True).count()


def assert_delivered_exactly_once(worker: Worker, numbers: range) -> None:
    citizen_messages = Message.objects.filter(recipient__email=CITIZEN_EMAIL)
    assert sorted(m.params["case_number"] for m in citizen_messages) == [f"N-{n:03d}" for n in numbers]
    assert Message.objects.count() == 2 * len(numbers)
    assert Delivery.objects.filter(channel="email", status="sent").count() == 2 * len(numbers)
    assert Delivery.objects.filter(channel="sms", status="sent").count() == len(numbers)
    assert Delivery.objects.exclude(status="sent").count() == 0
    # What actually left: one text and two e-mails per notification, none twice.
    texts = worker.sms_lines()
    assert len(texts) == len(numbers)
    for n in numbers:
        assert sum(f"N-{n:03d}" in line for line in texts) == 1
    emails = worker.emails()
    assert len(emails) == 2 * len(numbers)
    assert sum(f"To: {CITIZEN_EMAIL}" in e for e in emails) == len(numbers)
    assert pending() == 0


def test_notifications_queued_while_no_worker_runs_are_delivered_once_when_it_starts(
    worker: Worker, broker: redis.Redis, people: tuple[User, User]
) -> None:
    with using_broker(REDIS_URL):
        for n in range(20):
            notify_committed(people, n)
    assert broker.llen(QUEUE) == 20  # each event's task waits in Redis
    assert Message.objects.count() == 40  # the message centre does not wait for a worker: written with the change
    assert pending() == 20

    worker.start()
    worker.wait_for("20 events delivered", lambda: pending() == 0 and broker.llen(QUEUE) == 0)
    worker.wait_for("the last SMS", lambda: len(worker.sms_lines()) >= 20)
    worker.stop()
    assert_delivered_exactly_once(worker, range(20))
    assert outbox.relay() == 0  # nothing left for the relay either


def test_with_the_broker_down_the_request_succeeds_and_the_relay_delivers_later(
    worker: Worker, broker: redis.Redis, people: tuple[User, User], caplog: pytest.LogCaptureFixture
) -> None:
    with using_broker(f"redis://127.0.0.1:{closed_port()}/9"):
        for n in range(10):
            started = time.monotonic()
            notify_committed(people, n)  # commits; the on-commit hand-over to the broker fails
            assert time.monotonic() - started < 3, "a dead broker held up the committing request"
    assert "left for the relay" in caplog.text
    assert pending() == 10
    assert Message.objects.count() == 20
    assert broker.llen(QUEUE) == 0

    with using_broker(REDIS_URL):
        worker.start()
        relay_outbox.delay()  # what beat sends every 10 seconds
        worker.wait_for("the relay to deliver 10 events", lambda: pending() == 0)
        worker.wait_for("the last SMS", lambda: len(worker.sms_lines()) >= 10)
        relay_outbox.delay()  # a second run finds nothing to do
        worker.wait_for("the second relay run", lambda: broker.llen(QUEUE) == 0)
    worker.stop()
    assert_delivered_exactly_once(worker, range(10))


def test_a_notification_in_a_rolled_back_transaction_is_never_delivered(
    worker: Worker, broker: redis.Redis, people: tuple[User, User]
) -> None:
    worker.start()
    with using_broker(REDIS_URL):
        with pytest.raises(RuntimeError, match="the change failed"), transaction.atomic():
            services.notify(actor=CASES, recipients=people, kind="case.submitted", params=numbered(666))
            raise RuntimeError("the change failed")
        assert broker.llen(QUEUE) == 0  # nothing was even published
        notify_committed(people, 1)  # a later change, delivered after anything published before it
        worker.wait_for("the later notification", lambda: Message.objects.count() == 2 and pending() == 0)
        worker.wait_for("its SMS", lambda: len(worker.sms_lines()) >= 1)
    worker.stop()
    assert_delivered_exactly_once(worker, range(1, 2))
    assert OutboxEvent.objects.filter(topic="notifications.deliver").count() == 1
    assert not any("N-666" in line for line in worker.sms_lines())
