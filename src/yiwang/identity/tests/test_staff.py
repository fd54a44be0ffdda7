"""Staff accounts: department and region scope, roles, and the TOTP second factor."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.contrib.auth.models import User
from django.utils import translation
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from yiwang.audit.models import AuditRecord
from yiwang.common.errors import InvalidInput, PermissionDenied
from yiwang.conftest import PASSWORD
from yiwang.identity import authz, services
from yiwang.identity.constants import AccountKind, Role

pytestmark = pytest.mark.django_db


def token(device: TOTPDevice, offset: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = totp.time + offset * device.step
    return f"{totp.token():0{device.digits}d}"


def test_staff_belong_to_a_department_and_region_with_roles(reviewer_a, department_a):
    account = reviewer_a.account
    assert account.kind == AccountKind.STAFF
    assert account.department == department_a and account.division_id == "330106"
    assert set(reviewer_a.groups.values_list("name", flat=True)) == {Role.REVIEWER, Role.APPROVER}
    assert not reviewer_a.is_staff  # the admin site is not their tool


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"roles": ["wizard"]}, "Unknown role"),
        ({"roles": []}, "at least one role"),
        ({"username": "x"}, "User names"),
        ({"username": "p-sneaky"}, "User names"),
        ({"division_code": "999999"}, "Unknown region"),
        ({"password": "short"}, "not strong"),
    ],
)
def test_bad_staff_input_is_refused(admin, department_a, changes, message):
    data = {
        "username": "newclerk",
        "name": "新职员",
        "department": department_a,
        "division_code": "330106",
        "roles": [Role.WINDOW_CLERK],
        "password": PASSWORD,
    }
    data.update(changes)
    before = User.objects.count()
    with translation.override("en"), pytest.raises(InvalidInput, match=message):
        services.create_staff(actor=admin, **data)
    assert User.objects.count() == before


def test_only_administrators_create_staff_or_change_roles(reviewer_a, clerk, department_a):
    with pytest.raises(PermissionDenied):
        services.create_staff(
            actor=reviewer_a,
            username="x-clerk",
            name="某人",
            department=department_a,
            division_code="330106",
            roles=[Role.ADMINISTRATOR],
            password=PASSWORD,
        )
    with pytest.raises(PermissionDenied):
        services.set_staff_roles(actor=reviewer_a, user=clerk, roles=[Role.ADMINISTRATOR])


def test_role_changes_take_effect_and_are_audited(admin, clerk):
    assert not authz.allowed(clerk, "supervision.view")
    services.set_staff_roles(actor=admin, user=clerk, roles=[Role.SUPERVISOR])
    assert authz.allowed(User.objects.get(pk=clerk.pk), "supervision.view")
    record = AuditRecord.objects.get(action="identity.roles_changed")
    assert record.before == [Role.WINDOW_CLERK] and record.after == [Role.SUPERVISOR]


def test_totp_enrolment_needs_a_correct_code_and_is_audited(clerk):
    device = services.start_totp_enrolment(actor=clerk)
    assert not device.confirmed
    with translation.override("en"), pytest.raises(InvalidInput, match="wrong"):
        services.confirm_totp(actor=clerk, device=device, token="000000" if token(device) != "000000" else "111111")
    device.refresh_from_db()
    assert not device.confirmed
    # django-otp throttles a device after a failure (1 s, doubling): a real right code waits it out.
    with time_machine.travel(dt.datetime.now(tz=dt.UTC) + dt.timedelta(seconds=3), tick=False):
        services.confirm_totp(actor=clerk, device=device, token=token(device))
    assert TOTPDevice.objects.get(user=clerk).confirmed
    actions = list(AuditRecord.objects.filter(actor=clerk).values_list("action", flat=True))
    assert "identity.mfa_enrolment_started" in actions and "identity.mfa_enrolled" in actions


def test_totp_verification_refuses_wrong_and_replayed_codes(clerk):
    device = services.start_totp_enrolment(actor=clerk)
    services.confirm_totp(actor=clerk, device=device, token=token(device))
    device.refresh_from_db()
    used = token(device)
    with translation.override("en"), pytest.raises(InvalidInput):
        services.verify_totp(actor=clerk, token=used)  # the code that confirmed enrolment cannot be replayed
    with translation.override("en"), pytest.raises(InvalidInput):
        services.verify_totp(actor=clerk, token="12345")
    assert AuditRecord.objects.filter(action="identity.mfa_failed", actor=clerk).count() == 2
    with time_machine.travel(dt.datetime.now(tz=dt.UTC) + dt.timedelta(seconds=device.step + 5), tick=False):
        device.refresh_from_db()
        assert services.verify_totp(actor=clerk, token=token(device)) == device


def test_someone_else_cannot_confirm_my_authenticator(clerk, reviewer_a):
    device = services.start_totp_enrolment(actor=clerk)
    with pytest.raises(PermissionDenied):
        services.confirm_totp(actor=reviewer_a, device=device, token=token(device))


def test_administrator_resets_a_lost_authenticator(admin, clerk):
    device = services.start_totp_enrolment(actor=clerk)
    services.confirm_totp(actor=clerk, device=device, token=token(device))
    with pytest.raises(PermissionDenied):
        services.reset_totp(actor=clerk, user=clerk)
    services.reset_totp(actor=admin, user=clerk)
    assert not TOTPDevice.objects.filter(user=clerk).exists()
    assert AuditRecord.objects.filter(action="identity.mfa_reset", actor=admin).exists()


def test_a_throttled_authenticator_says_wait_not_wrong(clerk):
    device = services.start_totp_enrolment(actor=clerk)
    with translation.override("en"), pytest.raises(InvalidInput, match="wrong"):
        services.confirm_totp(actor=clerk, device=device, token="000000" if token(device) != "000000" else "111111")
    device.refresh_from_db()
    with translation.override("en"), pytest.raises(InvalidInput, match="Wait"):
        services.confirm_totp(actor=clerk, device=device, token=token(device))
