"""The registers in the admin: read-only, masked ID numbers, exact search through the blind index, scoped."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from yiwang.common.masking import mask_id_number
from yiwang.registers.demo import (
    DEMO_AGENT_ID,
    DEMO_CITIZEN_ID,
    DEMO_ENTERPRISE_USCC,
    DEMO_REPRESENTATIVE_ID,
    DEMO_SECOND_ENTERPRISE_USCC,
)
from yiwang.registers.models import Person

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo")]

PEOPLE = reverse("admin:registers_person_changelist")
ENTITIES = reverse("admin:registers_legalentity_changelist")
StaffClient = Callable[[User], Client]


def test_administrators_see_masked_id_numbers_only(admin: User, staff_client: StaffClient) -> None:
    client = staff_client(admin)
    page = client.get(PEOPLE).content.decode()
    for number in (DEMO_CITIZEN_ID, DEMO_AGENT_ID, DEMO_REPRESENTATIVE_ID):
        assert number not in page
        assert mask_id_number(number) in page
    person = Person.objects.get(name="张三")
    detail = client.get(reverse("admin:registers_person_change", args=[person.pk]))
    assert detail.status_code == 200
    assert DEMO_CITIZEN_ID not in detail.content.decode() and mask_id_number(DEMO_CITIZEN_ID) in detail.content.decode()
    entities = client.get(ENTITIES).content.decode()
    assert DEMO_REPRESENTATIVE_ID not in entities and mask_id_number(DEMO_REPRESENTATIVE_ID) in entities


def test_search_by_exact_id_number_name_and_uscc(admin: User, staff_client: StaffClient) -> None:
    client = staff_client(admin)
    # An ID number is never searched through the address bar (it would reach access logs): refused there …
    in_url = client.get(PEOPLE, {"q": DEMO_AGENT_ID.lower()})
    assert list(in_url.context["cl"].result_list) == []
    # … and found by the POST form, the answer rendered without the number in any URL.
    found = client.post(reverse("admin:registers_person_find"), {"number": DEMO_AGENT_ID.lower()})
    assert [p.name for p in found.context["results"]] == ["李四"]
    assert DEMO_AGENT_ID not in found.content.decode()
    assert [p.name for p in client.get(PEOPLE, {"q": "赵六"}).context["cl"].result_list] == ["赵六"]
    by_code = client.get(ENTITIES, {"q": DEMO_ENTERPRISE_USCC.lower()}).context["cl"].result_list
    assert [e.uscc for e in by_code] == [DEMO_ENTERPRISE_USCC]
    by_representative = client.post(reverse("admin:registers_legalentity_find"), {"number": DEMO_REPRESENTATIVE_ID})
    assert {e.uscc for e in by_representative.context["results"]} == {DEMO_ENTERPRISE_USCC, DEMO_SECOND_ENTERPRISE_USCC}


def test_nothing_can_be_added_changed_or_deleted(admin: User, staff_client: StaffClient) -> None:
    client = staff_client(admin)
    person = Person.objects.get(name="张三")
    assert client.get(reverse("admin:registers_person_add")).status_code == 403
    assert client.get(reverse("admin:registers_person_delete", args=[person.pk])).status_code == 403
    client.post(reverse("admin:registers_person_change", args=[person.pk]), {"name": "改名"})
    person.refresh_from_db()
    assert person.name == "张三"


def test_clerks_given_admin_access_see_their_region_only(
    clerk: User, reviewer_b: User, staff_client: StaffClient
) -> None:
    # Clerks work in the workbench, not the admin; should one be let in, authz still narrows what they see.
    for user in (clerk, reviewer_b):
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    xihu = {p.name for p in staff_client(clerk).get(PEOPLE).context["cl"].result_list}
    assert xihu == {"张三", "李四", "赵六"}  # 王五 lives in 任城区
    rencheng = staff_client(reviewer_b)
    assert {p.name for p in rencheng.get(PEOPLE).context["cl"].result_list} == {"王五"}
    zhang = Person.objects.get(name="张三")
    assert rencheng.get(reverse("admin:registers_person_change", args=[zhang.pk])).status_code in (302, 403, 404)


def test_staff_without_a_register_role_see_nothing(manager: User, staff_client: StaffClient) -> None:
    manager.is_staff = True
    manager.save(update_fields=["is_staff"])
    assert staff_client(manager).get(PEOPLE).status_code == 403
