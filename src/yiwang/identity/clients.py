"""Registration of department systems as OAuth2/OpenID Connect clients: every write to clients and policies.

Each function takes a keyword-only ``actor`` (an administrator, or a system actor for the command line),
runs in one transaction and writes its audit record inside it. Client secrets are returned in clear exactly
once, when created or rotated: django-oauth-toolkit stores only their hash.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import urlsplit

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from oauth2_provider.generators import generate_client_secret
from oauth2_provider.models import (
    get_access_token_model,
    get_application_model,
    get_grant_model,
    get_id_token_model,
    get_refresh_token_model,
)
from oauth2_provider.settings import oauth2_settings

from yiwang.audit import services as audit
from yiwang.audit.actors import Actor, actor_label
from yiwang.catalogue.models import Organisation
from yiwang.common.errors import InvalidInput, invalid_field
from yiwang.identity import authz
from yiwang.identity.models_oidc import ClientKind, ClientPolicy
from yiwang.identity.oidc import SCOPES_BY_KIND

MANAGE_CLIENTS = "identity.manage_clients"
Application = get_application_model()
# Loopback hosts a developer's machine may use over plain http; everything else must be https.
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class _Unchanged:
    """Marks an argument left out where ``None`` is a value (no department)."""


UNCHANGED = _Unchanged()


def _invalid(field: str, message: str) -> InvalidInput:
    return invalid_field(field, message)


# --- input checks ---------------------------------------------------------------------------------


def clean_redirect_uris(uris: Iterable[str], *, field: str) -> list[str]:
    """Absolute https URIs (http only on a loopback host, for development), without fragments or wildcards.

    Redirect URIs are compared exactly at the authorization endpoint, so what is registered must be the
    precise address; a code sent over plain http to a real host could be read on the way.
    """
    cleaned: list[str] = []
    for raw in uris:
        uri = (raw or "").strip()
        if not uri:
            continue
        try:
            parts = urlsplit(uri)
            host = parts.hostname
        except ValueError:
            host, parts = None, None
        if parts is None or host is None or any(c.isspace() for c in uri) or "*" in uri:
            raise _invalid(field, _("%(uri)s is not an absolute address.") % {"uri": uri})
        if parts.scheme != "https" and not (parts.scheme == "http" and host in _LOOPBACK_HOSTS):
            raise _invalid(
                field,
                _("%(uri)s must use https (plain http only on 127.0.0.1 or localhost, for development).")
                % {"uri": uri},
            )
        if parts.fragment or "#" in uri:
            raise _invalid(field, _("%(uri)s must not contain a fragment (#…).") % {"uri": uri})
        if parts.username is not None or parts.password is not None:
            raise _invalid(field, _("%(uri)s must not contain a user name or password.") % {"uri": uri})
        if uri not in cleaned:
            cleaned.append(uri)
    return cleaned


def clean_scopes(scopes: Iterable[str], *, kind: str) -> list[str]:
    known = oauth2_settings.SCOPES
    suitable = SCOPES_BY_KIND[kind]
    cleaned: list[str] = []
    for raw in scopes:
        scope = (raw or "").strip()
        if not scope:
            continue
        if scope not in known:
            raise _invalid("allowed_scopes", _("Unknown scope: %(scope)s.") % {"scope": scope})
        if scope not in suitable:
            raise _invalid(
                "allowed_scopes",
                _("The scope %(scope)s is not available to this kind of client.") % {"scope": scope},
            )
        if scope not in cleaned:
            cleaned.append(scope)
    if kind == ClientKind.WEB and "openid" not in cleaned:
        # Signing users in is what a web system is registered for; OIDC requires the openid scope for it.
        cleaned.insert(0, "openid")
    if not cleaned:
        raise _invalid("allowed_scopes", _("Choose at least one scope."))
    return cleaned


def clean_policy_input(
    *,
    kind: str,
    redirect_uris: Sequence[str],
    post_logout_redirect_uris: Sequence[str],
    allowed_scopes: Sequence[str],
    may_receive_id_numbers: bool,
) -> tuple[list[str], list[str], list[str]]:
    if kind not in ClientKind.values:
        raise _invalid("kind", _("The kind of client must be web or machine."))
    redirects = clean_redirect_uris(redirect_uris, field="redirect_uris")
    logouts = clean_redirect_uris(post_logout_redirect_uris, field="post_logout_redirect_uris")
    scopes = clean_scopes(allowed_scopes, kind=kind)
    if kind == ClientKind.WEB and not redirects:
        raise _invalid("redirect_uris", _("A web system needs at least one redirect URI."))
    if kind == ClientKind.MACHINE and (redirects or logouts):
        # A machine client never sends a browser anywhere; an address here would be a mistake or a way in.
        raise _invalid("redirect_uris", _("A machine client has no redirect URIs."))
    if may_receive_id_numbers and "identity" not in scopes:
        raise _invalid("may_receive_id_numbers", _("Only a web system with the identity scope can receive ID numbers."))
    return redirects, logouts, scopes


def _full_clean(application: Any) -> None:
    # DOT's own checks as well (field lengths, its redirect URI rules), reported the way ours are.
    try:
        application.full_clean(exclude=["client_secret"])
    except ValidationError as exc:
        details = [
            {"field": field, "message": str(message)}
            for field, messages in exc.message_dict.items()
            for message in messages
        ]
        raise InvalidInput(details[0]["message"], details=details) from None


def _snapshot(application: Any, policy: ClientPolicy) -> dict[str, Any]:
    return {
        "client_id": application.client_id,
        "name": application.name,
        "kind": policy.kind,
        "redirect_uris": application.redirect_uris.split(),
        "post_logout_redirect_uris": application.post_logout_redirect_uris.split(),
        "allowed_scopes": list(policy.allowed_scopes),
        "department": policy.department_id,
        "may_receive_id_numbers": policy.may_receive_id_numbers,
        "active": policy.is_active,
    }


# --- services -------------------------------------------------------------------------------------


def register_client(
    *,
    actor: Actor,
    name: str,
    kind: str,
    redirect_uris: Sequence[str] = (),
    post_logout_redirect_uris: Sequence[str] = (),
    allowed_scopes: Sequence[str],
    department: Organisation | None = None,
    may_receive_id_numbers: bool = False,
) -> tuple[Any, str]:
    """Register a department system; returns the application and its client secret in clear (shown once).

    A web system is a confidential client using the authorization code flow (PKCE required for every
    client) with RS256-signed ID tokens; a machine client is a confidential client using client
    credentials. Administrators vet every registration, so users are not asked to consent again: signing
    in to a department system through Yiwang is the user's choice to use it.
    """
    authz.check(actor, MANAGE_CLIENTS)
    name = (name or "").strip()
    if not name:
        raise _invalid("name", _("Enter the name of the department system."))
    redirects, logouts, scopes = clean_policy_input(
        kind=kind,
        redirect_uris=redirect_uris,
        post_logout_redirect_uris=post_logout_redirect_uris,
        allowed_scopes=allowed_scopes,
        may_receive_id_numbers=may_receive_id_numbers,
    )
    web = kind == ClientKind.WEB
    secret: str = generate_client_secret()
    application = Application(
        name=name,
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE if web else Application.GRANT_CLIENT_CREDENTIALS,
        redirect_uris=" ".join(redirects),
        post_logout_redirect_uris=" ".join(logouts),
        algorithm=Application.RS256_ALGORITHM if web else Application.NO_ALGORITHM,
        skip_authorization=web,
        hash_client_secret=True,
        client_secret=secret,
    )
    _full_clean(application)
    with transaction.atomic():
        application.save()  # the secret is hashed on save (DOT's ClientSecretField)
        policy = ClientPolicy.objects.create(
            application=application,
            kind=kind,
            allowed_scopes=scopes,
            department=department,
            may_receive_id_numbers=may_receive_id_numbers,
            created_by=actor if isinstance(actor, User) else None,
            created_by_label=actor_label(actor)[:150],
        )
        audit.record(
            actor=actor,
            action="identity.client_registered",
            object_type="identity.client",
            object_id=application.pk,
            object_label=name,
            after=_snapshot(application, policy),
        )
    return application, secret


def update_client(
    *,
    actor: Actor,
    application: Any,
    name: str | None = None,
    redirect_uris: Sequence[str] | None = None,
    post_logout_redirect_uris: Sequence[str] | None = None,
    allowed_scopes: Sequence[str] | None = None,
    department: Organisation | _Unchanged | None = UNCHANGED,
    may_receive_id_numbers: bool | None = None,
) -> Any:
    """Change a client's name, addresses or policy; arguments left out keep their value.

    The kind (and so the grant type) cannot change: a different kind of use is a different registration.
    """
    authz.check(actor, MANAGE_CLIENTS)
    with transaction.atomic():
        application = Application.objects.select_for_update().get(pk=application.pk)
        policy = ClientPolicy.objects.select_for_update().get(application=application)
        before = _snapshot(application, policy)
        if name is not None:
            name = name.strip()
            if not name:
                raise _invalid("name", _("Enter the name of the department system."))
            application.name = name
        redirects, logouts, scopes = clean_policy_input(
            kind=policy.kind,
            redirect_uris=application.redirect_uris.split() if redirect_uris is None else redirect_uris,
            post_logout_redirect_uris=(
                application.post_logout_redirect_uris.split()
                if post_logout_redirect_uris is None
                else post_logout_redirect_uris
            ),
            allowed_scopes=policy.allowed_scopes if allowed_scopes is None else allowed_scopes,
            may_receive_id_numbers=(
                policy.may_receive_id_numbers if may_receive_id_numbers is None else may_receive_id_numbers
            ),
        )
        application.redirect_uris = " ".join(redirects)
        application.post_logout_redirect_uris = " ".join(logouts)
        policy.allowed_scopes = scopes
        if may_receive_id_numbers is not None:
            policy.may_receive_id_numbers = may_receive_id_numbers
        if not isinstance(department, _Unchanged):
            policy.department = department
        _full_clean(application)
        application.save()
        policy.save()
        after = _snapshot(application, policy)
        if after != before:
            audit.record(
                actor=actor,
                action="identity.client_changed",
                object_type="identity.client",
                object_id=application.pk,
                object_label=application.name,
                before=before,
                after=after,
            )
    return application


def rotate_client_secret(*, actor: Actor, application: Any) -> str:
    """A new client secret (returned in clear, once); the old one stops working at once.

    Tokens already issued stay valid until they expire: rotation answers "the secret may have leaked",
    and ``disable_client`` answers "stop this client now".
    """
    authz.check(actor, MANAGE_CLIENTS)
    secret: str = generate_client_secret()
    with transaction.atomic():
        application = Application.objects.select_for_update().get(pk=application.pk)
        application.client_secret = secret
        application.hash_client_secret = True
        application.save(update_fields=["client_secret", "hash_client_secret", "updated"])
        audit.record(
            actor=actor,
            action="identity.client_secret_rotated",
            object_type="identity.client",
            object_id=application.pk,
            object_label=application.name,
        )
    return secret


def disable_client(*, actor: Actor, application: Any, reason: str = "") -> Any:
    """Stop a client now: it can obtain no token, and every token, code and ID token it holds is deleted.

    The application row stays (its client id is never reused; the audit log refers to it).
    """
    authz.check(actor, MANAGE_CLIENTS)
    with transaction.atomic():
        policy = ClientPolicy.objects.select_for_update().select_related("application").get(application=application)
        if not policy.is_active:
            return policy.application
        policy.disabled_at = timezone.now()
        policy.disabled_by_label = actor_label(actor)[:150]
        policy.save(update_fields=["disabled_at", "disabled_by_label"])
        app = policy.application
        # Refresh tokens first: they point at access tokens.
        get_refresh_token_model().objects.filter(application=app).delete()
        get_access_token_model().objects.filter(application=app).delete()
        get_id_token_model().objects.filter(application=app).delete()
        get_grant_model().objects.filter(application=app).delete()
        audit.record(
            actor=actor,
            action="identity.client_disabled",
            object_type="identity.client",
            object_id=app.pk,
            object_label=app.name,
            before={"active": True},
            after={"active": False},
            note=reason,
        )
    return app
