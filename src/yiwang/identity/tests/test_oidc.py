"""Single sign-on seen from a department system: an independent OIDC client against a real HTTP server.

Authlib (``OAuth2Session``, with joserfc for signatures) plays the department system (the relying party),
``requests`` plays the citizen's browser, and pytest-django's ``live_server`` runs Yiwang. Nothing here
calls Yiwang's Python code to take a shortcut through the protocol; the database is read only to set up
people and to check effects (sessions ended, no token issued).
"""

from __future__ import annotations

import base64
import datetime as dt
import gc
import json
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session, OAuthError
from authlib.oidc.core import CodeIDToken
from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.urls import path, reverse
from django.utils import timezone
from joserfc import jwt
from joserfc.errors import BadSignatureError
from joserfc.jwk import KeySet
from oauth2_provider.contrib.rest_framework import OAuth2Authentication, TokenHasScope
from oauth2_provider.models import AccessToken, Grant, IDToken
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from yiwang.audit.actors import SystemActor
from yiwang.common.crypto import blind_index
from yiwang.common.validators import build_uscc, resident_id_check_char, resident_id_problems
from yiwang.conf import urls as root_urls
from yiwang.identity import clients
from yiwang.identity.models import Account, Agency, Enterprise
from yiwang.identity.models_oidc import SubjectIdentifier

pytestmark = pytest.mark.django_db(transaction=True)  # live_server: the server thread must see committed rows

PASSWORD = "correct horse battery staple"
REDIRECT = "http://127.0.0.1:8765/callback"  # the department system's callback; never actually served
SIGNED_OUT = "http://127.0.0.1:8765/signed-out"
USER_SCOPES = "openid profile identity phone agency"
ADMIN = SystemActor("test")
TIMEOUT = 15
_S = TypeVar("_S", bound=requests.Session)


@pytest.fixture(autouse=True)
def _server_threads_close_database_connections() -> Iterator[None]:
    """Make the live server close its database connections at the end of every request.

    It answers each kept-alive HTTP connection in a thread of its own, and that thread's database connection
    would live as long as the socket (CONN_MAX_AGE): PostgreSQL then refuses to drop the test database. The
    settings dictionary is shared by every thread's connection to the database (Django's test setup renames
    the database in it the same way), so a maximum age of 0 here reaches the server threads.
    """
    shared = connection.settings_dict
    saved = shared["CONN_MAX_AGE"]
    shared["CONN_MAX_AGE"] = 0
    yield
    shared["CONN_MAX_AGE"] = saved


_sessions: list[requests.Session] = []


def opened(session: _S) -> _S:
    _sessions.append(session)
    return session


@pytest.fixture(autouse=True)
def _close_sessions() -> Iterator[None]:
    """Hang up every kept-alive connection and let the live server's threads finish before the test ends.

    A server thread outliving its test would still be using the database when the next test flushes it, or
    when the live server stops at the end of the run (and SQLite's shared in-memory connection with it).
    """
    yield
    while _sessions:
        _sessions.pop().close()
    gc.collect()  # responses of one-off requests.get() calls still hold their sockets until collected
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(
        t.name.endswith("(process_request_thread)") for t in threading.enumerate()
    ):
        time.sleep(0.01)


# --- a test-only API for machine clients -----------------------------------------------------------


class _ScopedProbe(APIView):
    """What a department-facing API looks like: OAuth2 bearer tokens, a required scope."""

    authentication_classes = [OAuth2Authentication]
    permission_classes = [TokenHasScope]
    required_scopes: list[str] = []

    def get(self, request: Request) -> Response:
        token: Any = request.auth
        return Response({"client_id": token.application.client_id, "scopes": sorted(token.scopes)})


class _VerifyProbe(_ScopedProbe):
    required_scopes = ["registers:verify"]


class _CatalogueProbe(_ScopedProbe):
    required_scopes = ["catalogue:read"]


# Used as ROOT_URLCONF by the tests marked ``urls(__name__)``: the whole site plus the probes.
urlpatterns = [
    path("probe/verify/", _VerifyProbe.as_view()),
    path("probe/catalogue/", _CatalogueProbe.as_view()),
    *root_urls.urlpatterns,
]


# --- people and clients ----------------------------------------------------------------------------


def resident_id(region: str, birth: str, sequence: str) -> str:
    body = region + birth + sequence
    number = body + resident_id_check_char(body)
    assert resident_id_problems(number) == []
    return number


