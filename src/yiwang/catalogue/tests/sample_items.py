"""Two illustrative implementation items in the exchange format, for export tests.

They follow the shape of real published guides: 普通护照签发 (a 行政许可 of the exit-entry administration,
with the 120 yuan fee and the 15-day limit of 护照法 art. 6) and a 即办 social-insurance certificate.
The organisations are fictional: their USCCs are made up but pass the GB 32100 / GB 11714 checks
(STANDARDS.md §7), and the implementation codes begin with them (STANDARDS.md §2). Phone numbers other
than 12345 are invented.
"""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from yiwang.catalogue.cpsv import ExportItem

SHANGHAI = ZoneInfo("Asia/Shanghai")

POLICE_USCC = "11370800004021650W"
SOCIAL_INSURANCE_USCC = "123708004930271552"

PASSPORT_CODE = POLICE_USCC + "3370800011001"
INSURANCE_CERTIFICATE_CODE = SOCIAL_INSURANCE_USCC + "3370800020001"

PASSPORT_FEE_BASIS = "国家发展改革委、财政部核定的普通护照收费标准"

PASSPORT: dict[str, Any] = {
    "basic_code": "000115008000",
    "implementation_code": PASSPORT_CODE,
    "handling_item_code": "00011500800001",
    "name": "普通护照签发",
    "handling_item_name": "首次申领",
    "item_type": "01",
    "exercise_level": "3",
    "region_code": "370800",
    "implementing_body": {"name": "济宁市公安局", "uscc": POLICE_USCC, "nature": "1"},
    "handling_body": {"name": "济宁市公安局出入境管理支队", "nature": "1"},
    "legal_basis": [
        {
            "title": "《中华人民共和国护照法》",
            "articles": "第四条",
            "text": "普通护照由公安部出入境管理机构或者公安部委托的县级以上地方人民政府公安机关出入境管理机构"
            "以及中华人民共和国驻外使馆、领馆和外交部委托的其他驻外机构签发。",
            "role": "establishing",
        },
        {
            "title": "《中华人民共和国护照法》",
            "articles": "第六条",
            "text": "公安机关出入境管理机构应当自收到申请材料之日起十五日内签发普通护照；"
            "对不符合规定不予签发的，应当书面说明理由，"
            "并告知申请人享有依法申请行政复议或者提起行政诉讼的权利。",
            "role": "implementing",
        },
    ],
    "service_objects": ["1"],
    "themes": {"natural_person": ["证件办理"]},
    "handling_forms": ["1", "3"],
    "case_type": "2",
    "time_limits": {
        "statutory": {
            "value": 15,
            "unit": "working_day",
            "note": "护照法第六条；偏远地区、交通不便或特殊情况可延长至三十日",
        },
        "promised": {"value": 7, "unit": "working_day"},
    },
    "conditions": [
        {
            "business_type": "新办",
            "text": "具有中华人民共和国国籍、户籍在本市的中国公民，"
            "因前往外国定居、探亲、学习、就业、旅行、从事商务活动等非公务原因出国。",
        },
        {"business_type": "新办", "text": "申请人不具有《中华人民共和国护照法》第十三条规定的不予签发护照的情形。"},
    ],
    "materials": [
        {
            "name": "《中国公民出入境证件申请表》",
            "required": True,
            "originals": 1,
            "copies": 0,
            "medium": "paper",
            "source": "applicant",
            "requirements": "现场填写或由受理窗口打印后签名确认",
        },
        {
            "name": "居民身份证",
            "required": True,
            "originals": 1,
            "copies": 0,
            "medium": "either",
            "source": "government",
            "issuing_body": "公安机关",
            "licence_type_code": "11100000000013338W011",
        },
        {
            "name": "近期免冠照片",
            "required": True,
            "originals": 1,
            "copies": 0,
            "medium": "electronic",
            "source": "applicant",
            "requirements": "可在受理现场免费采集",
        },
    ],
    "process": [
        {"name": "申请"},
        {"name": "受理"},
        {"name": "审查"},
        {"name": "决定"},
        {"name": "办结"},
        {"name": "送达"},
    ],
    "fees": {
        "charged": True,
        "items": [{"name": "普通护照工本费", "amount_yuan": "120", "basis": PASSPORT_FEE_BASIS}],
        "basis": PASSPORT_FEE_BASIS,
    },
    "online": {"depth": "II", "capabilities": ["1", "3"], "url": "https://zwfw.example.gov.cn/passport"},
    "max_visits": 1,
    "visits_reason": "需现场采集指纹和人像",
    "supports": {"appointment": True, "online_payment": True, "delivery": True, "postal_application": False},
    "cross_region_scope": "national",
    "location": "济宁市任城区某路1号 市民服务中心出入境大厅",
    "hours": "周一至周五 上午9:00-12:00，下午13:30-17:30（法定节假日除外）",
    "contacts": {"consultation_phone": "0537-2345678", "supervision_phone": "12345"},
    "faqs": [{"question": "护照可以异地办理吗？", "answer": "可以，全国范围内均可申请办理普通护照。"}],
    "results": [
        {
            "name": "中华人民共和国普通护照",
            "kind": "licence",
            "licence_type_code": "11100000000013338W009",
            "sample": "普通护照样本.pdf",
        },
    ],
}

