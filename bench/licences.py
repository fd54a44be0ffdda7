#!/usr/bin/env python3
"""Licences at scale (issue 5): issue and seal 1,000 licences, verify 1,000.

Measured in process on the configured database (PostgreSQL or SQLite, prepared by ``bench/run_licences``; results in
docs/performance.md). Each worker is its own process with its own database connection — as Celery or gunicorn
workers would be — forked once the world is ready; each warms up (the font, the keys, the translations), then all
start together and share the N calls between them:

- ``issue``: ``issuance.issue`` — the business licence (营业执照) of a legal entity from the register, issued by
  杭州市西湖区市场监督管理局: the record, its GB/T 36904 identifier, the page (``render``), the PAdES B-T seal with the
  platform's time-stamp (``sealing.seal_pdf``), the file, the audit record; one transaction each, every licence
  sealed and time-stamped on its own. Throughput = N ÷ (the last worker's end − the common start); latency per call.
  CPU per licence, read from /proc: rendering and sealing (timed inside the workers), the rest of the worker (ORM,
  encryption, file, audit) and the database server (the worker's PostgreSQL backend; SQLite runs in the worker).
- ``verify``: the N licences issued last, by ``--kind``: ``identifier`` (``selectors.verify_identifier`` and
  ``verification.public_record``, what the page and API answer for a typed or scanned identifier), ``pdf``
  (``verification.verify_pdf`` on the sealed file as it would be uploaded), ``seal`` (``sealing.check_pdf`` alone: the
  cryptography, no database). Every answer must be ``valid``; anything else is counted as an error.
- ``profile``: one process; the queries of one issuance and where its CPU goes (cProfile).
- ``sizes``: no database; seals (and checks) a page with certificates of every size — their organisation name
  1–256 bytes long, three seals each, both algorithms — and reports the slowest: asn1crypto's cost depends on
  whether some length in the container ends in the byte 0x80 (``sealing._frozen``).
- ``info``: machine, database, data.
- ``all``: info, issue with 1 and 2 workers, each kind of verification with 1 and 2; ``--doc`` writes the results
  into docs/performance.md between the markers of the licences section.

``--sealing FILE`` measures another version of ``licences/sealing.py`` (e.g. the previous commit's, from ``git
show``) in place of the current one, for before/after comparisons on the same machine and data.
"""

from __future__ import annotations

import argparse
import importlib.util
import multiprocessing as mp
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from cases import Series, cpu_seconds, machine_busy_seconds, save_result, table, wait_for_quiet, write_doc_block

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
DOC = ROOT / "docs" / "performance.md"
DOC_MARKER = "<!-- bench/licences.py results, {tag}: {end} -->"  # one block per database (tag postgresql / sqlite)
LICENCE_TYPE = "11100000000013338W032"  # 营业执照, defined by `yiwang demo`
ISSUER = "西湖区市场监督管理局"  # the demo's market regulator of 西湖区, which has a seal after `yiwang demo`
ITEM = "企业设立登记"
WARMUP_CALLS = 3  # per worker, before the clock starts: font (~80 ms), keys, signers, translations
KINDS = ("identifier", "pdf", "seal")
SEALING: ModuleType  # the sealing module measured (``--sealing``), set in main() before the workers fork


def _arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["issue", "verify", "profile", "sizes", "info", "all"])
    parser.add_argument("--count", type=int, default=1000, help="licences issued, or verified, per run")
    parser.add_argument("--workers", type=int, default=1, help="worker processes (issue, verify)")
    parser.add_argument("--kind", choices=KINDS, default="identifier", help="what is verified (verify)")
    parser.add_argument("--calls", type=int, default=100, help="issuances profiled (profile)")
    parser.add_argument("--sealing", type=Path, help="measure this version of licences/sealing.py instead")
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


