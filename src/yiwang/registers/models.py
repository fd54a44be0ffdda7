"""The base registers (基础库): the population register (人口库) and the legal-entity register (法人库).

They are the authoritative sources that real-name checks compare against, and that data sharing exposes
later. ID numbers are personal data: stored encrypted with a blind index (yiwang.common.crypto).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from yiwang.common.crypto import EncryptedTextField
from yiwang.common.masking import mask_id_number
from yiwang.common.models import Division


class Sex(models.TextChoices):
    # GB/T 2261.1 codes
    MALE = "1", _("Male")
    FEMALE = "2", _("Female")


class Person(models.Model):
    """A natural person as the population register knows them."""

    id_number = EncryptedTextField(_("ID number"))
    id_number_index = models.CharField(_("ID number index"), max_length=64, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=100)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    birth_date = models.DateField(_("birth date"))
    division = models.ForeignKey(
        Division, on_delete=models.PROTECT, related_name="+", verbose_name=_("region of residence")
    )
    address = models.CharField(_("address"), max_length=300, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("person")
        verbose_name_plural = _("persons (population register)")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.name} {mask_id_number(self.id_number)}"


class EntityType(models.TextChoices):
    COMPANY = "company", _("Limited liability company")
    JOINT_STOCK = "joint_stock", _("Joint-stock company")
    SOLE_PROPRIETOR = "sole", _("Individual business")
    PARTNERSHIP = "partnership", _("Partnership")
    COOPERATIVE = "cooperative", _("Farmers' cooperative")
    INSTITUTION = "institution", _("Public institution")
    SOCIAL = "social", _("Social organisation")


class EntityStatus(models.TextChoices):
    ACTIVE = "active", _("In business")
    REVOKED = "revoked", _("Licence revoked")
    CANCELLED = "cancelled", _("Deregistered")


class LegalEntity(models.Model):
    """An enterprise or other legal entity as the legal-entity register knows it."""

    uscc = models.CharField(_("unified social credit code"), max_length=18, unique=True)
    name = models.CharField(_("name"), max_length=200)
    entity_type = models.CharField(_("entity type"), max_length=16, choices=EntityType.choices)
    legal_representative = models.CharField(_("legal representative"), max_length=100)
    legal_representative_id_number = EncryptedTextField(_("legal representative's ID number"))
    legal_representative_index = models.CharField(
        _("legal representative index"), max_length=64, db_index=True, editable=False
    )
    registered_address = models.CharField(_("registered address"), max_length=300)
    division = models.ForeignKey(Division, on_delete=models.PROTECT, related_name="+", verbose_name=_("region"))
    established = models.DateField(_("date established"))
    business_scope = models.TextField(_("business scope"), blank=True)
    status = models.CharField(_("status"), max_length=16, choices=EntityStatus.choices, default=EntityStatus.ACTIVE)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("legal entity")
        verbose_name_plural = _("legal entities (legal-entity register)")
        ordering = ["uscc"]

    def __str__(self) -> str:
        return f"{self.uscc} {self.name}"
