"""Walk-in applications at the window (线上线下一体): checked against the population register, originals
checked by the clerk become B-level, a repeated submit makes one case, and a refusal creates nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import User
from django.test import Client

from yiwang.cases.constants import CaseStatus, Channel, Provenance, TrustLevel
from yiwang.cases.models import Case, MaterialFile
from yiwang.catalogue.models import ItemVersion, Organisation
from yiwang.identity.tests.people import PEOPLE
from yiwang.workbench.tests.case_world import FRIDAY_BEFORE_NATIONAL_DAY, department_b_item, en, html, pdf, url

pytestmark = pytest.mark.django_db

StaffClient = Callable[[User], Client]
ZHANG = PEOPLE["citizen"]


@pytest.fixture(autouse=True)
def clock() -> Iterator[Any]:
    with time_machine.travel(FRIDAY_BEFORE_NATIONAL_DAY, tick=True) as traveller:
        yield traveller


@pytest.fixture
def item(published: Callable[..., ItemVersion]) -> ItemVersion:
    return published()


def _form(item: ItemVersion, **overrides: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "walk-in-item": str(item.pk),
        "idempotency-key": "a1b2c3d4",
        "person-id-number": ZHANG.id_number,
        "person-name": ZHANG.name,
        "phone": ZHANG.phone,
        "address": "浙江省杭州市西湖区文三路1号",
        "material-0": pdf("application.pdf", b"walk-in"),
        "material-1": pdf("id-card.pdf", b"id"),
        "original": ["1"],  # the ID card's original was seen at the window; the form was only scanned
    }
    form.update(overrides)
    return {k: v for k, v in form.items() if v is not None}


def test_a_clerk_chooses_an_item_of_the_department_and_gets_its_form(
    staff_client: StaffClient, clerk: User, item: ItemVersion, department_b: Organisation
) -> None:
    other = department_b_item(department_b)
    window = staff_client(clerk)
    page = html(window, en("walk_in"))
    assert f'<option value="{item.pk}">{item.name}</option>' in page
    assert f'<option value="{other.pk}">' not in page
    page = html(window, en("walk_in") + f"?item={item.pk}")
    assert 'name="person-id-number"' in page and 'name="phone"' in page
    assert 'name="material-0"' in page and 'name="material-1"' in page and 'name="original"' in page
    assert 'name="idempotency-key"' in page
    assert window.get(url("walk_in") + f"?item={other.pk}").status_code == 404  # not the clerk's department


def test_a_walk_in_application_becomes_a_case_with_checked_originals_at_level_b(
    staff_client: StaffClient, clerk: User, citizen: User, item: ItemVersion
) -> None:
    window = staff_client(clerk)
    response = window.post(url("walk_in"), _form(item))
    assert response.status_code == 302
    case = Case.objects.get()
    assert response["Location"] == url("case", case.number)
    assert case.channel == Channel.WINDOW and case.status == CaseStatus.SUBMITTED
    assert case.applicant == citizen and case.applicant_name == ZHANG.name
    assert case.data["applicant_name"] == ZHANG.name and case.data["applicant_id_number"] == ZHANG.id_number
    materials = {m.slot: m for m in case.materials.all()}
    assert (materials[0].provenance, materials[0].trust_level) == (Provenance.UPLOAD, TrustLevel.C)
    assert (materials[1].provenance, materials[1].trust_level) == (Provenance.WINDOW, TrustLevel.B)
    assert materials[1].checked_by == clerk

    # The same form sent again (a double click, a lost answer) is the same case.
    again = window.post(url("walk_in"), _form(item))
    assert again.status_code == 302 and again["Location"] == url("case", case.number)
    assert Case.objects.count() == 1


def _not_a_pdf() -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    # Not a PDF, JPEG, PNG or OFD by its bytes, whatever its name and declared type say.
    return SimpleUploadedFile("fake.pdf", b"MZ\x90\x00 not a pdf", "application/pdf")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"person-name": "李四"}, "The population register does not confirm this name and ID number."),
        ({"phone": "12345"}, "The form has 1 problem(s); correct them and submit again."),
        ({"material-0": "not a pdf"}, "Upload a PDF, JPEG, PNG or OFD file; this file is none of these."),
    ],
)
def test_a_refused_walk_in_creates_nothing_and_says_why(
    staff_client: StaffClient,
    clerk: User,
    citizen: User,
    item: ItemVersion,
    overrides: dict[str, Any],
    message: str,
) -> None:
    if overrides.get("material-0") == "not a pdf":
        overrides = {"material-0": _not_a_pdf()}
    response = staff_client(clerk).post(en("walk_in"), _form(item, **overrides))
    assert response.status_code == 400
    page = response.content.decode()
    assert message in page
    assert "The application was not received" in page
    assert Case.objects.count() == 0 and MaterialFile.objects.count() == 0
    assert f'value="{ZHANG.id_number}"' in page  # what the clerk typed is kept (files must be chosen again)


def test_a_wrong_check_digit_is_named(staff_client: StaffClient, clerk: User, citizen: User, item: ItemVersion) -> None:
    wrong = ZHANG.id_number[:-1] + ("0" if ZHANG.id_number[-1] != "0" else "1")
    response = staff_client(clerk).post(en("walk_in"), _form(item, **{"person-id-number": wrong}))
    assert response.status_code == 400
    page = response.content.decode()
    assert "The check digit (character 18) is wrong." in page
    assert (
        'name="person-id-number" value="'
        + wrong
        + '" maxlength="40" autocomplete="off" spellcheck="false" required aria-invalid="true"'
        in page
    )
    assert Case.objects.count() == 0


def test_only_window_clerks_enter_walk_ins(
    staff_client: StaffClient, reviewer_a: User, supervisor: User, item: ItemVersion
) -> None:
    for user in (reviewer_a, supervisor):
        client = staff_client(user)
        assert client.get(url("walk_in")).status_code == 403
        assert client.post(url("walk_in"), _form(item)).status_code == 403
    assert Case.objects.count() == 0
