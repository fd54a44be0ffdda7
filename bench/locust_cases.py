"""Load scenario for the case pages over HTTP: the staff queue and "my cases" (see docs/performance.md).

Sessions come from ``bench/cases.py sessions`` (signed in, second factor passed for staff); ``bench/run_cases http``
makes them and serves the site with gunicorn. Weights: the busiest department's window clerk and reviewer open
their queue 2 : 1 against an applicant opening their case list.
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

from locust import FastHttpUser, between, task

HERE = Path(__file__).parent
SESSIONS = json.loads((HERE / "results" / "cases-sessions.json").read_text(encoding="utf-8"))
COOKIE = SESSIONS["cookie"]
# Think time between one person's requests (seconds, mean); BENCH_WAIT=0 measures saturation.
WAIT = float(os.environ.get("BENCH_WAIT", "2"))


class Staff(FastHttpUser):
    weight = 2
    wait_time = between(WAIT * 0.5, WAIT * 1.5)

    def on_start(self) -> None:
        self.role = random.choice(["clerk", "reviewer"])
        self.headers = {"Cookie": f"{COOKIE}={SESSIONS[self.role]}"}

    @task
    def queue(self) -> None:
        self.client.get("/workbench/queue/", headers=self.headers, name=f"/workbench/queue/ ({self.role})")


class Applicant(FastHttpUser):
    weight = 1
    wait_time = between(WAIT * 0.5, WAIT * 1.5)

    def on_start(self) -> None:
        self.headers = {"Cookie": f"{COOKIE}={random.choice(SESSIONS['applicants'])}"}

    @task
    def my_cases(self) -> None:
        self.client.get("/my/cases/", headers=self.headers, name="/my/cases/")
