"""Builders of the exchange tests: resources and grants written directly (the grant workflow has its own tests),
machine clients and their keys through identity and sharing services, and a case submitted through cases."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from oauth2_provider.models import AccessToken

from yiwang.cases import services as cases
from yiwang.cases.models import Case
from yiwang.catalogue.models import ItemVersion, Organisation
from yiwang.identity import clients
from yiwang.sharing import keys
from yiwang.sharing.constants import Backend, GrantStatus, SharingType, SubjectKind, UpdateCycle
from yiwang.sharing.models import Grant, Resource, ResourceField

PURPOSE = "办理个体工商户登记"
OFFICIAL = "审查员王芳"
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def platform_resource(code: str) -> Resource:
    """One of the platform's own resources (population, legal_entity, licences_person, licences_entity),
    created by the sharing migrations."""
    return Resource.objects.prefetch_related("fields").get(code=code)


def make_resource(
    code: str,
    *,
    fields: Sequence[str] = ("owner", "location"),
    subject_kind: str = SubjectKind.PERSON,
    sharing_type: str = SharingType.CONDITIONAL,
    backend: str = Backend.EXTERNAL,
    provider: Organisation | None = None,
) -> Resource:
    resource = Resource.objects.create(
        code=code,
        name=f"测试资源 {code}",
        provider=provider,
        subject_kind=subject_kind,
        sharing_type=sharing_type,
        update_cycle=UpdateCycle.DAILY,
        backend=backend,
    )
    for position, field in enumerate(fields):
        ResourceField.objects.create(
            resource=resource, code=field, name=field, sensitivity="internal", position=position
        )
    return resource


def make_grant(
    resource: Resource,
    consumer: Organisation,
    *,
    fields: Sequence[str] | None = None,
    purposes: Sequence[str] = (PURPOSE,),
    items: Sequence[str] = (),
    valid_from: dt.date | None = None,
    valid_until: dt.date | None = None,
    rate_per_minute: int = 60,
    status: str = GrantStatus.APPROVED,
) -> Grant:
    granted = list(fields) if fields is not None else [f.code for f in resource.fields.all()]
    today = timezone.localdate()
    return Grant.objects.create(
        resource=resource,
        consumer=consumer,
        status=status,
        requested_fields=granted,
        requested_purposes=list(purposes),
        fields=granted,
        purposes=list(purposes),
        items=list(items),
        valid_from=valid_from or today - dt.timedelta(days=30),
        valid_until=valid_until or today + dt.timedelta(days=365),
        rate_per_minute=rate_per_minute,
        decided_at=timezone.now(),
    )


def machine_client(
    admin: User,
    department: Organisation | None,
    *,
    name: str = "市场监管局登记系统",
    scopes: Sequence[str] = (keys.EXCHANGE_SCOPE,),
) -> Any:
    application, _secret = clients.register_client(
        actor=admin, name=name, kind="machine", allowed_scopes=list(scopes), department=department
    )
    return application


def token_for(application: Any, scope: str = keys.EXCHANGE_SCOPE) -> str:
    """A client-credentials token as the token endpoint would issue it (the endpoint hashes the secret with
    Argon2, a quarter of a second per call; one test goes through it)."""
    token = AccessToken.objects.create(
        user=None,
        application=application,
        token=f"token-{application.client_id}-{scope}",
        scope=scope,
        expires=timezone.now() + dt.timedelta(hours=1),
    )
    return str(token.token)


def client_key(admin: User, application: Any) -> Ed25519PrivateKey:
    from yiwang.sharing import signing

    private = Ed25519PrivateKey.generate()
    keys.register_signing_key(
        actor=admin, application=application, public_key_pem=signing.public_pem(private.public_key())
    )
    return private


def submit_case(applicant: User, version: ItemVersion) -> Case:
    """The applicant's case, submitted with both materials, through the cases services."""
    from yiwang.catalogue.handling import handling_for

    case = cases.start_application(actor=applicant, version=version)
    wanted = set(handling_for(version).form_schema.get("properties", {}))
    missing = {"address": "浙江省杭州市西湖区文三路1号", "entity_address": "浙江省杭州市西湖区文三路1号"}
    data = {**{k: v for k, v in missing.items() if k in wanted}, **case.data}
    case = cases.save_draft(actor=applicant, case=case, data=data)
    for slot, name in enumerate(("application.pdf", "id.pdf")):
        upload = SimpleUploadedFile(name, PDF + name.encode(), content_type="application/pdf")
        cases.attach_material(actor=applicant, case=case, slot=slot, upload=upload)
    submitted = cases.submit(actor=applicant, case=case)
    assert submitted.number
    return submitted


def filed_for_enterprise(case: Case, uscc: str, name: str, representative: User) -> Case:
    """The case as if filed for this enterprise (its representative applying): the enterprise becomes a party to
    it, so its register entry — and its legal representative — may be read for the case."""
    from yiwang.identity.models import Enterprise

    enterprise, _created = Enterprise.objects.get_or_create(
        uscc=uscc, defaults={"name": name, "representative": representative}
    )
    Case.objects.filter(pk=case.pk).update(enterprise=enterprise)
    case.refresh_from_db()
    return case
