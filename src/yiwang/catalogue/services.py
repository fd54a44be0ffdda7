"""All writes to the catalogue.

Every function takes a keyword-only ``actor``, runs in one transaction, writes its audit record inside
that transaction and leaves outbound effects to the outbox (delivered after commit).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import posixpath
import zipfile
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.files import File
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yiwang.audit import services as audit
from yiwang.audit.actors import SCHEDULER, Actor, actor_label
from yiwang.catalogue import handling, notes
from yiwang.catalogue.constants import TRANSITIONS, VersionStatus
from yiwang.catalogue.models import (
    ATTACHMENT_REFERENCE_MAX_LENGTH,
    Attachment,
    BasicItem,
    ImplementationItem,
    ItemVersion,
    ItemVersionTransition,
    Organisation,
)
from yiwang.catalogue.rules import BasicItemFacts, RuleContext, Violation, blocking, check_item
from yiwang.catalogue.schema import schema_errors
from yiwang.catalogue.selectors import GENERATION_KEY, attachments_generation_key, document_references
from yiwang.common import outbox
from yiwang.common.errors import InvalidInput, InvalidTransition, PermissionDenied
from yiwang.common.models import Division
from yiwang.identity import authz

# Actions of the one authorisation layer (yiwang.identity.authz): role and scope (department, region).
MANAGE = "catalogue.manage"
PUBLISH = "catalogue.publish"
# Django permissions: an additional gate of the admin site only (catalogue/admin.py).
MANAGE_PERMISSION = "catalogue.manage_catalogue"
PUBLISH_PERMISSION = "catalogue.publish_catalogue"

_NO_PERMISSION = gettext_lazy("You do not have permission to change the catalogue.")
_OUT_OF_SCOPE = gettext_lazy("You may change only catalogue items of your own department and region.")


# --- permissions and context ----------------------------------------------------------------------


def can(actor: Actor, action: str, *, version: ItemVersion | None = None) -> bool:
    """May ``actor`` do ``action`` (``MANAGE`` or ``PUBLISH``) at all, or to this version (its department and
    region)?"""
    if version is None:
        return authz.allowed(actor, action)
    return authz.allowed(actor, action, department_id=version.department_id, division_code=version.region_code)


def _require(actor: Actor, action: str) -> None:
    """The role part: someone without a catalogue role is told so, before anything about scope."""
    if not authz.allowed(actor, action):
        raise PermissionDenied(_NO_PERMISSION)


def _require_version(actor: Actor, action: str, version: ItemVersion) -> None:
    _require(actor, action)
    if authz.unscoped(actor, action):
        return
    # The stored department and region decide, not whatever a caller's copy of the version says.
    stored = ItemVersion.objects.filter(pk=version.pk).values_list("department_id", "region_code").first()
    department_id, region_code = stored or (version.department_id, version.region_code)
    authz.check(actor, action, department_id=department_id, division_code=region_code, message=_OUT_OF_SCOPE)


def _content_department_id(content: dict[str, Any]) -> int | None:
    """The organisation a draft of this content would belong to, if the catalogue knows it already."""
    body = content.get("implementing_body") or {}
    bodies = Organisation.objects.all()
    if body.get("uscc"):
        bodies = bodies.filter(uscc=body["uscc"])
    else:  # as _resolve_organisation finds a body without a code: by name within the item's region
        bodies = bodies.filter(uscc__isnull=True, name=body.get("name", ""), division_id=content.get("region_code"))
    return bodies.values_list("pk", flat=True).first()


def _in_scope(actor: Actor, action: str, content: dict[str, Any], item: ImplementationItem | None) -> bool:
    """Whether ``actor`` may write this content (and, for a known item, touch that item) under ``action``.

    Both sides count: a manager can neither write an item for another department's body nor take another
    department's item over by naming their own body in it.
    """
    if authz.unscoped(actor, action):
        return True
    department_id = _content_department_id(content)
    # A body the catalogue does not know yet is nobody's department: only unscoped actors introduce it.
    if department_id is None or not authz.allowed(
        actor, action, department_id=department_id, division_code=str(content.get("region_code", ""))
    ):
        return False
    return item is None or _item_in_scope(actor, action, item)


def _item_in_scope(actor: Actor, action: str, item: ImplementationItem) -> bool:
    if authz.unscoped(actor, action):
        return True
    latest = item.versions.order_by("-number").values_list("department_id", "region_code").first()
    if latest is None:
        return False  # an item without versions has no department yet
    return authz.allowed(actor, action, department_id=latest[0], division_code=latest[1])


def _require_item(actor: Actor, action: str, item: ImplementationItem) -> None:
    _require(actor, action)
    if not _item_in_scope(actor, action, item):
        raise PermissionDenied(_OUT_OF_SCOPE)


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

    licence_types: dict[str, bool] = {}

    def licence_type_defined(code: str) -> bool:
        from yiwang.licences.models import LicenceType  # the licences app builds on the catalogue, not the reverse

        if code not in licence_types:
            licence_types[code] = LicenceType.objects.filter(code=code, active=True).exists()
        return licence_types[code]

    return RuleContext(basic_item=basic_item, division_known=division_known, licence_type_defined=licence_type_defined)


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
        return _save_draft_locked(actor=actor, content=content, item=item, context=rule_context()).version


@dataclass(frozen=True)
class _SavedDraft:
    version: ItemVersion
    created: bool  # a new item, not a new version of a known one
    violations: list[Violation]


def _save_draft_locked(
    *, actor: Actor, content: dict[str, Any], item: ImplementationItem | None, context: RuleContext
) -> _SavedDraft:
    code = content.get("implementation_code") or None
    if item is None and code:
        item = ImplementationItem.objects.select_for_update().filter(implementation_code=code).first()
    elif item is not None:
        item = ImplementationItem.objects.select_for_update().get(pk=item.pk)
        if code and item.implementation_code and code != item.implementation_code:
            raise InvalidInput(gettext_lazy("The implementation code of an existing item cannot change."))
    # Checked on the locked item, before anything is written.
    if not _in_scope(actor, MANAGE, content, item):
        raise PermissionDenied(_OUT_OF_SCOPE)
    created = item is None
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
    violations = check_item(content, context)
    version.violation_count = len(blocking(violations))
    version.save()
    if before is None:
        ItemVersionTransition.objects.create(
            version=version, to_status=VersionStatus.DRAFT, actor_label=actor_label(actor)
        )
        handling.copy_forward(actor=actor, version=version)  # a new version keeps its predecessor's form and steps
    audit.record(
        actor=actor,
        action="catalogue.version.save_draft",
        object_type="catalogue.version",
        object_id=version.pk,
        object_label=str(version),
        before=before,
        after=_snapshot(version),
    )
    return _SavedDraft(version, created, violations)


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
    # A stored form or step plan must still fit the content it will be published with (a shortened promised
    # limit, a case type changed to 即办件 …): the cases' deadlines are computed from both.
    stale = handling.handling_problems(version)
    if stale:
        raise handling.refusal(stale)
    return violations


def submit_for_review(*, actor: Actor, version: ItemVersion) -> ItemVersion:
    _require_version(actor, MANAGE, version)
    with transaction.atomic():
        _blocking_or_raise(version)
        return _transition(actor=actor, version=version, to=VersionStatus.IN_REVIEW, submitted_at=timezone.now())


def return_to_draft(*, actor: Actor, version: ItemVersion, reason: str) -> ItemVersion:
    _require_version(actor, PUBLISH, version)
    if not reason.strip():
        raise InvalidInput(gettext_lazy("Say why the version goes back to draft."))
    with transaction.atomic():
        return _transition(actor=actor, version=version, to=VersionStatus.DRAFT, note=reason)


def _start_of_day(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=zoneinfo.ZoneInfo(settings.TIME_ZONE))


def publish(*, actor: Actor, version: ItemVersion, now: dt.datetime | None = None) -> ItemVersion:
    """Freeze a reviewed version and schedule it: it takes effect at its planned effective date (or now)
    and ends at its planned cancel date; the version it replaces ends where it begins."""
    _require_version(actor, PUBLISH, version)
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
                    note=notes.system_note(notes.REPLACED, n=version.number),
                )
            elif old.valid_until is None or old.valid_until > valid_from:
                ItemVersion.objects.filter(pk=old.pk).update(valid_until=valid_from)
                if valid_from <= now:
                    _transition(
                        actor=actor,
                        version=old,
                        to=VersionStatus.SUPERSEDED,
                        note=notes.system_note(notes.SUPERSEDED, n=version.number),
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
    _require_version(actor, PUBLISH, version)
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


LIFECYCLE_ACTIONS = ("submit", "return", "publish", "withdraw")


def act_on_version(*, actor: Actor, version: ItemVersion, action: str, reason: str = "") -> ItemVersion:
    """One lifecycle action by name, as the admin and the API offer them (``LIFECYCLE_ACTIONS``)."""
    if action == "submit":
        return submit_for_review(actor=actor, version=version)
    if action == "return":
        return return_to_draft(actor=actor, version=version, reason=reason)
    if action == "publish":
        return publish(actor=actor, version=version)
    if action == "withdraw":
        return withdraw(actor=actor, version=version, reason=reason)
    raise InvalidInput(gettext_lazy("Unknown action %(action)s.") % {"action": action})


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
    violations go straight through review to publication (used for trusted bulk loads such as demo data).
    A scoped actor imports only items of their own department and region: one item outside it refuses the
    whole file, naming every such item."""
    action = PUBLISH if publish_clean else MANAGE
    _require(actor, action)
    _refuse_out_of_scope(actor, action, items)
    report = ImportReport()
    context = rule_context()
    with transaction.atomic():
        for content in items:
            saved = _save_draft_locked(actor=actor, content=content, item=None, context=context)
            version, violations = saved.version, saved.violations
            report.created += saved.created
            report.updated += not saved.created
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


