#!/usr/bin/env python3
"""Data sharing at scale (issue 6): exchange queries against 1,000,000 persons in the population register.

Measured in process on the configured database (PostgreSQL or SQLite, prepared by ``bench/run_sharing``; results in
docs/performance.md, "Data sharing"). Each worker is its own process with its own database connection — as gunicorn
workers answering the exchange API would be — forked once the world is ready; each warms up, then all start
together and share the N queries between them. Throughput = N ÷ (the last worker's end − the common start).

- ``setup``: migrate; the demo catalogue when there is none (``yiwang demo --no-users``); the population register up
  to ``--persons`` (``registers.generator.generate_registers``, seed 7, timed); a few generated cases
  (``cases.generator.generate_cases``) of which one submitted case names the consumer department (its accepting
  department); a machine client of that department with the ``sharing:exchange`` scope and an Ed25519 signing key
  (``identity.clients``, ``sharing.keys``); the ``population`` resource (the data migration's, or made here); an
  approved grant of every field for one purpose and a rate no run reaches; and ``--sample`` random persons' ID
  numbers to ask about (var/, not bench/results: they are the subjects' identifiers). Idempotent.
- ``query``: ``exchange.query`` — the grant checks (resource, grant, case, rate in the cache), the register read (blind
  index, decryption of nothing but the answer's fields), the access-log append (the chain head locked for one insert
  and one update) — one transaction per answer. Every answer must be found.
- ``nolog``: the same read path without the append: ``exchange._prepare`` then ``exchange._read`` in a transaction.
- ``compare``: ``query`` and ``nolog`` alternately, ``--rounds`` times each; medians, and what logging costs.
- ``api``: the same query through the whole HTTP stack in process (Django's test client: middleware, OAuth2 bearer
  token, the request's Ed25519 signature, the nonce, the signed answer) at ``POST /api/v1/sharing/query``.
- ``verify``: ``accesslog.verify_chain()`` over the whole log; its time per 100,000 records. ``query``, ``compare``
  and ``all`` end with it: the chain must still be intact after concurrent appends.
- ``profile``: one process; the SQL of one query and where its CPU goes (cProfile).
- ``info``: machine, database, data.
- ``all``: info, query with 1 and 2 workers, compare (2 workers), api (2 workers), verify; ``--doc`` writes the results
  into docs/performance.md between the markers of the sharing section.

Each run reports the CPU per query of the workers and of their PostgreSQL backends, read from /proc (SQLite runs in
the worker), and how busy the rest of the machine was.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import platform
import random
import statistics
import sys
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cases import (
    Series,
    _backend_pid,
    cpu_seconds,
    machine_busy_seconds,
    save_result,
    table,
    wait_for_quiet,
    write_doc_block,
)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
DOC = ROOT / "docs" / "performance.md"
DOC_MARKER = "<!-- bench/sharing.py results, {tag}: {end} -->"  # one block per database (postgresql / sqlite)
RESOURCE = "population"
FIELDS = ("name", "sex", "birth_date", "division", "address")
PURPOSE = "核验申请人身份信息"  # the grant's one purpose, named by every query
OFFICIAL = "bench official"
CLIENT_NAME = "bench-client"
API_PATH = "/api/v1/sharing/query"
SEED = 7  # the population's seed: bench/run_cases and bench/run_licences use the same, so the first people agree
WARMUP_CALLS = 20  # per worker, before the clock starts: translations, the resource's fields, connections


def _arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "command",
        choices=["setup", "query", "nolog", "compare", "compare-api", "api", "verify", "profile", "info", "all"],
    )
    parser.add_argument("--persons", type=int, default=None, help="population size (setup; default 1M, SQLite 100k)")
    parser.add_argument("--sample", type=int, default=20_000, help="ID numbers asked about (setup)")
    parser.add_argument("--count", type=int, default=20_000, help="queries per run")
    parser.add_argument("--workers", type=int, default=2, help="worker processes")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of each kind (compare)")
    parser.add_argument("--calls", type=int, default=2000, help="queries profiled (profile)")
    parser.add_argument("--doc", action="store_true", help="write the results into docs/performance.md (all)")
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=0,
        help="before each measurement, wait up to this many seconds for the machine to be idle (shared machines)",
    )
    return parser.parse_args(argv)


def _configure() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.conf.settings")
    os.environ.setdefault("YIWANG_LOG_LEVEL", "WARNING")
    os.environ.setdefault("YIWANG_DEBUG", "false")
    os.environ.setdefault("YIWANG_EMAIL_BACKEND", "django.core.mail.backends.dummy.EmailBackend")


def _data_dir(vendor: str) -> Path:
    """Where the world and the subjects' ID numbers are kept: var/, never committed."""
    given = os.environ.get("BENCH_SHARING_DATA")
    path = Path(given) if given else ROOT / "var" / "bench-sharing" / vendor
    path.mkdir(parents=True, exist_ok=True)
    return path


