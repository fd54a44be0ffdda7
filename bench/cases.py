#!/usr/bin/env python3
"""Cases at scale (issue 4): submission throughput and the latency of the staff queue and "my cases".

Measured in process on the configured database (PostgreSQL, seeded by ``bench/run_cases``; see
docs/performance.md). Each worker is its own process with its own database connection, started together:

- ``submit``: K workers call ``cases.services.apply`` (a verified citizen applies for a published item with its
  form data and one material pledged under 告知承诺, a fresh idempotency key each time) for a warm-up and then
  for T seconds; reports submissions per second over the window (all workers) and per-call p50/p95/p99.
- ``read``: C readers run the staff queue of the busiest department (its window clerk and its reviewer: the first
  page, the total, and what the workbench queue page reads: its rows and one aggregate of the counts of its filter
  links, which is also the paginator's total) and the case list of the applicants with the most cases (first page,
  total), each from a freshly loaded user as a request does; ``--writers K`` runs K submission workers beside them.
- ``explain``: EXPLAIN (ANALYZE, BUFFERS) of the queue and list queries.
- ``info``: machine, database and data sizes.
- ``profile``: one process submits ``--calls`` times (eager delivery) under cProfile; prints the queries of one
  submission (SQL shapes and counts) and the functions that took the most time.
- ``all``: info, explain, reads alone, submissions with 2/4/8 workers (``worker`` delivery) and with K workers for
  ``broker`` and ``eager``, reads during writes; ``--doc`` writes the tables into docs/performance.md between the
  markers of the cases section.
- ``sessions``: signed-in sessions for the HTTP run (``bench/run_cases http``, ``bench/locust_cases.py``).

Each run also reports the CPU per call of the workers and their PostgreSQL backends (and of the Celery worker),
read from /proc, and how busy the rest of the machine was: on a shared machine that tells cost from waiting.

Delivery of the outbox events a submission enqueues (``--delivery``): ``worker`` publishes to the broker
(``CELERY_BROKER_URL``, Redis by default) and runs a Celery worker on this machine during the measurement,
as production does (the worker competes for the same cores); ``broker`` publishes but runs no worker (the
events wait in the broker: the submission alone); ``eager`` delivers inside the call after commit (the
embedded default without a broker).
"""

from __future__ import annotations

import argparse
import json
import math
import multiprocessing as mp
import os
import platform
import random
import subprocess
import sys
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
DOC = ROOT / "docs" / "performance.md"
DOC_BEGIN = "<!-- bench/cases.py results: begin -->"
DOC_END = "<!-- bench/cases.py results: end -->"
BROKER_DEFAULT = "redis://127.0.0.1:6379/5"
QUEUE_PAGE = 50  # workbench.views.PAGE_SIZE (asserted in main(), once Django is set up)
LIST_PAGE = 25  # portal.case_views.PAGE_SIZE
SUBMITTERS = 16  # bench applicants (one per submission worker, up to this many workers)
START_DELAY = 3.0  # seconds for the forked workers to open their connections before the clock starts


def _arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["submit", "read", "explain", "info", "all", "sessions", "profile"])
    parser.add_argument("--workers", type=int, default=4, help="submission worker processes (submit)")
    parser.add_argument("--readers", type=int, default=8, help="reader processes (read)")
    parser.add_argument("--writers", type=int, default=0, help="submission workers running beside the readers")
    parser.add_argument("--seconds", type=float, default=60, help="measured seconds")
    parser.add_argument("--warmup", type=float, default=10, help="seconds run before measuring")
    parser.add_argument(
        "--delivery", choices=["worker", "broker", "eager"], default="worker", help="outbox delivery (see above)"
    )
    parser.add_argument("--celery-concurrency", type=int, default=2, help="Celery worker processes (--delivery worker)")
    parser.add_argument("--calls", type=int, default=300, help="submissions profiled (profile)")
    parser.add_argument("--doc", action="store_true", help="write the results into docs/performance.md (all)")
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=0,
        help="before each measurement, wait up to this many seconds for the machine to be idle (shared machines)",
    )
    return parser.parse_args(argv)


def _configure() -> None:
    """Settings come from the environment, read when Django starts."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.conf.settings")
    os.environ.setdefault("YIWANG_LOG_LEVEL", "WARNING")
    os.environ.setdefault("YIWANG_DEBUG", "false")
    # Submitters have confirmed phones, so every submission texts its applicant, as for real citizens: through a
    # FAKE gateway (an SMS gateway is outside the platform) that keeps the texts in memory. No bench account has
    # e-mail; never print mail to the console.
    os.environ.setdefault("YIWANG_MESSAGE_PROVIDER", "yiwang.identity.messaging.MemoryProvider")
    os.environ.setdefault("YIWANG_EMAIL_BACKEND", "django.core.mail.backends.dummy.EmailBackend")
    # A broker is configured; ``--delivery eager`` switches the Celery app to eager at run time (Delivery).
    os.environ.setdefault("CELERY_BROKER_URL", BROKER_DEFAULT)
    os.environ["YIWANG_TASKS_EAGER"] = "false"


# --- statistics -----------------------------------------------------------------------------------------------


def percentile(samples: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of ``samples`` (already sorted)."""
    if not samples:
        return float("nan")
    return samples[max(0, math.ceil(q * len(samples)) - 1)]


