"""``yiwang rotate_keys [--reindex]``: re-encrypt personal data under the newest key (docs/identity.md)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from yiwang.audit.actors import SystemActor
from yiwang.common.services import rotate_keys


class Command(BaseCommand):
    help = "Re-encrypt encrypted columns under the first key of YIWANG_FIELD_KEYS; --reindex recomputes blind indexes."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--reindex", action="store_true", help="also recompute blind indexes (new index key)")
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args: Any, **options: Any) -> None:
        rows = rotate_keys(
            actor=SystemActor("cli:rotate_keys"),
            reindex=options["reindex"],
            batch_size=options["batch_size"],
            progress=options["verbosity"] > 0,
        )
        self.stdout.write(_("%(count)d rows re-encrypted.") % {"count": rows})
