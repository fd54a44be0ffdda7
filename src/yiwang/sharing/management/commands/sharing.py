"""``yiwang sharing``: data-sharing tools of the platform's operators (docs/sharing.md).

``yiwang sharing export [--format json|csv] [--out FILE]`` writes the machine-readable resource catalogue.
``yiwang sharing resources`` lists the catalogue (code, provider, sharing type, fields).

Each subcommand is one entry of ``SUBCOMMANDS``: a function adding its arguments and one running it, so a new
subcommand is two small functions and a line.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from yiwang.common.errors import DomainError
from yiwang.sharing import cli_keys, selectors
from yiwang.sharing.models import Resource


@dataclass(frozen=True)
class Subcommand:
    help: str
    arguments: Callable[[CommandParser], None]
    run: Callable[[BaseCommand, dict[str, Any]], None]


def _write(command: BaseCommand, text: str, out: str | None) -> None:
    if not out or out == "-":
        stream: TextIO = command.stdout  # type: ignore[assignment]
        stream.write(text)
        return
    Path(out).write_text(text, encoding="utf-8")
    command.stderr.write(_("Catalogue written to %(path)s.") % {"path": out})


def _export_arguments(parser: CommandParser) -> None:
    parser.add_argument("--format", choices=["json", "csv"], default="json", help="json (default) or csv")
    parser.add_argument("--out", help="file to write; standard output when absent or -")


def _export(command: BaseCommand, options: dict[str, Any]) -> None:
    if options["format"] == "csv":
        text = selectors.export_catalogue_csv()
    else:
        text = json.dumps(selectors.export_catalogue(), ensure_ascii=False, indent=2) + "\n"
    _write(command, text, options.get("out"))


def _resources_arguments(parser: CommandParser) -> None:
    parser.add_argument("--retired", action="store_true", help="include retired resources")


def _resources(command: BaseCommand, options: dict[str, Any]) -> None:
    qs = Resource.objects.select_related("provider").prefetch_related("fields").order_by("code")
    if not options["retired"]:
        qs = qs.filter(is_active=True)
    for resource in qs:
        provider = resource.provider.name if resource.provider else _("the platform")
        fields = ",".join(f.code for f in resource.fields.all())
        state = "" if resource.is_active else f" [{_('retired')}]"
        command.stdout.write(f"{resource.code}\t{resource.sharing_type}\t{provider}\t{resource.name}\t{fields}{state}")


SUBCOMMANDS: dict[str, Subcommand] = {
    "export": Subcommand("write the machine-readable resource catalogue", _export_arguments, _export),
    "resources": Subcommand("list the resource catalogue", _resources_arguments, _resources),
    "client-key": Subcommand(cli_keys.HELP, cli_keys.arguments, cli_keys.run),
}


class Command(BaseCommand):
    help = "Data sharing: the resource catalogue and its export."

    def add_arguments(self, parser: CommandParser) -> None:
        groups = parser.add_subparsers(dest="subcommand", required=True)
        for name, sub in SUBCOMMANDS.items():
            sub.arguments(groups.add_parser(name, help=sub.help))

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            SUBCOMMANDS[options["subcommand"]].run(self, options)
        except DomainError as exc:
            raise CommandError(str(exc.message)) from None
        except OSError as exc:
            raise CommandError(str(exc)) from None
