"""The case state machine: one table of allowed transitions, each a conditional update plus a record.

A transition updates the case only if it still has the status *and revision* the caller read
(``UPDATE … WHERE id = %s AND status = %s AND revision = %s``). Two clerks clicking "accept" at once, or one
double-click, both read revision n; the first update wins and bumps it to n + 1, the second matches no row and
is refused. Every transition appends an immutable ``CaseTransition`` in the same transaction.

Moves inside ``accepted`` (a step advanced or returned, a special procedure, an extension) are transitions
too: they do not change the status but do bump the revision, so they cannot interleave either.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from yiwang.audit.actors import Actor, actor_label
from yiwang.cases.constants import FINISHED_STATUSES, CaseStatus, SupervisionStatus
from yiwang.cases.models import Case, CaseTransition, SupervisionRecord
from yiwang.catalogue.models import Organisation
from yiwang.common.errors import InvalidTransition

S = CaseStatus


@dataclass(frozen=True)
class Transition:
    sources: frozenset[str]
    target: str
    label: Promise


def _t(sources: tuple[str, ...], target: str, label: Promise) -> Transition:
    return Transition(frozenset(sources), target, label)


# Every allowed move of a case. Anything not here is refused.
TRANSITIONS: dict[str, Transition] = {
    "submit": _t((S.DRAFT,), S.SUBMITTED, _("submit")),
    "request_correction": _t((S.SUBMITTED,), S.CORRECTION, _("ask for corrections")),
    "resubmit": _t((S.CORRECTION,), S.SUBMITTED, _("resubmit")),
    "accept": _t((S.SUBMITTED,), S.ACCEPTED, _("accept")),
    # 行政许可法 art. 32: not told of corrections within 5 working days, the application counts as accepted.
    "deem_accepted": _t((S.SUBMITTED,), S.ACCEPTED, _("accept by operation of law")),
    "refuse": _t((S.SUBMITTED,), S.REFUSED, _("refuse to accept")),
    "advance": _t((S.ACCEPTED,), S.ACCEPTED, _("complete a step")),
    "return": _t((S.ACCEPTED,), S.ACCEPTED, _("return to the previous step")),
    "procedure_start": _t((S.ACCEPTED,), S.ACCEPTED, _("start a special procedure")),
    "procedure_end": _t((S.ACCEPTED,), S.ACCEPTED, _("end a special procedure")),
    "extend": _t((S.ACCEPTED,), S.ACCEPTED, _("extend the time limit")),
    "decide": _t((S.ACCEPTED,), S.DECIDED, _("decide")),
    "deliver": _t((S.DECIDED,), S.DELIVERED, _("deliver the result")),
    "withdraw": _t((S.SUBMITTED, S.CORRECTION, S.ACCEPTED), S.WITHDRAWN, _("withdraw")),
}


def can(case: Case, action: str) -> bool:
    return case.status in TRANSITIONS[action].sources


def require(case: Case, action: str) -> Transition:
    rule = TRANSITIONS[action]
    if case.status not in rule.sources:
        raise InvalidTransition(
            _("This case is “%(status)s”: it is not possible to %(action)s now.")
            % {"status": CaseStatus(case.status).label, "action": rule.label}
        )
    return rule


def transition(
    case: Case,
    action: str,
    *,
    actor: Actor,
    reason: str = "",
    step: str = "",
    department: Organisation | None = None,
    on_behalf_of: str = "",
    details: dict[str, Any] | None = None,
    **fields: Any,
) -> CaseTransition:
    """Move ``case`` by ``action`` (setting ``fields`` too) if nobody moved it since it was read."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("case transitions must run inside the service's transaction")
    rule = require(case, action)
    now = timezone.now()
    updated = Case.objects.filter(pk=case.pk, status=case.status, revision=case.revision).update(
        status=rule.target, revision=F("revision") + 1, updated_at=now, **fields
    )
    if updated != 1:
        raise InvalidTransition(_("Someone else changed this case a moment ago. Reload it and try again."))
    from_status = case.status
    case.status = rule.target
    case.revision += 1
    case.updated_at = now
    for name, value in fields.items():
        setattr(case, name, value)
    if rule.target in FINISHED_STATUSES:
        # A finished case has nothing left to supervise: its open warnings close with it.
        SupervisionRecord.objects.filter(case=case).exclude(status=SupervisionStatus.CLOSED).update(
            status=SupervisionStatus.CLOSED
        )
    return CaseTransition.objects.create(
        case=case,
        action=action,
        from_status=from_status,
        to_status=rule.target,
        step=step,
        at=now,
        actor=actor if isinstance(actor, User) else None,  # system actors have no user row
        actor_label=actor_label(actor)[:150],
        on_behalf_of=on_behalf_of[:150],
        department=department,
        reason=reason,
        details=details or {},
    )
