"""The standard service catalogue.

A *basic item* (基本目录事项) is the national definition; an *implementation item* (实施清单事项) is one
locality's implementation of it by one implementing body. Its content lives in *versions*: each version
holds the whole item in the exchange format (``content``), validated against the schema, plus columns
derived from it for filtering and search. A published version is frozen; the public sees the version
whose validity window contains now (``valid_from <= now < valid_until``), which is correct at any moment
without waiting for the scheduler, which only tidies the status labels (see docs/decisions/0003).
"""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yiwang.catalogue.constants import BodyNature, ItemType, VersionStatus
from yiwang.common.models import Division


class Organisation(models.Model):
    """A government body or other organisation that implements, handles or co-implements items."""

    name = models.CharField(_("name"), max_length=200)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    # Unique when present; absent for bodies whose code we do not know (then name + division identify).
    uscc = models.CharField(_("unified social credit code"), max_length=18, unique=True, null=True, blank=True)
    nature = models.CharField(_("nature"), max_length=1, choices=BodyNature.choices, blank=True)
    division = models.ForeignKey(
        Division,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="organisations",
        verbose_name=_("division"),
    )

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["name", "division"], condition=Q(uscc__isnull=True), name="org_name_division_uniq"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def display_name(self, language: str | None) -> str:
        return self.name_en if language == "en" and self.name_en else self.name


