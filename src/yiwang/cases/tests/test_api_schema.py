"""The OpenAPI schema describes the cases API: valid, without generator warnings, with request and response
bodies for every operation, and served at /api/schema/."""

from __future__ import annotations

from typing import Any

import pytest
from django.urls import include, path
from drf_spectacular.drainage import GENERATOR_STATS
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.validation import validate_schema
from rest_framework.test import APIClient

from yiwang.cases.api.urls import urlpatterns


def _cases_schema() -> dict[str, Any]:
    GENERATOR_STATS.reset()
    generator = SchemaGenerator(patterns=[path("api/v1/", include(urlpatterns))])  # type: ignore[no-untyped-call]  # drf-spectacular is untyped
    schema: dict[str, Any] = generator.get_schema(request=None, public=True)  # type: ignore[no-untyped-call]  # untyped
    return schema


def test_the_cases_schema_is_valid_and_generated_without_warnings() -> None:
    schema = _cases_schema()
    validate_schema(schema)  # type: ignore[no-untyped-call]  # drf-spectacular is untyped
    assert not GENERATOR_STATS._warn_cache and not GENERATOR_STATS._error_cache, (
        dict(GENERATOR_STATS._warn_cache),
        dict(GENERATOR_STATS._error_cache),
    )
    assert len(schema["paths"]) == len(urlpatterns)


def test_every_write_documents_its_body_and_every_answer_its_shape() -> None:
    schema = _cases_schema()
    for url, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert any(code in responses for code in ("200", "201", "204")), (url, method)
            ok = responses.get("200") or responses.get("201")
            if ok is not None:
                assert ok.get("content"), (url, method)
    apply = schema["paths"]["/api/v1/cases/"]["post"]
    assert apply["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/ApplyInput"}
    assert {"200", "201"} <= set(apply["responses"])
    assert [p["name"] for p in apply["parameters"] if p["in"] == "header"] == ["Idempotency-Key"]
    upload = schema["paths"]["/api/v1/drafts/{id}/materials/"]["post"]["requestBody"]["content"]
    assert {"multipart/form-data", "application/json"} <= set(upload)
    pdf = schema["paths"]["/api/v1/cases/{number}/notices/{notice_number}.pdf"]["get"]["responses"]["200"]
    assert "application/pdf" in pdf["content"]
    for name in ("CaseDetail", "CaseFile", "Draft", "Task", "SupervisionRecord", "CorrectionInput", "DecideInput"):
        assert name in schema["components"]["schemas"], name


@pytest.mark.django_db
def test_the_served_schema_includes_the_cases_api(api: APIClient) -> None:
    response = api.get("/api/schema/")
    assert response.status_code == 200
    for url in (b"/api/v1/cases/", b"/api/v1/drafts/{id}/submit/", b"/api/v1/staff/tasks/{id}/decide/"):
        assert url in response.content, url
