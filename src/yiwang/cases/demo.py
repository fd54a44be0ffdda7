"""Demo cases for ``make run`` (idempotent): a one-thing bundle and a few cases at different stages.

Everything goes through the services, as the people would: 张三 applies, 李四 applies for his enterprise,
the demo window clerk 郑丽 asks for corrections, accepts and decides. So the demo shows a queue with work
in it, a correction notice, and a delivered result.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping
from typing import Any

from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen.canvas import Canvas

from yiwang.audit.actors import SystemActor
from yiwang.cases import services
from yiwang.cases.constants import Outcome, StepCode, TaskStatus
from yiwang.cases.models import Bundle, BundleItem, Case
from yiwang.catalogue.handling import HandlingDefinition, handling_for
from yiwang.catalogue.models import ItemVersion
from yiwang.common.calendar import library_covers
from yiwang.common.models import CalendarYear
from yiwang.identity.models import Agency, Enterprise
from yiwang.registers import demo as registers_demo

XIHU = "330106"
FOOD_BUSINESS = "食品经营许可"
SOLE_TRADER = "个体工商户登记"


def _version(name: str) -> ItemVersion | None:
    return ItemVersion.objects.current().filter(name=name, region_code=XIHU).first()


def _demo_pdf(title: str) -> SimpleUploadedFile:
    """A real one-page PDF standing for a scanned material."""
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, invariant=1)
    canvas.setFont("STSong-Light", 16)
    canvas.drawString(72, 760, title)
    canvas.setFont("STSong-Light", 10)
    canvas.drawString(72, 736, "演示材料（Yiwang 演示数据）")
    canvas.showPage()
    canvas.save()
    return SimpleUploadedFile(f"{title[:20]}.pdf", buffer.getvalue(), content_type="application/pdf")


def _completed(definition: HandlingDefinition, data: Mapping[str, Any]) -> dict[str, Any]:
    """The pre-filled data plus a plausible value for each required field the registers could not fill."""
    filled = dict(data)
    properties = definition.form_schema.get("properties", {})
    for name in definition.form_schema.get("required", []):
        if filled.get(name) not in (None, "", []):
            continue
        prop = properties.get(name, {})
        kind = prop.get("type")
        if "enum" in prop:
            filled[name] = prop["enum"][0]
        elif kind == "array":
            filled[name] = prop.get("items", {}).get("enum", ["演示"])[:1]
        elif kind in ("integer", "number"):
            filled[name] = max(int(prop.get("minimum", 1)), 1)
        elif kind == "boolean":
            filled[name] = True
        elif prop.get("format") == "date":
            filled[name] = timezone.localdate().isoformat()
        elif prop.get("format") == "email":
            filled[name] = "demo@example.com"
        elif "pattern" not in prop:
            filled[name] = "浙江省杭州市西湖区文三路 1 号" if "address" in name else "演示数据"
    return filled


def _apply(actor: User, version: ItemVersion, *, agency_id: int | None = None, fetch: bool = False) -> Case:
    case = services.start_application(actor=actor, version=version, agency_id=agency_id)
    case = services.save_draft(actor=actor, case=case, data=_completed(handling_for(version), case.data))
    filled = set(case.materials.values_list("slot", flat=True))  # e-licences attached when the draft opened
    if fetch:
        # Once-only: the applicant consents to the slots shared data can fill (read when the case is submitted).
        from yiwang.sharing import once_only

        for slot in once_only.offers(case, case.materials.all(), None):
            if slot not in filled:
                once_only.fetch_shared_material(actor=actor, case=case, slot=slot, consent=True)
                filled.add(slot)
    for slot, material in enumerate(services.material_slots(case)):
        if not material.get("required") or slot in filled:
            continue
        if services.pledgeable(material):
            services.pledge_material(actor=actor, case=case, slot=slot)
        else:
            services.attach_material(actor=actor, case=case, slot=slot, upload=_demo_pdf(str(material["name"])))
    return services.submit(actor=actor, case=case)


def _cover_the_calendar() -> None:
    """Deadlines reach up to a few months ahead. When the library does not cover that yet, the demo (only the
    demo) enters the next year by the weekday rule so its cases can be accepted; a real deployment enters the
    State Council's notice (docs/working-days.md)."""
    from yiwang.common.services import enter_calendar_year

    ahead = timezone.localdate() + dt.timedelta(days=120)
    if not library_covers(ahead) and not CalendarYear.objects.filter(year=ahead.year).exists():
        enter_calendar_year(
            actor=SystemActor("demo"), year=ahead.year, source="演示数据：未核对国务院放假通知 (demo only)"
        )


def load_demo_bundles() -> int:
    food, trader = _version(FOOD_BUSINESS), _version(SOLE_TRADER)
    if food is None or trader is None or Bundle.objects.filter(code="open-restaurant").exists():
        return 0
    with transaction.atomic():
        bundle = Bundle.objects.create(
            code="open-restaurant",
            name="我要开餐馆",
            name_en="Opening a restaurant",
            description="个体工商户登记与食品经营许可一次申请、一套材料，分送各审批环节并行办理。",
        )
        BundleItem.objects.create(bundle=bundle, item=trader.item, position=0)
        BundleItem.objects.create(bundle=bundle, item=food.item, position=1)
    return 1


def load_demo_cases() -> int:
    """Cases at several stages; returns how many were made (none when the demo already has cases)."""
    if Case.objects.exists():
        return 0
    _cover_the_calendar()
    citizen = User.objects.filter(
        account__id_number_index__isnull=False, account__real_name=registers_demo.DEMO_CITIZEN_NAME
    ).first()
    clerk = User.objects.filter(username="clerk").first()
    food, trader = _version(FOOD_BUSINESS), _version(SOLE_TRADER)
    if citizen is None or clerk is None or food is None or trader is None:
        return 0
    made = 0
    # 1. Awaiting pre-review: the clerk's queue has work; his identity was fetched from the population register.
    _apply(citizen, trader, fetch=True)
    made += 1
    # 2. One correction notice with two problems: 张三 has something to fix.
    correcting = _apply(citizen, trader)
    slots = [i for i, m in enumerate(services.material_slots(correcting)) if m.get("required")][:2]
    services.request_correction(
        actor=clerk,
        case=correcting,
        problems=[
            services.Problem("申请书未签名，请签名后重新上传。", slot=slots[0]),
            services.Problem("请提供清晰、完整的扫描件。", slot=slots[-1]),
        ],
    )
    made += 1
    # 3. An on-the-spot item accepted and decided at the window: a delivered result.
    done = _apply(citizen, trader, fetch=True)
    services.accept(actor=clerk, case=done)
    decide = done.tasks.filter(step_code=StepCode.DECIDE, status=TaskStatus.OPEN).first()
    if decide is not None and decide.role == "window_clerk":
        services.decide(actor=clerk, task=decide, outcome=Outcome.APPROVED)
    made += 1
    # 4. An agent applies for the demo enterprise twice: one awaits pre-review, one is with the reviewer.
    enterprise = Enterprise.objects.filter(uscc=registers_demo.DEMO_ENTERPRISE_USCC).first()
    agency = Agency.objects.in_force().filter(enterprise=enterprise).select_related("agent").first()
    if agency is not None:
        _apply(agency.agent, food, agency_id=agency.pk)
        services.accept(actor=clerk, case=_apply(agency.agent, food, agency_id=agency.pk))
        made += 2
    return made
