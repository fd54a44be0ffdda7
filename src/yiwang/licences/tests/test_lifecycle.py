"""Suspension, reinstatement, revocation, re-issue and change, by the issuing department's approvers only; new
versions leave the old one superseded; the holder is told; expiry reminders go out once per expiry date."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import User

from yiwang.audit.models import AuditRecord
from yiwang.common.errors import InvalidInput, InvalidTransition, PermissionDenied
from yiwang.licences import identifiers, issuance, lifecycle, pki, sealing, selectors, services
from yiwang.licences.constants import LicenceStatus, Verdict
from yiwang.licences.models import Licence, LicenceType
from yiwang.notifications.models import Message

pytestmark = pytest.mark.django_db


def _messages(user: User, kind: str) -> int:
    return Message.objects.filter(recipient=user, kind=kind).count()


@pytest.mark.parametrize("persona", ["citizen", "clerk", "reviewer_b", "supervisor", "auditor"])
def test_only_the_issuing_departments_approvers_act(
    persona: str, request: pytest.FixtureRequest, licence: Licence
) -> None:
    actor = request.getfixturevalue(persona)
    for act in (lifecycle.suspend, lifecycle.revoke, lifecycle.reissue):
        with pytest.raises(PermissionDenied):
            act(actor=actor, licence=licence, reason="核查")
    licence.refresh_from_db()
    assert licence.status == LicenceStatus.VALID and Licence.objects.count() == 1


def test_suspend_then_reinstate_and_the_holder_is_told(licence: Licence, reviewer_a: User, citizen: User) -> None:
    suspended = lifecycle.suspend(actor=reviewer_a, licence=licence, reason="涉嫌违法经营，暂扣待查")
    assert selectors.verify_identifier(licence.identifier).verdict == Verdict.SUSPENDED
    assert _messages(citizen, "licence.suspended") == 1
    with pytest.raises(InvalidTransition):
        lifecycle.suspend(actor=reviewer_a, licence=suspended, reason="again")
    lifecycle.reinstate(actor=reviewer_a, licence=suspended, reason="核查完毕")
    assert selectors.verify_identifier(licence.identifier).verdict == Verdict.VALID
    assert _messages(citizen, "licence.reinstated") == 1
    actions = list(AuditRecord.objects.filter(object_type="licences.licence").values_list("action", flat=True))
    assert {"licences.suspended", "licences.reinstated"} <= set(actions)


def test_revocation_is_final(licence: Licence, reviewer_a: User, citizen: User) -> None:
    lifecycle.revoke(actor=reviewer_a, licence=licence, reason="以欺骗手段取得许可，依法撤销")
    assert selectors.verify_identifier(licence.identifier).verdict == Verdict.REVOKED
    for act in (lifecycle.reinstate, lifecycle.revoke, lifecycle.reissue):
        with pytest.raises(InvalidTransition):
            act(actor=reviewer_a, licence=licence, reason="x")
    assert _messages(citizen, "licence.revoked") == 1


def test_a_reason_is_required(licence: Licence, reviewer_a: User) -> None:
    for reason in ("", "   ", "长" * 501):
        with pytest.raises(InvalidInput):
            lifecycle.suspend(actor=reviewer_a, licence=licence, reason=reason)
    licence.refresh_from_db()
    assert licence.status == LicenceStatus.VALID


def test_reissue_makes_the_next_version_and_the_old_one_superseded(
    licence: Licence, reviewer_a: User, citizen: User
) -> None:
    new = lifecycle.reissue(actor=reviewer_a, licence=licence, reason="原证照损毁，申请补领")
    old = identifiers.parse(licence.identifier)
    assert identifiers.parse(new.identifier) == old.next_version()
    assert (new.serial, new.version, new.previous_id, new.case_id) == (licence.serial, 2, licence.pk, None)
    assert (new.valid_from, new.valid_until, new.data) == (licence.valid_from, licence.valid_until, licence.data)
    assert selectors.verify_identifier(licence.identifier).verdict == Verdict.SUPERSEDED
    assert selectors.verify_identifier(new.identifier).verdict == Verdict.VALID
    root = services.active_root()
    assert root is not None
    check = sealing.check_pdf(
        issuance.sealed_bytes(new), root=pki.certificate_from_pem(root.certificate_pem), crl_der=None
    )
    assert check.verdict == sealing.VALID
    assert _messages(citizen, "licence.new_version") == 1


def test_change_takes_only_the_types_fields(licence: Licence, reviewer_a: User) -> None:
    with pytest.raises(InvalidInput) as refused:
        lifecycle.change(actor=reviewer_a, licence=licence, reason="住所变更", changes={"colour": "红"})
    assert refused.value.details[0]["field"] == "changes.colour"
    with pytest.raises(InvalidInput):
        lifecycle.change(actor=reviewer_a, licence=licence, reason="住所变更", changes={})
    assert Licence.objects.count() == 1
    new = lifecycle.change(
        actor=reviewer_a, licence=licence, reason="住所变更", changes={"address": "浙江省杭州市西湖区天目山路2号"}
    )
    assert new.data["address"] == "浙江省杭州市西湖区天目山路2号" and new.data["scope"] == licence.data["scope"]
    licence.refresh_from_db()
    assert licence.status == LicenceStatus.SUPERSEDED and licence.status_reason == "住所变更"


def test_expiry_reminders_go_once_per_expiry_date(
    enterprise_licence: Licence, enterprise_rep: User, agent: User, reviewer_a: User, system: object
) -> None:
    Licence.objects.filter(pk=enterprise_licence.pk).update(valid_until=dt.date(2027, 1, 20))
    assert lifecycle.send_expiry_reminders(actor=system, today=dt.date(2026, 12, 1)) == 0  # 50 days ahead
    assert lifecycle.send_expiry_reminders(actor=system, today=dt.date(2026, 12, 25)) == 1
    assert lifecycle.send_expiry_reminders(actor=system, today=dt.date(2026, 12, 26)) == 0  # not twice
    assert _messages(enterprise_rep, "licence.expiring") == 1 and _messages(agent, "licence.expiring") == 1
    # A renewal that moves the date earns its own reminder.
    Licence.objects.filter(pk=enterprise_licence.pk).update(valid_until=dt.date(2027, 1, 10))
    assert lifecycle.send_expiry_reminders(actor=system, today=dt.date(2026, 12, 26)) == 1


def test_a_suspended_licence_is_not_reminded(
    enterprise_licence: Licence, reviewer_a: User, system: object, business_licence_type: LicenceType
) -> None:
    Licence.objects.filter(pk=enterprise_licence.pk).update(
        valid_until=dt.date(2027, 1, 1), status=LicenceStatus.SUSPENDED
    )
    assert lifecycle.send_expiry_reminders(actor=system, today=dt.date(2026, 12, 25)) == 0