def make_person(username: str, real_name: str, number: str, phone: str, *, verified: bool = True) -> User:
    # Accounts are created directly until identity.services' registration is settled (written concurrently).
    user = User.objects.create_user(username=username, password=PASSWORD)
    Account.objects.create(
        user=user,
        kind="person",
        real_name=real_name,
        id_type="111",
        id_number=number,
        id_number_index=blind_index(number, purpose="id_number"),
        phone=phone,
        phone_index=blind_index(phone, purpose="phone"),
        real_name_status="verified" if verified else "unverified",
    )
    return user


@dataclass
class World:
    person: User
    person_id: str
    principal_id: str
    own: Enterprise
    employer: Enterprise
    employer_agency: Agency
    proxy_agency: Agency


@pytest.fixture
def world(transactional_db: Any) -> World:
    number = resident_id("110101", "19900307", "123")
    person = make_person("zhangsan", "张三", number, "13800138000")
    boss = make_person("wangwu", "王五", resident_id("310104", "19751130", "456"), "13900139000")
    principal_id = resident_id("440305", "19480101", "007")
    principal = make_person("lisi", "李四", principal_id, "13700137000")
    own = Enterprise.objects.create(
        uscc=build_uscc("92", "110101", "MA01AB3C"), name="张三小吃店", representative=person
    )
    employer = Enterprise.objects.create(
        uscc=build_uscc("91", "310104", "MA1FL0X2"), name="上海某某科技有限公司", representative=boss
    )
    now = timezone.now()
    employer_agency = Agency.objects.create(
        principal_kind="enterprise",
        enterprise=employer,
        agent=person,
        item_codes=["000131128900"],
        valid_from=now - dt.timedelta(days=1),
        valid_until=now + dt.timedelta(days=365),
        granted_by=boss,
    )
    proxy_agency = Agency.objects.create(
        principal_kind="person",
        principal_user=principal,
        agent=person,
        all_items=True,
        valid_from=now - dt.timedelta(days=1),
        valid_until=now + dt.timedelta(days=30),
        granted_by=principal,
    )
    # Neither an expired nor a revoked agency is a claim.
    Agency.objects.create(
        principal_kind="enterprise",
        enterprise=employer,
        agent=person,
        all_items=True,
        valid_from=now - dt.timedelta(days=60),
        valid_until=now - dt.timedelta(days=1),
        granted_by=boss,
    )
    Agency.objects.create(
        principal_kind="person",
        principal_user=principal,
        agent=person,
        all_items=True,
        valid_from=now - dt.timedelta(days=1),
        valid_until=now + dt.timedelta(days=30),
        granted_by=principal,
        revoked_at=now,
        revoked_by=principal,
    )
    return World(person, number, principal_id, own, employer, employer_agency, proxy_agency)


@dataclass
class Registered:
    client_id: str
    secret: str


def register(kind: str = "web", scopes: tuple[str, ...] = tuple(USER_SCOPES.split()), **extra: Any) -> Registered:
    if kind == "web":
        extra.setdefault("redirect_uris", [REDIRECT])
        extra.setdefault("post_logout_redirect_uris", [SIGNED_OUT])
    application, secret = clients.register_client(
        actor=ADMIN, name=f"部门系统 {kind}", kind=kind, allowed_scopes=list(scopes), **extra
    )
    return Registered(application.client_id, secret)


@pytest.fixture
def web(transactional_db: Any) -> Registered:
    return register()


# --- the department system and the browser -------------------------------------------------------------


def discover(base: str) -> dict[str, Any]:
    response = requests.get(f"{base}/.well-known/openid-configuration", timeout=TIMEOUT)
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def browser_for(user: User) -> requests.Session:
    """The citizen's browser, already signed in to Yiwang.

    The session is made by Django's test client and its cookie handed to ``requests``: the portal's sign-in
    form (``portal:login``) is being built alongside this work. Once it exists, signing in through it is the
    more faithful start; the protocol from /o/authorize/ onwards is the same either way.
    """
    client = Client()
    client.force_login(user)
    browser = opened(requests.Session())
    browser.cookies.set(settings.SESSION_COOKIE_NAME, client.cookies[settings.SESSION_COOKIE_NAME].value)
    return browser


def relying_party(registered: Registered, scope: str = USER_SCOPES) -> OAuth2Session:
    return opened(
        OAuth2Session(
            registered.client_id,
            registered.secret,
            scope=scope,
            redirect_uri=REDIRECT,
            code_challenge_method="S256",
            token_endpoint_auth_method="client_secret_basic",
            default_timeout=TIMEOUT,
        )
    )


