"""Shapes of the verify API: the question (an identifier and a name) and the answer (found, matches, status)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers


class PersonVerifyInput(serializers.Serializer[Any]):
    # Lengths are generous (spaces, full-width digits); the identifier itself is validated by the selector.
    id_number = serializers.CharField(max_length=40, help_text=_("18-character resident ID number (GB 11643)"))
    name = serializers.CharField(max_length=100, help_text=_("The name to check against the population register"))


class EntityVerifyInput(serializers.Serializer[Any]):
    uscc = serializers.CharField(max_length=40, help_text=_("Unified social credit code (GB 32100)"))
    name = serializers.CharField(max_length=200, help_text=_("The name to check against the legal-entity register"))


class VerificationSerializer(serializers.Serializer[Any]):
    found = serializers.BooleanField(help_text=_("The register holds this ID number or code"))
    matches = serializers.BooleanField(help_text=_("It is registered under this name (whitespace ignored)"))
    status = serializers.CharField(
        allow_null=True,
        help_text=_('Entities: active, revoked or cancelled; people: "registered"; null when not found'),
    )