class BasicItem(models.Model):
    """A national basic directory item: the elements every locality's implementation must share."""

    code = models.CharField(_("basic code"), max_length=12, unique=True)
    name = models.CharField(_("name"), max_length=200)
    item_type = models.CharField(_("item type"), max_length=2, choices=ItemType.choices)
    legal_basis = models.JSONField(_("legal basis"), default=list, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("basic item")
        verbose_name_plural = _("basic items")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class ImplementationItem(models.Model):
    """The stable identity of one locality's implementation across all its versions."""

    implementation_code = models.CharField(_("implementation code"), max_length=36, unique=True, null=True, blank=True)
    basic_item = models.ForeignKey(
        BasicItem,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="implementations",
        verbose_name=_("basic item"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("implementation item")
        verbose_name_plural = _("implementation items")
        ordering = ["implementation_code"]

    def __str__(self) -> str:
        return self.implementation_code or f"#{self.pk}"


class ItemVersionQuerySet(models.QuerySet["ItemVersion"]):
    def visible_at(self, moment: Any) -> ItemVersionQuerySet:
        return self.filter(
            status__in=[VersionStatus.PUBLISHED, VersionStatus.SUPERSEDED, VersionStatus.WITHDRAWN],
            valid_from__lte=moment,
        ).filter(Q(valid_until__isnull=True) | Q(valid_until__gt=moment))

    def current(self) -> ItemVersionQuerySet:
        return self.visible_at(timezone.now())


class ItemVersion(models.Model):
    item = models.ForeignKey(
        ImplementationItem, on_delete=models.PROTECT, related_name="versions", verbose_name=_("item")
    )
    number = models.PositiveIntegerField(_("version"))
    status = models.CharField(_("status"), max_length=12, choices=VersionStatus.choices, default=VersionStatus.DRAFT)
    content = models.JSONField(_("content"))

    # Derived from ``content`` by services.derive_columns(); never edited on their own.
    name = models.CharField(_("name"), max_length=200, db_index=True)
    item_type = models.CharField(_("item type"), max_length=2, choices=ItemType.choices)
    basic_code = models.CharField(_("basic code"), max_length=12, blank=True, db_index=True)
    implementation_code = models.CharField(_("implementation code"), max_length=36, blank=True, db_index=True)
    region_code = models.CharField(_("region code"), max_length=9, db_index=True)
    region = models.ForeignKey(
        Division, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("region")
    )
    department = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="item_versions", verbose_name=_("implementing body")
    )
    service_objects = models.CharField(_("service objects"), max_length=20, blank=True)  # e.g. ",1,2,"
    natural_person_themes = models.CharField(_("personal themes"), max_length=500, blank=True)
    legal_person_themes = models.CharField(_("enterprise themes"), max_length=500, blank=True)
    # Lower-cased so search can use plain LIKE instead of UPPER(column) LIKE on every row.
    search_text = models.TextField(_("search text"), blank=True)
    violation_count = models.PositiveIntegerField(_("violations"), default=0)

    valid_from = models.DateTimeField(_("valid from"), null=True, blank=True)
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)

    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.CharField(_("created by"), max_length=150)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    published_by = models.CharField(_("published by"), max_length=150, blank=True)
    status_note = models.TextField(_("status note"), blank=True)

    objects = ItemVersionQuerySet.as_manager()

    class Meta:
        verbose_name = _("item version")
        verbose_name_plural = _("item versions")
        ordering = ["item_id", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["item", "number"], name="version_number_uniq"),
            # At most one editable version per item: edits go to the open draft or review.
            models.UniqueConstraint(
                fields=["item"], condition=Q(status__in=["draft", "in_review"]), name="one_open_version_per_item"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "valid_from", "valid_until"], name="version_visibility_idx"),
            models.Index(fields=["department", "status"], name="version_department_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.number}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # Publishing freezes a version: its content can never change afterwards, whoever saves it.
        if self.pk is not None:
            stored = ItemVersion.objects.filter(pk=self.pk).values("status", "content").first()
            if (
                stored
                and stored["status"] not in (VersionStatus.DRAFT, VersionStatus.IN_REVIEW)
                and stored["content"] != self.content
            ):
                raise ValueError("a published version is immutable")
        super().save(*args, **kwargs)


class ItemVersionTransition(models.Model):
    """One status change of a version, appended by the services (a readable history)."""

    version = models.ForeignKey(ItemVersion, on_delete=models.CASCADE, related_name="transitions")
    from_status = models.CharField(max_length=12, choices=VersionStatus.choices, blank=True)
    to_status = models.CharField(max_length=12, choices=VersionStatus.choices)
    at = models.DateTimeField(default=timezone.now)
    actor_label = models.CharField(max_length=150)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("version transition")
        verbose_name_plural = _("version transitions")

    def __str__(self) -> str:
        return f"{self.version}: {self.from_status} → {self.to_status}"


ATTACHMENT_REFERENCE_MAX_LENGTH = 300


def attachment_upload_to(instance: Attachment, filename: str) -> str:
    """Files live per item, under the first digits of their hash, so a replacement never collides with the
    file it replaces (which is deleted once the replacement is committed)."""
    return f"catalogue/attachments/{instance.item_id}/{instance.sha256[:16]}/{filename}"


class Attachment(models.Model):
    """A downloadable document (blank form, sample, result sample) that an item's content references by
    path (``materials[].blank_form``/``.sample``, ``results[].sample``). Attachments belong to the item, not
    to one version: a reference kept from version to version keeps its file. Written by
    ``services.attach_document`` only, which checks the file's type by its content."""

    item = models.ForeignKey(
        ImplementationItem, on_delete=models.PROTECT, related_name="attachments", verbose_name=_("item")
    )
    reference = models.CharField(_("reference"), max_length=ATTACHMENT_REFERENCE_MAX_LENGTH)
    file = models.FileField(_("file"), upload_to=attachment_upload_to, max_length=500)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveBigIntegerField(_("size"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_by = models.CharField(_("uploaded by"), max_length=150)
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["item_id", "reference"]
        constraints = [models.UniqueConstraint(fields=["item", "reference"], name="attachment_reference_uniq")]

    def __str__(self) -> str:
        return f"{self.item} {self.reference}"

    @property
    def filename(self) -> str:
        """The name a download is offered under: the last part of the reference."""
        return self.reference.rsplit("/", 1)[-1]


class CataloguePermissions(models.Model):
    """Holder of catalogue permissions not tied to one model (no table of its own)."""

    class Meta:
        managed = False
        default_permissions = ()
        permissions = [
            ("manage_catalogue", _("Can edit, import and submit catalogue items")),
            ("publish_catalogue", _("Can publish and withdraw catalogue items")),
        ]

    def __str__(self) -> str:
        return "catalogue permissions"


class ItemHandling(models.Model):
    """How one version is applied for and handled: the application form (a JSON Schema subset with layout
    hints) and the handling steps after acceptance. It lives beside the exchange-format ``content``, not in
    it, because the national exchange schema has no place for it (docs/decisions/0007). Written by
    ``catalogue.handling.set_handling`` only; frozen with its version, like the content."""

    version = models.OneToOneField(
        ItemVersion, on_delete=models.CASCADE, related_name="handling", verbose_name=_("version")
    )
    form_schema = models.JSONField(_("application form (JSON Schema)"), default=dict)
    form_layout = models.JSONField(_("form layout"), default=list, blank=True)
    steps = models.JSONField(_("handling steps"), default=list, blank=True)
    # PostgreSQL's jsonb does not keep the order of an object's keys, and the order of ``properties`` is the
    # order of the form: it is kept here, as a list, by the services that write the row.
    field_order = models.JSONField(_("field order"), default=list, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    updated_by = models.CharField(_("updated by"), max_length=150)

    class Meta:
        verbose_name = _("item handling")
        verbose_name_plural = _("item handling")

    def __str__(self) -> str:
        return f"{self.version_id} handling"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # A case binds to the version it was filed under: once that version is published, the form the applicant
        # filled in and the steps that set the deadlines can never change, whoever saves.
        status = ItemVersion.objects.filter(pk=self.version_id).values_list("status", flat=True).first()
        if status not in (VersionStatus.DRAFT, VersionStatus.IN_REVIEW):
            raise ValueError("the handling of a published version is immutable")
        super().save(*args, **kwargs)
