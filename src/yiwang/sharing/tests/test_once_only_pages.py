"""Once-only on the pages: the draft page offers the fetch with the consent wording, the applicant's case page and
the staff case page show where the fetched material came from; who may not, cannot."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import time_machine
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from yiwang.cases import services as cases
from yiwang.cases.constants import CaseStatus
from yiwang.cases.models import Case
from yiwang.catalogue.models import ItemVersion, Organisation
from yiwang.sharing import once_only
from yiwang.sharing import services as sharing
from yiwang.sharing.constants import Outcome
from yiwang.sharing.models import AccessRecord, Consent, Grant
from yiwang.sharing.tests.once_only_world import ID_SLOT, NOW, PURPOSE, Publish, draft, grant, upload_form


@pytest.fixture(autouse=True)
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(NOW, tick=True) as traveller:
        yield traveller


@pytest.fixture
def item(published: Publish) -> ItemVersion:
    return published()


@pytest.fixture
def population_grant(manager: User, admin: User, department_a: Organisation, item: ItemVersion) -> Grant:
    return grant(manager, admin, department_a, items=[item.implementation_code])


def browser(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def post_material(client: Client, case: Case, **data: str) -> None:
    response = client.post(reverse("portal:draft_material", args=[case.pk]), {"slot": str(ID_SLOT), **data})
    assert response.status_code in (302, 404)


def submitted(citizen: User, item: ItemVersion) -> Case:
    case = draft(citizen, item)
    upload_form(citizen, case)
    once_only.fetch_shared_material(actor=citizen, case=case, slot=ID_SLOT, consent=True)
    return cases.submit(actor=citizen, case=case)


# --- the draft page ---------------------------------------------------------------------------------------------


def test_the_draft_page_offers_the_fetch_with_the_consent_wording(
    citizen: User, item: ItemVersion, population_grant: Grant
) -> None:
    case = draft(citizen, item)
    page = browser(citizen).get(reverse("portal:draft", args=[case.pk])).content.decode()
    assert 'name="action" value="shared"' in page
    assert 'name="consent" value="yes"' in page
    assert "人口库:居民身份信息" in page and PURPOSE in page
    assert f"#{population_grant.pk}" in page or f" {population_grant.pk}" in page


def test_the_draft_page_offers_no_fetch_without_a_grant(citizen: User, item: ItemVersion) -> None:
    case = draft(citizen, item)
    page = browser(citizen).get(reverse("portal:draft", args=[case.pk])).content.decode()
    assert 'value="shared"' not in page


def test_consenting_on_the_page_holds_the_slot_and_offers_withdrawal(
    citizen: User, item: ItemVersion, population_grant: Grant
) -> None:
    case = draft(citizen, item)
    client = browser(citizen)
    post_material(client, case, action="shared", consent="yes")
    assert Consent.objects.filter(case=case, given_by=citizen).exists()
    page = client.get(reverse("portal:draft", args=[case.pk])).content.decode()
    assert 'value="withdraw_consent"' in page
    post_material(client, case, action="withdraw_consent")
    assert not Consent.objects.filter(case=case).exists()
    assert not case.materials.exists()


def test_the_page_refuses_the_fetch_without_the_box_ticked(
    citizen: User, item: ItemVersion, population_grant: Grant
) -> None:
    case = draft(citizen, item)
    client = browser(citizen)
    response = client.post(
        reverse("portal:draft_material", args=[case.pk]), {"slot": str(ID_SLOT), "action": "shared"}, follow=True
    )
    assert response.status_code == 200
    assert [m.level_tag for m in response.context["messages"]] == ["error"]
    assert not Consent.objects.exists() and not case.materials.exists()


def test_another_citizen_cannot_fetch_into_the_draft_through_the_page(
    citizen: User, enterprise_rep: User, item: ItemVersion, population_grant: Grant
) -> None:
    case = draft(citizen, item)
    response = browser(enterprise_rep).post(
        reverse("portal:draft_material", args=[case.pk]), {"slot": str(ID_SLOT), "action": "shared", "consent": "yes"}
    )
    assert response.status_code == 404
    assert not Consent.objects.exists()


def test_the_anonymous_are_sent_to_sign_in(citizen: User, item: ItemVersion, population_grant: Grant) -> None:
    case = draft(citizen, item)
    response = Client().post(
        reverse("portal:draft_material", args=[case.pk]), {"slot": str(ID_SLOT), "action": "shared", "consent": "yes"}
    )
    assert response.status_code == 302 and "login" in response["Location"]
    assert not Consent.objects.exists()


def test_a_refusal_at_submission_shows_on_the_draft_and_submits_nothing(
    citizen: User, item: ItemVersion, population_grant: Grant, admin: User
) -> None:
    case = draft(citizen, item)
    upload_form(citizen, case)
    once_only.fetch_shared_material(actor=citizen, case=case, slot=ID_SLOT, consent=True)
    sharing.revoke_grant(actor=admin, grant=population_grant, reason="测试撤销")
    client = browser(citizen)
    form = {name: str(value) for name, value in case.data.items() if not isinstance(value, (list, dict))}
    response = client.post(reverse("portal:draft_submit", args=[case.pk]), {**form, "idempotency_key": "k1"})
    assert response.status_code == 200
    assert response.context["error"].details[0]["code"] == "no_grant"
    case.refresh_from_db()
    assert case.status == CaseStatus.DRAFT
    assert not AccessRecord.objects.filter(outcome=Outcome.ANSWERED).exists()
    assert AccessRecord.objects.filter(outcome=Outcome.REFUSED, refusal="no_grant").count() == 1


# --- after submission: the applicant's page and the staff page -----------------------------------------------


def test_the_applicant_sees_the_fetched_data_and_its_provenance(
    citizen: User, item: ItemVersion, population_grant: Grant
) -> None:
    case = submitted(citizen, item)
    record = AccessRecord.objects.get(outcome=Outcome.ANSWERED)
    page = browser(citizen).get(reverse("portal:case", args=[case.number])).content.decode()
    assert citizen.account.real_name in page
    assert "人口库:居民身份信息" in page
    assert f"#{record.seq}" in page and f"#{population_grant.pk}" in page
    assert PURPOSE in page


def test_staff_of_the_department_see_where_each_material_came_from(
    citizen: User,
    item: ItemVersion,
    population_grant: Grant,
    clerk: User,
    staff_client: Callable[[User], Client],
) -> None:
    case = submitted(citizen, item)
    record = AccessRecord.objects.get(outcome=Outcome.ANSWERED)
    page = staff_client(clerk).get(reverse("workbench:case", args=[case.number])).content.decode()
    assert "人口库:居民身份信息" in page
    assert f"access record #{record.seq}" in page or f"#{record.seq}" in page
    assert f"#{population_grant.pk}" in page
    assert "application.pdf" in page  # the uploaded material beside it, with its own provenance
    assert citizen.account.real_name in page


def test_reviewer_b_cannot_see_the_provenance_of_department_as_case(
    citizen: User,
    item: ItemVersion,
    population_grant: Grant,
    reviewer_b: User,
    staff_client: Callable[[User], Client],
) -> None:
    case = submitted(citizen, item)
    response = staff_client(reviewer_b).get(reverse("workbench:case", args=[case.number]))
    assert response.status_code == 404
    body = response.content.decode()
    assert "人口库:居民身份信息" not in body and citizen.account.real_name not in body


def test_another_citizen_cannot_see_the_fetched_data(
    citizen: User, enterprise_rep: User, item: ItemVersion, population_grant: Grant
) -> None:
    case = submitted(citizen, item)
    response = browser(enterprise_rep).get(reverse("portal:case", args=[case.number]))
    assert response.status_code == 404
    assert citizen.account.real_name not in response.content.decode()
