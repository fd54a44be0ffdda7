"""The public pages in both languages: home, search, the service guide, versions, departments, regions.

Chinese expectations are computed with ``gettext`` under zh-Hans, so the tests state *which* message a
page shows and stay true before and after the zh-Hans catalogue is filled in; the English pages are
checked against literal English text.
"""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest
from django.test import Client
from django.utils import translation
from django.utils.translation import gettext

from yiwang.catalogue import services
from yiwang.catalogue.constants import ItemType, OnlineDepth, TimeUnit, VersionStatus
from yiwang.catalogue.tests.factories import item_content
from yiwang.portal import views

pytestmark = pytest.mark.django_db

STEPS = ["申请", "受理", "审查", "决定", "办结", "送达"]


def zh(message: Any) -> str:
    """A message as the Chinese pages show it."""
    with translation.override("zh-hans"):
        return gettext(str(message)) if isinstance(message, str) else str(message)


def text_of(response: Any) -> str:
    assert response.status_code == 200, response.status_code
    return unescape(response.content.decode())


def test_home_renders_in_chinese_and_english(client: Client, published: Any) -> None:
    published()
    chinese = text_of(client.get("/"))
    assert 'lang="zh-Hans"' in chinese
    assert zh("Find a government service") in chinese
    assert zh("Personal services") in chinese
    assert "就业创业" in chinese and "设立变更" in chinese  # theme tiles by their Chinese names
    assert "杭州市西湖区市场监督管理局" in chinese
    english = text_of(client.get("/en/"))
    assert '<html lang="en">' in english
    assert "Find a government service" in english
    assert "Employment and starting a business" in english  # the personal theme, translated
    assert "Setting up and changes" in english
    assert "1 service" in english


def test_theme_tile_counts_match_the_search_they_link_to(client: Client, published: Any) -> None:
    # The factory item serves natural persons but is filed under the enterprise theme 设立变更 too.
    version = published()
    page = text_of(client.get("/en/search/", {"audience": "enterprise", "theme": "设立变更"}))
    assert version.implementation_code in page
    assert "1 service found" in page
    assert "No services match" not in text_of(client.get("/en/search/", {"audience": "person", "theme": "就业创业"}))
    assert "No services match" in text_of(client.get("/en/search/", {"audience": "person", "theme": "婚姻登记"}))


def test_the_language_switcher_links_to_the_same_page_in_the_other_language(client: Client, published: Any) -> None:
    code = published().implementation_code
    chinese = text_of(client.get(f"/items/{code}/"))
    assert f'href="/en/items/{code}/"' in chinese
    english = text_of(client.get(f"/en/search/?q={code}"))
    assert f'href="/search/?q={code}"' in english


def test_the_guide_shows_every_element_in_chinese(client: Client, published: Any) -> None:
    version = published()
    code = version.implementation_code
    page = text_of(client.get(f"/items/{code}/"))
    expected = [
        # name, handling sub-item and codes
        "个体工商户登记",
        "设立",
        code,
        "000131128000",
        "00013112800001",
        # summary box, every code through its label
        zh(ItemType.LICENSING.label),
        zh("Decided within a promised time limit"),
        zh("Statutory time limit"),
        f"15 {zh(TimeUnit.WORKING_DAY.label)}",
        zh("Promised time limit"),
        f"3 {zh(TimeUnit.WORKING_DAY.label)}",
        "不收费",
        zh("No visit needed"),
        zh(OnlineDepth.IV.label),
        zh("Natural person"),
        # conditions grouped by business type
        "有经营能力的自然人，有固定的经营场所。",
        # materials with their stand-ins and references
        "个体工商户登记（备案）申请书",
        "经营者身份证明",
        "人口库:居民身份信息",
        zh("Can be supplied by an e-licence or shared data: no need to submit"),
        "forms/application.pdf",
        "samples/application.pdf",
        zh("Provided by the applicant"),
        # legal basis, where and when, contacts, FAQs, results
        "《促进个体工商户发展条例》",
        "第八条",
        zh("Establishing basis"),
        "杭州市西湖区文三路市民之家二楼市场监管窗口",
        "工作日 9:00–17:00",
        "0571-87000001",
        "12345",
        "可以网上办理吗？",
        "可以，全程网办。",
        "营业执照",
        "samples/licence.pdf",
        zh("Licence or certificate"),
        # online handling, supports, cross-region scope, version
        zh("Online pre-review"),
        zh("Appointment"),
        zh("Across the city"),
        zh("Version history"),
        zh("Print this guide"),
    ]
    missing = [e for e in expected if e not in page]
    assert not missing, missing
    assert "浙江省杭州市西湖区" in page
    assert 'lang="zh-Hans"' in page
    # the conditions are headed by their business type
    assert re.search(r'id="conditions".*?<h3>设立</h3>', page, re.S)
    # elements appear in reading order
    anchors = ["summary", "conditions", "materials", "process", "legal-basis", "where", "contacts", "faqs", "results"]
    order = [page.index(f'id="{anchor}"') for anchor in [*anchors, "online", "version"]]
    assert order == sorted(order)


