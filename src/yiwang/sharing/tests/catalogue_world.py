"""Fixtures of the catalogue and grant tests: a resource of department A, and the platform's registers."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.contrib.auth.models import User

from yiwang.catalogue.models import Organisation
from yiwang.sharing import services
from yiwang.sharing.models import Grant, Resource

FIELDS = [
    {"code": "owner", "name": "权利人", "name_en": "Owner", "data_type": "string", "sensitivity": "sensitive"},
    {"code": "location", "name": "坐落", "name_en": "Location", "data_type": "string", "sensitivity": "internal"},
    {"code": "area", "name": "面积", "name_en": "Area", "data_type": "string", "sensitivity": "public"},
]


def resource_data(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "code": "property_rights",
        "name": "不动产登记信息库:测试权属信息",
        "name_en": "Property rights (test)",
        "subject_kind": "person",
        "sharing_type": "conditional",
        "sharing_conditions": "仅限办件使用",
        "update_cycle": "daily",
        "legal_basis": "《不动产登记暂行条例》",
        "fields": FIELDS,
    }
    data.update(overrides)
    return data


def in_days(days: int) -> dt.date:
    return services.today() + dt.timedelta(days=days)


@pytest.fixture
def resource_a(manager: User, department_a: Organisation) -> Resource:
    """A conditional resource provided by department A."""
    return services.register_resource(actor=manager, provider=department_a, **resource_data())


@pytest.fixture
def population(db: Any) -> Resource:
    return Resource.objects.get(code="population")


@pytest.fixture
def request_b(reviewer_b: User, department_b: Organisation, resource_a: Resource) -> Grant:
    """Department B asks for department A's resource."""
    return services.request_grant(
        actor=reviewer_b,
        resource=resource_a,
        consumer=department_b,
        fields=["owner", "location"],
        purposes=["办理不动产登记", "办理公积金提取"],
        until=in_days(200),
        rate_per_minute=120,
        justification="业务需要",
    )