@dataclass
class Authorization:
    location: str
    state: str
    verifier: str
    nonce: str

    @property
    def query(self) -> dict[str, list[str]]:
        return parse_qs(urlsplit(self.location).query)


def authorize(browser: requests.Session, rp: OAuth2Session, meta: dict[str, Any], **extra: Any) -> Authorization:
    """Send the browser to the authorization endpoint; return where Yiwang redirects it back to."""
    verifier = generate_token(64)
    nonce = generate_token(24)
    url, state = rp.create_authorization_url(
        meta["authorization_endpoint"], code_verifier=verifier, nonce=nonce, **extra
    )
    response = browser.get(url, allow_redirects=False, timeout=TIMEOUT)
    assert response.status_code == 302, response.text[:500]
    location = response.headers["Location"]
    assert location.startswith(REDIRECT + "?")
    return Authorization(location, state, verifier, nonce)


def exchange(rp: OAuth2Session, meta: dict[str, Any], grant: Authorization, **extra: Any) -> dict[str, Any]:
    options: dict[str, Any] = {"code_verifier": grant.verifier, **extra}
    token: dict[str, Any] = rp.fetch_token(
        meta["token_endpoint"], authorization_response=grant.location, state=grant.state, **options
    )
    return token


def verify_id_token(id_token: str, meta: dict[str, Any], client_id: str, nonce: str, access_token: str) -> CodeIDToken:
    """What a relying party must check (OIDC Core §3.1.3.7): signature against the JWKS, iss, aud, exp, nonce."""
    keys = KeySet.import_key_set(requests.get(meta["jwks_uri"], timeout=TIMEOUT).json())
    decoded = jwt.decode(id_token, keys, algorithms=["RS256"])
    claims = CodeIDToken(
        decoded.claims,
        decoded.header,
        options={"iss": {"essential": True, "value": meta["issuer"]}, "aud": {"essential": True, "value": client_id}},
        params={"nonce": nonce, "client_id": client_id, "access_token": access_token},
    )
    claims.validate()
    return claims


def sign_in(user: User, registered: Registered, base: str, scope: str = USER_SCOPES) -> tuple[Any, ...]:
    meta = discover(base)
    browser = browser_for(user)
    rp = relying_party(registered, scope)
    grant = authorize(browser, rp, meta)
    token = exchange(rp, meta, grant)
    return meta, browser, rp, grant, token


def subject_of(user: User) -> str:
    return str(SubjectIdentifier.objects.get(user=user).subject)


# --- discovery ---------------------------------------------------------------------------------------


def test_discovery_at_the_standard_address_names_this_issuer_and_its_endpoints(live_server: Any) -> None:
    meta = discover(live_server.url)
    assert meta["issuer"] == live_server.url
    # The document under the DOT mount is the same document (some clients look there).
    alias = requests.get(f"{live_server.url}/o/.well-known/openid-configuration", timeout=TIMEOUT).json()
    assert alias == meta
    for key in ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri", "end_session_endpoint"):
        assert meta[key].startswith(live_server.url + "/o/"), key
    assert meta["response_types_supported"] == ["code"]
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert meta["id_token_signing_alg_values_supported"] == ["RS256"]
    assert {"openid", "profile", "identity", "phone", "agency", "registers:verify", "catalogue:read"} <= set(
        meta["scopes_supported"]
    )
    assert {"sub", "name", "real_name_status", "id_number_masked", "enterprises", "agencies"} <= set(
        meta["claims_supported"]
    )
    keys = requests.get(meta["jwks_uri"], timeout=TIMEOUT).json()["keys"]
    assert keys and all(k["kty"] == "RSA" and k["alg"] == "RS256" and k["kid"] and "d" not in k for k in keys)


def test_dot_application_management_pages_are_not_served(live_server: Any, world: World) -> None:
    # Any signed-in user could register a client there, past the policies and audit of identity.clients.
    browser = browser_for(world.person)
    for page in ("/o/applications/", "/o/applications/register/", "/o/authorized_tokens/", "/o/introspect/"):
        assert browser.get(live_server.url + page, allow_redirects=False, timeout=TIMEOUT).status_code == 404


