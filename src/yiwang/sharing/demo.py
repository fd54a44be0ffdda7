"""Demo data of data sharing: the departments' own resources that demo items name, and grants of the platform's
registers and licence library to the departments whose items use them (idempotent; ``yiwang demo``)."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from yiwang.audit.actors import SystemActor
from yiwang.catalogue import selectors as catalogue
from yiwang.catalogue.models import Organisation
from yiwang.sharing import services
from yiwang.sharing.constants import Backend, GrantStatus, Sensitivity, SharingType
from yiwang.sharing.models import Grant, Resource
from yiwang.sharing.selectors import resource_for_material

BASIS_51 = "《政务信息资源共享管理暂行办法》(国发〔2016〕51号)"


def _f(code: str, name: str, name_en: str, data_type: str = "string", sensitivity: str = Sensitivity.INTERNAL) -> Any:
    return {"code": code, "name": name, "name_en": name_en, "data_type": data_type, "sensitivity": sensitivity}


# (provider USCC (a demo organisation), resource): the names are the items' shared_resource strings.
DEPARTMENT_RESOURCES: list[tuple[str, dict[str, Any]]] = [
    (
        "11330106002505336C",  # 杭州市公安局西湖区分局
        {
            "code": "household_register",
            "name": "人口库:户籍信息",
            "name_en": "Population register: household registration",
            "provider_system": "公安户籍管理系统",
            "subject_kind": "person",
            "sharing_type": SharingType.CONDITIONAL,
            "sharing_conditions": "仅限办理户籍、婚姻、社会救助类事项,按办件查询申请人本人及同户成员。",
            "update_cycle": "real_time",
            "legal_basis": "《中华人民共和国户口登记条例》;" + BASIS_51,
            "fields": [
                _f("household_number", "户号", "Household number", "code", Sensitivity.SENSITIVE),
                _f("relation", "与户主关系", "Relation to the head of household", "code", Sensitivity.SENSITIVE),
                _f("registered_address", "户籍地址", "Registered address", "string", Sensitivity.SENSITIVE),
                _f("marital_status", "婚姻状况", "Marital status", "code", Sensitivity.SENSITIVE),
            ],
        },
    ),
    (
        "11330106002505336C",
        {
            "code": "criminal_records",
            "name": "公安库:违法犯罪记录信息",
            "name_en": "Public security: criminal records",
            "provider_system": "违法犯罪人员信息系统",
            "subject_kind": "person",
            "sharing_type": SharingType.NOT_SHARED,
            "sharing_conditions": "依法不予共享;需要时由公安机关出具无犯罪记录证明。",
            "update_cycle": "real_time",
            "legal_basis": "《公安机关办理犯罪记录查询工作规定》(公通字〔2021〕19号);" + BASIS_51,
            "fields": [_f("has_record", "是否有犯罪记录", "Has a criminal record", "boolean", Sensitivity.SENSITIVE)],
        },
    ),
    (
        "113301000024796846",  # 杭州市规划和自然资源局
        {
            "code": "real_estate_rights",
            "name": "不动产登记信息库:不动产权属信息",
            "name_en": "Real-estate register: property rights",
            "provider_system": "不动产登记信息管理基础平台",
            "subject_kind": "person",
            "sharing_type": SharingType.CONDITIONAL,
            "sharing_conditions": "仅限办理规划、建设、住房类事项时,按办件查询申请人名下的不动产权属。",
            "update_cycle": "real_time",
            "legal_basis": "《不动产登记暂行条例》第二十七条;" + BASIS_51,
            "fields": [
                _f("certificate_number", "不动产权证书号", "Certificate number", "code"),
                _f("location", "坐落", "Location", "string", Sensitivity.SENSITIVE),
                _f("area", "面积", "Area", "string"),
                _f("use", "用途", "Use", "code"),
                _f("encumbrances", "抵押查封情况", "Mortgages and seizures", "list", Sensitivity.SENSITIVE),
            ],
        },
    ),
    (
        "11330106002505985G",  # 杭州市西湖区民政局
        {
            "code": "marriage_register",
            "name": "婚姻登记信息库:婚姻登记信息",
            "name_en": "Marriage register: marriage registration",
            "provider_system": "全国婚姻登记信息系统",
            "subject_kind": "person",
            "sharing_type": SharingType.CONDITIONAL,
            "sharing_conditions": "仅限办理生育登记、户籍等事项时,按办件核验申请人本人的婚姻登记。",
            "update_cycle": "real_time",
            "legal_basis": "《婚姻登记条例》;" + BASIS_51,
            "fields": [
                _f("marital_status", "婚姻状况", "Marital status", "code", Sensitivity.SENSITIVE),
                _f("registered_on", "登记日期", "Registered on", "date", Sensitivity.SENSITIVE),
                _f("spouse_name", "配偶姓名", "Spouse's name", "string", Sensitivity.SENSITIVE),
            ],
        },
    ),
    (
        "11330106002505985G",
        {
            "code": "subsistence_allowance",
            "name": "民政库:低保家庭信息",
            "name_en": "Civil affairs: subsistence-allowance households",
            "provider_system": "社会救助信息系统",
            "subject_kind": "person",
            "sharing_type": SharingType.CONDITIONAL,
            "sharing_conditions": "仅限办理就业援助、社会救助类事项时核验。",
            "update_cycle": "monthly",
            "legal_basis": "《社会救助暂行办法》;" + BASIS_51,
            "fields": [
                _f("is_recipient", "是否低保对象", "Receives the allowance", "boolean", Sensitivity.SENSITIVE),
                _f("since", "起始日期", "Since", "date", Sensitivity.SENSITIVE),
            ],
        },
    ),
    (
        "11330106002506451U",  # 杭州市西湖区人力资源和社会保障局
        {
            "code": "employment_filings",
            "name": "人社库:劳动用工备案信息",
            "name_en": "Human resources: employment filings",
            "provider_system": "人社一体化平台",
            "subject_kind": "person",
            "sharing_type": SharingType.CONDITIONAL,
            "sharing_conditions": "仅限办理就业、社会保险类事项时查询。",
            "update_cycle": "daily",
            "legal_basis": "《就业服务与就业管理规定》第六十二条;" + BASIS_51,
            "fields": [
                _f("employer", "用人单位", "Employer", "string"),
                _f("started_on", "用工起始日期", "Employment started", "date"),
                _f("ended_on", "用工终止日期", "Employment ended", "date"),
            ],
        },
    ),
    (
        "11330106002507120U",  # 杭州市西湖区卫生健康局
        {
            "code": "physician_qualifications",
            "name": "国家医师资格信息库",
            "name_en": "National register of physician qualifications",
            "provider_system": "国家医师资格考试信息系统",
            "subject_kind": "person",
            "sharing_type": SharingType.UNCONDITIONAL,
            "update_cycle": "yearly",
            "legal_basis": "《中华人民共和国医师法》第十二条;" + BASIS_51,
            "fields": [
                _f("certificate_number", "医师资格证书编码", "Certificate number", "code"),
                _f("category", "类别", "Category", "code"),
                _f("issued_on", "签发日期", "Issued on", "date"),
            ],
        },
    ),
    (
        "11330106002505571C",  # 杭州市西湖区教育局
        {
            "code": "academic_degrees",
            "name": "学信网:学历信息",
            "name_en": "CHSI: academic qualifications",
            "provider_system": "中国高等教育学生信息网",
            "subject_kind": "person",
            "sharing_type": SharingType.CONDITIONAL,
            "sharing_conditions": "仅限办理教师资格认定等需要学历的事项时核验。",
            "update_cycle": "yearly",
            "legal_basis": "《中华人民共和国教育法》;" + BASIS_51,
            "fields": [
                _f("level", "学历层次", "Level", "code"),
                _f("school", "毕业院校", "School", "string"),
                _f("graduated_on", "毕业日期", "Graduated on", "date"),
            ],
        },
    ),
    (
        "11330106002505571C",
        {
            "code": "teacher_exam",
            "name": "中小学教师资格考试信息",
            "name_en": "Teacher qualification examination results",
            "provider_system": "中小学教师资格考试网",
            "subject_kind": "person",
            "sharing_type": SharingType.UNCONDITIONAL,
            "update_cycle": "monthly",
            "legal_basis": "《教师资格条例》;" + BASIS_51,
            "fields": [
                _f("certificate_number", "考试合格证明编号", "Certificate number", "code"),
                _f("subject", "学科", "Subject", "string"),
                _f("valid_until", "有效期至", "Valid until", "date"),
            ],
        },
    ),
    (
        "11330106002505571C",
        {
            "code": "putonghua_test",
            "name": "国家普通话水平测试信息",
            "name_en": "National Putonghua proficiency test results",
            "provider_system": "国家普通话水平测试信息管理系统",
            "subject_kind": "person",
            "sharing_type": SharingType.UNCONDITIONAL,
            "update_cycle": "monthly",
            "legal_basis": "《中华人民共和国国家通用语言文字法》第十九条;" + BASIS_51,
            "fields": [
                _f("grade", "等级", "Grade", "code", Sensitivity.PUBLIC),
                _f("certificate_number", "证书编号", "Certificate number", "code"),
            ],
        },
    ),
]


@dataclass
class Wanted:
    """What one department's items need of one platform resource."""

    items: list[str] = field(default_factory=list)
    purposes: list[str] = field(default_factory=list)


