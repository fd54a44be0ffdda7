"""The kinds of message the platform sends, each a subject and a body with named placeholders.

A message is stored language-neutrally (its kind and its parameters) and rendered in the reader's language
when shown, as history notes are (catalogue/notes.py): the same correction notice reads in Chinese for one
person and in English for another, and a later fix of a translation reaches messages already sent.
Parameters are plain values (text, numbers, ISO dates); a placeholder's value is never translated.

Apps add their own kinds with ``register`` (in their ``AppConfig.ready``); the case kinds are registered here
because cases, supervision warnings and tasks all speak of a case by its number and item name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.utils import translation
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

_PLACEHOLDER = re.compile(r"%\((?P<name>[a-z_][a-z0-9_]*)\)s")


class UnknownKind(LookupError):
    """A kind nobody registered: a programming error, never the user's."""


@dataclass(frozen=True)
class Kind:
    code: str
    subject: Promise
    body: Promise
    params: frozenset[str]

    def render(self, params: dict[str, Any]) -> tuple[str, str]:
        """Subject and body in the active language."""
        values = {name: _text(params.get(name, "")) for name in self.params}
        return str(self.subject) % values, str(self.body) % values


_REGISTRY: dict[str, Kind] = {}


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _placeholders(text: Promise) -> frozenset[str]:
    with translation.override("en"):  # the English msgid: translations must use the same placeholders
        source = str(text)
    if "%" in _PLACEHOLDER.sub("", source).replace("%%", ""):
        raise ValueError(f"only named %(name)s placeholders are allowed, got {source!r}")
    return frozenset(m["name"] for m in _PLACEHOLDER.finditer(source))


def register(kind: str, subject: Promise, body: Promise) -> Kind:
    """Add a kind: ``subject`` and ``body`` are ``gettext_lazy`` texts with named ``%(name)s`` placeholders.

    Registering the same code twice with other texts is refused: two apps would be sending one kind.
    """
    if not re.fullmatch(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+", kind):
        raise ValueError(f"a kind is a dotted lower-case code such as 'case.accepted', got {kind!r}")
    entry = Kind(kind, subject, body, _placeholders(subject) | _placeholders(body))
    existing = _REGISTRY.get(kind)
    if existing is not None and (str(existing.subject), str(existing.body)) != (str(subject), str(body)):
        raise ValueError(f"message kind {kind!r} is already registered with other texts")
    _REGISTRY[kind] = entry
    return entry


def get(kind: str) -> Kind:
    try:
        return _REGISTRY[kind]
    except KeyError:
        raise UnknownKind(f"unknown message kind {kind!r}; register it in yiwang.notifications.kinds") from None


def is_registered(kind: str) -> bool:
    return kind in _REGISTRY


def codes() -> list[str]:
    return sorted(_REGISTRY)


def render(kind: str, params: dict[str, Any]) -> tuple[str, str]:
    """Subject and body of a stored message in the active language; a kind no longer registered (an app
    removed) shows its code rather than failing the whole message list."""
    if kind not in _REGISTRY:
        return kind, ""
    return _REGISTRY[kind].render(params)


# --- case kinds (办件): applicant, handler and supervisor messages ------------------------------------------
# Every case kind takes case_number and item_name. Dates are ISO dates (YYYY-MM-DD).

register(
    "case.submitted",
    _("Application %(case_number)s received"),
    _(
        "Your application for %(item_name)s has been received under number %(case_number)s. "
        "You will be told when it is accepted or if anything must be corrected."
    ),
)
register(
    "case.correction_requested",
    _("Application %(case_number)s needs corrections"),
    _(
        "Your application %(case_number)s for %(item_name)s needs corrections. Items to correct: "
        "%(problem_count)s, all listed at once in the correction notice. The time limit stops until you resubmit."
    ),
)
register(
    "case.resubmitted",
    _("Corrections to application %(case_number)s received"),
    _("The corrected materials of application %(case_number)s for %(item_name)s have been received."),
)
register(
    "case.accepted",
    _("Application %(case_number)s accepted"),
    _(
        "Your application %(case_number)s for %(item_name)s has been accepted. "
        "A decision is promised by %(promised_due)s."
    ),
)
register(
    "case.refused",
    _("Application %(case_number)s not accepted"),
    _(
        "Your application %(case_number)s for %(item_name)s was not accepted. "
        "The notice on the case page gives the reasons."
    ),
)
register(
    # 行政许可法 art. 32: without a correction notice within five days, the application counts as accepted
    # from the day the materials were received.
    "case.deemed_accepted",
    _("Application %(case_number)s counts as accepted"),
    _(
        "You were not told in time what to correct, so by law your application %(case_number)s for "
        "%(item_name)s counts as accepted from the day its materials were received."
    ),
)
register(
    "case.step_advanced",
    _("Application %(case_number)s: %(step)s"),
    _("Your application %(case_number)s for %(item_name)s has moved on to the step: %(step)s."),
)
register(
    "case.returned",
    _("Application %(case_number)s returned to %(step)s"),
    _("Application %(case_number)s for %(item_name)s has been returned to the step %(step)s. Reason: %(reason)s"),
)
register(
    "case.special_procedure_started",
    _("Application %(case_number)s: %(procedure)s started"),
    _(
        "A special procedure (%(procedure)s) has started for application %(case_number)s for %(item_name)s. "
        "The case page shows whether its time counts towards the time limit."
    ),
)
register(
    "case.special_procedure_ended",
    _("Application %(case_number)s: %(procedure)s finished"),
    _(
        "The special procedure (%(procedure)s) of application %(case_number)s for %(item_name)s has finished; "
        "handling continues."
    ),
)
register(
    "case.decided_approved",
    _("Application %(case_number)s approved"),
    _(
        "Your application %(case_number)s for %(item_name)s has been approved. "
        "The case page shows the result and how it reaches you."
    ),
)
register(
    "case.decided_denied",
    _("Application %(case_number)s not approved"),
    _(
        "Your application %(case_number)s for %(item_name)s has not been approved. "
        "The decision on the case page gives the reasons and how to seek review."
    ),
)
register(
    "case.delivered_electronic",
    _("Result of application %(case_number)s available"),
    _("The result of your application %(case_number)s for %(item_name)s is available online on the case page."),
)
register(
    "case.delivered_pickup",
    _("Result of application %(case_number)s handed over"),
    _("The result of your application %(case_number)s for %(item_name)s has been handed over at the window."),
)
register(
    "case.delivered_mail",
    _("Result of application %(case_number)s mailed"),
    _(
        "The result of your application %(case_number)s for %(item_name)s has been mailed. "
        "Tracking number: %(tracking_number)s"
    ),
)
register(
    "case.withdrawn",
    _("Application %(case_number)s withdrawn"),
    _("Application %(case_number)s for %(item_name)s has been withdrawn."),
)
register(
    "case.task_assigned",
    _("New task: application %(case_number)s"),
    _("Application %(case_number)s for %(item_name)s has been assigned to you."),
)
register(
    "case.warning_yellow",
    _("Yellow warning: application %(case_number)s is due soon"),
    _("Application %(case_number)s for %(item_name)s is due by %(due)s and is close to its time limit."),
)
register(
    "case.warning_red",
    _("Red warning: application %(case_number)s is overdue"),
    _("Application %(case_number)s for %(item_name)s was due by %(due)s and is past its time limit."),
)
