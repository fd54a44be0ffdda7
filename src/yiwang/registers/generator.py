"""Synthetic, valid base-register data for demos, tests and benchmarks (``yiwang registers_generate``).

Everything generated is internally consistent and passes the national check algorithms (STANDARDS.md §7):

- ID numbers: a county-level region code from the Division table, a real birth date, a 3-digit sequence
  number whose last digit is odd for men and even for women, and the GB 11643 check digit; the first 17
  characters are unique, so ID numbers are.
- USCCs: registration authority and category by entity type, the entity's county, a unique GB 11714
  organisation-code body, both check characters (``build_uscc``).
- Every legal representative is an adult of the generated population, so their ID number and name are
  those of the population register; an entity is established after its representative turned 18.

Records depend on the seed and the county list only (not on today's date or the database), so the same
seed gives the same registers, and a second run skips what the first one wrote.
"""

from __future__ import annotations

import datetime as dt
import random
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace

from django.utils.translation import gettext_lazy as _

from yiwang.audit.actors import Actor
from yiwang.common.errors import InvalidInput
from yiwang.common.models import Division, DivisionLevel
from yiwang.common.validators import USCC_CHARSET, build_uscc, resident_id_check_char
from yiwang.registers import selectors, services
from yiwang.registers.models import EntityStatus, EntityType, Sex
from yiwang.registers.services import BulkResult, EntityData, PersonData

# Fixed date windows rather than "today", so a seed gives the same data on any day.
BIRTH_FIRST = dt.date(1940, 1, 1)
BIRTH_LAST = dt.date(2024, 12, 31)
ESTABLISHED_FIRST = dt.date(1984, 1, 1)  # the first private enterprises registered after the 1980s reforms
ESTABLISHED_LAST = dt.date(2025, 12, 31)
# Market-regulation organisation codes issued since the 2015 reform start with MA; older ones are digits.
NEW_CODES_FROM = dt.date(2015, 10, 1)

# Surnames in rough order of frequency (the most common first, weighted accordingly).
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙")
GIVEN_MALE = "伟强军磊洋勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆帅旭宁龙林峰建国志文博晨阳昊然轩睿哲诚"
GIVEN_FEMALE = "芳娜敏静丽艳娟霞燕玲桂萍红梅琳婷雪慧莉倩颖晶欣怡佳悦彤馨瑶蕾思雨涵琪璐月岚薇洁"
GIVEN_EITHER = "一子海文心天安乐永春秋晓嘉宁清新雅云星语宏立"

STREETS = (
    "人民路", "解放路", "建设路", "中山路", "和平路", "新华路", "文化路", "胜利路", "朝阳路", "光明路",
    "学院路", "青年路", "长江路", "黄河路", "东风路", "环城北路", "文三路", "古墩路", "太白路", "运河路",
)  # fmt: skip
TRADE_CHARS = "恒达鑫华泰盛源明诚信安康宏远瑞丰嘉禾云栖金银德润博通天宇新海中联启航睿智汇锦卓越星辰"

# (industry word in the name, business scope text)
INDUSTRIES = (
    ("科技", "技术服务、技术开发、技术咨询、技术交流、技术转让、技术推广；软件开发；信息系统集成服务。"),
    ("贸易", "日用百货销售；五金产品批发；电子产品销售；货物进出口；技术进出口。"),
    ("物流", "普通货物仓储服务；国内货物运输代理；装卸搬运；道路货物运输（不含危险货物）。"),
    ("餐饮管理", "餐饮管理；食品销售（仅销售预包装食品）；外卖递送服务。"),
    ("建筑工程", "建设工程施工；住宅室内装饰装修；园林绿化工程施工；建筑材料销售。"),
    ("文化传媒", "组织文化艺术交流活动；广告设计、代理；广告制作；会议及展览服务。"),
    ("信息技术", "信息技术咨询服务；数据处理和存储支持服务；网络技术服务；计算机系统服务。"),
    ("食品", "食品生产；食品销售；农副产品销售；食用农产品初加工。"),
    ("机械制造", "通用设备制造（不含特种设备制造）；机械零件、零部件加工；机械设备销售。"),
    ("企业管理咨询", "企业管理咨询；市场营销策划；信息咨询服务（不含许可类信息咨询服务）。"),
)
LICENSED = "（依法须经批准的项目，经相关部门批准后方可开展经营活动）"
SHOPS = (
    ("便利店", "食品销售；日用百货销售；烟草制品零售。"),
    ("小吃店", "餐饮服务；食品小作坊经营。"),
    ("五金店", "五金产品零售；建筑材料销售；家用电器零配件销售。"),
    ("理发店", "理发服务；生活美容服务。"),
    ("水果店", "水果零售；食用农产品零售。"),
    ("维修部", "家用电器修理；日用电器修理；计算机及办公设备维修。"),
)
CROPS = ("茶叶", "水果", "蔬菜", "粮食", "生猪养殖", "水产养殖", "中药材")
INSTITUTIONS = ("社区卫生服务中心", "文化站", "实验学校", "幼儿园", "养老服务中心", "农业技术推广站")
ASSOCIATIONS = ("餐饮行业", "物流", "软件行业", "个体劳动者", "书法家", "摄影家")