@dataclass
class Series:
    label: str
    samples: list[float] = field(default_factory=list)  # milliseconds
    errors: Counter[str] = field(default_factory=Counter)

    def row(self, seconds: float) -> dict[str, Any]:
        ordered = sorted(self.samples)
        return {
            "label": self.label,
            "calls": len(ordered),
            "errors": sum(self.errors.values()),
            "per_second": len(ordered) / seconds if seconds else 0.0,
            "p50": percentile(ordered, 0.50),
            "p95": percentile(ordered, 0.95),
            "p99": percentile(ordered, 0.99),
            "error_kinds": dict(self.errors),
        }


def table(rows: Sequence[dict[str, Any]], *, first: str = "measured") -> str:
    lines = [
        f"| {first} | calls | errors | per s | p50 ms | p95 ms | p99 ms |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['label']} | {r['calls']} | {r['errors']} | {r['per_second']:.1f} | {r['p50']:.1f} "
            f"| **{r['p95']:.1f}** | {r['p99']:.1f} |"
        )
    return "\n".join(lines)


# --- the world the bench acts in ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Targets:
    version_id: int  # the item submissions apply for
    version_name: str
    pledged_slots: list[int]
    submitters: list[int]  # user ids, one per worker
    data: list[dict[str, Any]]  # form data per submitter
    department_id: int  # the busiest department, whose queues are read
    department_name: str
    clerk_id: int
    reviewer_id: int
    applicants: list[int]  # user ids of the applicants with the most cases
    applicant_cases: list[int]


def _bench_people() -> list[Any]:
    from yiwang.registers.models import Person

    # The register's last people: the case generator draws its pool at random, so they seldom have cases.
    return list(Person.objects.order_by("-pk")[:SUBMITTERS])


def targets() -> Targets:
    """Find (and make once) what the bench needs: submitters, the item, the busiest department's staff."""
    from django.contrib.auth.models import User
    from django.db.models import Count
    from django.utils import timezone

    from yiwang.audit.actors import SystemActor
    from yiwang.cases import services
    from yiwang.cases.models import Case
    from yiwang.catalogue import forms
    from yiwang.catalogue.handling import handling_for
    from yiwang.catalogue.models import ItemVersion
    from yiwang.identity import services as identity
    from yiwang.identity.models import Account, account_of

    actor = SystemActor("bench")
    staffed = {
        int(name.rsplit("-", 1)[1])
        for name in User.objects.filter(username__startswith="gen-clerk-").values_list("username", flat=True)
    }
    if not staffed:
        sys.exit("No generated staff: run `yiwang cases_generate` first (bench/run_cases does).")
    # The generator makes the staffed department with the smallest id the busiest (its Zipf ranking follows ids);
    # ranking by open tasks instead would change as the bench adds cases.
    ranked = sorted(staffed)
    busiest = ranked[0]
    # Submissions go to the other staffed departments: their clerks are notified as in real use, and the
    # measured queues do not grow with every run.
    people = _bench_people()
    version, slots, definition = None, [], None
    for department in ranked[1:] or ranked:
        for candidate in ItemVersion.objects.current().filter(department_id=department).order_by("pk"):
            if "1" not in (candidate.content.get("service_objects") or ["1"]):
                continue
            pledgeable = [i for i, m in enumerate(candidate.content.get("materials") or []) if services.pledgeable(m)]
            definition = handling_for(candidate)
            # An item with its own form would need answers the registers do not give; the default form is filled
            # from the register and the account (as the portal pre-fills it).
            if pledgeable and not definition.stored:
                version, slots = candidate, pledgeable
                break
        if version is not None:
            break
    if version is None or definition is None:
        sys.exit(
            "No published item for persons with the default form and a pledgeable material in a staffed department."
        )
    submitters, data = [], []
    for n, person in enumerate(people):
        user = identity.find_user(person.id_number)
        if user is None:
            user = identity.register_person(
                actor=actor,
                id_number=person.id_number,
                name=person.name,
                phone=f"1390000{n:04d}",
                password=os.environ.get("YIWANG_DEMO_PASSWORD", "yiwang-demo"),
            )
        values = forms.prefill(definition, person=person, account=account_of(user))
        values.setdefault("address", person.address or "浙江省杭州市西湖区文三路1号")
        problems = forms.validate_submission(definition, values)
        if problems:
            sys.exit(f"The bench's form data for {version.name} does not validate: {problems}")
        submitters.append(user.pk)
        data.append(values)
    # As if each had proved the number with an SMS code (identity.services.change_phone): texts can reach them.
    Account.objects.filter(user_id__in=submitters, phone_confirmed_at__isnull=True).update(
        phone_confirmed_at=timezone.now()
    )
    heavy = (
        Case.objects.filter(applicant__isnull=False)
        .exclude(applicant_id__in=submitters)
        .values("applicant_id")
        .annotate(n=Count("id"))
        .order_by("-n")[:10]
    )
    clerk = User.objects.get(username=f"gen-clerk-{busiest}")
    reviewer = User.objects.get(username=f"gen-reviewer-{busiest}")
    from yiwang.catalogue.models import Organisation

    return Targets(
        version_id=version.pk,
        version_name=version.name,
        pledged_slots=slots[:1],
        submitters=submitters,
        data=data,
        department_id=busiest,
        department_name=Organisation.objects.get(pk=busiest).name,
        clerk_id=clerk.pk,
        reviewer_id=reviewer.pk,
        applicants=[row["applicant_id"] for row in heavy],
        applicant_cases=[row["n"] for row in heavy],
    )


