"""The resources the platform provides from the start (the issue): the population register, the legal-entity
register and the licence library, with no provider department (administrators decide their grants).

Their names are what items' materials name as ``shared_resource`` (e.g. "人口库:居民身份信息"), so a material
finds the resource that supplies it. Field codes are those of the registers' own records.
"""

from __future__ import annotations

from typing import Any

from django.db import migrations

BASIS_51 = "《政务信息资源共享管理暂行办法》(国发〔2016〕51号)第五条、第九条、第十条"
PIPL = "《中华人民共和国个人信息保护法》第十三条第一款第(三)(五)项、第三十四条"

LICENCE_FIELDS = [
    {
        "code": "licences",
        "name": "证照信息(证照类型代码、证照类型名称、证照标识、发证机构、发证日期、有效期至、状态)",
        "name_en": "Licences (type code, type name, identifier, issuer, issued on, valid until, status)",
        "data_type": "list",
        "sensitivity": "internal",
    },
]
LICENCE_BASIS = (
    "《国务院关于在线政务服务的若干规定》(国务院令第716号)第八条、第十一条;"
    "《国务院办公厅关于加快推进电子证照扩大应用领域和全国互通互认的意见》(国办发〔2022〕3号);" + BASIS_51
)

RESOURCES: list[dict[str, Any]] = [
    {
        "code": "population",
        "name": "人口库:居民身份信息",
        "name_en": "Population register: resident identity",
        "description": "常住人口的身份基础信息,由人口综合库提供,按公民身份号码查询。",
        "provider_system": "人口综合库",
        "subject_kind": "person",
        "sharing_type": "conditional",
        "sharing_conditions": (
            "仅限办理政务服务事项时按办件核验或获取申请人本人信息,须注明事项、办件编号和用途,并经申请人同意。"
        ),
        "update_cycle": "daily",
        "legal_basis": "《中华人民共和国居民身份证法》第十三条、第十九条;《中华人民共和国户口登记条例》;"
        + PIPL
        + ";"
        + BASIS_51,
        "backend": "population",
        "fields": [
            {"code": "name", "name": "姓名", "name_en": "Name", "data_type": "string", "sensitivity": "internal"},
            {"code": "sex", "name": "性别", "name_en": "Sex", "data_type": "code", "sensitivity": "sensitive"},
            {
                "code": "birth_date",
                "name": "出生日期",
                "name_en": "Date of birth",
                "data_type": "date",
                "sensitivity": "sensitive",
            },
            {
                "code": "division",
                "name": "户籍地行政区划代码",
                "name_en": "Region of residence (GB/T 2260)",
                "data_type": "code",
                "sensitivity": "internal",
            },
            {
                "code": "address",
                "name": "住址",
                "name_en": "Address",
                "data_type": "string",
                "sensitivity": "sensitive",
            },
        ],
    },
    {
        "code": "legal_entity",
        "name": "法人库:市场主体登记信息",
        "name_en": "Legal-entity register: market entity registration",
        "description": "市场主体的登记基础信息,由法人综合库提供,按统一社会信用代码查询。",
        "provider_system": "法人综合库",
        "subject_kind": "entity",
        "sharing_type": "conditional",
        "sharing_conditions": "仅限办理政务服务事项时按办件核验或获取申请单位的登记信息,须注明事项、办件编号和用途。",
        "update_cycle": "daily",
        "legal_basis": "《中华人民共和国市场主体登记管理条例》第三十五条;《企业信息公示暂行条例》;" + BASIS_51,
        "backend": "legal_entity",
        "fields": [
            {"code": "name", "name": "名称", "name_en": "Name", "data_type": "string", "sensitivity": "public"},
            {
                "code": "entity_type",
                "name": "市场主体类型",
                "name_en": "Entity type",
                "data_type": "code",
                "sensitivity": "public",
            },
            {
                "code": "legal_representative",
                "name": "法定代表人",
                "name_en": "Legal representative",
                "data_type": "string",
                "sensitivity": "public",
            },
            {
                "code": "registered_address",
                "name": "住所",
                "name_en": "Registered address",
                "data_type": "string",
                "sensitivity": "public",
            },
            {
                "code": "division",
                "name": "登记地行政区划代码",
                "name_en": "Region (GB/T 2260)",
                "data_type": "code",
                "sensitivity": "public",
            },
            {
                "code": "established",
                "name": "成立日期",
                "name_en": "Date established",
                "data_type": "date",
                "sensitivity": "public",
            },
            {
                "code": "business_scope",
                "name": "经营范围",
                "name_en": "Business scope",
                "data_type": "string",
                "sensitivity": "public",
            },
            {"code": "status", "name": "登记状态", "name_en": "Status", "data_type": "code", "sensitivity": "public"},
        ],
    },
    {
        "code": "licences_person",
        "name": "电子证照库:个人证照信息",
        "name_en": "Licence library: licences held by persons",
        "description": "自然人持有的电子证照(本平台签发),按公民身份号码查询。",
        "provider_system": "电子证照库",
        "subject_kind": "person",
        "sharing_type": "conditional",
        "sharing_conditions": (
            "仅限办理政务服务事项时按办件获取或核验申请人本人持有的证照,须注明事项、办件编号和用途,并经持证人同意。"
        ),
        "update_cycle": "real_time",
        "legal_basis": LICENCE_BASIS + ";" + PIPL,
        "backend": "licences",
        "fields": LICENCE_FIELDS,
    },
    {
        "code": "licences_entity",
        "name": "电子证照库:法人证照信息",
        "name_en": "Licence library: licences held by legal entities",
        "description": "法人和其他组织持有的电子证照(本平台签发),按统一社会信用代码查询。",
        "provider_system": "电子证照库",
        "subject_kind": "entity",
        "sharing_type": "conditional",
        "sharing_conditions": "仅限办理政务服务事项时按办件获取或核验申请单位持有的证照,须注明事项、办件编号和用途。",
        "update_cycle": "real_time",
        "legal_basis": LICENCE_BASIS,
        "backend": "licences",
        "fields": LICENCE_FIELDS,
    },
]


def create(apps: Any, schema_editor: Any) -> None:
    resource_model = apps.get_model("sharing", "Resource")
    field_model = apps.get_model("sharing", "ResourceField")
    for spec in RESOURCES:
        values = {k: v for k, v in spec.items() if k != "fields"}
        resource, created = resource_model.objects.get_or_create(code=spec["code"], defaults=values)
        if not created:
            continue
        for position, field in enumerate(spec["fields"]):
            field_model.objects.create(resource=resource, position=position, **field)


def remove(apps: Any, schema_editor: Any) -> None:
    resource_model = apps.get_model("sharing", "Resource")
    grant_model = apps.get_model("sharing", "Grant")
    codes = [spec["code"] for spec in RESOURCES]
    grant_model.objects.filter(resource__code__in=codes).delete()
    resource_model.objects.filter(code__in=codes).delete()


class Migration(migrations.Migration):
    dependencies = [("sharing", "0001_initial")]

    operations = [migrations.RunPython(create, remove)]
