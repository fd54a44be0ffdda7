"""The message centre pages (portal and workbench), the header badge, and who may mark what read."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import translation

from yiwang.audit.models import AuditRecord
from yiwang.notifications import selectors
from yiwang.notifications.models import Message
from yiwang.notifications.tests.conftest import PARAMS, Notify

pytestmark = pytest.mark.django_db
StaffClient = Callable[[User], Client]
INBOX = {"channels": ["inbox"]}


def en(name: str) -> str:
    with translation.override("en"):
        return reverse(name)


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def numbered(n: int) -> dict[str, str]:
    return {**PARAMS, "case_number": f"N-{n:03d}"}


@pytest.mark.parametrize(
    ("name", "method"),
    [
        ("portal:messages", "get"),
        ("portal:messages_read", "post"),
        ("workbench:messages", "get"),
        ("workbench:messages_read", "post"),
    ],
)
def test_anonymous_visitors_are_sent_to_sign_in(client: Client, name: str, method: str) -> None:
    url = reverse(name)
    response = getattr(client, method)(url)
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert location.path == reverse("portal:login")
    assert parse_qs(location.query)["next"] == [url]


def test_the_message_centre_lists_ones_own_messages_newest_first_in_the_page_language(
    notify: Notify, citizen: User, enterprise_rep: User
) -> None:
    notify([citizen], "case.submitted", numbered(1), **INBOX)
    notify([citizen], "case.accepted", {**numbered(1), "promised_due": "2026-12-01"}, link="/regions/330106/", **INBOX)
    notify([enterprise_rep], "case.refused", numbered(9), **INBOX)  # someone else's

    page = signed_in(citizen).get(en("portal:messages")).content.decode()
    accepted = page.index("Application N-001 accepted")
    received = page.index("Application N-001 received")
    assert accepted < received  # newest first
    assert "A decision is promised by 2026-12-01." in page
    assert "N-009" not in page
    # The link opens the same page in the reader's language.
    assert '<a href="/en/regions/330106/">Open' in page
    assert "2 unread messages" in page


def test_the_chinese_page_is_the_unprefixed_one(notify: Notify, citizen: User) -> None:
    notify([citizen], link="/regions/330106/", **INBOX)
    notify([citizen], link="/no/such/page/", **INBOX)
    page = signed_in(citizen).get(reverse("portal:messages")).content.decode()
    assert reverse("portal:messages") == "/my/messages/"
    assert '<a href="/regions/330106/">' in page
    assert '<a href="/no/such/page/">' in page  # not resolvable: shown as stored
    assert '<html lang="zh' in page


def test_marking_one_message_read(notify: Notify, citizen: User) -> None:
    notify([citizen], "case.submitted", numbered(1), **INBOX)
    notify([citizen], "case.withdrawn", numbered(2), **INBOX)
    first = Message.objects.get(params__case_number="N-001")
    client = signed_in(citizen)
    response = client.post(reverse("portal:messages_read"), {"message": first.pk, "page": "1"})
    assert response.status_code == 302
    assert response["Location"] == reverse("portal:messages") + "?page=1"
    first.refresh_from_db()
    assert first.read_at is not None
    assert selectors.unread_count(citizen) == 1
    record = AuditRecord.objects.get(action="notifications.read")
    assert (record.actor_id, record.object_id, record.after) == (citizen.pk, str(first.pk), {"messages": [first.pk]})

    # Marking it again changes nothing and records nothing.
    read_at = first.read_at
    client.post(reverse("portal:messages_read"), {"message": first.pk})
    first.refresh_from_db()
    assert first.read_at == read_at
    assert AuditRecord.objects.filter(action="notifications.read").count() == 1


def test_marking_all_read(notify: Notify, citizen: User, enterprise_rep: User) -> None:
    for n in range(3):
        notify([citizen, enterprise_rep], "case.submitted", numbered(n), **INBOX)
    response = signed_in(citizen).post(en("portal:messages_read"), {"all": "1"}, follow=True)
    assert "3 messages marked read." in response.content.decode()
    assert selectors.unread_count(citizen) == 0
    assert selectors.unread_count(enterprise_rep) == 3  # nobody else's


def test_nobody_can_mark_another_persons_message_read(notify: Notify, citizen: User, enterprise_rep: User) -> None:
    notify([citizen], **INBOX)
    notify([enterprise_rep], **INBOX)
    theirs = Message.objects.get(recipient=citizen)
    mine = Message.objects.get(recipient=enterprise_rep)
    client = signed_in(enterprise_rep)
    response = client.post(en("portal:messages_read"), {"message": [theirs.pk]})
    assert response.status_code == 404
    assert "There is no such message among yours." in response.content.decode()
    # Not even mixed in with one's own: nothing changes at all.
    assert client.post(en("portal:messages_read"), {"message": [mine.pk, theirs.pk]}).status_code == 404
    assert Message.objects.filter(read_at__isnull=False).count() == 0
    assert not AuditRecord.objects.filter(action="notifications.read").exists()


@pytest.mark.parametrize("bad", ["abc", "", "1.5", "-1", "99999", "99999999999999999999999"])
def test_a_malformed_or_unknown_message_id_is_not_found_and_changes_nothing(
    notify: Notify, citizen: User, bad: str
) -> None:
    notify([citizen], **INBOX)
    response = signed_in(citizen).post(reverse("portal:messages_read"), {"message": bad})
    assert response.status_code == 404
    assert selectors.unread_count(citizen) == 1


def test_marking_read_takes_a_post_only(notify: Notify, citizen: User) -> None:
    notify([citizen], **INBOX)
    assert signed_in(citizen).get(reverse("portal:messages_read")).status_code == 405
    assert selectors.unread_count(citizen) == 1


def test_the_list_pages_and_filters_unread(notify: Notify, citizen: User) -> None:
    for n in range(25):
        notify([citizen], "case.submitted", numbered(n), **INBOX)
    Message.objects.filter(params__case_number="N-000").update(read_at="2026-01-01T00:00:00Z")
    client = signed_in(citizen)
    first = client.get(en("portal:messages")).content.decode()
    second = client.get(en("portal:messages") + "?page=2").content.decode()
    assert "Page 1 of 2" in first
    assert len(re.findall(r'class="message-item', first)) == 20
    assert len(re.findall(r'class="message-item', second)) == 5
    assert "N-024" in first and "N-000" in second
    unread = client.get(en("portal:messages") + "?unread=1").content.decode()
    assert "24 unread messages" in unread
    assert 'href="?unread=1&amp;page=2"' in unread  # paging keeps the filter
    unread_second = client.get(en("portal:messages") + "?unread=1&page=2").content.decode()
    assert "N-001" in unread_second and "N-000" not in unread_second


def test_an_empty_message_centre_says_so(citizen: User) -> None:
    page = signed_in(citizen).get(en("portal:messages")).content.decode()
    assert "No messages yet." in page


def test_the_header_shows_the_unread_count_to_signed_in_people_only(
    client: Client, notify: Notify, citizen: User
) -> None:
    notify([citizen], **INBOX)
    notify([citizen], **INBOX)
    visitor = client.get(en("portal:home")).content.decode()
    assert reverse("portal:messages") not in visitor and "/en/my/messages/" not in visitor
    page = signed_in(citizen).get(en("portal:account")).content.decode()
    assert re.search(r'href="/en/my/messages/"[^>]*>Messages <span class="badge">2<', page)


def test_no_badge_without_unread_messages(citizen: User) -> None:
    page = signed_in(citizen).get(en("portal:account")).content.decode()
    assert re.search(r'href="/en/my/messages/"[^>]*>Messages</a>', page)


def test_citizens_get_the_forbidden_page_in_the_workbench(notify: Notify, citizen: User) -> None:
    notify([citizen], **INBOX)
    client = signed_in(citizen)
    assert client.get(en("workbench:messages")).status_code == 403
    assert client.post(en("workbench:messages_read"), {"all": "1"}).status_code == 403
    assert selectors.unread_count(citizen) == 1


def test_staff_read_their_messages_in_the_workbench(
    notify: Notify, staff_client: StaffClient, clerk: User, reviewer_a: User
) -> None:
    notify([clerk], "case.task_assigned", numbered(7), link="/workbench/", **INBOX)
    notify([reviewer_a], "case.task_assigned", numbered(8), **INBOX)
    client = staff_client(clerk)
    page = client.get(en("workbench:messages")).content.decode()
    assert "New task: application N-007" in page
    assert "N-008" not in page
    assert re.search(r'aria-current="page">My messages <span class="badge">1<', page)
    message = Message.objects.get(recipient=clerk)
    response = client.post(en("workbench:messages_read"), {"message": message.pk})
    assert response["Location"] == en("workbench:messages")
    assert selectors.unread_count(clerk) == 0
    theirs = Message.objects.get(recipient=reviewer_a)
    assert client.post(en("workbench:messages_read"), {"message": theirs.pk}).status_code == 404
    assert selectors.unread_count(reviewer_a) == 1


def test_selectors_read_ones_own_messages_only(notify: Notify, citizen: User, enterprise_rep: User) -> None:
    from django.contrib.auth.models import AnonymousUser

    notify([citizen], "case.submitted", numbered(1), **INBOX)
    notify([citizen, enterprise_rep], "case.submitted", numbered(2), **INBOX)
    assert [m.params["case_number"] for m in selectors.inbox(citizen)] == ["N-002", "N-001"]
    assert [m.params["case_number"] for m in selectors.inbox(enterprise_rep)] == ["N-002"]
    Message.objects.filter(recipient=citizen, params__case_number="N-002").update(read_at="2026-01-01T00:00:00Z")
    assert [m.params["case_number"] for m in selectors.inbox(citizen, unread_only=True)] == ["N-001"]
    assert selectors.unread_count(citizen) == 1
    assert list(selectors.inbox(AnonymousUser())) == []
    assert selectors.unread_count(AnonymousUser()) == 0