# --- the world the bench acts in ------------------------------------------------------------------------------


@dataclass(frozen=True)
class World:
    department_id: int
    department_name: str
    case_number: str
    grant_id: int
    client_id: str
    client_secret: str
    key_id: str
    private_key_pem: str  # the department system's signing key: the bench plays that system
    persons: int
    generation_seconds: float | None  # how long the population took to generate, when this setup made it


def _world_file(vendor: str) -> Path:
    return _data_dir(vendor) / "world.json"


def _subjects_file(vendor: str) -> Path:
    # "ID number|case number": a read must name a case of the consumer in which the subject is a party
    # (exchange._is_party), so each sampled person has a case of their own.
    return _data_dir(vendor) / "subjects-with-cases.json"


def load_world(vendor: str) -> tuple[World, list[str]]:
    world_file, subjects_file = _world_file(vendor), _subjects_file(vendor)
    if not world_file.exists() or not subjects_file.exists():
        sys.exit(f"No bench world in {world_file.parent}: run `bench/sharing.py setup` first (bench/run_sharing does).")
    w = World(**json.loads(world_file.read_text()))
    subjects = json.loads(subjects_file.read_text())
    return w, subjects


def _population(persons: int) -> tuple[int, float | None]:
    from yiwang.audit.actors import SystemActor
    from yiwang.registers.generator import generate_registers
    from yiwang.registers.models import Person

    have = Person.objects.count()
    if have >= persons:
        return have, None
    print(f"Population register: {have:,} persons, generating up to {persons:,} (seed {SEED}) …", flush=True)
    began = time.monotonic()
    # The same seed gives the same first people, so asking for the total adds the rest (those already there are
    # skipped). The generator shows its progress bar on stderr.
    report = generate_registers(
        actor=SystemActor("bench:sharing"), people=persons, entities=0, seed=SEED, batch_size=5000, progress=True
    )
    seconds = time.monotonic() - began
    print(
        f"Population register: {report.people.created:,} added, {report.people.skipped:,} already there, "
        f"in {seconds:.0f} s ({1e6 * seconds / max(1, report.people.created):.0f} µs per person).",
        flush=True,
    )
    return Person.objects.count(), seconds


def _case() -> Any:
    """A submitted case (generated, as bench/run_cases makes them); its accepting department is the consumer."""
    from yiwang.audit.actors import SystemActor
    from yiwang.cases.constants import CaseStatus
    from yiwang.cases.generator import generate_cases
    from yiwang.cases.models import Case

    def submitted() -> Any:
        return Case.objects.filter(status=CaseStatus.SUBMITTED).select_related("department").order_by("pk").first()

    case = submitted()
    if case is None:
        generate_cases(
            actor=SystemActor("bench:sharing"),
            cases=200,
            seed=20261201,
            batch_size=200,
            applicants=500,
            heavy=0,
            staffed=1,
            password=os.environ.get("YIWANG_DEMO_PASSWORD", "yiwang-demo"),
        )
        case = submitted()
    if case is None:
        sys.exit("The generated cases hold no submitted case.")
    return case


def _resource() -> Any:
    """The population resource: the data migration's when present, otherwise made here with its five fields."""
    from yiwang.sharing.constants import Backend, Sensitivity, SharingType, SubjectKind, UpdateCycle
    from yiwang.sharing.models import Resource, ResourceField

    resource = Resource.objects.filter(code=RESOURCE).first()
    if resource is None:
        resource = Resource.objects.create(
            code=RESOURCE,
            name="人口库:居民身份信息",
            name_en="Population register: resident identity",
            subject_kind=SubjectKind.PERSON,
            sharing_type=SharingType.CONDITIONAL,
            update_cycle=UpdateCycle.DAILY,
            backend=Backend.POPULATION,
        )
        for position, code in enumerate(FIELDS):
            ResourceField.objects.create(
                resource=resource, code=code, name=code, sensitivity=Sensitivity.SENSITIVE, position=position
            )
    missing = set(FIELDS) - set(resource.fields.values_list("code", flat=True))
    if missing or not resource.is_active or resource.backend != Backend.POPULATION:
        sys.exit(f"The {RESOURCE} resource is not the population register's five fields (missing {missing}).")
    return resource


