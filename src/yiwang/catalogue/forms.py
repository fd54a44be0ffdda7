"""The application form at run time: what the portal and the cases app do with an item's form definition.

The definition (``catalogue.handling.HandlingDefinition``) holds a JSON Schema subset with layout hints; this
module turns posted strings into typed values (``coerce``), checks a submission and reports every problem at
once in the user's language (``validate_submission`` — jsonschema does the checking, its English messages never
reach a user), fills in what the base registers know (``prefill``) and prepares what a template loops over
(``render_fields`` with ``templates/catalogue/form_fields.html``).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import ValidationError as SchemaValidationError

if TYPE_CHECKING:
    from yiwang.catalogue.handling import HandlingDefinition

# A text field without its own maxLength still takes no more than this: drafts are autosaved, and an unbounded
# value would be stored (and audited) on every keystroke's save.
TEXT_LIMIT = 5000

# --- register facts -------------------------------------------------------------------------------------------

# What a form field may be pre-filled with (``x-prefill``): exactly what the base registers hold
# (registers.models.Person and LegalEntity), plus the phone number the applicant's account confirmed — the
# population register keeps no phone numbers. Deliberately absent: the legal representative's ID number (an
# agent acting for the enterprise would be shown another person's identifier) and a registered capital (the
# legal-entity register does not hold one).
PREFILL_FACTS: dict[str, Promise] = {
    "person.name": gettext_lazy("the applicant's name (population register)"),
    "person.id_number": gettext_lazy("the applicant's resident ID number (population register)"),
    "person.sex": gettext_lazy("the applicant's sex, 1 male or 2 female (population register)"),
    "person.birth_date": gettext_lazy("the applicant's birth date, YYYY-MM-DD (population register)"),
    "person.address": gettext_lazy("the applicant's address (population register)"),
    "entity.name": gettext_lazy("the enterprise's name (legal-entity register)"),
    "entity.uscc": gettext_lazy("the enterprise's unified social credit code (legal-entity register)"),
    "entity.type": gettext_lazy("the enterprise's type code (legal-entity register)"),
    "entity.legal_representative": gettext_lazy("the name of the enterprise's legal representative"),
    "entity.address": gettext_lazy("the enterprise's registered address (legal-entity register)"),
    "entity.established": gettext_lazy("the date the enterprise was established, YYYY-MM-DD"),
    "entity.business_scope": gettext_lazy("the enterprise's business scope (legal-entity register)"),
    "account.phone": gettext_lazy("the phone number of the applicant's account"),
}


def _text_of(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).strip()
    return text or None


# fact -> (which source, how to read it). ID numbers are encrypted columns: reading the model attribute decrypts.
_READERS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "person.name": ("person", lambda p: p.name),
    "person.id_number": ("person", lambda p: p.id_number),
    "person.sex": ("person", lambda p: p.sex),
    "person.birth_date": ("person", lambda p: p.birth_date),
    "person.address": ("person", lambda p: p.address),
    "entity.name": ("entity", lambda e: e.name),
    "entity.uscc": ("entity", lambda e: e.uscc),
    "entity.type": ("entity", lambda e: e.entity_type),
    "entity.legal_representative": ("entity", lambda e: e.legal_representative),
    "entity.address": ("entity", lambda e: e.registered_address),
    "entity.established": ("entity", lambda e: e.established),
    "entity.business_scope": ("entity", lambda e: e.business_scope),
    "account.phone": ("account", lambda a: a.phone),
}
assert set(_READERS) == set(PREFILL_FACTS)


def prefill(
    definition: HandlingDefinition, *, person: Any = None, entity: Any = None, account: Any = None
) -> dict[str, Any]:
    """Initial values from the registers for every field whose ``x-prefill`` fact is known.

    ``person`` is a ``registers.models.Person`` (the applicant, or the agent who fills the form in), ``entity``
    a ``registers.models.LegalEntity`` (the enterprise applied for), ``account`` an ``identity.models.Account``
    (its phone). Absent sources and empty facts leave the field out; the applicant can change every value.
    """
    sources = {"person": person, "entity": entity, "account": account}
    values: dict[str, Any] = {}
    for name, prop in definition.properties.items():
        fact = prop.get("x-prefill")
        if fact not in _READERS:
            continue
        source_name, read = _READERS[fact]
        source = sources[source_name]
        if source is None:
            continue
        value = _text_of(read(source))
        if value is not None:
            values[name] = value
    return values


# --- texts in the user's language -----------------------------------------------------------------------------


def _english(language: str | None) -> bool:
    return bool(language) and str(language).lower().startswith("en")


def text_in(prop: Mapping[str, Any], key: str, language: str | None) -> str:
    """``title``/``description`` in the language: the ``x-<key>-en`` variant for English when given."""
    if _english(language) and prop.get(f"x-{key}-en"):
        return str(prop[f"x-{key}-en"])
    return str(prop.get(key) or "")


def choice_labels(prop: Mapping[str, Any], language: str | None) -> list[tuple[str, str]]:
    """(value, label) of each choice of a select (``enum``) or multi-select (``items.enum``) field."""
    source = prop.get("items", prop) if prop.get("type") == "array" else prop
    labels: Mapping[str, str] = source.get("x-enum-labels") or {}
    english: Mapping[str, str] = source.get("x-enum-labels-en") or {}
    result = []
    for value in source.get("enum") or []:
        label = english.get(value) if _english(language) else None
        result.append((str(value), str(label or labels.get(value) or value)))
    return result


# --- checking a submission ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldProblem:
    """One thing wrong with one field, in the user's language."""

    field: str
    label: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "label": self.label, "message": self.message}


