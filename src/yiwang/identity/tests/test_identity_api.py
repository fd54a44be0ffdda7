"""The identity API: who am I, my agencies, the staff person lookup (scoped, audited, masked) and the audit log."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import translation

from yiwang.audit.models import AuditRecord
from yiwang.common.masking import mask_id_number, mask_phone
from yiwang.identity.api.serializers import PersonSerializer
from yiwang.identity.lookups import PersonRecord, look_up_person
from yiwang.identity.models import Enterprise
from yiwang.identity.tests.people import ENTERPRISE, PEOPLE, make_register_person

pytestmark = pytest.mark.django_db

StaffClient = Callable[[User], Client]
ZHANG = PEOPLE["citizen"]  # 张三, registered in 西湖区 (330106)
SUN = PEOPLE["stranger"]  # 孙七, registered in 任城区 (370811)


def signed_in(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


# --- me -------------------------------------------------------------------------------------------


def test_me_is_for_signed_in_users_only(client: Client) -> None:
    assert client.get("/api/v1/me/").status_code in (401, 403)
    assert client.get("/api/v1/me/agencies/").status_code in (401, 403)


def test_me_for_a_citizen_masks_the_identifiers(client: Client, citizen: User) -> None:
    body = signed_in(client, citizen).get("/api/v1/me/").json()
    assert body["kind"] == "person"
    assert body["name"] == "张三"
    assert body["id_number"] == mask_id_number(ZHANG.id_number) != ZHANG.id_number
    assert body["phone"] == mask_phone(ZHANG.phone)
    assert body["real_name_status"] == "verified" and body["can_apply"] is True
    assert body["roles"] == [] and body["department"] is None and body["region"] is None
    assert body["enterprises"] == [] and body["agencies"] == []
    assert ZHANG.id_number not in str(body) and ZHANG.phone not in str(body)


def test_me_for_an_unverified_person_says_they_cannot_apply(client: Client, unverified: User) -> None:
    body = signed_in(client, unverified).get("/api/v1/me/").json()
    assert body["real_name_status"] == "unverified" and body["can_apply"] is False


def test_me_lists_enterprises_represented_and_agencies_held(
    client: Client, enterprise_rep: User, agent: User, enterprise: Enterprise
) -> None:
    rep = signed_in(client, enterprise_rep).get("/api/v1/me/").json()
    assert [(e["uscc"], e["name"]) for e in rep["enterprises"]] == [(ENTERPRISE.uscc, ENTERPRISE.name)]
    held = signed_in(Client(), agent).get("/api/v1/me/").json()["agencies"]
    assert [(a["principal"]["uscc"], a["status"]) for a in held] == [(ENTERPRISE.uscc, "in_force")]


def test_me_for_staff_names_roles_department_and_region(staff_client: StaffClient, reviewer_a: User) -> None:
    body = staff_client(reviewer_a).get("/api/v1/me/", HTTP_ACCEPT_LANGUAGE="zh-hans").json()
    assert body["kind"] == "staff"
    assert body["roles"] == ["approver", "reviewer"]
    assert body["department"]["name"] == "杭州市西湖区市场监督管理局"
    assert body["region"] == {"code": "330106", "name": "西湖区"}
    assert body["can_apply"] is False


def test_my_agencies_granted_and_held(client: Client, enterprise_rep: User, agent: User) -> None:
    rep = signed_in(client, enterprise_rep).get("/api/v1/me/agencies/").json()
    assert len(rep["granted"]) == 1 and rep["held"] == []
    granted = rep["granted"][0]
    assert granted["agent"] == {"name": "李四", "id_number": mask_id_number(PEOPLE["agent"].id_number)}
    assert granted["all_items"] is True and granted["status"] == "in_force"
    mine = signed_in(Client(), agent).get("/api/v1/me/agencies/").json()
    assert mine["granted"] == [] and [a["id"] for a in mine["held"]] == [granted["id"]]


# --- person lookup --------------------------------------------------------------------------------


@pytest.fixture
def register(db: Any) -> None:
    make_register_person(ZHANG)
    make_register_person(SUN)


def lookup(client: Client, number: str, **extra: Any) -> Any:
    return client.post("/api/v1/staff/persons/", {"id_number": number}, content_type="application/json", **extra)


def test_a_reviewer_finds_a_person_of_their_region_in_clear_and_it_is_audited(
    staff_client: StaffClient, reviewer_a: User, register: None
) -> None:
    response = lookup(staff_client(reviewer_a), ZHANG.id_number)
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "张三" and body["sex"] == "1" and body["birth_date"] == "1990-03-07"
    assert body["region_code"] == "330106" and body["region_name"] == "浙江省杭州市西湖区"
    assert body["id_number"] == ZHANG.id_number and body["id_number_masked"] is False
    record = AuditRecord.objects.get(action="registers.person_lookup")
    assert record.actor == reviewer_a
    assert record.object_label == mask_id_number(ZHANG.id_number)
    assert record.after == {"result": "found", "identifiers": "clear"}
    assert ZHANG.id_number not in str(record.after) + record.object_label + record.note


def test_a_person_outside_the_region_is_answered_like_an_unknown_number(
    staff_client: StaffClient, reviewer_b: User, register: None
) -> None:
    client = staff_client(reviewer_b)
    elsewhere = lookup(client, ZHANG.id_number, HTTP_ACCEPT_LANGUAGE="en")
    unknown = lookup(client, PEOPLE["unverified"].id_number, HTTP_ACCEPT_LANGUAGE="en")  # in no register
    assert elsewhere.status_code == unknown.status_code == 404
    assert elsewhere.json() == unknown.json()
    assert elsewhere.json()["message"] == "No person with this ID number was found in your region."
    assert "张三" not in elsewhere.content.decode()
    results = list(AuditRecord.objects.filter(action="registers.person_lookup").values_list("after", flat=True))
    assert [(r or {})["result"] for r in results] == ["not_found", "out_of_scope"]  # newest first
    # Their own region's people are found.
    assert lookup(client, SUN.id_number).json()["name"] == "孙七"


def test_a_malformed_number_is_a_400_and_records_nothing(
    staff_client: StaffClient, clerk: User, register: None
) -> None:
    client = staff_client(clerk)
    bad = ZHANG.id_number[:-1] + ("0" if ZHANG.id_number[-1] != "0" else "1")  # wrong check digit
    response = lookup(client, bad)
    assert response.status_code == 400
    assert bad not in response.content.decode()
    assert client.post("/api/v1/staff/persons/", {}, content_type="application/json").status_code == 400
    assert client.get("/api/v1/staff/persons/", {"id_number": ZHANG.id_number}).status_code == 405  # never in a URL
    assert not AuditRecord.objects.filter(action="registers.person_lookup").exists()


@pytest.mark.parametrize("persona", ["supervisor", "auditor"])
def test_staff_who_do_not_handle_applicants_cannot_look_people_up(
    request: pytest.FixtureRequest, staff_client: StaffClient, persona: str, register: None
) -> None:
    response = lookup(staff_client(request.getfixturevalue(persona)), ZHANG.id_number)
    assert response.status_code == 403
    assert not AuditRecord.objects.filter(action="registers.person_lookup").exists()


def test_administrators_may_look_up_but_see_masked_numbers(
    staff_client: StaffClient, admin: User, register: None
) -> None:
    body = lookup(staff_client(admin), SUN.id_number).json()
    assert body["name"] == "孙七"
    assert body["id_number"] == mask_id_number(SUN.id_number) and body["id_number_masked"] is True
    assert AuditRecord.objects.get(action="registers.person_lookup").after == {
        "result": "found",
        "identifiers": "masked",
    }


def test_the_person_serializer_fails_safe(clerk: User, supervisor: User, register: None) -> None:
    record = look_up_person(actor=clerk, id_number=ZHANG.id_number)
    assert isinstance(record, PersonRecord) and record.identifiers_in_clear
    # Without a viewer, or for a viewer who may not, the number leaves masked whatever the record says.
    assert PersonSerializer(record).data["id_number"] == mask_id_number(ZHANG.id_number)

    class Viewer:
        user = supervisor

    assert PersonSerializer(record, context={"request": Viewer()}).data["id_number"] == mask_id_number(ZHANG.id_number)


# --- audit log ------------------------------------------------------------------------------------


def test_auditors_read_and_filter_the_audit_log(staff_client: StaffClient, auditor: User, manager: User) -> None:
    client = staff_client(auditor)
    everything = client.get("/api/v1/audit/").json()
    assert everything["count"] == AuditRecord.objects.count() > 0
    staff = client.get("/api/v1/audit/", {"action": "identity.staff_created"}).json()["results"]
    assert {r["object_label"] for r in staff} >= {"manager (manager)", "auditor (auditor)"}
    family = client.get("/api/v1/audit/", {"action": "identity"}).json()["results"]
    assert family and all(r["action"].startswith("identity.") for r in family)
    account_id = staff[0]["object_id"]
    by_object = client.get("/api/v1/audit/", {"object_type": "identity.account", "object_id": account_id}).json()
    assert {r["object_id"] for r in by_object["results"]} == {account_id}


@pytest.mark.parametrize("persona", ["supervisor", "reviewer_a", "clerk"])
def test_others_cannot_read_the_audit_log(
    request: pytest.FixtureRequest, staff_client: StaffClient, persona: str
) -> None:
    response = staff_client(request.getfixturevalue(persona)).get("/api/v1/audit/", HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 403
    with translation.override("en"):
        assert response.json()["detail"] == "You do not have permission to do this here."


def test_staff_without_the_second_factor_are_refused_by_the_api(client: Client, reviewer_a: User) -> None:
    client.force_login(reviewer_a)  # signed in, TOTP not passed
    assert client.get("/api/v1/me/").status_code == 403
    assert lookup(client, ZHANG.id_number).status_code == 403