# (type, weight): mostly companies and individual businesses, as in real registers.
ENTITY_TYPE_WEIGHTS = (
    (EntityType.COMPANY, 55),
    (EntityType.SOLE_PROPRIETOR, 20),
    (EntityType.JOINT_STOCK, 4),
    (EntityType.PARTNERSHIP, 5),
    (EntityType.COOPERATIVE, 6),
    (EntityType.INSTITUTION, 5),
    (EntityType.SOCIAL, 5),
)
# GB 32100 characters 1–2: 91 enterprise, 92 individual business, 93 farmers' cooperative (market
# regulation); 12 public institution (机构编制); 51 social organisation (民政).
USCC_PREFIX = {
    EntityType.COMPANY: "91",
    EntityType.JOINT_STOCK: "91",
    EntityType.PARTNERSHIP: "91",
    EntityType.SOLE_PROPRIETOR: "92",
    EntityType.COOPERATIVE: "93",
    EntityType.INSTITUTION: "12",
    EntityType.SOCIAL: "51",
}
STATUS_WEIGHTS = ((EntityStatus.ACTIVE, 92), (EntityStatus.REVOKED, 3), (EntityStatus.CANCELLED, 5))


@dataclass(frozen=True)
class County:
    """A county-level division as the generator uses it."""

    code: str
    name: str  # 西湖区
    city: str  # the prefecture without its suffix (杭州), as enterprise names begin
    full_name: str  # 浙江省杭州市西湖区, as addresses begin


def _short_city(division: Division) -> str:
    parent = division.parent
    # Municipal districts hang under a "市辖区" node in some editions of GB/T 2260; the city is above it.
    if parent is not None and parent.name == "市辖区" and parent.parent is not None:
        parent = parent.parent
    if parent is None or parent.level < DivisionLevel.PREFECTURE:
        parent = division  # a county directly under a province
    name = parent.name
    for suffix in ("自治州", "地区", "市", "盟", "县", "区"):
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


def load_counties() -> list[County]:
    """Every county-level division of the reference data, in code order (the order is part of the seed)."""
    rows = Division.objects.filter(level=DivisionLevel.COUNTY).select_related("parent__parent__parent")
    return [County(d.code, d.name, _short_city(d), d.full_name) for d in rows.order_by("code")]


