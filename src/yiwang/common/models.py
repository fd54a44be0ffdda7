"""Reference data shared by every domain, and the transactional outbox."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from yiwang.common.validators import validate_division_code


class DivisionLevel(models.IntegerChoices):
    NATIONAL = 0, _("National")
    PROVINCE = 1, _("Province")
    PREFECTURE = 2, _("Prefecture")
    COUNTY = 3, _("County")
    TOWNSHIP = 4, _("Township")


class Division(models.Model):
    """An administrative division (GB/T 2260; townships by the GB/T 10114 3-digit extension)."""

    code = models.CharField(_("code"), max_length=9, primary_key=True, validators=[validate_division_code])
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=100, blank=True)
    level = models.PositiveSmallIntegerField(_("level"), choices=DivisionLevel.choices)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children", verbose_name=_("parent")
    )

    class Meta:
        verbose_name = _("administrative division")
        verbose_name_plural = _("administrative divisions")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def display_name(self, language: str | None) -> str:
        return self.name_en if language == "en" and self.name_en else self.name

    @property
    def full_name(self) -> str:
        """Province + prefecture + county, as addresses are written (浙江省杭州市西湖区)."""
        names: list[str] = []
        node: Division | None = self
        while node is not None and node.level != DivisionLevel.NATIONAL:
            names.append(node.name)
            node = node.parent
        return "".join(reversed(names))


class OutboxEvent(models.Model):
    """An outbound effect recorded in the same transaction as the write that caused it.

    A relay (``yiwang.common.outbox.relay``) delivers pending events after commit and marks them sent;
    a crash between commit and delivery leaves the row pending, so the next relay run delivers it:
    at-least-once delivery, with ``id`` as the consumer's idempotency key.
    """

    topic = models.CharField(max_length=100, db_index=True)
    payload = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        verbose_name = _("outbox event")
        verbose_name_plural = _("outbox events")
        indexes = [models.Index(fields=["sent_at", "id"], name="outbox_pending_idx")]

    def __str__(self) -> str:
        return f"{self.topic}#{self.pk}"

    def as_message(self) -> dict[str, Any]:
        return {"id": self.pk, "topic": self.topic, "payload": self.payload, "created_at": self.created_at.isoformat()}


class CalendarYear(models.Model):
    """A year that administrators have entered from the State Council's holiday notice.

    For a year ``chinesecalendar`` does not cover yet (next year's notice arrives in November, before the
    library updates), days count only once the year is marked here: weekdays work, weekends rest, and the
    ``CalendarDay`` rows of the notice say otherwise. An unmarked, uncovered year is refused, never guessed.
    """

    year = models.PositiveSmallIntegerField(_("year"), primary_key=True)
    source = models.CharField(_("source"), max_length=200, help_text=_("The notice, e.g. 国办发明电〔2026〕7号"))
    entered_at = models.DateTimeField(_("entered at"), auto_now_add=True)

    class Meta:
        verbose_name = _("calendar year")
        verbose_name_plural = _("calendar years")
        ordering = ["-year"]

    def __str__(self) -> str:
        return str(self.year)


class CalendarDay(models.Model):
    """A day whose status administrators set: a holiday, or a weekend day that becomes a working day (调休).

    Overrides win over ``chinesecalendar``, so a correction or a late notice needs no library release.
    """

    date = models.DateField(_("date"), primary_key=True)
    working = models.BooleanField(_("working day"))
    note = models.CharField(_("note"), max_length=200, blank=True)
    changed_at = models.DateTimeField(_("changed at"), auto_now=True)

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date:%Y-%m-%d} {_('working day') if self.working else _('rest day')}"
