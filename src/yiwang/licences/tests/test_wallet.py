"""The licence wallet (我的证照): holders — the person, the enterprise's representative and agents, a person's proxy —
see their licences, their status and validity, every version, and download the sealed file; nobody else learns that
a licence exists (another person, staff of either department, the anonymous)."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable
from html import unescape
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from yiwang.common.errors import InvalidInput, NotFound
from yiwang.identity import services as identity
from yiwang.identity.tests.people import PEOPLE
from yiwang.licences import issuance, lifecycle, wallet
from yiwang.licences.constants import LicenceStatus, Verdict
from yiwang.licences.models import Licence

pytestmark = pytest.mark.django_db


def zh(message: str) -> str:
    with translation.override("zh-hans"):
        return gettext(message)


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def page(client: Client, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, (path, response.status_code, response.get("Location"))
    return unescape(response.content.decode())


def _detail(licence: Licence) -> str:
    return reverse("wallet:licence", args=[licence.pk])


# --- who sees what -----------------------------------------------------------------------------------------


def test_the_citizen_sees_their_licence_in_the_wallet_and_on_its_page(licence: Licence, citizen: User) -> None:
    assert list(wallet.wallet(citizen)) == [licence]
    assert wallet.licence_for_holder(citizen, licence.pk) == licence
    client = signed_in(citizen)
    listing = page(client, reverse("wallet:list"))
    assert zh("My licences") in listing and licence.identifier in listing
    assert "营业执照" in listing and licence.issuer.name in listing and zh("Valid") in listing
    detail = page(client, _detail(licence))
    assert licence.identifier in detail and licence.holder_name in detail and licence.data["address"] in detail
    assert reverse("wallet:file", args=[licence.pk]) in detail
    # The holder's own ID number is masked on the page (the sealed file carries it in full).
    assert licence.holder_code not in detail and licence.holder_code[-4:] in detail
    # English, with the type's English name and field labels.
    with translation.override("en"):
        english = page(client, reverse("wallet:licence", args=[licence.pk]))
    assert "Business licence" in english and "Address" in english and "Valid" in english


def test_the_header_links_to_the_wallet_for_signed_in_people(licence: Licence, citizen: User) -> None:
    home = page(signed_in(citizen), reverse("portal:home"))
    assert reverse("wallet:list") in home and zh("My licences") in home


@pytest.mark.parametrize("persona", ["enterprise_rep", "agent"])
def test_the_enterprise_representative_and_its_agent_see_the_enterprise_licence(
    persona: str, request: pytest.FixtureRequest, enterprise_licence: Licence
) -> None:
    user = request.getfixturevalue(persona)
    assert list(wallet.wallet(user)) == [enterprise_licence]
    client = signed_in(user)
    listing = page(client, reverse("wallet:list"))
    assert enterprise_licence.identifier in listing and enterprise_licence.holder_name in listing
    assert zh("Enterprise") in listing
    detail = page(client, _detail(enterprise_licence))
    assert enterprise_licence.holder_code in detail  # a credit code is public, shown in full
    response = client.get(reverse("wallet:file", args=[enterprise_licence.pk]))
    assert response.status_code == 200


def test_a_proxy_sees_the_licences_of_the_person_who_appointed_them(
    licence: Licence, citizen: User, agent: User
) -> None:
    assert licence not in wallet.wallet(agent)
    identity.grant_agency(
        actor=citizen,
        agent_id_number=PEOPLE["agent"].id_number,
        agent_name=PEOPLE["agent"].name,
        all_items=True,
        valid_until=timezone.now() + dt.timedelta(days=30),
    )
    assert licence in wallet.wallet(agent)
    assert licence.holder_name in page(signed_in(agent), _detail(licence))


def _endpoints(licence: Licence) -> list[tuple[str, str]]:
    return [
        ("get", reverse("wallet:licence", args=[licence.pk])),
        ("get", reverse("wallet:file", args=[licence.pk])),
        ("post", reverse("wallet:share", args=[licence.pk])),
    ]


@pytest.mark.parametrize("persona", ["enterprise_rep", "agent", "reviewer_a", "reviewer_b", "supervisor", "admin"])
def test_nobody_else_learns_the_citizens_licence_exists(
    persona: str,
    request: pytest.FixtureRequest,
    licence: Licence,
    staff_client: Callable[[User], Client],
) -> None:
    user = request.getfixturevalue(persona)
    assert licence.holder_index not in wallet.holder_indexes(user)
    assert not wallet.wallet(user).exists()
    with pytest.raises(NotFound):
        wallet.licence_for_holder(user, licence.pk)
    client = staff_client(user) if persona in {"reviewer_a", "reviewer_b", "supervisor", "admin"} else signed_in(user)
    listing = client.get(reverse("wallet:list"))
    assert listing.status_code in (200, 404)
    assert licence.identifier not in listing.content.decode()
    for method, path in _endpoints(licence):
        response = getattr(client, method)(path, {"purpose": "开户", "days": "7"})
        assert response.status_code == 404, (persona, path, response.status_code)
        assert licence.identifier not in response.content.decode()
        assert licence.holder_name not in response.content.decode()
    assert not licence.shares.exists()


def test_the_citizen_does_not_see_an_enterprise_licence(enterprise_licence: Licence, citizen: User) -> None:
    assert not wallet.wallet(citizen).exists()
    assert page(signed_in(citizen), _detail(enterprise_licence), status=404).count(enterprise_licence.identifier) == 0


def test_the_anonymous_are_sent_to_sign_in_and_see_nothing(licence: Licence) -> None:
    client = Client()
    for method, path in [("get", reverse("wallet:list")), *_endpoints(licence)]:
        response = getattr(client, method)(path, {"purpose": "开户", "days": "7"})
        assert response.status_code == 302 and reverse("portal:login") in response["Location"], path
        assert licence.identifier not in response.content.decode()
    assert not licence.shares.exists()
    assert wallet.holder_indexes(None) == frozenset()


def test_staff_hold_no_wallet(licence: Licence, reviewer_a: User, admin: User) -> None:
    assert wallet.holder_indexes(reviewer_a) == frozenset() == wallet.holder_indexes(admin)


# --- what the wallet shows ------------------------------------------------------------------------------------


def test_the_wallet_is_one_query_with_type_and_issuer(licence: Licence, citizen: User) -> None:
    licences = wallet.wallet(citizen)  # the holder's indexes are read here; the list itself is one query
    with CaptureQueriesContext(connection) as queries:
        rows = [(item.licence_type.name, item.issuer.name, item.holder_name) for item in licences]
    assert len(queries) == 1 and rows == [("营业执照", licence.issuer.name, licence.holder_name)]
    assert "holder_index" in queries[0]["sql"]


def test_status_filter_and_badges_follow_suspension_and_expiry(
    licence: Licence, citizen: User, reviewer_a: User
) -> None:
    assert list(wallet.wallet(citizen, status=Verdict.VALID)) == [licence]
    lifecycle.suspend(actor=reviewer_a, licence=licence, reason="核查")
    assert list(wallet.wallet(citizen, status=Verdict.SUSPENDED)) == [licence]
    assert not wallet.wallet(citizen, status=Verdict.VALID).exists()
    detail = page(signed_in(citizen), _detail(licence))
    assert "status-pending" in detail and zh("Suspended") in detail and "核查" in detail
    assert zh("Only a valid licence can be shared.") in detail

    lifecycle.reinstate(actor=reviewer_a, licence=licence, reason="核查完毕")
    Licence.objects.filter(pk=licence.pk).update(valid_until=timezone.localdate() - dt.timedelta(days=1))
    assert list(wallet.wallet(citizen, status=Verdict.EXPIRED)) == [licence]
    assert not wallet.wallet(citizen, status=Verdict.VALID).exists()
    listing = page(signed_in(citizen), reverse("wallet:list") + "?status=expired")
    assert licence.identifier in listing and zh("Expired") in listing


def test_an_unknown_status_filter_is_refused_and_the_page_says_so(licence: Licence, citizen: User) -> None:
    with pytest.raises(InvalidInput) as refused:
        wallet.wallet(citizen, status="lost")
    assert refused.value.details[0]["field"] == "status"
    listing = page(signed_in(citizen), reverse("wallet:list") + "?status=lost")
    assert zh("Choose a status from the list.") in listing and licence.identifier in listing


def test_every_version_is_listed_and_linked(licence: Licence, citizen: User, reviewer_a: User) -> None:
    second = lifecycle.reissue(actor=reviewer_a, licence=licence, reason="遗失补领")
    assert [v.version for v in wallet.versions(citizen, second)] == [1, 2]
    client = signed_in(citizen)
    new_page = page(client, _detail(second))
    assert _detail(licence) in new_page and second.identifier in new_page
    old_page = page(client, _detail(licence))
    assert _detail(second) in old_page and zh("Superseded by a newer version") in old_page
    assert wallet.state_of(Licence.objects.get(pk=licence.pk)) == Verdict.SUPERSEDED
    assert Licence.objects.get(pk=licence.pk).status == LicenceStatus.SUPERSEDED


def test_the_download_is_the_exact_sealed_file(licence: Licence, citizen: User) -> None:
    response = signed_in(citizen).get(reverse("wallet:file", args=[licence.pk]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment")
    body: Any = b"".join(response.streaming_content)  # type: ignore[attr-defined]  # FileResponse streams
    assert body == issuance.sealed_bytes(licence) and hashlib.sha256(body).hexdigest() == licence.sha256