def _grant(resource: Any, consumer: Any) -> Any:
    """An approved grant of every field for PURPOSE, any item, no end date, a rate no run reaches. Written directly:
    the grant workflow's approval is not what is measured."""
    from django.utils import timezone

    from yiwang.sharing.constants import GrantStatus
    from yiwang.sharing.models import Grant

    fields = list(resource.fields.values_list("code", flat=True))
    grant = Grant.objects.filter(resource=resource, consumer=consumer, status=GrantStatus.APPROVED).first()
    if grant is None:
        grant = Grant.objects.create(
            resource=resource,
            consumer=consumer,
            status=GrantStatus.APPROVED,
            requested_fields=fields,
            requested_purposes=[PURPOSE],
            requested_rate=2_000_000_000,
            justification="bench/sharing.py",
            fields=fields,
            purposes=[PURPOSE],
            rate_per_minute=2_000_000_000,
            decided_at=timezone.now(),
            decision_note="bench/sharing.py",
        )
    elif PURPOSE not in grant.purposes or set(fields) - set(grant.fields) or grant.valid_until is not None:
        sys.exit(f"Grant {grant.pk} of {consumer} does not cover the bench's purpose and fields.")
    return grant


def _client(consumer: Any) -> tuple[str, str, str, str]:
    """The consumer's machine client (client id, secret) and its registered signing key (id, private PEM)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from yiwang.audit.actors import SystemActor
    from yiwang.identity import clients
    from yiwang.identity.models_oidc import ClientKind
    from yiwang.sharing import keys

    actor = SystemActor("bench:sharing")
    application, secret = clients.register_client(
        actor=actor, name=CLIENT_NAME, kind=ClientKind.MACHINE, allowed_scopes=["sharing:exchange"], department=consumer
    )
    private = Ed25519PrivateKey.generate()
    pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    key = keys.register_signing_key(actor=actor, application=application, public_key_pem=pem)
    private_pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return application.client_id, secret, key.key_id, private_pem


def _sample(count: int) -> list[str]:
    """``count`` random persons' ID numbers, decrypted (what a department system would send)."""
    from django.db.models import Max, Min

    from yiwang.registers.models import Person

    rng = random.Random(20261201)  # a reproducible sample, not a secret
    bounds = Person.objects.aggregate(low=Min("pk"), high=Max("pk"))
    low, high = bounds["low"] or 0, bounds["high"] or 0
    chosen: dict[int, str] = {}
    while len(chosen) < count and len(chosen) < Person.objects.count():
        wanted = rng.sample(range(low, high + 1), min(count - len(chosen), high - low + 1))
        for start in range(0, len(wanted), 5000):
            for person in Person.objects.filter(pk__in=wanted[start : start + 5000]).only("pk", "id_number"):
                chosen[person.pk] = person.id_number
    numbers = list(chosen.values())[:count]
    rng.shuffle(numbers)
    return numbers


def _cases_for(w: World, numbers: list[str]) -> list[str]:
    """A submitted case in the consumer's department for each sampled person (copies of the world's case with
    the person as applicant), so each query names a case the subject is a party to; "ID|case number" each."""
    from django.db import transaction

    from yiwang.cases.models import Case
    from yiwang.common.crypto import id_number_index
    from yiwang.common.masking import mask_id_number

    template = Case.objects.get(number=w.case_number)
    pairs, rows = [], []
    for n, number in enumerate(numbers):
        case_number = f"{template.number[:6]}BENCH{n:09d}"
        pairs.append(f"{number}|{case_number}")
        row = Case(**{f.attname: getattr(template, f.attname) for f in Case._meta.concrete_fields})
        row.pk, row.number, row.idempotency_key = None, case_number, None
        row.applicant, row.applicant_id_number = None, number
        row.applicant_index, row.applicant_id_masked = id_number_index(number), mask_id_number(number)
        rows.append(row)
    with transaction.atomic():
        Case.objects.filter(number__contains="BENCH").delete()
        for start in range(0, len(rows), 2000):
            Case.objects.bulk_create(rows[start : start + 2000])
    return pairs


