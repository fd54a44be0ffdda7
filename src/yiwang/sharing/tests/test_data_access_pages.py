"""谁查看了我的数据 (the citizen's page) and the workbench's access log: who sees which records.

A person sees the reads of their own data and of the enterprises they answer for, never anyone else's; staff are
not subjects here. In the workbench, auditors see the whole log and check its chain; a department sees the reads
it made and those of its resources, and department B nothing of department A's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from yiwang.catalogue.models import Organisation
from yiwang.identity import acting
from yiwang.identity.models import Agency
from yiwang.identity.tests.people import ENTERPRISE, PEOPLE
from yiwang.sharing.constants import Outcome, Refusal
from yiwang.sharing.models import AccessRecord, Resource
from yiwang.sharing.tests.factories import make_grant
from yiwang.sharing.tests.log_world import read, resource

pytestmark = pytest.mark.django_db

PAGE = "/account/data-access/"
LOG = "/workbench/sharing/log/"
VERIFY = "/workbench/sharing/log/verify/"
CITIZEN_ID = PEOPLE["citizen"].id_number
OTHER_ID = PEOPLE["representative"].id_number


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def seqs(response: Any) -> list[int]:
    return [row.record.seq if hasattr(row, "record") else row["record"].seq for row in response.context["rows"]]


@pytest.fixture
def res_a(department_a: Organisation) -> Resource:
    return resource(department_a, "log_a")


@pytest.fixture
def res_b(department_b: Organisation) -> Resource:
    return resource(department_b, "log_b")


# --- the citizen's page ---------------------------------------------------------------------------------


def test_urls_are_the_ones_the_pages_link() -> None:
    assert reverse("portal:data_access") == PAGE
    assert reverse("workbench:access_log") == LOG and reverse("workbench:access_log_verify") == VERIFY


def test_the_anonymous_are_sent_to_sign_in(db: Any) -> None:
    response = Client().get(PAGE)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_a_citizen_sees_the_answered_reads_of_their_data_newest_first(
    citizen: User, department_b: Organisation, res_a: Resource
) -> None:
    first = read(department_b, res_a, id_number=CITIZEN_ID, case_number="B-1")
    refused = read(
        department_b, res_a, id_number=CITIZEN_ID, outcome=Outcome.REFUSED, refusal=Refusal.NO_GRANT, case_number=""
    )
    second = read(department_b, res_a, id_number=CITIZEN_ID, case_number="B-2", fields=["location"])
    read(department_b, res_a, id_number=OTHER_ID)  # someone else's
    response = signed_in(citizen).get(PAGE)
    assert response.status_code == 200
    assert seqs(response) == [second.seq, first.seq]
    rows = response.context["rows"]
    assert rows[0].fields == ["坐落"] and rows[1].fields == ["权利人", "坐落"]
    assert rows[0].department == department_b.name and rows[0].record.case_number == "B-2"
    body = response.content.decode()
    assert "B-2" in body and department_b.name in body and "审查员甲" in body
    with_refused = signed_in(citizen).get(PAGE, {"refused": "1"})
    assert seqs(with_refused) == [second.seq, refused.seq, first.seq]
    assert with_refused.context["rows"][1].refusal == str(Refusal.NO_GRANT.label)


def test_another_citizen_sees_none_of_them(
    citizen: User, enterprise_rep: User, department_b: Organisation, res_a: Resource
) -> None:
    read(department_b, res_a, id_number=CITIZEN_ID)
    response = signed_in(enterprise_rep).get(PAGE, {"refused": "1"})
    assert response.status_code == 200 and seqs(response) == []


def test_a_subject_that_is_not_theirs_falls_back_to_their_own(
    citizen: User, enterprise: Any, department_b: Organisation, res_a: Resource
) -> None:
    read(department_b, res_a, uscc=ENTERPRISE.uscc)
    mine = read(department_b, res_a, id_number=CITIZEN_ID)
    response = signed_in(citizen).get(PAGE, {"subject": f"e{enterprise.pk}"})
    assert seqs(response) == [mine.seq]
    assert [s.key for s in response.context["subjects"]] == ["self"]


def test_the_representative_chooses_between_own_and_the_enterprise_reads(
    enterprise_rep: User, enterprise: Any, department_b: Organisation, res_a: Resource
) -> None:
    theirs = read(department_b, res_a, uscc=ENTERPRISE.uscc)
    own = read(department_b, res_a, id_number=OTHER_ID)
    client = signed_in(enterprise_rep)
    assert seqs(client.get(PAGE)) == [own.seq]
    assert seqs(client.get(PAGE, {"subject": f"e{enterprise.pk}"})) == [theirs.seq]


def test_an_agent_acting_for_the_enterprise_sees_its_reads_first(
    agent: User, enterprise: Any, department_b: Organisation, res_a: Resource
) -> None:
    theirs = read(department_b, res_a, uscc=ENTERPRISE.uscc)
    read(department_b, res_a, id_number=PEOPLE["agent"].id_number)
    client = signed_in(agent)
    session = client.session
    session[acting.SESSION_KEY] = Agency.objects.get(agent=agent, enterprise=enterprise).pk
    session.save()
    response = client.get(PAGE)
    assert response.context["chosen"].key == f"e{enterprise.pk}" and seqs(response) == [theirs.seq]


def test_the_page_is_paginated(citizen: User, department_b: Organisation, res_a: Resource) -> None:
    records = [read(department_b, res_a, id_number=CITIZEN_ID, case_number=f"B-{n}") for n in range(27)]
    client = signed_in(citizen)
    first = client.get(PAGE)
    assert len(seqs(first)) == 25 and seqs(first)[0] == records[-1].seq
    assert seqs(client.get(PAGE, {"page": "2"})) == [records[1].seq, records[0].seq]


def test_staff_are_told_the_page_does_not_exist(
    staff_client: Callable[[User], Client], clerk: User, auditor: User
) -> None:
    for user in (clerk, auditor):
        assert staff_client(user).get(PAGE).status_code == 404


def test_the_account_menu_links_the_page_for_persons(citizen: User) -> None:
    assert PAGE in signed_in(citizen).get("/account/").content.decode()


# --- the workbench's access log -------------------------------------------------------------------------


@pytest.fixture
def log(department_a: Organisation, department_b: Organisation, res_a: Resource, res_b: Resource) -> dict[str, int]:
    """A reads its own resource, B reads A's, B reads its own, and one refused attempt by B on A's."""
    return {
        "a_on_a": read(department_a, res_a, id_number=CITIZEN_ID, case_number="A-1").seq,
        "b_on_a": read(department_b, res_a, id_number=CITIZEN_ID, case_number="B-1").seq,
        "b_on_b": read(department_b, res_b, id_number=CITIZEN_ID, case_number="B-2").seq,
        "b_refused": read(
            department_b, res_a, id_number=CITIZEN_ID, outcome=Outcome.REFUSED, refusal=Refusal.NO_GRANT, case_number=""
        ).seq,
    }


def test_the_log_page_turns_away_the_anonymous_citizens_and_staff_without_sharing_roles(
    citizen: User, clerk: User, supervisor: User, staff_client: Callable[[User], Client]
) -> None:
    anonymous = Client().get(LOG)
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
    assert signed_in(citizen).get(LOG).status_code == 403
    for user in (clerk, supervisor):
        assert staff_client(user).get(LOG).status_code == 403


def test_auditors_see_every_record(auditor: User, staff_client: Callable[[User], Client], log: dict[str, int]) -> None:
    response = staff_client(auditor).get(LOG)
    assert response.status_code == 200 and response.context["may_check"]
    assert sorted(seqs(response)) == sorted(log.values())
    assert "workbench:access_log" in [t.url_name for t in response.context["tasks"]]


def test_a_department_sees_its_reads_and_those_of_its_resources(
    reviewer_a: User, reviewer_b: User, manager: User, staff_client: Callable[[User], Client], log: dict[str, int]
) -> None:
    a_view = seqs(staff_client(reviewer_a).get(LOG))
    assert sorted(a_view) == sorted([log["a_on_a"], log["b_on_a"], log["b_refused"]])
    assert sorted(seqs(staff_client(manager).get(LOG))) == sorted(a_view)
    b_view = seqs(staff_client(reviewer_b).get(LOG))
    assert log["a_on_a"] not in b_view  # nothing of department A's own reads
    assert sorted(b_view) == sorted([log["b_on_a"], log["b_on_b"], log["b_refused"]])
    assert not staff_client(reviewer_a).get(LOG).context["may_check"]


def test_filters_narrow_the_log(
    auditor: User, staff_client: Callable[[User], Client], log: dict[str, int], res_b: Resource
) -> None:
    client = staff_client(auditor)
    assert seqs(client.get(LOG, {"outcome": "refused"})) == [log["b_refused"]]
    assert seqs(client.get(LOG, {"refusal": Refusal.NO_GRANT})) == [log["b_refused"]]
    assert seqs(client.get(LOG, {"case_number": "B-1"})) == [log["b_on_a"]]
    assert seqs(client.get(LOG, {"resource": res_b.pk})) == [log["b_on_b"]]
    today = timezone.localdate()
    assert len(seqs(client.get(LOG, {"date_from": today.isoformat(), "date_to": today.isoformat()}))) == 4
    assert seqs(client.get(LOG, {"date_from": (today + dt.timedelta(days=1)).isoformat()})) == []


def test_the_consumer_filter_offers_department_b_nothing_of_department_a(
    reviewer_b: User,
    auditor: User,
    staff_client: Callable[[User], Client],
    department_a: Organisation,
    department_b: Organisation,
    res_a: Resource,
    res_b: Resource,
    log: dict[str, int],
) -> None:
    """The list of consumers would otherwise tell department B which data department A uses."""
    make_grant(res_a, department_a)  # A's use of its own resource: none of B's business

    def offered(user: User) -> set[int]:
        return {org.pk for org in staff_client(user).get(LOG).context["form"].fields["consumer"].queryset}

    assert offered(reviewer_b) == {department_b.pk}
    assert offered(auditor) == {department_a.pk}
    # Choosing A by hand is an invalid choice: the log is not narrowed to A and B still sees only its records.
    response = staff_client(reviewer_b).get(LOG, {"consumer": department_a.pk})
    assert response.context["form"].errors
    assert sorted(seqs(response)) == sorted([log["b_on_a"], log["b_on_b"], log["b_refused"]])
    make_grant(res_b, department_a)  # A now reads B's resource: B, its provider, sees A's reads of it
    assert offered(reviewer_b) == {department_a.pk, department_b.pk}


@pytest.mark.parametrize(
    "bad",
    [
        {"date_from": "not-a-date"},
        {"outcome": "maybe"},
        {"resource": "999999"},
        {"date_from": "2025-02-02", "date_to": "2025-01-01"},
    ],
)
def test_bad_filters_are_shown_and_filter_nothing(
    auditor: User, staff_client: Callable[[User], Client], log: dict[str, int], bad: dict[str, str]
) -> None:
    response = staff_client(auditor).get(LOG, bad)
    assert response.status_code == 200 and response.context["form"].errors
    assert len(seqs(response)) == len(log)


def test_the_chain_check_is_for_auditors_and_says_what_it_found(
    auditor: User, reviewer_a: User, citizen: User, staff_client: Callable[[User], Client], log: dict[str, int]
) -> None:
    client = staff_client(auditor)
    assert client.get(VERIFY).status_code == 405
    response = client.post(VERIFY)
    assert response.status_code == 302 and response["Location"].endswith(LOG)
    assert [m.level_tag for m in get_messages(response.wsgi_request)] == ["success"]
    client.get(LOG)  # the page shows (and so uses up) the notice
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {AccessRecord._meta.db_table} SET purpose = %s WHERE seq = %s", ["x", log["b_on_a"]])  # noqa: S608
    broken = client.post(VERIFY)
    messages = list(get_messages(broken.wsgi_request))
    assert [m.level_tag for m in messages] == ["error"] and str(log["b_on_a"]) in str(messages[0])
    assert staff_client(reviewer_a).post(VERIFY).status_code == 403
    assert signed_in(citizen).post(VERIFY).status_code == 403
    assert Client().post(VERIFY).status_code == 302