INSURANCE_CERTIFICATE: dict[str, Any] = {
    "basic_code": "000212045000",
    "implementation_code": INSURANCE_CERTIFICATE_CODE,
    "name": "个人社会保险参保证明查询打印",
    "item_type": "20",
    "exercise_level": "3",
    "region_code": "370800",
    "implementing_body": {"name": "济宁市社会保险事业中心", "uscc": SOCIAL_INSURANCE_USCC, "nature": "2"},
    "legal_basis": [
        {
            "title": "《中华人民共和国社会保险法》",
            "articles": "第七十四条",
            "text": "用人单位和个人可以免费向社会保险经办机构查询、核对其缴费和享受社会保险待遇记录，"
            "要求社会保险经办机构提供社会保险咨询等相关服务。",
            "role": "establishing",
        },
    ],
    "service_objects": ["1"],
    "themes": {"natural_person": ["社会保障"]},
    "handling_forms": ["1", "2", "3"],
    "case_type": "1",
    "time_limits": {"statutory": {"unit": "immediate"}, "promised": {"unit": "immediate"}},
    "conditions": [{"text": "已在本市参加社会保险的参保人员。"}],
    "materials": [
        {
            "name": "居民身份证",
            "required": True,
            "originals": 1,
            "copies": 0,
            "medium": "either",
            "source": "government",
            "issuing_body": "公安机关",
        },
    ],
    "process": [{"name": "申请"}, {"name": "受理"}, {"name": "办结"}],
    "fees": {"charged": False, "text": "不收费"},
    "online": {"depth": "IV", "capabilities": ["1", "2", "4", "5", "6"], "url": "https://zwfw.example.gov.cn/si"},
    "max_visits": 0,
    "supports": {
        "appointment": False,
        "online_payment": False,
        "delivery": False,
        "postal_application": True,
    },
    "cross_region_scope": "province",
    "location": "济宁市市民服务中心社保窗口",
    "hours": "工作日 9:00-17:00",
    "contacts": {"consultation_phone": "0537-3456789", "supervision_phone": "12345"},
    "results": [{"name": "社会保险参保证明", "kind": "other"}],
}


def export_items() -> list[ExportItem]:
    """Fresh copies, so a test that edits a content dict cannot leak into another test."""
    return [
        ExportItem(
            content=copy.deepcopy(PASSPORT),
            version=3,
            published_at=datetime(2025, 3, 1, 9, 30, tzinfo=SHANGHAI),
            department_name_en="Jining Municipal Public Security Bureau",
            region_name="济宁市",
        ),
        ExportItem(
            content=copy.deepcopy(INSURANCE_CERTIFICATE),
            version=1,
            published_at=datetime(2025, 1, 15, 14, 0, tzinfo=SHANGHAI),
            region_name="济宁市",
        ),
    ]
