"""Share links: a holder shows a third party the annotated copy (加注件) of a valid licence for 1–30 days; the copy is
sealed by the issuer and says 此件由…提供; every opening is logged (masked address) and shown to the holder; a bad
request, someone else's licence, a licence that is not valid, an expired, withdrawn or unknown link are each refused
clearly with nothing changed — no link made, no view logged."""

from __future__ import annotations

import datetime as dt
import hashlib
import subprocess
from html import unescape
from pathlib import Path
from typing import Any

import pytest
import time_machine
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from yiwang.audit.models import AuditRecord
from yiwang.common.errors import InvalidInput, InvalidTransition, NotFound
from yiwang.licences import lifecycle, pki, sealing, services, sharing
from yiwang.licences.models import Licence, LicenceShare, LicenceShareView

pytestmark = pytest.mark.django_db


def zh(message: str) -> str:
    with translation.override("zh-hans"):
        return gettext(message)


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _body(response: Any) -> bytes:
    return b"".join(response.streaming_content)


def _text_of(pdf: bytes, tmp_path: Path) -> str:
    path = tmp_path / "copy.pdf"
    path.write_bytes(pdf)
    done = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True)
    return "".join(done.stdout.split())  # the annotation wraps across lines: compare without any whitespace


def _nothing_shared() -> None:
    assert not LicenceShare.objects.exists()
    assert not AuditRecord.objects.filter(action="licences.shared").exists()


def _open(token: str, **extra: Any) -> LicenceShare:
    return sharing.open_share(token, client_ip="203.0.113.77", user_agent="Test browser", **extra)


# --- making a link ---------------------------------------------------------------------------------------


def test_a_share_carries_a_sealed_annotated_copy_that_says_who_provided_it(
    licence: Licence, citizen: User, tmp_path: Path
) -> None:
    share, token = sharing.share(actor=citizen, licence=licence, purpose="银行开户", recipient="某银行", days=10)
    assert (
        len(token) >= 43 and share.token == token and share.token_digest == hashlib.sha256(token.encode()).hexdigest()
    )
    assert token not in str(share.file.name)  # a storage listing hands out no working link
    assert dt.timedelta(days=10) - (share.expires_at - timezone.now()) < dt.timedelta(minutes=1)
    copy = share.file.read()
    root = services.active_root()
    assert root is not None
    check = sealing.check_pdf(copy, root=pki.certificate_from_pem(root.certificate_pem), crl_der=services.current_crl())
    assert check.verdict == sealing.VALID
    until = timezone.localtime(share.expires_at).date()
    text = _text_of(copy, tmp_path)
    assert f"此件由{licence.issuer.name}提供" in text
    assert f"有效期至{until.year}年{until.month}月{until.day}日" in text and "银行开户" in text
    assert licence.identifier in text and licence.holder_name in text
    record = AuditRecord.objects.get(action="licences.shared")
    assert record.after is not None and record.after["purpose"] == "银行开户"
    assert record.object_id == str(share.pk) and record.on_behalf_of == ""
    assert token not in str(record.after)


