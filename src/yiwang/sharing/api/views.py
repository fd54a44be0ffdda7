"""The exchange API for department systems (docs/sharing-exchange.md).

Machine clients only: an OAuth2 bearer token (client credentials) with the ``sharing:exchange`` scope, of a
client registered for a department (the consumer whose grants apply). Sessions are not accepted. On top of the
token, every query and verification is signed with the system's registered Ed25519 key (``sharing.keys``) and
carries a timestamp and a nonce, so the platform can prove which system asked what, and a captured request
cannot be sent again.

The checks run in this order; a failure of the token or scope is DRF's 401/403 and is not logged (there is no
consumer to log it for yet); everything after it is logged in the access log, refusals included:

1. the key belongs to this client and is not retired, and the signature verifies (``bad_signature``);
2. the timestamp is within ``REQUEST_WINDOW_SECONDS`` of the platform's clock (``stale``);
3. the nonce was not used by this client before (``replay``);
4. the exchange's own checks (``exchange.query`` / ``exchange.verify``).

Every answer, refusals included, is signed with the platform's key over the request's digest, the time, the
access record's hash and the exact body bytes sent, so the body is rendered here rather than by DRF.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from oauth2_provider.contrib.rest_framework import OAuth2Authentication, TokenHasScope
from rest_framework import serializers
from rest_framework.parsers import BaseParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from yiwang.catalogue.models import Organisation
from yiwang.common.errors import DomainError, InvalidInput, PermissionDenied
from yiwang.identity.oidc import allowed_scopes, policy_of
from yiwang.sharing import exchange, keys, selectors, signing
from yiwang.sharing.api import serializers as s
from yiwang.sharing.constants import REQUEST_WINDOW_SECONDS, Refusal
from yiwang.sharing.models import AccessRecord

EXCHANGE_SCOPE = keys.EXCHANGE_SCOPE
OFFICIAL_LIMIT = 150
# Unix seconds: ten digits until 2286; a longer value is not a time.
TIMESTAMP_DIGITS = 12

_SIGNED_HEADERS = [
    OpenApiParameter(signing.KEY_ID_HEADER, str, OpenApiParameter.HEADER, required=True, description="Key id"),
    OpenApiParameter(signing.TIMESTAMP_HEADER, str, OpenApiParameter.HEADER, required=True, description="Unix s"),
    OpenApiParameter(
        signing.NONCE_HEADER, str, OpenApiParameter.HEADER, required=True, description="16–64 of [A-Za-z0-9_-]"
    ),
    OpenApiParameter(
        signing.OFFICIAL_HEADER,
        str,
        OpenApiParameter.HEADER,
        required=True,
        description="The official's name or staff id, UTF-8 percent-encoded, at most 150 characters",
    ),
    OpenApiParameter(signing.SIGNATURE_HEADER, str, OpenApiParameter.HEADER, required=True, description="base64"),
]
_REFUSALS = {
    code: OpenApiResponse(s.Refusal, description="Refused (and logged, except a 400 of shape)")
    for code in (400, 401, 403, 404, 409, 429)
}


def _render(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def _record_ref(record: AccessRecord) -> dict[str, Any]:
    return {"seq": record.seq, "hash": record.hash}


def signed_response(payload: dict[str, Any], *, status: int, digest: str, record: AccessRecord) -> HttpResponse:
    """The body as exact bytes, with the platform's signature over them (signing.answer_text)."""
    body = _render(payload)
    key = signing.platform_key()
    timestamp = str(int(time.time()))
    text = signing.answer_text(request_digest=digest, timestamp=timestamp, record_hash=record.hash, body=body)
    response = HttpResponse(body, status=status, content_type="application/json")
    response[signing.KEY_ID_HEADER] = key.key_id
    response[signing.TIMESTAMP_HEADER] = timestamp
    response[signing.RECORD_HEADER] = record.hash
    response[signing.SIGNATURE_HEADER] = key.sign(text)
    return response


def _plain_error(exc: DomainError) -> HttpResponse:
    return HttpResponse(_render(exc.as_dict()), status=exc.http_status, content_type="application/json")


@dataclass(frozen=True)
class _Received:
    """The signature headers as received, and the request text they make (None when a part is unusable)."""

    key_id: str
    timestamp: str
    nonce: str
    official: str | None
    signature: str
    text: bytes | None

    @property
    def digest(self) -> str:
        return signing.request_digest(self.text or b"")


