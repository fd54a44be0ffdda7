"""Writes of the resource catalogue (政务信息资源目录) and of grants (docs/sharing.md).

A department registers the resources it holds and decides the grants on them (``sharing.provide``); a
department asks for grants for itself (``sharing.consume``). The platform's own registers and licence library
have no provider department: administrators register them and decide their grants.

Grant states (one table, ``TRANSITIONS``): requested → approved | refused | withdrawn; approved → revoked.
An unconditional (无条件共享) resource still needs a registered consumer, so a consumer asks as for any other;
the request is approved at once, with everything asked for (国发〔2016〕51号 art. 10: 无条件共享 resources are
given to any department that asks through the platform). A not-shared (不予共享) resource cannot be asked for.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.audit import services as audit
from yiwang.catalogue.models import ImplementationItem, Organisation
from yiwang.common.errors import InvalidTransition, PermissionDenied, invalid_field
from yiwang.identity import authz
from yiwang.sharing.constants import (
    Backend,
    FieldType,
    GrantStatus,
    Sensitivity,
    SharingType,
    SubjectKind,
    UpdateCycle,
)
from yiwang.sharing.models import Grant, Resource, ResourceField

BROWSE = "sharing.browse"
PROVIDE = "sharing.provide"
CONSUME = "sharing.consume"

# Backends only the platform answers for: a department's resource lives in its own system.
PLATFORM_BACKENDS = frozenset({Backend.POPULATION, Backend.LEGAL_ENTITY, Backend.LICENCES})

CODE_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,39}$")
FIELD_CODE_PATTERN = re.compile(r"^[a-z_][a-z0-9_]*$")
CODE_LIMIT = 40
NAME_LIMIT = 200
SYSTEM_LIMIT = 200
TEXT_LIMIT = 4000
FIELD_CODE_LIMIT = 60
FIELD_NAME_LIMIT = 100
MAX_FIELDS = 200
LICENCE_TYPE_LIMIT = 40

# A purpose is written into every access record the grant allows (AccessRecord.purpose holds 200 characters).
PURPOSE_LIMIT = 200
MAX_PURPOSES = 20
MAX_ITEMS = 200
JUSTIFICATION_LIMIT = 2000
REASON_LIMIT = 1000
RATE_MIN = 1
RATE_MAX = 6000
# A grant is reviewed at least every three years: a longer one is refused (the provider may narrow it further).
MAX_VALIDITY_DAYS = 3 * 366

TRANSITIONS: dict[str, frozenset[str]] = {
    GrantStatus.REQUESTED: frozenset({GrantStatus.APPROVED, GrantStatus.REFUSED, GrantStatus.WITHDRAWN}),
    GrantStatus.APPROVED: frozenset({GrantStatus.REVOKED}),
    GrantStatus.REFUSED: frozenset(),
    GrantStatus.REVOKED: frozenset(),
    GrantStatus.WITHDRAWN: frozenset(),
}


def _user(actor: Any) -> Any:
    """The account behind ``actor``, or ``None`` for the system (the demo, the command line)."""
    return authz.subject_of(actor).user


def today() -> dt.date:
    return timezone.localdate()


# ---------------------------------------------------------------------------------------------------------
# Permissions
# ---------------------------------------------------------------------------------------------------------


def may_provide(actor: Any, provider_id: int | None) -> bool:
    """Whether ``actor`` registers resources of (and decides grants for) this provider; ``None``: the platform."""
    if provider_id is None:
        return authz.unscoped(actor, PROVIDE)
    return authz.allowed(actor, PROVIDE, department_id=provider_id)


def _check_provider(actor: Any, provider_id: int | None) -> None:
    if not may_provide(actor, provider_id):
        if provider_id is None:
            raise PermissionDenied(_("Only administrators manage the platform's own resources and their grants."))
        raise PermissionDenied(_("Only the provider department's catalogue managers and approvers may do this."))


def _check_consumer(actor: Any, consumer_id: int) -> None:
    authz.check(
        actor,
        CONSUME,
        department_id=consumer_id,
        message=_("You may ask for and withdraw grants only for your own department."),
    )


# ---------------------------------------------------------------------------------------------------------
# Resources
# ---------------------------------------------------------------------------------------------------------


def _text(field: str, value: Any, limit: int, *, required: bool, label: str) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise invalid_field(field, _("%(field)s is required.") % {"field": label}, code="required")
    if len(text) > limit:
        raise invalid_field(
            field,
            _("%(field)s may have at most %(limit)d characters.") % {"field": label, "limit": limit},
            code="too_long",
        )
    return text


def _choice(field: str, value: Any, choices: Iterable[str], label: str) -> str:
    text = str(value or "")
    if text not in set(choices):
        raise invalid_field(field, _("%(field)s is not one of the allowed values.") % {"field": label}, code="invalid")
    return text


def _clean_fields(raw: Any) -> list[dict[str, str]]:
    if not isinstance(raw, Sequence) or isinstance(raw, str | bytes) or not raw:
        raise invalid_field("fields", _("A resource needs at least one field."), code="required")
    if len(raw) > MAX_FIELDS:
        raise invalid_field(
            "fields", _("A resource may have at most %(limit)d fields.") % {"limit": MAX_FIELDS}, code="too_many"
        )
    cleaned: list[dict[str, str]] = []
    seen: set[str] = set()
    for index, entry in enumerate(raw):
        if not isinstance(entry, Mapping):
            raise invalid_field(f"fields.{index}", _("Each field needs a code, a name and a type."), code="invalid")
        code = _text(f"fields.{index}.code", entry.get("code"), FIELD_CODE_LIMIT, required=True, label=_("Field code"))
        if not FIELD_CODE_PATTERN.match(code):
            raise invalid_field(
                f"fields.{index}.code",
                _("A field code is lower-case letters, digits and underscores, not starting with a digit: %(code)s")
                % {"code": code},
                code="invalid",
            )
        if code in seen:
            raise invalid_field(
                f"fields.{index}.code", _("The field %(code)s is listed twice.") % {"code": code}, code="duplicate"
            )
        seen.add(code)
        cleaned.append(
            {
                "code": code,
                "name": _text(
                    f"fields.{index}.name", entry.get("name"), FIELD_NAME_LIMIT, required=True, label=_("Field name")
                ),
                "name_en": _text(
                    f"fields.{index}.name_en",
                    entry.get("name_en"),
                    FIELD_NAME_LIMIT,
                    required=False,
                    label=_("Field name (English)"),
                ),
                "data_type": _choice(
                    f"fields.{index}.data_type", entry.get("data_type") or FieldType.STRING, FieldType.values, _("Type")
                ),
                "sensitivity": _choice(
                    f"fields.{index}.sensitivity", entry.get("sensitivity"), Sensitivity.values, _("Sensitivity")
                ),
            }
        )
    return cleaned


def _clean_resource(
    *,
    resource: Resource | None,
    provider_id: int | None,
    data: Mapping[str, Any],
) -> dict[str, Any]:
    values: dict[str, Any] = {}
    if resource is None:
        code = _text("code", data.get("code"), CODE_LIMIT, required=True, label=_("Code"))
        if not CODE_PATTERN.match(code):
            raise invalid_field(
                "code",
                _("A resource code is 2 to 40 lower-case letters, digits and underscores, starting with a letter."),
                code="invalid",
            )
        if Resource.objects.filter(code=code).exists():
            raise invalid_field("code", _("Another resource has the code %(code)s.") % {"code": code}, code="taken")
        values["code"] = code
    name = _text("name", data.get("name"), NAME_LIMIT, required=True, label=_("Name"))
    others = Resource.objects.filter(name=name)
    if resource is not None:
        others = others.exclude(pk=resource.pk)
    if others.exists():
        raise invalid_field("name", _("Another resource has the name %(name)s.") % {"name": name}, code="taken")
    values["name"] = name
    values["name_en"] = _text("name_en", data.get("name_en"), NAME_LIMIT, required=False, label=_("Name (English)"))
    values["description"] = _text(
        "description", data.get("description"), TEXT_LIMIT, required=False, label=_("Description")
    )
    values["provider_system"] = _text(
        "provider_system", data.get("provider_system"), SYSTEM_LIMIT, required=False, label=_("Provider system")
    )
    values["subject_kind"] = _choice("subject_kind", data.get("subject_kind"), SubjectKind.values, _("Subject"))
    sharing_type = _choice("sharing_type", data.get("sharing_type"), SharingType.values, _("Sharing type"))
    values["sharing_type"] = sharing_type
    # 国发〔2016〕51号 art. 9: a conditional or unshared resource states its conditions and their basis.
    values["sharing_conditions"] = _text(
        "sharing_conditions",
        data.get("sharing_conditions"),
        TEXT_LIMIT,
        required=sharing_type != SharingType.UNCONDITIONAL,
        label=_("Sharing conditions"),
    )
    values["update_cycle"] = _choice("update_cycle", data.get("update_cycle"), UpdateCycle.values, _("Update cycle"))
    values["legal_basis"] = _text(
        "legal_basis", data.get("legal_basis"), TEXT_LIMIT, required=True, label=_("Legal basis")
    )
    backend = _choice("backend", data.get("backend") or Backend.EXTERNAL, Backend.values, _("Answered from"))
    if provider_id is not None and backend != Backend.EXTERNAL:
        raise invalid_field(
            "backend",
            _("A department's resource is answered from its own system; the registers belong to the platform."),
            code="invalid",
        )
    if resource is not None and backend != resource.backend:
        raise invalid_field("backend", _("Where a resource is answered from cannot change."), code="invalid")
    values["backend"] = backend
    licence_type = _text(
        "licence_type_code", data.get("licence_type_code"), LICENCE_TYPE_LIMIT, required=False, label=_("Licence type")
    )
    if licence_type and backend != Backend.LICENCES:
        raise invalid_field(
            "licence_type_code", _("Only licence-library resources name a licence type."), code="invalid"
        )
    values["licence_type_code"] = licence_type
    return values


def _snapshot(resource: Resource) -> dict[str, Any]:
    return {
        "code": resource.code,
        "name": resource.name,
        "provider": resource.provider_id,
        "sharing_type": resource.sharing_type,
        "update_cycle": resource.update_cycle,
        "backend": resource.backend,
        "is_active": resource.is_active,
        "fields": [f.code for f in resource.fields.all()],
    }


def _write_fields(resource: Resource, fields: list[dict[str, str]]) -> None:
    existing = {f.code: f for f in resource.fields.all()}
    for position, spec in enumerate(fields):
        field = existing.pop(spec["code"], None) or ResourceField(resource=resource, code=spec["code"])
        field.name = spec["name"]
        field.name_en = spec["name_en"]
        field.data_type = spec["data_type"]
        field.sensitivity = spec["sensitivity"]
        field.position = position
        field.save()
    for field in existing.values():
        field.delete()


def register_resource(
    *,
    actor: Any,
    provider: Organisation | None,
    code: str,
    name: str,
    subject_kind: str,
    sharing_type: str,
    update_cycle: str,
    legal_basis: str,
    fields: Sequence[Mapping[str, Any]],
    name_en: str = "",
    description: str = "",
    provider_system: str = "",
    sharing_conditions: str = "",
    backend: str = Backend.EXTERNAL,
    licence_type_code: str = "",
) -> Resource:
    """Add a resource to the catalogue, provided by ``provider`` (``None``: the platform itself)."""
    provider_id = provider.pk if provider is not None else None
    _check_provider(actor, provider_id)
    data = {
        "code": code,
        "name": name,
        "name_en": name_en,
        "description": description,
        "provider_system": provider_system,
        "subject_kind": subject_kind,
        "sharing_type": sharing_type,
        "sharing_conditions": sharing_conditions,
        "update_cycle": update_cycle,
        "legal_basis": legal_basis,
        "backend": backend,
        "licence_type_code": licence_type_code,
    }
    with transaction.atomic():
        values = _clean_resource(resource=None, provider_id=provider_id, data=data)
        cleaned_fields = _clean_fields(fields)
        resource = Resource.objects.create(provider=provider, **values)
        _write_fields(resource, cleaned_fields)
        audit.record(
            actor=actor,
            action="sharing.resource_registered",
            object_type="sharing.resource",
            object_id=resource.pk,
            object_label=resource.name,
            after=_snapshot(resource),
        )
    return resource


def _open_grant_fields(resource: Resource) -> set[str]:
    held: set[str] = set()
    for grant in resource.grants.filter(status__in=[GrantStatus.REQUESTED, GrantStatus.APPROVED]).only(
        "fields", "requested_fields", "status"
    ):
        held.update(grant.fields if grant.status == GrantStatus.APPROVED else grant.requested_fields)
    return held


def update_resource(
    *,
    actor: Any,
    resource: Resource,
    name: str,
    subject_kind: str,
    sharing_type: str,
    update_cycle: str,
    legal_basis: str,
    fields: Sequence[Mapping[str, Any]],
    name_en: str = "",
    description: str = "",
    provider_system: str = "",
    sharing_conditions: str = "",
    licence_type_code: str = "",
) -> Resource:
    """Change a resource's description and fields (its code, provider and backend stay).

    A field that a grant holds or asks for cannot be removed, and a resource with open grants cannot become
    not shared: revoke or refuse them first, so that no consumer loses data without a decision it can see.
    """
    _check_provider(actor, resource.provider_id)
    data = {
        "name": name,
        "name_en": name_en,
        "description": description,
        "provider_system": provider_system,
        "subject_kind": subject_kind,
        "sharing_type": sharing_type,
        "sharing_conditions": sharing_conditions,
        "update_cycle": update_cycle,
        "legal_basis": legal_basis,
        "backend": resource.backend,
        "licence_type_code": licence_type_code,
    }
    with transaction.atomic():
        resource = Resource.objects.select_for_update().get(pk=resource.pk)
        if not resource.is_active:
            raise InvalidTransition(_("A retired resource cannot be changed."))
        values = _clean_resource(resource=resource, provider_id=resource.provider_id, data=data)
        cleaned_fields = _clean_fields(fields)
        held = _open_grant_fields(resource)
        removed = sorted(held - {f["code"] for f in cleaned_fields})
        if removed:
            raise invalid_field(
                "fields",
                _("These fields are granted or asked for and cannot be removed: %(fields)s")
                % {"fields": ", ".join(removed)},
                code="in_use",
            )
        if values["subject_kind"] != resource.subject_kind and held:
            raise invalid_field(
                "subject_kind", _("The subject of a resource with open grants cannot change."), code="in_use"
            )
        if values["sharing_type"] == SharingType.NOT_SHARED and held:
            raise invalid_field(
                "sharing_type",
                _("Refuse or revoke the open grants on this resource before marking it not shared."),
                code="in_use",
            )
        before = _snapshot(resource)
        for key, value in values.items():
            setattr(resource, key, value)
        resource.save()
        _write_fields(resource, cleaned_fields)
        audit.record(
            actor=actor,
            action="sharing.resource_updated",
            object_type="sharing.resource",
            object_id=resource.pk,
            object_label=resource.name,
            before=before,
            after=_snapshot(resource),
        )
    return resource


def retire_resource(*, actor: Any, resource: Resource, reason: str) -> Resource:
    """Take a resource out of the catalogue: its approved grants are revoked and its open requests refused,
    each with the reason given, so every consumer sees why its access ended."""
    _check_provider(actor, resource.provider_id)
    reason = _text("reason", reason, REASON_LIMIT, required=True, label=_("Reason"))
    with transaction.atomic():
        resource = Resource.objects.select_for_update().get(pk=resource.pk)
        if not resource.is_active:
            raise InvalidTransition(_("The resource is already retired."))
        now = timezone.now()
        for grant in resource.grants.select_for_update().filter(
            status__in=[GrantStatus.REQUESTED, GrantStatus.APPROVED]
        ):
            if grant.status == GrantStatus.APPROVED:
                _revoke(actor, grant, reason, now)
            else:
                _refuse(actor, grant, reason, now)
        resource.is_active = False
        resource.save(update_fields=["is_active", "updated_at"])
        audit.record(
            actor=actor,
            action="sharing.resource_retired",
            object_type="sharing.resource",
            object_id=resource.pk,
            object_label=resource.name,
            after={"is_active": False, "reason": reason},
        )
    return resource


# ---------------------------------------------------------------------------------------------------------
# Grants
# ---------------------------------------------------------------------------------------------------------


def _codes(field: str, raw: Any, *, limit: int, label: str) -> list[str]:
    """A list of distinct, stripped strings (order kept); a bare string is one entry."""
    if raw is None:
        return []
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, Iterable):
        raise invalid_field(field, _("%(field)s must be a list.") % {"field": label}, code="invalid")
    found: list[str] = []
    for value in raw:
        text = str(value if value is not None else "").strip()
        if text and text not in found:
            found.append(text)
    if len(found) > limit:
        raise invalid_field(
            field, _("At most %(limit)d entries in %(field)s.") % {"limit": limit, "field": label}, code="too_many"
        )
    return found


def _clean_grant_fields(resource: Resource, raw: Any) -> list[str]:
    fields = _codes("fields", raw, limit=MAX_FIELDS, label=_("Fields"))
    if not fields:
        raise invalid_field("fields", _("Choose at least one field."), code="required")
    known = set(resource.fields.values_list("code", flat=True))
    unknown = [f for f in fields if f not in known]
    if unknown:
        raise invalid_field(
            "fields",
            _("The resource has no field %(fields)s.") % {"fields": ", ".join(unknown)},
            code="unknown",
        )
    return fields


def _clean_purposes(raw: Any) -> list[str]:
    # An empty entry is a mistake to be told of, not dropped without a word.
    if isinstance(raw, list | tuple) and any(not str(p if p is not None else "").strip() for p in raw):
        raise invalid_field("purposes", _("A purpose cannot be empty."), code="empty")
    purposes = _codes("purposes", raw, limit=MAX_PURPOSES, label=_("Purposes"))
    if not purposes:
        raise invalid_field("purposes", _("State at least one purpose."), code="required")
    for purpose in purposes:
        if len(purpose) > PURPOSE_LIMIT:
            raise invalid_field(
                "purposes",
                _("A purpose may have at most %(limit)d characters.") % {"limit": PURPOSE_LIMIT},
                code="too_long",
            )
    return purposes


def _clean_items(raw: Any) -> list[str]:
    items = _codes("items", raw, limit=MAX_ITEMS, label=_("Items"))
    if items:
        known = set(
            ImplementationItem.objects.filter(implementation_code__in=items).values_list(
                "implementation_code", flat=True
            )
        )
        unknown = [i for i in items if i not in known]
        if unknown:
            raise invalid_field(
                "items",
                _("The catalogue has no item with the code %(codes)s.") % {"codes": ", ".join(unknown)},
                code="unknown",
            )
    return items


def _clean_until(raw: Any) -> dt.date:
    if not isinstance(raw, dt.date) or isinstance(raw, dt.datetime):
        raise invalid_field("until", _("Give the last day the grant is needed."), code="required")
    if raw < today():
        raise invalid_field("until", _("The grant's last day cannot be in the past."), code="past")
    if raw > today() + dt.timedelta(days=MAX_VALIDITY_DAYS):
        raise invalid_field(
            "until",
            _("A grant may last at most %(days)d days; ask again when it ends.") % {"days": MAX_VALIDITY_DAYS},
            code="too_late",
        )
    return raw


def _clean_rate(raw: Any, *, maximum: int = RATE_MAX) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or not RATE_MIN <= raw <= maximum:
        raise invalid_field(
            "rate_per_minute",
            _("The rate limit is a whole number of queries a minute from %(min)d to %(max)d.")
            % {"min": RATE_MIN, "max": maximum},
            code="out_of_range",
        )
    return raw


def _grant_snapshot(grant: Grant) -> dict[str, Any]:
    return {
        "resource": grant.resource_id,
        "consumer": grant.consumer_id,
        "status": grant.status,
        "fields": grant.fields or grant.requested_fields,
        "purposes": grant.purposes or grant.requested_purposes,
        "items": grant.items or grant.requested_items,
        "valid_from": grant.valid_from.isoformat() if grant.valid_from else None,
        "valid_until": grant.valid_until.isoformat() if grant.valid_until else None,
        "rate_per_minute": grant.rate_per_minute,
    }


def _label(grant: Grant) -> str:
    return f"{grant.resource.code} → {grant.consumer.name}"


def _move(grant: Grant, target: str) -> None:
    if target not in TRANSITIONS[grant.status]:
        raise InvalidTransition(
            _("A grant that is %(status)s cannot become %(target)s.")
            % {"status": GrantStatus(grant.status).label, "target": GrantStatus(target).label}
        )
    grant.status = target


def _approve(
    actor: Any,
    grant: Grant,
    *,
    fields: list[str],
    purposes: list[str],
    items: list[str],
    until: dt.date,
    rate: int,
    note: str,
    automatic: bool = False,
) -> None:
    _move(grant, GrantStatus.APPROVED)
    grant.fields, grant.purposes, grant.items = fields, purposes, items
    grant.valid_from = today()
    grant.valid_until = until
    grant.rate_per_minute = rate
    grant.decided_by = None if automatic else _user(actor)
    grant.decided_at = timezone.now()
    grant.decision_note = note
    grant.save()
    audit.record(
        actor=actor,
        action="sharing.grant_approved",
        object_type="sharing.grant",
        object_id=grant.pk,
        object_label=_label(grant),
        after=_grant_snapshot(grant),
        note="automatic: unconditional resource" if automatic else note,
    )


def request_grant(
    *,
    actor: Any,
    resource: Resource,
    consumer: Organisation,
    fields: Sequence[str],
    purposes: Sequence[str],
    until: dt.date,
    items: Sequence[str] = (),
    rate_per_minute: int = 60,
    justification: str = "",
) -> Grant:
    """Ask, for ``consumer``, to use ``resource``. Approved at once when the resource is unconditional."""
    _check_consumer(actor, consumer.pk)
    with transaction.atomic():
        resource = Resource.objects.select_for_update().get(pk=resource.pk)
        if not resource.is_active:
            raise invalid_field("resource", _("The resource is retired and cannot be granted."), code="retired")
        if resource.sharing_type == SharingType.NOT_SHARED:
            raise invalid_field("resource", _("Resources that are not shared cannot be granted."), code="not_shared")
        cleaned_fields = _clean_grant_fields(resource, fields)
        cleaned_purposes = _clean_purposes(purposes)
        cleaned_items = _clean_items(items)
        cleaned_until = _clean_until(until)
        rate = _clean_rate(rate_per_minute)
        text = _text("justification", justification, JUSTIFICATION_LIMIT, required=False, label=_("Justification"))
        if Grant.objects.filter(resource=resource, consumer=consumer, status=GrantStatus.REQUESTED).exists():
            raise InvalidTransition(
                _("Your department already has a request for this resource waiting for a decision.")
            )
        grant = Grant.objects.create(
            resource=resource,
            consumer=consumer,
            requested_fields=cleaned_fields,
            requested_purposes=cleaned_purposes,
            requested_items=cleaned_items,
            requested_until=cleaned_until,
            requested_rate=rate,
            justification=text,
            requested_by=_user(actor),
            requested_at=timezone.now(),
        )
        audit.record(
            actor=actor,
            action="sharing.grant_requested",
            object_type="sharing.grant",
            object_id=grant.pk,
            object_label=_label(grant),
            after={
                "resource": resource.pk,
                "consumer": consumer.pk,
                "fields": cleaned_fields,
                "purposes": cleaned_purposes,
                "items": cleaned_items,
                "until": cleaned_until.isoformat(),
                "rate_per_minute": rate,
            },
        )
        if resource.sharing_type == SharingType.UNCONDITIONAL:
            _approve(
                actor,
                grant,
                fields=cleaned_fields,
                purposes=cleaned_purposes,
                items=cleaned_items,
                until=cleaned_until,
                rate=rate,
                note="",
                automatic=True,
            )
    return grant


def _locked(grant: Grant) -> Grant:
    return Grant.objects.select_for_update().select_related("resource", "consumer").get(pk=grant.pk)


def _subset(field: str, chosen: Any, asked: list[str], label: str, *, clean: Any = None) -> list[str]:
    if chosen is None:
        return list(asked)
    values = clean(chosen) if clean is not None else _codes(field, chosen, limit=MAX_FIELDS, label=label)
    if not values:
        raise invalid_field(field, _("Keep at least one entry in %(field)s.") % {"field": label}, code="required")
    extra = [v for v in values if v not in asked]
    if extra:
        raise invalid_field(
            field,
            _("A decision may only narrow what was asked; not asked for: %(values)s") % {"values": ", ".join(extra)},
            code="widened",
        )
    return values


def approve_grant(
    *,
    actor: Any,
    grant: Grant,
    fields: Sequence[str] | None = None,
    purposes: Sequence[str] | None = None,
    items: Sequence[str] | None = None,
    until: dt.date | None = None,
    rate_per_minute: int | None = None,
    note: str = "",
) -> Grant:
    """Approve a request, as asked or narrowed (fewer fields, purposes or items; an earlier end; a lower rate).

    The grant is valid from the day of the decision to the (narrowed) last day, both included.
    """
    _check_provider(actor, grant.resource.provider_id)
    with transaction.atomic():
        grant = _locked(grant)
        if grant.status != GrantStatus.REQUESTED:
            _move(grant, GrantStatus.APPROVED)  # raises: only a request can be approved
        if not grant.resource.is_active or grant.resource.sharing_type == SharingType.NOT_SHARED:
            raise InvalidTransition(_("The resource is retired or not shared: the request can only be refused."))
        kept_fields = _subset("fields", fields, grant.requested_fields, _("Fields"))
        kept_purposes = _subset("purposes", purposes, grant.requested_purposes, _("Purposes"), clean=_clean_purposes)
        if grant.requested_items:
            kept_items = _subset("items", items, grant.requested_items, _("Items"))
        else:
            # A request for any item may be limited to some: that narrows it too.
            kept_items = _clean_items(items) if items is not None else []
        asked_until = grant.requested_until or today()
        last_day = _clean_until(until) if until is not None else asked_until
        if last_day < today():
            raise invalid_field("until", _("The grant's last day cannot be in the past."), code="past")
        if last_day > asked_until:
            raise invalid_field(
                "until", _("A decision may end the grant earlier than asked, not later."), code="widened"
            )
        rate = (
            _clean_rate(rate_per_minute, maximum=grant.requested_rate)
            if rate_per_minute is not None
            else grant.requested_rate
        )
        text = _text("note", note, REASON_LIMIT, required=False, label=_("Note"))
        _approve(
            actor,
            grant,
            fields=kept_fields,
            purposes=kept_purposes,
            items=kept_items,
            until=last_day,
            rate=rate,
            note=text,
        )
    return grant


def _refuse(actor: Any, grant: Grant, reason: str, now: dt.datetime) -> None:
    _move(grant, GrantStatus.REFUSED)
    grant.decided_by = _user(actor)
    grant.decided_at = now
    grant.decision_note = reason
    grant.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])
    audit.record(
        actor=actor,
        action="sharing.grant_refused",
        object_type="sharing.grant",
        object_id=grant.pk,
        object_label=_label(grant),
        after={"status": grant.status, "reason": reason},
    )


def _revoke(actor: Any, grant: Grant, reason: str, now: dt.datetime) -> None:
    _move(grant, GrantStatus.REVOKED)
    grant.revoked_by = _user(actor)
    grant.revoked_at = now
    grant.revoke_reason = reason
    grant.save(update_fields=["status", "revoked_by", "revoked_at", "revoke_reason"])
    audit.record(
        actor=actor,
        action="sharing.grant_revoked",
        object_type="sharing.grant",
        object_id=grant.pk,
        object_label=_label(grant),
        after={"status": grant.status, "reason": reason},
    )


def refuse_grant(*, actor: Any, grant: Grant, reason: str) -> Grant:
    _check_provider(actor, grant.resource.provider_id)
    reason = _text("reason", reason, REASON_LIMIT, required=True, label=_("Reason"))
    with transaction.atomic():
        grant = _locked(grant)
        _refuse(actor, grant, reason, timezone.now())
    return grant


def revoke_grant(*, actor: Any, grant: Grant, reason: str) -> Grant:
    """End an approved grant now; the consumer's next query is refused."""
    _check_provider(actor, grant.resource.provider_id)
    reason = _text("reason", reason, REASON_LIMIT, required=True, label=_("Reason"))
    with transaction.atomic():
        grant = _locked(grant)
        _revoke(actor, grant, reason, timezone.now())
    return grant


def withdraw_grant(*, actor: Any, grant: Grant) -> Grant:
    """The consumer takes back a request not yet decided."""
    _check_consumer(actor, grant.consumer_id)
    with transaction.atomic():
        grant = _locked(grant)
        _move(grant, GrantStatus.WITHDRAWN)
        grant.save(update_fields=["status"])
        audit.record(
            actor=actor,
            action="sharing.grant_withdrawn",
            object_type="sharing.grant",
            object_id=grant.pk,
            object_label=_label(grant),
            after={"status": grant.status},
        )
    return grant
