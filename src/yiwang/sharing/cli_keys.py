"""``yiwang sharing client-key add|retire|list``: department systems' exchange signing keys (sharing.keys).

    yiwang sharing client-key add CLIENT_ID --public-key FILE     register the system's Ed25519 public key
    yiwang sharing client-key retire KEY_ID                       stop accepting it
    yiwang sharing client-key list [CLIENT_ID]                    key ids, clients, state

Wired into ``yiwang sharing`` as ``Subcommand(HELP, arguments, run)`` (or ``add_client_key_command``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from oauth2_provider.models import get_application_model

from yiwang.audit.actors import SystemActor
from yiwang.sharing import keys
from yiwang.sharing.models import SigningKey

ACTOR = SystemActor("cli:sharing")
HELP = "register, retire or list department systems' exchange signing keys"


def arguments(parser: CommandParser) -> None:
    actions = parser.add_subparsers(dest="key_action", required=True)
    add = actions.add_parser("add", help="register a system's Ed25519 public key (PEM file, - for standard input)")
    add.add_argument("client_id")
    add.add_argument("--public-key", required=True, dest="public_key_file")
    retire = actions.add_parser("retire", help="stop accepting requests signed with a key")
    retire.add_argument("key_id")
    listing = actions.add_parser("list", help="list the keys")
    listing.add_argument("client_id", nargs="?", default="")


def add_client_key_command(subparsers: Any) -> None:
    arguments(subparsers.add_parser("client-key", help=HELP))


def _read(path: str) -> str:
    if path == "-":
        import sys

        return sys.stdin.read()
    return Path(path).read_text(encoding="utf-8")


def run(command: BaseCommand, options: dict[str, Any]) -> None:
    """Domain errors propagate: the ``sharing`` command turns them into CommandError."""
    action = options["key_action"]
    if action == "add":
        application = get_application_model().objects.filter(client_id=options["client_id"]).first()
        if application is None:
            raise CommandError(_("No client with the client ID %(client_id)s.") % {"client_id": options["client_id"]})
        key = keys.register_signing_key(
            actor=ACTOR, application=application, public_key_pem=_read(options["public_key_file"])
        )
        command.stdout.write(f"key_id: {key.key_id}")
    elif action == "retire":
        row = SigningKey.objects.filter(key_id=options["key_id"]).first()
        if row is None:
            raise CommandError(_("No signing key with the id %(key_id)s.") % {"key_id": options["key_id"]})
        keys.retire_signing_key(actor=ACTOR, key=row)
        command.stdout.write(_("Retired %(key_id)s.") % {"key_id": row.key_id})
    else:
        rows = SigningKey.objects.select_related("application").order_by("application__client_id", "created_at")
        if options["client_id"]:
            rows = rows.filter(application__client_id=options["client_id"])
        for row in rows:
            state = "retired" if row.retired_at else "active"
            command.stdout.write(f"{row.key_id}\t{row.application.client_id}\t{state}\t{row.created_at:%Y-%m-%d}")
