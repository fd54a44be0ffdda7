"""The workbench pages where a department registers, edits and retires its resources, and who reaches them.

Bad input answers 400 (409 for a retired resource), as the other sharing pages do, with the errors beside the
fields and nothing saved.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from yiwang.audit.models import AuditRecord
from yiwang.catalogue.models import Organisation
from yiwang.sharing import services
from yiwang.sharing.constants import Backend, GrantStatus
from yiwang.sharing.models import Grant, Resource
from yiwang.sharing.tests import catalogue_world
from yiwang.sharing.tests.catalogue_world import FIELDS, in_days

pytestmark = pytest.mark.django_db

resource_a = catalogue_world.resource_a
request_b = catalogue_world.request_b
population = catalogue_world.population

StaffClient = Callable[[User], Client]
REGISTER = "workbench:sharing_register"


def form_data(rows: list[dict[str, str]] | None = None, /, **overrides: str) -> dict[str, str]:
    """What the browser posts: the description and the fields table (as a Django formset)."""
    data = {
        "code": "housing_fund",
        "name": "公积金缴存信息",
        "name_en": "Housing fund contributions",
        "description": "职工公积金缴存记录",
        "provider_system": "公积金管理系统",
        "subject_kind": "person",
        "sharing_type": "conditional",
        "sharing_conditions": "仅限办件使用",
        "update_cycle": "monthly",
        "legal_basis": "《住房公积金管理条例》",
    }
    data.update(overrides)
    rows = FIELDS if rows is None else rows
    data.update({"fields-TOTAL_FORMS": str(len(rows)), "fields-INITIAL_FORMS": "0"})
    for index, row in enumerate(rows):
        for name in ("code", "name", "name_en", "data_type", "sensitivity"):
            data[f"fields-{index}-{name}"] = row.get(name, "")
    return data


def _pages(resource: Resource) -> list[str]:
    return [
        reverse(REGISTER),
        reverse("workbench:sharing_edit", args=[resource.pk]),
        reverse("workbench:sharing_retire", args=[resource.pk]),
    ]


def _unchanged(resource: Resource) -> None:
    resource.refresh_from_db()
    assert resource.is_active
    assert resource.name == catalogue_world.resource_data()["name"]
    assert [f.code for f in resource.fields.all()] == [f["code"] for f in FIELDS]


def _errors(response: Any) -> dict[str, Any]:
    """The errors the page shows: the form's, each row's (by index), and the fields table's."""
    context = response.context
    return {
        "form": dict(context["form"].errors),
        "rows": {i: dict(row.errors) for i, row in enumerate(context["formset"].forms) if row.errors},
        "table": list(context["table_errors"]),
    }


# ---------------------------------------------------------------------------------------------------------
# Who reaches the pages
# ---------------------------------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_sign_in(resource_a: Resource) -> None:
    client = Client()
    for url in _pages(resource_a):
        for method in ("get", "post"):
            response = getattr(client, method)(url)
            assert response.status_code == 302, url
            assert "login" in response["Location"] or "sign" in response["Location"], url
    _unchanged(resource_a)


def test_citizens_get_the_forbidden_page(citizen: User, resource_a: Resource) -> None:
    client = Client()
    client.force_login(citizen)
    for url in _pages(resource_a):
        assert client.get(url).status_code == 403, url
        assert client.post(url, form_data(reason="x")).status_code == 403, url
    _unchanged(resource_a)


def test_staff_without_sharing_provide_get_the_forbidden_page(
    clerk: User, staff_client: StaffClient, resource_a: Resource
) -> None:
    client = staff_client(clerk)
    for url in _pages(resource_a):
        assert client.get(url).status_code == 403, url
        assert client.post(url, form_data(code="by_clerk", reason="x")).status_code == 403, url
    _unchanged(resource_a)
    assert not Resource.objects.filter(code="by_clerk").exists()


def test_another_departments_member_may_not_edit_or_retire(
    reviewer_b: User, staff_client: StaffClient, resource_a: Resource
) -> None:
    client = staff_client(reviewer_b)
    # The resource is in everyone's catalogue, so it is not hidden: the action is refused (as asking is).
    for name in ("workbench:sharing_edit", "workbench:sharing_retire"):
        url = reverse(name, args=[resource_a.pk])
        assert client.get(url).status_code == 403, url
        assert client.post(url, form_data(name="被改了", reason="x")).status_code == 403, url
    _unchanged(resource_a)


