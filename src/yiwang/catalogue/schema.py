"""The exchange format (../shared/formats/service-item.schema.json, copied into the package so an
installed platform carries it) and its validation with paths that name the bad value."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError as SchemaValidationError

SCHEMA_RESOURCE = "service-item.schema.json"


@cache
def exchange_schema() -> dict[str, Any]:
    text = resources.files("yiwang.catalogue").joinpath("schema", SCHEMA_RESOURCE).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(exchange_schema(), format_checker=Draft202012Validator.FORMAT_CHECKER)


@dataclass(frozen=True)
class SchemaError:
    path: str  # a JSONPath-like location, e.g. ``$.items[3].materials[0].copies``
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"path": self.path, "message": self.message}


def json_path(parts: Any, prefix: str = "$") -> str:
    path = prefix
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def schema_errors(document: Any, prefix: str = "$") -> list[SchemaError]:
    """Every schema violation of one item, sorted by path."""
    errors: list[SchemaValidationError] = list(_validator().iter_errors(document))
    found = [SchemaError(json_path(error.absolute_path, prefix), error.message) for error in errors]
    return sorted(found, key=lambda e: e.path)
