"""Reads of the access log: what a person or enterprise sees of the reads of their data (the data tracker),
and what staff see of the log (auditors all of it; a department the reads it made and those of its resources).

Subjects are found by blind index only, the same indexes the log was written with, and the ones licences name
their holders by (``licences.issuance.holder_index``). No ID number is decrypted to list a log.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from yiwang.catalogue.models import Organisation
from yiwang.identity import authz
from yiwang.identity.constants import AccountKind
from yiwang.identity.models import Enterprise, account_of
from yiwang.licences.constants import HolderKind
from yiwang.licences.issuance import holder_index
from yiwang.sharing.constants import Outcome, SubjectKind
from yiwang.sharing.models import AccessRecord, Grant, ResourceField

AUDIT = "sharing.audit"
CONSUME = "sharing.consume"
PROVIDE = "sharing.provide"
SELF = "self"


def subject_index(kind: str, code: str) -> str:
    """The blind index the log stores for a person's ID number or an enterprise's USCC."""
    return holder_index(HolderKind.PERSON if kind == SubjectKind.PERSON else HolderKind.ORGANISATION, code)


def reads_of(subject_indexes: Iterable[str], *, include_refused: bool = False) -> QuerySet[AccessRecord]:
    """The log's records about these subjects, newest first: answered reads, and refused attempts on request.

    One indexed lookup (``sharing_access_subject_idx``) whatever the log's size.
    """
    indexes = sorted({i for i in subject_indexes if i})
    if not indexes:
        return AccessRecord.objects.none()
    query = AccessRecord.objects.filter(subject_index__in=indexes)
    if not include_refused:
        query = query.filter(outcome=Outcome.ANSWERED)
    return query.select_related("consumer", "resource").order_by("-seq")


@dataclass(frozen=True)
class DataSubject:
    """Someone whose reads a signed-in person may see: themselves, or an enterprise they answer for."""

    key: str  # "self", or "e<enterprise id>": what the page's ``subject`` parameter carries (never a number)
    label: str
    kind: str
    index: str


def data_subjects(actor: Any) -> list[DataSubject]:
    """Whose reads ``actor`` may see: their own (once their account is verified: only then is the ID number
    proved theirs) and each enterprise they represent or are an agent (经办人) of, by agencies in force.

    A proxy for another person (委托代办) does not see that person's reads: the proxy handles applications,
    and who read a person's data is the person's own business. Staff and the anonymous see nothing here.
    """
    subject = authz.subject_of(actor)
    if subject.user is None or subject.kind != AccountKind.PERSON:
        return []
    found: list[DataSubject] = []
    account = account_of(actor)
    if account is not None and account.is_verified and account.id_number_index:
        found.append(DataSubject(SELF, _("Me"), SubjectKind.PERSON, account.id_number_index))
    enterprise_ids = authz.principals_of(actor).enterprise_ids
    if enterprise_ids:
        for enterprise in Enterprise.objects.filter(pk__in=sorted(enterprise_ids)).order_by("name", "pk"):
            found.append(
                DataSubject(
                    f"e{enterprise.pk}",
                    enterprise.name,
                    SubjectKind.ENTITY,
                    subject_index(SubjectKind.ENTITY, enterprise.uscc),
                )
            )
    return found


# --- staff ----------------------------------------------------------------------------------------------


def may_read_log(actor: Any) -> bool:
    """Whether the workbench's access-log page opens for ``actor`` (auditors, or a department's sharing staff)."""
    return authz.allowed(actor, AUDIT) or authz.allowed(actor, CONSUME) or authz.allowed(actor, PROVIDE)


def may_check_chain(actor: Any) -> bool:
    return authz.allowed(actor, AUDIT)


def log_scope(actor: Any) -> Q:
    """The records ``actor`` may see: all for auditors; otherwise those their department made as consumer
    and those of resources their department provides (``Q(pk__in=[])`` for anyone else)."""
    if authz.allowed(actor, AUDIT):
        return Q()
    return authz.scope_q(actor, CONSUME, department_field="consumer") | authz.scope_q(
        actor, PROVIDE, department_field="resource__provider"
    )


def log_consumers(actor: Any) -> QuerySet[Organisation]:
    """The departments the log's consumer filter offers ``actor``: those holding or asking for a grant that
    ``actor`` may see (its own department's, and those on the resources it provides; all, for auditors), and
    its own department. Listing every consumer would tell department B which data department A uses."""
    if authz.allowed(actor, AUDIT):
        visible = Q(pk__in=Grant.objects.values("consumer_id"))
    else:
        # Grant has the same ``consumer`` and ``resource__provider`` paths as the log: the same scope applies.
        visible = Q(pk__in=Grant.objects.filter(log_scope(actor)).values("consumer_id"))
        own = authz.subject_of(actor).department_id
        if own is not None and authz.allowed(actor, CONSUME, department_id=own):
            visible |= Q(pk=own)
    return Organisation.objects.filter(visible).order_by("name")


@dataclass(frozen=True)
class LogFilter:
    consumer: int | None = None
    resource: int | None = None
    outcome: str = ""
    refusal: str = ""
    case_number: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None


def access_log(actor: Any, filters: LogFilter | None = None) -> QuerySet[AccessRecord]:
    """The log as ``actor`` may read it, narrowed by ``filters``, newest first."""
    f = filters or LogFilter()
    query = AccessRecord.objects.filter(log_scope(actor))
    if f.consumer is not None:
        query = query.filter(consumer_id=f.consumer)
    if f.resource is not None:
        query = query.filter(resource_id=f.resource)
    if f.outcome:
        query = query.filter(outcome=f.outcome)
    if f.refusal:
        query = query.filter(refusal=f.refusal)
    if f.case_number:
        query = query.filter(case_number=f.case_number)
    if f.date_from is not None:
        query = query.filter(at__date__gte=f.date_from)
    if f.date_to is not None:
        query = query.filter(at__date__lte=f.date_to)
    return query.select_related("consumer", "resource").order_by("-seq")


def field_names(records: Iterable[AccessRecord], language: str | None) -> dict[tuple[int, str], str]:
    """Display names of the fields the records name, keyed by (resource id, field code): one query per page."""
    resource_ids = {r.resource_id for r in records if r.resource_id is not None}
    if not resource_ids:
        return {}
    rows = ResourceField.objects.filter(resource_id__in=sorted(resource_ids))
    return {(row.resource_id, row.code): row.display_name(language) for row in rows}