def test_an_unknown_resource_is_not_found(manager: User, staff_client: StaffClient) -> None:
    client = staff_client(manager)
    assert client.get(reverse("workbench:sharing_edit", args=[999999])).status_code == 404
    assert client.get(reverse("workbench:sharing_retire", args=[999999])).status_code == 404


def test_links_are_shown_only_to_those_who_may_use_them(
    manager: User, clerk: User, reviewer_b: User, staff_client: StaffClient, resource_a: Resource
) -> None:
    register = reverse(REGISTER)
    edit = reverse("workbench:sharing_edit", args=[resource_a.pk])
    retire = reverse("workbench:sharing_retire", args=[resource_a.pk])
    resource_page = reverse("workbench:sharing_resource", args=[resource_a.pk])

    def links(user: User) -> tuple[bool, bool, bool]:
        client = staff_client(user)
        catalogue = client.get(reverse("workbench:sharing")).content.decode()
        page = client.get(resource_page).content.decode()
        return register in catalogue, edit in page, retire in page

    assert links(manager) == (True, True, True)
    assert links(clerk) == (False, False, False)
    assert links(reviewer_b) == (True, False, False)  # registers for department B, not A's resource


# ---------------------------------------------------------------------------------------------------------
# Registering
# ---------------------------------------------------------------------------------------------------------


def test_a_manager_registers_a_resource_for_their_department(
    manager: User, staff_client: StaffClient, department_a: Organisation
) -> None:
    client = staff_client(manager)
    page = client.get(reverse(REGISTER))
    assert page.status_code == 200
    assert "provider" not in page.context["form"].fields  # always their own department
    assert len(page.context["formset"].forms) == 3  # empty rows to fill in
    rows = [{}, *FIELDS, {}]  # blank rows are ignored, wherever they are
    response = client.post(reverse(REGISTER), form_data(rows))
    created = Resource.objects.get(code="housing_fund")
    assert response.status_code == 302
    assert response["Location"] == reverse("workbench:sharing_resource", args=[created.pk])
    assert created.provider == department_a
    assert created.backend == Backend.EXTERNAL
    assert created.update_cycle == "monthly"
    assert [(f.code, f.sensitivity) for f in created.fields.all()] == [(f["code"], f["sensitivity"]) for f in FIELDS]
    assert AuditRecord.objects.filter(action="sharing.resource_registered", object_id=str(created.pk)).exists()


def test_administrators_register_for_the_department_they_choose(
    admin: User, staff_client: StaffClient, department_b: Organisation
) -> None:
    client = staff_client(admin)
    assert "provider" in client.get(reverse(REGISTER)).context["form"].fields
    missing = client.post(reverse(REGISTER), form_data())
    assert missing.status_code == 400
    assert "provider" in _errors(missing)["form"]
    assert not Resource.objects.filter(code="housing_fund").exists()
    response = client.post(reverse(REGISTER), form_data(provider=str(department_b.pk)))
    assert response.status_code == 302
    assert Resource.objects.get(code="housing_fund").provider == department_b


def test_a_taken_code_is_shown_beside_the_code(manager: User, staff_client: StaffClient, resource_a: Resource) -> None:
    before = Resource.objects.count()
    response = staff_client(manager).post(reverse(REGISTER), form_data(code=resource_a.code))
    assert response.status_code == 400
    assert list(_errors(response)["form"]) == ["code"]
    assert Resource.objects.count() == before
    _unchanged(resource_a)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"code": ""}, "code"),
        ({"code": "Bad Code"}, "code"),
        ({"name": " "}, "name"),
        ({"legal_basis": ""}, "legal_basis"),
        ({"subject_kind": ""}, "subject_kind"),
        ({"update_cycle": ""}, "update_cycle"),
        # 国发〔2016〕51号 art. 9: a conditional resource states its conditions.
        ({"sharing_conditions": ""}, "sharing_conditions"),
        ({"sharing_type": "not_shared", "sharing_conditions": ""}, "sharing_conditions"),
    ],
)
def test_bad_descriptions_are_shown_beside_their_field_and_nothing_is_saved(
    manager: User, staff_client: StaffClient, overrides: dict[str, str], field: str
) -> None:
    response = staff_client(manager).post(reverse(REGISTER), form_data(**overrides))
    assert response.status_code == 400
    assert list(_errors(response)["form"]) == [field]
    assert response.context["failed"]
    assert not Resource.objects.filter(code="housing_fund").exists()
    assert not AuditRecord.objects.filter(action="sharing.resource_registered").exists()


