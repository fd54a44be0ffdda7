"""``yiwang warm_guides``: render every current guide into the page cache (after a deploy or a flush)."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _
from tqdm import tqdm

from yiwang.catalogue import selectors
from yiwang.portal.warming import warm_guide


class Command(BaseCommand):
    help = "Render every current service guide into the page cache."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--language", choices=[code for code, _name in settings.LANGUAGES], action="append")

    def handle(self, *args: Any, **options: Any) -> None:
        languages = options["language"] or [code for code, _name in settings.LANGUAGES]
        codes = list(selectors.current_versions().values_list("implementation_code", flat=True))
        warmed = 0
        with tqdm(total=len(codes) * len(languages), unit="page", desc="rendering") as bar:
            for code in codes:
                for language in languages:
                    warmed += warm_guide(code, language)
                    bar.update(1)
        self.stdout.write(_("%(count)d guide pages rendered into the cache.") % {"count": warmed})