def test_the_annotation_never_outlives_the_licence(licence: Licence) -> None:
    Licence.objects.filter(pk=licence.pk).update(valid_until=timezone.localdate() + dt.timedelta(days=3))
    licence.refresh_from_db()
    assert sharing.annotation_until(licence, timezone.now() + dt.timedelta(days=30)) == licence.valid_until


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"days": 0}, "days"),
        ({"days": 31}, "days"),
        ({"days": "seven"}, "days"),
        ({"purpose": ""}, "purpose"),
        ({"purpose": "   "}, "purpose"),
        ({"purpose": "用" * 101}, "purpose"),
        ({"recipient": "某" * 101}, "recipient"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_nothing_is_made(
    changes: dict[str, Any], field: str, licence: Licence, citizen: User
) -> None:
    request: dict[str, Any] = {"purpose": "银行开户", "recipient": "", "days": 7, **changes}
    with pytest.raises(InvalidInput) as refused:
        sharing.share(actor=citizen, licence=licence, **request)
    assert [d["field"] for d in refused.value.details] == [field]
    _nothing_shared()


def test_every_problem_is_named_at_once(licence: Licence, citizen: User) -> None:
    with pytest.raises(InvalidInput) as refused:
        sharing.share(actor=citizen, licence=licence, purpose="", recipient="某" * 101, days=0)
    assert [d["field"] for d in refused.value.details] == ["purpose", "recipient", "days"]
    with translation.override("zh-hans"), pytest.raises(InvalidInput) as chinese:
        sharing.share(actor=citizen, licence=licence, purpose="", days=7)
    assert chinese.value.details[0]["message"] == zh("Say what the licence is shared for.")
    _nothing_shared()


@pytest.mark.parametrize("persona", ["enterprise_rep", "agent", "reviewer_a", "reviewer_b", "admin"])
def test_only_the_holder_side_shares(persona: str, request: pytest.FixtureRequest, licence: Licence) -> None:
    with pytest.raises(NotFound):
        sharing.share(actor=request.getfixturevalue(persona), licence=licence, purpose="银行开户")
    _nothing_shared()


def test_a_suspended_licence_cannot_be_shared(licence: Licence, citizen: User, reviewer_a: User) -> None:
    lifecycle.suspend(actor=reviewer_a, licence=licence, reason="核查")
    with pytest.raises(InvalidTransition) as refused:
        sharing.share(actor=citizen, licence=licence, purpose="银行开户")
    assert "只有有效的电子证照可以分享" in str(refused.value.message)
    response = signed_in(citizen).post(reverse("wallet:share", args=[licence.pk]), {"purpose": "银行开户", "days": "7"})
    assert response.status_code == 400
    _nothing_shared()


def test_an_expired_or_superseded_licence_cannot_be_shared(licence: Licence, citizen: User, reviewer_a: User) -> None:
    Licence.objects.filter(pk=licence.pk).update(valid_until=timezone.localdate() - dt.timedelta(days=1))
    licence.refresh_from_db()
    with pytest.raises(InvalidTransition):
        sharing.share(actor=citizen, licence=licence, purpose="银行开户")
    Licence.objects.filter(pk=licence.pk).update(valid_until=None)
    licence.refresh_from_db()
    lifecycle.reissue(actor=reviewer_a, licence=licence, reason="遗失补领")
    licence.refresh_from_db()
    with pytest.raises(InvalidTransition):
        sharing.share(actor=citizen, licence=licence, purpose="银行开户")
    _nothing_shared()


def test_an_enterprise_agent_shares_for_the_enterprise_and_the_representative_sees_and_withdraws_it(
    enterprise_licence: Licence, agent: User, enterprise_rep: User
) -> None:
    share, _token = sharing.share(actor=agent, licence=enterprise_licence, purpose="投标")
    record = AuditRecord.objects.get(action="licences.shared")
    assert record.actor == agent and record.on_behalf_of == enterprise_licence.holder_name
    detail = unescape(
        signed_in(enterprise_rep).get(reverse("wallet:licence", args=[enterprise_licence.pk])).content.decode()
    )
    assert "投标" in detail
    sharing.withdraw(actor=enterprise_rep, share=share)
    assert LicenceShare.objects.get(pk=share.pk).revoked_at is not None


# --- the holder's pages ------------------------------------------------------------------------------------


def test_the_holder_makes_a_link_on_the_page_and_sees_its_address_once(licence: Licence, citizen: User) -> None:
    client = signed_in(citizen)
    response = client.post(
        reverse("wallet:share", args=[licence.pk]), {"purpose": "租房", "recipient": "房东", "days": "3"}
    )
    assert response.status_code == 302 and response["Location"] == reverse("wallet:licence", args=[licence.pk])
    share = LicenceShare.objects.get()
    url = sharing.share_url(share.token)
    assert url.endswith(f"/licences/s/{share.token}/")
    first = unescape(client.get(response["Location"]).content.decode())
    assert 'id="new-share-url"' in first and url in first and "房东" in first
    again = unescape(client.get(response["Location"]).content.decode())
    assert 'id="new-share-url"' not in again and url in again  # still listed while it works


def test_the_page_shows_a_bad_request_beside_its_field(licence: Licence, citizen: User) -> None:
    response = signed_in(citizen).post(reverse("wallet:share", args=[licence.pk]), {"purpose": "", "days": "31"})
    assert response.status_code == 400
    body = unescape(response.content.decode())
    assert "has-error" in body
    _nothing_shared()


# --- opening a link --------------------------------------------------------------------------------------


def test_anyone_with_the_link_sees_the_licence_and_the_holder_sees_each_view(
    licence: Licence, citizen: User, tmp_path: Path
) -> None:
    share, token = sharing.share(actor=citizen, licence=licence, purpose="银行开户", days=7)
    visitor = Client()
    response = visitor.get(
        reverse("wallet:shared", args=[token]), REMOTE_ADDR="203.0.113.77", HTTP_USER_AGENT="Bank browser/1.0"
    )
    assert response.status_code == 200 and response["Referrer-Policy"] == "no-referrer"
    assert "no-store" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]
    body = unescape(response.content.decode())
    assert licence.identifier in body and licence.holder_name in body and licence.data["address"] in body
    assert f"此件由{licence.issuer.name}提供" in body and "银行开户" in body
    view = LicenceShareView.objects.get()
    assert (view.share, view.client, view.user_agent, view.downloaded) == (
        share,
        "203.0.113.0/24",
        "Bank browser/1.0",
        False,
    )

    download = visitor.get(reverse("wallet:shared_file", args=[token]), REMOTE_ADDR="2001:db8:85a3::8a2e:370:7334")
    assert download.status_code == 200 and download["Content-Disposition"].startswith("attachment")
    assert _body(download) == LicenceShare.objects.get().file.read()
    latest = LicenceShareView.objects.order_by("-id").first()
    assert latest is not None and latest.downloaded and latest.client == "2001:db8:85a3::/48"

    holder_page = unescape(signed_in(citizen).get(reverse("wallet:licence", args=[licence.pk])).content.decode())
    assert "203.0.113.0/24" in holder_page and "2001:db8:85a3::/48" in holder_page and "Bank browser/1.0" in holder_page
    assert "203.0.113.77" not in holder_page

    with translation.override("en"):
        english = visitor.get(reverse("wallet:shared", args=[token]))
    assert english.status_code == 200 and "Annotation" in english.content.decode()


