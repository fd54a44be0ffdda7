"""``yiwang cases_jobs``: run the scheduled case jobs once (for cron, or the embedded default without beat)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from yiwang.audit.actors import SCHEDULER
from yiwang.cases import services, supervision


class Command(BaseCommand):
    help = (
        "Accept by operation of law the applications nobody answered within 5 working days, and raise "
        "deadline warnings. Both jobs are idempotent; Celery beat runs them every 15 minutes in production."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--today", help="Run as on this date (YYYY-MM-DD); default: today.")

    def handle(self, *args: Any, **options: Any) -> None:
        today = None
        if options["today"]:
            try:
                today = dt.date.fromisoformat(options["today"])
            except ValueError:
                raise CommandError(_("Give the date as YYYY-MM-DD.")) from None
        deemed = services.deem_overdue_acceptances(actor=SCHEDULER, today=today)
        warned = supervision.raise_warnings(actor=SCHEDULER, today=today)
        self.stdout.write(
            _("%(deemed)d application(s) accepted by operation of law; %(warned)d warning(s) raised.")
            % {"deemed": deemed, "warned": warned}
        )
