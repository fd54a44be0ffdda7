"""Application forms and handling steps of items: definitions checked and refused with every problem at once,
frozen with their version, copied to the next draft, defaults from the content, permissions, admin, command, demo."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django.utils import translation

from yiwang.audit.models import AuditRecord
from yiwang.catalogue import handling, services
from yiwang.catalogue.constants import VersionStatus
from yiwang.catalogue.models import ItemHandling, ItemVersion
from yiwang.catalogue.tests.factories import item_content
from yiwang.common.errors import InvalidInput, InvalidTransition, PermissionDenied
from yiwang.identity import services as identity
from yiwang.identity.constants import Role

pytestmark = pytest.mark.django_db
StaffClient = Callable[[User], Client]
CO_BODY = {"name": "杭州市西湖区消防救援大队", "nature": "1"}


def good() -> dict[str, Any]:
    """A valid definition for ``item_content()`` (承诺件, promised 3 working days)."""
    return {
        "form_schema": {
            "$schema": handling.SCHEMA_DIALECT,
            "type": "object",
            "properties": {
                "name": {
                    "type": "string",
                    "title": "姓名",
                    "x-title-en": "Name",
                    "maxLength": 50,
                    "x-prefill": "person.name",
                },
                "kind": {
                    "type": "string",
                    "title": "类别",
                    "enum": ["a", "b"],
                    "x-enum-labels": {"a": "甲", "b": "乙"},
                    "x-enum-labels-en": {"a": "A", "b": "B"},
                },
                "count": {"type": "integer", "title": "人数", "minimum": 1, "maximum": 10},
                "items": {
                    "type": "array",
                    "title": "项目",
                    "items": {"type": "string", "enum": ["x", "y"]},
                    "minItems": 1,
                    "uniqueItems": True,
                },
                "pledge": {"type": "boolean", "title": "承诺", "const": True},
            },
            "required": ["name", "kind"],
        },
        "form_layout": [{"title": "基本信息", "title_en": "Basics", "fields": ["name", "kind"], "columns": 2}],
        "steps": [
            {"code": "review", "name": "审查", "name_en": "Review", "role": "reviewer", "days": 1, "parallel": False},
            {"code": "audit", "name": "审核", "role": "reviewer", "days": 1},
            {"code": "decide", "name": "决定", "name_en": "Decision", "role": "approver", "days": 1},
        ],
    }


def _prop(name: str, **changes: Any) -> Callable[[dict[str, Any]], None]:
    def change(d: dict[str, Any]) -> None:
        d["form_schema"]["properties"][name].update(changes)

    return change


def _set(path: tuple[Any, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def change(d: dict[str, Any]) -> None:
        target = d
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value

    return change


def _drop(name: str) -> Callable[[dict[str, Any]], None]:
    return lambda d: d["form_schema"]["properties"][name].pop("title")


# (what is wrong, how to make it so, the path of the problem reported)
BAD_DEFINITIONS: list[tuple[str, Callable[[dict[str, Any]], None], str]] = [
    ("form not an object", _set(("form_schema",), "x"), "form_schema"),
    ("top type not object", _set(("form_schema", "type"), "array"), "form_schema.type"),
    ("unsupported top keyword", _set(("form_schema", "allOf"), []), "form_schema.allOf"),
    (
        "another dialect",
        _set(("form_schema", "$schema"), "http://json-schema.org/draft-07/schema#"),
        "form_schema.$schema",
    ),
    (
        "additional properties allowed",
        _set(("form_schema", "additionalProperties"), True),
        "form_schema.additionalProperties",
    ),
    ("no fields", _set(("form_schema", "properties"), {}), "form_schema.properties"),
    (
        "field name with capitals",
        lambda d: d["form_schema"]["properties"].update(Bad={"type": "boolean", "title": "x"}),
        "form_schema.properties.Bad",
    ),
    ("field without title", _drop("count"), "form_schema.properties.count.title"),
    ("unsupported type", _prop("count", type="object"), "form_schema.properties.count.type"),
    ("keyword of another type", _prop("name", minimum=1), "form_schema.properties.name.minimum"),
    ("negative maxLength", _prop("name", maxLength=-1), "form_schema.properties.name.maxLength"),
    ("maxLength as text", _prop("name", maxLength="50"), "form_schema.properties.name.maxLength"),
    ("maxLength beyond the limit", _prop("name", maxLength=999999), "form_schema.properties.name.maxLength"),
    ("minLength above maxLength", _prop("name", minLength=60), "form_schema.properties.name.minLength"),
    ("broken pattern", _prop("name", pattern="(unclosed"), "form_schema.properties.name.pattern"),
    ("unsupported format", _prop("name", format="uri"), "form_schema.properties.name.format"),
    ("repeated choices", _prop("kind", enum=["a", "a"]), "form_schema.properties.kind.enum"),
    ("empty choice", _prop("kind", enum=["a", " "]), "form_schema.properties.kind.enum"),
    (
        "label of no choice",
        _prop("kind", **{"x-enum-labels": {"c": "丙"}}),
        "form_schema.properties.kind.x-enum-labels.c",
    ),
    (
        "labels without choices",
        _prop("name", **{"x-enum-labels": {"a": "甲"}}),
        "form_schema.properties.name.x-enum-labels",
    ),
    ("unknown widget", _prop("name", **{"x-widget": "slider"}), "form_schema.properties.name.x-widget"),
    ("minimum as text", _prop("count", minimum="1"), "form_schema.properties.count.minimum"),
    ("minimum above maximum", _prop("count", minimum=20), "form_schema.properties.count.minimum"),
    ("boolean const false", _prop("pledge", const=False), "form_schema.properties.pledge.const"),
    ("array without choices", _prop("items", items={"type": "string"}), "form_schema.properties.items.items"),
    ("array of numbers", _prop("items", items={"type": "integer", "enum": [1]}), "form_schema.properties.items.items"),
    ("array not unique", _prop("items", uniqueItems=False), "form_schema.properties.items.uniqueItems"),
    ("minItems above maxItems", _prop("items", minItems=3, maxItems=1), "form_schema.properties.items.minItems"),
    (
        "fact the registers lack",
        _prop("name", **{"x-prefill": "person.phone"}),
        "form_schema.properties.name.x-prefill",
    ),
    ("fact on a number", _prop("count", **{"x-prefill": "person.name"}), "form_schema.properties.count.x-prefill"),
    ("required names no field", _set(("form_schema", "required"), ["name", "nobody"]), "form_schema.required[1]"),
    ("required twice", _set(("form_schema", "required"), ["name", "name"]), "form_schema.required[1]"),
    ("layout not a list", _set(("form_layout",), {"fields": ["name"]}), "form_layout"),
    ("section without title", _set(("form_layout", 0, "title"), ""), "form_layout[0].title"),
    ("section with no fields", _set(("form_layout", 0, "fields"), []), "form_layout[0].fields"),
    (
        "section names an unknown field",
        _set(("form_layout", 0, "fields"), ["name", "ghost"]),
        "form_layout[0].fields[1]",
    ),
    (
        "field in two sections",
        lambda d: d["form_layout"].append({"title": "再", "fields": ["name"]}),
        "form_layout[1].fields[0]",
    ),
    ("three columns", _set(("form_layout", 0, "columns"), 3), "form_layout[0].columns"),
    ("columns true", _set(("form_layout", 0, "columns"), True), "form_layout[0].columns"),
    ("unknown section key", _set(("form_layout", 0, "width"), 3), "form_layout[0].width"),
    ("steps not a list", _set(("steps",), {"code": "decide"}), "steps"),
    ("unknown step code", _set(("steps", 0, "code"), "inspect"), "steps[0].code"),
    ("step twice", _set(("steps", 1, "code"), "review"), "steps[1].code"),
    ("steps out of order", lambda d: d["steps"].insert(0, d["steps"].pop(1)), "steps"),
    ("last step not decide", lambda d: d["steps"].pop(), "steps[1]"),
    ("decision by a reviewer", _set(("steps", 2, "role"), "reviewer"), "steps[2]"),
    ("unknown role", _set(("steps", 0, "role"), "clerk"), "steps[0].role"),
    ("negative days", _set(("steps", 0, "days"), -1), "steps[0].days"),
    ("days as text", _set(("steps", 0, "days"), "1"), "steps[0].days"),
    ("days as a boolean", _set(("steps", 0, "days"), True), "steps[0].days"),
    ("step without name", _set(("steps", 0, "name"), ""), "steps[0].name"),
    ("unknown step key", _set(("steps", 0, "deadline"), 3), "steps[0].deadline"),
    ("parallel not a boolean", _set(("steps", 0, "parallel"), "yes"), "steps[0].parallel"),
    ("parallel on an item without co-implementing bodies", _set(("steps", 0, "parallel"), True), "steps[0].parallel"),
    ("no steps on a 承诺件", _set(("steps",), []), "steps"),
    ("more days than promised", _set(("steps", 0, "days"), 2), "steps"),
]


@pytest.fixture
def draft(manager: User) -> ItemVersion:
    return services.save_draft(actor=manager, content=item_content())


def test_a_good_definition_is_stored_and_audited(manager: User, draft: ItemVersion) -> None:
    stored = handling.set_handling(actor=manager, version=draft, **good())
    assert stored.version == draft and stored.updated_by == "manager"
    record = AuditRecord.objects.get(action="catalogue.handling.set")
    assert record.actor == manager and record.before is None
    assert record.after is not None and record.after["steps"][2]["code"] == "decide"
    definition = handling.handling_for(draft)
    assert definition.stored and definition.field_names == ["name", "kind", "count", "items", "pledge"]
    assert definition.total_days == 3 and not definition.immediate and not definition.joint
    assert definition.step("audit") == {
        "code": "audit",
        "name": "审核",
        "name_en": "",
        "role": "reviewer",
        "days": 1,
        "parallel": False,
    }
    # Changing it again records what it was.
    second = good()
    second["steps"][0]["days"] = 0
    handling.set_handling(actor=manager, version=draft, **second)
    latest = AuditRecord.objects.filter(action="catalogue.handling.set").latest("id")
    assert latest.before is not None and latest.after is not None
    assert latest.before["steps"][0]["days"] == 1 and latest.after["steps"][0]["days"] == 0
    assert ItemHandling.objects.count() == 1


@pytest.mark.parametrize(("case", "spoil", "path"), BAD_DEFINITIONS, ids=[b[0] for b in BAD_DEFINITIONS])
def test_each_definition_problem_is_refused_with_its_path_and_nothing_is_saved(
    manager: User, draft: ItemVersion, case: str, spoil: Callable[[dict[str, Any]], None], path: str
) -> None:
    definition = good()
    spoil(definition)
    with pytest.raises(InvalidInput) as excinfo:
        handling.set_handling(actor=manager, version=draft, **definition)
    paths = [d["path"] for d in excinfo.value.details]
    assert path in paths, (case, excinfo.value.details)
    assert all(d["message"] for d in excinfo.value.details)
    assert not ItemHandling.objects.exists()
    assert not AuditRecord.objects.filter(action="catalogue.handling.set").exists()


def test_every_problem_is_reported_at_once_in_the_active_language(manager: User, draft: ItemVersion) -> None:
    definition = good()
    definition["form_schema"]["properties"]["name"]["maxLength"] = -1
    definition["form_layout"][0]["columns"] = 3
    definition["steps"][0]["days"] = 9
    with translation.override("en"), pytest.raises(InvalidInput) as excinfo:
        handling.set_handling(actor=manager, version=draft, **definition)
    details = excinfo.value.details
    assert [d["path"] for d in details] == ["form_schema.properties.name.maxLength", "form_layout[0].columns", "steps"]
    assert "11 working days, more than the promised time limit of 3 working days" in details[2]["message"]
    assert "3 problems" in str(excinfo.value.message)
    with translation.override("zh-hans"), pytest.raises(InvalidInput) as excinfo:
        handling.set_handling(actor=manager, version=draft, **definition)
    assert len(excinfo.value.details) == 3


def test_a_joint_item_may_send_a_step_to_every_body_at_once(manager: User) -> None:
    joint = services.save_draft(actor=manager, content=item_content(co_implementing_bodies=[CO_BODY]))
    definition = good()
    definition["steps"][0]["parallel"] = True
    handling.set_handling(actor=manager, version=joint, **definition)
    assert handling.handling_for(joint).joint
    definition["steps"][-1]["parallel"] = True  # but one body decides
    with pytest.raises(InvalidInput) as refused:
        handling.set_handling(actor=manager, version=joint, **definition)
    assert refused.value.details[0]["path"] == "steps[2].parallel"


def test_an_on_the_spot_item_may_have_no_steps_or_steps_of_no_days(manager: User) -> None:
    immediate = services.save_draft(
        actor=manager, content=item_content(case_type="1", time_limits={"promised": {"unit": "immediate"}})
    )
    definition = good()
    handling.set_handling(actor=manager, version=immediate, **{**definition, "steps": []})
    assert handling.handling_for(immediate).immediate
    zero = [{**step, "days": 0} for step in definition["steps"]]
    handling.set_handling(actor=manager, version=immediate, **{**definition, "steps": zero})
    with pytest.raises(InvalidInput) as excinfo:
        handling.set_handling(actor=manager, version=immediate, **definition)
    assert "on the spot" in excinfo.value.details[0]["message"] or "即办" in excinfo.value.details[0]["message"]


def test_natural_day_limits_are_not_compared_with_working_days(manager: User) -> None:
    limits = {"statutory": {"value": 30, "unit": "natural_day"}, "promised": {"value": 20, "unit": "natural_day"}}
    version = services.save_draft(actor=manager, content=item_content(time_limits=limits))
    definition = good()
    definition["steps"][0]["days"] = 25
    handling.set_handling(actor=manager, version=version, **definition)
    assert handling.handling_for(version).total_days == 27


def test_published_versions_are_frozen(publisher: User, manager: User, published: Callable[..., ItemVersion]) -> None:
    draft = services.save_draft(actor=manager, content=item_content())
    handling.set_handling(actor=manager, version=draft, **good())
    in_review = services.submit_for_review(actor=manager, version=draft)
    second = good()
    second["steps"][1]["days"] = 0
    handling.set_handling(actor=manager, version=in_review, **second)  # still open while in review
    version = services.publish(actor=publisher, version=in_review)
    before = ItemHandling.objects.get(version=version).steps
    for attempt in (good(), second):
        with pytest.raises(InvalidTransition):
            handling.set_handling(actor=publisher, version=version, **attempt)
    assert ItemHandling.objects.get(version=version).steps == before
    # The model refuses too, whoever saves: the form a case was filed under never changes.
    row = ItemHandling.objects.get(version=version)
    row.steps = []
    with pytest.raises(ValueError, match="immutable"):
        row.save()
    # A published version that never stored any cannot get one afterwards either.
    bare = published()
    with pytest.raises(InvalidTransition):
        handling.set_handling(actor=publisher, version=bare, **good())
    assert not ItemHandling.objects.filter(version=bare).exists()


def test_a_new_draft_keeps_the_form_and_steps_of_the_version_before(manager: User, publisher: User) -> None:
    content = item_content()
    draft = services.save_draft(actor=manager, content=content)
    handling.set_handling(actor=manager, version=draft, **good())
    services.submit_for_review(actor=manager, version=draft)
    first = services.publish(actor=publisher, version=ItemVersion.objects.get(pk=draft.pk))
    changed = copy.deepcopy(content)
    changed["hours"] = "工作日 8:30–17:30"
    second = services.save_draft(actor=manager, content=changed)
    assert second.number == 2
    copied = handling.handling_for(second)
    assert copied.stored and copied.as_json() == handling.handling_for(first).as_json()
    record = AuditRecord.objects.get(action="catalogue.handling.copy")
    assert record.object_id == str(second.pk) and record.note == "v1"
    # The copy is the draft's own: changing it leaves the published version's alone.
    edited = good()
    edited["steps"][0]["days"] = 0
    handling.set_handling(actor=manager, version=second, **edited)
    assert handling.handling_for(first).steps[0]["days"] == 1
    # Saving the draft again does not copy again.
    services.save_draft(actor=manager, content=changed)
    assert handling.handling_for(second).steps[0]["days"] == 0
    assert AuditRecord.objects.filter(action="catalogue.handling.copy").count() == 1


def test_a_new_draft_after_a_version_without_its_own_uses_the_default(
    manager: User, published: Callable[..., ItemVersion]
) -> None:
    first = published()
    second = services.save_draft(actor=manager, content={**first.content, "hours": "全天"})
    assert second.number == 2
    assert not handling.handling_for(second).stored
    assert not ItemHandling.objects.exists()


# --- defaults -------------------------------------------------------------------------------------------------


def test_the_default_of_an_on_the_spot_item_has_no_steps() -> None:
    content = item_content(case_type="1", time_limits={"promised": {"unit": "immediate"}})
    default = handling.default_for_content(content)
    assert default["steps"] == []
    assert handling.definition_problems(**default, content=content) == []


@pytest.mark.parametrize(
    ("limits", "review", "decide"),
    [
        ({"promised": {"value": 3, "unit": "working_day"}}, 2, 1),
        ({"promised": {"value": 1, "unit": "working_day"}}, 0, 1),
        ({"promised": {"value": 0, "unit": "working_day"}}, 0, 0),
        ({"promised": {"unit": "immediate"}}, 0, 0),
        ({"statutory": {"value": 10, "unit": "working_day"}, "promised": {"value": 7, "unit": "natural_day"}}, 9, 1),
        ({"statutory": {"value": 3, "unit": "month"}}, 19, 1),  # 行政许可法 art. 42: 20 working days
    ],
)
def test_the_default_of_a_promised_item_is_review_then_decision_within_the_limit(
    limits: dict[str, Any], review: int, decide: int
) -> None:
    content = item_content(case_type="2", time_limits=limits)
    default = handling.default_for_content(content)
    assert [(s["code"], s["name"], s["role"], s["days"], s["parallel"]) for s in default["steps"]] == [
        ("review", "审查", "reviewer", review, False),
        ("decide", "决定", "approver", decide, False),
    ]
    assert handling.definition_problems(**default, content=content) == []


def test_the_default_of_a_joint_item_reviews_in_parallel() -> None:
    content = item_content(co_implementing_bodies=[CO_BODY])
    default = handling.default_for_content(content)
    assert [s["parallel"] for s in default["steps"]] == [True, False]
    assert handling.definition_problems(**default, content=content) == []


def test_the_default_form_asks_for_the_applicants_contact_details_with_register_facts() -> None:
    persons = handling.default_for_content(item_content(service_objects=["1"]))["form_schema"]
    assert persons["required"] == ["applicant_name", "applicant_id_number", "phone", "address"]
    assert {n: p.get("x-prefill") for n, p in persons["properties"].items()} == {
        "applicant_name": "person.name",
        "applicant_id_number": "person.id_number",
        "phone": "account.phone",
        "address": "person.address",
    }
    organisations = handling.default_for_content(item_content(service_objects=["2", "3"]))
    schema = organisations["form_schema"]
    assert schema["properties"]["entity_uscc"]["x-prefill"] == "entity.uscc"
    assert schema["properties"]["applicant_name"]["title"] == "经办人姓名"
    assert {"entity_name", "entity_uscc", "legal_representative", "entity_address"} <= set(schema["required"])
    assert organisations["form_layout"][0]["title"] == "申请单位信息"
    both = handling.default_for_content(item_content(service_objects=["1", "2"]))["form_schema"]
    assert "entity_name" in both["properties"] and "entity_name" not in both["required"]
    assert "address" in both["required"]


def test_every_published_demo_item_can_be_applied_for() -> None:
    import yiwang.catalogue

    items = json.loads((Path(yiwang.catalogue.__file__).parent / "demo" / "items.json").read_text())["items"]
    for content in items:
        default = handling.default_for_content(content)
        assert handling.definition_problems(**default, content=content) == [], content["name"]


def test_handling_for_gives_the_default_until_one_is_stored(manager: User, draft: ItemVersion) -> None:
    default = handling.handling_for(draft)
    assert not default.stored
    assert default.as_json() == handling.default_handling(draft)
    assert [s["code"] for s in default.steps] == ["review", "decide"]
    handling.set_handling(actor=manager, version=draft, **good())
    assert handling.handling_for(draft).stored


def test_the_sections_put_unplaced_fields_last(manager: User, draft: ItemVersion) -> None:
    handling.set_handling(actor=manager, version=draft, **good())
    sections = handling.handling_for(draft).sections()
    assert [(s.title, s.fields, s.columns, s.only) for s in sections] == [
        ("基本信息", ("name", "kind"), 2, False),
        ("", ("count", "items", "pledge"), 1, False),
    ]
    no_layout = handling.HandlingDefinition(good()["form_schema"], [], [])
    assert [(s.fields, s.only) for s in no_layout.sections()] == [(("name", "kind", "count", "items", "pledge"), True)]


def test_stored_steps_that_no_longer_fit_the_content_are_reported(manager: User, draft: ItemVersion) -> None:
    handling.set_handling(actor=manager, version=draft, **good())
    assert handling.handling_problems(draft) == []
    shorter = {**draft.content, "time_limits": {"promised": {"value": 2, "unit": "working_day"}}}
    draft = services.save_draft(actor=manager, content=shorter)
    assert [p.path for p in handling.handling_problems(draft)] == ["steps"]


# --- permissions ----------------------------------------------------------------------------------------------


@pytest.fixture
def manager_b(roles: None, system: Any, department_b: Any) -> User:
    return identity.create_staff(
        actor=system,
        username="manager-b",
        name="manager-b",
        department=department_b,
        division_code="370811",
        roles=[str(Role.CATALOGUE_MANAGER)],
        password="correct horse battery staple",
    )


def test_only_catalogue_staff_of_the_items_department_set_its_form(
    draft: ItemVersion, manager_b: User, publisher: User, citizen: User, reviewer_a: User
) -> None:
    for outsider in (manager_b, citizen, AnonymousUser(), reviewer_a):
        with pytest.raises(PermissionDenied):
            handling.set_handling(actor=outsider, version=draft, **good())  # type: ignore[arg-type]
    assert not ItemHandling.objects.exists()
    handling.set_handling(actor=publisher, version=draft, **good())
    assert ItemHandling.objects.get().updated_by == "publisher"


def test_a_scoped_manager_is_judged_by_the_stored_department_not_the_callers_copy(
    draft: ItemVersion, manager_b: User, department_b: Any
) -> None:
    draft.department = department_b
    draft.region_code = "370811"
    with pytest.raises(PermissionDenied):
        handling.set_handling(actor=manager_b, version=draft, **good())
    assert not ItemHandling.objects.exists()


# --- admin ----------------------------------------------------------------------------------------------------


def _url(version: ItemVersion) -> str:
    return reverse("admin:catalogue_itemversion_handling", args=[version.pk])


def _post(definition: dict[str, Any]) -> dict[str, str]:
    return {key: json.dumps(value, ensure_ascii=False) for key, value in definition.items()}


def test_a_manager_edits_the_form_in_the_admin(staff_client: StaffClient, manager: User, draft: ItemVersion) -> None:
    client = staff_client(manager)
    page = client.get(_url(draft)).content.decode()
    assert "applicant_id_number" in page  # the default, shown for editing
    assert 'name="form_schema"' in page and "disabled" not in page
    assert 'for="field-applicant_name"' in page  # the preview renders the form
    response = client.post(_url(draft), _post(good()))
    assert response.status_code == 302
    assert ItemHandling.objects.get(version=draft).steps[1]["code"] == "audit"
    change = client.get(reverse("admin:catalogue_itemversion_change", args=[draft.pk])).content.decode()
    assert _url(draft) in change


def test_the_admin_shows_each_problem_beside_its_json_and_saves_nothing(
    staff_client: StaffClient, manager: User, draft: ItemVersion
) -> None:
    client = staff_client(manager)
    definition = good()
    definition["steps"][0]["role"] = "clerk"
    definition["form_layout"][0]["fields"] = ["ghost"]
    with translation.override("en"):
        page = client.post(_url(draft), _post(definition), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "steps[0].role" in page and "form_layout[0].fields[0]" in page
    with translation.override("en"):
        response = client.post(_url(draft), {**_post(good()), "steps": "[not json"}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    assert "Not valid JSON" in response.content.decode()
    assert not ItemHandling.objects.exists()


def test_the_admin_shows_a_published_versions_form_read_only(
    staff_client: StaffClient, publisher: User, published: Callable[..., ItemVersion]
) -> None:
    version = published()
    client = staff_client(publisher)
    page = client.get(_url(version)).content.decode()
    assert "disabled" in page and 'type="submit"' not in page.split("<form", 2)[-1].split("</form>")[0]
    client.post(_url(version), _post(good()))
    assert not ItemHandling.objects.exists()


def test_the_admin_page_is_refused_outside_the_department(
    staff_client: StaffClient, manager_b: User, draft: ItemVersion
) -> None:
    response = staff_client(manager_b).get(_url(draft))
    assert response.status_code in (403, 404)
    response = staff_client(manager_b).post(_url(draft), _post(good()))
    assert response.status_code in (403, 404)
    assert not ItemHandling.objects.exists()


# --- command --------------------------------------------------------------------------------------------------


def test_the_command_shows_and_sets_an_items_form(
    draft: ItemVersion, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = draft.implementation_code
    call_command("item_handling", "show", code)
    shown = json.loads(capsys.readouterr().out)
    assert shown["stored"] is False and shown["version"] == 1 and shown["steps"][0]["code"] == "review"
    path = tmp_path / "handling.json"
    path.write_text(json.dumps({"steps": good()["steps"]}), encoding="utf-8")  # the form stays as it is
    call_command("item_handling", "set", code, "--file", str(path))
    stored = ItemHandling.objects.get(version=draft)
    assert [s["code"] for s in stored.steps] == ["review", "audit", "decide"]
    assert "applicant_name" in stored.form_schema["properties"]
    path.write_text(json.dumps({"steps": []}), encoding="utf-8")
    with pytest.raises(CommandError, match=r"steps: "):
        call_command("item_handling", "set", code, "--file", str(path))
    path.write_text("{bad", encoding="utf-8")
    with translation.override("en"), pytest.raises(CommandError, match="not valid JSON"):
        call_command("item_handling", "set", code, "--file", str(path))
    with pytest.raises(CommandError):
        call_command("item_handling", "show", "NO-SUCH-CODE")


def test_the_command_refuses_to_set_a_published_only_item(
    published: Callable[..., ItemVersion], tmp_path: Path
) -> None:
    version = published()
    path = tmp_path / "handling.json"
    path.write_text(json.dumps(good()), encoding="utf-8")
    with translation.override("en"), pytest.raises(CommandError, match="new draft"):
        call_command("item_handling", "set", version.implementation_code, "--file", str(path))
    assert not ItemHandling.objects.exists()


# --- demo -----------------------------------------------------------------------------------------------------


def test_the_demo_catalogue_has_real_forms() -> None:
    call_command("demo", "--no-users")
    stored = {h.version.implementation_code: h for h in ItemHandling.objects.select_related("version")}
    assert set(stored) == set(handling.demo_handlings())
    assert all(h.version.status == VersionStatus.PUBLISHED and h.version.number == 1 for h in stored.values())
    food = handling.handling_for(stored["1133010600250631254000131017000"].version)
    assert food.properties["business_form"]["x-enum-labels"] == {
        "seller": "食品销售经营者",
        "catering": "餐饮服务经营者",
        "canteen": "单位食堂",
    }
    assert food.properties["business_items"]["type"] == "array"
    assert food.properties["staff_count"]["type"] == "integer"
    assert food.total_days == 3
    solo = handling.handling_for(stored["1133010600250631254000131128000"].version)
    assert solo.immediate
    hygiene = handling.handling_for(stored["11330106002507120U4000125006000"].version)
    assert [s["code"] for s in hygiene.steps] == ["review", "audit", "decide"]


def test_a_draft_whose_content_no_longer_fits_its_steps_cannot_be_submitted(manager: User, draft: ItemVersion) -> None:
    handling.set_handling(actor=manager, version=draft, **good())
    # The promised limit shrinks to 1 working day, below the 3 days the stored steps plan.
    shorter = {
        **draft.content,
        "time_limits": {**draft.content["time_limits"], "promised": {"value": 1, "unit": "working_day"}},
    }
    draft = services.save_draft(actor=manager, content=shorter, item=draft.item)
    with pytest.raises(InvalidInput):
        services.submit_for_review(actor=manager, version=draft)
    draft.refresh_from_db()
    assert draft.status == VersionStatus.DRAFT
