"""Code sets of the identity domain."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class AccountKind(models.TextChoices):
    PERSON = "person", _("Natural person")
    STAFF = "staff", _("Staff")


class RealNameStatus(models.TextChoices):
    UNVERIFIED = "unverified", _("Not verified")
    VERIFIED = "verified", _("Verified against the population register")


class IdType(models.TextChoices):
    # The code set of GB/T 39046 Appendix A names more; only the resident ID card is supported so far.
    RESIDENT_ID = "111", _("Resident identity card")


class Role(models.TextChoices):
    """Staff roles. Each is a Django group of the same name (permissions for the admin) and an authz role."""

    WINDOW_CLERK = "window_clerk", _("Window clerk")
    REVIEWER = "reviewer", _("Reviewer")
    APPROVER = "approver", _("Approver")
    CATALOGUE_MANAGER = "catalogue_manager", _("Catalogue manager")
    CATALOGUE_PUBLISHER = "catalogue_publisher", _("Catalogue publisher")
    SUPERVISOR = "supervisor", _("Supervisor")
    AUDITOR = "auditor", _("Auditor")
    ADMINISTRATOR = "administrator", _("Administrator")


class PrincipalKind(models.TextChoices):
    ENTERPRISE = "enterprise", _("Enterprise")
    PERSON = "person", _("Natural person")


class CodePurpose(models.TextChoices):
    LOGIN = "login", _("Sign in")
    RESET = "reset", _("Password reset")
    REGISTER = "register", _("Phone confirmation")


class AgencyStatus(models.TextChoices):
    """Where an agency stands at a moment (derived from its period and revocation, never stored)."""

    IN_FORCE = "in_force", pgettext_lazy("agency status", "In force")
    NOT_YET = "not_yet", _("Not yet in force")
    EXPIRED = "expired", _("Expired")
    REVOKED = "revoked", _("Revoked")
