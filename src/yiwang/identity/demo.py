"""Demo accounts for ``make run`` (idempotent): staff of two regions, citizens, an enterprise and its agent.

Persons are registered through the same service a citizen uses, after the registers' demo set is loaded, so
they come out verified. Staff enrol their TOTP authenticator at first sign-in.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from yiwang.audit.actors import SystemActor
from yiwang.catalogue.models import Organisation
from yiwang.identity import services
from yiwang.identity.constants import Role
from yiwang.identity.models import Account, Agency, Enterprise
from yiwang.registers import demo as registers_demo


@dataclass(frozen=True)
class DemoStaff:
    username: str
    name: str
    department_uscc: str
    region: str
    roles: tuple[Role, ...]


XIHU_MARKET = "113301060025063125"  # 杭州市西湖区市场监督管理局
RENCHENG_MARKET = "11370811MB285734XJ"  # 济宁市任城区市场监督管理局
HANGZHOU_MARKET = "11330100MB1612076C"  # 杭州市市场监督管理局

STAFF = (
    DemoStaff("manager", "周敏", XIHU_MARKET, "330106", (Role.CATALOGUE_MANAGER,)),
    DemoStaff("publisher", "吴刚", XIHU_MARKET, "330106", (Role.CATALOGUE_PUBLISHER,)),
    DemoStaff("clerk", "郑丽", XIHU_MARKET, "330106", (Role.WINDOW_CLERK,)),
    DemoStaff("reviewer", "王芳", XIHU_MARKET, "330106", (Role.REVIEWER, Role.APPROVER)),
    DemoStaff("reviewer-b", "冯涛", RENCHENG_MARKET, "370811", (Role.REVIEWER, Role.APPROVER)),
    DemoStaff("supervisor", "陈静", HANGZHOU_MARKET, "330100", (Role.SUPERVISOR,)),
    DemoStaff("auditor", "褚明", HANGZHOU_MARKET, "330000", (Role.AUDITOR,)),
    DemoStaff("admin", "卫东", HANGZHOU_MARKET, "330000", (Role.ADMINISTRATOR,)),
)

PERSONS = (
    (registers_demo.DEMO_CITIZEN_ID, registers_demo.DEMO_CITIZEN_NAME, "13800135678"),
    (registers_demo.DEMO_AGENT_ID, registers_demo.DEMO_AGENT_NAME, "13900139001"),
    (registers_demo.DEMO_REPRESENTATIVE_ID, registers_demo.DEMO_REPRESENTATIVE_NAME, "13700137002"),
)


def load_demo_accounts(*, password: str) -> list[str]:
    """Create what is missing; returns the logins created."""
    actor = SystemActor("demo")
    registers_demo.load_demo_registers(actor=actor)
    services.ensure_roles(actor=actor)
    created: list[str] = []
    for staff in STAFF:
        if User.objects.filter(username=staff.username).exists():
            continue
        department = Organisation.objects.filter(uscc=staff.department_uscc).first()
        if department is None:  # the demo catalogue's organisations were not loaded
            continue
        user = services.create_staff(
            actor=actor,
            username=staff.username,
            name=staff.name,
            department=department,
            division_code=staff.region,
            roles=[str(r) for r in staff.roles],
            password=password,
        )
        if Role.ADMINISTRATOR in staff.roles:
            with transaction.atomic():
                User.objects.filter(pk=user.pk).update(is_superuser=True, is_staff=True)
        created.append(staff.username)
    for number, name, phone in PERSONS:
        if services.find_user(number) is None:
            services.register_person(actor=actor, id_number=number, name=name, phone=phone, password=password)
            created.append(number)
    representative = services.find_user(registers_demo.DEMO_REPRESENTATIVE_ID)
    agent = Account.objects.filter(user=services.find_user(registers_demo.DEMO_AGENT_ID)).first()
    if representative is not None and not Enterprise.objects.filter(uscc=registers_demo.DEMO_ENTERPRISE_USCC).exists():
        enterprise = services.bind_enterprise(
            actor=representative,
            uscc=registers_demo.DEMO_ENTERPRISE_USCC,
            name=registers_demo.DEMO_ENTERPRISE_NAME,
        )
        if agent is not None and not Agency.objects.filter(enterprise=enterprise).exists():
            services.grant_agency(
                actor=representative,
                enterprise=enterprise,
                agent_id_number=registers_demo.DEMO_AGENT_ID,
                agent_name=registers_demo.DEMO_AGENT_NAME,
                all_items=True,
                valid_until=timezone.now() + dt.timedelta(days=365),
            )
    return created
