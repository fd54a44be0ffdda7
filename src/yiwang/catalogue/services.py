"""All writes to the catalogue.

Every function takes a keyword-only ``actor``, runs in one transaction, writes its audit record inside
that transaction and leaves outbound effects to the outbox (delivered after commit).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiwang.audit import services as audit
from yiwang.audit.actors import SCHEDULER, Actor, SystemActor, actor_label
from yiwang.catalogue.constants import TRANSITIONS, VersionStatus
from yiwang.catalogue.models import BasicItem, ImplementationItem, ItemVersion, ItemVersionTransition, Organisation
from yiwang.catalogue.rules import BasicItemFacts, RuleContext, Violation, blocking, check_item
from yiwang.catalogue.schema import schema_errors
from yiwang.catalogue.selectors import GENERATION_KEY
from yiwang.common import outbox
from yiwang.common.errors import InvalidInput, InvalidTransition, PermissionDenied
from yiwang.common.models import Division

MANAGE = "catalogue.manage_catalogue"
PUBLISH = "catalogue.publish_catalogue"


# --- permissions and context ----------------------------------------------------------------------


def can(actor: Actor, permission: str) -> bool:
    if isinstance(actor, SystemActor):
        return True
    return bool(actor.is_active and actor.has_perm(permission))  # type: ignore[attr-defined]  # auth user API


def _require(actor: Actor, permission: str) -> None:
    if not can(actor, permission):
        raise PermissionDenied(gettext_lazy("You do not have permission to change the catalogue."))


def rule_context() -> RuleContext:
    """Rules with database-backed lookups (basic items, divisions), cached for one check run."""
    basics: dict[str, BasicItemFacts | None] = {}
    divisions: dict[str, bool] = {}

    def basic_item(code: str) -> BasicItemFacts | None:
        if code not in basics:
            row = BasicItem.objects.filter(code=code).values("code", "name", "item_type").first()
            basics[code] = BasicItemFacts(**row) if row else None
        return basics[code]

    def division_known(code: str) -> bool:
        if code not in divisions:
            divisions[code] = Division.objects.filter(code=code).exists()
        return divisions[code]

    return RuleContext(basic_item=basic_item, division_known=division_known)


def check_document(content: dict[str, Any], context: RuleContext | None = None) -> list[Violation]:
    return check_item(content, context or rule_context())


def _schema_or_raise(content: Any, prefix: str = "$") -> None:
    errors = schema_errors(content, prefix)
    if errors:
        raise InvalidInput(
            gettext_lazy("The item does not match the exchange format: %(path)s: %(message)s")
            % {"path": errors[0].path, "message": errors[0].message},
            details=[e.as_dict() for e in errors],
        )


# --- derived columns ------------------------------------------------------------------------------


def _resolve_organisation(data: dict[str, Any], region: Division | None) -> Organisation:
    uscc = data.get("uscc") or None
    if uscc:
        org, _created = Organisation.objects.get_or_create(
            uscc=uscc, defaults={"name": data["name"], "nature": data.get("nature", ""), "division": region}
        )
        return org
    org, _created = Organisation.objects.get_or_create(
        name=data["name"], division=region, uscc=None, defaults={"nature": data.get("nature", "")}
    )
    return org


def _themes(content: dict[str, Any], key: str) -> str:
    return "|".join((content.get("themes") or {}).get(key) or [])


def _derive(version: ItemVersion) -> None:
    content = version.content
    region = Division.objects.filter(code=content["region_code"]).first()
    department = _resolve_organisation(content["implementing_body"], region)
    version.name = content["name"]
    version.item_type = content["item_type"]
    version.basic_code = content.get("basic_code", "")
    version.implementation_code = content.get("implementation_code", "")
    version.region_code = content["region_code"]
    version.region = region
    version.department = department
    version.service_objects = "," + ",".join(content.get("service_objects") or []) + ","
    version.natural_person_themes = _themes(content, "natural_person")[:500]
    version.legal_person_themes = _themes(content, "legal_person")[:500]
    parts = [
        content["name"],
        content.get("handling_item_name", ""),
        version.basic_code,
        version.implementation_code,
        content.get("handling_item_code", ""),
        department.name,
        department.name_en,
        region.full_name if region else "",
        version.natural_person_themes,
        version.legal_person_themes,
        " ".join(ref.get("title", "") for ref in content.get("legal_basis") or []),
        " ".join(result.get("name", "") for result in content.get("results") or []),
    ]
    version.search_text = " ".join(p for p in parts if p).lower()


def _snapshot(version: ItemVersion) -> dict[str, Any]:
    return {"number": version.number, "status": version.status, "content": version.content}


# --- drafts ---------------------------------------------------------------------------------------


def save_draft(*, actor: Actor, content: dict[str, Any], item: ImplementationItem | None = None) -> ItemVersion:
    """Create or update the open draft of an item. Drafts may have rule violations; they are counted."""
    _require(actor, MANAGE)
    _schema_or_raise(content)
    with transaction.atomic():
        return _save_draft_locked(actor=actor, content=content, item=item, context=rule_context())


def _save_draft_locked(
    *, actor: Actor, content: dict[str, Any], item: ImplementationItem | None, context: RuleContext
) -> ItemVersion:
    code = content.get("implementation_code") or None
    if item is None and code:
        item = ImplementationItem.objects.select_for_update().filter(implementation_code=code).first()
    elif item is not None:
        item = ImplementationItem.objects.select_for_update().get(pk=item.pk)
        if code and item.implementation_code and code != item.implementation_code:
            raise InvalidInput(gettext_lazy("The implementation code of an existing item cannot change."))
    if item is None:
        item = ImplementationItem.objects.create(implementation_code=code)
        audit.record(
            actor=actor,
            action="catalogue.item.create",
            object_type="catalogue.item",
            object_id=item.pk,
            object_label=code or content["name"],
            after={"implementation_code": code},
        )
    elif code and not item.implementation_code:
        item.implementation_code = code
        item.save(update_fields=["implementation_code"])
    basic_code = content.get("basic_code")
    if basic_code:
        basic = _ensure_basic_item(actor=actor, content=content)
        if item.basic_item_id != basic.pk:
            item.basic_item = basic
            item.save(update_fields=["basic_item"])

    version = item.versions.filter(status__in=[VersionStatus.DRAFT, VersionStatus.IN_REVIEW]).first()
    if version is not None and version.status == VersionStatus.IN_REVIEW:
        raise InvalidTransition(gettext_lazy("This item is in review; return it to draft before editing."))
    before = _snapshot(version) if version else None
    if version is None:
        number = (item.versions.aggregate(n=Max("number"))["n"] or 0) + 1
        version = ItemVersion(item=item, number=number, status=VersionStatus.DRAFT, created_by=actor_label(actor))
    version.content = content
    _derive(version)
    version.violation_count = len(blocking(check_item(content, context)))
    version.save()
    if before is None:
        ItemVersionTransition.objects.create(
            version=version, to_status=VersionStatus.DRAFT, actor_label=actor_label(actor)
        )
    audit.record(
        actor=actor,
        action="catalogue.version.save_draft",
        object_type="catalogue.version",
        object_id=version.pk,
        object_label=str(version),
        before=before,
        after=_snapshot(version),
    )
    return version


def _ensure_basic_item(*, actor: Actor, content: dict[str, Any]) -> BasicItem:
    """Register a missing basic item from the first implementation that names it (audited).

    An existing basic item is never changed by an implementation: 同一事项、同一标准 — a mismatch is
    reported by rule Q9 instead.
    """
    basic, created = BasicItem.objects.get_or_create(
        code=content["basic_code"],
        defaults={
            "name": content["name"],
            "item_type": content["item_type"],
            "legal_basis": [r for r in content.get("legal_basis") or [] if r.get("role") != "implementing"],
        },
    )
    if created:
        audit.record(
            actor=actor,
            action="catalogue.basic_item.create",
            object_type="catalogue.basic_item",
            object_id=basic.pk,
            object_label=str(basic),
            after={"code": basic.code, "name": basic.name, "item_type": basic.item_type},
        )
    return basic


# --- transitions ----------------------------------------------------------------------------------


def _public_changed() -> None:
    """After commit, move the catalogue generation on so cached public pages are not served stale."""

    def bump() -> None:
        # Not cached yet (ValueError): then nothing stale can be served either.
        with contextlib.suppress(ValueError):
            cache.incr(GENERATION_KEY)

    transaction.on_commit(bump)


def _transition(*, actor: Actor, version: ItemVersion, to: str, note: str = "", **changes: Any) -> ItemVersion:
    """Compare-and-set the status: concurrent transitions of one version cannot both succeed."""
    expected = version.status
    if to not in TRANSITIONS[expected]:
        raise InvalidTransition(
            gettext_lazy("A version that is %(from)s cannot become %(to)s.")
            % {"from": VersionStatus(expected).label, "to": VersionStatus(to).label}
        )
    updated = ItemVersion.objects.filter(pk=version.pk, status=expected).update(status=to, **changes)
    if updated != 1:
        raise InvalidTransition(gettext_lazy("The version was changed by someone else; reload and try again."))
    before = {"status": expected}
    version.refresh_from_db()
    ItemVersionTransition.objects.create(
        version=version, from_status=expected, to_status=to, actor_label=actor_label(actor), note=note
    )
    if to in (VersionStatus.PUBLISHED, VersionStatus.SUPERSEDED, VersionStatus.WITHDRAWN):
        _public_changed()
    audit.record(
        actor=actor,
        action=f"catalogue.version.{to}",
        object_type="catalogue.version",
        object_id=version.pk,
        object_label=str(version),
        before=before,
        after={"status": to},
        note=note,
    )
    return version


def _blocking_or_raise(version: ItemVersion) -> list[Violation]:
    violations = check_document(version.content)
    errors = blocking(violations)
    if errors:
        raise InvalidInput(
            gettext_lazy("The item has %(count)d quality rule violations; fix them first.") % {"count": len(errors)},
            details=[v.as_dict(version.implementation_code) for v in errors],
        )
    return violations


def submit_for_review(*, actor: Actor, version: ItemVersion) -> ItemVersion:
    _require(actor, MANAGE)
    with transaction.atomic():
        _blocking_or_raise(version)
        return _transition(actor=actor, version=version, to=VersionStatus.IN_REVIEW, submitted_at=timezone.now())


def return_to_draft(*, actor: Actor, version: ItemVersion, reason: str) -> ItemVersion:
    _require(actor, PUBLISH)
    if not reason.strip():
        raise InvalidInput(gettext_lazy("Say why the version goes back to draft."))
    with transaction.atomic():
        return _transition(actor=actor, version=version, to=VersionStatus.DRAFT, note=reason)


def _start_of_day(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=zoneinfo.ZoneInfo(settings.TIME_ZONE))


def publish(*, actor: Actor, version: ItemVersion, now: dt.datetime | None = None) -> ItemVersion:
    """Freeze a reviewed version and schedule it: it takes effect at its planned effective date (or now)
    and ends at its planned cancel date; the version it replaces ends where it begins."""
    _require(actor, PUBLISH)
    now = now or timezone.now()
    content = version.content
    valid_from = (
        max(now, _start_of_day(dt.date.fromisoformat(content["effective_date"])))
        if content.get("effective_date")
        else now
    )
    valid_until = _start_of_day(dt.date.fromisoformat(content["cancel_date"])) if content.get("cancel_date") else None
    if valid_until is not None and valid_until <= valid_from:
        raise InvalidInput(gettext_lazy("The planned cancel date has already passed."))
    with transaction.atomic():
        ImplementationItem.objects.select_for_update().get(pk=version.item_id)  # serialise publications per item
        _blocking_or_raise(version)
        predecessors = ItemVersion.objects.filter(item_id=version.item_id, status=VersionStatus.PUBLISHED).exclude(
            pk=version.pk
        )
        for old in predecessors:
            if old.valid_from is not None and old.valid_from >= valid_from:
                # A version scheduled for later than this one would never be seen: it is replaced outright.
                _transition(
                    actor=actor,
                    version=old,
                    to=VersionStatus.SUPERSEDED,
                    valid_until=old.valid_from,
                    note=_("Replaced before taking effect by version %(n)d.") % {"n": version.number},
                )
            elif old.valid_until is None or old.valid_until > valid_from:
                ItemVersion.objects.filter(pk=old.pk).update(valid_until=valid_from)
                if valid_from <= now:
                    _transition(
                        actor=actor,
                        version=old,
                        to=VersionStatus.SUPERSEDED,
                        note=_("Superseded by version %(n)d.") % {"n": version.number},
                    )
        published = _transition(
            actor=actor,
            version=version,
            to=VersionStatus.PUBLISHED,
            published_at=now,
            published_by=actor_label(actor),
            valid_from=valid_from,
            valid_until=valid_until,
        )
        outbox.enqueue(
            "catalogue.version.published",
            {
                "version_id": published.pk,
                "implementation_code": published.implementation_code,
                "number": published.number,
                "valid_from": valid_from.isoformat(),
            },
        )
        return published


def withdraw(*, actor: Actor, version: ItemVersion, reason: str, now: dt.datetime | None = None) -> ItemVersion:
    """Take a published version off the public catalogue at once (事项取消/暂停)."""
    _require(actor, PUBLISH)
    if not reason.strip():
        raise InvalidInput(gettext_lazy("Say why the item is withdrawn."))
    now = now or timezone.now()
    with transaction.atomic():
        withdrawn = _transition(
            actor=actor,
            version=version,
            to=VersionStatus.WITHDRAWN,
            note=reason,
            valid_until=now if version.valid_until is None or version.valid_until > now else version.valid_until,
        )
        outbox.enqueue(
            "catalogue.version.withdrawn",
            {"version_id": withdrawn.pk, "implementation_code": withdrawn.implementation_code},
        )
        return withdrawn


def apply_schedule(*, actor: Actor = SCHEDULER, now: dt.datetime | None = None) -> int:
    """Bring status labels in line with validity windows (idempotent; run by the scheduler).

    Visibility never depends on this job (queries use the windows); it makes ``superseded`` and
    ``withdrawn`` true once a planned date has passed, and tells subscribers through the outbox.
    """
    now = now or timezone.now()
    changed = 0
    expired = ItemVersion.objects.filter(status=VersionStatus.PUBLISHED, valid_until__lte=now)
    for version in expired:
        with transaction.atomic():
            successor = ItemVersion.objects.filter(
                item_id=version.item_id, status=VersionStatus.PUBLISHED, valid_from=version.valid_until
            ).exists()
            target = VersionStatus.SUPERSEDED if successor else VersionStatus.WITHDRAWN
            note = (
                _("Replaced by its successor on the planned date.")
                if successor
                else _("Cancelled on the planned cancel date.")
            )
            try:
                _transition(actor=actor, version=version, to=target, note=note)
            except InvalidTransition:
                continue  # another scheduler run got there first
            outbox.enqueue(
                f"catalogue.version.{target}",
                {"version_id": version.pk, "implementation_code": version.implementation_code},
            )
            changed += 1
    return changed


# --- import ---------------------------------------------------------------------------------------


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    published: int = 0
    versions: list[ItemVersion] = field(default_factory=list)
    violations: dict[str, list[Violation]] = field(default_factory=dict)


def parse_document(document: Any) -> list[dict[str, Any]]:
    """One item, or ``{"items": [...]}``; schema errors name the path of every bad value."""
    if isinstance(document, dict) and set(document) == {"items"}:
        items = document["items"]
        if not isinstance(items, list):
            raise InvalidInput(gettext_lazy("$.items must be a list of items."))
        errors = [e for index, it in enumerate(items) for e in schema_errors(it, f"$.items[{index}]")]
        prefix_items = items
    else:
        errors = schema_errors(document)
        prefix_items = [document]
    if errors:
        raise InvalidInput(
            gettext_lazy("%(count)d values do not match the exchange format; first: %(path)s: %(message)s")
            % {"count": len(errors), "path": errors[0].path, "message": errors[0].message},
            details=[e.as_dict() for e in errors],
        )
    codes = [it.get("implementation_code") for it in prefix_items if it.get("implementation_code")]
    duplicates = sorted({c for c in codes if codes.count(c) > 1})
    if duplicates:
        raise InvalidInput(
            gettext_lazy("The file lists the implementation code %(code)s more than once.") % {"code": duplicates[0]}
        )
    return prefix_items


def import_items(*, actor: Actor, items: Sequence[dict[str, Any]], publish_clean: bool = False) -> ImportReport:
    """Import a file's items all-or-nothing. Same implementation code again updates the open draft or
    opens a new draft version, never a duplicate item. With ``publish_clean`` items without blocking
    violations go straight through review to publication (used for trusted bulk loads such as demo data)."""
    _require(actor, PUBLISH if publish_clean else MANAGE)
    report = ImportReport()
    context = rule_context()
    with transaction.atomic():
        for content in items:
            existed = (
                bool(content.get("implementation_code"))
                and ImplementationItem.objects.filter(implementation_code=content["implementation_code"]).exists()
            )
            version = _save_draft_locked(actor=actor, content=content, item=None, context=context)
            report.updated += existed
            report.created += not existed
            violations = check_item(content, context)
            report.violations[version.implementation_code or version.name] = violations
            if publish_clean and not blocking(violations):
                version = _transition(
                    actor=actor, version=version, to=VersionStatus.IN_REVIEW, submitted_at=timezone.now()
                )
                version = publish(actor=actor, version=version)
                report.published += 1
            report.versions.append(version)
        audit.record(
            actor=actor,
            action="catalogue.import",
            object_type="catalogue.import",
            object_id="-",
            after={"created": report.created, "updated": report.updated, "published": report.published},
        )
    return report


# --- organisations and roles ----------------------------------------------------------------------


def upsert_organisation(
    *, actor: Actor, name: str, uscc: str | None, name_en: str = "", nature: str = "", division_code: str | None = None
) -> Organisation:
    _require(actor, MANAGE)
    with transaction.atomic():
        division = Division.objects.filter(code=division_code).first() if division_code else None
        org = Organisation.objects.select_for_update().filter(uscc=uscc).first() if uscc else None
        before = None
        if org is None:
            org = Organisation(uscc=uscc or None)
        else:
            before = {"name": org.name, "name_en": org.name_en, "nature": org.nature, "division": org.division_id}
        org.name, org.name_en, org.nature, org.division = name, name_en, nature, division
        org.save()
        audit.record(
            actor=actor,
            action="catalogue.organisation.save",
            object_type="catalogue.organisation",
            object_id=org.pk,
            object_label=name,
            before=before,
            after={"name": name, "name_en": name_en, "nature": nature, "division": division_code},
        )
        return org


CATALOGUE_MANAGERS = "catalogue managers"
CATALOGUE_PUBLISHERS = "catalogue publishers"


def ensure_roles(*, actor: Actor) -> None:
    """The groups that carry catalogue permissions (identity and scoping come with the identity issue)."""
    from django.contrib.auth.models import Group, Permission

    with transaction.atomic():
        manage = Permission.objects.get(codename="manage_catalogue", content_type__app_label="catalogue")
        publish_perm = Permission.objects.get(codename="publish_catalogue", content_type__app_label="catalogue")
        managers, _created = Group.objects.get_or_create(name=CATALOGUE_MANAGERS)
        managers.permissions.add(manage)
        publishers, _created = Group.objects.get_or_create(name=CATALOGUE_PUBLISHERS)
        publishers.permissions.add(manage, publish_perm)
        audit.record(
            actor=actor,
            action="catalogue.roles.ensure",
            object_type="auth.group",
            object_id="*",
            after={"groups": [CATALOGUE_MANAGERS, CATALOGUE_PUBLISHERS]},
        )
