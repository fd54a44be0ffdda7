"""Every periodic task the beat schedule names exists and runs."""

from __future__ import annotations

import pytest

from yiwang.conf.celery import app


@pytest.fixture(autouse=True)
def _discovered() -> None:
    # What a worker or beat does at start: import every app's tasks module.
    app.loader.import_default_modules()
    app.autodiscover_tasks(force=True)


def test_every_scheduled_task_is_registered() -> None:
    names = {entry["task"] for entry in app.conf.beat_schedule.values()}
    assert names, "the beat schedule is empty"
    assert names <= set(app.tasks), names - set(app.tasks)


@pytest.mark.django_db
def test_scheduled_tasks_run(published) -> None:
    # Eager in the embedded default: .delay() runs in process and returns the task's result.
    published()
    assert app.tasks["yiwang.catalogue.tasks.apply_schedule"].delay().get() == 0
    assert app.tasks["yiwang.common.tasks.relay_outbox"].delay().get() >= 0
