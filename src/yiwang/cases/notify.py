"""Who is told what about a case. Messages leave through the notifications outbox after commit."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import User

from yiwang.cases.models import Case
from yiwang.catalogue.models import Organisation
from yiwang.identity.constants import AccountKind
from yiwang.identity.models import account_of


def applicant_link(case: Case) -> str:
    return f"/my/cases/{case.number}/"


def staff_link(case: Case) -> str:
    return f"/workbench/cases/{case.number}/"


def _params(case: Case, extra: dict[str, Any]) -> dict[str, Any]:
    return {"case_number": case.number or "", "item_name": case.item_name, **extra}


def applicant_side(case: Case, actor: Any = None) -> list[User]:
    """The applicant's account, whoever filed it for them (agent, proxy), and an enterprise's representative.

    When that is only ``actor`` itself (a citizen acting on their own case, the common case), it is ``actor``:
    its account is already loaded (the permission check read it) and nothing needs to be read again.
    """
    if (
        isinstance(actor, User)
        and case.applicant_id == actor.pk
        and case.submitted_by_id in (None, actor.pk)
        and case.enterprise_id is None
    ):
        account = account_of(actor)
        return [actor] if account is not None and account.kind == AccountKind.PERSON else []
    ids = {case.applicant_id}
    # Whoever filed it hears of it only while they may still see it (an agent whose agency ended does not).
    if case.submitted_by_id is not None and case.submitted_by_id != case.applicant_id:
        from yiwang.cases.services import may_follow

        if may_follow(case.submitted_by, case):
            ids.add(case.submitted_by_id)
    if case.enterprise_id is not None:
        ids.add(case.enterprise.representative_id)  # type: ignore[union-attr]
    # With the account: notify reads each one's confirmed phone to know whether an SMS can reach them.
    return list(
        User.objects.filter(pk__in=[i for i in ids if i], account__kind=AccountKind.PERSON).select_related("account")
    )


def _send(case: Case, recipients: Iterable[User], kind: str, actor: Any, link: str, params: dict[str, Any]) -> None:
    from yiwang.notifications import services as notifications

    recipients = list(recipients)
    if recipients:
        notifications.notify(actor=actor, recipients=recipients, kind=kind, params=_params(case, params), link=link)


def applicant(case: Case, kind: str, *, actor: Any, **params: Any) -> None:
    _send(case, applicant_side(case, actor), kind, actor, applicant_link(case), params)


def department_staff(department: Organisation, role: str) -> list[User]:
    # With the account: a warning to staff checks each one's confirmed phone for the SMS (notifications.notify).
    return list(
        User.objects.filter(account__department=department, groups__name=role, is_active=True)
        .select_related("account")
        .distinct()
    )


def department(case: Case, department: Organisation, role: str, kind: str, *, actor: Any, **params: Any) -> None:
    # In-app only: a queue item is not worth an SMS; warnings (supervision) use every channel.
    from yiwang.notifications import services as notifications

    recipients = department_staff(department, role)
    if recipients:
        notifications.notify(
            actor=actor,
            recipients=recipients,
            kind=kind,
            params=_params(case, params),
            link=staff_link(case),
            channels=("inbox",),
        )


def users(case: Case, recipients: Iterable[User], kind: str, *, actor: Any, **params: Any) -> None:
    _send(case, recipients, kind, actor, staff_link(case), params)