def _licence_resource(type_code: str) -> Resource | None:
    from yiwang.licences.constants import HolderKind
    from yiwang.licences.models import LicenceType

    holder = LicenceType.objects.filter(code=type_code).values_list("holder_kind", flat=True).first()
    if holder is None:
        return None
    code = "licences_person" if holder == HolderKind.PERSON else "licences_entity"
    return Resource.objects.filter(code=code, is_active=True).first()


def _platform_needs() -> dict[tuple[int, int], Wanted]:
    """(department, platform resource) → the current items of that department naming it, and their purposes."""
    needs: dict[tuple[int, int], Wanted] = {}
    for version in catalogue.current_versions().select_related("item").order_by("item__implementation_code"):
        code = version.item.implementation_code
        if not code or version.department_id is None:
            continue
        for material in (version.content or {}).get("materials") or []:
            found: list[Resource | None] = [resource_for_material(str(material.get("shared_resource") or ""))]
            if material.get("licence_type_code"):
                found.append(_licence_resource(str(material["licence_type_code"])))
            for resource in found:
                if resource is None or resource.provider_id is not None:
                    continue
                wanted = needs.setdefault((version.department_id, resource.pk), Wanted())
                if code not in wanted.items:
                    wanted.items.append(code)
                    wanted.purposes.append(f"办理{version.content.get('name') or code}"[: services.PURPOSE_LIMIT])
    return needs


