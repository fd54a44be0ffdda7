"""``yiwang i18n_check``: extract messages, fail on any untranslated or fuzzy zh-Hans entry, compile.

zh-Hans is the platform's first language; a user-facing string without its Chinese translation is a
defect, so CI runs this before the tests.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import polib
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Extract translatable strings, check the zh-Hans catalogue is complete, compile catalogues."

    def handle(self, *args: Any, **options: Any) -> None:
        source = Path(settings.SRC_DIR)
        # Extract from the package only (not .venv, var/ or bench/), so the catalogue is deterministic.
        with contextlib.chdir(source):
            call_command(
                "makemessages",
                locale=["zh_Hans"],
                no_location=True,
                no_obsolete=True,
                verbosity=0,
                ignore_patterns=["tests/*", "*/tests/*"],
            )
        po_path = source / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
        catalogue = polib.pofile(str(po_path))
        missing = [e for e in catalogue if not e.obsolete and (not e.translated() or "fuzzy" in e.flags)]
        if missing:
            for entry in missing[:200]:
                self.stderr.write(f"untranslated: {entry.msgid!r}")
            raise CommandError(f"{len(missing)} messages lack a zh-Hans translation in {po_path}")
        # The compiled catalogue is committed so `make run` needs no gettext tools; it must match the .po.
        mo_path = po_path.with_suffix(".mo")
        before = _messages(mo_path)
        with contextlib.chdir(source):
            call_command("compilemessages", verbosity=0)
        if _messages(mo_path) != before:
            raise CommandError(f"{mo_path} was out of date; it has been recompiled: commit it")
        self.stdout.write(f"zh-Hans catalogue complete: {len(catalogue)} messages")


def _messages(mo_path: Path) -> dict[str, str]:
    if not mo_path.exists():
        return {}
    return {entry.msgid: entry.msgstr or str(entry.msgstr_plural) for entry in polib.mofile(str(mo_path))}