def setup(vendor: str, persons: int, sample: int) -> World:
    from django.core.management import call_command

    from yiwang.catalogue.models import ItemVersion
    from yiwang.sharing.models import Grant

    call_command("migrate", interactive=False, verbosity=0)
    if not ItemVersion.objects.exists():
        call_command("demo", no_users=True)  # the organisations and the published items the cases apply for
    total, seconds = _population(persons)
    world_file = _world_file(vendor)
    old = World(**json.loads(world_file.read_text())) if world_file.exists() else None
    if old is not None and not Grant.objects.filter(pk=old.grant_id, consumer_id=old.department_id).exists():
        old = None  # the world of a database since dropped: make it again
    if old is not None:
        w = World(**{**asdict(old), "persons": total, "generation_seconds": seconds or old.generation_seconds})
    else:
        case = _case()
        consumer = case.department
        resource = _resource()
        grant = _grant(resource, consumer)
        client_id, secret, key_id, private_pem = _client(consumer)
        w = World(
            department_id=consumer.pk,
            department_name=consumer.name,
            case_number=case.number,
            grant_id=grant.pk,
            client_id=client_id,
            client_secret=secret,
            key_id=key_id,
            private_key_pem=private_pem,
            persons=total,
            generation_seconds=seconds,
        )
    world_file.write_text(json.dumps(asdict(w), ensure_ascii=False, indent=2))
    subjects_file = _subjects_file(vendor)
    have = json.loads(subjects_file.read_text()) if subjects_file.exists() else []
    if len(have) < sample:
        subjects_file.write_text(json.dumps(_cases_for(w, _sample(sample))))
    if seconds is not None:
        _save(f"generation-{vendor}", {"persons": total, "seconds": seconds, "load_average": os.getloadavg()})
    print(
        f"World: {total:,} persons; consumer {w.department_name} (case {w.case_number}), grant {w.grant_id}, "
        f"client {w.client_id}; {max(len(have), sample):,} ID numbers in {subjects_file}."
    )
    return w


# --- the calls measured ---------------------------------------------------------------------------------------


def _caller(w: World) -> Any:
    from yiwang.catalogue.models import Organisation
    from yiwang.sharing import exchange

    return exchange.Caller(Organisation.objects.get(pk=w.department_id), OFFICIAL, CLIENT_NAME)


def _request(w: World, subject: str) -> Any:
    from yiwang.sharing import exchange

    number, case_number = subject.split("|")
    return exchange.Request(RESOURCE, number, PURPOSE, case_number, fields=None)


def logged(w: World) -> Callable[[str], Callable[[], object]]:
    """``exchange.query``, as the API calls it."""
    from yiwang.sharing import exchange

    caller = _caller(w)

    def call(subject: str) -> Callable[[], object]:
        def run() -> object:
            answer = exchange.query(caller, _request(w, subject))
            return None if answer.found else "not found"

        return run

    return call


def unlogged(w: World) -> Callable[[str], Callable[[], object]]:
    """The same steps as ``exchange.query`` (checks outside, the read in a transaction) without the log append."""
    from django.db import transaction

    from yiwang.sharing import exchange

    caller = _caller(w)

    def call(subject: str) -> Callable[[], object]:
        def run() -> object:
            resource, subject_, fields, _grant = exchange._prepare(caller, _request(w, subject))
            with transaction.atomic():
                found, _data = exchange._read(resource, subject_, fields)
            return None if found else "not found"

        return run

    return call


