"""The world of the staff case page tests: the cases tests' fixed clock and files, cases at each stage, URLs.

Plain helpers, not fixtures: each ``test_case_*`` module declares its own two fixtures (the autouse clock and
the item) so that nothing here leaks into the other workbench tests.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import translation

from yiwang.audit.actors import SystemActor
from yiwang.cases import services
from yiwang.cases.constants import StepCode, TaskStatus
from yiwang.cases.models import Case, CaseTask
from yiwang.cases.tests.conftest import FRIDAY_BEFORE_NATIONAL_DAY, PDF, pdf, start
from yiwang.catalogue import services as catalogue
from yiwang.catalogue.models import ItemVersion, Organisation
from yiwang.catalogue.tests.factories import OTHER_BODY_USCC, item_content

__all__ = ["FRIDAY_BEFORE_NATIONAL_DAY", "PDF", "pdf", "start"]

SYSTEM = SystemActor("test")


def url(name: str, *args: Any) -> str:
    """The Chinese page (unprefixed)."""
    with translation.override("zh-hans"):
        return reverse(f"workbench:{name}", args=args)


def en(name: str, *args: Any) -> str:
    """The English page (/en/…)."""
    with translation.override("en"):
        return reverse(f"workbench:{name}", args=args)


def submitted(citizen: User, item: ItemVersion, **delivery: str) -> Case:
    """A citizen's submitted case with both materials (``delivery``: method and address, when not electronic)."""
    case = start(citizen, item)
    if delivery:
        case = services.save_draft(actor=citizen, case=case, data=case.data, delivery=delivery)
    services.attach_material(actor=citizen, case=case, slot=0, upload=pdf("application.pdf", b"a"))
    services.attach_material(actor=citizen, case=case, slot=1, upload=pdf("id.pdf", b"b"))
    return services.submit(actor=citizen, case=case)


def accepted(citizen: User, clerk: User, item: ItemVersion, **delivery: str) -> Case:
    case = submitted(citizen, item, **delivery)
    services.accept(actor=clerk, case=case)
    return Case.objects.get(pk=case.pk)


def open_task(case: Case, step: str = "", department: Organisation | None = None) -> CaseTask:
    tasks = case.tasks.filter(status=TaskStatus.OPEN)
    if step:
        tasks = tasks.filter(step_code=step)
    if department is not None:
        tasks = tasks.filter(department=department)
    return tasks.get()


def decided(citizen: User, clerk: User, reviewer: User, item: ItemVersion, **delivery: str) -> Case:
    case = accepted(citizen, clerk, item, **delivery)
    services.complete_step(actor=reviewer, task=open_task(case, StepCode.REVIEW), opinion="同意")
    services.decide(actor=reviewer, task=open_task(case, StepCode.DECIDE), outcome="approved")
    return Case.objects.get(pk=case.pk)


def department_b_item(department_b: Organisation) -> ItemVersion:
    """A published item of department B (任城区, 济宁): outside department A and outside 杭州's supervisor."""
    body = {"name": department_b.name, "uscc": OTHER_BODY_USCC, "nature": "1"}
    draft = catalogue.save_draft(
        actor=SYSTEM,
        content=item_content(
            region_code="370811",
            implementing_body=body,
            basic_code="000131129000",
            handling_item_code="00013112900001",
            name="任城区专属事项",
        ),
    )
    catalogue.submit_for_review(actor=SYSTEM, version=draft)
    return catalogue.publish(actor=SYSTEM, version=ItemVersion.objects.get(pk=draft.pk))


def html(client: Client, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, (path, response.status_code)
    return response.content.decode()