def _refuse_out_of_scope(actor: Actor, action: str, items: Sequence[dict[str, Any]]) -> None:
    if authz.unscoped(actor, action):
        return
    codes = [c for c in (content.get("implementation_code") for content in items) if c]
    known = {i.implementation_code: i for i in ImplementationItem.objects.filter(implementation_code__in=codes)}
    offending = [
        str(content.get("implementation_code") or content.get("name", ""))
        for content in items
        if not _in_scope(actor, action, content, known.get(content.get("implementation_code") or ""))
    ]
    if offending:
        shown = ", ".join(offending[:10]) + (" …" if len(offending) > 10 else "")
        raise PermissionDenied(
            gettext_lazy(
                "You may import only items of your own department and region. Nothing was imported; "
                "%(count)d items are outside it: %(items)s"
            )
            % {"count": len(offending), "items": shown},
            details=[{"item": code, "message": str(_OUT_OF_SCOPE)} for code in offending],
        )


# --- organisations and roles ----------------------------------------------------------------------


def upsert_organisation(
    *, actor: Actor, name: str, uscc: str | None, name_en: str = "", nature: str = "", division_code: str | None = None
) -> Organisation:
    _require(actor, MANAGE)
    with transaction.atomic():
        division = Division.objects.filter(code=division_code).first() if division_code else None
        org = Organisation.objects.select_for_update().filter(uscc=uscc).first() if uscc else None
        # A scoped manager keeps their own department's record; new bodies come from unscoped actors.
        if not authz.unscoped(actor, MANAGE) and (
            org is None or not authz.allowed(actor, MANAGE, department_id=org.pk, division_code=division_code)
        ):
            raise PermissionDenied(_OUT_OF_SCOPE)
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