def over_http(w: World) -> Callable[[str], Callable[[], object]]:
    """``POST /api/v1/sharing/query`` through Django's whole stack, signed as a department system signs
    (sharing/signing.py): a bearer token from the client-credentials grant, the Ed25519 signature over the
    canonical text, a fresh nonce; the answer must be 200 with the platform's signature headers."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from django.test import Client

    from yiwang.sharing import signing

    private = serialization.load_pem_private_key(w.private_key_pem.encode(), password=None)
    assert isinstance(private, Ed25519PrivateKey)
    client = Client(enforce_csrf_checks=True)
    token_response = client.post(
        "/o/token/",
        {"grant_type": "client_credentials", "scope": "sharing:exchange"},
        secure=True,
        headers={"Authorization": "Basic " + signing.b64(f"{w.client_id}:{w.client_secret}".encode())},
    )
    if token_response.status_code != 200:
        sys.exit(f"No token for the bench client: {token_response.status_code} {token_response.content[:300]!r}")
    token = token_response.json()["access_token"]

    def call(subject: str) -> Callable[[], object]:
        number, case_number = subject.split("|")

        def run() -> object:
            body = json.dumps(
                {
                    "resource": RESOURCE,
                    "subject": number,
                    "purpose": PURPOSE,
                    "case_number": case_number,
                },
                ensure_ascii=False,
            ).encode()
            timestamp, nonce = str(int(time.time())), uuid.uuid4().hex
            text = signing.request_text(
                method="POST", path=API_PATH, timestamp=timestamp, nonce=nonce, official=OFFICIAL, body=body
            )
            response = client.generic(
                "POST",
                API_PATH,
                body,
                content_type="application/json",
                secure=True,
                headers={
                    "Authorization": f"Bearer {token}",
                    "Yiwang-Key-Id": w.key_id,
                    "Yiwang-Timestamp": timestamp,
                    "Yiwang-Nonce": nonce,
                    "Yiwang-Official": signing.encode_official(OFFICIAL),
                    "Yiwang-Signature": signing.b64(private.sign(text)),
                },
            )
            if response.status_code != 200:
                return f"HTTP {response.status_code}"
            if not response.headers.get("Yiwang-Signature") or not response.headers.get("Yiwang-Record"):
                return "unsigned answer"
            return None

        return run

    return call


def api_available() -> bool:
    from django.urls import Resolver404, resolve

    try:
        resolve(API_PATH)
    except Resolver404:
        return False
    return True


def over_http_unlogged(w: World) -> Callable[[str], Callable[[], object]]:
    """``over_http`` with the answer's log append left out — in this bench process only, by replacing
    ``exchange._answered`` with a record that is never written (the platform has no switch for it): what the
    access log costs a department system's query through the whole stack."""
    from yiwang.sharing import exchange
    from yiwang.sharing.models import AccessRecord

    def unrecorded(*_args: object, **_kwargs: object) -> AccessRecord:
        return AccessRecord(seq=0, hash="0" * 64, prev_hash="0" * 64)

    exchange._answered = unrecorded  # type: ignore[assignment]
    return over_http(w)


KINDS: dict[str, tuple[str, Callable[[World], Callable[[str], Callable[[], object]]]]] = {
    "query": ("exchange.query (logged)", logged),
    "nolog": ("exchange._prepare + _read (no log)", unlogged),
    "api": (f"POST {API_PATH} (HTTP stack, signed)", over_http),
    "apinolog": (f"POST {API_PATH} without the log append", over_http_unlogged),
}
# The pairs ``compare`` alternates: logged first, then the same path without the append.
PAIRS = {"core": ("query", "nolog"), "api": ("api", "apinolog")}


# --- workers ---------------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    label: str
    samples: list[float]  # milliseconds
    errors: dict[str, int]
    started: float  # wall clock, after the barrier
    ended: float
    cpu: float  # this process, seconds, while measuring
    db_cpu: float  # its PostgreSQL backend
    busy: tuple[float, float]  # the whole machine's busy CPU seconds (/proc/stat) at the start and the end


def worker(kind: str, w: World, subjects: list[str], warmup: list[str], barrier: Any, out: Any) -> None:
    from django.db import connection

    label, make = KINDS[kind]
    try:
        call = make(w)
        for subject in warmup:
            call(subject)()
        jobs = [call(s) for s in subjects]
        backend = _backend_pid()
    except BaseException as exc:  # the parent waits for every worker's outcome: report the failure instead
        barrier.abort()
        out.put(Outcome(label, [], {f"setup: {exc!r}"[:200]: len(subjects)}, time.time(), time.time(), 0, 0, (0, 0)))
        return
    try:
        barrier.wait()
    except threading.BrokenBarrierError:
        out.put(
            Outcome(
                label, [], {"another worker failed to start": len(subjects)}, time.time(), time.time(), 0, 0, (0, 0)
            )
        )
        return
    started, busy0 = time.time(), machine_busy_seconds()
    cpu0, db0 = cpu_seconds(os.getpid()), cpu_seconds(backend) if backend else 0.0
    samples: list[float] = []
    errors: dict[str, int] = {}
    for job in jobs:
        t0 = time.perf_counter()
        try:
            problem = job()
        except Exception as exc:  # counted, not fatal: the other calls keep the load on
            problem = type(exc).__name__
        if problem is not None:
            errors[str(problem)] = errors.get(str(problem), 0) + 1
            continue
        samples.append((time.perf_counter() - t0) * 1000)
    ended, busy1 = time.time(), machine_busy_seconds()
    cpu = cpu_seconds(os.getpid()) - cpu0
    db_cpu = (cpu_seconds(backend) if backend else 0.0) - db0
    connection.close()
    out.put(Outcome(label, samples, errors, started, ended, cpu, db_cpu, (busy0, busy1)))


