"""Registering department systems as OIDC/OAuth2 clients: services, command line and admin."""

from __future__ import annotations

import datetime as dt
import io
import re
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.auth.hashers import check_password
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.urls import path
from django.utils import timezone, translation
from oauth2_provider.models import AccessToken, Application, Grant, RefreshToken

from yiwang.audit.actors import SystemActor
from yiwang.audit.models import AuditRecord
from yiwang.catalogue.models import Organisation
from yiwang.common.errors import InvalidInput, PermissionDenied
from yiwang.identity import admin_oidc, clients, oidc
from yiwang.identity.models_oidc import ClientPolicy

# The admin as it is once identity/admin.py imports admin_oidc (the import above registers the client admin),
# whatever the import order of this run.
assert isinstance(admin.site._registry[Application], admin_oidc.ClientAdmin)
urlpatterns = [path("admin/", admin.site.urls)]

REDIRECT = "https://bdc.example.gov.cn/oidc/callback"
SYSTEM = SystemActor("test")


def web_client(**overrides: Any) -> tuple[Application, str]:
    arguments: dict[str, Any] = {
        "actor": SYSTEM,
        "name": "不动产登记系统",
        "kind": "web",
        "redirect_uris": [REDIRECT],
        "post_logout_redirect_uris": ["https://bdc.example.gov.cn/"],
        "allowed_scopes": ["profile", "identity"],
    }
    arguments.update(overrides)
    return clients.register_client(**arguments)


# --- registration -----------------------------------------------------------------------------------


def test_a_web_system_is_a_confidential_code_flow_client_whose_secret_is_shown_once(
    db: Any, admin: User, department_a: Organisation
) -> None:
    application, secret = web_client(actor=admin, department=department_a)

    application.refresh_from_db()
    assert application.client_type == Application.CLIENT_CONFIDENTIAL
    assert application.authorization_grant_type == Application.GRANT_AUTHORIZATION_CODE
    assert application.algorithm == "RS256"
    assert application.redirect_uris == REDIRECT
    assert application.skip_authorization  # administrators vetted it; no second consent screen
    # Only a hash is kept; the clear secret matches it.
    assert secret not in application.client_secret
    assert check_password(secret, application.client_secret)

    policy = ClientPolicy.objects.get(application=application)
    assert policy.kind == "web"
    assert policy.allowed_scopes == ["openid", "profile", "identity"]  # openid: what a web system is for
    assert policy.department == department_a
    assert not policy.may_receive_id_numbers
    assert policy.created_by == admin

    record = AuditRecord.objects.get(action="identity.client_registered")
    after: dict[str, Any] = record.after or {}
    assert record.object_id == str(application.pk)
    assert after["client_id"] == application.client_id
    assert after["allowed_scopes"] == ["openid", "profile", "identity"]
    assert secret not in str(after) and application.client_secret not in str(after)


def test_a_machine_client_uses_client_credentials_and_has_no_addresses(db: Any) -> None:
    application, secret = clients.register_client(
        actor=SYSTEM, name="不动产核验接口", kind="machine", allowed_scopes=["registers:verify"]
    )
    assert application.authorization_grant_type == Application.GRANT_CLIENT_CREDENTIALS
    assert application.client_type == Application.CLIENT_CONFIDENTIAL
    assert application.redirect_uris == ""
    assert len(secret) >= 64
    assert oidc.allowed_scopes(application) == ["registers:verify"]


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"name": "  "}, "name", "Enter the name of the department system."),
        ({"kind": "mobile"}, "kind", "The kind of client must be web or machine."),
        ({"redirect_uris": []}, "redirect_uris", "A web system needs at least one redirect URI."),
        ({"redirect_uris": ["http://bdc.example.gov.cn/cb"]}, "redirect_uris", "must use https"),
        ({"redirect_uris": ["http://10.0.0.8/cb"]}, "redirect_uris", "must use https"),
        ({"redirect_uris": ["https://bdc.example.gov.cn/cb#x"]}, "redirect_uris", "must not contain a fragment"),
        ({"redirect_uris": ["https://u:p@bdc.example.gov.cn/cb"]}, "redirect_uris", "user name or password"),
        ({"redirect_uris": ["https://*.example.gov.cn/cb"]}, "redirect_uris", "is not an absolute address"),
        ({"redirect_uris": ["/relative/cb"]}, "redirect_uris", "is not an absolute address"),
        ({"post_logout_redirect_uris": ["ftp://x.example/"]}, "post_logout_redirect_uris", "must use https"),
        ({"allowed_scopes": ["email"]}, "allowed_scopes", "Unknown scope: email."),
        ({"allowed_scopes": ["registers:verify"]}, "allowed_scopes", "not available to this kind of client"),
        ({"may_receive_id_numbers": True}, "may_receive_id_numbers", "identity scope"),
        ({"allowed_scopes": ["profile"], "may_receive_id_numbers": True}, "may_receive_id_numbers", "identity"),
        ({"kind": "machine", "allowed_scopes": ["openid"]}, "allowed_scopes", "not available to this kind"),
        ({"kind": "machine", "allowed_scopes": ["registers:verify"]}, "redirect_uris", "no redirect URIs"),
        (
            {"kind": "machine", "redirect_uris": [], "post_logout_redirect_uris": [], "allowed_scopes": []},
            "allowed_scopes",
            "Choose at least one scope.",
        ),
    ],
)
def test_registration_input_is_checked(db: Any, overrides: dict[str, Any], field: str, message: str) -> None:
    if overrides.get("may_receive_id_numbers") and "allowed_scopes" not in overrides:
        overrides = {**overrides, "allowed_scopes": ["profile"]}
    with translation.override("en"), pytest.raises(InvalidInput) as refused:
        web_client(**overrides)
    assert refused.value.details[0]["field"] == field
    assert message in str(refused.value.message)
    assert not Application.objects.exists()
    assert not AuditRecord.objects.filter(action="identity.client_registered").exists()