_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
FORMATS = FormatChecker(formats=())


@FORMATS.checks("date")
def _is_date(value: object) -> bool:
    # RFC 3339 full-date, as an <input type="date"> posts it; a real calendar day.
    if not isinstance(value, str):
        return True
    if not _DATE.match(value):
        return False
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


@FORMATS.checks("email")
def _is_email(value: object) -> bool:
    if not isinstance(value, str):
        return True
    try:
        validate_email(value)
    except ValidationError:
        return False
    return True


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip()) or (isinstance(value, list) and not value)


def _number_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def checking_schema(definition: HandlingDefinition) -> dict[str, Any]:
    """The schema jsonschema checks values with: required fields and unknown fields are judged here (an empty
    text counts as missing), and every text field has at least the ``TEXT_LIMIT``."""
    properties = {}
    for name, prop in definition.properties.items():
        checked = dict(prop)
        if checked.get("type") == "string" and "maxLength" not in checked:
            checked["maxLength"] = TEXT_LIMIT
        properties[name] = checked
    return {"type": "object", "properties": properties}


def _message(error: SchemaValidationError) -> str:
    keyword = error.validator
    limit: Any = error.validator_value
    instance: Any = error.instance
    if keyword == "type":
        expected = {
            "integer": _("Enter a whole number."),
            "number": _("Enter a number."),
            "boolean": _("Answer yes or no."),
            "array": _("Choose from the offered options."),
            "string": _("Enter text."),
        }
        return expected.get(str(limit), _("This value is not accepted."))
    if keyword == "maxLength":
        return ngettext(
            "Enter at most %(max)d character (you entered %(count)d).",
            "Enter at most %(max)d characters (you entered %(count)d).",
            int(limit),
        ) % {"max": limit, "count": len(instance)}
    if keyword == "minLength":
        return ngettext("Enter at least %(min)d character.", "Enter at least %(min)d characters.", int(limit)) % {
            "min": limit
        }
    if keyword == "pattern":
        return _("This is not in the expected form.")
    if keyword == "format":
        if limit == "date":
            return _("Enter a date as YYYY-MM-DD, for example 2024-03-01.")
        return _("Enter a valid e-mail address.")
    if keyword == "enum":
        return _("Choose one of the offered options.")
    if keyword in ("minimum", "exclusiveMinimum"):
        return _("Enter a number no smaller than %(min)s.") % {"min": _number_text(limit)}
    if keyword in ("maximum", "exclusiveMaximum"):
        return _("Enter a number no larger than %(max)s.") % {"max": _number_text(limit)}
    if keyword == "const":
        return _("Tick this box to go on.")
    if keyword == "minItems":
        return ngettext("Choose at least %(min)d option.", "Choose at least %(min)d options.", int(limit)) % {
            "min": limit
        }
    if keyword == "maxItems":
        return ngettext("Choose at most %(max)d option.", "Choose at most %(max)d options.", int(limit)) % {
            "max": limit
        }
    if keyword == "uniqueItems":
        return _("Choose each option only once.")
    return _("This value is not accepted.")