def run(kind: str, w: World, subjects: list[str], count: int, workers: int) -> dict[str, Any]:
    """Fork ``workers`` processes (each its own connection) sharing ``count`` queries; summarise them."""
    from django.db import connections

    asked = [subjects[n % len(subjects)] for n in range(count)]
    rng = random.Random(count * 31 + workers)  # which subjects warm up
    connections.close_all()  # each child opens its own
    ctx = mp.get_context("fork")
    barrier = ctx.Barrier(workers)
    out = ctx.Queue()
    processes = [
        ctx.Process(target=worker, args=(kind, w, asked[i::workers], rng.sample(subjects, WARMUP_CALLS), barrier, out))
        for i in range(workers)
    ]
    for p in processes:
        p.start()
    outcomes = [out.get() for _ in processes]
    for p in processes:
        p.join()
    return summarise(outcomes, workers, count)


def summarise(outcomes: list[Outcome], workers: int, count: int) -> dict[str, Any]:
    series = Series(outcomes[0].label)
    for o in outcomes:
        series.samples.extend(o.samples)
        for problem, n in o.errors.items():
            series.errors[problem] += n
    wall = max(o.ended for o in outcomes) - min(o.started for o in outcomes)
    machine = max(o.busy[1] for o in outcomes) - min(o.busy[0] for o in outcomes)
    row = series.row(wall)
    row["label"] = f"{row['label']}, {workers} worker{'s' if workers > 1 else ''}"
    worker_cpu = sum(o.cpu for o in outcomes)
    db_cpu = sum(o.db_cpu for o in outcomes)
    cores = os.cpu_count() or 1
    return {
        "row": row,
        "workers": workers,
        "wall_seconds": wall,
        "calls": count,
        "cpu_ms_per_call": {"worker": 1000 * worker_cpu / count, "database server": 1000 * db_cpu / count},
        "machine_busy_share": machine / (wall * cores) if wall else 0.0,
        "others_share": max(0.0, machine - worker_cpu - db_cpu) / (wall * cores) if wall else 0.0,
        "load_average": os.getloadavg(),
    }


def describe_cpu(summary: dict[str, Any]) -> str:
    cpu = summary["cpu_ms_per_call"]
    return (
        f"CPU ms per query: worker {cpu['worker']:.2f}, database server {cpu['database server']:.2f}. Machine "
        f"{100 * summary['machine_busy_share']:.0f} % busy, {100 * summary['others_share']:.0f} % of it by other "
        f"processes; load {summary['load_average'][0]:.1f}."
    )


def compare(
    w: World, subjects: list[str], count: int, workers: int, rounds: int, quiet: Callable[[], None], pair: str = "core"
) -> Any:
    """The logged kind and its unlogged twin alternately, so drift in the machine's speed falls on both alike."""
    with_log, without = PAIRS[pair]
    runs: dict[str, list[dict[str, Any]]] = {with_log: [], without: []}
    for _ in range(rounds):
        for kind in (without, with_log):
            quiet()
            runs[kind].append(run(kind, w, subjects, count, workers))
    medians = {
        kind: {
            "per_second": statistics.median(r["row"]["per_second"] for r in results),
            "p50": statistics.median(r["row"]["p50"] for r in results),
            "p95": statistics.median(r["row"]["p95"] for r in results),
            "p99": statistics.median(r["row"]["p99"] for r in results),
            "worker_cpu_ms": statistics.median(r["cpu_ms_per_call"]["worker"] for r in results),
            "db_cpu_ms": statistics.median(r["cpu_ms_per_call"]["database server"] for r in results),
            "errors": sum(r["row"]["errors"] for r in results),
        }
        for kind, results in runs.items()
    }
    ratio = medians[with_log]["per_second"] / medians[without]["per_second"]
    return {
        "pair": pair,
        "kinds": [with_log, without],
        "workers": workers,
        "rounds": rounds,
        "count": count,
        "medians": medians,
        "ratio": ratio,
        "runs": runs,
    }