def _add_years(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a non-leap year
        return day.replace(year=day.year + years, day=28)


def _weighted(rng: random.Random, pairs: Sequence[tuple[str, int]]) -> str:
    values, weights = zip(*pairs, strict=True)
    return str(rng.choices(values, weights=weights)[0])


class RegisterGenerator:
    """Makes people and entities one at a time from a seeded random source; remembers what it made so
    ID numbers, organisation codes and entity names never repeat within one generator."""

    def __init__(self, seed: int, counties: Sequence[County]) -> None:
        if not counties:
            raise InvalidInput(_("There are no county-level divisions to place people in; run migrate first."))
        self.rng = random.Random(seed)  # noqa: S311 - reproducible synthetic data, not secrets
        self.counties = list(counties)
        self._by_code = {c.code: c for c in self.counties}
        self._id_prefixes: set[str] = set()
        self._org_bodies: set[str] = set()
        self._entity_names: set[str] = set()
        self._birth_span = (BIRTH_LAST - BIRTH_FIRST).days

    # --- people -----------------------------------------------------------------------------------

    def person(self) -> PersonData:
        rng = self.rng
        county = rng.choice(self.counties)
        sex = Sex.MALE if rng.random() < 0.5 else Sex.FEMALE
        while True:
            birth = BIRTH_FIRST + dt.timedelta(days=rng.randrange(self._birth_span + 1))
            # Sequence 001–999; its last digit (ID digit 17) is odd for men, even for women.
            sequence = rng.randrange(0, 500) * 2 + (1 if sex == Sex.MALE else 0)
            if sequence == 0:
                continue
            first17 = f"{county.code}{birth:%Y%m%d}{sequence:03d}"
            if first17 not in self._id_prefixes:
                self._id_prefixes.add(first17)
                break
        return PersonData(
            id_number=first17 + resident_id_check_char(first17),
            name=self.name(sex),
            sex=sex,
            birth_date=birth,
            division_code=county.code,
            address=self.address(county),
        )

    def name(self, sex: str) -> str:
        rng = self.rng
        if rng.random() < 0.01:
            surname = rng.choice(COMPOUND_SURNAMES)
        else:
            # Triangular weights: the first surnames of the list are the commonest.
            surname = SURNAMES[int(len(SURNAMES) * rng.triangular(0, 1, 0))]
        pool = (GIVEN_MALE if sex == Sex.MALE else GIVEN_FEMALE) + GIVEN_EITHER
        length = 1 if rng.random() < 0.3 else 2
        return surname + "".join(rng.choice(pool) for _ in range(length))

    def address(self, county: County) -> str:
        rng = self.rng
        street = f"{county.full_name}{rng.choice(STREETS)}{rng.randint(1, 999)}号"
        if rng.random() < 0.7:
            street += f"{rng.randint(1, 30)}幢{rng.randint(1, 6)}单元{rng.randint(1, 28)}{rng.randint(1, 4):02d}室"
        return street

    # --- entities ---------------------------------------------------------------------------------

    def entity(self, representative: PersonData) -> EntityData:
        """An entity represented by ``representative`` (an adult of the population), in their county
        most of the time, established after they turned 18."""
        rng = self.rng
        entity_type = _weighted(rng, ENTITY_TYPE_WEIGHTS)
        home = self._by_code.get(representative.division_code)
        county = home if home is not None and rng.random() < 0.7 else rng.choice(self.counties)
        earliest = max(_add_years(representative.birth_date, 18), ESTABLISHED_FIRST)
        established = earliest + dt.timedelta(days=rng.randrange((ESTABLISHED_LAST - earliest).days + 1))
        name, scope = self._entity_name(entity_type, county)
        prefix = USCC_PREFIX[EntityType(entity_type)]
        uscc = build_uscc(prefix, county.code, self._org_body(established, market=prefix.startswith("9")))
        return EntityData(
            uscc=uscc,
            name=name,
            entity_type=entity_type,
            legal_representative=representative.name,
            legal_representative_id_number=representative.id_number,
            registered_address=self.address(county),
            division_code=county.code,
            established=established,
            business_scope=scope,
            status=_weighted(rng, STATUS_WEIGHTS),
        )

    def _org_body(self, established: dt.date, *, market: bool) -> str:
        rng = self.rng
        letters_and_digits = USCC_CHARSET  # GB 11714 allows capitals; only those USCC can carry are used
        while True:
            if market and established >= NEW_CODES_FROM:
                body = "MA" + "".join(rng.choice(letters_and_digits) for _ in range(6))
            else:
                body = "".join(rng.choice("0123456789") for _ in range(8))
            if body not in self._org_bodies:
                self._org_bodies.add(body)
                return body

    def _trade_name(self, length: int) -> str:
        return "".join(self.rng.choice(TRADE_CHARS) for _ in range(length))

    def _entity_name(self, entity_type: str, county: County) -> tuple[str, str]:
        rng = self.rng
        for attempt in range(1000):
            # Names must be unique; after many collisions a longer trade name (字号) makes room.
            trade = self._trade_name(2 + attempt // 30)
            industry, scope = rng.choice(INDUSTRIES)
            scope += LICENSED
            if entity_type == EntityType.COMPANY:
                name = f"{county.city}{trade}{industry}有限公司"
            elif entity_type == EntityType.JOINT_STOCK:
                name = f"{county.city}{trade}{industry}股份有限公司"
            elif entity_type == EntityType.PARTNERSHIP:
                name = f"{county.city}{trade}{industry}合伙企业（有限合伙）"
            elif entity_type == EntityType.SOLE_PROPRIETOR:
                shop, scope = rng.choice(SHOPS)
                name = f"{county.city}市{county.name}{trade}{shop}"
            elif entity_type == EntityType.COOPERATIVE:
                crop = rng.choice(CROPS)
                name = f"{county.city}市{county.name}{trade}{crop}专业合作社"
                scope = f"组织收购、销售成员生产的{crop}产品；引进新技术、新品种，开展技术培训与信息服务。"
            elif entity_type == EntityType.INSTITUTION:
                kind = rng.choice(INSTITUTIONS)
                name = f"{county.city}市{county.name}{trade}{kind}"
                scope = f"承担{kind}的公益服务职能。"
            else:
                field = rng.choice(ASSOCIATIONS)
                name = f"{county.city}市{trade}{field}协会"
                scope = "行业自律、交流合作、业务培训、咨询服务。"
            if name not in self._entity_names:
                self._entity_names.add(name)
                return name, scope
        raise RuntimeError("could not find an unused entity name")  # pragma: no cover - 1000 tries of 1000s


# --- writing ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GenerationReport:
    people: BulkResult
    entities: BulkResult


def _batches(total: int, size: int) -> Iterator[int]:
    for start in range(0, total, size):
        yield min(size, total - start)


def generate_registers(
    *,
    actor: Actor,
    people: int,
    entities: int,
    seed: int,
    batch_size: int = 2000,
    progress: bool = False,
    counties: Sequence[County] | None = None,
) -> GenerationReport:
    """Write ``people`` people and ``entities`` entities made from ``seed`` through the bulk services
    (one transaction and one audit record per batch). Records already in the registers are skipped."""
    if people < 0 or entities < 0 or batch_size < 1:
        raise InvalidInput(_("The counts must not be negative and the batch size must be positive."))
    if entities and not people:
        raise InvalidInput(_("Entities need generated people as their legal representatives; ask for people too."))
    generator = RegisterGenerator(seed, load_counties() if counties is None else counties)
    from tqdm import tqdm

    def bar(total: int, unit: str, desc: str) -> tqdm:
        return tqdm(total=total, unit=unit, desc=desc, file=sys.stderr, disable=not progress)

    # Adults old enough to have represented an entity by the end of the window.
    adult_born_by = _add_years(ESTABLISHED_LAST, -18)
    representatives: list[PersonData] = []
    created = skipped = 0
    with bar(people, str(_("people")), str(_("Population register"))) as people_bar:
        for size in _batches(people, batch_size):
            batch = [generator.person() for _ in range(size)]
            representatives.extend(p for p in batch if p.birth_date <= adult_born_by)
            result = services.bulk_create_people(actor=actor, people=batch)
            created, skipped = created + result.created, skipped + result.skipped
            people_bar.update(size)
    people_result = BulkResult(created, skipped)
    if entities and not representatives:
        raise InvalidInput(_("None of the generated people is an adult who could represent an entity."))

    created = skipped = 0
    with bar(entities, str(_("entities")), str(_("Legal-entity register"))) as entities_bar:
        for size in _batches(entities, batch_size):
            chosen = [generator.rng.choice(representatives) for _ in range(size)]
            entity_batch = [generator.entity(rep) for rep in _as_registered(chosen)]
            result = services.bulk_create_entities(actor=actor, entities=entity_batch)
            created, skipped = created + result.created, skipped + result.skipped
            entities_bar.update(size)
    return GenerationReport(people_result, BulkResult(created, skipped))


def _as_registered(chosen: list[PersonData]) -> list[PersonData]:
    """The representatives under the names the population register holds for their ID numbers.

    A generated ID number that was already registered (by the demo set, or by a run with another seed)
    was skipped, not overwritten; an entity must name the person the register knows.
    """
    registered = selectors.registered_names([p.id_number for p in chosen])
    return [replace(p, name=registered.get(p.id_number, p.name)) for p in chosen]
