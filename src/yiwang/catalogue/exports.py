"""Catalogue exports beyond the exchange format: CPSV-AP 3.2 (Turtle, JSON-LD)."""

from __future__ import annotations

from typing import Literal

from django.conf import settings

from yiwang.catalogue import selectors
from yiwang.catalogue.cpsv import ExportItem, serialise


def cpsv_text(fmt: Literal["turtle", "json-ld"]) -> str:
    items = [
        ExportItem(
            content=v.content,
            version=v.number,
            published_at=v.published_at,
            department_name_en=v.department.name_en,
            region_name=v.region.full_name if v.region else "",
        )
        for v in selectors.current_versions().order_by("implementation_code", "id")
    ]
    return serialise(items, base_uri=settings.YIWANG_PUBLIC_BASE_URL.rstrip("/"), fmt=fmt)