def _fresh_user(pk: int) -> Any:
    """The user as a request's authentication loads it: a new object, nothing cached on it."""
    from django.contrib.auth.models import User

    return User.objects.get(pk=pk)


# --- workers ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Window:
    start: float  # wall-clock time the workers start (warm-up)
    measure: float  # measuring starts
    end: float

    @classmethod
    def after(cls, warmup: float, seconds: float) -> Window:
        start = time.time() + START_DELAY
        return cls(start, start + warmup, start + warmup + seconds)


def cpu_seconds(pid: int) -> float:
    """User + system CPU a process has used (Linux /proc), 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(root: int) -> float:
    """CPU of a process and all its descendants (the Celery worker and its pool)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError):
                continue
    members, changed = {root}, True
    while changed:
        changed = False
        for pid, parent in parents.items():
            if parent in members and pid not in members:
                members.add(pid)
                changed = True
    return sum(cpu_seconds(pid) for pid in members)


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent busy since boot (/proc/stat: everything but idle and iowait)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return (sum(values) - values[3] - values[4]) / os.sysconf("SC_CLK_TCK")


def wait_for_quiet(limit: float, *, busy_below: float = 0.15, sample: float = 5.0) -> float:
    """Wait (up to ``limit`` seconds) until the machine was less than ``busy_below`` busy over ``sample`` seconds;
    returns the busy share last seen. Other people's test runs on a shared machine would otherwise be measured too."""
    cores = os.cpu_count() or 1
    deadline = time.monotonic() + limit
    while True:
        before = machine_busy_seconds()
        time.sleep(sample)
        busy = (machine_busy_seconds() - before) / (sample * cores)
        if busy < busy_below or time.monotonic() >= deadline:
            return busy


def _backend_pid() -> int | None:
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


def _run_loop(
    kind: str, window: Window, step: Callable[[], tuple[str, Callable[[], object]]], out: mp.Queue[Any]
) -> None:
    """Call what ``step`` hands out (a label and a call) until the window ends; time the calls inside it.

    Also counts the CPU this process and its PostgreSQL backend use while measuring (``step``'s own queries, e.g.
    loading the user as a request would, included), so costs can be told apart from waiting for the CPU.
    """
    from django.db import connection

    series: dict[str, Series] = {}
    backend = _backend_pid()
    cpu_start: tuple[float, float] | None = None
    time.sleep(max(0.0, window.start - time.time()))
    while True:
        label, call = step()
        began = time.time()
        if began >= window.end:
            break
        if cpu_start is None and began >= window.measure:
            cpu_start = (cpu_seconds(os.getpid()), cpu_seconds(backend) if backend else 0.0)
        t0 = time.perf_counter()
        error = ""
        try:
            call()
        except Exception as exc:  # a failed call is counted, not fatal: the others keep the load on
            error = type(exc).__name__
        elapsed = (time.perf_counter() - t0) * 1000
        if began >= window.measure and time.time() <= window.end:
            s = series.setdefault(label, Series(label))
            if error:
                s.errors[error] += 1
            else:
                s.samples.append(elapsed)
    own, db = (0.0, 0.0)
    if cpu_start is not None:
        own = cpu_seconds(os.getpid()) - cpu_start[0]
        db = (cpu_seconds(backend) if backend else 0.0) - cpu_start[1]
    calls = sum(len(s.samples) + sum(s.errors.values()) for s in series.values())
    connection.close()
    out.put((kind, calls, own, db, [(s.label, s.samples, dict(s.errors)) for s in series.values()]))


