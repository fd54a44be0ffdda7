"""``yiwang registers_generate --people N --entities M --seed S``: valid synthetic base registers.

For demos and benchmarks: people with valid ID numbers and entities with valid USCCs whose legal
representatives are people of the same population (yiwang.registers.generator). The same seed gives the
same records; running again skips what is already registered.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from yiwang.audit.actors import SystemActor
from yiwang.common.errors import InvalidInput
from yiwang.registers.generator import generate_registers


class Command(BaseCommand):
    help = "Generate a valid synthetic population register and legal-entity register (deterministic by seed)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--people", type=int, default=1000, help="How many people to generate.")
        parser.add_argument("--entities", type=int, default=100, help="How many legal entities to generate.")
        parser.add_argument("--seed", type=int, default=20261130, help="Random seed; the same seed, the same data.")
        parser.add_argument("--batch", type=int, default=2000, help="Rows per transaction and audit record.")
        parser.add_argument("--no-progress", action="store_true", help="Do not show progress bars.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = generate_registers(
                actor=SystemActor("cli:registers_generate"),
                people=options["people"],
                entities=options["entities"],
                seed=options["seed"],
                batch_size=options["batch"],
                progress=not options["no_progress"],
            )
        except InvalidInput as exc:
            raise CommandError(str(exc.message)) from exc
        self.stdout.write(
            _(
                "Population register: %(people)d people added, %(people_skipped)d already there. "
                "Legal-entity register: %(entities)d entities added, %(entities_skipped)d already there."
            )
            % {
                "people": report.people.created,
                "people_skipped": report.people.skipped,
                "entities": report.entities.created,
                "entities_skipped": report.entities.skipped,
            }
        )