def test_loopback_addresses_may_use_plain_http_for_development(db: Any) -> None:
    uris = ["http://127.0.0.1:8080/cb", "http://localhost:3000/cb", "http://[::1]:8000/cb"]
    application, _secret = web_client(redirect_uris=uris)
    assert application.redirect_uris.split() == uris


def test_only_administrators_manage_clients(db: Any, admin: User, clerk: User, citizen: User) -> None:
    for outsider in (clerk, citizen):
        with pytest.raises(PermissionDenied):
            web_client(actor=outsider)
    web_client(actor=admin)
    application, _secret = web_client(actor=SYSTEM)
    for outsider in (clerk, citizen):
        with pytest.raises(PermissionDenied):
            clients.rotate_client_secret(actor=outsider, application=application)
        with pytest.raises(PermissionDenied):
            clients.disable_client(actor=outsider, application=application)
        with pytest.raises(PermissionDenied):
            clients.update_client(actor=outsider, application=application, may_receive_id_numbers=True)
    assert ClientPolicy.objects.get(application=application).is_active


# --- after registration --------------------------------------------------------------------------------


def test_rotating_the_secret_makes_the_old_one_useless(db: Any, admin: User) -> None:
    application, old = web_client()
    new = clients.rotate_client_secret(actor=admin, application=application)
    application.refresh_from_db()
    assert new != old
    assert check_password(new, application.client_secret)
    assert not check_password(old, application.client_secret)
    record = AuditRecord.objects.get(action="identity.client_secret_rotated")
    assert record.actor == admin and record.object_id == str(application.pk)


def _tokens_for(application: Application, user: User) -> None:
    expires = timezone.now() + dt.timedelta(hours=1)
    tag = application.client_id
    access = AccessToken.objects.create(
        user=user, application=application, token=f"access-{tag}", expires=expires, scope="openid"
    )
    RefreshToken.objects.create(user=user, application=application, token=f"refresh-{tag}", access_token=access)
    Grant.objects.create(
        user=user,
        application=application,
        code=f"code-{tag}",
        expires=expires,
        redirect_uri=REDIRECT,
        scope="openid",
        code_challenge="x" * 43,
        code_challenge_method="S256",
    )


def test_disabling_a_client_revokes_everything_it_holds(db: Any, admin: User, citizen: User) -> None:
    application, _secret = web_client()
    other, _ = web_client(name="另一个系统")
    _tokens_for(application, citizen)
    _tokens_for(other, citizen)

    clients.disable_client(actor=admin, application=application, reason="系统下线")

    policy = ClientPolicy.objects.get(application=application)
    assert not policy.is_active
    assert policy.disabled_by_label == "administrator"
    assert not AccessToken.objects.filter(application=application).exists()
    assert not RefreshToken.objects.filter(application=application).exists()
    assert not Grant.objects.filter(application=application).exists()
    assert oidc.allowed_scopes(Application.objects.get(pk=application.pk)) == []
    assert oidc.allowed_scopes(Application.objects.get(pk=other.pk)) == ["openid", "profile", "identity"]
    assert AccessToken.objects.filter(application=other).exists()  # other clients keep theirs
    record = AuditRecord.objects.get(action="identity.client_disabled")
    assert record.note == "系统下线"

    # Disabling twice changes nothing and records nothing new.
    clients.disable_client(actor=admin, application=application)
    assert AuditRecord.objects.filter(action="identity.client_disabled").count() == 1


