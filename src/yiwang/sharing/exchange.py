"""The exchange: answering a consumer's query about one subject under a grant, and logging every read.

``query`` and ``verify`` are the one way data leaves a resource. They check, in order, that the request
names a case and a purpose, the resource exists and is shared and held here, the subject's identifier is
well formed, the consumer holds a grant valid today that covers the fields, the purpose and the case's item,
the case involves the consumer, and the grant's rate is not exceeded. Each refusal is written to the access
log (committed at once when no transaction surrounds the call, see ``log_refusal``) and raised
as ``Refused`` with a translated message. An answer is logged in the same transaction that reads it.

Signatures and replay are checked by the API before it calls here (``api/views.py``); those refusals are
logged through ``log_refusal``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from yiwang.cases.constants import OPEN_STATUSES
from yiwang.cases.models import Case
from yiwang.catalogue.models import Organisation
from yiwang.common import crypto
from yiwang.common.errors import DomainError
from yiwang.common.masking import mask_id_number
from yiwang.licences.constants import HolderKind, Verdict
from yiwang.licences.issuance import holder_index
from yiwang.licences.models import Licence
from yiwang.licences.selectors import state_of
from yiwang.registers import selectors as registers
from yiwang.registers.models import LegalEntity, Person
from yiwang.sharing import accesslog, caching
from yiwang.sharing.constants import (
    REQUEST_WINDOW_SECONDS,
    AccessChannel,
    Backend,
    GrantStatus,
    Outcome,
    Refusal,
    SharingType,
    SubjectKind,
)
from yiwang.sharing.models import AccessRecord, Grant, Nonce, Resource

# The HTTP status each refusal maps to: 401/403 for who is asking, 404 for what does not exist, 409 for a
# replay, 429 for the rate, 400 for a malformed request.
_STATUS = {
    Refusal.BAD_SIGNATURE: 401,
    Refusal.STALE: 401,
    Refusal.REPLAY: 409,
    Refusal.UNKNOWN_RESOURCE: 404,
    Refusal.NOT_SHARED: 403,
    Refusal.NOT_HELD: 404,
    Refusal.NO_GRANT: 403,
    Refusal.GRANT_EXPIRED: 403,
    Refusal.FIELD_NOT_GRANTED: 403,
    Refusal.PURPOSE_NOT_GRANTED: 403,
    Refusal.ITEM_NOT_GRANTED: 403,
    Refusal.NO_CASE: 400,
    Refusal.CASE_OUT_OF_SCOPE: 403,
    Refusal.CASE_CLOSED: 403,
    Refusal.SUBJECT_NOT_IN_CASE: 403,
    Refusal.RATE_LIMITED: 429,
    Refusal.INVALID_SUBJECT: 400,
    Refusal.NO_CONSENT: 403,
}


class Refused(DomainError):
    """A request the exchange will not answer; ``refusal`` is the logged reason code, ``record`` its log entry."""

    def __init__(self, refusal: Refusal, message: str, *, record: AccessRecord | None = None) -> None:
        super().__init__(message, details=[{"code": str(refusal), "message": message}])
        self.code = str(refusal)
        self.refusal = refusal
        self.http_status = _STATUS[refusal]
        self.record = record


@dataclass(frozen=True)
class Caller:
    """Who asks: the consumer department, its system (OAuth2 client id; empty inside the platform), the official
    named by the request, and the channel."""

    consumer: Organisation
    official: str
    client_id: str = ""
    channel: str = AccessChannel.EXCHANGE


@dataclass(frozen=True)
class Request:
    resource_code: str
    subject: str
    purpose: str
    case_number: str
    fields: Sequence[str] | None = None  # None: every granted field
    request_id: str = ""


@dataclass
class Answer:
    record: AccessRecord
    resource: Resource
    found: bool
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Subject:
    kind: str
    code: str  # normalised
    index: str
    masked: str


# --- refusals -------------------------------------------------------------------------------------


def log_refusal(
    caller: Caller,
    refusal: Refusal,
    *,
    request: Request | None = None,
    resource: Resource | None = None,
    subject: Subject | None = None,
    grant: Grant | None = None,
    message: str | None = None,
) -> Refused:
    """Write the refused attempt to the access log and return the exception to raise.

    Called outside a transaction (the API) the record commits at once. Inside a caller's transaction it is a
    savepoint of it: a caller that lets ``Refused`` roll its transaction back loses the record with it, so
    callers inside a transaction catch ``Refused`` and commit (the record must stay although nothing was read)."""
    record = accesslog.append(
        channel=caller.channel,
        outcome=Outcome.REFUSED,
        refusal=str(refusal),
        consumer_id=caller.consumer.pk,
        consumer_label=caller.consumer.name[:200],
        client_id=caller.client_id[:100],
        official=caller.official[:150],
        subject_kind=subject.kind if subject else "",
        subject_index=subject.index if subject else "",
        subject_masked=subject.masked if subject else "",
        resource_id=resource.pk if resource else None,
        resource_code=(resource.code if resource else (request.resource_code if request else ""))[:40],
        fields=list(request.fields or []) if request else [],
        purpose=(request.purpose if request else "")[:200],
        case_number=(request.case_number if request else "")[:40],
        grant_id=grant.pk if grant else None,
        request_id=(request.request_id if request else "")[:64],
    )
    return Refused(refusal, message or str(refusal.label), record=record)


# --- replay ---------------------------------------------------------------------------------------

# Nonces are kept for twice the request window: a request is accepted while its timestamp is within the window
# of the platform's clock either way, so a replay can arrive up to two windows after the first use.
NONCE_KEEP_SECONDS = 2 * REQUEST_WINDOW_SECONDS
_SWEEP_KEY = "sharing:nonce-sweep"


_NONCE = Nonce._meta.db_table
_TAKE_NONCE = (
    f"INSERT INTO {_NONCE} (client_id, nonce, seen_at) VALUES (%s, %s, %s) "  # noqa: S608 - the model's names
    "ON CONFLICT (client_id, nonce) DO NOTHING"
)


def take_nonce(client_id: str, nonce: str) -> bool:
    """Record the nonce as used by this client; False when it was used before (a replay).

    The unique constraint decides, so two copies of one request racing on two workers cannot both pass (the
    second waits for the first's transaction and then inserts nothing). "Insert if absent" rather than catching
    the unique violation: no savepoint, so the nonce can be taken in the answer's own transaction and commit
    with its access record, one commit per request. Once per window (the first request after the cache marker
    expires) the nonces too old to matter are deleted, so the table holds about two windows of requests and
    needs no scheduled job.
    """
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(_TAKE_NONCE, [client_id[:100], nonce[:64], now])
        taken: bool = cursor.rowcount == 1
    if taken and cache.add(_SWEEP_KEY, 1, timeout=REQUEST_WINDOW_SECONDS):
        Nonce.objects.filter(seen_at__lt=now - dt.timedelta(seconds=NONCE_KEEP_SECONDS)).delete()
    return taken


def seconds_to_next_window() -> int:
    """When a rate-limited consumer may ask again (``Retry-After``): the start of the next one-minute window."""
    return 60 - int(time.time()) % 60


# --- the checks -----------------------------------------------------------------------------------


def _subject(kind: str, code: str) -> Subject | None:
    # The licences' holder index: the one cases and licences index their subjects by, so one subject has one index.
    try:
        if kind == SubjectKind.PERSON:
            number = registers.require_id_number(code)
            return Subject(kind, number, holder_index(HolderKind.PERSON, number), mask_id_number(number))
        uscc = registers.require_uscc(code)
        return Subject(kind, uscc, holder_index(HolderKind.ORGANISATION, uscc), uscc)
    except DomainError:
        return None


def valid_on(grant: Grant, today: dt.date) -> bool:
    """Whether the grant's validity covers ``today`` (the exchange and the once-only offers use this one rule)."""
    return (grant.valid_from is None or grant.valid_from <= today) and (
        grant.valid_until is None or today <= grant.valid_until
    )


@dataclass(frozen=True)
class CaseFacts:
    """What the checks need of a case: its items, whether it is being handled, and its parties' indexes."""

    items: frozenset[str]
    open: bool
    parties: frozenset[str]
    enterprise_uscc: str


_CASE = Case._meta.db_table
_TASK = Case.tasks.rel.related_model._meta.db_table
_VERSION = Case._meta.get_field("version").related_model._meta.db_table
_ENTERPRISE = Case._meta.get_field("enterprise").related_model._meta.db_table
# Plain SQL for the two statements every answer runs (this one and the register read): building them through the
# ORM cost more CPU than the rest of the checks together (bench/sharing.py profile). Names are the models'.
_CASE_FACTS = (
    f"SELECT c.basic_code, v.implementation_code, c.status, c.applicant_index, e.uscc "  # noqa: S608
    f"FROM {_CASE} c JOIN {_VERSION} v ON v.id = c.version_id LEFT JOIN {_ENTERPRISE} e ON e.id = c.enterprise_id "
    f"WHERE c.number = %s AND (c.department_id = %s "
    f"OR EXISTS (SELECT 1 FROM {_TASK} t WHERE t.case_id = c.id AND t.department_id = %s))"
)


def _case(number: str, consumer: Organisation) -> CaseFacts | None:
    """The case, when it involves the consumer: its accepting department, or a department with a task in it."""
    with connection.cursor() as cursor:
        cursor.execute(_CASE_FACTS, [number, consumer.pk, consumer.pk])
        row = cursor.fetchone()
    if row is None:
        return None
    basic, implementation, status, applicant_index, uscc = row
    parties = {applicant_index} if applicant_index else set()
    if uscc:
        parties.add(holder_index(HolderKind.ORGANISATION, uscc))
    return CaseFacts(
        items=frozenset(code for code in (basic, implementation) if code),
        open=status in OPEN_STATUSES,
        parties=frozenset(parties),
        enterprise_uscc=uscc or "",
    )


def _is_party(case: CaseFacts, subject: Subject) -> bool:
    """The subject is the applicant, the applicant enterprise, or that enterprise's legal representative (as the
    legal-entity register names them): a case entitles its department to read about those, no one else."""
    if subject.index in case.parties:
        return True
    if subject.kind == SubjectKind.PERSON and case.enterprise_uscc:
        return LegalEntity.objects.filter(uscc=case.enterprise_uscc, legal_representative_index=subject.index).exists()
    return False


def _take_rate(grant: Grant) -> bool:
    """Count one request in the grant's current minute; False when the grant's rate is used up.

    A fixed one-minute window in the cache (Redis in production, shared by every worker). On Redis it is one
    round trip: INCR and EXPIRE NX in a pipeline on the cache's own connection pool; elsewhere ``add`` starts the
    window and ``incr`` counts (both atomic), and the key expires with the window.
    """
    window = int(time.time() // 60)
    key = f"sharing:rate:{grant.pk}:{window}"
    client = caching.redis()
    if client is not None:
        full_key = cache.make_and_validate_key(key)
        pipe = client.pipeline(transaction=False)
        pipe.incr(full_key)
        pipe.expire(full_key, 90, nx=True)
        count = int(pipe.execute()[0])
    elif cache.add(key, 1, timeout=90):
        count = 1
    else:
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, timeout=90)
            count = 1
    return count <= grant.rate_per_minute


def _granting(
    caller: Caller, request: Request, resource: Resource, subject: Subject, fields: list[str], today: dt.date
) -> Grant:
    """The grant that covers this request; or the most specific refusal, logged."""

    def refuse(refusal: Refusal, grant: Grant | None = None) -> Refused:
        return log_refusal(caller, refusal, request=request, resource=resource, subject=subject, grant=grant)

    grants = caching.approved_grants(caller.consumer.pk, resource.pk)
    if not grants:
        raise refuse(Refusal.NO_GRANT)
    current = [g for g in grants if valid_on(g, today)]
    if not current:
        raise refuse(Refusal.GRANT_EXPIRED, grants[0])
    with_purpose = [g for g in current if request.purpose in g.purposes]
    if not with_purpose:
        raise refuse(Refusal.PURPOSE_NOT_GRANTED, current[0])
    with_fields = [g for g in with_purpose if set(fields) <= set(g.fields)]
    if not with_fields:
        raise refuse(Refusal.FIELD_NOT_GRANTED, with_purpose[0])
    case = _case(request.case_number, caller.consumer)
    if case is None:
        raise refuse(Refusal.CASE_OUT_OF_SCOPE, with_fields[0])
    if not case.open:
        raise refuse(Refusal.CASE_CLOSED, with_fields[0])
    if not _is_party(case, subject):
        raise refuse(Refusal.SUBJECT_NOT_IN_CASE, with_fields[0])
    for_item = [g for g in with_fields if not g.items or case.items & set(g.items)]
    if not for_item:
        raise refuse(Refusal.ITEM_NOT_GRANTED, with_fields[0])
    grant = for_item[0]
    if not _take_rate(grant):
        raise refuse(Refusal.RATE_LIMITED, grant)
    return grant


def _prepare(caller: Caller, request: Request) -> tuple[Resource, Subject, list[str], Grant]:
    if not request.purpose.strip() or not request.case_number.strip():
        raise log_refusal(caller, Refusal.NO_CASE, request=request)
    cached = caching.resource(request.resource_code)
    if cached is None:
        raise log_refusal(caller, Refusal.UNKNOWN_RESOURCE, request=request)
    resource, known = cached
    if resource.sharing_type == SharingType.NOT_SHARED:
        raise log_refusal(caller, Refusal.NOT_SHARED, request=request, resource=resource)
    if resource.backend == Backend.EXTERNAL:
        raise log_refusal(caller, Refusal.NOT_HELD, request=request, resource=resource)
    subject = _subject(resource.subject_kind, request.subject)
    if subject is None:
        raise log_refusal(caller, Refusal.INVALID_SUBJECT, request=request, resource=resource)
    fields = list(dict.fromkeys(request.fields)) if request.fields else None
    if fields is not None and any(f not in known for f in fields):
        raise log_refusal(caller, Refusal.FIELD_NOT_GRANTED, request=request, resource=resource, subject=subject)
    today = timezone.localdate()
    if fields is None:
        # Every granted field: the first grant that passes the other checks decides which those are.
        grant = _granting(caller, request, resource, subject, [], today)
        fields = [f for f in known if f in grant.fields]
    else:
        grant = _granting(caller, request, resource, subject, fields, today)
    return resource, subject, fields, grant


# --- reading the registers ------------------------------------------------------------------------


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.date) else value


