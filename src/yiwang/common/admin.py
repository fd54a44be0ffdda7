"""Admin for the working-day calendar's override table: saves go through the audited services."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from yiwang.common import services
from yiwang.common.models import CalendarDay, CalendarYear
from yiwang.identity import authz


class CalendarAdmin(admin.ModelAdmin[Any]):
    # Administrators only: a wrong day moves every legal deadline that crosses it.
    def has_module_permission(self, request: HttpRequest) -> bool:
        return authz.has_role(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return authz.has_role(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return authz.has_role(request.user)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return authz.has_role(request.user)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a day is corrected, not deleted: the audit trail shows what deadlines were computed from


@admin.register(CalendarDay)
class CalendarDayAdmin(CalendarAdmin):
    list_display = ["date", "working", "note", "changed_at"]
    list_filter = ["working"]
    date_hierarchy = "date"

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        services.set_calendar_day(actor=request.user, day=obj.date, working=obj.working, note=obj.note)  # type: ignore[arg-type]  # admin users are signed in


@admin.register(CalendarYear)
class CalendarYearAdmin(CalendarAdmin):
    list_display = ["year", "source", "entered_at"]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        services.enter_calendar_year(actor=request.user, year=obj.year, source=obj.source)  # type: ignore[arg-type]  # admin users are signed in