def load_demo(*, actor: Any = None, today: dt.date | None = None) -> tuple[int, int]:
    """Register the demo departments' resources and approve the platform's grants; returns (resources, grants)
    created. Departments not in the database are skipped, as are resources and grants already there."""
    actor = actor or SystemActor("demo")
    created_resources = 0
    for uscc, spec in DEPARTMENT_RESOURCES:
        provider = Organisation.objects.filter(uscc=uscc).first()
        if provider is None or Resource.objects.filter(code=spec["code"]).exists():
            continue
        services.register_resource(actor=actor, provider=provider, backend=Backend.EXTERNAL, **spec)
        created_resources += 1
    created_grants = 0
    until = (today or services.today()) + dt.timedelta(days=365)
    for (department_id, resource_id), wanted in _platform_needs().items():
        if Grant.objects.filter(
            consumer_id=department_id,
            resource_id=resource_id,
            status__in=[GrantStatus.REQUESTED, GrantStatus.APPROVED],
        ).exists():
            continue
        resource = Resource.objects.get(pk=resource_id)
        grant = services.request_grant(
            actor=actor,
            resource=resource,
            consumer=Organisation.objects.get(pk=department_id),
            fields=list(resource.fields.values_list("code", flat=True)),
            purposes=wanted.purposes[: services.MAX_PURPOSES],
            items=wanted.items[: services.MAX_ITEMS],
            until=until,
            rate_per_minute=600,
            justification="演示数据:本部门事项的材料可通过共享获取。",
        )
        if grant.status == GrantStatus.REQUESTED:
            services.approve_grant(actor=actor, grant=grant)
        created_grants += 1
    return created_resources, created_grants


