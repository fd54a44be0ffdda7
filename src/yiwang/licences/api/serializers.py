"""Shapes of the licence verification API: the one public record (``verification.public_record``) and the
error answers, described for the OpenAPI schema."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from yiwang.licences.constants import HolderKind, Verdict


class VerificationSerializer(serializers.Serializer[Any]):
    """What anyone may see of a verification; every key is always present (null when there is no licence)."""

    status = serializers.ChoiceField(choices=Verdict.choices, help_text="The verdict.")
    label = serializers.CharField(  # type: ignore[assignment]  # the key "label" shadows Field.label (unused here)
        help_text="The verdict in words, in the request's language."
    )
    reason = serializers.CharField(
        allow_blank=True, help_text="Why, in the request's language (empty for a valid licence)."
    )
    identifier = serializers.CharField(allow_null=True, help_text="The licence's GB/T 36904 identifier.")
    licence_type_code = serializers.CharField(allow_null=True)
    licence_type_name = serializers.CharField(allow_null=True)
    issuer_name = serializers.CharField(allow_null=True)
    issuer_uscc = serializers.CharField(allow_null=True, help_text="The issuing department's credit code.")
    holder_name = serializers.CharField(allow_null=True, help_text="Masked: 张* or 杭州********有限公司.")
    holder_code = serializers.CharField(allow_null=True, help_text="Masked: the first and last four characters.")
    holder_code_type = serializers.ChoiceField(
        choices=HolderKind.choices, allow_null=True, help_text="111 resident ID number, 049 credit code."
    )
    issued_on = serializers.DateField(allow_null=True)
    valid_from = serializers.DateField(allow_null=True)
    valid_until = serializers.DateField(allow_null=True, help_text="Null: long-term (长期有效).")
    version = serializers.IntegerField(allow_null=True)
    status_changed_on = serializers.DateField(
        allow_null=True, help_text="When the licence was last suspended, reinstated, revoked or superseded."
    )


class UploadInput(serializers.Serializer[Any]):
    file = serializers.FileField(help_text="The licence's PDF (at most 10 MB).")


class ErrorSerializer(serializers.Serializer[Any]):
    """The common error shape (common.api.exception_handler)."""

    code = serializers.CharField()
    message = serializers.CharField()
    errors = serializers.ListField(  # type: ignore[assignment]  # the key "errors" shadows Serializer.errors (unused)
        child=serializers.DictField(), help_text="One entry per field at fault: {field, message}."
    )