def submit_worker(index: int, t: Targets, window: Window, out: mp.Queue[Any]) -> None:
    from yiwang.cases import services
    from yiwang.catalogue.models import ItemVersion

    user_pk, data = t.submitters[index % len(t.submitters)], t.data[index % len(t.data)]

    def step() -> tuple[str, Callable[[], object]]:
        # What the view does before the service: the session's user and the item.
        user = _fresh_user(user_pk)
        version = ItemVersion.objects.select_related("department").get(pk=t.version_id)
        return "submission (services.apply)", lambda: services.apply(
            actor=user,
            version=version,
            data=data,
            idempotency_key=uuid.uuid4().hex,
            pledged_slots=t.pledged_slots,
        )

    _run_loop("submit", window, step, out)


def read_worker(index: int, t: Targets, window: Window, out: mp.Queue[Any]) -> None:
    from django.utils import timezone

    from yiwang.cases import selectors, supervision

    rng = random.Random(index)
    today = timezone.localdate()
    threshold = supervision.threshold(today)

    def queue_page(pk: int) -> Callable[[], object]:
        user = _fresh_user(pk)
        return lambda: list(selectors.staff_queue(user, today=today)[:QUEUE_PAGE])

    def queue_count(pk: int) -> Callable[[], object]:
        user = _fresh_user(pk)
        return lambda: selectors.staff_queue(user, today=today).count()

    def queue_as_shown(pk: int) -> Callable[[], object]:
        # What the workbench queue page reads (workbench.case_views.queue): the counts of its filter links (all and
        # each deadline colour, one aggregate, which is also the paginator's total) and its first page of rows.
        user = _fresh_user(pk)

        def run() -> object:
            counts = selectors.queue_counts(user, selectors.QueueFilter(), today=today)
            rows = list(selectors.queue_page(user, today=today)[:QUEUE_PAGE])
            return rows, counts, threshold

        return run

    def list_page(pk: int) -> Callable[[], object]:
        user = _fresh_user(pk)
        return lambda: list(selectors.my_cases(user)[:LIST_PAGE])

    def list_count(pk: int) -> Callable[[], object]:
        user = _fresh_user(pk)
        return lambda: selectors.my_cases(user).count()

    plan: list[tuple[str, Callable[[], Callable[[], object]]]] = [
        ("queue, clerk: first page", lambda: queue_page(t.clerk_id)),
        ("queue, clerk: total", lambda: queue_count(t.clerk_id)),
        ("queue, clerk: page as shown (rows + counts)", lambda: queue_as_shown(t.clerk_id)),
        ("queue, reviewer: first page", lambda: queue_page(t.reviewer_id)),
        ("queue, reviewer: total", lambda: queue_count(t.reviewer_id)),
        ("queue, reviewer: page as shown (rows + counts)", lambda: queue_as_shown(t.reviewer_id)),
        ("my cases: first page", lambda: list_page(rng.choice(t.applicants))),
        ("my cases: total", lambda: list_count(rng.choice(t.applicants))),
    ]
    turn = iter(range(index, 10**12))

    def step() -> tuple[str, Callable[[], object]]:
        label, prepare = plan[next(turn) % len(plan)]
        return label, prepare()

    _run_loop("read", window, step, out)


@dataclass
class Cpu:
    """CPU milliseconds per call, by kind of worker: Django (the worker process) and PostgreSQL (its backend)."""

    calls: Counter[str] = field(default_factory=Counter)
    django: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))
    postgres: defaultdict[str, float] = field(default_factory=lambda: defaultdict(float))

    def per_call(self, kind: str) -> dict[str, float]:
        calls = self.calls[kind] or 1
        return {"django": 1000 * self.django[kind] / calls, "postgres": 1000 * self.postgres[kind] / calls}


def _merge(results: Sequence[tuple[str, int, float, float, list[Any]]]) -> tuple[list[Series], Cpu]:
    merged: dict[str, Series] = {}
    cpu = Cpu()
    for kind, calls, own, db, series in results:
        cpu.calls[kind] += calls
        cpu.django[kind] += own
        cpu.postgres[kind] += db
        for label, samples, errors in series:
            s = merged.setdefault(label, Series(label))
            s.samples += samples
            s.errors.update(errors)
    return list(merged.values()), cpu


@dataclass
class Machine:
    """How busy the whole machine was while measuring (other helpers' tests included)."""

    busy_seconds: float = 0.0
    celery_seconds: float = 0.0
    load: tuple[float, float, float] = (0.0, 0.0, 0.0)


def _watch(window: Window, celery: int | None, into: Machine) -> None:
    time.sleep(max(0.0, window.measure - time.time()))
    busy, worker = machine_busy_seconds(), tree_cpu_seconds(celery) if celery else 0.0
    time.sleep(max(0.0, window.end - time.time()))
    into.busy_seconds = machine_busy_seconds() - busy
    into.celery_seconds = (tree_cpu_seconds(celery) if celery else 0.0) - worker
    into.load = os.getloadavg()


