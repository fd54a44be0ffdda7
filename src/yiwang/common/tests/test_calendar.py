"""Working-day deadlines across real holidays, checked by hand against the State Council's notices."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from yiwang.audit.models import AuditRecord
from yiwang.common import calendar, services
from yiwang.common.errors import InvalidInput

pytestmark = pytest.mark.django_db

D = dt.date


def first_uncovered_year() -> int:
    """The first year chinesecalendar has no notice for (found, not assumed: a library update moves it)."""
    year = D.today().year
    while calendar.library_covers(D(year, 6, 1)):
        year += 1
    return year


@pytest.mark.parametrize(
    ("start", "days", "expected", "why"),
    [
        # 2025 National Day + Mid-Autumn (国办发明电〔2024〕12号): Oct 1–8 rest; Sun Sep 28 and Sat Oct 11 work.
        (D(2025, 9, 26), 5, D(2025, 10, 10), "Sat 27 rests, Sun 28 works (调休), 29, 30, then Oct 9 and 10"),
        (D(2025, 9, 30), 20, D(2025, 11, 4), "Oct 9, 10, Sat 11 (调休), then weekdays to Nov 4"),
        (D(2025, 9, 30), 1, D(2025, 10, 9), "the eight-day holiday is skipped whole"),
        # 2025 Spring Festival: Jan 28 – Feb 4 rest; Sun Jan 26 and Sat Feb 8 work.
        (D(2025, 1, 24), 3, D(2025, 2, 5), "Sun 26 (调休), Mon 27, then Feb 5 after the holiday"),
        (D(2025, 2, 5), 2, D(2025, 2, 7), "a plain week"),
        (D(2025, 2, 7), 1, D(2025, 2, 8), "Saturday Feb 8 is a 调休 working day"),
        # An ordinary weekend and the start day not counting.
        (D(2025, 6, 6), 1, D(2025, 6, 9), "Friday start: Saturday and Sunday rest"),
        (D(2025, 6, 9), 0, D(2025, 6, 9), "zero days: the start itself"),
    ],
)
def test_deadlines_across_holidays_and_tiaoxiu(start, days, expected, why):
    assert calendar.add_working_days(start, days) == expected, why


def test_working_days_between_counts_the_same_way():
    assert calendar.working_days_between(D(2025, 9, 30), D(2025, 11, 4)) == 20
    assert calendar.working_days_between(D(2025, 11, 4), D(2025, 9, 30)) == 0


def test_an_override_wins_over_the_library(system):
    assert calendar.is_working_day(D(2025, 6, 9))
    services.set_calendar_day(actor=system, day=D(2025, 6, 9), working=False, note="台风停工")
    assert not calendar.is_working_day(D(2025, 6, 9))
    assert calendar.add_working_days(D(2025, 6, 6), 1) == D(2025, 6, 10)
    assert AuditRecord.objects.filter(action="common.calendar_day_set").count() == 1


def test_a_deadline_reaching_an_uncovered_year_is_refused_until_the_notice_is_entered(system):
    year = first_uncovered_year()
    start = D(year - 1, 12, 20)
    with translation.override("en"), pytest.raises(calendar.CalendarNotCovered, match=f"does not cover {year}-01-"):
        calendar.add_working_days(start, 20)
    # The administrator enters next year's notice: its holidays, its 调休 days, then marks it complete.
    services.set_calendar_day(actor=system, day=D(year, 1, 1), working=False, note="元旦")
    with pytest.raises(calendar.CalendarNotCovered):
        calendar.add_working_days(start, 20)  # one day is not a whole year
    services.enter_calendar_year(actor=system, year=year, source="国办发明电（测试）")
    deadline = calendar.add_working_days(start, 20)
    assert deadline.year == year
    assert calendar.working_days_between(start, deadline) == 20
    assert not calendar.is_working_day(D(year, 1, 1))


def test_entering_a_year_needs_its_source(system):
    with translation.override("en"), pytest.raises(InvalidInput, match="Name the notice"):
        services.enter_calendar_year(actor=system, year=2030, source=" ")


def test_negative_or_absurd_counts_are_refused():
    with pytest.raises(ValueError, match="between"):
        calendar.add_working_days(D(2025, 1, 1), -1)
    with pytest.raises(ValueError, match="between"):
        calendar.add_working_days(D(2025, 1, 1), calendar.MAX_WORKING_DAYS + 1)


def test_the_command_prints_deadlines_and_fails_loudly_when_uncovered(system):
    out = StringIO()
    call_command("calendar", "deadline", "2025-09-30", "20", stdout=out)
    assert out.getvalue().strip() == "2025-11-04"
    year = first_uncovered_year()
    with translation.override("en"), pytest.raises(CommandError, match="does not cover"):
        call_command("calendar", "deadline", f"{year - 1}-12-20", "20", stdout=StringIO())
    with translation.override("en"), pytest.raises(CommandError, match="not a date"):
        call_command("calendar", "deadline", "2025-02-30", "3", stdout=StringIO())
    with translation.override("en"), pytest.raises(CommandError, match="negative"):
        call_command("calendar", "deadline", "2025-02-03", "-3", stdout=StringIO())


def test_the_command_maintains_the_table(system):
    year = first_uncovered_year()
    call_command("calendar", "add", f"{year}-01-01", "--rest", "--note", "元旦", stdout=StringIO())
    call_command("calendar", "cover", str(year), "--source", "国办发明电（测试）", stdout=StringIO())
    out = StringIO()
    with translation.override("en"):
        call_command("calendar", "list", "--year", str(year), stdout=out)
    assert f"{year}-01-01  rest day  元旦" in out.getvalue() and "国办发明电（测试）" in out.getvalue()
    # 1 January rests (the override); the entered year's other days follow the weekday rule.
    first_weekday_after = next(D(year, 1, d) for d in range(2, 9) if D(year, 1, d).weekday() < 5)
    assert calendar.add_working_days(D(year, 1, 1), 1) == first_weekday_after


def test_only_administrators_change_the_calendar(reviewer_a, admin):
    from yiwang.common.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        services.set_calendar_day(actor=reviewer_a, day=D(2025, 6, 9), working=False)
    with pytest.raises(PermissionDenied):
        services.enter_calendar_year(actor=reviewer_a, year=2030, source="x")
    services.set_calendar_day(actor=admin, day=D(2025, 6, 9), working=False, note="停工")
    assert not calendar.is_working_day(D(2025, 6, 9))


def test_the_admin_saves_days_through_the_service(staff_client, admin):
    client = staff_client(admin)
    response = client.post("/admin/common/calendarday/add/", {"date": "2025-06-10", "working": "", "note": "暴雨停工"})
    assert response.status_code == 302
    assert not calendar.is_working_day(D(2025, 6, 10))
    assert AuditRecord.objects.filter(action="common.calendar_day_set", actor=admin).exists()


def test_the_admin_shows_a_refused_year_beside_the_form_and_keys_are_read_only(staff_client, admin):
    client = staff_client(admin)
    with translation.override("en"):
        response = client.post("/en/admin/common/calendaryear/add/", {"year": "1999", "source": "x"})
    assert response.status_code == 200 and "The year 1999 is out of range." in response.content.decode()
    services.set_calendar_day(actor=admin, day=D(2025, 6, 9), working=False, note="停工")
    page = client.get("/admin/common/calendarday/2025-06-09/change/")
    assert page.status_code == 200 and 'name="date"' not in page.content.decode()
