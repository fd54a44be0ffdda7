from __future__ import annotations

from typing import Any

from django.utils.translation import get_language
from rest_framework import serializers

from yiwang.catalogue.models import ItemVersion, Organisation
from yiwang.common.models import Division


class ItemSummarySerializer(serializers.ModelSerializer[ItemVersion]):
    version = serializers.IntegerField(source="number")
    region_name = serializers.SerializerMethodField()
    department = serializers.SerializerMethodField()
    item_type_label = serializers.CharField(source="get_item_type_display")

    class Meta:
        model = ItemVersion
        fields = [
            "implementation_code",
            "basic_code",
            "name",
            "item_type",
            "item_type_label",
            "version",
            "region_code",
            "region_name",
            "department",
            "valid_from",
        ]

    def get_region_name(self, obj: ItemVersion) -> str:
        return obj.region.display_name(get_language()) if obj.region else ""

    def get_department(self, obj: ItemVersion) -> str:
        return obj.department.display_name(get_language())


class ItemDetailSerializer(ItemSummarySerializer):
    status = serializers.CharField()
    content = serializers.JSONField()
    published_at = serializers.DateTimeField()
    valid_until = serializers.DateTimeField()

    class Meta(ItemSummarySerializer.Meta):
        fields = [*ItemSummarySerializer.Meta.fields, "status", "published_at", "valid_until", "content"]


class VersionHistorySerializer(serializers.ModelSerializer[ItemVersion]):
    version = serializers.IntegerField(source="number")

    class Meta:
        model = ItemVersion
        fields = ["version", "status", "published_at", "valid_from", "valid_until", "status_note"]


class ManagedVersionSerializer(serializers.ModelSerializer[ItemVersion]):
    version = serializers.IntegerField(source="number", read_only=True)
    department = serializers.CharField(source="department.name", read_only=True)

    class Meta:
        model = ItemVersion
        fields = [
            "id",
            "implementation_code",
            "name",
            "version",
            "status",
            "department",
            "region_code",
            "violation_count",
            "created_by",
            "updated_at",
            "published_at",
            "valid_from",
            "valid_until",
            "content",
        ]
        read_only_fields = fields


class ContentInputSerializer(serializers.Serializer[dict[str, Any]]):
    content = serializers.JSONField(help_text="One item in the exchange format (service-item.schema.json).")


class ReasonSerializer(serializers.Serializer[dict[str, Any]]):
    reason = serializers.CharField(max_length=2000)


class ViolationSerializer(serializers.Serializer[dict[str, Any]]):
    rule = serializers.CharField()
    item = serializers.CharField()
    element = serializers.CharField()
    message = serializers.CharField()
    severity = serializers.CharField()


class DiffRowSerializer(serializers.Serializer[dict[str, Any]]):
    element = serializers.CharField()
    path = serializers.CharField()
    kind = serializers.CharField()
    old = serializers.CharField()
    new = serializers.CharField()


class OrganisationSerializer(serializers.ModelSerializer[Organisation]):
    item_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Organisation
        fields = ["id", "name", "name_en", "uscc", "division", "item_count"]


class DivisionSerializer(serializers.ModelSerializer[Division]):
    class Meta:
        model = Division
        fields = ["code", "name", "name_en", "level", "parent"]