def run_processes(
    jobs: Sequence[tuple[Callable[..., None], int]], t: Targets, window: Window, celery: int | None = None
) -> tuple[list[Series], Cpu, Machine]:
    """Fork one process per (function, index); each opens its own database connection."""
    import threading

    from django.db import connections

    connections.close_all()  # a forked child must not share the parent's connection
    context = mp.get_context("fork")
    out: mp.Queue[Any] = context.Queue()
    processes = [context.Process(target=fn, args=(i, t, window, out)) for fn, i in jobs]
    for p in processes:
        p.start()
    machine = Machine()
    watcher = threading.Thread(target=_watch, args=(window, celery, machine), daemon=True)
    watcher.start()
    results = [out.get() for _p in processes]
    for p in processes:
        p.join()
    watcher.join()
    series, cpu = _merge(results)
    return series, cpu, machine


# --- outbox delivery --------------------------------------------------------------------------------------------


class Delivery:
    """The Celery worker of ``--delivery worker`` (started and stopped around a measurement)."""

    def __init__(self, mode: str, concurrency: int) -> None:
        self.mode = mode
        self.concurrency = concurrency
        self.process: subprocess.Popen[bytes] | None = None

    def describe(self) -> str:
        if self.mode == "eager":
            return "eager: delivered in the call, after commit (no broker)"
        broker = os.environ.get("CELERY_BROKER_URL", "")
        if self.mode == "broker":
            return f"broker {broker}, no worker running (delivery not measured)"
        return f"broker {broker}, Celery worker ({self.concurrency} processes) delivering on this machine"

    def _purge(self) -> None:
        from yiwang.conf.celery import app

        app.control.purge()

    def __enter__(self) -> Delivery:
        from yiwang.conf.celery import app

        # common.outbox reads task_always_eager at each commit; the forked workers inherit it. The app reads Django
        # settings under the CELERY namespace, so the flag is set under its namespaced name.
        app.conf.update(CELERY_TASK_ALWAYS_EAGER=self.mode == "eager")
        if self.mode == "eager":
            return self
        self._purge()  # what an earlier run left in the broker is not this run's work
        if self.mode == "worker":
            self.process = subprocess.Popen(  # noqa: S603 - our own virtualenv's celery, fixed arguments
                [
                    str(Path(sys.executable).with_name("celery")),
                    "-A",
                    "yiwang.conf.celery",
                    "worker",
                    "-l",
                    "warning",
                    "-c",
                    str(self.concurrency),
                    "--without-gossip",
                    "--without-mingle",
                    "--without-heartbeat",
                ],
                env=os.environ.copy(),
            )
            time.sleep(4)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=60)
            self.process = None
        if self.mode == "broker":
            self._purge()  # left to the relay (events stay pending in the outbox table)


def pending_events(since_id: int) -> int:
    from yiwang.common.models import OutboxEvent

    return OutboxEvent.objects.filter(pk__gt=since_id, sent_at__isnull=True).count()


def last_event_id() -> int:
    from yiwang.common.models import OutboxEvent

    return OutboxEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


# --- commands --------------------------------------------------------------------------------------------------


def _cpu_summary(cpu: Cpu, machine: Machine, seconds: float, kinds: Sequence[str]) -> dict[str, Any]:
    """CPU per call by kind and how much of the machine others used (``busy`` minus what the bench used)."""
    ours = sum(cpu.django.values()) + sum(cpu.postgres.values()) + machine.celery_seconds
    cores = os.cpu_count() or 1
    return {
        "per_call_ms": {kind: cpu.per_call(kind) for kind in kinds},
        "celery_ms_per_submission": 1000 * machine.celery_seconds / (cpu.calls["submit"] or 1),
        "machine_busy_share": machine.busy_seconds / (seconds * cores),
        "others_share": max(0.0, machine.busy_seconds - ours) / (seconds * cores),
        "load_average": machine.load,
    }


def submit(t: Targets, args: argparse.Namespace, workers: int, mode: str) -> dict[str, Any]:
    if args.wait_quiet:
        wait_for_quiet(args.wait_quiet)
    delivery = Delivery(mode, args.celery_concurrency)
    first_event = last_event_id()
    with delivery:
        window = Window.after(args.warmup, args.seconds)
        celery = delivery.process.pid if delivery.process else None
        series, cpu, machine = run_processes([(submit_worker, i) for i in range(workers)], t, window, celery)
        pending_at_end = pending = pending_events(first_event)
        drained: float | None = None
        if mode == "worker":
            # Did the worker keep up? Wait (up to 10 minutes) for the run's events to be delivered.
            began = time.monotonic()
            while pending and time.monotonic() - began < 600:
                time.sleep(1)
                pending = pending_events(first_event)
            drained = time.monotonic() - began if not pending else None
    rows = [s.row(args.seconds) for s in series]
    for r in rows:
        r["label"] = f"{r['label']}, {workers} workers, {mode}"
    return {
        "workers": workers,
        "delivery": delivery.describe(),
        "rows": rows,
        "events_pending_at_end": pending_at_end,
        "seconds_to_drain": drained,
        "cpu": _cpu_summary(cpu, machine, args.seconds, ["submit"]),
    }