def test_an_expired_link_shows_nothing_and_logs_nothing(licence: Licence, citizen: User) -> None:
    _share, token = sharing.share(actor=citizen, licence=licence, purpose="银行开户", days=1)
    with time_machine.travel(timezone.now() + dt.timedelta(days=1, minutes=1)):
        with pytest.raises(sharing.ShareGone):
            _open(token)
        for name in ("wallet:shared", "wallet:shared_file"):
            response = Client().get(reverse(name, args=[token]))
            assert response.status_code == 410
            body = unescape(response.content.decode())
            assert zh("This share link has expired. Ask the holder for a new one.") in body
            assert licence.holder_name not in body and licence.identifier not in body
    assert not LicenceShareView.objects.exists()


def test_a_withdrawn_link_shows_nothing_and_logs_nothing(licence: Licence, citizen: User) -> None:
    share, token = sharing.share(actor=citizen, licence=licence, purpose="银行开户")
    response = signed_in(citizen).post(reverse("wallet:withdraw", args=[share.pk]))
    assert response.status_code == 302
    assert AuditRecord.objects.filter(action="licences.share_withdrawn", object_id=str(share.pk)).count() == 1
    with pytest.raises(sharing.ShareGone):
        _open(token)
    gone = Client().get(reverse("wallet:shared", args=[token]))
    assert gone.status_code == 410 and licence.holder_name not in gone.content.decode()
    assert zh("The holder has withdrawn this share link.") in unescape(gone.content.decode())
    assert not LicenceShareView.objects.exists()
    # Withdrawing again is refused, and changes nothing.
    with pytest.raises(InvalidTransition):
        sharing.withdraw(actor=citizen, share=share)
    assert AuditRecord.objects.filter(action="licences.share_withdrawn").count() == 1


@pytest.mark.parametrize("persona", ["enterprise_rep", "reviewer_a", "reviewer_b"])
def test_only_the_holder_side_withdraws(
    persona: str, request: pytest.FixtureRequest, licence: Licence, citizen: User, staff_client: Any
) -> None:
    share, token = sharing.share(actor=citizen, licence=licence, purpose="银行开户")
    user = request.getfixturevalue(persona)
    with pytest.raises(NotFound):
        sharing.withdraw(actor=user, share=share)
    client = signed_in(user) if persona == "enterprise_rep" else staff_client(user)
    assert client.post(reverse("wallet:withdraw", args=[share.pk])).status_code == 404
    anonymous = Client().post(reverse("wallet:withdraw", args=[share.pk]))
    assert anonymous.status_code == 302
    assert LicenceShare.objects.get(pk=share.pk).revoked_at is None
    assert _open(token) == share


def test_a_link_stops_when_its_licence_is_suspended(licence: Licence, citizen: User, reviewer_a: User) -> None:
    _share, token = sharing.share(actor=citizen, licence=licence, purpose="银行开户")
    lifecycle.suspend(actor=reviewer_a, licence=licence, reason="核查")
    response = Client().get(reverse("wallet:shared", args=[token]))
    assert response.status_code == 410 and licence.holder_name not in response.content.decode()
    assert not LicenceShareView.objects.exists()


@pytest.mark.parametrize("token", ["x", "A" * 43, "A" * 500])
def test_an_unknown_token_is_not_found_and_logs_nothing(token: str, licence: Licence, citizen: User) -> None:
    sharing.share(actor=citizen, licence=licence, purpose="银行开户")
    with pytest.raises(NotFound):
        _open(token)
    response = Client().get(reverse("wallet:shared", args=[token]))
    assert response.status_code == 404 and licence.holder_name not in response.content.decode()
    assert Client().get(reverse("wallet:shared_file", args=[token])).status_code == 404
    assert not LicenceShareView.objects.exists()


@pytest.mark.parametrize(
    ("address", "masked"),
    [
        ("203.0.113.77", "203.0.113.0/24"),
        ("::ffff:198.51.100.9", "198.51.100.0/24"),
        ("2001:db8:85a3:1:2:3:4:5", "2001:db8:85a3::/48"),
        ("", ""),
        ("not an address", ""),
    ],
)
def test_a_viewers_address_is_kept_only_to_its_network(address: str, masked: str) -> None:
    assert sharing.mask_client(address) == masked
