"""Synthetic cases for benchmarks and load tests (``yiwang cases_generate --cases N --seed S``).

**Bench data, written directly.** A million cases through ``cases.services`` would take hours (one submission is
~26 queries and two outbox events to deliver), so this module writes the cases tables itself: COPY on
PostgreSQL, batched INSERTs elsewhere, one transaction and one audit record (the count, no names) per batch.
That is acceptable for generated data only; every case a person or a department makes goes through the services,
and the submissions that ``bench/cases.py`` *measures* do too. Staff and the applicants' accounts are made through
``identity.services`` (``create_staff``, ``register_person``), as ``identity.demo`` does.

The rows keep the invariants the services keep, so pages and queries see what real use would leave behind:

- an applicant is a person of the population register (``applicant_index`` is their blind index, the ID number is
  encrypted — one Fernet token per applicant, reused for all their cases: encrypting once per case would add
  ~20 µs × N and nothing the queries could notice); the form's answers (pre-filled from the register, encrypted like
  the services store them) likewise once per applicant and form; online cases belong to an account, the others
  came through a window (filed by its clerk) or a department's own system (``Channel.API``);
- numbers are ``region + date of receipt + case id`` (``services.case_number``), deadlines come from
  ``cases.deadlines`` and the working-day calendar, the revision counts the transitions;
- tasks follow ``services``: the acceptance task (window clerk, due at the end of the 5-working-day window), then
  one task per step of the item's handling (``handling_for``; 即办 items one decision on the spot), each due by
  ``deadlines.step_due``; open cases hold exactly one open task, finished cases none;
- transitions record every move: submit, request_correction, accept, refuse, advance (one per completed step),
  decide, deliver, withdraw.

A case is simulated forward from its receipt: the acceptance takes 0–2 working days, a step most often ends
within its days and sometimes late; whatever has not happened by today is still open. Open cases are recent, so
their tasks fall due around today (overdue red, due soon yellow, later green); finished cases spread over the
last three years. Statuses follow ``STATUS_MIX`` (a finished case received a few days ago may still be open).

Departments: the items of each department share its load by a Zipf-like weight so the busiest department holds
``busiest_share`` of the cases; the ``staffed`` busiest get a window clerk and a reviewer (reviewer + approver)
who complete and claim their tasks. Applicants: a pool from the population register; the first ``heavy`` of it
get accounts and 50–200 cases each (the long "my cases" lists), the rest a few each.

Not generated: materials, notices, special procedures, supervision records, outbox events and messages, enterprise
and bundle cases, correction rounds that were resubmitted, joint (parallel) steps.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import random
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from functools import cache
from typing import Any

from django.contrib.auth.models import User
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yiwang.audit import services as audit
from yiwang.audit.actors import Actor, actor_label
from yiwang.cases import deadlines, services
from yiwang.cases.constants import (
    CaseStatus,
    Channel,
    DeliveryMethod,
    Outcome,
    StepCode,
    TaskStatus,
)
from yiwang.cases.models import Case, CaseTask, CaseTransition
from yiwang.catalogue import forms as item_forms
from yiwang.catalogue.handling import HandlingDefinition, handling_for
from yiwang.catalogue.models import ItemVersion, Organisation
from yiwang.common import crypto
from yiwang.common.calendar import CalendarNotCovered, WorkingDays
from yiwang.common.errors import InvalidInput
from yiwang.common.masking import mask_id_number
from yiwang.identity import services as identity
from yiwang.identity.constants import Role
from yiwang.identity.models import Account
from yiwang.registers.models import Person

S = CaseStatus

# The status each case is generated towards (per cent). 70 % delivered, 15 % in progress (accepted, with an open
# step), 5 % awaiting pre-review, 3 % awaiting corrections, 2 % decided and awaiting pickup or mail, 3 % not
# accepted, 2 % withdrawn.
STATUS_MIX: tuple[tuple[str, int], ...] = (
    (S.DELIVERED, 70),
    (S.ACCEPTED, 15),
    (S.SUBMITTED, 5),
    (S.CORRECTION, 3),
    (S.DECIDED, 2),
    (S.REFUSED, 3),
    (S.WITHDRAWN, 2),
)
HISTORY_DAYS = 3 * 365  # finished cases were received over the last three years
CALENDAR_AHEAD_DAYS = 400  # open cases' deadlines lie within this many days from today
HEAVY_CASES = (50, 200)  # cases of each heavy applicant (uniform)
CLAIMED_SHARE = 0.3  # open tasks of staffed departments already claimed by their handler
LATE_SHARE = 0.12  # steps that end after their days
REFUSAL_REASONS = (
    "申请事项依法不需要取得行政许可。",
    "申请事项不属于本机关职权范围，请向有关行政机关申请。",
    "申请人不具备申请资格。",
)
CORRECTION_REASON = "材料内容不完整，请补充后重新提交。"
DENIAL_REASON = "经审查，申请不符合法定条件。"
STAFF_NAMES = ("郑丽", "王芳", "李娜", "张伟", "刘洋", "陈静", "杨磊", "赵敏", "黄涛", "周杰", "吴霞", "孙斌")


@dataclass(frozen=True)
class GenerationReport:
    cases: int
    tasks: int
    open_tasks: int
    transitions: int
    statuses: dict[str, int]
    busiest_department: str
    busiest_open_tasks: int
    heaviest_applicant_cases: int
    staff: list[str]
    seconds: float


# --- the catalogue side ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Item:
    version_id: int
    department_id: int
    region_code: str
    name: str
    basic_code: str
    definition: HandlingDefinition
    steps: tuple[dict[str, Any], ...]
    promised: Mapping[str, Any] | None
    statutory: Mapping[str, Any] | None
    materials: tuple[str, ...]

    @property
    def form_key(self) -> tuple[str, ...]:
        return tuple(self.definition.properties)

    @property
    def total_days(self) -> int:
        return sum(int(step.get("days") or 0) for step in self.steps)


def _for_persons(version: ItemVersion) -> bool:
    return "1" in (version.content.get("service_objects") or ["1"])


def load_items() -> list[_Item]:
    """The published items natural persons apply for (service object 1 自然人), in id order."""
    items = []
    for version in ItemVersion.objects.current().order_by("pk"):
        if not _for_persons(version):
            continue
        definition = handling_for(version)
        limits = version.content.get("time_limits") or {}
        items.append(
            _Item(
                version_id=version.pk,
                department_id=version.department_id,
                region_code=version.region_code,
                name=version.name,
                basic_code=version.basic_code,
                definition=definition,
                # As services._steps: an item without steps (即办) is one decision on the spot at the window.
                steps=tuple(definition.steps or [services.ON_THE_SPOT]),
                promised=limits.get("promised"),
                statutory=limits.get("statutory"),
                materials=tuple(str(m.get("name", "")) for m in version.content.get("materials") or []),
            )
        )
    return items


def zipf_exponent(departments: int, busiest_share: float) -> float:
    """The exponent s for weights 1/k^s over ``departments`` that gives the first ``busiest_share`` of the total."""
    if departments <= 1 or busiest_share <= 1 / departments:
        return 0.0

    def share(s: float) -> float:
        return 1.0 / math.fsum(math.pow(k, -s) for k in range(1, departments + 1))

    low, high = 0.0, 8.0
    for _step in range(60):
        middle = (low + high) / 2
        low, high = (middle, high) if share(middle) < busiest_share else (low, middle)
    return (low + high) / 2


class _Catalogue:
    """Items grouped by department; departments drawn with Zipf weights, an item of the department uniformly."""

    def __init__(self, items: Sequence[_Item], busiest_share: float) -> None:
        by_department: dict[int, list[_Item]] = {}
        for item in items:
            by_department.setdefault(item.department_id, []).append(item)
        self.departments = sorted(by_department)
        self.items = [by_department[d] for d in self.departments]
        s = zipf_exponent(len(self.departments), busiest_share)
        weights = [k**-s for k in range(1, len(self.departments) + 1)]
        total = sum(weights)
        self.cumulative: list[float] = []
        running = 0.0
        for weight in weights:
            running += weight / total
            self.cumulative.append(running)

    def busiest(self, count: int) -> list[int]:
        return self.departments[:count]

    def pick(self, rng: random.Random) -> _Item:
        index = min(_bisect(self.cumulative, rng.random()), len(self.items) - 1)
        return rng.choice(self.items[index])


def _bisect(values: Sequence[float], x: float) -> int:
    low, high = 0, len(values)
    while low < high:
        middle = (low + high) // 2
        if values[middle] < x:
            low = middle + 1
        else:
            high = middle
    return low


# --- applicants and staff --------------------------------------------------------------------------------------


@dataclass
class _Applicant:
    person: Person
    name: str
    index: str
    token: str  # the encrypted ID number, made once and reused for all the applicant's cases
    masked: str  # the ID number as lists show it
    phone: str
    user_id: int | None = None


def _load_applicants(rng: random.Random, size: int) -> list[_Applicant]:
    ids = list(Person.objects.order_by("pk").values_list("pk", flat=True))
    if not ids:
        raise InvalidInput(_("The population register is empty; run registers_generate first."))
    chosen = sorted(rng.sample(ids, min(size, len(ids))))
    people: dict[int, Person] = {}
    for start in range(0, len(chosen), 5000):
        people.update(Person.objects.in_bulk(chosen[start : start + 5000]))
    rng.shuffle(chosen)  # heavy applicants are the first of the pool: not always the oldest register entries
    applicants = []
    for pk in chosen:
        person = people[pk]
        phone = f"1{rng.choice('3578')}{rng.randrange(10**9):09d}"
        applicants.append(
            _Applicant(
                person,
                person.name,
                person.id_number_index,
                crypto.encrypt(person.id_number),
                mask_id_number(person.id_number),
                phone,
            )
        )
    accounts: dict[str | None, int] = {}
    indexes = [a.index for a in applicants]
    for start in range(0, len(indexes), 5000):
        accounts.update(
            Account.objects.filter(id_number_index__in=indexes[start : start + 5000]).values_list(
                "id_number_index", "user_id"
            )
        )
    for applicant in applicants:
        applicant.user_id = accounts.get(applicant.index)
    return applicants


def _ensure_accounts(actor: Actor, applicants: Sequence[_Applicant], password: str) -> None:
    """Accounts for the heavy applicants, registered as a citizen registers (verified against the register)."""
    for applicant in applicants:
        if applicant.user_id is None:
            user = identity.register_person(
                actor=actor,
                id_number=applicant.person.id_number,
                name=applicant.name,
                phone=applicant.phone,
                password=password,
            )
            applicant.user_id = user.pk


@dataclass(frozen=True)
class _Staff:
    clerk_id: int
    reviewer_id: int
    clerk_label: str
    reviewer_label: str


def _ensure_staff(
    actor: Actor, department_ids: Sequence[int], password: str, regions: Mapping[int, str]
) -> dict[int, _Staff]:
    """A window clerk and a reviewer (reviewer + approver) for each department, as administrators create staff; their
    region is the department's division (or, for a body recorded without one, the region of its items)."""
    staff: dict[int, _Staff] = {}
    departments = Organisation.objects.in_bulk(list(department_ids))
    for number, department_id in enumerate(department_ids):
        department = departments[department_id]
        division = department.division_id or regions.get(department_id, "")[:6]
        users: list[User] = []
        for kind, roles in (("clerk", [Role.WINDOW_CLERK]), ("reviewer", [Role.REVIEWER, Role.APPROVER])):
            username = f"gen-{kind}-{department_id}"
            user = User.objects.filter(username=username).first()
            if user is None:
                user = identity.create_staff(
                    actor=actor,
                    username=username,
                    name=STAFF_NAMES[(2 * number + len(users)) % len(STAFF_NAMES)],
                    department=department,
                    division_code=division,
                    roles=[str(r) for r in roles],
                    password=password,
                )
            users.append(user)
        staff[department_id] = _Staff(users[0].pk, users[1].pk, users[0].get_username(), users[1].get_username())
    return staff


