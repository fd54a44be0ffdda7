"""The application form at run time: checking a submission (every problem at once, in the user's language),
pre-filling from the registers, turning posted strings into values, and what the template shows."""

from __future__ import annotations

from typing import Any

import pytest
from django.http import QueryDict
from django.template.loader import render_to_string
from django.utils import translation

from yiwang.catalogue import forms
from yiwang.catalogue.handling import HandlingDefinition, demo_handlings
from yiwang.registers import demo as registers_demo
from yiwang.registers.models import LegalEntity, Person

FOOD = "1133010600250631254000131017000"  # 食品经营许可, 西湖区 (demo/handling.json)
SOLO = "1133010600250631254000131128000"  # 个体工商户登记, 西湖区


def definition(code: str = FOOD) -> HandlingDefinition:
    data = demo_handlings()[code]
    return HandlingDefinition(data["form_schema"], data["form_layout"], data["steps"], stored=True)


def food_ok() -> dict[str, Any]:
    return {
        "operator_name": "杭州西湖云栖科技有限公司",
        "uscc": registers_demo.DEMO_ENTERPRISE_USCC,
        "legal_representative": "王五",
        "premises": "浙江省杭州市西湖区云栖路8号",
        "business_form": "catering",
        "business_items": ["hot_food", "drinks"],
        "staff_count": 12,
        "phone": "0571-87000001",
        "pledge": True,
    }


def solo_ok() -> dict[str, Any]:
    return {
        "operator_name": "张三",
        "id_number": registers_demo.DEMO_CITIZEN_ID,
        "phone": "13800135678",
        "composition": "individual",
        "premises": "浙江省杭州市西湖区文三路90号",
        "business_scope": "日用百货销售",
        "employees": 1,
        "email": "zhangsan@example.cn",
        "opening_date": "2025-03-01",
        "capital": 5.5,
        "pledge": True,
    }


# --- validate_submission --------------------------------------------------------------------------------------


def test_a_complete_submission_has_no_problems() -> None:
    assert forms.validate_submission(definition(), food_ok()) == []
    assert forms.validate_submission(definition(SOLO), solo_ok()) == []


def _problems(code: str, data: dict[str, Any], language: str) -> dict[str, str]:
    with translation.override(language):
        return {p.field: p.message for p in forms.validate_submission(definition(code), data)}


# (field, bad value, form, English message)
BAD_INPUT = [
    ("premises", "路" * 301, FOOD, "Enter at most 300 characters (you entered 301)."),
    ("uscc", "91330106MA2H7K3P2", FOOD, "This is not in the expected form."),
    ("business_form", "bakery", FOOD, "Choose one of the offered options."),
    ("business_items", ["hot_food", "bakery"], FOOD, "Choose one of the offered options."),
    ("staff_count", "twelve", FOOD, "Enter a whole number."),
    ("staff_count", 2.5, FOOD, "Enter a whole number."),
    ("staff_count", 0, FOOD, "Enter a number no smaller than 1."),
    ("staff_count", 100001, FOOD, "Enter a number no larger than 100000."),
    ("capital", "lots", SOLO, "Enter a number."),
    ("opening_date", "2025-02-30", SOLO, "Enter a date as YYYY-MM-DD, for example 2024-03-01."),
    ("opening_date", "01/03/2025", SOLO, "Enter a date as YYYY-MM-DD, for example 2024-03-01."),
    ("email", "zhangsan@", SOLO, "Enter a valid e-mail address."),
    ("pledge", False, FOOD, "Tick this box to go on."),
    ("pledge", "yes", FOOD, "Answer yes or no."),
    ("operator_name", 42, FOOD, "Enter text."),
]


@pytest.mark.parametrize(("field", "value", "code", "english"), BAD_INPUT)
def test_each_kind_of_bad_input_is_reported_in_english(field: str, value: Any, code: str, english: str) -> None:
    data = {**(food_ok() if code == FOOD else solo_ok()), field: value}
    assert _problems(code, data, "en") == {field: english}


@pytest.mark.parametrize(("field", "value", "code", "english"), BAD_INPUT)
def test_each_kind_of_bad_input_is_reported_in_chinese(field: str, value: Any, code: str, english: str) -> None:
    data = {**(food_ok() if code == FOOD else solo_ok()), field: value}
    problems = _problems(code, data, "zh-hans")
    assert list(problems) == [field]
    # Never jsonschema's own English text; the Chinese catalogue may not have the new message yet (the lead
    # translates after makemessages), so only the absence of jsonschema's wording is certain here.
    assert not any(word in problems[field] for word in ("is not of type", "is not valid under", "does not match"))


