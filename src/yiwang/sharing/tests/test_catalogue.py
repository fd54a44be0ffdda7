"""The resource catalogue: registering, changing and retiring resources; the platform's base resources; the
material → resource lookup; the export; the demo."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command

from yiwang.audit.models import AuditRecord
from yiwang.catalogue.models import Organisation
from yiwang.common.errors import InvalidInput, InvalidTransition, PermissionDenied
from yiwang.sharing import selectors, services
from yiwang.sharing.constants import Backend, GrantStatus
from yiwang.sharing.models import Resource
from yiwang.sharing.tests import catalogue_world
from yiwang.sharing.tests.catalogue_world import FIELDS, resource_data

pytestmark = pytest.mark.django_db

# The shared fixtures (a resource of department A, B's request for it, the population register).
resource_a = catalogue_world.resource_a
request_b = catalogue_world.request_b
population = catalogue_world.population


def test_the_platform_registers_and_licence_library_are_resources_from_the_start() -> None:
    base = {r.code: r for r in Resource.objects.filter(provider__isnull=True)}
    assert set(base) >= {"population", "legal_entity", "licences_person", "licences_entity"}
    assert base["population"].backend == Backend.POPULATION
    assert base["population"].name == "人口库:居民身份信息"
    assert [f.code for f in base["population"].fields.all()] == ["name", "sex", "birth_date", "division", "address"]
    assert base["legal_entity"].subject_kind == "entity"
    assert "国发〔2016〕51号" in base["legal_entity"].legal_basis
    assert [f.data_type for f in base["licences_person"].fields.all()] == ["list"]


def test_a_department_registers_a_resource_with_its_fields_and_an_audit_record(
    manager: User, department_a: Organisation
) -> None:
    resource = services.register_resource(actor=manager, provider=department_a, **resource_data())
    assert resource.provider == department_a
    assert resource.backend == Backend.EXTERNAL
    assert [(f.code, f.sensitivity) for f in resource.fields.all()] == [
        ("owner", "sensitive"),
        ("location", "internal"),
        ("area", "public"),
    ]
    assert AuditRecord.objects.filter(action="sharing.resource_registered", object_id=str(resource.pk)).exists()


@pytest.mark.parametrize(
    ("overrides", "field", "code"),
    [
        ({"code": "Bad Code"}, "code", "invalid"),
        ({"code": "population"}, "code", "taken"),
        ({"name": "人口库:居民身份信息"}, "name", "taken"),
        ({"name": ""}, "name", "required"),
        ({"name": "长" * 201}, "name", "too_long"),
        ({"sharing_type": "sometimes"}, "sharing_type", "invalid"),
        ({"sharing_conditions": ""}, "sharing_conditions", "required"),
        ({"sharing_type": "not_shared", "sharing_conditions": " "}, "sharing_conditions", "required"),
        ({"legal_basis": ""}, "legal_basis", "required"),
        ({"update_cycle": "hourly"}, "update_cycle", "invalid"),
        ({"subject_kind": "robot"}, "subject_kind", "invalid"),
        ({"backend": Backend.POPULATION}, "backend", "invalid"),
        ({"fields": []}, "fields", "required"),
        ({"fields": [{**FIELDS[0], "code": "1abc"}]}, "fields.0.code", "invalid"),
        ({"fields": [{**FIELDS[0], "code": "Owner"}]}, "fields.0.code", "invalid"),
        ({"fields": [FIELDS[0], FIELDS[0]]}, "fields.1.code", "duplicate"),
        ({"fields": [{**FIELDS[0], "sensitivity": "secret"}]}, "fields.0.sensitivity", "invalid"),
        ({"fields": [{**FIELDS[0], "data_type": "blob"}]}, "fields.0.data_type", "invalid"),
        ({"fields": [{**FIELDS[0], "name": "名" * 101}]}, "fields.0.name", "too_long"),
    ],
)
def test_bad_resource_input_is_refused_and_nothing_is_stored(
    manager: User, department_a: Organisation, overrides: dict[str, Any], field: str, code: str
) -> None:
    before = Resource.objects.count()
    with pytest.raises(InvalidInput) as caught:
        services.register_resource(actor=manager, provider=department_a, **resource_data(**overrides))
    assert caught.value.details[0]["field"] == field
    assert caught.value.details[0]["code"] == code
    assert Resource.objects.count() == before


def test_an_unconditional_resource_needs_no_conditions(manager: User, department_a: Organisation) -> None:
    resource = services.register_resource(
        actor=manager, provider=department_a, **resource_data(sharing_type="unconditional", sharing_conditions="")
    )
    assert resource.sharing_type == "unconditional"


def test_only_the_providers_staff_register_its_resources_and_only_administrators_the_platforms(
    reviewer_b: User, clerk: User, citizen: User, manager: User, admin: User, department_a: Organisation
) -> None:
    for actor in (reviewer_b, clerk, citizen):
        with pytest.raises(PermissionDenied):
            services.register_resource(actor=actor, provider=department_a, **resource_data())
    with pytest.raises(PermissionDenied):
        services.register_resource(actor=manager, provider=None, **resource_data(backend=Backend.POPULATION))
    platform = services.register_resource(
        actor=admin, provider=None, **resource_data(code="population_extra", backend=Backend.POPULATION)
    )
    assert platform.provider is None


def test_updating_changes_fields_but_keeps_those_a_grant_holds(
    manager: User, request_b: Any, resource_a: Resource
) -> None:
    renamed = [{**FIELDS[0], "name": "权利人姓名"}, FIELDS[1], {"code": "use", "name": "用途", "sensitivity": "public"}]
    data = {k: v for k, v in resource_data(fields=renamed).items() if k != "code"}
    updated = services.update_resource(actor=manager, resource=resource_a, **data)
    assert [f.code for f in updated.fields.all()] == ["owner", "location", "use"]
    assert updated.fields.get(code="owner").name == "权利人姓名"
    with pytest.raises(InvalidInput) as caught:
        services.update_resource(actor=manager, resource=resource_a, **{**data, "fields": [FIELDS[2]]})
    assert caught.value.details[0]["code"] == "in_use"
    with pytest.raises(InvalidInput) as caught:
        services.update_resource(actor=manager, resource=resource_a, **{**data, "sharing_type": "not_shared"})
    assert caught.value.details[0]["field"] == "sharing_type"


def test_another_department_cannot_update_or_retire_a_resource(reviewer_b: User, resource_a: Resource) -> None:
    data = {k: v for k, v in resource_data().items() if k != "code"}
    with pytest.raises(PermissionDenied):
        services.update_resource(actor=reviewer_b, resource=resource_a, **data)
    with pytest.raises(PermissionDenied):
        services.retire_resource(actor=reviewer_b, resource=resource_a, reason="不再提供")


def test_retiring_a_resource_ends_its_grants_with_the_reason(
    manager: User, reviewer_a: User, request_b: Any, resource_a: Resource
) -> None:
    with pytest.raises(InvalidInput):
        services.retire_resource(actor=manager, resource=resource_a, reason="  ")
    services.approve_grant(actor=reviewer_a, grant=request_b)
    services.retire_resource(actor=manager, resource=resource_a, reason="系统下线")
    request_b.refresh_from_db()
    assert request_b.status == GrantStatus.REVOKED
    assert request_b.revoke_reason == "系统下线"
    resource_a.refresh_from_db()
    assert not resource_a.is_active
    with pytest.raises(InvalidTransition):
        services.retire_resource(actor=manager, resource=resource_a, reason="again")


def test_a_material_finds_its_resource_by_name_then_by_prefix(resource_a: Resource) -> None:
    assert selectors.resource_for_material("人口库:居民身份信息").code == "population"  # type: ignore[union-attr]
    assert selectors.resource_for_material("人口库").code == "population"  # type: ignore[union-attr]
    assert selectors.resource_for_material("法人库").code == "legal_entity"  # type: ignore[union-attr]
    assert selectors.resource_for_material("不动产登记信息库") == resource_a
    assert selectors.resource_for_material("学信网:学历信息") is None
    assert selectors.resource_for_material("") is None


def test_the_export_lists_every_active_resource_in_a_stable_order(resource_a: Resource) -> None:
    exported = selectors.export_catalogue()
    codes = [r["code"] for r in exported["resources"]]
    assert codes == sorted(codes)
    mine = next(r for r in exported["resources"] if r["code"] == "property_rights")
    assert mine["provider"]["uscc"] == resource_a.provider.uscc  # type: ignore[union-attr]
    assert mine["sharing_type"] == "conditional"
    assert mine["fields"][0] == {
        "code": "owner",
        "name": "权利人",
        "name_en": "Owner",
        "data_type": "string",
        "sensitivity": "sensitive",
    }
    assert exported == selectors.export_catalogue()


def test_the_export_command_writes_json_and_csv(resource_a: Resource, tmp_path: Any) -> None:
    out = io.StringIO()
    call_command("sharing", "export", stdout=out)
    data = json.loads(out.getvalue())
    assert "property_rights" in [r["code"] for r in data["resources"]]
    target = tmp_path / "catalogue.csv"
    call_command("sharing", "export", "--format", "csv", "--out", str(target), stderr=io.StringIO())
    rows = list(csv.DictReader(target.open(encoding="utf-8")))
    assert {"resource_code": "property_rights", "field_code": "area"}.items() <= next(
        r for r in rows if r["field_code"] == "area"
    ).items()


def test_a_spreadsheet_formula_in_the_catalogue_is_exported_as_text(manager: User, department_a: Organisation) -> None:
    services.register_resource(actor=manager, provider=department_a, **resource_data(legal_basis="=HYPERLINK(1)"))
    rows = list(csv.DictReader(io.StringIO(selectors.export_catalogue_csv())))
    assert {r["legal_basis"] for r in rows if r["resource_code"] == "property_rights"} == {"'=HYPERLINK(1)"}


def test_the_demo_registers_department_resources_and_grants_once(publisher: User) -> None:
    from yiwang.audit.actors import SystemActor
    from yiwang.catalogue import services as catalogue_services
    from yiwang.sharing.demo import load_demo

    system = SystemActor("demo")
    from importlib import resources as files

    demo_items = json.loads(files.files("yiwang.catalogue").joinpath("demo", "items.json").read_text(encoding="utf-8"))[
        "items"
    ]
    report = catalogue_services.import_items(actor=system, items=demo_items[:6], publish_clean=True)
    assert report.published
    resources, grants = load_demo()
    assert resources > 0
    assert grants > 0
    assert load_demo() == (0, 0)
    grant = Resource.objects.get(code="population").grants.first()
    assert grant is not None
    assert grant.status == GrantStatus.APPROVED
    assert grant.rate_per_minute == 600
    assert grant.items and all(p.startswith("办理") for p in grant.purposes)
