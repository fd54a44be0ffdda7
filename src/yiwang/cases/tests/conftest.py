"""The cases fixture world: a published 承诺件 of department A, files to upload, and a fixed clock.

Time is fixed on Friday 2025-09-26, the last working day before the 2025 National Day holiday (Oct 1–8, with
Sunday Sep 28 and Saturday Oct 11 worked as 调休), so every deadline in these tests crosses it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile

from yiwang.cases import services
from yiwang.cases.models import Case
from yiwang.catalogue.models import ItemVersion

SHANGHAI = ZoneInfo("Asia/Shanghai")
FRIDAY_BEFORE_NATIONAL_DAY = dt.datetime(2025, 9, 26, 10, 0, tzinfo=SHANGHAI)

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def pdf(name: str = "material.pdf", body: bytes = b"") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF + body, content_type="application/pdf")


def start(actor: User, version: ItemVersion, **kwargs: Any) -> Case:
    """A draft pre-filled from the registers, with what the registers do not know (the address) typed in."""
    case = services.start_application(actor=actor, version=version, **kwargs)
    missing = {"address": "浙江省杭州市西湖区文三路1号", "entity_address": "浙江省杭州市西湖区文三路1号"}
    data = {**{k: v for k, v in missing.items() if k in _fields(version)}, **case.data}
    return services.save_draft(actor=actor, case=case, data=data)


def _fields(version: ItemVersion) -> set[str]:
    from yiwang.catalogue.handling import handling_for

    return set(handling_for(version).form_schema.get("properties", {}))


@pytest.fixture(autouse=True)
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(FRIDAY_BEFORE_NATIONAL_DAY, tick=True) as traveller:
        yield traveller


@pytest.fixture
def item(published: Callable[..., ItemVersion]) -> ItemVersion:
    """个体工商户登记 of department A as a 承诺件: promised 3, statutory 15 working days; two required materials."""
    return published()


@pytest.fixture
def form_data() -> dict[str, Any]:
    return {}


@pytest.fixture
def submitted(citizen: User, item: ItemVersion) -> Callable[..., Case]:
    """A citizen's submitted case with both materials uploaded."""

    def make(actor: User | None = None, **kwargs: Any) -> Case:
        who = actor or citizen
        case = start(who, item, **kwargs)
        services.attach_material(actor=who, case=case, slot=0, upload=pdf("application.pdf", b"a"))
        services.attach_material(actor=who, case=case, slot=1, upload=pdf("id.pdf", b"b"))
        return services.submit(actor=who, case=case)

    return make