def test_changing_a_policy_is_audited_with_before_and_after(db: Any, admin: User, department_a: Organisation) -> None:
    application, _secret = web_client()
    clients.update_client(
        actor=admin,
        application=application,
        allowed_scopes=["openid", "identity", "agency"],
        may_receive_id_numbers=True,
        department=department_a,
    )
    policy = ClientPolicy.objects.get(application=application)
    assert policy.allowed_scopes == ["openid", "identity", "agency"]
    assert policy.may_receive_id_numbers
    assert policy.department == department_a
    record = AuditRecord.objects.get(action="identity.client_changed")
    before: dict[str, Any] = record.before or {}
    after: dict[str, Any] = record.after or {}
    assert before["may_receive_id_numbers"] is False
    assert after["may_receive_id_numbers"] is True
    assert after["allowed_scopes"] == ["openid", "identity", "agency"]

    # Arguments left out keep their value; an unchanged client writes no record.
    clients.update_client(actor=admin, application=application, name="不动产登记系统")
    assert AuditRecord.objects.filter(action="identity.client_changed").count() == 1
    with pytest.raises(InvalidInput):
        clients.update_client(actor=admin, application=application, allowed_scopes=["profile"])  # needs identity


def test_a_client_without_a_policy_gets_no_scope(db: Any) -> None:
    bare = Application.objects.create(
        name="created behind the services' back",
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
    )
    assert oidc.allowed_scopes(bare) == []


def test_claims_of_a_user_without_an_account_are_only_the_subject(db: Any) -> None:
    superuser = User.objects.create_superuser("root", password="x" * 20)
    values = {name: thunk() for name, thunk in oidc.claims(superuser, None).items()}
    assert {k for k, v in values.items() if v is not None} == {"sub", "enterprises", "agencies"}
    assert values["enterprises"] == [] and values["agencies"] == []
    assert values["sub"] == oidc.subject_for(superuser)  # allocated once, then the same
    assert values["sub"] != str(superuser.pk)


# --- command line ---------------------------------------------------------------------------------------


def _run(*args: str) -> str:
    out, err = io.StringIO(), io.StringIO()
    call_command("oidc_client", *args, stdout=out, stderr=err)
    return out.getvalue()


def test_the_command_registers_rotates_lists_and_disables(db: Any, department_a: Organisation) -> None:
    output = _run(
        "register",
        "--name",
        "公积金中心",
        "--kind",
        "web",
        "--redirect-uri",
        REDIRECT,
        "--scope",
        "profile",
        "--scope",
        "identity",
        "--department",
        department_a.uscc or "",
        "--may-receive-id-numbers",
    )
    found = dict(re.findall(r"^(client_id|client_secret): (\S+)$", output, re.MULTILINE))
    application = Application.objects.get(client_id=found["client_id"])
    assert check_password(found["client_secret"], application.client_secret)
    policy = ClientPolicy.objects.get(application=application)
    assert (policy.department, policy.may_receive_id_numbers) == (department_a, True)
    assert AuditRecord.objects.get(action="identity.client_registered").actor_label == "system:cli:oidc_client"

    rotated = dict(
        re.findall(r"^(client_id|client_secret): (\S+)$", _run("rotate-secret", application.client_id), re.M)
    )
    application.refresh_from_db()
    assert check_password(rotated["client_secret"], application.client_secret)

    assert f"{application.client_id}\tweb\tactive\t公积金中心\topenid profile identity" in _run("list")
    _run("disable", application.client_id, "--reason", "test")
    assert f"{application.client_id}\tweb\tdisabled" in _run("list")


def test_the_command_reports_bad_input_without_registering(db: Any) -> None:
    with translation.override("en"), pytest.raises(CommandError, match="must use https"):
        _run("register", "--name", "x", "--kind", "web", "--redirect-uri", "http://example.com/cb")
    with pytest.raises(CommandError):
        _run("rotate-secret", "no-such-client")
    with pytest.raises(CommandError):
        _run("register", "--name", "x", "--kind", "machine", "--scope", "registers:verify", "--department", "nope")
    assert not Application.objects.exists()


