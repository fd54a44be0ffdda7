"""``yiwang cases_generate --cases N --seed S``: synthetic cases for benchmarks (yiwang.cases.generator).

Needs a published catalogue (``yiwang demo``, ``yiwang seed_catalogue``) and a population register
(``yiwang registers_generate``). Each run adds N cases; staff of the busiest departments and the heavy
applicants' accounts are created once (password ``YIWANG_DEMO_PASSWORD``, as ``yiwang demo``).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from yiwang.audit.actors import SystemActor
from yiwang.cases.generator import generate_cases
from yiwang.common.errors import InvalidInput
from yiwang.conf.env import env_str


class Command(BaseCommand):
    help = "Generate synthetic cases with their tasks and transitions (benchmark data; deterministic by seed)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--cases", type=int, default=10_000, help="How many cases to add.")
        parser.add_argument("--seed", type=int, default=20261130, help="Random seed; the same seed, the same data.")
        parser.add_argument("--batch", type=int, default=5000, help="Cases per transaction and audit record.")
        parser.add_argument("--applicants", type=int, default=50_000, help="Applicants drawn from the register.")
        parser.add_argument("--heavy", type=int, default=20, help="Applicants with accounts and 50–200 cases each.")
        parser.add_argument("--staffed", type=int, default=5, help="Busiest departments given a clerk and a reviewer.")
        parser.add_argument(
            "--busiest-share", type=float, default=0.10, help="Share of the cases in the busiest department."
        )
        parser.add_argument("--no-progress", action="store_true", help="Do not show a progress bar.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = generate_cases(
                actor=SystemActor("cli:cases_generate"),
                cases=options["cases"],
                seed=options["seed"],
                batch_size=options["batch"],
                applicants=options["applicants"],
                heavy=options["heavy"],
                staffed=options["staffed"],
                busiest_share=options["busiest_share"],
                password=env_str("YIWANG_DEMO_PASSWORD", "yiwang-demo"),
                progress=not options["no_progress"],
            )
        except InvalidInput as exc:
            raise CommandError(str(exc.message)) from exc
        self.stdout.write(
            _(
                "%(cases)d cases added in %(seconds).0f s: %(tasks)d tasks (%(open)d open), %(transitions)d "
                "transitions. Busiest department: %(department)s (%(busiest)d open tasks added). "
                "Heaviest applicant: %(heaviest)d cases. Staff: %(staff)s."
            )
            % {
                "cases": report.cases,
                "seconds": report.seconds,
                "tasks": report.tasks,
                "open": report.open_tasks,
                "transitions": report.transitions,
                "department": report.busiest_department,
                "busiest": report.busiest_open_tasks,
                "heaviest": report.heaviest_applicant_cases,
                "staff": ", ".join(report.staff) or "-",
            }
        )
        statuses = ", ".join(f"{status} {count}" for status, count in sorted(report.statuses.items()))
        self.stdout.write(_("Statuses: %(statuses)s") % {"statuses": statuses})
