"""The portal's identity pages through the Django test client, persona by persona, in both languages.

Every refusal is the identity service's own translated message, shown on the page next to its field, with
nothing changed. Chinese expectations are computed with ``gettext`` under zh-Hans (as in test_pages.py), so
the tests hold before and after the zh-Hans catalogue is filled in; English pages are checked for the
literal English text.
"""

from __future__ import annotations

import base64
import datetime as dt
import re
from collections.abc import Callable, Iterator
from html import unescape
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pytest
from django.contrib.auth.models import User
from django.test import Client, override_settings
from django.utils import timezone, translation
from django.utils.translation import gettext
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from yiwang.audit.actors import SystemActor
from yiwang.catalogue.models import BasicItem
from yiwang.common import outbox
from yiwang.common.errors import DomainError
from yiwang.common.masking import mask_id_number, mask_name, mask_phone
from yiwang.common.validators import build_uscc
from yiwang.conftest import PASSWORD
from yiwang.identity import services
from yiwang.identity.acting import SESSION_KEY
from yiwang.identity.messaging import MemoryProvider
from yiwang.identity.models import Account, Agency, Enterprise
from yiwang.identity.tests.people import (
    CANCELLED_ENTITY,
    ENTERPRISE,
    PEOPLE,
    id_number,
    make_register_entity,
    make_register_person,
)
from yiwang.identity.tests.people import TestPerson as Someone  # not a test class: renamed for pytest

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a different horse, still stapled"
CLEAR_NUMBERS = [p.id_number for p in PEOPLE.values()] + [p.phone for p in PEOPLE.values()]


# --- helpers ----------------------------------------------------------------------------------------


def zh(message: str) -> str:
    with translation.override("zh-hans"):
        return gettext(message)


def en(message: str) -> str:
    with translation.override("en"):
        return gettext(message)


def html(response: Any, status: int = 200) -> str:
    assert response.status_code == status, (response.status_code, response.get("Location"))
    return unescape(response.content.decode())


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def refusal(call: Callable[[], Any], language: str = "en") -> list[str]:
    """The messages a service call refuses with, in ``language``: what the page must show."""
    with translation.override(language):
        try:
            call()
        except DomainError as exc:
            return [str(d["message"]) for d in exc.details] or [str(exc.message)]
    raise AssertionError("the service accepted the input")


def register(system: SystemActor, key: str, *, in_register: bool = True) -> User:
    person = PEOPLE[key]
    if in_register:
        make_register_person(person)
    return services.register_person(
        actor=system, id_number=person.id_number, name=person.name, phone=person.phone, password=PASSWORD
    )


def assert_no_clear_numbers(page: str) -> None:
    leaked = [n for n in CLEAR_NUMBERS if n in page]
    assert not leaked, leaked


@pytest.fixture
def sms() -> Iterator[list[Any]]:
    """Text messages go to the named fake gateway (MemoryProvider) instead of the console."""
    with override_settings(YIWANG_MESSAGE_PROVIDER="yiwang.identity.messaging.MemoryProvider"):
        MemoryProvider.sent.clear()
        yield MemoryProvider.sent
        MemoryProvider.sent.clear()


def last_code(sent: list[Any]) -> str:
    outbox.relay()  # the test transaction never commits, so deliver the queued messages by hand
    match = re.search(r"验证码 (\d{6})", sent[-1].text)
    assert match is not None, sent
    return match.group(1)


def totp_token(device: TOTPDevice) -> str:
    return f"{TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift).token():0{device.digits}d}"


def in_a_year() -> str:
    return (timezone.localdate() + dt.timedelta(days=365)).isoformat()


