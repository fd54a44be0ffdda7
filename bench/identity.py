#!/usr/bin/env python3
"""Identity costs, measured in process on the configured database (``bench/identity.py [N]``).

What a sign-in costs is dominated by the Argon2id hash (Django's parameters: 100 MiB memory, 2 passes,
8 lanes) — deliberately slow, so the number matters for sizing: logins per second per core and memory per
concurrent login. Also measured: blind-index lookup of an account by ID number, field decryption, and the
``/api/v1/me/`` read. Run on a scratch database: ``YIWANG_DATA_DIR=/tmp/idbench bench/identity.py``.
"""

from __future__ import annotations

import contextlib
import os
import statistics
import sys
import time
from collections.abc import Callable

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yiwang.conf.settings")
os.environ.setdefault("YIWANG_LOG_LEVEL", "WARNING")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402

from yiwang.audit.actors import SystemActor  # noqa: E402
from yiwang.common import crypto  # noqa: E402
from yiwang.identity import services  # noqa: E402
from yiwang.registers.generator import generate_registers  # noqa: E402
from yiwang.registers.models import Person  # noqa: E402

PASSWORD = "bench passphrase 2026"  # noqa: S105 - a benchmark account


def timed(label: str, runs: int, fn: Callable[[int], object]) -> None:
    samples = []
    for i in range(runs):
        start = time.perf_counter()
        fn(i)
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    p95 = samples[max(0, int(len(samples) * 0.95) - 1)]
    print(f"| {label} | {runs} | {statistics.median(samples):.2f} | {p95:.2f} |")


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 50
    call_command("migrate", verbosity=0)
    actor = SystemActor("bench")
    if Person.objects.count() < 10_000:
        generate_registers(actor=actor, people=10_000, entities=0, seed=7)
    people = list(Person.objects.order_by("pk")[:runs])
    users = []
    for n, person in enumerate(people):
        user = services.find_user(person.id_number)
        if user is None:
            user = services.register_person(
                actor=actor, id_number=person.id_number, name=person.name, phone=f"139{n:08d}", password=PASSWORD
            )
        users.append(user)
    print(f"database: {django.db.connection.vendor}; {Person.objects.count()} people in the register")
    print("| operation | runs | median ms | p95 ms |")
    print("|---|---|---|---|")
    timed(
        "sign-in, right password (Argon2id verify + audit)",
        runs,
        lambda i: services.sign_in(login=people[i].id_number, password=PASSWORD),
    )
    timed("sign-in, wrong password (verify + lock counter + audit)", runs, lambda i: _wrong(people[i].id_number))
    timed("account lookup by ID number (blind index)", runs, lambda i: services.find_user(people[i].id_number))
    timed("encrypt + decrypt one field", runs, lambda i: crypto.decrypt(crypto.encrypt(people[i].id_number)))
    clients = []
    for user in users:
        client = Client()
        client.force_login(user)
        clients.append(client)
    timed("GET /api/v1/me/ (signed-in session)", runs, lambda i: clients[i].get("/api/v1/me/"))


def _wrong(login: str) -> None:
    with contextlib.suppress(services.SignInRefused):
        services.sign_in(login=login, password="not the password")  # noqa: S106 - deliberately wrong


if __name__ == "__main__":
    main()
