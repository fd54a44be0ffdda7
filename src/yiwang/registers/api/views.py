"""The verify API for department systems: is this person / entity in the base registers under this name?

Machine clients only: an OAuth2 bearer token (client credentials) with the ``registers:verify`` scope;
sessions are not accepted, so a missing or expired token is a 401 with a Bearer challenge. Answers never
echo the ID number, and every question is logged (masked) in the audit log with the asking client.
"""

from __future__ import annotations

from typing import Any, cast

from drf_spectacular.utils import extend_schema
from oauth2_provider.contrib.rest_framework import OAuth2Authentication, TokenHasScope
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from yiwang.audit.actors import Actor, SystemActor
from yiwang.registers import selectors, services
from yiwang.registers.api import serializers as s

VERIFY_SCOPE = "registers:verify"


def client_actor(request: Request) -> Actor:
    """Who asked: the token's user when it has one, else the OAuth2 client (client credentials have no user)."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return cast(Actor, user)  # an auth User (a token issued to a person)
    application = getattr(request.auth, "application", None)
    return SystemActor(f"client:{getattr(application, 'client_id', 'unknown')}")


class VerifyView(APIView):
    authentication_classes = [OAuth2Authentication]
    permission_classes = [TokenHasScope]
    required_scopes = [VERIFY_SCOPE]


@extend_schema(
    request=s.PersonVerifyInput,
    responses=s.VerificationSerializer,
    summary="Verify a person against the population register (OAuth2 scope registers:verify)",
)
class VerifyPersonView(VerifyView):
    def post(self, request: Request) -> Response:
        payload = s.PersonVerifyInput(data=request.data)
        payload.is_valid(raise_exception=True)
        data: dict[str, Any] = payload.validated_data
        # A malformed number raises InvalidInput: a 400 naming the problem (check digit, birth date…),
        # never the number itself (yiwang.common.api.exception_handler).
        result = selectors.verify_person(data["id_number"], data["name"])
        services.record_verification(
            actor=client_actor(request), kind="person", identifier=data["id_number"], result=result
        )
        return Response(s.VerificationSerializer(result).data)


@extend_schema(
    request=s.EntityVerifyInput,
    responses=s.VerificationSerializer,
    summary="Verify a legal entity against the legal-entity register (OAuth2 scope registers:verify)",
)
class VerifyEntityView(VerifyView):
    def post(self, request: Request) -> Response:
        payload = s.EntityVerifyInput(data=request.data)
        payload.is_valid(raise_exception=True)
        data: dict[str, Any] = payload.validated_data
        result = selectors.verify_entity(data["uscc"], data["name"])
        services.record_verification(
            actor=client_actor(request),
            kind="entity",
            identifier=selectors.normalise_uscc(data["uscc"]),
            result=result,
        )
        return Response(s.VerificationSerializer(result).data)
