"""Shapes of the exchange API (docs/sharing-exchange.md).

Inputs check only the shape. A purpose or case number left out arrives as "" so the exchange refuses it as
``no_case`` and logs the attempt, like every other refusal; only a body that is not this shape at all is a
plain 400 (it asked for nothing the log could name).
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from yiwang.sharing.exchange import QUESTIONS

# AccessRecord's columns bound what can be logged; longer values cannot match a grant anyway.
RESOURCE_LIMIT = 40
SUBJECT_LIMIT = 40
PURPOSE_LIMIT = 200
CASE_LIMIT = 40
FIELD_LIMIT = 60
MAX_FIELDS = 200
ABOUT_LIMIT = 200


class QueryInput(serializers.Serializer[Any]):
    resource = serializers.CharField(max_length=RESOURCE_LIMIT, allow_blank=True, default="", trim_whitespace=True)
    subject = serializers.CharField(
        max_length=SUBJECT_LIMIT, allow_blank=True, default="", help_text="ID number or USCC"
    )
    fields = serializers.ListField(  # type: ignore[assignment]  # the key shadows Serializer.fields; the metaclass pops declared fields
        child=serializers.CharField(max_length=FIELD_LIMIT),
        max_length=MAX_FIELDS,
        required=False,
        allow_null=True,
        default=None,
        help_text="Field codes; left out or null: every granted field.",
    )
    purpose = serializers.CharField(max_length=PURPOSE_LIMIT, allow_blank=True, default="")
    case_number = serializers.CharField(max_length=CASE_LIMIT, allow_blank=True, default="")


class VerifyInput(serializers.Serializer[Any]):
    question = serializers.ChoiceField(choices=sorted(QUESTIONS))
    subject = serializers.CharField(
        max_length=SUBJECT_LIMIT,
        allow_blank=True,
        default="",
        help_text="legal_representative and holds_licence_entity: the USCC; the other questions: the ID number.",
    )
    about = serializers.CharField(
        max_length=ABOUT_LIMIT,
        allow_blank=True,
        default="",
        help_text=(
            "legal_representative: the person's ID number; holds_licence_*: the licence type code; "
            "person_name: the name."
        ),
    )
    purpose = serializers.CharField(max_length=PURPOSE_LIMIT, allow_blank=True, default="")
    case_number = serializers.CharField(max_length=CASE_LIMIT, allow_blank=True, default="")


class RecordRef(serializers.Serializer[Any]):
    seq = serializers.IntegerField(help_text="The access record's sequence number in the log's hash chain.")
    hash = serializers.CharField(help_text="The access record's hash (also in the Yiwang-Record header).")


class QueryAnswer(serializers.Serializer[Any]):
    resource = serializers.CharField()
    subject = serializers.CharField(help_text="Masked ID number, or the USCC.")
    found = serializers.BooleanField()
    data = serializers.DictField(  # type: ignore[assignment]  # the key shadows Serializer.data; the metaclass pops declared fields
        help_text="Only the granted fields asked for; empty when not found."
    )
    record = RecordRef()


class VerifyAnswer(serializers.Serializer[Any]):
    question = serializers.CharField()
    subject = serializers.CharField()
    answer = serializers.BooleanField()
    record = RecordRef()


class PlatformKey(serializers.Serializer[Any]):
    key_id = serializers.CharField()
    algorithm = serializers.CharField()
    public_key = serializers.CharField(help_text="SubjectPublicKeyInfo PEM")


class PlatformKeys(serializers.Serializer[Any]):
    keys = PlatformKey(many=True)


class ErrorDetail(serializers.Serializer[Any]):
    code = serializers.CharField(required=False)
    field = serializers.CharField(required=False)
    message = serializers.CharField()


class Refusal(serializers.Serializer[Any]):
    code = serializers.CharField(help_text="The refusal code (sharing.constants.Refusal), or invalid/permission_denied")
    message = serializers.CharField()
    errors = ErrorDetail(many=True)  # type: ignore[assignment]  # the key shadows Serializer.errors; the metaclass pops declared fields
    record = RecordRef(required=False, help_text="The access record of the refusal (absent for a 400 of shape)")


class GrantSummary(serializers.Serializer[Any]):
    resource = serializers.CharField()
    fields = serializers.ListField(child=serializers.CharField())  # type: ignore[assignment]  # the key shadows Serializer.fields; the metaclass pops declared fields
    purposes = serializers.ListField(child=serializers.CharField())
    items = serializers.ListField(child=serializers.CharField())
    valid_from = serializers.DateField(allow_null=True)
    valid_until = serializers.DateField(allow_null=True)
    rate_per_minute = serializers.IntegerField()


class Catalogue(serializers.Serializer[Any]):
    format = serializers.CharField()
    version = serializers.IntegerField()
    resources = serializers.ListField(child=serializers.DictField())
    grants = GrantSummary(many=True, help_text="The calling department's grants valid today.")