def test_required_fields_are_reported_with_their_labels_in_the_language() -> None:
    data = {k: v for k, v in food_ok().items() if k not in ("operator_name", "business_items", "pledge")}
    data["business_form"] = "   "  # blank counts as not given
    with translation.override("en"):
        problems = forms.validate_submission(definition(), data)
    assert [(p.field, p.label, p.message) for p in problems] == [
        ("operator_name", "Operator's name", "This field is required."),
        ("business_form", "Type of business", "Choose an option."),
        ("business_items", "Business items", "Choose at least one option."),
        ("pledge", forms.text_in(definition().properties["pledge"], "title", "en"), "Tick this box to go on."),
    ]
    with translation.override("zh-hans"):
        problems = forms.validate_submission(definition(), data)
    assert [p.label for p in problems][:3] == ["经营者名称", "主体业态", "经营项目"]


def test_every_problem_is_reported_at_once_in_the_forms_order() -> None:
    data = {**food_ok(), "staff_count": "many", "uscc": "bad", "phone": "12345", "nickname": "x"}
    del data["operator_name"]
    with translation.override("en"):
        problems = forms.validate_submission(definition(), data)
    assert [p.field for p in problems] == ["operator_name", "uscc", "staff_count", "phone", "nickname"]
    assert problems[-1] == forms.FieldProblem("nickname", "nickname", "This form has no field called nickname.")


def test_an_optional_field_may_be_left_empty_but_not_filled_wrongly() -> None:
    assert forms.validate_submission(definition(SOLO), {**solo_ok(), "email": "", "capital": None}) == []
    with translation.override("en"):
        problems = forms.validate_submission(definition(SOLO), {**solo_ok(), "email": "not-an-address"})
    assert [p.field for p in problems] == ["email"]


def test_a_text_without_its_own_limit_still_has_one() -> None:
    bare = HandlingDefinition({"type": "object", "properties": {"note": {"type": "string", "title": "备注"}}}, [], [])
    assert forms.validate_submission(bare, {"note": "x" * forms.TEXT_LIMIT}) == []
    with translation.override("en"):
        (problem,) = forms.validate_submission(bare, {"note": "x" * (forms.TEXT_LIMIT + 1)})
    assert problem.message.startswith(f"Enter at most {forms.TEXT_LIMIT} characters")


def test_a_multiple_choice_answer_must_be_a_list_of_distinct_choices() -> None:
    with translation.override("en"):
        assert _problems(FOOD, {**food_ok(), "business_items": "hot_food"}, "en") == {
            "business_items": "Choose from the offered options."
        }
        assert _problems(FOOD, {**food_ok(), "business_items": ["hot_food", "hot_food"]}, "en") == {
            "business_items": "Choose each option only once."
        }


# --- prefill --------------------------------------------------------------------------------------------------


@pytest.fixture
def registers(db: Any, system: Any) -> tuple[list[Person], list[LegalEntity]]:
    return registers_demo.load_demo_registers(actor=system)


def test_prefill_reads_a_person_from_the_population_register(registers: Any, citizen: Any) -> None:
    person = Person.objects.get(name=registers_demo.DEMO_CITIZEN_NAME)  # the ID number column is encrypted
    values = forms.prefill(definition(SOLO), person=person, account=citizen.account)
    assert values == {
        "operator_name": "张三",
        "id_number": registers_demo.DEMO_CITIZEN_ID,
        "residence": "浙江省杭州市西湖区文三路90号",
        "phone": "13800135678",
    }
    assert forms.validate_submission(definition(SOLO), {**solo_ok(), **values}) == []


def test_prefill_reads_an_enterprise_from_the_legal_entity_register(registers: Any) -> None:
    entity = LegalEntity.objects.get(uscc=registers_demo.DEMO_ENTERPRISE_USCC)
    values = forms.prefill(definition(), entity=entity)
    assert values == {
        "operator_name": "杭州西湖云栖科技有限公司",
        "uscc": "91330106MA2H7K3P2R",
        "legal_representative": "王五",
        "premises": "浙江省杭州市西湖区云栖小镇云栖路8号",
    }