def describe_compare(c: dict[str, Any]) -> str:
    lines = [
        f"| measured ({c['workers']} workers, median of {c['rounds']} run{'s' if c['rounds'] > 1 else ''} of "
        f"{c['count']:,}) | per s | p50 ms "
        "| p95 ms | p99 ms | CPU ms worker | CPU ms database |",
        "|---|---|---|---|---|---|---|",
    ]
    for kind in c["kinds"]:
        m, label = c["medians"][kind], KINDS[kind][0]
        lines.append(
            f"| {label} | {m['per_second']:.1f} | {m['p50']:.1f} | **{m['p95']:.1f}** | {m['p99']:.1f} "
            f"| {m['worker_cpu_ms']:.2f} | {m['db_cpu_ms']:.2f} |"
        )
    each = ", ".join(
        f"{kind} " + " / ".join(f"{r['row']['per_second']:.0f}" for r in c["runs"][kind]) for kind in c["kinds"]
    )
    lines.append(
        f"\nLogging keeps {100 * c['ratio']:.0f} % of the throughput (costs {100 * (1 - c['ratio']):.0f} %). "
        f"Each run, queries/s: {each}."
    )
    return "\n".join(lines)


# --- the chain, one process: profile ---------------------------------------------------------------------------


def verify() -> dict[str, Any]:
    from yiwang.sharing import accesslog

    began = time.perf_counter()
    cpu0 = time.process_time()
    report = accesslog.verify_chain()
    seconds, cpu = time.perf_counter() - began, time.process_time() - cpu0
    return {
        "checked": report.checked,
        "head_seq": report.head_seq,
        "intact": report.broken is None,
        "broken": asdict(report.broken) if report.broken else None,
        "seconds": seconds,
        "seconds_per_100k": 100_000 * seconds / report.checked if report.checked else 0.0,
        "cpu_seconds_per_100k": 100_000 * cpu / report.checked if report.checked else 0.0,
    }


def describe_verify(v: dict[str, Any]) -> str:
    state = "intact" if v["intact"] else f"BROKEN at #{v['broken']['seq']} ({v['broken']['reason']})"
    return (
        f"Access log after the runs: {v['checked']:,} records, chain {state}; `accesslog.verify_chain()` took "
        f"{v['seconds']:.1f} s ({v['seconds_per_100k']:.1f} s per 100,000 records, {v['cpu_seconds_per_100k']:.1f} s "
        "of it in the bench's process)."
    )


def profile(w: World, subjects: list[str], calls: int) -> str:
    import cProfile
    import io
    import pstats
    import re
    from collections import Counter

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    call = logged(w)
    for s in subjects[:WARMUP_CALLS]:
        call(s)()
    with CaptureQueriesContext(connection) as captured:
        call(subjects[WARMUP_CALLS])()
    lines = [f"{len(captured.captured_queries)} queries in one exchange.query:"]
    shapes: Counter[str] = Counter()
    for q in captured.captured_queries:
        sql = re.sub(r"'[^']*'|\b\d+\b", "?", q["sql"])
        shapes[re.sub(r"\s+", " ", sql)[:160]] += 1
    lines += [f"{n:3d}  {sql}" for sql, n in shapes.most_common()]
    jobs = [call(subjects[n % len(subjects)]) for n in range(WARMUP_CALLS + 1, WARMUP_CALLS + 1 + calls)]
    profiler = cProfile.Profile()
    began = time.process_time()
    profiler.enable()
    for job in jobs:
        job()
    profiler.disable()
    lines.append(f"\n{calls} queries, one process: {1000 * (time.process_time() - began) / calls:.2f} CPU ms each")
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats(os.environ.get("BENCH_PROFILE_SORT", "tottime")).print_stats(35)
    lines.append(text.getvalue())
    return "\n".join(lines)


def info(w: World) -> dict[str, Any]:
    from django.conf import settings
    from django.db import connection

    from yiwang.registers.models import Person
    from yiwang.sharing.models import AccessRecord

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT version(), pg_size_pretty(pg_database_size(current_database())),"
                " current_setting('shared_buffers'), current_setting('synchronous_commit')"
            )
            row = cursor.fetchone()
        database = (
            f"{str(row[0]).split(' on ')[0]}, database {row[1]}, shared_buffers {row[2]}, synchronous_commit {row[3]}"
            if row
            else "PostgreSQL"
        )
    else:
        import sqlite3

        name = Path(str(connection.settings_dict["NAME"])).resolve()
        shown = name.relative_to(ROOT) if name.is_relative_to(ROOT) else name.name
        database = f"SQLite {sqlite3.sqlite_version} (embedded), file {shown}"
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem_kb = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if "MemTotal" in line)
    backend = settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[1]
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "database": database,
        "cache": backend,
        "python": platform.python_version(),
        "persons": Person.objects.count(),
        "access_records": AccessRecord.objects.count(),
        "consumer": w.department_name,
        "generation_seconds": w.generation_seconds,
    }


