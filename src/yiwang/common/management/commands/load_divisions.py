"""``yiwang load_divisions [FILE]``: insert or update GB/T 2260 divisions (default: the packaged list)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from yiwang.audit.actors import SystemActor
from yiwang.common.services import load_divisions


class Command(BaseCommand):
    help = "Insert or update administrative divisions from a JSON list (code, name, name_en, level, parent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", nargs="?")

    def handle(self, *args: Any, **options: Any) -> None:
        rows = None
        if options["file"]:
            try:
                rows = json.loads(Path(options["file"]).read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError) as exc:
                raise CommandError(
                    _("Cannot read %(path)s: %(error)s") % {"path": options["file"], "error": exc}
                ) from None
        changed = load_divisions(actor=SystemActor("cli"), rows=rows)
        self.stdout.write(_("%(count)d divisions added or changed.") % {"count": changed})
