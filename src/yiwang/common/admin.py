"""Admin for the working-day calendar's override table: saves go through the audited services."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from yiwang.common import services
from yiwang.common.errors import DomainError
from yiwang.common.models import CalendarDay, CalendarYear
from yiwang.identity import authz


class CalendarAdmin(admin.ModelAdmin[Any]):
    """Permission is the services' own rule (``calendar.manage``); the key of a saved row cannot be edited,
    since changing it would add a second row rather than move the first."""

    key: str = ""

    def _may(self, request: HttpRequest) -> bool:
        return authz.allowed(request.user, "calendar.manage")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._may(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may(request)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._may(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._may(request)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return (self.key,) if obj is not None else ()

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        # The service's checks run in the form, so a refused value is shown beside the field, not as a 500.
        form = super().get_form(request, obj, change=change, **kwargs)
        admin_ = self

        class ServiceCheckedForm(form):  # type: ignore[misc,valid-type]
            def clean(self) -> Any:
                data = super().clean()
                if not self.errors:
                    try:
                        admin_.service_check(data)
                    except DomainError as exc:
                        raise ValidationError(str(exc.message)) from None
                return data

        return ServiceCheckedForm

    def service_check(self, data: dict[str, Any]) -> None:
        """Validation the service would refuse with, run before saving."""

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # a day is corrected, not deleted: the audit trail shows what deadlines were computed from


@admin.register(CalendarDay)
class CalendarDayAdmin(CalendarAdmin):
    key = "date"
    list_display = ["date", "working", "note", "changed_at"]
    list_filter = ["working"]
    date_hierarchy = "date"

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        services.set_calendar_day(actor=request.user, day=obj.date, working=obj.working, note=obj.note)  # type: ignore[arg-type]  # admin users are signed in


@admin.register(CalendarYear)
class CalendarYearAdmin(CalendarAdmin):
    key = "year"

    def service_check(self, data: dict[str, Any]) -> None:
        services.check_calendar_year(year=data.get("year") or 0, source=data.get("source") or "")

    list_display = ["year", "source", "entered_at"]

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        services.enter_calendar_year(actor=request.user, year=obj.year, source=obj.source)  # type: ignore[arg-type]  # admin users are signed in