def read(t: Targets, args: argparse.Namespace, readers: int, writers: int) -> dict[str, Any]:
    if args.wait_quiet:
        wait_for_quiet(args.wait_quiet)
    delivery = Delivery(args.delivery if writers else "eager", args.celery_concurrency)
    with delivery:
        window = Window.after(args.warmup, args.seconds)
        celery = delivery.process.pid if delivery.process else None
        jobs = [(read_worker, i) for i in range(readers)] + [(submit_worker, i) for i in range(writers)]
        series, cpu, machine = run_processes(jobs, t, window, celery)
    rows = [s.row(args.seconds) for s in series]
    order = {label: n for n, label in enumerate(sorted(r["label"] for r in rows))}
    rows.sort(key=lambda r: (r["label"].startswith("submission"), order[r["label"]]))
    return {
        "readers": readers,
        "writers": writers,
        "delivery": delivery.describe() if writers else "",
        "rows": rows,
        "cpu": _cpu_summary(cpu, machine, args.seconds, ["read", "submit"] if writers else ["read"]),
    }


def describe_cpu(summary: dict[str, Any]) -> str:
    parts = [
        f"{kind}: Django {c['django']:.1f} + PostgreSQL {c['postgres']:.1f} ms"
        for kind, c in summary["per_call_ms"].items()
    ]
    if summary["celery_ms_per_submission"]:
        parts.append(f"Celery delivery {summary['celery_ms_per_submission']:.1f} ms per submission")
    return (
        f"CPU per call — {'; '.join(parts)}. Machine {100 * summary['machine_busy_share']:.0f} % busy, "
        f"{100 * summary['others_share']:.0f} % of it by other processes; load {summary['load_average'][0]:.1f}."
    )


def explain(t: Targets) -> dict[str, str]:
    """EXPLAIN (ANALYZE, BUFFERS) of the main query behind each read."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from yiwang.cases import selectors

    clerk, reviewer = _fresh_user(t.clerk_id), _fresh_user(t.reviewer_id)
    applicant = _fresh_user(t.applicants[0]) if t.applicants else None
    reads: dict[str, Callable[[], object]] = {
        "queue, clerk: first page": lambda: list(selectors.staff_queue(clerk)[:QUEUE_PAGE]),
        "queue, clerk: total": lambda: selectors.staff_queue(clerk).count(),
        "queue, reviewer: first page": lambda: list(selectors.staff_queue(reviewer)[:QUEUE_PAGE]),
        "queue, reviewer: red count": lambda: selectors.staff_queue(
            reviewer, selectors.QueueFilter(colour="red")
        ).count(),
    }
    if applicant is not None:
        reads["my cases: first page"] = lambda: list(selectors.my_cases(applicant)[:LIST_PAGE])
        reads["my cases: total"] = lambda: selectors.my_cases(applicant).count()
    plans = {}
    for label, call in reads.items():
        call()  # warm: the subject's roles and account are cached on the user object
        with CaptureQueriesContext(connection) as captured:
            call()
        sql = captured.captured_queries[-1]["sql"]
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
            plans[label] = "\n".join(row[0] for row in cursor.fetchall())
        plans[label] = f"-- {sql}\n{plans[label]}"
    return plans


def profile(t: Targets, calls: int) -> str:
    """Where one submission's time goes: its queries (shape and count), then cProfile over ``calls`` submissions."""
    import cProfile
    import io
    import pstats
    import re

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from yiwang.cases import services
    from yiwang.catalogue.models import ItemVersion
    from yiwang.conf.celery import app

    app.conf.update(CELERY_TASK_ALWAYS_EAGER=True)

    def one() -> None:
        user = _fresh_user(t.submitters[0])
        version = ItemVersion.objects.select_related("department").get(pk=t.version_id)
        services.apply(
            actor=user, version=version, data=t.data[0], idempotency_key=uuid.uuid4().hex, pledged_slots=t.pledged_slots
        )

    for _ in range(20):  # warm caches (translations, compiled schemas, the calendar)
        one()
    with CaptureQueriesContext(connection) as captured:
        one()
    shapes: Counter[str] = Counter()
    for q in captured.captured_queries:
        sql = re.sub(r"'[^']*'|\b\d+\b", "?", q["sql"])
        shapes[re.sub(r"\s+", " ", sql)[:140]] += 1
    lines = [f"{len(captured.captured_queries)} queries in one submission (eager delivery included):"]
    lines += [f"{n:3d}  {sql}" for sql, n in shapes.most_common()]
    profiler = cProfile.Profile()
    began = time.perf_counter()
    profiler.enable()
    for _ in range(calls):
        one()
    profiler.disable()
    elapsed = time.perf_counter() - began
    lines.append(f"\n{calls} submissions in {elapsed:.1f} s ({1000 * elapsed / calls:.1f} ms each, one process)")
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats(os.environ.get("BENCH_PROFILE_SORT", "cumulative")).print_stats(45)
    lines.append(text.getvalue())
    return "\n".join(lines)