def test_the_guide_draws_the_process_as_an_svg_flow_diagram(client: Client, published: Any) -> None:
    process: list[dict[str, Any]] = [{"name": n} for n in STEPS]
    process[1]["time_limit"] = {"value": 1, "unit": "working_day"}
    process[2]["handled_by"] = "登记科"
    version = published(process=process)
    page = text_of(client.get(f"/en/items/{version.implementation_code}/"))
    svg = re.search(r'<svg class="flow-diagram flow-wide".*?</svg>', page, re.S)
    assert svg is not None
    names = re.findall(r'<text class="flow-name"[^>]*>([^<]*)</text>', svg.group(0))
    assert names == STEPS
    assert len(re.findall(r'class="flow-arrow"', svg.group(0))) == len(STEPS) - 1
    assert '<text class="flow-limit"' in svg.group(0) and "1 working days" in svg.group(0)
    assert "登记科" in svg.group(0)
    assert 'role="img"' in svg.group(0) and "申请 → 受理 → 审查 → 决定 → 办结 → 送达" in svg.group(0)
    # the same steps as an ordered list for screen readers and print
    steps_list = re.search(r'<ol class="flow-steps">(.*?)</ol>', page, re.S)
    assert steps_list is not None
    assert re.findall(r"<strong>([^<]*)</strong>", steps_list.group(1)) == STEPS


def test_the_guide_in_english_uses_english_labels(client: Client, published: Any) -> None:
    version = published()
    page = text_of(client.get(f"/en/items/{version.implementation_code}/"))
    for text in [
        '<html lang="en">',
        "Service guide",
        "Statutory time limit",
        "15 working days",
        "Promised time limit",
        "3 working days",
        "Administrative licensing",
        "Free of charge",
        "No visit needed",
        "Level IV: fully online, no visit",
        "Across the city",
        "Conditions",
        "Materials",
        "Process",
        "Can be supplied by an e-licence or shared data: no need to submit",
        "Version 1, in force since",
        "Xihu District, Hangzhou",
        "Consultation phone",
        "Supervision and complaints phone",
    ]:
        assert text in page, text
    assert "working_day" not in page  # never a raw code


def test_charged_items_list_their_fees(client: Client, published: Any) -> None:
    version = published(
        fees={
            "charged": True,
            "items": [{"name": "工本费", "amount_yuan": "10", "basis": "价格主管部门文件"}],
            "basis": "《收费条例》",
        },
        supports={"appointment": True, "online_payment": True, "delivery": True, "postal_application": True},
    )
    page = text_of(client.get(f"/en/items/{version.implementation_code}/"))
    assert "工本费: ¥10.00" in page
    assert "《收费条例》" in page
    assert "Free of charge" not in page


