"""``yiwang item_handling show|set <implementation_code> [--file handling.json]``: an item's application form
and handling steps (catalogue.handling)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from yiwang.audit.actors import SystemActor
from yiwang.catalogue import handling
from yiwang.catalogue.models import ItemVersion
from yiwang.common.errors import DomainError

KEYS = ("form_schema", "form_layout", "steps")


def _version(code: str, number: int | None, *, open_only: bool) -> ItemVersion:
    versions = ItemVersion.objects.filter(item__implementation_code=code)
    if number is not None:
        found = versions.filter(number=number).first()
    else:
        # The open draft (or version in review) is the one being worked on; otherwise the newest.
        found = versions.filter(status__in=handling.OPEN_STATUSES).first()
        if found is None and not open_only:
            found = versions.order_by("-number").first()
    if found is None:
        if open_only and versions.exists():
            raise CommandError(
                _("%(code)s has no draft or version in review; start a new draft to change its form and steps.")
                % {"code": code}
            )
        raise CommandError(_("No such item version: %(code)s.") % {"code": code})
    return found


def _read(path: str) -> Any:
    try:
        text = sys.stdin.read() if path == "-" else Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise CommandError(_("Cannot read %(path)s: %(error)s") % {"path": path, "error": exc.strerror}) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CommandError(
            _("%(path)s is not valid JSON: %(error)s (line %(line)d, column %(column)d)")
            % {"path": path, "error": exc.msg, "line": exc.lineno, "column": exc.colno}
        ) from None


class Command(BaseCommand):
    help = (
        "Show or set the application form and handling steps of an item version. `set` reads "
        '{"form_schema": …, "form_layout": […], "steps": […]}; keys left out keep their current value.'
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["show", "set"])
        parser.add_argument("implementation_code")
        parser.add_argument("--file", default="-", help="The JSON to set ('-' for standard input, the default).")
        parser.add_argument(
            "--number", type=int, dest="number", help="A version number (default: the open draft, else the newest)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        code, number = options["implementation_code"], options["number"]
        if options["action"] == "show":
            version = _version(code, number, open_only=False)
            definition = handling.handling_for(version)
            shown = {
                "implementation_code": code,
                "version": version.number,
                "status": version.status,
                "stored": definition.stored,
                **definition.as_json(),
            }
            self.stdout.write(json.dumps(shown, ensure_ascii=False, indent=2))
            return
        version = _version(code, number, open_only=True)
        document = _read(options["file"])
        if not isinstance(document, dict) or not set(document) <= set(KEYS):
            raise CommandError(_("The file must be one JSON object with form_schema, form_layout and/or steps."))
        values = {**handling.handling_for(version).as_json(), **document}
        try:
            handling.set_handling(actor=SystemActor("cli"), version=version, **values)
        except DomainError as exc:
            lines = [str(exc.message)] + [f"  {d.get('path', '')}: {d.get('message', '')}" for d in exc.details]
            raise CommandError("\n".join(lines)) from None
        self.stdout.write(
            _("Saved the form and steps of %(code)s version %(number)d.") % {"code": code, "number": version.number}
        )
