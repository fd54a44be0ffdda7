"""The shared fixture world: named personas, API clients and valid catalogue items.

Personas (docs/identity.md): ``citizen`` (张三, verified), ``unverified`` (a person the register does not know),
``enterprise_rep`` (王五, legal representative of ``enterprise``), ``agent`` (李四, agent of that enterprise),
``clerk`` (window clerk, department A, 西湖区), ``reviewer_a`` (department A, 西湖区), ``reviewer_b`` (department B,
任城区: must see nothing of A), ``supervisor`` (杭州市, sees its counties), ``auditor``, ``admin``; ``manager`` and
``publisher`` are catalogue staff of department A. ``staff_client`` logs a staff member in with TOTP passed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import Client, override_settings
from django.utils import translation
from rest_framework.test import APIClient

from yiwang.audit.actors import SystemActor
from yiwang.catalogue import services
from yiwang.catalogue.models import Organisation
from yiwang.catalogue.tests.factories import BODY_USCC, OTHER_BODY_USCC, item_content
from yiwang.identity import services as identity
from yiwang.identity.constants import CodePurpose, Role
from yiwang.identity.tests.people import PEOPLE, make_register_person

PASSWORD = "correct horse battery staple"  # noqa: S105 - a test fixture password


@pytest.fixture(autouse=True, scope="session")
def _media_in_a_temporary_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Uploaded files of the whole run go to a temporary folder, never into the developer's var/media; so do files
    the demo writes into the data folder (the demo exchange client's credentials)."""
    with override_settings(MEDIA_ROOT=str(tmp_path_factory.mktemp("media")), DATA_DIR=tmp_path_factory.mktemp("data")):
        yield


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Each test starts with an empty cache and the default language: neither may leak between tests
    (a request to an /en/ page leaves English active in the thread, which would change reverse())."""
    cache.clear()
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture
def system() -> SystemActor:
    return SystemActor("test")


@pytest.fixture
def roles(db: Any, system: SystemActor) -> None:
    identity.ensure_roles(actor=system)


@pytest.fixture
def department_a(db: Any) -> Organisation:
    """Department A: the market regulator of 西湖区 (the implementing body of ``item_content()``)."""
    org, _created = Organisation.objects.get_or_create(
        uscc=BODY_USCC, defaults={"name": "杭州市西湖区市场监督管理局", "nature": "1", "division_id": "330106"}
    )
    return org


@pytest.fixture
def department_b(db: Any) -> Organisation:
    """Department B: a body of 任城区 (济宁) — nothing of department A may be visible to its staff."""
    org, _created = Organisation.objects.get_or_create(
        uscc=OTHER_BODY_USCC, defaults={"name": "济宁市任城区行政审批服务局", "nature": "1", "division_id": "370811"}
    )
    return org


def _staff(system: SystemActor, username: str, department: Organisation, region: str, *roles: Role) -> User:
    return identity.create_staff(
        actor=system,
        username=username,
        name=username,
        department=department,
        division_code=region,
        roles=[str(r) for r in roles],
        password=PASSWORD,
    )


@pytest.fixture
def manager(roles: None, system: SystemActor, department_a: Organisation) -> User:
    """Catalogue manager of department A: edits, imports and submits its items; cannot publish."""
    return _staff(system, "manager", department_a, "330106", Role.CATALOGUE_MANAGER)


@pytest.fixture
def publisher(roles: None, system: SystemActor, department_a: Organisation) -> User:
    """Catalogue publisher of department A: everything a manager can do, plus publish and withdraw."""
    return _staff(system, "publisher", department_a, "330106", Role.CATALOGUE_PUBLISHER)


@pytest.fixture
def clerk(roles: None, system: SystemActor, department_a: Organisation) -> User:
    return _staff(system, "clerk", department_a, "330106", Role.WINDOW_CLERK)


@pytest.fixture
def reviewer_a(roles: None, system: SystemActor, department_a: Organisation) -> User:
    return _staff(system, "reviewer-a", department_a, "330106", Role.REVIEWER, Role.APPROVER)


@pytest.fixture
def reviewer_b(roles: None, system: SystemActor, department_b: Organisation) -> User:
    return _staff(system, "reviewer-b", department_b, "370811", Role.REVIEWER, Role.APPROVER)


@pytest.fixture
def supervisor(roles: None, system: SystemActor, department_a: Organisation) -> User:
    """Supervisor of 杭州市 (330100): sees its counties (西湖区 included), not 济宁."""
    return _staff(system, "supervisor", department_a, "330100", Role.SUPERVISOR)


@pytest.fixture
def auditor(roles: None, system: SystemActor, department_a: Organisation) -> User:
    return _staff(system, "auditor", department_a, "330000", Role.AUDITOR)


@pytest.fixture
def admin(roles: None, system: SystemActor, department_a: Organisation) -> User:
    return _staff(system, "administrator", department_a, "330000", Role.ADMINISTRATOR)


def confirm_phone_by_sms(user: User) -> None:
    """The holder proves the phone the way a person does: a code to the number (the named fake gateway), typed back."""
    import re

    from django.test import override_settings

    from yiwang.common import outbox
    from yiwang.identity.messaging import MemoryProvider

    with override_settings(YIWANG_MESSAGE_PROVIDER="yiwang.identity.messaging.MemoryProvider"):
        before = len(MemoryProvider.sent)
        identity.request_phone_confirmation(actor=user)
        outbox.relay()  # the test transaction never commits: deliver as the relay would
        message = MemoryProvider.sent[before:][-1]
        del MemoryProvider.sent[before:]
    match = re.search(r"[0-9]{6}", message.text)
    assert match
    identity.confirm_phone(actor=user, code=match.group(0))
    # The one-code-a-minute limit would otherwise meet the test's own first request for this number.
    cache.delete(f"identity:code-sent:{CodePurpose.REGISTER}:{user.account.phone_index}")


def _person(system: SystemActor, key: str, *, in_register: bool = True) -> User:
    person = PEOPLE[key]
    if in_register:
        make_register_person(person)
    user = identity.register_person(
        actor=system, id_number=person.id_number, name=person.name, phone=person.phone, password=PASSWORD
    )
    confirm_phone_by_sms(user)
    return user


@pytest.fixture
def citizen(db: Any, system: SystemActor) -> User:
    """张三: a verified natural person; reads everything public, applies for himself, changes no catalogue."""
    return _person(system, "citizen")


@pytest.fixture
def unverified(db: Any, system: SystemActor) -> User:
    """赵六: registered, but the population register does not know her yet: can browse, cannot apply."""
    return _person(system, "unverified", in_register=False)


@pytest.fixture
def enterprise_rep(db: Any, system: SystemActor) -> User:
    """王五: legal representative of ``enterprise``."""
    return _person(system, "representative")


@pytest.fixture
def enterprise(enterprise_rep: User) -> Any:
    from yiwang.identity.tests.people import ENTERPRISE, make_register_entity

    make_register_entity(ENTERPRISE, PEOPLE["representative"])
    return identity.bind_enterprise(actor=enterprise_rep, uscc=ENTERPRISE.uscc, name=ENTERPRISE.name)


@pytest.fixture
def agent(db: Any, system: SystemActor, enterprise: Any, enterprise_rep: User) -> User:
    """李四: agent (经办人) of ``enterprise`` for all items, for a year."""
    import datetime as dt

    from django.utils import timezone

    user = _person(system, "agent")
    identity.grant_agency(
        actor=enterprise_rep,
        enterprise=enterprise,
        agent_id_number=PEOPLE["agent"].id_number,
        agent_name=PEOPLE["agent"].name,
        all_items=True,
        valid_until=timezone.now() + dt.timedelta(days=365),
    )
    return user


@pytest.fixture
def staff_client() -> Callable[[User], Client]:
    """A browser session of a staff member who has passed the TOTP second factor."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    def make(user: User) -> Client:
        device, _created = TOTPDevice.objects.get_or_create(user=user, defaults={"name": "test", "confirmed": True})
        client = Client()
        client.force_login(user)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
        return client

    return make


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture
def api_as() -> Callable[[User], APIClient]:
    def make(user: User) -> APIClient:
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make


@pytest.fixture
def content() -> Callable[..., dict[str, Any]]:
    return item_content


@pytest.fixture
def published(publisher: User) -> Callable[..., Any]:
    """Publish a valid item (optionally with overrides) and return its version."""

    def make(**overrides: Any) -> Any:
        draft = services.save_draft(actor=publisher, content=item_content(**overrides))
        services.submit_for_review(actor=publisher, version=draft)
        draft.refresh_from_db()
        return services.publish(actor=publisher, version=draft)

    return make