_PERSON_COLUMNS = ("name", "sex", "birth_date", "division", "address")
# division_id is the GB/T 2260 code (the division's primary key); the encrypted ID number is not read at all.
_PERSON = (
    f"SELECT name, sex, birth_date, division_id, address FROM {Person._meta.db_table} "  # noqa: S608
    f"WHERE id_number_index = %s"
)


def _read(resource: Resource, subject: Subject, fields: list[str]) -> tuple[bool, dict[str, Any]]:
    # values(), not model instances: only what the answer holds is read, and nothing is decrypted (the register
    # rows' encrypted ID numbers are not part of any answer).
    if resource.backend == Backend.POPULATION:
        with connection.cursor() as cursor:
            cursor.execute(_PERSON, [subject.index])
            person = cursor.fetchone()
        if person is None:
            return False, {}
        values: dict[str, Any] = dict(zip(_PERSON_COLUMNS, person, strict=True))
    elif resource.backend == Backend.LEGAL_ENTITY:
        entity = (
            LegalEntity.objects.filter(uscc=subject.code)
            .values(
                "name",
                "entity_type",
                "legal_representative",
                "registered_address",
                "division_id",  # a division's primary key is its GB/T 2260 code
                "established",
                "business_scope",
                "status",
            )
            .first()
        )
        if entity is None:
            return False, {}
        values = {**entity, "division": entity["division_id"]}
    else:
        licences = _licences(resource, subject)
        values = {"licences": licences}
        if not licences:
            return False, {f: [] for f in fields if f == "licences"}
    return True, {f: _iso(values.get(f)) for f in fields}