def _use_sealing(path: Path) -> ModuleType:
    """Put another sealing module where issuance and verification look for it (they call ``sealing.…`` through
    the module, so replacing the module attribute is enough)."""
    from yiwang.licences import issuance, verification

    spec = importlib.util.spec_from_file_location("yiwang.licences.sealing_under_test", path)
    if spec is None or spec.loader is None:
        sys.exit(f"Cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    issuance.sealing = module  # type: ignore[attr-defined]  # the same interface, another version
    verification.sealing = module  # type: ignore[attr-defined]
    return module


# --- the world the bench acts in ------------------------------------------------------------------------------


@dataclass(frozen=True)
class World:
    licence_type_id: int
    issuer_id: int
    issuer_name: str
    holders: list[tuple[str, str]]  # (name, USCC) of legal entities from the register


def world(count: int) -> World:
    """What issuing needs, made by ``yiwang demo`` and ``yiwang registers_generate`` (bench/run_licences)."""
    from yiwang.catalogue.models import Organisation
    from yiwang.licences.models import LicenceType
    from yiwang.registers.models import LegalEntity

    licence_type = LicenceType.objects.filter(code=LICENCE_TYPE, active=True).first()
    issuer = Organisation.objects.filter(name__contains=ISSUER).exclude(uscc__isnull=True).exclude(uscc="").first()
    holders = list(LegalEntity.objects.order_by("uscc").values_list("name", "uscc")[:count])
    if licence_type is None or issuer is None:
        sys.exit("No business licence type or no seal of 西湖区: run `yiwang demo` first (bench/run_licences does).")
    if len(holders) < count:
        sys.exit(f"{len(holders)} legal entities in the register, {count} needed: run bench/run_licences.")
    return World(licence_type.pk, issuer.pk, issuer.name, holders)


def _backend_pid() -> int | None:
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        row = cursor.fetchone()
    return int(row[0]) if row else None


class Stopwatch:
    """CPU seconds spent inside the wrapped functions (rendering, sealing) in this process."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def wrap(self, label: str, function: Callable[..., Any]) -> Callable[..., Any]:
        self.seconds[label] = 0.0

        def timed(*args: Any, **kwargs: Any) -> Any:
            began = time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                self.seconds[label] += time.process_time() - began

        return timed


# --- workers ---------------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    label: str
    calls: int
    samples: list[float]  # milliseconds
    errors: dict[str, int]
    started: float  # wall clock, after the barrier
    ended: float
    cpu: float  # this process, seconds, while measuring
    db_cpu: float  # its PostgreSQL backend
    parts: dict[str, float]  # CPU seconds inside render / seal
    busy: tuple[float, float]  # the whole machine's busy CPU seconds (/proc/stat) when this worker started, ended


def _measure(
    label: str,
    calls: Sequence[Callable[[], object]],
    warmup: Sequence[Callable[[], object]],
    barrier: Any,
    out: Any,
    stopwatch: Stopwatch | None = None,
) -> None:
    from django.db import connection

    for call in warmup:
        call()
    backend = _backend_pid()
    if stopwatch is not None:
        for key in stopwatch.seconds:
            stopwatch.seconds[key] = 0.0
    barrier.wait()
    started, busy0 = time.time(), machine_busy_seconds()
    cpu0, db0 = cpu_seconds(os.getpid()), cpu_seconds(backend) if backend else 0.0
    samples: list[float] = []
    errors: dict[str, int] = {}
    for call in calls:
        t0 = time.perf_counter()
        try:
            answer = call()
        except Exception as exc:  # counted, not fatal: the other calls keep the load on
            errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
            continue
        if answer is not None and answer != "valid":
            errors[f"verdict {answer}"] = errors.get(f"verdict {answer}", 0) + 1
            continue
        samples.append((time.perf_counter() - t0) * 1000)
    ended, busy1 = time.time(), machine_busy_seconds()
    cpu = cpu_seconds(os.getpid()) - cpu0
    db_cpu = (cpu_seconds(backend) if backend else 0.0) - db0
    connection.close()
    parts = dict(stopwatch.seconds) if stopwatch else {}
    out.put(Outcome(label, len(calls), samples, errors, started, ended, cpu, db_cpu, parts, (busy0, busy1)))


def issuing(w: World) -> Callable[[int], Callable[[], object]]:
    """The n-th issuance of the bench, as a call (the type and issuer loaded once, as a worker would keep them)."""
    from yiwang.audit.actors import SystemActor
    from yiwang.catalogue.models import Organisation
    from yiwang.licences import issuance
    from yiwang.licences.constants import HolderKind
    from yiwang.licences.models import LicenceType

    actor = SystemActor("bench")
    licence_type = LicenceType.objects.get(pk=w.licence_type_id)
    issuer = Organisation.objects.get(pk=w.issuer_id)

    def call(n: int) -> Callable[[], object]:
        name, uscc = w.holders[n % len(w.holders)]

        def run() -> None:
            issuance.issue(
                actor=actor,
                licence_type=licence_type,
                issuer=issuer,
                holder=issuance.Holder(name, HolderKind.ORGANISATION, uscc),
                data={"holder": name, "item": ITEM, "case": ""},
                region_code="330106",
            )

        return run

    return call


def issue_worker(w: World, jobs: list[int], barrier: Any, out: Any) -> None:
    from yiwang.licences import render

    stopwatch = Stopwatch()
    render.render = stopwatch.wrap("render", render.render)
    sealing: Any = SEALING
    sealing.seal_pdf = stopwatch.wrap("seal", sealing.seal_pdf)
    call = issuing(w)
    warmup = [call(n) for n in jobs[:WARMUP_CALLS]]
    _measure("issue (issuance.issue)", [call(n) for n in jobs], warmup, barrier, out, stopwatch)


@dataclass(frozen=True)
class Issued:
    identifier: str
    pdf: bytes


def verify_worker(kind: str, items: list[Issued], barrier: Any, out: Any) -> None:
    from yiwang.licences import pki, selectors, services, verification

    def by_identifier(item: Issued) -> Callable[[], object]:
        def run() -> str:
            found = selectors.verify_identifier(item.identifier)
            verification.public_record(found)
            return str(found.verdict)

        return run

    def by_file(item: Issued) -> Callable[[], object]:
        return lambda: str(verification.verify_pdf(item.pdf).verdict)

    active = services.active_root()
    root = pki.certificate_from_pem(active.certificate_pem) if active else None
    crl = services.published_crl()

    def by_seal(item: Issued) -> Callable[[], object]:
        assert root is not None
        return lambda: SEALING.check_pdf(item.pdf, root=root, crl_der=crl).verdict

    make, label = {
        "identifier": (by_identifier, "verify an identifier (selectors.verify_identifier + public_record)"),
        "pdf": (by_file, "verify a PDF (verification.verify_pdf)"),
        "seal": (by_seal, "check a seal (sealing.check_pdf, no database)"),
    }[kind]
    _measure(label, [make(i) for i in items], [make(i) for i in items[:WARMUP_CALLS]], barrier, out)


def run_workers(target: Callable[..., None], shares: list[tuple[Any, ...]]) -> list[Outcome]:
    """Fork one process per share (each with its own database connection); return their outcomes."""
    from django.db import connections

    connections.close_all()  # each child opens its own
    ctx = mp.get_context("fork")
    barrier = ctx.Barrier(len(shares))
    out = ctx.Queue()
    processes = [ctx.Process(target=target, args=(*share, barrier, out)) for share in shares]
    for p in processes:
        p.start()
    outcomes = [out.get() for _ in processes]
    for p in processes:
        p.join()
    return outcomes


def summarise(outcomes: list[Outcome], workers: int) -> dict[str, Any]:
    series = Series(outcomes[0].label)
    for o in outcomes:
        series.samples.extend(o.samples)
        for kind, n in o.errors.items():
            series.errors[kind] += n
    wall = max(o.ended for o in outcomes) - min(o.started for o in outcomes)
    machine = max(o.busy[1] for o in outcomes) - min(o.busy[0] for o in outcomes)
    row = series.row(wall)
    row["label"] = f"{row['label']}, {workers} worker{'s' if workers > 1 else ''}"
    calls = sum(o.calls for o in outcomes)
    worker_cpu = sum(o.cpu for o in outcomes)
    db_cpu = sum(o.db_cpu for o in outcomes)
    parts = {key: sum(o.parts.get(key, 0.0) for o in outcomes) for key in ("render", "seal") if outcomes[0].parts}
    return {
        "row": row,
        "wall_seconds": wall,
        "calls": calls,
        "cpu_ms_per_call": {
            **{key: 1000 * value / calls for key, value in parts.items()},
            "worker": 1000 * worker_cpu / calls,
            "rest of the worker": 1000 * (worker_cpu - sum(parts.values())) / calls,
            "database server": 1000 * db_cpu / calls,
        },
        "machine_busy_share": machine / (wall * (os.cpu_count() or 1)) if wall else 0.0,
        "others_share": max(0.0, machine - worker_cpu - db_cpu) / (wall * (os.cpu_count() or 1)) if wall else 0.0,
        "load_average": os.getloadavg(),
    }


def describe_cpu(summary: dict[str, Any]) -> str:
    parts = ", ".join(f"{key} {value:.1f}" for key, value in summary["cpu_ms_per_call"].items() if key != "worker")
    size = f"Sealed licences of {summary['pdf_bytes'] / 1024:.0f} KB. " if "pdf_bytes" in summary else ""
    return (
        f"{size}CPU ms per call: {parts} (worker in all {summary['cpu_ms_per_call']['worker']:.1f}). Machine "
        f"{100 * summary['machine_busy_share']:.0f} % busy, {100 * summary['others_share']:.0f} % of it by other "
        f"processes; load {summary['load_average'][0]:.1f}."
    )


def issue(w: World, count: int, workers: int) -> dict[str, Any]:
    from yiwang.licences.models import Licence

    shares = [(w, list(range(i, count, workers))) for i in range(workers)]
    result = summarise(run_workers(issue_worker, shares), workers)
    issued = Licence.objects.exclude(file="").order_by("-pk")[:count]
    result["pdf_bytes"] = int(statistics.mean(licence.file.size for licence in issued))
    return result


def issued_last(count: int) -> list[Issued]:
    from yiwang.licences import issuance
    from yiwang.licences.constants import LicenceStatus
    from yiwang.licences.models import Licence

    licences = list(Licence.objects.filter(status=LicenceStatus.VALID).exclude(file="").order_by("-pk")[:count])
    if len(licences) < count:
        sys.exit(f"{len(licences)} licences to verify, {count} needed: run `bench/licences.py issue` first.")
    return [Issued(licence.identifier, issuance.sealed_bytes(licence)) for licence in licences]


def verify(kind: str, items: list[Issued], workers: int) -> dict[str, Any]:
    shares = [(kind, items[i::workers]) for i in range(workers)]
    return summarise(run_workers(verify_worker, shares), workers)


# --- one process: queries and profile ----------------------------------------------------------------------


def profile(w: World, calls: int) -> str:
    """The queries of one issuance (after warm-up), then cProfile over ``calls`` issuances in one process."""
    import cProfile
    import io
    import pstats
    import re
    from collections import Counter

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    call = issuing(w)
    for n in range(WARMUP_CALLS):
        call(n)()
    with CaptureQueriesContext(connection) as captured:
        call(WARMUP_CALLS)()
    shapes: Counter[str] = Counter()
    for q in captured.captured_queries:
        sql = re.sub(r"'[^']*'|\b\d+\b", "?", q["sql"])
        shapes[re.sub(r"\s+", " ", sql)[:140]] += 1
    lines = [f"{len(captured.captured_queries)} queries in one issuance:"]
    lines += [f"{n:3d}  {sql}" for sql, n in shapes.most_common()]
    jobs = [call(n) for n in range(WARMUP_CALLS + 1, WARMUP_CALLS + 1 + calls)]
    profiler = cProfile.Profile()
    began = time.process_time()
    profiler.enable()
    for job in jobs:
        job()
    profiler.disable()
    each = 1000 * (time.process_time() - began) / calls
    lines.append(f"\n{calls} issuances, one process: {each:.1f} CPU ms each (under cProfile)")
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats(os.environ.get("BENCH_PROFILE_SORT", "cumulative")).print_stats(40)
    lines.append(text.getvalue())
    return "\n".join(lines)


def sizes(seals: int = 3) -> str:
    """The slowest seal and check over certificates of every size (see the module docstring)."""
    import datetime as dt

    from yiwang.licences import pki, render

    sealing: Any = SEALING
    now = dt.datetime.now(dt.UTC)
    page = render.render(
        render.LicenceDocument(
            title="营业执照",
            identifier="1.2.156.3005.2.11100000000013338W032.11330105002500287C.20260000000001.001.X",
            serial="20260000000001",
            holder_label="名称",
            holder_name="杭州西湖示例餐饮管理有限公司",
            holder_code_label="统一社会信用代码",
            holder_code="91330106MA2B0XYZ0J",
            rows=[("经营范围", "餐饮服务")],
            issuer_name="杭州市西湖区市场监督管理局",
            issued_on=now.date(),
            valid_from=now.date(),
            valid_until=None,
            verify_url="https://example.invalid/licences/v/x/",
        )
    )
    lines = []
    for algorithm in pki.ALGORITHMS:
        root_key, seal_key, tsa_key = (pki.new_key(algorithm) for _ in range(3))
        root = pki.root_certificate(
            root_key, name="一网通办根证书", serial=pki.random_serial(), validity=pki.Validity.years_from(now, 20)
        )
        crl = pki.crl_to_der(
            pki.revocation_list(
                issuer=root,
                issuer_key=root_key,
                revoked=[],
                number=1,
                this_update=now,
                next_update=now + dt.timedelta(days=7),
            )
        )
        seal_ms: list[float] = []
        check_ms: list[float] = []
        for n in range(1, 257):
            certificates = [
                pki.issued_certificate(
                    issuer=root,
                    issuer_key=root_key,
                    public_key=key.public_key(),
                    common_name="电子印章",
                    organisation="O" * n,
                    uscc="" if key is tsa_key else "11330105002500287C",
                    serial=pki.random_serial(),
                    validity=pki.Validity(now - dt.timedelta(hours=1), now + dt.timedelta(days=365)),
                    crl_url="http://127.0.0.1:8000/licences/pki/crl.der",
                    time_stamping=key is tsa_key,
                )
                for key in (seal_key, tsa_key)
            ]
            keys = sealing.SealingKeys(certificates[0], seal_key, certificates[1], tsa_key, root)
            sealing.seal_pdf(page, keys)  # the key set's signers
            for _ in range(seals):
                began = time.process_time()
                sealed = sealing.seal_pdf(page, keys)
                seal_ms.append(1000 * (time.process_time() - began))
                began = time.process_time()
                verdict = sealing.check_pdf(sealed, root=root, crl_der=crl).verdict
                check_ms.append(1000 * (time.process_time() - began))
                if verdict != "valid":
                    sys.exit(f"{algorithm}, organisation of {n} bytes: the seal is {verdict}")
        lines.append(
            f"{algorithm}: {len(seal_ms)} seals, CPU ms median {statistics.median(seal_ms):.1f}, slowest "
            f"{max(seal_ms):.1f}, over 50 ms: {sum(ms > 50 for ms in seal_ms)}; checks median "
            f"{statistics.median(check_ms):.1f}, slowest {max(check_ms):.1f}"
        )
    return "\n".join(lines)


def info(w: World) -> dict[str, Any]:
    from django.db import connection

    from yiwang.licences.constants import Purpose
    from yiwang.licences.models import Licence, SigningCertificate

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT version(), pg_size_pretty(pg_database_size(current_database()))")
            row = cursor.fetchone()
        database = f"{str(row[0]).split(' on ')[0]}, database {row[1]}" if row else "PostgreSQL"
    else:
        import sqlite3

        # Named relative to the repository: the results are committed, and this machine's paths mean nothing elsewhere.
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
    seal = SigningCertificate.objects.filter(purpose=Purpose.SEAL, organisation_id=w.issuer_id).order_by("-pk").first()
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "database": database,
        "python": platform.python_version(),
        "licences": Licence.objects.count(),
        "seal_algorithm": seal.algorithm if seal else "",
        "issuer": w.issuer_name,
    }


def _describe_info(i: dict[str, Any]) -> str:
    return (
        f"Machine: {i['cpus']} cores ({i['cpu']}), {i['memory_gib']} GiB; {i['database']}; Python {i['python']}.\n"
        f"Data at the start: {i['licences']:,} licences in the table; the seal of {i['issuer']} is "
        f"{i['seal_algorithm']}."
    )


def _save(name: str, data: Any) -> None:
    save_result("licences", name, data)


def _write_doc(tag: str, text: str) -> None:
    write_doc_block(DOC_MARKER, tag, text)


def main(argv: Sequence[str]) -> None:
    args = _arguments(argv)
    _configure()
    import django

    django.setup()
    from django.db import connection

    global SEALING
    if args.sealing:
        SEALING = _use_sealing(args.sealing)
    else:
        from yiwang.licences import sealing

        SEALING = sealing
    w = world(args.count)
    backend = "PostgreSQL" if connection.vendor == "postgresql" else "SQLite"
    tag = f"{backend.lower()}{'-' + args.sealing.stem if args.sealing else ''}"
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
        print(profile(w, args.calls))
    if args.command == "sizes":
        print(sizes())
    rows: list[dict[str, Any]] = []
    notes: list[str] = []
    runs: list[tuple[str, str, int]] = []
    if args.command == "issue":
        runs = [("issue", "", args.workers)]
    elif args.command == "verify":
        runs = [("verify", args.kind, args.workers)]
    elif args.command == "all":
        runs = [("issue", "", 1), ("issue", "", 2)] + [("verify", kind, n) for kind in KINDS for n in (1, 2)]
    for command, kind, workers in runs:
        quiet()
        result = issue(w, args.count, workers) if command == "issue" else verify(kind, issued_last(args.count), workers)
        _save(f"{command}{'-' + kind if kind else ''}-{workers}-{tag}", result)
        rows.append(result["row"])
        notes.append(f"- {result['row']['label']}: {describe_cpu(result)}")
        if args.command != "all":
            emit(table([result["row"]]))
            emit(describe_cpu(result))
    if args.command == "all":
        version = f" (sealing: {args.sealing})" if args.sealing else ""
        emit(f"\n{backend}, {args.count:,} calls per run{version}\n")
        emit(table(rows))
        emit("\n" + "\n".join(notes))
        if args.doc:
            _write_doc(tag, "\n".join(out))


if __name__ == "__main__":
    main(sys.argv[1:])