def _new_rsa_key() -> str:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def test_a_configured_issuer_is_the_issuer_whatever_host_is_asked(
    live_server: Any, world: World, web: Registered, settings: Any
) -> None:
    # Production sets OIDC_ISS_ENDPOINT (YIWANG_OIDC_ISSUER): the issuer must not follow the Host header.
    configured = live_server.url.replace("localhost", "127.0.0.1")
    settings.OAUTH2_PROVIDER = {**settings.OAUTH2_PROVIDER, "OIDC_ISS_ENDPOINT": configured}
    meta = discover(live_server.url)
    assert meta["issuer"] == configured
    assert meta["token_endpoint"].startswith(configured + "/o/")
    _meta, _b, _rp, grant, token = sign_in(world.person, web, live_server.url, scope="openid")
    assert (
        verify_id_token(token["id_token"], meta, web.client_id, grant.nonce, token["access_token"])["iss"] == configured
    )


def test_during_a_key_rotation_both_keys_are_published_and_the_new_one_signs(
    live_server: Any, world: World, web: Registered, settings: Any
) -> None:
    before = {k["kid"] for k in requests.get(discover(live_server.url)["jwks_uri"], timeout=TIMEOUT).json()["keys"]}
    previous = settings.OAUTH2_PROVIDER["OIDC_RSA_PRIVATE_KEY"]
    settings.OAUTH2_PROVIDER = {
        **settings.OAUTH2_PROVIDER,
        "OIDC_RSA_PRIVATE_KEY": _new_rsa_key(),
        "OIDC_RSA_PRIVATE_KEYS_INACTIVE": [previous],
    }
    meta, _b, _rp, grant, token = sign_in(world.person, web, live_server.url, scope="openid")
    published = {k["kid"] for k in requests.get(meta["jwks_uri"], timeout=TIMEOUT).json()["keys"]}
    assert before < published and len(published) == 2
    signed_with = jwt.decode(
        token["id_token"], KeySet.import_key_set(requests.get(meta["jwks_uri"], timeout=TIMEOUT).json())
    ).header["kid"]
    assert signed_with in published - before
    verify_id_token(token["id_token"], meta, web.client_id, grant.nonce, token["access_token"])


# --- signing in -----------------------------------------------------------------------------------------