def _licences(resource: Resource, subject: Subject) -> list[dict[str, Any]]:
    holder_kind = HolderKind.PERSON if subject.kind == SubjectKind.PERSON else HolderKind.ORGANISATION
    rows = (
        Licence.objects.filter(holder_index=subject.index, holder_kind=holder_kind)
        .select_related("licence_type", "issuer")
        .defer("data")
        .order_by("licence_type__code", "-issued_on", "-version")
    )
    if resource.licence_type_code:
        rows = rows.filter(licence_type__code=resource.licence_type_code)
    today = timezone.localdate()
    return [
        {
            "type_code": lic.licence_type.code,
            "type_name": lic.licence_type.name,
            "identifier": lic.identifier,
            "issuer": lic.issuer.name,
            "issued_on": lic.issued_on.isoformat(),
            "valid_until": lic.valid_until.isoformat() if lic.valid_until else None,
            "status": state_of(lic, today),
        }
        for lic in rows
    ]


def _answered(
    caller: Caller, request: Request, resource: Resource, subject: Subject, fields: list[str], grant: Grant
) -> AccessRecord:
    return accesslog.append(
        channel=caller.channel,
        outcome=Outcome.ANSWERED,
        consumer_id=caller.consumer.pk,
        consumer_label=caller.consumer.name[:200],
        client_id=caller.client_id[:100],
        official=caller.official[:150],
        subject_kind=subject.kind,
        subject_index=subject.index,
        subject_masked=subject.masked,
        resource_id=resource.pk,
        resource_code=resource.code,
        fields=fields,
        purpose=request.purpose[:200],
        case_number=request.case_number[:40],
        grant_id=grant.pk,
        request_id=request.request_id[:64],
    )