def _required_message(prop: Mapping[str, Any]) -> str:
    if prop.get("type") == "array":
        return _("Choose at least one option.")
    if prop.get("type") == "boolean" and prop.get("const") is True:
        return _("Tick this box to go on.")
    if prop.get("enum"):
        return _("Choose an option.")
    return _("This field is required.")


def validate_submission(definition: HandlingDefinition, data: Mapping[str, Any]) -> list[FieldProblem]:
    """Every problem of a submission at once, in the active language, in the order of the form's fields.

    An empty value (``None``, blank text, no choice) counts as not given: required fields report it, optional
    ones are left alone. Names the form does not have are reported too (an API client's typo, a tampered post).
    """
    language = translation.get_language()
    properties = definition.properties
    found: dict[str, list[str]] = {}

    def add(name: str, message: str) -> None:
        messages = found.setdefault(name, [])
        if message not in messages:
            messages.append(message)

    given = {name: value for name, value in data.items() if name in properties and not _empty(value)}
    for name in definition.required:
        if name not in given:
            add(name, _required_message(properties[name]))
    validator = Draft202012Validator(checking_schema(definition), format_checker=FORMATS)
    errors: dict[str, list[SchemaValidationError]] = {}
    for error in validator.iter_errors(given):
        path = list(error.absolute_path)
        if path and isinstance(path[0], str) and path[0] in properties:
            errors.setdefault(path[0], []).append(error)
    for name, field_errors in errors.items():
        # A value of the wrong kind says so alone: "tick this box" would not help someone who posted "yes".
        wrong_kind = [e for e in field_errors if e.validator == "type" and len(e.absolute_path) == 1]
        for error in wrong_kind or field_errors:
            add(name, _message(error))
    problems = [
        FieldProblem(name, text_in(properties[name], "title", language) or name, message)
        for name in properties
        for message in found.get(name, [])
    ]
    unknown = [name for name in data if name not in properties]
    problems += [
        FieldProblem(str(name), str(name), _("This form has no field called %(name)s.") % {"name": name})
        for name in unknown
    ]
    return problems


# --- posted strings to typed values ---------------------------------------------------------------------------

_INTEGER = re.compile(r"^[+-]?[0-9]+$", re.ASCII)
_DECIMAL = re.compile(r"^[+-]?([0-9]+\.[0-9]*|\.[0-9]+)$", re.ASCII)
_TRUE = frozenset({"true", "on", "1", "yes"})
_FALSE = frozenset({"false", "off", "0", "no", ""})


def _number(text: str, *, integer: bool) -> int | float | str:
    # Full-width digits and separators (１２，０００) are what Chinese input methods often type.
    cleaned = unicodedata.normalize("NFKC", text).strip().replace(",", "").replace(" ", "")
    if _INTEGER.match(cleaned):
        return int(cleaned)
    if _DECIMAL.match(cleaned):
        try:
            number = Decimal(cleaned)
        except InvalidOperation:  # pragma: no cover - the pattern admits only valid decimals
            return text
        if number == number.to_integral_value():
            return int(number)
        return text if integer else float(number)
    return text  # left as typed, so validate_submission reports it beside the field


def _values(raw: Mapping[str, Any], name: str) -> list[Any]:
    getlist = getattr(raw, "getlist", None)
    if getlist is not None:
        return list(getlist(name))
    value = raw.get(name)
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def coerce(definition: HandlingDefinition, raw: Mapping[str, Any]) -> dict[str, Any]:
    """Typed JSON values from a posted form (a ``QueryDict`` or a plain mapping): whole numbers and numbers,
    ``True``/``False`` from checkboxes (an unticked box is not posted at all), lists from multi-selects. Blank
    values are left out; a value that does not parse stays the string it was, so ``validate_submission``
    reports it. Names that are not fields of the form (the CSRF token, buttons) are ignored."""
    result: dict[str, Any] = {}
    for name, prop in definition.properties.items():
        values = _values(raw, name)
        kind = prop.get("type")
        if kind == "array":
            chosen = [str(v).strip() for v in values if str(v).strip()]
            if chosen:
                result[name] = list(dict.fromkeys(chosen))
            continue
        if kind == "boolean":
            text = str(values[-1]).strip().lower() if values else ""
            if text in _TRUE:
                result[name] = True
            elif text in _FALSE:
                result[name] = False
            else:
                result[name] = str(values[-1])
            continue
        if not values or values[-1] is None:
            continue
        value = values[-1]
        if not isinstance(value, str):
            result[name] = value  # already typed (a JSON body)
            continue
        text = value.strip()
        if not text:
            continue
        if kind in ("integer", "number"):
            result[name] = _number(text, integer=kind == "integer")
        else:
            result[name] = text
    return result