def test_a_department_system_signs_a_citizen_in_with_code_and_pkce(
    live_server: Any, world: World, web: Registered
) -> None:
    meta, _browser, rp, grant, token = sign_in(world.person, web, live_server.url)
    assert set(token["scope"].split()) == set(USER_SCOPES.split())
    assert token["token_type"] == "Bearer"

    id_claims = verify_id_token(token["id_token"], meta, web.client_id, grant.nonce, token["access_token"])
    sub = subject_of(world.person)
    assert id_claims["sub"] == sub
    assert sub != str(world.person.pk)
    # Who signed in, and nothing personal: the ID token travels through browsers and URLs.
    assert set(id_claims) <= {"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "jti", "azp"}

    info = rp.get(meta["userinfo_endpoint"]).json()
    for agency in info["agencies"]:
        agency.pop("valid_until")  # its form: test_agency_validity_is_an_iso_timestamp_of_the_grant
    assert info == {
        "sub": sub,
        "name": "张三",
        "real_name_verified": True,
        "real_name_status": "verified",
        "account_kind": "person",
        "id_type": "111",
        "id_number_masked": world.person_id[:4] + "*" * 10 + world.person_id[-4:],
        "phone_number_masked": "138****8000",
        "enterprises": [{"uscc": world.own.uscc, "name": "张三小吃店"}],
        "agencies": [
            {
                "principal_kind": "person",
                "principal_name_masked": "李*",
                "principal_id_number_masked": world.principal_id[:4] + "*" * 10 + world.principal_id[-4:],
                "all_items": True,
                "item_codes": [],
            },
            {
                "principal_kind": "enterprise",
                "uscc": world.employer.uscc,
                "name": "上海某某科技有限公司",
                "all_items": False,
                "item_codes": ["000131128900"],
            },
        ],
    }
    assert "id_number" not in info  # this client's policy does not allow clear ID numbers


def test_agency_validity_is_an_iso_timestamp_of_the_grant(live_server: Any, world: World, web: Registered) -> None:
    meta, _browser, rp, _grant, _token = sign_in(world.person, web, live_server.url, scope="openid agency")
    info = rp.get(meta["userinfo_endpoint"]).json()
    by_kind = {a["principal_kind"]: dt.datetime.fromisoformat(a["valid_until"]) for a in info["agencies"]}
    assert by_kind == {
        "enterprise": world.employer_agency.valid_until,
        "person": world.proxy_agency.valid_until,
    }


def test_only_a_client_whose_policy_allows_it_receives_the_id_number_in_clear(
    live_server: Any, world: World, web: Registered
) -> None:
    trusted = register(may_receive_id_numbers=True)
    meta, _b, rp, _g, token = sign_in(world.person, trusted, live_server.url)
    info = rp.get(meta["userinfo_endpoint"]).json()
    assert info["id_number"] == world.person_id
    person_principal = next(a for a in info["agencies"] if a["principal_kind"] == "person")
    assert person_principal["principal_id_number"] == world.principal_id
    # Not in the ID token even then.
    assert world.person_id not in _payload(token["id_token"])

    meta, _b, rp, _g, _t = sign_in(world.person, web, live_server.url)
    info = rp.get(meta["userinfo_endpoint"]).json()
    assert "id_number" not in info
    assert all("principal_id_number" not in a for a in info["agencies"])


def test_claims_follow_the_granted_scopes(live_server: Any, world: World, web: Registered) -> None:
    meta, _b, rp, _g, token = sign_in(world.person, web, live_server.url, scope="openid profile")
    assert set(token["scope"].split()) == {"openid", "profile"}
    info = rp.get(meta["userinfo_endpoint"]).json()
    assert info == {
        "sub": subject_of(world.person),
        "name": "张三",
        "real_name_verified": True,
        "real_name_status": "verified",
    }

    meta, _b, rp, _g, _t = sign_in(world.person, web, live_server.url, scope="openid phone")
    assert rp.get(meta["userinfo_endpoint"]).json() == {
        "sub": subject_of(world.person),
        "phone_number_masked": "138****8000",
    }


def test_an_unverified_account_says_so(live_server: Any, transactional_db: Any, web: Registered) -> None:
    person = make_person("unverified", "赵六", resident_id("320102", "20000229", "321"), "13600136000", verified=False)
    meta, _b, rp, _g, _t = sign_in(person, web, live_server.url, scope="openid profile")
    info = rp.get(meta["userinfo_endpoint"]).json()
    assert (info["real_name_verified"], info["real_name_status"]) == (False, "unverified")


def test_a_user_without_an_account_signs_in_with_only_a_subject(
    live_server: Any, transactional_db: Any, web: Registered
) -> None:
    plain = User.objects.create_user(username="plain", password=PASSWORD)
    meta, _b, rp, grant, token = sign_in(plain, web, live_server.url)
    verify_id_token(token["id_token"], meta, web.client_id, grant.nonce, token["access_token"])
    assert rp.get(meta["userinfo_endpoint"]).json() == {
        "sub": subject_of(plain),
        "enterprises": [],
        "agencies": [],
    }


def test_the_subject_is_stable_and_the_same_for_every_client(live_server: Any, world: World, web: Registered) -> None:
    other = register()
    subs = set()
    for registered in (web, other, web):
        meta, _b, rp, grant, token = sign_in(world.person, registered, live_server.url, scope="openid")
        subs.add(
            verify_id_token(token["id_token"], meta, registered.client_id, grant.nonce, token["access_token"])["sub"]
        )
        subs.add(rp.get(meta["userinfo_endpoint"]).json()["sub"])
    assert len(subs) == 1


def test_rp_initiated_logout_ends_the_yiwang_session(live_server: Any, world: World, web: Registered) -> None:
    meta, browser, rp, _grant, token = sign_in(world.person, web, live_server.url)
    # The server re-sends the cookie on every response (sliding expiry); it is one session throughout.
    (session_key,) = {c.value for c in browser.cookies if c.name == settings.SESSION_COOKIE_NAME}
    assert Session.objects.filter(session_key=session_key).exists()

    response = browser.get(
        meta["end_session_endpoint"],
        params={"id_token_hint": token["id_token"], "post_logout_redirect_uri": SIGNED_OUT, "state": "bye"},
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"{SIGNED_OUT}?state=bye"
    assert not Session.objects.filter(session_key=session_key).exists()
    # The department system's tokens for this user end with the session.
    assert rp.get(meta["userinfo_endpoint"]).status_code == 401


def test_a_browser_without_a_session_is_sent_to_the_sign_in_page(
    live_server: Any, transactional_db: Any, web: Registered
) -> None:
    meta = discover(live_server.url)
    url, _state = relying_party(web).create_authorization_url(
        meta["authorization_endpoint"], code_verifier=generate_token(64), nonce=generate_token(24)
    )
    response = requests.get(url, allow_redirects=False, timeout=TIMEOUT)
    assert response.status_code == 302
    target = urlsplit(response.headers["Location"])
    assert target.path == reverse(settings.LOGIN_URL)
    back = parse_qs(target.query)["next"][0]
    assert back.startswith("/o/authorize/?")
    assert parse_qs(urlsplit(back).query)["client_id"] == [web.client_id]
    assert not Grant.objects.exists()


def test_a_citizen_signs_in_through_the_portal_form_on_the_way(live_server: Any, world: World, web: Registered) -> None:
    """The whole path a citizen takes: department system → Yiwang sign-in form → back with a code."""
    meta = discover(live_server.url)
    rp = relying_party(web)
    verifier, nonce = generate_token(64), generate_token(24)
    url, state = rp.create_authorization_url(meta["authorization_endpoint"], code_verifier=verifier, nonce=nonce)
    browser = opened(requests.Session())
    to_login = browser.get(url, allow_redirects=False, timeout=TIMEOUT)
    login_url = live_server.url + to_login.headers["Location"]
    form = browser.get(login_url, timeout=TIMEOUT)
    assert form.status_code == 200
    back = parse_qs(urlsplit(login_url).query)["next"][0]
    signed_in = browser.post(
        login_url,
        data={
            "action": "password",
            "login": world.person_id,
            "password": PASSWORD,
            "next": back,
            "csrfmiddlewaretoken": browser.cookies["csrftoken"],
        },
        allow_redirects=False,
        timeout=TIMEOUT,
    )
    assert signed_in.status_code == 302, signed_in.text[:500]
    assert signed_in.headers["Location"] == back
    to_rp = browser.get(live_server.url + back, allow_redirects=False, timeout=TIMEOUT)
    assert to_rp.status_code == 302
    grant = Authorization(to_rp.headers["Location"], state, verifier, nonce)
    token = exchange(rp, meta, grant)
    claims = verify_id_token(token["id_token"], meta, web.client_id, nonce, token["access_token"])
    assert claims["sub"] == subject_of(world.person)


# --- refused ----------------------------------------------------------------------------------------------


def test_a_replayed_authorization_code_is_refused_and_issues_nothing(
    live_server: Any, world: World, web: Registered
) -> None:
    meta = discover(live_server.url)
    rp = relying_party(web)
    grant = authorize(browser_for(world.person), rp, meta)
    exchange(rp, meta, grant)
    issued = AccessToken.objects.count()

    with pytest.raises(OAuthError) as refused:
        exchange(relying_party(web), meta, grant)
    assert refused.value.error == "invalid_grant"
    assert AccessToken.objects.count() == issued


def test_a_wrong_client_secret_is_refused(live_server: Any, world: World, web: Registered) -> None:
    meta = discover(live_server.url)
    grant = authorize(browser_for(world.person), relying_party(web), meta)
    impostor = relying_party(Registered(web.client_id, "not-the-secret"))
    with pytest.raises(OAuthError) as refused:
        exchange(impostor, meta, grant)
    assert refused.value.error == "invalid_client"
    assert not AccessToken.objects.exists()


def _payload(id_token: str) -> str:
    segment = id_token.split(".")[1]
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)).decode()