def _describe_info(i: dict[str, Any]) -> str:
    generated = (
        f" (generated in {i['generation_seconds'] / 60:.1f} min)" if i.get("generation_seconds") is not None else ""
    )
    return (
        f"Machine: {i['cpus']} cores ({i['cpu']}), {i['memory_gib']} GiB; {i['database']}; cache {i['cache']} (the "
        f"rate limit's counter); Python {i['python']}.\n"
        f"Data at the start: {i['persons']:,} persons in the population register{generated}, {i['access_records']:,} "
        f"access records; consumer {i['consumer']}."
    )


def _save(name: str, data: Any) -> None:
    save_result("sharing", name, data)


def _write_doc(tag: str, text: str) -> None:
    write_doc_block(DOC_MARKER, tag, text)


def main(argv: Sequence[str]) -> None:
    args = _arguments(argv)
    _configure()
    import django

    django.setup()
    from django.db import connection

    vendor = connection.vendor
    tag = "postgresql" if vendor == "postgresql" else "sqlite"
    if args.command == "setup":
        persons = args.persons if args.persons is not None else (1_000_000 if tag == "postgresql" else 100_000)
        setup(tag, persons, args.sample)
        return
    w, subjects = load_world(tag)
    out: list[str] = []

    def emit(text: str) -> None:
        print(text, flush=True)
        out.append(text)

    def quiet() -> None:
        if args.wait_quiet:
            wait_for_quiet(args.wait_quiet)

    if args.command in ("info", "all"):
        details = info(w)
        _save(f"info-{tag}", details)
        emit(_describe_info(details))
    if args.command == "profile":
        print(profile(w, subjects, args.calls))
        return
    runs: list[tuple[str, int]] = []
    if args.command in ("query", "nolog", "api"):
        runs = [(args.command, args.workers)]
    elif args.command == "all":
        runs = [("query", 1), ("query", 2)]
    rows, notes = [], []
    for kind, workers in runs:
        quiet()
        result = run(kind, w, subjects, args.count, workers)
        _save(f"{kind}-{workers}-{tag}", result)
        rows.append(result["row"])
        notes.append(f"- {result['row']['label']}: {describe_cpu(result)}")
    if rows:
        emit(f"\n{'PostgreSQL' if tag == 'postgresql' else 'SQLite'}, {args.count:,} queries per run\n")
        emit(table(rows))
        emit("\n" + "\n".join(notes))
    if args.command in ("compare", "all"):
        workers = args.workers if args.command == "compare" else 2
        result = compare(w, subjects, args.count, workers, args.rounds, quiet)
        _save(f"compare-{workers}-{tag}", result)
        emit("\nWhat the access log costs: the same queries with and without the append, alternating\n")
        emit(describe_compare(result))
    if args.command == "compare-api" or (args.command == "all" and api_available()):
        workers = args.workers if args.command == "compare-api" else 2
        result = compare(w, subjects, args.count, workers, args.rounds, quiet, pair="api")
        _save(f"compare-api-{workers}-{tag}", result)
        emit("\nWhat the access log costs a department system's query through the HTTP stack, alternating\n")
        emit(describe_compare(result))
    if args.command == "all" and not api_available():
        emit(f"\nThrough the HTTP stack: not measured, {API_PATH} does not exist.")
    elif args.command == "all":
        quiet()
        result = run("api", w, subjects, args.count, 2)
        _save(f"api-2-{tag}", result)
        emit("\nThrough the HTTP stack (in process: no network, no gunicorn)\n")
        emit(table([result["row"]]))
        emit("\n" + describe_cpu(result))
    if args.command in ("query", "compare", "compare-api", "all", "verify", "api"):
        checked = verify()
        _save(f"verify-{tag}", checked)
        emit("\n" + describe_verify(checked))
        if not checked["intact"]:
            sys.exit(1)
    if args.command == "all" and args.doc:
        _write_doc(tag, "\n".join(out))


if __name__ == "__main__":
    main(sys.argv[1:])
