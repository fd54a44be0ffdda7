"""Notes the system writes into a version's history, stored language-neutrally and translated when shown.

A note is public record read in Chinese and in English; translating it when it is written would freeze the
writer's language into the record. System notes are therefore stored as their English msgid filled in, and
``display_note`` recognises them and renders them in the reader's language. Notes typed by managers pass
through unchanged.
"""

from __future__ import annotations

import re

from django.utils.translation import gettext, gettext_noop

SUPERSEDED = gettext_noop("Superseded by version %(n)d.")
REPLACED = gettext_noop("Replaced before taking effect by version %(n)d.")
_TEMPLATES = (SUPERSEDED, REPLACED)
_PATTERNS = [(t, re.compile(re.escape(t).replace(re.escape("%(n)d"), r"(?P<n>[0-9]+)"))) for t in _TEMPLATES]


def system_note(template: str, *, n: int) -> str:
    return template % {"n": n}


def display_note(note: str) -> str:
    for template, pattern in _PATTERNS:
        match = pattern.fullmatch(note)
        if match:
            return gettext(template) % {"n": int(match["n"])}
    return note
