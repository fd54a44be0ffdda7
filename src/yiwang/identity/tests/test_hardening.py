"""Defences found missing in review: user tokens are not API logins, deactivated users' tokens die, any role
needs the second factor, no enumeration by registration or sign-in, register changes suspend agencies."""

from __future__ import annotations

import datetime as dt
import logging
import sys
from typing import Any

import pytest
from django.contrib import admin as django_admin
from django.contrib.auth.models import Group, User
from django.test import Client
from django.utils import timezone, translation
from django_otp.plugins.otp_totp.models import TOTPDevice
from oauth2_provider.models import AccessToken

from yiwang.audit.models import AuditRecord
from yiwang.common.errors import InvalidInput, PermissionDenied
from yiwang.common.masking import MaskPersonalDataFilter
from yiwang.identity import clients, services
from yiwang.identity.constants import Role
from yiwang.identity.models import Agency
from yiwang.identity.tests.people import ENTERPRISE, PEOPLE

pytestmark = pytest.mark.django_db


def _token(system: Any, user: User, scope: str = "openid profile") -> str:
    application, _secret = clients.register_client(
        actor=system,
        name="部门业务系统",
        kind="web",
        redirect_uris=["https://dept.example.gov.cn/callback"],
        allowed_scopes=["openid", "profile"],
    )
    token = AccessToken.objects.create(
        user=user,
        application=application,
        token="t-" + "x" * 40,
        scope=scope,
        expires=timezone.now() + dt.timedelta(hours=1),
    )
    return str(token.token)


def test_a_token_issued_to_a_department_system_is_not_a_login_to_the_api(system, reviewer_a):
    bearer = {"Authorization": f"Bearer {_token(system, reviewer_a)}"}
    client = Client()
    assert client.get("/api/v1/me/", headers=bearer).status_code in {401, 403}
    lookup = client.post(
        "/api/v1/staff/persons/",
        {"id_number": PEOPLE["citizen"].id_number},
        content_type="application/json",
        headers=bearer,
    )
    assert lookup.status_code in {401, 403}
    assert client.get("/api/v1/manage/versions/", headers=bearer).status_code in {401, 403}


def test_a_deactivated_users_token_stops_working(system, citizen):
    bearer = {"Authorization": f"Bearer {_token(system, citizen)}"}
    assert Client().get("/o/userinfo/", headers=bearer).status_code == 200
    User.objects.filter(pk=citizen.pk).update(is_active=False)
    assert Client().get("/o/userinfo/", headers=bearer).status_code == 401


def test_any_role_requires_the_second_factor_and_roles_are_for_staff_only(admin, citizen, system):
    with pytest.raises(InvalidInput):
        services.set_staff_roles(actor=admin, user=citizen, roles=[Role.ADMINISTRATOR])
    citizen.groups.add(Group.objects.get(name=Role.AUDITOR))  # by a direct edit, not the service
    client = Client()
    client.force_login(citizen)
    response = client.get("/workbench/audit/")
    assert response.status_code == 302 and "/account/totp/" in response["Location"]
    assert client.get("/api/v1/audit/").status_code == 403


def test_totp_devices_are_not_editable_in_the_admin(admin):
    assert not django_admin.site.is_registered(TOTPDevice)
    assert not admin.has_perm("otp_totp.view_totpdevice")
    assert not admin.has_perm("auth.change_user")


def test_administrators_change_roles_in_the_admin_through_the_service(staff_client, admin, clerk):
    client = staff_client(admin)
    url = f"/admin/identity/account/{clerk.account.pk}/roles/"
    assert client.get(url).status_code == 200
    response = client.post(url, {"roles": [Role.REVIEWER]})
    assert response.status_code == 302
    assert list(clerk.groups.values_list("name", flat=True)) == [Role.REVIEWER]
    assert AuditRecord.objects.filter(action="identity.roles_changed", actor=admin).exists()


def test_a_weak_password_is_refused_before_anything_about_the_id_is_said(system, citizen):
    person = PEOPLE["citizen"]
    with translation.override("en"), pytest.raises(InvalidInput, match="not strong"):
        services.register_person(
            actor=system, id_number=person.id_number, name="错名字", phone=person.phone, password="1"
        )