def info(t: Targets) -> dict[str, Any]:
    from django.db import connection
    from django.db.models import Count, Q
    from django.utils import timezone

    from yiwang.cases import supervision
    from yiwang.cases.constants import TaskStatus
    from yiwang.cases.models import Case, CaseTask, CaseTransition

    today = timezone.localdate()
    threshold = supervision.threshold(today)
    with connection.cursor() as cursor:
        cursor.execute("SELECT version(), pg_size_pretty(pg_database_size(current_database()))")
        version, size = cursor.fetchone()
        cursor.execute("SHOW shared_buffers")
        shared_buffers = cursor.fetchone()[0]
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if "MemTotal" in line)
    open_tasks = CaseTask.objects.filter(status=TaskStatus.OPEN, department_id=t.department_id)
    colours = open_tasks.aggregate(
        red=Count("id", filter=Q(due__lt=today)),
        yellow=Count("id", filter=Q(due__gte=today, due__lte=threshold)),
        green=Count("id", filter=Q(due__gt=threshold) | Q(due__isnull=True)),
    )
    from yiwang.cases import selectors

    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "postgres": version.split(" on ")[0],
        "shared_buffers": shared_buffers,
        "database_size": size,
        "python": platform.python_version(),
        "cases": Case.objects.count(),
        "tasks": CaseTask.objects.count(),
        "open_tasks": CaseTask.objects.filter(status=TaskStatus.OPEN).count(),
        "transitions": CaseTransition.objects.count(),
        "department": t.department_name,
        "department_open_tasks": open_tasks.count(),
        "department_colours": colours,
        "clerk_queue": selectors.staff_queue(_fresh_user(t.clerk_id)).count(),
        "reviewer_queue": selectors.staff_queue(_fresh_user(t.reviewer_id)).count(),
        "applicant_cases": t.applicant_cases,
        "submission_item": t.version_name,
        "load_average": os.getloadavg(),
    }


def _describe_info(i: dict[str, Any]) -> str:
    c = i["department_colours"]
    return (
        f"Machine: {i['cpus']} cores ({i['cpu']}), {i['memory_gib']} GiB; {i['postgres']} (shared_buffers "
        f"{i['shared_buffers']}), database {i['database_size']}; Python {i['python']}.\n"
        f"Data: {i['cases']:,} cases, {i['tasks']:,} tasks ({i['open_tasks']:,} open), {i['transitions']:,} "
        f"transitions. Busiest department ({i['department']}): {i['department_open_tasks']:,} open tasks "
        f"(red {c['red']:,}, yellow {c['yellow']:,}, green {c['green']:,}); clerk's queue {i['clerk_queue']:,}, "
        f"reviewer's {i['reviewer_queue']:,}. Applicants read: {', '.join(map(str, i['applicant_cases']))} cases. "
        f"Submissions apply for: {i['submission_item']}."
    )


