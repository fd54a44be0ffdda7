"""CPSV-AP 3.2 export of implementation items (STANDARDS.md §11).

Every implementation item becomes one ``cpsv:PublicService`` with the classes the official SEMIC shapes
(``cpsv-ap-SHACL-3.2.0.ttl``) constrain around it: the implementing body is the competent authority
(``cv:PublicOrganisation`` with a ``dct:spatial`` region, as ``PublicOrganisationShape`` requires),
conditions are ``cv:Requirement``, materials are ``cv:Evidence`` conforming to a ``cv:EvidenceType``
(the pairing of the official 3.2 example), results are ``cv:Output``, fees ``cv:Cost``, the legal basis
``eli:LegalResource``, handling forms ``cv:Channel``, themes ``cv:LifeEvent`` / ``cv:BusinessEvent``.

The shapes check ``sh:class`` against ``rdf:type`` in the data graph, so every node an object property
points at is typed explicitly here, including the code-list values (``skos:Concept`` with a label and a
scheme) and the EU authority values (currency CNY, language ZHO) that are reused.

What CPSV-AP cannot say goes into the Yiwang extension namespace ``yw:``. The main case is time:
``cv:processingTime`` is an ``xsd:duration``, and a working day (工作日, STANDARDS.md §6) has no fixed length
in a duration — it depends on the State Council's holiday notice — so working-day limits are exported
as integers (``yw:statutoryWorkingDays`` / ``yw:promisedWorkingDays``) and only calendar units become a
``cv:processingTime``.

IRIs are derived from codes (or from stable hashes of names where no code exists), never from database
ids or counters shared between items, so exporting the same items twice yields the same graph.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal
from urllib.parse import quote, urlsplit

from rdflib import Graph, Namespace, URIRef
from rdflib import Literal as RdfLiteral
from rdflib.namespace import DCTERMS, FOAF, ORG, RDF, RDFS, SKOS, TIME, XSD

CPSV = Namespace("http://purl.org/vocab/cpsv#")
CV = Namespace("http://data.europa.eu/m8g/")
ELI = Namespace("http://data.europa.eu/eli/ontology#")
LOCN = Namespace("http://www.w3.org/ns/locn#")
YW = Namespace("https://yiwang.example/ns#")

# EU Publications Office authority tables, the code lists CPSV-AP recommends for currency and language.
CURRENCY_SCHEME = URIRef("http://publications.europa.eu/resource/authority/currency")
CURRENCY_CNY = URIRef("http://publications.europa.eu/resource/authority/currency/CNY")
LANGUAGE_ZHO = URIRef("http://publications.europa.eu/resource/authority/language/ZHO")

PREFIXES: dict[str, Namespace] = {
    "cpsv": CPSV,
    "cv": CV,
    "dct": Namespace(str(DCTERMS)),
    "eli": ELI,
    "foaf": Namespace(str(FOAF)),
    "locn": LOCN,
    "org": Namespace(str(ORG)),
    "rdfs": Namespace(str(RDFS)),
    "skos": Namespace(str(SKOS)),
    "time": Namespace(str(TIME)),
    "xsd": Namespace(str(XSD)),
    "yw": YW,
}

ZH = "zh"

# Code sets (GB/T 39046-2020 Appendix A, STANDARDS.md §1), with the Chinese labels the standard uses.
# Each entry: scheme slug -> (scheme title, {code: label}).
CODE_LISTS: dict[str, tuple[str, dict[str, str]]] = {
    "item-type": (
        "事项类型",
        {
            "00": "行政权力事项",
            "01": "行政许可",
            "02": "行政处罚",
            "03": "行政强制",
            "04": "行政征收",
            "05": "行政给付",
            "06": "行政检查",
            "07": "行政确认",
            "08": "行政奖励",
            "09": "行政裁决",
            "10": "其他类别",
            "20": "公共服务事项",
        },
    ),
    "exercise-level": (
        "行使层级",
        {
            "1": "国家级",
            "2": "省级",
            "3": "市级",
            "4": "县级",
            "5": "镇(乡、街道)级",
            "6": "村(社区)级",
            "7": "分级管理",
        },
    ),
    "body-nature": ("实施主体性质", {"1": "法定机关", "2": "授权组织", "3": "受委托组织", "9": "其他"}),
    "service-object": (
        "服务对象",
        {
            "1": "自然人",
            "2": "企业法人",
            "3": "事业法人",
            "4": "社会组织法人",
            "5": "行政机关",
            "6": "其他组织",
        },
    ),
    "handling-form": (
        "办理形式",
        {
            "1": "窗口办理",
            "2": "电脑端网上办理",
            "3": "移动端网上申请",
            "4": "快递申请",
            "9": "其他",
        },
    ),
    "case-type": ("办件类型", {"1": "即办件", "2": "承诺件", "9": "其他"}),
    "material-source": (
        "材料来源渠道",
        {
            "applicant": "申请人自备",
            "government": "政府部门核发",
            "intermediary": "中介机构出具",
            "other": "其他",
        },
    ),
    "material-medium": ("材料形式", {"paper": "纸质", "electronic": "电子", "either": "纸质或电子"}),
    "result-kind": ("办理结果类型", {"licence": "证照", "approval_document": "批文", "other": "其他"}),
    "participation-role": (
        "参与办理角色",
        {
            "handling": "承办机构",
            "entrusting": "委托部门",
            "co-implementing": "共同实施部门",
        },
    ),
    "legal-basis-role": (
        "依据类型",
        {
            "establishing": "设定依据",
            "implementing": "实施依据",
            "supervising": "监管依据",
        },
    ),
}

TIME_UNIT_LABELS = {
    "immediate": "即办",
    "working_day": "工作日",
    "natural_day": "自然日",
    "month": "月",
    "year": "年",
}

_CLAUSE_END = "。；;，,. "
_MAX_TITLE = 60
_MAX_CONDITIONS_SUMMARY = 300


@dataclass(frozen=True)
class ExportItem:
    """One published item version to export: its content in the exchange format plus version facts."""

    content: dict[str, Any]
    version: int
    published_at: datetime | None
    department_name_en: str = ""
    region_name: str = ""


def build_graph(items: Iterable[ExportItem], *, base_uri: str) -> Graph:
    """Map the items onto CPSV-AP 3.2; the result conforms to the official SHACL shapes."""
    graph = Graph(bind_namespaces="none")
    for prefix, namespace in PREFIXES.items():
        graph.bind(prefix, namespace)
    builder = _Builder(graph, base_uri.rstrip("/"))
    for item in items:
        builder.add_item(item)
    return graph


def serialise(items: Iterable[ExportItem], *, base_uri: str, fmt: Literal["turtle", "json-ld"]) -> str:
    """Turtle or JSON-LD text of :func:`build_graph`, stable for the same input."""
    graph = build_graph(items, base_uri=base_uri)
    if fmt == "turtle":
        return graph.serialize(format="turtle")
    if fmt == "json-ld":
        context = {prefix: str(namespace) for prefix, namespace in PREFIXES.items()}
        text = graph.serialize(format="json-ld", context=context, auto_compact=True)
        # rdflib emits nodes and values in set order, which varies with hash seeds; JSON-LD node
        # objects and non-@list values are unordered, so sorting them keeps the meaning and the
        # output stable between runs.
        document = _sorted_jsonld(json.loads(text))
        return json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    raise ValueError(f"unsupported format: {fmt!r}")


# --- internals ------------------------------------------------------------------------------------


def _sorted_jsonld(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: (value[key] if key == "@list" else _sorted_jsonld(value[key])) for key in value}
    if isinstance(value, list):
        return sorted((_sorted_jsonld(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
    return value


def _digest(*parts: str, length: int = 16) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:length]


def _segment(text: str) -> str:
    return quote(text, safe="")


def _clause(text: str) -> str:
    return text.strip().rstrip(_CLAUSE_END)


def _short_title(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _MAX_TITLE else text[: _MAX_TITLE - 1] + "…"


def _zh(text: str) -> RdfLiteral:
    return RdfLiteral(text, lang=ZH)


def _str(mapping: Mapping[str, Any], key: str) -> str:
    value = mapping.get(key)
    return value.strip() if isinstance(value, str) else ""


def _list(mapping: Mapping[str, Any], key: str) -> list[Any]:
    value = mapping.get(key)
    return value if isinstance(value, list) else []


def _dict(mapping: Mapping[str, Any], key: str) -> dict[str, Any]:
    value = mapping.get(key)
    return value if isinstance(value, dict) else {}


def service_identifier(content: Mapping[str, Any]) -> str:
    """The implementation code; without one, a stable id from the fields that identify the item."""
    code = _str(content, "implementation_code")
    if code:
        return code
    body = _dict(content, "implementing_body")
    return "yw-" + _digest(
        _str(content, "basic_code"),
        _str(content, "handling_item_code"),
        _str(content, "name"),
        _str(content, "handling_item_name"),
        _str(body, "uscc") or _str(body, "name"),
        _str(content, "region_code"),
        length=20,
    )


def duration_of(limit: Mapping[str, Any]) -> str | None:
    """An ``xsd:duration`` for calendar units; ``None`` for working days, which have no fixed length."""
    unit = limit.get("unit")
    if unit == "immediate":
        return "PT0S"
    value = limit.get("value")
    if not isinstance(value, int) or isinstance(value, bool):
        return None
    designator = {"natural_day": "D", "month": "M", "year": "Y"}.get(str(unit))
    return f"P{value}{designator}" if designator else None


class _Builder:
    def __init__(self, graph: Graph, base: str) -> None:
        self.g = graph
        self.base = base

    # -- shared nodes ------------------------------------------------------------------------------

    def concept(self, scheme: str, code: str) -> URIRef:
        scheme_title, labels = CODE_LISTS[scheme]
        scheme_iri = URIRef(f"{self.base}/catalogue/codes/{scheme}")
        iri = URIRef(f"{scheme_iri}/{_segment(code)}")
        self.g.add((scheme_iri, RDF.type, SKOS.ConceptScheme))
        self.g.add((scheme_iri, DCTERMS.title, _zh(scheme_title)))
        self.g.add((iri, RDF.type, SKOS.Concept))
        self.g.add((iri, SKOS.prefLabel, _zh(labels.get(code, code))))
        self.g.add((iri, SKOS.notation, RdfLiteral(code)))
        self.g.add((iri, SKOS.inScheme, scheme_iri))
        return iri

    def currency_cny(self) -> URIRef:
        self.g.add((CURRENCY_SCHEME, RDF.type, SKOS.ConceptScheme))
        self.g.add((CURRENCY_CNY, RDF.type, SKOS.Concept))
        self.g.add((CURRENCY_CNY, SKOS.prefLabel, _zh("人民币")))
        self.g.add((CURRENCY_CNY, SKOS.prefLabel, RdfLiteral("Yuan Renminbi", lang="en")))
        self.g.add((CURRENCY_CNY, SKOS.notation, RdfLiteral("CNY")))
        self.g.add((CURRENCY_CNY, SKOS.inScheme, CURRENCY_SCHEME))
        return CURRENCY_CNY

    def language_zho(self) -> URIRef:
        self.g.add((LANGUAGE_ZHO, RDF.type, DCTERMS.LinguisticSystem))
        return LANGUAGE_ZHO

    def location(self, region_code: str, region_name: str) -> URIRef:
        iri = URIRef(f"{self.base}/catalogue/regions/{_segment(region_code)}")
        self.g.add((iri, RDF.type, DCTERMS.Location))
        self.g.add((iri, DCTERMS.identifier, RdfLiteral(region_code)))
        if region_name:
            self.g.add((iri, LOCN.geographicName, _zh(region_name)))
        return iri

    def organisation(self, body: Mapping[str, Any], *, name_en: str = "") -> URIRef:
        """An organisation keyed by its USCC (or name), typed for every shape that may reference it."""
        name = _str(body, "name")
        uscc = _str(body, "uscc").upper()
        identifier = uscc or "yw-org-" + _digest(name)
        iri = URIRef(f"{self.base}/catalogue/organisations/{_segment(identifier)}")
        g = self.g
        # foaf:Agent for cv:hasParticipant, org:Organization for cv:ownedBy (sh:class checks rdf:type).
        g.add((iri, RDF.type, FOAF.Agent))
        g.add((iri, RDF.type, ORG.Organization))
        g.add((iri, DCTERMS.identifier, RdfLiteral(identifier)))
        g.add((iri, DCTERMS.title, _zh(name)))
        g.add((iri, SKOS.prefLabel, _zh(name)))
        if name_en:
            g.add((iri, SKOS.prefLabel, RdfLiteral(name_en, lang="en")))
        nature = _str(body, "nature")
        if nature:
            g.add((iri, YW.bodyNature, self.concept("body-nature", nature)))
        return iri

    def event(self, kind: Literal["life", "business"], title: str, service: URIRef) -> URIRef:
        iri = URIRef(f"{self.base}/catalogue/{kind}-events/{_digest(title)}")
        g = self.g
        g.add((iri, RDF.type, CV.Event))
        g.add((iri, RDF.type, CV.LifeEvent if kind == "life" else CV.BusinessEvent))
        g.add((iri, DCTERMS.identifier, RdfLiteral(f"yw-{kind}-event-{_digest(title)}")))
        g.add((iri, DCTERMS.title, _zh(title)))
        g.add((iri, CV.hasRelatedService, service))
        return iri

    # -- one item ----------------------------------------------------------------------------------

    def add_item(self, item: ExportItem) -> URIRef:
        c = item.content
        g = self.g
        code = service_identifier(c)
        svc = URIRef(f"{self.base}/catalogue/items/{_segment(code)}")
        name = _str(c, "name")
        handling_item_name = _str(c, "handling_item_name")
        title = f"{name}（{handling_item_name}）" if handling_item_name else name

        g.add((svc, RDF.type, CPSV.PublicService))
        g.add((svc, DCTERMS.identifier, RdfLiteral(code)))
        g.add((svc, DCTERMS.title, _zh(title)))
        g.add((svc, DCTERMS.description, _zh(self.description(c, title))))
        g.add((svc, DCTERMS.language, self.language_zho()))

        region = self.location(_str(c, "region_code"), item.region_name)
        g.add((svc, DCTERMS.spatial, region))
        authority = self.organisation(_dict(c, "implementing_body"), name_en=item.department_name_en)
        g.add((authority, RDF.type, CV.PublicOrganisation))
        g.add((authority, DCTERMS.spatial, region))
        g.add((svc, CV.hasCompetentAuthority, authority))

        item_type = _str(c, "item_type")
        if item_type:
            g.add((svc, DCTERMS.type, self.concept("item-type", item_type)))
        for obj in _list(c, "service_objects"):
            g.add((svc, DCTERMS.audience, self.concept("service-object", str(obj))))
        themes = _dict(c, "themes")
        for theme in _list(themes, "natural_person"):
            g.add((svc, CV.isGroupedBy, self.event("life", str(theme), svc)))
        for theme in _list(themes, "legal_person"):
            g.add((svc, CV.isGroupedBy, self.event("business", str(theme), svc)))

        self.add_participations(svc, code, c)
        self.add_requirements(svc, code, c)
        self.add_materials(svc, code, c)
        self.add_outputs(svc, code, c)
        self.add_costs(svc, code, c)
        self.add_legal_resources(svc, code, c)
        self.add_contact_points(svc, c)
        self.add_channels(svc, code, c, authority)
        self.add_time_limits(svc, c)
        self.add_extensions(svc, item)
        return svc

    def description(self, c: Mapping[str, Any], title: str) -> str:
        parts = [f"{title}。"]
        body = _str(_dict(c, "implementing_body"), "name")
        if body:
            parts.append(f"实施主体：{body}。")
        item_type = _str(c, "item_type")
        if item_type in CODE_LISTS["item-type"][1]:
            parts.append(f"事项类型：{CODE_LISTS['item-type'][1][item_type]}。")
        conditions = [_clause(_str(cond, "text")) for cond in _list(c, "conditions") if isinstance(cond, dict)]
        summary = "；".join(text for text in conditions if text)
        if summary:
            if len(summary) > _MAX_CONDITIONS_SUMMARY:
                summary = summary[: _MAX_CONDITIONS_SUMMARY - 1] + "…"
            parts.append(f"受理条件：{summary}。")
        return "".join(parts)

    def add_participations(self, svc: URIRef, code: str, c: Mapping[str, Any]) -> None:
        bodies: list[tuple[str, dict[str, Any]]] = []
        if _dict(c, "handling_body"):
            bodies.append(("handling", _dict(c, "handling_body")))
        if _dict(c, "entrusting_body"):
            bodies.append(("entrusting", _dict(c, "entrusting_body")))
        bodies.extend(
            ("co-implementing", body) for body in _list(c, "co_implementing_bodies") if isinstance(body, dict)
        )
        g = self.g
        for n, (role, body) in enumerate(bodies, start=1):
            iri = URIRef(f"{svc}/participations/{n}")
            g.add((iri, RDF.type, CV.Participation))
            g.add((iri, DCTERMS.identifier, RdfLiteral(f"{code}-participation-{n}")))
            role_label = CODE_LISTS["participation-role"][1][role]
            g.add((iri, DCTERMS.description, _zh(f"{role_label}：{_str(body, 'name')}")))
            g.add((iri, CV.role, self.concept("participation-role", role)))
            g.add((iri, CV.hasParticipant, self.organisation(body)))
            g.add((svc, CV.hasParticipation, iri))

    def add_requirements(self, svc: URIRef, code: str, c: Mapping[str, Any]) -> None:
        g = self.g
        conditions = [cond for cond in _list(c, "conditions") if isinstance(cond, dict)]
        for n, cond in enumerate(conditions, start=1):
            text = _str(cond, "text")
            iri = URIRef(f"{svc}/requirements/{n}")
            g.add((iri, RDF.type, CV.Requirement))
            g.add((iri, DCTERMS.identifier, RdfLiteral(f"{code}-requirement-{n}")))
            g.add((iri, DCTERMS.title, _zh(_short_title(_clause(text)) or f"受理条件{n}")))
            if text:
                g.add((iri, DCTERMS.description, _zh(text)))
            business_type = _str(cond, "business_type")
            if business_type:
                g.add((iri, YW.businessType, _zh(business_type)))
            g.add((svc, CV.holdsRequirement, iri))

    def add_materials(self, svc: URIRef, code: str, c: Mapping[str, Any]) -> None:
        g = self.g
        materials = [m for m in _list(c, "materials") if isinstance(m, dict)]
        for n, material in enumerate(materials, start=1):
            name = _str(material, "name")
            evidence = URIRef(f"{svc}/evidence/{n}")
            evidence_type = URIRef(f"{svc}/evidence-types/{n}")

            g.add((evidence_type, RDF.type, CV.EvidenceType))
            g.add((evidence_type, DCTERMS.identifier, RdfLiteral(f"{code}-evidence-type-{n}")))
            g.add((evidence_type, DCTERMS.title, _zh(name)))
            source = _str(material, "source")
            if source:
                g.add((evidence_type, CV.evidenceTypeClassification, self.concept("material-source", source)))
            if _str(material, "licence_type_code"):
                g.add((evidence_type, YW.licenceTypeCode, RdfLiteral(_str(material, "licence_type_code"))))
            if _str(material, "shared_resource"):
                g.add((evidence_type, YW.sharedResource, _zh(_str(material, "shared_resource"))))
            g.add((svc, CV.hasInputType, evidence_type))

            g.add((evidence, RDF.type, CV.Evidence))
            g.add((evidence, DCTERMS.identifier, RdfLiteral(f"{code}-evidence-{n}")))
            g.add((evidence, DCTERMS.title, _zh(name)))
            g.add((evidence, DCTERMS.description, _zh(self.material_description(material))))
            g.add((evidence, DCTERMS.conformsTo, evidence_type))
            medium = _str(material, "medium")
            if medium:
                g.add((evidence, DCTERMS.type, self.concept("material-medium", medium)))
            for key, prop in (("originals", YW.originals), ("copies", YW.copies)):
                count = material.get(key)
                if isinstance(count, int) and not isinstance(count, bool):
                    g.add((evidence, prop, RdfLiteral(count, datatype=XSD.integer)))
            if isinstance(material.get("required"), bool):
                g.add((evidence, YW.mandatory, RdfLiteral(material["required"])))
            g.add((svc, CPSV.hasInput, evidence))

    @staticmethod
    def material_description(material: Mapping[str, Any]) -> str:
        parts: list[str] = []
        originals, copies = material.get("originals"), material.get("copies")
        if isinstance(originals, int) or isinstance(copies, int):
            parts.append(
                f"原件{originals if isinstance(originals, int) else 0}份，"
                f"复印件{copies if isinstance(copies, int) else 0}份"
            )
        required = material.get("required")
        if isinstance(required, bool):
            parts.append("必备" if required else "非必备（视情况提交）")
        medium = _str(material, "medium")
        if medium in CODE_LISTS["material-medium"][1]:
            parts.append(f"材料形式：{CODE_LISTS['material-medium'][1][medium]}")
        if _str(material, "issuing_body"):
            parts.append(f"出具机构：{_clause(_str(material, 'issuing_body'))}")
        if _str(material, "requirements"):
            parts.append(f"要求：{_clause(_str(material, 'requirements'))}")
        if _str(material, "legal_basis"):
            parts.append(f"依据：{_clause(_str(material, 'legal_basis'))}")
        business_types = [str(t) for t in _list(material, "business_types") if t]
        if business_types:
            parts.append(f"适用情形：{'、'.join(business_types)}")
        return "；".join(parts) + "。" if parts else f"{_str(material, 'name')}。"

    def add_outputs(self, svc: URIRef, code: str, c: Mapping[str, Any]) -> None:
        g = self.g
        results = [r for r in _list(c, "results") if isinstance(r, dict)]
        for n, result in enumerate(results, start=1):
            iri = URIRef(f"{svc}/outputs/{n}")
            g.add((iri, RDF.type, CV.Output))
            g.add((iri, DCTERMS.identifier, RdfLiteral(f"{code}-output-{n}")))
            g.add((iri, DCTERMS.title, _zh(_str(result, "name"))))
            kind = _str(result, "kind")
            if kind:
                g.add((iri, DCTERMS.type, self.concept("result-kind", kind)))
            if _str(result, "licence_type_code"):
                g.add((iri, YW.licenceTypeCode, RdfLiteral(_str(result, "licence_type_code"))))
            if _str(result, "sample"):
                g.add((iri, YW.resultSample, _zh(_str(result, "sample"))))
            g.add((svc, CPSV.produces, iri))

    def add_costs(self, svc: URIRef, code: str, c: Mapping[str, Any]) -> None:
        g = self.g
        fees = _dict(c, "fees")
        charged = fees.get("charged")
        if not isinstance(charged, bool):
            return
        g.add((svc, YW.feeCharged, RdfLiteral(charged)))
        basis = _clause(_str(fees, "basis"))
        text = _clause(_str(fees, "text"))
        # (description, amount) per cv:Cost; a free item still gets one, valued 0, saying 不收费 (Q3).
        costs: list[tuple[str, Decimal | None]] = []
        if not charged:
            costs.append((f"{text or '不收费'}。", Decimal(0)))
        else:
            for fee in _list(fees, "items"):
                if not isinstance(fee, dict):
                    continue
                amount = _amount(_str(fee, "amount_yuan"))
                line = f"{_clause(_str(fee, 'name'))}：{_str(fee, 'amount_yuan')}元"
                fee_basis = _clause(_str(fee, "basis")) or basis
                if fee_basis:
                    line += f"；收费依据：{fee_basis}"
                costs.append((line + "。", amount))
            if not costs:
                summary = "；".join(p for p in (text or "收费", f"收费依据：{basis}" if basis else "") if p)
                costs.append((summary + "。", None))
        cny = self.currency_cny()
        for n, (description, amount) in enumerate(costs, start=1):
            iri = URIRef(f"{svc}/costs/{n}")
            g.add((iri, RDF.type, CV.Cost))
            g.add((iri, DCTERMS.identifier, RdfLiteral(f"{code}-cost-{n}")))
            g.add((iri, DCTERMS.description, _zh(description)))
            g.add((iri, CV.currency, cny))
            if amount is not None:
                g.add((iri, CV.hasValue, RdfLiteral(float(amount), datatype=XSD.double)))
            g.add((svc, CV.hasCost, iri))

    def add_legal_resources(self, svc: URIRef, code: str, c: Mapping[str, Any]) -> None:
        g = self.g
        references = [r for r in _list(c, "legal_basis") if isinstance(r, dict)]
        for n, ref in enumerate(references, start=1):
            iri = URIRef(f"{svc}/legal-resources/{n}")
            g.add((iri, RDF.type, ELI.LegalResource))
            g.add((iri, DCTERMS.identifier, RdfLiteral(f"{code}-legal-resource-{n}")))
            title = _str(ref, "title")
            articles = _str(ref, "articles")
            g.add((iri, DCTERMS.title, _zh(f"{title}{articles}")))
            if articles:
                g.add((iri, YW.articles, _zh(articles)))
            if _str(ref, "text"):
                g.add((iri, DCTERMS.description, _zh(_str(ref, "text"))))
            role = _str(ref, "role")
            if role:
                g.add((iri, YW.basisRole, self.concept("legal-basis-role", role)))
            g.add((svc, CV.hasLegalResource, iri))

    def add_contact_points(self, svc: URIRef, c: Mapping[str, Any]) -> None:
        g = self.g
        contacts = _dict(c, "contacts")
        for key, label in (
            ("consultation_phone", "咨询电话"),
            ("supervision_phone", "监督投诉电话"),
            ("other", "其他联系方式"),
        ):
            value = _str(contacts, key)
            if not value:
                continue
            iri = URIRef(f"{svc}/contact-points/{key.removesuffix('_phone')}")
            g.add((iri, RDF.type, CV.ContactPoint))
            if key == "other":
                g.add((iri, DCTERMS.description, _zh(f"{label}：{value}")))
            else:
                g.add((iri, DCTERMS.description, _zh(label)))
                g.add((iri, CV.telephone, RdfLiteral(value)))
            g.add((svc, CV.contactPoint, iri))

    def add_channels(self, svc: URIRef, code: str, c: Mapping[str, Any], owner: URIRef) -> None:
        g = self.g
        location, hours = _str(c, "location"), _str(c, "hours")
        url = _str(_dict(c, "online"), "url")
        forms = list(dict.fromkeys(str(f) for f in _list(c, "handling_forms")))
        placed_location = placed_hours = False
        for form in forms:
            iri = URIRef(f"{svc}/channels/{_segment(form)}")
            g.add((iri, RDF.type, CV.Channel))
            g.add((iri, DCTERMS.identifier, RdfLiteral(f"{code}-channel-{form}")))
            g.add((iri, DCTERMS.type, self.concept("handling-form", form)))
            g.add((iri, CV.ownedBy, owner))
            parts = [CODE_LISTS["handling-form"][1].get(form, form)]
            if form == "1" and location:
                parts.append(f"办理地点：{location}")
                placed_location = True
            if form == "1" and hours:
                opening = URIRef(f"{svc}/opening-hours")
                g.add((opening, RDF.type, TIME.TemporalEntity))
                g.add((opening, DCTERMS.description, _zh(hours)))
                g.add((iri, CV.openingHours, opening))
                placed_hours = True
            if form in {"2", "3"} and url:
                parts.append(f"网办地址：{url}")
                if urlsplit(url).scheme in {"http", "https"}:
                    g.add((iri, RDFS.seeAlso, URIRef(url)))
            g.add((iri, DCTERMS.description, _zh("；".join(parts))))
            g.add((svc, CV.hasChannel, iri))
        # Without a window channel the place and hours would be lost; keep them on the service.
        if location and not placed_location:
            g.add((svc, YW.handlingLocation, _zh(location)))
        if hours and not placed_hours:
            g.add((svc, YW.handlingHours, _zh(hours)))

    def add_time_limits(self, svc: URIRef, c: Mapping[str, Any]) -> None:
        g = self.g
        limits = _dict(c, "time_limits")
        for kind in ("statutory", "promised"):
            limit = _dict(limits, kind)
            unit = _str(limit, "unit")
            if not unit:
                continue
            node = URIRef(f"{svc}/time-limits/{kind}")
            g.add((node, RDF.type, YW.TimeLimit))
            g.add((node, YW.timeLimitUnit, RdfLiteral(unit)))
            g.add((node, RDFS.label, _zh(f"{'法定' if kind == 'statutory' else '承诺'}办结时限")))
            value = limit.get("value")
            has_value = isinstance(value, int) and not isinstance(value, bool)
            if has_value:
                g.add((node, YW.timeLimitValue, RdfLiteral(value, datatype=XSD.integer)))
            if _str(limit, "note"):
                g.add((node, RDFS.comment, _zh(_str(limit, "note"))))
            duration = duration_of(limit)
            if duration:
                g.add((node, YW.duration, RdfLiteral(duration, datatype=XSD.duration)))
            if unit == "working_day" and has_value:
                prop = YW.statutoryWorkingDays if kind == "statutory" else YW.promisedWorkingDays
                g.add((svc, prop, RdfLiteral(value, datatype=XSD.integer)))
            g.add((svc, YW.statutoryTimeLimit if kind == "statutory" else YW.promisedTimeLimit, node))

        # cv:processingTime (max 1): what the applicant is promised, else the statutory limit — and only
        # when that limit has a calendar length.
        effective = _dict(limits, "promised") or _dict(limits, "statutory")
        duration = duration_of(effective) if effective else None
        if duration:
            g.add((svc, CV.processingTime, RdfLiteral(duration, datatype=XSD.duration)))
        if _str(effective, "unit") == "immediate" or _str(c, "case_type") == "1":
            g.add((svc, YW.immediate, RdfLiteral(True)))

    def add_extensions(self, svc: URIRef, item: ExportItem) -> None:
        g = self.g
        c = item.content
        g.add((svc, YW.version, RdfLiteral(item.version, datatype=XSD.integer)))
        if item.published_at is not None:
            g.add((svc, DCTERMS.issued, RdfLiteral(item.published_at.isoformat(), datatype=XSD.dateTime)))
        for key, prop in (
            ("basic_code", YW.basicCode),
            ("handling_item_code", YW.handlingItemCode),
            ("cross_region_scope", YW.crossRegionScope),
        ):
            if _str(c, key):
                g.add((svc, prop, RdfLiteral(_str(c, key))))
        if _str(c, "handling_item_name"):
            g.add((svc, YW.handlingItemName, _zh(_str(c, "handling_item_name"))))
        if _str(c, "exercise_level"):
            g.add((svc, YW.exerciseLevel, self.concept("exercise-level", _str(c, "exercise_level"))))
        if _str(c, "case_type"):
            g.add((svc, YW.caseType, self.concept("case-type", _str(c, "case_type"))))
        depth = _str(_dict(c, "online"), "depth")
        if depth:
            g.add((svc, YW.onlineDepth, RdfLiteral(depth)))
        visits = c.get("max_visits")
        if isinstance(visits, int) and not isinstance(visits, bool):
            g.add((svc, YW.maxVisits, RdfLiteral(visits, datatype=XSD.integer)))
        if _str(c, "visits_reason"):
            g.add((svc, YW.visitsReason, _zh(_str(c, "visits_reason"))))


def _amount(text: str) -> Decimal | None:
    try:
        return Decimal(text)
    except InvalidOperation:
        return None
