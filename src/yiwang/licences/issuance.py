"""Issuing electronic licences: the directory record, the identifier, the PDF and its seal, in one transaction.

An approved case whose item's result is a licence of a type defined here gets its licence inside the decision's
own transaction (``issue_for_case``, called by ``cases.services.decide``): the approval and the licence commit
together or not at all, and a case never has two licences (``licence_one_per_case``). A result whose type is not
defined on this platform is issued elsewhere (a national system): the approval proceeds without one.

Serial numbers are the row's own id behind the year (``2026`` + 10 digits), as case numbers are (decision 0008):
no shared counter for every issuance to queue on. A change (变更) or re-issue (补证) keeps the serial and takes the
next version.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from yiwang.audit import services as audit
from yiwang.catalogue.models import Organisation
from yiwang.common import crypto
from yiwang.common.errors import InvalidTransition
from yiwang.licences import identifiers, pki, render, sealing
from yiwang.licences.constants import HolderKind, KeyStatus, LicenceStatus, Purpose
from yiwang.licences.models import Licence, LicenceType, SigningCertificate

if TYPE_CHECKING:
    from yiwang.cases.models import Case

USCC_INDEX = "uscc"  # the blind-index purpose of enterprises' codes (as cases index their enterprise applicants)
SEAL_REASON = "电子证照"


@dataclass(frozen=True)
class Holder:
    """持证主体: a person (111, resident ID number) or an organisation (049, USCC)."""

    name: str
    kind: str
    code: str

    @property
    def index(self) -> str:
        return holder_index(self.kind, self.code)


def holder_index(kind: str, code: str) -> str:
    # The same index the holder's own records use: accounts and cases index ID numbers under ID_NUMBER, and
    # enterprise cases index USCCs under "uscc"; so a wallet is one indexed lookup.
    if kind == HolderKind.PERSON:
        return crypto.id_number_index(code)
    return crypto.blind_index(code, purpose=USCC_INDEX)


def verify_url(identifier: str) -> str:
    """Where the QR code leads: the public verification page of this licence."""
    return f"{settings.YIWANG_PUBLIC_BASE_URL.rstrip('/')}/licences/v/{identifier}/"


# Parsed keys by certificate: decrypting and parsing three keys per licence would cost more than rendering it.
# Which certificate is active is asked every time, so a rotation or revocation takes effect at once.
_KEYS: dict[tuple[str, str, str], sealing.SealingKeys] = {}


def sealing_keys(issuer: Organisation) -> tuple[SigningCertificate, sealing.SealingKeys]:
    """The issuer's active seal with the time-stamp certificate and root; refused, clearly, when one is missing."""
    rows = {
        (row.purpose, row.organisation_id): row
        # Keys deferred: decrypted only when this key set is not parsed yet (below), not for every licence.
        for row in SigningCertificate.objects.filter(status=KeyStatus.ACTIVE)
        .filter(Q(purpose__in=[Purpose.ROOT, Purpose.TIMESTAMP]) | Q(purpose=Purpose.SEAL, organisation=issuer))
        .defer("private_key")
    }
    seal = rows.get((Purpose.SEAL, issuer.pk))
    timestamp = rows.get((Purpose.TIMESTAMP, None))
    root = rows.get((Purpose.ROOT, None))
    if root is None or timestamp is None:
        raise InvalidTransition(
            _("The platform cannot seal licences yet: an administrator must set up its CA and time-stamp service.")
        )
    if seal is None:
        raise InvalidTransition(
            _("%(department)s has no electronic seal: an administrator must issue one before it can issue licences.")
            % {"department": issuer.name}
        )
    key = (seal.serial, timestamp.serial, root.serial)  # random serials name a certificate; row ids get reused
    keys = _KEYS.get(key)
    if keys is None:
        keys = sealing.SealingKeys(
            pki.certificate_from_pem(seal.certificate_pem),
            pki.key_from_pem(seal.private_key),
            pki.certificate_from_pem(timestamp.certificate_pem),
            pki.key_from_pem(timestamp.private_key),
            pki.certificate_from_pem(root.certificate_pem),
        )
        if len(_KEYS) > 64:
            _KEYS.clear()
        _KEYS[key] = keys
    return seal, keys