# --- visitors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/account/",
        "/account/enterprises/",
        "/account/agencies/",
        "/account/totp/",
        "/en/account/",
        "/en/account/agencies/",
    ],
)
def test_signed_in_pages_send_visitors_to_sign_in_and_back(client: Client, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 302
    login = "/en/login/" if path.startswith("/en/") else "/login/"
    assert response["Location"] == f"{login}?next={quote(path)}"


@pytest.mark.parametrize("path", ["/account/agencies/1/revoke/", "/account/agencies/1/act/", "/account/acting/stop/"])
def test_agency_buttons_need_a_signed_in_user(client: Client, path: str) -> None:
    response = client.post(path)
    assert response.status_code == 302 and response["Location"].startswith("/login/?next=")


def test_agency_buttons_accept_only_post(agent: User) -> None:
    client = signed_in(agent)
    agency = Agency.objects.get(agent=agent)
    assert client.get(f"/account/agencies/{agency.pk}/act/").status_code == 405
    assert client.get(f"/account/agencies/{agency.pk}/revoke/").status_code == 405


def test_visitors_see_sign_in_and_register_links_in_both_languages(client: Client) -> None:
    chinese = html(client.get("/search/?q=x"))
    assert zh("Sign in") in chinese and zh("Register") in chinese
    assert 'href="/login/?next=/search/%3Fq%3Dx"' in chinese  # come back to the same search afterwards
    assert 'href="/register/"' in chinese
    english = html(client.get("/en/"))
    assert 'href="/en/login/?next=/en/"' in english and ">Register<" in english
    # The sign-in page does not link to itself as the place to return to.
    assert 'href="/login/?next=' not in html(client.get("/login/"))


@pytest.mark.parametrize(
    ("path", "english"),
    [
        ("/en/login/", ["Sign in", "ID number or staff user name", "Password", "SMS code", "Forgot the password?"]),
        ("/en/login/?method=sms", ["Mobile phone number", "Send a code", "I already have a code"]),
        ("/en/register/", ["Register a personal account", "Resident ID number", "Name as on the ID card"]),
        ("/en/password/reset/", ["Reset the password", "Step 1 of 2", "Send a code"]),
        ("/en/logout/", ["You are not signed in."]),
    ],
)
def test_public_identity_pages_render_in_english_and_chinese(client: Client, path: str, english: list[str]) -> None:
    page = html(client.get(path))
    assert '<html lang="en">' in page
    missing = [text for text in english if text not in page]
    assert not missing, missing
    chinese = html(client.get(path.removeprefix("/en")))
    assert 'lang="zh-Hans"' in chinese
    assert all(zh(text) in chinese for text in english if not text.startswith("Step"))


# --- every page, every persona ----------------------------------------------------------------------

PAGES = {
    "/account/": 200,
    "/account/enterprises/": 200,
    "/account/agencies/": 200,
    "/login/": 200,
    "/password/reset/": 200,
    "/logout/": 200,
    "/register/": 302,  # signed in already: to my account
    "/account/totp/": 302,  # persons: not for them; staff who passed it: onwards
    "/": 200,
}


@pytest.mark.parametrize("persona", ["citizen", "unverified", "agent", "enterprise_rep", "clerk", "reviewer_a"])
def test_every_identity_page_renders_for_every_persona_without_clear_numbers(
    request: pytest.FixtureRequest, persona: str, staff_client: Callable[[User], Client]
) -> None:
    user: User = request.getfixturevalue(persona)
    is_staff = persona in {"clerk", "reviewer_a"}
    client = staff_client(user) if is_staff else signed_in(user)
    name = mask_name(user.account.real_name)
    for prefix in ("", "/en"):
        for path, status in PAGES.items():
            response = client.get(prefix + path)
            assert response.status_code == status, (prefix + path, response.status_code, response.get("Location"))
            if status == 200:
                page = html(response)
                assert_no_clear_numbers(page)
                assert name in page  # the header names who is signed in, masked
                assert f'action="{prefix}/logout/"' in page  # and signs out with a POST form
                assert "csrfmiddlewaretoken" in page
    account_page = html(client.get("/en/account/"))
    if is_staff:
        assert "Staff account" in account_page and "杭州市西湖区市场监督管理局" in account_page
        assert "Authenticator app set up" in account_page and "Confirmed for this session" in account_page
        assert "Real-name status" not in account_page
    else:
        person = next(p for p in PEOPLE.values() if p.name == user.account.real_name)
        assert mask_id_number(person.id_number) in account_page
        assert mask_phone(person.phone) in account_page
        assert "Staff account" not in account_page


# --- signing in with a password ---------------------------------------------------------------------


def test_a_citizen_signs_in_with_the_id_number_and_gets_a_new_session(client: Client, citizen: User) -> None:
    session = client.session  # a visitor's session, as a browser has after looking around
    session["seen"] = True
    session.save()
    before = client.cookies["sessionid"].value
    response = client.post(
        "/login/", {"action": "password", "login": PEOPLE["citizen"].id_number, "password": PASSWORD}
    )
    assert response.status_code == 302 and response["Location"] == "/account/"
    assert client.cookies["sessionid"].value != before
    page = html(client.get("/account/"))
    assert mask_name("张三") in page and zh("My account") in page


def test_an_id_number_with_a_lower_case_check_letter_signs_in(client: Client, system: SystemActor) -> None:
    number = id_number("330106", dt.date(1992, 4, 2), 1, male=True)
    assert number.endswith("X")
    person = Someone("周八", number, "13300133005", "330106", dt.date(1992, 4, 2), True)
    make_register_person(person)
    services.register_person(actor=system, id_number=number, name=person.name, phone=person.phone, password=PASSWORD)
    response = client.post("/login/", {"action": "password", "login": number.lower(), "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/account/"


@pytest.mark.parametrize(
    ("next_url", "lands_on"),
    [
        ("/search/?q=营业执照&audience=person", "/search/?q=%E8%90%A5%E4%B8%9A%E6%89%A7%E7%85%A7&audience=person"),
        ("https://evil.example/steal", "/account/"),
        ("//evil.example/steal", "/account/"),
    ],
)
def test_sign_in_returns_only_to_pages_of_this_site(
    client: Client, citizen: User, next_url: str, lands_on: str
) -> None:
    response = client.post(
        "/login/",
        {"action": "password", "login": PEOPLE["citizen"].id_number, "password": PASSWORD, "next": next_url},
    )
    assert response.status_code == 302 and response["Location"] == lands_on


def test_the_oidc_authorize_request_survives_the_round_trip_through_sign_in(client: Client, citizen: User) -> None:
    authorize = (
        "/o/authorize/?client_id=dept-system&response_type=code&scope=openid+profile"
        "&redirect_uri=https%3A%2F%2Fdept.example%2Fcallback&state=xyz&code_challenge=abc"
        "&code_challenge_method=S256"
    )
    response = client.get(authorize)
    assert response.status_code == 302
    login = urlsplit(response["Location"])
    assert login.path == "/login/"
    next_url = parse_qs(login.query)["next"][0]
    assert next_url == authorize  # the whole authorization request, query string included
    page = html(client.get(response["Location"]))
    assert f'name="next" value="{next_url}"' in page
    done = client.post(
        "/login/", {"action": "password", "login": PEOPLE["citizen"].id_number, "password": PASSWORD, "next": next_url}
    )
    assert done.status_code == 302 and done["Location"] == authorize


def test_a_wrong_password_shows_the_services_message_and_signs_no_one_in(client: Client, citizen: User) -> None:
    data = {"action": "password", "login": PEOPLE["citizen"].id_number, "password": "wrong"}
    page = html(client.post("/en/login/", data))
    assert "The ID number / user name or the password is wrong." in page
    assert PEOPLE["citizen"].id_number in page  # what the person typed stays in the field…
    assert "wrong" not in re.findall(r'name="password"[^>]*', page)[0]  # …but never the password
    assert "_auth_user_id" not in client.session
    chinese = html(client.post("/login/", data))
    assert zh("The ID number / user name or the password is wrong.") in chinese


def test_five_wrong_passwords_lock_the_account_even_against_the_right_one(client: Client, citizen: User) -> None:
    data = {"action": "password", "login": PEOPLE["citizen"].id_number, "password": "wrong"}
    for _attempt in range(5):
        assert "The ID number / user name or the password is wrong." in html(client.post("/en/login/", data))
    page = html(client.post("/en/login/", {**data, "password": PASSWORD}))
    assert "Too many failed sign-ins. Try again later or reset the password by SMS." in page
    assert "_auth_user_id" not in client.session
    assert Account.objects.get(user=citizen).is_locked()
    chinese = html(client.post("/login/", {**data, "password": PASSWORD}))
    assert zh("Too many failed sign-ins. Try again later or reset the password by SMS.") in chinese


def test_an_empty_form_shows_the_required_fields(client: Client) -> None:
    page = html(client.post("/en/login/", {"action": "password", "login": "", "password": ""}))
    assert page.count("This field is required.") >= 2
    assert 'aria-invalid="true"' in page


# --- signing in with an SMS code --------------------------------------------------------------------


def test_sms_code_sign_in(client: Client, citizen: User, sms: list[Any]) -> None:
    phone = PEOPLE["citizen"].phone
    page = html(client.post("/en/login/", {"action": "send_code", "method": "sms", "phone": phone}))
    assert "If this number belongs to an account, a code was sent to it." in page
    assert f'value="{phone}"' in page  # the code form comes next, with the number filled in
    code = last_code(sms)
    assert sms[-1].phone == phone
    response = client.post("/en/login/", {"action": "code", "method": "sms", "phone": phone, "code": code})
    assert response.status_code == 302 and response["Location"] == "/en/account/"
    assert client.session["_auth_user_id"] == str(citizen.pk)


def test_an_unknown_number_gets_the_same_answer_and_no_message(client: Client, citizen: User, sms: list[Any]) -> None:
    page = html(client.post("/en/login/", {"action": "send_code", "method": "sms", "phone": "13912345678"}))
    assert "If this number belongs to an account, a code was sent to it." in page
    outbox.relay()
    assert sms == []


def test_a_malformed_phone_number_is_refused_next_to_the_field(client: Client) -> None:
    page = html(client.post("/en/login/", {"action": "send_code", "method": "sms", "phone": "12345"}))
    assert "Enter an 11-digit mainland mobile number." in page
    assert 'id="id_phone_error"' in page


def test_a_wrong_sms_code_is_refused_and_signs_no_one_in(client: Client, citizen: User, sms: list[Any]) -> None:
    phone = PEOPLE["citizen"].phone
    client.post("/login/", {"action": "send_code", "method": "sms", "phone": phone})
    code = last_code(sms)
    wrong = "000000" if code != "000000" else "111111"
    data = {"action": "code", "method": "sms", "phone": phone, "code": wrong}
    page = html(client.post("/en/login/", data))
    assert "The code is wrong or has expired. Ask for a new one." in page
    assert "_auth_user_id" not in client.session
    assert zh("The code is wrong or has expired. Ask for a new one.") in html(client.post("/login/", data))


# --- signing out ------------------------------------------------------------------------------------


def test_signing_out_is_a_post_and_lands_on_the_sign_in_page(citizen: User) -> None:
    client = signed_in(citizen)
    confirm = html(client.get("/en/logout/"))
    assert "Sign out of Yiwang on this device?" in confirm
    assert client.session.get("_auth_user_id") == str(citizen.pk)  # a GET signs no one out
    response = client.post("/en/logout/")
    assert response.status_code == 302 and response["Location"] == "/en/login/"
    assert "_auth_user_id" not in client.session
    assert "You have signed out." in html(client.get("/en/login/"))
    assert client.get("/account/").status_code == 302


def test_sign_out_needs_the_csrf_token(citizen: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(citizen)
    assert client.post("/logout/").status_code == 403
    assert client.session.get("_auth_user_id") == str(citizen.pk)


# --- registration -----------------------------------------------------------------------------------


def registration(person: Someone, **changes: str) -> dict[str, str]:
    data = {
        "id_number": person.id_number,
        "name": person.name,
        "phone": person.phone,
        "password": PASSWORD,
        "password_confirm": PASSWORD,
    }
    data.update(changes)
    return data


def test_a_person_in_the_register_registers_verified_and_lands_on_my_account(client: Client) -> None:
    person = PEOPLE["stranger"]
    make_register_person(person)
    response = client.post("/en/register/", registration(person))
    assert response.status_code == 302 and response["Location"] == "/en/account/"
    page = html(client.get("/en/account/"))
    assert "Your account is ready and your real name is verified: you can apply for services." in page
    assert mask_id_number(person.id_number) in page and mask_phone(person.phone) in page
    assert person.id_number not in page and person.phone not in page
    assert "You can apply for services." in page


def test_a_person_unknown_to_the_register_registers_unverified(client: Client) -> None:
    person = PEOPLE["unverified"]
    response = client.post("/register/", registration(person))
    assert response.status_code == 302
    page = html(client.get("/account/"))
    assert (
        zh(
            "Your account is ready, but your real name is not yet verified against the population register: you can "
            "browse but not apply. Ask for the check again below later."
        )
        in page
    )
    assert zh("You cannot apply yet: your real name must be verified first.") in page


def _wrong_check_digit(number: str) -> str:
    return number[:17] + ("0" if number[17] != "0" else "1")


@pytest.mark.parametrize(
    ("case", "field"),
    [
        ("malformed", "id_number"),
        ("check_digit", "id_number"),
        ("name", "name"),
        ("duplicate", "id_number"),
        ("phone", "phone"),
        ("weak_password", "password"),
    ],
)
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_registration_refusals_are_shown_next_to_their_field_and_change_nothing(
    client: Client, citizen: User, system: SystemActor, case: str, field: str, language: str
) -> None:
    person = PEOPLE["stranger"]
    make_register_person(person)
    data = {
        "malformed": registration(person, id_number="12345"),
        "check_digit": registration(person, id_number=_wrong_check_digit(person.id_number)),
        "name": registration(person, name="孙八"),
        "duplicate": registration(PEOPLE["citizen"]),
        "phone": registration(person, phone="02112345678"),
        "weak_password": registration(person, password="12345678", password_confirm="12345678"),
    }[case]
    expected = refusal(
        lambda: services.register_person(
            actor=system, id_number=data["id_number"], name=data["name"], phone=data["phone"], password=data["password"]
        ),
        language,
    )
    users = User.objects.count()
    prefix = "/en" if language == "en" else ""
    page = html(client.post(f"{prefix}/register/", data))
    for message in expected:
        assert message in page
    assert f'id="id_{field}_error"' in page  # next to the field it is about
    assert User.objects.count() == users
    assert "_auth_user_id" not in client.session


def test_registration_passwords_must_match(client: Client) -> None:
    person = PEOPLE["stranger"]
    page = html(client.post("/en/register/", registration(person, password_confirm="something else entirely")))
    assert "The two passwords are not the same." in page
    assert not Account.objects.exists()


def test_signed_in_people_are_sent_from_registration_to_their_account(citizen: User) -> None:
    assert signed_in(citizen).get("/register/")["Location"] == "/account/"


# --- password reset ---------------------------------------------------------------------------------


def test_password_reset_by_sms_sets_the_password_and_lifts_a_lock(
    client: Client, citizen: User, sms: list[Any], settings: Any
) -> None:
    login = {"action": "password", "login": PEOPLE["citizen"].id_number, "password": "wrong"}
    for _attempt in range(settings.YIWANG_LOGIN_MAX_FAILURES):
        client.post("/login/", login)
    assert Account.objects.get(user=citizen).is_locked()
    phone = PEOPLE["citizen"].phone
    step2 = html(client.post("/en/password/reset/", {"action": "send_code", "phone": phone}))
    assert "If this number belongs to an account, a code was sent to it." in step2
    assert "Step 2 of 2" in step2
    response = client.post(
        "/en/password/reset/",
        {
            "action": "reset",
            "phone": phone,
            "code": last_code(sms),
            "new_password": NEW_PASSWORD,
            "new_password_confirm": NEW_PASSWORD,
        },
    )
    assert response.status_code == 302 and response["Location"] == "/en/login/"
    assert "Your password has been changed. Sign in with the new password." in html(client.get("/en/login/"))
    signed = client.post("/login/", {**login, "password": NEW_PASSWORD})
    assert signed.status_code == 302 and signed["Location"] == "/account/"


def test_password_reset_with_a_wrong_code_changes_nothing(client: Client, citizen: User, sms: list[Any]) -> None:
    phone = PEOPLE["citizen"].phone
    client.post("/password/reset/", {"action": "send_code", "phone": phone})
    code = last_code(sms)
    data = {
        "action": "reset",
        "phone": phone,
        "code": "000000" if code != "000000" else "111111",
        "new_password": NEW_PASSWORD,
        "new_password_confirm": NEW_PASSWORD,
    }
    page = html(client.post("/password/reset/", data))
    assert zh("The code is wrong or has expired. Ask for a new one.") in page
    assert 'id="id_code_error"' in page
    citizen.refresh_from_db()
    assert citizen.check_password(PASSWORD)


def test_password_reset_with_a_weak_password_shows_the_rules_next_to_it(
    client: Client, citizen: User, sms: list[Any]
) -> None:
    phone = PEOPLE["citizen"].phone
    client.post("/password/reset/", {"action": "send_code", "phone": phone})
    data = {"action": "reset", "phone": phone, "code": last_code(sms)}
    expected = refusal(lambda: services.reset_password(phone=phone, code="x", new_password="12345678"))
    page = html(
        client.post("/en/password/reset/", {**data, "new_password": "12345678", "new_password_confirm": "12345678"})
    )
    assert expected and all(m in page for m in expected)
    assert 'id="id_new_password_error"' in page


# --- my account -------------------------------------------------------------------------------------


def test_an_unverified_person_checks_again_once_the_register_knows_her(unverified: User) -> None:
    client = signed_in(unverified)
    page = html(client.get("/en/account/"))
    assert "Not verified" in page and "Check again" in page
    assert "You cannot apply yet: your real name must be verified first." in page
    refused = html(client.post("/en/account/", {"action": "verify"}))
    assert "The population register has no record of this ID number yet." in refused
    assert not Account.objects.get(user=unverified).is_verified
    make_register_person(PEOPLE["unverified"])
    response = client.post("/en/account/", {"action": "verify"})
    assert response.status_code == 302
    page = html(client.get("/en/account/"))
    assert "Your real name is verified: you can now apply for services." in page
    assert "Check again" not in page and "You can apply for services." in page


def test_changing_the_password(citizen: User) -> None:
    client = signed_in(citizen)
    wrong = html(
        client.post(
            "/en/account/",
            {
                "action": "password",
                "old_password": "not it",
                "new_password": NEW_PASSWORD,
                "new_password_confirm": NEW_PASSWORD,
            },
        )
    )
    assert "The current password is wrong." in wrong and 'id="id_old_password_error"' in wrong
    weak = html(
        client.post(
            "/en/account/",
            {
                "action": "password",
                "old_password": PASSWORD,
                "new_password": "12345678",
                "new_password_confirm": "12345678",
            },
        )
    )
    assert 'id="id_new_password_error"' in weak
    citizen.refresh_from_db()
    assert citizen.check_password(PASSWORD)
    done = client.post(
        "/en/account/",
        {
            "action": "password",
            "old_password": PASSWORD,
            "new_password": NEW_PASSWORD,
            "new_password_confirm": NEW_PASSWORD,
        },
    )
    assert done.status_code == 302
    assert "Your password has been changed." in html(client.get("/en/account/"))  # still signed in here
    citizen.refresh_from_db()
    assert citizen.check_password(NEW_PASSWORD)


# --- enterprises ------------------------------------------------------------------------------------


def test_the_legal_representative_binds_the_enterprise(enterprise_rep: User) -> None:
    make_register_entity(ENTERPRISE, PEOPLE["representative"])
    client = signed_in(enterprise_rep)
    assert "No enterprise is bound to your account yet." in html(client.get("/en/account/enterprises/"))
    response = client.post("/en/account/enterprises/", {"uscc": ENTERPRISE.uscc.lower(), "name": ENTERPRISE.name})
    assert response.status_code == 302
    page = html(client.get("/en/account/enterprises/"))
    assert f"{ENTERPRISE.name} is now bound to your account." in page
    assert ENTERPRISE.uscc in page
    assert Enterprise.objects.get(uscc=ENTERPRISE.uscc).representative == enterprise_rep


def _bad_uscc_check_char(code: str) -> str:
    return code[:17] + ("0" if code[17] != "0" else "1")


@pytest.mark.parametrize(
    ("case", "who"),
    [
        ("malformed", "enterprise_rep"),
        ("check_char", "enterprise_rep"),
        ("unknown", "enterprise_rep"),
        ("name", "enterprise_rep"),
        ("cancelled", "enterprise_rep"),
        ("not_representative", "citizen"),
        ("unverified", "unverified"),
    ],
)
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_binding_refusals_are_shown_and_change_nothing(
    request: pytest.FixtureRequest, case: str, who: str, language: str
) -> None:
    user: User = request.getfixturevalue(who)
    make_register_entity(ENTERPRISE, PEOPLE["representative"])
    make_register_entity(CANCELLED_ENTITY, PEOPLE["representative"], status="cancelled")
    data = {
        "malformed": {"uscc": "91330106-XYZ", "name": ENTERPRISE.name},
        "check_char": {"uscc": _bad_uscc_check_char(ENTERPRISE.uscc), "name": ENTERPRISE.name},
        "unknown": {"uscc": build_uscc("91", "330106", "MA2A0009"), "name": ENTERPRISE.name},
        "name": {"uscc": ENTERPRISE.uscc, "name": "杭州别的公司"},
        "cancelled": {"uscc": CANCELLED_ENTITY.uscc, "name": CANCELLED_ENTITY.name},
        "not_representative": {"uscc": ENTERPRISE.uscc, "name": ENTERPRISE.name},
        "unverified": {"uscc": ENTERPRISE.uscc, "name": ENTERPRISE.name},
    }[case]
    expected = refusal(lambda: services.bind_enterprise(actor=user, **data), language)
    prefix = "/en" if language == "en" else ""
    page = html(signed_in(user).post(f"{prefix}/account/enterprises/", data))
    assert all(message in page for message in expected), expected
    assert not Enterprise.objects.exists()


# --- agencies ---------------------------------------------------------------------------------------


def grant(**changes: str) -> dict[str, str]:
    data = {
        "principal": "self",
        "agent_id_number": PEOPLE["citizen"].id_number,
        "agent_name": PEOPLE["citizen"].name,
        "scope": "all",
        "item_codes": "",
        "valid_from": timezone.localdate().isoformat(),
        "valid_until": in_a_year(),
    }
    data.update(changes)
    return data


def test_the_representative_grants_an_agency_for_the_enterprise_for_all_items(
    enterprise: Enterprise, enterprise_rep: User, citizen: User
) -> None:
    client = signed_in(enterprise_rep)
    response = client.post("/en/account/agencies/", grant(principal=f"enterprise:{enterprise.pk}"))
    assert response.status_code == 302
    agency = Agency.objects.get(agent=citizen)
    assert agency.enterprise == enterprise and agency.all_items
    # The last chosen day is included: the agency ends with it, in the site's time zone.
    assert timezone.localtime(agency.valid_until).date().isoformat() == in_a_year()
    assert timezone.localtime(agency.valid_until).time() == dt.time.max
    page = html(client.get("/en/account/agencies/"))
    assert "张三 (" + mask_id_number(PEOPLE["citizen"].id_number) + ") can now act for " + ENTERPRISE.name in page
    assert "In force" in page and "All items" in page
    assert_no_clear_numbers(page)
    # The agent sees it among the agencies they hold, with the enterprise named and its code.
    held = html(signed_in(citizen).get("/en/account/agencies/"))
    assert ENTERPRISE.name in held and ENTERPRISE.uscc in held and "Act for this principal" in held
    assert_no_clear_numbers(held)


def test_a_person_appoints_a_proxy_for_some_items(citizen: User, system: SystemActor) -> None:
    BasicItem.objects.create(code="000131128000", name="个体工商户登记", item_type="01")
    BasicItem.objects.create(code="000131128900", name="营业执照补领", item_type="01")
    proxy = register(system, "agent")
    client = signed_in(citizen)
    form = html(client.get("/en/account/agencies/"))
    assert "000131128000 个体工商户登记" in form  # few basic items: offered in a list too
    data = grant(
        agent_id_number=PEOPLE["agent"].id_number,
        agent_name=PEOPLE["agent"].name,
        scope="listed",
        item_codes="000131128000，",
        basic_items="000131128900",
    )
    assert client.post("/en/account/agencies/", data).status_code == 302
    agency = Agency.objects.get(agent=proxy)
    assert agency.principal_user == citizen and not agency.all_items
    assert agency.item_codes == ["000131128000", "000131128900"]
    held = html(signed_in(proxy).get("/en/account/agencies/"))
    assert "张三" in held and mask_id_number(PEOPLE["citizen"].id_number) in held
    assert "000131128000" in held
    assert_no_clear_numbers(held)


@pytest.mark.parametrize(
    ("case", "field"),
    [
        ("agent_unknown", "agent_id_number"),
        ("agent_malformed", "agent_id_number"),
        ("agent_name", "agent_name"),
        ("period_past", "valid_from"),
        ("period_too_long", "valid_until"),
        ("unknown_item", "item_codes"),
        ("no_items", "item_codes"),
        ("myself", "agent_id_number"),
    ],
)
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_grant_refusals_are_shown_next_to_their_field_and_change_nothing(
    enterprise: Enterprise, enterprise_rep: User, citizen: User, case: str, field: str, language: str
) -> None:
    ent = f"enterprise:{enterprise.pk}"
    data = {
        "agent_unknown": grant(principal=ent, agent_id_number=PEOPLE["stranger"].id_number, agent_name="孙七"),
        "agent_malformed": grant(principal=ent, agent_id_number="3301061990"),
        "agent_name": grant(principal=ent, agent_name="张四"),
        "period_past": grant(principal=ent, valid_from="2020-01-01", valid_until="2020-06-30"),
        "period_too_long": grant(principal=ent, valid_until="2099-01-01"),
        "unknown_item": grant(principal=ent, scope="listed", item_codes="999999999999"),
        "no_items": grant(principal=ent, scope="listed", item_codes=""),
        "myself": grant(agent_id_number=PEOPLE["representative"].id_number, agent_name="王五"),
    }[case]
    zone = timezone.get_current_timezone()
    expected = refusal(
        lambda: services.grant_agency(
            actor=enterprise_rep,
            agent_id_number=data["agent_id_number"],
            agent_name=data["agent_name"],
            enterprise=enterprise if data["principal"] != "self" else None,
            all_items=data["scope"] == "all",
            item_codes=[c for c in data["item_codes"].split(",") if c],
            valid_from=dt.datetime.combine(dt.date.fromisoformat(data["valid_from"]), dt.time.min, tzinfo=zone),
            valid_until=dt.datetime.combine(dt.date.fromisoformat(data["valid_until"]), dt.time.max, tzinfo=zone),
        ),
        language,
    )
    prefix = "/en" if language == "en" else ""
    page = html(signed_in(enterprise_rep).post(f"{prefix}/account/agencies/", data))
    assert all(message in page for message in expected), expected
    assert f'id="id_{field}_error"' in page  # next to the field it is about
    assert 'class="error-summary"' in page
    assert not Agency.objects.exists()


def test_grant_refusal_messages_are_the_services_own(
    enterprise: Enterprise, enterprise_rep: User, citizen: User
) -> None:
    ent = f"enterprise:{enterprise.pk}"
    client = signed_in(enterprise_rep)
    cases = {
        "No personal account has this ID number. The agent must register first.": grant(
            principal=ent, agent_id_number=PEOPLE["stranger"].id_number, agent_name="孙七"
        ),
        "The agent's name does not match the account with this ID number.": grant(principal=ent, agent_name="张四"),
        "An agency cannot start in the past.": grant(principal=ent, valid_from="2020-01-01", valid_until="2020-06-30"),
        "Unknown item codes: 999999999999": grant(principal=ent, scope="listed", item_codes="999999999999"),
        "You cannot appoint yourself as your own proxy.": grant(
            agent_id_number=PEOPLE["representative"].id_number, agent_name="王五"
        ),
    }
    for message, data in cases.items():
        assert message in html(client.post("/en/account/agencies/", data)), message
        chinese = (
            zh("Unknown item codes: %(codes)s") % {"codes": "999999999999"}
            if message.startswith("Unknown")
            else zh(message)
        )
        assert chinese in html(client.post("/account/agencies/", data)), message


def test_an_unverified_person_cannot_appoint_a_proxy(unverified: User, citizen: User) -> None:
    page = html(signed_in(unverified).post("/en/account/agencies/", grant()))
    assert "Verify your real name before appointing a proxy." in page
    assert not Agency.objects.exists()


def test_a_form_cannot_name_someone_elses_enterprise(
    enterprise: Enterprise, citizen: User, system: SystemActor
) -> None:
    register(system, "agent")
    page = html(
        signed_in(citizen).post(
            "/en/account/agencies/",
            grant(
                principal=f"enterprise:{enterprise.pk}", agent_id_number=PEOPLE["agent"].id_number, agent_name="李四"
            ),
        )
    )
    assert 'id="id_principal_error"' in page
    assert not Agency.objects.exists()


def _agency(agent: User) -> Agency:
    return Agency.objects.get(agent=agent)


def test_the_agent_acts_for_the_enterprise_and_stops(agent: User) -> None:
    client = signed_in(agent)
    agency = _agency(agent)
    response = client.post(f"/en/account/agencies/{agency.pk}/act/")
    assert response.status_code == 302 and client.session[SESSION_KEY] == agency.pk
    home = html(client.get("/en/"))
    assert f"You are acting for <strong>{ENTERPRISE.name}</strong>." in home
    assert f"You now act for {ENTERPRISE.name}." in home
    agencies = html(client.get("/en/account/agencies/"))
    assert "Acting now" in agencies and "Act for this principal" not in agencies
    chinese = html(client.get("/search/"))
    assert ENTERPRISE.name in chinese and 'class="acting-banner"' in chinese
    stop = client.post("/en/account/acting/stop/", {"next": "/en/search/"})
    assert stop.status_code == 302 and stop["Location"] == "/en/search/"
    page = html(client.get("/en/search/"))
    assert 'class="acting-banner"' not in page and "You act for yourself again." in page
    assert SESSION_KEY not in client.session


def test_a_revoked_agency_ends_the_acting_at_the_next_page(agent: User, enterprise_rep: User) -> None:
    agent_client = signed_in(agent)
    agency = _agency(agent)
    agent_client.post(f"/account/agencies/{agency.pk}/act/")
    rep = signed_in(enterprise_rep)
    response = rep.post(f"/en/account/agencies/{agency.pk}/revoke/")
    assert response.status_code == 302
    rep_page = html(rep.get("/en/account/agencies/"))
    assert "The agency of 李四 (" + mask_id_number(PEOPLE["agent"].id_number) + ") is revoked." in rep_page
    assert "Revoked" in rep_page and "status-revoked" in rep_page
    page = html(agent_client.get("/en/"))
    assert 'class="acting-banner"' not in page
    assert f"You no longer act for {ENTERPRISE.name}: This agency has been revoked." in page
    assert SESSION_KEY not in agent_client.session
    chinese = html(agent_client.get("/account/agencies/"))  # revoked: no button to act again
    assert zh("Act for this principal") not in chinese and zh("Revoked") in chinese


def test_an_agency_that_runs_out_ends_the_acting_at_the_next_page(agent: User) -> None:
    client = signed_in(agent)
    agency = _agency(agent)
    client.post(f"/account/agencies/{agency.pk}/act/")
    past = timezone.now() - dt.timedelta(days=1)
    Agency.objects.filter(pk=agency.pk).update(valid_from=past - dt.timedelta(days=30), valid_until=past)
    page = html(client.get("/en/account/"))
    assert 'class="acting-banner"' not in page
    assert f"You no longer act for {ENTERPRISE.name}: This agency expired on" in page
    assert "Expired" in html(client.get("/en/account/agencies/"))
    refused = client.post(f"/en/account/agencies/{agency.pk}/act/")
    assert refused.status_code == 302
    assert "This agency expired on" in html(client.get("/en/account/agencies/"))
    assert SESSION_KEY not in client.session


def test_acting_under_a_revoked_agency_is_refused(agent: User, enterprise_rep: User) -> None:
    agency = _agency(agent)
    services.revoke_agency(actor=enterprise_rep, agency=agency)
    client = signed_in(agent)
    client.post(f"/en/account/agencies/{agency.pk}/act/")
    assert "This agency has been revoked." in html(client.get("/en/account/agencies/"))
    assert SESSION_KEY not in client.session


def test_an_agency_not_yet_in_force_is_shown_as_such(
    enterprise: Enterprise, enterprise_rep: User, citizen: User
) -> None:
    start = timezone.localdate() + dt.timedelta(days=10)
    signed_in(enterprise_rep).post(
        "/en/account/agencies/", grant(principal=f"enterprise:{enterprise.pk}", valid_from=start.isoformat())
    )
    held = html(signed_in(citizen).get("/en/account/agencies/"))
    assert "Not yet in force" in held and "status-not_yet" in held
    assert "Act for this principal" not in held


def test_nobody_else_can_act_under_or_revoke_an_agency(agent: User, citizen: User) -> None:
    agency = _agency(agent)
    client = signed_in(citizen)
    client.post(f"/en/account/agencies/{agency.pk}/act/")
    assert "No such agency for you." in html(client.get("/en/account/agencies/"))
    assert SESSION_KEY not in client.session
    assert client.post(f"/en/account/agencies/{agency.pk}/revoke/").status_code == 404
    assert Agency.objects.get(pk=agency.pk).revoked_at is None


def test_the_agent_may_give_an_agency_up(agent: User) -> None:
    client = signed_in(agent)
    agency = _agency(agent)
    client.post(f"/account/agencies/{agency.pk}/act/")
    assert client.post(f"/en/account/agencies/{agency.pk}/revoke/").status_code == 302
    page = html(client.get("/en/account/agencies/"))
    assert f"You no longer act for {ENTERPRISE.name}." in page
    assert 'class="acting-banner"' not in page
    assert Agency.objects.get(pk=agency.pk).revoked_by == agent


def test_a_stale_session_value_is_dropped_quietly(agent: User) -> None:
    client = signed_in(agent)
    session = client.session
    session[SESSION_KEY] = "not a number"
    session.save()
    page = html(client.get("/en/"))
    assert 'class="acting-banner"' not in page
    assert SESSION_KEY not in client.session


# --- staff and the second factor --------------------------------------------------------------------


def test_staff_sign_in_with_a_password_goes_on_to_the_second_factor(client: Client, clerk: User) -> None:
    response = client.post(
        "/en/login/", {"action": "password", "login": "clerk", "password": PASSWORD, "next": "/en/search/?q=a"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/en/account/totp/?" + "next=%2Fen%2Fsearch%2F%3Fq%3Da"


@pytest.mark.parametrize(
    ("path", "to"),
    [
        ("/", "/account/totp/?next=%2F"),
        ("/account/", "/account/totp/?next=%2Faccount%2F"),
        ("/en/search/?q=a&type=01", "/en/account/totp/?next=%2Fen%2Fsearch%2F%3Fq%3Da%26type%3D01"),
        ("/en/account/agencies/", "/en/account/totp/?next=%2Fen%2Faccount%2Fagencies%2F"),
        ("/admin/", "/account/totp/?next=%2Fadmin%2F"),
        ("/login/", "/account/totp/?next=%2Flogin%2F"),
    ],
)
def test_staff_without_the_second_factor_are_sent_to_it_from_any_page(clerk: User, path: str, to: str) -> None:
    response = signed_in(clerk).get(path)
    assert response.status_code == 302 and response["Location"] == to


@pytest.mark.parametrize(
    "path", ["/account/totp/", "/en/account/totp/", "/logout/", "/en/logout/", "/static/portal/portal.css"]
)
def test_the_second_factor_page_sign_out_and_static_files_stay_reachable(clerk: User, path: str) -> None:
    assert signed_in(clerk).get(path).status_code == 200


def test_staff_api_calls_without_the_second_factor_are_refused(clerk: User, manager: User) -> None:
    for user in (clerk, manager):
        response = signed_in(user).get("/api/v1/items/", HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 403
        assert response.json()["detail"] == en("Staff must confirm the second factor (TOTP) first.")


def test_persons_are_not_asked_for_a_second_factor(citizen: User) -> None:
    client = signed_in(citizen)
    assert client.get("/").status_code == 200
    response = client.get("/account/totp/")
    assert response.status_code == 302 and response["Location"] == "/account/"


def test_staff_enrol_an_authenticator_app(clerk: User) -> None:
    client = signed_in(clerk)
    page = html(client.get("/en/account/totp/?next=/en/account/agencies/"))
    device = TOTPDevice.objects.get(user=clerk, confirmed=False)
    assert '<svg class="totp-qr" role="img" aria-label="QR code for the authenticator app"' in page
    secret = re.search(r'<code class="totp-secret" data-secret>([A-Z2-7 ]+)</code>', page)
    assert secret is not None
    raw = secret.group(1).replace(" ", "")
    assert base64.b32decode(raw + "=" * (-len(raw) % 8)) == device.bin_key
    assert 'name="next" value="/en/account/agencies/"' in page
    # A reload shows the same secret: what the person scanned stays valid.
    assert secret.group(1) in html(client.get("/en/account/totp/"))
    assert TOTPDevice.objects.filter(user=clerk).count() == 1

    wrong = "000000" if totp_token(device) != "000000" else "111111"
    refused = html(client.post("/en/account/totp/", {"token": wrong, "next": "/en/account/agencies/"}))
    assert "The code from the authenticator app is wrong. Check the phone's clock and retry." in refused
    assert 'id="id_token_error"' in refused
    device.refresh_from_db()
    assert not device.confirmed
    assert client.get("/en/account/").status_code == 302

    device.throttle_reset()  # the wrong code made django-otp hold back the next attempt for a second
    response = client.post("/en/account/totp/", {"token": totp_token(device), "next": "/en/account/agencies/"})
    assert response.status_code == 302 and response["Location"] == "/en/account/agencies/"
    device.refresh_from_db()
    assert device.confirmed
    page = html(client.get("/en/account/"))
    assert "Your authenticator app is set up." in page
    assert "Authenticator app set up" in page and "Confirmed for this session" in page
    assert "Window clerk" in page and "杭州市西湖区市场监督管理局" in page
    assert zh("Window clerk") in html(client.get("/account/")) and "杭州市西湖区" in html(client.get("/account/"))
    assert signed_in(clerk).get("/").status_code == 302  # another session must pass the factor too


def test_staff_with_an_authenticator_type_a_code(clerk: User) -> None:
    device = TOTPDevice.objects.create(user=clerk, name="phone", confirmed=True)
    client = signed_in(clerk)
    page = html(client.get("/account/totp/"))
    assert "totp-qr" not in page and "totp-secret" not in page  # the secret is shown only while enrolling
    assert zh("Type the six-digit code that your authenticator app shows for this account.") in page
    wrong = "000000" if totp_token(device) != "000000" else "111111"
    refused = html(client.post("/account/totp/", {"token": wrong}))
    assert zh("The code from the authenticator app is wrong. Check the phone's clock and retry.") in refused
    assert client.get("/").status_code == 302
    device.throttle_reset()
    response = client.post("/account/totp/", {"token": totp_token(device)})
    assert response.status_code == 302 and response["Location"] == "/account/"
    assert client.get("/").status_code == 200
    assert client.get("/account/totp/?next=/search/")["Location"] == "/search/"  # passed: straight on


def test_the_second_factor_page_refuses_a_foreign_next(clerk: User) -> None:
    device = TOTPDevice.objects.create(user=clerk, name="phone", confirmed=True)
    client = signed_in(clerk)
    response = client.post("/account/totp/", {"token": totp_token(device), "next": "https://evil.example/"})
    assert response["Location"] == "/account/"


def test_staff_with_the_factor_turned_off_go_straight_on(client: Client, clerk: User, settings: Any) -> None:
    settings.YIWANG_STAFF_REQUIRE_TOTP = False
    response = client.post("/login/", {"action": "password", "login": "clerk", "password": PASSWORD})
    assert response["Location"] == "/account/"
    assert client.get("/").status_code == 200


# --- changing and confirming the phone --------------------------------------------------------------


def test_a_person_changes_the_phone_by_proving_the_new_number(citizen: User, sms: list[Any]) -> None:
    client = signed_in(citizen)
    new = "13711112222"
    page = html(client.post("/en/account/", {"action": "send_new_phone_code", "phone": new}))
    assert "A code was sent to the new number." in page
    code = last_code(sms)
    assert sms[-1].phone == new
    wrong = "000000" if code != "000000" else "111111"
    refused = html(client.post("/en/account/", {"action": "change_phone", "phone": new, "code": wrong}))
    assert "The code is wrong or has expired." in refused
    citizen.account.refresh_from_db()
    assert citizen.account.phone == PEOPLE["citizen"].phone
    done = client.post("/en/account/", {"action": "change_phone", "phone": new, "code": code})
    assert done.status_code == 302
    citizen.account.refresh_from_db()
    assert citizen.account.phone == new and citizen.account.phone_confirmed_at is not None
    page = html(client.get("/en/account/"))
    assert "137****2222" in page and new not in page


def test_a_malformed_new_phone_is_refused_next_to_its_field(citizen: User, sms: list[Any]) -> None:
    page = html(signed_in(citizen).post("/en/account/", {"action": "send_new_phone_code", "phone": "12345"}))
    assert "Enter an 11-digit mainland mobile number." in page
    outbox.relay()
    assert sms == []


def test_an_unconfirmed_phone_is_confirmed_from_my_account(system: SystemActor, sms: list[Any]) -> None:
    person = PEOPLE["stranger"]
    user = services.register_person(
        actor=system, id_number=person.id_number, name=person.name, phone=person.phone, password=PASSWORD
    )
    client = signed_in(user)
    assert "SMS sign-in and password reset work only after confirmation" in html(client.get("/en/account/"))
    client.post("/en/account/", {"action": "send_phone_code"})
    code = last_code(sms)
    response = client.post("/en/account/", {"action": "confirm_phone", "code": code})
    assert response.status_code == 302
    user.account.refresh_from_db()
    assert user.account.phone_confirmed_at is not None
