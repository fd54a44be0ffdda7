"""A small client of the exchange API for department systems (docs/sharing-exchange.md).

It signs each request with the system's Ed25519 private key and checks the platform's signature on each
answer, so a department can keep (request, answer, headers) as proof of what it asked and received. It needs
only the standard library and ``cryptography``; the tests and the bench hand it a transport that calls Django
in-process instead of HTTP.

    client = ExchangeClient("https://yiwang.example", client_id=..., client_secret=..., private_key=pem,
                            platform_public_pem=published_pem, official="王科员")
    answer = client.query("population", "330106…", purpose="个体工商户登记", case_number="3301062025…")
    answer.verified, answer.status, answer.json()["data"]
"""

from __future__ import annotations

import base64
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from yiwang.sharing import signing

API_PATH = "/api/v1/sharing"
TOKEN_PATH = "/o/token/"  # noqa: S105 - a path, not a secret
SCOPE = "sharing:exchange"

# (method, path, headers, body) → (status, headers, body). The path is what is signed: the request's path
# as the server sees it, without the query string.
Transport = Callable[[str, str, Mapping[str, str], bytes], tuple[int, Mapping[str, str], bytes]]


@dataclass
class ExchangeAnswer:
    status: int
    headers: dict[str, str]  # lower-case names
    body: bytes
    request_text: bytes
    verified: bool  # the platform's signature over this body verifies with its published key

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))

    @property
    def record_hash(self) -> str:
        return self.headers.get(signing.RECORD_HEADER.lower(), "")


def http_transport(base_url: str, *, timeout: float = 10.0) -> Transport:
    """A transport over HTTP(S) with urllib; ``path`` is appended to the base URL's scheme and host."""
    parts = urllib.parse.urlsplit(base_url)
    if parts.scheme not in {"http", "https"}:
        raise ValueError("the base URL must be http(s)")
    origin = f"{parts.scheme}://{parts.netloc}"

    def send(method: str, path: str, headers: Mapping[str, str], body: bytes) -> tuple[int, Mapping[str, str], bytes]:
        request = urllib.request.Request(origin + path, data=body or None, headers=dict(headers), method=method)  # noqa: S310 - scheme checked above
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - scheme checked above
                return response.status, dict(response.headers.items()), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers.items()), error.read()

    return send


def django_transport(client: Any) -> Transport:
    """A transport over a ``django.test.Client`` (tests and in-process benchmarks)."""

    def send(method: str, path: str, headers: Mapping[str, str], body: bytes) -> tuple[int, Mapping[str, str], bytes]:
        plain = {k: v for k, v in headers.items() if k.lower() != "content-type"}
        content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), "application/json")
        response = client.generic(method, path, data=body, content_type=content_type, headers=plain)
        return response.status_code, dict(response.headers.items()), response.content

    return send


def _private(key: Ed25519PrivateKey | bytes | str) -> Ed25519PrivateKey:
    if isinstance(key, Ed25519PrivateKey):
        return key
    loaded = serialization.load_pem_private_key(key.encode() if isinstance(key, str) else key, password=None)
    if not isinstance(loaded, Ed25519PrivateKey):
        raise ValueError("the exchange needs an Ed25519 private key")
    return loaded