def result_type(content: Mapping[str, Any]) -> LicenceType | None:
    """The licence type an item version's result is, when this platform defines it (else None)."""
    codes = [
        str(r.get("licence_type_code"))
        for r in content.get("results") or []
        if r.get("kind") == "licence" and r.get("licence_type_code")
    ]
    if not codes:
        return None
    return LicenceType.objects.filter(code=codes[0], active=True).first()


def holder_of_case(case: Case) -> Holder:
    if case.enterprise_id is not None:
        enterprise = case.enterprise
        assert enterprise is not None
        return Holder(enterprise.name, HolderKind.ORGANISATION, enterprise.uscc)
    return Holder(case.applicant_name, HolderKind.PERSON, case.applicant_id_number)


def data_of_case(licence_type: LicenceType, case: Case) -> dict[str, str]:
    """The type's fields, each from its source: the applicant's answer or an attribute of the case."""
    values: dict[str, str] = {}
    form = case.data or {}
    for field in licence_type.fields:
        kind, _sep, name = str(field["source"]).partition(":")
        if kind == "form":
            raw = form.get(name, "")
            value = "、".join(str(v) for v in raw) if isinstance(raw, list) else str(raw if raw is not None else "")
        elif name == "department":
            value = case.department.name
        else:
            value = str(getattr(case, name, "") or "")
        values[str(field["key"])] = value
    return values


def issue_for_case(case: Case, *, actor: Any) -> Licence | None:
    """The licence of an approved case (inside the decision's transaction); the same one when asked again."""
    existing = Licence.objects.filter(case=case).first()
    if existing is not None:
        return existing
    licence_type = result_type(case.version.content)
    if licence_type is None:
        return None
    return issue(
        actor=actor,
        licence_type=licence_type,
        issuer=case.department,
        holder=holder_of_case(case),
        data=data_of_case(licence_type, case),
        region_code=case.region_code,
        case=case,
        item_code=case.basic_code,
    )


def _valid_until(licence_type: LicenceType, start: dt.date) -> dt.date | None:
    if not licence_type.validity_years:
        return None  # 长期有效
    try:
        end = start.replace(year=start.year + licence_type.validity_years)
    except ValueError:  # 29 February
        end = start.replace(year=start.year + licence_type.validity_years, day=28)
    return end - dt.timedelta(days=1)


def document(licence: Licence, *, annotation: str = "") -> render.LicenceDocument:
    """What the licence's page shows, from its record (the same for the original and an annotated copy)."""
    licence_type = licence.licence_type
    labels = {str(f["key"]): str(f["label"]) for f in licence_type.fields}
    rows_keys = (licence_type.layout or {}).get("rows") or list(labels)
    person = licence.holder_kind == HolderKind.PERSON
    return render.LicenceDocument(
        title=(licence_type.layout or {}).get("title") or licence_type.name,
        identifier=licence.identifier,
        serial=licence.serial if licence.version == 1 else f"{licence.serial}（第{licence.version}版）",
        holder_label="持证人" if person else "名称",
        holder_name=licence.holder_name,
        holder_code_label="公民身份号码" if person else "统一社会信用代码",
        holder_code=licence.holder_code,
        rows=[(labels.get(k, k), str((licence.data or {}).get(k, ""))) for k in rows_keys],
        issuer_name=licence.issuer.name,
        issued_on=licence.issued_on,
        valid_from=licence.valid_from,
        valid_until=licence.valid_until,
        verify_url=verify_url(licence.identifier),
        annotation=annotation,
    )


