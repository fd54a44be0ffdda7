"""Load scenario for the public portal: guide pages and searches (see docs/performance.md)."""

from __future__ import annotations

import os
import random
from pathlib import Path

from locust import FastHttpUser, between, task

HERE = Path(__file__).parent
CODES = (HERE / "results" / "codes.txt").read_text(encoding="utf-8").split()
TERMS = [
    "营业执照",
    "个体",
    "规划许可",
    "食品经营",
    "结婚登记",
    "卫生许可",
    "市场监督管理局",
    "社会保障",
    "养老",
    "身份证",
]
# Think time between a citizen's requests (seconds, mean); BENCH_WAIT=0 measures saturation throughput.
WAIT = float(os.environ.get("BENCH_WAIT", "2"))


class Citizen(FastHttpUser):
    wait_time = between(WAIT * 0.5, WAIT * 1.5)

    @task(3)
    def guide(self) -> None:
        self.client.get(f"/items/{random.choice(CODES)}/", name="/items/[code]/")

    @task(2)
    def search(self) -> None:
        self.client.get("/search/", params={"q": random.choice(TERMS)}, name="/search/?q=[term]")

    @task(1)
    def search_code(self) -> None:
        self.client.get("/search/", params={"q": random.choice(CODES)}, name="/search/?q=[code]")
