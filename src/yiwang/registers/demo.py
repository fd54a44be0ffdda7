"""The fixed demo registers: a few named people and entities that the demo, the personas and tests rely on.

Every number below is valid (GB 11643 check digit, GB 32100 and GB 11714 check characters) and is checked
by tests/test_demo.py. The people and entities are fictional; import the constants rather than copying them.

| who | ID number | role in the demo |
|---|---|---|
| 张三, male, born 1990-03-07, 杭州市西湖区 | 330106199003070137 | the citizen persona |
| 李四, female, born 1985-11-20, 杭州市西湖区 | 33010619851120028X | the agent persona (经办人) |
| 王五, male, born 1978-06-15, 济宁市任城区 | 370811197806150517 | legal representative of both enterprises |
| 赵六, female, born 1995-01-30, 杭州市西湖区 | 330106199501300468 | a second citizen |

| entity | USCC | status |
|---|---|---|
| 杭州西湖云栖科技有限公司 (company, 330106), represented by 王五 | 91330106MA2H7K3P2R | active |
| 济宁任城运河物流有限公司 (company, 370811), represented by 王五 | 91370811MA3N8D5R5U | active |
| 杭州西湖龙井茶叶贸易有限公司 (company, 330106), represented by 张三 | 91330106MA2D4W6L14 | cancelled |
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict

from yiwang.audit.actors import Actor
from yiwang.registers import services
from yiwang.registers.models import EntityStatus, EntityType, LegalEntity, Person, Sex
from yiwang.registers.services import EntityData, PersonData

XIHU = "330106"  # 浙江省杭州市西湖区
RENCHENG = "370811"  # 山东省济宁市任城区

DEMO_CITIZEN_NAME = "张三"
DEMO_CITIZEN_ID = "330106199003070137"
DEMO_AGENT_NAME = "李四"
DEMO_AGENT_ID = "33010619851120028X"
DEMO_REPRESENTATIVE_NAME = "王五"
DEMO_REPRESENTATIVE_ID = "370811197806150517"
DEMO_SECOND_CITIZEN_NAME = "赵六"
DEMO_SECOND_CITIZEN_ID = "330106199501300468"

DEMO_ENTERPRISE_NAME = "杭州西湖云栖科技有限公司"
DEMO_ENTERPRISE_USCC = "91330106MA2H7K3P2R"
DEMO_SECOND_ENTERPRISE_NAME = "济宁任城运河物流有限公司"
DEMO_SECOND_ENTERPRISE_USCC = "91370811MA3N8D5R5U"
# Deregistered: binding it, or acting for it, must be refused although its representative is real.
DEMO_CANCELLED_NAME = "杭州西湖龙井茶叶贸易有限公司"
DEMO_CANCELLED_USCC = "91330106MA2D4W6L14"

DEMO_PEOPLE: tuple[PersonData, ...] = (
    PersonData(DEMO_CITIZEN_ID, DEMO_CITIZEN_NAME, Sex.MALE, dt.date(1990, 3, 7), XIHU, "浙江省杭州市西湖区文三路90号"),
    PersonData(
        DEMO_AGENT_ID, DEMO_AGENT_NAME, Sex.FEMALE, dt.date(1985, 11, 20), XIHU, "浙江省杭州市西湖区古墩路588号"
    ),
    PersonData(
        DEMO_REPRESENTATIVE_ID,
        DEMO_REPRESENTATIVE_NAME,
        Sex.MALE,
        dt.date(1978, 6, 15),
        RENCHENG,
        "山东省济宁市任城区太白路66号",
    ),
    PersonData(
        DEMO_SECOND_CITIZEN_ID,
        DEMO_SECOND_CITIZEN_NAME,
        Sex.FEMALE,
        dt.date(1995, 1, 30),
        XIHU,
        "浙江省杭州市西湖区天目山路181号",
    ),
)

DEMO_ENTITIES: tuple[EntityData, ...] = (
    EntityData(
        uscc=DEMO_ENTERPRISE_USCC,
        name=DEMO_ENTERPRISE_NAME,
        entity_type=EntityType.COMPANY,
        legal_representative=DEMO_REPRESENTATIVE_NAME,
        legal_representative_id_number=DEMO_REPRESENTATIVE_ID,
        registered_address="浙江省杭州市西湖区云栖小镇云栖路8号",
        division_code=XIHU,
        established=dt.date(2016, 4, 18),
        business_scope="技术服务、技术开发、技术咨询、技术交流、技术转让、技术推广；软件开发；信息系统集成服务。",
    ),
    EntityData(
        uscc=DEMO_SECOND_ENTERPRISE_USCC,
        name=DEMO_SECOND_ENTERPRISE_NAME,
        entity_type=EntityType.COMPANY,
        legal_representative=DEMO_REPRESENTATIVE_NAME,
        legal_representative_id_number=DEMO_REPRESENTATIVE_ID,
        registered_address="山东省济宁市任城区运河路128号",
        division_code=RENCHENG,
        established=dt.date(2018, 9, 3),
        business_scope="普通货物仓储服务；国内货物运输代理；装卸搬运；道路货物运输（不含危险货物）。",
    ),
    EntityData(
        uscc=DEMO_CANCELLED_USCC,
        name=DEMO_CANCELLED_NAME,
        entity_type=EntityType.COMPANY,
        legal_representative=DEMO_CITIZEN_NAME,
        legal_representative_id_number=DEMO_CITIZEN_ID,
        registered_address="浙江省杭州市西湖区龙井路15号",
        division_code=XIHU,
        established=dt.date(2017, 5, 12),
        business_scope="茶叶销售；食用农产品零售；日用百货销售。",
        status=EntityStatus.CANCELLED,
    ),
)


def load_demo_registers(*, actor: Actor) -> tuple[list[Person], list[LegalEntity]]:
    """Create or restore the demo people and entities (idempotent: a second call changes nothing and
    writes no audit record). Returns them in the order of DEMO_PEOPLE and DEMO_ENTITIES."""
    people = [services.upsert_person(actor=actor, **asdict(person)) for person in DEMO_PEOPLE]
    entities = [services.upsert_entity(actor=actor, **asdict(entity)) for entity in DEMO_ENTITIES]
    return people, entities