# --- a department system's reads (after the demo cases) ---------------------------------------------------

DEMO_SYSTEM_NAME = "西湖区市场监管业务系统(演示)"
DEMO_SYSTEM_FILE = "demo-exchange-client.json"  # in YIWANG_DATA_DIR: what a developer needs to call the API
DEMO_OFFICIAL = "王科员"


def load_demo_reads(*, data_dir: Path | None = None) -> bool:
    """Register a machine client for the demo market regulator with an Ed25519 signing key, write its client id,
    secret and private key to ``YIWANG_DATA_DIR/demo-exchange-client.json`` (so the API can be tried, docs/sharing.md),
    and let it read 张三's data once for his first case and be refused once for a purpose its grant lacks: the
    who-read-my-data page and the access log then show a department system beside the once-only fetches.

    Skipped (False) when the client exists already or the demo department or case is missing."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from django.conf import settings

    from yiwang.cases.models import Case
    from yiwang.common.crypto import id_number_index
    from yiwang.identity import clients
    from yiwang.identity.models_oidc import ClientPolicy
    from yiwang.registers.demo import DEMO_CITIZEN_ID
    from yiwang.sharing import exchange, keys, signing
    from yiwang.sharing.constants import AccessChannel

    if ClientPolicy.objects.filter(application__name=DEMO_SYSTEM_NAME).exists():
        return False
    case = (
        Case.objects.filter(applicant_index=id_number_index(DEMO_CITIZEN_ID), number__isnull=False)
        .select_related("department")
        .order_by("submitted_at", "pk")
        .first()
    )
    if case is None or case.number is None:
        return False
    department = case.department
    grant = Grant.objects.filter(consumer=department, resource__code="population", status=GrantStatus.APPROVED).first()
    if grant is None:
        return False
    admin = SystemActor("demo")
    application, secret = clients.register_client(
        actor=admin,
        name=DEMO_SYSTEM_NAME,
        kind="machine",
        allowed_scopes=["sharing:exchange"],
        department=department,
    )
    private = Ed25519PrivateKey.generate()
    key = keys.register_signing_key(
        actor=admin, application=application, public_key_pem=signing.public_pem(private.public_key())
    )
    target = (data_dir or Path(settings.DATA_DIR)) / DEMO_SYSTEM_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(
            {
                "client_id": application.client_id,
                "client_secret": secret,
                "key_id": key.key_id,
                "private_key": private.private_bytes(
                    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
                ).decode(),
                "official": DEMO_OFFICIAL,
                "example": {
                    "resource": "population",
                    "subject": DEMO_CITIZEN_ID,
                    "purpose": grant.purposes[0],
                    "case_number": case.number,
                },
            },
            handle,
            ensure_ascii=False,
            indent=2,
        )
    caller = exchange.Caller(department, DEMO_OFFICIAL, application.client_id, AccessChannel.EXCHANGE)
    exchange.query(caller, exchange.Request("population", DEMO_CITIZEN_ID, grant.purposes[0], case.number, ["name"]))
    # The refusal is what the demo shows: logged, and visible to 张三 with "also show refused attempts".
    with contextlib.suppress(exchange.Refused):
        exchange.query(caller, exchange.Request("population", DEMO_CITIZEN_ID, "市场营销", case.number, ["address"]))
    return True