def test_a_tampered_id_token_fails_signature_verification(live_server: Any, world: World, web: Registered) -> None:
    meta, _b, _rp, grant, token = sign_in(world.person, web, live_server.url)
    header, payload, signature = token["id_token"].split(".")
    claims = json.loads(_payload(token["id_token"]))
    claims["sub"] = claims["sub"][:-1] + ("0" if claims["sub"][-1] != "0" else "1")  # someone else
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    assert forged_payload != payload
    with pytest.raises(BadSignatureError):
        verify_id_token(
            f"{header}.{forged_payload}.{signature}", meta, web.client_id, grant.nonce, token["access_token"]
        )


def test_userinfo_refuses_tampered_and_unknown_access_tokens(live_server: Any, world: World, web: Registered) -> None:
    meta, _b, _rp, _g, token = sign_in(world.person, web, live_server.url)
    real = token["access_token"]
    tampered = real[:-1] + ("A" if real[-1] != "A" else "B")
    for bearer in (tampered, secrets.token_urlsafe(30)):
        response = requests.get(
            meta["userinfo_endpoint"], headers={"Authorization": f"Bearer {bearer}"}, timeout=TIMEOUT
        )
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        assert "sub" not in response.text
    response = requests.get(meta["userinfo_endpoint"], timeout=TIMEOUT)
    assert response.status_code == 401