# Group names are the identity role codes (yiwang.identity.constants.Role).
CATALOGUE_MANAGERS = "catalogue_manager"
CATALOGUE_PUBLISHERS = "catalogue_publisher"


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


# --- attachments ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileType:
    label: str
    content_type: str
    extensions: tuple[str, ...]


# Recognised by content (magic bytes and, for ZIP and OLE2 containers, what they contain), never by name.
FILE_TYPES: dict[str, FileType] = {
    "pdf": FileType("PDF", "application/pdf", ("pdf",)),
    "ofd": FileType("OFD", "application/ofd", ("ofd",)),  # GB/T 33190 layout documents
    "docx": FileType(
        "Word (DOCX)", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", ("docx",)
    ),
    "xlsx": FileType("Excel (XLSX)", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", ("xlsx",)),
    "doc": FileType("Word (DOC)", "application/msword", ("doc",)),
    "xls": FileType("Excel (XLS)", "application/vnd.ms-excel", ("xls",)),
    "jpeg": FileType("JPEG", "image/jpeg", ("jpg", "jpeg")),
    "png": FileType("PNG", "image/png", ("png",)),
}
_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _zip_type(upload: File[Any]) -> str | None:
    # Only the member list is read: nothing is decompressed, so a zip bomb costs nothing here.
    try:
        upload.seek(0)
        with zipfile.ZipFile(upload) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return None
    if "OFD.xml" in names:
        return "ofd"
    if "[Content_Types].xml" in names:
        if any(n.startswith("word/") for n in names):
            return "docx"
        if any(n.startswith("xl/") for n in names):
            return "xlsx"
    return None


def _ole2_type(upload: File[Any]) -> str | None:
    # A compound file names its streams in UTF-16: Word keeps "WordDocument", Excel "Workbook" (or "Book").
    upload.seek(0)
    data = upload.read()
    if "WordDocument".encode("utf-16-le") in data:
        return "doc"
    if "Workbook".encode("utf-16-le") in data or "Book\0".encode("utf-16-le") in data:
        return "xls"
    return None


def detect_file_type(upload: File[Any]) -> str | None:
    """The key in ``FILE_TYPES`` of the upload's actual type, from its bytes; None when not allowed."""
    upload.seek(0)
    head = upload.read(8)
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head == _OLE2:
        return _ole2_type(upload)
    if head.startswith(b"PK\x03\x04"):
        return _zip_type(upload)
    return None


def _attachable_reference(reference: str) -> bool:
    """A relative path such as ``forms/application.pdf``: not a link, not absolute, never leaving its folder."""
    if not reference or "\\" in reference or reference.startswith("/") or ":" in reference.split("/", 1)[0]:
        return False
    return all(part not in ("", ".", "..") for part in reference.split("/"))


def _attachment_facts(attachment: Attachment) -> dict[str, Any]:
    return {
        "reference": attachment.reference,
        "file": attachment.file.name,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "sha256": attachment.sha256,
        "uploaded_by": attachment.uploaded_by,
        "uploaded_at": attachment.uploaded_at.isoformat(),
    }


def _validate_attachment(item: ImplementationItem, reference: str, upload: File[Any]) -> FileType:
    if len(reference) > ATTACHMENT_REFERENCE_MAX_LENGTH:
        raise InvalidInput(
            gettext_lazy("A reference with a file attached may be at most %(max)d characters long.")
            % {"max": ATTACHMENT_REFERENCE_MAX_LENGTH}
        )
    if not _attachable_reference(reference):
        raise InvalidInput(
            gettext_lazy("Only a relative path such as forms/application.pdf can have a file attached, not %(ref)s.")
            % {"ref": reference or "''"}
        )
    latest = ItemVersion.objects.filter(item=item).order_by("-number").values_list("content", flat=True).first()
    if latest is None or reference not in {r.reference for r in document_references(latest)}:
        raise InvalidInput(
            gettext_lazy(
                "The latest version of the item does not reference %(ref)s as a blank form or sample; "
                "name it in the content first."
            )
            % {"ref": reference}
        )
    limit = settings.YIWANG_ATTACHMENT_MAX_BYTES
    if not upload.size:
        raise InvalidInput(gettext_lazy("The file is empty."))
    if upload.size > limit:
        raise InvalidInput(
            gettext_lazy("The file is %(size)d bytes; attachments may be at most %(limit)d bytes.")
            % {"size": upload.size, "limit": limit}
        )
    detected = detect_file_type(upload)
    if detected is None:
        raise InvalidInput(
            gettext_lazy(
                "The file is not a PDF, OFD, Word, Excel, JPEG or PNG document (its content was checked, not its name)."
            )
        )
    file_type = FILE_TYPES[detected]
    extension = posixpath.splitext(reference)[1].lstrip(".").lower()
    if extension not in file_type.extensions:
        raise InvalidInput(
            gettext_lazy("The file is a %(type)s document, but the reference %(ref)s names a different type.")
            % {"type": file_type.label, "ref": reference}
        )
    return file_type


def attach_document(*, actor: Actor, item: ImplementationItem, reference: str, upload: File[Any]) -> Attachment:
    """Attach the file an item's content references by path (a blank form, a sample), replacing the one
    attached before. The type is read from the bytes and must agree with the reference's extension. Bad
    input is refused before anything is stored; should the write itself fail, the stored file is removed
    again. A replaced file is deleted after commit (a rollback of a caller's outer transaction can leave an
    unreferenced file behind, never a row without its file)."""
    _require_item(actor, MANAGE, item)
    reference = reference.strip()
    file_type = _validate_attachment(item, reference, upload)
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    stored: Attachment | None = None
    try:
        with transaction.atomic():
            ImplementationItem.objects.select_for_update().get(pk=item.pk)  # serialise attachments per item
            attachment = Attachment.objects.filter(item=item, reference=reference).first()
            before = _attachment_facts(attachment) if attachment else None
            old_name = attachment.file.name if attachment else None
            attachment = attachment or Attachment(item=item, reference=reference)
            attachment.content_type = file_type.content_type
            attachment.size = upload.size
            attachment.sha256 = digest.hexdigest()
            attachment.uploaded_by = actor_label(actor)
            attachment.uploaded_at = timezone.now()
            upload.seek(0)
            stem, extension = posixpath.splitext(posixpath.basename(reference))
            attachment.file.save(stem[:80] + extension, upload, save=False)  # within any file system's name limit
            stored = attachment
            attachment.save()
            audit.record(
                actor=actor,
                action="catalogue.attachment.save",
                object_type="catalogue.attachment",
                object_id=attachment.pk,
                object_label=str(attachment),
                before=before,
                after=_attachment_facts(attachment),
            )
            storage, new_name = attachment.file.storage, attachment.file.name

            def after_commit() -> None:
                if old_name and old_name != new_name:
                    storage.delete(old_name)
                with contextlib.suppress(ValueError):  # not cached yet: nothing stale can be served either
                    cache.incr(attachments_generation_key(item.pk))

            transaction.on_commit(after_commit, robust=True)  # a failed clean-up never undoes the commit
    except BaseException:
        if stored is not None and stored.file.name:
            stored.file.storage.delete(stored.file.name)  # nothing of a failed attachment stays in storage
        raise
    return attachment
