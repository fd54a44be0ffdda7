"""Admin screens: messages and deliveries can be read, never added, changed or deleted (they are records)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from yiwang.notifications.models import Delivery, Message


class ReadOnlyAdmin(admin.ModelAdmin[Any]):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Message)
class MessageAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "recipient", "kind", "read_at"]
    list_filter = ["kind"]
    search_fields = ["kind", "recipient__username"]
    date_hierarchy = "created_at"
    list_select_related = ["recipient"]


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "recipient", "channel", "status", "attempts", "next_attempt_at"]
    list_filter = ["channel", "status"]
    search_fields = ["recipient__username"]
    list_select_related = ["recipient"]
