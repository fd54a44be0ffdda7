"""Fixtures of the registers tests: English messages and the demo registers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import translation

from yiwang.audit.actors import SystemActor
from yiwang.registers.demo import load_demo_registers


@pytest.fixture
def english() -> Iterator[None]:
    # Services speak the active language (zh-Hans by default); assertions on messages read English.
    with translation.override("en"):
        yield


@pytest.fixture
def demo(db: Any, system: SystemActor) -> None:
    load_demo_registers(actor=system)