@dataclass
class ExchangeClient:
    transport: Transport | str
    client_id: str
    private_key: Ed25519PrivateKey | bytes | str
    platform_public_pem: str
    client_secret: str = ""
    token: str = ""
    official: str = ""
    api_path: str = API_PATH
    _key: Ed25519PrivateKey = field(init=False, repr=False)
    _send: Transport = field(init=False, repr=False)
    _base_path: str = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._key = _private(self.private_key)
        if isinstance(self.transport, str):
            self._send = http_transport(self.transport)
            # A platform behind a path prefix (https://host/yiwang/…) sees and signs the full path.
            self._base_path = urllib.parse.urlsplit(self.transport).path.rstrip("/")
        else:
            self._send = self.transport
            self._base_path = ""
        if signing.load_public_pem(self.platform_public_pem) is None:
            raise ValueError("the platform's key must be an Ed25519 public key in PEM form")

    @property
    def key_id(self) -> str:
        return signing.key_id_of(self._key.public_key())

    @property
    def public_pem(self) -> str:
        """What an administrator registers for this system (``yiwang sharing client-key add``)."""
        return signing.public_pem(self._key.public_key())

    # --- the signed request ----------------------------------------------------------------------

    def signed_headers(
        self, method: str, path: str, body: bytes, official: str, *, timestamp: str | None = None, nonce: str = ""
    ) -> dict[str, str]:
        stamp = timestamp if timestamp is not None else str(int(time.time()))
        nonce = nonce or signing.new_nonce()
        text = signing.request_text(
            method=method, path=path, timestamp=stamp, nonce=nonce, official=official, body=body
        )
        return {
            signing.KEY_ID_HEADER: self.key_id,
            signing.TIMESTAMP_HEADER: stamp,
            signing.NONCE_HEADER: nonce,
            signing.OFFICIAL_HEADER: signing.encode_official(official),
            signing.SIGNATURE_HEADER: signing.b64(self._key.sign(text)),
        }

    def verify_answer(self, request_text: bytes, headers: Mapping[str, str], body: bytes) -> bool:
        """Whether the answer is the platform's: its key id and signature over (request, time, record, body)."""
        lower = {k.lower(): v for k, v in headers.items()}
        public = signing.load_public_pem(self.platform_public_pem)
        if public is None or lower.get(signing.KEY_ID_HEADER.lower()) != signing.key_id_of(public):
            return False
        text = signing.answer_text(
            request_digest=signing.request_digest(request_text),
            timestamp=lower.get(signing.TIMESTAMP_HEADER.lower(), ""),
            record_hash=lower.get(signing.RECORD_HEADER.lower(), ""),
            body=body,
        )
        return signing.verify(self.platform_public_pem, lower.get(signing.SIGNATURE_HEADER.lower(), ""), text)

    # --- calls -----------------------------------------------------------------------------------

    def bearer(self) -> str:
        """The access token: the one given, or one obtained with the client credentials (kept until refused)."""
        if not self.token:
            credentials = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
            form = urllib.parse.urlencode({"grant_type": "client_credentials", "scope": SCOPE}).encode()
            status, _headers, body = self._send(
                "POST",
                self._base_path + TOKEN_PATH,
                {"Authorization": f"Basic {credentials}", "Content-Type": "application/x-www-form-urlencoded"},
                form,
            )
            if status != 200:
                raise PermissionError(f"the platform refused the client credentials ({status})")
            self.token = json.loads(body.decode())["access_token"]
        return self.token

    def post(self, endpoint: str, payload: Mapping[str, Any], *, official: str | None = None) -> ExchangeAnswer:
        path = f"{self._base_path}{self.api_path}/{endpoint}"
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()
        who = self.official if official is None else official
        headers = self.signed_headers("POST", path, body, who)
        text = signing.request_text(
            method="POST",
            path=path,
            timestamp=headers[signing.TIMESTAMP_HEADER],
            nonce=headers[signing.NONCE_HEADER],
            official=who,
            body=body,
        )
        headers["Authorization"] = f"Bearer {self.bearer()}"
        headers["Content-Type"] = "application/json"
        status, answer_headers, answer_body = self._send("POST", path, headers, body)
        lower = {k.lower(): v for k, v in answer_headers.items()}
        return ExchangeAnswer(status, lower, answer_body, text, self.verify_answer(text, lower, answer_body))

    def query(
        self,
        resource: str,
        subject: str,
        *,
        purpose: str,
        case_number: str,
        fields: Sequence[str] | None = None,
        official: str | None = None,
    ) -> ExchangeAnswer:
        payload: dict[str, Any] = {
            "resource": resource,
            "subject": subject,
            "purpose": purpose,
            "case_number": case_number,
        }
        if fields is not None:
            payload["fields"] = list(fields)
        return self.post("query", payload, official=official)

    def verify(
        self, question: str, subject: str, about: str, *, purpose: str, case_number: str, official: str | None = None
    ) -> ExchangeAnswer:
        payload = {
            "question": question,
            "subject": subject,
            "about": about,
            "purpose": purpose,
            "case_number": case_number,
        }
        return self.post("verify", payload, official=official)
