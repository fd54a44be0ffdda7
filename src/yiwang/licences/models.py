"""Electronic licences: licence types and the platform's signing certificates (licences themselves follow)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yiwang.common.crypto import EncryptedJSONField, EncryptedTextField
from yiwang.licences.constants import Algorithm, HolderKind, KeyStatus, LicenceStatus, Purpose, RevocationReason


class SigningCertificate(models.Model):
    """A certificate of the platform's PKI and its private key (encrypted at rest, never shown, never logged).

    One active root (the platform CA), one active seal per issuing department, one active time-stamp certificate.
    Rotation retires the old one: it signs nothing more, and what it signed still verifies. Revocation puts it on
    the CRL from ``revoked_at``: what it signed after that time no longer verifies.
    """

    purpose = models.CharField(_("purpose"), max_length=10, choices=Purpose.choices)
    organisation = models.ForeignKey(
        "catalogue.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="signing_certificates",
        verbose_name=_("department"),
    )
    issuer = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="issued", verbose_name=_("issuer")
    )
    subject = models.CharField(_("subject"), max_length=200)
    serial = models.CharField(_("serial number"), max_length=42, unique=True)  # hex, RFC 5280: ≤ 20 octets
    algorithm = models.CharField(_("algorithm"), max_length=12, choices=Algorithm.choices)
    certificate_pem = models.TextField(_("certificate"))
    private_key = EncryptedTextField(_("private key"), editable=False)
    not_before = models.DateTimeField(_("valid from"))
    not_after = models.DateTimeField(_("valid until"))
    status = models.CharField(_("status"), max_length=8, choices=KeyStatus.choices, default=KeyStatus.ACTIVE)
    retired_at = models.DateTimeField(_("retired at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revocation_reason = models.CharField(
        _("revocation reason"), max_length=24, choices=RevocationReason.choices, blank=True
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("signing certificate")
        verbose_name_plural = _("signing certificates")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["purpose"],
                condition=Q(status=KeyStatus.ACTIVE, purpose__in=[Purpose.ROOT, Purpose.TIMESTAMP]),
                name="signing_one_active_platform_key",
            ),
            models.UniqueConstraint(
                fields=["organisation"],
                condition=Q(status=KeyStatus.ACTIVE, purpose=Purpose.SEAL),
                name="signing_one_active_seal_per_department",
            ),
            models.CheckConstraint(
                condition=Q(purpose=Purpose.SEAL, organisation__isnull=False) | ~Q(purpose=Purpose.SEAL),
                name="signing_seal_has_department",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subject} ({self.serial})"

    def __repr__(self) -> str:
        # Never the key, whatever prints the object (a debugger, a log line, an error report).
        return f"<SigningCertificate {self.pk} {self.purpose} {self.serial} {self.status}>"


class LicenceType(models.Model):
    """证照类型: what a kind of licence says and how it looks (GB/T 36903 directory fields + the type's own).

    Catalogue items name the type their result is (``results[].licence_type_code`` in the exchange content).
    ``fields``: the type's own metadata, each ``{"key", "label", "label_en", "source"}`` where ``source`` is
    ``form:<field>`` (the applicant's answer) or ``case:<attribute>`` (e.g. ``case:applicant_name``).
    ``layout``: how the licence PDF shows them (``{"title", "title_en", "rows": [keys]}``).
    """

    code = models.CharField(_("licence type code"), max_length=21, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    defining_authority = models.CharField(_("defining authority"), max_length=200)
    holder_kind = models.CharField(_("holder"), max_length=3, choices=HolderKind.choices)
    # Empty: valid until revoked (长期有效).
    validity_years = models.PositiveSmallIntegerField(_("validity in years"), null=True, blank=True)
    fields = models.JSONField(_("fields"), default=list, blank=True)
    layout = models.JSONField(_("layout"), default=dict, blank=True)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("licence type")
        verbose_name_plural = _("licence types")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    @property
    def defining_authority_code(self) -> str:
        return self.code[:18]


def licence_upload_to(instance: Licence, filename: str) -> str:
    # Sharded by the file's digest: one directory never holds millions of licences.
    return f"licences/{instance.sha256[:2]}/{instance.sha256[2:4]}/{filename}"


class Licence(models.Model):
    """One version of an issued electronic licence: its directory record (GB/T 36903) and its sealed file.

    A change (变更) or re-issue (补证) is a new row with the next version of the same identifier stem; the old row
    becomes ``superseded``. The holder's code (ID number or USCC) rests encrypted beside its blind index.
    """

    identifier = models.CharField(_("licence identifier"), max_length=120, unique=True)
    licence_type = models.ForeignKey(
        LicenceType, on_delete=models.PROTECT, related_name="licences", verbose_name=_("licence type")
    )
    serial = models.CharField(_("licence number"), max_length=40)
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    issuer = models.ForeignKey(
        "catalogue.Organisation", on_delete=models.PROTECT, related_name="licences", verbose_name=_("issuer")
    )
    holder_name = models.CharField(_("holder"), max_length=200)
    holder_kind = models.CharField(_("holder code type"), max_length=3, choices=HolderKind.choices)
    holder_code = EncryptedTextField(_("holder code"))
    holder_index = models.CharField(max_length=64, editable=False, db_index=True)
    region_code = models.CharField(_("jurisdiction"), max_length=12, blank=True)
    issued_on = models.DateField(_("issued on"))
    valid_from = models.DateField(_("valid from"))
    valid_until = models.DateField(_("valid until"), null=True, blank=True)  # empty: long-term (长期)
    data = EncryptedJSONField(_("licence data"), default=dict)
    status = models.CharField(_("status"), max_length=10, choices=LicenceStatus.choices, default=LicenceStatus.VALID)
    status_changed_at = models.DateTimeField(_("status changed at"), null=True, blank=True)
    status_reason = models.TextField(_("reason"), blank=True)
    previous = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="next", verbose_name=_("previous version")
    )
    case = models.ForeignKey(
        "cases.Case", on_delete=models.PROTECT, null=True, blank=True, related_name="licences", verbose_name=_("case")
    )
    seal = models.ForeignKey(
        SigningCertificate, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("seal")
    )
    sha256 = models.CharField(_("SHA-256 of the sealed file"), max_length=64, blank=True, db_index=True)
    file = models.FileField(_("sealed file"), upload_to=licence_upload_to, max_length=300, blank=True)
    # The expiry date an advance reminder was sent for (the reminder job runs daily and must not repeat itself;
    # a renewal that moves the date gets its own reminder).
    reminded_for = models.DateField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("licence")
        verbose_name_plural = _("licences")
        ordering = ["-issued_on", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["licence_type", "issuer", "serial", "version"], name="licence_version_uniq"
            ),
            # One licence per approved case (issuance is idempotent per case); later versions have no case.
            models.UniqueConstraint(fields=["case"], condition=Q(case__isnull=False), name="licence_one_per_case"),
        ]
        indexes = [models.Index(fields=["holder_index", "-issued_on"], name="licence_holder_idx")]

    def __str__(self) -> str:
        return self.identifier


class LicenceShare(models.Model):
    """A time-limited link through which the holder shows a third party the annotated copy (加注件) of a licence.

    The token is shown to the holder (kept encrypted so the wallet can show the link again) and looked up by its
    digest; every view is logged (``LicenceShareView``) and shown to the holder.
    """

    licence = models.ForeignKey(Licence, on_delete=models.CASCADE, related_name="shares", verbose_name=_("licence"))
    token_digest = models.CharField(max_length=64, unique=True, editable=False)
    token = EncryptedTextField(editable=False)
    purpose = models.CharField(_("purpose"), max_length=100)
    recipient = models.CharField(_("shared with"), max_length=100, blank=True)
    expires_at = models.DateTimeField(_("link expires at"))
    revoked_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    # The annotated copy, sealed when the link is made (a view costs no signature).
    file = models.FileField(_("annotated copy"), upload_to="licences/shares/%Y/%m/", max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("licence share link")
        verbose_name_plural = _("licence share links")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.licence_id} → {self.recipient or self.purpose}"

    def __repr__(self) -> str:
        return f"<LicenceShare {self.pk} licence={self.licence_id} expires={self.expires_at:%Y-%m-%d}>"


class LicenceShareView(models.Model):
    """One opening of a share link: when, from where (masked address), with what browser."""

    share = models.ForeignKey(LicenceShare, on_delete=models.CASCADE, related_name="views", verbose_name=_("link"))
    viewed_at = models.DateTimeField(_("viewed at"), default=timezone.now)
    client = models.CharField(_("from"), max_length=64, blank=True)
    user_agent = models.CharField(_("browser"), max_length=200, blank=True)
    downloaded = models.BooleanField(_("downloaded the file"), default=False)

    class Meta:
        verbose_name = _("licence share view")
        verbose_name_plural = _("licence share views")
        ordering = ["-viewed_at", "-id"]

    def __str__(self) -> str:
        return f"{self.share_id} {self.viewed_at:%Y-%m-%d %H:%M}"
