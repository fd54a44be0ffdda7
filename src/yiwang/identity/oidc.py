"""Single sign-on for department systems: the OpenID Connect provider's rules on top of django-oauth-toolkit.

django-oauth-toolkit (DOT) runs the protocol (endpoints, codes, tokens, signatures). This module decides:

- which scopes a client may obtain: those its ``ClientPolicy`` allows, nothing for a client without a policy
  or a disabled one (``YiwangValidator.validate_scopes`` / ``_load_application``);
- what a department system learns about the user, scope by scope (``claims``); the ID number in clear only
  for clients whose policy allows it;
- the issuer: the site root, so that the standard ``/.well-known/openid-configuration`` is the discovery
  document (``issuer`` and ``DiscoveryView``);
- PKCE with S256 only.

docs/sso.md describes the result for department systems.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import User
from django.http import HttpRequest, HttpResponse
from django.urls import get_script_prefix
from oauth2_provider.oauth2_validators import OAuth2Validator
from oauth2_provider.settings import oauth2_settings
from oauth2_provider.views import ConnectDiscoveryInfoView

from yiwang.common.masking import mask_id_number, mask_name, mask_phone
from yiwang.identity import selectors
from yiwang.identity.constants import PrincipalKind, RealNameStatus
from yiwang.identity.models import Account, account_of
from yiwang.identity.models_oidc import ClientKind, ClientPolicy, SubjectIdentifier

# Scopes a department system's users grant (authorization code) and scopes a machine client holds itself
# (client credentials). A client is registered for one kind and may hold only that kind's scopes.
USER_SCOPES: tuple[str, ...] = ("openid", "profile", "identity", "phone", "agency")
MACHINE_SCOPES: tuple[str, ...] = ("registers:verify", "catalogue:read", "sharing:exchange")
SCOPES_BY_KIND: dict[str, tuple[str, ...]] = {ClientKind.WEB: USER_SCOPES, ClientKind.MACHINE: MACHINE_SCOPES}

# Which scope releases which claim (OIDC Core §5.4). A claim not listed here is never released.
CLAIM_SCOPES: dict[str, str] = {
    "sub": "openid",
    "name": "profile",
    "real_name_verified": "profile",
    "real_name_status": "profile",
    "account_kind": "identity",
    "id_type": "identity",
    "id_number_masked": "identity",
    "id_number": "identity",  # and only when the client's policy allows it
    "phone_number_masked": "phone",
    "enterprises": "agency",
    "agencies": "agency",
}


def issuer(request: Any) -> str:
    """The OpenID issuer: ``OIDC_ISS_ENDPOINT`` when configured (production), else this site's root URL.

    Works for Django requests and for oauthlib requests (which carry the Django request's META as headers).
    The root rather than DOT's default of its mount point (``…/o``): the discovery document then lives at
    the standard ``/.well-known/openid-configuration`` of the site, as OIDC Discovery §4 derives it.
    """
    configured: str = oauth2_settings.OIDC_ISS_ENDPOINT
    if configured:
        return configured
    django_request = request if isinstance(request, HttpRequest) else _HeadersRequest(request.headers)
    return django_request.build_absolute_uri(get_script_prefix()).rstrip("/")


class _HeadersRequest(HttpRequest):
    """A Django request rebuilt from an oauthlib request's headers, to read scheme and host the Django way
    (ALLOWED_HOSTS, USE_X_FORWARDED_HOST and SECURE_PROXY_SSL_HEADER all apply)."""

    def __init__(self, headers: Any) -> None:
        super().__init__()
        self.META = dict(headers)
        # DOT marks requests that arrived over TLS (``request.is_secure()``) with this header.
        self._secure = bool(self.META.get("X_DJANGO_OAUTH_TOOLKIT_SECURE"))

    def _get_scheme(self) -> str:
        return "https" if self._secure else "http"


def policy_of(application: Any) -> ClientPolicy | None:
    if application is None:
        return None
    try:
        policy: ClientPolicy = application.policy
    except ClientPolicy.DoesNotExist:
        return None
    return policy


def allowed_scopes(application: Any) -> list[str]:
    """The scopes ``application`` may obtain: its policy's list, limited to scopes that exist and suit its kind."""
    policy = policy_of(application)
    if policy is None or not policy.is_active:
        return []
    known = set(oauth2_settings.SCOPES) & set(SCOPES_BY_KIND.get(policy.kind, ()))
    return [scope for scope in policy.allowed_scopes if scope in known]


def subject_for(user: User) -> str:
    """The user's ``sub``: a random UUID allocated on first sign-in to any client, the same for every client.

    Allocation is bookkeeping, not a change anyone decides, so it is not audited. ``get_or_create`` tolerates
    two first sign-ins racing (the loser reads the winner's row).
    """
    row, _created = SubjectIdentifier.objects.get_or_create(user=user)
    return str(row.subject)


def _enterprises(user: Any) -> list[dict[str, str]]:
    return [{"uscc": e.uscc, "name": e.name} for e in selectors.enterprises_represented_by(user).order_by("uscc")]


def _agencies(user: Any, *, clear_ids: bool) -> list[dict[str, Any]]:
    rows = selectors.agencies_held_by(user).in_force().order_by("valid_until", "id")
    result: list[dict[str, Any]] = []
    for agency in rows:
        entry: dict[str, Any] = {"principal_kind": agency.principal_kind}
        if agency.principal_kind == PrincipalKind.ENTERPRISE and agency.enterprise is not None:
            entry["uscc"] = agency.enterprise.uscc
            entry["name"] = agency.enterprise.name
        else:
            # A person's proxy: enough to recognise the principal, not to identify them to everyone.
            principal = account_of(agency.principal_user) if agency.principal_user is not None else None
            entry["principal_name_masked"] = mask_name(principal.real_name if principal else "")
            entry["principal_id_number_masked"] = mask_id_number(principal.id_number if principal else "")
            if clear_ids and principal is not None and principal.id_number:
                entry["principal_id_number"] = principal.id_number
        entry["all_items"] = agency.all_items
        entry["item_codes"] = [] if agency.all_items else list(agency.item_codes)
        entry["valid_until"] = agency.valid_until.isoformat()
        result.append(entry)
    return result


def claims(user: Any, policy: ClientPolicy | None) -> dict[str, Callable[[], Any]]:
    """Every claim about ``user`` as a thunk, so that only claims of granted scopes are computed.

    A thunk returning ``None`` means "no such claim for this user" (e.g. a superuser without an account)
    and the claim is left out.
    """
    clear_ids = bool(policy and policy.is_active and policy.may_receive_id_numbers)
    account = functools.cache(lambda: account_of(user))  # read only if a granted scope needs it

    def of_account(read: Callable[[Account], Any]) -> Callable[[], Any]:
        return lambda: read(a) if (a := account()) is not None else None

    return {
        "sub": lambda: subject_for(user),
        "name": of_account(lambda a: a.real_name or None),
        "real_name_verified": of_account(lambda a: a.real_name_status == RealNameStatus.VERIFIED),
        "real_name_status": of_account(lambda a: a.real_name_status),
        "account_kind": of_account(lambda a: a.kind),
        "id_type": of_account(lambda a: a.id_type or None),
        "id_number_masked": of_account(lambda a: mask_id_number(a.id_number) or None),
        "id_number": of_account(lambda a: (a.id_number or None) if clear_ids else None),
        "phone_number_masked": of_account(lambda a: mask_phone(a.phone) or None),
        "enterprises": lambda: _enterprises(user),
        "agencies": lambda: _agencies(user, clear_ids=clear_ids),
    }


def _ignoring_request(thunk: Callable[[], Any]) -> Callable[[Any], Any]:
    return lambda _request: thunk()


def _user_active(request: Any) -> bool:
    user = getattr(request, "user", None)
    return user is None or bool(user.is_active)


class YiwangValidator(OAuth2Validator):
    oidc_claim_scope = CLAIM_SCOPES

    # --- clients and scopes -----------------------------------------------------------------------

    def _load_application(self, client_id: str, request: Any) -> Any:
        # Every DOT path that looks a client up comes through here (authorization, token, client
        # authentication): a client without a policy or with a disabled one does not exist for them.
        application = super()._load_application(client_id, request)
        policy = policy_of(application)
        if application is not None and (policy is None or not policy.is_active):
            request.client = None
            return None
        return application

    def validate_scopes(
        self, client_id: str, scopes: list[str], client: Any, request: Any, *args: Any, **kwargs: Any
    ) -> bool:
        # The client's policy, not only the global scope list: a department system asking for more than an
        # administrator allowed gets ``invalid_scope`` at the authorization or token endpoint.
        return set(scopes) <= set(allowed_scopes(client))

    def get_default_scopes(self, client_id: str, request: Any, *args: Any, **kwargs: Any) -> list[str]:
        allowed = set(allowed_scopes(request.client))
        return [scope for scope in super().get_default_scopes(client_id, request, *args, **kwargs) if scope in allowed]

    def validate_bearer_token(self, token: str, scopes: list[str], request: Any) -> bool:
        # Disabling a client deletes its tokens; this also refuses any that a concurrent request created.
        if not super().validate_bearer_token(token, scopes, request):
            return False
        policy = policy_of(request.client)
        if policy is None or not policy.is_active or not _user_active(request):
            # A deactivated user's tokens die with the user (DOT itself does not look at is_active).
            request.oauth2_error = {"error": "invalid_token", "error_description": "The access token is invalid."}
            return False
        return True

    def validate_refresh_token(self, refresh_token: str, client: Any, request: Any, *args: Any, **kwargs: Any) -> bool:
        return bool(super().validate_refresh_token(refresh_token, client, request, *args, **kwargs)) and _user_active(
            request
        )

    # --- claims -----------------------------------------------------------------------------------

    def get_additional_claims(self, request: Any) -> dict[str, Callable[[Any], Any]]:
        # DOT calls a claim's value with the request when the claim's scope was granted; ours ignore it.
        thunks = claims(request.user, policy_of(request.client))
        return {name: _ignoring_request(thunk) for name, thunk in thunks.items()}

    def get_oidc_claims(self, token: Any, token_handler: Any, request: Any) -> dict[str, Any]:
        # The ID token carries only ``sub``: it travels back through browsers (the logout hint), and computing
        # the personal claims just to drop them would cost every token exchange the account, enterprise and
        # agency queries. Everything else is served by userinfo.
        return {"sub": subject_for(request.user)}

    def get_userinfo_claims(self, request: Any) -> dict[str, Any]:
        claims = super().get_oidc_claims(request.access_token, None, request)
        return {k: v for k, v in claims.items() if v is not None}

    def get_discovery_claims(self, request: Any) -> list[str]:
        return list(CLAIM_SCOPES)

    def get_oidc_issuer_endpoint(self, request: Any) -> str:
        return issuer(request)


class DiscoveryView(ConnectDiscoveryInfoView):
    """DOT's discovery document with our issuer and what we actually support.

    DOT derives the issuer from its own mount point (``…/o``) and lists every response type and PKCE method
    oauthlib knows; Yiwang's clients use the authorization code flow with S256 or client credentials only.
    """

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response: HttpResponse = super().get(request, *args, **kwargs)
        data = json.loads(response.content)
        data["issuer"] = issuer(request)
        data["grant_types_supported"] = ["authorization_code", "client_credentials", "refresh_token"]
        data["id_token_signing_alg_values_supported"] = ["RS256"]
        response.content = json.dumps(data).encode()
        return response
