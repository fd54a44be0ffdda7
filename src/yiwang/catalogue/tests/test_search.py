"""Chinese search over the demo catalogue: the queries citizens type find the right items, ranked."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from yiwang.catalogue import selectors
from yiwang.catalogue.selectors import Filters

pytestmark = pytest.mark.django_db


def names(query: str, **filters: str) -> list[str]:
    results, _ = selectors.search_page(Filters(query=query, **filters), limit=50)  # type: ignore[arg-type]
    return [v.name for v in results]


def test_searches_citizens_type(django_assert_max_num_queries) -> None:
    call_command("demo", "--no-users")
    # A result name finds the item that produces it.
    assert set(names("营业执照")) >= {"个体工商户登记"}
    # A fragment of a name finds it first.
    assert names("个体")[0] == "个体工商户登记"
    assert all("规划许可" in n for n in names("规划许可")[:4])
    assert len(names("规划许可")) >= 4
    # A department name finds that department's items.
    department_items = names("西湖区市场监督管理局")
    assert "个体工商户登记" in department_items
    assert all(n in names("市场监督管理局") for n in department_items)
    # An item code finds exactly its items, from the indexed code columns.
    assert names("000131128000") == ["个体工商户登记", "个体工商户登记"]
    version = selectors.search(Filters(query="000131128000")).first()
    assert version is not None
    assert [v.implementation_code for v in selectors.search(Filters(query=version.implementation_code.lower()))] == [
        version.implementation_code
    ]
    # A handling sub-item code is not a column: it is found in the text.
    assert set(names("00013112800001")) == {"个体工商户登记"}
    assert names("999999999999") == []
    # Several terms must all match: the item and the region.
    results, count = selectors.search_page(Filters(query="食品经营 任城"))
    assert count == 1 and results[0].region_code == "370811"
    # Filters: region prefix (a city includes its districts), audience, theme.
    assert {v.region_code[:4] for v in selectors.search(Filters(region="330100"))} == {"3301"}
    assert set(names("", region="370811")) and all(
        v.region_code == "370811" for v in selectors.search(Filters(region="370811"))
    )
    assert "结婚登记" in names("", audience="person")
    assert "结婚登记" not in names("", audience="enterprise")
    assert names("不存在的事项名称") == []
    with django_assert_max_num_queries(2):
        selectors.search_page(Filters(query="许可"))