def issue(
    *,
    actor: Any,
    licence_type: LicenceType,
    issuer: Organisation,
    holder: Holder,
    data: Mapping[str, str],
    region_code: str,
    case: Case | None = None,
    item_code: str = "",
    previous: Licence | None = None,
    valid_from: dt.date | None = None,
    valid_until: dt.date | bool | None = True,
    reason: str = "",
) -> Licence:
    """Issue one licence (or the next version of ``previous``): record, identifier, PDF, seal, in one transaction.

    ``valid_until=True`` means "by the type's rule" (validity years from ``valid_from``); None is long-term.
    Callers check permission; this is the one place a licence row is written.
    """
    if not issuer.uscc:
        raise InvalidTransition(
            _("%(department)s has no unified social credit code; a licence identifier names its issuer by it.")
            % {"department": issuer.name}
        )
    if not holder.code:
        raise InvalidTransition(
            _("The holder's ID number or credit code is missing; a licence names its holder by it.")
        )
    seal_row, keys = sealing_keys(issuer)
    today = timezone.localdate()
    start = valid_from or today
    until = _valid_until(licence_type, start) if valid_until is True else valid_until
    assert until is None or isinstance(until, dt.date)
    with transaction.atomic():
        licence = Licence.objects.create(
            # Placeholders until the row's id gives the serial (unique, so two issuances never collide).
            identifier=f"pending:{secrets.token_hex(12)}",
            serial=previous.serial if previous else f"P{secrets.token_hex(10).upper()}",
            version=previous.version + 1 if previous else 1,
            licence_type=licence_type,
            issuer=issuer,
            holder_name=holder.name,
            holder_kind=holder.kind,
            holder_code=holder.code,
            holder_index=holder.index,
            region_code=region_code,
            issued_on=today,
            valid_from=start,
            valid_until=until,
            data={**data, **({"item_code": item_code} if item_code else {})},
            previous=previous,
            case=case,
            seal=seal_row,
        )
        if previous is None:
            licence.serial = f"{today:%Y}{licence.pk:010d}"
        licence.identifier = str(
            identifiers.build(licence_type.code, str(issuer.uscc), licence.serial, licence.version)
        )
        sealed = sealing.seal_pdf(render.render(document(licence)), keys, reason=SEAL_REASON, location=issuer.name)
        licence.sha256 = hashlib.sha256(sealed).hexdigest()
        licence.file.save(f"{licence.identifier}.pdf", ContentFile(sealed), save=False)
        Licence.objects.filter(pk=licence.pk).update(
            identifier=licence.identifier, serial=licence.serial, sha256=licence.sha256, file=licence.file.name
        )
        if previous is not None:
            Licence.objects.filter(pk=previous.pk).update(
                status=LicenceStatus.SUPERSEDED, status_changed_at=timezone.now(), status_reason=reason
            )
        audit.record(
            actor=actor,
            action="licences.issued" if previous is None else "licences.new_version",
            object_type="licences.licence",
            object_id=licence.pk,
            object_label=licence.identifier,
            after={
                "type": licence_type.code,
                "issuer": issuer.pk,
                "version": licence.version,
                "case": case.pk if case else None,
                "sha256": licence.sha256,
                **({"previous": previous.identifier, "reason": reason} if previous else {}),
            },
        )
    return licence


# STANDARDS.md §8: the annotation a reuse copy (加注件) carries.
ANNOTATION = "此件由{issuer}提供，仅供办理政务服务事项时使用，有效期至{year}年{month}月{day}日"


def annotation_text(licence: Licence, until: dt.date, *, purpose: str = "") -> str:
    text = ANNOTATION.format(issuer=licence.issuer.name, year=until.year, month=until.month, day=until.day)
    return f"{text}（用途：{purpose}）" if purpose else text


def annotated_copy(licence: Licence, *, until: dt.date, purpose: str = "") -> bytes:
    """A reuse copy (加注件): the licence's page with the annotation across its top, sealed afresh by the issuer's
    current seal (the copy is the issuer's statement too). The original file is never altered: a sealed PDF
    cannot take an annotation without breaking its seal."""
    _seal, keys = sealing_keys(licence.issuer)
    text = annotation_text(licence, until, purpose=purpose)
    page = render.render(document(licence, annotation=text))
    return sealing.seal_pdf(page, keys, reason="加注件", location=licence.issuer.name)


def sealed_bytes(licence: Licence) -> bytes:
    with licence.file.open("rb") as handle:
        data: bytes = handle.read()
    return data
