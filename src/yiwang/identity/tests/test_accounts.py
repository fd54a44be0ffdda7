"""Natural-person accounts: registration with real-name checks, sign-in with throttling, SMS codes, passwords."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest
import time_machine
from django.contrib.auth.models import User
from django.db import connection
from django.test import override_settings
from django.utils import translation

from yiwang.audit.models import AuditRecord
from yiwang.common import outbox
from yiwang.common.errors import InvalidInput
from yiwang.conftest import PASSWORD, confirm_phone_by_sms
from yiwang.identity import services
from yiwang.identity.constants import CodePurpose, RealNameStatus
from yiwang.identity.messaging import MemoryProvider
from yiwang.identity.models import Account, OneTimeCode
from yiwang.identity.tests.people import PEOPLE, make_register_person

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english() -> Iterator[None]:
    with translation.override("en"):
        yield


@pytest.fixture
def sms(settings: object) -> Iterator[list[object]]:
    """Messages go to the named fake gateway (MemoryProvider) instead of the console."""
    with override_settings(YIWANG_MESSAGE_PROVIDER="yiwang.identity.messaging.MemoryProvider"):
        MemoryProvider.sent.clear()
        yield MemoryProvider.sent  # type: ignore[misc]
        MemoryProvider.sent.clear()


def register(system, key: str = "citizen", *, confirm: bool = True, **changes: str) -> User:
    person = PEOPLE[key]
    data = {"id_number": person.id_number, "name": person.name, "phone": person.phone, "password": PASSWORD}
    data.update(changes)
    user = services.register_person(actor=system, **data)
    if confirm:
        confirm_phone_by_sms(user)
    return user


def test_a_person_known_to_the_register_is_verified_at_once(system):
    make_register_person(PEOPLE["citizen"])
    user = register(system)
    account = user.account
    assert account.real_name_status == RealNameStatus.VERIFIED
    assert account.verified_at is not None
    assert services.can_apply(user)
    assert account.masked_id_number == PEOPLE["citizen"].id_number[:4] + "*" * 10 + PEOPLE["citizen"].id_number[-4:]
    # The user name is opaque: the ID number appears in no user name, audit record or label.
    assert PEOPLE["citizen"].id_number not in user.username
    for rec in AuditRecord.objects.all():
        assert PEOPLE["citizen"].id_number not in f"{rec.object_label}{rec.before}{rec.after}{rec.note}"
        assert PEOPLE["citizen"].phone not in f"{rec.object_label}{rec.before}{rec.after}{rec.note}"


def test_a_person_absent_from_the_register_may_browse_but_not_apply(system):
    user = register(system, "unverified")
    assert user.account.real_name_status == RealNameStatus.UNVERIFIED
    assert not services.can_apply(user)
    with pytest.raises(InvalidInput, match="no record"):
        services.verify_real_name(actor=user, user=user)
    make_register_person(PEOPLE["unverified"])  # the register catches up
    assert services.verify_real_name(actor=user, user=user).is_verified
    assert services.can_apply(User.objects.get(pk=user.pk))


def test_id_and_phone_are_encrypted_at_rest_and_found_by_blind_index(system):
    user = register(system)
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number, phone FROM identity_account WHERE user_id = %s", [user.pk])
        raw_id, raw_phone = cursor.fetchone()
    assert PEOPLE["citizen"].id_number not in raw_id
    assert PEOPLE["citizen"].phone not in raw_phone
    assert services.find_user(PEOPLE["citizen"].id_number) == user
    assert services.find_user(PEOPLE["citizen"].id_number.lower()) == user  # the X check digit typed lower-case


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"id_number": "33010619900307002"}, "id_number", "not valid"),  # 17 characters
        ({"id_number": "3301061990030700AX"}, "id_number", "not valid"),
        ({"id_number": "WRONG-CHECK"}, "id_number", "not valid"),
        ({"id_number": "330106199002300021"}, "id_number", "not valid"),  # 30 February
        ({"id_number": "990106199003070021"}, "id_number", "not valid"),  # no province 99
        ({"name": "李四"}, "name", "does not match"),
        ({"name": " "}, "name", "Enter your name"),
        ({"phone": "12345"}, "phone", "11-digit"),
        ({"password": "123"}, "password", "not strong"),
    ],
)
def test_bad_registrations_are_refused_and_change_nothing(system, changes, field, message):
    make_register_person(PEOPLE["citizen"])
    if changes.get("id_number") == "WRONG-CHECK":
        good = PEOPLE["citizen"].id_number
        changes = {"id_number": good[:17] + ("0" if good[17] != "0" else "1")}
    before = (User.objects.count(), Account.objects.count(), AuditRecord.objects.count())
    with pytest.raises(InvalidInput, match=message) as caught:
        register(system, **changes)
    assert field in {d.get("field") for d in caught.value.details}
    assert (User.objects.count(), Account.objects.count(), AuditRecord.objects.count()) == before


def test_one_account_per_id_number(system):
    register(system)
    with pytest.raises(InvalidInput, match="already exists"):
        register(system, phone="13811112222")
    assert Account.objects.count() == 1


def test_sign_in_by_id_number_and_audit(system):
    user = register(system)
    assert services.sign_in(login=PEOPLE["citizen"].id_number, password=PASSWORD, client_ip="10.0.0.1") == user
    record = AuditRecord.objects.filter(action="identity.login").latest("id")
    assert record.actor == user and "10.0.0.1" in record.note


def test_wrong_passwords_lock_the_account_and_are_audited(system, settings):
    settings.YIWANG_LOGIN_MAX_FAILURES = 3
    user = register(system)
    login = PEOPLE["citizen"].id_number
    for _ in range(3):
        with pytest.raises(services.SignInRefused, match="wrong"):
            services.sign_in(login=login, password="not-it", client_ip="10.0.0.2")
    # Locked now: even the right password is refused until the lock ends.
    with pytest.raises(services.AccountLocked):
        services.sign_in(login=login, password=PASSWORD, client_ip="10.0.0.3")
    assert AuditRecord.objects.filter(action="identity.login_failed", actor=user).count() == 4
    with time_machine.travel(dt.datetime.now(tz=dt.UTC) + dt.timedelta(seconds=settings.YIWANG_LOGIN_LOCK_SECONDS + 1)):
        assert services.sign_in(login=login, password=PASSWORD) == user
    assert Account.objects.get(user=user).failed_logins == 0


def test_an_address_trying_many_logins_is_throttled(system, settings):
    settings.YIWANG_LOGIN_MAX_FAILURES = 2
    register(system)
    for n in range(8):
        with pytest.raises(services.SignInRefused):
            services.sign_in(login=f"nobody{n}", password="x", client_ip="10.9.9.9")
    with pytest.raises(services.AccountLocked):
        services.sign_in(login=PEOPLE["citizen"].id_number, password=PASSWORD, client_ip="10.9.9.9")
    # Another address is unaffected.
    assert services.sign_in(login=PEOPLE["citizen"].id_number, password=PASSWORD, client_ip="10.9.9.8")


def test_unknown_login_failure_is_audited_without_the_clear_id(system):
    number = PEOPLE["stranger"].id_number
    with pytest.raises(services.SignInRefused):
        services.sign_in(login=number, password="x")
    record = AuditRecord.objects.filter(action="identity.login_failed").latest("id")
    assert record.actor is None and number not in record.object_label
    assert record.object_label == number[:4] + "*" * 10 + number[-4:]


def _code_from(sms) -> str:
    import re

    # The test transaction never commits, so after-commit delivery does not fire: run the relay, as the
    # scheduler would after a crash, to hand pending messages to the gateway.
    outbox.relay()
    match = re.search(r"验证码 (\d{6})", sms[-1].text)
    assert match
    return match.group(1)


def test_sms_code_sign_in_works_once(system, sms):
    user = register(system)
    services.request_code(phone=PEOPLE["citizen"].phone, purpose=CodePurpose.LOGIN)
    code = _code_from(sms)
    assert len(sms) == 1 and sms[0].phone == PEOPLE["citizen"].phone
    assert services.sign_in_with_code(phone=PEOPLE["citizen"].phone, code=code) == user
    with pytest.raises(InvalidInput, match="wrong or has expired"):
        services.sign_in_with_code(phone=PEOPLE["citizen"].phone, code=code)  # replayed


def test_sms_code_for_an_unknown_phone_is_silently_not_sent(system, sms):
    services.request_code(phone="13912345678", purpose=CodePurpose.LOGIN)
    outbox.relay()
    assert sms == [] and OneTimeCode.objects.count() == 0


def test_wrong_sms_codes_burn_the_code(system, sms, settings):
    settings.YIWANG_SMS_CODE_ATTEMPTS = 3
    register(system)
    phone = PEOPLE["citizen"].phone
    services.request_code(phone=phone, purpose=CodePurpose.LOGIN)
    code = _code_from(sms)
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(3):
        with pytest.raises(InvalidInput):
            services.sign_in_with_code(phone=phone, code=wrong)
    assert OneTimeCode.objects.get(purpose=CodePurpose.LOGIN).attempts == 3
    with pytest.raises(InvalidInput):  # the right code no longer works either
        services.sign_in_with_code(phone=phone, code=code)


def test_expired_sms_code_is_refused(system, sms, settings):
    register(system)
    phone = PEOPLE["citizen"].phone
    services.request_code(phone=phone, purpose=CodePurpose.LOGIN)
    code = _code_from(sms)
    later = dt.datetime.now(tz=dt.UTC) + dt.timedelta(seconds=settings.YIWANG_SMS_CODE_SECONDS + 5)
    with time_machine.travel(later), pytest.raises(InvalidInput, match="expired"):
        services.sign_in_with_code(phone=phone, code=code)


def test_codes_are_rate_limited(system, sms):
    register(system)
    services.request_code(phone=PEOPLE["citizen"].phone, purpose=CodePurpose.LOGIN)
    with pytest.raises(InvalidInput, match="less than a minute"):
        services.request_code(phone=PEOPLE["citizen"].phone, purpose=CodePurpose.LOGIN)


def test_password_reset_by_sms_sets_the_password_and_lifts_a_lock(system, sms, settings):
    settings.YIWANG_LOGIN_MAX_FAILURES = 1
    user = register(system)
    with pytest.raises(services.SignInRefused):
        services.sign_in(login=user.username, password="wrong")
    services.request_code(phone=PEOPLE["citizen"].phone, purpose=CodePurpose.RESET)
    new = "a fresh long passphrase 42"
    services.reset_password(phone=PEOPLE["citizen"].phone, code=_code_from(sms), new_password=new)
    assert services.sign_in(login=PEOPLE["citizen"].id_number, password=new) == user
    assert AuditRecord.objects.filter(action="identity.password_reset", actor=user).exists()


def test_password_reset_with_a_weak_password_keeps_the_code_and_the_old_password(system, sms):
    user = register(system)
    services.request_code(phone=PEOPLE["citizen"].phone, purpose=CodePurpose.RESET)
    code = _code_from(sms)
    with pytest.raises(InvalidInput, match="not strong"):
        services.reset_password(phone=PEOPLE["citizen"].phone, code=code, new_password="123")
    user.refresh_from_db()
    assert user.check_password(PASSWORD)
    services.reset_password(phone=PEOPLE["citizen"].phone, code=code, new_password="another long passphrase 7")


def test_passwords_are_hashed_with_argon2(system):
    user = register(system)
    assert user.password.startswith("argon2$argon2id$v=19$m=19456,t=2,p=1$")  # OWASP parameters (hashers.py)


def test_the_code_rate_limit_does_not_reveal_which_numbers_have_accounts(system, sms):
    services.request_code(phone="13912345678", purpose=CodePurpose.LOGIN)  # no account: nothing sent
    with pytest.raises(InvalidInput, match="less than a minute"):
        services.request_code(phone="13912345678", purpose=CodePurpose.LOGIN)


def test_a_phone_shared_by_two_accounts_cannot_sign_in_by_sms(system, sms):
    register(system)
    register(system, "agent", phone=PEOPLE["citizen"].phone)
    services.request_code(phone=PEOPLE["citizen"].phone, purpose=CodePurpose.LOGIN)
    with pytest.raises(InvalidInput):
        services.sign_in_with_code(phone=PEOPLE["citizen"].phone, code=_code_from(sms))


def test_reset_refuses_a_weak_password_the_same_way_for_unknown_numbers(system, sms):
    with pytest.raises(InvalidInput, match="not strong"):
        services.reset_password(phone="13912345678", code="123456", new_password="123")


def test_an_unconfirmed_phone_opens_nothing_by_sms(system, sms):
    user = register(system, confirm=False)
    assert user.account.phone_confirmed_at is None
    services.request_code(phone=PEOPLE["citizen"].phone, purpose=CodePurpose.LOGIN)
    outbox.relay()
    assert sms == []  # someone who typed a victim's number at registration gains no SMS sign-in with it
    services.request_phone_confirmation(actor=user)
    code = _code_from(sms)
    with pytest.raises(InvalidInput):
        services.confirm_phone(actor=user, code="000000" if code != "000000" else "111111")
    assert services.confirm_phone(actor=user, code=code).phone_confirmed_at is not None
    assert AuditRecord.objects.filter(action="identity.phone_confirmed", actor=user).exists()


def test_names_compare_as_the_register_compares_them(system):
    from yiwang.identity.tests.people import TestPerson, id_number

    number = id_number("330106", dt.date(1992, 4, 5), 88, male=True)
    person = TestPerson("买买提·艾力", number, "13700001111", "330106", dt.date(1992, 4, 5), True)
    make_register_person(person)
    # A full-width space and another name separator, as Chinese input methods type them.
    user = services.register_person(
        actor=system, id_number=number, name="买买提\u3000•艾力", phone=person.phone, password=PASSWORD
    )
    assert user.account.is_verified and user.account.real_name == "买买提·艾力"
