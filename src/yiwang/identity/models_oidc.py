"""Policies of registered OAuth2/OIDC clients (department systems) and the subject identifiers they see.

django-oauth-toolkit's ``Application`` is the client record (client id, hashed secret, redirect URIs, grant
type). ``ClientPolicy`` beside it says what an administrator allowed that client: which scopes, whether it
may receive ID numbers in clear, and which department runs it. Clients are registered, changed and
disabled only through ``yiwang.identity.clients`` (audited).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = ["ClientKind", "ClientPolicy", "SubjectIdentifier"]


class ClientKind(models.TextChoices):
    # A web system signs people in (authorization code + PKCE); a machine client calls APIs as itself
    # (client credentials). One registration is one kind: a department needing both registers two clients.
    WEB = "web", _("Web system (signs users in)")
    MACHINE = "machine", _("Machine client (calls APIs as itself)")


class ClientPolicy(models.Model):
    application = models.OneToOneField(
        "oauth2_provider.Application", on_delete=models.CASCADE, related_name="policy", verbose_name=_("client")
    )
    kind = models.CharField(_("kind"), max_length=8, choices=ClientKind.choices)
    # Scopes outside this list are refused at the authorization and token endpoints (yiwang.identity.oidc).
    allowed_scopes = models.JSONField(_("allowed scopes"), default=list)
    department = models.ForeignKey(
        "catalogue.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="oidc_clients",
        verbose_name=_("department"),
    )
    # Clear ID numbers leave Yiwang only for systems that must find a citizen's records by them.
    may_receive_id_numbers = models.BooleanField(_("may receive ID numbers in clear"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    # The actor's label as well: system actors (commands) have no user row.
    created_by_label = models.CharField(_("created by"), max_length=150, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # A disabled client keeps its row (its client id is never reused, the audit log points at it) but can
    # neither obtain nor use tokens.
    disabled_at = models.DateTimeField(_("disabled at"), null=True, blank=True)
    disabled_by_label = models.CharField(_("disabled by"), max_length=150, blank=True)

    class Meta:
        verbose_name = _("client policy")
        verbose_name_plural = _("client policies")

    def __str__(self) -> str:
        return f"{self.application} ({self.get_kind_display()})"

    @property
    def is_active(self) -> bool:
        return self.disabled_at is None


class SubjectIdentifier(models.Model):
    """The ``sub`` a user has towards every client: random, so it reveals neither the database id nor a key.

    A derived value (an HMAC of the user id) would change whenever its key is rotated, and department
    systems store ``sub`` to recognise a returning user; a stored random identifier never changes.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="oidc_subject", verbose_name=_("user")
    )
    subject = models.UUIDField(_("subject identifier"), default=uuid.uuid4, unique=True, editable=False)

    class Meta:
        verbose_name = _("subject identifier")
        verbose_name_plural = _("subject identifiers")

    def __str__(self) -> str:
        return str(self.subject)
