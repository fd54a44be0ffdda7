"""``yiwang audit``: checks of the platform's tamper-evident logs.

``yiwang audit verify [--json] [--no-progress]`` walks the data-sharing access log's hash chain
(``sharing.accesslog``). Exit status 0 and "chain intact: N records" when every record links to the one before
it and hashes to its content; exit status 1 naming the first broken record (its sequence number, its time when
the record is there, and why: missing, link, content or truncated) otherwise.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.utils.translation import gettext as _

from yiwang.audit.actors import SystemActor
from yiwang.sharing import accesslog
from yiwang.sharing.models import AccessRecord, ChainHead


class Command(BaseCommand):
    help = (
        "Check the tamper-evident logs: `verify` walks the data-sharing access log's hash chain and compares it with "
        "its anchors; `anchor` copies the chain's head into the audit log."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True)
        verify = actions.add_parser("verify", help="check the access log's hash chain; exit 1 at the first break")
        verify.add_argument("--json", action="store_true", help="print the result as JSON")
        verify.add_argument("--no-progress", action="store_true", help="do not show a progress bar")
        actions.add_parser("anchor", help="copy the access log's head into the audit log now (the hourly job does)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "verify":
            self._verify(options)
        elif options["action"] == "anchor":
            anchored = accesslog.anchor(actor=SystemActor("command:audit anchor"))
            if anchored is None:
                self.stdout.write(_("nothing new to anchor"))
            else:
                self.stdout.write(_("anchored record %(seq)d: %(hash)s") % {"seq": anchored[0], "hash": anchored[1]})

    def _verify(self, options: dict[str, Any]) -> None:
        from tqdm import tqdm

        total = ChainHead.objects.filter(pk=1).values_list("seq", flat=True).first() or 0
        show = not options["no_progress"] and not options["json"]
        with tqdm(total=total, unit="records", desc=_("access log"), file=sys.stderr, disable=not show) as bar:
            report = accesslog.verify_chain(progress=bar.update)
        broken = report.broken
        if broken is None:
            if options["json"]:
                self.stdout.write(json.dumps({"intact": True, "checked": report.checked, "head": report.head_seq}))
            else:
                self.stdout.write(_("chain intact: %(count)d records") % {"count": report.checked})
            return
        at = AccessRecord.objects.filter(seq=broken.seq).values_list("at", flat=True).first()
        if at is None and broken.seq > 1:
            # A missing record has no time of its own: the one before it says where in time the gap is.
            at_before = AccessRecord.objects.filter(seq=broken.seq - 1).values_list("at", flat=True).first()
        else:
            at_before = None
        if options["json"]:
            result = {
                "intact": False,
                "checked": report.checked,
                "head": report.head_seq,
                "broken": {
                    "seq": broken.seq,
                    "reason": broken.reason,
                    "at": at.isoformat() if at else None,
                    "after": at_before.isoformat() if at_before else None,
                },
            }
            self.stdout.write(json.dumps(result))
        else:
            when = at.isoformat() if at else _("(no such record)")
            if at_before is not None:
                when = _("%(when)s; the record before it is of %(before)s") % {
                    "when": when,
                    "before": at_before.isoformat(),
                }
            self.stdout.write(
                _(
                    "chain broken at record %(seq)d (%(when)s): %(reason)s [%(code)s]; "
                    "%(checked)d records intact before it"
                )
                % {
                    "seq": broken.seq,
                    "when": when,
                    "reason": _(accesslog.REASONS[broken.reason]),
                    "code": broken.reason,
                    "checked": report.checked,
                }
            )
        sys.exit(1)