def test_a_wrong_or_missing_pkce_verifier_is_refused(live_server: Any, world: World, web: Registered) -> None:
    meta = discover(live_server.url)
    browser = browser_for(world.person)

    grant = authorize(browser, relying_party(web), meta)
    with pytest.raises(OAuthError) as refused:
        exchange(relying_party(web), meta, grant, code_verifier=generate_token(64))
    assert refused.value.error == "invalid_grant"

    grant = authorize(browser, relying_party(web), meta)
    code = grant.query["code"][0]
    # Without a verifier at all (oauthlib reports the missing parameter as invalid_request, RFC 6749 §5.2).
    response = requests.post(
        meta["token_endpoint"],
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT},
        auth=(web.client_id, web.secret),
        timeout=TIMEOUT,
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert not AccessToken.objects.exists()


def test_an_authorization_request_without_s256_pkce_is_refused(live_server: Any, world: World, web: Registered) -> None:
    meta = discover(live_server.url)
    browser = browser_for(world.person)
    without_pkce = OAuth2Session(web.client_id, web.secret, scope=USER_SCOPES, redirect_uri=REDIRECT)
    grant = authorize(browser, without_pkce, meta)
    assert grant.query["error"] == ["invalid_request"]
    assert "code" not in grant.query

    verifier = generate_token(64)
    plain = OAuth2Session(web.client_id, web.secret, scope=USER_SCOPES, redirect_uri=REDIRECT)
    url, _state = plain.create_authorization_url(
        meta["authorization_endpoint"], code_challenge=verifier, code_challenge_method="plain"
    )
    response = browser.get(url, allow_redirects=False, timeout=TIMEOUT)
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert query["error"] == ["invalid_request"]
    assert "code" not in query
    assert not Grant.objects.exists()


def test_an_unregistered_redirect_uri_gets_an_error_page_and_no_redirect(
    live_server: Any, world: World, web: Registered
) -> None:
    meta = discover(live_server.url)
    rp = relying_party(web)
    for elsewhere in ("https://evil.example/callback", REDIRECT + "/../elsewhere", "http://127.0.0.1:8765/callback2"):
        url, _state = rp.create_authorization_url(
            meta["authorization_endpoint"], redirect_uri=elsewhere, code_verifier=generate_token(64)
        )
        response = browser_for(world.person).get(url, allow_redirects=False, timeout=TIMEOUT)
        assert response.status_code == 400, elsewhere
        assert "Location" not in response.headers
    assert not Grant.objects.exists()


def test_scopes_outside_the_client_policy_are_refused(live_server: Any, world: World) -> None:
    narrow = register(scopes=("openid", "profile"))
    meta = discover(live_server.url)
    for asked in ("openid profile identity", "openid agency", "openid registers:verify"):
        grant = authorize(browser_for(world.person), relying_party(narrow, asked), meta)
        assert grant.query["error"] == ["invalid_scope"], asked
        assert "code" not in grant.query
    assert not Grant.objects.exists()


# --- machine clients ------------------------------------------------------------------------------------


def _client_credentials(registered: Registered, meta: dict[str, Any], scope: str | None) -> dict[str, Any]:
    session = opened(
        OAuth2Session(
            registered.client_id,
            registered.secret,
            scope=scope,
            token_endpoint_auth_method="client_secret_basic",
            default_timeout=TIMEOUT,
        )
    )
    token: dict[str, Any] = session.fetch_token(meta["token_endpoint"], grant_type="client_credentials")
    return token


@pytest.mark.urls(__name__)
def test_a_machine_client_gets_a_token_with_its_scopes_and_the_api_checks_them(
    live_server: Any, transactional_db: Any
) -> None:
    machine = register("machine", scopes=("registers:verify",))
    meta = discover(live_server.url)
    token = _client_credentials(machine, meta, "registers:verify")
    assert token["scope"] == "registers:verify"
    assert "id_token" not in token and "refresh_token" not in token

    bearer = {"Authorization": f"Bearer {token['access_token']}"}
    allowed = requests.get(f"{live_server.url}/probe/verify/", headers=bearer, timeout=TIMEOUT)
    assert allowed.status_code == 200
    assert allowed.json() == {"client_id": machine.client_id, "scopes": ["registers:verify"]}
    # A scope the token does not carry.
    assert requests.get(f"{live_server.url}/probe/catalogue/", headers=bearer, timeout=TIMEOUT).status_code == 403
    # No token, or a made-up one.
    assert requests.get(f"{live_server.url}/probe/verify/", timeout=TIMEOUT).status_code == 401
    forged = {"Authorization": f"Bearer {secrets.token_urlsafe(30)}"}
    assert requests.get(f"{live_server.url}/probe/verify/", headers=forged, timeout=TIMEOUT).status_code == 401
    # A machine token is no sign-in (no openid scope, no user): userinfo refuses it.
    assert requests.get(meta["userinfo_endpoint"], headers=bearer, timeout=TIMEOUT).status_code == 401

    # Asking for a scope outside its policy gets nothing.
    with pytest.raises(OAuthError) as refused:
        _client_credentials(machine, meta, "registers:verify catalogue:read")
    assert refused.value.error == "invalid_scope"


