"""``yiwang licences``: the electronic-licence tools of the platform's operators.

``yiwang licences pki init|seal|timestamp|revoke|crl|list`` manage the platform's certificates (run on the
server by its operator, recorded in the audit log as ``system:cli:licences``).

``yiwang licences verify PATH_OR_IDENTIFIER [--json]`` gives the public verdict (the page's and the API's, the
holder masked); exit status 0 only for a valid licence. ``yiwang licences export IDENTIFIER --out FILE|-`` writes a
licence's sealed PDF as issued.
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from yiwang.audit.actors import SystemActor
from yiwang.catalogue.models import Organisation
from yiwang.common.errors import DomainError
from yiwang.licences import identifiers, issuance, pki, services, verification
from yiwang.licences.constants import RevocationReason, Verdict
from yiwang.licences.models import Licence, SigningCertificate
from yiwang.licences.selectors import verify_identifier

ACTOR = SystemActor("cli:licences")


class Command(BaseCommand):
    help = (
        "Electronic licences: the platform's certificate authority, department seals and revocation list; "
        "verifying a licence; exporting its sealed file."
    )

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
        check = groups.add_parser("verify", help="verify a licence by its identifier or its PDF; exit 1 unless valid")
        check.add_argument("subject", metavar="PATH_OR_IDENTIFIER", help="a licence PDF, or a licence identifier")
        check.add_argument("--json", action="store_true", help="print the public record as JSON")
        export = groups.add_parser("export", help="write a licence's sealed PDF")
        export.add_argument("identifier", help="the licence identifier")
        export.add_argument("--out", required=True, help="file to write, or - for standard output")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["group"] == "pki":
                getattr(self, f"_pki_{options['action']}")(options)
            else:
                getattr(self, f"_{options['group']}")(options)
        except DomainError as exc:
            raise CommandError(str(exc.message)) from None

    def _verify(self, options: dict[str, Any]) -> None:
        subject = str(options["subject"])
        path = Path(subject)
        # An existing file is checked as a PDF; anything else is an identifier (which never names a file here).
        if path.is_file():
            if path.stat().st_size > verification.MAX_PDF_BYTES:
                found = verification.too_large()
            else:
                found = verification.verify_pdf(path.read_bytes())
        else:
            found = verify_identifier(subject)
        record = verification.public_record(found)
        if options["json"]:
            self.stdout.write(json.dumps(record, ensure_ascii=False))
        else:
            self.stdout.write(_human(record))
        if found.verdict != Verdict.VALID:
            sys.exit(1)

    def _export(self, options: dict[str, Any]) -> None:
        text = str(options["identifier"])
        try:
            parsed = identifiers.parse(text)
        except identifiers.InvalidIdentifier as exc:
            reason = exc.details[0]["message"] if exc.details else str(exc.message)
            raise CommandError(_("Not a licence identifier: %(reason)s") % {"reason": reason}) from None
        licence = Licence.objects.filter(identifier=str(parsed)).only("identifier", "file").first()
        if licence is None:
            raise CommandError(
                _("No licence with the identifier %(identifier)s was issued here.") % {"identifier": parsed}
            )
        if not licence.file:
            raise CommandError(_("The licence %(identifier)s has no sealed file.") % {"identifier": parsed})
        data = issuance.sealed_bytes(licence)
        if options["out"] == "-":
            sys.stdout.buffer.write(data)
            sys.stdout.buffer.flush()
            return
        Path(options["out"]).write_bytes(data)
        self.stdout.write(
            _("Licence %(identifier)s written to %(path)s (%(size)d bytes).")
            % {"identifier": parsed, "path": options["out"], "size": len(data)}
        )

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


def _human(record: dict[str, Any]) -> str:
    """One line: the verdict, why, and which licence (the holder masked, as everywhere public)."""
    parts = [f"{record['status']}: {record['label']}"]
    if record["reason"]:
        parts.append(record["reason"])
    if record["identifier"]:
        until = record["valid_until"] or _("long-term")
        parts.append(
            _("%(identifier)s, %(type)s, issued by %(issuer)s to %(holder)s, valid %(valid_from)s to %(until)s")
            % {
                "identifier": record["identifier"],
                "type": record["licence_type_name"],
                "issuer": record["issuer_name"],
                "holder": record["holder_name"],
                "valid_from": record["valid_from"],
                "until": until,
            }
        )
    return " — ".join(parts)


def _describe(row: SigningCertificate) -> dict[str, str]:
    return {"subject": row.subject, "serial": row.serial}
