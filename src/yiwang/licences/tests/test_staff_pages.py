"""The workbench pages of the licences a department issued (/workbench/licences/): department A's approvers list,
open and act on A's licences; a window clerk is refused, department B sees nothing of A, the anonymous sign in and
citizens are refused; each refused action changes nothing and says why on the page."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from yiwang.audit.models import AuditRecord
from yiwang.common.masking import mask_id_number
from yiwang.licences.constants import LicenceStatus
from yiwang.licences.models import Licence
from yiwang.workbench import licence_views
from yiwang.workbench import views as workbench_views
from yiwang.workbench.tests.case_world import en, html, url

pytestmark = pytest.mark.django_db

StaffClient = Callable[[User], Client]
ACTIONS = ["licence_suspend", "licence_reinstate", "licence_revoke", "licence_reissue", "licence_change"]


def _unchanged(licence: Licence, status: str = LicenceStatus.VALID) -> None:
    """Nothing happened: the licence keeps its status, no version was added, no lifecycle action was audited."""
    licence.refresh_from_db()
    assert licence.status == status
    assert not Licence.objects.filter(previous=licence).exists()


def _actions_audited() -> int:
    return AuditRecord.objects.filter(object_type="licences.licence").exclude(action="licences.issued").count()


# --- who gets in ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["licences", "licence", *ACTIONS])
def test_anonymous_visitors_sign_in_first_and_come_back_to_the_licence(
    client: Client, licence: Licence, name: str
) -> None:
    args = [] if name == "licences" else [licence.pk]
    path = url(name, *args)
    response = client.post(path, {"reason": "x"}) if name in ACTIONS else client.get(path)
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert location.path == reverse("portal:login")
    # An action's URL takes no GET: the visitor comes back to the licence's page instead.
    back = url("licence", licence.pk) if name in ACTIONS else path
    assert parse_qs(location.query)["next"] == [back]
    _unchanged(licence)


def test_citizens_get_the_forbidden_page(client: Client, citizen: User, licence: Licence) -> None:
    client.force_login(citizen)
    for path in (en("licences"), en("licence", licence.pk)):
        assert "The workbench is for government staff." in html(client, path, 403)
    assert client.post(en("licence_suspend", licence.pk), {"reason": "核查"}).status_code == 403
    _unchanged(licence)


def test_a_window_clerk_who_does_not_decide_gets_the_forbidden_page(
    staff_client: StaffClient, clerk: User, licence: Licence
) -> None:
    client = staff_client(clerk)
    for path in (en("licences"), en("licence", licence.pk)):
        assert "Your roles do not include this page." in html(client, path, 403)
    for name in ACTIONS:
        assert client.post(en(name, licence.pk), {"reason": "核查", "confirm": "on"}).status_code == 403
    _unchanged(licence)
    assert _actions_audited() == 0
    # Nor is the page offered to them.
    assert "workbench:licences" not in {t.url_name for t in workbench_views.tasks_for(clerk)}
    assert f'href="{url("licences")}"' not in html(client, url("home"))


def test_department_b_sees_nothing_of_department_a(
    staff_client: StaffClient, reviewer_b: User, licence: Licence
) -> None:
    client = staff_client(reviewer_b)
    page = html(client, en("licences"))
    assert "0 licences" in page and licence.identifier not in page
    assert licence.identifier not in html(client, en("licences") + f"?q={licence.serial}")
    # Another department's licence is "not found", as if it did not exist — and no action reaches it.
    assert licence.identifier not in html(client, en("licence", licence.pk), 404)
    for name in ACTIONS:
        assert client.post(en(name, licence.pk), {"reason": "核查", "confirm": "on"}).status_code == 404
    _unchanged(licence)
    assert _actions_audited() == 0


def test_the_home_page_offers_the_licences_to_department_a_approvers(
    staff_client: StaffClient, reviewer_a: User
) -> None:
    assert "workbench:licences" in {t.url_name for t in workbench_views.tasks_for(reviewer_a)}
    page = html(staff_client(reviewer_a), en("home"))
    assert f'href="{en("licences")}"' in page and "Licences issued by my department" in page


# --- the list -----------------------------------------------------------------------------------------------------


def test_the_list_shows_the_departments_licences_with_the_holder_masked(
    staff_client: StaffClient, reviewer_a: User, licence: Licence
) -> None:
    page = html(staff_client(reviewer_a), en("licences"))
    assert "1 licence" in page
    assert f'href="{en("licence", licence.pk)}"' in page and licence.identifier in page
    assert "Business licence" in page  # the type's English name on the English page
    assert licence.holder_name not in page and licence.holder_name[0] + "*" in page
    assert '<span class="badge licence-status status-in_force">Valid</span>' in page
    assert licence.issued_on.isoformat() in page and "long-term" in page


def test_the_chinese_list_is_the_default(staff_client: StaffClient, reviewer_a: User, licence: Licence) -> None:
    page = html(staff_client(reviewer_a), url("licences"))
    assert '<html lang="zh-Hans">' in page
    assert "营业执照" in page and licence.identifier in page


def test_the_list_searches_by_identifier_number_or_holder_and_filters_by_status(
    staff_client: StaffClient, reviewer_a: User, licence: Licence, enterprise_licence: Licence
) -> None:
    client = staff_client(reviewer_a)

    def found(query: str) -> set[str]:
        page = html(client, en("licences") + "?" + query)
        return {lic.identifier for lic in (licence, enterprise_licence) if lic.identifier in page}

    both = {licence.identifier, enterprise_licence.identifier}
    assert found("") == both
    assert found(f"q={licence.identifier}") == {licence.identifier}
    assert found(f"q={enterprise_licence.serial}") == {enterprise_licence.identifier}
    assert found(f"q={enterprise_licence.holder_name[:4]}") == {enterprise_licence.identifier}
    assert found("q=nobody-here") == set()
    assert found("status=valid") == both
    assert found("status=suspended") == set()
    Licence.objects.filter(pk=licence.pk).update(status=LicenceStatus.SUSPENDED)
    assert found("status=suspended") == {licence.identifier}
    assert found(f"status=valid&q={licence.serial}") == set()
    # A status that is no status is refused in words, not silently ignored: the whole list is shown.
    page = html(client, en("licences") + "?status=purple")
    assert "Choose a status from the list." in page
    assert licence.identifier in page and enterprise_licence.identifier in page


def test_pages_keep_the_filters(
    staff_client: StaffClient,
    reviewer_a: User,
    licence: Licence,
    enterprise_licence: Licence,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(licence_views, "PAGE_SIZE", 1)
    client = staff_client(reviewer_a)
    first = html(client, en("licences") + "?status=valid")
    assert enterprise_licence.identifier in first and licence.identifier not in first  # newest first
    assert 'href="?status=valid&amp;page=2"' in first and "Page 1 of 2" in first
    second = html(client, en("licences") + "?status=valid&page=2")
    assert licence.identifier in second and enterprise_licence.identifier not in second


# --- one licence --------------------------------------------------------------------------------------------------


def test_the_licence_page_shows_everything_with_the_holder_code_masked(
    staff_client: StaffClient, reviewer_a: User, licence: Licence
) -> None:
    page = html(staff_client(reviewer_a), en("licence", licence.pk))
    assert licence.identifier in page and licence.serial in page and licence.holder_name in page
    assert licence.holder_code not in page and mask_id_number(licence.holder_code) in page
    for value in licence.data.values():
        assert value in page
    assert licence.case is not None
    assert f'href="{en("case", licence.case.number)}"' in page
    assert "Version 1 (this page)" in page
    assert "Issued" in page  # the history, from the audit log
    for action in ("suspend", "revoke", "reissue", "change"):
        assert f'id="action-{action}"' in page
    assert 'id="action-reinstate"' not in page
    # The change form holds the current values, ready to edit.
    assert f'value="{licence.data["address"]}"' in page and f'value="{licence.holder_name}"' in page


def test_an_enterprises_credit_code_is_masked_too(
    staff_client: StaffClient, reviewer_a: User, enterprise_licence: Licence
) -> None:
    client = staff_client(reviewer_a)
    page = html(client, en("licence", enterprise_licence.pk))
    assert enterprise_licence.holder_code not in page and mask_id_number(enterprise_licence.holder_code) in page
    assert "none (a later version, or issued without a case)" in page
    assert enterprise_licence.holder_name not in html(client, en("licences"))


def test_an_unknown_licence_is_not_found(staff_client: StaffClient, reviewer_a: User, licence: Licence) -> None:
    html(staff_client(reviewer_a), en("licence", licence.pk + 1000), 404)


# --- acting -------------------------------------------------------------------------------------------------------


def test_suspend_and_reinstate(staff_client: StaffClient, reviewer_a: User, licence: Licence) -> None:
    client = staff_client(reviewer_a)
    response = client.post(en("licence_suspend", licence.pk), {"reason": "涉嫌违法经营，暂扣待查"}, follow=True)
    assert response.redirect_chain == [(en("licence", licence.pk), 302)]
    page = response.content.decode()
    assert f"Licence {licence.identifier} suspended." in page
    licence.refresh_from_db()
    assert licence.status == LicenceStatus.SUSPENDED and licence.status_reason == "涉嫌违法经营，暂扣待查"
    assert '<span class="badge licence-status status-pending">Suspended</span>' in page
    assert "涉嫌违法经营，暂扣待查" in page  # the history row
    assert 'id="action-reinstate"' in page and 'id="action-suspend"' not in page
    response = client.post(en("licence_reinstate", licence.pk), {"reason": "核查完毕"}, follow=True)
    assert f"Licence {licence.identifier} is valid again." in response.content.decode()
    licence.refresh_from_db()
    assert licence.status == LicenceStatus.VALID
    assert "Reinstated" in response.content.decode()


@pytest.mark.parametrize("reason", ["", "   ", "长" * 501])
def test_a_missing_or_overlong_reason_is_refused_on_the_page(
    staff_client: StaffClient, reviewer_a: User, licence: Licence, reason: str
) -> None:
    response = staff_client(reviewer_a).post(en("licence_suspend", licence.pk), {"reason": reason})
    assert response.status_code == 400
    page = response.content.decode()
    assert "Nothing was changed" in page
    assert ("Give the reason: the holder is told it." in page) or ("Keep the reason under 500 characters." in page)
    _unchanged(licence)
    assert _actions_audited() == 0


def test_a_service_refusal_is_shown_and_changes_nothing(
    staff_client: StaffClient, reviewer_a: User, licence: Licence
) -> None:
    # A stale page: the licence was suspended meanwhile, and the form still offers to suspend it.
    Licence.objects.filter(pk=licence.pk).update(status=LicenceStatus.SUSPENDED)
    response = staff_client(reviewer_a).post(en("licence_suspend", licence.pk), {"reason": "再次暂扣"})
    assert response.status_code == 409
    assert "Only a valid licence can be suspended." in response.content.decode()
    _unchanged(licence, LicenceStatus.SUSPENDED)


def test_revocation_asks_for_confirmation(staff_client: StaffClient, reviewer_a: User, licence: Licence) -> None:
    client = staff_client(reviewer_a)
    refused = client.post(en("licence_revoke", licence.pk), {"reason": "以欺骗手段取得许可，依法撤销"})
    assert refused.status_code == 400
    assert "Tick the box to confirm: a revoked licence can never be valid again." in refused.content.decode()
    _unchanged(licence)
    response = client.post(
        en("licence_revoke", licence.pk), {"reason": "以欺骗手段取得许可，依法撤销", "confirm": "on"}, follow=True
    )
    page = response.content.decode()
    assert f"Licence {licence.identifier} revoked." in page
    licence.refresh_from_db()
    assert licence.status == LicenceStatus.REVOKED
    assert 'id="action-' not in page  # nothing more to do with a revoked licence


def test_reissue_leads_to_the_new_versions_page(staff_client: StaffClient, reviewer_a: User, licence: Licence) -> None:
    client = staff_client(reviewer_a)
    response = client.post(en("licence_reissue", licence.pk), {"reason": "原证照损毁，申请补领"}, follow=True)
    new = Licence.objects.get(previous=licence)
    assert response.redirect_chain == [(en("licence", new.pk), 302)]
    page = response.content.decode()
    assert "Version 2 issued; the earlier version is superseded." in page
    assert new.identifier in page and "Version 2 (this page)" in page
    assert f'href="{en("licence", licence.pk)}"' in page  # the chain back to version 1
    assert "Issued as version 2" in page and "原证照损毁，申请补领" in page
    old = html(client, en("licence", licence.pk))
    assert '<span class="badge licence-status status-expired">Superseded by a newer version</span>' in old
    assert "Superseded by version 2" in old and f'href="{en("licence", new.pk)}"' in old
    assert 'id="action-' not in old


def test_change_issues_the_next_version_with_the_new_values(
    staff_client: StaffClient, reviewer_a: User, licence: Licence
) -> None:
    posted = {f"data_{key}": value for key, value in licence.data.items() if key != "item_code"}
    posted.update(reason="住所变更", holder_name=licence.holder_name, data_address="浙江省杭州市西湖区天目山路2号")
    response = staff_client(reviewer_a).post(en("licence_change", licence.pk), posted, follow=True)
    new = Licence.objects.get(previous=licence)
    assert response.redirect_chain == [(en("licence", new.pk), 302)]
    assert "Version 2 issued with the changes; the earlier version is superseded." in response.content.decode()
    assert new.data["address"] == "浙江省杭州市西湖区天目山路2号" and new.data["scope"] == licence.data["scope"]
    assert new.holder_name == licence.holder_name
    licence.refresh_from_db()
    assert licence.status == LicenceStatus.SUPERSEDED and licence.status_reason == "住所变更"


@pytest.mark.parametrize(
    ("change", "status", "message"),
    [
        ({"reason": ""}, 400, "Give the reason: the holder is told it."),
        ({}, 400, "Nothing would change: give at least one new value."),
        ({"data_colour": "红"}, 400, "“colour” is not a field of this licence type."),
        ({"data_address": "长" * 501}, 400, "Ensure this value has at most 500 characters (it has 501)."),
        ({"holder_name": "名" * 201}, 400, "Ensure this value has at most 200 characters (it has 201)."),
    ],
)
def test_a_bad_change_is_refused_on_the_page(
    staff_client: StaffClient,
    reviewer_a: User,
    licence: Licence,
    change: dict[str, str],
    status: int,
    message: str,
) -> None:
    posted = {f"data_{key}": value for key, value in licence.data.items() if key != "item_code"}
    posted.update(reason="住所变更", holder_name=licence.holder_name)
    posted.update(change)
    response = staff_client(reviewer_a).post(en("licence_change", licence.pk), posted)
    assert response.status_code == status
    page = response.content.decode()
    assert "Nothing was changed" in page and message in page
    if change.get("data_address"):
        assert "长" * 501 in page  # the posted values are kept for the correction
    _unchanged(licence)
    assert _actions_audited() == 0
    assert Licence.objects.count() == 1
