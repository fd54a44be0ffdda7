"""Identity in a real browser: registering, signing in and out, enterprises and agencies, the staff second
factor, and the English sign-in page.

Drives Debian's chromium through Playwright's sync API against pytest-django's live server, like
test_e2e_browser.py. Skipped only on a developer machine without /usr/bin/chromium; in CI (``CI`` set) it
always runs. Screenshots for humans land in ``test-artifacts/`` at the repository root.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.utils import translation
from django.utils.translation import gettext, pgettext

from yiwang.audit.actors import SystemActor
from yiwang.common.masking import mask_id_number
from yiwang.conftest import PASSWORD
from yiwang.identity import services
from yiwang.identity.models import Agency, Enterprise
from yiwang.identity.tests.people import ENTERPRISE, PEOPLE, make_register_entity, make_register_person
from yiwang.portal.tests.browser import ARTIFACTS, require_chromium

require_chromium()

from django_otp.oath import totp  # noqa: E402 - after the skip, like the Playwright import
from playwright.sync_api import Page, expect  # noqa: E402

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def zh_status(message: str) -> str:
    """An agency status as the Chinese pages show it (a label with its own context)."""
    with translation.override("zh-hans"):
        return pgettext("agency status", message)


def zh(message: str) -> str:
    """A message as the Chinese pages show it (its msgid until the zh-Hans catalogue has it)."""
    with translation.override("zh-hans"):
        return gettext(message)


@pytest.fixture(autouse=True)
def _artifacts() -> None:
    ARTIFACTS.mkdir(exist_ok=True)


def sign_in(page: Page, base: str, login: str, *, prefix: str = "") -> None:
    page.goto(f"{base}{prefix}/login/")
    label = "ID number or staff user name" if prefix == "/en" else zh("ID number or staff user name")
    password = "Password" if prefix == "/en" else zh("Password")
    page.get_by_label(label).fill(login)
    page.get_by_label(password, exact=True).fill(PASSWORD)
    page.locator("form.stack-form button[type=submit]").click()


def test_a_new_person_registers_signs_out_and_signs_in_again(page: Page, live_server: Any) -> None:
    person = PEOPLE["stranger"]
    make_register_person(person)
    base = live_server.url

    page.goto(f"{base}/")
    page.locator(".account-links").get_by_role("link", name=zh("Register")).click()
    page.wait_for_url("**/register/")
    page.get_by_label(zh("Resident ID number")).fill(person.id_number)
    page.get_by_label(zh("Name as on the ID card")).fill(person.name)
    page.get_by_label(zh("Mobile phone number")).fill(person.phone)
    page.get_by_label(zh("Password"), exact=True).fill(PASSWORD)
    page.get_by_label(zh("Password again")).fill(PASSWORD)
    page.screenshot(path=str(ARTIFACTS / "identity-register-zh.png"), full_page=True)
    page.get_by_role("button", name=zh("Register")).click()

    # My account: verified at once (the register knows 孙七), numbers masked, the header names him masked.
    page.wait_for_url(f"{base}/account/")
    expect(page.locator(".message-success")).to_contain_text(
        zh("Your account is ready and your real name is verified: you can apply for services.")
    )
    expect(page.locator("main")).to_contain_text(mask_id_number(person.id_number))
    expect(page.locator(".account-name")).to_contain_text("孙*")
    assert person.id_number not in page.content() and person.phone not in page.content()
    page.screenshot(path=str(ARTIFACTS / "identity-account-zh.png"), full_page=True)

    # Sign out (a POST from the header), then back in with the ID number.
    page.locator(".account-links").get_by_role("button", name=zh("Sign out")).click()
    page.wait_for_url(f"{base}/login/")
    expect(page.locator(".message-success")).to_contain_text(zh("You have signed out."))
    expect(page.locator(".account-links")).to_contain_text(zh("Sign in"))
    sign_in(page, base, person.id_number)
    page.wait_for_url(f"{base}/account/")
    expect(page.locator("h1")).to_have_text(zh("My account"))


def test_an_agent_acts_for_an_enterprise_until_the_representative_revokes_it(
    page: Page, second_page: Page, live_server: Any, enterprise_rep: User, system: SystemActor
) -> None:
    base = live_server.url
    make_register_entity(ENTERPRISE, PEOPLE["representative"])
    li_si = PEOPLE["agent"]
    make_register_person(li_si)
    services.register_person(
        actor=system, id_number=li_si.id_number, name=li_si.name, phone=li_si.phone, password=PASSWORD
    )

    # 王五 binds his enterprise…
    rep = page
    sign_in(rep, base, PEOPLE["representative"].id_number)
    rep.wait_for_url(f"{base}/account/")
    rep.goto(f"{base}/account/enterprises/")
    rep.get_by_label(zh("Unified social credit code")).fill(ENTERPRISE.uscc)
    rep.get_by_label(zh("Registered name of the enterprise")).fill(ENTERPRISE.name)
    rep.get_by_role("button", name=zh("Bind the enterprise")).click()
    expect(rep.locator(".message-success")).to_contain_text(ENTERPRISE.name)
    expect(rep.locator("table.simple")).to_contain_text(ENTERPRISE.uscc)

    # …and appoints 李四 for all items for a year (the form's defaults).
    rep.get_by_role("link", name=zh("Appoint or revoke agents")).click()
    rep.wait_for_url(f"{base}/account/agencies/")
    expect(rep.get_by_label(zh("On behalf of"))).to_have_value(f"enterprise:{Enterprise.objects.get().pk}")
    rep.get_by_label(zh("Agent's resident ID number")).fill(li_si.id_number)
    rep.get_by_label(zh("Agent's name")).fill(li_si.name)
    rep.get_by_role("button", name=zh("Grant the agency")).click()
    expect(rep.locator(".message-success")).to_contain_text(mask_id_number(li_si.id_number))
    granted = rep.locator("table.agency-table").first
    expect(granted).to_contain_text(li_si.name)
    expect(granted).to_contain_text(mask_id_number(li_si.id_number))
    expect(granted.locator(".badge.status-in_force")).to_have_text(zh_status("In force"))
    assert li_si.id_number not in rep.content()
    rep.screenshot(path=str(ARTIFACTS / "identity-agencies-granted-zh.png"), full_page=True)

    # 李四 signs in, sees the agency and acts for the enterprise: the banner says so on every page.
    agent = second_page
    sign_in(agent, base, li_si.id_number)
    agent.wait_for_url(f"{base}/account/")
    agent.get_by_role("link", name=zh("Agencies")).first.click()
    held = agent.locator("table.agency-table")
    expect(held).to_contain_text(ENTERPRISE.name)
    held.get_by_role("button", name=zh("Act for this principal")).click()
    banner = agent.locator(".acting-banner")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text(ENTERPRISE.name)
    agent.goto(f"{base}/search/")
    expect(agent.locator(".acting-banner")).to_contain_text(ENTERPRISE.name)
    agent.screenshot(path=str(ARTIFACTS / "identity-acting-zh.png"), full_page=True)

    # 王五 revokes it; 李四's next page load has no banner, and a notice says why.
    rep.reload()
    rep.locator("table.agency-table").first.get_by_role("button", name=zh("Revoke")).click()
    expect(rep.locator(".message-success")).to_be_visible()
    expect(rep.locator("table.agency-table").first.locator(".badge.status-revoked")).to_have_text(zh("Revoked"))
    agent.reload()
    expect(agent.locator(".acting-banner")).to_have_count(0)
    expect(agent.locator(".message-warning")).to_contain_text(ENTERPRISE.name)
    expect(agent.locator(".message-warning")).to_contain_text(zh("This agency has been revoked."))
    agent.screenshot(path=str(ARTIFACTS / "identity-acting-ended-zh.png"), full_page=True)
    assert Agency.objects.get().revoked_by == enterprise_rep


def test_a_staff_member_enrols_the_authenticator_at_first_sign_in(page: Page, live_server: Any, clerk: User) -> None:
    base = live_server.url
    sign_in(page, base, "clerk")
    page.wait_for_url(f"{base}/account/totp/**")
    expect(page.locator("svg.totp-qr")).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "identity-totp-enrol-zh.png"), full_page=True)

    # Any other page sends the staff member back here until the code is confirmed.
    page.goto(f"{base}/search/")
    page.wait_for_url(f"{base}/account/totp/?next=%2Fsearch%2F")

    # Type the key into an "authenticator app" (computed here) and the code it shows into the page.
    secret = page.locator(".totp-secret").inner_text().replace(" ", "")
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    page.get_by_label(zh("Six-digit code from the authenticator app")).fill(f"{totp(key):06d}")
    page.get_by_role("button", name=zh("Finish setting up")).click()

    page.wait_for_url(f"{base}/search/")  # where the staff member was going
    expect(page.locator(".message-success")).to_contain_text(zh("Your authenticator app is set up."))
    page.goto(f"{base}/account/")
    expect(page.locator("main")).to_contain_text(zh("Confirmed for this session"))
    expect(page.locator("main")).to_contain_text("杭州市西湖区市场监督管理局")
    page.screenshot(path=str(ARTIFACTS / "identity-staff-account-zh.png"), full_page=True)


def test_the_english_sign_in_page(page: Page, live_server: Any, citizen: User) -> None:
    base = live_server.url
    page.goto(f"{base}/en/")
    page.locator(".account-links").get_by_role("link", name="Sign in").click()
    page.wait_for_url(f"{base}/en/login/?next=/en/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("h1")).to_have_text("Sign in")
    expect(page.locator(".tabs")).to_contain_text("SMS code")

    page.get_by_label("ID number or staff user name").fill(PEOPLE["citizen"].id_number)
    page.get_by_label("Password", exact=True).fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator(".error-summary")).to_contain_text("The ID number / user name or the password is wrong.")
    page.screenshot(path=str(ARTIFACTS / "identity-login-en.png"), full_page=True)

    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/en/")  # back where the visitor came from
    expect(page.locator(".account-links")).to_contain_text("My account")
    page.locator(".account-links").get_by_role("link", name="My account").click()
    page.wait_for_url(f"{base}/en/account/")
    expect(page.locator("main")).to_contain_text("You can apply for services.")
    expect(page.locator("main")).to_contain_text(mask_id_number(PEOPLE["citizen"].id_number))
    page.screenshot(path=str(ARTIFACTS / "identity-account-en.png"), full_page=True)
