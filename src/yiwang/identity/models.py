"""Accounts, enterprises, agency grants and one-time codes.

Django's own ``auth.User`` stays the login record (sessions, admin, permissions); ``Account`` beside it holds
who the user is for the government: a real-name-checked person or a staff member of a department and region
(decision 0006). ID and phone numbers are encrypted with blind indexes for lookup (yiwang.common.crypto).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yiwang.catalogue.models import Organisation
from yiwang.common.crypto import EncryptedTextField
from yiwang.common.masking import mask_id_number, mask_phone
from yiwang.common.models import Division
from yiwang.identity.constants import AccountKind, AgencyStatus, CodePurpose, IdType, PrincipalKind, RealNameStatus


class Account(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="account", verbose_name=_("user")
    )
    kind = models.CharField(_("kind"), max_length=8, choices=AccountKind.choices)
    real_name = models.CharField(_("name"), max_length=100, blank=True)
    id_type = models.CharField(_("ID type"), max_length=3, choices=IdType.choices, blank=True)
    id_number = EncryptedTextField(_("ID number"), blank=True)
    # Unique where present: one account per person (staff may have none).
    id_number_index = models.CharField(_("ID number index"), max_length=64, null=True, blank=True, editable=False)
    phone = EncryptedTextField(_("phone number"), blank=True)
    phone_index = models.CharField(_("phone index"), max_length=64, blank=True, db_index=True, editable=False)
    # Set when a code sent to the number came back: only a confirmed number signs in or resets by SMS.
    phone_confirmed_at = models.DateTimeField(_("phone confirmed at"), null=True, blank=True)
    real_name_status = models.CharField(
        _("real-name status"), max_length=12, choices=RealNameStatus.choices, default=RealNameStatus.UNVERIFIED
    )
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    # Staff only: the department (a catalogue organisation) and region whose records they may see.
    department = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="staff",
        verbose_name=_("department"),
    )
    division = models.ForeignKey(
        Division, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("region")
    )
    failed_logins = models.PositiveIntegerField(_("failed sign-ins"), default=0)
    locked_until = models.DateTimeField(_("locked until"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        constraints = [
            models.UniqueConstraint(
                fields=["id_number_index"], condition=Q(id_number_index__isnull=False), name="account_id_number_uniq"
            ),
            models.CheckConstraint(
                condition=Q(kind="person") | Q(department__isnull=False, division__isnull=False),
                name="account_staff_has_scope",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.real_name or self.user.get_username()} ({self.get_kind_display()})"

    @property
    def is_verified(self) -> bool:
        return self.real_name_status == RealNameStatus.VERIFIED

    @property
    def masked_id_number(self) -> str:
        return mask_id_number(self.id_number)

    @property
    def masked_phone(self) -> str:
        return mask_phone(self.phone)

    def is_locked(self, now: dt.datetime | None = None) -> bool:
        return self.locked_until is not None and self.locked_until > (now or timezone.now())


def account_of(user: Any) -> Account | None:
    """The user's account, or None for a bare login (a superuser made with createsuperuser, an anonymous user)."""
    try:
        account: Account | None = getattr(user, "account", None)  # the reverse one-to-one raises AttributeError
    except Account.DoesNotExist:
        return None
    return account


class Enterprise(models.Model):
    """An enterprise account: a USCC verified against the legal-entity register, held by its legal representative."""

    uscc = models.CharField(_("unified social credit code"), max_length=18, unique=True)
    name = models.CharField(_("name"), max_length=200)
    representative = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="represented_enterprises",
        verbose_name=_("legal representative"),
    )
    bound_at = models.DateTimeField(_("bound at"), auto_now_add=True)

    class Meta:
        verbose_name = _("enterprise account")
        verbose_name_plural = _("enterprise accounts")
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.uscc})"


class AgencyQuerySet(models.QuerySet["Agency"]):
    def in_force(self, now: dt.datetime | None = None) -> AgencyQuerySet:
        moment = now or timezone.now()
        return self.filter(revoked_at__isnull=True, valid_from__lte=moment, valid_until__gt=moment)


class Agency(models.Model):
    """Authority for an agent to act for a principal (an enterprise's 经办人, or a person's 委托代办 proxy)."""

    principal_kind = models.CharField(_("principal kind"), max_length=10, choices=PrincipalKind.choices)
    enterprise = models.ForeignKey(
        Enterprise,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="agencies",
        verbose_name=_("enterprise"),
    )
    principal_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="proxies_granted",
        verbose_name=_("principal"),
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="agencies", verbose_name=_("agent")
    )
    all_items = models.BooleanField(_("all items"), default=False)
    # Basic codes (基本编码) of the items the agent may handle when not all items.
    item_codes = models.JSONField(_("items"), default=list, blank=True)
    valid_from = models.DateTimeField(_("valid from"))
    valid_until = models.DateTimeField(_("valid until"))
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("granted by")
    )
    granted_at = models.DateTimeField(_("granted at"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("revoked by"),
    )

    objects = AgencyQuerySet.as_manager()

    class Meta:
        verbose_name = _("agency")
        verbose_name_plural = _("agencies")
        ordering = ["-granted_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(principal_kind="enterprise", enterprise__isnull=False, principal_user__isnull=True))
                | (Q(principal_kind="person", enterprise__isnull=True, principal_user__isnull=False)),
                name="agency_one_principal",
            ),
            models.CheckConstraint(condition=Q(valid_until__gt=models.F("valid_from")), name="agency_period"),
        ]

    def __str__(self) -> str:
        return f"{self.principal_label} → {self.agent.get_username()}"

    @property
    def principal_label(self) -> str:
        if self.enterprise is not None:
            return f"enterprise:{self.enterprise.uscc}"
        assert self.principal_user is not None
        return f"person:{self.principal_user.get_username()}"

    def covers(self, basic_code: str | None) -> bool:
        return self.all_items or (basic_code is not None and basic_code in self.item_codes)

    def status_at(self, moment: dt.datetime) -> AgencyStatus:
        """The one derivation of an agency's status (pages, API and the act check all use it)."""
        if self.revoked_at is not None:
            return AgencyStatus.REVOKED
        if moment < self.valid_from:
            return AgencyStatus.NOT_YET
        if moment >= self.valid_until:
            return AgencyStatus.EXPIRED
        return AgencyStatus.IN_FORCE

    def in_force_at(self, moment: dt.datetime) -> bool:
        return self.status_at(moment) == AgencyStatus.IN_FORCE


class OneTimeCode(models.Model):
    """An SMS code: only its hash is stored; it expires, allows few attempts and works once."""

    purpose = models.CharField(_("purpose"), max_length=10, choices=CodePurpose.choices)
    phone_index = models.CharField(_("phone index"), max_length=64, db_index=True)
    code_hash = models.CharField(_("code hash"), max_length=64)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("one-time code")
        verbose_name_plural = _("one-time codes")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.purpose} {self.created_at:%Y-%m-%d %H:%M}"


# OpenID Connect / OAuth2 client policies live in their own module; importing them here registers the models.
from yiwang.identity.models_oidc import *  # noqa: E402,F403
