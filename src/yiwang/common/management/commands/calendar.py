"""``yiwang calendar``: working-day deadlines and the administrators' override table (docs/working-days.md).

yiwang calendar deadline 2025-09-30 20       # the 20th working day after (2025-09-30 not counted)
yiwang calendar add 2027-02-06 --working --note "春节调休上班"
yiwang calendar add 2027-02-10 --rest --note "春节"
yiwang calendar cover 2027 --source "国办发明电〔2026〕X号"   # the year's notice is complete
yiwang calendar list [--year 2027]
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from yiwang.audit.actors import SystemActor
from yiwang.common import calendar, services
from yiwang.common.errors import DomainError
from yiwang.common.models import CalendarDay, CalendarYear


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(_("%(value)s is not a date (YYYY-MM-DD).") % {"value": value}) from None


class Command(BaseCommand):
    help = "Working-day deadlines and the calendar override table."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        deadline = sub.add_parser("deadline", help="the date N working days after START (START not counted)")
        deadline.add_argument("start")
        deadline.add_argument("days", type=int)
        add = sub.add_parser("add", help="set a day: a holiday (--rest) or a working weekend day (--working)")
        add.add_argument("date")
        kind = add.add_mutually_exclusive_group(required=True)
        kind.add_argument("--working", action="store_true")
        kind.add_argument("--rest", action="store_true")
        add.add_argument("--note", default="")
        cover = sub.add_parser("cover", help="mark a year's holiday notice as entered")
        cover.add_argument("year", type=int)
        cover.add_argument("--source", required=True)
        listing = sub.add_parser("list", help="the override table")
        listing.add_argument("--year", type=int)

    def handle(self, *args: Any, **options: Any) -> None:
        actor = SystemActor("cli:calendar")
        try:
            if options["action"] == "deadline":
                if options["days"] < 0:
                    raise CommandError(_("The number of working days cannot be negative."))
                self.stdout.write(f"{calendar.add_working_days(_date(options['start']), options['days']):%Y-%m-%d}")
            elif options["action"] == "add":
                services.set_calendar_day(
                    actor=actor, day=_date(options["date"]), working=options["working"], note=options["note"]
                )
            elif options["action"] == "cover":
                services.enter_calendar_year(actor=actor, year=options["year"], source=options["source"])
            else:
                self._list(options["year"])
        except DomainError as exc:
            raise CommandError(str(exc.message)) from None

    def _list(self, year: int | None) -> None:
        days = CalendarDay.objects.all()
        years = CalendarYear.objects.all()
        if year is not None:
            days = days.filter(date__year=year)
            years = years.filter(year=year)
        for entered in years:
            self.stdout.write(_("%(year)d entered from %(source)s") % {"year": entered.year, "source": entered.source})
        for day in days:
            kind = _("working day") if day.working else _("rest day")
            self.stdout.write(f"{day.date:%Y-%m-%d}  {kind}  {day.note}")
