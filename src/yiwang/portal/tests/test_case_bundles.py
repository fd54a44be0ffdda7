"""One-thing bundles (一件事一次办) in the portal: the list, one merged form and material list, the application
fanning out to one case per item, and the combined status on the applicant's pages."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from html import unescape
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import translation
from django.utils.translation import gettext

from yiwang.cases import services
from yiwang.cases.constants import CaseStatus, Provenance, TrustLevel
from yiwang.cases.models import Bundle, BundleApplication, BundleItem, Case, MaterialFile
from yiwang.cases.tests.conftest import FRIDAY_BEFORE_NATIONAL_DAY, pdf
from yiwang.catalogue.models import ItemVersion
from yiwang.catalogue.tests.factories import BASE
from yiwang.identity.tests.people import PEOPLE

pytestmark = pytest.mark.django_db

PREMISES = {"name": "经营场所使用证明", "required": True, "originals": 1, "copies": 0, "source": "applicant"}


def zh(message: str) -> str:
    with translation.override("zh-hans"):
        return gettext(message)


def html(response: Any, status: int = 200) -> str:
    assert response.status_code == status, (response.status_code, response.get("Location"))
    return unescape(response.content.decode())


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture(autouse=True)
def clock() -> Iterator[time_machine.Traveller]:
    with time_machine.travel(FRIDAY_BEFORE_NATIONAL_DAY, tick=True) as traveller:
        yield traveller


@pytest.fixture
def items(published: Callable[..., ItemVersion]) -> list[ItemVersion]:
    """Two items of department A: the second also asks for proof of premises (经营场所使用证明)."""
    second = [*copy.deepcopy(BASE["materials"]), PREMISES]
    return [published(), published(materials=second)]


@pytest.fixture
def bundle(items: list[ItemVersion]) -> Bundle:
    found = Bundle.objects.create(code="open-a-shop", name="开店一件事", name_en="Opening a shop")
    for position, version in enumerate(items):
        BundleItem.objects.create(bundle=found, item=version.item, position=position)
    return found


def _form(**changes: Any) -> dict[str, Any]:
    person = PEOPLE["citizen"]
    data: dict[str, Any] = {
        "applicant_name": person.name,
        "applicant_id_number": person.id_number,
        "phone": person.phone,
        "address": "浙江省杭州市西湖区文三路1号",
        "idempotency_key": "bundle-key",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_the_bundle_list_and_page_render_in_both_languages(client: Client, bundle: Bundle) -> None:
    english = html(client.get("/en/bundles/"))
    assert "Opening a shop" in english and "/en/bundles/open-a-shop/" in english
    page = html(client.get("/en/bundles/open-a-shop/"))
    assert "Opening a shop" in page and "杭州市西湖区市场监督管理局" in page
    assert "Sign in to apply online" in page and "csrfmiddlewaretoken" not in page
    chinese = html(client.get("/bundles/open-a-shop/"))
    assert "开店一件事" in chinese and zh("Services in this bundle") in chinese
    assert client.get("/en/bundles/no-such-bundle/").status_code == 404
    bundle.active = False
    bundle.save()
    assert client.get("/en/bundles/open-a-shop/").status_code == 404
    assert "Opening a shop" not in html(client.get("/en/bundles/"))


def test_one_form_and_one_material_list_for_all_items(citizen: User, bundle: Bundle) -> None:
    page = html(signed_in(citizen).get("/en/bundles/open-a-shop/"))
    # Each field once, though both items ask for it.
    assert page.count('name="applicant_name"') == 1 and page.count('name="phone"') == 1
    # Each material once: the two shared ones and the second item's own.
    assert page.count('name="material-0"') == page.count('name="material-1"') == page.count('name="material-2"') == 1
    assert 'name="material-3"' not in page
    assert "经营场所使用证明" in page
    # Only the government-issued certificate may be pledged.
    assert page.count('name="pledge-') == 1 and 'name="pledge-1"' in page


def test_applying_for_a_bundle_makes_one_case_per_item(citizen: User, bundle: Bundle, items: list[ItemVersion]) -> None:
    client = signed_in(citizen)
    response = client.post(
        "/en/bundles/open-a-shop/",
        {
            **_form(),
            "material-0": pdf("application.pdf", b"app"),
            "material-2": pdf("premises.pdf", b"premises"),
            "pledge-1": "yes",
        },
    )
    application = BundleApplication.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/en/my/bundles/{application.number}/"
    cases = list(application.cases.order_by("id"))
    assert [c.version_id for c in cases] == [v.pk for v in items]
    assert all(c.status == CaseStatus.SUBMITTED and c.number for c in cases)
    # The application form was given once and reached both cases; the file is stored once.
    assert MaterialFile.objects.filter(original_name="application.pdf").count() == 1
    assert cases[0].materials.get(slot=1).trust_level == TrustLevel.D
    assert cases[1].materials.get(slot=2).provenance == Provenance.UPLOAD
    page = html(client.get(response["Location"]))
    assert "Opening a shop" in page and str(application.number) in page
    assert "Overall status:" in page and "Awaiting pre-review" in page
    assert all(str(c.number) in page for c in cases) and "杭州市西湖区市场监督管理局" in page
    # My cases shows them together under the bundle.
    mine = html(client.get("/en/my/cases/"))
    assert "One-thing application" in mine and f"/en/my/bundles/{application.number}/" in mine
    assert html(client.get(f"/my/bundles/{application.number}/")).count(zh("Overall status:")) == 1
    # A second post with the same key makes nothing new.
    again = client.post("/en/bundles/open-a-shop/", {**_form(), "material-0": pdf("application.pdf", b"app")})
    assert again["Location"] == response["Location"]
    assert BundleApplication.objects.count() == 1 and Case.objects.count() == 2


def test_the_combined_status_follows_the_case_furthest_behind(citizen: User, clerk: User, bundle: Bundle) -> None:
    client = signed_in(citizen)
    client.post("/en/bundles/open-a-shop/", {**_form(), "material-0": pdf()})
    application = BundleApplication.objects.get()
    first, second = application.cases.order_by("id")
    services.accept(actor=clerk, case=first)
    services.request_correction(actor=clerk, case=second, problems=[services.Problem("缺少场所证明", slot=2)])
    page = html(client.get(f"/en/my/bundles/{application.number}/"))
    assert 'class="badge case-status case-status-correction">Awaiting corrections' in page
    assert "In progress" in page


def test_a_bad_bundle_form_shows_every_problem_and_creates_nothing(citizen: User, bundle: Bundle) -> None:
    page = html(signed_in(citizen).post("/en/bundles/open-a-shop/", _form(phone="123", address=None)))
    assert 'class="error-summary"' in page
    assert 'id="field-phone-error"' in page and 'id="field-address-error"' in page
    assert not BundleApplication.objects.exists() and not Case.objects.exists()


def test_a_disguised_file_in_a_bundle_is_refused(citizen: User, bundle: Bundle) -> None:
    page = html(
        signed_in(citizen).post(
            "/en/bundles/open-a-shop/", {**_form(), "material-0": SimpleUploadedFile("a.pdf", b"MZ\x90\x00")}
        )
    )
    assert "Upload a PDF, JPEG, PNG or OFD file" in page
    assert not BundleApplication.objects.exists() and not Case.objects.exists()


def test_bundle_applications_are_for_their_applicant_only(
    citizen: User, enterprise_rep: User, clerk: User, staff_client: Callable[[User], Client], bundle: Bundle
) -> None:
    signed_in(citizen).post("/en/bundles/open-a-shop/", _form())
    application = BundleApplication.objects.get()
    url = f"/en/my/bundles/{application.number}/"
    assert signed_in(enterprise_rep).get(url).status_code == 404
    assert staff_client(clerk).get(url).status_code == 404
    assert Client().get(url)["Location"].startswith("/en/login/")
    # Posting an application needs a signed-in person.
    anonymous = Client().post("/en/bundles/open-a-shop/", _form())
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
    assert staff_client(clerk).post("/en/bundles/open-a-shop/", _form()).status_code == 404
    assert BundleApplication.objects.count() == 1
