"""Helpers of the once-only tests: an item of department A whose identity material names the population register,
a grant of that register to department A, and drafts of it (the clock is fixed, as in the cases tests)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth.models import User

from yiwang.cases import services as cases
from yiwang.cases.models import Case
from yiwang.catalogue.handling import handling_for
from yiwang.catalogue.models import ItemVersion, Organisation
from yiwang.catalogue.tests.factories import BASE
from yiwang.sharing import services as sharing
from yiwang.sharing.models import Grant, Resource

SHANGHAI = ZoneInfo("Asia/Shanghai")
# A working Friday inside the working-day library (as the cases tests).
NOW = dt.datetime(2025, 9, 26, 10, 0, tzinfo=SHANGHAI)

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
ID_SLOT = 1  # BASE's "经营者身份证明", shared_resource 人口库:居民身份信息
FORM_SLOT = 0  # the application form: not held in shared data
PURPOSE = "办理个体工商户登记"
PROPERTY = "不动产登记信息库:测试权属信息"
PERSON_FIELDS = ["name", "sex", "birth_date", "division", "address"]


def with_material(name: str, shared_resource: str) -> dict[str, Any]:
    """BASE's materials plus one more, naming ``shared_resource``."""
    materials = [dict(m) for m in BASE["materials"]]
    materials.append(
        {
            "name": name,
            "required": True,
            "originals": 1,
            "copies": 0,
            "source": "government",
            "shared_resource": shared_resource,
        }
    )
    return {"materials": materials}


def department_resource(manager: User, department: Organisation, *, sharing_type: str = "conditional") -> Resource:
    """A resource of ``department`` held in its own system (the exchange cannot answer for it)."""
    return sharing.register_resource(
        actor=manager,
        provider=department,
        code="property_rights",
        name=PROPERTY,
        subject_kind="person",
        sharing_type=sharing_type,
        sharing_conditions="仅限办件使用",
        update_cycle="daily",
        legal_basis="《不动产登记暂行条例》",
        fields=[{"code": "owner", "name": "权利人", "data_type": "string", "sensitivity": "sensitive"}],
    )


def grant(
    manager: User,
    admin: User,
    consumer: Organisation,
    *,
    code: str = "population",
    fields: list[str] | None = None,
    purposes: list[str] | None = None,
    items: list[str] | None = None,
) -> Grant:
    resource = Resource.objects.get(code=code)
    asked = sharing.request_grant(
        actor=manager,
        resource=resource,
        consumer=consumer,
        fields=fields if fields is not None else list(resource.fields.values_list("code", flat=True)),
        purposes=purposes or [PURPOSE],
        items=items or [],
        until=sharing.today() + dt.timedelta(days=200),
        rate_per_minute=120,
    )
    return sharing.approve_grant(actor=admin, grant=asked)


def draft(actor: User, version: ItemVersion, **kwargs: Any) -> Case:
    """A draft with the form complete (what the registers do not know typed in)."""
    case = cases.start_application(actor=actor, version=version, **kwargs)
    properties = set(handling_for(version).form_schema.get("properties", {}))
    missing = {"address": "浙江省杭州市西湖区文三路1号", "entity_address": "浙江省杭州市西湖区文三路1号"}
    data = {**{k: v for k, v in missing.items() if k in properties}, **case.data}
    return cases.save_draft(actor=actor, case=case, data=data)


def upload_form(actor: User, case: Case) -> None:
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("application.pdf", PDF + b"a", content_type="application/pdf")
    cases.attach_material(actor=actor, case=case, slot=FORM_SLOT, upload=upload)


Publish = Callable[..., ItemVersion]