# --- what a template loops over -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    selected: bool


@dataclass(frozen=True)
class FormField:
    name: str
    id: str
    label: str
    help: str
    widget: str  # text, textarea, date, email, number, select, checkbox, multiselect
    required: bool
    value: Any  # the text shown in an input; True/False for a checkbox; unused for choices (see ``choices``)
    choices: tuple[Choice, ...] = ()
    errors: tuple[str, ...] = ()
    max_length: int | None = None
    minimum: str | None = None
    maximum: str | None = None
    step: str | None = None

    @property
    def error(self) -> str:
        return " ".join(self.errors)

    @property
    def help_id(self) -> str:
        return f"{self.id}-help"

    @property
    def error_id(self) -> str:
        return f"{self.id}-error"

    @property
    def describedby(self) -> str:
        """The ids an ``aria-describedby`` names: the error first (read out before the help), then the help."""
        ids = ([self.error_id] if self.errors else []) + ([self.help_id] if self.help else [])
        return " ".join(ids)


@dataclass(frozen=True)
class Section:
    title: str
    columns: int
    fields: tuple[FormField, ...]


WIDGETS = ("text", "textarea", "date", "email", "number", "select", "checkbox", "multiselect")
LONG_TEXT = 500  # a text allowed more characters than this gets several lines (an address of 300 keeps one)


def widget_of(prop: Mapping[str, Any]) -> str:
    kind = prop.get("type")
    if kind == "array":
        return "multiselect"
    if kind == "boolean":
        return "checkbox"
    if kind in ("integer", "number"):
        return "number"
    if prop.get("enum"):
        return "select"
    if prop.get("format") in ("date", "email"):
        return str(prop["format"])
    if prop.get("x-widget") == "textarea" or int(prop.get("maxLength") or 0) > LONG_TEXT:
        return "textarea"
    return "text"


def _shown(value: Any) -> str:
    if value is None or isinstance(value, bool | list | dict):
        return ""
    return _number_text(value)


def _field(
    name: str, prop: Mapping[str, Any], required: bool, value: Any, errors: Iterable[str], language: str
) -> FormField:
    widget = widget_of(prop)
    choices: tuple[Choice, ...] = ()
    if widget == "multiselect":
        chosen = {str(v) for v in value} if isinstance(value, list) else set()
        choices = tuple(Choice(v, label, v in chosen) for v, label in choice_labels(prop, language))
    elif widget == "select":
        choices = tuple(Choice(v, label, v == _shown(value)) for v, label in choice_labels(prop, language))
    minimum = _number_text(prop["minimum"]) if "minimum" in prop else None
    maximum = _number_text(prop["maximum"]) if "maximum" in prop else None
    return FormField(
        name=name,
        id=f"field-{name}",
        label=text_in(prop, "title", language) or name,
        help=text_in(prop, "description", language),
        widget=widget,
        required=required,
        value=value is True if widget == "checkbox" else _shown(value),
        choices=choices,
        errors=tuple(errors),
        max_length=prop.get("maxLength") if widget in ("text", "textarea", "email") else None,
        minimum=minimum,
        maximum=maximum,
        step=("1" if prop.get("type") == "integer" else "any") if widget == "number" else None,
    )


def render_fields(
    definition: HandlingDefinition,
    data: Mapping[str, Any],
    problems: Iterable[FieldProblem] = (),
    language: str | None = None,
) -> list[Section]:
    """The form's sections in the layout's order (fields in no section come last, in one more section), each
    field with its label, help, widget, choices, current value and errors. Problems of names the form does not
    have are not shown here; the view reports those on its own."""
    language = language or translation.get_language() or "zh-hans"
    errors: dict[str, list[str]] = {}
    for problem in problems:
        errors.setdefault(problem.field, []).append(problem.message)
    properties, required = definition.properties, definition.required
    with translation.override(language):
        sections = []
        for spec in definition.sections():
            title = text_in({"title": spec.title, "x-title-en": spec.title_en}, "title", language)
            if not title:
                title = _("Application details") if spec.only else _("Other details")
            fields = tuple(
                _field(name, properties[name], name in required, data.get(name), errors.get(name, ()), language)
                for name in spec.fields
            )
            sections.append(Section(title=title, columns=spec.columns, fields=fields))
    return sections