def test_the_registers_verify_api_takes_a_machine_token_with_its_scope(live_server: Any, transactional_db: Any) -> None:
    verifier = register("machine", scopes=("registers:verify",))
    reader = register("machine", scopes=("catalogue:read",))
    meta = discover(live_server.url)
    endpoint = f"{live_server.url}/api/v1/registers/verify/person"
    question = {"id_number": resident_id("110101", "19900307", "123"), "name": "张三"}

    def ask(registered: Registered | None, scope: str) -> requests.Response:
        headers = {}
        if registered is not None:
            headers["Authorization"] = f"Bearer {_client_credentials(registered, meta, scope)['access_token']}"
        return requests.post(endpoint, json=question, headers=headers, timeout=TIMEOUT)

    assert ask(verifier, "registers:verify").status_code == 200
    assert ask(reader, "catalogue:read").status_code == 403
    assert ask(None, "").status_code == 401


def test_a_machine_client_cannot_use_the_authorization_code_grant(live_server: Any, world: World) -> None:
    machine = register("machine", scopes=("registers:verify",))
    meta = discover(live_server.url)
    rp = OAuth2Session(machine.client_id, machine.secret, scope="registers:verify", redirect_uri=REDIRECT)
    url, _state = rp.create_authorization_url(
        meta["authorization_endpoint"], code_verifier=generate_token(64), code_challenge_method="S256"
    )
    response = browser_for(world.person).get(url, allow_redirects=False, timeout=TIMEOUT)
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert not Grant.objects.exists()

    response = requests.post(
        meta["token_endpoint"],
        data={
            "grant_type": "authorization_code",
            "code": "anything",
            "redirect_uri": REDIRECT,
            "code_verifier": "x" * 43,
        },
        auth=(machine.client_id, machine.secret),
        timeout=TIMEOUT,
    )
    assert response.status_code == 400
    assert response.json()["error"] == "unauthorized_client"
    assert not AccessToken.objects.exists()


def test_a_web_system_cannot_use_client_credentials(live_server: Any, transactional_db: Any, web: Registered) -> None:
    with pytest.raises(OAuthError) as refused:
        _client_credentials(web, discover(live_server.url), "openid")
    assert refused.value.error == "unauthorized_client"
    assert not AccessToken.objects.exists()


@pytest.mark.urls(__name__)
def test_a_disabled_client_can_neither_sign_in_nor_use_its_tokens(
    live_server: Any, world: World, web: Registered
) -> None:
    meta, _b, rp, _g, _token = sign_in(world.person, web, live_server.url)
    machine = register("machine", scopes=("registers:verify",))
    machine_token = _client_credentials(machine, meta, "registers:verify")
    from oauth2_provider.models import get_application_model

    applications = get_application_model().objects
    clients.disable_client(actor=ADMIN, application=applications.get(client_id=web.client_id))
    clients.disable_client(actor=ADMIN, application=applications.get(client_id=machine.client_id))

    assert rp.get(meta["userinfo_endpoint"]).status_code == 401
    bearer = {"Authorization": f"Bearer {machine_token['access_token']}"}
    assert requests.get(f"{live_server.url}/probe/verify/", headers=bearer, timeout=TIMEOUT).status_code == 401
    with pytest.raises(OAuthError) as refused:
        _client_credentials(machine, meta, "registers:verify")
    assert refused.value.error == "invalid_client"
    url, _state = relying_party(web).create_authorization_url(
        meta["authorization_endpoint"], code_verifier=generate_token(64)
    )
    response = browser_for(world.person).get(url, allow_redirects=False, timeout=TIMEOUT)
    assert response.status_code == 400
    assert "Location" not in response.headers
    assert not IDToken.objects.filter(application__client_id=web.client_id).exists()
