"""``yiwang licences``: the electronic-licence tools of the platform's operators.

``yiwang licences pki init|seal|timestamp|revoke|crl|list`` manage the platform's certificates (run on the
server by its operator, recorded in the audit log as ``system:cli:licences``).
"""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from yiwang.audit.actors import SystemActor
from yiwang.catalogue.models import Organisation
from yiwang.common.errors import DomainError
from yiwang.licences import pki, services
from yiwang.licences.constants import RevocationReason
from yiwang.licences.models import SigningCertificate

ACTOR = SystemActor("cli:licences")


class Command(BaseCommand):
    help = "Electronic licences: the platform's certificate authority, department seals and revocation list."

    def add_arguments(self, parser: CommandParser) -> None:
        groups = parser.add_subparsers(dest="group", required=True)
        keys = groups.add_parser("pki", help="certificates and seals")
        actions = keys.add_subparsers(dest="action", required=True)
        init = actions.add_parser("init", help="create the platform's certificate authority")
        init.add_argument("--algorithm", default=pki.ECDSA_P256, choices=pki.ALGORITHMS)
        seal = actions.add_parser("seal", help="issue (or rotate) a department's seal certificate")
        seal.add_argument("uscc", help="the department's unified social credit code")
        seal.add_argument("--algorithm", default=pki.ECDSA_P256, choices=pki.ALGORITHMS)
        stamp = actions.add_parser("timestamp", help="issue (or rotate) the time-stamp service's certificate")
        stamp.add_argument("--algorithm", default=pki.ECDSA_P256, choices=pki.ALGORITHMS)
        revoke = actions.add_parser("revoke", help="revoke a seal or time-stamp certificate")
        revoke.add_argument("serial", help="the certificate's serial number (hex, as `list` shows it)")
        revoke.add_argument("--reason", required=True, choices=RevocationReason.values)
        revoke.add_argument("--at", help="when it stopped being trusted (ISO 8601 with a time zone); default now")
        crl = actions.add_parser("crl", help="write the current certificate revocation list (DER)")
        crl.add_argument("--out", required=True, help="file to write, or - for standard output")
        actions.add_parser("list", help="list the platform's certificates")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, f"_pki_{options['action']}")(options)
        except DomainError as exc:
            raise CommandError(str(exc.message)) from None

    def _pki_init(self, options: dict[str, Any]) -> None:
        created = services.create_platform_ca(actor=ACTOR, algorithm=options["algorithm"])
        self.stdout.write(_("Certificate authority created: %(subject)s, serial %(serial)s.") % _describe(created))

    def _pki_seal(self, options: dict[str, Any]) -> None:
        department = Organisation.objects.filter(uscc=options["uscc"].strip().upper()).first()
        if department is None:
            raise CommandError(_("No department has the code %(uscc)s.") % {"uscc": options["uscc"]})
        created = services.issue_seal(actor=ACTOR, department=department, algorithm=options["algorithm"])
        self.stdout.write(_("Seal certificate issued: %(subject)s, serial %(serial)s.") % _describe(created))

    def _pki_timestamp(self, options: dict[str, Any]) -> None:
        created = services.issue_timestamp_certificate(actor=ACTOR, algorithm=options["algorithm"])
        self.stdout.write(_("Time-stamp certificate issued: %(subject)s, serial %(serial)s.") % _describe(created))

    def _pki_revoke(self, options: dict[str, Any]) -> None:
        found = SigningCertificate.objects.filter(serial=options["serial"].strip().lower()).first()
        if found is None:
            raise CommandError(_("No certificate has the serial number %(serial)s.") % {"serial": options["serial"]})
        at = None
        if options["at"]:
            try:
                at = dt.datetime.fromisoformat(options["at"])
            except ValueError:
                raise CommandError(
                    _("Give the time as ISO 8601 with a time zone, e.g. 2026-12-01T09:30+08:00.")
                ) from None
            if at.tzinfo is None:
                raise CommandError(_("Give the time as ISO 8601 with a time zone, e.g. 2026-12-01T09:30+08:00."))
        revoked = services.revoke(actor=ACTOR, certificate=found, reason=options["reason"], at=at)
        self.stdout.write(_("Revoked: %(subject)s, serial %(serial)s.") % _describe(revoked))

    def _pki_crl(self, options: dict[str, Any]) -> None:
        der = services.current_crl()
        if options["out"] == "-":
            sys.stdout.buffer.write(der)
            return
        Path(options["out"]).write_bytes(der)
        self.stdout.write(_("Certificate revocation list written to %(path)s.") % {"path": options["out"]})

    def _pki_list(self, options: dict[str, Any]) -> None:
        for row in SigningCertificate.objects.defer("private_key").select_related("organisation").order_by("id"):
            self.stdout.write(
                f"{row.serial}\t{row.get_purpose_display()}\t{row.get_status_display()}\t{row.algorithm}\t"
                f"{row.not_after:%Y-%m-%d}\t{row.subject}"
            )


def _describe(row: SigningCertificate) -> dict[str, str]:
    return {"subject": row.subject, "serial": row.serial}