def test_a_rich_guide_shows_visits_special_procedures_material_details_and_step_details(
    client: Client, published: Any
) -> None:
    base = item_content()
    version = published(
        max_visits=1,
        visits_reason="需要现场核验经营场所",
        online={"depth": "III", "capabilities": ["1", "2"], "url": "https://zwfw.example.gov.cn/apply/001"},
        conditions=[*base["conditions"], {"business_type": "变更", "text": "已登记的个体工商户。"}],
        special_procedures=[
            {
                "name": "现场核查",
                "kind": "2",
                "max_duration": {"value": 5, "unit": "working_day"},
                "counts_in_time_limit": False,
            }
        ],
        materials=[
            {
                **base["materials"][0],
                "medium": "paper",
                "issuing_body": "申请人",
                "requirements": "须经营者本人签字",
                "common_errors": ["未签字", "经营范围填写不规范"],
            },
            base["materials"][1],
        ],
        process=[{"name": n, "description": f"{n}说明"} for n in STEPS],
    )
    page = text_of(client.get(f"/en/items/{version.implementation_code}/"))
    for text in [
        "At most 1 visit",
        "需要现场核验经营场所",
        "Level III: online handling",
        'href="https://zwfw.example.gov.cn/apply/001"',
        "<h3>设立</h3>",
        "<h3>变更</h3>",
        "已登记的个体工商户。",
        "现场核查",
        "Other special procedure",
        "5 working days",
        "Not counted in the time limit",
        "Paper",
        "Issued by: 申请人",
        "须经营者本人签字",
        "Common mistakes",
        "经营范围填写不规范",
        "Steps in detail",
        "审查说明",
    ]:
        assert text in page, text
    assert page.index("<h3>设立</h3>") < page.index("<h3>变更</h3>")


def test_content_cannot_inject_markup_or_links(client: Client, published: Any) -> None:
    version = published(
        location="<script>alert(1)</script>",
        online={"depth": "IV", "capabilities": ["1"], "url": "javascript:alert(1)"},
        process=[{"name": n} for n in STEPS[:-1]] + [{"name": "送达<b>"}],
    )
    body = client.get(f"/items/{version.implementation_code}/").content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;" in body
    assert "javascript:" not in body
    assert "送达&lt;b&gt;" in body


def test_search_finds_by_name_code_and_department_and_highlights(client: Client, published: Any) -> None:
    version = published()
    page = text_of(client.get("/search/", {"q": "个体"}))
    assert version.implementation_code in page
    assert "<mark>个体</mark>工商户登记" in page
    assert zh(ItemType.LICENSING.label) in page
    assert "杭州市西湖区市场监督管理局" in page
    by_code = text_of(client.get("/search/", {"q": version.implementation_code}))
    assert f'href="/items/{version.implementation_code}/"' in by_code
    by_department = text_of(client.get("/en/search/", {"q": "西湖区市场监督管理局"}))
    assert f'href="/en/items/{version.implementation_code}/"' in by_department
    assert "1 service found" in by_department


def test_search_ranks_name_matches_first(client: Client, published: Any) -> None:
    # Different names need different basic items (rule Q9: name equals the basic item's).
    by_basis = published(name="营业执照补领", basic_code="000131128900", handling_item_code="00013112890001")
    inside = published(name="申请个体户开业补贴", basic_code="000131128901", handling_item_code="00013112890101")
    prefix = published()
    page = text_of(client.get("/en/search/", {"q": "个体"}))
    # exact prefix of the name, then inside the name, then only elsewhere (the legal basis of 营业执照补领)
    positions = [page.index(f"/items/{v.implementation_code}/") for v in (prefix, inside, by_basis)]
    assert positions == sorted(positions)
    assert "3 services found" in page


def test_search_without_results_says_so_and_filters_are_removable_chips(client: Client, published: Any) -> None:
    version = published()
    empty = text_of(client.get("/en/search/", {"q": "不存在的事项"}))
    assert "No services match “不存在的事项”." in empty
    page = text_of(
        client.get("/en/search/", {"q": "个体", "department": version.department_id, "type": "01", "region": "330100"})
    )
    assert version.implementation_code in page
    chips = re.findall(r'<a class="chip" href="([^"]*)"', page)
    assert len(chips) == 4
    assert "Department:</span> 杭州市西湖区市场监督管理局" in page
    assert "Region:</span> Hangzhou City" in page
    assert "Item type:</span> Administrative licensing" in page
    without_department = next(c for c in chips if "department=" not in c)
    assert "q=%E4%B8%AA%E4%BD%93" in without_department and "type=01" in without_department


