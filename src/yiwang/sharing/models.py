"""Data sharing (信息共享): the resource catalogue (政务信息资源目录), grants, the access log.

The access log is a hash chain: each record carries the hash of the one before it, so a record changed,
removed or inserted afterwards breaks the chain at that point (``yiwang audit verify``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yiwang.sharing.constants import (
    AccessChannel,
    Backend,
    FieldType,
    GrantStatus,
    Outcome,
    Sensitivity,
    SharingType,
    SubjectKind,
    UpdateCycle,
)


class Resource(models.Model):
    """A data resource a department provides (one entry of the 政务信息资源目录)."""

    # The catalogue's reference, e.g. "人口库:居民身份信息": what an item's material names as its
    # shared_resource (service-item.schema.json), so a material finds the resource that supplies it.
    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=200, unique=True)
    name_en = models.CharField(_("name (English)"), max_length=200, blank=True)
    description = models.TextField(_("description"), blank=True)
    # null: the platform's own base registers and licence library (数据管理机构), decided by administrators.
    provider = models.ForeignKey(
        "catalogue.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="shared_resources",
        verbose_name=_("provider"),
    )
    provider_system = models.CharField(_("provider system"), max_length=200, blank=True)
    subject_kind = models.CharField(_("subject"), max_length=8, choices=SubjectKind.choices)
    sharing_type = models.CharField(_("sharing type"), max_length=16, choices=SharingType.choices)
    # Why a conditional or unshared resource is so (国发〔2016〕51号 art. 9 asks for the basis).
    sharing_conditions = models.TextField(_("sharing conditions"), blank=True)
    update_cycle = models.CharField(_("update cycle"), max_length=16, choices=UpdateCycle.choices)
    legal_basis = models.TextField(_("legal basis"), blank=True)
    backend = models.CharField(_("answered from"), max_length=16, choices=Backend.choices)
    # Licence-library resources may be narrowed to one licence type (GB/T 36904 type code).
    licence_type_code = models.CharField(_("licence type"), max_length=40, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("shared resource")
        verbose_name_plural = _("shared resources")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    def display_name(self, language: str | None) -> str:
        return self.name_en if language == "en" and self.name_en else self.name


class ResourceField(models.Model):
    resource = models.ForeignKey(Resource, on_delete=models.CASCADE, related_name="fields", verbose_name=_("resource"))
    code = models.CharField(_("field code"), max_length=60)
    name = models.CharField(_("field name"), max_length=100)
    name_en = models.CharField(_("field name (English)"), max_length=100, blank=True)
    data_type = models.CharField(_("type"), max_length=10, choices=FieldType.choices, default=FieldType.STRING)
    sensitivity = models.CharField(_("sensitivity"), max_length=10, choices=Sensitivity.choices)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        verbose_name = _("resource field")
        verbose_name_plural = _("resource fields")
        ordering = ["resource_id", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["resource", "code"], name="sharing_field_code_uniq")]

    def __str__(self) -> str:
        return f"{self.resource_id}.{self.code}"

    def display_name(self, language: str | None) -> str:
        return self.name_en if language == "en" and self.name_en else self.name


class Grant(models.Model):
    """A consumer department's use of a resource: asked for, then approved (perhaps narrowed) or refused.

    What was asked for stays beside what was granted, so a narrowed grant shows what the provider cut.
    """

    resource = models.ForeignKey(Resource, on_delete=models.PROTECT, related_name="grants", verbose_name=_("resource"))
    consumer = models.ForeignKey(
        "catalogue.Organisation", on_delete=models.PROTECT, related_name="data_grants", verbose_name=_("consumer")
    )
    status = models.CharField(_("status"), max_length=10, choices=GrantStatus.choices, default=GrantStatus.REQUESTED)
    requested_fields = models.JSONField(_("fields asked for"), default=list)
    requested_purposes = models.JSONField(_("purposes asked for"), default=list)
    # Service item codes (事项编码) the data is for; empty means the grant is not limited to items.
    requested_items = models.JSONField(_("items asked for"), default=list)
    requested_until = models.DateField(_("asked until"), null=True, blank=True)
    requested_rate = models.PositiveIntegerField(_("rate asked for (per minute)"), default=60)
    justification = models.TextField(_("justification"), blank=True)
    fields = models.JSONField(_("granted fields"), default=list)
    purposes = models.JSONField(_("granted purposes"), default=list)
    items = models.JSONField(_("granted items"), default=list)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    rate_per_minute = models.PositiveIntegerField(_("rate limit (per minute)"), default=60)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoke_reason = models.TextField(_("reason for revocation"), blank=True)

    class Meta:
        verbose_name = _("data grant")
        verbose_name_plural = _("data grants")
        ordering = ["-requested_at", "-id"]
        indexes = [models.Index(fields=["consumer", "resource", "status"], name="sharing_grant_lookup_idx")]

    def __str__(self) -> str:
        return f"{self.resource_id} → {self.consumer_id} ({self.status})"


class SigningKey(models.Model):
    """A department system's Ed25519 public key: its requests to the exchange are signed with the private
    half, so the platform (and the system's own department) can prove who asked for what."""

    application = models.ForeignKey(
        "oauth2_provider.Application", on_delete=models.CASCADE, related_name="sharing_keys", verbose_name=_("client")
    )
    key_id = models.CharField(_("key id"), max_length=64, unique=True)
    public_key = models.TextField(_("public key (PEM)"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    retired_at = models.DateTimeField(_("retired at"), null=True, blank=True)

    class Meta:
        verbose_name = _("client signing key")
        verbose_name_plural = _("client signing keys")

    def __str__(self) -> str:
        return self.key_id


class Nonce(models.Model):
    """Nonces of signed requests seen within the request window: a second use is a replay."""

    client_id = models.CharField(max_length=100)
    nonce = models.CharField(max_length=64)
    seen_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["client_id", "nonce"], name="sharing_nonce_uniq")]

    def __str__(self) -> str:
        return f"{self.client_id}:{self.nonce}"


class Consent(models.Model):
    """An applicant's consent to fetch a resource about them into one case (once-only)."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="sharing_consents")
    resource = models.ForeignKey(Resource, on_delete=models.PROTECT, related_name="+")
    subject_index = models.CharField(max_length=64)
    given_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    given_at = models.DateTimeField(default=timezone.now)
    wording = models.TextField(_("wording consented to"))

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        constraints = [models.UniqueConstraint(fields=["case", "resource"], name="sharing_consent_uniq")]

    def __str__(self) -> str:
        return f"{self.case_id}/{self.resource_id}"


class ChainHead(models.Model):
    """The last record of the access log's hash chain. Appending locks this one row, which orders the
    chain; it is held for one insert, so appends queue only for each other's few hundred microseconds."""

    seq = models.BigIntegerField(default=0)
    hash = models.CharField(max_length=64)

    def __str__(self) -> str:
        return f"#{self.seq}"


class AccessRecordQuerySet(models.QuerySet["AccessRecord"]):
    # The log is append-only; a bulk edit would have to rewrite every later hash to go unnoticed.
    def update(self, **kwargs: object) -> int:
        raise TypeError("access records are append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise TypeError("access records are append-only")


class AccessRecord(models.Model):
    """One read (or refused attempt) of a person's or enterprise's data through sharing."""

    seq = models.BigIntegerField(_("sequence"), unique=True)
    at = models.DateTimeField(_("time"))
    channel = models.CharField(_("channel"), max_length=10, choices=AccessChannel.choices)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices)
    refusal = models.CharField(_("reason refused"), max_length=24, blank=True)
    consumer = models.ForeignKey(
        "catalogue.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("consumer"),
    )
    consumer_label = models.CharField(_("consumer"), max_length=200)
    client_id = models.CharField(_("system"), max_length=100, blank=True)
    official = models.CharField(_("official"), max_length=150, blank=True)
    subject_kind = models.CharField(_("subject"), max_length=8, choices=SubjectKind.choices, blank=True)
    subject_index = models.CharField(max_length=64, blank=True, db_index=True)
    subject_masked = models.CharField(_("subject"), max_length=40, blank=True)
    resource = models.ForeignKey(
        Resource, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("resource")
    )
    resource_code = models.CharField(_("resource"), max_length=40, blank=True)
    fields = models.JSONField(_("fields"), default=list)
    purpose = models.CharField(_("purpose"), max_length=200, blank=True)
    case_number = models.CharField(_("case"), max_length=40, blank=True)
    grant = models.ForeignKey(Grant, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    request_id = models.CharField(_("request"), max_length=64, blank=True)
    prev_hash = models.CharField(max_length=64)
    hash = models.CharField(max_length=64, unique=True)

    objects = AccessRecordQuerySet.as_manager()

    class Meta:
        verbose_name = _("access record")
        verbose_name_plural = _("access log")
        ordering = ["-seq"]
        indexes = [
            models.Index(fields=["subject_index", "-seq"], name="sharing_access_subject_idx"),
            models.Index(fields=["consumer", "-seq"], name="sharing_access_consumer_idx"),
        ]
        constraints = [
            # A read without a case and a purpose is impossible (the issue; 国发〔2016〕51号 art. 13).
            models.CheckConstraint(
                condition=~Q(outcome=Outcome.ANSWERED) | (~Q(case_number="") & ~Q(purpose="")),
                name="sharing_answer_has_case_and_purpose",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.consumer_label} {self.resource_code} {self.outcome}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None:
            raise TypeError("access records are append-only")
        super().save(*args, **kwargs)  # type: ignore[arg-type,unreachable,unused-ignore]

    def delete(self, *args: object, **kwargs: object) -> tuple[int, dict[str, int]]:
        raise TypeError("access records are append-only")
