"""The verify API: OAuth2 client-credential tokens with scope registers:verify; never echoes ID numbers."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application
from rest_framework.test import APIClient

from yiwang.audit.models import AuditRecord
from yiwang.common.validators import resident_id_check_char
from yiwang.identity.models_oidc import ClientPolicy
from yiwang.registers.demo import (
    DEMO_AGENT_ID,
    DEMO_CANCELLED_NAME,
    DEMO_CANCELLED_USCC,
    DEMO_CITIZEN_ID,
    DEMO_ENTERPRISE_NAME,
    DEMO_ENTERPRISE_USCC,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("demo")]

PERSON_URL = "/api/v1/registers/verify/person"
ENTITY_URL = "/api/v1/registers/verify/entity"


@pytest.fixture
def application(db: Any) -> Application:
    app = Application.objects.create(
        name="市场监管局业务系统",
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS,
        client_secret="a-secret-that-is-hashed-on-save",
    )
    # identity's token validator refuses clients without an active policy (registered through
    # identity.clients in real life); this client is allowed the verify scope.
    ClientPolicy.objects.create(application=app, kind="machine", allowed_scopes=["registers:verify"])
    return app


def client_with(application: Application, scope: str = "registers:verify", *, expires_in: int = 3600) -> APIClient:
    token = AccessToken.objects.create(
        user=None,  # client credentials: the client acts as itself
        application=application,
        token=f"token-{scope}-{expires_in}",
        scope=scope,
        expires=timezone.now() + dt.timedelta(seconds=expires_in),
    )
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token.token}", HTTP_ACCEPT_LANGUAGE="en")
    return client


def test_a_person_is_verified_without_the_number_in_the_answer(application: Application) -> None:
    response = client_with(application).post(PERSON_URL, {"id_number": DEMO_CITIZEN_ID, "name": "张 三"}, format="json")
    assert response.status_code == 200
    assert response.json() == {"found": True, "matches": True, "status": "registered"}
    assert DEMO_CITIZEN_ID not in response.content.decode()


def test_a_wrong_name_and_an_unknown_person(application: Application) -> None:
    client = client_with(application)
    wrong = client.post(PERSON_URL, {"id_number": DEMO_CITIZEN_ID, "name": "李四"}, format="json")
    assert wrong.json() == {"found": True, "matches": False, "status": "registered"}
    unknown_id = "11010520000101002" + resident_id_check_char("11010520000101002")
    unknown = client.post(PERSON_URL, {"id_number": unknown_id, "name": "李四"}, format="json")
    assert unknown.json() == {"found": False, "matches": False, "status": None}


def test_every_verification_is_audited_with_the_client_and_a_masked_number(application: Application) -> None:
    client_with(application).post(PERSON_URL, {"id_number": DEMO_AGENT_ID, "name": "李四"}, format="json")
    record = AuditRecord.objects.get(action="registers.person.verify")
    assert record.actor_label == f"system:client:{application.client_id}"
    assert DEMO_AGENT_ID not in str([record.object_id, record.object_label, record.after])
    assert record.after == {"found": True, "matches": True, "status": "registered"}


def test_entities_are_verified_with_their_status(application: Application) -> None:
    client = client_with(application)
    active = client.post(ENTITY_URL, {"uscc": DEMO_ENTERPRISE_USCC, "name": DEMO_ENTERPRISE_NAME}, format="json")
    assert active.json() == {"found": True, "matches": True, "status": "active"}
    cancelled = client.post(ENTITY_URL, {"uscc": DEMO_CANCELLED_USCC, "name": DEMO_CANCELLED_NAME}, format="json")
    assert cancelled.json() == {"found": True, "matches": True, "status": "cancelled"}


def test_a_malformed_id_number_is_a_400_with_a_translated_message(application: Application) -> None:
    bad = DEMO_CITIZEN_ID[:17] + ("0" if DEMO_CITIZEN_ID[17] != "0" else "1")
    response = client_with(application).post(PERSON_URL, {"id_number": bad, "name": "张三"}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["message"] == "The check digit (character 18) is wrong."
    assert body["errors"][0]["code"] == "id_check"
    assert bad not in response.content.decode()
    chinese = client_with(application, expires_in=3599)
    chinese.credentials(HTTP_AUTHORIZATION="Bearer token-registers:verify-3599", HTTP_ACCEPT_LANGUAGE="zh-hans")
    response = chinese.post(PERSON_URL, {"id_number": bad, "name": "张三"}, format="json")
    assert response.json()["message"] == "校验码（第 18 位）错误。"
    assert not AuditRecord.objects.filter(action="registers.person.verify").exists()


def test_a_malformed_uscc_and_missing_fields_are_400s(application: Application) -> None:
    client = client_with(application)
    response = client.post(ENTITY_URL, {"uscc": "91330106", "name": "x"}, format="json")
    assert response.status_code == 400
    assert response.json()["message"] == "A unified social credit code has exactly 18 characters."
    assert client.post(PERSON_URL, {"name": "张三"}, format="json").status_code == 400


def test_no_token_is_a_401_with_a_bearer_challenge() -> None:
    response = APIClient().post(PERSON_URL, {"id_number": DEMO_CITIZEN_ID, "name": "张三"}, format="json")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_signed_in_session_is_not_enough(application: Application) -> None:
    from django.contrib.auth.models import User

    client = APIClient()
    client.force_login(User.objects.create_user("someone", password="x" * 20))
    response = client.post(PERSON_URL, {"id_number": DEMO_CITIZEN_ID, "name": "张三"}, format="json")
    assert response.status_code in (401, 403)


def test_a_token_without_the_scope_is_a_403(application: Application) -> None:
    response = client_with(application, "catalogue:read").post(
        PERSON_URL, {"id_number": DEMO_CITIZEN_ID, "name": "张三"}, format="json"
    )
    assert response.status_code == 403
    assert not AuditRecord.objects.filter(action="registers.person.verify").exists()


def test_an_expired_token_is_a_401(application: Application) -> None:
    response = client_with(application, expires_in=-10).post(
        ENTITY_URL, {"uscc": DEMO_ENTERPRISE_USCC, "name": DEMO_ENTERPRISE_NAME}, format="json"
    )
    assert response.status_code == 401


def test_an_unknown_token_is_a_401() -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    assert client.post(PERSON_URL, {"id_number": DEMO_CITIZEN_ID, "name": "张三"}, format="json").status_code == 401
