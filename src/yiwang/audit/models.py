"""The audit log: who did what to which record, with the state before and after, written in the
same transaction as the change so a committed change always has its record and vice versa."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditRecordQuerySet(models.QuerySet["AuditRecord"]):
    # Audit records are append-only: bulk edits would rewrite history without trace.
    def update(self, **kwargs: object) -> int:
        raise TypeError("audit records are append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise TypeError("audit records are append-only")


class AuditRecord(models.Model):
    at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    actor_label = models.CharField(_("actor label"), max_length=150)
    # An agent acting for an enterprise or a person: both identities are on record (e.g. "enterprise:9133…").
    on_behalf_of = models.CharField(_("on behalf of"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=80, db_index=True)
    object_type = models.CharField(_("object type"), max_length=80)
    object_id = models.CharField(_("object id"), max_length=64)
    object_label = models.CharField(_("object"), max_length=300, blank=True)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)

    objects = AuditRecordQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit record")
        verbose_name_plural = _("audit records")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id", "at"], name="audit_object_idx")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.action} {self.object_type}#{self.object_id}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None:
            raise TypeError("audit records are append-only")
        super().save(*args, **kwargs)  # type: ignore[arg-type,unreachable,unused-ignore]  # forwarding Django's signature

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise TypeError("audit records are append-only")
