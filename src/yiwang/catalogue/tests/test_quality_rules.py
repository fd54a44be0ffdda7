"""Quality rules Q1–Q9 and Y1–Y7: each rule fires on its own defect, names itself and the element,
and a check reports every violation at once."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings
from django.utils import translation

from yiwang.catalogue.rules import RULES, BasicItemFacts, RuleContext, check_item
from yiwang.catalogue.tests.factories import item_content


def rules_hit(item: dict[str, Any], context: RuleContext | None = None) -> set[tuple[str, str]]:
    return {(v.rule, v.element) for v in check_item(item, context) if v.severity == "error"}


def test_the_factory_item_passes_every_rule() -> None:
    assert check_item(item_content()) == []


def test_every_rule_of_the_standard_is_registered() -> None:
    assert {f"Q{n}" for n in range(1, 10)} <= set(RULES)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        # Q1: promised longer than statutory, same unit and across units
        (
            {
                "time_limits": {
                    "statutory": {"value": 20, "unit": "working_day"},
                    "promised": {"value": 25, "unit": "working_day"},
                }
            },
            ("Q1", "time_limits.promised"),
        ),
        (
            {
                "time_limits": {
                    "statutory": {"value": 5, "unit": "working_day"},
                    "promised": {"value": 2, "unit": "month"},
                }
            },
            ("Q1", "time_limits.promised"),
        ),
        (
            {"time_limits": {"statutory": {"value": 20, "unit": "working_day"}, "promised": {"unit": "immediate"}}},
            ("Q1", "case_type"),
        ),
        ({"case_type": "1"}, ("Q1", "case_type")),
        ({"time_limits": {"promised": {"value": 3, "unit": "working_day"}}}, ("Q1", "time_limits.statutory")),
        ({"time_limits": {"statutory": {"value": 3, "unit": "working_day"}}}, ("Q1", "time_limits.promised")),
        # Q2
        ({"max_visits": 1, "visits_reason": "需核验原件"}, ("Q2", "max_visits")),
        ({"max_visits": 1, "online": {"depth": "III"}}, ("Q2", "visits_reason")),
        (
            {"handling_forms": ["1"], "online": {"depth": "I"}, "supports": {"postal_application": False}},
            ("Q2", "supports.postal_application"),
        ),
        # Q3
        ({"fees": {"charged": True, "text": "收费"}}, ("Q3", "fees.basis")),
        ({"fees": {"charged": True, "basis": "《收费标准》"}}, ("Q3", "fees.items")),
        ({"fees": {"charged": False, "text": "无"}}, ("Q3", "fees.text")),
        ({"fees": {"charged": False}}, ("Q3", "fees.text")),
        ({"supports": {"online_payment": True, "postal_application": True}}, ("Q3", "supports.online_payment")),
        # Q4
        ({"contacts": {"consultation_phone": "0571-87000001"}}, ("Q4", "contacts.supervision_phone")),
        (
            {"contacts": {"consultation_phone": "0571-87000001", "supervision_phone": "0571 8700 0001"}},
            ("Q4", "contacts.supervision_phone"),
        ),
        # Q5
        ({"process": [{"name": n} for n in ("申请", "受理", "审查", "决定", "办结")]}, ("Q5", "process")),
        ({"faqs": []}, ("Q5", "faqs")),
        # Q6
        ({"results": [{"name": "营业执照", "kind": "licence"}]}, ("Q6", "results[0].sample")),
        # Q7
        ({"conditions": [{"text": "法律、法规规定的其他条件。"}]}, ("Q7", "conditions[0].text")),
        (
            {"materials": [{"name": "法律、法规规定的其他材料", "originals": 1, "copies": 0}]},
            ("Q7", "materials[0].name"),
        ),
        # Q8
        ({"materials": [{"name": "规划许可公告牌方案", "originals": 1, "copies": 0}] * 3}, ("Q8", "materials[2].name")),
        ({"materials": [{"name": "申请书"}]}, ("Q8", "materials[0]")),
        # Q9
        ({"basic_code": "0001"}, ("Q9", "basic_code")),
        ({"implementation_code": "91350200776049653A0000000000001"}, ("Q9", "implementation_code")),
        ({"implementing_body": {"name": "某局"}}, ("Q9", "implementing_body.uscc")),
        # Y rules
        ({"effective_date": "2027-01-01", "cancel_date": "2026-12-31"}, ("Y2", "cancel_date")),
        ({"handling_item_code": "99913112800001"}, ("Y3", "handling_item_code")),
        ({"conditions": []}, ("Y4", "conditions")),
        ({"location": ""}, ("Y5", "location")),
        (
            {"results": [{"name": "许可证", "kind": "other", "licence_type_code": "123"}]},
            ("Y6", "results[0].licence_type_code"),
        ),
        (
            {"handling_forms": ["1"], "online": {"depth": "III"}, "max_visits": 1, "visits_reason": "现场核验"},
            ("Y7", "handling_forms"),
        ),
    ],
)
def test_each_rule_catches_its_defect(overrides: dict[str, Any], expected: tuple[str, str]) -> None:
    assert expected in rules_hit(item_content(**overrides))


def test_y8_warns_of_a_licence_result_this_platform_does_not_issue() -> None:
    undefined = RuleContext(licence_type_defined=lambda code: code != "11100000000013338W032")
    found = [v for v in check_item(item_content(), undefined) if v.rule == "Y8"]
    assert [(v.element, v.severity) for v in found] == [("results[0].licence_type_code", "warning")]
    assert not [v for v in check_item(item_content(), RuleContext()) if v.rule == "Y8"]


def test_immediate_items_pass_q1() -> None:
    item = item_content(
        case_type="1",
        time_limits={"statutory": {"value": 20, "unit": "working_day"}, "promised": {"unit": "immediate"}},
    )
    assert not {r for r, _ in rules_hit(item)} & {"Q1"}


def test_working_days_within_calendar_days_pass_q1() -> None:
    item = item_content(
        time_limits={
            "statutory": {"value": 30, "unit": "natural_day"},
            "promised": {"value": 20, "unit": "working_day"},
        }
    )
    assert "Q1" not in {r for r, _ in rules_hit(item)}


def test_all_violations_are_reported_at_once() -> None:
    item = item_content(
        fees={"charged": False, "text": "无"},
        contacts={},
        faqs=[],
        conditions=[{"text": "法律、法规规定的其他条件"}],
        basic_code="x",
    )
    rules = {rule for rule, _ in rules_hit(item)}
    assert {"Q3", "Q4", "Q5", "Q7", "Q9"} <= rules


def test_name_and_type_must_equal_the_basic_item() -> None:
    context = RuleContext(basic_item=lambda code: BasicItemFacts(code, "个体工商户注册登记", "07"))
    hits = rules_hit(item_content(), context)
    assert ("Q9", "name") in hits
    assert ("Q9", "item_type") in hits


def test_unknown_division_is_reported() -> None:
    hits = rules_hit(item_content(region_code="330199"), RuleContext(division_known=lambda code: False))
    assert ("Y1", "region_code") in hits


@override_settings(YIWANG_USCC_POLICY="warn")
def test_uscc_check_failure_is_a_warning_under_the_warn_policy() -> None:
    bad = "11370800MB28559185"  # a real code with its check character changed
    item = item_content(implementing_body={"name": "某局", "uscc": bad}, implementation_code=bad + "0000000000001")
    violations = [v for v in check_item(item) if v.rule == "Q9" and v.element == "implementing_body.uscc"]
    assert violations and all(v.severity == "warning" for v in violations)


def test_uscc_check_failure_is_an_error_under_the_reject_policy() -> None:
    bad = "11370800MB28559185"
    item = item_content(implementing_body={"name": "某局", "uscc": bad}, implementation_code=bad + "0000000000001")
    assert ("Q9", "implementing_body.uscc") in rules_hit(item)


def test_messages_are_translated() -> None:
    item = item_content(faqs=[])
    with translation.override("zh-hans"):
        zh = [str(v.message) for v in check_item(item)]
    with translation.override("en"):
        en = [str(v.message) for v in check_item(item)]
    assert en == ["A licensing item needs at least one frequently asked question."]
    assert zh != en