def test_prefill_of_every_fact(registers: Any) -> None:
    facts = {
        name.replace(".", "_"): {"type": "string", "title": name, "x-prefill": name} for name in forms.PREFILL_FACTS
    }
    everything = HandlingDefinition({"type": "object", "properties": facts}, [], [])
    person = Person.objects.get(name=registers_demo.DEMO_AGENT_NAME)
    entity = LegalEntity.objects.get(uscc=registers_demo.DEMO_ENTERPRISE_USCC)
    values = forms.prefill(everything, person=person, entity=entity)
    assert values["person_sex"] == "2" and values["person_birth_date"] == "1985-11-20"
    assert values["entity_type"] == "company" and values["entity_established"] == "2016-04-18"
    assert values["entity_business_scope"].startswith("技术服务")
    assert "account_phone" not in values  # no account given
    assert forms.prefill(everything) == {}


# --- coerce ---------------------------------------------------------------------------------------------------


def test_coerce_types_posted_strings() -> None:
    posted = QueryDict(mutable=True)
    posted.update(
        {
            "operator_name": "  杭州西湖云栖科技有限公司 ",
            "staff_count": "１２",  # full-width digits, as Chinese input methods type them
            "business_items": "hot_food",
            "pledge": "true",
            "phone": "",
            "csrfmiddlewaretoken": "x",
        }
    )
    posted.appendlist("business_items", "drinks")
    posted.appendlist("business_items", "hot_food")
    values = forms.coerce(definition(), posted)
    assert values == {
        "operator_name": "杭州西湖云栖科技有限公司",
        "staff_count": 12,
        "business_items": ["hot_food", "drinks"],
        "pledge": True,
    }


@pytest.mark.parametrize(
    ("field", "posted", "expected"),
    [
        ("employees", "3", 3),
        ("employees", "3.0", 3),
        ("employees", "1,200", 1200),
        ("employees", "3.5", "3.5"),  # stays text: "Enter a whole number."
        ("employees", "three", "three"),
        ("capital", "5.5", 5.5),
        ("capital", "-2", -2),
        ("capital", "nan", "nan"),
        ("capital", "1e3", "1e3"),
        ("pledge", "on", True),
        ("pledge", "maybe", "maybe"),
    ],
)
def test_coerce_numbers_and_checkboxes(field: str, posted: str, expected: Any) -> None:
    values = forms.coerce(definition(SOLO), QueryDict(f"{field}={posted}"))
    assert values[field] == expected
    assert type(values[field]) is type(expected)


def test_coerce_an_unticked_box_and_a_plain_mapping() -> None:
    assert forms.coerce(definition(SOLO), QueryDict(""))["pledge"] is False
    values = forms.coerce(definition(), {"business_items": ["cold_food"], "staff_count": 4, "pledge": "false"})
    assert values == {"business_items": ["cold_food"], "staff_count": 4, "pledge": False}


def test_coerced_bad_values_are_reported() -> None:
    values = forms.coerce(definition(SOLO), QueryDict("employees=3.5&capital=lots&pledge=on"))
    with translation.override("en"):
        problems = {p.field: p.message for p in forms.validate_submission(definition(SOLO), values)}
    assert problems["employees"] == "Enter a whole number."
    assert problems["capital"] == "Enter a number."


# --- render_fields and the template ---------------------------------------------------------------------------


def test_render_fields_lays_out_sections_with_widgets_values_and_errors() -> None:
    data = {**food_ok(), "staff_count": "many", "business_items": ["hot_food"]}
    with translation.override("en"):
        problems = forms.validate_submission(definition(), data)
    sections = forms.render_fields(definition(), data, problems, "en")
    assert [(s.title, s.columns) for s in sections] == [
        ("Operator", 2),
        ("Business", 1),
        ("Contact and declaration", 1),
    ]
    fields = {f.name: f for s in sections for f in s.fields}
    assert {name: f.widget for name, f in fields.items()} == {
        "operator_name": "text",
        "uscc": "text",
        "legal_representative": "text",
        "premises": "text",
        "business_form": "select",
        "business_items": "multiselect",
        "staff_count": "number",
        "safety_manager": "text",
        "phone": "text",
        "pledge": "checkbox",
    }
    count = fields["staff_count"]
    assert count.errors == ("Enter a whole number.",) and count.value == "many"
    assert count.error_id in count.describedby and count.required and count.step == "1"
    kind = fields["business_form"]
    assert [(c.value, c.label, c.selected) for c in kind.choices] == [
        ("seller", "Food seller", False),
        ("catering", "Catering service", True),
        ("canteen", "Institutional canteen", False),
    ]
    items = fields["business_items"]
    assert [c.value for c in items.choices if c.selected] == ["hot_food"]
    assert fields["pledge"].value is True
    assert fields["uscc"].help == "18 characters, as on the business licence" and fields["uscc"].max_length == 18
    assert not fields["safety_manager"].required and not fields["safety_manager"].errors


