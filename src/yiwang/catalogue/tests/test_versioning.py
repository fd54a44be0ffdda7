"""Draft → in review → published → superseded / withdrawn; frozen versions; planned dates."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
import time_machine
from django.utils import timezone

from yiwang.audit.models import AuditRecord
from yiwang.catalogue import selectors, services
from yiwang.catalogue.constants import VersionStatus
from yiwang.catalogue.models import BasicItem, ImplementationItem, ItemVersion
from yiwang.catalogue.tests.factories import item_content
from yiwang.common.errors import InvalidInput, InvalidTransition, PermissionDenied
from yiwang.common.models import OutboxEvent

pytestmark = pytest.mark.django_db
SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def _number(version: ItemVersion | None) -> int | None:
    return version.number if version else None


def test_a_draft_with_violations_is_saved_but_cannot_be_submitted_or_published(manager, publisher) -> None:
    draft = services.save_draft(actor=manager, content=item_content(faqs=[], contacts={}))
    assert draft.status == VersionStatus.DRAFT
    assert draft.violation_count == 3  # Q5 faqs, Q4 consultation, Q4 supervision
    with pytest.raises(InvalidInput) as excinfo:
        services.submit_for_review(actor=manager, version=draft)
    assert {d["rule"] for d in excinfo.value.details} == {"Q4", "Q5"}
    draft.refresh_from_db()
    assert draft.status == VersionStatus.DRAFT


def test_publication_path_writes_audit_transitions_and_an_outbox_event(manager, publisher) -> None:
    draft = services.save_draft(actor=manager, content=item_content())
    reviewed = services.submit_for_review(actor=manager, version=draft)
    published = services.publish(actor=publisher, version=reviewed)
    assert published.status == VersionStatus.PUBLISHED
    assert selectors.current_version_of(published.implementation_code) == published
    records = AuditRecord.objects.filter(object_type="catalogue.version", object_id=str(published.pk))
    actions = list(records.order_by("id").values_list("action", flat=True))
    assert actions == ["catalogue.version.save_draft", "catalogue.version.in_review", "catalogue.version.published"]
    assert [t.to_status for t in published.transitions.all()] == ["draft", "in_review", "published"]
    assert OutboxEvent.objects.filter(topic="catalogue.version.published", payload__version_id=published.pk).exists()


def test_a_manager_cannot_publish_and_a_citizen_cannot_write(manager, citizen) -> None:
    draft = services.save_draft(actor=manager, content=item_content())
    reviewed = services.submit_for_review(actor=manager, version=draft)
    with pytest.raises(PermissionDenied):
        services.publish(actor=manager, version=reviewed)
    with pytest.raises(PermissionDenied):
        services.save_draft(actor=citizen, content=item_content())
    reviewed.refresh_from_db()
    assert reviewed.status == VersionStatus.IN_REVIEW


def test_published_content_is_frozen(published) -> None:
    version = published()
    version.content = {**version.content, "name": "改名"}
    with pytest.raises(ValueError, match="immutable"):
        version.save()


def test_editing_a_published_item_opens_a_new_version_and_publishing_it_supersedes(published, publisher) -> None:
    first = published()
    changed = {**first.content, "hours": "工作日 8:30–17:30"}
    second = services.save_draft(actor=publisher, content=changed)
    assert (second.number, second.item_id) == (2, first.item_id)
    assert selectors.current_version_of(first.implementation_code) == first  # the draft is not public
    services.submit_for_review(actor=publisher, version=second)
    second.refresh_from_db()
    services.publish(actor=publisher, version=second)
    first.refresh_from_db()
    assert first.status == VersionStatus.SUPERSEDED
    assert _number(selectors.current_version_of(first.implementation_code)) == 2
    rows = selectors.diff_versions(first, second)
    assert [(r.path, r.kind, r.old, r.new) for r in rows] == [
        ("hours", "changed", "工作日 9:00–17:00", "工作日 8:30–17:30")
    ]


def test_only_one_open_draft_per_item(manager) -> None:
    content = item_content()
    first = services.save_draft(actor=manager, content=content)
    again = services.save_draft(actor=manager, content={**content, "hours": "全天"})
    assert first.pk == again.pk
    assert ItemVersion.objects.filter(item=first.item).count() == 1


def test_an_item_in_review_cannot_be_edited_until_returned(manager, publisher) -> None:
    content = item_content()
    draft = services.save_draft(actor=manager, content=content)
    services.submit_for_review(actor=manager, version=draft)
    with pytest.raises(InvalidTransition):
        services.save_draft(actor=manager, content=content)
    draft.refresh_from_db()
    with pytest.raises(InvalidInput):
        services.return_to_draft(actor=publisher, version=draft, reason="  ")
    services.return_to_draft(actor=publisher, version=draft, reason="请补充常见问题")
    assert services.save_draft(actor=manager, content=content).pk == draft.pk


def test_illegal_transitions_are_refused(published, publisher) -> None:
    version = published()
    with pytest.raises(InvalidTransition):
        services.submit_for_review(actor=publisher, version=version)
    withdrawn = services.withdraw(actor=publisher, version=version, reason="事项取消")
    with pytest.raises(InvalidTransition):
        services.withdraw(actor=publisher, version=withdrawn, reason="again")


def test_withdrawing_hides_the_item_at_once(published, publisher) -> None:
    version = published()
    services.withdraw(actor=publisher, version=version, reason="依法取消")
    assert selectors.current_version_of(version.implementation_code) is None
    assert list(selectors.version_history(version.item)) == [ItemVersion.objects.get(pk=version.pk)]


def test_planned_effective_and_cancel_dates_take_effect_by_themselves(publisher) -> None:
    with time_machine.travel(dt.datetime(2026, 3, 1, 10, tzinfo=SHANGHAI), tick=False):
        content = item_content(cancel_date="2026-06-01")
        v1 = services.save_draft(actor=publisher, content=content)
        services.submit_for_review(actor=publisher, version=v1)
        v1.refresh_from_db()
        services.publish(actor=publisher, version=v1)
        v2 = services.save_draft(
            actor=publisher, content={**content, "hours": "周一至周六", "effective_date": "2026-04-01"}
        )
        services.submit_for_review(actor=publisher, version=v2)
        v2.refresh_from_db()
        services.publish(actor=publisher, version=v2)
        code = content["implementation_code"]
        assert _number(selectors.current_version_of(code)) == 1
    with time_machine.travel(dt.datetime(2026, 4, 1, 0, 0, 1, tzinfo=SHANGHAI), tick=False):
        assert _number(selectors.current_version_of(code)) == 2  # visible without any job having run
        assert services.apply_schedule() == 1
        assert services.apply_schedule() == 0  # idempotent
        v1.refresh_from_db()
        assert v1.status == VersionStatus.SUPERSEDED
    with time_machine.travel(dt.datetime(2026, 6, 1, 0, 0, 1, tzinfo=SHANGHAI), tick=False):
        assert selectors.current_version_of(code) is None
        assert services.apply_schedule() == 1
        v2.refresh_from_db()
        assert v2.status == VersionStatus.WITHDRAWN


def test_a_basic_item_is_registered_once_and_shared_across_regions(publisher, admin) -> None:
    from yiwang.catalogue.tests.factories import OTHER_BODY_USCC

    services.save_draft(actor=publisher, content=item_content())
    other = item_content(
        region_code="370811", implementing_body={"name": "济宁市任城区市场监督管理局", "uscc": OTHER_BODY_USCC}
    )
    # Another department's body in another region: not the department-A publisher's, so an administrator's.
    services.save_draft(actor=admin, content=other)
    basic = BasicItem.objects.get(code="000131128000")
    assert basic.implementations.count() == 2
    # 同一事项、同一标准: a locality cannot rename the nationally fixed name.
    renamed = services.save_draft(actor=admin, content={**other, "name": "个体户开业"})
    assert renamed.violation_count >= 1
    assert BasicItem.objects.get(code="000131128000").name == "个体工商户登记"


def test_bad_content_changes_nothing(manager) -> None:
    before = (ImplementationItem.objects.count(), ItemVersion.objects.count(), AuditRecord.objects.count())
    with pytest.raises(InvalidInput) as excinfo:
        services.save_draft(actor=manager, content=item_content(max_visits=-1))
    assert excinfo.value.details[0]["path"] == "$.max_visits"
    after = (ImplementationItem.objects.count(), ItemVersion.objects.count(), AuditRecord.objects.count())
    assert before == after


def test_published_timestamps_are_aware(published) -> None:
    version = published()
    assert timezone.is_aware(version.published_at)
