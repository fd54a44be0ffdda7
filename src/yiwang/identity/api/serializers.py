"""Shapes of the identity API. Identifiers are masked unless the viewer may see them in clear.

The person lookup's ID number is decided here, from the request in the serializer context, and fails safe:
without a request (or a viewer allowed by ``authz.may_see_identifiers``) the masked form is all that leaves.
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from yiwang.audit.models import AuditRecord
from yiwang.common.masking import mask_id_number
from yiwang.identity import authz
from yiwang.identity.lookups import PersonRecord
from yiwang.identity.models import Agency, Enterprise


def _person_label(user: Any) -> dict[str, str]:
    """A person as others see them in an agency: the name and the masked ID number, never the number."""
    account = getattr(user, "account", None)
    return {
        "name": (account.real_name if account else "") or user.get_username(),
        "id_number": mask_id_number(account.id_number) if account else "",
    }


class EnterpriseSerializer(serializers.ModelSerializer[Enterprise]):
    class Meta:
        model = Enterprise
        fields = ["uscc", "name", "bound_at"]


class AgencySerializer(serializers.ModelSerializer[Agency]):
    principal = serializers.SerializerMethodField(help_text=_("The enterprise, or the person who appointed a proxy"))
    agent = serializers.SerializerMethodField()
    status = serializers.SerializerMethodField(help_text=_("in_force, not_yet, expired or revoked"))

    class Meta:
        model = Agency
        fields = [
            "id",
            "principal_kind",
            "principal",
            "agent",
            "all_items",
            "item_codes",
            "valid_from",
            "valid_until",
            "granted_at",
            "revoked_at",
            "status",
        ]

    def get_principal(self, obj: Agency) -> dict[str, str]:
        if obj.enterprise is not None:
            return {"uscc": obj.enterprise.uscc, "name": obj.enterprise.name}
        return _person_label(obj.principal_user)

    def get_agent(self, obj: Agency) -> dict[str, str]:
        return _person_label(obj.agent)

    def get_status(self, obj: Agency) -> str:
        return str(obj.status_at(timezone.now()).value)


class MeSerializer(serializers.Serializer[Any]):
    username = serializers.CharField()
    kind = serializers.CharField(allow_null=True, help_text=_("person or staff"))
    name = serializers.CharField()
    id_number = serializers.CharField(source="masked_id_number", help_text=_("Masked"))
    phone = serializers.CharField(source="masked_phone", help_text=_("Masked"))
    real_name_status = serializers.CharField(allow_null=True)
    can_apply = serializers.BooleanField()
    roles = serializers.ListField(child=serializers.CharField())
    department = serializers.SerializerMethodField()
    region = serializers.SerializerMethodField()
    enterprises = EnterpriseSerializer(many=True)
    agencies = AgencySerializer(many=True, help_text=_("Agencies the user holds that are in force now"))

    def get_department(self, obj: Any) -> dict[str, Any] | None:
        if obj.department is None:
            return None
        return {"id": obj.department.pk, "name": obj.department.display_name(get_language())}

    def get_region(self, obj: Any) -> dict[str, str] | None:
        if obj.region is None:
            return None
        return {"code": obj.region.code, "name": obj.region.display_name(get_language())}


class MyAgenciesSerializer(serializers.Serializer[Any]):
    granted = AgencySerializer(many=True)
    held = AgencySerializer(many=True)


class PersonQuerySerializer(serializers.Serializer[Any]):
    id_number = serializers.CharField(max_length=40, help_text=_("18-character resident ID number (GB 11643)"))


class PersonSerializer(serializers.Serializer[PersonRecord]):
    name = serializers.CharField()
    sex = serializers.CharField()
    sex_label = serializers.CharField()
    birth_date = serializers.DateField()
    region_code = serializers.CharField()
    region_name = serializers.CharField()
    address = serializers.CharField()
    id_number = serializers.SerializerMethodField(help_text=_("In clear only for clerks, reviewers and approvers"))
    id_number_masked = serializers.SerializerMethodField()

    def _clear(self, obj: PersonRecord) -> bool:
        request = self.context.get("request")
        # Both the lookup and the reader must agree: a record prepared for one viewer never shows more to another.
        return bool(request is not None and obj.identifiers_in_clear and authz.may_see_identifiers(request.user))

    def get_id_number(self, obj: PersonRecord) -> str:
        return obj.id_number if self._clear(obj) else mask_id_number(obj.id_number)

    def get_id_number_masked(self, obj: PersonRecord) -> bool:
        return not self._clear(obj)


class AuditRecordSerializer(serializers.ModelSerializer[AuditRecord]):
    class Meta:
        model = AuditRecord
        fields = [
            "id",
            "at",
            "actor_label",
            "on_behalf_of",
            "action",
            "object_type",
            "object_id",
            "object_label",
            "before",
            "after",
            "note",
        ]