def _received(request: Request, body: bytes) -> _Received:
    headers = request.headers
    official = signing.decode_official(headers.get(signing.OFFICIAL_HEADER, ""))
    timestamp = headers.get(signing.TIMESTAMP_HEADER, "")
    nonce = headers.get(signing.NONCE_HEADER, "")
    try:
        text = signing.request_text(
            method=request.method or "",
            path=request.path,
            timestamp=timestamp,
            nonce=nonce,
            official=official or "",
            body=body,
        )
    except ValueError:
        text = None
    return _Received(
        key_id=headers.get(signing.KEY_ID_HEADER, ""),
        timestamp=timestamp,
        nonce=nonce,
        official=official,
        signature=headers.get(signing.SIGNATURE_HEADER, ""),
        text=text,
    )


def _official_problem(official: str | None) -> str | None:
    if official is None:
        return _("The Yiwang-Official header is not percent-encoded UTF-8.")
    if not official.strip():
        return _("The Yiwang-Official header is required: name the official who asks (name or staff id).")
    if len(official) > OFFICIAL_LIMIT:
        return _("The official's name or staff id is longer than %(limit)s characters.") % {"limit": OFFICIAL_LIMIT}
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in official):
        return _("The official's name contains a control character.")
    return None


class _UnparsedBody(BaseParser):
    """Leaves the body to the view: it is read as bytes, verified against its signature, and only then parsed.
    (DRF would parse it during the token check, and answer a malformed body before the token is even looked at.)"""

    media_type = "*/*"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> dict[str, Any]:
        return {}


class _MachineView(APIView):
    """A bearer token with the exchange scope, of a client registered for a department."""

    authentication_classes = [OAuth2Authentication]
    parser_classes = [_UnparsedBody]
    permission_classes = [TokenHasScope]
    required_scopes = [EXCHANGE_SCOPE]

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        # The signature covers the raw body: cache it before the token check, which parses the body, reads it.
        request._request.body  # noqa: B018 - reading caches the bytes
        super().initial(request, *args, **kwargs)
        self.application: Any = getattr(request.auth, "application", None)
        # The token's scopes were those of its issue; an administrator who has since taken the exchange scope
        # from the client must stop it now, not when the token expires (changing a policy keeps its tokens).
        if EXCHANGE_SCOPE not in allowed_scopes(self.application):
            raise PermissionDenied(
                _("This system may no longer use the exchange: an administrator removed its %(scope)s scope.")
                % {"scope": EXCHANGE_SCOPE}
            )
        policy = policy_of(self.application)
        department = policy.department if policy is not None else None
        if department is None:
            raise PermissionDenied(
                _(
                    "This system is registered for no department. The exchange answers under a department's "
                    "grants: an administrator must set the client's department first."
                )
            )
        self.consumer: Organisation = department


class _SignedView(_MachineView):
    """A signed query: the checks of the module docstring, then ``answer``."""

    input_class: type[serializers.Serializer[Any]]

    def answer(self, caller: exchange.Caller, data: dict[str, Any], digest: str) -> tuple[dict[str, Any], Any]:
        raise NotImplementedError

    def post(self, request: Request) -> HttpResponse:
        body: bytes = request._request.body
        received = _received(request, body)
        client_id: str = self.application.client_id
        official = (received.official or "")[:OFFICIAL_LIMIT]
        caller = exchange.Caller(self.consumer, official, client_id)
        # One transaction for the request: the nonce, the access record and the answer commit together (one
        # commit, and a request that failed leaves its nonce free for a retry). A refusal is caught inside it,
        # so its record commits with the nonce.
        with transaction.atomic():
            try:
                self._check_signature(caller, received)
                data = self._payload(body)
                if isinstance(data, DomainError):
                    malformed: DomainError | None = data
                else:
                    malformed = None
                    payload, record = self.answer(caller, data, received.digest)
            except exchange.Refused as refused:
                assert refused.record is not None  # every refusal here was logged
                response = signed_response(
                    {**refused.as_dict(), "record": _record_ref(refused.record)},
                    status=refused.http_status,
                    digest=received.digest,
                    record=refused.record,
                )
                if refused.refusal == Refusal.RATE_LIMITED:
                    response["Retry-After"] = str(exchange.seconds_to_next_window())
                return response
        if malformed is not None:
            return _plain_error(malformed)
        return signed_response(payload, status=200, digest=received.digest, record=record)

    def _check_signature(self, caller: exchange.Caller, received: _Received) -> None:
        logged = exchange.Request("", "", "", "", request_id=received.digest)

        def refuse(refusal: Refusal, message: str | None = None) -> exchange.Refused:
            return exchange.log_refusal(caller, refusal, request=logged, message=message)

        missing = [
            name
            for name, value in (
                (signing.KEY_ID_HEADER, received.key_id),
                (signing.TIMESTAMP_HEADER, received.timestamp),
                (signing.NONCE_HEADER, received.nonce),
                (signing.SIGNATURE_HEADER, received.signature),
            )
            if not value
        ]
        if missing:
            raise refuse(
                Refusal.BAD_SIGNATURE,
                _("The request is not signed: %(headers)s missing.") % {"headers": ", ".join(missing)},
            )
        problem = _official_problem(received.official)
        if problem is not None:
            raise refuse(Refusal.BAD_SIGNATURE, problem)
        if not signing.NONCE_PATTERN.fullmatch(received.nonce):
            raise refuse(Refusal.BAD_SIGNATURE, _("The nonce must be 16 to 64 characters of letters, digits, - and _."))
        key = keys.active_key(self.application, received.key_id)
        if key is None:
            raise refuse(
                Refusal.BAD_SIGNATURE,
                _("The key %(key_id)s is not a current key of this system.") % {"key_id": received.key_id[:64]},
            )
        if received.text is None or not signing.verify(key.public_key, received.signature, received.text):
            raise refuse(Refusal.BAD_SIGNATURE)
        stamp = received.timestamp
        if not (stamp.isascii() and stamp.isdigit() and len(stamp) <= TIMESTAMP_DIGITS):
            raise refuse(Refusal.STALE, _("The Yiwang-Timestamp header must be Unix seconds."))
        if abs(time.time() - int(stamp)) > REQUEST_WINDOW_SECONDS:
            raise refuse(Refusal.STALE)
        if not exchange.take_nonce(caller.client_id, received.nonce):
            raise refuse(Refusal.REPLAY)

    def _payload(self, body: bytes) -> dict[str, Any] | DomainError:
        try:
            raw = json.loads(body.decode("utf-8")) if body else {}
        except (UnicodeDecodeError, ValueError):
            return InvalidInput(_("The body must be a JSON object."))
        if not isinstance(raw, dict):
            return InvalidInput(_("The body must be a JSON object."))
        shape = self.input_class(data=raw)
        if not shape.is_valid():
            details = [
                {"field": field, "message": str(message)}
                for field, messages in shape.errors.items()
                for message in (messages if isinstance(messages, list) else [messages])
            ]
            return InvalidInput(details[0]["message"], details=details)
        data: dict[str, Any] = dict(shape.validated_data)
        return data


