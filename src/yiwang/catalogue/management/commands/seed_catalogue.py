"""``yiwang seed_catalogue --items N``: a large, valid, published catalogue for benchmarks.

Items are variations of the demo catalogue spread over every county of the reference data, each with
its own implementing body (valid USCC) and implementation code; they go through the same import and
publish services as real data, in batches, with a progress bar.
"""

from __future__ import annotations

import copy
import json
import random
from importlib import resources
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from tqdm import tqdm

from yiwang.audit.actors import SystemActor
from yiwang.catalogue import services
from yiwang.common.models import Division, DivisionLevel
from yiwang.common.validators import build_uscc

DEPARTMENT_SUFFIXES = [
    "市场监督管理局", "卫生健康局", "民政局", "人力资源和社会保障局", "自然资源和规划局",
    "交通运输局", "生态环境局", "住房和城乡建设局", "教育局", "公安局",
]  # fmt: skip
ORG_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


class Command(BaseCommand):
    help = "Seed a large published catalogue for benchmarks (variations of the demo items)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--items", type=int, default=10_000)
        parser.add_argument("--batch", type=int, default=250)
        parser.add_argument("--seed", type=int, default=20261128)

    def handle(self, *args: Any, **options: Any) -> None:
        rng = random.Random(options["seed"])  # noqa: S311 - reproducible synthetic data, not secrets
        templates: list[dict[str, Any]] = json.loads(
            resources.files("yiwang.catalogue").joinpath("demo", "items.json").read_text(encoding="utf-8")
        )["items"]
        counties = list(Division.objects.filter(level=DivisionLevel.COUNTY).order_by("code"))
        actor = SystemActor("seed")
        total = options["items"]
        batch: list[dict[str, Any]] = []
        with tqdm(total=total, unit="item", desc="seeding") as bar:
            for index in range(total):
                batch.append(
                    self._variant(templates[index % len(templates)], counties[index % len(counties)], index, rng)
                )
                if len(batch) == options["batch"] or index == total - 1:
                    services.import_items(actor=actor, items=batch, publish_clean=True)
                    bar.update(len(batch))
                    batch = []

    def _variant(self, template: dict[str, Any], county: Division, index: int, rng: random.Random) -> dict[str, Any]:
        item = copy.deepcopy(template)
        department = DEPARTMENT_SUFFIXES[index % len(DEPARTMENT_SUFFIXES)]
        org_body = "".join(rng.choice(ORG_ALPHABET) for _ in range(8))
        uscc = build_uscc("11", county.code, org_body)
        item["region_code"] = county.code
        item["implementing_body"] = {"name": f"{county.full_name}{department}", "uscc": uscc, "nature": "1"}
        item["implementation_code"] = f"{uscc}{index:013d}"
        for key in ("handling_body", "entrusting_body", "co_implementing_bodies", "effective_date", "cancel_date"):
            item.pop(key, None)
        return item