def sessions(t: Targets) -> dict[str, Any]:
    """Signed-in sessions for the HTTP run (bench/locust_cases.py): the busiest department's clerk and reviewer
    (with a confirmed authenticator, enrolled through the identity services, and the second factor passed) and the
    applicants with the most cases. Made as ``Client.force_login`` makes them; nobody types a password."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.oath import TOTP
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from yiwang.identity import services as identity

    store = import_module(settings.SESSION_ENGINE).SessionStore

    def session(user: Any, device: TOTPDevice | None = None) -> str:
        s = store()
        s[SESSION_KEY] = str(user.pk)
        s[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
        s[HASH_SESSION_KEY] = user.get_session_auth_hash()
        if device is not None:
            s[DEVICE_ID_SESSION_KEY] = device.persistent_id
        s.save()
        return str(s.session_key)

    def authenticator(user: Any) -> TOTPDevice:
        device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
        if device is None:
            device = identity.start_totp_enrolment(actor=user)
            totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
            device = identity.confirm_totp(actor=user, device=device, token=f"{totp.token():0{device.digits}d}")
        return device

    clerk, reviewer = _fresh_user(t.clerk_id), _fresh_user(t.reviewer_id)
    return {
        "cookie": settings.SESSION_COOKIE_NAME,
        "clerk": session(clerk, authenticator(clerk)),
        "reviewer": session(reviewer, authenticator(reviewer)),
        "applicants": [session(_fresh_user(pk)) for pk in t.applicants],
    }


def save_result(prefix: str, name: str, data: Any) -> None:
    """One result as JSON under bench/results/ (``{prefix}-{name}.json``); shared by the benches."""
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{prefix}-{name}.json").write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def write_doc_block(marker: str, tag: str, text: str) -> None:
    """Replace the text between ``marker``'s begin and end lines (``marker`` formats ``tag`` and ``end``) in
    docs/performance.md; shared by the benches that keep one block per database."""
    begin, end = marker.format(tag=tag, end="begin"), marker.format(tag=tag, end="end")
    doc = DOC.read_text(encoding="utf-8")
    if begin not in doc or end not in doc:
        sys.exit(f"{DOC} has no markers for these results ({begin} … {end}).")
    head, rest = doc.split(begin, 1)
    _old, tail = rest.split(end, 1)
    DOC.write_text(f"{head}{begin}\n{text}\n{end}{tail}", encoding="utf-8")


def _save(name: str, data: Any) -> None:
    save_result("cases", name, data)


def _write_doc(text: str) -> None:
    doc = DOC.read_text(encoding="utf-8")
    if DOC_BEGIN not in doc or DOC_END not in doc:
        sys.exit(f"{DOC} has no cases results markers ({DOC_BEGIN} … {DOC_END}).")
    head, rest = doc.split(DOC_BEGIN, 1)
    _old, tail = rest.split(DOC_END, 1)
    DOC.write_text(f"{head}{DOC_BEGIN}\n{text}\n{DOC_END}{tail}", encoding="utf-8")


def main(argv: Sequence[str]) -> None:
    args = _arguments(argv)
    _configure()
    import django

    django.setup()
    from yiwang.portal import case_views
    from yiwang.workbench import views

    if (views.PAGE_SIZE, case_views.PAGE_SIZE) != (QUEUE_PAGE, LIST_PAGE):
        sys.exit("The pages' sizes changed: update QUEUE_PAGE and LIST_PAGE to what they show.")
    t = targets()
    out: list[str] = []

    def emit(text: str) -> None:
        print(text, flush=True)
        out.append(text)

    if args.command in ("info", "all"):
        details = info(t)
        _save("info", details)
        emit(_describe_info(details))
    if args.command == "sessions":
        _save("sessions", sessions(t))
        print(f"Sessions written to {RESULTS / 'cases-sessions.json'}")
    if args.command in ("explain", "all"):
        plans = explain(t)
        _save("explain", plans)
        for label, plan in plans.items():
            print(f"\n### {label}\n{plan}")
    if args.command == "profile":
        print(profile(t, args.calls))
    if args.command == "submit":
        result = submit(t, args, args.workers, args.delivery)
        _save(f"submit-{args.delivery}-{args.workers}", result)
        emit(f"\nSubmissions ({result['delivery']}); events pending at the end: {result['events_pending_at_end']}")
        emit(table(result["rows"]))
        emit(describe_cpu(result["cpu"]))
    if args.command == "read":
        result = read(t, args, args.readers, args.writers)
        _save(f"read-{args.readers}-{args.writers}", result)
        emit(f"\nReads: {args.readers} readers, {args.writers} submission workers {result['delivery']}")
        emit(table(result["rows"]))
        emit(describe_cpu(result["cpu"]))
    if args.command == "all":
        alone = read(t, args, args.readers, 0)
        _save("read-alone", alone)
        emit(f"\nReads alone: {args.readers} readers, {args.seconds:.0f} s\n")
        emit(table(alone["rows"], first="read"))
        emit("\n" + describe_cpu(alone["cpu"]))
        rows, notes = [], []
        runs = [(w, "worker") for w in (2, 4, 8)] + [(args.workers, "broker"), (args.workers, "eager")]
        for workers, mode in runs:
            result = submit(t, args, workers, mode)
            _save(f"submit-{mode}-{workers}", result)
            rows += result["rows"]
            drained = result["seconds_to_drain"]
            notes.append(
                f"- {workers} workers, {result['delivery']}: outbox events not yet delivered when the window closed: "
                f"{result['events_pending_at_end']}"
                + (f", all delivered {drained:.0f} s later" if drained is not None else "")
                + ". "
                + describe_cpu(result["cpu"])
            )
        emit(f"\nSubmissions, {args.seconds:.0f} s each after {args.warmup:.0f} s of warm-up\n")
        emit(table(rows, first="submission"))
        emit("\n" + "\n".join(notes))
        during = read(t, args, args.readers, args.workers)
        _save("read-during-writes", during)
        who = f"{args.readers} readers + {args.workers} submission workers"
        emit(f"\nReads during writes: {who} ({during['delivery']})\n")
        emit(table(during["rows"], first="read"))
        emit("\n" + describe_cpu(during["cpu"]))
        if args.doc:
            _write_doc("\n".join(out))


if __name__ == "__main__":
    main(sys.argv[1:])
