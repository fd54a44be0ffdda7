"""Field encryption at rest and keyed blind indexes for exact lookup of encrypted values.

Personal identifiers (ID numbers, phone numbers) are stored as Fernet tokens (AES-128-CBC + HMAC-SHA256,
authenticated, random IV): the database alone never reveals them. Because each encryption is randomised, an
encrypted column cannot be searched; beside it sits a *blind index*, an HMAC-SHA256 of the normalised value
under a separate key, which supports exact-match lookup and uniqueness without revealing the value.

Keys come from settings (``YIWANG_FIELD_KEYS``: newest first, older keys still decrypt;
``YIWANG_BLIND_INDEX_KEY``). Rotation is documented in docs/identity.md and done by ``yiwang rotate_keys``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import unicodedata
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


def _derived_key(label: str) -> bytes:
    # Development fallback only: a key derived from SECRET_KEY so `make run` works without configuration.
    # Production sets YIWANG_FIELD_KEYS / YIWANG_BLIND_INDEX_KEY explicitly (docs/configuration.md).
    digest = hashlib.sha256(f"yiwang:{label}:{settings.SECRET_KEY}".encode()).digest()
    return base64.urlsafe_b64encode(digest)


@lru_cache(maxsize=1)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet([Fernet(k.encode()) for k in keys])


def field_keys() -> tuple[str, ...]:
    return tuple(settings.YIWANG_FIELD_KEYS) or (_derived_key("field").decode(),)


def blind_index_key() -> bytes:
    key: str = settings.YIWANG_BLIND_INDEX_KEY
    return key.encode() if key else _derived_key("blind-index")


def encrypt(value: str) -> str:
    return _fernet(field_keys()).encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet(field_keys()).decrypt(token.encode()).decode()
    except InvalidToken as exc:
        # A token no configured key opens: a key was removed before rotation finished, or data was altered.
        raise ValueError("an encrypted field could not be decrypted with any configured key") from exc


def reencrypt(token: str) -> str:
    """The same value under the newest key (key rotation)."""
    return _fernet(field_keys()).rotate(token.encode()).decode()


def normalise_identifier(value: str) -> str:
    """An identifier as stored and indexed: NFKC (full-width digits and letters typed by Chinese input methods
    become ASCII), no whitespace, upper case (an ID number's check character x is X)."""
    return "".join(unicodedata.normalize("NFKC", value or "").split()).upper()


def blind_index(value: str, *, purpose: str) -> str:
    """A keyed, deterministic digest for exact lookup; ``purpose`` separates e.g. ID numbers from phones."""
    message = f"{purpose}:{normalise_identifier(value)}".encode()
    return hmac.new(blind_index_key(), message, hashlib.sha256).hexdigest()


# Blind-index purposes: the same value indexes differently per purpose. Accounts, persons and the entities a
# person represents all index ID numbers under ID_NUMBER, so their index values compare directly.
ID_NUMBER = "id_number"
PHONE = "phone"


def id_number_index(id_number: str) -> str:
    return blind_index(id_number, purpose=ID_NUMBER)


def phone_index(phone: str) -> str:
    return blind_index(phone, purpose=PHONE)


class EncryptedTextField(models.TextField):  # type: ignore[type-arg]  # django-stubs generic field
    """A text column stored encrypted; reads decrypt. Lookups other than isnull are meaningless and refused."""

    description = _("Encrypted text")

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        return None if value is None or value == "" else decrypt(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        return value if value is None or value == "" else encrypt(str(value))

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name not in {"isnull"}:
            raise TypeError(f"encrypted fields cannot be searched with {lookup_name!r}; use the blind index")
        return super().get_lookup(lookup_name)


class EncryptedJSONField(EncryptedTextField):
    """A JSON value (an application form's answers) stored as one encrypted token: the answers hold ID and
    phone numbers, addresses and the like, which rest encrypted like every other identifier."""

    description = _("Encrypted JSON")
    # django-stubs: what the attribute takes and gives (a JSON value, not the text the column stores).
    _pyi_private_set_type: Any
    _pyi_private_get_type: Any

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> Any:
        text = super().from_db_value(value, expression, connection)
        return None if text is None else json.loads(text)

    def to_python(self, value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) and value[:1] in "{[" else value

    def get_prep_value(self, value: Any) -> Any:
        if value is None:
            return None
        return encrypt(json.dumps(value, ensure_ascii=False))

    def value_to_string(self, obj: models.Model) -> str:
        return json.dumps(self.value_from_object(obj), ensure_ascii=False)


def encrypted_fields() -> list[tuple[type[models.Model], list[str]]]:
    """Every model with encrypted columns and those columns' names (for key rotation)."""
    from django.apps import apps

    found = []
    for model in apps.get_models():
        names = [f.name for f in model._meta.get_fields() if isinstance(f, EncryptedTextField)]
        if names:
            found.append((model, names))
    return found
