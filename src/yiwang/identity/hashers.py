"""Argon2id with OWASP's recommended parameters instead of Django's defaults.

Django's Argon2PasswordHasher uses 100 MiB of memory, 2 passes and 8 lanes: on a 2-core application server
that is ~320 ms of CPU and 100 MiB per concurrent sign-in (docs/performance.md), so a burst of logins at the
start of office hours would exhaust memory. OWASP's Password Storage Cheat Sheet recommends Argon2id with at
least 19 MiB, 2 passes and 1 lane; that is what new hashes use. Old hashes keep verifying (their parameters
are inside the hash) and are upgraded at the next successful sign-in.
"""

from __future__ import annotations

from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2idHasher(Argon2PasswordHasher):
    # The algorithm name stays "argon2" so hashes remain interchangeable with Django's hasher.
    time_cost = 2
    memory_cost = 19 * 1024  # KiB
    parallelism = 1
