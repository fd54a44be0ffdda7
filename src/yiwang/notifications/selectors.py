"""Reads of the message centre: always one's own messages only."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from yiwang.notifications.models import Message


def inbox(user: Any, unread_only: bool = False) -> QuerySet[Message]:
    """``user``'s messages, newest first; nobody's for a visitor."""
    if user is None or not user.is_authenticated or not getattr(user, "pk", None):
        return Message.objects.none()
    messages = Message.objects.filter(recipient_id=user.pk)
    if unread_only:
        messages = messages.filter(read_at__isnull=True)
    return messages.order_by("-created_at", "-id")


def unread_count(user: Any) -> int:
    return inbox(user, unread_only=True).count()