def test_render_fields_in_chinese_and_the_other_widgets() -> None:
    sections = forms.render_fields(definition(SOLO), {"opening_date": "2025-03-01", "capital": 5.0}, [], "zh-hans")
    assert sections[0].title == "经营者"
    fields = {f.name: f for s in sections for f in s.fields}
    assert fields["email"].widget == "email" and fields["opening_date"].widget == "date"
    assert fields["business_scope"].widget == "textarea" and fields["family_members"].widget == "textarea"
    assert fields["opening_date"].value == "2025-03-01" and fields["capital"].value == "5"
    assert fields["capital"].step == "any" and fields["capital"].minimum == "0"
    assert fields["composition"].choices[1].label == "家庭经营"
    assert fields["operator_name"].label == "经营者姓名"


def test_fields_without_a_section_get_a_default_one() -> None:
    plain = HandlingDefinition({"type": "object", "properties": {"note": {"type": "string", "title": "备注"}}}, [], [])
    with translation.override("en"):
        (section,) = forms.render_fields(plain, {}, [], "en")
    assert section.title == "Application details" and [f.name for f in section.fields] == ["note"]
    partly = HandlingDefinition(
        {
            "type": "object",
            "properties": {"a": {"type": "string", "title": "甲"}, "b": {"type": "string", "title": "乙"}},
        },
        [{"title": "第一", "title_en": "First", "fields": ["a"]}],
        [],
    )
    titles = [s.title for s in forms.render_fields(partly, {}, [], "en")]
    assert titles == ["First", "Other details"]


def test_the_template_renders_accessible_controls_with_their_errors() -> None:
    data = {**food_ok(), "staff_count": "many", "business_items": ["hot_food"], "pledge": False}
    with translation.override("en"):
        problems = forms.validate_submission(definition(), data)
        sections = forms.render_fields(definition(), data, problems, "en")
        html = render_to_string("catalogue/form_fields.html", {"sections": sections})
    assert "<legend>Operator</legend>" in html
    assert (
        '<label for="field-operator_name">Operator&#x27;s name <span class="required" aria-hidden="true">*</span>'
        in html
    )
    assert 'id="field-operator_name" name="operator_name" value="杭州西湖云栖科技有限公司"' in html
    assert '<p class="inline-error" id="field-staff_count-error">Enter a whole number.</p>' in html
    assert (
        'name="staff_count" value="many" required aria-invalid="true" aria-describedby="field-staff_count-error"'
        in html
    )
    assert 'aria-describedby="field-uscc-help"' in html and "aria-invalid" not in html.split('id="field-uscc"')[1][:200]
    assert '<option value="catering" selected>Catering service</option>' in html
    assert 'name="business_items" value="hot_food" checked>' in html
    assert 'name="business_items" value="drinks">' in html
    assert 'id="field-pledge-error">Tick this box to go on.</p>' in html
    assert '<span class="optional">(optional)</span>' in html  # 食品安全管理人员
    assert html.count("<fieldset") == 3 + 1  # three sections, one multiple choice group


def test_the_template_renders_chinese_labels() -> None:
    with translation.override("zh-hans"):
        sections = forms.render_fields(definition(SOLO), {}, [], "zh-hans")
        html = render_to_string("catalogue/form_fields.html", {"sections": sections})
    assert '<label for="field-operator_name">经营者姓名' in html
    assert 'type="date" id="field-opening_date"' in html and 'type="email" id="field-email"' in html
    assert '<textarea id="field-business_scope" name="business_scope" rows="4" maxlength="1000" required' in html
    assert '<option value="family">家庭经营</option>' in html