# --- admin ----------------------------------------------------------------------------------------------


def _english(client: Any) -> Any:
    # The tests read the messages; the default language is Chinese once the catalogue is translated.
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.mark.urls(__name__)
def test_the_admin_registers_through_the_service_and_shows_the_secret_once(
    db: Any, admin: User, staff_client: Any, department_a: Organisation
) -> None:
    browser = _english(staff_client(admin))
    add = browser.get("/admin/oauth2_provider/application/add/")
    assert add.status_code == 200
    response = browser.post(
        "/admin/oauth2_provider/application/add/",
        {
            "name": "社保经办系统",
            "kind": "web",
            "redirect_uris": f"{REDIRECT}\nhttp://127.0.0.1:8000/cb",
            "post_logout_redirect_uris": "",
            "allowed_scopes": ["openid", "profile", "agency"],
            "department": str(department_a.pk),
            "_save": "1",
        },
        follow=True,
    )
    assert response.status_code == 200
    application = Application.objects.get(name="社保经办系统")
    shown = [str(m) for m in response.context["messages"]]
    secret = next(re.search(r"client secret: (\S+)", m).group(1) for m in shown if "client secret" in m)  # type: ignore[union-attr]
    assert check_password(secret, application.client_secret)
    assert application.redirect_uris.split() == [REDIRECT, "http://127.0.0.1:8000/cb"]
    assert ClientPolicy.objects.get(application=application).allowed_scopes == ["openid", "profile", "agency"]
    assert AuditRecord.objects.get(action="identity.client_registered").actor == admin
    # The change page never shows it again.
    change = browser.get(f"/admin/oauth2_provider/application/{application.pk}/change/")
    assert secret not in change.content.decode()

    # Bad input is reported on the form, and nothing is registered.
    refused = browser.post(
        "/admin/oauth2_provider/application/add/",
        {"name": "x", "kind": "web", "redirect_uris": "http://example.com/cb", "allowed_scopes": ["openid"]},
    )
    assert refused.status_code == 200
    assert refused.context["adminform"].form.errors["redirect_uris"]
    assert Application.objects.count() == 1


@pytest.mark.urls(__name__)
def test_the_admin_changes_rotates_and_disables_through_the_services(db: Any, admin: User, staff_client: Any) -> None:
    application, old_secret = web_client()
    browser = _english(staff_client(admin))
    changed = browser.post(
        f"/admin/oauth2_provider/application/{application.pk}/change/",
        {
            "name": "不动产登记系统（新）",
            "redirect_uris": REDIRECT,
            "post_logout_redirect_uris": "",
            "allowed_scopes": ["openid", "identity"],
            "may_receive_id_numbers": "on",
            "_save": "1",
        },
    )
    assert changed.status_code == 302, changed.content.decode()[:2000]
    policy = ClientPolicy.objects.get(application=application)
    assert policy.may_receive_id_numbers and policy.allowed_scopes == ["openid", "identity"]
    assert AuditRecord.objects.get(action="identity.client_changed").actor == admin

    changelist = "/admin/oauth2_provider/application/"
    rotated = browser.post(changelist, {"action": "rotate_secret", "_selected_action": [application.pk]}, follow=True)
    shown = " ".join(str(m) for m in rotated.context["messages"])
    new_secret = re.search(r"client secret: (\S+)", shown).group(1)  # type: ignore[union-attr]
    application.refresh_from_db()
    assert check_password(new_secret, application.client_secret)
    assert not check_password(old_secret, application.client_secret)

    browser.post(changelist, {"action": "disable_selected", "_selected_action": [application.pk]})
    assert not ClientPolicy.objects.get(application=application).is_active
    # Clients are disabled, never deleted, and a disabled client is read-only.
    assert browser.get(f"/admin/oauth2_provider/application/{application.pk}/delete/").status_code == 403
    page = browser.get(f"/admin/oauth2_provider/application/{application.pk}/change/")
    assert page.status_code == 200 and b'name="_save"' not in page.content


@pytest.mark.urls(__name__)
def test_the_client_admin_is_for_administrators_only(db: Any, clerk: User, manager: User, staff_client: Any) -> None:
    pages = ("/admin/oauth2_provider/application/", "/admin/oauth2_provider/application/add/")
    for page in pages:
        # A clerk does not use the admin at all; a catalogue manager does, but not this screen.
        assert staff_client(clerk).get(page)["Location"].startswith("/admin/login/")
        assert staff_client(manager).get(page).status_code == 403