def test_an_unknown_choice_is_refused_before_the_service(manager: User, staff_client: StaffClient) -> None:
    response = staff_client(manager).post(reverse(REGISTER), form_data(sharing_type="everyone"))
    assert response.status_code == 400
    assert "sharing_type" in _errors(response)["form"]
    assert not Resource.objects.filter(code="housing_fund").exists()


def test_an_unconditional_resource_needs_no_conditions(manager: User, staff_client: StaffClient) -> None:
    data = form_data(sharing_type="unconditional", sharing_conditions="")
    assert staff_client(manager).post(reverse(REGISTER), data).status_code == 302
    assert Resource.objects.get(code="housing_fund").sharing_conditions == ""


@pytest.mark.parametrize(
    ("rows", "row", "field"),
    [
        # The error lands on the row as displayed: blank rows before it are counted.
        ([{}, {**FIELDS[0], "code": "1owner"}], 1, "code"),
        ([FIELDS[0], {}, {**FIELDS[1], "code": "owner"}], 2, "code"),  # listed twice
        ([FIELDS[0], {**FIELDS[1], "name": ""}], 1, "name"),
        ([{**FIELDS[0], "sensitivity": ""}], 0, "sensitivity"),
    ],
)
def test_a_bad_field_row_is_shown_on_its_row(
    manager: User, staff_client: StaffClient, rows: list[dict[str, str]], row: int, field: str
) -> None:
    response = staff_client(manager).post(reverse(REGISTER), form_data(rows))
    assert response.status_code == 400
    errors = _errors(response)
    assert errors["form"] == {}
    assert list(errors["rows"]) == [row]
    assert list(errors["rows"][row]) == [field]
    assert not Resource.objects.filter(code="housing_fund").exists()


def test_a_resource_without_fields_is_refused(manager: User, staff_client: StaffClient) -> None:
    response = staff_client(manager).post(reverse(REGISTER), form_data([{}, {}]))
    assert response.status_code == 400
    errors = _errors(response)
    assert len(errors["table"]) == 1
    assert errors["rows"] == {}
    assert not Resource.objects.filter(code="housing_fund").exists()


def test_adding_a_row_keeps_what_was_typed_and_saves_nothing(manager: User, staff_client: StaffClient) -> None:
    data = {**form_data(FIELDS[:1]), "add_row": "1"}
    response = staff_client(manager).post(reverse(REGISTER), data)
    assert response.status_code == 200
    formset = response.context["formset"]
    assert len(formset.forms) == 2
    assert formset.forms[0]["code"].value() == FIELDS[0]["code"]
    assert response.context["form"]["name"].value() == "公积金缴存信息"
    assert 'name="fields-1-code"' in response.content.decode()
    assert not response.context["failed"]
    assert not Resource.objects.filter(code="housing_fund").exists()


# ---------------------------------------------------------------------------------------------------------
# Editing
# ---------------------------------------------------------------------------------------------------------


def _edit_data(rows: list[dict[str, str]] | None = None, /, **overrides: str) -> dict[str, str]:
    """The edit form as posted: resource_a's description (no code: it cannot change), then ``overrides``."""
    described = {k: v for k, v in catalogue_world.resource_data().items() if k not in ("code", "fields")}
    data = form_data(rows, **{**described, **overrides})
    del data["code"]
    return data


def test_the_edit_form_is_prefilled_and_keeps_the_code(
    manager: User, staff_client: StaffClient, resource_a: Resource
) -> None:
    page = staff_client(manager).get(reverse("workbench:sharing_edit", args=[resource_a.pk]))
    assert page.status_code == 200
    form = page.context["form"]
    assert "code" not in form.fields
    assert "provider" not in form.fields
    assert form["name"].value() == resource_a.name
    assert form["sharing_type"].value() == "conditional"
    rows = page.context["formset"].forms
    assert [r["code"].value() for r in rows[: len(FIELDS)]] == [f["code"] for f in FIELDS]
    assert len(rows) == len(FIELDS) + 3


