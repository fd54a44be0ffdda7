"""A case's history for its timelines, from its ``CaseTransition`` rows.

The rows are read once, in order, with who acted (and their account) and the department joined
(``selectors.timeline``). Each becomes an ``Event``: the action in words (``cases.machine``), the status it moved
to, the step, and what it changed — the correction's problems, the decision, the extension, the special
procedure, the delivery, the fields and materials a resubmission changed.

Who is *named* is each page's choice, not this module's: the applicant's page never names staff (a department
acts, not a clerk), the staff pages name who acted. Both read it from ``Event.transition``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from yiwang.cases import machine, selectors, services
from yiwang.cases.constants import CaseStatus, DeliveryMethod, Outcome, StepCode
from yiwang.cases.models import Case, CaseTransition
from yiwang.catalogue.handling import HandlingDefinition, handling_for


@dataclass(frozen=True)
class Event:
    transition: CaseTransition
    label: str  # the action, as a verb phrase ("accept", "ask for corrections")
    status: str  # the status it moved the case to
    step: str  # the step it was taken at, or ""
    outcome: str  # a decision's outcome, or ""
    problems: tuple[dict[str, Any], ...]  # a correction request's problems (subject, reason, slot, field)
    details: tuple[str, ...]  # what the move changed, one line each

    @property
    def at(self) -> dt.datetime:
        return self.transition.at

    @property
    def action(self) -> str:
        return self.transition.action

    @property
    def reason(self) -> str:
        return self.transition.reason


def _label(choices: Any, value: Any) -> str:
    return str(choices(value).label) if value in choices.values else ""


def _details(case: Case, transition: CaseTransition, language: str, handling: HandlingDefinition | None) -> list[str]:
    """What a move changed, in words, one line each."""
    details = transition.details or {}
    action = transition.action
    lines: list[str] = []
    if action == "request_correction":
        for problem in details.get("problems") or []:
            lines.append(
                _("%(subject)s: %(reason)s") % {"subject": problem.get("subject", ""), "reason": problem.get("reason")}
            )
    elif action == "decide" and details.get("outcome") in Outcome.values:
        lines.append(str(Outcome(details["outcome"]).label))
    elif action == "extend" and details.get("days"):
        lines.append(_("Extended by %(days)s days") % {"days": details["days"]})
    elif action in ("procedure_start", "procedure_end") and details.get("procedure"):
        lines.append(str(details["procedure"]))
    elif action == "deliver" and details.get("method") in DeliveryMethod.values:
        method = str(DeliveryMethod(details["method"]).label)
        if details.get("tracking_number"):
            lines.append(
                _("%(method)s, tracking number %(number)s") % {"method": method, "number": details["tracking_number"]}
            )
        else:
            lines.append(method)
    elif action == "resubmit":
        handling = handling or handling_for(case.version)
        changed = [handling.label(name, language) for name in details.get("changed_fields") or []]
        slots = services.material_slots(case)
        replaced = [str(slots[s]["name"]) for s in details.get("changed_slots") or [] if 0 <= s < len(slots)]
        if changed:
            lines.append(_("Changed fields: %(fields)s") % {"fields": ", ".join(changed)})
        if replaced:
            lines.append(_("New materials: %(materials)s") % {"materials": ", ".join(replaced)})
    return lines


def event(case: Case, transition: CaseTransition, language: str, handling: HandlingDefinition | None = None) -> Event:
    rule = machine.TRANSITIONS.get(transition.action)
    details = transition.details or {}
    return Event(
        transition=transition,
        label=str(rule.label) if rule is not None else transition.action,
        status=_label(CaseStatus, transition.to_status),
        step=_label(StepCode, transition.step),
        outcome=_label(Outcome, details.get("outcome")),
        problems=tuple(details.get("problems") or ()),
        details=tuple(_details(case, transition, language, handling)),
    )


def events(case: Case, language: str | None = None, *, handling: HandlingDefinition | None = None) -> list[Event]:
    """The case's history, oldest first, in one query. ``handling``: the item's form (``handling_for``) when the
    caller has it; else it is read only if a resubmission's changed fields are to be named."""
    language = language or get_language() or "zh-hans"
    transitions = selectors.timeline(case)
    if handling is None and any(t.action == "resubmit" for t in transitions):
        handling = handling_for(case.version)
    return [event(case, t, language, handling) for t in transitions]


def latest(history: Sequence[Event], action: str) -> Event | None:
    return next((e for e in reversed(history) if e.action == action), None)


def changed_fields(case: Case, history: Sequence[Event]) -> set[str]:
    """Form fields the applicant changed in the latest correction round (from the resubmission's record)."""
    if case.round <= 1:
        return set()
    resubmitted = latest(history, "resubmit")
    return set(resubmitted.transition.details.get("changed_fields") or []) if resubmitted is not None else set()
