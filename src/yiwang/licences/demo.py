"""Demo licences for ``make run`` (idempotent): the platform's PKI, a seal for every demo department, the licence
types the demo items' results name, and — once the demo cases exist — a licence for the demo enterprise.

Approvals in the demo cases then issue real sealed licences, and the demo enterprise's agent finds its business
licence attached when applying for a food business licence (once-only). Without an embeddable CJK font the types
are still defined but nothing is issued: approvals of those items are refused until a font is installed, so the
demo then leaves the types out (and says so) rather than break the demo cases.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from django.db import transaction

from yiwang.audit.actors import SystemActor
from yiwang.catalogue.models import Organisation
from yiwang.licences import issuance, render, services, types
from yiwang.licences.constants import HolderKind, KeyStatus, Purpose
from yiwang.licences.models import Licence, LicenceType, SigningCertificate

ACTOR = SystemActor("demo")
# The defining authorities of the demo items' licence types, by the first 18 characters of the type code.
AUTHORITIES = {
    "11100000000013338W": "国家市场监督管理总局",
    "111000000000135577": "自然资源部",
    "11100000000017283R": "国家卫生健康委员会",
    "111000000000137259": "住房和城乡建设部",
    "11100000000012992B": "教育部",
    "11100000000012095H": "公安部",
    "111000000000180670": "生态环境部",
    "11100000000019465P": "人力资源和社会保障部",
    "111000000000193261": "民政部",
    "1110000000001375XN": "交通运输部",
}
PERSON_TYPES = {"11100000000017283R002", "11100000000012992B001", "11100000000012095H001", "11100000000012095H012"}
PERSON_TYPES |= {"11100000000019465P001", "111000000000193261001"}
VALIDITY_YEARS = {"11100000000013338W009": 5, "11100000000013338W011": 5, "11100000000017283R005": 4}
VALIDITY_YEARS |= {"111000000000180670001": 5, "1110000000001375XN002": 4}
# The business licence is one type whoever holds it (the items name it after their own result).
NAMES = {"11100000000013338W032": "营业执照"}
FIELDS = [
    {"key": "holder", "label": "持证主体", "label_en": "Holder", "source": "case:applicant_name"},
    {"key": "item", "label": "许可事项", "label_en": "Service item", "source": "case:item_name"},
    {"key": "case", "label": "办件编号", "label_en": "Case number", "source": "case:number"},
]


def _items() -> list[dict[str, Any]]:
    raw = resources.files("yiwang.catalogue").joinpath("demo", "items.json").read_text(encoding="utf-8")
    items: list[dict[str, Any]] = json.loads(raw)["items"]
    return items


def _active(purpose: str, **scope: Any) -> bool:
    return SigningCertificate.objects.filter(purpose=purpose, status=KeyStatus.ACTIVE, **scope).exists()


def load_demo_pki_and_types() -> tuple[int, int]:
    """The CA, the time-stamp certificate, seals and types; returns (seals made, types defined)."""
    if render.font_path() is None:
        return 0, 0
    if not _active(Purpose.ROOT):
        services.create_platform_ca(actor=ACTOR)
    if not _active(Purpose.TIMESTAMP):
        services.issue_timestamp_certificate(actor=ACTOR)
    seals = 0
    for department in Organisation.objects.exclude(uscc__isnull=True).exclude(uscc=""):
        if not _active(Purpose.SEAL, organisation=department):
            services.issue_seal(actor=ACTOR, department=department)
            seals += 1
    defined = 0
    seen: set[str] = set()
    for item in _items():
        for result in item.get("results") or []:
            code = result.get("licence_type_code")
            if result.get("kind") != "licence" or not code or code in seen:
                continue
            seen.add(code)
            if LicenceType.objects.filter(code=code).exists():
                continue
            types.define(
                actor=ACTOR,
                definition={
                    "code": code,
                    "name": NAMES.get(code, result["name"]),
                    "defining_authority": AUTHORITIES.get(code[:18], "国务院有关部门"),
                    "holder_kind": HolderKind.PERSON if code in PERSON_TYPES else HolderKind.ORGANISATION,
                    "validity_years": VALIDITY_YEARS.get(code),
                    "fields": FIELDS,
                    "layout": {"title": NAMES.get(code, result["name"]), "rows": ["item", "case"]},
                },
            )
            defined += 1
    return seals, defined


def load_demo_enterprise_licence(uscc: str, name: str) -> Licence | None:
    """The demo enterprise's business licence (营业执照), issued directly by the 西湖区 market regulator."""
    licence_type = LicenceType.objects.filter(code="11100000000013338W032").first()
    issuer = Organisation.objects.filter(name__contains="西湖区市场监督管理局").exclude(uscc__isnull=True).first()
    if licence_type is None or issuer is None or render.font_path() is None:
        return None
    holder = issuance.Holder(name, HolderKind.ORGANISATION, uscc)
    existing = Licence.objects.filter(holder_index=holder.index, licence_type=licence_type).first()
    if existing is not None:
        return existing
    with transaction.atomic():
        return issuance.issue(
            actor=ACTOR,
            licence_type=licence_type,
            issuer=issuer,
            holder=holder,
            data={"holder": name, "item": "企业设立登记", "case": ""},
            region_code="330106",
        )
