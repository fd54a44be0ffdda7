"""The CPSV-AP export validates against the official SEMIC 3.2.0 shapes and keeps Yiwang's extra facts.

No database: the export works on exchange-format content (``sample_items``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pyshacl import validate
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.compare import isomorphic
from rdflib.namespace import DCTERMS, RDF, SKOS

from yiwang.catalogue.cpsv import CPSV, CV, YW, ExportItem, build_graph, duration_of, serialise
from yiwang.catalogue.schema import schema_errors
from yiwang.catalogue.tests import sample_items

BASE = "https://yiwang.example"
# A plain Namespace: rdflib's XSD DefinedNamespace warns when pytest probes module attributes.
XSD = Namespace("http://www.w3.org/2001/XMLSchema#")
SHAPES_NAME = "cpsv-ap-SHACL-3.2.0.ttl"
# The shared copy next to the repository (STANDARDS.md §11), else the copy shipped with these tests.
SHARED_SHAPES = Path(__file__).resolve().parents[4].parent / "shared" / "data" / "cpsv-ap" / SHAPES_NAME
BUNDLED_SHAPES = Path(__file__).resolve().parent / "data" / SHAPES_NAME

PASSPORT = URIRef(f"{BASE}/catalogue/items/{sample_items.PASSPORT_CODE}")
CERTIFICATE = URIRef(f"{BASE}/catalogue/items/{sample_items.INSURANCE_CERTIFICATE_CODE}")


def shapes_path() -> Path:
    return SHARED_SHAPES if SHARED_SHAPES.is_file() else BUNDLED_SHAPES


@pytest.fixture(scope="module")
def shapes() -> Graph:
    return Graph().parse(shapes_path(), format="turtle")


@pytest.fixture
def graph() -> Graph:
    return build_graph(sample_items.export_items(), base_uri=BASE)


def shacl(data: Graph, shapes: Graph) -> tuple[bool, str]:
    conforms, _results, text = validate(data, shacl_graph=shapes, inference="none", abort_on_first=False)
    return bool(conforms), str(text)


def test_sample_items_are_valid_exchange_records() -> None:
    for item in sample_items.export_items():
        assert schema_errors(item.content) == []


def test_bundled_shapes_are_the_official_ones() -> None:
    if not SHARED_SHAPES.is_file():
        pytest.skip("shared shapes not present; the bundled copy is used")
    assert BUNDLED_SHAPES.read_bytes() == SHARED_SHAPES.read_bytes()


def test_export_conforms_to_cpsv_ap_shapes(graph: Graph, shapes: Graph) -> None:
    conforms, report = shacl(graph, shapes)
    assert conforms, report


def test_every_item_is_a_public_service_with_its_code(graph: Graph) -> None:
    services = set(graph.subjects(RDF.type, CPSV.PublicService))
    assert services == {PASSPORT, CERTIFICATE}
    assert graph.value(PASSPORT, DCTERMS.identifier) == Literal(sample_items.PASSPORT_CODE)
    assert graph.value(PASSPORT, DCTERMS.title) == Literal("普通护照签发（首次申领）", lang="zh")
    # Only Chinese titles: an English "translation" that is just the Chinese name would be misleading.
    titles = list(graph.objects(PASSPORT, DCTERMS.title))
    assert [t.language for t in titles if isinstance(t, Literal)] == ["zh"]
    assert "受理条件" in str(graph.value(PASSPORT, DCTERMS.description))


def test_competent_authority_is_the_implementing_body(graph: Graph) -> None:
    authority = graph.value(PASSPORT, CV.hasCompetentAuthority)
    assert authority == URIRef(f"{BASE}/catalogue/organisations/{sample_items.POLICE_USCC}")
    assert (authority, RDF.type, CV.PublicOrganisation) in graph
    assert graph.value(authority, DCTERMS.identifier) == Literal(sample_items.POLICE_USCC)
    labels = set(graph.objects(authority, SKOS.prefLabel))
    assert labels == {
        Literal("济宁市公安局", lang="zh"),
        Literal("Jining Municipal Public Security Bureau", lang="en"),
    }
    region = graph.value(authority, DCTERMS.spatial)
    assert (region, RDF.type, DCTERMS.Location) in graph
    assert graph.value(region, DCTERMS.identifier) == Literal("370800")


def test_working_day_limits_use_extension_properties(graph: Graph) -> None:
    assert graph.value(PASSPORT, YW.statutoryWorkingDays) == Literal(15, datatype=XSD.integer)
    assert graph.value(PASSPORT, YW.promisedWorkingDays) == Literal(7, datatype=XSD.integer)
    # A working day has no fixed length, so no xsd:duration is claimed for it.
    assert graph.value(PASSPORT, CV.processingTime) is None
    statutory = graph.value(PASSPORT, YW.statutoryTimeLimit)
    assert graph.value(statutory, YW.timeLimitUnit) == Literal("working_day")
    assert graph.value(PASSPORT, YW.immediate) is None


def test_immediate_item_is_marked_and_takes_no_time(graph: Graph) -> None:
    assert graph.value(CERTIFICATE, YW.immediate) == Literal(True)
    processing = graph.value(CERTIFICATE, CV.processingTime)
    assert isinstance(processing, Literal)
    assert processing.datatype == XSD.duration
    assert processing.value.total_seconds() == 0
    assert graph.value(CERTIFICATE, YW.statutoryWorkingDays) is None


@pytest.mark.parametrize(
    ("limit", "expected"),
    [
        ({"value": 20, "unit": "natural_day"}, "P20D"),
        ({"value": 1, "unit": "month"}, "P1M"),
        ({"value": 1, "unit": "year"}, "P1Y"),
        ({"unit": "immediate"}, "PT0S"),
        ({"value": 20, "unit": "working_day"}, None),
        ({"unit": "natural_day"}, None),
    ],
)
def test_calendar_units_become_durations(limit: dict[str, object], expected: str | None) -> None:
    assert duration_of(limit) == expected


def test_calendar_promised_limit_becomes_processing_time(shapes: Graph) -> None:
    item = sample_items.export_items()[0]
    item.content["time_limits"] = {
        "statutory": {"value": 60, "unit": "natural_day"},
        "promised": {"value": 1, "unit": "month"},
    }
    graph = build_graph([item], base_uri=BASE)
    processing = graph.value(PASSPORT, CV.processingTime)
    assert processing == Literal("P1M", datatype=XSD.duration)
    assert graph.value(PASSPORT, YW.promisedWorkingDays) is None
    conforms, report = shacl(graph, shapes)
    assert conforms, report


def test_fees_are_costs_in_cny(graph: Graph) -> None:
    costs = list(graph.objects(PASSPORT, CV.hasCost))
    assert len(costs) == 1
    assert graph.value(costs[0], CV.hasValue) == Literal(120.0, datatype=XSD.double)
    currency = graph.value(costs[0], CV.currency)
    assert (currency, RDF.type, SKOS.Concept) in graph
    assert graph.value(currency, SKOS.notation) == Literal("CNY")
    assert "收费依据" in str(graph.value(costs[0], DCTERMS.description))
    assert graph.value(PASSPORT, YW.feeCharged) == Literal(True)

    (free,) = graph.objects(CERTIFICATE, CV.hasCost)
    assert graph.value(free, CV.hasValue) == Literal(0.0, datatype=XSD.double)
    assert graph.value(free, DCTERMS.description) == Literal("不收费。", lang="zh")
    assert graph.value(CERTIFICATE, YW.feeCharged) == Literal(False)


def test_materials_conditions_results_and_legal_basis(graph: Graph) -> None:
    evidence = sorted(graph.objects(PASSPORT, CPSV.hasInput), key=str)
    assert len(evidence) == 3
    descriptions = [str(graph.value(e, DCTERMS.description)) for e in evidence]
    assert all("原件1份，复印件0份" in d for d in descriptions)
    for e in evidence:
        assert (PASSPORT, CV.hasInputType, graph.value(e, DCTERMS.conformsTo)) in graph
    assert len(list(graph.objects(PASSPORT, CV.holdsRequirement))) == 2
    (output,) = graph.objects(PASSPORT, CPSV.produces)
    assert graph.value(output, DCTERMS.title) == Literal("中华人民共和国普通护照", lang="zh")
    assert graph.value(graph.value(output, DCTERMS.type), SKOS.prefLabel) == Literal("证照", lang="zh")
    titles = {str(graph.value(r, DCTERMS.title)) for r in graph.objects(PASSPORT, CV.hasLegalResource)}
    assert titles == {"《中华人民共和国护照法》第四条", "《中华人民共和国护照法》第六条"}


def test_other_extension_properties(graph: Graph) -> None:
    assert graph.value(PASSPORT, YW.basicCode) == Literal("000115008000")
    assert graph.value(PASSPORT, YW.handlingItemCode) == Literal("00011500800001")
    assert graph.value(PASSPORT, YW.version) == Literal(3, datatype=XSD.integer)
    assert graph.value(PASSPORT, YW.onlineDepth) == Literal("II")
    assert graph.value(PASSPORT, YW.maxVisits) == Literal(1, datatype=XSD.integer)
    assert graph.value(CERTIFICATE, YW.maxVisits) == Literal(0, datatype=XSD.integer)


def test_item_without_implementation_code_gets_a_stable_identifier(shapes: Graph) -> None:
    item = sample_items.export_items()[1]
    del item.content["implementation_code"]
    first = build_graph([item], base_uri=BASE)
    next_version = ExportItem(content=dict(item.content), version=2, published_at=None)
    second = build_graph([next_version], base_uri=BASE)
    (service,) = first.subjects(RDF.type, CPSV.PublicService)
    assert set(second.subjects(RDF.type, CPSV.PublicService)) == {service}
    assert str(first.value(service, DCTERMS.identifier)).startswith("yw-")
    conforms, report = shacl(first, shapes)
    assert conforms, report


# rdflib's own JSON-LD parser still builds a ConjunctiveGraph internally.
@pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated:DeprecationWarning")
def test_json_ld_round_trips_to_the_same_graph(graph: Graph) -> None:
    text = serialise(sample_items.export_items(), base_uri=BASE, fmt="json-ld")
    parsed = Graph().parse(data=text, format="json-ld")
    assert isomorphic(parsed, graph)


def test_turtle_round_trips_to_the_same_graph(graph: Graph) -> None:
    text = serialise(sample_items.export_items(), base_uri=BASE, fmt="turtle")
    assert isomorphic(Graph().parse(data=text, format="turtle"), graph)


def test_export_text_is_stable_across_processes() -> None:
    # Set iteration order depends on the hash seed; the same items must still give the same bytes.
    script = (
        "import sys\n"
        "from yiwang.catalogue.cpsv import serialise\n"
        "from yiwang.catalogue.tests.sample_items import export_items\n"
        f"sys.stdout.write(serialise(export_items(), base_uri={BASE!r}, fmt=sys.argv[1]))\n"
    )
    src = str(Path(__file__).resolve().parents[3])
    for fmt in ("turtle", "json-ld"):
        outputs = {
            subprocess.run(
                [sys.executable, "-c", script, fmt],
                env={**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": src},
                capture_output=True,
                check=True,
                text=True,
                encoding="utf-8",
            ).stdout
            for seed in ("1", "2", "3")
        }
        assert len(outputs) == 1, fmt


def test_missing_competent_authority_fails_validation(graph: Graph, shapes: Graph) -> None:
    graph.remove((PASSPORT, CV.hasCompetentAuthority, None))
    conforms, report = shacl(graph, shapes)
    assert not conforms
    assert str(CV.hasCompetentAuthority) in report


def test_untyped_code_list_value_fails_validation(graph: Graph, shapes: Graph) -> None:
    # sh:class skos:Concept on cv:currency: a currency IRI without its type is rejected.
    currency = graph.value(graph.value(PASSPORT, CV.hasCost), CV.currency)
    graph.remove((currency, RDF.type, SKOS.Concept))
    conforms, report = shacl(graph, shapes)
    assert not conforms
    assert str(CV.currency) in report