def test_an_approver_of_the_department_edits_its_resource(
    reviewer_a: User, staff_client: StaffClient, resource_a: Resource
) -> None:
    rows = [FIELDS[2], {**FIELDS[0], "name": "权利人姓名"}, {}]  # reordered, renamed, "location" removed
    response = staff_client(reviewer_a).post(
        reverse("workbench:sharing_edit", args=[resource_a.pk]), _edit_data(rows, name="新名称")
    )
    assert response.status_code == 302
    resource_a.refresh_from_db()
    assert resource_a.name == "新名称"
    assert resource_a.code == "property_rights"
    assert [(f.code, f.name) for f in resource_a.fields.all()] == [("area", "面积"), ("owner", "权利人姓名")]
    assert AuditRecord.objects.filter(action="sharing.resource_updated", object_id=str(resource_a.pk)).exists()


def test_a_granted_field_cannot_be_removed(
    manager: User, staff_client: StaffClient, resource_a: Resource, request_b: Grant
) -> None:
    rows = [FIELDS[2]]  # department B asked for owner and location
    response = staff_client(manager).post(
        reverse("workbench:sharing_edit", args=[resource_a.pk]), _edit_data(rows, name="新名称")
    )
    assert response.status_code == 400
    assert len(_errors(response)["table"]) == 1
    _unchanged(resource_a)


def test_administrators_edit_a_platform_resource_and_its_backend_stays(
    admin: User, staff_client: StaffClient, population: Resource
) -> None:
    names = ("code", "name", "name_en", "data_type", "sensitivity")
    rows = [{name: getattr(f, name) for name in names} for f in population.fields.all()]
    data = form_data(
        rows,
        name=population.name,
        name_en=population.name_en,
        subject_kind=population.subject_kind,
        sharing_type=population.sharing_type,
        sharing_conditions=population.sharing_conditions or "x",
        update_cycle=population.update_cycle,
        legal_basis=population.legal_basis or "x",
        description="人口库(已修订)",
    )
    del data["code"]
    response = staff_client(admin).post(reverse("workbench:sharing_edit", args=[population.pk]), data)
    assert response.status_code == 302
    population.refresh_from_db()
    assert population.description == "人口库(已修订)"
    assert population.backend == Backend.POPULATION
    assert population.provider is None


# ---------------------------------------------------------------------------------------------------------
# Retiring
# ---------------------------------------------------------------------------------------------------------


@pytest.fixture
def approved_b(manager: User, request_b: Grant) -> Grant:
    return services.approve_grant(actor=manager, grant=request_b, until=in_days(100))


def test_the_retire_page_says_which_grants_end(
    manager: User, staff_client: StaffClient, resource_a: Resource, approved_b: Grant
) -> None:
    page = staff_client(manager).get(reverse("workbench:sharing_retire", args=[resource_a.pk]))
    assert page.status_code == 200
    assert (page.context["approved"], page.context["requested"]) == (1, 0)
    assert 'id="retire-effects"' in page.content.decode()


def test_retiring_needs_a_reason(
    manager: User, staff_client: StaffClient, resource_a: Resource, approved_b: Grant
) -> None:
    response = staff_client(manager).post(reverse("workbench:sharing_retire", args=[resource_a.pk]), {"reason": "  "})
    assert response.status_code == 400
    assert list(response.context["form"].errors) == ["reason"]
    _unchanged(resource_a)
    approved_b.refresh_from_db()
    assert approved_b.status == GrantStatus.APPROVED


def test_retiring_revokes_the_grants_and_closes_the_resource(
    reviewer_a: User, staff_client: StaffClient, resource_a: Resource, approved_b: Grant
) -> None:
    client = staff_client(reviewer_a)
    url = reverse("workbench:sharing_retire", args=[resource_a.pk])
    response = client.post(url, {"reason": "系统停用"})
    assert response.status_code == 302
    assert response["Location"] == reverse("workbench:sharing_resource", args=[resource_a.pk])
    resource_a.refresh_from_db()
    approved_b.refresh_from_db()
    assert not resource_a.is_active
    assert (approved_b.status, approved_b.revoke_reason) == (GrantStatus.REVOKED, "系统停用")
    # A retired resource offers no edit or retire any more, and its pages send the member back to it.
    page = client.get(reverse("workbench:sharing_resource", args=[resource_a.pk])).content.decode()
    assert url not in page
    for name in ("workbench:sharing_edit", "workbench:sharing_retire"):
        again = client.post(reverse(name, args=[resource_a.pk]), _edit_data(reason="x"))
        assert again.status_code == 302
    assert AuditRecord.objects.filter(action="sharing.resource_retired").count() == 1