# --- dates -------------------------------------------------------------------------------------------------------


class _Dates:
    """The working-day calendar read once for the whole span, and the deadlines of ``cases.deadlines`` from it.

    ``common.calendar.add_working_days`` reads the calendar tables on every call (two queries); a million cases
    ask for a few ten thousand distinct (day, length) pairs, so the days are read once (``WorkingDays``, the same
    rule: overrides, chinesecalendar, entered years) and counted here. Deadlines without pauses, as generated cases
    have none: ``deadlines.due_date`` for limits in natural days, months and years (no calendar involved), the
    N-th working day for limits in working days, ``min(own, case's)`` for a step (``deadlines.step_due``). A day
    the calendar does not cover gives ``None``: the services would refuse to act on it (CalendarNotCovered).
    """

    def __init__(self, first: dt.date, last: dt.date) -> None:
        calendar = WorkingDays(first, last)
        self.first = first
        self.working: list[bool | None] = []
        for offset in range((last - first).days + 1):
            try:
                self.working.append(calendar.is_working(first + dt.timedelta(days=offset)))
            except CalendarNotCovered:
                self.working.append(None)
        self.add = cache(self._add)
        self.due = cache(self._due)

    def _add(self, start: dt.date, days: int) -> dt.date | None:
        """The ``days``-th working day after ``start`` (``start`` itself does not count; 0 gives ``start``)."""
        if days == 0:
            return start
        offset = (start - self.first).days
        while days:
            offset += 1
            if offset >= len(self.working) or self.working[offset] is None:
                return None
            days -= bool(self.working[offset])
        return self.first + dt.timedelta(days=offset)

    def acceptance_due(self, received: dt.date) -> dt.date | None:
        return self.add(received, deadlines.ACCEPTANCE_WINDOW_DAYS)

    def _due(self, start: dt.date, limit: str) -> dt.date | None:
        parsed = json.loads(limit) if limit else None
        if parsed and parsed.get("unit") == "working_day":
            return self.add(start, parsed["value"]) if isinstance(parsed.get("value"), int) else None
        return deadlines.due_date(start, parsed)

    def step_due(self, start: dt.date, days: int, case_due: dt.date | None) -> dt.date | None:
        own = self.add(start, days)
        if own is None:
            return None
        return min(own, case_due) if case_due is not None else own