def test_unknown_logins_lock_like_real_ones(system, citizen, settings):
    settings.YIWANG_LOGIN_MAX_FAILURES = 2
    unknown = PEOPLE["stranger"].id_number
    outcomes = []
    for _ in range(3):
        with pytest.raises(services.SignInRefused) as caught:
            services.sign_in(login=unknown, password="whatever")
        outcomes.append(type(caught.value).__name__)
    assert outcomes == ["SignInRefused", "SignInRefused", "AccountLocked"]


def test_a_phone_number_typed_as_login_is_masked_in_the_audit(system):
    with pytest.raises(services.SignInRefused):
        services.sign_in(login="13800135678", password="x")
    record = AuditRecord.objects.filter(action="identity.login_failed").latest("id")
    assert "13800135678" not in record.object_label and "138****5678" in record.object_label


def test_a_change_in_the_register_suspends_the_enterprises_agencies_and_lets_the_new_representative_bind(
    system, agent, enterprise, enterprise_rep, citizen
):
    from yiwang.common.crypto import blind_index
    from yiwang.registers.models import LegalEntity

    agency = Agency.objects.get(agent=agent)
    LegalEntity.objects.filter(uscc=ENTERPRISE.uscc).update(
        legal_representative=PEOPLE["citizen"].name,
        legal_representative_index=blind_index(PEOPLE["citizen"].id_number, purpose="id_number"),
    )
    with pytest.raises(PermissionDenied):
        services.agency_for_act(agent=agent, agency_id=agency.pk)
    with pytest.raises(PermissionDenied):
        services.grant_agency(
            actor=enterprise_rep,
            enterprise=enterprise,
            agent_id_number=PEOPLE["agent"].id_number,
            agent_name=PEOPLE["agent"].name,
            all_items=True,
            valid_until=timezone.now() + dt.timedelta(days=30),
        )
    rebound = services.bind_enterprise(actor=citizen, uscc=ENTERPRISE.uscc, name=ENTERPRISE.name)
    assert rebound.pk == enterprise.pk and rebound.representative == citizen
    assert AuditRecord.objects.filter(action="identity.enterprise_rebound", actor=citizen).exists()


def test_logged_tracebacks_are_masked_too():
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", None, None)
    try:
        raise ValueError("no person 34052419800101001X")
    except ValueError:
        record.exc_info = sys.exc_info()
    MaskPersonalDataFilter().filter(record)
    assert record.exc_text is not None
    assert "34052419800101001X" not in record.exc_text and "3405**********001X" in record.exc_text


def test_djangos_own_logger_is_masked(settings):
    handlers = settings.LOGGING["loggers"]["django"]["handlers"]
    assert all("mask_personal_data" in settings.LOGGING["handlers"][h]["filters"] for h in handlers)


def test_accounts_are_found_by_number_only_through_a_post(staff_client, admin, citizen):
    client = staff_client(admin)
    changelist = client.get("/admin/identity/account/", {"q": PEOPLE["citizen"].id_number})
    assert list(changelist.context["cl"].result_list) == []
    found = client.post("/admin/identity/account/find/", {"number": PEOPLE["citizen"].phone})
    assert [a.user_id for a in found.context["results"]] == [citizen.pk]
    page = found.content.decode()
    assert PEOPLE["citizen"].phone not in page and PEOPLE["citizen"].id_number not in page


def test_the_id_token_carries_only_sub_and_costs_no_personal_queries(agent):
    from types import SimpleNamespace

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from yiwang.identity.oidc import YiwangValidator, subject_for

    expected = subject_for(agent)
    request = SimpleNamespace(user=agent, scopes=["openid", "profile", "identity", "phone", "agency"], client=None)
    with CaptureQueriesContext(connection) as queries:
        claims = YiwangValidator().get_oidc_claims(None, None, request)
    assert claims == {"sub": expected}
    tables = " ".join(q["sql"] for q in queries.captured_queries)
    assert "identity_agency" not in tables and "identity_enterprise" not in tables and "identity_account" not in tables


def test_production_refuses_to_invent_a_signing_key(tmp_path):
    from django.core.exceptions import ImproperlyConfigured

    from yiwang.conf.keys import load_or_create_rsa_key

    with pytest.raises(ImproperlyConfigured, match="does not exist"):
        load_or_create_rsa_key(tmp_path / "missing.pem", create=False)
    assert "PRIVATE KEY" in load_or_create_rsa_key(tmp_path / "dev.pem")