def test_search_paginates(client: Client, published: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    codes = {published().implementation_code for _ in range(5)}
    seen: set[str] = set()
    for number in (1, 2, 3):
        page = text_of(client.get("/en/search/", {"q": "个体", "page": number}))
        assert "5 services found" in page
        seen |= set(re.findall(r'href="/en/items/([0-9A-Z]+)/"', page))
    assert seen == codes
    first = text_of(client.get("/en/search/", {"q": "个体"}))
    assert 'href="?q=%E4%B8%AA%E4%BD%93&page=2"' in first and 'aria-current="page">1<' in first
    assert "showing 1–2" in first


def test_drafts_and_withdrawn_items_are_not_public(client: Client, published: Any, publisher: Any) -> None:
    draft = services.save_draft(actor=publisher, content=item_content())
    withdrawn = published()
    services.withdraw(actor=publisher, version=withdrawn, reason="事项取消")
    for version in (draft, withdrawn):
        response = client.get(f"/items/{version.implementation_code}/")
        assert response.status_code == 404
        assert zh("Page not found") in response.content.decode()
    page = text_of(client.get("/search/", {"q": "个体"}))
    assert draft.implementation_code not in page and withdrawn.implementation_code not in page
    assert client.get(f"/items/{draft.implementation_code}/versions/").status_code == 404
    assert client.get(f"/items/{draft.implementation_code}/versions/1/").status_code == 404
    history = text_of(client.get(f"/en/items/{withdrawn.implementation_code}/versions/"))
    assert "Withdrawn" in history and "事项取消" in history


def test_unknown_codes_are_404(client: Client, published: Any) -> None:
    code = published().implementation_code
    for url in [
        "/items/NOSUCHCODE/",
        "/en/items/NOSUCHCODE/",
        "/items/NOSUCHCODE/versions/",
        f"/items/{code}/versions/9/",
        f"/items/{code}/versions/{10**30}/",
        "/items/NOSUCHCODE/diff/",
        f"/items/{code}/diff/?from=1&to=7",
        f"/items/{code}/diff/?from=x&to=1",
        "/regions/999999/",
        "/regions/abc/",
        "/items/" + "X" * 60 + "/",
    ]:
        response = client.get(url)
        assert response.status_code == 404, url
    assert "Page not found" in client.get("/en/items/NOSUCHCODE/").content.decode()


def _second_version(published: Any, publisher: Any) -> tuple[Any, Any]:
    first = published()
    second = services.save_draft(actor=publisher, content={**first.content, "hours": "工作日 8:30–17:30"})
    services.submit_for_review(actor=publisher, version=second)
    second.refresh_from_db()
    second = services.publish(actor=publisher, version=second)
    first.refresh_from_db()
    return first, second


def test_history_lists_public_versions_with_status_and_notes(client: Client, published: Any, publisher: Any) -> None:
    first, _second = _second_version(published, publisher)
    assert first.status == VersionStatus.SUPERSEDED
    page = text_of(client.get(f"/en/items/{first.implementation_code}/versions/"))
    assert "Version 1" in page and "Version 2" in page
    assert "Superseded" in page and "Published" in page and "Current" in page
    assert "Superseded by version 2." in page
    assert f'href="/en/items/{first.implementation_code}/diff/?from=1&to=2"' in page
    chinese = text_of(client.get(f"/items/{first.implementation_code}/versions/"))
    assert zh("Version history") in chinese and zh("Superseded") in chinese
    # The system's note is stored language-neutrally and shown in the reader's language (catalogue/notes.py).
    assert zh("Superseded by version %(n)d.") % {"n": 2} in chinese


def test_an_old_version_shows_a_banner_and_the_current_one_does_not(
    client: Client, published: Any, publisher: Any
) -> None:
    first, _second = _second_version(published, publisher)
    code = first.implementation_code
    old = text_of(client.get(f"/en/items/{code}/versions/1/"))
    assert "This is not the current version of this service guide." in old
    assert "工作日 9:00–17:00" in old
    assert f'href="/en/items/{code}/"' in old
    current = text_of(client.get(f"/en/items/{code}/"))
    assert "工作日 8:30–17:30" in current and "Version 2, in force since" in current
    assert "not the current version" not in current
    assert "not the current version" not in text_of(client.get(f"/en/items/{code}/versions/2/"))
    assert zh("This is not the current version of this service guide.") in text_of(
        client.get(f"/items/{code}/versions/1/")
    )


def test_diff_shows_each_change_with_labels(client: Client, published: Any, publisher: Any) -> None:
    first, _second = _second_version(published, publisher)
    code = first.implementation_code
    page = text_of(client.get(f"/en/items/{code}/diff/", {"from": 1, "to": 2}))
    row = re.search(r'<tr class="diff-changed">(.*?)</tr>', page, re.S)
    assert row is not None
    assert "Opening hours" in row.group(1)
    assert "<del>工作日 9:00–17:00</del>" in row.group(1) and "<ins>工作日 8:30–17:30</ins>" in row.group(1)
    assert text_of(client.get(f"/en/items/{code}/diff/")).count('<tr class="diff-') == 1  # defaults to the latest two
    chinese = text_of(client.get(f"/items/{code}/diff/?from=1&to=2"))
    assert zh("Changes between versions") in chinese and zh("Opening hours") in chinese


def test_diff_shows_code_labels_not_raw_codes(client: Client, published: Any, publisher: Any) -> None:
    first = published()
    changed = {
        **first.content,
        "cross_region_scope": "province",
        "supports": {**first.content["supports"], "appointment": False},
    }
    second = services.save_draft(actor=publisher, content=changed)
    services.submit_for_review(actor=publisher, version=second)
    second.refresh_from_db()
    services.publish(actor=publisher, version=second)
    page = text_of(client.get(f"/en/items/{first.implementation_code}/diff/?from=1&to=2"))
    assert "<del>Across the city</del>" in page and "<ins>Across the province</ins>" in page
    assert "<del>Yes</del>" in page and "<ins>No</ins>" in page


def test_departments_and_regions(client: Client, published: Any) -> None:
    version = published()
    departments = text_of(client.get("/departments/"))
    assert "杭州市西湖区市场监督管理局" in departments
    assert f'href="/search/?department={version.department_id}"' in departments
    assert "Xihu District" in text_of(client.get("/en/departments/"))
    regions = text_of(client.get("/en/regions/"))
    for name in ("Zhejiang Province", "Hangzhou City", "Xihu District"):
        assert name in regions
    assert 'href="/en/regions/330100/"' in regions
    for code in ("330000", "330100", "330106"):
        page = text_of(client.get(f"/regions/{code}/"))
        assert version.implementation_code in page, code
    city = text_of(client.get("/en/regions/330100/"))
    assert 'href="/en/regions/330106/"' in city and "1 service" in city
    other = text_of(client.get("/en/regions/370811/"))
    assert version.implementation_code not in other and "No services are published for this region yet." in other


def test_the_guide_and_search_pages_need_few_queries(
    client: Client, published: Any, django_assert_max_num_queries: Any
) -> None:
    versions = [published() for _ in range(4)]
    client.get("/")  # warm up sessions and the like, outside the budget
    with django_assert_max_num_queries(2):  # the version in force, and its item's attachments
        text_of(client.get(f"/items/{versions[0].implementation_code}/"))
    with django_assert_max_num_queries(2):  # the page, and a count only when the page is full
        text_of(client.get("/search/", {"q": "个体"}))
    with django_assert_max_num_queries(4):  # + the names of the department and region chips
        text_of(client.get("/search/", {"q": "个体", "department": versions[0].department_id, "region": "330106"}))
    with django_assert_max_num_queries(3):  # + the theme counts of the audience
        text_of(client.get("/en/search/", {"audience": "person"}))
    with django_assert_max_num_queries(4):  # item, version, the number in force, attachments (version 1 is in force)
        text_of(client.get(f"/items/{versions[0].implementation_code}/versions/1/"))
