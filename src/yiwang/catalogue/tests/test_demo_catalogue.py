"""The demo catalogue that ``make run`` loads: realistic, valid, published, and exportable to CPSV-AP."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.management import call_command
from rdflib import Graph

from yiwang.catalogue import selectors
from yiwang.catalogue.constants import VersionStatus
from yiwang.catalogue.models import BasicItem, ItemVersion
from yiwang.catalogue.tests.test_cpsv_export import shacl, shapes_path

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo() -> None:
    call_command("demo", "--no-users")


def test_demo_catalogue_is_rich_and_valid(demo: None) -> None:
    current = list(selectors.current_versions())
    assert len(current) >= 30
    assert len({v.department_id for v in current}) >= 6
    assert {v.region_code[:2] for v in current} == {"33", "37"}  # two provinces
    assert all(v.violation_count == 0 for v in current)
    shared = [b for b in BasicItem.objects.all() if b.implementations.count() > 1]
    assert len(shared) >= 5
    drafts = ItemVersion.objects.filter(status=VersionStatus.DRAFT)
    assert drafts.count() >= 3
    assert all(d.violation_count > 0 for d in drafts)


def test_demo_is_idempotent(demo: None) -> None:
    before = ItemVersion.objects.count()
    call_command("demo", "--no-users")
    assert ItemVersion.objects.count() == before


def test_demo_catalogue_exports_to_cpsv_ap_that_conforms(demo: None, tmp_path: Path) -> None:
    out = tmp_path / "catalogue.ttl"
    call_command("catalogue", "export", "--format", "cpsv-ttl", "--out", str(out))
    graph = Graph().parse(out, format="turtle")
    conforms, report = shacl(graph, Graph().parse(shapes_path(), format="turtle"))
    assert conforms, report
    jsonld = tmp_path / "catalogue.jsonld"
    call_command("catalogue", "export", "--format", "cpsv-jsonld", "--out", str(jsonld))
    assert len(Graph().parse(jsonld, format="json-ld")) == len(graph)


def test_demo_files_check_clean_from_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    import yiwang.catalogue

    demo_dir = Path(yiwang.catalogue.__file__).parent / "demo"
    call_command("catalogue", "check", str(demo_dir / "items.json"), "--json")
    assert json.loads(capsys.readouterr().out) == []
