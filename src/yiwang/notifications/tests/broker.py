"""Pointing this test process's Celery app at a real broker, and back to the embedded in-process default."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager

import kombu.pools

from yiwang.common import outbox
from yiwang.conf.celery import app


def _drop_connections() -> None:
    # Celery keeps broker connection and producer pools for the life of the process (its own, and kombu's
    # registry keyed by connection URL); a new URL needs them dropped, as Celery itself does after a fork.
    kombu.pools.reset()  # type: ignore[no-untyped-call]  # kombu's functions carry no annotations
    app._pool = None
    amqp = app.__dict__.get("amqp")
    if amqp is not None:
        amqp._producer_pool = None


@contextmanager
def using_broker(url: str) -> Iterator[None]:
    """Publish tasks to ``url`` instead of running them in process."""
    # The app reads Django settings under the CELERY_ namespace: changes must use the prefixed names too.
    saved = {"CELERY_BROKER_URL": app.conf.broker_url, "CELERY_TASK_ALWAYS_EAGER": app.conf.task_always_eager}
    _drop_connections()
    app.conf.update(CELERY_BROKER_URL=url, CELERY_TASK_ALWAYS_EAGER=False)
    outbox._publish_paused_until = 0.0
    try:
        yield
    finally:
        _drop_connections()
        app.conf.update(saved)
        outbox._publish_paused_until = 0.0


def closed_port() -> int:
    """A local port nothing listens on (bound for a moment to find it, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