def grants_of(consumer: Organisation) -> list[dict[str, Any]]:
    """The consumer's approved grants valid today, as its system needs them to ask (resource, fields, purposes,
    items, validity, rate)."""
    today = timezone.localdate()
    rows = (
        Grant.objects.filter(consumer=consumer, status=GrantStatus.APPROVED, resource__is_active=True)
        .select_related("resource")
        .order_by("resource__code", "pk")
    )
    return [
        {
            "resource": g.resource.code,
            "fields": list(g.fields),
            "purposes": list(g.purposes),
            "items": list(g.items),
            "valid_from": g.valid_from.isoformat() if g.valid_from else None,
            "valid_until": g.valid_until.isoformat() if g.valid_until else None,
            "rate_per_minute": g.rate_per_minute,
        }
        for g in rows
        if valid_on(g, today)
    ]


# --- the exchange ---------------------------------------------------------------------------------


def query(caller: Caller, request: Request) -> Answer:
    """The granted fields of one subject in one resource, for one case and purpose; logged either way."""
    resource, subject, fields, grant = _prepare(caller, request)
    # No savepoint inside a caller's transaction (the API's, which holds the request's nonce): a failure here
    # must undo the whole request anyway.
    with transaction.atomic(savepoint=False):
        found, data = _read(resource, subject, fields)
        record = _answered(caller, request, resource, subject, fields, grant)
    return Answer(record, resource, found, data)


