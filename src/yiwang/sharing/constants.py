"""Code sets of data sharing (信息共享). Sharing types follow the 政务信息资源共享管理暂行办法 (国发〔2016〕51号)
art. 9: every resource is 无条件共享, 有条件共享 or 不予共享."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class SharingType(models.TextChoices):
    UNCONDITIONAL = "unconditional", _("Shared without conditions")  # 无条件共享
    CONDITIONAL = "conditional", _("Shared on conditions")  # 有条件共享
    NOT_SHARED = "not_shared", _("Not shared")  # 不予共享


class Sensitivity(models.TextChoices):
    PUBLIC = "public", _("Public")
    INTERNAL = "internal", _("Internal")
    SENSITIVE = "sensitive", _("Sensitive personal data")


class FieldType(models.TextChoices):
    STRING = "string", _("Text")
    DATE = "date", _("Date")
    CODE = "code", pgettext_lazy("data type", "Code")
    BOOLEAN = "boolean", _("Yes or no")
    LIST = "list", _("List of records")


class UpdateCycle(models.TextChoices):
    REAL_TIME = "real_time", _("Real time")
    DAILY = "daily", _("Daily")
    WEEKLY = "weekly", _("Weekly")
    MONTHLY = "monthly", _("Monthly")
    YEARLY = "yearly", _("Yearly")
    ON_CHANGE = "on_change", _("When it changes")


class SubjectKind(models.TextChoices):
    PERSON = "person", _("Natural person")
    ENTITY = "entity", _("Legal entity")


class Backend(models.TextChoices):
    """Where the answer to a query comes from. Resources held by a department's own system are catalogued
    here (so consumers know they exist and whom to ask) but the exchange cannot answer for them."""

    POPULATION = "population", _("Population register")
    LEGAL_ENTITY = "legal_entity", _("Legal-entity register")
    LICENCES = "licences", _("Licence library")
    EXTERNAL = "external", _("The provider's own system")


class GrantStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    APPROVED = "approved", _("Approved")
    REFUSED = "refused", _("Refused")
    REVOKED = "revoked", _("Revoked")
    WITHDRAWN = "withdrawn", _("Withdrawn by the consumer")


class Outcome(models.TextChoices):
    ANSWERED = "answered", _("Answered")
    REFUSED = "refused", pgettext_lazy("access outcome", "Refused")


class AccessChannel(models.TextChoices):
    EXCHANGE = "exchange", _("Exchange API (department system)")
    CASE = "case", _("Fetched into an application")
    VERIFY = "verify", _("Yes/no verification")


class Refusal(models.TextChoices):
    """Why the exchange refused a request; each is logged in the access log with the request."""

    BAD_SIGNATURE = "bad_signature", _("The request's signature is missing or does not verify")
    STALE = "stale", _("The request's time is too far from the platform's clock")
    REPLAY = "replay", _("The request was already received (replay)")
    UNKNOWN_RESOURCE = "unknown_resource", _("There is no such resource")
    NOT_SHARED = "not_shared", _("The resource is not shared")
    NOT_HELD = "not_held", _("The resource is held in the provider's own system")
    NO_GRANT = "no_grant", _("The consumer holds no grant for this resource")
    GRANT_EXPIRED = "grant_expired", _("The grant is not valid on this date")
    FIELD_NOT_GRANTED = "field_not_granted", _("A field asked for is not granted")
    PURPOSE_NOT_GRANTED = "purpose_not_granted", _("The purpose is not one the grant allows")
    ITEM_NOT_GRANTED = "item_not_granted", _("The case's service item is not one the grant allows")
    NO_CASE = "no_case", _("A case number and a purpose are required")
    CASE_OUT_OF_SCOPE = "case_out_of_scope", _("The case is unknown or does not involve the consumer's department")
    CASE_CLOSED = "case_closed", _("The case is not being handled (a draft, or decided, refused or withdrawn)")
    SUBJECT_NOT_IN_CASE = "subject_not_in_case", _("The subject is not a party to the case")
    RATE_LIMITED = "rate_limited", _("The grant's rate limit is reached")
    INVALID_SUBJECT = "invalid_subject", _("The subject's identifier is malformed")
    NO_CONSENT = "no_consent", _("The applicant has not consented")


# How far a request's timestamp may be from the platform's clock, and so how long nonces must be kept to
# refuse a replay: a request older than this is refused as stale without looking at its nonce.
REQUEST_WINDOW_SECONDS = 300