@extend_schema(
    request={"application/json": s.QueryInput},
    responses={200: s.QueryAnswer, **_REFUSALS},
    parameters=_SIGNED_HEADERS,
    summary="Query a shared resource about one subject, for a case and purpose (signed; scope sharing:exchange)",
)
class QueryView(_SignedView):
    input_class = s.QueryInput

    def answer(self, caller: exchange.Caller, data: dict[str, Any], digest: str) -> tuple[dict[str, Any], Any]:
        result = exchange.query(
            caller,
            exchange.Request(
                resource_code=data["resource"],
                subject=data["subject"],
                purpose=data["purpose"],
                case_number=data["case_number"],
                fields=data["fields"],
                request_id=digest,
            ),
        )
        payload = {
            "resource": result.resource.code,
            "subject": result.record.subject_masked,
            "found": result.found,
            "data": result.data,
            "record": _record_ref(result.record),
        }
        return payload, result.record


@extend_schema(
    request={"application/json": s.VerifyInput},
    responses={200: s.VerifyAnswer, **_REFUSALS},
    parameters=_SIGNED_HEADERS,
    summary="Ask a yes/no question about a subject without receiving its data (signed; scope sharing:exchange)",
)
class VerifyView(_SignedView):
    input_class = s.VerifyInput

    def answer(self, caller: exchange.Caller, data: dict[str, Any], digest: str) -> tuple[dict[str, Any], Any]:
        result = exchange.verify(
            caller,
            data["question"],
            exchange.Request(
                resource_code="",
                subject=data["subject"],
                purpose=data["purpose"],
                case_number=data["case_number"],
                request_id=digest,
            ),
            about=data["about"],
        )
        payload = {
            "question": data["question"],
            "subject": result.record.subject_masked,
            "answer": bool(result.data["answer"]),
            "record": _record_ref(result.record),
        }
        return payload, result.record


@extend_schema(
    responses=s.PlatformKeys,
    summary="The platform's public key(s) that sign exchange answers (public)",
)
class PlatformKeysView(APIView):
    authentication_classes: list[Any] = []
    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        key = signing.platform_key()
        return Response(
            {"keys": [{"key_id": key.key_id, "algorithm": signing.ALGORITHM, "public_key": key.public_pem}]}
        )


@extend_schema(
    responses=s.Catalogue,
    summary="The resource catalogue and the calling department's current grants (scope sharing:exchange)",
)
class ResourcesView(_MachineView):
    def get(self, request: Request) -> Response:
        catalogue = selectors.export_catalogue()
        return Response({**catalogue, "grants": exchange.grants_of(self.consumer)})