# --- writing rows --------------------------------------------------------------------------------------------


class _Table:
    """Rows of one model written in bulk: COPY on PostgreSQL, ``executemany`` INSERT elsewhere.

    Values are given as the database stores them: the encrypted column gets its token (no second encryption),
    JSON columns Python values (dumped here), dates and datetimes as Python objects (adapted for SQLite).
    """

    def __init__(self, model: type[models.Model], names: Sequence[str]) -> None:
        self.model = model
        fields = [model._meta.get_field(name) for name in names]
        self.table = model._meta.db_table
        self.columns = [str(f.column) for f in fields]  # type: ignore[union-attr]  # concrete fields only
        self.postgres = connection.vendor == "postgresql"
        ops = connection.ops
        converters: list[Callable[[Any], Any] | None] = []
        for f in fields:
            if isinstance(f, models.CharField) and f.choices:
                converters.append(_plain)
            elif isinstance(f, models.JSONField):
                converters.append(lambda v: None if v is None else json.dumps(v, ensure_ascii=False))
            elif isinstance(f, models.DateTimeField) and not self.postgres:
                converters.append(ops.adapt_datetimefield_value)
            elif isinstance(f, models.DateField) and not isinstance(f, models.DateTimeField) and not self.postgres:
                converters.append(ops.adapt_datefield_value)
            else:
                converters.append(None)
        self.converted = [(i, c) for i, c in enumerate(converters) if c is not None]

    def allocate_ids(self, count: int) -> list[int]:
        """Primary keys for ``count`` new rows, taken from the table's own sequence (safe beside other writers)."""
        with connection.cursor() as cursor:
            if self.postgres:
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                    [self.table, count],
                )
                return [row[0] for row in cursor.fetchall()]
            # SQLite: writers are serialised by the database lock this transaction holds once it writes.
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {connection.ops.quote_name(self.table)}")  # noqa: S608
            first = int(cursor.fetchone()[0]) + 1
            return list(range(first, first + count))

    def write(self, rows: list[list[Any]]) -> None:
        if not rows:
            return
        for row in rows:
            for i, convert in self.converted:
                row[i] = convert(row[i])
        quote = connection.ops.quote_name
        columns = ", ".join(quote(c) for c in self.columns)
        with connection.cursor() as cursor:
            if self.postgres:
                with cursor.copy(f"COPY {quote(self.table)} ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join(["%s"] * len(self.columns))
                cursor.executemany(f"INSERT INTO {quote(self.table)} ({columns}) VALUES ({marks})", rows)  # noqa: S608


def _plain(value: Any) -> Any:
    """A choice as its stored text (psycopg would otherwise see an Enum, not the str it also is)."""
    return value.value if isinstance(value, Enum) else value


CASE_COLUMNS = (
    "id", "number", "status", "revision", "version", "item_name", "basic_code", "department", "region_code",
    "applicant", "applicant_name", "applicant_id_number", "applicant_id_masked", "applicant_index", "enterprise",
    "submitted_by", "agency",
    "channel", "idempotency_key", "bundle_application", "data", "round", "auto_findings", "delivery_method",
    "delivery_address", "tracking_number", "outcome", "created_at", "updated_at", "submitted_at", "received_on",
    "accepted_on", "deemed_accepted", "decided_at", "delivered_at", "acceptance_due", "promised_due",
    "statutory_due", "paused_since", "extension_days",
)  # fmt: skip
TASK_COLUMNS = (
    "id", "case", "step_index", "step_code", "step_name", "step_name_en", "role", "department", "status", "assignee",
    "claimed_at", "started_on", "days", "due", "completed_at", "completed_by", "opinion", "returned", "parallel",
    "revision",
)  # fmt: skip
TRANSITION_COLUMNS = (
    "case", "action", "from_status", "to_status", "step", "at", "actor", "actor_label", "on_behalf_of", "department",
    "reason", "details",
)  # fmt: skip


# --- one case ----------------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Plan:
    """What is drawn before a case is simulated (and sorted by receipt, so ids follow time as in real use)."""

    received: dt.date
    target: str
    item: _Item
    applicant: _Applicant


@dataclass
class _Made:
    case: list[Any]
    tasks: list[list[Any]] = field(default_factory=list)
    transitions: list[list[Any]] = field(default_factory=list)
    open_tasks: int = 0


class _Simulator:
    def __init__(
        self,
        *,
        rng: random.Random,
        now: dt.datetime,
        dates: _Dates,
        staff: Mapping[int, _Staff],
        system_label: str,
    ) -> None:
        self.rng = rng
        # Times of day come from their own stream: today's are bounded by the clock, and the hour a run starts at
        # must not change which cases the seed draws.
        self.clock_rng = random.Random(rng.random())  # noqa: S311 - synthetic data
        self.now = now
        self.today = timezone.localdate(now)
        self.tz = timezone.get_current_timezone()
        self.dates = dates
        self.staff = staff
        self.system_label = system_label
        self.data_field = Case._meta.get_field("data")
        self.forms: dict[tuple[str, tuple[str, ...]], Any] = {}

    # Times of day: offices work 9:00–17:30; online submissions arrive 7:00–23:00.
    def _at(self, day: dt.date, after: dt.datetime, *, office: bool = True) -> dt.datetime:
        first, last = (9 * 60, 17 * 60 + 30) if office else (7 * 60, 23 * 60)
        if day >= self.today:  # today: before now
            local = timezone.localtime(self.now)
            last = min(last, local.hour * 60 + local.minute)
            first = min(first, max(last - 60, 0))
        minute = self.clock_rng.randrange(first, max(last, first + 1))
        moment = dt.datetime.combine(day, dt.time(minute // 60, minute % 60), tzinfo=self.tz)
        moment = max(moment, after + dt.timedelta(minutes=self.clock_rng.randrange(1, 30)))
        return min(moment, self.now)

    def _form_data(self, item: _Item, applicant: _Applicant) -> Any:
        """The form's answers as the column stores them (encrypted: they hold the ID number, phone and address),
        pre-filled from the register as the portal pre-fills them. One token per applicant and form: their cases
        for items with the same form share it (the blind index links those cases anyway)."""
        key = (applicant.index, item.form_key)
        token = self.forms.get(key)
        if token is None:
            data = item_forms.prefill(item.definition, person=applicant.person)
            for name, prop in item.definition.properties.items():
                if prop.get("x-prefill") == "account.phone":
                    data[name] = applicant.phone
            token = self.forms[key] = self.data_field.get_prep_value(data)
        return token

    def _limit_key(self, limit: Mapping[str, Any] | None) -> str:
        return json.dumps(limit, sort_keys=True) if limit else ""

    def make(self, pk: int, plan: _Plan, task_ids: Iterator[int]) -> _Made:
        rng, item, applicant, today = self.rng, plan.item, plan.applicant, self.today
        dates = self.dates
        staff = self.staff.get(item.department_id)
        clerk_id, clerk_label = (staff.clerk_id, staff.clerk_label) if staff else (None, self.system_label)
        reviewer_id, reviewer_label = (staff.reviewer_id, staff.reviewer_label) if staff else (None, self.system_label)
        online = applicant.user_id is not None
        channel = Channel.ONLINE if online else (Channel.API if rng.random() < 0.6 else Channel.WINDOW)
        submitter = applicant.user_id if online else (clerk_id if channel == Channel.WINDOW else None)
        if channel == Channel.WINDOW and clerk_id is None:
            channel = Channel.API  # no clerk of this department to have typed it in
        submitter_label = (
            f"p-{applicant.index[:24]}" if online else (clerk_label if channel == Channel.WINDOW else self.system_label)
        )
        received = plan.received
        start = dt.datetime.combine(received, dt.time(0, 0), tzinfo=self.tz)
        submitted_at = self._at(received, start, office=not online)
        created_at = submitted_at - dt.timedelta(minutes=rng.randrange(2, 60))
        status: str = S.SUBMITTED
        transitions: list[list[Any]] = []
        tasks: list[list[Any]] = []
        open_tasks = 0
        clock = submitted_at

        def move(action: str, to: str, at: dt.datetime, *, actor: int | None, label: str, **extra: Any) -> None:
            nonlocal status
            transitions.append(
                [
                    pk,
                    action,
                    status,
                    to,
                    extra.get("step", ""),
                    at,
                    actor,
                    label,
                    "",
                    extra.get("department"),
                    extra.get("reason", ""),
                    extra.get("details", {}),
                ]
            )
            status = to

        def task(index: int, step: Mapping[str, Any], started: dt.date, due: dt.date | None, role: str) -> list[Any]:
            row = [
                next(task_ids),
                pk,
                index,
                step["code"],
                step.get("name") or "",
                step.get("name_en", ""),
                role,
                item.department_id,
                TaskStatus.OPEN,
                None,
                None,
                started,
                int(step.get("days") or 0),
                due,
                None,
                None,
                "",
                False,
                False,
                0,
            ]
            tasks.append(row)
            return row

        def complete(row: list[Any], at: dt.datetime, by: int | None, opinion: str) -> None:
            row[8], row[14], row[15], row[16] = TaskStatus.DONE, at, by, opinion

        def leave_open(row: list[Any], handler: int | None) -> None:
            nonlocal open_tasks
            open_tasks += 1
            if handler is not None and rng.random() < CLAIMED_SHARE:
                row[9] = handler
                row[10] = min(dt.datetime.combine(row[11], dt.time(10, 0), tzinfo=self.tz), self.now)

        move("submit", S.SUBMITTED, submitted_at, actor=submitter, label=submitter_label)
        acceptance_due = dates.acceptance_due(received)
        accept_step = {
            "code": StepCode.ACCEPT,
            "name": "预审受理",
            "name_en": "Pre-review and acceptance",
            "days": deadlines.ACCEPTANCE_WINDOW_DAYS,
        }
        accept_task = task(0, accept_step, received, acceptance_due, Role.WINDOW_CLERK)
        fields: dict[str, Any] = {
            "accepted_on": None,
            "decided_at": None,
            "delivered_at": None,
            "promised_due": None,
            "statutory_due": None,
            "outcome": "",
            "delivery_method": DeliveryMethod.ELECTRONIC,
            "delivery_address": "",
            "tracking_number": "",
            "channel": channel,
            "submitted_by": submitter,
        }
        # Not every applicant waits for a result by post or at the window.
        delivery = rng.choices(
            (DeliveryMethod.ELECTRONIC, DeliveryMethod.PICKUP, DeliveryMethod.MAIL), weights=(70, 20, 10)
        )[0]
        if plan.target == S.DECIDED:
            delivery = rng.choice((DeliveryMethod.PICKUP, DeliveryMethod.MAIL))
        fields["delivery_method"] = delivery
        if delivery == DeliveryMethod.MAIL:
            fields["delivery_address"] = applicant.person.address
        withdraw_on = dates.add(received, rng.randint(1, 10)) if plan.target == S.WITHDRAWN else None

        def withdrawn_by(day: dt.date | None) -> bool:
            return withdraw_on is not None and day is not None and withdraw_on <= min(day, today)

        def withdraw(open_row: list[Any]) -> None:
            assert withdraw_on is not None
            open_row[8] = TaskStatus.CANCELLED
            at = self._at(withdraw_on, clock, office=False)
            move("withdraw", S.WITHDRAWN, at, actor=applicant.user_id, label=submitter_label)

        answered = dates.add(received, rng.randint(1, 4))
        if plan.target in (S.CORRECTION, S.REFUSED) and answered is not None and answered <= today:
            at = clock = self._at(answered, clock)
            if plan.target == S.CORRECTION:
                slot = rng.randrange(len(item.materials)) if item.materials else None
                problem = {
                    "subject": item.materials[slot] if slot is not None else "申请表",
                    "reason": CORRECTION_REASON,
                    "slot": slot,
                    "field": "",
                }
                move(
                    "request_correction",
                    S.CORRECTION,
                    at,
                    actor=clerk_id,
                    label=clerk_label,
                    step=StepCode.ACCEPT,
                    department=item.department_id,
                    details={"problems": [problem]},
                )
                complete(accept_task, at, clerk_id, "")  # as services.request_correction: the notice says it
            else:
                reason = rng.choice(REFUSAL_REASONS)
                move(
                    "refuse",
                    S.REFUSED,
                    at,
                    actor=clerk_id,
                    label=clerk_label,
                    step=StepCode.ACCEPT,
                    department=item.department_id,
                    reason=reason,
                )
                complete(accept_task, at, clerk_id, reason)
            return self._finish(pk, plan, status, created_at, submitted_at, transitions, tasks, open_tasks, fields)

        accepted_on = dates.add(received, rng.choice((0, 1, 1, 2)))
        if plan.target in (S.SUBMITTED, S.CORRECTION, S.REFUSED) or accepted_on is None or accepted_on > today:
            if withdrawn_by(today):
                withdraw(accept_task)
            else:
                leave_open(accept_task, clerk_id)
            return self._finish(pk, plan, status, created_at, submitted_at, transitions, tasks, open_tasks, fields)
        if withdrawn_by(accepted_on):
            withdraw(accept_task)
            return self._finish(pk, plan, status, created_at, submitted_at, transitions, tasks, open_tasks, fields)

        at = clock = self._at(accepted_on, clock)
        promised = dates.due(accepted_on, self._limit_key(item.promised))
        statutory = dates.due(accepted_on, self._limit_key(item.statutory))
        fields.update(accepted_on=accepted_on, promised_due=promised, statutory_due=statutory)
        move(
            "accept",
            S.ACCEPTED,
            at,
            actor=clerk_id,
            label=clerk_label,
            step=StepCode.ACCEPT,
            department=item.department_id,
        )
        complete(accept_task, at, clerk_id, "")  # as services.accept without a note
        case_due = promised or statutory
        started = accepted_on
        last = len(item.steps)
        for index, step in enumerate(item.steps, start=1):
            days = int(step.get("days") or 0)
            role = str(step["role"])
            handler = clerk_id if role == Role.WINDOW_CLERK else reviewer_id
            handler_label = clerk_label if role == Role.WINDOW_CLERK else reviewer_label
            row = task(index, step, started, dates.step_due(started, days, case_due), role)
            took = rng.randint(0, days) if rng.random() > LATE_SHARE else days + rng.randint(1, 5)
            ended = dates.add(started, took)
            # An accepted case stays at its last step rather than finishing (its decision may be overdue).
            stays_open = ended is None or ended > today or (plan.target == S.ACCEPTED and index == last)
            if withdrawn_by(ended if ended is not None else today):
                withdraw(row)
                return self._finish(pk, plan, status, created_at, submitted_at, transitions, tasks, open_tasks, fields)
            if stays_open:
                leave_open(row, handler)
                return self._finish(pk, plan, status, created_at, submitted_at, transitions, tasks, open_tasks, fields)
            assert ended is not None
            at = clock = self._at(ended, clock)
            if step["code"] != StepCode.DECIDE:
                complete(row, at, handler, "同意。")
                move(
                    "advance",
                    S.ACCEPTED,
                    at,
                    actor=handler,
                    label=handler_label,
                    step=step["code"],
                    department=item.department_id,
                    reason="同意。",
                    details={"task": row[0], "step_complete": True},
                )
                started = ended
                continue
            outcome = Outcome.APPROVED if rng.random() < 0.95 else Outcome.DENIED
            reasons = DENIAL_REASON if outcome == Outcome.DENIED else ""
            complete(row, at, handler, reasons)  # as services.decide: the transition records the outcome
            fields.update(decided_at=at, outcome=outcome)
            move(
                "decide",
                S.DECIDED,
                at,
                actor=handler,
                label=handler_label,
                step=StepCode.DECIDE,
                department=item.department_id,
                reason=reasons,
                details={"outcome": outcome},
            )
            if outcome == Outcome.DENIED:
                fields["delivery_method"] = DeliveryMethod.ELECTRONIC  # a denial is delivered online at once
            method = fields["delivery_method"]
            if method == DeliveryMethod.ELECTRONIC:
                delivered = at  # services.decide delivers an electronic result the moment it is issued
                by, label = handler, handler_label
            else:
                delivered_on = dates.add(ended, rng.randint(1, 5))
                if plan.target == S.DECIDED or delivered_on is None or delivered_on > today:
                    break
                delivered = self._at(delivered_on, at)
                by, label = clerk_id, clerk_label
                if method == DeliveryMethod.MAIL:
                    fields["tracking_number"] = f"SF{rng.randrange(10**12):012d}"
            fields["delivered_at"] = delivered
            move(
                "deliver",
                S.DELIVERED,
                delivered,
                actor=by,
                label=label,
                details={"method": method, "tracking_number": fields["tracking_number"]},
            )
            break  # the decision is the last step (catalogue.handling refuses any other order)
        return self._finish(pk, plan, status, created_at, submitted_at, transitions, tasks, open_tasks, fields)

    def _finish(
        self,
        pk: int,
        plan: _Plan,
        status: str,
        created_at: dt.datetime,
        submitted_at: dt.datetime,
        transitions: list[list[Any]],
        tasks: list[list[Any]],
        open_tasks: int,
        fields: dict[str, Any],
    ) -> _Made:
        item, applicant = plan.item, plan.applicant
        received = plan.received
        case = [
            pk,
            services.case_number(item.region_code, received, pk),
            status,
            len(transitions),
            item.version_id,
            item.name,
            item.basic_code,
            item.department_id,
            item.region_code,
            applicant.user_id,
            applicant.name,
            applicant.token,
            applicant.masked,
            applicant.index,
            None,
            fields["submitted_by"],
            None,
            fields["channel"],
            None,
            None,
            self._form_data(item, applicant),
            1,
            [],
            fields["delivery_method"],
            fields["delivery_address"],
            fields["tracking_number"],
            fields["outcome"],
            created_at,
            transitions[-1][5],
            submitted_at,
            received,
            fields["accepted_on"],
            False,
            fields["decided_at"],
            fields["delivered_at"],
            self.dates.acceptance_due(received),
            fields["promised_due"],
            fields["statutory_due"],
            None,
            0,
        ]
        return _Made(case, tasks, transitions, open_tasks)


# --- the whole run -------------------------------------------------------------------------------------------


def _received_on(rng: random.Random, target: str, item: _Item, today: dt.date) -> dt.date:
    """The day of receipt, by the status aimed at: recent for what is still open, the last three years otherwise."""
    if target == S.SUBMITTED:
        back = rng.randrange(0, 8)
    elif target == S.CORRECTION:
        back = rng.randrange(2, 30)
    elif target == S.ACCEPTED:
        # About as far back as the item's steps take (working days are ~1.4 calendar days), so the open step is
        # spread over its span and some are overdue.
        back = rng.randrange(0, int(1.4 * (item.total_days + 2)) + 3)
    elif target == S.DECIDED:
        back = rng.randrange(1, 20)
    else:
        back = rng.randrange(1, HISTORY_DAYS)
    return today - dt.timedelta(days=back)


def _plans(
    rng: random.Random,
    *,
    count: int,
    catalogue: _Catalogue,
    applicants: Sequence[_Applicant],
    heavy: int,
    today: dt.date,
) -> list[_Plan]:
    statuses = [s for s, _w in STATUS_MIX]
    weights = [w for _s, w in STATUS_MIX]
    heavy_slots: list[_Applicant] = []
    for applicant in applicants[:heavy]:
        heavy_slots += [applicant] * rng.randint(*HEAVY_CASES)
    heavy_slots = heavy_slots[:count]
    rng.shuffle(heavy_slots)
    positions = dict(zip(rng.sample(range(count), len(heavy_slots)), heavy_slots, strict=True))
    others = applicants[heavy:] or applicants
    plans = []
    for position in range(count):
        target = rng.choices(statuses, weights)[0]
        item = catalogue.pick(rng)
        applicant = positions.get(position) or rng.choice(others)
        plans.append(_Plan(_received_on(rng, target, item, today), target, item, applicant))
    plans.sort(key=lambda p: p.received)
    return plans


def generate_cases(
    *,
    actor: Actor,
    cases: int,
    seed: int,
    batch_size: int = 5000,
    applicants: int = 50_000,
    heavy: int = 20,
    staffed: int = 5,
    busiest_share: float = 0.10,
    password: str,
    progress: bool = False,
) -> GenerationReport:
    """Write ``cases`` synthetic cases (with their tasks and transitions) made from ``seed``; see the module text.

    Needs published items for persons and people in the population register. Staff of the ``staffed`` busiest
    departments and accounts of the ``heavy`` applicants are created when missing (with ``password``).
    """
    if cases < 0 or batch_size < 1 or applicants < 1 or heavy < 0 or staffed < 0 or not 0 < busiest_share <= 1:
        raise InvalidInput(_("The counts must not be negative, the batch and pool sizes must be positive."))
    started = time.monotonic()
    rng = random.Random(seed)  # noqa: S311 - reproducible synthetic data, not secrets
    items = load_items()
    if not items:
        raise InvalidInput(_("No published item serves natural persons; seed the catalogue first."))
    catalogue = _Catalogue(items, busiest_share)
    pool = _load_applicants(rng, max(applicants, heavy))
    _ensure_accounts(actor, pool[:heavy], password)
    regions = {item.department_id: item.region_code for item in items}
    staff = _ensure_staff(actor, catalogue.busiest(staffed), password, regions)
    now = timezone.now()
    today = timezone.localdate(now)
    plans = _plans(rng, count=cases, catalogue=catalogue, applicants=pool, heavy=heavy, today=today)
    dates = _Dates(today - dt.timedelta(days=HISTORY_DAYS + 10), today + dt.timedelta(days=CALENDAR_AHEAD_DAYS))
    simulator = _Simulator(rng=rng, now=now, dates=dates, staff=staff, system_label=actor_label(actor))
    case_table = _Table(Case, CASE_COLUMNS)
    task_table = _Table(CaseTask, TASK_COLUMNS)
    transition_table = _Table(CaseTransition, TRANSITION_COLUMNS)
    statuses: Counter[str] = Counter()
    by_department: Counter[int] = Counter()
    totals = Counter[str]()
    from tqdm import tqdm

    with tqdm(total=cases, unit=str(_("cases")), desc=str(_("Cases")), file=sys.stderr, disable=not progress) as bar:
        for first in range(0, cases, batch_size):
            batch = plans[first : first + batch_size]
            with transaction.atomic():
                case_ids = case_table.allocate_ids(len(batch))
                made = []
                # Up to one task per step plus the acceptance task: ids for the most a batch can need.
                most = sum(len(p.item.steps) + 1 for p in batch)
                task_ids = iter(task_table.allocate_ids(most))
                for pk, plan in zip(case_ids, batch, strict=True):
                    made.append(simulator.make(pk, plan, task_ids))
                case_table.write([m.case for m in made])
                task_table.write([t for m in made for t in m.tasks])
                transition_table.write([t for m in made for t in m.transitions])
                for m, plan in zip(made, batch, strict=True):
                    statuses[m.case[2]] += 1
                    by_department[plan.item.department_id] += m.open_tasks
                    totals["tasks"] += len(m.tasks)
                    totals["open"] += m.open_tasks
                    totals["transitions"] += len(m.transitions)
                audit.record(
                    actor=actor,
                    action="cases.generated",
                    object_type="cases.case",
                    object_id="*",
                    after={"cases": len(batch), "seed": seed, "first_id": case_ids[0] if case_ids else None},
                )
            bar.update(len(batch))
    busiest_id, busiest_open = by_department.most_common(1)[0] if by_department else (0, 0)
    busiest_name = Organisation.objects.filter(pk=busiest_id).values_list("name", flat=True).first() or ""
    heavy_counts = Counter(p.applicant.index for p in plans)
    return GenerationReport(
        cases=cases,
        tasks=totals["tasks"],
        open_tasks=totals["open"],
        transitions=totals["transitions"],
        statuses=dict(statuses),
        busiest_department=busiest_name,
        busiest_open_tasks=busiest_open,
        heaviest_applicant_cases=max(heavy_counts.values(), default=0),
        staff=sorted(label for s in staff.values() for label in (s.clerk_label, s.reviewer_label)),
        seconds=time.monotonic() - started,
    )
