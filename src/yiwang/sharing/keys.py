"""Department systems' signing keys for the exchange (docs/sharing-exchange.md): registering and retiring them.

A system signs each exchange request with the private half of an Ed25519 key (RFC 8032); administrators register
the public half here, for a machine client that holds the ``sharing:exchange`` scope and belongs to a department
(the department is the consumer its requests read for). The private key never reaches the platform: a PEM holding
one is refused, so a mistaken paste does not leave a secret in the database or the audit log.

A key is retired rather than deleted: its requests stay provable from the access log after it stops working.
"""

from __future__ import annotations

from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.audit import services as audit
from yiwang.audit.actors import Actor
from yiwang.common.errors import InvalidTransition, invalid_field
from yiwang.identity import authz
from yiwang.identity.models_oidc import ClientKind, ClientPolicy
from yiwang.sharing import signing
from yiwang.sharing.models import SigningKey

MANAGE_CLIENTS = "identity.manage_clients"
EXCHANGE_SCOPE = "sharing:exchange"
# An Ed25519 public key in PEM is 113 characters; anything far longer is not one.
PEM_LIMIT = 4000


def _check_client(application: Any) -> None:
    # Read afresh: the application object may carry a policy cached before it was changed or disabled.
    policy = ClientPolicy.objects.filter(application=application).first()
    if policy is None or policy.kind != ClientKind.MACHINE:
        raise invalid_field("application", _("Only a machine client (client credentials) can sign exchange requests."))
    if not policy.is_active:
        raise invalid_field("application", _("This client is disabled."))
    if EXCHANGE_SCOPE not in policy.allowed_scopes:
        raise invalid_field(
            "application",
            _("The client does not hold the %(scope)s scope: allow it first.") % {"scope": EXCHANGE_SCOPE},
        )
    if policy.department_id is None:
        raise invalid_field(
            "application",
            _("The client belongs to no department: the exchange answers a department's grants, so set one first."),
        )


def parse_public_key(pem: str) -> Ed25519PublicKey:
    """The Ed25519 public key in ``pem``, or InvalidInput saying what it is instead."""
    text = (pem or "").strip()
    if not text:
        raise invalid_field("public_key", _("Paste the system's public key (PEM)."))
    if len(text) > PEM_LIMIT:
        raise invalid_field("public_key", _("This is not an Ed25519 public key in PEM form."))
    if "PRIVATE KEY" in text:
        raise invalid_field(
            "public_key",
            _("This is a private key. Register only the public half; the private key stays in the department system."),
        )
    key = signing.load_public_pem(text)
    if key is not None:
        return key
    try:
        serialization.load_pem_public_key(text.encode())
    except (ValueError, TypeError):
        raise invalid_field("public_key", _("This is not an Ed25519 public key in PEM form.")) from None
    raise invalid_field("public_key", _("Only Ed25519 keys are accepted (not RSA or elliptic-curve keys)."))


def register_signing_key(*, actor: Actor, application: Any, public_key_pem: str) -> SigningKey:
    """Register a department system's public key; its id is ``signing.key_id_of`` (what requests name)."""
    authz.check(actor, MANAGE_CLIENTS)
    _check_client(application)
    key = parse_public_key(public_key_pem)
    key_id = signing.key_id_of(key)
    with transaction.atomic():
        if SigningKey.objects.filter(key_id=key_id).exists():
            raise invalid_field(
                "public_key", _("This key is already registered (key id %(key_id)s).") % {"key_id": key_id}
            )
        row = SigningKey.objects.create(application=application, key_id=key_id, public_key=signing.public_pem(key))
        audit.record(
            actor=actor,
            action="sharing.client_key_registered",
            object_type="sharing.signing_key",
            object_id=row.pk,
            object_label=key_id,
            after={"client_id": application.client_id, "key_id": key_id},
        )
    return row


def retire_signing_key(*, actor: Actor, key: SigningKey) -> SigningKey:
    """Stop accepting requests signed with ``key`` at once; the row stays for the record."""
    authz.check(actor, MANAGE_CLIENTS)
    with transaction.atomic():
        row = SigningKey.objects.select_for_update().select_related("application").get(pk=key.pk)
        if row.retired_at is not None:
            raise InvalidTransition(_("This key is already retired."))
        row.retired_at = timezone.now()
        row.save(update_fields=["retired_at"])
        audit.record(
            actor=actor,
            action="sharing.client_key_retired",
            object_type="sharing.signing_key",
            object_id=row.pk,
            object_label=row.key_id,
            before={"retired": False},
            after={"retired": True, "client_id": row.application.client_id},
        )
    return row


def active_key(application: Any, key_id: str) -> SigningKey | None:
    """The client's key named ``key_id``, when it is registered to this client and not retired."""
    from yiwang.sharing import caching

    return caching.signing_key(application.pk, key_id)
