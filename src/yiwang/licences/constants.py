from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from yiwang.licences import pki


class Purpose(models.TextChoices):
    ROOT = "root", _("Platform certificate authority")
    SEAL = "seal", _("Department seal")
    TIMESTAMP = "timestamp", _("Time-stamp service")


class KeyStatus(models.TextChoices):
    ACTIVE = "active", _("In use")
    # Replaced by a newer certificate (rotation): signs nothing more, and what it signed still verifies.
    RETIRED = "retired", _("Retired")
    REVOKED = "revoked", _("Revoked")


class Algorithm(models.TextChoices):
    ECDSA_P256 = pki.ECDSA_P256, _("ECDSA P-256")
    RSA_3072 = pki.RSA_3072, _("RSA 3072")


class RevocationReason(models.TextChoices):
    # RFC 5280 CRLReason values an administrator may give.
    KEY_COMPROMISE = "key_compromise", _("The private key may be compromised")
    SUPERSEDED = "superseded", _("Replaced by a new certificate")
    CESSATION = "cessation_of_operation", _("The department no longer issues licences")
    UNSPECIFIED = "unspecified", _("No reason given")


class HolderKind(models.TextChoices):
    # GB/T 36903 持证主体代码类型: 111 公民身份号码, 049 统一社会信用代码.
    PERSON = "111", _("Natural person (resident ID number)")
    ORGANISATION = "049", _("Organisation (unified social credit code)")


class LicenceStatus(models.TextChoices):
    VALID = "valid", _("Valid")
    SUSPENDED = "suspended", _("Suspended")
    REVOKED = "revoked", _("Revoked")
    # A later version (a change 变更 or re-issue 补证) replaced it.
    SUPERSEDED = "superseded", _("Superseded")


class Verdict(models.TextChoices):
    """What verification answers (issue 5): the licence's state, or why there is none."""

    VALID = "valid", _("Valid")
    EXPIRED = "expired", _("Expired")
    REVOKED = "revoked", _("Revoked")
    SUSPENDED = "suspended", _("Suspended")
    SUPERSEDED = "superseded", _("Superseded by a newer version")
    TAMPERED = "tampered", _("Altered after sealing")
    UNKNOWN = "unknown", _("Well-formed but not issued here")
    INVALID = "invalid", _("Not a valid identifier")