# Yes/no questions: which resource each reads, the subject kind it is asked about, and the fields it consults
# (the grant must cover them, although their values never leave the platform).
QUESTIONS: dict[str, tuple[str, list[str]]] = {
    # "Is this person the legal representative of this enterprise?" — asked of the enterprise's record.
    "legal_representative": ("legal_entity", ["legal_representative"]),
    # "Does this subject hold a valid licence of type T?"
    "holds_licence_person": ("licences_person", ["licences"]),
    "holds_licence_entity": ("licences_entity", ["licences"]),
    # "Is this ID number registered under this name?"
    "person_name": ("population", ["name"]),
}


def verify(caller: Caller, question: str, request: Request, *, about: str) -> Answer:
    """Answer a yes/no question about the subject without revealing data; ``about`` is the question's other
    term (the person's ID number, the licence type code, the name). The answer is ``data = {"answer": bool}``."""
    resource_code, consulted = QUESTIONS[question]
    request = dataclasses.replace(request, resource_code=resource_code, fields=consulted)
    caller = Caller(caller.consumer, caller.official, caller.client_id, AccessChannel.VERIFY)
    resource, subject, fields, grant = _prepare(caller, request)
    with transaction.atomic(savepoint=False):
        answer = _answer_question(question, resource, subject, about)
        record = _answered(caller, request, resource, subject, fields, grant)
        if question == "legal_representative":
            # The person's relation to the enterprise was consulted too: they see the check on their own page.
            person = _subject(SubjectKind.PERSON, about)
            if person is not None:
                _answered(caller, request, resource, person, fields, grant)
    return Answer(record, resource, True, {"answer": answer})


def _answer_question(question: str, resource: Resource, subject: Subject, about: str) -> bool:
    if question == "legal_representative":
        entity = registers.find_entity(subject.code)
        number = registers.normalise_id_number(about)
        return bool(entity and number and entity.legal_representative_index == crypto.id_number_index(number))
    if question == "person_name":
        person = registers.find_person(subject.code)
        return bool(person and registers.names_match(person.name, about))
    wanted = about.strip()
    return any(row["type_code"] == wanted and row["status"] == Verdict.VALID for row in _licences(resource, subject))
