"""Valid items in the exchange format, built from parts so each test states only what it varies."""

from __future__ import annotations

import copy
import itertools
from typing import Any

from yiwang.common.validators import build_uscc

# A district market-supervision bureau of 杭州市西湖区 with a computed, valid USCC.
BODY_USCC = build_uscc("11", "330106", "MB000001")
OTHER_BODY_USCC = build_uscc("11", "370811", "MB000002")
_serial = itertools.count(1)

BASE: dict[str, Any] = {
    "basic_code": "000131128000",
    "handling_item_code": "00013112800001",
    "name": "个体工商户登记",
    "handling_item_name": "设立",
    "item_type": "01",
    "exercise_level": "4",
    "region_code": "330106",
    "implementing_body": {"name": "杭州市西湖区市场监督管理局", "uscc": BODY_USCC, "nature": "1"},
    "legal_basis": [{"title": "《促进个体工商户发展条例》", "articles": "第八条", "role": "establishing"}],
    "service_objects": ["1"],
    "themes": {"natural_person": ["就业创业"], "legal_person": ["设立变更"]},
    "handling_forms": ["1", "2", "3"],
    "case_type": "2",
    "time_limits": {
        "statutory": {"value": 15, "unit": "working_day"},
        "promised": {"value": 3, "unit": "working_day"},
    },
    "conditions": [{"business_type": "设立", "text": "有经营能力的自然人，有固定的经营场所。"}],
    "materials": [
        {
            "name": "个体工商户登记（备案）申请书",
            "required": True,
            "originals": 1,
            "copies": 0,
            "source": "applicant",
            "blank_form": "forms/application.pdf",
            "sample": "samples/application.pdf",
        },
        {
            "name": "经营者身份证明",
            "required": True,
            "originals": 1,
            "copies": 1,
            "source": "government",
            "shared_resource": "人口库:居民身份信息",
        },
    ],
    "process": [{"name": n} for n in ("申请", "受理", "审查", "决定", "办结", "送达")],
    "fees": {"charged": False, "text": "不收费"},
    "online": {"depth": "IV", "capabilities": ["1", "2", "3", "4", "5", "6", "7"]},
    "max_visits": 0,
    "supports": {"appointment": True, "online_payment": False, "delivery": True, "postal_application": True},
    "cross_region_scope": "city",
    "location": "杭州市西湖区文三路市民之家二楼市场监管窗口",
    "hours": "工作日 9:00–17:00",
    "contacts": {"consultation_phone": "0571-87000001", "supervision_phone": "12345"},
    "faqs": [{"question": "可以网上办理吗？", "answer": "可以，全程网办。"}],
    "results": [
        {
            "name": "营业执照",
            "kind": "licence",
            "sample": "samples/licence.pdf",
            "licence_type_code": "11100000000013338W032",
        }
    ],
}


def item_content(*, serial: int | None = None, **overrides: Any) -> dict[str, Any]:
    """A valid item passing every rule; ``implementation_code`` is unique per call unless given."""
    data = copy.deepcopy(BASE)
    number = next(_serial) if serial is None else serial
    body = overrides.get("implementing_body", data["implementing_body"])
    data["implementation_code"] = f"{body.get('uscc', BODY_USCC)}{number:013d}"
    data.update(overrides)
    return data
