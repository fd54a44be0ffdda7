"""Quality rules for service guides (STANDARDS.md §4, Q1–Q9) plus Yiwang's own (Y1–Y8).

Rules read an item in the exchange format and report **every** violation at once, each naming its rule
id, the element (a path into the item) and a translated message. Errors block review and publication;
warnings (e.g. a USCC check-character failure under the ``warn`` policy) are shown but do not block.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from yiwang.common.validators import uscc_problems

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class Violation:
    rule: str
    element: str
    message: str | Promise
    severity: str = ERROR

    def as_dict(self, item: str = "") -> dict[str, str]:
        return {
            "rule": self.rule,
            "item": item,
            "element": self.element,
            "message": str(self.message),
            "severity": self.severity,
        }


@dataclass(frozen=True)
class BasicItemFacts:
    code: str
    name: str
    item_type: str


@dataclass
class RuleContext:
    """What rules may know beyond the item itself; lookups are injected so rules stay pure."""

    basic_item: Callable[[str], BasicItemFacts | None] = lambda code: None
    division_known: Callable[[str], bool] = lambda code: True
    # Whether this platform defines a licence type (licences app); unknown lookups pass.
    licence_type_defined: Callable[[str], bool] = lambda code: True
    uscc_policy: str = field(default_factory=lambda: settings.YIWANG_USCC_POLICY)


Rule = Callable[[dict[str, Any], RuleContext], Iterator[Violation]]
RULES: dict[str, Rule] = {}
RULE_TITLES: dict[str, str | Promise] = {}


def rule(rule_id: str, title: str | Promise) -> Callable[[Rule], Rule]:
    def register(fn: Rule) -> Rule:
        RULES[rule_id] = fn
        RULE_TITLES[rule_id] = title
        return fn

    return register


def check_item(item: dict[str, Any], context: RuleContext | None = None) -> list[Violation]:
    ctx = context or RuleContext()
    found: list[Violation] = []
    for fn in RULES.values():
        found.extend(fn(item, ctx))
    return found


def blocking(violations: list[Violation]) -> list[Violation]:
    return [v for v in violations if v.severity == ERROR]


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# --- Q1: time limits -------------------------------------------------------------------------------


# Bounds in calendar days used to compare limits in different units: a working-day limit can stretch
# by weekends and the longest public holiday (the 8-day Spring Festival / National Day breaks).
def _calendar_day_bounds(limit: dict[str, Any]) -> tuple[float, float] | None:
    unit, value = limit.get("unit"), limit.get("value")
    if unit == "immediate":
        return (0.0, 0.0)
    if value is None:
        return None
    if unit == "natural_day":
        return (value, value)
    if unit == "working_day":
        return (value, math.ceil(value * 7 / 5) + 8)
    if unit == "month":
        return (value * 28, value * 31)
    if unit == "year":
        return (value * 365, value * 366)
    return None


def _is_immediate(limit: dict[str, Any] | None) -> bool:
    return bool(limit) and (limit.get("unit") == "immediate" or limit.get("value") == 0)  # type: ignore[union-attr]


@rule("Q1", _("Promised time limit within the statutory limit; case type matches"))
def q1_time_limits(item: dict[str, Any], ctx: RuleContext) -> Iterator[Violation]:
    limits = item.get("time_limits") or {}
    statutory, promised = limits.get("statutory"), limits.get("promised")
    case_type = item.get("case_type")
    if not promised:
        yield Violation("Q1", "time_limits.promised", _("The promised time limit is missing."))
    elif promised.get("unit") != "immediate" and promised.get("value") is None:
        yield Violation("Q1", "time_limits.promised.value", _("The promised time limit has no value."))
    if statutory and statutory.get("unit") != "immediate" and statutory.get("value") is None:
        yield Violation("Q1", "time_limits.statutory.value", _("The statutory time limit has no value."))
    if statutory and promised:
        if statutory.get("unit") == promised.get("unit"):
            too_long = (promised.get("value") or 0) > (statutory.get("value") or 0) and promised.get(
                "unit"
            ) != "immediate"
        else:
            s_bounds, p_bounds = _calendar_day_bounds(statutory), _calendar_day_bounds(promised)
            too_long = bool(s_bounds and p_bounds and p_bounds[0] > s_bounds[1])
        if too_long:
            yield Violation(
                "Q1", "time_limits.promised", _("The promised time limit is longer than the statutory one.")
            )
    if promised:
        if _is_immediate(promised) and case_type != "1":
            yield Violation(
                "Q1", "case_type", _("A promised limit of 'on the spot' requires case type 1 (decided on the spot).")
            )
        if not _is_immediate(promised) and case_type == "1":
            yield Violation("Q1", "case_type", _("A case decided on the spot cannot have a promised limit of days."))
        if not _is_immediate(promised) and case_type not in ("2", "9"):
            yield Violation(
                "Q1", "case_type", _("An item with a promised limit of days must be case type 2 (promised).")
            )
    if case_type == "2" and not statutory:
        yield Violation("Q1", "time_limits.statutory", _("A promised case must state the statutory time limit too."))


# --- Q2: visits and online handling -----------------------------------------------------------------


@rule("Q2", _("Visits consistent with online depth; reasons for visits; postal application"))
def q2_visits(item: dict[str, Any], ctx: RuleContext) -> Iterator[Violation]:
    visits = item.get("max_visits")
    online = item.get("online") or {}
    forms = set(item.get("handling_forms") or [])
    supports = item.get("supports") or {}
    if visits is None:
        yield Violation("Q2", "max_visits", _("The number of visits to the service site is missing."))
        return
    if online.get("depth") == "IV" and visits != 0:
        yield Violation("Q2", "max_visits", _("A fully online item (level IV) must need zero visits."))
    if visits > 0 and _blank(item.get("visits_reason")):
        yield Violation("Q2", "visits_reason", _("An item that needs visits must state why they are necessary."))
    if visits == 0 and not forms & {"2", "3"} and not supports.get("postal_application"):
        yield Violation(
            "Q2",
            "supports.postal_application",
            _("An item with zero visits and no online handling must accept applications by post."),
        )


# --- Q3: fees -------------------------------------------------------------------------------------

_NOT_A_FEE_STATEMENT = {"无", "/", "-", "—", "暂无", "none", "n/a"}


@rule("Q3", _("Fees: basis and items when charged; explicit 'free' statement otherwise"))
def q3_fees(item: dict[str, Any], ctx: RuleContext) -> Iterator[Violation]:
    fees = item.get("fees") or {}
    if fees.get("charged"):
        if _blank(fees.get("basis")):
            yield Violation("Q3", "fees.basis", _("A charged item must state the legal basis of its fees."))
        if not fees.get("items"):
            yield Violation("Q3", "fees.items", _("A charged item must list its fee items."))
        return
    text = (fees.get("text") or "").strip()
    if not text or text.lower() in _NOT_A_FEE_STATEMENT:
        yield Violation("Q3", "fees.text", _("A free item must say so explicitly (不收费), never blank or '无'."))
    if (item.get("supports") or {}).get("online_payment"):
        yield Violation("Q3", "supports.online_payment", _("A free item cannot offer online payment."))


# --- Q4: phones -----------------------------------------------------------------------------------


def _digits(phone: str) -> str:
    return re.sub(r"\D", "", phone)


@rule("Q4", _("Consultation and supervision phones present and different"))
def q4_phones(item: dict[str, Any], ctx: RuleContext) -> Iterator[Violation]:
    contacts = item.get("contacts") or {}
    consult: str = contacts.get("consultation_phone") or ""
    supervise: str = contacts.get("supervision_phone") or ""
    if _blank(consult):
        yield Violation("Q4", "contacts.consultation_phone", _("The consultation phone is missing."))
    if _blank(supervise):
        yield Violation("Q4", "contacts.supervision_phone", _("The supervision (complaints) phone is missing."))
    if not _blank(consult) and not _blank(supervise) and _digits(consult) == _digits(supervise):
        yield Violation(
            "Q4", "contacts.supervision_phone", _("The supervision phone must differ from the consultation phone.")
        )


# --- Q5: licensing process ------------------------------------------------------------------------

# Each required stage and the step names that satisfy it.
LICENSING_STAGES: list[tuple[tuple[str, ...], str | Promise]] = [
    (("受理",), _("acceptance (受理)")),
    (("审查", "审核"), _("review (审查/审核)")),
    (("决定", "审批"), _("decision (决定/审批)")),
    (("办结",), _("completion (办结)")),
    (("送达",), _("delivery (送达)")),
]


@rule("Q5", _("Licensing items: complete process and at least one FAQ"))
def q5_licensing_process(item: dict[str, Any], ctx: RuleContext) -> Iterator[Violation]:
    if item.get("item_type") != "01":
        return
    names = [step.get("name", "") for step in item.get("process") or []]
    for keywords, label in LICENSING_STAGES:
        if not any(keyword in name for name in names for keyword in keywords):
            yield Violation(
                "Q5", "process", _("The process of a licensing item lacks the %(stage)s step.") % {"stage": label}
            )
    if not item.get("faqs"):
        yield Violation("Q5", "faqs", _("A licensing item needs at least one frequently asked question."))


# --- Q6: result samples ---------------------------------------------------------------------------


@rule("Q6", _("Licences and approval documents come with a sample"))
def q6_result_sample(item: dict[str, Any], ctx: RuleContext) -> Iterator[Violation]:
    for index, result in enumerate(item.get("results") or []):
        if result.get("kind") in ("licence", "approval_document") and _blank(result.get("sample")):
            yield Violation(
                "Q6",
                f"results[{index}].sample",
                _("The result '%(name)s' has no sample.") % {"name": result.get("name", "")},
            )


# --- Q7: catch-all clauses ------------------------------------------------------------------------

CATCH_ALL_PATTERNS = [
    re.compile(r"(法律|法规|规章|规定)[^。；;]*规定的其他"),
    re.compile(r"其他(相关)?(条件|材料)"),
    re.compile(r"^(相关材料|其他)$"),
]


def _catch_all(text: str) -> bool:
    return any(pattern.search(text) for pattern in CATCH_ALL_PATTERNS)


@rule("Q7", _("No catch-all clauses in conditions or materials"))
def q7_catch_all(item: dict[str, Any], ctx: RuleContext) -> Iterator[Violation]:
    for index, condition in enumerate(item.get("conditions") or []):
        if _catch_all(condition.get("text", "")):
            yield Violation(
                "Q7",
                f"conditions[{index}].text",
                _("A condition contains a catch-all clause such as '法律、法规规定的其他条件'."),
            )
    for index, material in enumerate(item.get("materials") or []):
        if _catch_all(material.get("name", "")):
            yield Violation(
                "Q7", f"materials[{index}].name", _("A material is a catch-all such as '……规定的其他材料'.")
            )


# --- Q8: materials --------------------------------------------------------------------------------


def _normalise_name(name: str) -> str:
    return re.sub(r"[\s（）()《》“”\"'、，,。.]", "", name)


@rule("Q8", _("Materials: no duplicates; each states counts of originals and copies"))
def q8_materials(item: dict[str, Any], ctx: RuleContext) -> Iterator[Violation]:
    seen: dict[tuple[str, tuple[str, ...]], int] = {}
    for index, material in enumerate(item.get("materials") or []):
        key = (_normalise_name(material.get("name", "")), tuple(sorted(material.get("business_types") or [])))
        if key in seen:
            yield Violation(
                "Q8",
                f"materials[{index}].name",
                _("The material '%(name)s' is listed twice (first as number %(first)d).")
                % {"name": material.get("name", ""), "first": seen[key] + 1},
            )
        else:
            seen[key] = index
        originals, copies = material.get("originals"), material.get("copies")
        if originals is None or copies is None:
            yield Violation(
                "Q8",
                f"materials[{index}]",
                _("The material '%(name)s' must state how many originals and copies.")
                % {"name": material.get("name", "")},
            )
        elif originals + copies == 0 and material.get("medium") != "electronic":
            yield Violation(
                "Q8",
                f"materials[{index}]",
                _("The material '%(name)s' asks for zero originals and zero copies.")
                % {"name": material.get("name", "")},
            )


# --- Q9: codes ------------------------------------------------------------------------------------

BASIC_CODE_RE = re.compile(r"^[0-9A-Z]{12}$")


@rule("Q9", _("Codes present and well formed; name and type equal the basic item"))
def q9_codes(item: dict[str, Any], ctx: RuleContext) -> Iterator[Violation]:
    basic_code: str = item.get("basic_code") or ""
    impl_code: str = item.get("implementation_code") or ""
    body_uscc: str = (item.get("implementing_body") or {}).get("uscc") or ""
    uscc_severity = WARNING if ctx.uscc_policy == "warn" else ERROR
    if _blank(basic_code):
        yield Violation("Q9", "basic_code", _("The basic code is missing."))
    elif not BASIC_CODE_RE.match(basic_code):
        yield Violation("Q9", "basic_code", _("The basic code must be 12 digits or capital letters."))
    if _blank(body_uscc):
        yield Violation(
            "Q9", "implementing_body.uscc", _("The implementing body's unified social credit code is missing.")
        )
    else:
        for problem in uscc_problems(body_uscc):
            severity = uscc_severity if problem.code in ("uscc_check", "uscc_org_check") else ERROR
            yield Violation("Q9", "implementing_body.uscc", problem.message, severity)
    if _blank(impl_code):
        yield Violation("Q9", "implementation_code", _("The implementation code is missing."))
    else:
        if not re.match(settings.YIWANG_IMPLEMENTATION_CODE_PATTERN, impl_code):
            yield Violation("Q9", "implementation_code", _("The implementation code is not well formed."))
        prefix = impl_code[:18]
        if body_uscc and prefix != body_uscc:
            yield Violation(
                "Q9", "implementation_code", _("The implementation code must begin with the implementing body's USCC.")
            )
        elif not body_uscc and uscc_problems(prefix):
            yield Violation("Q9", "implementation_code", _("The implementation code does not begin with a valid USCC."))
    if not _blank(basic_code):
        basic = ctx.basic_item(basic_code)
        if basic is not None:
            if basic.name != item.get("name"):
                yield Violation(
                    "Q9", "name", _("The name must equal the basic item's name '%(name)s'.") % {"name": basic.name}
                )
            if basic.item_type != item.get("item_type"):
                yield Violation(
                    "Q9",
                    "item_type",
                    _("The item type must equal the basic item's type %(type)s.") % {"type": basic.item_type},
                )


# --- Yiwang's own rules ---------------------------------------------------------------------------


@rule("Y1", _("Region is a known administrative division"))
def y1_region(item: dict[str, Any], ctx: RuleContext) -> Iterator[Violation]:
    code = item.get("region_code")
    if code and not ctx.division_known(code):
        yield Violation(
            "Y1", "region_code", _("The division code %(code)s is not in the reference data.") % {"code": code}
        )


@rule("Y2", _("Planned cancel date after planned effective date"))
def y2_dates(item: dict[str, Any], ctx: RuleContext) -> Iterator[Violation]:
    effective, cancel = item.get("effective_date"), item.get("cancel_date")
    if effective and cancel and cancel <= effective:
        yield Violation("Y2", "cancel_date", _("The planned cancel date must be after the planned effective date."))


@rule("Y3", _("Handling sub-item code extends the basic code"))
def y3_handling_code(item: dict[str, Any], ctx: RuleContext) -> Iterator[Violation]:
    code, basic = item.get("handling_item_code"), item.get("basic_code")
    if code and basic and not code.startswith(basic):
        yield Violation("Y3", "handling_item_code", _("The handling sub-item code must begin with the basic code."))


@rule("Y4", _("Conditions, service objects and handling forms are stated"))
def y4_guide_basics(item: dict[str, Any], ctx: RuleContext) -> Iterator[Violation]:
    if not item.get("conditions"):
        yield Violation("Y4", "conditions", _("The guide must state the conditions for applying."))
    if not item.get("service_objects"):
        yield Violation("Y4", "service_objects", _("The guide must state who the service is for."))
    if not item.get("handling_forms"):
        yield Violation("Y4", "handling_forms", _("The guide must state how the item can be handled."))


@rule("Y5", _("Window handling states location and hours"))
def y5_location(item: dict[str, Any], ctx: RuleContext) -> Iterator[Violation]:
    if "1" in (item.get("handling_forms") or []):
        if _blank(item.get("location")):
            yield Violation("Y5", "location", _("An item handled at a window must state where."))
        if _blank(item.get("hours")):
            yield Violation("Y5", "hours", _("An item handled at a window must state the opening hours."))


LICENCE_TYPE_RE = re.compile(r"^[0-9A-Z]{18}[0-9]{3}$")


@rule("Y6", _("Licence type codes are well formed (GB/T 36904)"))
def y6_licence_types(item: dict[str, Any], ctx: RuleContext) -> Iterator[Violation]:
    places = [
        (f"materials[{i}].licence_type_code", m.get("licence_type_code"))
        for i, m in enumerate(item.get("materials") or [])
    ]
    places += [
        (f"results[{i}].licence_type_code", r.get("licence_type_code")) for i, r in enumerate(item.get("results") or [])
    ]
    for element, code in places:
        if code and (not LICENCE_TYPE_RE.match(code) or uscc_problems(code[:18])):
            yield Violation("Y6", element, _("A licence type code is the defining body's USCC followed by 3 digits."))


@rule("Y8", _("Licence results name a type this platform issues"))
def y8_licence_types_defined(item: dict[str, Any], ctx: RuleContext) -> Iterator[Violation]:
    # A warning, not an error: a result may be issued by a national system; but then approving a case here issues
    # no electronic licence, which the manager should know before publishing (issue 5).
    for i, result in enumerate(item.get("results") or []):
        code = result.get("licence_type_code")
        if (
            result.get("kind") == "licence"
            and code
            and LICENCE_TYPE_RE.match(code)
            and not ctx.licence_type_defined(code)
        ):
            yield Violation(
                "Y8",
                f"results[{i}].licence_type_code",
                _("Licence type %(code)s is not defined on this platform: approvals will issue no electronic licence.")
                % {"code": code},
                WARNING,
            )


@rule("Y7", _("Online depth consistent with handling forms"))
def y7_online(item: dict[str, Any], ctx: RuleContext) -> Iterator[Violation]:
    depth = (item.get("online") or {}).get("depth")
    forms = set(item.get("handling_forms") or [])
    if depth in ("III", "IV") and not forms & {"2", "3"}:
        yield Violation(
            "Y7", "handling_forms", _("An item handled online (level III or IV) must list an online handling form.")
        )
